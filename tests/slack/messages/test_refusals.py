"""Why something was not done, in words: every refusal code, every problem of what was typed, every problem of a
named user. The sentences are the ones the service, the parser and the gate said before they spoke in codes."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.commands import Verb
from bot.domain.directory import UsernameProblem
from bot.domain.lifecycle import RequestState
from bot.domain.problems import Problem, ProblemKind
from bot.domain.records import AlreadyDecided
from bot.domain.schedule import GRACE_FIELD, RETAIN_FIELD, check_run_at, check_stages, parse_period, resolve_when
from bot.errors import BadCommand, NotFound, Refusal
from bot.slack.messages import refusals
from bot.slack.messages.refusals import (
    STORAGE_DOWN,
    USAGE,
    USERNAME_RULES,
    bad_command_text,
    problem_text,
    refusal_text,
    user_problems_line,
)
from bot.slack.values import RequestRef
from handlers.functions import step_inputs
from handlers.parsing import command_from_form, parse_command
from tests.slack.builders import NOW, REQUEST_ID, request

ROOT = Path(__file__).resolve().parents[3]
WHEN = ("Write `YYYY-MM-DD HH:MM` in your Slack time zone (add `UTC` or an offset such as `+02:00` to mean "
        "another; ISO 8601 such as `2026-12-04T18:20:17Z` works too), a day and a time such as `friday 17:00` or "
        "`tomorrow 09:00`, or a delay such as `in 2h` or `+3d`.")
DELETE_USAGE = ("Usage: `/offboard delete <user> [<user> ...] [--reason TEXT] [--at WHEN] [--grace 7d] "
                "[--retain 30d]`")
DEACTIVATE_USAGE = "Usage: `/offboard deactivate <user> [<user> ...] [--reason TEXT] [--at WHEN]`"
RENAME_USAGE = "Usage: `/offboard rename <user> <new-username> [--reason TEXT] [--at WHEN]`"


def _said(refusal: Refusal) -> str:
    return refusal_text(refusal)


# -- the refusals of the gate and the service ---------------------------------------------------------------

REFUSALS = {
    "other_workspace": (Refusal("other_workspace"),
                        "This bot only takes requests from members of its own workspace."),
    "unknown_member": (Refusal("unknown_member", request_id=REQUEST_ID),
                       "I could not identify you as an active member of this workspace."),
    "external_member": (Refusal("external_member"), "Members of other organisations cannot offboard users here."),
    "guest": (Refusal("guest", request_id=REQUEST_ID),
              "Guests of this workspace cannot offboard users or decide on requests."),
    "no_verified_email": (Refusal("no_verified_email"),
                          "Your Slack account has no verified email, so I cannot check your admin role."),
    "not_admin": (Refusal("not_admin"), "Only account admins (primary or secondary) can offboard users or decide "
                                        "on requests. Ask one of them."),
    "too_many_users": (Refusal("too_many_users", named=501, limit=500),
                       "That names 501 users; one request may name at most 500. Split the list into several "
                       "requests."),
    "blocked": (Refusal("blocked", problems=[
        [Problem(ProblemKind.NOT_FOUND, "ghost@example.com", console="8x8").to_dict()],
        [Problem(ProblemKind.PROTECTED, "alice").to_dict(), Problem(ProblemKind.YOURSELF, "alice").to_dict()],
    ]), "`ghost@example.com`: no user with this username or email in the 8x8 console.\n"
        "`alice` is protected by the policy and cannot be offboarded.\n"
        "`alice` is you: you cannot offboard yourself."),
    "not_requester": (Refusal("not_requester", request_id=REQUEST_ID, doing="send"),
                      "Only the admin who prepared this request can send it."),
    "checklist_not_ticked": (
        Refusal("checklist_not_ticked", request_id=REQUEST_ID, boxes=["The Offboarding Process has been completed"],
                steps=["contact_center"], visible=True),
        "Tick every box of the checklist, then press the button again; nothing has changed. Not ticked yet:\n"
        "☐ The Offboarding Process has been completed\n"
        "☐ The steps done by hand: In Contact Center admin: remove the agent from every Contact Center queue, and "
        "check that they are not a Contact Center admin (8x8 cannot delete one). Do them first."),
    "run_time_passed": (Refusal("run_time_passed", request_id=REQUEST_ID, run_at="2026-11-02T08:00:00+00:00"),
                        "This request was to run at 2026-11-02 08:00 UTC, which has passed. Ask again with a new "
                        "time."),
    "busy": (Refusal("busy", request_id=REQUEST_ID, holders=["OB-AAAAAAAA", "OB-BBBBBBBB"]),
             "Another open request took these users meanwhile: OB-AAAAAAAA, OB-BBBBBBBB"),
    "approvals_unreachable": (
        Refusal("approvals_unreachable", request_id=REQUEST_ID, channel="C0APPROVALS",
                failure="Slack answered not_in_channel"),
        "I could not post the request to <#C0APPROVALS> (Slack answered not_in_channel), so nobody was asked and "
        "nothing was changed. Invite me to that channel, then ask again."),
    "nothing_to_retry": (Refusal("nothing_to_retry", request_id=REQUEST_ID, state="failed", decided_by=None),
                         "Request OB-ABCDEFGH has no failed users to retry."),
    "self_approval": (Refusal("self_approval", request_id=REQUEST_ID),
                      "You asked for this request, so a different admin must decide on it. You can still cancel "
                      "it."),
    "own_offboarding": (Refusal("own_offboarding", request_id=REQUEST_ID),
                        "This request offboards you, so a different admin must decide on it."),
    "no_reason": (Refusal("no_reason"), "Give a reason for the rejection."),
    "not_found": (NotFound("OB-ZZZZZZZZ"), "There is no request OB-ZZZZZZZZ."),
    "no_such_proposal": (Refusal("no_such_proposal", request_id="OB-ZZZZZZZZ"),
                         "There is no workflow proposal OB-ZZZZZZZZ."),
    "proposal_taken": (Refusal("proposal_taken", request_id=REQUEST_ID, taken_by="U0ALICE", state="taken"),
                       "<@U0ALICE> already took OB-ABCDEFGH: they are its requester now."),
}


@pytest.mark.parametrize("code", sorted(REFUSALS))
def test_every_refusal_in_words(code):
    refusal, words = REFUSALS[code]
    assert refusal.code == code
    assert _said(refusal) == words


def test_every_refusal_code_has_words_and_an_example_here():
    assert set(REFUSALS) == set(refusals._REFUSALS)


def _raised_codes() -> tuple[set[str], set[str]]:
    """The codes of every Refusal and the problems of every BadCommand raised by production code."""
    codes, problems = set(), set()
    for package in ("bot", "handlers", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args
                        and isinstance(node.args[0], ast.Constant) and node.func.id in ("Refusal", "BadCommand")):
                    (codes if node.func.id == "Refusal" else problems).add(node.args[0].value)
    return codes, problems


def test_every_code_the_code_raises_has_words():
    codes, problems = _raised_codes()
    assert codes, "the scan found no Refusal: it no longer reads the code"
    assert codes <= set(refusals._REFUSALS), codes - set(refusals._REFUSALS)
    assert problems, "the scan found no BadCommand: it no longer reads the code"
    assert problems <= {*refusals._BAD_COMMANDS, "period_over_a_year"}, problems - set(refusals._BAD_COMMANDS)
    assert NotFound("OB-ZZZZZZZZ").code in refusals._REFUSALS  # raised through its own class


@pytest.mark.parametrize(("doing", "words"), [
    ("send", "Only the admin who prepared this request can send it."),
    ("cancel", "Only the admin who asked for this request (or a primary admin) can cancel it."),
    ("stop", "Only the admin who asked for this request (or a primary admin) can stop it."),
])
def test_not_the_requester_says_what_they_may_not_do(doing, words):
    assert _said(Refusal("not_requester", request_id=REQUEST_ID, doing=doing)) == words


def test_unticked_manual_steps_on_a_console_that_shows_no_services():
    refusal = Refusal("checklist_not_ticked", request_id=REQUEST_ID, boxes=[],
                      steps=["release_licenses", "contact_center"], visible=False)
    assert _said(refusal) == (
        "Tick every box of the checklist, then press the button again; nothing has changed. Not ticked yet:\n"
        "☐ The steps done by hand: In the admin console, release the user's licenses and phone numbers "
        "(this console's API does not show them); In Contact Center admin, if the user is an agent: remove them "
        "from every Contact Center queue, and check that they are not a Contact Center admin (8x8 cannot delete "
        "one). Do them first.")


@pytest.mark.parametrize(("state", "decided_by", "words"), [
    ("done", None, "Request OB-ABCDEFGH has no failed users to retry: Request OB-ABCDEFGH was already approved "
                   "and has finished."),
    ("done", "U0BOB", "Request OB-ABCDEFGH has no failed users to retry: Request OB-ABCDEFGH was already approved "
                      "by <@U0BOB> and has finished."),
    ("executing", "U0BOB", "Request OB-ABCDEFGH has no failed users to retry: Request OB-ABCDEFGH was already "
                           "approved by <@U0BOB> and is running."),
    ("awaiting_approval", None, "Request OB-ABCDEFGH has no failed users to retry: Request OB-ABCDEFGH is still "
                                "waiting for approval."),
])
def test_nothing_to_retry_says_where_a_request_that_did_not_fail_stands(state, decided_by, words):
    assert _said(Refusal("nothing_to_retry", request_id=REQUEST_ID, state=state, decided_by=decided_by)) == words


def test_already_decided_says_where_the_request_stands():
    rejected = request(state=RequestState.REJECTED, decided_by="U0BOB")
    assert _said(AlreadyDecided(rejected)) == "Request OB-ABCDEFGH was already rejected by <@U0BOB>."
    waiting = request(state=RequestState.AWAITING_APPROVAL)
    assert _said(AlreadyDecided(waiting, you_approved=True)) == (
        "You already approved this request; it needs a different admin now.")


def test_storage_down_says_what_was_kept_and_what_to_do():
    assert STORAGE_DOWN == ("My database is not answering right now, so I could not finish this. Whatever was "
                            "already recorded is kept. Try again in a minute; if it keeps happening, tell whoever "
                            "runs the bot.")


def test_every_verb_but_the_form_has_a_usage():
    assert set(USAGE) == set(Verb) - {Verb.MODAL}


# -- what was typed, or filled in, and could not be understood --------------------------------------------

def _raised(make) -> BadCommand:
    with pytest.raises(BadCommand) as raised:
        make()
    return raised.value


def _as_raised(problem: BadCommand):
    """For the problems the form's listeners raise themselves (handlers/views.py), with the facts they give."""
    def make():
        raise problem
    return make


