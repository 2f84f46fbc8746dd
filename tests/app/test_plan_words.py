"""The plan as the requester and the approvers read it (issue 16, items 4 to 6): what is done by hand comes first
under its own heading, every user's telephony detail is there however many users, and a staged delete says when
each stage runs and what is lost at which. Signed HTTP into the real app."""

from __future__ import annotations

import csv
import io
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from bot.domain.lifecycle import RequestState
from bot.simulators.harness import text_of


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


MANY = "jdoe msmith pnguyen rlopez kwilliams lchen hgarcia"


def test_a_plan_for_many_users_keeps_every_users_telephony_detail(app):
    app.command("alice", f"delete {MANY}")
    preview = _preview(app)
    for detail in ("+14155550101", "Poly VVX 450 (dev-jdoe-1)", "X Series X6", "Contact Center Agent",
                   "Yealink W73H (dev-pnguyen-2)", "Billing", "Front Desk, Sales East, Sales West, After Hours",
                   "+442071230109", "Support Tier 1, Support Tier 2"):
        assert detail in preview, detail
    lines = preview.splitlines()
    # What is done by hand, with its instructions, and for whom; then what the bot does, grouped by the steps.
    by_hand = lines.index("*By hand, before approval* (the bot cannot do these):")
    assert lines[by_hand + 1] == ("• In Contact Center admin: remove the agent from every Contact Center queue, and "
                                  "check that they are not a Contact Center admin (8x8 cannot delete one): "
                                  "`msmith`, `rlopez`")
    assert "• Release licenses and numbers, then verify → delete the user profile and its user ID (final, cannot " \
           "be undone): `jdoe`, `msmith`, `pnguyen`, `rlopez`, `kwilliams`, `hgarcia`" in lines
    assert ("• Delete the user profile and its user ID (final, cannot be undone): `lchen`") in lines

    app.press("alice", "Request approval", offboard_checklist="box-1,attested")
    [approval] = [message for message in app.slack.messages("C0APPROVALS") if not message.thread_ts]
    text = text_of(approval)
    assert "Yealink W73H (dev-pnguyen-2)" in text and "`rlopez`" in text
    # Every user's plan is in a file in the approval message's thread too, however many users there are.
    [plans] = app.slack.files("C0APPROVALS")
    assert plans.thread_ts == approval.ts
    rows = list(csv.DictReader(io.StringIO(plans.text)))
    assert [row["username"] for row in rows] == MANY.split()
    assert rows[2]["desk phones"] == "Poly VVX 450 (dev-pnguyen-1); Yealink W73H (dev-pnguyen-2)"


def _sweep(app, after: timedelta = timedelta()) -> None:
    app.clock.advance(after)
    app.container.sweeper.sweep()
    app.settle()


def test_a_staged_delete_says_when_each_stage_runs_and_what_goes_at_which(app):
    app.slack.update_member("U0ALICE", tz="America/New_York")
    start = app.clock.now() + timedelta(hours=2)
    app.command("alice", "delete jdoe --grace 7d --retain 30d --at in 2h")
    preview = _preview(app)

    def stage(after: timedelta) -> str:
        moment = start + after
        local = moment.astimezone(ZoneInfo("America/New_York"))
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"

    assert f"1. At the start, {stage(timedelta())}: deactivate the user (the profile is kept)" in preview
    assert (f"2. 7 days after the start, {stage(timedelta(days=7))}: release licenses and numbers (X Series X4, "
            "+14155550101), then verify") in preview
    assert f"3. 30 days after the start, {stage(timedelta(days=30))}: delete the user profile" in preview
    assert "numbers first" not in preview
    assert ("Removed at the last stage, with the delete: voicemails, faxes, chat and SMS history" in preview)
    assert "Desk phone Poly VVX 450 (dev-jdoe-1, ACTIVE) will be inactivated at the last stage" in preview

    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    app.press("bob", "Approve")
    _sweep(app, timedelta(hours=2))  # stage 1: deactivated
    request = app.container.store.get(request_id)
    assert request.state is RequestState.APPROVED and request.started_at is not None
    results = app.channel_texts("C0RESULTS")
    assert results, "stage 1 posts to #results"
    assert "`jdoe`: deactivated" in results[-1] and stage(timedelta(days=7)) in results[-1]

    app.command("alice", f"status {request_id}")
    status = _preview(app)
    assert "`jdoe`: deactivated" in status and "pending" not in status.lower()
