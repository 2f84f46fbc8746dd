"""Several `offboard-bot serve` processes on one PostgreSQL: migrations at once, every due request run
exactly once (counted at the console), and a replica killed with SIGKILL mid-run taken over without a
console operation repeated or lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot.console.eightbyeight.client import EightByEightClient
from bot.console.eightbyeight.console import EightByEightConsole
from bot.console.local import LocalConsole
from bot.domain.directory import ConsoleUser
from bot.domain.lifecycle import Action, RequestState
from bot.domain.plan import build_plan
from bot.domain.records import AuditEntry
from bot.ports import NewRequest
from bot.settings import DEMO_POLICY
from bot.simulators.eightbyeight.fake import FakeEightByEight
from bot.simulators.eightbyeight.users import make_user
from bot.simulators.slack.demo import populate
from bot.simulators.slack.fake import FakeSlack
from storage import audit
from storage.db import make_engine
from storage.request_store import RequestStore
from tests.moves import transition
from tests.processes import free_port, wait_for

pytestmark = pytest.mark.postgres
SECRET = "replica-test-signing-secret-5e0a"


@pytest.fixture
def empty_database(postgres_url):
    """The session's PostgreSQL database with no schema at all: the replicas migrate it themselves."""
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return postgres_url


class Replica:
    """One `offboard-bot serve` process."""

    def __init__(self, tmp_path: Path, name: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.log_path = tmp_path / f"{name}.log"
        self.url = f"http://127.0.0.1:{self.port}"
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OFFBOARD_HOST": "127.0.0.1",
                "OFFBOARD_PORT": str(self.port), "OFFBOARD_LOG_LEVEL": "INFO", **env}
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=full,
                                        stdout=self.log_path.open("w"), stderr=subprocess.STDOUT)

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)




def _env(slack: FakeSlack, database_url: str, **extra: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": database_url, "OFFBOARD_POLICY": str(DEMO_POLICY), "OFFBOARD_SWEEP_SECONDS": "0.2",
            "OFFBOARD_CONSOLE": "local", **extra}


def _approved(store: RequestStore, request_id: str, action: Action, plans) -> None:
    now = datetime.now(UTC)
    store.create(NewRequest(id=request_id, action=action, requester_id="U0ALICE", requester_email="alice@example.com",
                            reason="replica test", approvals_required=0, expires_at=now + timedelta(hours=1),
                            origin_channel=None, plans=tuple(plans)),
                 now=now, entry=AuditEntry(actor="U0ALICE", event="request.drafted", request_id=request_id))
    transition(store, request_id, to=RequestState.APPROVED, allowed_from=[RequestState.DRAFT], now=now,
                     entry=AuditEntry(actor="U0ALICE", event="request.confirmed", request_id=request_id))


def _all_finished(store: RequestStore, ids: list[str]) -> bool:
    return all(store.get(request_id).state in (RequestState.DONE, RequestState.FAILED) for request_id in ids)


