"""The SCIM 2.0 backend: the wire to a provider (client), the Console adapter (console), and the mapping
between SCIM JSON and the bot's users (mapping)."""

from bot.console.scim.console import ScimConsole

__all__ = ["ScimConsole"]
