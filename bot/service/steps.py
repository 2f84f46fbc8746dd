"""Runs one user's steps against the console, journalling each one before and after it.

A finished step is never run twice: the journal says what was done, and a step whose answer was lost is
reconciled by reading the user back. Before a user's first step, and before the first step of each later
stage, the execution gate's per-user checks say whether the user still fits what was approved.

A run is a generator (`TargetRun.steps`): each time it needs its user as the console has it now, it yields a
`Read` and goes on with the answer. The batch answers the reads of many users together (bot/service/reads.py);
`TargetRun.run` answers them one by one."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.ambient import LeaseLost
from bot.domain.directory import ConsoleUser, Released
from bot.domain.directory import released as taken_from  # what a change took from the user, before and after
from bot.domain.notes import Note, Why
from bot.domain.plan import PlanStep, StepKind, TargetPlan
from bot.domain.records import AuditEntry, OffboardRequest, StepStatus, Target, TargetOutcome
from bot.errors import ConsoleError, ConsoleUnsupported, DeactivatedOnly, OutcomeUnknown
from bot.ports import Clock, Console, RequestRepository
from bot.service.effects import EFFECTS
from bot.service.gate import fits_before_stage, fits_before_start, not_the_approved_person
from bot.service.reads import Read, Reads, Steps, drive

STAGE_RECHECK_RETRY = timedelta(minutes=10)  # a stage whose re-check could not read the console waits this long
READ_BACK_PAUSES = (0.5, 2.0)  # seconds between attempts to read a user back after a step


@dataclass(frozen=True)
class Seen:
    """The user as this run last read it (None: no longer in the console). Each step starts from it instead
    of reading again, and each step's read-back is the next step's starting point."""

    user: ConsoleUser | None
    released: Released | None = None  # what the step that read it took from the user, as the console said


class StepFailed(Exception):
    """The step did not happen: `cause` says why (a Note whose `why` is a cause)."""

    def __init__(self, step: PlanStep, cause: Note) -> None:
        super().__init__(cause.why.value)
        self.step = step
        self.cause = cause

    @property
    def result(self) -> Note:
        return Note(Why.STEP_FAILED, step=self.step.kind, cause=self.cause.why, said=self.cause.said)


class StepUnknown(StepFailed):
    """The console was asked, but whether the step happened could not be confirmed."""

    @property
    def result(self) -> Note:
        return Note(Why.STEP_UNCONFIRMED, step=self.step.kind, cause=self.cause.why, said=self.cause.said)


class ManualStepNeeded(Exception):
    """The console cannot do the step through its API; an admin must do it by hand (the user waits)."""

    def __init__(self, note: Note | None) -> None:
        super().__init__("manual step needed")
        self.note = note


class TargetRun:
    """Carries out one user's plan in order, as far as it is due."""

    def __init__(self, *, store: RequestRepository, console: Console, clock: Clock,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._store = store
        self._console = console
        self._clock = clock
        self.sleep = sleep  # between attempts to read a user back
        self.reads = Reads(console)

    def run(self, request: OffboardRequest, target: Target, keep_going: Callable[[], bool]) -> datetime | None:
        """Run the target's due steps on their own; return when its next stage is due if it has to wait."""
        return drive(self.steps(request, target, keep_going), self.reads)

    def steps(self, request: OffboardRequest, target: Target, keep_going: Callable[[], bool]) -> Steps:
        """The target's due steps, yielding a Read whenever the user must be read; return when its next stage
        is due if it has to wait for one."""
        if not keep_going():
            raise LeaseLost(request.id)
        seen: Seen | None = None
        if not target.steps:
            try:
                user = yield Read.of(target.plan)
            except ConsoleError as error:
                self._finish(request, target, TargetOutcome.ABORTED, Note(Why.UNREADABLE, said=error.message))
                return None
            unfit = fits_before_start(user, target.plan)
            if unfit is not None:
                self._finish(request, target, TargetOutcome.ABORTED, unfit)
                return None
            seen = Seen(user)
        try:
            return (yield from self._steps(request, target, keep_going, seen))
        except ManualStepNeeded:
            return None  # the target stays pending; a Re-check resumes it from this step
        except StepFailed as failure:
            self._finish(request, target, TargetOutcome.FAILED, failure.result)
            return None

    def _steps(self, request: OffboardRequest, target: Target, keep_going: Callable[[], bool],
               seen: Seen | None) -> Steps:
        plan = target.plan
        earlier: list[PlanStep] = []
        for step in plan.steps:
            record = target.step(step.kind)
            if record is not None and record.status is StepStatus.DONE:
                earlier.append(step)
                continue
            if step.after:  # a staged step waits for its time, whatever ran before it
                due = (request.started_at or self._clock.now()) + timedelta(seconds=step.after)
                if due > self._clock.now():
                    return due
            if record is None and earlier and step.after > earlier[-1].after:
                # The first step of a later stage, not yet begun: check the user before it. A stage this
                # request began before an interruption was checked then; its step is reconciled below.
                try:
                    user = yield Read.of(plan)
                except ConsoleError:
                    return self._clock.now() + STAGE_RECHECK_RETRY  # the console is away: try the stage later
                seen = Seen(user)
                ended = fits_before_stage(earlier, plan, user, step)
                if ended is not None:
                    outcome = TargetOutcome.DONE if ended.why is Why.ALREADY_DELETED else TargetOutcome.ABORTED
                    self._finish(request, target, outcome, ended)
                    return None
            if not keep_going():
                raise LeaseLost(request.id)
            earlier.append(step)
            if record is not None and record.status is StepStatus.MANUAL:
                yield from self._recheck_manual(request, target, step)
            else:
                seen = yield from self._run_step(request, target, step, keep_going, seen)
        self._finish(request, target, TargetOutcome.DONE, Note(Why.COMPLETED))
        return None

    def _run_step(self, request: OffboardRequest, target: Target, step: PlanStep, keep_going: Callable[[], bool],
                  seen: Seen | None) -> Generator[Read, ConsoleUser | None, Seen | None]:
        """Run one step, journalled; return the user as it stands after it (None when not read)."""
        self._store.start_step(target.id, step.kind, now=self._clock.now(),
                               entry=AuditEntry("system", "step.started", request.id,
                                                {"user": target.plan.username, "step": step.kind.value}))
        if step.manual:
            self._record(request, target, step, StepStatus.DONE, Note(Why.ATTESTED))
            return seen
        try:
            after = yield from self._apply(step, target.plan, keep_going, seen)
        except ManualStepNeeded as needed:
            self._record(request, target, step, StepStatus.MANUAL, needed.note)
            raise
        except StepUnknown:
            raise  # the journal keeps the step as started: nobody knows yet whether it happened
        except StepFailed as failure:
            self._record(request, target, step, StepStatus.FAILED, failure.cause)
            raise
        self._record(request, target, step, StepStatus.DONE, Note(Why.DONE, released=after.released or None))
        return after

    def _apply(self, step: PlanStep, plan: TargetPlan, keep_going: Callable[[], bool],
               seen: Seen | None) -> Generator[Read, ConsoleUser | None, Seen]:
        """Do the step unless the user as last read (or a fresh read) shows it done already, then confirm it
        by reading the user back; return the user as read back.

        A delete the console reports finished needs no read-back: its finished operation is the proof, and
        a bulk request saves a call per user. Raises StepFailed when the step did not happen and StepUnknown
        when that cannot be told."""
        effect = EFFECTS[step.kind]
        error: ConsoleError | None = None
        try:
            before = seen.user if seen is not None else (yield Read.of(plan))
            if effect.done(before, plan):
                return Seen(before)
            if not keep_going():  # checked again right before the change: the lease may have lapsed meanwhile
                raise LeaseLost(plan.user_id)
            released = effect.apply(self._console, plan)
            if step.kind is StepKind.DELETE:  # what it released: as the console says, else all it held as last read
                return Seen(None, released or (taken_from(before, None) if before is not None else None))
        except ConsoleError as failure:
            error = failure
        try:
            user = yield from self._read_back(plan)
        except ConsoleError as failure:
            raise StepUnknown(step, Note(Why.READ_BACK_FAILED, said=failure.message)) from None
        if effect.done(user, plan):
            return Seen(user, released if error is None else None)
        raise (yield from self._failure(step, plan, error))

    def _failure(self, step: PlanStep, plan: TargetPlan,
                 error: ConsoleError | None) -> Generator[Read, ConsoleUser | None, Exception]:
        """What a step that did not show as done after the read-back became, from the console's error."""
        if isinstance(error, ConsoleUnsupported):
            user = yield from self._read_back(plan)
            held = (*user.licenses, *user.phone_numbers) if user else ()
            return ManualStepNeeded(Note(Why.BY_HAND, step=step.kind, console=self._console.name, held=held))
        if isinstance(error, OutcomeUnknown):
            return StepUnknown(step, Note(Why.UNSURE, said=error.explained))
        if isinstance(error, DeactivatedOnly):
            return StepFailed(step, Note(Why.DEACTIVATED_ONLY, said=error.explained))
        if error is not None:
            return StepFailed(step, Note(Why.REFUSED, said=error.explained))
        return StepFailed(step, Note(Why.NO_CHANGE))

    def _recheck_manual(self, request: OffboardRequest, target: Target,
                        step: PlanStep) -> Generator[Read, ConsoleUser | None, None]:
        """An admin says a manual step is done: believe the console, not the click."""
        try:
            user = yield Read.of(target.plan)
        except ConsoleError:
            user, verified = None, False  # unreadable right now: not verified, the step keeps waiting
        else:
            verified = EFFECTS[step.kind].done(user, target.plan)
        if not verified:
            raise ManualStepNeeded(target.step(step.kind).note)
        if user is not None and not_the_approved_person(user, target.plan, step):
            cause = Note(Why.NOT_THE_SAME_PERSON)
            self._record(request, target, step, StepStatus.FAILED, cause)
            raise StepFailed(step, cause)
        by_hand = target.plan.released_by_now(user) if step.kind is StepKind.RELEASE_LICENSES else None
        self._record(request, target, step, StepStatus.DONE, Note(Why.DONE_BY_HAND, released=by_hand or None))

    def _read_back(self, plan: TargetPlan) -> Generator[Read, ConsoleUser | None, ConsoleUser | None]:
        """The user as it stands after a change; read again after a pause while the console does not answer."""
        for pause in READ_BACK_PAUSES:
            try:
                return (yield Read.of(plan))
            except ConsoleError:
                self.sleep(pause)
        return (yield Read.of(plan))

    def _record(self, request: OffboardRequest, target: Target, step: PlanStep, status: StepStatus,
                note: Note | None) -> None:
        data = {"user": target.plan.username, "step": step.kind.value, "detail": note.to_dict() if note else {}}
        self._store.finish_step(target.id, step.kind, status=status, note=note, now=self._clock.now(),
                                entry=AuditEntry("system", f"step.{status.value}", request.id, data))

    def _finish(self, request: OffboardRequest, target: Target, outcome: TargetOutcome, note: Note) -> None:
        self._store.finish_target(
            target.id, outcome=outcome, note=note, now=self._clock.now(),
            entry=AuditEntry("system", f"target.{outcome.value}", request.id,
                             {"user": target.plan.username, "user_id": target.plan.user_id,
                              "detail": note.to_dict()}))
