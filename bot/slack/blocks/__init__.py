"""Every Block Kit message and modal the bot shows: pure functions, data in, dicts out.

kit (the pieces and Slack's limits), plans (the plan and the private preview), approval (the request's
message), results (the results channel), stages (a staged delete's stage done, in the results channel), answers
(help, status, list, notices, refusals), modals, home."""

from bot.slack.blocks.answers import help_message, list_message, notice, refusal, reminder, status_message
from bot.slack.blocks.approval import approval_message
from bot.slack.blocks.home import home_view
from bot.slack.blocks.kit import MAX_BLOCKS, SECTION_LIMIT, clip
from bot.slack.blocks.modals import new_request_modal, reject_modal, user_options
from bot.slack.blocks.plans import plan_blocks, preview, preview_closed
from bot.slack.blocks.results import CsvFile, outcome_message
from bot.slack.blocks.stages import stage_message

__all__ = [
    "MAX_BLOCKS", "SECTION_LIMIT", "CsvFile", "approval_message", "clip", "help_message", "home_view", "list_message",
    "new_request_modal", "notice", "outcome_message", "plan_blocks", "preview", "preview_closed", "refusal",
    "reject_modal", "reminder", "stage_message", "status_message", "user_options",
]
