"""Reading the users a run is about to change, or has just changed, many at a time.

Each user's run (`steps.TargetRun.steps`) is a generator that yields a `Read` whenever it needs its user as the
console has it now: before its first change (is it still the approved person?), after a change (did it really
happen?), before a later stage. The batch collects the reads of every user of a wave and answers them together:
one `get_users` call, which a console that can list many users at once (8x8) answers with one filtered list
call. A lone read is one `get_user`, as before. A user the batch answer does not hold, or every user of a
batch call that failed, is read on its own: nobody is ever assumed gone or unchanged."""

from __future__ import annotations

from collections.abc import Generator, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from bot.domain.directory import ConsoleUser
from bot.domain.plan import TargetPlan
from bot.errors import ConsoleError
from bot.ports import Console

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Read:
    """A run waits for its user as the console has it now (None: not in the console)."""

    user_id: str
    names: tuple[str, ...]  # the usernames it may have now (before and after a rename)

    @classmethod
    def of(cls, plan: TargetPlan) -> Read:
        names = (plan.username, plan.new_username) if plan.new_username else (plan.username,)
        return cls(plan.user_id, names)


Reply = ConsoleUser | None | ConsoleError  # what a Read is answered with: the user, or why it could not be read
Steps = Generator[Read, ConsoleUser | None, datetime | None]  # a user's run: yields reads, returns its next due


class Reads:
    """Answers the reads of many users' runs with as few console calls as the console allows."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def answer(self, asked: dict[K, Read]) -> dict[K, Reply]:
        """Answer each read: with the user, None when it is not in the console, or the ConsoleError met."""
        found: dict[str, ConsoleUser | None] = {}
        if len(asked) > 1:
            names: dict[str, tuple[str, ...]] = {}
            for read in asked.values():
                names[read.user_id] = tuple(dict.fromkeys((*names.get(read.user_id, ()), *read.names)))
            try:
                found = self._console.get_users(names=names)
            except ConsoleError:
                found = {}  # each user is read on its own below; their errors are theirs
        replies: dict[K, Reply] = {}
        for key, read in asked.items():
            if read.user_id not in found:
                found[read.user_id] = self._one(read.user_id)
            replies[key] = found[read.user_id]
        return replies

    def _one(self, user_id: str) -> ConsoleUser | ConsoleError | None:
        try:
            return self._console.get_user(user_id=user_id)
        except ConsoleError as error:
            return error


def drive(steps: Steps, reads: Reads) -> datetime | None:
    """Run one user's steps to their end on this thread, answering each of its reads on its own."""
    reply: Reply = None
    while True:
        try:
            read = advance(steps, reply)
        except StopIteration as ended:
            return ended.value
        reply = reads.answer({0: read})[0]


def advance(steps: Steps, reply: Reply) -> Read:
    """Carry a run on with the answer to its last read (None to start it) until it asks for the next one;
    StopIteration carries its end."""
    if isinstance(reply, ConsoleError):
        return steps.throw(reply)
    return steps.send(reply)
