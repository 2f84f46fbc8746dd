"""The one settings object. Nothing else reads the environment."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_serializer
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigurationError

DEMO_POLICY = Path(__file__).with_name("demo_policy.toml")
_PLACEHOLDERS = ("xoxb-your", "xapp-your", "changeme", "change-me", "placeholder", "your-signing-secret", "todo")
AUDIT_KEY_MIN = 32  # bytes, UTF-8 encoded
MAKE_AUDIT_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
DEFAULT_PORT = 3000
CONSOLE_UNSET = ("OFFBOARD_CONSOLE is not set: say which admin console to offboard from: 8x8, scim, or local "
                 "(the demo directory on this machine, where nothing real is changed)")


class Settings(BaseSettings):
    """Every setting comes from an environment variable of the same name, upper-cased."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    # Each description is what `offboard-bot COMMAND --help` says of the setting (bot/cli.py lists which it reads).
    slack_bot_token: SecretStr | None = Field(default=None, description="the bot token (xoxb-...)")
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="the app's signing secret, which proves a request comes from Slack")
    slack_app_token: SecretStr | None = Field(
        default=None, description="an app-level token (xapp-...): serve over Socket Mode instead of HTTP")
    slack_api_url: str = Field(default="https://slack.com/api/", description="the Slack Web API's address")

    database_url: str = Field(default="sqlite:///offboard.db",
                              description="the bot's database: requests, approvals and the audit log")
    offboard_policy: Path | None = Field(default=None, description="the policy file (TOML) of your workspace")
    offboard_console: Literal["local", "8x8", "scim"] | None = Field(
        default=None, description="the admin console to offboard from: 8x8, scim, or local (the demo directory "
        "on this machine; nothing real is changed)")
    offboard_local_console: Path = Field(default=Path("offboard-console.db"),
                                         description="the file of the local demo directory")

    eightbyeight_api_key: SecretStr | None = Field(default=None, description="the 8x8 Administration API key")
    eightbyeight_base_url: str = Field(default="https://api.8x8.com/admin-provisioning",
                                       description="the 8x8 Administration API's address")
    # The limits of your 8x8 API key (8x8 publishes 100 requests a minute, 20 per 10 s, 10 operations at once);
    # the bot keeps under them so it never causes a 429. Raise them only if 8x8 raised them for your key.
    eightbyeight_rate_limit: int = Field(default=100, ge=1, le=100_000,
                                         description="requests a minute your 8x8 key may send")
    eightbyeight_burst_limit: int = Field(default=20, ge=1, le=100_000,
                                          description="requests per 10 seconds your 8x8 key may send")
    eightbyeight_max_operations: int = Field(default=10, ge=1, le=1000, description="8x8 changes in flight at once")
    scim_base_url: str | None = Field(default=None, description="the SCIM 2.0 endpoint")
    scim_token: SecretStr | None = Field(default=None, description="the SCIM bearer token")

    offboard_host: str = Field(default="0.0.0.0", description="the address to serve HTTP on; `serve --host` wins")
    offboard_port: int | None = Field(
        default=None, ge=1, le=65535,
        description=f"the port to serve HTTP on; `serve --port` wins (default: {DEFAULT_PORT})")
    port: int | None = Field(default=None, ge=1, le=65535,
                             description="the port container platforms set; used when OFFBOARD_PORT is not set")
    offboard_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    offboard_log_format: Literal["json", "text"] | None = Field(
        default=None, description="json (one object a line) or text; default json for serve, text elsewhere")
    offboard_sweep_seconds: float = Field(default=5.0, gt=0, le=300,
                                          description="how often due work is looked for")
    offboard_lease_seconds: float = Field(default=60.0, ge=1, le=3600,
                                          description="how long a dead replica's runs wait to be taken over")
    offboard_max_users: int = Field(default=500, ge=1, le=5000, description="users one request may name")
    offboard_workers: int = Field(default=8, ge=1, le=64,
                                  description="users of one request worked on side by side")
    # Seals every audit row with HMAC-SHA256 under this key, so that whoever can write to the database but does
    # not hold the key cannot rewrite the log unseen. Keep it outside the database (docs/DEPLOYMENT.md).
    offboard_audit_key: SecretStr | None = Field(
        default=None, description="seals each audit row (HMAC-SHA256); at least 32 bytes, kept outside the database")

    def __repr_args__(self):  # DATABASE_URL's password shows as *** in repr and str, as SecretStr values do
        for name, value in super().__repr_args__():
            yield name, _without_password(value) if name == "database_url" else value

    @field_serializer("database_url", when_used="json")
    def _database_url_without_password(self, url: str) -> str:
        return _without_password(url)

    @property
    def policy_path(self) -> Path:
        return self.offboard_policy or DEMO_POLICY

    @property
    def listen_port(self) -> int:
        """The HTTP port: OFFBOARD_PORT, else PORT (what container platforms set), else 3000. `--port` wins over
        both (bot/cli.py)."""
        return self.offboard_port or self.port or DEFAULT_PORT

    def problems_for_serving(self) -> list[str]:
        """Return what keeps this configuration from talking to a real Slack workspace."""
        problems = []
        for name, expected in (("slack_bot_token", "xoxb-"), ("slack_signing_secret", None)):
            problems += _secret_problem(name, getattr(self, name), expected)
        if self.slack_app_token is not None:
            problems += _secret_problem("slack_app_token", self.slack_app_token, "xapp-")
        if self.offboard_policy is None:
            problems.append("OFFBOARD_POLICY is not set: write a policy file for your workspace")
        return problems + self.slack_url_problems() + self.audit_key_problems() + self.console_problems()

    def slack_url_problems(self) -> list[str]:
        """Return what keeps SLACK_API_URL from carrying the bot token safely."""
        return _url_problem("SLACK_API_URL", self.slack_api_url)

    def audit_key_problems(self) -> list[str]:
        """Return what keeps OFFBOARD_AUDIT_KEY, when set, from sealing the audit log (it is optional)."""
        if self.offboard_audit_key is None:
            return []
        problems = _secret_problem("offboard_audit_key", self.offboard_audit_key, None)
        if problems == ["OFFBOARD_AUDIT_KEY is not set"]:  # set, to nothing or blanks: say so rather than ignore it
            problems = ["OFFBOARD_AUDIT_KEY is empty"]
        elif not problems and len(self.offboard_audit_key.get_secret_value().encode()) < AUDIT_KEY_MIN:
            problems = [f"OFFBOARD_AUDIT_KEY is too short (at least {AUDIT_KEY_MIN} bytes)"]
        return [f"{problem}. Make a key with: {MAKE_AUDIT_KEY}" for problem in problems]

    def console_problems(self) -> list[str]:
        """Return what is missing for the chosen admin console (or that none was chosen)."""
        if self.offboard_console is None:
            return [CONSOLE_UNSET]
        if self.offboard_console == "8x8":
            return (_secret_problem("eightbyeight_api_key", self.eightbyeight_api_key, None)
                    + _url_problem("EIGHTBYEIGHT_BASE_URL", self.eightbyeight_base_url))
        if self.offboard_console == "scim":
            return (_secret_problem("scim_token", self.scim_token, None)
                    + _url_problem("SCIM_BASE_URL", self.scim_base_url))
        return []


