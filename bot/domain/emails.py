"""Email addresses compared as one person: the policy, the admin check, the approvals and the gate all read an
address through `normal_email`, so blanks or capitals never make one person two (or two people one)."""

from __future__ import annotations


def normal_email(email: str | None) -> str:
    """The address as compared everywhere: without surrounding blanks, case-folded ("" for none)."""
    return (email or "").strip().casefold()