def _form(**fields):
    values = {"action": "delete", "users": "jdoe", "new_username": "", "reason": ""}
    return lambda: command_from_form(**{**values, **fields})


BAD_COMMANDS = {  # each raised by the code that raises it, so the facts are the ones it gives
    "unknown_verb": (lambda: parse_command("frobnicate jdoe"), "I don't know `frobnicate`. Try `/offboard help`."),
    "unknown_option": (lambda: parse_command("delete jdoe --force"), f"unknown option `--force`. {DELETE_USAGE}"),
    "option_needs_value": (lambda: parse_command("deactivate jdoe --REASON"),
                           f"`--reason` needs a value. {DEACTIVATE_USAGE}"),
    "option_twice": (lambda: parse_command("delete jdoe --reason a --reason b"), "`--reason` was given twice"),
    "reason_too_long": (lambda: parse_command("delete jdoe --reason " + "x" * 3001),
                        "the reason is 3001 characters long; keep it under 3000"),
    "takes_nothing": (lambda: parse_command("list all"), "`list` takes nothing after it. Usage: `/offboard list`"),
    "name_one_request": (lambda: parse_command("status"), "name one request. Usage: `/offboard status <request-id>`"),
    "not_a_request_id": (lambda: parse_command("cancel jdoe"),
                         "`jdoe` is not a request id (they look like OB-7K2M4Q9A). Usage: `/offboard cancel "
                         "<request-id>`"),
    "rename_needs_two": (lambda: parse_command("rename jdoe"), f"name the user and the new username. {RENAME_USAGE}"),
    "new_username_has_spaces": (lambda: parse_command('rename hgarcia "h garcia!"'),
                                "`h garcia!` cannot be a username: a username may only contain letters, digits and "
                                f". @ - _ / (no spaces). {RENAME_USAGE}"),
    "new_username_is_a_mention": (lambda: parse_command("rename jdoe <@U0BOB>"),
                                  f"the new username must be text, not a mention. {RENAME_USAGE}"),
    "name_a_user": (lambda: parse_command("reactivate --reason back"),
                    "name at least one user. Usage: `/offboard reactivate <user> [<user> ...] [--reason TEXT] "
                    "[--at WHEN]`"),
    "staging_only_delete": (lambda: parse_command("deactivate jdoe --grace 7d"),
                            f"`--grace` only goes with delete (a staged delete). {DEACTIVATE_USAGE}"),
    "form_choose_action": (_form(action=""), "Choose an action."),
    "form_name_a_user": (_form(users=" , "), "Name at least one user."),
    "form_pick_users": (_as_raised(BadCommand("form_pick_users", field="picked_users")),
                        "Pick or type at least one user."),
    "form_reason_too_long": (_form(reason="x" * 3001), "Keep the reason under 3000 characters."),
    "form_rename_one": (_form(action="rename", users="jdoe msmith", new_username="j"), "Rename one user at a time."),
    "form_give_new_username": (_form(action="rename", new_username=" "), "Give the new username."),
    "form_new_username_rename_only": (_form(new_username="john"), "A new username only goes with Rename."),
    "form_staging_only_delete": (_form(action="deactivate", retain="30d"), "Staged periods only go with Delete."),
    "reason_missing": (_as_raised(BadCommand("reason_missing", field="reason", limit=3000)),
                       "Say why, in at most 3000 characters."),
    "not_our_button": (lambda: RequestRef.load('{"r": "not-a-request"}'),
                       "That button does not belong to a request I know."),
    "time_skipped": (lambda: resolve_when("2026-03-29 02:30", tz="Europe/Paris", now=NOW),
                     "2026-03-29 02:30 does not exist in Europe/Paris: the clocks skip that hour (daylight saving "
                     "time). Pick another time."),
    "time_not_ahead": (lambda: resolve_when("2026-11-02 08:00 UTC", tz="UTC", now=NOW),
                       "2026-11-02 08:00 UTC is not in the future. Pick a later time, or leave it out to run once "
                       "approved."),
    "time_too_far": (lambda: resolve_when("in 400d", tz="UTC", now=NOW),
                     "400 days from now is more than 365 days away; pick a time within a year."),
    "time_out_of_range": (lambda: resolve_when("9999-12-31 23:30 -14:00", tz="UTC", now=NOW),
                          "9999-12-31 23:30 is out of range; pick a time within the next year."),
    "time_unreadable": (lambda: parse_command("delete jdoe --at tomorrow"),
                        f"I can't read the time `tomorrow`. {WHEN}"),
    "time_not_real": (lambda: parse_command("delete jdoe --at 2026-02-30 09:00"),
                      f"`2026-02-30 09:00` is not a real date and time. {WHEN}"),
    "offset_unused": (lambda: parse_command("delete jdoe --at 2026-12-01 09:00 +15:00"),
                      "`2026-12-01 09:00 +15:00` has an offset no time zone uses; they run from -14:00 to +14:00."),
    "period_far_too_long": (lambda: parse_period("99999999999w", field=GRACE_FIELD),
                            "`99999999999w` is far too long a period."),
    "period_unreadable": (lambda: parse_command("delete jdoe --retain soon"),
                          "`soon` is not a period like 30m, 36h, 7d or 2w."),
    "grace_without_retain": (lambda: parse_command("delete jdoe --grace 7d"),
                             "Releasing licenses after a grace period needs a retention period too: say when the "
                             "users are deleted, e.g. 30d."),
    "step_action": (lambda: step_inputs({"action": "promote"}),
                    "A workflow can ask to delete or deactivate a user, not `promote`."),
    "step_no_leaver": (_as_raised(BadCommand("step_no_leaver")),
                       "Name the leaver: pick a Slack member, or give their email or console username."),
    "grace_not_shorter": (lambda: parse_command("delete jdoe --grace 30d --retain 1w"),
                          "The grace period (30 days) must be shorter than the retention period (7 days): licenses "
                          "are released before the users are deleted."),
}


