"""What an admin must do by hand when the console's API cannot do a step (8x8 tenants without PUT)."""

from __future__ import annotations

from bot.domain.directory import ConsoleUser
from bot.domain.plan import StepKind, TargetPlan

RECHECK_HINT = "Then press *Re-check*: I read the user back and carry on with the remaining steps."


def manual_instructions(kind: StepKind, plan: TargetPlan, user: ConsoleUser | None, *, console: str) -> str:
    """Return exact instructions for doing one step in the console's own admin pages."""
    where = "8x8 Admin Console" if console == "8x8" else f"{console} admin console"
    who = f"{plan.display_name} (username {plan.username}, {plan.email})"
    opening = f"In {where}, open *Users* and select {who}."
    if kind is StepKind.RELEASE_LICENSES:
        held = ", ".join([*(user.licenses if user else ()), *(user.phone_numbers if user else ())]) or "all"
        what = (f"Remove every license and the extensions holding phone numbers ({held}), save, and wait until "
                "the console shows the user without them.")
    elif kind is StepKind.DEACTIVATE:
        what = "Set the status to *Inactive* and save."
    elif kind is StepKind.REACTIVATE:
        what = "Set the status to *Active* and save."
    elif kind is StepKind.RENAME:
        what = f"Change the user name from {plan.username} to {plan.new_username} and save."
    elif kind is StepKind.DELETE:
        what = "Delete the user (this removes the profile and its user ID for good)."
    else:
        what = "Do this step as the plan describes it."
    return f"{opening} {what} {RECHECK_HINT}"
