"""`offboard-bot check`: is this deployment able to work?"""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import ConfigurationError, ConsoleError
from bot.policy import load_policy
from bot.settings import Settings


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def good(self, text: str) -> None:
        self.lines.append(f"ok    {text}")

    def bad(self, text: str) -> None:
        self.lines.append(f"FAIL  {text}")
        self.ok = False


def run_checks(settings: Settings) -> Report:
    """Check settings, policy, database, Slack and the console; return a report line per check."""
    report = Report()
    for problem in settings.problems_for_serving():
        report.bad(problem)
    try:
        policy = load_policy(settings.policy_path)
        report.good(f"policy {settings.policy_path}: {len(policy.admin_emails)} admins")
    except ConfigurationError as error:
        report.bad(error.message)
    _check_database(settings, report)
    _check_slack(settings, report)
    _check_console(settings, report)
    return report


def _check_database(settings: Settings, report: Report) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from storage import migrate
    from storage.db import make_engine

    try:
        revision = migrate.current(make_engine(settings.database_url))
    except SQLAlchemyError as error:
        report.bad(f"database unreachable: {type(error).__name__}")
        return
    if revision is None:
        report.bad("database has no schema yet: run `offboard-bot db upgrade`")
    else:
        report.good(f"database at revision {revision}")


def _check_slack(settings: Settings, report: Report) -> None:
    if settings.slack_bot_token is None:
        return
    client = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url)
    try:
        answer = client.auth_test()
        report.good(f"Slack reachable: workspace {answer.get('team')} ({answer.get('team_id')})")
    except SlackApiError as error:
        report.bad(f"Slack refused the bot token: {error.response.get('error')}")
    except (SlackClientError, OSError) as error:
        report.bad(f"Slack unreachable at {settings.slack_api_url}: {type(error).__name__}")


def _check_console(settings: Settings, report: Report) -> None:
    from bot.container import build_console

    try:
        console = build_console(settings)
        for line in console.check():
            report.good(line)
    except (ConfigurationError, ConsoleError) as error:
        report.bad(f"console: {error.message}")
