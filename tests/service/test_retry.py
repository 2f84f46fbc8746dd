"""A finished request's failed users are retried as a new draft, made afresh from the console for the admin who
asked, shown to that admin only; it is sent and approved like any request. Only admins may retry."""

from __future__ import annotations

import pytest

from bot.domain.events import Drafted, Finished, SentForApproval
from bot.domain.lifecycle import RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import StepKind
from bot.domain.records import OffboardRequest, TargetOutcome
from bot.errors import ConsoleRejected, Refusal
from bot.slack import blocks, reports
from bot.slack.messages.events import answer
from bot.slack.messages.refusals import refusal_text
from storage import audit
from tests.service.conftest import Desk, ticked

SEVERAL = ["jdoe", "pnguyen", "kwilliams", "lchen"]
S = RequestState


def _delete_with_failures(desk: Desk, users: list[str], failures: int) -> OffboardRequest:
    """Alice asks to delete users, bob approves, and the console refuses the first `failures` deletes."""
    request = desk.send("alice", desk.ask("alice", "delete", *users, reason="left the company"))
    for _ in range(failures):
        desk.console.fail_next("delete", ConsoleRejected("the user is on an active call"))
    desk.approve("bob", request)
    desk.jobs.drain()
    return desk.get(request)


def _buttons(message: dict) -> list[str]:
    return [element["text"]["text"] for block in message["blocks"] if block["type"] == "actions"
            for element in block["elements"] if element["type"] == "button"]


def test_the_users_who_failed_are_retried_as_a_new_request(desk):
    first = _delete_with_failures(desk, SEVERAL, failures=2)
    assert first.state is S.FAILED
    failed = {target.plan.username: target.plan.user_id for target in first.targets
              if target.outcome is TargetOutcome.FAILED}
    assert len(failed) == 2
    assert all(target.note == Note(Why.STEP_FAILED, step=StepKind.DELETE, cause=Why.REFUSED,
                                   said="the user is on an active call")
               for target in first.targets if target.outcome is TargetOutcome.FAILED)
    [finished] = desk.notifier.of(Finished)
    assert not reports.wants_csv(finished.request)  # a few users: no CSV
    assert _buttons(blocks.outcome_message(finished.request)) == ["Retry the 2 failed users"]
    published = len(desk.notifier.events)

    drafted = desk.service.intake.retry_failed(actor=desk.actor("alice"), request_id=first.id)
    assert isinstance(drafted, Drafted)
    draft = drafted.request
    assert draft.id != first.id and draft.retry_of == first.id
    assert draft.state is S.DRAFT and draft.requester_id == "U0ALICE"
    assert {target.plan.username: target.plan.user_id for target in draft.targets} == failed  # the same profiles
    preview = str(blocks.preview(draft))
    assert "Plan: Delete 2 users" in preview and all(f"`{name}`" in preview for name in failed)
    assert not any(f"`{name}`" in preview for name in set(SEVERAL) - set(failed))
    # The draft is the clicker's alone: nothing is published or posted, and the first request stays as it was.
    assert len(desk.notifier.events) == published and draft.id not in desk.notifier.messages
    assert desk.get(first).state is S.FAILED

    sent = desk.service.intake.submit(actor=desk.actor("alice"), request_id=draft.id, ticked=ticked(draft))
    assert isinstance(sent, SentForApproval) and "Sent for approval" in answer(sent, results="C0RESULTS")
    desk.approve("dana", draft)
    desk.jobs.drain()
    assert desk.get(draft).state is S.DONE
    for user_id in failed.values():
        assert desk.console.inner.get_user(user_id=user_id) is None
    results = [(event.request.id, _buttons(blocks.outcome_message(event.request)))
               for event in desk.notifier.of(Finished)]
    assert results == [(first.id, ["Retry the 2 failed users"]), (draft.id, [])]
    assert audit.verify(desk.engine).ok


def test_a_non_admin_cannot_retry(desk):
    first = _delete_with_failures(desk, SEVERAL, failures=1)
    requests, published = len(desk.store.list(limit=1000)), len(desk.notifier.events)
    with pytest.raises(Refusal) as refused:
        desk.service.intake.retry_failed(actor=desk.actor("carol"), request_id=first.id)
    assert refused.value.code == "not_admin"
    assert "Only account admins" in refusal_text(refused.value)
    assert len(desk.store.list(limit=1000)) == requests
    assert len(desk.notifier.events) == published  # the results stay as they were, Retry button and all
