"""Storage: SQLModel tables, the request store with guarded updates, the audit chain, migrations."""
