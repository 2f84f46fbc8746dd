"""The fault matrix: each way the admin console, Slack or the bot's own database can misbehave while a
request runs, one row each, through signed Slack requests into the real app.

Every row runs the same two-step delete of jdoe (licenses released, then the profile deleted) and checks
the same four promises:

- the request ends in a definite state (done or failed, never left running);
- the admin is told what happened and what to do next;
- no console change is lost or made twice: the console applied exactly the changes expected, and a change
  was sent again only after the console answered 429 or 503 (not taken);
- the audit chain verifies.

Console rows run against the stateful fake 8x8 server over real HTTP, and against the real scim2-server
behind a misbehaving proxy (a deactivation there: one PATCH); database rows against real SQLite and
PostgreSQL. docs/SECURITY.md lists the rows in a table."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.console.scim import ScimConsole
from bot.domain.lifecycle import RequestState
from bot.simulators.eightbyeight.fake import FakeEightByEight
from bot.simulators.harness import App, serve, serve_local
from bot.simulators.slack.model import EventKind, SlackEvent
from storage import audit
from tests.conftest import POSTGRES_URL
from tests.console.eightbyeight.test_console import console_for, seed
from tests.console.scim.test_console import Proxy

DONE, FAILED = RequestState.DONE, RequestState.FAILED
TIMEOUT = 0.5  # the 8x8 client's timeout in these tests; a "slow" answer takes twice as long
AUDIT_KEY = "fault-matrix-audit-key-0123456789abcdef"  # every row here is sealed with it
RECONCILE = (0.2, 0.4, 0.8)  # after a lost answer, the user is read back for 1.4 s (about a minute in production)
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
UNKNOWN_ADVICE = ("was sent to the console but", "Check the user in the Admin Console before doing anything else")


@dataclass(frozen=True)
class Row:
    fault: str
    arm: Callable[[FakeEightByEight], None]
    ends: RequestState
    applied: tuple[str, ...]  # the changes the console made, in order
    told: tuple[str, ...]  # what the results message says

    def __str__(self) -> str:
        return self.fault


CONSOLE_ROWS = [
    Row("429 with Retry-After on the license change",
        lambda f: f.fail_next("PUT", "/users/", status=429, retry_after=1), DONE, ("UPDATE", "DELETE"),
        ("deleted successfully",)),
    Row("429 with Retry-After on the delete",
        lambda f: f.fail_next("DELETE", "/users/", status=429, retry_after=1), DONE, ("UPDATE", "DELETE"),
        ("deleted successfully",)),
    Row("429 with Retry-After on a read",
        lambda f: f.fail_next("GET", "/users/", status=429, retry_after=1), DONE, ("UPDATE", "DELETE"),
        ("deleted successfully",)),
    Row("503 on the license change (not taken: sent again after a fresh read)",
        lambda f: f.fail_next("PUT", "/users/", status=503), DONE, ("UPDATE", "DELETE"), ("deleted successfully",)),
    Row("502 on reads, twice in a row",
        lambda f: f.fail_next("GET", "/users/", status=502, times=2), DONE, ("UPDATE", "DELETE"),
        ("deleted successfully",)),
    Row("503 while following the console's operation",
        lambda f: f.fail_next("GET", "/operations/", status=503), DONE, ("UPDATE", "DELETE"),
        ("deleted successfully",)),
    Row("a read times out",
        lambda f: f.slow_next("GET", "/users/", seconds=2 * TIMEOUT), DONE, ("UPDATE", "DELETE"),
        ("deleted successfully",)),
    Row("the license change times out, and lands while the bot reads the user back",
        lambda f: f.slow_next("PUT", "/users/", seconds=TIMEOUT + 0.2), DONE, ("UPDATE", "DELETE"),
        ("deleted successfully",)),
    Row("connection dropped on a read",
        lambda f: f.drop_next("GET", "/users/", after_apply=False), DONE, ("UPDATE", "DELETE"),
        ("deleted successfully",)),
    Row("connection dropped after the license change landed",
        lambda f: f.drop_next("PUT", "/users/", after_apply=True), DONE, ("UPDATE", "DELETE"),
        ("deleted successfully",)),
    Row("connection dropped after the delete landed",
        lambda f: f.drop_next("DELETE", "/users/", after_apply=True), DONE, ("UPDATE", "DELETE"),
        ("deleted successfully",)),
    Row("connection dropped before the delete landed (outcome unknown)",
        lambda f: f.drop_next("DELETE", "/users/", after_apply=False), FAILED, ("UPDATE",),
        ("delete " + UNKNOWN_ADVICE[0], UNKNOWN_ADVICE[1])),
    Row("500 on the delete (outcome unknown)",
        lambda f: f.fail_next("DELETE", "/users/", status=500), FAILED, ("UPDATE",),
        ("delete " + UNKNOWN_ADVICE[0], UNKNOWN_ADVICE[1])),
    Row("504 on the license change (outcome unknown)",
        lambda f: f.fail_next("PUT", "/users/", status=504), FAILED, (),
        ("release licenses " + UNKNOWN_ADVICE[0], UNKNOWN_ADVICE[1])),
    Row("the license change's operation fails in the console",
        lambda f: f.fail_operations_next("UPDATE", detail="License service unavailable"), FAILED, (),
        ("release licenses failed", "License service unavailable", "console response id",
         "then start a new request")),
    Row("the console answers 503 throughout",
        lambda f: f.fail_next("GET", "/users/", status=503, times=50), FAILED, (),
        ("could not read the user before starting", "nothing was changed", "Ask again once the console answers")),
]


# -- checking the four promises ---------------------------------------------------------------------------

def _ask(app: App) -> str:
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    return app.request_id()


def _results(app: App) -> str:
    return "\n".join(app.channel_texts("C0RESULTS"))


def _check_ended(app: App, request_id: str, ends: RequestState, told: tuple[str, ...], *,
                 user_id: str = "u-1001") -> None:
    request = app.container.store.get(request_id)
    assert request.state is ends, f"{request.state}: {[t.note for t in request.targets]}"
    results = _results(app)
    for words in told:
        assert words in results
    assert f"Your request {request_id} finished" in app.dm_texts("alice")[-1]
    assert f"request.{ends.value}" in app.audit_events(request_id)
    assert app.container.store.holders([user_id]) == {}  # nothing left claiming the user
    verification = audit.verify(app.container.engine, key=app.container.settings.offboard_audit_key)
    assert verification.ok and verification.plain == 0, verification


def _check_console(fake: FakeEightByEight, applied: tuple[str, ...]) -> None:
    assert tuple(kind for kind, _ in fake.applied) == applied
    if "UPDATE" not in applied:  # the licenses are still held: the delete must never have been sent
        assert [r for r in fake.requests if r.method == "DELETE"] == []
    for method in ("PUT", "DELETE"):
        taken = [r for r in fake.requests if r.method == method and r.status not in (429, 503)]
        assert len(taken) <= 1, f"{method} sent again although the console may have taken it: {taken}"


@pytest.fixture
def fake(eightbyeight: FakeEightByEight) -> FakeEightByEight:
    return seed(eightbyeight)


@pytest.fixture
def app(slack, tmp_path, clock, fake) -> Iterator[App]:
    """The 8x8 console with its waits shortened, so that each fault resolves in a test's time."""
    console = console_for(fake, timeout=TIMEOUT, reconcile_pauses=RECONCILE)
    with serve(slack, clock, tmp_path, console=console, state=fake, offboard_audit_key=AUDIT_KEY) as app:
        yield app


