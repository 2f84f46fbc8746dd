"""The tables. Migrations in storage/migrations must describe exactly these (a test checks it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _when(nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class RequestRow(SQLModel, table=True):
    __tablename__ = "requests"

    id: str = Field(primary_key=True, max_length=24)
    action: str = Field(max_length=16)
    state: str = Field(max_length=24, index=True)
    version: int = 1
    requester_id: str = Field(max_length=32)
    requester_email: str = Field(max_length=320)
    reason: str = Field(default="", sa_type=Text)
    approvals_required: int
    created_at: datetime = Field(sa_column=_when())
    updated_at: datetime = Field(sa_column=_when())
    expires_at: datetime = Field(sa_column=_when())
    origin_channel: str | None = Field(default=None, max_length=32)
    attested_by: str | None = Field(default=None, max_length=32)
    message_channel: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    decided_by: str | None = Field(default=None, max_length=32)
    decision_note: str = Field(default="", sa_type=Text)
    # When it may run (or run its next stage); None: as soon as it is approved.
    run_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    started_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))  # stages count from here
    remind_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))  # next approval reminder
    # Whoever runs it holds a lease and renews it; a lapsed lease (its holder died) may be taken over.
    lease_owner: str | None = Field(default=None, max_length=96)
    lease_expires: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    requester_tz: str = Field(default="UTC", max_length=64, sa_column_kwargs={"server_default": "UTC"})
    interruptions: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # unexpected errors mid-run
    # A bulk request's users that were left out before approval, each with its problems (a JSON list of text).
    left_out_json: str = Field(default="[]", sa_type=Text, sa_column_kwargs={"server_default": "[]"})
    retry_of: str | None = Field(default=None, max_length=24)  # the finished request whose failed users it retries
    # The policy's boxes the requester ticks before sending (a JSON list of text); ticked once attested_by is set.
    checklist_json: str = Field(default="[]", sa_type=Text, sa_column_kwargs={"server_default": "[]"})


class TargetRow(SQLModel, table=True):
    __tablename__ = "request_targets"
    __table_args__ = (UniqueConstraint("request_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(foreign_key="requests.id", index=True, max_length=24)
    position: int
    console_user_id: str = Field(max_length=128)
    plan_json: str = Field(sa_type=Text)
    outcome: str = Field(default="pending", max_length=16)
    detail: str = Field(default="", sa_type=Text)


class StepRow(SQLModel, table=True):
    """The step journal: written as started before the console call and as finished after it."""

    __tablename__ = "request_steps"
    __table_args__ = (UniqueConstraint("target_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    target_id: int = Field(foreign_key="request_targets.id", index=True)
    kind: str = Field(max_length=32)
    status: str = Field(max_length=16)
    detail: str = Field(default="", sa_type=Text)
    started_at: datetime = Field(sa_column=_when())
    finished_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class ApprovalRow(SQLModel, table=True):
    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("request_id", "approver_email"), UniqueConstraint("request_id", "approver_id"))

    id: int | None = Field(default=None, primary_key=True)
    request_id: str = Field(foreign_key="requests.id", index=True, max_length=24)
    approver_id: str = Field(max_length=32)
    approver_email: str = Field(max_length=320)
    at: datetime = Field(sa_column=_when())


class OpenTargetRow(SQLModel, table=True):
    """One row per console user held by an open request: the primary key keeps it to one request."""

    __tablename__ = "open_targets"

    console_user_id: str = Field(primary_key=True, max_length=128)
    request_id: str = Field(foreign_key="requests.id", index=True, max_length=24)


class AuditRow(SQLModel, table=True):
    """Append-only; each row's hash covers the previous row's hash."""

    __tablename__ = "audit_log"

    seq: int = Field(primary_key=True)
    at: str = Field(max_length=40)
    actor: str = Field(max_length=64)
    event: str = Field(max_length=64, index=True)
    request_id: str | None = Field(default=None, max_length=24, index=True)
    data: str = Field(sa_type=Text)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHeadRow(SQLModel, table=True):
    """The chain's newest seq and hash, so that removing the last rows is detected too."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=64)


class SeenRequestRow(SQLModel, table=True):
    """A signed Slack request already taken, kept while its timestamp is still accepted: a replay is refused."""

    __tablename__ = "seen_requests"

    signature: str = Field(primary_key=True, max_length=80)
    seen_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


class WorkflowStepRow(SQLModel, table=True):
    """A request a Workflow Builder step proposed: kept from the proposal until the step is told how it ended.
    `request_id` is the id the request takes once an admin takes it (no request row exists before)."""

    __tablename__ = "workflow_steps"

    request_id: str = Field(primary_key=True, max_length=24)
    execution_id: str = Field(max_length=64, unique=True)  # Slack's function_execution_id
    state: str = Field(max_length=16, index=True)  # proposed, taken, ended, answered (ProposalState)
    inputs_json: str = Field(sa_type=Text)
    proposed_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_column=_when())
    expires_at: datetime = Field(sa_column=_when())
    taken_by: str | None = Field(default=None, max_length=32)
    message_channel: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
