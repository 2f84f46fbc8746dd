"""When a workflow step is answered before its request ends (bot/domain/workflows.early_answer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.lifecycle import RequestState
from bot.domain.workflows import Answer, early_answer
from tests.slack.builders import request

S = RequestState
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
BY = NOW + timedelta(days=3)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(("state", "run_at", "now", "expected"), [
    (S.APPROVED, BY + HOUR, NOW, Answer.RUNS_LATER),  # approved to run after the step's time: answered now
    (S.APPROVED, BY - HOUR, NOW, None),  # runs before: the step hears its end
    (S.AWAITING_APPROVAL, BY + HOUR, NOW, None),  # may still be rejected or expire in time
    (S.AWAITING_APPROVAL, None, BY, Answer.TIME_UP),
    (S.DRAFT, None, BY, Answer.TIME_UP),
    (S.WAITING, None, BY, Answer.TIME_UP),  # a manual step may take days
    (S.APPROVED, BY + HOUR, BY, Answer.TIME_UP),
    (S.APPROVED, None, BY, None),  # due now: its run ends within minutes
    (S.APPROVED, BY - HOUR, BY, None),
    (S.EXECUTING, None, BY + HOUR, None),
    (S.DONE, None, BY + HOUR, None),  # ended: the step hears how
    (S.REJECTED, None, BY + HOUR, None),
])
def test_a_step_is_answered_early_only_when_its_request_is_known_to_outlive_it(state, run_at, now, expected):
    assert early_answer(request(state=state, run_at=run_at), answer_by=BY, now=now) is expected