@pytest.mark.parametrize("row", CONSOLE_ROWS, ids=str)
def test_console_fault(app, fake, row):
    request_id = _ask(app)
    row.arm(fake)
    armed = fake.pending_faults()
    app.press("bob", "Approve")
    assert fake.pending_faults() < armed, "the fault never fired"
    _check_ended(app, request_id, row.ends, row.told)
    _check_console(fake, row.applied)
    assert not fake.bugs


def test_retry_after_is_waited_before_the_change_is_sent_again(app, fake):
    request_id = _ask(app)
    fake.fail_next("PUT", "/users/", status=429, retry_after=1)
    app.press("bob", "Approve")
    assert app.container.store.get(request_id).state is DONE
    puts = [r for r in fake.requests if r.method == "PUT"]
    assert [put.status for put in puts] == [429, 202]
    assert puts[1].at - puts[0].at >= 0.95


# -- the SCIM backend, against the real scim2-server behind a proxy that misbehaves once ----------------

class Once:
    """Misbehave on the first request of `method` (to a user, for reads), then let everything through.
    `reached` lists the requests of `method` that got to the server."""

    def __init__(self, method: str, how: str, *, times: int = 1) -> None:
        self.method, self.how, self.left = method, how, times
        self.reached: list[httpx.Request] = []

    def __call__(self, request: httpx.Request, forward) -> httpx.Response | None:
        if request.method != self.method or (self.method == "GET" and "/Users/" not in request.url.path):
            return None
        if self.left <= 0:
            self.reached.append(request)
            return forward(request)
        self.left -= 1
        if self.how == "lose the answer":
            self.reached.append(request)
            forward(request)
            raise httpx.ReadTimeout("timed out waiting for the answer", request=request)
        if self.how == "refuse to connect":
            raise httpx.ConnectError("connection refused", request=request)
        if self.how == "time out":
            raise httpx.ReadTimeout("timed out", request=request)
        status = int(self.how)
        headers = {"Retry-After": "1"} if status == 429 else {}
        return httpx.Response(status, headers=headers, json={"schemas": [ERROR_SCHEMA], "status": str(status),
                                                             "detail": "injected by the test proxy"})


