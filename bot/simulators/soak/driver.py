"""The soak run's driver: acts as the admins through signed HTTP, one action at a time, moves the clock and runs
the sweeper as every replica's sweeper would, and remembers what each request was meant to do."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from bot.domain.directory import ConsoleUser, Device, Extension, ExtensionType, UserStatus
from bot.domain.lifecycle import RequestState
from bot.domain.records import OffboardRequest
from bot.errors import ConsoleUnavailable
from bot.simulators.harness import App, text_of
from bot.simulators.simultaneous import run_together
from bot.simulators.slack.demo import HOME_CHANNEL
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.slack.model import Ephemeral, EventKind, Message, SlackEvent
from bot.simulators.soak.injection import console_left_over, inject_console, inject_slack, slack_left_over
from bot.simulators.soak.plan import BOB, DANA, NAMES, Fault, Planned
from bot.simulators.soak.report import SoakReport
from bot.slack.ids import ActionId
from bot.slack.values import RequestRef


class Screens:
    """The newest ephemeral each member was shown, kept from FakeSlack's events, so that a click needs no scan
    of everything the workspace ever showed (which grows with every request)."""

    def __init__(self, slack: FakeSlack) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, Ephemeral] = {}
        self._count: Counter[str] = Counter()
        self.unsubscribe = slack.subscribe(self._seen)

    def _seen(self, event: SlackEvent) -> None:
        if event.kind not in (EventKind.EPHEMERAL_POSTED, EventKind.EPHEMERAL_REPLACED) or not event.user_id:
            return
        with self._lock:
            self._last[event.user_id] = Ephemeral(id=event.ephemeral_id or "", channel_id=event.channel_id or "",
                                                  user_id=event.user_id, text=event.text, blocks=event.blocks)
            self._count[event.user_id] += 1

    def seen(self, user_id: str) -> int:
        with self._lock:
            return self._count[user_id]

    def last(self, user_id: str) -> Ephemeral | None:
        with self._lock:
            return self._last.get(user_id)


def _button_value(blocks: list[dict[str, Any]], action_id: ActionId) -> str | None:
    for block in blocks:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("action_id") == action_id.value:
                return element.get("value")
    return None


def _every_box(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """Every checkbox shown, ticked: the requester's checklist, as an admin ticks it before asking."""
    return {element["action_id"]: ",".join(option["value"] for option in element.get("options") or [])
            for block in blocks for element in block.get("elements") or []
            if isinstance(element, dict) and element.get("type") == "checkboxes"}


