"""`offboard-bot shell` at a terminal (a pseudo-terminal here): line editing and history, Ctrl-C drops the line
being typed, Ctrl-D ends cleanly on a fresh line, and a message that arrives while a line is being typed is
printed above the prompt, which comes back with what was typed so far."""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")

LEFT, UP = b"\x1b[D", b"\x1b[A"
CTRL_C, CTRL_D = b"\x03", b"\x04"


class Terminal:
    """The shell on a pseudo-terminal: type into it, read what the screen shows."""

    def __init__(self, tmp_path) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the shell, with the terminal as its controlling tty
            os.chdir(tmp_path)
            os.execve(sys.executable, [sys.executable, "-m", "bot", "shell", "--data-dir", str(tmp_path / "data")],
                      {"PATH": "/usr/bin:/bin", "TERM": "xterm"})
        self.screen = b""

    def type(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def read_until(self, wanted: bytes, *, after: int = 0, seconds: float = 30) -> int:
        """Read until `wanted` shows up after position `after`; return where it ends."""
        deadline = time.monotonic() + seconds
        while (found := self.screen.find(wanted, after)) < 0:
            assert time.monotonic() < deadline, f"{wanted!r} did not appear; the screen:\n{self.screen.decode()}"
            if select.select([self.fd], [], [], 0.2)[0]:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the shell ended
                    chunk = b""
                assert chunk, f"the shell ended before {wanted!r}; the screen:\n{self.screen.decode()}"
                self.screen += chunk
        return found + len(wanted)

    def interrupt(self, prompt: bytes, *, after: int) -> int:
        """Press Ctrl-C and read until the next prompt. CPython's readline misses a SIGINT that lands between
        echoing a key and waiting for the next one (a busy machine makes that window wide), until another
        signal comes: press it again when the prompt is slow to come back."""
        time.sleep(0.3)
        self.type(CTRL_C)
        try:
            return self.read_until(prompt, after=after, seconds=5)
        except AssertionError:
            self.type(CTRL_C)
            return self.read_until(prompt, after=after)

    def exit_status(self, seconds: float = 30) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.drain()
                return os.waitstatus_to_exitcode(status)
            self.drain()
            time.sleep(0.1)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError(f"the shell did not end; the screen:\n{self.screen.decode()}")

    def drain(self) -> None:
        while select.select([self.fd], [], [], 0)[0]:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.screen += chunk


def test_line_editing_history_ctrl_c_and_ctrl_d(tmp_path) -> None:
    terminal = Terminal(tmp_path)
    at = terminal.read_until(b"alice> ")
    terminal.type(b"as ob" + LEFT + LEFT + b"b\r")  # the cursor moves back, the b goes in before "ob"
    at = terminal.read_until(b"you are now bob", after=at)
    at = terminal.read_until(b"bob> ", after=at)
    terminal.type(b"as carol")
    at = terminal.read_until(b"as carol", after=at)
    at = terminal.interrupt(b"bob> ", after=at)  # Ctrl-C drops the line
    terminal.type(b"as dana\r")
    at = terminal.read_until(b"dana> ", after=at)
    terminal.type(UP + UP + b"\r")  # the line before the last: as bob
    at = terminal.read_until(b"you are now bob", after=at)
    at = terminal.read_until(b"bob> ", after=at)
    terminal.type(CTRL_D)
    assert terminal.exit_status() == 0
    assert b"you are now carol" not in terminal.screen and b"Traceback" not in terminal.screen
    assert terminal.screen[at:].replace(b"\r", b"") == b"\n"  # Ctrl-D leaves the terminal on a fresh line


def test_a_result_arriving_while_typing_is_printed_above_the_prompt(tmp_path) -> None:
    terminal = Terminal(tmp_path)
    at = terminal.read_until(b"alice> ")
    terminal.type(b"/offboard deactivate pnguyen --at in 3s\r")
    at = terminal.read_until(b"[ Confirm ]", after=at)
    terminal.type(b"press Confirm\r")
    at = terminal.read_until(b"alice> ", after=at)
    terminal.type(b"us")  # half a command, when the run's result arrives
    at = terminal.read_until(b"deactivated successfully", after=at, seconds=40)
    at = terminal.read_until(b"alice> us", after=at)  # the prompt comes back with what was typed
    terminal.type(b"ers\r")
    at = terminal.read_until(b"pnguyen", after=at)
    terminal.type(b"quit\r")
    assert terminal.exit_status() == 0
    result = terminal.screen.split(b"deactivated successfully")[0].rsplit(b"\n", 3)[-3:]
    assert not any(b"alice> us[" in line for line in result)  # the message did not land on the prompt's line
