"""The small pieces every message is built from, within Slack's limits."""

from __future__ import annotations

from bot.domain.lifecycle import RequestState
from bot.domain.records import OffboardRequest, WorkflowOrigin
from bot.slack.ids import ActionId
from bot.slack.markup import mention, plain, utc, when

SECTION_LIMIT = 3000
MAX_BLOCKS = 50


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mrkdwn(text: str, limit: int = SECTION_LIMIT) -> dict:
    """A mrkdwn text object. Verbatim: Slack still renders the bot's markup, mentions, channels and dates, but
    does not turn bare URLs, channel names or @here it finds in outside text into links or mentions."""
    return {"type": "mrkdwn", "text": clip(text, limit), "verbatim": True}


def section(text: str) -> dict:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: str) -> dict:
    return {"type": "context", "elements": [mrkdwn(text)]}


def header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, 150)}}


def button(label: str, action_id: ActionId, value: str, *, style: str | None = None) -> dict:
    element = {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id.value,
               "value": value}
    if style:
        element["style"] = style
    return element


def message(text: str, blocks: list[dict]) -> dict:
    assert len(blocks) <= MAX_BLOCKS, f"{len(blocks)} blocks: the builder must fit its content"
    return {"text": clip(text, 3000), "blocks": blocks}


def sections(lines: list[str], *, budget: int, overflow: str) -> list[dict]:
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


def title(request: OffboardRequest) -> str:
    count = len(request.targets)
    who = plain(request.targets[0].plan.username) if count == 1 else f"{count} users"
    return f"{request.action.value.capitalize()} {who}"


def request_facts(request: OffboardRequest) -> dict:
    """Who asked, why, and when it expires or runs, as one context line."""
    facts = [f"Request `{request.id}`", f"asked by {mention(request.requester_id)}"]
    if request.workflow is not None:
        facts.append(workflow_origin(request.workflow))
    if request.reason or request.retry_of:
        facts.append(f"reason: {plain(reason(request))}")
    if request.state.is_undecided:
        facts.append(f"expires {when(request.expires_at)}")
    if request.run_at and request.state in (RequestState.DRAFT, RequestState.AWAITING_APPROVAL,
                                            RequestState.APPROVED):
        what = "next stage" if request.started_at else "runs"
        facts.append(f"{what} {when(request.run_at)} ({utc(request.run_at)})")
    return context(" · ".join(facts))


def workflow_origin(origin: WorkflowOrigin) -> str:
    """Where a request a workflow proposed came from, and what the workflow said of the offboarding process."""
    by = f" run by {mention(origin.proposed_by)}" if origin.proposed_by else ""
    said = "complete" if origin.process_complete else "*not* complete"
    return f"proposed by a workflow{by}, which says the offboarding process is {said}"


def reason(request: OffboardRequest) -> str:
    """The reason as shown: a retry says what it retries."""
    if not request.retry_of:
        return request.reason
    retry = f"Retry of the users that failed in {request.retry_of}"
    return f"{retry}: {request.reason}" if request.reason else retry
