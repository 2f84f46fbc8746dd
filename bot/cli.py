"""The `offboard-bot` command line."""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
from pathlib import Path

from pydantic import SecretStr

from bot import logs
from bot.errors import ConfigurationError, StorageUnavailable
from bot.settings import Settings, load_settings

log = logging.getLogger("offboard")


def main(argv: list[str] | None = None) -> int:
    """Run one CLI command; return the process exit code."""
    args = _parser().parse_args(argv)
    if not getattr(args, "run", None):
        _parser().print_help()
        return 2
    try:
        settings = load_settings()
        logs.configure(level=settings.offboard_log_level,
                       fmt=settings.offboard_log_format or getattr(args, "log_format", "text"),
                       secrets=_secret_values(settings))
        return args.run(args, settings)
    except ConfigurationError as error:
        print(f"offboard-bot: {error.message}", file=sys.stderr)
        return 2
    except StorageUnavailable as error:
        print(f"offboard-bot: {error.message}: check DATABASE_URL, and that the database is up", file=sys.stderr)
        return 1


_LOGS = ("offboard_log_level", "offboard_log_format")
_CONSOLE = ("offboard_console", "offboard_local_console", "eightbyeight_api_key", "eightbyeight_base_url",
            "eightbyeight_rate_limit", "eightbyeight_burst_limit", "eightbyeight_max_operations", "scim_base_url",
            "scim_token")
# The settings each command reads, for its --help (every one of them, for `serve`).
READS: dict[str, tuple[str, ...]] = {
    "shell": ("offboard_max_users", "offboard_workers", "offboard_lease_seconds", *_LOGS),
    "serve": tuple(Settings.model_fields),
    "check": ("slack_bot_token", "slack_signing_secret", "slack_app_token", "slack_api_url", "database_url",
              "offboard_policy", *_CONSOLE, "offboard_audit_key", *_LOGS),
    "db upgrade": ("database_url", *_LOGS),
    "audit verify": ("database_url", "offboard_audit_key", *_LOGS),
    "audit adopt-key": ("database_url", "offboard_audit_key", *_LOGS),
    "audit export": ("database_url", *_LOGS),
}
_NOTES = {
    "shell": "It brings its own simulated Slack workspace, database and console: no other setting is needed or read "
             "(OFFBOARD_AUDIT_KEY is ignored: the shell's scratch audit log is never sealed with it).",
    "serve": "OFFBOARD_CONSOLE must be set: `local` serves the demo directory, and says so in the logs and in "
             "Slack. The HTTP port is --port, else OFFBOARD_PORT, else PORT, else 3000; the address is --host, "
             "else OFFBOARD_HOST.",
    "check": "It writes nothing: a database or demo directory that does not exist yet is reported, not made.",
}


def _settings_help(command: str) -> str:
    """The epilog of `command --help`: every setting it reads, with what it is and its default."""
    fields = Settings.model_fields
    width = max(len(name) for name in READS[command]) + 2
    lines = ["settings it reads (environment variables):"]
    for name in READS[command]:
        field = fields[name]
        default = field.default
        text = field.description or ""
        if default is not None and not isinstance(default, SecretStr):
            text += f" (default: {default})"
        wrapped = textwrap.wrap(text, width=100 - width - 2, break_long_words=False, break_on_hyphens=False) or [""]
        lines.append(f"  {name.upper():<{width}}{wrapped[0]}")
        lines += [" " * (width + 2) + more for more in wrapped[1:]]
    note = _NOTES.get(command)
    return "\n".join([*textwrap.wrap(note, width=100), "", *lines] if note else lines)


