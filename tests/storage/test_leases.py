"""Leases and due work in the database: what lets any number of replicas share one PostgreSQL.

The 200-round races run on PostgreSQL only (the distributed engine); the rest on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.directory import ConsoleUser
from bot.domain.lifecycle import Action, RequestState
from bot.domain.plan import build_plan
from bot.ports import NewRequest
from bot.simulators.simultaneous import run_together
from storage import audit
from storage.db import make_engine
from storage.request_store import RequestStore
from tests.conftest import _fresh_schema
from tests.moves import transition
from tests.storage.test_request_store import USERS, _awaiting, _entry, _new, approve_together

S = RequestState
ROUNDS = 200
LEASE = timedelta(seconds=30)


@pytest.fixture
def store(any_engine):
    return RequestStore(any_engine)


@pytest.fixture(scope="module")
def pg_engine(request):
    engine = make_engine(request.getfixturevalue("postgres_url"))
    _fresh_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_store(pg_engine):
    return RequestStore(pg_engine)


def _approved(store, clock, request_id, username="jdoe", *, run_at=None):
    if username in USERS:
        _new(store, clock, request_id, username)
    else:
        user = ConsoleUser(id=f"id-{username}", username=username, email=f"{username}@example.com")
        store.create(NewRequest(id=request_id, action=Action.DEACTIVATE, requester_id="U0ALICE",
                                requester_email="alice@example.com", reason="", approvals_required=0,
                                expires_at=clock.now() + timedelta(hours=24), origin_channel=None,
                                plans=(build_plan(Action.DEACTIVATE, user),)), now=clock.now(), entry=_entry())
    changes = {"run_at": run_at} if run_at else None
    return transition(store, request_id, to=S.APPROVED, allowed_from=[S.DRAFT], now=clock.now(), entry=_entry(),
                            changes=changes)


def _close(store, clock, request_id):
    transition(store, request_id, to=S.CANCELLED, allowed_from=[S.APPROVED, S.AWAITING_APPROVAL],
                     now=clock.now(), entry=_entry())


# -- leases, on both engines ----------------------------------------------------------------------------

def test_a_due_request_is_leased_once_and_taken_over_only_after_it_lapses(store, clock):
    _approved(store, clock, "OB-LEASE001")
    now = clock.now()
    first = store.claim_due(owner="a", now=now, until=now + LEASE, limit=10)
    assert list(first) == ["OB-LEASE001"] and first["OB-LEASE001"].startswith("a/")
    assert store.claim_due(owner="b", now=now, until=now + LEASE, limit=10) == {}
    assert store.renew_lease("OB-LEASE001", token=first["OB-LEASE001"], until=now + 2 * LEASE)
    assert not store.renew_lease("OB-LEASE001", token="b/forged", until=now + 2 * LEASE)
    later = now + 2 * LEASE + timedelta(seconds=1)  # "a" died and stopped renewing
    second = store.claim_due(owner="b", now=later, until=later + LEASE, limit=10)
    assert list(second) == ["OB-LEASE001"]
    assert not store.renew_lease("OB-LEASE001", token=first["OB-LEASE001"], until=later + LEASE)  # "a" stops
    store.release_lease("OB-LEASE001", token=second["OB-LEASE001"])
    assert store.get("OB-LEASE001").lease_owner is None


def test_a_claim_made_twice_by_one_process_has_only_one_runner(store, clock):
    _approved(store, clock, "OB-TWICE001")
    now = clock.now()
    queued = store.claim_due(owner="me", now=now, until=now + LEASE, limit=1)["OB-TWICE001"]
    later = now + LEASE + timedelta(seconds=1)  # the job sat in the queue past its lease; a new sweep claims
    again = store.claim_due(owner="me", now=later, until=later + LEASE, limit=1)["OB-TWICE001"]
    assert queued != again
    assert not store.renew_lease("OB-TWICE001", token=queued, until=later + LEASE)  # the stale job will not run
    assert store.renew_lease("OB-TWICE001", token=again, until=later + LEASE)


def test_only_due_requests_are_claimed(store, clock):
    now = clock.now()
    _approved(store, clock, "OB-LATER001", "jdoe", run_at=now + timedelta(hours=2))
    _awaiting(store, clock, "OB-WAIT0001", "msmith")
    assert store.claim_due(owner="a", now=now, until=now + LEASE, limit=10) == {}
    soon = now + timedelta(hours=2)
    assert list(store.claim_due(owner="a", now=soon, until=soon + LEASE, limit=10)) == ["OB-LATER001"]


def test_expiries_and_reminders_are_found_and_each_reminder_is_claimed_once(store, clock):
    now = clock.now()
    _new(store, clock, "OB-REMIND01", "jdoe")
    transition(store, "OB-REMIND01", to=S.AWAITING_APPROVAL, allowed_from=[S.DRAFT], now=now, entry=_entry(),
                     changes={"remind_at": now + timedelta(hours=4)})
    every = timedelta(hours=4)
    assert store.claim_reminders(now=now, every=every) == []
    due = now + timedelta(hours=4)
    first, second = run_together(lambda: store.claim_reminders(now=due, every=every),
                                 lambda: store.claim_reminders(now=due, every=every))
    assert sorted([first, second]) == [[], ["OB-REMIND01"]]
    assert store.get("OB-REMIND01").remind_at == due + every
    assert store.due_for_expiry(now=now + timedelta(hours=23)) == []
    assert store.due_for_expiry(now=now + timedelta(hours=24)) == ["OB-REMIND01"]


# -- 200 rounds of races on PostgreSQL ------------------------------------------------------------------

@pytest.mark.postgres
def test_two_approvers_racing_200_rounds(pg_store, clock):
    store = pg_store
    for round_number in range(ROUNDS):
        request_id = f"OB-TWOA{round_number:04d}"
        assert approve_together(store, clock, request_id) == [False, True], round_number
        assert len(store.get(request_id).approvals) == 1
        _close(store, clock, request_id)
    assert audit.verify(store.engine).ok


@pytest.mark.postgres
def test_approve_racing_expiry_200_rounds(pg_store, clock):
    store = pg_store
    for round_number in range(ROUNDS):
        request_id = f"OB-EXPR{round_number:04d}"
        _awaiting(store, clock, request_id, "jdoe")
        deadline = store.get(request_id).expires_at
        approval, expiry = run_together(
            lambda request_id=request_id, deadline=deadline: store.record_approval(  # clicked just before it
                request_id, approver_id="U0BOB", approver_email="bob@example.com",
                now=deadline - timedelta(milliseconds=1), entry=_entry(), approved_entry=_entry("approved")),
            lambda request_id=request_id, deadline=deadline: transition(store,   # a sweeper just after it
                request_id, to=S.EXPIRED, allowed_from=[S.AWAITING_APPROVAL], now=deadline, entry=_entry()))
        assert [approval.became_approved, expiry is not None].count(True) == 1, round_number
        final = store.get(request_id)
        assert final.state is (S.APPROVED if approval.became_approved else S.EXPIRED)
        if final.state is S.APPROVED:
            _close(store, clock, request_id)
    assert audit.verify(store.engine).ok


@pytest.mark.postgres
def test_approve_racing_cancel_200_rounds(pg_store, clock):
    store = pg_store
    for round_number in range(ROUNDS):
        request_id = f"OB-CANC{round_number:04d}"
        _awaiting(store, clock, request_id, "jdoe")
        approval, cancellation = run_together(
            lambda request_id=request_id: store.record_approval(
                request_id, approver_id="U0BOB", approver_email="bob@example.com", now=clock.now(),
                entry=_entry(), approved_entry=_entry("approved")),
            lambda request_id=request_id: transition(store,
                request_id, to=S.CANCELLED, allowed_from=[S.AWAITING_APPROVAL], now=clock.now(), entry=_entry()))
        assert [approval.became_approved, cancellation is not None].count(True) == 1, round_number
        if store.get(request_id).state is S.APPROVED:
            _close(store, clock, request_id)
    assert audit.verify(store.engine).ok


@pytest.mark.postgres
def test_three_sweepers_claim_every_due_request_exactly_once(pg_store, clock):
    store = pg_store
    ids = [f"OB-SWEP{number:04d}" for number in range(60)]
    for number, request_id in enumerate(ids):
        _approved(store, clock, request_id, username=f"user{number}")
    now = clock.now()

    def sweeper(owner: str) -> list[str]:
        taken = []
        while batch := store.claim_due(owner=owner, now=now, until=now + LEASE, limit=7):
            taken += list(batch)
        return taken

    claims = run_together(*(lambda owner=owner: sweeper(owner) for owner in ("r1", "r2", "r3")))
    everything = [request_id for claim in claims for request_id in claim]
    assert sorted(everything) == sorted(ids)  # each once: none twice, none left behind
    assert all(claims), "every sweeper should get a share"
