"""What each kind of step does to the console, and how to tell from a fresh read that it is done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.domain.directory import ConsoleUser, Released, UserStatus
from bot.domain.plan import StepKind, TargetPlan
from bot.ports import Console


@dataclass(frozen=True)
class Effect:
    """A console step: how to do it (returning what it took from the user), and how to tell from a fresh read that
    it is done."""

    apply: Callable[[Console, TargetPlan], Released | None]
    done: Callable[[ConsoleUser | None, TargetPlan], bool]


EFFECTS: dict[StepKind, Effect] = {
    StepKind.RELEASE_LICENSES: Effect(
        apply=lambda console, plan: console.release_licenses(user_id=plan.user_id),
        done=lambda user, plan: user is not None and not user.holds_numbers,
    ),
    StepKind.DEACTIVATE: Effect(
        apply=lambda console, plan: console.set_status(user_id=plan.user_id, status=UserStatus.INACTIVE),
        done=lambda user, plan: user is not None and user.status is UserStatus.INACTIVE,
    ),
    StepKind.REACTIVATE: Effect(
        apply=lambda console, plan: console.set_status(user_id=plan.user_id, status=UserStatus.ACTIVE),
        done=lambda user, plan: user is not None and user.status is UserStatus.ACTIVE,
    ),
    StepKind.RENAME: Effect(
        apply=lambda console, plan: console.rename(user_id=plan.user_id, new_username=plan.new_username or ""),
        done=lambda user, plan: user is not None and user.username == plan.new_username,
    ),
    StepKind.DELETE: Effect(
        apply=lambda console, plan: console.delete(user_id=plan.user_id),
        done=lambda user, plan: user is None,
    ),
}
