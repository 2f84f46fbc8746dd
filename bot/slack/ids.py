"""Every Slack command, action id and callback id, defined once for builders and listeners alike."""

from enum import StrEnum

COMMAND = "/offboard"


class ActionId(StrEnum):
    REQUEST_APPROVAL = "offboard_request_approval"
    CONFIRM = "offboard_confirm"
    DISCARD = "offboard_discard"  # cancel a draft from its private preview
    CHECKLIST = "offboard_checklist"  # the boxes the requester ticks before sending (the policy's, the manual steps)
    ATTEST_CONTACT_CENTER = "offboard_attest_contact_center"  # the manual steps' box on previews made before 0006
    APPROVE = "offboard_approve"
    REJECT = "offboard_reject"
    CANCEL_REQUEST = "offboard_cancel_request"
    PICK_USERS = "offboard_pick_users"  # the form's user picker, searching the console as one types
    RECHECK = "offboard_recheck"  # verify manual steps by reading the users back, then carry on
    STOP_WAITING = "offboard_stop_waiting"
    RETRY_FAILED = "offboard_retry_failed"  # on the results: a new draft holding just the users that failed
    TAKE_PROPOSAL = "offboard_take_proposal"  # on a workflow's proposal: the clicking admin becomes its requester
    OPEN_FORM = "offboard_open_form"  # on the App Home: the /offboard form


class CallbackId(StrEnum):
    NEW_REQUEST = "offboard_new_request"
    REJECT_REASON = "offboard_reject_reason"


class ShortcutId(StrEnum):
    OFFBOARD_SOMEONE = "offboard_someone"  # the global shortcut: opens the /offboard form


class FunctionId(StrEnum):
    """Custom steps for Workflow Builder (manifest.yml `functions`)."""

    REQUEST_OFFBOARDING = "request_offboarding"


class StepInput(StrEnum):
    """The step's input parameters, as named in manifest.yml."""

    LEAVER = "leaver"  # a Slack member
    LEAVER_TEXT = "leaver_email_or_username"
    ACTION = "action"
    DATE = "date"
    REASON = "reason"
    PROCESS_COMPLETE = "offboarding_process_complete"
    REQUESTED_BY = "requested_by"  # the member who ran the workflow (shown on the proposal)


class StepOutput(StrEnum):
    REQUEST_ID = "request_id"
    STATE = "final_state"
    SUMMARY = "summary"
    IN_PROGRESS = "still_in_progress"  # true when the step was answered before its request ended


class BlockId(StrEnum):
    ACTIONS = "offboard_actions"
    CHECKLIST = "offboard_checklist"
    ATTESTATION = "offboard_attestation"  # previews made before the checklist
    ACTION = "action"
    USERS = "users"
    PICKED_USERS = "picked_users"
    NEW_USERNAME = "new_username"
    REASON = "reason"
    RUN_AT = "run_at"  # the same names as BadCommand.field in bot.domain.schedule
    GRACE = "grace"
    RETAIN = "retain"


# The bot token scopes the code uses; manifest.yml asks for exactly these and `offboard-bot check` verifies them.
BOT_SCOPES = frozenset({
    "commands", "chat:write", "users:read", "users:read.email", "channels:read", "groups:read", "files:write",
})
