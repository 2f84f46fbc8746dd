"""Guarded updates: one writer wins, users are held by one open request, migrations match the models."""

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.console.demo_data import DEMO_USERS
from bot.domain.lifecycle import Action, RequestState
from bot.domain.plan import build_plan
from bot.domain.records import AuditEntry
from bot.ports import NewRequest, TargetsBusy
from bot.simulators.simultaneous import run_together
from storage import audit
from storage.request_store import RequestStore
from tests.moves import transition

USERS = {user.username: user for user in DEMO_USERS}
S = RequestState


def _entry(event="test"):
    return AuditEntry(actor="U0TEST", event=event)


def _new(store, clock, request_id, *usernames, approvals=1):
    plans = tuple(build_plan(Action.DELETE, USERS[name]) for name in usernames)
    return store.create(NewRequest(id=request_id, action=Action.DELETE, requester_id="U0ALICE",
                                   requester_email="alice@example.com", reason="left",
                                   approvals_required=approvals, expires_at=clock.now() + timedelta(hours=24),
                                   origin_channel="C0GENERAL", plans=plans), now=clock.now(), entry=_entry())


def _awaiting(store, clock, request_id, *usernames):
    _new(store, clock, request_id, *usernames)
    return transition(store, request_id, to=S.AWAITING_APPROVAL, allowed_from=[S.DRAFT], now=clock.now(),
                            entry=_entry())


@pytest.fixture
def store(any_engine):
    return RequestStore(any_engine)


def test_create_and_load_round_trip(store, clock):
    created = _new(store, clock, "OB-AAAAAAA1", "jdoe", "msmith")
    loaded = store.get("OB-AAAAAAA1")
    assert loaded == created
    assert loaded.state is S.DRAFT
    assert [t.plan.username for t in loaded.targets] == ["jdoe", "msmith"]
    assert loaded.expires_at == clock.now() + timedelta(hours=24)


def test_transition_is_guarded(store, clock):
    _new(store, clock, "OB-AAAAAAA2", "jdoe")
    moved = transition(store, "OB-AAAAAAA2", to=S.AWAITING_APPROVAL, allowed_from=[S.DRAFT], now=clock.now(),
                             entry=_entry())
    assert moved.state is S.AWAITING_APPROVAL and moved.version == 2
    assert transition(store, "OB-AAAAAAA2", to=S.AWAITING_APPROVAL, allowed_from=[S.DRAFT], now=clock.now(),
                            entry=_entry()) is None
    assert store.get("OB-AAAAAAA2").version == 2


def test_open_request_holds_its_users(store, clock):
    _new(store, clock, "OB-AAAAAAA3", "jdoe")
    _new(store, clock, "OB-AAAAAAA4", "jdoe", "msmith")
    transition(store, "OB-AAAAAAA3", to=S.AWAITING_APPROVAL, allowed_from=[S.DRAFT], now=clock.now(),
                     entry=_entry())
    with pytest.raises(TargetsBusy) as busy:
        transition(store, "OB-AAAAAAA4", to=S.AWAITING_APPROVAL, allowed_from=[S.DRAFT], now=clock.now(),
                         entry=_entry())
    assert busy.value.holders == {USERS["jdoe"].id: "OB-AAAAAAA3"}
    assert store.get("OB-AAAAAAA4").state is S.DRAFT  # the failed move changed nothing
    transition(store, "OB-AAAAAAA3", to=S.CANCELLED, allowed_from=[S.AWAITING_APPROVAL], now=clock.now(),
                     entry=_entry())
    assert store.holders([USERS["jdoe"].id]) == {}
    assert transition(store, "OB-AAAAAAA4", to=S.AWAITING_APPROVAL, allowed_from=[S.DRAFT], now=clock.now(),
                            entry=_entry()) is not None


def test_racing_writers_exactly_one_wins(store, clock):
    for round_number in range(10):
        request_id = f"OB-RACE{round_number:04d}"
        _awaiting(store, clock, request_id, "jdoe")
        outcomes = run_together(*(
            lambda to=to, request_id=request_id: transition(store,
                request_id, to=to, allowed_from=[S.AWAITING_APPROVAL], now=clock.now(),
                entry=_entry(f"to.{to.value}"))
            for to in (S.REJECTED, S.CANCELLED, S.EXPIRED)))
        winners = [outcome for outcome in outcomes if outcome is not None]
        assert len(winners) == 1
        assert store.get(request_id).state is winners[0].state
        assert store.holders([USERS["jdoe"].id]) == {}
    assert audit.verify(store.engine).ok


