"""The soak run's checks: what the database says happened, compared with the console's own log of operations
(LocalConsole.operations), the audit chain, and how each request ended next to how its faults should make it end."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from bot.console.local import LocalConsole
from bot.domain.directory import UserStatus
from bot.domain.lifecycle import RequestState
from bot.domain.plan import StepKind, TargetPlan
from bot.domain.records import OffboardRequest, StepRecord, StepStatus, Target, TargetOutcome
from bot.simulators.harness import App
from bot.simulators.soak.driver import Driver
from bot.simulators.soak.plan import FINAL, OPERATION_OF, READ_FAULTS, Planned
from bot.simulators.soak.report import SoakReport
from bot.slack.messages.notes import target_text
from storage import audit

NEXT_STEP = re.compile(r"\b(check|ask again|start a new request|try again|retry|tell)\b", re.IGNORECASE)
Lost = dict[tuple[str, str, StepKind], str]  # one per (request, user, step), however it shows


def check(app: App, driver: Driver, report: SoakReport) -> None:
    """Compare what the database says happened with the console's own log of operations."""
    console: LocalConsole = app.console
    log: dict[str, list[str]] = defaultdict(list)
    for operation in console.operations():
        log[operation.user_id].append(operation.name)
    report.operations = sum(len(names) for names in log.values())
    requests = app.container.store.list(limit=10**7)
    report.created = len(requests)
    allowed: dict[str, set[str]] = defaultdict(set)
    lost: Lost = {}
    for request in requests:
        report.states[request.state.value] += 1
        if request.state not in FINAL:
            report.stuck.append(f"{request.id} ({request.action.value}, {len(request.targets)} users) is "
                                f"{request.state.value}")
        ran = any(target.steps for target in request.targets)
        for target in request.targets:
            if ran:
                allowed[target.plan.user_id] |= {OPERATION_OF[step.kind] for step in target.plan.steps
                                                 if not step.manual}
            _check_target(report, console, request, target, log, lost)
    report.lost = list(lost.values())
    _check_log(report, log, allowed)
    verification = audit.verify(app.container.engine, key=app.container.settings.offboard_audit_key)
    report.audit_ok, report.audit_rows, report.audit_problems = (verification.ok, verification.rows,
                                                                 verification.problems)
    report.slack_errors_answered = sum(1 for call in app.slack.calls()
                                       if call.error in ("internal_error", "ratelimited"))
    _check_fates(report, requests, driver.intended)


def _check_target(report: SoakReport, console: LocalConsole, request: OffboardRequest, target: Target,
                  log: dict[str, list[str]], lost: Lost) -> None:
    """One user of a request: pending in a finished request, failed without advice, a step recorded done whose
    operation is not in the console's log, a target recorded done whose effect does not show."""
    report.outcomes[target.outcome.value] += 1
    user_id, plan = target.plan.user_id, target.plan
    if request.state in (RequestState.DONE, RequestState.FAILED) and target.outcome is TargetOutcome.PENDING:
        report.unfinished.append(f"{request.id} {plan.username}: pending, the request is {request.state.value}")
    if target.outcome in (TargetOutcome.FAILED, TargetOutcome.ABORTED):
        detail = target_text(request.action, target) if target.note else ""  # what the admins are told
        report.told[f"{target.outcome.value}: {_shape(detail)}"[:300]] += 1
        if not detail.strip():
            report.unexplained.append(f"{request.id} {plan.username}: {target.outcome.value} with no detail")
        elif target.outcome is TargetOutcome.FAILED and not NEXT_STEP.search(detail):
            report.unexplained.append(f"{request.id} {plan.username}: failed, and the detail says nothing "
                                      f"to do next: {detail}")
    for step in target.steps:
        if step.status is StepStatus.STARTED:
            report.unknown_steps += 1
        if step.status is StepStatus.DONE and step.kind in OPERATION_OF \
                and OPERATION_OF[step.kind] not in log[user_id]:
            lost.setdefault((request.id, user_id, step.kind), f"{request.id} {plan.username} ({user_id}): "
                            f"{step.kind.value} recorded done, but the console log for the user holds "
                            f"{log[user_id]}")
    if target.outcome is TargetOutcome.DONE:
        for kind, text in _effects_missing(console, request, plan, {s.kind: s for s in target.steps}):
            lost.setdefault((request.id, user_id, kind), text)


