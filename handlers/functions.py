"""Custom steps for Workflow Builder: the `function_executed` event of "Request telephony offboarding".

The step only proposes: the service posts the proposal to the approvals channel, where an admin must take it.
The step stays running; the service completes or fails it when the request ends, or completes it with what is
known when the request goes on past the policy's `workflow_steps.answer_within` (bot/service/workflows.py).
Bolt acks the event itself; inputs it cannot use fail the step at once, with why."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_bolt import App, Fail

from bot.ambient import current_trace_id
from bot.domain.lifecycle import Action
from bot.domain.workflows import StepInputs
from bot.errors import BadCommand, Refusal
from bot.service import OffboardService
from bot.slack.ids import FunctionId, StepInput
from bot.slack.messages.refusals import refusal_text
from handlers.deferral import Guard

log = logging.getLogger("offboard.errors")


def step_inputs(inputs: dict) -> StepInputs:
    """The step's inputs as Slack sent them (manifest.yml `input_parameters`); raise BadCommand when unusable."""
    word = str(inputs.get(StepInput.ACTION.value) or "").strip().lower()
    try:
        action = Action(word)
    except ValueError:
        raise BadCommand("step_action", action=word) from None
    stamp = inputs.get(StepInput.DATE.value)
    try:
        date = datetime.fromtimestamp(int(stamp), UTC) if stamp not in (None, "") else None
    except (TypeError, ValueError, OverflowError, OSError):
        raise BadCommand("time_unreadable", text=str(stamp)) from None
    return StepInputs(action=action, leaver_user_id=str(inputs.get(StepInput.LEAVER.value) or "").strip() or None,
                      leaver_text=str(inputs.get(StepInput.LEAVER_TEXT.value) or "").strip() or None, date=date,
                      reason=str(inputs.get(StepInput.REASON.value) or ""),
                      process_complete=inputs.get(StepInput.PROCESS_COMPLETE.value) in (True, "true", "True", 1))


def register(app: App, service: OffboardService, guard: Guard) -> None:

    @app.function(FunctionId.REQUEST_OFFBOARDING.value)
    def request_offboarding(event: dict, inputs: dict, fail: Fail) -> None:
        try:
            service.workflows.propose(inputs=step_inputs(inputs or {}),
                                      execution_id=str(event.get("function_execution_id") or ""),
                                      proposed_by=str((inputs or {}).get(StepInput.REQUESTED_BY.value) or ""))
        except Refusal as refusal:
            log.info("workflow step refused: %s", refusal.code)
            fail(error=refusal_text(refusal))
        except Exception:
            reference = current_trace_id()
            log.exception("workflow step %s failed (error id %s)", event.get("function_execution_id"), reference)
            fail(error=f"offboard-bot could not take this request (error id {reference}); tell whoever runs it.")
