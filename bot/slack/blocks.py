"""Every Block Kit message and modal the bot shows. Pure functions: data in, dicts out."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Literal

from bot.domain.commands import USAGE
from bot.domain.directory import ConsoleUser
from bot.domain.lifecycle import Action, RequestState
from bot.domain.plan import TargetPlan
from bot.domain.records import OffboardRequest, Target, TargetOutcome
from bot.domain.text import escape
from bot.ports import Home
from bot.slack.ids import COMMAND, ActionId, BlockId, CallbackId
from bot.slack.values import ModalOrigin, RequestRef

SECTION_LIMIT = 3000
MAX_BLOCKS = 50

_STATE_LABEL = {
    RequestState.DRAFT: "Not sent yet",
    RequestState.AWAITING_APPROVAL: "Waiting for approval",
    RequestState.APPROVED: "Approved",
    RequestState.EXECUTING: "Running",
    RequestState.WAITING: "Waiting for a manual step",
    RequestState.DONE: "Done",
    RequestState.FAILED: "Finished with failures",
    RequestState.REJECTED: "Rejected",
    RequestState.EXPIRED: "Expired",
    RequestState.CANCELLED: "Cancelled",
}
_OUTCOME_MARK = {TargetOutcome.PENDING: "…", TargetOutcome.DONE: "✅", TargetOutcome.FAILED: "❌",
                 TargetOutcome.ABORTED: "⚠️"}


# -- small pieces ------------------------------------------------------------------------------------

def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}


def context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text)}]}


def header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, 150)}}


def button(label: str, action_id: ActionId, value: str, *, style: str | None = None) -> dict:
    element = {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id.value,
               "value": value}
    if style:
        element["style"] = style
    return element


def _when(moment: datetime) -> str:
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _message(text: str, blocks: list[dict]) -> dict:
    assert len(blocks) <= MAX_BLOCKS, f"{len(blocks)} blocks: the builder must fit its content"
    return {"text": clip(text, 3000), "blocks": blocks}


def _sections(lines: list[str], *, budget: int, overflow: str) -> list[dict]:
    """Pack lines into as few sections as fit Slack's limits, at most budget blocks; say what was left out."""
    chunks: list[list[str]] = [[]]
    for line in lines:
        line = clip(line, SECTION_LIMIT // 2)
        if chunks[-1] and len("\n".join([*chunks[-1], line])) > SECTION_LIMIT:
            chunks.append([])
        chunks[-1].append(line)
    if len(chunks) <= budget:
        return [section("\n".join(chunk)) for chunk in chunks if chunk]
    kept = chunks[: max(budget - 1, 0)]
    hidden = len(lines) - sum(len(chunk) for chunk in kept)
    return [*(section("\n".join(chunk)) for chunk in kept), context(overflow.format(hidden=hidden))]


def _title(request: OffboardRequest) -> str:
    count = len(request.targets)
    who = escape(request.targets[0].plan.username) if count == 1 else f"{count} users"
    return f"{request.action.value.capitalize()} {who}"


# -- plans -------------------------------------------------------------------------------------------

def plan_blocks(plan: TargetPlan) -> list[dict]:
    """Describe one target's plan: the user, the ordered steps, what goes and what stays."""
    lines = [f"*{escape(plan.display_name)}* · `{escape(plan.username)}` · {escape(plan.email)}"]
    lines += [f"{number}. {escape(step.summary)}{' _(manual)_' if step.manual else ''}"
              for number, step in enumerate(plan.steps, start=1)]
    facts = [escape(note) for note in plan.notes]
    if plan.removed:
        facts.append("Removed: " + ", ".join(plan.removed))
    if plan.kept:
        facts.append("Kept: " + ", ".join(plan.kept))
    blocks = [section("\n".join(lines))]
    if facts:
        blocks.append(context("\n".join(facts)))
    return blocks


def _request_facts(request: OffboardRequest) -> dict:
    facts = [f"Request `{request.id}`", f"asked by <@{request.requester_id}>"]
    if request.reason:
        facts.append(f"reason: {escape(request.reason)}")
    if request.state in (RequestState.DRAFT, RequestState.AWAITING_APPROVAL):
        facts.append(f"expires {_when(request.expires_at)}")
    if request.run_at and request.state in (RequestState.DRAFT, RequestState.AWAITING_APPROVAL,
                                            RequestState.APPROVED):
        what = "next stage" if request.started_at else "runs"
        facts.append(f"{what} {_when(request.run_at)} ({request.run_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)")
    return context(" · ".join(facts))


DETAILED_UP_TO = 5  # users shown with their full plan; more are listed one line each


def _targets_blocks(request: OffboardRequest, *, budget: int) -> list[dict]:
    """The plan of every target, in full for a few users, one line each for many, within budget blocks."""
    if len(request.targets) <= DETAILED_UP_TO:
        return [block for target in request.targets for block in plan_blocks(target.plan)]
    lines = [_plan_line(target.plan) for target in request.targets]
    first = request.targets[0].plan
    facts = [f"Removed: {', '.join(first.removed)}"] if first.removed else []
    facts += [f"Kept: {', '.join(first.kept)}"] if first.kept else []
    overflow = "…and {hidden} more users: " + f"`/offboard status {request.id}` lists every one."
    return [*_sections(lines, budget=budget - 1, overflow=overflow), context(" · ".join(facts) or " ")]


def _plan_line(plan: TargetPlan) -> str:
    steps = " → ".join(step.kind.value.replace("_", " ") + (" (manual)" if step.manual else "")
                       for step in plan.steps)
    return f"• *{escape(plan.display_name)}* · `{escape(plan.username)}` · {escape(plan.email)}: {steps}"


# -- the requester's private preview -----------------------------------------------------------------

def preview(request: OffboardRequest) -> dict:
    """The private plan shown to the requester, with the buttons to go ahead or cancel."""
    ref = RequestRef(r=request.id).dump()
    head = [header(f"Plan: {_title(request)}"), _request_facts(request)]
    tail: list[dict] = []
    if request.needs_attestation:
        tail.append({
            "type": "actions", "block_id": BlockId.ATTESTATION.value,
            "elements": [{
                "type": "checkboxes", "action_id": ActionId.ATTEST_CONTACT_CENTER.value,
                "options": [{"text": {"type": "mrkdwn", "text": (
                    "I did every step marked _(manual)_ above, in the admin console")}, "value": "attested"}],
            }],
        })
    if request.approvals_required:
        needed = request.approvals_required
        note = f"Needs {needed} approval{'s' if needed > 1 else ''} from another admin before anything happens."
        go = button("Request approval", ActionId.REQUEST_APPROVAL, ref, style="primary")
    else:
        note = "The policy needs no second admin for this: confirming runs it now."
        go = button("Confirm", ActionId.CONFIRM, ref, style="primary")
    tail += [context(note), {"type": "actions", "block_id": BlockId.ACTIONS.value,
                             "elements": [go, button("Cancel", ActionId.DISCARD, ref)]}]
    left_out = _left_out_blocks(request)
    body = _targets_blocks(request, budget=MAX_BLOCKS - len(head) - len(left_out) - len(tail))
    return _message(f"Plan for request {request.id}: {_title(request)}", [*head, *left_out, *body, *tail])


LEFT_OUT_BLOCKS = 4  # at most this many blocks list the users left out of a request


def _left_out_blocks(request: OffboardRequest) -> list[dict]:
    """The named users left out of the request because of a problem, each with it: shown before anyone is
    asked to approve, so the requester can fix them in a separate request or go ahead without them."""
    if not request.left_out:
        return []
    count = len(request.left_out)
    lines = [f":warning: *Left out: {count} of the users named*, for these reasons (the plan below is "
             "for the others):", *(f"• {line}" for line in request.left_out)]
    return _sections(lines, budget=LEFT_OUT_BLOCKS, overflow="…and {hidden} more left out.")


def preview_closed(request: OffboardRequest, note: str) -> dict:
    """What replaces the preview once it was sent, confirmed or cancelled (note is the bot's own mrkdwn)."""
    return _message(note, [section(f"*{_title(request)}* · `{request.id}`\n{note}")])


# -- the approval message ----------------------------------------------------------------------------

def approval_message(request: OffboardRequest) -> dict:
    """The request as posted in the approvals channel; buttons only while it awaits a decision.

    Once it has run, the per-user outcomes take the place of the plan."""
    ref = RequestRef(r=request.id).dump()
    awaiting = request.state is RequestState.AWAITING_APPROVAL
    head = [header(f"Approval needed: {_title(request)}" if awaiting else _title(request)), _request_facts(request)]
    tail = [context(f"Manual steps confirmed by <@{request.attested_by}>")] if request.attested_by else []
    tail.append(section(_status_line(request)))
    if awaiting:
        tail.append({"type": "actions", "block_id": BlockId.ACTIONS.value, "elements": [
            button("Approve", ActionId.APPROVE, ref, style="primary"),
            button("Reject", ActionId.REJECT, ref, style="danger"),
        ]})
    if request.state is RequestState.WAITING:
        tail.append({"type": "actions", "block_id": BlockId.ACTIONS.value, "elements": [
            button("Re-check", ActionId.RECHECK, ref, style="primary"),
            button("Stop here", ActionId.STOP_WAITING, ref),
        ]})
    if awaiting:
        head += _left_out_blocks(request)  # the approvers see who was named but is not part of it
    budget = MAX_BLOCKS - len(head) - len(tail)
    if request.state is RequestState.WAITING:
        body = _manual_blocks(request, budget=budget)
    elif request.state in (RequestState.DONE, RequestState.FAILED):
        body = _outcome_blocks(request, budget=budget)
    else:
        body = _targets_blocks(request, budget=budget)
    return _message(f"{_title(request)} ({request.id}): {_STATE_LABEL[request.state]}", [*head, *body, *tail])


def _status_line(request: OffboardRequest) -> str:
    approvers = ", ".join(f"<@{approval.approver_id}>" for approval in request.approvals)
    by = f" by <@{request.decided_by}>" if request.decided_by else ""
    state = request.state
    if state is RequestState.AWAITING_APPROVAL:
        done = f" Approved so far by {approvers}." if approvers else ""
        return f"*Waiting for {request.approvals_missing} approval(s)* from an admin other than the requester.{done}"
    if state is RequestState.REJECTED:
        return f"*Rejected*{by}: {escape(request.decision_note)}"
    if state in (RequestState.DONE, RequestState.FAILED):
        return f"*{_STATE_LABEL[state]}* (approved by {approvers or 'the requester'})"
    if state is RequestState.EXECUTING:
        return f"*{_STATE_LABEL[state]}*: {_progress(request)} · approved by {approvers or 'the requester'}"
    if state is RequestState.APPROVED:
        return f"*{_STATE_LABEL[state]}*, approved by {approvers or 'the requester'}."
    if state is RequestState.WAITING:
        return (f"*{_STATE_LABEL[state]}* (approved by {approvers or 'the requester'}): the console's API cannot "
                "do a step on this account, so an admin must do it by hand, then press Re-check. Stop here ends "
                "the request; steps already done stay done.")
    if state is RequestState.CANCELLED and request.decision_note:  # called off by the bot, and why
        return f"*{_STATE_LABEL[state]}*: {escape(request.decision_note)}."
    return f"*{_STATE_LABEL[state]}*{by if state is RequestState.CANCELLED else ''}."


def _progress(request: OffboardRequest) -> str:
    """How far a run has got, e.g. "137/400 done, 2 failed" (stopped users count as failed). One pass over the
    targets: the message is redrawn while a big request runs."""
    counts = Counter(target.outcome for target in request.targets)
    failed = counts[TargetOutcome.FAILED] + counts[TargetOutcome.ABORTED]
    return f"{counts[TargetOutcome.DONE]}/{len(request.targets)} done" + (f", {failed} failed" if failed else "")


def _failed(request: OffboardRequest) -> int:
    """How many users failed or were stopped: the ones a retry would take up again."""
    return sum(1 for target in request.targets if target.outcome in (TargetOutcome.FAILED, TargetOutcome.ABORTED))


def _outcome_blocks(request: OffboardRequest, *, budget: int) -> list[dict]:
    """One line per user with how it ended; failures first, so they are never the part left out."""
    ordered = sorted(request.targets, key=lambda target: target.outcome is TargetOutcome.DONE)
    lines = [_outcome_line(request.action, target) for target in ordered]
    overflow = "…and {hidden} more users: " + f"`/offboard status {request.id}` lists every one."
    return _sections(lines, budget=budget, overflow=overflow)


def _manual_blocks(request: OffboardRequest, *, budget: int) -> list[dict]:
    """The steps waiting to be done by hand, with their instructions, then how the other users stand."""
    waiting = [target for target in request.targets if target.manual_step]
    lines = [f":raised_hand: `{escape(target.plan.username)}`: {escape(target.manual_step.detail)}"
             for target in waiting]
    lines += [_outcome_line(request.action, target) for target in request.targets if not target.manual_step]
    overflow = "…and {hidden} more users: " + f"`/offboard status {request.id}` lists every one."
    return _sections(lines, budget=budget, overflow=overflow)


def _outcome_line(action: Action, target: Target) -> str:
    name = f"`{escape(target.plan.username)}`"
    if action is Action.RENAME and target.outcome is TargetOutcome.DONE:
        name += f" → `{escape(target.plan.new_username or '')}`"
    return f"{_OUTCOME_MARK[target.outcome]} {name}: {escape(target.detail or target.outcome.value)}"


# -- results -----------------------------------------------------------------------------------------

CsvFile = Literal["attached", "failed"]  # the full results went into the thread as a file, or could not


def outcome_message(request: OffboardRequest, *, csv_file: CsvFile | None = None) -> dict:
    """The per-user results posted to the results channel, failures first, with a button that retries the users
    who failed. csv_file says whether the message must point to the CSV of all results in its thread, or say that
    it could not be attached (the message is posted first: the file goes into its thread)."""
    count = len(request.targets)
    done = sum(1 for target in request.targets if target.outcome is TargetOutcome.DONE)
    summary = f"{_title(request)}: {done}/{count} {request.action.past_tense} successfully"
    head = [header(f"{_STATE_LABEL[request.state]}: {_title(request)}"), _request_facts(request)]
    tail: list[dict] = []
    if csv_file == "attached":
        note = f"The results of all {count} users are in the CSV file in this message's thread."
        summary += f". {note}"
        tail.append(context(f":page_facing_up: {note}"))
    elif csv_file == "failed":
        tail.append(context(f"The CSV file with all {count} results could not be attached: "
                            f"`/offboard status {request.id}` lists every user."))
    failed = _failed(request)
    if failed:
        label = f"Retry the {failed} failed users" if failed > 1 else "Retry the failed user"
        tail.append({"type": "actions", "block_id": BlockId.ACTIONS.value, "elements": [
            button(label, ActionId.RETRY_FAILED, RequestRef(r=request.id).dump())]})
    body = _outcome_blocks(request, budget=MAX_BLOCKS - len(head) - len(tail))
    return _message(summary, [*head, *body, *tail])


# -- answers to commands -----------------------------------------------------------------------------

def help_message() -> dict:
    lines = [f"`{COMMAND} {usage}`" for usage in USAGE.values()]
    text = ("*Offboard users from the admin console.*\n" + "\n".join(lines)
            + f"\n`{COMMAND}` alone opens a form. Name users by username, email or @mention. "
              "Deleting is final and needs a second admin's approval.\n"
              "`--at` runs the request later: `2026-12-01 09:00` in your Slack time zone (add `UTC` or `+02:00` "
              "for another), or `in 2h`. `--grace 7d --retain 30d` stages a delete: deactivate when it runs, "
              "release licenses 7 days later, delete 30 days after deactivating.")
    return _message("How to use /offboard", [section(text)])


def reminder(request: OffboardRequest) -> dict:
    """A nudge in the approval message's thread while the request still waits."""
    missing = request.approvals_missing
    text = (f"Reminder: request `{request.id}` ({_title(request)}) still needs {missing} approval"
            f"{'s' if missing != 1 else ''} from an admin other than <@{request.requester_id}>. "
            f"It expires {_when(request.expires_at)}.")
    return _message(f"Reminder: {request.id} still needs approval", [section(text)])


def refusal(message: str, *, reference: str | None = None) -> dict:
    """A refusal or error, with the request id to quote when asking for help (it is in the logs too)."""
    tail = [context(f"ref `{reference}`")] if reference else []
    return _message(message, [section(f":no_entry: {message}"), *tail])


def notice(message: str) -> dict:
    return _message(message, [section(message)])


def status_message(request: OffboardRequest) -> dict:
    lines = [f"*{_title(request)}* · `{request.id}` · {_STATE_LABEL[request.state]}"]
    if request.attested_by:
        lines.append(f"Manual steps confirmed by <@{request.attested_by}>")
    for target in request.targets:
        lines.append(_outcome_line(request.action, target))
        lines += [f"    · {step.kind.value.replace('_', ' ')}: {step.status.value}"
                  + (f" ({escape(step.detail)})" if step.detail else "") for step in target.steps]
    facts = _request_facts(request)
    body = _sections(lines, budget=MAX_BLOCKS - 1, overflow="…and {hidden} more lines.")
    return _message(f"Request {request.id}: {_STATE_LABEL[request.state]}", [*body, facts])


def list_message(requests: list[OffboardRequest]) -> dict:
    if not requests:
        return notice("No open requests.")
    lines = ["*Open requests*"] + [
        f"`{r.id}` · {_title(r)} · {_STATE_LABEL[r.state]} · by <@{r.requester_id}>" for r in requests]
    return _message(f"{len(requests)} open request(s)",
                    _sections(lines, budget=MAX_BLOCKS, overflow="…and {hidden} more."))


# -- modals ------------------------------------------------------------------------------------------

def _input(block_id: BlockId, label: str, element: dict, *, optional: bool = False, hint: str = "") -> dict:
    block = {"type": "input", "block_id": block_id.value, "optional": optional,
             "label": {"type": "plain_text", "text": label}, "element": element}
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def _text_input(action_id: str, *, multiline: bool = False, max_length: int = 3000) -> dict:
    return {"type": "plain_text_input", "action_id": action_id, "multiline": multiline, "max_length": max_length}


STAGE_MAX_LENGTH = 20  # "1w 2d 12h" and the like


def new_request_modal(origin: ModalOrigin) -> dict:
    """The form /offboard opens when typed alone."""
    options = [{"text": {"type": "plain_text", "text": action.value.capitalize()}, "value": action.value}
               for action in Action]
    return {
        "type": "modal", "callback_id": CallbackId.NEW_REQUEST.value, "private_metadata": origin.dump(),
        "title": {"type": "plain_text", "text": "Offboard users"},
        "submit": {"type": "plain_text", "text": "Show plan"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [
            _input(BlockId.ACTION, "Action", {"type": "static_select", "action_id": "value", "options": options,
                                              "initial_option": options[0]}),
            _input(BlockId.PICKED_USERS, "Users", {
                "type": "multi_external_select", "action_id": ActionId.PICK_USERS.value, "min_query_length": 2,
                "max_selected_items": 100,
                "placeholder": {"type": "plain_text", "text": "Type a name, username or email"}},
                optional=True, hint="Searches the admin console as you type."),
            _input(BlockId.USERS, "More users (or paste a list)", _text_input("value", multiline=True),
                   optional=True, hint="Usernames or emails, separated by spaces or new lines: paste a whole list "
                        "(Slack lets this field hold 3,000 characters; a longer list fits in the command)."),
            _input(BlockId.NEW_USERNAME, "New username (rename only)", _text_input("value", max_length=70),
                   optional=True),
            _input(BlockId.REASON, "Reason", _text_input("value", multiline=True), optional=True),
            _input(BlockId.RUN_AT, "Run at (your time zone; leave empty to run once approved)",
                   {"type": "datetimepicker", "action_id": "value"}, optional=True,
                   hint="The plan shows this time in UTC too, so you can check it before asking for approval."),
            _input(BlockId.GRACE, "Staged delete: release licenses after (e.g. 7d)",
                   _text_input("value", max_length=STAGE_MAX_LENGTH), optional=True,
                   hint="Delete only. Deactivates the users when the request runs and releases their licenses "
                        "this long after. Needs the period below."),
            _input(BlockId.RETAIN, "Staged delete: delete after (e.g. 30d)",
                   _text_input("value", max_length=STAGE_MAX_LENGTH), optional=True,
                   hint="Delete only. Deletes the users this long after deactivating them. Leave both empty "
                        "to delete at once. Periods like 36h, 7d or 2w, at most 365 days."),
        ],
    }


def user_options(users: list[ConsoleUser]) -> dict:
    """Options for the user picker: who the console found for what the admin typed. The value is how the
    form names the user again (email, or username); a user it cannot name in one word is left out."""
    options = []
    for user in users[:100]:
        value = user.email if user.email and not any(c.isspace() for c in user.email) else user.username
        if not value or len(value) > 150 or any(char.isspace() for char in value):
            continue
        label = clip(f"{user.display_name} · {user.username} · {user.email}", 75)
        options.append({"text": {"type": "plain_text", "text": label}, "value": value})
    return {"options": options}


# -- the App Home tab --------------------------------------------------------------------------------

CANCELLABLE = (RequestState.AWAITING_APPROVAL, RequestState.APPROVED, RequestState.WAITING)
HOME_SECTION_ITEMS = 10  # requests shown per section; the rest are counted


def home_view(home: Home) -> dict:
    """The App Home tab: what waits for this admin (with Approve and Reject), theirs, scheduled, recent."""
    if not home.is_admin:
        admins = ", ".join(f"<@{user_id}>" for user_id in home.admins) or "the account admins"
        text = (f"*offboard-bot* deletes, deactivates or renames users in the admin console, with a second "
                f"admin's approval. Only account admins can use it: ask {admins}.")
        return {"type": "home", "blocks": [header("offboard-bot"), section(text),
                                           context(escape(home.why_not) or " ")]}
    blocks: list[dict] = [header("Offboarding")]
    blocks += _home_section("Waiting for your approval", home.to_approve, buttons=True)
    blocks += _home_section("Your open requests", home.mine, cancel=True)
    blocks += _home_section("Scheduled", home.scheduled)
    blocks += _home_section("Recent outcomes", home.recent)
    blocks.append(context(f"`{COMMAND}` starts a request · `{COMMAND} help` lists the commands"))
    assert len(blocks) <= 100
    return {"type": "home", "blocks": blocks}


def _home_section(title: str, requests: tuple[OffboardRequest, ...], *, buttons: bool = False,
                  cancel: bool = False) -> list[dict]:
    blocks: list[dict] = [{"type": "divider"}, section(f"*{title}*")]
    if not requests:
        return [*blocks, context("Nothing here.")]
    for request in requests[:HOME_SECTION_ITEMS]:
        line = f"`{request.id}` · {_title(request)} · {_STATE_LABEL[request.state]} · by <@{request.requester_id}>"
        if request.run_at and request.state is RequestState.APPROVED:
            line += f" · {'next stage' if request.started_at else 'runs'} {_when(request.run_at)}"
        if request.reason:
            line += f"\n_{escape(clip(request.reason, 200))}_"
        blocks.append(section(line))
        ref = RequestRef(r=request.id).dump()
        if buttons:
            blocks.append({"type": "actions", "elements": [button("Approve", ActionId.APPROVE, ref, style="primary"),
                                                            button("Reject", ActionId.REJECT, ref, style="danger")]})
        elif cancel and request.state in CANCELLABLE:
            blocks.append({"type": "actions", "elements": [button("Cancel", ActionId.CANCEL_REQUEST, ref)]})
    if len(requests) > HOME_SECTION_ITEMS:
        blocks.append(context(f"…and {len(requests) - HOME_SECTION_ITEMS} more: `{COMMAND} list`"))
    return blocks


def reject_modal(request: OffboardRequest) -> dict:
    """Asks the rejecting admin why."""
    return {
        "type": "modal", "callback_id": CallbackId.REJECT_REASON.value,
        "private_metadata": RequestRef(r=request.id).dump(),
        "title": {"type": "plain_text", "text": "Reject request"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [section(f"Reject *{_title(request)}* (`{request.id}`)?"),
                   _input(BlockId.REASON, "Reason", _text_input("value", multiline=True))],
    }