def _without_password(url: str) -> str:
    """The database URL as SQLAlchemy reads it, its password (if any) shown as ***."""
    from sqlalchemy.engine import make_url  # the rules the engine itself applies to find the password

    try:
        parsed = make_url(url)
    except Exception:  # unreadable: the engine fails on it later; it may still hold a password
        return url if "@" not in url else "***"
    return url if parsed.password is None else parsed.render_as_string(hide_password=True)


def _secret_problem(name: str, value: SecretStr | None, prefix: str | None) -> list[str]:
    env = name.upper()
    if value is None or not value.get_secret_value().strip():
        return [f"{env} is not set"]
    secret = value.get_secret_value()
    if not secret.isprintable() or any(char.isspace() for char in secret):
        return [f"{env} contains spaces or line breaks; copy it again"]
    if any(marker in secret.lower() for marker in _PLACEHOLDERS):
        return [f"{env} still holds a placeholder value"]
    if prefix and not secret.startswith(prefix):
        return [f"{env} should start with {prefix}"]
    return []


def _url_problem(env: str, url: str | None) -> list[str]:
    """What keeps `url` from carrying a secret safely: https anywhere, plain http only to this machine (localhost,
    127.0.0.0/8, ::1), no user or password in the URL, nothing two URL parsers could read as different hosts."""
    if not url:
        return [f"{env} is not set"]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return [f"{env} is not a valid URL"]
    if not parts.hostname or any(char == "\\" or not char.isprintable() or char.isspace() for char in url):
        return [f"{env} is not a valid URL"]
    if "@" in parts.netloc:
        return [f"{env} must not hold a user name or password (the part before @): the bot sends its own credentials"]
    if parts.scheme == "https" or (parts.scheme == "http" and _is_this_machine(parts.hostname)):
        return []
    return [f"{env} must be an https:// address (plain http only to this machine: localhost, 127.0.0.0/8, ::1)"]


def _is_this_machine(host: str) -> bool:
    """True for localhost and loopback addresses; a name merely starting with them (localhost.evil.example,
    127.0.0.1.nip.io) is someone else's."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (overrides win); raise ConfigurationError when invalid."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        problems = [f"  {'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()]
        raise ConfigurationError("invalid settings:\n" + "\n".join(problems)) from None