def _command(commands, name: str, *, full_name: str | None = None, **kwargs) -> argparse.ArgumentParser:
    return commands.add_parser(name, epilog=_settings_help(full_name or name),
                               formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1 to 65535)")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="offboard-bot", description="Offboard users from an admin console "
                                     "through Slack, with a second admin's approval.")
    commands = parser.add_subparsers(title="commands")

    shell = _command(commands, "shell", help="try the bot in a simulated Slack workspace (no credentials)")
    shell.add_argument("--data-dir", type=Path, help="keep the demo's databases here (default: a fresh temp dir)")
    # bot.shell.consoles.CONSOLES, spelled out: importing it would load the simulators for every command
    shell.add_argument("--console", choices=("local", "8x8", "8x8-without-put"), default="local",
                       help="the demo console: the local directory (default), a simulated 8x8 Administration API "
                            "on this machine, or one without PUT, where changes become manual steps")
    shell.set_defaults(run=_shell)

    serve = _command(commands, "serve", help="serve a real Slack workspace (HTTP, or Socket Mode with "
                     "SLACK_APP_TOKEN)")
    serve.add_argument("--host", help="the address to serve HTTP on (default: OFFBOARD_HOST, else 0.0.0.0)")
    serve.add_argument("--port", type=_port, help="the port to serve HTTP on (default: OFFBOARD_PORT, else PORT, "
                       "else 3000)")
    serve.set_defaults(run=_serve, log_format="json")
    _command(commands, "check", help="validate settings and policy, reach Slack and the console").set_defaults(
        run=_check)

    db = commands.add_parser("db", help="database maintenance").add_subparsers(title="db commands")
    _command(db, "upgrade", full_name="db upgrade", help="apply migrations (makes a SQLite file that does not "
             "exist yet)").set_defaults(run=_db_upgrade)

    audit = commands.add_parser("audit", help="the audit log").add_subparsers(title="audit commands")
    _command(audit, "verify", full_name="audit verify", help="check the audit hash chain").set_defaults(
        run=_audit_verify)
    adopt = _command(audit, "adopt-key", full_name="audit adopt-key",
                     help="let OFFBOARD_AUDIT_KEY seal a log that does not end in a row sealed "
                     "with it (adopting the key, or after a replica ran without it), once you have reviewed "
                     "the rows `audit verify` names; it prints the command to run")
    reviewed = adopt.add_mutually_exclusive_group()
    reviewed.add_argument("--through", metavar="LAST@HASH", type=_row_named,
                          help="adopting the key on a log written without it: its newest row and the start of that "
                          "row's hash, as you reviewed them (as `audit verify` prints them)")
    reviewed.add_argument("--accept-plain-rows", metavar="FIRST-LAST@HASH", type=_row_range,
                          help="the plain rows at the end of the log, after sealed ones, that you reviewed and "
                          "accept, and the start of the last one's hash (as `audit verify` prints them)")
    adopt.set_defaults(run=_audit_adopt_key)
    export = _command(audit, "export", full_name="audit export", help="write the audit log as JSON lines or CSV")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                        # storage.audit.EXPORT_FIELDS, spelled out: importing it would load SQLModel for every command
                        help="jsonl (the default): one JSON object a line, a row each, with seq, at, actor, event, "
                        "request_id, data, prev_hash and hash; csv: the same columns under a header line, for a "
                        "spreadsheet")
    export.add_argument("--output", type=Path, help="file to write (default: standard output)")
    export.set_defaults(run=_audit_export)
    return parser


def _secret_values(settings: Settings) -> list[str]:
    """Every secret setting's value, for the log formatter to blank out should one ever be logged."""
    values = (getattr(settings, name) for name in type(settings).model_fields)
    secrets = [value.get_secret_value() for value in values if isinstance(value, SecretStr)]
    from sqlalchemy.engine import make_url  # the database password, should a driver error echo the URL

    try:
        password = make_url(settings.database_url).password
    except Exception:  # an unreadable URL fails later with its own message; nothing to redact from it here
        password = None
    return [*secrets, *([str(password)] if password else [])]


def _engine(settings: Settings, *, creating: bool = False):
    """The database's engine; ConfigurationError, with nothing made, when a SQLite file's folder is missing or,
    unless `creating`, the file itself or its schema (`db upgrade` makes them)."""
    from bot.checks import missing_database, schema_problem
    from storage import migrate
    from storage.db import make_engine

    problem = missing_database(settings.database_url, creating=creating)
    if problem:
        raise ConfigurationError(problem)
    engine = make_engine(settings.database_url)
    if not creating:
        problem = schema_problem(migrate.current(engine))
        if problem:
            engine.dispose()
            raise ConfigurationError(problem)
    return engine


def _db_upgrade(_args, settings: Settings) -> int:
    from storage import migrate

    engine = _engine(settings, creating=True)
    migrate.upgrade(engine)
    print(f"database at revision {migrate.current(engine)}")
    return 0


def _audit_key(settings: Settings) -> SecretStr | None:
    problems = settings.audit_key_problems()
    if problems:
        raise ConfigurationError("; ".join(problems))
    return settings.offboard_audit_key