def _check_log(report: SoakReport, log: dict[str, list[str]], allowed: dict[str, set[str]]) -> None:
    """Every (user, operation) applied at most once, and only as a step of a plan that ran."""
    for user_id, names in sorted(log.items()):
        for name, count in sorted(Counter(names).items()):
            if count > 1:
                report.duplicated.append(f"{user_id}: {name} applied {count} times (log: {names})")
        outside = [name for name in names if name not in allowed.get(user_id, set())]
        if outside:
            report.unapproved.append(f"{user_id}: {outside} applied, but no request that ran planned them")


def _check_fates(report: SoakReport, requests: list[OffboardRequest], intended: dict[str, Planned]) -> None:
    """For information: the requests that ended otherwise than their fate and faults should make them end."""
    for request in requests:
        item = intended.get(request.id)
        expected = _expected_state(item) if item else None
        if expected and request.state is not expected:
            faults = [fault.kind for fault in (item.console_fault, item.slack_fault) if fault]
            details = "; ".join(f"{t.plan.username}: {t.outcome.value}: {t.note}" for t in request.targets)
            report.unexpected_fates.append(f"{request.id} {item.label}/{item.fate} ended {request.state.value}, not "
                                           f"{expected.value}; faults {faults or 'none'}: {details}"[:400])


def _shape(detail: str) -> str:
    """A detail with the names of users, ids and requests taken out, so that alike ones count together."""
    return re.sub(r"soak\d+(\.old)?|s-\d{6}|OB-[A-Z0-9]{8}", "…", detail)


def _effects_missing(console: LocalConsole, request: OffboardRequest, plan: TargetPlan,
                     steps: dict[StepKind, StepRecord]) -> list[tuple[StepKind, str]]:
    """A target recorded done: every step of its plan must be journalled done, and the last one's effect must
    show in the console (a deleted user gone, a renamed one under the new name...)."""
    missing = []
    for step in plan.steps:
        record = steps.get(step.kind)
        if not step.manual and (record is None or record.status is not StepStatus.DONE):
            missing.append((step.kind, f"{request.id} {plan.username}: target done, but its {step.kind.value} step "
                                       f"is {record.status.value if record else 'not journalled'}"))
    user = console.get_user(user_id=plan.user_id)
    action = request.action.value
    wrong = (
        (action == "delete" and user is not None)
        or (action != "delete" and user is None)
        or (action == "deactivate" and user is not None and user.status is not UserStatus.INACTIVE)
        or (action == "reactivate" and user is not None and user.status is not UserStatus.ACTIVE)
        or (action == "rename" and user is not None and user.username != plan.new_username)
    )
    if wrong:
        shown = "gone" if user is None else f"{user.username}, {user.status.value}"
        missing.append((plan.steps[-1].kind, f"{request.id} {plan.username}: {action} recorded done, but the "
                                             f"console shows {shown}"))
    return missing


def _expected_state(item: Planned) -> RequestState | None:
    """How the request should end, given its fate and faults (None: it depends on which user of several met
    a read fault, or the request was never created)."""
    if item.lookup_fault:
        return None
    slack = item.slack_fault
    if item.sent and slack is not None and slack.operation == "chat.postMessage" and (
            slack.kind == "slack error" or slack.variant > 2):  # the approval message could not be posted
        return RequestState.CANCELLED
    if item.fate == "reject":
        return RequestState.REJECTED
    if item.fate in ("cancel preview", "cancel sent", "cancel before run"):
        return RequestState.CANCELLED
    if item.fate == "expire":
        return RequestState.EXPIRED
    fault = item.console_fault
    single = len(item.licensed) == 1
    if fault is not None and fault.kind in READ_FAULTS and not single:
        return None  # a read fault may meet another user's read, which is tried again
    failing = fault is not None and fault.kind in ("console refused", "console unavailable", *READ_FAULTS)
    if item.fate == "cancel between stages":  # the other users' stages wait for their time, and are cancelled
        return RequestState.FAILED if failing and single else RequestState.CANCELLED
    # A lost answer is read back; an interrupted run is resumed.
    return RequestState.FAILED if failing else RequestState.DONE