@pytest.mark.parametrize("problem", sorted(BAD_COMMANDS))
def test_every_problem_of_what_was_typed_in_words(problem):
    make, words = BAD_COMMANDS[problem]
    raised = _raised(make)
    assert (raised.code, raised.problem) == ("bad_command", problem)
    assert bad_command_text(raised) == words
    assert _said(raised) == words


@pytest.mark.parametrize(("typed", "words"), [
    ("stauts OB-7K2M4Q9A", "I don't know `stauts`. Did you mean `status`? Try `/offboard help`."),
    ("dlete jdoe", "I don't know `dlete`. Did you mean `delete`? Try `/offboard help`."),
    ("delete jdoe --reson left", "unknown option `--reson`. Did you mean `--reason`? {usage}"),
    ("delete jdoe --force", "unknown option `--force`. {usage}"),  # not near enough to `--grace` to guess
])
def test_a_typo_gets_the_nearest_word_suggested(typed, words):
    assert _said(_raised(lambda: parse_command(typed))) == words.format(usage=DELETE_USAGE)


def test_every_problem_of_what_was_typed_has_words_and_an_example_here():
    assert set(BAD_COMMANDS) == set(refusals._BAD_COMMANDS)


def test_a_period_over_a_year_names_the_period_at_fault():
    grace = _raised(lambda: check_stages(timedelta(days=400), timedelta(days=500)))
    assert (grace.problem, grace.field) == ("period_over_a_year", GRACE_FIELD)
    assert _said(grace) == "The grace period is 400 days; keep it within 365 days."
    retain = _raised(lambda: check_stages(None, timedelta(days=366, hours=12)))
    assert (retain.problem, retain.field) == ("period_over_a_year", RETAIN_FIELD)
    assert _said(retain) == "The retention period is 366 days 12 hours; keep it within 365 days."