@dataclass(frozen=True)
class ScimRow:
    fault: str
    method: str
    how: str
    ends: RequestState
    patches_reaching: int
    told: tuple[str, ...]
    times: int = 1

    def __str__(self) -> str:
        return self.fault


SCIM_UNKNOWN = ("deactivate " + UNKNOWN_ADVICE[0], UNKNOWN_ADVICE[1])
SCIM_ROWS = [
    ScimRow("429 with Retry-After on the change", "PATCH", "429", DONE, 1, ("deactivated successfully",)),
    ScimRow("connection refused on the change (nothing sent)", "PATCH", "refuse to connect", DONE, 1,
            ("deactivated successfully",)),
    ScimRow("answer lost after the change landed", "PATCH", "lose the answer", DONE, 1,
            ("deactivated successfully",)),
    ScimRow("503 on the change (outcome unknown)", "PATCH", "503", FAILED, 0, SCIM_UNKNOWN),
    ScimRow("502 on reads, twice in a row", "GET", "502", DONE, 1, ("deactivated successfully",), times=2),
    ScimRow("a read times out", "GET", "time out", DONE, 1, ("deactivated successfully",)),
]


@pytest.mark.parametrize("row", SCIM_ROWS, ids=str)
def test_scim_fault(row, slack, clock, tmp_path, scim):
    fault = Once(row.method, row.how, times=row.times)
    proxy = Proxy(fault)
    console = ScimConsole(scim.base_url, scim.token, transport=httpx.MockTransport(proxy), backoff=0)
    with serve(slack, clock, tmp_path, console=console, state=scim, offboard_audit_key=AUDIT_KEY) as app:
        app.command("alice", "deactivate jdoe")
        app.press("alice", "Confirm")
        request_id = app.request_id()
        assert fault.left == 0, "the fault never fired"
        _check_ended(app, request_id, row.ends, row.told, user_id=scim.ids["jdoe"])
    reached = fault.reached if row.method == "PATCH" else proxy.sent("PATCH")
    assert len(reached) == row.patches_reaching  # the change reached the provider at most once
    assert scim.server.raw_user(scim.ids["jdoe"])["active"] is (row.patches_reaching == 0)


# -- Slack misbehaving: the console work stands, and the admin still hears of it -------------------------