def _audit_verify(_args, settings: Settings) -> int:
    from storage import audit, audit_words

    key = _audit_key(settings)
    result = audit.verify(_engine(settings), key=key)
    for line in audit_words.verify_report(result, key_given=key is not None):
        print(line, file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def _hash_given(text: str, example: str) -> tuple[str, str | None]:
    """Split ROWS@HASH; the hash may be left out (`audit adopt-key` then says which to give), not malformed."""
    from storage.audit_chain import HASH_SHOWN

    rows, at, row_hash = text.partition("@")
    if at and not (HASH_SHOWN <= len(row_hash) <= 64 and all(c in "0123456789abcdefABCDEF" for c in row_hash)):
        raise argparse.ArgumentTypeError(f"{text!r}: after @ comes the start of the row's hash, at least "
                                         f"{HASH_SHOWN} hex characters, e.g. {example}")
    return rows, row_hash if at else None


def _row_named(text: str) -> tuple[int, str | None]:
    example = "1230@3f9a0c1b2d4e5f60"
    row, row_hash = _hash_given(text, example)
    if not row.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not LAST@HASH, e.g. {example}")
    return int(row), row_hash


def _row_range(text: str) -> tuple[int, int, str | None]:
    example = "1204-1230@3f9a0c1b2d4e5f60"
    rows, row_hash = _hash_given(text, example)
    first, dash, last = rows.partition("-")
    if not (dash and first.strip().isdigit() and last.strip().isdigit()) or int(first) > int(last):
        raise argparse.ArgumentTypeError(f"{text!r} is not FIRST-LAST@HASH, e.g. {example}")
    return int(first), int(last), row_hash


def _audit_adopt_key(args, settings: Settings) -> int:
    from datetime import UTC, datetime

    from storage import audit, audit_words

    key = _audit_key(settings)
    if key is None:
        raise ConfigurationError(audit_words.ADOPT_NEEDS_KEY)
    accept, through, row_hash = None, None, None
    if args.accept_plain_rows:
        first, last, row_hash = args.accept_plain_rows
        accept = (first, last)
    elif args.through:
        through, row_hash = args.through
    try:
        done = audit.adopt_key(_engine(settings), key=key, now=datetime.now(UTC), accept=accept, through=through,
                               row_hash=row_hash)
    except audit.AuditBroken as error:
        print(f"offboard-bot audit adopt-key: {error.message}", file=sys.stderr)
        return 1
    print(audit_words.adopted(done))
    return 0


def _audit_export(args, settings: Settings) -> int:
    from storage import audit, audit_words

    engine = _engine(settings)
    try:
        if args.output:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                count = audit.export(engine, out, fmt=args.format)
            print(audit_words.exported(count, args.output), file=sys.stderr)
        else:
            audit.export(engine, sys.stdout, fmt=args.format)
    except audit.AuditBroken as error:
        print(f"offboard-bot audit export: {error.message}", file=sys.stderr)
        return 1
    return 0


def _serve(args, settings: Settings) -> int:
    problems = settings.problems_for_serving()
    if problems:
        raise ConfigurationError("cannot serve:\n" + "\n".join(f"  {problem}" for problem in problems))
    from bot import container as wiring
    from bot.checks import missing_database
    from bot.concurrency import freeze_startup_objects
    from bot.sweeper import start_sweeping
    from storage import migrate

    problem = missing_database(settings.database_url, creating=True)
    if problem:
        raise ConfigurationError(f"cannot serve: {problem}")
    demo = settings.offboard_console == "local"
    if demo:
        log.warning("OFFBOARD_CONSOLE=local: serving the DEMO directory %s, not a real admin console; nothing real "
                    "is offboarded, and Slack says so to the admins", settings.offboard_local_console)
    built = wiring.build(settings, demo=demo)
    migrate.upgrade(built.engine)  # safe when several replicas start at once: one takes a lock, the rest wait
    built.seal_audit_log()  # with OFFBOARD_AUDIT_KEY: the log ends in a sealed row from now on
    start_sweeping(built.sweeper, every_seconds=settings.offboard_sweep_seconds)
    freeze_startup_objects()
    log.info("sweeping every %.0f s as %s (runs a dead replica left are taken over after %.0f s)",
             settings.offboard_sweep_seconds, built.service.owner, settings.offboard_lease_seconds)
    if settings.slack_app_token is not None:
        from bot import socket_mode

        log.info("serving in Socket Mode")
        socket_mode.serve_forever(socket_mode.connect(built, settings.slack_app_token.get_secret_value()))
        return 0
    import uvicorn

    from bot.server import create_asgi_app

    host, port = args.host or settings.offboard_host, args.port or settings.listen_port
    log.info("serving HTTP on %s:%d (POST /slack/events, GET /healthz, GET /metrics)", host, port)
    asgi = create_asgi_app(built.bolt, built.engine, signing_secret=settings.slack_signing_secret.get_secret_value(),
                           metrics=built.metrics, in_flight=built.in_flight)
    # log_config=None: uvicorn's own lines go through the root handler too, so they are JSON like the rest
    uvicorn.run(asgi, host=host, port=port, log_level=settings.offboard_log_level.lower(), log_config=None)
    return 0


def _check(_args, settings: Settings) -> int:
    from bot.checks import run_checks

    report = run_checks(settings)
    for line in report.lines:
        print(line)
    return 0 if report.ok else 1


def _shell(args, settings: Settings) -> int:
    from bot.shell.repl import run_shell

    return run_shell(settings, data_dir=args.data_dir, stdin=sys.stdin, stdout=sys.stdout, console=args.console)