def test_a_time_too_far_as_a_moment():
    raised = _raised(lambda: check_run_at(datetime(2027, 12, 1, 9, 0, tzinfo=UTC), now=NOW))
    assert _said(raised) == "2027-12-01 09:00 UTC is more than 365 days away; pick a time within a year."


def test_what_was_typed_is_quoted_shortened_and_inert():
    raised = _raised(lambda: parse_command("<!channel>" + "x" * 60))
    assert _said(raised) == f"I don't know `&lt;!channel&gt;{'x' * 29}…`. Try `/offboard help`."


# -- why a named user is left out --------------------------------------------------------------------------

PROBLEMS = {
    ProblemKind.NOT_FOUND: (Problem(ProblemKind.NOT_FOUND, "ghost", console="8x8"),
                           "`ghost`: no user with this username or email in the 8x8 console."),
    ProblemKind.NO_LONGER_IN_CONSOLE: (Problem(ProblemKind.NO_LONGER_IN_CONSOLE, "jdoe", console="SCIM"),
                                      "`jdoe`: no longer in the SCIM console."),
    ProblemKind.NO_EMAIL: (Problem(ProblemKind.NO_EMAIL, "U0NOMAIL"),
                          "`&lt;@U0NOMAIL&gt;`: I cannot see an email for this Slack member, so I cannot find their "
                          "profile."),
    ProblemKind.PROTECTED: (Problem(ProblemKind.PROTECTED, "ceo"),
                           "`ceo` is protected by the policy and cannot be offboarded."),
    ProblemKind.YOURSELF: (Problem(ProblemKind.YOURSELF, "alice"), "`alice` is you: you cannot offboard yourself."),
    ProblemKind.HELD: (Problem(ProblemKind.HELD, "jdoe", holder="OB-7K2M4Q9A"),
                      "`jdoe` is already part of open request OB-7K2M4Q9A."),
    ProblemKind.ALREADY_INACTIVE: (Problem(ProblemKind.ALREADY_INACTIVE, "tinactive"),
                                  "`tinactive` is already deactivated."),
    ProblemKind.ALREADY_ACTIVE: (Problem(ProblemKind.ALREADY_ACTIVE, "jdoe"), "`jdoe` is already active."),
    ProblemKind.BAD_USERNAME: (Problem(ProblemKind.BAD_USERNAME, "jd", rule=UsernameProblem.LENGTH),
                              "`jd` cannot be used: a username must be 3 to 70 characters long."),
    ProblemKind.SAME_USERNAME: (Problem(ProblemKind.SAME_USERNAME, "jdoe"), "`jdoe` already has that username."),
    ProblemKind.USERNAME_TAKEN: (Problem(ProblemKind.USERNAME_TAKEN, "msmith"),
                                "`msmith` is already in use by another user."),
    ProblemKind.TEXT: (Problem(ProblemKind.TEXT, "`jdoe` is already deactivated."),
                      "`jdoe` is already deactivated."),  # a line an earlier version stored: shown as it was
}


