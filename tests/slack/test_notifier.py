"""The Notifier port over slack_sdk, against the stateful fake Slack: a real WebClient pointed at its Web API, as the
composition root builds it. What each event posts, who gets a direct message, and Slack failing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError

from bot.domain import events as ev
from bot.domain.directory import ConsoleUser
from bot.domain.events import Lapse
from bot.domain.lifecycle import Action, RequestState
from bot.domain.notes import Note, Why
from bot.domain.plan import StepKind, build_plan
from bot.domain.records import OffboardRequest, StepRecord, StepStatus, TargetOutcome
from bot.errors import Refusal
from bot.ports import Home, NotificationFailed
from bot.simulators.slack.blocks import with_generated_ids
from bot.simulators.slack.demo import populate
from bot.simulators.slack.fake import FakeSlack
from bot.simulators.slack.model import UPLOAD
from bot.slack import blocks, reports
from bot.slack.notifier import SlackNotifier
from tests.slack.builders import JDOE, NOW, REQUESTER, approved_by, of_users, request, target

APPROVALS, RESULTS = "C0APPROVALS", "C0RESULTS"
FINISHED = of_users("jdoe", "msmith", outcome=TargetOutcome.DONE, note=Note(Why.COMPLETED), state=RequestState.DONE,
                    approvals=approved_by("U0BOB"))


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(team_id="T0DEMO")
    populate(fake)
    with fake:
        yield fake


@pytest.fixture
def notifier(slack, policy) -> SlackNotifier:
    return SlackNotifier(client=WebClient(token=slack.bot_token, base_url=slack.api_url), policy=policy)


def _posted(slack: FakeSlack, channel: str) -> list[tuple[str, list[dict]]]:
    return [(message.text, message.blocks) for message in slack.messages(channel)]


def _as_shown(message: dict) -> tuple[str, list[dict]]:
    """A built message as the fake keeps it (Slack fills in the block ids the app left out)."""
    return message["text"], with_generated_ids(message["blocks"])


def _dms(slack: FakeSlack, user_id: str) -> list[str]:
    return [message.text for message in slack.dms(user_id)]


def _writes(slack: FakeSlack) -> list[str]:
    """Every call that showed something, in order (chat.*, files.*, views.*)."""
    return [call.method for call in slack.calls() if call.method.startswith(("chat.", "files.", "views."))]


def _announced(notifier: SlackNotifier, made: OffboardRequest) -> OffboardRequest:
    channel, ts = notifier.announce(made, channel=APPROVALS)
    return replace(made, message_channel=channel, message_ts=ts)


def _bulk(count: int, *, state: RequestState = RequestState.FAILED) -> OffboardRequest:
    """A finished delete of `count` users, the first one failed."""
    targets = [target(build_plan(Action.DELETE, ConsoleUser(id=f"u-{n}", username=f"user{n:03}",
                                                            email=f"user{n:03}@example.com")),
                      outcome=TargetOutcome.DONE, note=Note(Why.COMPLETED)) for n in range(count)]
    targets[0] = replace(targets[0], outcome=TargetOutcome.FAILED,
                         note=Note(Why.STEP_FAILED, step=StepKind.DELETE, cause=Why.REFUSED, said="HTTP 500"))
    return request(*targets, state=state)


# -- the approval message -------------------------------------------------------------------------------------

def test_announce_posts_the_approval_message_and_says_where(slack, notifier):
    made = request()
    channel, ts = notifier.announce(made, channel=APPROVALS)
    assert channel == APPROVALS and ts
    assert _posted(slack, APPROVALS) == [_as_shown(blocks.approval_message(made))]


def test_refresh_redraws_the_message_in_place(slack, notifier):
    shown = _announced(notifier, request())
    approved = replace(shown, state=RequestState.APPROVED, approvals=approved_by("U0BOB"))
    notifier.refresh(approved)
    [message] = slack.messages(APPROVALS)
    assert (message.text, message.blocks) == _as_shown(blocks.approval_message(approved))
    assert len(message.history) == 1


def test_refresh_and_remind_do_nothing_for_a_request_without_a_message(slack, notifier):
    notifier.refresh(request())
    notifier.remind(request())
    notifier.publish(ev.Progressed(request(state=RequestState.EXECUTING), counts={}))
    assert _writes(slack) == []


def test_remind_answers_in_the_thread_of_the_approval_message(slack, notifier):
    shown = _announced(notifier, request())
    notifier.remind(shown)
    first, reminder = slack.messages(APPROVALS)
    assert reminder.thread_ts == first.ts == shown.message_ts
    assert (reminder.text, reminder.blocks) == _as_shown(blocks.reminder(shown))
    assert reminder.text == "Reminder: OB-ABCDEFGH still needs approval"


def test_progress_redraws_the_message_from_the_counts_and_tells_nobody(slack, notifier):
    shown = _announced(notifier, of_users("jdoe", "msmith", state=RequestState.EXECUTING))
    running = replace(shown, targets=(replace(shown.targets[0], outcome=TargetOutcome.DONE), shown.targets[1]))
    counts = running.counts()
    notifier.publish(ev.Progressed(shown, counts=counts))  # the request as the run began, counted by the database
    [message] = slack.messages(APPROVALS)
    assert (message.text, message.blocks) == _as_shown(blocks.approval_message(running))
    assert "1/2 done" in str(message.blocks)
    assert _writes(slack) == ["chat.postMessage", "chat.update"]


# -- the App Home ---------------------------------------------------------------------------------------------

def test_publish_home_of_an_admin(slack, notifier):
    waiting = request()
    home = Home(user_id="U0BOB", is_admin=True, to_approve=(waiting,), recent=(FINISHED,))
    notifier.publish_home(home)
    view = slack.home("U0BOB")
    assert view["blocks"] == blocks.home_view(home)["blocks"]
    assert view["blocks"][0]["text"]["text"] == "Offboarding"


def test_publish_home_of_someone_who_is_not_an_admin_says_why_and_whom_to_ask(slack, notifier):
    home = Home(user_id="U0CAROL", is_admin=False, admins=("U0ALICE", "U0BOB"), why_not=Refusal("not_admin"))
    notifier.publish_home(home)
    shown = slack.home("U0CAROL")["blocks"]
    assert "Only account admins can use it: ask <@U0ALICE>, <@U0BOB>." in shown[1]["text"]["text"]
    assert shown[2]["elements"][0]["text"] == ("Only account admins (primary or secondary) can offboard users or "
                                               "decide on requests. Ask one of them.")


# -- events -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("event", [
    ev.Drafted(request(state=RequestState.DRAFT)),
    ev.SentForApproval(request()),
    ev.Confirmed(request(state=RequestState.APPROVED)),
    ev.ApprovalCounted(request(approvals_required=2, approvals=approved_by("U0BOB")), by="U0BOB", missing=1),
    ev.Approved(request(state=RequestState.APPROVED), by="U0BOB", runs_at=None),
    ev.Rechecking(request(state=RequestState.EXECUTING), by="U0BOB"),
    ev.Cancelled(request(state=RequestState.CANCELLED), by=REQUESTER),
    ev.Expired(request(state=RequestState.EXPIRED), was_awaiting=False),
], ids=lambda event: type(event).__name__)
def test_events_that_concern_nobody_else_post_nothing(slack, notifier, event):
    notifier.publish(event)
    assert _writes(slack) == []


def test_a_stage_done_posts_its_results_to_the_results_channel(slack, notifier):
    notifier.publish(ev.StageDone(request(state=RequestState.APPROVED)))
    assert _writes(slack) == ["chat.postMessage"]
    [posted] = slack.messages("C0RESULTS")
    assert "Stage done" in posted.text


@pytest.mark.parametrize(("event", "words"), [
    (ev.Rejected(request(state=RequestState.REJECTED), by="U0BOB", reason="not <yet>"),
     "Your request OB-ABCDEFGH was rejected by <@U0BOB>: not &lt;yet&gt;"),
    (ev.Cancelled(request(state=RequestState.CANCELLED), by="U0BOB"),
     "Your request OB-ABCDEFGH was cancelled by <@U0BOB>."),
    (ev.Expired(request(state=RequestState.EXPIRED), was_awaiting=True),
     "Your request OB-ABCDEFGH expired before it was approved."),
    (ev.CalledOff(request(state=RequestState.CANCELLED), lapse=Lapse(requester="alice@example.com")),
     "Your request OB-ABCDEFGH was called off before it ran: alice@example.com, who asked for it, is no longer an "
     "admin. Nothing more was changed in the console. Ask again if it is still needed."),
    (ev.Interrupted(request(state=RequestState.EXECUTING), error="KeyError", storage_down=False,
                    retry_in=timedelta(minutes=2), tries=3),
     "Your request OB-ABCDEFGH was interrupted: an error on my side (`KeyError`). Steps already done stay done and "
     "will not be repeated. It is tried again by itself in about 2 minutes; if the error keeps coming back, it stops "
     "after 3 tries and says so. `/offboard status OB-ABCDEFGH` shows where it is."),
], ids=lambda value: type(value).__name__)
def test_events_that_concern_the_requester_send_them_a_direct_message(slack, notifier, event, words):
    notifier.publish(event)
    assert _dms(slack, REQUESTER) == [words]
    assert _writes(slack) == ["chat.postMessage"]
    [dm] = slack.dms(REQUESTER)
    assert dm.blocks == with_generated_ids(blocks.notice(words)["blocks"])


def _waiting(**changes: object) -> OffboardRequest:
    step = StepRecord(StepKind.DEACTIVATE, StepStatus.MANUAL, Note(Why.BY_HAND, step=StepKind.DEACTIVATE,
                                                                   console="8x8"), NOW, None)
    return request(target(build_plan(Action.DEACTIVATE, JDOE), steps=(step,)), state=RequestState.WAITING, **changes)


def test_steps_waiting_for_hands_are_sent_to_the_requester_or_to_whoever_rechecked(slack, notifier):
    waiting = _waiting(message_channel=APPROVALS, message_ts="1.0")
    notifier.publish(ev.WaitingForManual(waiting, console="8x8", rechecked_by=None))
    assert _dms(slack, REQUESTER) == [
        "Your request OB-ABCDEFGH needs steps done by hand in the 8x8 console, as its API cannot do them on this "
        "account: `jdoe` (deactivate). The instructions and a Re-check button are on the request in <#C0APPROVALS>."]
    notifier.publish(ev.WaitingForManual(waiting, console="8x8", rechecked_by="U0BOB"))
    assert _dms(slack, "U0BOB") == [
        "Re-checked OB-ABCDEFGH: these steps still wait to be done by hand: `jdoe` (deactivate). The instructions are "
        "on the request in <#C0APPROVALS>."]
    assert len(_dms(slack, REQUESTER)) == 1


def test_a_finished_request_posts_its_results_then_tells_the_requester(slack, notifier):
    notifier.publish(ev.Finished(FINISHED))
    assert _posted(slack, RESULTS) == [_as_shown(blocks.outcome_message(FINISHED))]
    assert _dms(slack, REQUESTER) == ["Your request OB-ABCDEFGH finished: 2/2 deleted successfully."]
    assert [call.params["channel"] for call in slack.calls("chat.postMessage")] == [RESULTS, REQUESTER]
    assert slack.files() == []


def test_a_finished_request_with_failures_points_the_requester_to_the_results(slack, notifier):
    failed = _bulk(3)
    notifier.publish(ev.Finished(failed))
    assert _dms(slack, REQUESTER) == [
        "Your request OB-ABCDEFGH finished with problems: 2/3 succeeded. See the results channel."]


def test_the_results_of_more_than_twenty_users_come_with_every_row_in_a_csv_in_the_thread(slack, notifier):
    big = _bulk(reports.CSV_ABOVE_TARGETS + 1)
    notifier.publish(ev.Finished(big))
    [results] = [message for message in slack.messages(RESULTS) if message.thread_ts is None]
    assert (results.text, results.blocks) == _as_shown(blocks.outcome_message(big, csv_file="attached"))
    assert "The results of all 21 users are in the CSV file in this message's thread." in results.text
    [csv] = slack.files(RESULTS)
    assert (csv.name, csv.title, csv.thread_ts) == ("OB-ABCDEFGH-results.csv", "Results of OB-ABCDEFGH", results.ts)
    assert csv.text == reports.results_csv(big)
    assert csv.initial_comment == "All 21 users of request OB-ABCDEFGH, one row each."
    assert _dms(slack, REQUESTER) == [
        "Your request OB-ABCDEFGH finished with problems: 20/21 succeeded. See the results channel."]


def test_twenty_users_get_no_csv(slack, notifier):
    notifier.publish(ev.Finished(_bulk(reports.CSV_ABOVE_TARGETS)))
    assert slack.files() == [] and len(slack.messages(RESULTS)) == 1


def test_a_csv_that_could_not_be_attached_corrects_the_results_message(slack, notifier, caplog):
    big = _bulk(reports.CSV_ABOVE_TARGETS + 1)
    slack.inject_failure(UPLOAD)
    with caplog.at_level(logging.WARNING, logger="bot.slack.notifier"):
        notifier.publish(ev.Finished(big))
    [results] = slack.messages(RESULTS)
    assert (results.text, results.blocks) == _as_shown(blocks.outcome_message(big, csv_file="failed"))
    assert "could not be attached: `/offboard status OB-ABCDEFGH` lists every user." in str(results.blocks)
    assert len(results.history) == 1
    assert ("could not attach the results CSV of OB-ABCDEFGH: Slack could not be reached (HTTP Error 500: Internal "
            "Server Error)") in caplog.text
    assert _dms(slack, REQUESTER) == [  # the results were posted: the requester is pointed to them
        "Your request OB-ABCDEFGH finished with problems: 20/21 succeeded. See the results channel."]


def test_a_results_message_that_cannot_be_corrected_either_stays_as_posted(slack, notifier, caplog):
    big = _bulk(reports.CSV_ABOVE_TARGETS + 1)
    slack.inject_failure("files.getUploadURLExternal", error="internal_error")
    slack.inject_failure("chat.update", error="internal_error")
    with caplog.at_level(logging.WARNING, logger="bot.slack.notifier"):
        notifier.publish(ev.Finished(big))
    [results] = slack.messages(RESULTS)
    assert results.history == [] and "in the CSV file in this message's thread" in results.text
    assert "could not correct the results message of OB-ABCDEFGH: Slack answered internal_error" in caplog.text
    assert len(_dms(slack, REQUESTER)) == 1


def test_a_results_channel_that_refuses_the_bot_is_named_in_the_requesters_message(slack, notifier):
    slack.inject_failure("chat.postMessage", error="not_in_channel")
    notifier.publish(ev.Finished(_bulk(2)))
    assert slack.messages(RESULTS) == []
    assert _dms(slack, REQUESTER) == [
        "Your request OB-ABCDEFGH finished with problems: 1/2 succeeded. I could not post the results in <#C0RESULTS> "
        "(Slack answered not_in_channel): `/offboard status OB-ABCDEFGH` shows each user's result."]


def test_a_results_channel_the_bot_left_is_named_too(slack, notifier):
    slack.set_bot_membership(RESULTS, False)
    notifier.publish(ev.Finished(FINISHED))
    assert _dms(slack, REQUESTER) == [
        "Your request OB-ABCDEFGH finished: 2/2 deleted successfully. I could not post the results in <#C0RESULTS> "
        "(Slack answered not_in_channel): `/offboard status OB-ABCDEFGH` shows each user's result."]


def test_a_stop_posts_the_results_then_tells_the_requester(slack, notifier):
    stopped = replace(_bulk(2), decided_by="U0BOB")
    notifier.publish(ev.Stopped(stopped, by="U0BOB"))
    assert _posted(slack, RESULTS) == [_as_shown(blocks.outcome_message(stopped))]
    assert _dms(slack, REQUESTER) == [
        "Your request OB-ABCDEFGH was stopped by <@U0BOB> while it waited for a manual step."]
    assert [call.params["channel"] for call in slack.calls("chat.postMessage")] == [RESULTS, REQUESTER]


def test_a_stop_by_the_requester_posts_the_results_only(slack, notifier):
    notifier.publish(ev.Stopped(_bulk(2), by=REQUESTER))
    assert len(slack.messages(RESULTS)) == 1 and slack.dms(REQUESTER) == []


def test_a_stop_whose_results_cannot_be_posted_still_tells_the_requester(slack, notifier):
    slack.set_bot_membership(RESULTS, False)
    notifier.publish(ev.Stopped(_bulk(2), by="U0BOB"))
    assert _dms(slack, REQUESTER) == [
        "Your request OB-ABCDEFGH was stopped by <@U0BOB> while it waited for a manual step."]


def test_publish_never_raises_when_slack_fails(slack, notifier):
    slack.inject_failure("chat.postMessage", error="internal_error", times=3)
    notifier.publish(ev.Rejected(request(state=RequestState.REJECTED), by="U0BOB", reason="no"))
    notifier.publish(ev.Finished(FINISHED))  # neither the results nor the requester's message
    assert slack.messages(RESULTS) == [] and slack.dms(REQUESTER) == []
    assert [call.error for call in slack.calls("chat.postMessage")] == ["internal_error"] * 3


# -- Slack failing: the port methods raise NotificationFailed -----------------------------------------------------

@pytest.mark.parametrize(("method", "call"), [
    ("chat.postMessage", lambda notifier, shown: notifier.announce(shown, channel=APPROVALS)),
    ("chat.update", lambda notifier, shown: notifier.refresh(shown)),
    ("chat.postMessage", lambda notifier, shown: notifier.remind(shown)),
    ("chat.postMessage", lambda notifier, shown: notifier.tell(REQUESTER, "hello")),
    ("chat.postMessage", lambda notifier, shown: notifier.post_outcome(FINISHED)),
    ("views.publish", lambda notifier, shown: notifier.publish_home(Home(user_id="U0BOB", is_admin=True))),
], ids=["announce", "refresh", "remind", "tell", "post_outcome", "publish_home"])
def test_slack_answering_an_error_raises_notification_failed(slack, notifier, method, call):
    shown = _announced(notifier, request())
    slack.inject_failure(method, error="fatal_error")
    with pytest.raises(NotificationFailed, match=r"^Slack answered fatal_error$"):
        call(notifier, shown)


def test_a_channel_the_bot_is_not_in(slack, notifier):
    slack.set_bot_membership(APPROVALS, False)
    with pytest.raises(NotificationFailed, match=r"^Slack answered not_in_channel$"):
        notifier.announce(request(), channel=APPROVALS)


def test_slack_rate_limiting_raises_notification_failed(slack, notifier):
    slack.inject_failure("chat.postMessage", retry_after=1)
    with pytest.raises(NotificationFailed, match=r"^Slack answered ratelimited$"):
        notifier.tell(REQUESTER, "hello")


def test_slack_out_of_reach_raises_notification_failed(slack, policy):
    client = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=5, retry_handlers=[])  # no retry
    notifier = SlackNotifier(client=client, policy=policy)
    slack.stop()
    with pytest.raises(NotificationFailed, match=r"^Slack could not be reached \(.+\)$"):
        notifier.announce(request(), channel=APPROVALS)
    with pytest.raises(NotificationFailed, match=r"^Slack could not be reached"):
        notifier.tell(REQUESTER, "hello")
    notifier.publish(ev.Finished(FINISHED))  # and publish still keeps it to itself


class _UploadRefused(WebClient):
    """slack_sdk's own refusal of an upload the upload URL answered with anything but 200 (a proxy's 201, say),
    which the fake, answering errors with 4xx and 5xx, cannot make."""

    def files_upload_v2(self, **kwargs):
        raise SlackRequestError("Failed to upload a file (status: 201, body: Created, filename: x.csv, title: x)")


def test_slack_sdk_refusing_the_upload_is_a_failure_too(slack, policy, caplog):
    notifier = SlackNotifier(client=_UploadRefused(token=slack.bot_token, base_url=slack.api_url), policy=policy)
    big = _bulk(reports.CSV_ABOVE_TARGETS + 1)
    with caplog.at_level(logging.WARNING, logger="bot.slack.notifier"):
        notifier.post_outcome(big)
    [results] = slack.messages(RESULTS)
    assert (results.text, results.blocks) == _as_shown(blocks.outcome_message(big, csv_file="failed"))
    assert "could not attach the results CSV of OB-ABCDEFGH: Slack could not be reached (SlackRequestError)" in (
        caplog.text)


def test_the_results_are_posted_each_time_they_are_asked_for(slack, notifier):
    big = _bulk(reports.CSV_ABOVE_TARGETS + 1)
    notifier.post_outcome(big)
    slack.inject_failure(UPLOAD, status=503)
    notifier.post_outcome(big)
    first, second = [message for message in slack.messages(RESULTS) if message.thread_ts is None]
    assert first.history == [] and len(second.history) == 1  # only the second lost its file
    assert [file.thread_ts for file in slack.files(RESULTS)] == [first.ts]
