"""`offboard-bot shell`: the real app in a simulated Slack workspace, driven from the terminal.

Everything the bot does goes through the same code as in production: signed payloads into the
Bolt app, the Slack Web API (here a local fake), SQLite, and the local demo console or, with
`--console 8x8`, the 8x8 client against the simulated 8x8 Administration API (consoles.py).
What the workspace shows is printed as it happens (output.py), scheduled runs included; `wait` lets
time pass for them (waiting.py). Log lines go to a file, named at start, not into the conversation.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import secrets
import shlex
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from bot import logs
from bot.container import Container, build
from bot.domain.schedule import resolve_when
from bot.errors import BadCommand
from bot.server import to_bolt_request
from bot.settings import Settings
from bot.shell import waiting
from bot.shell.consoles import ShellConsole, start_console
from bot.shell.output import Conversation
from bot.shell.render import render_blocks, render_event
from bot.simulators.slack.demo import DEMO_MEMBERS, HOME_CHANNEL, populate
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.workspace.answers import Delivery, UnknownCommand
from bot.simulators.workspace.driver import Workspace
from bot.simulators.workspace.inputs import UnknownInput
from bot.simulators.workspace.surfaces import checkboxes
from bot.slack.ids import COMMAND, StepInput
from bot.slack.messages.refusals import refusal_text
from bot.sweeper import start_sweeping
from storage import migrate

BANNER = """offboard-bot shell: the real bot in a simulated Slack workspace ({console}, SQLite).
Members: {members}
You are {current}. Commands:
  as <member>                      act as another member
  /offboard <text>                 run the slash command, e.g. /offboard delete jdoe --reason left
  press <label> [key=value ...]    press the newest button with that label (inputs on it as key=value)
  submit [key=value ...]           fill in the open form (key=value for each field) and send it
  tick all | tick <words>          tick the boxes (all, or those with these words) of the newest
                                   message or form with boxes; the next press sends them
  wait [SECONDS | until-idle]      let time pass; scheduled runs post their results meanwhile
                                   (until-idle, the default: until nothing runs and no run is due
                                   within 2 minutes, 3 minutes at most)
  workflow <step> [key=value ...]  run a Workflow Builder step, as HR's workflow would: e.g.
                                   workflow request_offboarding leaver=jdoe action=delete reason=left
                                   (date= takes a Unix time, or a time as for --at: "in 5d", 2026-12-18 09:00)
  users                            list the console's users
  help                             show this again
  quit                             leave (or Ctrl-D)
