"""The modals: the /offboard form (with its user picker's options) and the rejection reason."""

from __future__ import annotations

from bot.domain.directory import ConsoleUser
from bot.domain.lifecycle import Action
from bot.domain.records import OffboardRequest
from bot.slack.blocks.kit import clip, section, title
from bot.slack.ids import ActionId, BlockId, CallbackId
from bot.slack.markup import one_line
from bot.slack.values import ModalOrigin, RequestRef


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
        label = clip(one_line(f"{user.display_name} · {user.username} · {user.email}"), 75)
        options.append({"text": {"type": "plain_text", "text": label}, "value": value})
    return {"options": options}


def reject_modal(request: OffboardRequest) -> dict:
    """Asks the rejecting admin why."""
    return {
        "type": "modal", "callback_id": CallbackId.REJECT_REASON.value,
        "private_metadata": RequestRef(r=request.id).dump(),
        "title": {"type": "plain_text", "text": "Reject request"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [section(f"Reject *{title(request)}* (`{request.id}`)?"),
                   _input(BlockId.REASON, "Reason", _text_input("value", multiline=True))],
    }
