"""Every flow with OFFBOARD_CONSOLE=scim against the real third-party scim2-server, through signed Slack
requests into the real app; the Slack messages must tell the truth about what the provider did."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.console.scim import ScimConsole
from bot.domain.lifecycle import RequestState
from bot.domain.notes import Note, Why
from bot.simulators.harness import App, serve
from tests.console.scim.test_console import Proxy
from tests.scim_server import SeededScim


@pytest.fixture
def app(slack, tmp_path, clock, scim: SeededScim) -> Iterator[App]:
    """Configured as an admin would: OFFBOARD_CONSOLE=scim, SCIM_BASE_URL and SCIM_TOKEN."""
    with serve(slack, clock, tmp_path, state=scim, offboard_console="scim", scim_base_url=scim.base_url,
               scim_token=scim.token) as app:
        yield app


def serve_behind(proxy: Proxy, slack, clock, tmp_path, scim: SeededScim):
    console = ScimConsole(scim.base_url, scim.token, transport=httpx.MockTransport(proxy), backoff=0)
    return serve(slack, clock, tmp_path, console=console, state=scim)


def _state(app: App, request_id: str) -> RequestState:
    return app.container.store.get(request_id).state


def _results(app: App) -> str:
    return "\n".join(app.channel_texts("C0RESULTS"))


def test_delete_has_manual_steps_for_what_scim_cannot_see(app):
    scim = app.console
    app.command("alice", "delete jdoe --reason left")
    preview = app.last_ephemeral("alice")
    assert "release the user's licenses and phone numbers" in preview and "Contact Center" in preview
    lines = preview.splitlines()
    start = lines.index("*By hand, before approval* (the bot cannot do these):")
    manual = lines[start + 1:start + 3]
    assert "licenses" in manual[0] and "Contact Center" in manual[1]
    assert lines[start + 3] == "*Then, once approved, the bot does:*"
    app.press("alice", "Request approval", offboard_checklist="box-1")
    assert "steps done by hand" in app.last_ephemeral("alice")
    app.press("alice", "Request approval", offboard_checklist="box-1,attested")
    request_id = app.request_id()
    app.press("bob", "Approve")
    assert _state(app, request_id) is RequestState.DONE
    assert scim.server.raw_user(scim.ids["jdoe"]) is None
    assert "deleted successfully" in _results(app)
    steps = {s.kind.value: s.note for s in app.container.store.get(request_id).targets[0].steps}
    assert steps["release_licenses"] == Note(Why.ATTESTED)


def test_deactivate_and_reactivate(app):
    scim = app.console
    app.command("alice", "deactivate jdoe")
    app.press("alice", "Confirm")
    assert scim.server.raw_user(scim.ids["jdoe"])["active"] is False
    app.command("alice", "reactivate tinactive")
    app.press("alice", "Confirm")
    assert scim.server.raw_user(scim.ids["tinactive"])["active"] is True
    assert "reactivated successfully" in _results(app)


def test_rename_and_names_in_use(app):
    scim = app.console
    app.command("alice", "rename jdoe jdoe.former")
    app.press("alice", "Confirm")
    assert scim.server.raw_user(scim.ids["jdoe"])["userName"] == "jdoe.former"

    app.command("alice", "rename jdoe.former MSMITH")
    assert "already in use" in app.last_ephemeral("alice")

    app.command("alice", "rename jdoe.former johnny")
    scim.server.create_user("johnny", emails=("johnny@example.com",), given_name="Johnny", family_name="B")
    app.press("alice", "Confirm")  # the name was taken between the plan and the run
    assert "the username johnny is already in use" in _results(app)
    assert scim.server.raw_user(scim.ids["jdoe"])["userName"] == "jdoe.former"


def test_a_change_between_the_read_and_the_write_is_caught_by_the_etag(slack, clock, tmp_path, scim):
    def edit_first(request: httpx.Request, forward) -> None:
        if request.method in ("PATCH", "PUT") and not edited:
            edited.append(request)
            scim.server.patch_user(scim.ids["jdoe"], "displayName", "Changed meanwhile")
        return None

    edited: list[httpx.Request] = []
    with serve_behind(Proxy(edit_first), slack, clock, tmp_path, scim) as app:
        app.command("alice", "deactivate jdoe")
        app.press("alice", "Confirm")
        assert _state(app, app.request_id()) is RequestState.FAILED
        assert "changed" in _results(app).lower()
    raw = scim.server.raw_user(scim.ids["jdoe"])
    assert raw["active"] is True and raw["displayName"] == "Changed meanwhile"  # nothing overwritten


def test_a_provider_that_only_deactivates_is_reported_truthfully(slack, clock, tmp_path, scim):
    def deactivate_instead(request: httpx.Request, forward) -> httpx.Response | None:
        if request.method != "DELETE":
            return None
        scim.server.patch_user(request.url.path.rsplit("/", 1)[1], "active", False)
        return httpx.Response(204)

    with serve_behind(Proxy(deactivate_instead), slack, clock, tmp_path, scim) as app:
        app.command("alice", "delete jdoe")
        app.press("alice", "Request approval", offboard_checklist="box-1,attested")
        request_id = app.request_id()
        app.press("bob", "Approve")
        assert _state(app, request_id) is RequestState.FAILED
        results = _results(app)
        assert "only deactivated" in results and "not deleted" in results
        assert "0/1 deleted successfully" in results and "1/1" not in results
    assert scim.server.raw_user(scim.ids["jdoe"])["active"] is False


def test_a_wrong_token_is_refused_clearly_and_never_shown(slack, clock, tmp_path, scim):
    with serve(slack, clock, tmp_path, offboard_console="scim", scim_base_url=scim.base_url,
               scim_token="wrong-token-s3cr3t") as app:
        app.command("alice", "delete jdoe")
        answer = app.last_ephemeral("alice")
        assert "token was refused" in answer
        assert app.container.store.list(limit=5) == []
        assert not any("s3cr3t" in str(message.blocks) + (message.text or "")
                       for message in app.slack.ephemerals(user_id="U0ALICE"))
