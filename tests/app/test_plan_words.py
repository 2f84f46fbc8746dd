"""The plan as the requester and the approvers read it (issue 16, items 4 to 6): what is done by hand comes first
under its own heading, every user's telephony detail is there however many users, and a staged delete says when
each stage runs and what is lost at which. Signed HTTP into the real app."""

from __future__ import annotations


def _preview(app, who: str = "alice") -> str:
    return app.last_ephemeral(who)


def test_contact_center_work_by_hand_comes_first_under_its_own_heading(app):
    app.command("alice", "delete msmith")
    lines = _preview(app).splitlines()
    by_hand = lines.index("*By hand, before approval* (the bot cannot do these):")
    bot_does = next(n for n, line in enumerate(lines) if line.startswith("*Then, once approved, the bot does:*"))
    assert by_hand < bot_does
    manual = lines[by_hand + 1:bot_does]
    assert manual == ["• In Contact Center admin: remove the agent from every Contact Center queue, and check that "
                      "they are not a Contact Center admin (8x8 cannot delete one)"]
    assert lines[bot_does + 1].startswith("1. Release licenses and numbers")
    assert lines[bot_does + 2].startswith("2. Delete the user profile")
    text = "\n".join(lines)
    assert "cannot be deleted at all" not in text and "_(manual)_" not in text
    # The call queues are left by the deletion itself, unlike the Contact Center queues above.
    assert "Call queues it leaves automatically when deleted: Support Tier 1, Support Tier 2" in text
    assert "I did every step under _By hand, before approval_, in the admin console" in text

    app.press("alice", "Request approval", offboard_checklist="box-1,attested")
    approval = app.channel_texts("C0APPROVALS")[-1]
    assert approval.index("*By hand, before approval*") < approval.index("1. Release licenses")