def test_slack_failing_every_message_update(app, fake):
    request_id = _ask(app)
    app.slack.inject_failure("chat.update", error="internal_error", times=20)
    app.press("bob", "Approve")
    _check_ended(app, request_id, DONE, ("deleted successfully",))
    _check_console(fake, ("UPDATE", "DELETE"))


def test_slack_rate_limiting_message_updates(app, fake):
    request_id = _ask(app)
    app.slack.inject_failure("chat.update", retry_after=1, times=2)
    app.press("bob", "Approve")
    _check_ended(app, request_id, DONE, ("deleted successfully",))
    assert [call.error for call in app.slack.calls("chat.update")].count("ratelimited") == 2
    request = app.container.store.get(request_id)
    assert "Done" in app.slack.message(request.message_channel, request.message_ts).text  # waited out, not dropped
    _check_console(fake, ("UPDATE", "DELETE"))


def test_results_channel_refusing_the_results(app, fake):
    request_id = _ask(app)
    app.slack.set_bot_membership("C0RESULTS", False)
    app.press("bob", "Approve")
    request = app.container.store.get(request_id)
    assert request.state is DONE
    assert app.channel_texts("C0RESULTS") == []
    told = app.dm_texts("alice")[-1]
    assert f"Your request {request_id} finished: 1/1 deleted successfully" in told
    assert "could not post the results in <#C0RESULTS>" in told and "not_in_channel" in told
    assert f"`/offboard status {request_id}` shows each user's result" in told
    _check_console(fake, ("UPDATE", "DELETE"))
    assert audit.verify(app.container.engine, key=app.container.settings.offboard_audit_key).ok


# -- the bot's own database briefly unavailable -------------------------------------------------------------

def test_sqlite_locked_by_another_process_is_waited_out(slack, clock, tmp_path):
    with serve_local(slack, clock, tmp_path, offboard_audit_key=AUDIT_KEY) as app:
        request_id = _ask(app)
        locks = []
        app.faults.after("release_licenses", lambda: locks.append(_lock(tmp_path / "offboard.db", 1.5)))
        started = time.monotonic()
        app.press("bob", "Approve")
        assert locks, "the lock was never taken"
        locks[0].join()
        assert time.monotonic() - started >= 1.4  # the run waited for the lock, then went on
        _check_ended(app, request_id, DONE, ("deleted successfully",))
        assert [op.name for op in app.console.operations(user_id="u-1001")] == ["release_licenses", "delete"]
        assert "request.interrupted" not in app.audit_events(request_id)


