"""The request store. Every state change is a guarded update, so exactly one writer wins."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr
from sqlalchemy import Engine, and_, delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.domain.emails import normal_email
from bot.domain.lifecycle import Action, RequestState, check_move
from bot.domain.moves import Changes, Move
from bot.domain.notes import Note
from bot.domain.plan import StepKind, TargetPlan
from bot.domain.problems import problems_from_json, problems_to_json
from bot.domain.records import (
    Approval,
    AuditEntry,
    OffboardRequest,
    StepRecord,
    StepStatus,
    Tally,
    Target,
    TargetOutcome,
)
from bot.ports import ApprovalResult, NewRequest, TargetsBusy
from storage import audit
from storage.db import session, snapshot_engine
from storage.models import ApprovalRow, OpenTargetRow, RequestRow, StepRow, TargetRow, WorkflowStepRow
from storage.proposals import ProposalStore, origin


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class RequestStore(ProposalStore):
    """Reads and writes requests, their targets, steps and approvals, and the audit chain.

    With an audit key, every audit row it writes is sealed with it, and a write whose audit row cannot be sealed
    onto the log (it does not end in a row sealed with the key) raises AuditBroken and changes nothing
    (storage.audit.append)."""

    def __init__(self, engine: Engine, *, audit_key: SecretStr | None = None) -> None:
        self.engine = engine
        self._reader = snapshot_engine(engine)  # a request is always read whole, from one moment
        self._audit_key = audit_key

    # -- reads ---------------------------------------------------------------------------------------

    def get(self, request_id: str) -> OffboardRequest | None:
        """Return the request with its targets, steps and approvals (all as of one moment), or None."""
        with session(self._reader) as db:
            row = db.get(RequestRow, request_id)
            return self._load(db, row) if row else None

    def holders(self, user_ids: Iterable[str]) -> dict[str, str]:
        """Return {console user id: request id} for the given users that an open request holds."""
        ids = list(user_ids)
        if not ids:
            return {}
        with session(self.engine) as db:
            rows = db.exec(select(OpenTargetRow).where(col(OpenTargetRow.console_user_id).in_(ids))).all()
        return {row.console_user_id: row.request_id for row in rows}

    def list(self, *, states: Iterable[RequestState] | None = None, limit: int = 20) -> list[OffboardRequest]:
        """Return the newest requests, optionally only those in the given states."""
        with session(self._reader) as db:
            query = select(RequestRow).order_by(col(RequestRow.created_at).desc()).limit(limit)
            if states is not None:
                query = query.where(col(RequestRow.state).in_([state.value for state in states]))
            rows = db.exec(query).all()
            proposed = {step.request_id: step for step in db.exec(select(WorkflowStepRow).where(
                col(WorkflowStepRow.request_id).in_([row.id for row in rows]))).all()} if rows else {}
            return [self._load(db, row, proposed=proposed) for row in rows]

    # -- writes --------------------------------------------------------------------------------------

    def create(self, new: NewRequest, *, now: datetime, entry: AuditEntry) -> OffboardRequest:
        """Store a new draft request with one target per plan; return it."""
        with session(self.engine) as db:
            db.add(RequestRow(
                id=new.id, action=new.action.value, state=RequestState.DRAFT.value, requester_id=new.requester_id,
                requester_email=new.requester_email, reason=new.reason, approvals_required=new.approvals_required,
                created_at=now, updated_at=now, expires_at=new.expires_at, origin_channel=new.origin_channel,
                run_at=new.run_at, requester_tz=new.requester_tz, left_out_json=problems_to_json(new.left_out),
                retry_of=new.retry_of, checklist_json=json.dumps(list(new.checklist)),
            ))
            db.flush()
            for position, plan in enumerate(new.plans):
                db.add(TargetRow(request_id=new.id, position=position, console_user_id=plan.user_id,
                                 plan_json=plan.to_json()))
            audit.append(db, entry, now=now, key=self._audit_key)
            db.commit()
        return self.get(new.id)

    def apply(self, move: Move, *, now: datetime) -> OffboardRequest | None:
        """Apply a move if the request is still in one of its starting states; None when another writer won.

        Entering an open state takes the users (TargetsBusy when another request has one); entering a terminal
        state releases them. The move's audit entry is written in the same transaction, and so is its
        `fail_pending` note: given to every user not finished yet, marked failed."""
        with session(self.engine) as db:
            result = db.exec(
                update(RequestRow)
                .where(RequestRow.id == move.request_id,
                       col(RequestRow.state).in_([state.value for state in move.allowed_from]))
                .values(state=move.to.value, version=RequestRow.version + 1, updated_at=now,
                        **_columns(move.changes))
            )
            if result.rowcount != 1:
                db.rollback()
                return None
            if move.fail_pending is not None:
                db.exec(update(TargetRow).where(TargetRow.request_id == move.request_id,
                                                TargetRow.outcome == TargetOutcome.PENDING.value)
                        .values(outcome=TargetOutcome.FAILED.value, detail=move.fail_pending.to_json()))
            self._hold_or_release(db, move.request_id, move.to)
            audit.append(db, move.entry, now=now, key=self._audit_key)
            db.commit()
        return self.get(move.request_id)

    def tally(self, request_id: str) -> Tally | None:
        """The request's version and its users counted by outcome (one aggregate query); None when unknown."""
        with session(self.engine) as db:
            version = db.exec(select(RequestRow.version).where(RequestRow.id == request_id)).first()
            if version is None:
                return None
            rows = db.exec(select(TargetRow.outcome, func.count()).where(TargetRow.request_id == request_id)
                           .group_by(TargetRow.outcome)).all()
        counts = dict.fromkeys(TargetOutcome, 0)
        for outcome, count in rows:
            counts[TargetOutcome(outcome)] = count
        return Tally(version=version, counts=counts)

    def version_of(self, request_id: str) -> int | None:
        """The request's version (it grows with every change), without loading the request."""
        with session(self.engine) as db:
            return db.exec(select(RequestRow.version).where(RequestRow.id == request_id)).first()

    def record_approval(
        self, request_id: str, *, approver_id: str, approver_email: str, now: datetime, entry: AuditEntry,
        approved_entry: AuditEntry, counted: Iterable[str] | None = None,
    ) -> ApprovalResult:
        """Count one approval; when it is the last one needed, the request becomes approved in the same step.

        Approvals count once per person (emails compared normalised) and only from `counted`: the emails whose
        approvals count (the admins now, but not the requester); approvals given by anyone else, such as an admin
        since removed from the policy, are kept on record but do not count. The result says how many are still
        missing, as counted here."""
        with session(self.engine) as db:
            claimed = db.exec(
                update(RequestRow)
                .where(RequestRow.id == request_id, RequestRow.state == RequestState.AWAITING_APPROVAL.value,
                       col(RequestRow.expires_at) > now)
                .values(version=RequestRow.version + 1, updated_at=now)
            )
            if claimed.rowcount != 1:
                db.rollback()
                return ApprovalResult(recorded=False, request=self.get(request_id))
            db.add(ApprovalRow(request_id=request_id, approver_id=approver_id, approver_email=approver_email, at=now))
            try:
                db.flush()
            except IntegrityError:
                db.rollback()
                return ApprovalResult(recorded=False, request=self.get(request_id))
            audit.append(db, entry, now=now, key=self._audit_key)
            row = db.get(RequestRow, request_id)
            people = {normal_email(email) for email in db.exec(
                select(ApprovalRow.approver_email).where(ApprovalRow.request_id == request_id)).all()}
            if counted is not None:
                people &= {normal_email(email) for email in counted}
            missing = max(0, row.approvals_required - len(people))
            became_approved = missing == 0
            if became_approved:
                check_move(RequestState.AWAITING_APPROVAL, RequestState.APPROVED)
                row.state = RequestState.APPROVED.value
                row.decided_by = approver_id
                db.add(row)
                audit.append(db, approved_entry, now=now, key=self._audit_key)
            db.commit()
        return ApprovalResult(recorded=True, request=self.get(request_id), became_approved=became_approved,
                              missing=missing)

    # -- leases: who runs what, on any number of replicas --------------------------------------------

    def claim_due(self, *, owner: str, now: datetime, until: datetime, limit: int, request_id: str | None = None,
                  on_takeover: Callable[[str, str], None] | None = None) -> dict[str, str]:
        """Lease up to `limit` requests that are due to run and that nobody holds; return {id: lease token}.

        Due: approved with no run time or one that has come, or executing under a lease that lapsed (its
        holder died). Each claim gets its own token (`owner` plus a random part), which renewing and releasing
        must present: a job claimed twice by the same process can never both run. Rows another replica is
        claiming at this moment are skipped (FOR UPDATE SKIP LOCKED on PostgreSQL; on SQLite every writer
        holds the database lock, so the update is the claim). `on_takeover(id, previous holder)` is called, once
        committed, for each request claimed from another owner whose lease lapsed."""
        lapsed = or_(col(RequestRow.lease_expires).is_(None), col(RequestRow.lease_expires) < now)
        due = or_(
            and_(RequestRow.state == RequestState.APPROVED.value,
                 or_(col(RequestRow.run_at).is_(None), col(RequestRow.run_at) <= now)),
            RequestRow.state == RequestState.EXECUTING.value,
        )
        with session(self.engine) as db:
            query = select(RequestRow.id, RequestRow.lease_owner).where(due, lapsed)
            if request_id is not None:
                query = query.where(RequestRow.id == request_id)
            query = query.order_by(func.coalesce(RequestRow.run_at, RequestRow.updated_at)).limit(limit)
            held = dict(db.exec(query.with_for_update(skip_locked=True)).all())
            ids = list(held)
            tokens = {claimed: f"{owner}/{secrets.token_hex(6)}" for claimed in ids}
            for claimed, token in tokens.items():
                db.exec(update(RequestRow).where(RequestRow.id == claimed, lapsed)
                        .values(lease_owner=token, lease_expires=until))
            db.commit()
        for claimed, holder in held.items():
            if on_takeover and holder and holder.partition("/")[0] != owner:
                on_takeover(claimed, holder)
        return tokens

    def renew_lease(self, request_id: str, *, token: str, until: datetime) -> bool:
        """Extend our lease; False when it is no longer ours (it lapsed and was claimed again)."""
        with session(self.engine) as db:
            result = db.exec(update(RequestRow).where(RequestRow.id == request_id, RequestRow.lease_owner == token)
                             .values(lease_expires=until))
            db.commit()
            return result.rowcount == 1

    def release_lease(self, request_id: str, *, token: str) -> None:
        with session(self.engine) as db:
            db.exec(update(RequestRow).where(RequestRow.id == request_id, RequestRow.lease_owner == token)
                    .values(lease_owner=None, lease_expires=None))
            db.commit()

    def count_interruption(self, request_id: str, *, entry: AuditEntry, now: datetime) -> int:
        """Note an unexpected error in the middle of a run (with its audit entry); return how many so far."""
        with session(self.engine) as db:
            db.exec(update(RequestRow).where(RequestRow.id == request_id)
                    .values(interruptions=RequestRow.interruptions + 1))
            audit.append(db, entry, now=now, key=self._audit_key)
            db.commit()
            return db.get(RequestRow, request_id).interruptions

    def due_for_expiry(self, *, now: datetime, limit: int = 100) -> list[str]:
        """Ids of undecided requests whose time is up."""
        undecided = [RequestState.DRAFT.value, RequestState.AWAITING_APPROVAL.value]
        with session(self.engine) as db:
            return list(db.exec(select(RequestRow.id).where(col(RequestRow.state).in_(undecided),
                                                            col(RequestRow.expires_at) <= now).limit(limit)).all())

    def claim_reminders(self, *, now: datetime, every: timedelta, limit: int = 100) -> list[str]:
        """Ids of awaiting requests whose reminder is due, each moved to its next time: one replica wins each."""
        claimed = []
        with session(self.engine) as db:
            due = db.exec(select(RequestRow.id, RequestRow.remind_at).where(
                RequestRow.state == RequestState.AWAITING_APPROVAL.value, col(RequestRow.remind_at) <= now,
                col(RequestRow.expires_at) > now).limit(limit)).all()
        for request_id, remind_at in due:
            with session(self.engine) as db:
                result = db.exec(update(RequestRow).where(RequestRow.id == request_id,
                                                          RequestRow.remind_at == remind_at)
                                 .values(remind_at=max(_utc(remind_at) + every, now + every)))
                db.commit()
                if result.rowcount == 1:
                    claimed.append(request_id)
        return claimed

    def set_message(self, request_id: str, *, channel: str, ts: str) -> None:
        """Remember where the request's approval message lives."""
        with session(self.engine) as db:
            db.exec(update(RequestRow).where(RequestRow.id == request_id).values(message_channel=channel,
                                                                                  message_ts=ts))
            db.commit()

    def start_step(self, target_id: int, kind: StepKind, *, now: datetime, entry: AuditEntry) -> None:
        """Journal a step as started, before the console is called."""
        with session(self.engine) as db:
            row = db.exec(select(StepRow).where(StepRow.target_id == target_id, StepRow.kind == kind.value)).first()
            row = row or StepRow(target_id=target_id, kind=kind.value, started_at=now)
            row.status, row.started_at, row.finished_at, row.detail = StepStatus.STARTED.value, now, None, ""
            db.add(row)
            audit.append(db, entry, now=now, key=self._audit_key)
            db.commit()

    def finish_step(self, target_id: int, kind: StepKind, *, status: StepStatus, note: Note | None, now: datetime,
                    entry: AuditEntry) -> None:
        """Journal a step as done, failed or waiting for hands, after the console answered."""
        with session(self.engine) as db:
            row = db.exec(select(StepRow).where(StepRow.target_id == target_id, StepRow.kind == kind.value)).one()
            row.status, row.detail, row.finished_at = status.value, note.to_json() if note else "", now
            db.add(row)
            audit.append(db, entry, now=now, key=self._audit_key)
            db.commit()

    def finish_target(self, target_id: int, *, outcome: TargetOutcome, note: Note, now: datetime,
                      entry: AuditEntry) -> None:
        """Record how one target ended, and why; its user is free for other requests from now on."""
        with session(self.engine) as db:
            db.exec(update(TargetRow).where(TargetRow.id == target_id).values(outcome=outcome.value,
                                                                              detail=note.to_json()))
            target = db.get(TargetRow, target_id)
            db.exec(delete(OpenTargetRow).where(OpenTargetRow.request_id == target.request_id,
                                                OpenTargetRow.console_user_id == target.console_user_id))
            audit.append(db, entry, now=now, key=self._audit_key)
            db.commit()

    def append_audit(self, entry: AuditEntry, *, now: datetime) -> None:
        """Write one audit entry on its own (refusals, notices)."""
        with session(self.engine) as db:
            audit.append(db, entry, now=now, key=self._audit_key)
            db.commit()

    def seal_audit(self, *, now: datetime) -> int | None:
        """With an audit key, at start: seal an empty audit log (an `audit.key_in_use` row, whose number is
        returned), or check that the log ends in a row sealed with the key (None); AuditBroken otherwise, as no row
        could be appended (storage.audit.seal). Without a key, None."""
        if self._audit_key is None:
            return None
        with session(self.engine) as db:
            row = audit.seal(db, key=self._audit_key, now=now)
            db.commit()
            return row.seq if row else None

    # -- helpers -------------------------------------------------------------------------------------

    def _hold_or_release(self, db: Session, request_id: str, state: RequestState) -> None:
        if state.is_terminal:
            db.exec(delete(OpenTargetRow).where(OpenTargetRow.request_id == request_id))
            return
        if not state.is_open:
            return
        wanted = list(db.exec(select(TargetRow.console_user_id).where(  # users whose part is still to come
            TargetRow.request_id == request_id, TargetRow.outcome == TargetOutcome.PENDING.value)).all())
        held = set(db.exec(select(OpenTargetRow.console_user_id).where(OpenTargetRow.request_id == request_id)).all())
        for user_id in sorted(wanted):  # one lock order for every request: overlapping requests cannot deadlock
            if user_id not in held:
                db.add(OpenTargetRow(console_user_id=user_id, request_id=request_id))
        try:
            db.flush()
        except IntegrityError:
            db.rollback()
            raise TargetsBusy(self.holders(wanted)) from None

    def _load(self, db: Session, row: RequestRow,
              proposed: dict[str, WorkflowStepRow] | None = None) -> OffboardRequest:
        """The request of `row`, whole; `proposed`: the workflow steps of the rows being loaded, read at once."""
        target_rows = db.exec(
            select(TargetRow).where(TargetRow.request_id == row.id).order_by(TargetRow.position)).all()
        step_rows = db.exec(select(StepRow).where(col(StepRow.target_id).in_([t.id for t in target_rows]))
                            .order_by(StepRow.id)).all() if target_rows else []
        approvals = db.exec(select(ApprovalRow).where(ApprovalRow.request_id == row.id).order_by(ApprovalRow.id)).all()
        # the workflow step that proposed it (same id), if one did
        step = proposed.get(row.id) if proposed is not None else db.get(WorkflowStepRow, row.id)
        steps_of: dict[int, list[StepRecord]] = {}  # each target's steps in one pass: linear in the rows read
        for s in step_rows:
            steps_of.setdefault(s.target_id, []).append(
                StepRecord(kind=StepKind(s.kind), status=StepStatus(s.status), note=Note.from_json(s.detail),
                           started_at=_utc(s.started_at), finished_at=_utc(s.finished_at)))
        targets = tuple(
            Target(
                id=t.id, position=t.position, plan=TargetPlan.from_json(t.plan_json),
                outcome=TargetOutcome(t.outcome), note=Note.from_json(t.detail),
                steps=tuple(steps_of.get(t.id, ())),
            )
            for t in target_rows
        )
        return OffboardRequest(
            id=row.id, action=Action(row.action), state=RequestState(row.state), version=row.version,
            requester_id=row.requester_id, requester_email=row.requester_email, reason=row.reason,
            approvals_required=row.approvals_required, created_at=_utc(row.created_at),
            expires_at=_utc(row.expires_at), origin_channel=row.origin_channel, targets=targets,
            approvals=tuple(Approval(approver_id=a.approver_id, approver_email=a.approver_email, at=_utc(a.at))
                            for a in approvals),
            attested_by=row.attested_by, message_channel=row.message_channel, message_ts=row.message_ts,
            decided_by=row.decided_by, decision_note=row.decision_note, run_at=_utc(row.run_at),
            started_at=_utc(row.started_at), remind_at=_utc(row.remind_at), requester_tz=row.requester_tz,
            lease_owner=row.lease_owner, left_out=problems_from_json(row.left_out_json), retry_of=row.retry_of,
            checklist=tuple(json.loads(row.checklist_json)),
            workflow=origin(step) if step is not None else None,
        )


def _columns(changes: Changes) -> dict:
    """The request columns a move sets besides its state (the fields it leaves as they are are None)."""
    return {field.name: value for field in fields(changes) if (value := getattr(changes, field.name)) is not None}
