"""Posts and updates the bot's channel messages through the Slack Web API."""

from __future__ import annotations

import logging
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain.events import Event, Finished, Progressed, StageDone, StepAnswered, StepEnded, Stopped
from bot.domain.lifecycle import RequestState
from bot.domain.records import OffboardRequest, TargetOutcome
from bot.domain.workflows import Proposal
from bot.policy import Policy
from bot.ports import Home, NotificationFailed
from bot.slack import blocks, plan_report, reports
from bot.slack.blocks.demo import MAX_VIEW_BLOCKS, marked
from bot.slack.blocks.workflows import proposal_message
from bot.slack.messages.events import direct_messages, outcome_line, results_not_posted
from bot.slack.messages.workflows import (
    STEP_GONE,
    answered_outputs,
    step_answered,
    step_error,
    step_not_told,
    step_outputs,
    untaken_error,
)

log = logging.getLogger(__name__)
STEP_RETRY_WAITS = (1.0, 4.0)  # seconds before the second and third try to finish a workflow step
TRANSIENT = ("internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited")


class SlackNotifier:
    """The Notifier port over slack_sdk; Slack failures become NotificationFailed."""

    def __init__(self, *, client: WebClient, policy: Policy, demo: bool = False) -> None:
        self._client = client
        self._policy = policy
        self._demo = demo  # the console is the local demo directory: the approvals message and App Home say so

    def _approval_message(self, request: OffboardRequest, *,
                          counts: dict[TargetOutcome, int] | None = None) -> dict:
        message = blocks.approval_message(request, counts=counts)
        return marked(message) if self._demo else message

    def announce(self, request: OffboardRequest, *, channel: str) -> tuple[str, str]:
        response = self._call(self._client.chat_postMessage, channel=channel, **self._approval_message(request))
        if plan_report.wants_plans_file(request):  # approvers see many users one line each: every plan in a file
            try:
                self._call(self._client.files_upload_v2, channel=response["channel"], thread_ts=response["ts"],
                           content=plan_report.plans_csv(request), filename=plan_report.plans_filename(request),
                           title=plan_report.PLANS_FILE_TITLE.format(request_id=request.id))
            except NotificationFailed as failure:  # the message stands; `status` lists every user
                log.warning("could not attach the plans CSV of %s: %s", request.id, failure)
        return response["channel"], response["ts"]

    def refresh(self, request: OffboardRequest, *, counts: dict[TargetOutcome, int] | None = None) -> None:
        """Redraw the request's message; `counts` (a running request's users by outcome) stand in for its
        users' outcomes in the progress line."""
        if request.message_channel and request.message_ts:
            self._call(self._client.chat_update, channel=request.message_channel, ts=request.message_ts,
                       **self._approval_message(request, counts=counts))

    def publish(self, event: Event) -> None:
        """Say what happened: redraw a running request's progress, post results, send direct messages."""
        request = event.request
        if isinstance(event, StepEnded):
            self._end_step(event)
            return
        if isinstance(event, StepAnswered):
            self._answer_step(event)
            return
        if isinstance(event, Progressed):
            self.refresh(request, counts=event.counts)
            return
        if isinstance(event, Finished):
            self._report(request)
            return
        if isinstance(event, Stopped):
            self._quietly(self.post_outcome, request)
        if isinstance(event, StageDone):  # a staged delete's stage ran: its results, and when the next ones run
            self._quietly(self._post_results, blocks.stage_message(request))
        for user_id, text in direct_messages(event, approvals=self._policy.channels.approvals):
            self._quietly(self.tell, user_id, text)

    def _report(self, request: OffboardRequest) -> None:
        """Post the results, and tell the requester how it ended; when the results could not be posted, the
        requester's message says so and where to read them instead."""
        try:
            self.post_outcome(request)
        except NotificationFailed as failure:
            log.warning("could not post the results of %s: %s", request.id, failure)
            text = results_not_posted(request, results=self._policy.channels.results, failure=str(failure))
        else:
            text = outcome_line(request)
        self._quietly(self.tell, request.requester_id, text)

    @staticmethod
    def _quietly(send, *args) -> None:
        try:
            send(*args)
        except NotificationFailed as failure:
            log.warning("could not notify Slack: %s", failure)

    def post_outcome(self, request: OffboardRequest) -> None:
        """Post the results; for a big request, then upload every row as a CSV file into the message's thread.

        The message counts as posted once Slack took it: a failed upload only corrects its text (and is logged),
        because raising would tell the caller nothing was posted, and posting again would duplicate it."""
        if not reports.wants_csv(request):
            self._call(self._client.chat_postMessage, channel=self._policy.channels.results,
                       **blocks.outcome_message(request))
            return
        posted = self._call(self._client.chat_postMessage, channel=self._policy.channels.results,
                            **blocks.outcome_message(request, csv_file="attached"))
        try:
            self._call(self._client.files_upload_v2, channel=posted["channel"], thread_ts=posted["ts"],
                       content=reports.results_csv(request), filename=reports.csv_filename(request),
                       title=f"Results of {request.id}",
                       initial_comment=f"All {len(request.targets)} users of request {request.id}, one row each.")
        except NotificationFailed as failure:
            log.warning("could not attach the results CSV of %s: %s", request.id, failure)
            try:
                self._call(self._client.chat_update, channel=posted["channel"], ts=posted["ts"],
                           **blocks.outcome_message(request, csv_file="failed"))
            except NotificationFailed as again:
                log.warning("could not correct the results message of %s: %s", request.id, again)

    def _post_results(self, posted: dict) -> None:
        self._call(self._client.chat_postMessage, channel=self._policy.channels.results, **posted)

    def publish_home(self, home: Home) -> None:
        view = blocks.home_view(home)
        self._call(self._client.views_publish, user_id=home.user_id,
                   view=marked(view, limit=MAX_VIEW_BLOCKS) if self._demo else view)

    def propose(self, proposal: Proposal, *, channel: str) -> tuple[str, str]:
        message = proposal_message(proposal)
        response = self._call(self._client.chat_postMessage, channel=channel,
                              **(marked(message) if self._demo else message))
        return response["channel"], response["ts"]

    def refresh_proposal(self, proposal: Proposal) -> None:
        if proposal.message_channel and proposal.message_ts:
            message = proposal_message(proposal)
            self._call(self._client.chat_update, channel=proposal.message_channel, ts=proposal.message_ts,
                       **(marked(message) if self._demo else message))

    def fail_step(self, proposal: Proposal) -> None:
        self._finish_step(self._client.functions_completeError, function_execution_id=proposal.execution_id,
                          error=untaken_error(proposal))

    def _finish_step(self, method, **kwargs) -> None:
        """Complete or fail a workflow step (functions.completeSuccess or completeError). Slack erring or being
        out of reach is tried again twice; a try that finds the step no longer running after one that erred
        means the erring one went through."""
        erred = False
        for wait in (*STEP_RETRY_WAITS, None):
            try:
                self._call(method, **kwargs)
                return
            except NotificationFailed as failure:
                if erred and failure.code in STEP_GONE:
                    return
                if wait is None or not (failure.code is None or failure.code in TRANSIENT):
                    raise
                log.info("Slack did not take the end of workflow step %s (%s); trying again in %g s",
                         kwargs.get("function_execution_id"), failure, wait)
                erred = True
                time.sleep(wait)

    def _end_step(self, event: StepEnded) -> None:
        """Complete the step with the request's outputs when it did what was asked, else fail it with why."""
        request = event.request
        try:
            if request.state is RequestState.DONE:
                self._finish_step(self._client.functions_completeSuccess, function_execution_id=event.execution_id,
                                  outputs=step_outputs(request))
            else:
                self._finish_step(self._client.functions_completeError, function_execution_id=event.execution_id,
                                  error=step_error(request))
        except NotificationFailed as failure:  # e.g. Slack stopped waiting for the step: say so on the request
            log.warning("could not tell the workflow step of %s how it ended: %s", request.id, failure)
            if request.message_channel and request.message_ts:
                self._quietly(self._thread_note, request, step_not_told(request, failure=failure))

    def _answer_step(self, event: StepAnswered) -> None:
        """Complete the step with the request as it stands, and say so in the request's thread."""
        request = event.request
        try:
            self._finish_step(self._client.functions_completeSuccess,
                              function_execution_id=event.proposal.execution_id, outputs=answered_outputs(request))
        except NotificationFailed as failure:
            log.warning("could not answer the workflow step of %s: %s", request.id, failure)
            text = step_not_told(request, failure=failure)
        else:
            text = step_answered(request, why=event.why, answer_by=event.answer_by,
                                 answer_within=self._policy.workflow_steps.answer_within)
        channel, ts = request.message_channel, request.message_ts
        if not ts:  # a draft not sent yet: the proposal's message in the approvals channel
            channel, ts = event.proposal.message_channel, event.proposal.message_ts
        if channel and ts:
            self._quietly(self._post_thread, channel, ts, text)

    def _post_thread(self, channel: str, ts: str, text: str) -> None:
        self._call(self._client.chat_postMessage, channel=channel, thread_ts=ts, **blocks.notice(text))

    def _thread_note(self, request: OffboardRequest, text: str) -> None:
        self._post_thread(request.message_channel, request.message_ts, text)

    def remind(self, request: OffboardRequest) -> None:
        if request.message_channel and request.message_ts:
            self._call(self._client.chat_postMessage, channel=request.message_channel,
                       thread_ts=request.message_ts, **blocks.reminder(request))

    def tell(self, user_id: str, text: str) -> None:
        self._call(self._client.chat_postMessage, channel=user_id, **blocks.notice(text))

    @staticmethod
    def _call(method, **kwargs):
        try:
            return method(**kwargs)
        except SlackApiError as error:
            code = error.response.get("error")
            raise NotificationFailed(f"Slack answered {code or 'an error'}", code=code) from error
        except SlackClientError as error:
            raise NotificationFailed(f"Slack could not be reached ({type(error).__name__})") from error
        except OSError as error:
            raise NotificationFailed(f"Slack could not be reached ({error})") from error
