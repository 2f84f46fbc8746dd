"""The demo console's mark on what admins see in Slack (the approvals message, the App Home), when `serve` runs
on the local demo directory: a line under the title, or the title tagged when Slack's block limit leaves no room."""

from __future__ import annotations

from bot.slack.blocks.kit import MAX_BLOCKS, clip, context
from bot.slack.messages.demo import DEMO_CONSOLE, DEMO_TAG

MAX_VIEW_BLOCKS = 100  # an App Home view's limit; a message's is MAX_BLOCKS


def marked(payload: dict, *, limit: int = MAX_BLOCKS) -> dict:
    """The message or view `payload` (its `blocks`, and `text` when it has one) marked as the demo console's."""
    blocks = list(payload.get("blocks") or [])
    titled = bool(blocks) and blocks[0].get("type") == "header"
    if len(blocks) < limit:
        blocks.insert(1 if titled else 0, context(DEMO_CONSOLE))
    elif titled:
        title = blocks[0]["text"]
        blocks[0] = {**blocks[0], "text": {**title, "text": clip(f"{DEMO_TAG} · {title['text']}", 150)}}
    marked_payload = {**payload, "blocks": blocks}
    if payload.get("text"):
        marked_payload["text"] = f"({DEMO_TAG}) {payload['text']}"
    return marked_payload
