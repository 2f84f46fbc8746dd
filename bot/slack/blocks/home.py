"""The App Home tab: what workflows propose (with Take it), what waits for this admin (with Approve and Reject),
theirs, scheduled, recent."""

from __future__ import annotations

from bot.domain.lifecycle import RequestState
from bot.domain.records import OffboardRequest
from bot.domain.workflows import Proposal
from bot.ports import Home
from bot.slack.blocks.kit import button, clip, context, header, reason, section, title
from bot.slack.ids import COMMAND, ActionId
from bot.slack.markup import mention, plain, when
from bot.slack.messages.refusals import refusal_text
from bot.slack.messages.states import STATE_LABEL
from bot.slack.messages.workflows import proposal_title
from bot.slack.values import RequestRef

HOME_SECTION_ITEMS = 10  # requests shown per section; the rest are counted
PROPOSALS_ITEMS = 5  # workflows' proposals shown; the approvals channel has every one


def home_view(home: Home) -> dict:
    """The App Home tab: what workflows propose (with Take it), what waits for this admin (with Approve and
    Reject), theirs, scheduled, recent."""
    if not home.is_admin:
        admins = ", ".join(mention(user_id) for user_id in home.admins) or "the account admins"
        text = (f"*offboard-bot* deletes, deactivates or renames users in the admin console, with a second "
                f"admin's approval. Only account admins can use it: ask {admins}.")
        return {"type": "home", "blocks": [header("offboard-bot"), section(text),
                                           context(refusal_text(home.why_not) if home.why_not else " ")]}
    blocks: list[dict] = [header("Offboarding"), {"type": "actions", "elements": [
        button("Open the form", ActionId.OPEN_FORM, "{}", style="primary")]}]
    blocks += _proposals_section(home.to_take)
    blocks += _home_section("Waiting for your approval", home.to_approve, buttons=True)
    blocks += _home_section("Your open requests", home.mine, cancel=True)
    blocks += _home_section("Scheduled", home.scheduled)
    blocks += _home_section("Recent outcomes", home.recent)
    blocks.append(context(f"`{COMMAND}` starts a request · `{COMMAND} help` lists the commands"))
    assert len(blocks) <= 100
    return {"type": "home", "blocks": blocks}


def _home_section(heading: str, requests: tuple[OffboardRequest, ...], *, buttons: bool = False,
                  cancel: bool = False) -> list[dict]:
    blocks: list[dict] = [{"type": "divider"}, section(f"*{heading}*")]
    if not requests:
        return [*blocks, context("Nothing here.")]
    for request in requests[:HOME_SECTION_ITEMS]:
        line = f"`{request.id}` · {title(request)} · {STATE_LABEL[request.state]} · by {mention(request.requester_id)}"
        if request.run_at and request.state is RequestState.APPROVED:
            line += f" · {'next stage' if request.started_at else 'runs'} {when(request.run_at)}"
        if request.reason or request.retry_of:
            line += f"\n_{plain(clip(reason(request), 200))}_"
        blocks.append(section(line))
        ref = RequestRef(r=request.id).dump()
        if buttons:
            blocks.append({"type": "actions", "elements": [button("Approve", ActionId.APPROVE, ref, style="primary"),
                                                            button("Reject", ActionId.REJECT, ref, style="danger")]})
        elif cancel and request.state.is_cancellable:
            blocks.append({"type": "actions", "elements": [button("Cancel", ActionId.CANCEL_REQUEST, ref)]})
    if len(requests) > HOME_SECTION_ITEMS:
        blocks.append(context(f"…and {len(requests) - HOME_SECTION_ITEMS} more: `{COMMAND} list`"))
    return blocks


def _proposals_section(proposals: tuple[Proposal, ...]) -> list[dict]:
    """Workflows' proposals an admin can take (nothing when there are none)."""
    if not proposals:
        return []
    blocks: list[dict] = [{"type": "divider"}, section("*Proposed by workflows, for an admin to take*")]
    for proposal in proposals[:PROPOSALS_ITEMS]:
        by = f" · workflow run by {mention(proposal.proposed_by)}" if proposal.proposed_by else ""
        line = f"`{proposal.request_id}` · {proposal_title(proposal)}{by} · expires {when(proposal.expires_at)}"
        if proposal.inputs.reason:
            line += f"\n_{plain(clip(proposal.inputs.reason, 200))}_"
        blocks.append(section(line))
        blocks.append({"type": "actions", "elements": [
            button("Take it", ActionId.TAKE_PROPOSAL, RequestRef(r=proposal.request_id).dump(), style="primary")]})
    if len(proposals) > PROPOSALS_ITEMS:
        blocks.append(context("…and more: the approvals channel lists every one."))
    return blocks
