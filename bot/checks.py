"""`offboard-bot check`: is this deployment able to work?"""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import ConfigurationError, ConsoleError, StorageUnavailable
from bot.policy import Policy, load_policy
from bot.settings import Settings
from bot.slack.ids import BOT_SCOPES


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def good(self, text: str) -> None:
        self.lines.append(f"ok    {text}")

    def bad(self, text: str) -> None:
        self.lines.append(f"FAIL  {text}")
        self.ok = False

    def warn(self, text: str) -> None:
        """Works, but not as safely as it could: said, without failing the check."""
        self.lines.append(f"warn  {text}")


def run_checks(settings: Settings) -> Report:
    """Check settings, policy, database, Slack and the console; return a report line per fact. It writes nothing:
    a database or demo directory that does not exist yet is reported, not made."""
    report = Report()
    for problem in settings.problems_for_serving():
        report.bad(problem)
    policy = None
    if settings.offboard_policy is not None:  # not set: said with the settings' problems
        try:
            policy = load_policy(settings.policy_path)
            report.good(f"policy {settings.policy_path}: {len(policy.admin_emails)} admins")
        except ConfigurationError as error:
            report.bad(error.message)
    database = _check_database(settings, report)
    _check_audit_key(settings, report, database)
    _check_slack(settings, report, policy)
    _check_console(settings, report)
    return report


def missing_database(url: str, *, creating: bool) -> str | None:
    """What keeps a SQLite database from being opened without making anything (None for other databases, and when
    the file is there): its folder is missing, or (unless `creating`, as `db upgrade` does) the file is."""
    from storage.db import sqlite_file

    path = sqlite_file(url)
    if path is None or path.exists():
        return None
    if not path.parent.is_dir():
        return (f"the folder {path.parent} of the SQLite database {path.name} does not exist: create it, or point "
                f"DATABASE_URL elsewhere")
    if creating:
        return None
    return f"there is no database at {path} yet: run `offboard-bot db upgrade` first"


def schema_problem(revision: str | None) -> str | None:
    """What keeps a database at `revision` from being read by this version of the bot (None when nothing does)."""
    from storage import migrate

    head = migrate.head()
    if revision == head:
        return None
    if revision is None:
        return "the database has no schema yet: run `offboard-bot db upgrade` first"
    if migrate.known(revision):
        return (f"the database is at revision {revision}, before this version's {head}: run `offboard-bot db upgrade` "
                "first")
    return f"the database is at revision {revision}, which this version of the bot does not know (it needs {head})"


def _check_database(settings: Settings, report: Report) -> bool:
    """Report the database; True when it can be read and has a schema."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage import migrate
    from storage.db import make_engine

    missing = missing_database(settings.database_url, creating=False)
    if missing:
        report.bad(missing)
        return False
    engine = make_engine(settings.database_url)
    try:
        revision = migrate.current(engine)
    except (SQLAlchemyError, StorageUnavailable) as error:  # the engine reports a database that is down as the latter
        name = error.driver_error if isinstance(error, StorageUnavailable) else type(error).__name__
        report.bad(f"database unreachable: {name}")
        return False
    finally:
        engine.dispose()
    if revision is None:
        report.bad("database has no schema yet: run `offboard-bot db upgrade`")
        return False
    report.good(f"database at revision {revision}")
    return True


def _check_audit_key(settings: Settings, report: Report, database: bool) -> None:
    key = settings.offboard_audit_key
    if key is None:
        report.warn("OFFBOARD_AUDIT_KEY is not set: whoever can write to the database can rewrite the audit log "
                    "unseen (docs/DEPLOYMENT.md, \"The audit key\")")
        return
    if settings.audit_key_problems() or not database:  # said with the settings' problems, or the database's
        return
    from sqlalchemy.exc import SQLAlchemyError

    from storage import audit
    from storage.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        problem = audit.end_problem(engine, key=key)  # what would stop `serve` from starting
    except (SQLAlchemyError, StorageUnavailable):  # unreachable, or no schema yet: the database check says so
        problem = None
    finally:
        engine.dispose()
    if problem:
        report.bad(problem)
    else:
        report.good("audit rows are sealed with OFFBOARD_AUDIT_KEY")


def _check_slack(settings: Settings, report: Report, policy: Policy | None) -> None:
    if settings.slack_bot_token is None or settings.slack_url_problems():  # said with the settings' problems;
        return  # the token is not sent where it could be read on the way
    client = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url)
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        report.bad(f"Slack refused the bot token: {error.response.get('error')}")
        return
    except (SlackClientError, OSError) as error:
        report.bad(f"Slack unreachable at {settings.slack_api_url}: {type(error).__name__}")
        return
    report.good(f"Slack reachable: workspace {answer.get('team')} ({answer.get('team_id')})")
    if answer.get("is_enterprise_install"):  # custom workflow steps are org-ready: every workspace sees the step
        report.good(f"the bot token is an org-wide install (Enterprise Grid {answer.get('enterprise_id')})")
    else:
        report.good("the bot token is installed on one workspace, not org-wide: the Workflow Builder step shows "
                    "in that workspace only")
    granted = {scope.strip() for scope in (answer.headers.get("x-oauth-scopes") or "").split(",") if scope.strip()}
    missing = sorted(BOT_SCOPES - granted)
    if missing:
        report.bad(f"the bot token lacks the scopes {', '.join(missing)}: reinstall the app from manifest.yml")
    else:
        report.good(f"the bot token has every scope the bot uses ({len(BOT_SCOPES)})")
    if policy is not None:
        for purpose, channel in (("approvals", policy.channels.approvals), ("results", policy.channels.results)):
            _check_channel(client, report, purpose, channel)


def _check_channel(client: WebClient, report: Report, purpose: str, channel: str) -> None:
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as error:
        code = error.response.get("error")
        hint = "invite the bot to it" if code == "channel_not_found" else code
        report.bad(f"{purpose} channel {channel}: not visible to the bot ({hint})")
        return
    except (SlackClientError, OSError) as error:
        report.bad(f"{purpose} channel {channel}: Slack unreachable ({type(error).__name__})")
        return
    name = f"#{info.get('name')}" if info.get("name") else channel
    if info.get("is_archived"):
        report.bad(f"{purpose} channel {name} is archived")
    elif not info.get("is_member"):
        report.bad(f"{purpose} channel {name}: the bot is not a member; /invite @offboard-bot there")
    else:
        report.good(f"{purpose} channel {name}: the bot is a member")


def _check_console(settings: Settings, report: Report) -> None:
    if settings.console_problems():  # not chosen, or not configured: said with the settings' problems
        return
    if settings.offboard_console == "local" and not settings.offboard_local_console.exists():
        report.good(f"local demo console {settings.offboard_local_console}: not made yet; `serve` makes it with "
                    "the demo users")
        return
    from bot.container import build_console

    try:
        console = build_console(settings)
        for line in console.check():
            report.good(line)
    except (ConfigurationError, ConsoleError) as error:
        report.bad(f"console: {error.message}")