"""
SETTLE_SECONDS = 60  # how long a command's work may take before the prompt comes back anyway


class Shell:
    """Reads lines, turns them into Slack actions; the conversation prints what the workspace shows."""

    def __init__(self, container: Container, fake: FakeSlack, workspace: Workspace, conversation: Conversation,
                 console: ShellConsole) -> None:
        self.container = container
        self.fake = fake
        self.workspace = workspace
        self.conversation = conversation
        self.console = console
        self.current = DEMO_MEMBERS[0]
        self._steps: dict[str, str] = {}  # workflow step executions still running -> their step's name

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
            "as": self._as, "press": self._press, "submit": self._submit, "tick": self._tick, "wait": self._wait,
            "users": self._users, "help": lambda _: self.say(self.banner()), "workflow": self._workflow,
        }
        if word.startswith("/"):
            self._slash(line)
        elif word in commands:
            commands[word](line[len(word):].strip())
        else:
            self.say(f"unknown command {word!r}; type help")
        return True

    def say(self, text: str) -> None:
        self.conversation.say(text)

    def settle(self, delivery: Delivery | None = None) -> None:
        """Wait for the work a command started, and for what it shows to be printed."""
        self.container.wait_idle(SETTLE_SECONDS)
        self.conversation.shown()
        self._steps_ended()
        if delivery is not None and delivery.status != 200:
            self.say(f"(the app answered HTTP {delivery.status})")

    # ---------------------------------------------------------------- commands

    def _as(self, rest: str) -> None:
        member = next((m for m in DEMO_MEMBERS if m.name == rest.strip().lower()), None)
        if member is None:
            self.say(f"no member {rest!r}; members: {', '.join(m.name for m in DEMO_MEMBERS)}")
            return
        self.current = member
        self.say(f"you are now {member.name} ({member.role})")

    def _slash(self, line: str) -> None:
        command, _, text = line.partition(" ")
        try:
            delivery = self.workspace.slash(self.current.user_id, text.strip(), command=command,
                                            channel_id=HOME_CHANNEL)
        except UnknownCommand as unknown:
            close = difflib.get_close_matches(unknown.command, unknown.known, n=1)
            self.say(f"No command {unknown.command} — did you mean {close[0]}?" if close
                     else f"No command {unknown.command}; the bot's command is {', '.join(unknown.known)}")
            return
        self.settle(delivery)

    def _words(self, rest: str) -> tuple[str, dict[str, str]] | None:
        """The words of a command, and its key=value inputs; None (after saying why) when they cannot be read."""
        try:
            words = shlex.split(rest)
        except ValueError as error:
            self.say(f"cannot read that: {error}")
            return None
        inputs = dict(word.split("=", 1) for word in words if "=" in word)
        return " ".join(word for word in words if "=" not in word), inputs

    def _press(self, rest: str) -> None:
        read = self._words(rest)
        if read is None:
            return
        label, inputs = read
        if not label:
            self.say("press what? e.g. press Approve")
            return
        try:
            delivery = self.workspace.press(self.current.user_id, label, inputs=inputs or None)
        except UnknownInput as unknown:
            fields = " ".join(f"{key}=..." for key in unknown.keys)
            self.say(f"There is no {', '.join(unknown.keys)} to fill in next to {label!r}. Press it alone "
                     f"(press {label}); if it opens a form, fill that in with: submit {fields}")
            return
        except (LookupError, ValueError) as error:
            self.say(str(error))
            return
        self.settle(delivery)

    def _submit(self, rest: str) -> None:
        read = self._words(rest)
        if read is None:
            return
        extra, inputs = read
        if extra:
            self.say(f"submit takes only key=value fields, not {extra!r}; e.g. submit reason=\"not yet\"")
            return
        try:
            delivery = self.workspace.submit(self.current.user_id, inputs=inputs)
        except (LookupError, ValueError) as error:
            self.say(str(error))
            return
        self.settle(delivery)

    def _tick(self, rest: str) -> None:
        if not rest:
            self.say("tick what? tick all, or tick <words of a box>")
            return
        try:
            ticked = self.workspace.tick(self.current.user_id, rest)
        except LookupError as error:
            self.say(str(error))
            return
        place = ticked.place
        where = f'the form "{place.view.title}"' if place.view is not None else _message_title(place.blocks)
        boxes = [{"type": "actions", "block_id": block.get("block_id"), "elements": [element]}
                 for block, element in checkboxes(place)]
        shown = render_blocks(boxes, name_for=self.fake.name_of, state=ticked.state)
        count = len(ticked.boxes)
        done = f"ticked {count} box{'es' if count != 1 else ''} on" if count else "every box was already ticked on"
        self.say(f"{done} {where}; the next press sends them:\n" + "\n".join("  " + line for line in shown))
        self.settle(ticked.delivery)

    def _wait(self, rest: str) -> None:
        how = rest.strip().lower() or "until-idle"
        if how in ("until-idle", "idle"):
            self.say(waiting.describe(waiting.until_idle(self.container)))
            self.conversation.shown()
            return
        try:
            seconds = float(how.removesuffix("s"))
        except ValueError:
            seconds = -1.0
        if not 0 < seconds <= waiting.MAX_SECONDS:
            self.say(f"wait how long? wait SECONDS (up to {waiting.MAX_SECONDS:.0f}), or wait until-idle")
            return
        time.sleep(seconds)  # what happens meanwhile is printed as it happens
        self.settle()
        self.say(f"(waited {seconds:g} s)")

    def _workflow(self, rest: str) -> None:
        try:
            words = shlex.split(rest)
        except ValueError as error:
            self.say(f"cannot read that: {error}")
            return
        if not words or "=" in words[0]:
            self.say("run which step? e.g. workflow request_offboarding leaver=jdoe action=delete reason=left")
            return
        ids = {member.name: member.user_id for member in DEMO_MEMBERS}
        inputs = {key: ids.get(value, value) for key, _, value in (word.partition("=") for word in words[1:])}
        date = inputs.get(StepInput.DATE.value, "")
        if date and not date.isdigit():  # Workflow Builder sends a Unix time; here it can be written as for --at
            try:
                moment = resolve_when(date, tz="UTC", now=self.container.clock.now())
            except BadCommand as refusal:
                self.say(f"cannot read date={date}: {refusal_text(refusal)}")
                return
            inputs[StepInput.DATE.value] = str(int(moment.timestamp()))
        execution_id, delivery = self.workspace.run_step(words[0], inputs)
        self._steps[execution_id] = words[0]
        self.settle(delivery)

    def _steps_ended(self) -> None:
        """Say how the workflow steps run here ended, once each."""
        for execution_id, name in list(self._steps.items()):
            execution = self.fake.function_execution(execution_id)
            if execution.state == "running":
                continue
            del self._steps[execution_id]
            if execution.state == "completed":
                outputs = " · ".join(f"{key}={value}" for key, value in execution.outputs.items())
                self.say(f"[workflow] step {name} completed: {outputs}")
            else:
                self.say(f"[workflow] step {name} failed: {execution.error}")

    def _users(self, _rest: str) -> None:
        for user in self.console.directory(self.container.console):
            licenses = ", ".join(user.licenses) or "no license"
            agent = " · Contact Center agent" if user.is_contact_center_agent else ""
            phone = " · ".join(filter(None, (
                ", ".join(f"ext {ext.number}" for ext in user.extensions), ", ".join(user.phone_numbers),
                ", ".join(device.model for device in user.devices)))) or "no extension"
            self.say(f"  {user.username:<18} {user.status.value:<8} {phone} · {licenses}{agent}")


def _message_title(blocks: list[dict]) -> str:
    """How to name a message: by its header, or else its first line."""
    header = next((block for block in blocks if block.get("type") == "header"), None)
    text = render_blocks([header] if header else blocks[:1])
    first = text[0].strip("= ") if text else ""
    return f'"{first}"' if first else "the newest message with boxes"


def run_shell(settings: Settings, *, data_dir: Path | None, stdin: TextIO, stdout: TextIO,
              console: str = "local") -> int:
    """Run the shell until quit or end of input; return the exit code. `console` is one of consoles.CONSOLES."""
    interactive = stdin.isatty()
    at_terminal = interactive and stdout.isatty()  # the prompt is on the screen while a line is typed
    typed_so_far = _line_editing() if at_terminal else None
    with contextlib.ExitStack() as stack:
        log_path = data_dir / "shell.log" if data_dir is not None else None
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="offboard-shell-")))
        data_dir.mkdir(parents=True, exist_ok=True)
        log_path = stack.enter_context(_logging_to(log_path, settings))
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

        conversation = Conversation(stdout, lambda event: render_event(event, name_for=fake.name_of),
                                    redraw=at_terminal, typed_so_far=typed_so_far)
        stack.callback(conversation.close)
        fake.subscribe(conversation.show)
        workspace = Workspace(fake, signing_secret=signing_secret, send=send, commands=[COMMAND])
        shell = Shell(container, fake, workspace, conversation, chosen)
        shell.say(shell.banner())
        shell.say(f"Log lines go to {log_path}")
        if settings.offboard_audit_key is not None:
            shell.say("(OFFBOARD_AUDIT_KEY is ignored here: the shell's scratch audit log is never sealed with it)")
        try:
            _read_lines(shell, stdin, interactive=interactive)
        except KeyboardInterrupt:  # Ctrl-C while a piped script runs: stop it, without a traceback
            shell.say("(interrupted)")
            return 130
        shell.settle()
    return 0


def _read_lines(shell: Shell, stdin: TextIO, *, interactive: bool) -> None:
    """Hand the shell every line typed (with a prompt) or piped in (echoed after the prompt), until it ends.

    At a terminal, Ctrl-C drops the line being typed (or stops a `wait`), and Ctrl-D ends the shell."""
    while True:
        if interactive:
            try:
                with shell.conversation.reading(shell.prompt()):
                    line = input(shell.prompt())
            except KeyboardInterrupt:
                shell.say("")  # past the ^C, onto a fresh prompt
                continue
            except EOFError:
                shell.say("")  # Ctrl-D: leave the terminal on a fresh line
                return
        else:
            line = stdin.readline()
            if not line:
                return
            if line.strip():
                shell.say(f"{shell.prompt()}{line.rstrip()}")
        try:
            if not shell.handle(line):
                return
        except KeyboardInterrupt:
            if not interactive:
                raise
            shell.say("(interrupted)")


def _line_editing() -> Callable[[], str] | None:
    """Turn on readline's line editing and history for input(); return how to read the line being typed."""
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline: plain lines, no redraw
        return None
    readline.set_history_length(1000)
    return readline.get_line_buffer


@contextlib.contextmanager
def _logging_to(path: Path | None, settings: Settings) -> Iterator[Path]:
    """Send the process's log lines to `path` (a new file in the temp folder when None) while the shell runs,
    so that they stay out of the conversation; yield the file's path."""
    if path is None:
        handle, name = tempfile.mkstemp(prefix="offboard-shell-", suffix=".log")
        path = Path(name)
        stream = open(handle, "a", encoding="utf-8")  # noqa: SIM115 (closed below)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = path.open("a", encoding="utf-8")
    root = logging.getLogger()
    ours = [handler for handler in root.handlers
            if handler.get_name() == logs.HANDLER_NAME and isinstance(handler, logging.StreamHandler)]
    if ours:
        previous = [(handler, handler.setStream(stream)) for handler in ours]
    else:
        handler = logs.make_handler(stream, fmt="text")
        root.addHandler(handler)
        root.setLevel(settings.offboard_log_level)
        previous = [(handler, None)]
    try:
        yield path
    finally:
        for handler, old in previous:
            if old is None:
                root.removeHandler(handler)
            else:
                handler.setStream(old)
        stream.close()
