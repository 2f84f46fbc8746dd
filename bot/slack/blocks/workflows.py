"""The message a workflow's proposal shows in the approvals channel, with the Take it button while it waits."""

from __future__ import annotations

from bot.domain.workflows import Proposal, ProposalState
from bot.slack.blocks.kit import button, context, header, message, section
from bot.slack.ids import ActionId, BlockId
from bot.slack.markup import mention, plain, utc, when
from bot.slack.messages.workflows import proposal_title
from bot.slack.values import RequestRef


def proposal_message(proposal: Proposal) -> dict:
    """A workflow asks for an offboarding: what it asks, and who may act (an admin, who becomes its requester)."""
    inputs = proposal.inputs
    title = proposal_title(proposal)
    by = f", run by {mention(proposal.proposed_by)}" if proposal.proposed_by else ""
    facts = [f"*Request:* `{proposal.request_id}` · proposed by a workflow{by}"]
    if inputs.date:
        facts.append(f"*Date:* {when(inputs.date)} ({utc(inputs.date)})")
    facts.append(f"*Reason:* {plain(inputs.reason) or '(none given)'}")
    facts.append("*Offboarding process complete (says the workflow):* "
                 + ("yes" if inputs.process_complete else "*no*"))
    blocks = [header(f"Workflow asks: {title}"[:150]), section("\n".join(facts))]
    if proposal.state is ProposalState.PROPOSED:
        blocks.append(context("Nothing happens until an admin takes it: whoever takes it becomes its requester, "
                              "sees the live plan, ticks the checklist and sends it for approval as usual."))
        blocks.append({"type": "actions", "block_id": BlockId.ACTIONS.value, "elements": [
            button("Take it", ActionId.TAKE_PROPOSAL, RequestRef(r=proposal.request_id).dump(), style="primary")]})
    elif proposal.state is ProposalState.TAKEN or proposal.taken_by:
        blocks.append(context(f"Taken by {mention(proposal.taken_by or '')}: `{proposal.request_id}` is theirs now."))
    else:
        blocks.append(context("Nobody took it in time: the workflow was told it expired."))
    return message(f"A workflow asks: {title} ({proposal.request_id})", blocks)
