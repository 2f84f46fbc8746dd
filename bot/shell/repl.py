"""`offboard-bot shell`: the real app in a simulated Slack workspace, driven from the terminal.

Everything the bot does goes through the same code as in production: signed payloads into the
Bolt app, the Slack Web API (here a local fake), SQLite, and the local demo console or, with
`--console 8x8`, the 8x8 client against the simulated 8x8 Administration API (consoles.py).
"""

from __future__ import annotations

import contextlib
import secrets
import shlex
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from bot.container import Container, build
from bot.server import to_bolt_request
from bot.settings import Settings
from bot.shell.consoles import ShellConsole, start_console
from bot.shell.render import render_event
from bot.simulators.slack.demo import DEMO_MEMBERS, HOME_CHANNEL, populate
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.slack.model import SlackEvent
from bot.simulators.workspace.driver import Workspace
from bot.sweeper import start_sweeping
from storage import migrate

BANNER = """offboard-bot shell: the real bot in a simulated Slack workspace ({console}, SQLite).
Members: {members}
You are {current}. Commands:
  as <member>                      act as another member
  /offboard <text>                 run the slash command, e.g. /offboard delete jdoe --reason left
  press <label> [key=value ...]    press the newest button with that label (modal inputs as key=value)
  users                            list the console's users
  help                             show this again
  quit                             leave
"""


class Shell:
    """Reads lines, turns them into Slack actions, prints what the workspace shows."""

    def __init__(self, container: Container, fake: FakeSlack, workspace: Workspace, out: TextIO,
                 console: ShellConsole) -> None:
        self.container = container
        self.fake = fake
        self.workspace = workspace
        self.out = out
        self.console = console
        self.current = DEMO_MEMBERS[0]
        self._events: list[SlackEvent] = []
        self._lock = threading.Lock()
        fake.subscribe(self._collect)

    def _collect(self, event: SlackEvent) -> None:
        with self._lock:
            self._events.append(event)

    def banner(self) -> str:
        members = ", ".join(f"{m.name} ({m.role})" for m in DEMO_MEMBERS)
        return BANNER.format(console=self.console.description, members=members, current=self.current.name)

    def prompt(self) -> str:
        return f"{self.current.name}> "

    def handle(self, line: str) -> bool:
        """Run one line; return False when the shell should end."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        word = line.split()[0].lower()
        if word in ("quit", "exit"):
            return False
        commands: dict[str, Callable[[str], None]] = {
            "as": self._as, "press": self._press, "users": self._users, "help": lambda _: self._say(self.banner()),
        }
        if word.startswith("/"):
            self._slash(line)
        elif word in commands:
            commands[word](line[len(word):].strip())
        else:
            self._say(f"unknown command {word!r}; type help")
        return True

    def _as(self, rest: str) -> None:
        member = next((m for m in DEMO_MEMBERS if m.name == rest.strip().lower()), None)
        if member is None:
            self._say(f"no member {rest!r}; members: {', '.join(m.name for m in DEMO_MEMBERS)}")
            return
        self.current = member
        self._say(f"you are now {member.name} ({member.role})")

    def _slash(self, line: str) -> None:
        command, _, text = line.partition(" ")
        delivery = self.workspace.slash(self.current.user_id, text.strip(), command=command,
                                        channel_id=HOME_CHANNEL)
        self._settle(delivery.status)

    def _press(self, rest: str) -> None:
        try:
            words = shlex.split(rest)
        except ValueError as error:
            self._say(f"cannot read that: {error}")
            return
        inputs = dict(word.split("=", 1) for word in words if "=" in word)
        label = " ".join(word for word in words if "=" not in word)
        if not label:
            self._say("press what? e.g. press Approve")
            return
        try:
            delivery = self.workspace.press(self.current.user_id, label, inputs=inputs or None)
        except (LookupError, ValueError) as error:
            self._say(str(error))
            return
        self._settle(delivery.status)

    def _users(self, _rest: str) -> None:
        for user in self.console.directory(self.container.console):
            licenses = ", ".join(user.licenses) or "no license"
            agent = " · Contact Center agent" if user.is_contact_center_agent else ""
            phone = " · ".join(filter(None, (
                ", ".join(f"ext {ext.number}" for ext in user.extensions), ", ".join(user.phone_numbers),
                ", ".join(device.model for device in user.devices)))) or "no extension"
            self._say(f"  {user.username:<18} {user.status.value:<8} {phone} · {licenses}{agent}")

    def _settle(self, status: int) -> None:
        self.container.wait_idle(60)
        if status != 200:
            self._say(f"(the app answered HTTP {status})")
        with self._lock:
            events, self._events = self._events, []
        for event in events:
            self._say(render_event(event, name_for=self.fake.name_of))

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def run_shell(settings: Settings, *, data_dir: Path | None, stdin: TextIO, stdout: TextIO,
              console: str = "local") -> int:
    """Run the shell until quit or end of input; return the exit code. `console` is one of consoles.CONSOLES."""
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="offboard-shell-")))
        data_dir.mkdir(parents=True, exist_ok=True)
        fake = FakeSlack(team_id="T0DEMO", team_domain="demo")
        populate(fake)
        stack.enter_context(fake)
        chosen = start_console(console, data_dir=data_dir, stack=stack)
        signing_secret = secrets.token_hex(16)
        container = build(settings.model_copy(update={
            "slack_bot_token": SecretStr(fake.bot_token), "slack_signing_secret": SecretStr(signing_secret),
            "slack_app_token": None, "slack_api_url": fake.api_url,
            "database_url": f"sqlite:///{data_dir / 'offboard.db'}", "offboard_policy": None,
            # Never the production audit key: rows sealed with it here could be swapped into production's log, and
            # a key that is not fit for sealing must not stop a newcomer's demo. The scratch log stays plain.
            "offboard_audit_key": None, **chosen.settings,
        }))
        stack.callback(container.close)
        migrate.upgrade(container.engine)
        container.seal_audit_log()
        sweeping = start_sweeping(container.sweeper, every_seconds=2)  # scheduled runs and stages happen here too
        stack.callback(sweeping.shutdown, wait=True)  # a sweep in progress ends before the databases go

        def send(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
            response = container.bolt.dispatch(to_bolt_request(body, headers=headers))
            return response.status, (response.body or "").encode()

        shell = Shell(container, fake, Workspace(fake, signing_secret=signing_secret, send=send), stdout, chosen)
        shell._say(shell.banner())
        if settings.offboard_audit_key is not None:
            shell._say("(OFFBOARD_AUDIT_KEY is ignored here: the shell's scratch audit log is never sealed with it)")
        _read_lines(shell, stdin)
    return 0


def _read_lines(shell: Shell, stdin: TextIO) -> None:
    """Hand the shell every line typed (with a prompt) or piped in (echoed after the prompt), until it ends."""
    interactive = stdin.isatty()
    while True:
        if interactive:
            try:
                line = input(shell.prompt())
            except EOFError:
                break
        else:
            line = stdin.readline()
            if not line:
                break
            if line.strip():
                shell._say(f"{shell.prompt()}{line.rstrip()}")
        if not shell.handle(line):
            break