def approve_together(store, clock, request_id: str) -> list[bool]:
    """bob and dana approve a fresh one-approval request at the same instant; whether each made it approved."""
    _awaiting(store, clock, request_id, "jdoe")
    results = run_together(*(
        lambda who=who: store.record_approval(
            request_id, approver_id=f"U0{who.upper()}", approver_email=f"{who}@example.com", now=clock.now(),
            entry=_entry(), approved_entry=_entry("approved"))
        for who in ("bob", "dana")))
    return sorted(result.became_approved for result in results)


def test_two_approvers_at_once_approve_once(store, clock):
    for round_number in range(10):
        request_id = f"OB-APPR{round_number:04d}"
        assert approve_together(store, clock, request_id) == [False, True]
        final = store.get(request_id)
        assert final.state is S.APPROVED
        assert len(final.approvals) == 1
        transition(store, request_id, to=S.CANCELLED, allowed_from=[S.APPROVED], now=clock.now(), entry=_entry())
    assert audit.verify(store.engine).ok


def test_same_approver_counts_once_and_expired_requests_take_no_approval(store, clock):
    _new(store, clock, "OB-AAAAAAA5", "jdoe", approvals=2)
    transition(store, "OB-AAAAAAA5", to=S.AWAITING_APPROVAL, allowed_from=[S.DRAFT], now=clock.now(),
                     entry=_entry())
    kwargs = dict(approver_id="U0BOB", approver_email="bob@example.com", entry=_entry(), approved_entry=_entry())
    assert store.record_approval("OB-AAAAAAA5", now=clock.now(), **kwargs).recorded
    second = store.record_approval("OB-AAAAAAA5", now=clock.now(), **{**kwargs, "approver_id": "U0BOB2"})
    assert not second.recorded and len(second.request.approvals) == 1
    late = store.record_approval("OB-AAAAAAA5", now=clock.now() + timedelta(hours=25),
                                 **{**kwargs, "approver_email": "dana@example.com"})
    assert not late.recorded
    assert store.get("OB-AAAAAAA5").state is S.AWAITING_APPROVAL


def test_approvals_count_once_per_person_whatever_blanks_or_capitals(store, clock):
    """An approval stored before addresses were normalised (" Bob@Example.com ") and one from a second account of
    bob's are one person: the result says one approval is still missing, and the request is not approved."""
    _new(store, clock, "OB-AAAAAAA6", "jdoe", approvals=2)
    transition(store, "OB-AAAAAAA6", to=S.AWAITING_APPROVAL, allowed_from=[S.DRAFT], now=clock.now(),
               entry=_entry())
    admins = ["bob@example.com", "dana@example.com"]
    kwargs = dict(now=clock.now(), entry=_entry(), approved_entry=_entry(), counted=admins)
    first = store.record_approval("OB-AAAAAAA6", approver_id="U0BOB", approver_email=" Bob@Example.com ", **kwargs)
    second = store.record_approval("OB-AAAAAAA6", approver_id="U0BOB2", approver_email="bob@example.com", **kwargs)
    assert (first.missing, second.missing) == (1, 1) and not second.became_approved
    assert second.request.approvals_missing == 1
    third = store.record_approval("OB-AAAAAAA6", approver_id="U0DANA", approver_email="dana@example.com", **kwargs)
    assert third.became_approved and third.missing == 0


def test_migrations_describe_exactly_the_models(any_engine):
    with any_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_approve_racing_reject_and_cancel_one_decision(store, clock):
    for round_number in range(10):
        request_id = f"OB-MIXD{round_number:04d}"
        _awaiting(store, clock, request_id, "jdoe")
        approval, rejection, cancellation = run_together(
            lambda request_id=request_id: store.record_approval(
                request_id, approver_id="U0BOB", approver_email="bob@example.com", now=clock.now(), entry=_entry(),
                approved_entry=_entry("approved")),
            lambda request_id=request_id: transition(store,
                request_id, to=S.REJECTED, allowed_from=[S.AWAITING_APPROVAL], now=clock.now(), entry=_entry()),
            lambda request_id=request_id: transition(store,
                request_id, to=S.CANCELLED, allowed_from=[S.AWAITING_APPROVAL], now=clock.now(), entry=_entry()),
        )
        decided = [approval.became_approved, rejection is not None, cancellation is not None]
        assert sum(decided) == 1
        final = store.get(request_id)
        assert final.state is [S.APPROVED, S.REJECTED, S.CANCELLED][decided.index(True)]
        assert len(final.approvals) == (1 if approval.recorded else 0)
        if final.state is S.APPROVED:
            transition(store, request_id, to=S.CANCELLED, allowed_from=[S.APPROVED], now=clock.now(),
                             entry=_entry())
    assert audit.verify(store.engine).ok


