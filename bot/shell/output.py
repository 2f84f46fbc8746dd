"""The shell's side of the conversation: what the workspace shows is printed as it happens, from any thread.

The fake Slack hands every visible change to `Conversation.show` (on whichever thread made it); one printer
thread renders and prints them in order, so a scheduled run's result appears when it is posted, not at the next
command. While a line is being typed at a terminal, a message that arrives clears that line, is printed, and
puts the prompt and what was typed so far back under it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from bot.simulators.slack.model import SlackEvent

CLEAR_LINE = "\r\x1b[K"  # back to the start of the line, and erase it


class Conversation:
    """Prints lines and workspace events to `out`, one at a time, without garbling the line being typed."""

    def __init__(self, out: TextIO, render: Callable[[SlackEvent], str], *, redraw: bool = False,
                 typed_so_far: Callable[[], str] | None = None) -> None:
        """`redraw`: `out` is the terminal the prompt is typed at, so a message arriving meanwhile clears the line
        and puts the prompt back, with `typed_so_far()` (readline's buffer) when line editing is on."""
        self._out = out
        self._render = render
        self._redraw = redraw
        self._typed_so_far = typed_so_far or (lambda: "")
        self._lock = threading.Lock()
        self._prompt: str | None = None  # shown at the terminal, waiting for a line
        self._events: queue.Queue[SlackEvent | None] = queue.Queue()
        self._printer = threading.Thread(target=self._print_events, name="shell-printer", daemon=True)
        self._printer.start()

    def show(self, event: SlackEvent) -> None:
        """A change in the workspace (called on the thread that made it): print it soon, in order."""
        self._events.put(event)

    def say(self, text: str) -> None:
        """Print a line (or several) now."""
        with self._lock:
            if self._prompt is not None and self._redraw:
                self._out.write(f"{CLEAR_LINE}{text}\n{self._prompt}{self._typed_so_far()}")
            else:
                self._out.write(text + "\n")
            self._out.flush()

    def shown(self) -> None:
        """Return once every event handed over so far has been printed."""
        self._events.join()

    @contextmanager
    def reading(self, prompt: str) -> Iterator[None]:
        """While the prompt waits for a line at a terminal: messages that arrive are printed above it."""
        with self._lock:
            self._prompt = prompt
        try:
            yield
        finally:
            with self._lock:
                self._prompt = None

    def close(self) -> None:
        """Print what is left, then stop the printer."""
        self._events.put(None)
        self._printer.join(timeout=10)

    def _print_events(self) -> None:
        while True:
            event = self._events.get()
            try:
                if event is None:
                    return
                self.say(self._render(event))
            except Exception as error:  # a renderer bug must not silence the rest of the conversation
                self.say(f"(could not show a {event.kind if event else 'message'}: {error!r})")
            finally:
                self._events.task_done()
