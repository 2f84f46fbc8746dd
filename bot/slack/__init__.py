"""The Slack adapter: ids, typed payloads, Block Kit builders, the notifier and the member directory."""
