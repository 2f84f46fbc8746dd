"""Why something was not done, in words: every refusal code and problem the service and the parser raise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.domain.commands import Verb
from bot.domain.directory import USERNAME_MAX, USERNAME_MIN, UsernameProblem
from bot.domain.lifecycle import RequestState
from bot.domain.plan import StepKind
from bot.domain.problems import Problem, ProblemKind
from bot.domain.records import AlreadyDecided
from bot.domain.schedule import GRACE_FIELD
from bot.errors import BadCommand, Refusal
from bot.slack.ids import COMMAND
from bot.slack.markup import channel, escape, mention, quote, span, utc
from bot.slack.messages.plans import manual_step_text
from bot.slack.messages.states import standing, where_it_stands

USAGE = {
    Verb.DELETE: "delete <user> [<user> ...] [--reason TEXT] [--at WHEN] [--grace 7d] [--retain 30d]",
    Verb.DEACTIVATE: "deactivate <user> [<user> ...] [--reason TEXT] [--at WHEN]",
    Verb.REACTIVATE: "reactivate <user> [<user> ...] [--reason TEXT] [--at WHEN]",
    Verb.RENAME: "rename <user> <new-username> [--reason TEXT] [--at WHEN]",
    Verb.STATUS: "status <request-id>",
    Verb.LIST: "list",
    Verb.CANCEL: "cancel <request-id>",
    Verb.HELP: "help",
}
WHEN_FORMATS = ("`YYYY-MM-DD HH:MM` in your Slack time zone (add `UTC` or an offset such as `+02:00` "
                "to mean another; ISO 8601 such as `2026-12-04T18:20:17Z` works too), a day and a time such as "
                "`friday 17:00` or `tomorrow 09:00`, or a delay such as `in 2h` or `+3d`")
STORAGE_DOWN = ("My database is not answering right now, so I could not finish this. Whatever was already "
                "recorded is kept. Try again in a minute; if it keeps happening, tell whoever runs the bot.")
USERNAME_RULES = {
    UsernameProblem.LENGTH: f"a username must be {USERNAME_MIN} to {USERNAME_MAX} characters long",
    UsernameProblem.CHARACTERS: "a username may only contain letters, digits and . @ - _ /",
}
_NOT_REQUESTER = {
    "send": "Only the admin who prepared this request can send it.",
    "cancel": "Only the admin who asked for this request (or a primary admin) can cancel it.",
    "stop": "Only the admin who asked for this request (or a primary admin) can stop it.",
}


def refusal_text(refusal: Refusal) -> str:
    """What to tell whoever was refused: why, and what to do instead."""
    if isinstance(refusal, BadCommand):
        return bad_command_text(refusal)
    if isinstance(refusal, AlreadyDecided):
        if refusal.you_approved:
            return "You already approved this request; it needs a different admin now."
        return where_it_stands(refusal.request)
    return _REFUSALS[refusal.code](refusal.request_id or "", refusal.facts)


def _did_you_mean(facts: dict) -> str:
    return f" Did you mean `{facts['nearest']}`?" if facts.get("nearest") else ""


def _usage(facts: dict) -> str:
    return f"Usage: `{COMMAND} {USAGE[Verb(facts['verb'])]}`"


def _retry_text(request_id: str, facts: dict) -> str:
    if facts.get("state") == RequestState.FAILED.value:
        return f"Request {request_id} has no failed users to retry."
    stands = standing(request_id, RequestState(facts["state"]), facts.get("decided_by"))
    return f"Request {request_id} has no failed users to retry: {stands}"


_REFUSALS: dict[str, Callable[[str, dict], str]] = {
    "other_workspace": lambda _, f: "This bot only takes requests from members of its own workspace.",
    "unknown_member": lambda _, f: "I could not identify you as an active member of this workspace.",
    "external_member": lambda _, f: "Members of other organisations cannot offboard users here.",
    "guest": lambda _, f: "Guests of this workspace cannot offboard users or decide on requests.",
    "no_verified_email": lambda _, f: "Your Slack account has no verified email, so I cannot check your admin role.",
    "not_admin": lambda _, f: ("Only account admins (primary or secondary) can offboard users or decide on "
                               "requests. Ask one of them."),
    "too_many_users": lambda _, f: (f"That names {f['named']} users; one request may name at most {f['limit']}. "
                                    "Split the list into several requests."),
    "blocked": lambda _, f: "\n".join(problem_text(Problem.from_dict(problem)) for user in f["problems"]
                                      for problem in user),
    "not_requester": lambda _, f: _NOT_REQUESTER[f["doing"]],
    "checklist_not_ticked": lambda _, f: "\n".join([
        "Tick every box of the checklist, then press the button again; nothing has changed. Not ticked yet:",
        *(f"☐ {escape(box)}" for box in f["boxes"]),
        *([f"☐ The steps done by hand: {'; '.join(manual_step_text(StepKind(kind), services_visible=f['visible']) for kind in f['steps'])}. Do them first."]  # noqa: E501
          if f["steps"] else [])]),
    "run_time_passed": lambda _, f: (f"This request was to run at {utc(datetime.fromisoformat(f['run_at']))}, "
                                     "which has passed. Ask again with a new time."),
    "busy": lambda _, f: "Another open request took these users meanwhile: " + ", ".join(f["holders"]),
    "approvals_unreachable": lambda _, f: (f"I could not post the request to {channel(f['channel'])} "
                                           f"({escape(f['failure'])}), so nobody was asked and nothing was changed. "
                                           "Invite me to that channel, then ask again."),
    "nothing_to_retry": _retry_text,
    "self_approval": lambda _, f: ("You asked for this request, so a different admin must decide on it. You can "
                                   "still cancel it."),
    "own_offboarding": lambda _, f: "This request offboards you, so a different admin must decide on it.",
    "no_reason": lambda _, f: "Give a reason for the rejection.",
    "not_found": lambda request_id, f: f"There is no request {request_id}.",
    "no_such_proposal": lambda request_id, f: f"There is no workflow proposal {request_id}.",
    "proposal_taken": lambda request_id, f: (
        f"{mention(f['taken_by'])} already took {request_id}: they are its requester now."
        if f.get("taken_by") else f"Proposal {request_id} can no longer be taken: its time is up or it ended."),
}


def bad_command_text(problem: BadCommand) -> str:
    if problem.problem == "period_over_a_year":
        return _period_over_a_year(problem.facts, problem.field)
    return _BAD_COMMANDS[problem.problem](problem.facts)


def _too_far(f: dict) -> str:
    what = f"{f['moment']} UTC" if "moment" in f else f"{span(f['delay'])} from now"
    return f"{what} is more than {f['days']} days away; pick a time within a year."


def _period_over_a_year(f: dict, field: str | None) -> str:
    name = "grace" if field == GRACE_FIELD else "retention"
    return f"The {name} period is {span(f['period'])}; keep it within {f['days']} days."


_BAD_COMMANDS: dict[str, Callable[[dict], str]] = {
    "unknown_verb": lambda f: f"I don't know {quote(f['word'], 40)}.{_did_you_mean(f)} Try `{COMMAND} help`.",
    "unknown_option": lambda f: f"unknown option {quote(f['word'], 40)}.{_did_you_mean(f)} {_usage(f)}",
    "option_needs_value": lambda f: f"`{f['option']}` needs a value. {_usage(f)}",
    "option_twice": lambda f: f"`{f['option']}` was given twice",
    "reason_too_long": lambda f: f"the reason is {f['length']} characters long; keep it under {f['limit']}",
    "takes_nothing": lambda f: f"`{f['verb']}` takes nothing after it. {_usage(f)}",
    "name_one_request": lambda f: f"name one request. {_usage(f)}",
    "not_a_request_id": lambda f: (f"{quote(f['text'], 40)} is not a request id (they look like OB-7K2M4Q9A). "
                                   f"{_usage(f)}"),
    "rename_needs_two": lambda f: f"name the user and the new username. {_usage(f)}",
    "new_username_has_spaces": lambda f: (f"{quote(f['new_username'], 70)} cannot be a username: "
                                          f"{USERNAME_RULES[UsernameProblem.CHARACTERS]} (no spaces). {_usage(f)}"),
    "new_username_is_a_mention": lambda f: f"the new username must be text, not a mention. {_usage(f)}",
    "name_a_user": lambda f: f"name at least one user. {_usage(f)}",
    "staging_only_delete": lambda f: f"`{f['option']}` only goes with delete (a staged delete). {_usage(f)}",
    "form_choose_action": lambda f: "Choose an action.",
    "form_name_a_user": lambda f: "Name at least one user.",
    "form_pick_users": lambda f: "Pick or type at least one user.",
    "form_reason_too_long": lambda f: f"Keep the reason under {f['limit']} characters.",
    "form_rename_one": lambda f: "Rename one user at a time.",
    "form_give_new_username": lambda f: "Give the new username.",
    "form_new_username_rename_only": lambda f: "A new username only goes with Rename.",
    "form_staging_only_delete": lambda f: "Staged periods only go with Delete.",
    "step_action": lambda f: (f"A workflow can ask to delete or deactivate a user, not {quote(f['action'], 20)}."),
    "step_no_leaver": lambda f: "Name the leaver: pick a Slack member, or give their email or console username.",
    "reason_missing": lambda f: f"Say why, in at most {f['limit']} characters.",
    "not_our_button": lambda f: "That button does not belong to a request I know.",
    "time_skipped": lambda f: (f"{f['written']} does not exist in {f['zone']}: the clocks skip that hour "
                               "(daylight saving time). Pick another time."),
    "time_not_ahead": lambda f: (f"{f['moment']} UTC is not in the future. Pick a later time, or leave it out to "
                                 "run once approved."),
    "time_too_far": _too_far,
    "time_out_of_range": lambda f: f"{f['moment']} is out of range; pick a time within the next year.",
    "time_unreadable": lambda f: f"I can't read the time {quote(f['text'], 40)}. Write {WHEN_FORMATS}.",
    "time_not_real": lambda f: f"{quote(f['text'], 40)} is not a real date and time. Write {WHEN_FORMATS}.",
    "offset_unused": lambda f: (f"{quote(f['text'], 40)} has an offset no time zone uses; they run from -14:00 to "
                                "+14:00."),
    "period_far_too_long": lambda f: f"{quote(f['text'], 40)} is far too long a period.",
    "period_unreadable": lambda f: f"{quote(f['text'], 40)} is not a period like 30m, 36h, 7d or 2w.",
    "grace_without_retain": lambda f: ("Releasing licenses after a grace period needs a retention period too: say "
                                       "when the users are deleted, e.g. 30d."),
    "grace_not_shorter": lambda f: (f"The grace period ({span(f['grace'])}) must be shorter than the retention "
                                    f"period ({span(f['retain'])}): licenses are released before the users are "
                                    "deleted."),
}


def problem_text(problem: Problem) -> str:
    """Why one named user cannot be part of the request."""
    name = quote(problem.subject)
    kind = problem.kind
    if kind is ProblemKind.NOT_FOUND:
        return f"{name}: no user with this username or email in the {problem.console} console."
    if kind is ProblemKind.NO_LONGER_IN_CONSOLE:
        return f"{name}: no longer in the {problem.console} console."
    if kind is ProblemKind.NO_EMAIL:
        return (f"{quote(f'<@{problem.subject}>')}: I cannot see an email for this Slack member, so I cannot find "
                "their profile.")
    if kind is ProblemKind.HELD:
        return f"{name} is already part of open request {problem.holder}."
    if kind is ProblemKind.BAD_USERNAME:
        return f"{name} cannot be used: {USERNAME_RULES[problem.rule]}."
    if kind is ProblemKind.TEXT:
        return problem.subject
    return f"{name} {_PROBLEMS[kind]}"


_PROBLEMS = {
    ProblemKind.PROTECTED: "is protected by the policy and cannot be offboarded.",
    ProblemKind.YOURSELF: "is you: you cannot offboard yourself.",
    ProblemKind.ALREADY_INACTIVE: "is already deactivated.",
    ProblemKind.ALREADY_ACTIVE: "is already active.",
    ProblemKind.SAME_USERNAME: "already has that username.",
    ProblemKind.USERNAME_TAKEN: "is already in use by another user.",
}


def user_problems_line(problems: tuple[Problem, ...]) -> str:
    """The problems of one user left out of a request, on one line."""
    return " ".join(problem_text(problem) for problem in problems)