def test_three_replicas_run_every_due_request_exactly_once(tmp_path, empty_database):
    console = LocalConsole(tmp_path / "console.db")
    console.seed_if_empty()
    users = [ConsoleUser(id=f"u-bulk{number:02}", username=f"bulk{number:02}", email=f"bulk{number:02}@example.com")
             for number in range(45)]
    for user in users:
        console.add_user(user)
    with FakeSlack(team_id="T0DEMO", bot_token="xoxb-replica-test-1") as slack, ExitStack() as stack:
        populate(slack)  # alice asked: each replica checks she is still an admin before running
        env = _env(slack, empty_database, OFFBOARD_LOCAL_CONSOLE=str(tmp_path / "console.db"),
                   OFFBOARD_LEASE_SECONDS="5")
        replicas = [Replica(tmp_path, f"replica{number}", env) for number in range(3)]  # all migrate at once
        for replica in replicas:
            stack.callback(replica.stop)
        wait_for(lambda: all(replica.healthy() for replica in replicas), 60, "three healthy replicas")

        engine = make_engine(empty_database)
        stack.callback(engine.dispose)
        store = RequestStore(engine)
        ids = []
        for number, user in enumerate(users):
            ids.append(f"OB-REPL{number:04d}")
            _approved(store, ids[-1], Action.DEACTIVATE, [build_plan(Action.DEACTIVATE, user)])
        wait_for(lambda: _all_finished(store, ids), 90, "every request finished")

        assert {store.get(request_id).state for request_id in ids} == {RequestState.DONE}
        operations = Counter(op.user_id for op in console.operations())
        assert all(operations[user.id] == 1 for user in users), operations  # none twice, none lost
        assert audit.verify(engine).ok
        working = [replica for replica in replicas if "sweep: " in replica.log() and "started ['OB-" in replica.log()]
        assert len(working) >= 2, "the work should be shared between replicas"
        for replica in replicas:
            assert "Traceback" not in replica.log(), replica.log()


def test_a_replica_killed_mid_run_is_taken_over_without_repeating_anything(tmp_path, empty_database):
    with FakeEightByEight(operation_delay=0.4) as fake, FakeSlack(
            team_id="T0DEMO", bot_token="xoxb-replica-test-2") as slack, ExitStack() as stack:
        populate(slack)
        for number in range(4):
            fake.add_user(make_user(f"leaver{number}", f"leaver{number}@example.com", licenses=["X Series X2"],
                                    extensions=[{"extensionNumber": f"30{number}", "extensionType": "UC",
                                                 "phoneNumbers": [f"+1415555030{number}"]}]))
        env = _env(slack, empty_database, OFFBOARD_CONSOLE="8x8", EIGHTBYEIGHT_BASE_URL=fake.base_url,
                   EIGHTBYEIGHT_API_KEY=fake.api_key, OFFBOARD_LEASE_SECONDS="6")
        first = Replica(tmp_path, "doomed", env)
        stack.callback(first.stop)
        wait_for(first.healthy, 60, "the first replica")

        reader = EightByEightConsole(EightByEightClient(fake.base_url, fake.api_key))
        plans = [build_plan(Action.DELETE, reader.find_user(reference=f"leaver{number}")) for number in range(4)]
        engine = make_engine(empty_database)
        stack.callback(engine.dispose)
        store = RequestStore(engine)
        _approved(store, "OB-KILLED01", Action.DELETE, plans)

        wait_for(lambda: len(fake.applied) >= 3, 60, "the run under way")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
        done_before = len(fake.applied)
        assert store.get("OB-KILLED01").state is RequestState.EXECUTING, first.log()[-3000:]

        second = Replica(tmp_path, "successor", env)
        stack.callback(second.stop)
        wait_for(lambda: _all_finished(store, ["OB-KILLED01"]), 90, "the successor finishing the run")

        request = store.get("OB-KILLED01")
        assert request.state is RequestState.DONE, [t.note for t in request.targets]
        ids = [plan.user_id for plan in plans]
        logs = f"doomed:\n{first.log()[-4000:]}\nsuccessor:\n{second.log()[-4000:]}"
        assert Counter(fake.applied) == Counter([("UPDATE", i) for i in ids] + [("DELETE", i) for i in ids]), logs
        # Changes the console took (a 429 is refused unprocessed: the test's own reads share the key's window).
        sent = Counter((r.method, r.path.rsplit("/", 1)[-1]) for r in fake.requests
                       if r.method in ("PUT", "DELETE") and r.status != 429)
        assert all(sent[("PUT", i)] == 1 and sent[("DELETE", i)] == 1 for i in ids), (sent, logs)  # none twice
        assert done_before < len(fake.applied)  # the successor really had work left
        assert "taken over" in second.log() or "started ['OB-KILLED01']" in second.log()
        assert audit.verify(engine).ok
