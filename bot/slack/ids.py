"""Every Slack command, action id and callback id, defined once for builders and listeners alike."""

from enum import StrEnum

COMMAND = "/offboard"


class ActionId(StrEnum):
    REQUEST_APPROVAL = "offboard_request_approval"
    CONFIRM = "offboard_confirm"
    DISCARD = "offboard_discard"  # cancel a draft from its private preview
    ATTEST_CONTACT_CENTER = "offboard_attest_contact_center"
    APPROVE = "offboard_approve"
    REJECT = "offboard_reject"
    CANCEL_REQUEST = "offboard_cancel_request"
    RECHECK = "offboard_recheck"  # verify manual steps by reading the users back, then carry on
    STOP_WAITING = "offboard_stop_waiting"


class CallbackId(StrEnum):
    NEW_REQUEST = "offboard_new_request"
    REJECT_REASON = "offboard_reject_reason"


class BlockId(StrEnum):
    ACTIONS = "offboard_actions"
    ATTESTATION = "offboard_attestation"
    ACTION = "action"
    USERS = "users"
    NEW_USERNAME = "new_username"
    REASON = "reason"
    RUN_AT = "run_at"  # the same names as BadCommand.field in bot.domain.schedule
    GRACE = "grace"
    RETAIN = "retain"