def test_overlapping_requests_sent_at_once_never_deadlock(store, clock):
    names = [user.username for user in DEMO_USERS[:8]]
    for round_number in range(5):
        forward, backward = f"OB-FWD{round_number:05d}", f"OB-BWD{round_number:05d}"
        _new(store, clock, forward, *names)
        _new(store, clock, backward, *reversed(names))

        def send(request_id):
            try:
                return transition(store, request_id, to=S.AWAITING_APPROVAL, allowed_from=[S.DRAFT],
                                        now=clock.now(), entry=_entry())
            except TargetsBusy:
                return "busy"

        outcomes = run_together(lambda f=forward: send(f), lambda b=backward: send(b))
        assert sorted(outcome == "busy" for outcome in outcomes) == [False, True]
        winner = forward if outcomes[0] != "busy" else backward
        transition(store, winner, to=S.CANCELLED, allowed_from=[S.AWAITING_APPROVAL], now=clock.now(),
                         entry=_entry())


def test_an_approval_from_someone_no_longer_an_admin_does_not_count(store, clock):
    _new(store, clock, "OB-AAAAAAA9", "jdoe", approvals=2)
    transition(store, "OB-AAAAAAA9", to=S.AWAITING_APPROVAL, allowed_from=[S.DRAFT], now=clock.now(),
                     entry=_entry())
    admins = ["dana@example.com", "carol@example.com"]  # bob was removed from the policy after approving
    first = store.record_approval("OB-AAAAAAA9", approver_id="U0BOB", approver_email="bob@example.com",
                                  now=clock.now(), entry=_entry(), approved_entry=_entry(), counted=admins)
    second = store.record_approval("OB-AAAAAAA9", approver_id="U0DANA", approver_email="dana@example.com",
                                   now=clock.now(), entry=_entry(), approved_entry=_entry(), counted=admins)
    assert first.recorded and second.recorded and not second.became_approved
    third = store.record_approval("OB-AAAAAAA9", approver_id="U0CAROL", approver_email="carol@example.com",
                                  now=clock.now(), entry=_entry(), approved_entry=_entry(), counted=admins)
    assert third.became_approved


def test_the_tally_counts_users_by_outcome_and_steps_load_with_their_own_user(store, clock):
    from bot.domain.notes import Note, Why
    from bot.domain.plan import StepKind
    from bot.domain.records import StepStatus, TargetOutcome

    created = _new(store, clock, "OB-AAAAAAT1", "jdoe", "msmith", "pnguyen")
    first, _pending, third = created.targets
    for target in (first, third):
        store.start_step(target.id, StepKind.RELEASE_LICENSES, now=clock.now(), entry=_entry())
    store.finish_step(third.id, StepKind.RELEASE_LICENSES, status=StepStatus.DONE, note=None, now=clock.now(),
                      entry=_entry())
    store.finish_target(first.id, outcome=TargetOutcome.FAILED, note=Note(Why.NO_CHANGE), now=clock.now(),
                        entry=_entry())
    store.finish_target(third.id, outcome=TargetOutcome.DONE, note=Note(Why.COMPLETED), now=clock.now(),
                        entry=_entry())

    tally = store.tally(created.id)
    assert tally.version == created.version
    assert tally.counts == {TargetOutcome.PENDING: 1, TargetOutcome.DONE: 1, TargetOutcome.FAILED: 1,
                            TargetOutcome.ABORTED: 0}
    assert store.tally("OB-NOTTHERE") is None
    loaded = store.get(created.id)
    assert [[(s.kind, s.status) for s in target.steps] for target in loaded.targets] == [
        [(StepKind.RELEASE_LICENSES, StepStatus.STARTED)], [], [(StepKind.RELEASE_LICENSES, StepStatus.DONE)]]
