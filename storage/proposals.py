"""The proposals of Workflow Builder steps (bot/domain/workflows.py): each a guarded update, so that one admin
takes a proposal and one replica tells the step how its request ended."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr
from sqlalchemy import ColumnElement, Engine, exists, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.domain.records import AuditEntry, WorkflowOrigin
from bot.domain.workflows import Proposal, ProposalState, StepInputs
from storage import audit
from storage.db import session
from storage.models import RequestRow, WorkflowStepRow

P = ProposalState


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class ProposalStore:
    """Mixed into RequestStore: the same engine and audit chain."""

    engine: Engine
    _audit_key: SecretStr | None

    def propose(self, proposal: Proposal, *, entry: AuditEntry) -> Proposal | None:
        """Store a new proposal; None when its step execution was proposed already (Slack retried the event)."""
        try:
            with session(self.engine) as db:
                db.add(WorkflowStepRow(
                    request_id=proposal.request_id, execution_id=proposal.execution_id, state=proposal.state.value,
                    inputs_json=proposal.inputs.to_json(), proposed_by=proposal.proposed_by,
                    created_at=proposal.created_at, expires_at=proposal.expires_at))
                db.flush()
                audit.append(db, entry, now=proposal.created_at, key=self._audit_key)
                db.commit()
        except IntegrityError:
            return None
        return self.proposal(proposal.request_id)

    def proposal(self, request_id: str) -> Proposal | None:
        with session(self.engine) as db:
            row = db.get(WorkflowStepRow, request_id)
            return _proposal(row) if row else None

    def set_proposal_message(self, request_id: str, *, channel: str, ts: str) -> None:
        with session(self.engine) as db:
            db.exec(update(WorkflowStepRow).where(WorkflowStepRow.request_id == request_id)
                    .values(message_channel=channel, message_ts=ts))
            db.commit()

    def take_proposal(self, request_id: str, *, by: str, now: datetime) -> Proposal | None:
        """Make `by` the one who takes the proposal; None when it is no longer proposed (someone else took it,
        it ended) or its time is up."""
        with session(self.engine) as db:
            result = db.exec(update(WorkflowStepRow).where(
                WorkflowStepRow.request_id == request_id, WorkflowStepRow.state == P.PROPOSED.value,
                col(WorkflowStepRow.expires_at) > now).values(state=P.TAKEN.value, taken_by=by))
            db.commit()
        return self.proposal(request_id) if result.rowcount == 1 else None

    def give_back_proposal(self, request_id: str, *, by: str) -> None:
        """Undo a take whose draft could not be made: the proposal waits for an admin again."""
        with session(self.engine) as db:
            db.exec(update(WorkflowStepRow).where(
                WorkflowStepRow.request_id == request_id, WorkflowStepRow.state == P.TAKEN.value,
                WorkflowStepRow.taken_by == by).values(state=P.PROPOSED.value, taken_by=None))
            db.commit()

    def end_proposal(self, request_id: str, *, entry: AuditEntry, now: datetime,
                     untaken: bool = False) -> Proposal | None:
        """Mark the proposal ended, once: return it to whoever wins (who then tells the step), None to the others
        and when the request came from no workflow. `untaken`: end one nobody took (its time is up)."""
        return self._move_proposal(request_id, P.PROPOSED if untaken else P.TAKEN, P.ENDED, entry=entry, now=now)

    def answer_proposal(self, request_id: str, *, version: int, entry: AuditEntry,
                        now: datetime) -> Proposal | None:
        """Mark a taken proposal's step answered before its request ended, once, and only while the request is
        still at `version` (as the answer describes it): return it to whoever wins (who then completes the step),
        None to the others and when the request changed meanwhile (it may have ended: its end tells the step)."""
        unchanged = exists().where(RequestRow.id == request_id, RequestRow.version == version)
        return self._move_proposal(request_id, P.TAKEN, P.ANSWERED, entry=entry, now=now, also=unchanged)

    def _move_proposal(self, request_id: str, start: ProposalState, to: ProposalState, *, entry: AuditEntry,
                       now: datetime, also: ColumnElement[bool] | None = None) -> Proposal | None:
        """The guarded update; the proposal returned is read in the same transaction, so a database failing after
        the commit cannot leave a step marked told that nobody tells."""
        guard = [WorkflowStepRow.request_id == request_id, WorkflowStepRow.state == start.value]
        if also is not None:
            guard.append(also)
        with session(self.engine) as db:
            result = db.exec(update(WorkflowStepRow).where(*guard).values(state=to.value))
            if result.rowcount != 1:
                db.rollback()
                return None
            audit.append(db, entry, now=now, key=self._audit_key)
            moved = _proposal(db.get(WorkflowStepRow, request_id))
            db.commit()
        return moved

    def waiting_proposals(self, *, now: datetime, limit: int = 20) -> list[Proposal]:
        """The proposals an admin can still take, oldest first."""
        with session(self.engine) as db:
            rows = db.exec(select(WorkflowStepRow).where(
                WorkflowStepRow.state == P.PROPOSED.value, col(WorkflowStepRow.expires_at) > now)
                .order_by(col(WorkflowStepRow.created_at)).limit(limit)).all()
            return [_proposal(row) for row in rows]

    def steps_waiting_since(self, before: datetime, *, limit: int = 100) -> list[str]:
        """Ids of taken proposals whose step has waited since `before` or longer for how the request ends."""
        with session(self.engine) as db:
            return list(db.exec(select(WorkflowStepRow.request_id).where(
                WorkflowStepRow.state == P.TAKEN.value, col(WorkflowStepRow.created_at) <= before)
                .order_by(col(WorkflowStepRow.created_at)).limit(limit)).all())

    def lapsed_proposals(self, *, now: datetime, limit: int = 100) -> list[str]:
        """Ids of proposals nobody took in time."""
        with session(self.engine) as db:
            return list(db.exec(select(WorkflowStepRow.request_id).where(
                WorkflowStepRow.state == P.PROPOSED.value, col(WorkflowStepRow.expires_at) <= now)
                .limit(limit)).all())


def _proposal(row: WorkflowStepRow) -> Proposal:
    return Proposal(request_id=row.request_id, execution_id=row.execution_id,
                    inputs=StepInputs.from_json(row.inputs_json), state=ProposalState(row.state),
                    proposed_by=row.proposed_by, created_at=_utc(row.created_at), expires_at=_utc(row.expires_at),
                    taken_by=row.taken_by, message_channel=row.message_channel, message_ts=row.message_ts)


def origin(row: WorkflowStepRow) -> WorkflowOrigin:
    """What a request's approvers are told of the workflow step that proposed it."""
    return WorkflowOrigin(proposed_by=row.proposed_by,
                          process_complete=StepInputs.from_json(row.inputs_json).process_complete)
