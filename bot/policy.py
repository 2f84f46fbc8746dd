"""The policy file: who counts as an admin, how many approvals each action needs, where to post."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.domain.durations import parse_duration
from bot.domain.emails import normal_email
from bot.domain.lifecycle import Action
from bot.errors import ConfigurationError


class Role(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError("write durations as text such as \"24h\" or \"30m\"")
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _emails(values: list[str]) -> list[str]:
    cleaned = []
    for value in values:
        email = normal_email(value)
        if "@" not in email or email.startswith("@") or email.endswith("@"):
            raise ValueError(f"{value!r} is not an email address")
        cleaned.append(email)
    return cleaned


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Admins(_Section):
    primary: list[str] = Field(min_length=1)
    secondary: list[str] = []

    _check = field_validator("primary", "secondary")(_emails)

    @model_validator(mode="after")
    def _distinct(self) -> Admins:
        both = set(self.primary) & set(self.secondary)
        if both:
            raise ValueError(f"listed as both primary and secondary: {', '.join(sorted(both))}")
        return self


class Approvals(_Section):
    delete: int = Field(default=1, ge=1)
    deactivate: int = Field(default=0, ge=0)
    reactivate: int = Field(default=0, ge=0)
    rename: int = Field(default=0, ge=0)
    bulk_over: int = Field(default=10, ge=1)
    bulk_delete: int = Field(default=2, ge=1)
    expire_after: Duration = timedelta(hours=24)
    remind_every: Duration = timedelta(hours=4)


class Channels(_Section):
    approvals: str = Field(pattern=r"^[CG][A-Z0-9]{2,}$")
    results: str = Field(pattern=r"^[CG][A-Z0-9]{2,}$")


class Protect(_Section):
    usernames: list[str] = []


OFFBOARDING_PROCESS_DONE = "The Offboarding Process has been completed"  # 8x8's first step before a delete
CHECKLIST_BOXES = 9  # Slack shows at most 10 checkboxes in one element; one is kept for the manual steps
CHECKLIST_BOX_LENGTH = 75  # Slack's limit for the text of one option


def _boxes(values: list[str]) -> list[str]:
    boxes = [" ".join(value.split()) for value in values]
    if any(not box for box in boxes):
        raise ValueError("a box cannot be empty")
    if len(set(boxes)) != len(boxes):
        raise ValueError("the same box is listed twice")
    if len(boxes) > CHECKLIST_BOXES:
        raise ValueError(f"at most {CHECKLIST_BOXES} boxes per action (Slack shows 10 in one checklist)")
    for box in boxes:
        if len(box) > CHECKLIST_BOX_LENGTH:
            raise ValueError(f"{box[:30]!r}… is longer than Slack's {CHECKLIST_BOX_LENGTH} characters for a box")
    return boxes


class Checklist(_Section):
    """What the requester confirms, one box each, before a request of each action can be sent."""

    delete: list[str] = [OFFBOARDING_PROCESS_DONE]
    deactivate: list[str] = []
    reactivate: list[str] = []
    rename: list[str] = []

    _check = field_validator("delete", "deactivate", "reactivate", "rename")(_boxes)


class WorkflowSteps(_Section):
    """How long a Workflow Builder step that proposed a request is kept waiting for how the request ends. Slack
    documents no limit on a pending custom step; a request can outlive any (a date weeks ahead, a staged delete),
    so by then the step is completed with what is known and the request's thread says so."""

    answer_within: Duration = timedelta(hours=72)

    @field_validator("answer_within")
    @classmethod
    def _at_least_an_hour(cls, value: timedelta) -> timedelta:
        if value < timedelta(hours=1):
            raise ValueError("answer steps within an hour or more (a step lives through an approval)")
        return value


class Policy(_Section):
    """The validated policy. Load it with load_policy()."""

    admins: Admins
    approvals: Approvals = Approvals()
    channels: Channels
    protect: Protect = Protect()
    checklist: Checklist = Checklist()
    workflow_steps: WorkflowSteps = WorkflowSteps()

    @model_validator(mode="after")
    def _satisfiable(self) -> Policy:
        admins = len(self.admins.primary) + len(self.admins.secondary)
        needed = max(self.approvals.delete, self.approvals.bulk_delete, self.approvals.deactivate,
                     self.approvals.reactivate, self.approvals.rename)
        if needed > admins - 1:
            raise ValueError(
                f"approvals need up to {needed} approver(s) besides the requester, "
                f"but only {admins} admin(s) are listed"
            )
        if self.approvals.bulk_delete < self.approvals.delete:
            raise ValueError("approvals.bulk_delete cannot be lower than approvals.delete")
        return self

    def role_of(self, email: str | None) -> Role | None:
        """Return the admin role held by this email, or None for everyone else."""
        email = normal_email(email)
        if not email:
            return None
        if email in self.admins.primary:
            return Role.PRIMARY
        if email in self.admins.secondary:
            return Role.SECONDARY
        return None

    def approvals_required(self, action: Action, *, targets: int) -> int:
        """Return how many distinct approvers besides the requester this request needs."""
        needed = getattr(self.approvals, action.value)
        if action is Action.DELETE and targets > self.approvals.bulk_over:
            needed = max(needed, self.approvals.bulk_delete)
        return needed

    def checklist_for(self, action: Action) -> tuple[str, ...]:
        """The boxes the requester ticks before a request of this action can be sent."""
        return tuple(getattr(self.checklist, action.value))

    def protected(self, *, username: str, email: str) -> bool:
        """True for users the bot must never offboard: the listed ones and every primary admin."""
        names = {normal_email(value) for value in self.protect.usernames} | set(self.admins.primary)
        return normal_email(username) in names or normal_email(email) in names

    @property
    def admin_emails(self) -> list[str]:
        return [*self.admins.primary, *self.admins.secondary]


def load_policy(path: Path) -> Policy:
    """Read and validate the policy file; raise ConfigurationError naming every problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"policy file {path} does not exist (set OFFBOARD_POLICY)") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"policy file {path} is not valid TOML: {error}") from None
    return parse_policy(data, source=str(path))


def parse_policy(data: dict, *, source: str = "policy") -> Policy:
    """Validate already-parsed policy data; raise ConfigurationError naming every problem."""
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or "(top level)"
            problems.append(f"  {where}: {item['msg']}")
        raise ConfigurationError(f"{source} is invalid:\n" + "\n".join(problems)) from None
