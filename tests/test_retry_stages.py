"""A retry of a staged delete's failed users keeps the stages the original request was approved with."""

from __future__ import annotations

from datetime import timedelta

from bot.console.demo_data import DEMO_USERS
from bot.domain.lifecycle import Action
from bot.domain.plan import build_plan
from bot.service import _stages_of


def test_a_retry_keeps_the_stages_even_when_the_first_failed_user_held_no_numbers():
    users = {user.username: user for user in DEMO_USERS}
    staged = dict(grace=timedelta(days=7), retain=timedelta(days=30))
    plans = [build_plan(Action.DELETE, users[name], **staged) for name in ("tinactive", "jdoe")]
    assert not any(step.kind.value == "release_licenses" for step in plans[0].steps)
    assert _stages_of(plans) == staged
    assert _stages_of([build_plan(Action.DELETE, users["jdoe"])]) == {}