def _lock(path, seconds: float) -> threading.Timer:
    """Another process holds SQLite's write lock for `seconds` (a backup, a migration, an admin's sqlite3)."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    timer = threading.Timer(seconds, lambda: (other.execute("COMMIT"), other.close()))
    timer.start()
    return timer


class PostgresOutage:
    """The app's PostgreSQL database refusing every connection (as in a failover or a restart), for real:
    new connections are refused and the open ones are closed by the server."""

    def __init__(self, url: str) -> None:
        self._name = url.rsplit("/", 1)[1]
        self._admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    def begin(self) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self._name}" ALLOW_CONNECTIONS false'))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                               {"name": self._name})

    def end(self) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{self._name}" ALLOW_CONNECTIONS true'))

    def close(self) -> None:
        self.end()
        self._admin.dispose()


@pytest.fixture
def on_postgres(postgres_url, slack, clock, tmp_path) -> Iterator[tuple[App, PostgresOutage]]:
    """The app on the local console and an emptied PostgreSQL database, with a switch to take it away."""
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    outage = PostgresOutage(postgres_url)
    try:
        with serve_local(slack, clock, tmp_path, database_url=postgres_url, offboard_audit_key=AUDIT_KEY) as app:
            yield app, outage
    finally:
        outage.close()


@pytest.mark.postgres
def test_postgres_gone_mid_run_is_resumed_without_repeating_the_step(on_postgres):
    app, outage = on_postgres
    request_id = _ask(app)
    app.faults.after("release_licenses", outage.begin)  # the change landed; its journal entry cannot be written
    app.press("bob", "Approve")
    told = app.dm_texts("alice")[-1]
    assert f"Your request {request_id} was interrupted: my database stopped answering" in told
    assert "will not be repeated" in told and f"/offboard status {request_id}" in told

    outage.end()
    assert app.container.store.get(request_id).state is RequestState.EXECUTING
    app.clock.advance(timedelta(seconds=61))  # the run's lease lapses; any replica's sweeper takes it up
    assert app.container.sweeper.sweep().started == [request_id]
    app.settle()
    _check_ended(app, request_id, DONE, ("deleted successfully",))
    assert [op.name for op in app.console.operations(user_id="u-1001")] == ["release_licenses", "delete"]


@pytest.mark.postgres
def test_postgres_gone_at_a_click_changes_nothing_and_says_so(on_postgres):
    app, outage = on_postgres
    request_id = _ask(app)
    outage.begin()
    try:
        app.press("bob", "Approve")
        told = app.last_ephemeral("bob")
        assert "My database is not answering, so I did not take this: nothing was done" in told
        assert "Try again in a minute" in told
    finally:
        outage.end()
    assert app.container.store.get(request_id).state is RequestState.AWAITING_APPROVAL
    assert app.console.operations(user_id="u-1001") == []
    app.press("bob", "Approve")  # the same click, once the database is back
    _check_ended(app, request_id, DONE, ("deleted successfully",))


@pytest.mark.postgres
def test_postgres_gone_at_a_command_changes_nothing_and_says_so(on_postgres):
    app, outage = on_postgres
    looked_up = []
    app.faults.before("find_user", lambda: looked_up.append("jdoe"))
    outage.begin()
    try:
        app.command("alice", "delete jdoe")
        assert "My database is not answering, so I did not take this" in app.last_ephemeral("alice")
    finally:
        outage.end()
    # Not known to be new (the shared replay record did not answer), so not taken at all: it could be a
    # replay of a request another replica took.
    assert looked_up == []
    assert app.container.store.list(limit=5) == []


@pytest.mark.postgres
def test_postgres_gone_while_a_form_is_open_keeps_the_form_and_says_so(on_postgres):
    app, outage = on_postgres
    request_id = _ask(app)
    app.press("bob", "Reject")  # opens the form for the reason
    app.command("alice", "")  # opens the /offboard form
    dms = len(app.dm_texts("alice"))
    outage.begin()
    try:
        picked = app.workspace.suggest("U0ALICE", "offboard_pick_users", "doe")
        assert picked.json == {"options": []}  # a keystroke: no options, and no message per keystroke
        app.press("bob", "Reject", reason="still needed")
        modal = app.slack.views(user_id="U0BOB")[-1]
        assert modal.callback_id == "offboard_reject_reason"  # still open, with what was typed
        assert "My database is not answering" in str(modal.errors)
    finally:
        outage.end()
    app.settle()
    assert len(app.dm_texts("alice")) == dms
    assert app.container.store.get(request_id).state is RequestState.AWAITING_APPROVAL
    app.press("bob", "Reject", reason="still needed")
    assert app.container.store.get(request_id).state is RequestState.REJECTED


@pytest.mark.postgres
def test_postgres_gone_just_as_the_request_finished_still_reports_it(on_postgres):
    app, outage = on_postgres
    request_id = _ask(app)
    gone = []

    def when_shown_done(event: SlackEvent) -> None:  # the database goes as the request's message shows Done
        if (event.kind is EventKind.MESSAGE_UPDATED and event.channel_id == "C0APPROVALS" and "Done" in event.text
                and not gone):
            gone.append(event)
            outage.begin()

    stop_watching = app.slack.subscribe(when_shown_done)
    try:
        app.press("bob", "Approve")
    finally:
        stop_watching()
        outage.end()
    assert gone
    assert app.container.store.get(request_id).state is DONE
    assert "deleted successfully" in _results(app)
    told = app.dm_texts("alice")
    assert f"Your request {request_id} finished: 1/1 deleted successfully." in told[-1]
    assert not any("interrupted" in text for text in told)
