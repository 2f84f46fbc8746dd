"""The Block Kit builders, rendered to dicts."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.console.demo_data import DEMO_USERS
from bot.domain.lifecycle import Action, RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import build_plan
from bot.domain.problems import Problem, ProblemKind
from bot.domain.records import Approval, OffboardRequest, Target, TargetOutcome
from bot.domain.schedule import GRACE_FIELD, RETAIN_FIELD, RUN_AT_FIELD
from bot.simulators.workspace.inputs import client_side_problems, state_values
from bot.slack import blocks
from bot.slack.blocks.kit import sections
from bot.slack.ids import ActionId, BlockId, CallbackId
from bot.slack.values import ModalOrigin, RequestRef
from handlers.parsing import command_from_form
from handlers.payload import input_datetime, input_value

USERS = {user.username: user for user in DEMO_USERS}
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _request(action=Action.DELETE, state=RequestState.DRAFT, users=("jdoe",), approvals_required=1, **changes):
    targets = tuple(Target(id=i, position=i, plan=build_plan(action, USERS[name]), outcome=TargetOutcome.PENDING,
                           note=None) for i, name in enumerate(users))
    request = OffboardRequest(id="OB-ABCDEFGH", action=action, state=state, version=1, requester_id="U0ALICE",
                              requester_email="alice@example.com", reason="left", approvals_required=approvals_required,
                              created_at=NOW, expires_at=NOW + timedelta(hours=24), origin_channel="C0GENERAL",
                              targets=targets)
    return replace(request, **changes)


def _buttons(message):
    return [(e["text"]["text"], e["action_id"], e["value"]) for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"] if e["type"] == "button"]


def test_preview_asks_for_approval_with_typed_values():
    message = blocks.preview(_request())
    value = RequestRef(r="OB-ABCDEFGH").dump()
    assert _buttons(message) == [("Request approval", ActionId.REQUEST_APPROVAL, value),
                                 ("Cancel", ActionId.DISCARD, value)]
    assert json.loads(value) == {"r": "OB-ABCDEFGH"}


def test_preview_of_an_action_without_approvers_confirms():
    message = blocks.preview(_request(action=Action.DEACTIVATE, approvals_required=0))
    assert [label for label, *_ in _buttons(message)] == ["Confirm", "Cancel"]


def test_contact_center_preview_has_the_manual_steps_box_in_the_checklist():
    request = replace(_request(users=("msmith",)), checklist=("The Offboarding Process has been completed",))
    message = blocks.preview(request)
    [checklist] = [b for b in message["blocks"] if b.get("block_id") == BlockId.CHECKLIST]
    [element] = checklist["elements"]
    assert element["action_id"] == ActionId.CHECKLIST and element["type"] == "checkboxes"
    assert [option["value"] for option in element["options"]] == ["box-1", "attested"]


def test_approval_message_has_buttons_only_while_someone_must_act():
    awaiting = blocks.approval_message(_request(state=RequestState.AWAITING_APPROVAL))
    assert [label for label, *_ in _buttons(awaiting)] == ["Approve", "Reject"]
    waiting = blocks.approval_message(_request(state=RequestState.WAITING))
    assert [label for label, *_ in _buttons(waiting)] == ["Re-check", "Stop here"]
    for state in RequestState:
        if state not in (RequestState.AWAITING_APPROVAL, RequestState.WAITING):
            assert _buttons(blocks.approval_message(_request(state=state))) == []


def test_outcome_lists_every_user():
    request = _request(state=RequestState.FAILED, users=("jdoe", "msmith"),
                       approvals=(Approval("U0BOB", "bob@example.com", NOW),))
    request = replace(request, targets=(
        replace(request.targets[0], outcome=TargetOutcome.DONE, note=Note(Why.COMPLETED)),
        replace(request.targets[1], outcome=TargetOutcome.FAILED, note=Note(Why.TEXT, said="delete failed: busy")),
    ))
    text = json.dumps(blocks.outcome_message(request))
    assert "`jdoe`: deleted successfully" in text and "`msmith`: delete failed: busy" in text


def _with_outcomes(request, *outcomes):
    return replace(request, targets=tuple(replace(target, outcome=outcome)
                                          for target, outcome in zip(request.targets, outcomes, strict=True)))


def _status(message):
    """The status line: the last section of the approval message."""
    return [block for block in message["blocks"] if block["type"] == "section"][-1]["text"]["text"]


def test_a_running_request_shows_its_progress_in_one_line():
    done, failed, aborted, pending = (TargetOutcome.DONE, TargetOutcome.FAILED, TargetOutcome.ABORTED,
                                      TargetOutcome.PENDING)
    request = _request(state=RequestState.EXECUTING, users=("jdoe", "msmith", "pnguyen", "lchen", "hgarcia"),
                       approvals=(Approval("U0BOB", "bob@example.com", NOW),))
    running = _with_outcomes(request, done, failed, done, aborted, pending)
    assert _status(blocks.approval_message(running)) == "*Running*: 2/5 done, 2 failed · approved by <@U0BOB>"
    started = _with_outcomes(request, done, pending, pending, pending, pending)
    assert _status(blocks.approval_message(started)) == "*Running*: 1/5 done · approved by <@U0BOB>"
    approved = blocks.approval_message(replace(request, state=RequestState.APPROVED))
    assert _status(approved) == "*Approved*, approved by <@U0BOB>."


def test_a_progress_redraw_takes_the_counts_and_draws_the_plan_of_the_users_it_is_given():
    request = _request(state=RequestState.EXECUTING, users=("jdoe", "msmith", "pnguyen"))
    counts = {TargetOutcome.DONE: 2, TargetOutcome.FAILED: 0, TargetOutcome.ABORTED: 1, TargetOutcome.PENDING: 0}
    first = blocks.approval_message(request, counts=counts)
    assert _status(first) == "*Running*: 2/3 done, 1 failed · approved by the requester"
    assert blocks.approval_message(request, counts=counts) == first  # the plan drawn once serves every redraw
    other = _request(state=RequestState.EXECUTING, users=("lchen", "hgarcia", "jdoe"))  # same id and version
    drawn = json.dumps(blocks.approval_message(other, counts=counts)["blocks"])
    assert "lchen" in drawn and "msmith" not in drawn


def test_outcome_offers_to_retry_the_users_who_failed():
    request = _request(state=RequestState.FAILED, users=("jdoe", "msmith", "pnguyen"))
    value = RequestRef(r="OB-ABCDEFGH").dump()
    two = _with_outcomes(request, TargetOutcome.DONE, TargetOutcome.FAILED, TargetOutcome.ABORTED)
    assert _buttons(blocks.outcome_message(two)) == [("Retry the 2 failed users", ActionId.RETRY_FAILED, value)]
    one = _with_outcomes(request, TargetOutcome.DONE, TargetOutcome.DONE, TargetOutcome.FAILED)
    assert _buttons(blocks.outcome_message(one)) == [("Retry the failed user", ActionId.RETRY_FAILED, value)]
    none = replace(_with_outcomes(request, *[TargetOutcome.DONE] * 3), state=RequestState.DONE)
    assert _buttons(blocks.outcome_message(none)) == []


def test_outcome_says_where_the_csv_is_or_that_it_is_missing():
    request = _request(state=RequestState.DONE, users=("jdoe",))
    plain = blocks.outcome_message(request)
    assert "CSV" not in json.dumps(plain)
    attached = blocks.outcome_message(request, csv_file="attached")
    assert "CSV file in this message's thread" in attached["text"]
    assert "CSV file in this message's thread" in json.dumps(attached["blocks"])
    failed = json.dumps(blocks.outcome_message(request, csv_file="failed"))
    assert "could not be attached" in failed and "/offboard status OB-ABCDEFGH" in failed


def test_user_text_cannot_ping_or_forge_links():
    request = _request(reason="<!channel> see <https://evil.example|this> & <@U0BOB>")
    text = json.dumps(blocks.approval_message(request))
    assert "<!channel>" not in text and "<https://evil" not in text and "<@U0BOB>" not in text
    assert "&lt;!channel&gt;" in text


def test_long_reasons_stay_inside_block_limits():
    message = blocks.approval_message(_request(reason="x" * 3000))
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if "text" in element and isinstance(element["text"], str):
                assert len(element["text"]) <= 3000
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert len(message["text"]) <= 3000


def _all_blocks_fit(message):
    assert len(message["blocks"]) <= blocks.MAX_BLOCKS
    for block in message["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= blocks.SECTION_LIMIT


def test_big_requests_keep_their_buttons_and_every_user_is_accounted_for():
    names = [user.username for user in DEMO_USERS] * 30  # 570 targets (names repeat; fine for rendering)
    request = _request(users=names, state=RequestState.AWAITING_APPROVAL)
    for message in (blocks.preview(request), blocks.approval_message(request)):
        _all_blocks_fit(message)
        assert _buttons(message), "the decision buttons must survive any number of users"
        assert _accounted(message) == len(names)


def _accounted(message) -> int:
    """Users listed one per line (a plan's groups of steps are not users), plus those the overflow note left out."""
    import re

    listed, hidden = 0, 0
    for block in message["blocks"]:
        if block["type"] == "section":
            listed += sum(line.startswith(("• *", "✅", "❌")) for line in block["text"]["text"].splitlines())
        if block["type"] == "context":
            found = re.search(r"and (\d+) more users", block["elements"][0]["text"])
            hidden += int(found.group(1)) if found else 0
    return listed + hidden


def test_big_outcomes_show_failures_first():
    names = [user.username for user in DEMO_USERS] * 30
    request = _request(users=names, state=RequestState.FAILED)
    failed = len(names) - 1
    request = replace(request, targets=(
        *(replace(t, outcome=TargetOutcome.DONE, note=Note(Why.COMPLETED)) for t in request.targets[:-1]),
        replace(request.targets[-1], outcome=TargetOutcome.FAILED, note=Note(Why.TEXT, said="delete failed: busy")),
    ))
    for message in (blocks.outcome_message(request, csv_file="attached"), blocks.approval_message(request)):
        _all_blocks_fit(message)
        assert "delete failed: busy" in json.dumps(message)
        assert _accounted(message) == failed + 1
    assert _buttons(blocks.outcome_message(request, csv_file="attached"))[0][0] == "Retry the failed user"


def test_sections_say_how_many_lines_were_left_out():
    lines = [f"line {n} " + "x" * 1400 for n in range(20)]
    packed = sections(lines, budget=5, overflow="…and {hidden} more users.")
    assert len(packed) == 5
    assert [b["type"] for b in packed] == ["section"] * 4 + ["context"]
    assert all(len(b["text"]["text"]) <= blocks.SECTION_LIMIT for b in packed[:4])
    assert packed[-1]["elements"][0]["text"] == "…and 12 more users."


def _inputs(view):
    return {block["block_id"]: block for block in view["blocks"] if block["type"] == "input"}


def test_new_request_modal_has_optional_schedule_and_stage_inputs():
    view = blocks.new_request_modal(ModalOrigin(channel="C0GENERAL"))
    assert view["callback_id"] == CallbackId.NEW_REQUEST
    inputs = _inputs(view)
    assert list(inputs) == [BlockId.ACTION, BlockId.PICKED_USERS, BlockId.USERS, BlockId.NEW_USERNAME,
                            BlockId.REASON, BlockId.RUN_AT, BlockId.GRACE, BlockId.RETAIN]
    picker = inputs[BlockId.PICKED_USERS]["element"]
    assert picker["type"] == "multi_external_select" and picker["action_id"] == ActionId.PICK_USERS
    assert inputs[BlockId.RUN_AT]["element"] == {"type": "datetimepicker", "action_id": "value"}
    assert "your time zone" in inputs[BlockId.RUN_AT]["label"]["text"]
    for block_id in (BlockId.GRACE, BlockId.RETAIN):
        assert inputs[block_id]["element"]["type"] == "plain_text_input"
        assert inputs[block_id]["hint"]["text"]
    for block_id in (BlockId.RUN_AT, BlockId.GRACE, BlockId.RETAIN):
        assert inputs[block_id]["optional"] is True
    for block in inputs.values():  # Block Kit limits
        assert len(block["label"]["text"]) <= 2000 and len(block.get("hint", {}).get("text", "")) <= 2000
        assert block["element"].get("max_length", 0) <= 3000
    # the domain names faulty fields by these block ids
    assert (BlockId.RUN_AT, BlockId.GRACE, BlockId.RETAIN) == (RUN_AT_FIELD, GRACE_FIELD, RETAIN_FIELD)


def test_new_request_modal_submission_reads_back_into_a_command():
    view = blocks.new_request_modal(ModalOrigin())
    picked = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    values = state_values(view["blocks"], {"action": "delete", "users": "jdoe", "run_at": str(int(picked.timestamp())),
                                           "grace": "7d", "retain": "30d"})
    assert client_side_problems(view["blocks"], values) == []
    submitted = {**view, "state": {"values": values}}
    assert input_datetime(submitted, BlockId.RUN_AT) == picked
    command = command_from_form(
        action=input_value(submitted, BlockId.ACTION), users=input_value(submitted, BlockId.USERS),
        new_username=input_value(submitted, BlockId.NEW_USERNAME), reason=input_value(submitted, BlockId.REASON),
        at=input_datetime(submitted, BlockId.RUN_AT), grace=input_value(submitted, BlockId.GRACE),
        retain=input_value(submitted, BlockId.RETAIN))
    assert (command.at, command.grace, command.retain) == (picked, timedelta(days=7), timedelta(days=30))
    empty = {**view, "state": {"values": state_values(view["blocks"], {"users": "jdoe"})}}
    assert input_datetime(empty, BlockId.RUN_AT) is None and input_value(empty, BlockId.GRACE) == ""


def test_help_explains_scheduling_and_staging():
    message = blocks.help_message(datetime(2027, 3, 30, 23, 30, tzinfo=UTC))
    _all_blocks_fit(message)
    text = message["blocks"][0]["text"]["text"]
    assert "[--at WHEN]" in text and "--grace 7d --retain 30d" in text and "in 2h" in text
    assert "`2027-04-06 09:00` in your Slack time zone" in text  # a week ahead of when help was asked


def _bulk(state: RequestState, count: int = 500) -> OffboardRequest:
    from bot.domain.directory import ConsoleUser

    outcomes = (TargetOutcome.DONE, TargetOutcome.FAILED, TargetOutcome.ABORTED, TargetOutcome.PENDING)
    targets = tuple(
        Target(id=i, position=i, outcome=outcomes[i % 4] if state is not RequestState.AWAITING_APPROVAL
               else TargetOutcome.PENDING, note=Note(Why.TEXT, said="x" * 300) if i % 4 else None,
               plan=build_plan(Action.DELETE, ConsoleUser(id=f"u{i}", username=f"user.{i:04}.{'n' * 50}",
                                                          email=f"user{i}@example.com", first_name="A" * 40,
                                                          licenses=("X Series X4",))))
        for i in range(count))
    return replace(_request(state=state), targets=targets, reason="r" * 3000,
                   left_out=tuple((Problem(ProblemKind.NOT_FOUND, f"someone{i}", console="local"),)
                                  for i in range(200)))


def test_every_message_of_a_500_user_request_stays_inside_block_kit_limits():
    from bot.simulators.slack.blocks import block_problems

    for message in (blocks.preview(_bulk(RequestState.DRAFT)),
                    blocks.approval_message(_bulk(RequestState.AWAITING_APPROVAL)),
                    blocks.approval_message(_bulk(RequestState.EXECUTING)),
                    blocks.approval_message(_bulk(RequestState.FAILED)),
                    blocks.outcome_message(_bulk(RequestState.FAILED)),
                    blocks.status_message(_bulk(RequestState.FAILED))):
        assert block_problems(message["blocks"], max_blocks=50) == []
        assert len(message["text"]) <= 3000


def _texts(message):
    """Every mrkdwn or plain text of the message's blocks, in order."""
    found = []
    for block in message["blocks"]:
        if isinstance(block.get("text"), dict):
            found.append(block["text"]["text"])
        found += [element["text"] for element in block.get("elements", []) if isinstance(element.get("text"), str)]
    return found


def test_a_refusal_carries_the_reference_to_quote():
    assert blocks.refusal("Nope.", reference="4bf92f35") == {"text": "Nope.", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": ":no_entry: Nope.", "verbatim": True}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "ref `4bf92f35`", "verbatim": True}]}]}
    assert _texts(blocks.refusal("Nope.")) == [":no_entry: Nope."]


def test_status_shows_each_user_and_each_step_of_its_journal():
    from bot.domain.plan import StepKind
    from bot.domain.records import StepRecord, StepStatus

    request = replace(_request(state=RequestState.FAILED, attested_by="U0BOB"), checklist=("Laptop returned",))
    steps = (StepRecord(StepKind.RELEASE_LICENSES, StepStatus.DONE, None, NOW, NOW),
             StepRecord(StepKind.DELETE, StepStatus.FAILED, Note(Why.REFUSED, said="HTTP 500 <busy>"), NOW, NOW))
    failed = Note(Why.STEP_FAILED, step=StepKind.DELETE, cause=Why.REFUSED, said="HTTP 500 <busy>")
    request = replace(request, targets=(replace(request.targets[0], outcome=TargetOutcome.FAILED, note=failed,
                                                steps=steps),))
    message = blocks.status_message(request)
    assert message["text"] == "Request OB-ABCDEFGH: Finished with failures"
    assert _texts(message)[0].splitlines() == [
        "*Delete jdoe* · `OB-ABCDEFGH` · Finished with failures",
        "Checked by <@U0BOB> before asking:",
        "☑ Laptop returned",
        "❌ `jdoe`: delete failed: HTTP 500 &lt;busy&gt;. Earlier steps stay done and nothing after it ran. Check the "
        "user in the Admin Console, then start a new request for them.",
        "    · release licenses: done",
        "    · delete: failed (HTTP 500 &lt;busy&gt;)",
    ]


def test_the_list_of_open_requests():
    assert blocks.list_message([]) == blocks.notice("No open requests.")
    waiting = _request(state=RequestState.AWAITING_APPROVAL)
    running = _request(state=RequestState.EXECUTING, users=("jdoe", "msmith"), id="OB-ZYXWVUTS")
    message = blocks.list_message([waiting, running])
    assert message["text"] == "2 open request(s)"
    assert _texts(message) == ["*Open requests*\n"
                               "`OB-ABCDEFGH` · Delete jdoe · Waiting for approval · by <@U0ALICE>\n"
                               "`OB-ZYXWVUTS` · Delete 2 users · Running · by <@U0ALICE>"]


def test_a_renamed_user_shows_the_new_username():
    request = _request(action=Action.RENAME, state=RequestState.DONE)
    plan = replace(request.targets[0].plan, new_username="jdoe.old")
    request = replace(request, targets=(replace(request.targets[0], plan=plan, outcome=TargetOutcome.DONE,
                                                note=Note(Why.COMPLETED)),))
    assert "✅ `jdoe` → `jdoe.old`: renamed successfully" in _texts(blocks.outcome_message(request))


def test_a_cancelled_request_says_who_cancelled_it_or_why_the_bot_called_it_off():
    from bot.domain.events import Lapse

    by_admin = blocks.approval_message(_request(state=RequestState.CANCELLED, decided_by="U0BOB"))
    assert _status(by_admin) == "*Cancelled* by <@U0BOB>."
    lapse = Lapse(gone=("bob@example.com",), counted=0, required=1).to_json()
    called_off = blocks.approval_message(_request(state=RequestState.CANCELLED, decision_note=lapse))
    assert _status(called_off) == ("*Cancelled*: the approval of bob@example.com no longer counts (no longer an "
                                   "admin), so it has 0 of the 1 approvals it needs.")
    legacy = blocks.approval_message(_request(state=RequestState.CANCELLED, decision_note="<b> is no longer an admin"))
    assert _status(legacy) == "*Cancelled*: &lt;b&gt; is no longer an admin."


def test_the_facts_say_when_it_runs_or_its_next_stage_is_due():
    run_at = NOW + timedelta(days=1)
    shown = (f"<!date^{int(run_at.timestamp())}^{{date_short_pretty}} {{time}}|2026-11-03 09:00 UTC> "
             "(2026-11-03 09:00 UTC)")
    waiting = _texts(blocks.approval_message(_request(state=RequestState.AWAITING_APPROVAL, run_at=run_at)))
    assert f"runs {shown}" in waiting[1]
    staged = _request(state=RequestState.APPROVED, run_at=run_at, started_at=NOW)
    assert f"next stage {shown}" in _texts(blocks.approval_message(staged))[1]
    assert "runs" not in _texts(blocks.approval_message(_request(state=RequestState.EXECUTING, run_at=run_at)))[1]


def test_a_retry_says_what_it_retries():
    retry = _request(retry_of="OB-OLDOLDOL", reason="")
    assert "reason: Retry of the users that failed in OB-OLDOLDOL" in _texts(blocks.preview(retry))[1]
    with_reason = _request(retry_of="OB-OLDOLDOL", reason="left <today>")
    assert "reason: Retry of the users that failed in OB-OLDOLDOL: left &lt;today&gt;" in (
        _texts(blocks.preview(with_reason))[1])


def test_the_user_picker_names_each_user_in_one_word():
    from bot.domain.directory import ConsoleUser

    users = [USERS["jdoe"], replace(USERS["msmith"], email="maria smith@example.com"),
             ConsoleUser(id="u-1", username="no one", email=""), ConsoleUser(id="u-2", username="x" * 151, email=""),
             replace(USERS["lchen"], first_name="L" * 80)]
    options = blocks.user_options(users)["options"]
    assert [option["value"] for option in options] == ["jdoe@example.com", "msmith", "lchen@example.com"]
    assert options[0]["text"] == {"type": "plain_text", "text": "John Doe · jdoe · jdoe@example.com"}
    assert len(options[2]["text"]["text"]) == 75 and options[2]["text"]["text"].endswith("…")
    assert len(blocks.user_options(list(DEMO_USERS) * 10)["options"]) == 100


def test_the_rejection_modal_asks_why():
    view = blocks.reject_modal(_request(state=RequestState.AWAITING_APPROVAL))
    assert view["callback_id"] == CallbackId.REJECT_REASON
    assert view["private_metadata"] == RequestRef(r="OB-ABCDEFGH").dump()
    assert view["blocks"][0]["text"]["text"] == "Reject *Delete jdoe* (`OB-ABCDEFGH`)?"
    assert list(_inputs(view)) == [BlockId.REASON]
    assert _inputs(view)[BlockId.REASON]["element"]["multiline"] is True


def test_a_closed_preview_says_what_became_of_it():
    closed = blocks.preview_closed(_request(), "Sent for approval in <#C0APPROVALS>.")
    assert closed == {"text": "Sent for approval in <#C0APPROVALS>.", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": "*Delete jdoe* · `OB-ABCDEFGH`\nSent for approval in <#C0APPROVALS>.",
                                     "verbatim": True}}]}


def test_a_plan_says_only_what_it_has_to_say():
    from bot.domain.plan import Wording

    deactivate = blocks.plan_blocks(build_plan(Action.DEACTIVATE, USERS["lchen"]))
    assert deactivate == [{"type": "section", "text": {"type": "mrkdwn", "text": (
        "*Li Chen* · `lchen` · lchen@example.com\n1. Deactivate the user (the profile is kept)"), "verbatim": True}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            "Kept: the profile, licenses and numbers, voicemails and call recordings"), "verbatim": True}]}]
    silent = replace(build_plan(Action.REACTIVATE, USERS["lchen"]), wording=Wording(("Reactivate",), (), (), ()))
    assert [block["type"] for block in blocks.plan_blocks(silent)] == ["section"]
    facts = _texts(blocks.approval_message(_request(state=RequestState.DONE, reason="")))[1]
    assert facts == "Request `OB-ABCDEFGH` · asked by <@U0ALICE>"
