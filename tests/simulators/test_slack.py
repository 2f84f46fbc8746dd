"""FakeSlack driven by the real slack_sdk WebClient (and WebhookClient for response URLs)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.simulators.slack.fake import FakeSlack
from bot.simulators.slack.model import DEFAULT_SCOPES, UPLOAD, EventKind, SlackEvent

TOKEN = "xoxb-fake"
BUTTONS = [
    {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": "Offboard *carol*?"}},
    {
        "type": "actions",
        "block_id": "decision",
        "elements": [
            {"type": "button", "action_id": "approve", "text": {"type": "plain_text", "text": "Approve"}, "value": "1"},
            {"type": "button", "action_id": "reject", "text": {"type": "plain_text", "text": "Reject"}, "value": "1"},
        ],
    },
]
MODAL = {
    "type": "modal",
    "callback_id": "reject_modal",
    "title": {"type": "plain_text", "text": "Reject request"},
    "submit": {"type": "plain_text", "text": "Reject"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        }
    ],
}


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _populate(fake: FakeSlack) -> None:
    fake.add_member("U0ALICE", "alice", "alice@example.com", real_name="Alice Admin")
    fake.add_member("U0BOB", "bob", "bob@example.com")
    fake.add_member("W0EXT", "erin", "erin@partner.com", team_id="T0OTHER", is_stranger=True)
    fake.add_channel("C0APPROVALS", "approvals")
    fake.add_channel("C0OUTSIDE", "outside", bot_is_member=False)
    fake.add_channel("G0SECRET", "secret", bot_is_member=False)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=clock) as fake:
        _populate(fake)
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.api_url)


def _error(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return excinfo.value.response["error"]


# ------------------------------------------------------------------ lifecycle and auth


def test_nothing_listens_before_start_and_urls_after() -> None:
    fake = FakeSlack()
    with pytest.raises(RuntimeError):
        _ = fake.api_url
    with fake:
        assert fake.api_url.startswith("http://127.0.0.1:") and fake.api_url.endswith("/api/")
        assert fake.api_url == fake.base_url + "/api/"
        port = fake.base_url.rsplit(":", 1)[1]
    with pytest.raises(httpx.TransportError):
        httpx.post(f"http://127.0.0.1:{port}/api/auth.test", timeout=1)


def test_auth_test_identifies_the_bot(client: WebClient) -> None:
    response = client.auth_test()
    assert response["user_id"] == "U0BOT"
    assert response["team_id"] == "T0DEMO"
    assert response["bot_id"] == "B0BOT"


def test_wrong_or_missing_token_is_invalid_auth(fake: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        WebClient(token="xoxb-wrong", base_url=fake.api_url).auth_test()
    assert _error(excinfo) == "invalid_auth"
    answer = httpx.post(fake.api_url + "chat.postMessage", data={"channel": "C0APPROVALS", "text": "hi"})
    assert answer.status_code == 200
    assert answer.json() == {"ok": False, "error": "invalid_auth"}
    assert fake.messages("C0APPROVALS") == []


def test_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.api_call("chat.teleport")
    assert _error(excinfo) == "unknown_method"


# ------------------------------------------------------------------ messages


def test_post_message_with_blocks(fake: FakeSlack, client: WebClient) -> None:
    response = client.chat_postMessage(channel="C0APPROVALS", text="Offboard carol?", blocks=BUTTONS)
    assert response["channel"] == "C0APPROVALS"
    [message] = fake.messages("C0APPROVALS")
    assert message.ts == response["ts"]
    assert message.user == "U0BOT"
    assert message.text == "Offboard carol?"
    assert [b["block_id"] for b in message.blocks] == ["summary", "decision"]
    assert response["message"]["bot_id"] == "B0BOT"


def test_missing_block_ids_are_generated_like_slack(fake: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(
        channel="C0APPROVALS",
        text="x",
        blocks=[{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Go"}}]}],
    )
    [block] = fake.messages("C0APPROVALS")[0].blocks
    assert block["block_id"]
    assert block["elements"][0]["action_id"]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_errors(fake: FakeSlack, client: WebClient) -> None:
    cases = [
        ({"channel": "C0NOPE", "text": "hi"}, "channel_not_found"),
        ({"channel": "C0OUTSIDE", "text": "hi"}, "not_in_channel"),
        ({"channel": "G0SECRET", "text": "hi"}, "channel_not_found"),
        ({"channel": "C0APPROVALS"}, "no_text"),
        ({"channel": "C0APPROVALS", "blocks": [{"type": "nonsense"}]}, "invalid_blocks"),
    ]
    for kwargs, error in cases:
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postMessage(**kwargs)
        assert _error(excinfo) == error, kwargs
    assert fake.messages("C0APPROVALS") == []
    assert [c.error for c in fake.calls("chat.postMessage")] == [error for _, error in cases]


def test_form_encoded_and_multipart_params_are_read(fake: FakeSlack, client: WebClient) -> None:
    # params= sends application/x-www-form-urlencoded, data= sends multipart/form-data
    client.api_call("chat.postMessage", params={"channel": "C0APPROVALS", "blocks": json.dumps(BUTTONS)})
    client.api_call("chat.postMessage", data={"channel": "C0APPROVALS", "text": "multi"})
    first, second = fake.messages("C0APPROVALS")
    assert first.blocks[0]["block_id"] == "summary"
    assert second.text == "multi"
    answer = httpx.get(fake.api_url + "users.info?user=U0BOB", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.json()["user"]["name"] == "bob"


def test_block_and_action_id_rules(client: WebClient) -> None:
    def button(action_id: str) -> dict:
        return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": "Go"}}

    same_action_in_two_blocks = [
        {"type": "actions", "block_id": "a", "elements": [button("go")]},
        {"type": "actions", "block_id": "b", "elements": [button("go")]},
    ]
    client.chat_postMessage(channel="C0APPROVALS", text="ok", blocks=same_action_in_two_blocks)
    for bad in (
        [{"type": "actions", "block_id": "a", "elements": [button("go"), button("go")]}],
        [{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}],
    ):
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postMessage(channel="C0APPROVALS", text="bad", blocks=bad)
        assert _error(excinfo) == "invalid_blocks"
        assert "duplicate id" in excinfo.value.response["response_metadata"]["messages"][0]


def test_update_keeps_history_and_blocks_when_left_out(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0APPROVALS", text="v1", blocks=BUTTONS)
    client.chat_update(channel="C0APPROVALS", ts=posted["ts"], text="v2")
    client.chat_update(channel="C0APPROVALS", ts=posted["ts"], text="v3", blocks=[])
    [message] = fake.messages("C0APPROVALS")
    assert message.text == "v3"
    assert message.blocks == []
    assert [v.text for v in message.history] == ["v1", "v2"]
    assert message.history[1].blocks == message.history[0].blocks  # v2 kept v1's blocks


def test_update_errors(fake: FakeSlack, client: WebClient) -> None:
    human = fake.post_as("U0ALICE", "C0APPROVALS", "I wrote this")
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel="C0APPROVALS", ts=human.ts, text="edited by bot")
    assert _error(excinfo) == "cant_update_message"
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_update(channel="C0APPROVALS", ts="1.000001", text="x")
    assert _error(excinfo) == "message_not_found"
    assert fake.messages("C0APPROVALS")[0].text == "I wrote this"


def test_delete_own_message(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0APPROVALS", text="oops")
    client.chat_delete(channel="C0APPROVALS", ts=posted["ts"])
    assert fake.messages("C0APPROVALS") == []
    assert fake.messages("C0APPROVALS", include_deleted=True)[0].deleted


def test_ephemeral(fake: FakeSlack, client: WebClient) -> None:
    response = client.chat_postEphemeral(channel="C0APPROVALS", user="U0ALICE", text="only you", blocks=BUTTONS)
    [ephemeral] = fake.ephemerals(user_id="U0ALICE")
    assert ephemeral.id == response["message_ts"]
    assert (ephemeral.channel_id, ephemeral.text) == ("C0APPROVALS", "only you")
    assert fake.ephemerals(user_id="U0BOB") == []
    assert fake.messages("C0APPROVALS") == []
    with pytest.raises(SlackApiError) as excinfo:
        client.chat_postEphemeral(channel="C0APPROVALS", user="U0NOBODY", text="hi")
    assert _error(excinfo) == "user_not_found"


def test_posting_to_a_user_id_is_a_dm(fake: FakeSlack, client: WebClient) -> None:
    response = client.chat_postMessage(channel="U0BOB", text="Your request was approved")
    assert response["channel"].startswith("D")
    assert response["channel"] == fake.im_channel("U0BOB")
    assert [m.text for m in fake.dms("U0BOB")] == ["Your request was approved"]
    assert fake.dms("U0ALICE") == []
    opened = client.conversations_open(users="U0BOB")
    assert opened["channel"]["id"] == response["channel"]


def test_conversations_info_reports_membership(client: WebClient) -> None:
    assert client.conversations_info(channel="C0APPROVALS")["channel"]["is_member"] is True
    assert client.conversations_info(channel="C0OUTSIDE")["channel"]["is_member"] is False
    with pytest.raises(SlackApiError) as excinfo:
        client.conversations_info(channel="G0SECRET")
    assert _error(excinfo) == "channel_not_found"


# ------------------------------------------------------------------ users


def test_users_info_with_email_scope(client: WebClient) -> None:
    user = client.users_info(user="U0ALICE")["user"]
    assert user["id"] == "U0ALICE"
    assert user["team_id"] == "T0DEMO"
    assert user["name"] == "alice"
    assert user["real_name"] == "Alice Admin"
    assert user["deleted"] is False
    assert user["is_email_confirmed"] is True
    assert user["profile"]["email"] == "alice@example.com"


def test_users_info_without_email_scope() -> None:
    with FakeSlack(scopes=DEFAULT_SCOPES - {"users:read.email"}) as fake:
        fake.add_member("U0ALICE", "alice", "alice@example.com")
        client = WebClient(token=TOKEN, base_url=fake.api_url)
        assert "email" not in client.users_info(user="U0ALICE")["user"]["profile"]
        with pytest.raises(SlackApiError) as excinfo:
            client.users_lookupByEmail(email="alice@example.com")
        assert _error(excinfo) == "missing_scope"
        assert excinfo.value.response["needed"] == "users:read.email"


def test_users_info_errors_strangers_and_deleted(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.users_info(user="U0NOBODY")
    assert _error(excinfo) == "user_not_found"
    stranger = client.users_info(user="W0EXT")["user"]
    assert (stranger["team_id"], stranger["is_stranger"]) == ("T0OTHER", True)
    assert "email" not in stranger["profile"]
    fake.update_member("U0BOB", deleted=True)
    assert client.users_info(user="U0BOB")["user"]["deleted"] is True


def test_users_info_shows_guests(fake: FakeSlack, client: WebClient) -> None:
    member = client.users_info(user="U0ALICE")["user"]
    assert (member["is_restricted"], member["is_ultra_restricted"]) == (False, False)
    fake.update_member("U0ALICE", is_restricted=True)  # a multi-channel guest
    assert client.users_info(user="U0ALICE")["user"]["is_restricted"] is True
    fake.add_member("U0GUEST", "gus", "gus@example.com", is_ultra_restricted=True)  # a single-channel guest
    guest = client.users_info(user="U0GUEST")["user"]
    assert (guest["is_restricted"], guest["is_ultra_restricted"]) == (True, True)


def test_lookup_by_email(client: WebClient) -> None:
    assert client.users_lookupByEmail(email="ALICE@example.com")["user"]["id"] == "U0ALICE"
    with pytest.raises(SlackApiError) as excinfo:
        client.users_lookupByEmail(email="nobody@example.com")
    assert _error(excinfo) == "users_not_found"


# ------------------------------------------------------------------ views and triggers


def test_views_open_with_a_valid_trigger(fake: FakeSlack, client: WebClient) -> None:
    trigger_id = fake.issue_trigger_id("U0ALICE")
    response = client.views_open(trigger_id=trigger_id, view={**MODAL, "private_metadata": "req-7"})
    [view] = fake.views(user_id="U0ALICE")
    assert view.id == response["view"]["id"] and view.id.startswith("V")
    assert (view.callback_id, view.private_metadata, view.title, view.submit) == (
        "reject_modal",
        "req-7",
        "Reject request",
        "Reject",
    )
    assert view.is_open and view.errors == {}


def test_a_trigger_works_once(fake: FakeSlack, client: WebClient) -> None:
    trigger_id = fake.issue_trigger_id("U0ALICE")
    client.views_open(trigger_id=trigger_id, view=MODAL)
    for bad in (trigger_id, "123.456.made-up"):
        with pytest.raises(SlackApiError) as excinfo:
            client.views_open(trigger_id=bad, view=MODAL)
        assert _error(excinfo) == "invalid_trigger_id"


def test_a_trigger_expires_after_three_seconds(fake: FakeSlack, client: WebClient, clock: ManualClock) -> None:
    trigger_id = fake.issue_trigger_id("U0ALICE")
    clock.now += 3.5
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=trigger_id, view=MODAL)
    assert _error(excinfo) == "expired_trigger_id"
    assert fake.views() == []


def test_invalid_view_is_rejected_and_keeps_the_trigger(fake: FakeSlack, client: WebClient) -> None:
    trigger_id = fake.issue_trigger_id("U0ALICE")
    too_long = {**MODAL, "title": {"type": "plain_text", "text": "A title far longer than allowed"}}
    with pytest.raises(SlackApiError) as excinfo:
        client.views_open(trigger_id=trigger_id, view=too_long)
    assert _error(excinfo) == "invalid_arguments"
    assert "title" in excinfo.value.response["response_metadata"]["messages"][0]
    no_submit = {k: v for k, v in MODAL.items() if k != "submit"}
    with pytest.raises(SlackApiError):
        client.views_open(trigger_id=trigger_id, view=no_submit)
    client.views_open(trigger_id=trigger_id, view=MODAL)


def test_views_update_and_push(fake: FakeSlack, client: WebClient) -> None:
    opened = client.views_open(trigger_id=fake.issue_trigger_id("U0ALICE"), view=MODAL)["view"]
    updated = client.views_update(view_id=opened["id"], view={**MODAL, "private_metadata": "v2"}, hash=opened["hash"])
    assert updated["view"]["id"] == opened["id"]
    assert fake.view(opened["id"]).private_metadata == "v2"
    with pytest.raises(SlackApiError) as excinfo:
        client.views_update(view_id=opened["id"], view=MODAL, hash=opened["hash"])  # stale hash
    assert _error(excinfo) == "hash_conflict"
    with pytest.raises(SlackApiError) as excinfo:
        client.views_update(view_id="V404", view=MODAL)
    assert _error(excinfo) == "not_found"
    pushed = client.views_push(trigger_id=fake.issue_trigger_id("U0ALICE"), view=MODAL)["view"]
    assert [v.id for v in fake.view_stack("U0ALICE")] == [opened["id"], pushed["id"]]
    assert pushed["root_view_id"] == opened["id"]


def test_view_submission_responses(fake: FakeSlack, client: WebClient) -> None:
    view_id = client.views_open(trigger_id=fake.issue_trigger_id("U0ALICE"), view=MODAL)["view"]["id"]
    fake.apply_view_submission_response(view_id, {"response_action": "errors", "errors": {"reason": "Too short"}})
    assert fake.view(view_id).errors == {"reason": "Too short"} and fake.view(view_id).is_open
    fake.apply_view_submission_response(view_id, {"response_action": "push", "view": MODAL})
    assert len(fake.view_stack("U0ALICE")) == 2
    assert fake.view(view_id).errors == {}
    fake.apply_view_submission_response(view_id, {"response_action": "clear"})
    assert fake.views() == []
    assert len(fake.views(open_only=False)) == 2


# ------------------------------------------------------------------ faults


def test_injected_rate_limit_is_seen_by_the_client(fake: FakeSlack, client: WebClient) -> None:
    fake.inject_failure("chat.postMessage", retry_after=7, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as excinfo:
            client.chat_postMessage(channel="C0APPROVALS", text="hi")
        response = excinfo.value.response
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert response.data == {"ok": False, "error": "ratelimited"}
    client.chat_postMessage(channel="C0APPROVALS", text="hi")
    assert [m.text for m in fake.messages("C0APPROVALS")] == ["hi"]


def test_injected_error_and_http_status(fake: FakeSlack, client: WebClient) -> None:
    fake.inject_failure("users.info", error="fatal_error", status=500)
    with pytest.raises(SlackApiError) as excinfo:
        client.users_info(user="U0ALICE")
    assert (excinfo.value.response.status_code, _error(excinfo)) == (500, "fatal_error")
    assert client.users_info(user="U0ALICE")["ok"]


# ------------------------------------------------------------------ files (files_upload_v2)


def test_upload_v2_shares_the_file_in_a_thread(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0APPROVALS", text="results")["ts"]
    response = client.files_upload_v2(channel="C0APPROVALS", thread_ts=parent, content="a,b\r\n1,2\r\n",
                                      filename="results.csv", title="Results", initial_comment="All of them")
    assert response["file"]["title"] == "Results"
    [shared] = fake.files("C0APPROVALS")
    assert (shared.name, shared.title, shared.text, shared.thread_ts) == ("results.csv", "Results", "a,b\r\n1,2\r\n",
                                                                           parent)
    assert shared.id == response["file"]["id"] and shared.length == len(shared.content)
    _, reply = fake.messages("C0APPROVALS")
    assert (reply.ts, reply.thread_ts, reply.text) == (shared.message_ts, parent, "All of them")
    assert reply.files == [{"id": shared.id, "name": "results.csv", "title": "Results"}]
    assert fake.message_json("C0APPROVALS", reply.ts)["files"][0]["id"] == shared.id
    assert [c.method for c in fake.calls() if c.method != "chat.postMessage"] == [
        "files.getUploadURLExternal", UPLOAD, "files.completeUploadExternal"]


def test_upload_v2_refuses_channels_the_bot_cannot_share_in(fake: FakeSlack, client: WebClient) -> None:
    for channel, error in [("C0OUTSIDE", "not_in_channel"), ("G0SECRET", "channel_not_found"),
                           ("C0NOPE", "channel_not_found")]:
        with pytest.raises(SlackApiError) as excinfo:
            client.files_upload_v2(channel=channel, content="x", filename="x.csv")
        assert _error(excinfo) == error, channel
    assert fake.files("C0OUTSIDE") == [] and all(not f.completed for f in fake.files())


def test_complete_upload_refuses_unknown_unsent_and_completed_files(fake: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as excinfo:
        client.files_completeUploadExternal(files=[{"id": "F0NOPE"}], channel_id="C0APPROVALS")
    assert _error(excinfo) == "file_not_found"
    reserved = client.files_getUploadURLExternal(filename="x.csv", length=3)
    with pytest.raises(SlackApiError) as excinfo:  # the bytes never arrived
        client.files_completeUploadExternal(files=[{"id": reserved["file_id"]}], channel_id="C0APPROVALS")
    assert _error(excinfo) == "file_not_found"
    assert httpx.post(reserved["upload_url"], content=b"x,y").text == "OK - 3"
    client.files_completeUploadExternal(files=[{"id": reserved["file_id"], "title": "X"}])  # no channel: private
    [private] = fake.files()
    assert (private.completed, private.channel_id, private.title, private.text) == (True, None, "X", "x,y")
    with pytest.raises(SlackApiError) as excinfo:  # once only
        client.files_completeUploadExternal(files=[{"id": reserved["file_id"]}], channel_id="C0APPROVALS")
    assert _error(excinfo) == "file_not_found"
    assert httpx.post(reserved["upload_url"], content=b"late").status_code == 404
    assert fake.messages("C0APPROVALS") == []


def test_get_upload_url_needs_a_length_and_the_files_scope() -> None:
    with FakeSlack(scopes=DEFAULT_SCOPES - {"files:write"}) as fake:
        fake.add_channel("C0APPROVALS", "approvals")
        client = WebClient(token=TOKEN, base_url=fake.api_url)
        with pytest.raises(SlackApiError) as excinfo:
            client.files_upload_v2(channel="C0APPROVALS", content="x", filename="x.csv")
        assert _error(excinfo) == "missing_scope"
    with FakeSlack() as fake:
        client = WebClient(token=TOKEN, base_url=fake.api_url)
        with pytest.raises(SlackApiError) as excinfo:
            client.files_getUploadURLExternal(filename="x.csv", length=0)
        assert _error(excinfo) == "missing_argument"


def test_injected_upload_failure_answers_the_post(fake: FakeSlack, client: WebClient) -> None:
    fake.inject_failure(UPLOAD, error="service_unavailable", status=503)
    with pytest.raises(OSError, match="503"):  # urllib's HTTPError: slack_sdk posts the bytes with urlopen
        client.files_upload_v2(channel="C0APPROVALS", content="x", filename="x.csv")
    assert fake.files("C0APPROVALS") == [] and [c.error for c in fake.calls(UPLOAD)] == ["service_unavailable"]
    client.files_upload_v2(channel="C0APPROVALS", content="x", filename="x.csv")
    assert [f.text for f in fake.files("C0APPROVALS")] == ["x"]


# ------------------------------------------------------------------ response URLs


def test_response_url_posts_a_new_ephemeral_by_default(fake: FakeSlack) -> None:
    url = fake.new_response_url(channel_id="C0APPROVALS", user_id="U0ALICE")
    assert url.startswith(fake.base_url + "/response/")
    response = WebhookClient(url).send(text="Working on it")
    assert (response.status_code, response.body) == (200, "ok")
    assert [e.text for e in fake.ephemerals(user_id="U0ALICE", channel_id="C0APPROVALS")] == ["Working on it"]
    WebhookClient(url).send(text="Done", response_type="in_channel")
    assert [m.text for m in fake.messages("C0APPROVALS")] == ["Done"]
    assert [c.params["text"] for c in fake.calls("response_url")] == ["Working on it", "Done"]


def test_response_url_replaces_and_deletes_the_source(fake: FakeSlack, client: WebClient) -> None:
    eph_ts = client.chat_postEphemeral(channel="C0APPROVALS", user="U0ALICE", text="Pick one", blocks=BUTTONS)[
        "message_ts"
    ]
    url = fake.new_response_url(channel_id="C0APPROVALS", user_id="U0ALICE", source=eph_ts)
    WebhookClient(url).send(text="You picked Approve", replace_original=True)
    [ephemeral] = fake.ephemerals(user_id="U0ALICE")
    assert (ephemeral.id, ephemeral.text, ephemeral.blocks) == (eph_ts, "You picked Approve", [])
    WebhookClient(url).send(delete_original=True)
    assert fake.ephemerals(user_id="U0ALICE") == []

    ts = client.chat_postMessage(channel="C0APPROVALS", text="Request #1", blocks=BUTTONS)["ts"]
    url = fake.new_response_url(channel_id="C0APPROVALS", user_id="U0ALICE", source=("C0APPROVALS", ts))
    WebhookClient(url).send(text="Approved by alice", replace_original=True)
    [message] = fake.messages("C0APPROVALS")
    assert message.text == "Approved by alice" and message.history[0].text == "Request #1"
    WebhookClient(url).send(delete_original=True)
    assert fake.messages("C0APPROVALS") == []


def test_response_url_works_five_times(fake: FakeSlack) -> None:
    url = fake.new_response_url(channel_id="C0APPROVALS", user_id="U0ALICE")
    statuses = [WebhookClient(url).send(text=f"#{n}").status_code for n in range(6)]
    assert statuses == [200] * 5 + [404]
    assert WebhookClient(url).send(text="again").body == "used_url"
    assert len(fake.ephemerals(user_id="U0ALICE")) == 5
    assert WebhookClient(fake.base_url + "/response/nope").send(text="x").status_code == 404


def test_record_ack_response(fake: FakeSlack) -> None:
    fake.record_ack_response(channel_id="C0APPROVALS", user_id="U0BOB", body={"text": "Request filed"})
    fake.record_ack_response(channel_id="C0APPROVALS", user_id="U0BOB", body={"text": ""})
    fake.record_ack_response(
        channel_id="C0APPROVALS", user_id="U0BOB", body={"text": "Everyone sees", "response_type": "in_channel"}
    )
    assert [e.text for e in fake.ephemerals(user_id="U0BOB")] == ["Request filed"]
    assert [m.text for m in fake.messages("C0APPROVALS")] == ["Everyone sees"]


# ------------------------------------------------------------------ events and threads


def test_event_feed_reports_changes_in_order(fake: FakeSlack, client: WebClient) -> None:
    events: list[SlackEvent] = []
    unsubscribe = fake.subscribe(events.append)
    ts = client.chat_postMessage(channel="C0APPROVALS", text="one")["ts"]
    client.chat_update(channel="C0APPROVALS", ts=ts, text="two")
    client.chat_postMessage(channel="U0BOB", text="dm")
    client.chat_postEphemeral(channel="C0APPROVALS", user="U0ALICE", text="psst")
    view_id = client.views_open(trigger_id=fake.issue_trigger_id("U0ALICE"), view=MODAL)["view"]["id"]
    fake.apply_view_submission_response(view_id, {"response_action": "errors", "errors": {"reason": "No"}})
    fake.close_view(view_id)
    unsubscribe()
    client.chat_postMessage(channel="C0APPROVALS", text="unseen")
    assert [e.kind for e in events] == [
        EventKind.MESSAGE_POSTED,
        EventKind.MESSAGE_UPDATED,
        EventKind.DM_POSTED,
        EventKind.EPHEMERAL_POSTED,
        EventKind.VIEW_OPENED,
        EventKind.VIEW_ERRORS,
        EventKind.VIEW_CLOSED,
    ]
    posted, updated, dm, ephemeral, opened, errors, _ = events
    assert (posted.channel_name, posted.author_name, posted.text, posted.ts) == ("approvals", "bot", "one", ts)
    assert updated.text == "two"
    assert (dm.user_id, dm.user_name, dm.channel_id) == ("U0BOB", "bob", fake.im_channel("U0BOB"))
    assert (ephemeral.user_name, ephemeral.ephemeral_id is not None) == ("alice", True)
    assert (opened.view_id, opened.title, opened.submit) == (view_id, "Reject request", "Reject")
    assert errors.errors == {"reason": "No"}


def test_subscriber_may_call_back_into_the_fake(fake: FakeSlack, client: WebClient) -> None:
    seen: list[int] = []
    fake.subscribe(lambda event: seen.append(len(fake.messages("C0APPROVALS"))))
    client.chat_postMessage(channel="C0APPROVALS", text="hi")
    assert seen == [1]


def test_concurrent_posts_are_all_kept(fake: FakeSlack) -> None:
    def post_many(n: int) -> None:
        client = WebClient(token=TOKEN, base_url=fake.api_url)
        for i in range(15):
            client.chat_postMessage(channel="C0APPROVALS", text=f"{n}-{i}")

    threads = [threading.Thread(target=post_many, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    messages = fake.messages("C0APPROVALS")
    assert len(messages) == 90
    assert len({m.ts for m in messages}) == 90
    assert [m.ts for m in messages] == sorted(m.ts for m in messages)
    assert len(fake.calls("chat.postMessage")) == 90


def test_a_custom_steps_execution_completes_once_with_slacks_checks(fake: FakeSlack, client: WebClient) -> None:
    execution = fake.start_function("request_offboarding", {"action": "delete"}, required_outputs=("request_id",))
    with pytest.raises(SlackApiError) as unknown:
        client.functions_completeSuccess(function_execution_id="Fx0NOSUCH", outputs={"request_id": "OB-1"})
    assert _error(unknown) == "function_execution_not_found"
    with pytest.raises(SlackApiError) as missing:
        client.functions_completeSuccess(function_execution_id=execution.id, outputs={"other": "x"})
    assert _error(missing) == "parameter_validation_failed"
    assert fake.function_execution(execution.id).state == "running"
    # the step's just-in-time token acts as the bot's while the step runs
    WebClient(token=execution.token, base_url=client.base_url).functions_completeSuccess(
        function_execution_id=execution.id, outputs={"request_id": "OB-1"})
    assert fake.function_execution(execution.id).outputs == {"request_id": "OB-1"}
    with pytest.raises(SlackApiError) as again:
        client.functions_completeError(function_execution_id=execution.id, error="too late")
    assert _error(again) == "execution_not_in_running_state"
    with pytest.raises(SlackApiError) as expired:  # a finished step's token is no longer accepted
        WebClient(token=execution.token, base_url=client.base_url).auth_test()
    assert _error(expired) == "invalid_auth"
    failing = fake.start_function("request_offboarding", {})
    client.functions_completeError(function_execution_id=failing.id, error="rejected: not yet")
    assert fake.function_execution(failing.id).state == "failed"
    assert fake.function_execution(failing.id).error == "rejected: not yet"
    assert [call.method for call in fake.calls()][-1] == "functions.completeError"
