"""Runs an approved request's steps against the console, journalling each one before and after."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.ambient import LeaseLost, background_work
from bot.domain.directory import ConsoleUser, UserStatus
from bot.domain.lifecycle import Action, RequestState
from bot.domain.manual import manual_instructions
from bot.domain.plan import PlanStep, StepKind, TargetPlan
from bot.domain.records import AuditEntry, OffboardRequest, StepStatus, Target, TargetOutcome
from bot.errors import ConsoleError, ConsoleUnsupported, DeactivatedOnly, OutcomeUnknown
from bot.ports import Clock, Console, RequestRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Effect:
    """A console step: how to do it, and how to tell from a fresh read that it is done."""

    apply: Callable[[Console, TargetPlan], None]
    done: Callable[[ConsoleUser | None, TargetPlan], bool]


EFFECTS: dict[StepKind, _Effect] = {
    StepKind.RELEASE_LICENSES: _Effect(
        apply=lambda console, plan: console.release_licenses(user_id=plan.user_id),
        done=lambda user, plan: user is not None and not user.holds_numbers,
    ),
    StepKind.DEACTIVATE: _Effect(
        apply=lambda console, plan: console.set_status(user_id=plan.user_id, status=UserStatus.INACTIVE),
        done=lambda user, plan: user is not None and user.status is UserStatus.INACTIVE,
    ),
    StepKind.REACTIVATE: _Effect(
        apply=lambda console, plan: console.set_status(user_id=plan.user_id, status=UserStatus.ACTIVE),
        done=lambda user, plan: user is not None and user.status is UserStatus.ACTIVE,
    ),
    StepKind.RENAME: _Effect(
        apply=lambda console, plan: console.rename(user_id=plan.user_id, new_username=plan.new_username or ""),
        done=lambda user, plan: user is not None and user.username == plan.new_username,
    ),
    StepKind.DELETE: _Effect(
        apply=lambda console, plan: console.delete(user_id=plan.user_id),
        done=lambda user, plan: user is None,
    ),
}


@dataclass(frozen=True)
class _Seen:
    """The user as this run last read it (None: no longer in the console). Each step starts from it instead
    of reading again, and each step's read-back is the next step's starting point."""

    user: ConsoleUser | None


class StepFailed(Exception):
    """The step did not happen."""

    def __init__(self, step: PlanStep, detail: str) -> None:
        super().__init__(detail)
        self.step = step
        self.detail = detail


class StepUnknown(StepFailed):
    """The console was asked, but whether the step happened could not be confirmed."""


class ManualStepNeeded(Exception):
    """The console cannot do the step through its API; an admin must do it by hand (the target waits)."""

    def __init__(self, step: PlanStep, instructions: str) -> None:
        super().__init__(instructions)
        self.step = step
        self.instructions = instructions


STAGE_RECHECK_RETRY = timedelta(minutes=10)  # a stage whose re-check could not read the console waits this long
READ_BACK_PAUSES = (0.5, 2.0)  # seconds between attempts to read a user back after a step
PROGRESS_EVERY = 1.0  # seconds: a running request's progress is reported at most this often


class Executor:
    """Carries out each target's plan in order; a finished step is never run twice."""

    def __init__(self, *, store: RequestRepository, console: Console, clock: Clock,
                 sleep: Callable[[float], None] = time.sleep, workers: int = 1,
                 progress_every: float = PROGRESS_EVERY, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._console = console
        self._clock = clock
        self._sleep = sleep
        self._workers = max(1, workers)  # targets of one request run side by side, up to this many
        self._progress_every = progress_every
        self._monotonic = monotonic

    def run(self, request: OffboardRequest, *, keep_going: Callable[[], bool] = lambda: True,
            on_progress: Callable[[], None] | None = None) -> OffboardRequest:
        """Run every pending target of an executing request as far as it is due, then close it as done or
        failed, or pause it: `waiting` for a manual step, or `approved` again until its next stage is due.

        Targets run side by side (up to `workers`), each one's steps in order. `keep_going` is asked before
        every step; when it says no (the lease was lost), LeaseLost is raised once every target in flight has
        stopped. `on_progress` is called at most every `progress_every` seconds while targets finish."""
        pending = [target for target in request.targets if target.outcome is TargetOutcome.PENDING]
        with background_work():
            dues = self._run_targets(request, pending, keep_going, on_progress or (lambda: None))
        next_stage = min(dues) if dues else None
        finished = self._store.get(request.id)
        now = self._clock.now()
        waiting = [target.plan.username for target in finished.targets
                   if target.outcome is TargetOutcome.PENDING and target.manual_step]
        if waiting:
            paused = self._store.transition(
                request.id, to=RequestState.WAITING, allowed_from=[RequestState.EXECUTING], now=now,
                entry=AuditEntry(actor="system", event="request.waiting", request_id=request.id,
                                 data={"manual_steps_for": waiting}))
            return paused or self._store.get(request.id)
        if next_stage is not None:
            paused = self._store.transition(
                request.id, to=RequestState.APPROVED, allowed_from=[RequestState.EXECUTING], now=now,
                entry=AuditEntry(actor="system", event="request.next_stage", request_id=request.id,
                                 data={"due": next_stage.isoformat()}),
                changes={"run_at": next_stage})
            return paused or self._store.get(request.id)
        ok = all(target.outcome is TargetOutcome.DONE for target in finished.targets)
        final = RequestState.DONE if ok else RequestState.FAILED
        closed = self._store.transition(
            request.id, to=final, allowed_from=[RequestState.EXECUTING], now=self._clock.now(),
            entry=AuditEntry(actor="system", event=f"request.{final.value}", request_id=request.id,
                             data={t.plan.username: t.outcome.value for t in finished.targets}))
        return closed or self._store.get(request.id)

    def _run_targets(self, request: OffboardRequest, targets: list[Target], keep_going: Callable[[], bool],
                     on_progress: Callable[[], None]) -> list[datetime]:
        """Run the targets, several at once; return when the ones waiting for a later stage are due.

        A failure of one target is recorded on it and the others go on; an error of our own (the database
        away, the lease lost) stops new targets from starting and is raised once the running ones stop."""
        if len(targets) <= 1 or self._workers == 1:
            dues = []
            last_report = self._monotonic()
            for target in targets:
                due = self._run_target(request, target, keep_going)
                if due is not None:
                    dues.append(due)
                if self._monotonic() - last_report >= self._progress_every:
                    _report(on_progress)
                    last_report = self._monotonic()
            return dues
        stop = threading.Event()

        def one(target: Target) -> datetime | None:
            if stop.is_set():
                return None  # stays pending: whoever resumes the request runs it
            try:
                return self._run_target(request, target, keep_going)
            except BaseException:
                stop.set()
                raise

        with ThreadPoolExecutor(max_workers=min(self._workers, len(targets)),
                                thread_name_prefix=f"offboard-{request.id}") as pool:
            futures = [pool.submit(contextvars.copy_context().run, one, target) for target in targets]
            self._report_while_running(futures, on_progress)
        errors = [future.exception() for future in futures if future.exception() is not None]
        if errors:
            raise next((error for error in errors if isinstance(error, LeaseLost)), errors[0])
        return [due for future in futures if (due := future.result()) is not None]

    def _report_while_running(self, futures: list[Future], on_progress: Callable[[], None]) -> None:
        """Wait for the targets, calling on_progress when some finished, at most every progress_every seconds."""
        running = set(futures)
        last_report = self._monotonic()
        unreported = False
        while running:
            finished, running = wait(running, timeout=self._progress_every, return_when=FIRST_COMPLETED)
            unreported = unreported or bool(finished)
            if unreported and running and self._monotonic() - last_report >= self._progress_every:
                _report(on_progress)
                last_report = self._monotonic()
                unreported = False

    def _run_target(self, request: OffboardRequest, target: Target,
                    keep_going: Callable[[], bool]) -> datetime | None:
        """Run the target's due steps; return when its next stage is due if it has to wait for one."""
        plan = target.plan
        if not keep_going():
            raise LeaseLost(request.id)
        seen: _Seen | None = None
        if not target.steps:
            changed, seen = self._changed_since_approval(plan)
            if changed:
                self._finish(request, target, TargetOutcome.ABORTED, changed)
                return None
        earlier: list[PlanStep] = []
        try:
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
                        user = self._console.get_user(user_id=plan.user_id)
                    except ConsoleError:
                        return self._clock.now() + STAGE_RECHECK_RETRY  # the console is away: try the stage later
                    seen = _Seen(user)
                    if user is None and plan.action is Action.DELETE:
                        self._finish(request, target, TargetOutcome.DONE, "already deleted in the console by "
                                     "someone else before this stage; nothing more to do")
                        return None
                    changed = _changed_since_stage(earlier, plan, user, step)
                    if changed:
                        self._finish(request, target, TargetOutcome.ABORTED, changed)
                        return None
                if not keep_going():
                    raise LeaseLost(request.id)
                earlier.append(step)
                if record is not None and record.status is StepStatus.MANUAL:
                    self._recheck_manual(request, target, step)
                elif record is None or record.status is not StepStatus.DONE:
                    seen = self._run_step(request, target, step, keep_going, seen)
        except ManualStepNeeded:
            return None  # the target stays pending; a Re-check resumes it from this step
        except StepFailed as failure:
            self._finish(request, target, TargetOutcome.FAILED, _advice(failure))
            return None
        self._finish(request, target, TargetOutcome.DONE, f"{request.action.past_tense} successfully")
        return None

    def _changed_since_approval(self, plan: TargetPlan) -> tuple[str, _Seen | None]:
        """Read the user before the first step: return why the plan no longer fits ('' when it does), and
        the user as read, which the first step starts from."""
        try:
            user = self._console.get_user(user_id=plan.user_id)
        except ConsoleError as error:
            return (f"could not read the user before starting ({error.message}); nothing was changed. Ask again "
                    "once the console answers"), None
        if user is None:
            return "the user no longer exists in the console; nothing was done", None
        if user.fingerprint() != plan.fingerprint:
            return "the user's record changed since the plan was approved; nothing was done. Ask again.", None
        return "", _Seen(user)

    def _run_step(self, request: OffboardRequest, target: Target, step: PlanStep,
                  keep_going: Callable[[], bool] = lambda: True, seen: _Seen | None = None) -> _Seen | None:
        """Run one step, journalled; return the user as it stands after it (None when not read)."""
        now = self._clock.now()
        audit = {"user": target.plan.username, "step": step.kind.value}
        self._store.start_step(target.id, step.kind, now=now,
                               entry=AuditEntry(actor="system", event="step.started", request_id=request.id,
                                                data=audit))
        if step.manual:
            self._record(request, target, step, StepStatus.DONE, "confirmed by the requester before approval")
            return seen
        try:
            after = self._apply(step, target.plan, keep_going, seen)
        except ManualStepNeeded as needed:
            self._record(request, target, step, StepStatus.MANUAL, needed.instructions)
            raise
        except StepUnknown:
            raise  # the journal keeps the step as started: nobody knows yet whether it happened
        except StepFailed as failure:
            self._record(request, target, step, StepStatus.FAILED, failure.detail)
            raise
        self._record(request, target, step, StepStatus.DONE, "")
        return after

    def _apply(self, step: PlanStep, plan: TargetPlan, keep_going: Callable[[], bool] = lambda: True,
               seen: _Seen | None = None) -> _Seen:
        """Do the step unless the user as last read (or a fresh read) shows it done already, then confirm it
        by reading the user back; return the user as read back.

        A delete the console reports finished needs no read-back: its finished operation is the proof, and
        a bulk request saves a call per user. Raises StepFailed when the step did not happen and StepUnknown
        when that cannot be told."""
        effect = EFFECTS[step.kind]
        error: ConsoleError | None = None
        try:
            before = seen.user if seen is not None else self._console.get_user(user_id=plan.user_id)
            if effect.done(before, plan):
                return _Seen(before)
            if not keep_going():  # checked again right before the change: the lease may have lapsed meanwhile
                raise LeaseLost(plan.user_id)
            effect.apply(self._console, plan)
            if step.kind is StepKind.DELETE:
                return _Seen(None)
        except ConsoleError as failure:
            error = failure
        try:
            user = self._read_back(plan.user_id)
        except ConsoleError as failure:
            raise StepUnknown(step, f"could not read the user back to confirm it ({failure.message})") from None
        if effect.done(user, plan):
            return _Seen(user)
        if isinstance(error, ConsoleUnsupported):
            user = self._read_back(plan.user_id)
            raise ManualStepNeeded(step, manual_instructions(step.kind, plan, user, console=self._console.name))
        if isinstance(error, OutcomeUnknown):
            raise StepUnknown(step, error.explained)
        if isinstance(error, DeactivatedOnly):
            raise StepFailed(step, f"{error.explained}. The user was deactivated, not deleted: delete the profile "
                             "in the admin console")
        raise StepFailed(step, error.explained if error else
                         "the console accepted the step but reading the user back shows no change")

    def _recheck_manual(self, request: OffboardRequest, target: Target, step: PlanStep) -> None:
        """An admin says a manual step is done: believe the console, not the click."""
        try:
            user = self._console.get_user(user_id=target.plan.user_id)
        except ConsoleError:
            user = None  # unreadable right now: not verified, the step keeps waiting
            verified = False
        else:
            verified = EFFECTS[step.kind].done(user, target.plan)
        if not verified:
            raise ManualStepNeeded(step, target.step(step.kind).detail)
        if user is not None and _not_the_approved_person(user, target.plan, step):
            detail = ("the user's username or email changed since the approval, so the rest of the plan was not "
                      "run. Ask again if it is still wanted")
            self._record(request, target, step, StepStatus.FAILED, detail)
            raise StepFailed(step, detail)
        self._record(request, target, step, StepStatus.DONE, "done by hand in the console, verified by reading "
                     "the user back")

    def _read_back(self, user_id: str) -> ConsoleUser | None:
        for pause in READ_BACK_PAUSES:
            try:
                return self._console.get_user(user_id=user_id)
            except ConsoleError:
                self._sleep(pause)
        return self._console.get_user(user_id=user_id)

    def _record(self, request: OffboardRequest, target: Target, step: PlanStep, status: StepStatus,
                detail: str) -> None:
        self._store.finish_step(
            target.id, step.kind, status=status, detail=detail, now=self._clock.now(),
            entry=AuditEntry(actor="system", event=f"step.{status.value}", request_id=request.id,
                             data={"user": target.plan.username, "step": step.kind.value, "detail": detail}))

    def _finish(self, request: OffboardRequest, target: Target, outcome: TargetOutcome, detail: str) -> None:
        self._store.finish_target(
            target.id, outcome=outcome, detail=detail, now=self._clock.now(),
            entry=AuditEntry(actor="system", event=f"target.{outcome.value}", request_id=request.id,
                             data={"user": target.plan.username, "user_id": target.plan.user_id, "detail": detail}))


def _report(on_progress: Callable[[], None]) -> None:
    try:
        on_progress()
    except Exception:  # progress is for show: it never stops the run
        log.warning("could not report progress", exc_info=True)


def _changed_since_stage(earlier: list[PlanStep], plan: TargetPlan, user: ConsoleUser | None,
                         step: PlanStep) -> str:
    """Before a later stage: is it still the approved person, and do the earlier stages still hold (nobody
    reactivated the user meanwhile)? Return why not, or ''."""
    if user is not None and _not_the_approved_person(user, plan, step):
        return ("the user's username or email changed since the approval, so the remaining stages were not run. "
                "Ask again if they are still wanted.")
    checked = [done for done in earlier if not done.manual and done.kind in EFFECTS]
    undone = [done.kind.value.replace("_", " ") for done in checked if not EFFECTS[done.kind].done(user, plan)]
    if not undone:
        return ""
    return (f"the user no longer shows what earlier stages did ({', '.join(undone)}): someone changed it in the "
            "console since. The remaining stages were not run; ask again if they are still wanted.")


def _not_the_approved_person(user: ConsoleUser, plan: TargetPlan, step: PlanStep) -> bool:
    """After a manual step (perhaps weeks later): is this still the profile the approvers saw?"""
    same_name = step.kind is StepKind.RENAME or user.username.lower() == plan.username.lower()
    return user.email.lower() != plan.email.lower() or not same_name


def _advice(failure: StepFailed) -> str:
    """Say what failed and what the admin should do next."""
    step = failure.step.kind.value.replace("_", " ")
    if isinstance(failure, StepUnknown):
        return (f"{step} was sent to the console but {failure.detail}. Check the user in the Admin Console "
                "before doing anything else; earlier steps stay done.")
    return (f"{step} failed: {failure.detail}. Earlier steps stay done and nothing after it ran. "
            "Check the user in the Admin Console, then start a new request for them.")
