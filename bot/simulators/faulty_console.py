"""A console that misbehaves on cue: the real LocalConsole, with faults scheduled per operation."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.console.local import LocalConsole
from bot.console.lookup import find_each, get_each
from bot.domain.directory import Released, UserStatus
from bot.errors import ConsoleError


@dataclass(frozen=True)
class Withdrawn:
    """The faults still waiting for their call when they were taken back."""

    failures: dict[str, int]  # operation -> scheduled failures not raised yet
    before: tuple[str, ...]  # operations whose `before` action had not run
    after: tuple[str, ...]  # operations whose `after` action had not run


class FaultyConsole:
    """A real LocalConsole with scheduled faults: the next call of an operation raises, or lands
    in the console and then raises (an answer lost on the way back)."""

    def __init__(self, console: LocalConsole) -> None:
        self.inner = console
        self.name = console.name
        self.services_visible = console.services_visible
        self._faults: dict[str, deque[tuple[ConsoleError, bool]]] = defaultdict(deque)
        self._before: dict[str, Callable[[], None]] = {}
        self._after: dict[str, Callable[[], None]] = {}
        self._holds: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()  # how often each operation was called

    def fail_next(self, operation: str, error: ConsoleError, *, after_applying: bool = False) -> None:
        with self._lock:
            self._faults[operation].append((error, after_applying))

    def before(self, operation: str, action: Callable[[], None]) -> None:
        """Run action (once) just before the next call of operation, e.g. someone edits the user."""
        self._before[operation] = action

    def hold(self, operation: str, until: threading.Event) -> None:
        """Make every call of operation wait until the event is set (a console that has stopped answering)."""
        self._holds[operation] = until

    def after(self, operation: str, action: Callable[[], None]) -> None:
        """Run action (once) right after the next call of operation landed in the console."""
        self._after[operation] = action

    def withdraw_faults(self) -> Withdrawn:
        """Take back every fault and action not met yet (holds stay); return what was still waiting."""
        with self._lock:
            withdrawn = Withdrawn({operation: len(queue) for operation, queue in self._faults.items() if queue},
                                  tuple(self._before), tuple(self._after))
            self._faults.clear()
        self._before.clear()
        self._after.clear()
        return withdrawn

    def _call(self, operation: str, run: Callable[[], object]):
        with self._lock:
            self.calls[operation] += 1
        held = self._holds.get(operation)
        if held is not None:
            held.wait(60)
        action = self._before.pop(operation, None)
        if action:
            action()
        with self._lock:
            fault = self._faults[operation].popleft() if self._faults[operation] else None
        if fault and not fault[1]:
            raise fault[0]
        result = run()
        landed = self._after.pop(operation, None)
        if landed:
            landed()
        if fault:
            raise fault[0]
        return result

    def find_user(self, *, reference: str):
        return self._call("find_user", lambda: self.inner.find_user(reference=reference))

    def find_users(self, *, references):
        return find_each(self, references)

    def get_user(self, *, user_id: str):
        return self._call("get_user", lambda: self.inner.get_user(user_id=user_id))

    def get_users(self, *, names):
        return self._call("get_users", lambda: get_each(self.inner, names))

    def search_users(self, *, text: str, limit: int = 20):
        return self._call("search_users", lambda: self.inner.search_users(text=text, limit=limit))

    def username_taken(self, *, username: str) -> bool:
        return self.inner.username_taken(username=username)

    def release_licenses(self, *, user_id: str) -> Released:
        return self._call("release_licenses", lambda: self.inner.release_licenses(user_id=user_id))

    def set_status(self, *, user_id: str, status: UserStatus) -> Released:
        return self._call("set_status", lambda: self.inner.set_status(user_id=user_id, status=status))

    def rename(self, *, user_id: str, new_username: str) -> Released:
        return self._call("rename", lambda: self.inner.rename(user_id=user_id, new_username=new_username))

    def delete(self, *, user_id: str) -> Released:
        return self._call("delete", lambda: self.inner.delete(user_id=user_id))

