"""Workflow Builder steps: a step proposes a request; an admin takes it; the step hears how it ended.

A proposal never acts by itself: taking it needs an admin (access.py), who becomes the requester of a draft
made for them as if they had typed the command, ticks its checklist and sends it; a delete then needs another
admin's approval as always. When the request ends (core.move's tail, `changed`), the step is completed or
failed through the StepEnded event; a proposal nobody took in time fails its step (`lapse_overdue`).

A step is not kept waiting longer than the policy's `workflow_steps.answer_within`: a request approved to run
(or to run its next stage) after that is answered as soon as it is approved, and one still going when the time
is up is answered by the sweep (`answer_overdue`), each with what is known then (the StepAnswered event)."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.commands import Command, UserRef, Verb
from bot.domain.events import Drafted, StepAnswered, StepEnded
from bot.domain.lifecycle import RequestState
from bot.domain.moves import SYSTEM
from bot.domain.records import Actor, AuditEntry, OffboardRequest
from bot.domain.workflows import STEP_ACTIONS, Answer, Proposal, ProposalState, StepInputs, early_answer
from bot.errors import BadCommand, Refusal
from bot.ports import NotificationFailed
from bot.service.core import Core
from bot.service.intake import Intake, new_request_id

log = logging.getLogger(__name__)


class Workflows:
    def __init__(self, core: Core, intake: Intake) -> None:
        self._core = core
        self._intake = intake

    def propose(self, *, inputs: StepInputs, execution_id: str, proposed_by: str) -> Proposal | None:
        """Keep the step's proposal and post it to the approvals channel for an admin to take. Raise BadCommand
        when the inputs cannot make a request (the step fails with its words); a step execution proposed
        already (Slack sent the event again) is not posted twice: None then."""
        if inputs.action not in STEP_ACTIONS:
            raise BadCommand("step_action", action=inputs.action.value)
        if not (inputs.leaver_user_id or (inputs.leaver_text or "").strip()):
            raise BadCommand("step_no_leaver")
        core = self._core
        now = core.now()
        waits = min(core.policy.approvals.expire_after, core.policy.workflow_steps.answer_within)
        proposal = Proposal(request_id=new_request_id(), execution_id=execution_id, inputs=inputs,
                            state=ProposalState.PROPOSED, proposed_by=proposed_by, created_at=now,
                            expires_at=now + waits)  # an untaken proposal lapses before its step must be answered
        entry = AuditEntry(proposed_by or SYSTEM, "workflow.proposed", proposal.request_id,
                           {"execution_id": execution_id, "action": inputs.action.value,
                            "leaver": inputs.leaver_user_id or inputs.leaver_text, "reason": inputs.reason,
                            "process_complete": inputs.process_complete})
        stored = core.store.propose(proposal, entry=entry)
        if stored is None:
            log.info("step execution %s was proposed already", execution_id)
            return None
        approvals = core.policy.channels.approvals
        try:
            channel, ts = core.notifier.propose(stored, channel=approvals)
        except NotificationFailed as failure:
            log.warning("could not post the proposal %s: %s", stored.request_id, failure)
            core.store.end_proposal(stored.request_id, untaken=True, now=core.now(), entry=AuditEntry(
                SYSTEM, "workflow.ended", stored.request_id, {"why": "proposal_not_posted", "failure": str(failure)}))
            raise Refusal("approvals_unreachable", channel=approvals, failure=str(failure)) from None
        core.store.set_proposal_message(stored.request_id, channel=channel, ts=ts)
        core.homes.changed()  # the admins' tabs list it
        return core.store.proposal(stored.request_id) or stored

    def take(self, *, actor: Actor, request_id: str) -> Drafted:
        """Make the clicking admin the requester of the proposal: a draft of theirs, with its checklist and live
        plan, for them alone. Raise Refusal for anyone who is not an admin, and when someone took it first."""
        core = self._core
        core.access.admin(actor, request_id=request_id)
        proposal = core.store.proposal(request_id)
        if proposal is None:
            raise Refusal("no_such_proposal", request_id=request_id)
        taken = core.store.take_proposal(request_id, by=actor.user_id, now=core.now())
        if taken is None:
            raise Refusal("proposal_taken", request_id=request_id, taken_by=proposal.taken_by,
                          state=proposal.state.value)
        try:
            drafted = self._intake.prepare(actor=actor, command=self._command(taken.inputs, now=core.now()),
                                           origin_channel=taken.message_channel, request_id=request_id)
        except Exception:
            core.store.give_back_proposal(request_id, by=actor.user_id)
            raise
        core.store.append_audit(AuditEntry(actor.user_id, "workflow.taken", request_id,
                                           {"execution_id": taken.execution_id}), now=core.now())
        core.safely(core.notifier.refresh_proposal, core.store.proposal(request_id) or taken)
        core.homes.changed(actor.user_id)  # no longer to take: theirs now
        return drafted

    @staticmethod
    def _command(inputs: StepInputs, *, now: datetime) -> Command:
        """The command the step's inputs stand for; a date already past means as soon as it is approved."""
        if inputs.leaver_user_id:
            ref = UserRef(text=inputs.leaver_user_id, slack_user_id=inputs.leaver_user_id)
        else:
            ref = UserRef(text=(inputs.leaver_text or "").strip())
        at = inputs.date if inputs.date and inputs.date > now else None
        return Command(verb=Verb(inputs.action.value), targets=(ref,), reason=inputs.reason.strip(), at=at)

    def changed(self, request: OffboardRequest) -> None:
        """Told of every change of every request (core.move's tail): tell the step of a workflow's request how it
        ended; answer it now, with what is known, when the request was approved to run after its time."""
        if request.state.is_terminal:
            self.ended(request)
        elif request.state is RequestState.APPROVED and request.run_at is not None:  # may run after the step's time
            proposal = self._core.store.proposal(request.id)
            if proposal is not None and proposal.state is ProposalState.TAKEN:
                self._answer_if_due(proposal, request)

    def ended(self, request: OffboardRequest) -> None:
        """The request ended: tell its step, once, when a workflow proposed it."""
        core = self._core
        proposal = core.store.end_proposal(request.id, now=core.now(), entry=AuditEntry(
            SYSTEM, "workflow.ended", request.id, {"state": request.state.value}))
        if proposal is not None:
            core.publish(StepEnded(request, execution_id=proposal.execution_id))

    def answer_overdue(self) -> list[str]:
        """Answer the steps that have waited as long as the policy lets them, with what is known; a request that
        ended without its step being told (the database failed just then) tells it now. Return their ids."""
        core = self._core
        answered = []
        since = core.now() - core.policy.workflow_steps.answer_within
        for request_id in core.store.steps_waiting_since(since):
            proposal, request = core.store.proposal(request_id), core.store.get(request_id)
            if proposal is None:
                continue
            if request is None:  # taken by a process that died before the draft was made: it lapses as untaken
                core.store.give_back_proposal(request_id, by=proposal.taken_by or "")
                continue
            if request.state.is_terminal:
                self.ended(request)
                answered.append(request_id)
            elif self._answer_if_due(proposal, request):
                answered.append(request_id)
        return answered

    def _answer_if_due(self, proposal: Proposal, request: OffboardRequest) -> Answer | None:
        """Complete the step now with the request as it stands, once, when it must not wait for the end."""
        core = self._core
        answer_by = proposal.answer_by(core.policy.workflow_steps.answer_within)
        why = early_answer(request, answer_by=answer_by, now=core.now())
        if why is None:
            return None
        facts = {"why": why.value, "state": request.state.value,
                 "run_at": request.run_at.isoformat() if request.run_at else None}
        answered = core.store.answer_proposal(request.id, version=request.version, now=core.now(),
                                              entry=AuditEntry(SYSTEM, "workflow.answered", request.id, facts))
        if answered is None:  # another replica answered it, or the request changed meanwhile (and may have ended)
            return None
        core.publish(StepAnswered(request, proposal=answered, why=why, answer_by=answer_by))
        return why

    def lapse_overdue(self) -> list[str]:
        """Fail the steps of proposals nobody took in time; return their ids."""
        core = self._core
        lapsed = []
        for request_id in core.store.lapsed_proposals(now=core.now()):
            proposal = core.store.end_proposal(request_id, untaken=True, now=core.now(), entry=AuditEntry(
                SYSTEM, "workflow.ended", request_id, {"why": "nobody_took_it"}))
            if proposal is not None:
                core.safely(core.notifier.refresh_proposal, proposal)
                core.safely(core.notifier.fail_step, proposal)
                lapsed.append(request_id)
        if lapsed:
            core.homes.changed()
        return lapsed