class Driver:
    """Acts as the admins through signed HTTP, one action at a time, and remembers what it meant to happen."""

    def __init__(self, app: App, report: SoakReport) -> None:
        self.app = app
        self.report = report
        self.screens = Screens(app.slack)
        self.next_user = 1
        self.to_expire: list[tuple[str, Planned]] = []
        self.intended: dict[str, Planned] = {}  # request id -> its plan
        self.lease = timedelta(seconds=app.container.settings.offboard_lease_seconds + 1)
        self.expire_after = app.container.policy.approvals.expire_after + timedelta(minutes=1)

    # -- users ----------------------------------------------------------------------------------------------

    def new_users(self, item: Planned) -> list[str]:
        names = []
        for licensed in item.licensed:
            number = self.next_user
            self.next_user += 1
            name = f"soak{number:04d}"
            extension = (Extension(number=str(20000 + number), type=ExtensionType.UC,
                                   phone_numbers=(f"+1415{3000000 + number:07d}",),
                                   devices=(Device(id=f"dev-{name}", model="Poly VVX 450"),))
                         if licensed else Extension(number=str(20000 + number), type=ExtensionType.UC))
            self.app.console.add_user(ConsoleUser(
                id=f"s-{number:06d}", username=name, email=f"{name}@example.com", first_name="Soak",
                last_name=f"User {number}", licenses=("X Series X4",) if licensed else (), extensions=(extension,),
                status=UserStatus.INACTIVE if item.action == "reactivate" else UserStatus.ACTIVE, site="Remote"))
            names.append(name)
        return names

    # -- actions --------------------------------------------------------------------------------------------

    def settle(self) -> None:
        self.app.settle()

    def command(self, who: str, text: str) -> Ephemeral | None:
        """Type /offboard; return the private answer it got (None when nothing new was shown)."""
        before = self.screens.seen(who)
        delivery = self.app.workspace.slash(who, text, channel_id=HOME_CHANNEL)
        self.settle()
        if delivery.status != 200:
            self.surprise(f"/offboard {text[:60]}: HTTP {delivery.status}")
        return self.screens.last(who) if self.screens.seen(who) > before else None

    def click(self, who: str, place: Ephemeral | Message, action_id: ActionId, doing: str) -> bool:
        """Click a button the member sees; False (and a surprise) when it is not there."""
        if _button_value(place.blocks, action_id) is None:
            self.surprise(f"{doing}: no {action_id.value} button on what {NAMES.get(who, who)} sees: "
                          f"{text_of(place)[:200]}")
            return False
        delivery = self.app.workspace.block_action(who, place, action_id.value, inputs=_every_box(place.blocks))
        self.settle()
        if delivery.status != 200:
            self.surprise(f"{doing}: HTTP {delivery.status}")
            return False
        return True

    def approval_message(self, request_id: str) -> Message | None:
        request = self.app.container.store.get(request_id)
        if request is None or not request.message_ts or not request.message_channel:
            return None
        return self.app.slack.message(request.message_channel, request.message_ts)

    def reject(self, request_id: str, who: str) -> None:
        message = self.approval_message(request_id)
        if message is None:
            self.surprise(f"{request_id}: no approval message to reject from")
            return
        if not self.click(who, message, ActionId.REJECT, f"{request_id}: Reject"):
            return
        stack = self.app.slack.view_stack(who)
        if not stack:
            self.surprise(f"{request_id}: Reject opened no modal")
            return
        delivery = self.app.workspace.press(who, "Reject", inputs={"reason": "soak: not yet"})
        self.settle()
        if delivery.status != 200:
            self.surprise(f"{request_id}: the reason modal answered HTTP {delivery.status}")

    def surprise(self, text: str) -> None:
        self.report.surprises.append(text)

    # -- faults ---------------------------------------------------------------------------------------------

    def inject_console(self, fault: Fault) -> None:
        faults = self.app.faults
        assert faults is not None
        self.report.faults[fault.kind] += 1
        inject_console(faults, fault)

    def inject_slack(self, fault: Fault) -> None:
        self.report.faults[fault.kind] += 1
        inject_slack(self.app.slack, fault)

    def drain(self, item: Planned) -> None:
        """Take out the faults the request did not meet, so that none hits the next request, and count the
        faults not met at all (a fault met in part, such as one of two Slack errors, counts as met)."""
        faults = self.app.faults
        assert faults is not None
        console = item.console_fault or (Fault("lookup fails", "find_user") if item.lookup_fault else None)
        console_left, console_unmet = console_left_over(faults, console)
        slack_left, slack_unmet = slack_left_over(self.app.slack, item.slack_fault)
        for fault, left, unmet in ((console, console_left, console_unmet), (item.slack_fault, slack_left,
                                                                             slack_unmet)):
            if fault is not None and unmet:
                self.report.faults_unfired[fault.kind] += 1
            elif fault is None and left:
                self.surprise(f"request {item.number}: faults left over without one injected: {left}")

    # -- one request ----------------------------------------------------------------------------------------

    def run_one(self, item: Planned) -> None:
        self.report.requests += 1
        self.report.kinds[item.label] += 1
        names = self.new_users(item)
        text = f"rename {names[0]} {names[0]}.old" if item.action == "rename" else f"{item.action} {' '.join(names)}"
        text += f"{item.options} --reason soak {item.number}"
        if item.lookup_fault:
            self.report.faults["lookup fails"] += 1
            self.app.faults.fail_next("find_user", ConsoleUnavailable("soak: the console did not answer"))
        shown = self.command(item.requester, text)
        if item.lookup_fault:
            self.report.fates["refused (look-up failed)"] += 1
            self.report.commands_refused += 1
            if shown is None or _button_value(shown.blocks, ActionId.REQUEST_APPROVAL) or _button_value(
                    shown.blocks, ActionId.CONFIRM):
                self.surprise(f"request {item.number}: the look-up failed but a plan was shown (or nothing)")
            return
        go = ActionId.REQUEST_APPROVAL if item.action == "delete" else ActionId.CONFIRM
        value = _button_value(shown.blocks, go) if shown is not None else None
        if shown is None or value is None:
            self.surprise(f"request {item.number}: no plan with {go.value} after `/offboard {text}`: "
                          f"{text_of(shown)[:200] if shown else 'nothing shown'}")
            return
        request_id = RequestRef.load(value).r
        self.intended[request_id] = item
        if item.fate == "cancel preview":
            self.report.fates["cancelled from the preview"] += 1
            self.click(item.requester, shown, ActionId.DISCARD, f"{request_id}: Cancel")
            return
        if item.fate == "expire" and not item.sent:
            self.report.fates["left as a draft to expire"] += 1
            self.to_expire.append((request_id, item))
            return
        if item.slack_fault is not None and item.slack_fault.operation == "chat.postMessage":
            self.inject_slack(item.slack_fault)
        if item.action != "delete":
            self.confirm(request_id, item, shown)
            return
        if not self.click(item.requester, shown, go, f"{request_id}: Request approval"):
            return
        request = self.app.container.store.get(request_id)
        if request.state is RequestState.CANCELLED:  # the approval message could not be posted
            self.report.fates["called off: approval message not posted"] += 1
            return
        if request.state is not RequestState.AWAITING_APPROVAL:
            self.surprise(f"{request_id}: {request.state.value} after Request approval")
            return
        if item.slack_fault is not None and item.slack_fault.operation == "chat.update":
            self.inject_slack(item.slack_fault)
        self.decide(request_id, item, request)

    def confirm(self, request_id: str, item: Planned, shown: Ephemeral) -> None:
        """A request the policy lets run without an approver: the asker presses Confirm (twice at the same
        instant, for a double click)."""
        if item.console_fault is not None:
            self.inject_console(item.console_fault)
        if item.fate == "confirm twice":
            self.report.fates["confirmed twice at once"] += 1
            results = run_together(*(lambda: self.app.workspace.block_action(item.requester, shown,
                                                                             ActionId.CONFIRM.value,
                                                                             inputs=_every_box(shown.blocks))
                                     for _ in range(2)))
            self.settle()
            if any(delivery.status != 200 for delivery in results):
                self.surprise(f"{request_id}: a double Confirm answered HTTP "
                              f"{[delivery.status for delivery in results]}")
        else:
            self.report.fates["confirmed"] += 1
            if not self.click(item.requester, shown, ActionId.CONFIRM, f"{request_id}: Confirm"):
                return
        self.follow(request_id, item)

    def decide(self, request_id: str, item: Planned, request: OffboardRequest) -> None:
        """The approvers decide (or nobody does, or the asker cancels)."""
        if item.fate == "expire":
            self.report.fates["left to expire"] += 1
            self.to_expire.append((request_id, item))
            return
        if item.fate == "cancel sent":
            self.report.fates["cancelled once sent"] += 1
            self.command(item.requester, f"cancel {request_id}")
            return
        if item.fate == "reject":
            self.report.fates["rejected"] += 1
            self.reject(request_id, BOB if item.number % 2 else DANA)
            return
        if request.approvals_required > 2:
            self.surprise(f"{request_id} needs {request.approvals_required} approvers; the demo has two")
            return
        if item.console_fault is not None:
            self.inject_console(item.console_fault)
        message = self.approval_message(request_id)
        if message is None:
            self.surprise(f"{request_id}: no approval message")
            return
        if item.fate == "approve together":
            self.report.fates["approved by two at once"] += 1
            results = run_together(*(lambda who=who: self.app.workspace.block_action(who, message,
                                                                                     ActionId.APPROVE.value)
                                     for who in (BOB, DANA)))
            self.settle()
            if any(delivery.status != 200 for delivery in results):
                self.surprise(f"{request_id}: a simultaneous Approve answered HTTP "
                              f"{[delivery.status for delivery in results]}")
        else:
            self.report.fates["approved"] += 1
            approvers = [BOB, DANA] if request.approvals_required == 2 else [BOB if item.number % 2 else DANA]
            for approver in approvers:
                message = self.approval_message(request_id)
                if message is None or not self.click(approver, message, ActionId.APPROVE, f"{request_id}: Approve"):
                    return
        self.follow(request_id, item)

    def follow(self, request_id: str, item: Planned) -> None:
        """Once approved: move the clock on to whatever the request waits for, and sweep, as every replica's
        sweeper does, until it has ended (or is cancelled, when that is its fate).

        A run interrupted by an unexpected error stays executing and is taken over once its lease has lapsed
        (never sooner, so a bug cannot spin); a scheduled run or a staged delete's next stage waits for its
        time (or, when its fate says so, is cancelled first)."""
        cancelled = False
        for _ in range(12):
            request = self.app.container.store.get(request_id)
            waiting = request.state is RequestState.APPROVED and request.run_at is not None
            if waiting and not cancelled and item.fate in ("cancel between stages", "cancel before run"):
                self.report.fates["then cancelled " + item.fate.removeprefix("cancel ")] += 1
                self.command(item.requester, f"cancel {request_id}")
                cancelled = True
                continue
            if request.state is RequestState.EXECUTING:
                self.app.clock.advance(self.lease)
            elif waiting:
                self.app.clock.advance(max(request.run_at - self.app.clock.now(), timedelta(0)) + timedelta(seconds=1))
            else:
                return
            started = self.app.container.sweeper.sweep().started
            self.settle()
            if request_id in started and request.state is RequestState.EXECUTING:
                self.report.resumed += 1
        self.surprise(f"{request_id}: still {self.app.container.store.get(request_id).state.value} after "
                      "following it through 12 sweeps")

    def expire_waiting(self) -> None:
        """Move the clock past the expiry of the requests left undecided, and sweep until they are expired."""
        if not self.to_expire:
            return
        self.app.clock.advance(self.expire_after)
        for _ in range(1 + len(self.to_expire) // 50):
            self.app.container.sweeper.sweep()
            self.settle()
        for request_id, _item in self.to_expire:
            state = self.app.container.store.get(request_id).state
            if state is not RequestState.EXPIRED:
                self.surprise(f"{request_id}: {state.value}, not expired, after the clock passed its expiry")
        self.to_expire.clear()

    def finish(self) -> None:
        """After the last request: expire what waits, then let every lease lapse and sweep, a few times."""
        self.expire_waiting()
        for _ in range(3):
            self.app.clock.advance(self.lease)
            self.app.container.sweeper.sweep()
            self.settle()