@pytest.mark.parametrize("kind", list(ProblemKind))
def test_every_kind_of_problem_in_words(kind):
    problem, words = PROBLEMS[kind]
    assert problem_text(problem) == words
    assert problem_text(Problem.from_dict(problem.to_dict())) == words  # as stored with the request


def test_every_username_rule_in_words():
    assert {rule: problem_text(Problem(ProblemKind.BAD_USERNAME, "j d", rule=rule)) for rule in UsernameProblem} == {
        UsernameProblem.LENGTH: "`j d` cannot be used: a username must be 3 to 70 characters long.",
        UsernameProblem.CHARACTERS: "`j d` cannot be used: a username may only contain letters, digits and . @ - _ /.",
    }
    assert set(USERNAME_RULES) == set(UsernameProblem)


def test_a_named_user_is_quoted_so_it_cannot_ping():
    assert problem_text(Problem(ProblemKind.NOT_FOUND, "<!here>", console="local")) == (
        "`&lt;!here&gt;`: no user with this username or email in the local console.")


def test_the_problems_of_one_user_on_one_line():
    assert user_problems_line((Problem(ProblemKind.PROTECTED, "alice"), Problem(ProblemKind.YOURSELF, "alice"))) == (
        "`alice` is protected by the policy and cannot be offboarded. `alice` is you: you cannot offboard yourself.")
