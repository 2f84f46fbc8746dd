"""The App Home tab: what waits for an admin, with the buttons to act on it; for everyone else, whom to ask."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain.lifecycle import Action, RequestState
from bot.domain.workflows import Proposal, ProposalState, StepInputs
from bot.errors import Refusal
from bot.ports import Home
from bot.slack import blocks
from bot.slack.blocks.home import HOME_SECTION_ITEMS, PROPOSALS_ITEMS
from bot.slack.ids import ActionId
from bot.slack.values import RequestRef
from tests.slack.builders import NOW, of_users, request

RUN_AT = NOW + timedelta(days=1)
WHEN = f"<!date^{int(RUN_AT.timestamp())}^{{date_short_pretty}} {{time}}|2026-11-03 09:00 UTC>"


def _sections(view: dict) -> dict[str, list[dict]]:
    """The blocks under each heading (a divider, then the heading in bold)."""
    found: dict[str, list[dict]] = {}
    heading = None
    for block in view["blocks"]:
        text = block.get("text", {}).get("text", "") if block["type"] == "section" else ""
        if text.startswith("*") and text.endswith("*") and "\n" not in text:
            heading = text.strip("*")
            found[heading] = []
        elif heading and block["type"] != "divider":
            found[heading].append(block)
    return found


def _buttons(blocks_: list[dict]) -> list[tuple[str, str, str]]:
    return [(element["text"]["text"], element["action_id"], element["value"]) for block in blocks_
            if block["type"] == "actions" for element in block["elements"]]


def test_someone_who_is_not_an_admin_is_told_whom_to_ask_and_why():
    view = blocks.home_view(Home(user_id="U0CAROL", is_admin=False, admins=("U0ALICE", "U0BOB"),
                                 why_not=Refusal("no_verified_email")))
    assert view["type"] == "home"
    assert [block["type"] for block in view["blocks"]] == ["header", "section", "context"]
    assert view["blocks"][1]["text"]["text"] == (
        "*offboard-bot* deletes, deactivates or renames users in the admin console, with a second admin's approval. "
        "Only account admins can use it: ask <@U0ALICE>, <@U0BOB>.")
    assert view["blocks"][2]["elements"][0]["text"] == (
        "Your Slack account has no verified email, so I cannot check your admin role.")


def test_without_known_admins_it_says_the_account_admins():
    view = blocks.home_view(Home(user_id="U0CAROL", is_admin=False))
    assert view["blocks"][1]["text"]["text"].endswith("Only account admins can use it: ask the account admins.")
    assert view["blocks"][2]["elements"][0]["text"] == " "


def test_an_admin_with_nothing_to_do():
    view = blocks.home_view(Home(user_id="U0BOB", is_admin=True))
    sections = _sections(view)
    assert list(sections) == ["Waiting for your approval", "Your open requests", "Scheduled", "Recent outcomes"]
    assert sections["Recent outcomes"][0]["elements"][0]["text"] == "Nothing here."
    assert all(blocks_[0]["elements"][0]["text"] == "Nothing here." for blocks_ in sections.values())
    assert view["blocks"][-1]["elements"][0]["text"] == (
        "`/offboard` starts a request · `/offboard help` lists the commands")


def test_what_waits_for_an_admin_comes_with_approve_and_reject():
    waiting = request(reason="left <today> & gone")
    sections = _sections(blocks.home_view(Home(user_id="U0BOB", is_admin=True, to_approve=(waiting,))))
    line, actions = sections["Waiting for your approval"]
    assert line["text"]["text"] == ("`OB-ABCDEFGH` · Delete jdoe · Waiting for approval · by <@U0ALICE>\n"
                                    "_left &lt;today&gt; &amp; gone_")
    ref = RequestRef(r="OB-ABCDEFGH").dump()
    assert _buttons([actions]) == [("Approve", ActionId.APPROVE, ref), ("Reject", ActionId.REJECT, ref)]


def test_an_admins_own_requests_can_be_cancelled_while_they_wait():
    waiting = request(state=RequestState.APPROVED, run_at=RUN_AT)
    running = replace(of_users("jdoe", "msmith", state=RequestState.EXECUTING), id="OB-RUNNING1")
    home = Home(user_id="U0ALICE", is_admin=True, mine=(waiting, running), scheduled=(waiting,))
    sections = _sections(blocks.home_view(home))
    mine = sections["Your open requests"]
    assert [block["type"] for block in mine] == ["section", "actions", "section"]  # running: nothing to cancel
    assert _buttons(mine) == [("Cancel", ActionId.CANCEL_REQUEST, RequestRef(r="OB-ABCDEFGH").dump())]
    assert mine[2]["text"]["text"].startswith("`OB-RUNNING1` · Delete 2 users · Running · by <@U0ALICE>")
    [scheduled] = sections["Scheduled"]
    assert scheduled["text"]["text"].startswith(f"`OB-ABCDEFGH` · Delete jdoe · Approved · by <@U0ALICE> · runs {WHEN}")


def test_a_scheduled_request_shows_when_it_runs_or_its_next_stage_does():
    staged = request(state=RequestState.APPROVED, run_at=RUN_AT, started_at=NOW, reason="", retry_of="OB-OLDOLDOL")
    plain = request(state=RequestState.APPROVED, run_at=RUN_AT, reason="")
    line, unexplained = _sections(blocks.home_view(Home(user_id="U0BOB", is_admin=True, scheduled=(staged, plain))))[
        "Scheduled"]
    assert unexplained["text"]["text"] == f"`OB-ABCDEFGH` · Delete jdoe · Approved · by <@U0ALICE> · runs {WHEN}"
    assert line["text"]["text"] == (f"`OB-ABCDEFGH` · Delete jdoe · Approved · by <@U0ALICE> · next stage {WHEN}\n"
                                    "_Retry of the users that failed in OB-OLDOLDOL_")


def test_a_long_reason_is_cut_short():
    view = blocks.home_view(Home(user_id="U0BOB", is_admin=True, recent=(request(reason="r" * 500),)))
    line = _sections(view)["Recent outcomes"][0]
    assert line["text"]["text"].endswith("_" + "r" * 199 + "…_")


def test_each_section_shows_ten_requests_and_counts_the_rest():
    many = tuple(replace(request(), id=f"OB-REQ{n:05}") for n in range(HOME_SECTION_ITEMS + 3))
    view = blocks.home_view(Home(user_id="U0BOB", is_admin=True, to_approve=many, recent=many))
    waiting = _sections(view)["Waiting for your approval"]
    assert sum(block["type"] == "section" for block in waiting) == HOME_SECTION_ITEMS
    assert waiting[-1]["elements"][0]["text"] == "…and 3 more: `/offboard list`"
    assert len(view["blocks"]) <= 100


def _proposal(number: int) -> Proposal:
    return Proposal(request_id=f"OB-PROPOSE{number}", execution_id=f"Fx{number}",
                    inputs=StepInputs(action=Action.DELETE, leaver_text=f"user{number}", reason="left"),
                    state=ProposalState.PROPOSED, proposed_by="U0CAROL", created_at=NOW,
                    expires_at=NOW + timedelta(hours=24))


def test_workflows_proposals_are_listed_with_take_it_and_only_when_there_are_some():
    assert "Proposed by workflows, for an admin to take" not in _sections(blocks.home_view(Home("U0BOB", True)))
    home = Home("U0BOB", True, to_take=tuple(_proposal(number) for number in range(PROPOSALS_ITEMS + 1)))
    listed = _sections(blocks.home_view(home))["Proposed by workflows, for an admin to take"]
    assert _buttons(listed) == [
        ("Take it", ActionId.TAKE_PROPOSAL.value, RequestRef(r=f"OB-PROPOSE{number}").dump())
        for number in range(PROPOSALS_ITEMS)]
    assert "`OB-PROPOSE0` · Delete `user0` · workflow run by <@U0CAROL> · expires" in listed[0]["text"]["text"]
    assert "_left_" in listed[0]["text"]["text"]
    assert listed[-1]["elements"][0]["text"] == "…and more: the approvals channel lists every one."
