"""Asking: who may ask, which users a request may name (and which it leaves out), a user held by one open request
at a time, the cap on users, and the approvers' full window from when a request was sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.domain.commands import Command, UserRef, Verb
from bot.domain.directory import UsernameProblem, UserStatus
from bot.domain.events import Confirmed, Expired, Finished, SentForApproval
from bot.domain.lifecycle import RequestState
from bot.domain.problems import Problem, ProblemKind
from bot.errors import Refusal
from bot.slack import blocks
from bot.slack.messages.refusals import refusal_text
from storage.db import session
from storage.models import AuditRow
from tests.service.conftest import ticked
from tests.service.helpers import JDOE, actor_of, add_outsiders, all_at_once, nothing_changed, ops, text_of

S = RequestState
K = ProblemKind


def _problems(refusal: Refusal) -> list[list[Problem]]:
    return [[Problem.from_dict(problem) for problem in user] for user in refusal.facts["problems"]]


def _prepare(desk, who: str, verb: str, *users: str, **options):
    command = Command(verb=Verb(verb), targets=tuple(UserRef(text=user) for user in users), **options)
    return desk.service.intake.prepare(actor=actor_of(desk, who), command=command, origin_channel="C0GENERAL")


REFUSED = [
    ("carol", ("delete", "jdoe"), "not_admin", None, "Only account admins"),
    ("U0STRANGER", ("delete", "jdoe"), "other_workspace", None, "own workspace"),
    ("U0NOMAIL", ("delete", "jdoe"), "no_verified_email", None, "no verified email"),
    ("alice", ("delete", "nobody"), "blocked", [[Problem(K.NOT_FOUND, "nobody", console="local")]],
     "`nobody`: no user with this username or email"),
    ("bob", ("delete", "alice"), "blocked", [[Problem(K.PROTECTED, "alice")]], "`alice` is protected"),
    ("bob", ("deactivate", "bob"), "blocked", [[Problem(K.YOURSELF, "bob")]], "`bob` is you"),
    ("alice", ("rename", "jdoe", "msmith"), "blocked", [[Problem(K.USERNAME_TAKEN, "msmith")]],
     "`msmith` is already in use"),
    ("alice", ("rename", "jdoe", "bad!name"), "blocked",
     [[Problem(K.BAD_USERNAME, "bad!name", rule=UsernameProblem.CHARACTERS)]], "cannot be used"),
    ("alice", ("rename", "lchen", "jdoe@example.com"), "blocked", [[Problem(K.USERNAME_TAKEN, "jdoe@example.com")]],
     "is already in use"),
    ("alice", ("deactivate", "tinactive"), "blocked", [[Problem(K.ALREADY_INACTIVE, "tinactive")]],
     "already deactivated"),
]


@pytest.mark.parametrize(("who", "asked", "code", "problems", "said"), REFUSED,
                         ids=[f"{who} {' '.join(asked)}" for who, asked, *_ in REFUSED])
def test_a_refused_request_changes_nothing(desk, who, asked, code, problems, said):
    add_outsiders(desk)
    verb, *named = asked
    users, new_username = (named[:1], named[1]) if verb == "rename" else (named, None)
    with pytest.raises(Refusal) as raised:
        _prepare(desk, who, verb, *users, new_username=new_username)
    assert raised.value.code == code
    if problems is not None:
        assert _problems(raised.value) == problems
    assert said in refusal_text(raised.value)
    assert desk.store.list() == []
    nothing_changed(desk)


def test_a_request_naming_more_users_than_the_cap_is_refused(desk):
    with pytest.raises(Refusal) as raised:
        _prepare(desk, "alice", "delete", *(f"user{number}" for number in range(501)))
    assert (raised.value.code, raised.value.facts) == ("too_many_users", {"named": 501, "limit": 500})
    assert "501 users; one request may name at most 500" in refusal_text(raised.value)
    assert desk.store.list(limit=5) == []
    nothing_changed(desk)


def test_a_mention_is_found_through_the_members_email(desk):
    command = Command(verb=Verb.DEACTIVATE, targets=(UserRef(text="<@U0JDOE|jdoe>", slack_user_id="U0JDOE"),))
    drafted = desk.service.intake.prepare(actor=desk.actor("alice"), command=command, origin_channel="C0GENERAL")
    assert [(target.plan.user_id, target.plan.username) for target in drafted.request.targets] == [(JDOE, "jdoe")]
    assert "`jdoe`" in text_of(blocks.preview(drafted.request))


def test_a_user_in_an_open_request_cannot_be_named_by_another(desk):
    first = desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    with pytest.raises(Refusal) as raised:
        desk.ask("dana", "deactivate", "jdoe")
    assert _problems(raised.value) == [[Problem(K.HELD, "jdoe", holder=first.id)]]
    assert f"already part of open request {first.id}" in refusal_text(raised.value)
    assert [request.id for request in desk.store.list()] == [first.id]
    desk.jobs.drain()
    nothing_changed(desk)


def test_of_two_drafts_for_one_user_only_the_first_sent_goes_out(desk):
    alices = desk.ask("alice", "delete", "jdoe")
    danas = desk.ask("dana", "delete", "jdoe")  # a draft holds nobody: both could be prepared
    desk.send("dana", danas)
    with pytest.raises(Refusal) as raised:
        desk.send("alice", alices)
    assert (raised.value.code, raised.value.facts["holders"]) == ("busy", [danas.id])
    assert "Another open request took these users" in refusal_text(raised.value)
    assert list(desk.notifier.messages) == [danas.id]  # one approval message
    assert desk.get(alices).state is S.DRAFT and desk.get(danas).state is S.AWAITING_APPROVAL


def test_two_drafts_for_one_user_sent_at_the_same_instant_one_goes_out(any_desk):
    desk = any_desk
    drafts = [desk.ask(who, "delete", "jdoe") for who in ("alice", "dana")]
    got = all_at_once(*(lambda who=who, draft=draft: desk.service.intake.submit(
        actor=desk.actor(who), request_id=draft.id, ticked=ticked(draft))
        for who, draft in zip(("alice", "dana"), drafts, strict=True)))
    sent = [result for result in got if isinstance(result, SentForApproval)]
    refused = [result for result in got if isinstance(result, Refusal)]
    assert len(sent) == 1 and len(refused) == 1, got
    winner = sent[0].request.id
    assert refused[0].code == "busy" and refused[0].facts["holders"] == [winner]
    assert list(desk.notifier.messages) == [winner]
    assert sorted(desk.get(draft).state for draft in drafts) == sorted([S.AWAITING_APPROVAL, S.DRAFT])


@pytest.mark.parametrize("listed", [True, False], ids=["after a list", "at once"])
def test_an_expired_request_stops_holding_its_user(desk, listed):
    first = desk.send("alice", desk.ask("alice", "delete", "jdoe"))
    desk.later(timedelta(hours=25))
    if listed:  # /offboard list expires what is overdue, as the sweeper would
        assert desk.service.queries.open_requests(actor=desk.actor("dana")) == []
    again = desk.ask("dana", "delete", "jdoe")
    assert again.id != first.id and again.state is S.DRAFT and again.approvals_required == 1
    assert "Request approval" in text_of(blocks.preview(again))
    assert desk.get(first).state is S.EXPIRED
    assert desk.notifier.messages[first.id].request.state is S.EXPIRED  # its message was redrawn
    assert [event.request.id for event in desk.notifier.of(Expired)] == [first.id]


def test_approvers_get_the_full_window_from_when_it_was_sent(desk):
    draft = desk.ask("alice", "delete", "jdoe")
    desk.later(timedelta(hours=23))
    desk.send("alice", draft)
    desk.later(timedelta(hours=23))  # 46 h after the draft, 23 h after it was sent
    desk.approve("bob", draft)
    desk.jobs.drain()
    assert desk.get(draft).state is S.DONE


def test_users_with_problems_are_left_out_of_a_request_for_several_and_shown_before_approval(desk):
    draft = desk.ask("alice", "delete", "alice@example.com", "nobody-here", "jdoe")
    assert [target.plan.username for target in draft.targets] == ["jdoe"]
    assert draft.left_out == ((Problem(K.PROTECTED, "alice"), Problem(K.YOURSELF, "alice")),
                              (Problem(K.NOT_FOUND, "nobody-here", console="local"),))
    preview = text_of(blocks.preview(draft))
    assert "Left out: 2 of the users named" in preview and "protected" in preview and "nobody-here" in preview
    desk.send("alice", draft)
    shown = desk.notifier.messages[draft.id].request  # the approvers see who was left out too
    assert shown.left_out == draft.left_out
    assert "Left out: 2 of the users named" in text_of(blocks.approval_message(shown))
    desk.approve("bob", draft)
    desk.jobs.drain()
    assert desk.get(draft).state is S.DONE
    assert ops(desk) == ["release_licenses", "delete"]


def test_reactivate_undoes_a_deactivation_on_the_requesters_word(desk):
    for verb, user in (("deactivate", "jdoe"), ("reactivate", "jdoe@example.com")):
        draft = desk.ask("bob", verb, user)
        assert draft.approvals_required == 0
        confirmed = desk.service.intake.submit(actor=desk.actor("bob"), request_id=draft.id, ticked=ticked(draft))
        assert isinstance(confirmed, Confirmed)
        desk.jobs.drain()
        assert desk.get(draft).state is S.DONE
    assert desk.console.inner.get_user(user_id=JDOE).status is UserStatus.ACTIVE
    assert ops(desk, JDOE) == ["set_status", "set_status"]
    assert desk.notifier.messages == {}  # nobody else was asked
    finished = desk.notifier.of(Finished)[-1].request
    assert "`jdoe`: reactivated successfully" in text_of(blocks.outcome_message(finished))


# -- the checklist the requester ticks before sending (issue 16, item 1) -----------------------------------------

def _audit_rows(desk) -> int:
    with session(desk.engine) as db:
        return len(db.exec(select(AuditRow)).all())


def test_a_draft_cannot_be_sent_until_every_box_is_ticked(desk):
    draft = desk.ask("alice", "delete", "msmith")  # the policy's box, and the Contact Center's manual step
    assert draft.checklist == ("The Offboarding Process has been completed",)
    assert draft.boxes == ("box-1", "attested")
    audited = _audit_rows(desk)
    for ticked_now in ([], ["box-1"], ["attested"], ["box-9", "attested"]):
        with pytest.raises(Refusal) as refused:
            desk.service.intake.submit(actor=desk.actor("alice"), request_id=draft.id, ticked=ticked_now)
        assert refused.value.code == "checklist_not_ticked"
        assert refused.value.facts["boxes"] == ([] if "box-1" in ticked_now else list(draft.checklist))
        assert bool(refused.value.facts["steps"]) is ("attested" not in ticked_now)
        unchanged = desk.get(draft)
        assert unchanged.state is S.DRAFT and unchanged.attested_by is None and unchanged.version == draft.version
    nothing_changed(desk)
    assert _audit_rows(desk) == audited  # a refusal to send changes nothing, so nothing is audited

    sent = desk.send("alice", draft, attested=True)
    assert sent.state is S.AWAITING_APPROVAL and sent.attested_by == "U0ALICE"


def test_a_request_without_boxes_records_no_confirmation(desk):
    draft = desk.ask("bob", "deactivate", "jdoe")  # the demo policy has no boxes for a deactivation
    assert draft.boxes == ()
    confirmed = desk.service.intake.submit(actor=desk.actor("bob"), request_id=draft.id, ticked=[]).request
    assert confirmed.attested_by is None and confirmed.checklist == ()
