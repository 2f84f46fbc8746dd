"""What an operator sees: /metrics scraped over HTTP from the real app, /healthz, and JSON log lines that
carry the id an admin is shown when something goes wrong, and never a secret."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import ambient, logs
from bot.console.eightbyeight.client import Backoff, EightByEightClient
from bot.console.scim import ScimConsole
from bot.domain.lifecycle import RequestState
from bot.metrics import PrometheusMetrics
from bot.simulators.eightbyeight.fake import FakeEightByEight
from bot.simulators.eightbyeight.users import make_user
from bot.simulators.harness import SIGNING_SECRET, App, serve_eightbyeight, serve_local
from bot.simulators.slack.demo import populate
from bot.simulators.slack.fake import FakeSlack

BOT_TOKEN = "xoxb-1111111111-2222222222-observabilitytokenvalue"
Samples = dict[tuple[str, frozenset], float]


# -- fixtures ---------------------------------------------------------------------------------------------

@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The demo workspace, with a bot token that looks real enough to be worth leaking."""
    fake = FakeSlack(team_id="T0DEMO", bot_token=BOT_TOKEN)
    populate(fake)
    with fake:
        yield fake


@pytest.fixture
def app(slack, tmp_path, clock) -> Iterator[App]:
    """The real app over HTTP with the local console and its fault switches (as in tests/app)."""
    with serve_local(slack, clock, tmp_path) as app:
        yield app


@pytest.fixture
def app_8x8(slack, tmp_path, clock, eightbyeight: FakeEightByEight) -> Iterator[App]:
    """The real app configured for the fake 8x8 API, as an admin would (so every HTTP call is counted)."""
    eightbyeight.add_user(make_user("jdoe", "jdoe@example.com", first_name="John", last_name="Doe",
                                    licenses=["X Series X4"]))
    with serve_eightbyeight(slack, clock, tmp_path, eightbyeight) as app:
        yield app


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every log record of the process, at DEBUG, as the JSON lines `serve` writes (secrets redacted)."""
    stream = io.StringIO()
    handler = logs.make_handler(stream, fmt="json", secrets=[BOT_TOKEN, SIGNING_SECRET])
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _scrape(app: App) -> Samples:
    response = app.http.get(f"{app.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return _parse(response.text)


def _parse(text: str) -> Samples:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of name whose labels include these."""
    wanted = set(labels.items())
    return sum(value for (sample, found), value in samples.items() if sample == name and wanted <= found)


# -- /metrics ---------------------------------------------------------------------------------------------

def test_a_delete_shows_in_the_metrics(app_8x8):
    app, fake = app_8x8, app_8x8.console
    fake.fail_next("GET", "/users", status=503)  # one read answered 503, repeated: a console error by kind
    app.command("alice", "delete jdoe --reason left")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    request_id = app.request_id()
    app.clock.advance(timedelta(minutes=7))
    app.press("bob", "Approve")
    assert app.container.store.get(request_id).state is RequestState.DONE

    samples = _scrape(app)
    assert _value(samples, "offboard_requests_total", action="delete", outcome="done") == 1
    assert _total(samples, "offboard_requests_total") == 1
    assert _value(samples, "offboard_approval_latency_seconds_count", action="delete") == 1
    assert _value(samples, "offboard_approval_latency_seconds_sum", action="delete") == 7 * 60
    assert _value(samples, "offboard_console_calls_total", backend="8x8", operation="PUT users", status="202") == 1
    assert _value(samples, "offboard_console_calls_total", backend="8x8", operation="DELETE users",
                  status="202") == 1
    assert _value(samples, "offboard_console_calls_total", backend="8x8", operation="GET users", status="503") == 1
    assert _value(samples, "offboard_console_calls_total", backend="8x8", operation="GET users", status="200") >= 3
    assert _value(samples, "offboard_console_errors_total", backend="8x8", operation="GET users",
                  kind="server_error") == 1
    assert _total(samples, "offboard_console_errors_total") == 1
    calls = _total(samples, "offboard_console_calls_total")
    assert _total(samples, "offboard_console_call_seconds_count") == calls
    assert _value(samples, "offboard_pool_pending", pool="jobs") == 0
    assert _value(samples, "offboard_lease_takeovers_total") == 0


def test_every_final_outcome_is_counted_once(app):
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.press("bob", "Reject")
    app.press("bob", "Reject", reason="still needed")

    app.command("alice", "delete jdoe")
    request_id = app.request_id()
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.command("alice", f"cancel {request_id}")

    app.command("alice", "deactivate jdoe")  # left as a draft: it expires
    app.clock.advance(timedelta(days=30))
    app.container.sweeper.sweep()
    app.settle()

    samples = _scrape(app)
    assert _value(samples, "offboard_requests_total", action="delete", outcome="rejected") == 1
    assert _value(samples, "offboard_requests_total", action="delete", outcome="cancelled") == 1
    assert _value(samples, "offboard_requests_total", action="deactivate", outcome="expired") == 1
    assert _total(samples, "offboard_requests_total") == 3
    assert _total(samples, "offboard_approval_latency_seconds_count") == 0
    assert _value(samples, "offboard_sweeps_total", outcome="ok") == 1
    assert _value(samples, "offboard_swept_requests_total", kind="expired") == 1


def test_a_run_left_by_a_dead_replica_is_counted_as_taken_over(app):
    app.command("alice", "deactivate jdoe --at in 2h")
    app.press("alice", "Confirm")
    request_id = app.request_id()
    app.clock.advance(timedelta(hours=2))
    now = app.clock.now()
    store = app.container.store
    assert list(store.claim_due(owner="dead-replica:1:abcd", now=now, until=now + timedelta(minutes=1), limit=5)) \
        == [request_id]  # another replica claims the run, then dies without a word

    app.clock.advance(timedelta(minutes=2))
    app.container.sweeper.sweep()
    app.settle()
    assert store.get(request_id).state is RequestState.DONE
    samples = _scrape(app)
    assert _value(samples, "offboard_lease_takeovers_total") == 1
    assert _value(samples, "offboard_swept_requests_total", kind="started") == 1
    assert _value(samples, "offboard_requests_total", action="deactivate", outcome="done") == 1


def test_queue_depth_is_read_when_scraped(app):
    release = threading.Event()
    app.container.jobs.submit(release.wait, 10)
    try:
        assert _value(_scrape(app), "offboard_pool_pending", pool="jobs") == 1
    finally:
        release.set()
    app.settle()
    assert _value(_scrape(app), "offboard_pool_pending", pool="jobs") == 0


def test_each_app_has_its_own_registry():
    first, second = PrometheusMetrics(), PrometheusMetrics()
    first.lease_taken_over()
    assert _value(_parse(first.exposition().decode()), "offboard_lease_takeovers_total") == 1
    assert _value(_parse(second.exposition().decode()), "offboard_lease_takeovers_total") == 0


# -- console calls, counted by the clients --------------------------------------------------------------

def test_8x8_calls_are_counted_by_status_and_failures_by_kind():
    metrics = PrometheusMetrics()
    answers = [httpx.ConnectError("refused"), httpx.Response(503),
               httpx.Response(200, json={"basicInfo": {"userId": "u-1"}})]

    def answer(_request: httpx.Request) -> httpx.Response:
        found = answers.pop(0)
        if isinstance(found, Exception):
            raise found
        return found

    client = EightByEightClient("https://console.example", "api-key-0123456789", transport=httpx.MockTransport(answer),
                                backoff=Backoff(first=0), sleep=lambda _: None, on_call=metrics.console_call)
    assert client.get_user("u-1") == {"basicInfo": {"userId": "u-1"}}
    samples = _parse(metrics.exposition().decode())
    for status in ("none", "503", "200"):
        assert _value(samples, "offboard_console_calls_total", backend="8x8", operation="GET users",
                      status=status) == 1
    assert _value(samples, "offboard_console_errors_total", backend="8x8", operation="GET users",
                  kind="ConnectError") == 1
    assert _value(samples, "offboard_console_errors_total", backend="8x8", operation="GET users",
                  kind="server_error") == 1


def test_scim_calls_are_counted_by_status_and_failures_by_kind():
    metrics = PrometheusMetrics()
    answers = [httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(404)]
    console = ScimConsole("https://scim.example/scim/v2", "scim-token-0123456789",
                          transport=httpx.MockTransport(lambda _request: answers.pop(0)), sleep=lambda _: None,
                          on_call=metrics.console_call)
    assert console.get_user(user_id="u-1") is None
    samples = _parse(metrics.exposition().decode())
    assert _value(samples, "offboard_console_calls_total", backend="scim", operation="GET Users", status="429") == 1
    assert _value(samples, "offboard_console_calls_total", backend="scim", operation="GET Users", status="404") == 1
    assert _total(samples, "offboard_console_errors_total", kind="throttled") == 1
    assert _total(samples, "offboard_console_errors_total") == 1


# -- /healthz ---------------------------------------------------------------------------------------------

def test_healthz_answers_503_when_the_database_is_gone(app, tmp_path):
    assert app.http.get(f"{app.url}/healthz").status_code == 200
    app.container.engine.dispose()
    for file in tmp_path.glob("offboard.db*"):
        file.unlink()
    (tmp_path / "offboard.db").mkdir()  # where the database was, a directory: SQLite cannot open it
    response = app.http.get(f"{app.url}/healthz")
    assert response.status_code == 503
    assert response.json() == {"ok": False, "database": "OperationalError"}


# -- logs -------------------------------------------------------------------------------------------------

def test_the_error_id_shown_is_the_request_id_of_its_log_lines(app, json_log):
    app.faults.fail_next("find_user", RuntimeError("a bug in the console adapter"))
    app.command("alice", "delete jdoe")
    shown = re.search(r"error id `([0-9a-f]{10})`", app.last_ephemeral("alice"))
    assert shown, app.last_ephemeral("alice")
    error_id = shown.group(1)
    app.command("alice", "list")

    lines = _lines(json_log)
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == error_id and error_id in errors[0]["message"]
    assert errors[0]["logger"] == "offboard.errors"
    assert "RuntimeError: a bug in the console adapter" in errors[0]["exception"]
    assert {"time", "level", "logger", "message", "thread"} <= set(errors[0])
    # The id is the request's, not the error's: the lines Bolt logged while dispatching the request (its first
    # auth.test, on the server's worker thread) carry it as well as those of the work done after the ack...
    same = [line for line in lines if line.get("request_id") == error_id]
    threads = {line["thread"] for line in same}
    assert "AnyIO worker thread" in threads and any(name.startswith("offboard-answer") for name in threads), same
    # ...and the next request has one of its own.
    assert len({line["request_id"] for line in lines if "request_id" in line}) >= 2


def test_a_refusal_shows_the_reference_of_its_log_lines(app, json_log):
    app.command("jdoe", "delete msmith")  # not an admin
    shown = re.search(r"ref `([0-9a-f]{10})`", app.last_ephemeral("jdoe"))
    assert shown, app.last_ephemeral("jdoe")
    refused = [line for line in _lines(json_log) if line["message"].startswith("refused command:delete")]
    assert [line["request_id"] for line in refused] == [shown.group(1)]


def test_a_background_job_logs_under_the_request_that_started_it(app, json_log):
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.faults.fail_next("get_user", RuntimeError("lost the connection pool"))
    app.press("bob", "Approve")
    failed = [line for line in _lines(json_log) if "background job" in line["message"]]
    assert len(failed) == 1 and failed[0]["request_id"] in failed[0]["message"]
    assert failed[0]["thread"].startswith("offboard-job")
    approve = [line for line in _lines(json_log)
               if line.get("request_id") == failed[0]["request_id"] and not line["thread"].startswith("offboard-job")]
    assert approve, "the job's id is that of the Approve click"


def test_secrets_never_reach_the_log(app, json_log):
    app.command("alice", "delete jdoe")
    app.press("alice", "Request approval", offboard_checklist="box-1")
    app.press("bob", "Approve")
    logging.getLogger("offboard.test").warning("someone logged %s and %s", BOT_TOKEN, SIGNING_SECRET)
    written = json_log.getvalue()
    assert len(written.splitlines()) > 20  # DEBUG from Bolt, slack_sdk, httpx and the bot, all of it
    assert BOT_TOKEN not in written and SIGNING_SECRET not in written
    assert "someone logged [redacted] and [redacted]" in written


def test_text_format_for_people_and_fields_given_as_extra():
    stream = io.StringIO()
    logger = logging.getLogger("offboard.test.format")
    logger.propagate = False
    for fmt in ("text", "json"):
        handler = logs.make_handler(stream, fmt=fmt, secrets=["s3cret-value-123"])
        logger.addHandler(handler)
        with ambient.trace_scope("abc123def0"):
            logger.warning("hello %s", "s3cret-value-123", extra={"offboard_request": "OB-2345"})
        logger.warning("outside any request")
        logger.removeHandler(handler)
    text_inside, text_outside, json_inside, json_outside = stream.getvalue().splitlines()
    assert text_inside.endswith("WARNING offboard.test.format [abc123def0]: hello [redacted]")
    assert text_outside.endswith("WARNING offboard.test.format: outside any request")
    entry = json.loads(json_inside)
    assert entry["request_id"] == "abc123def0" and entry["message"] == "hello [redacted]"
    assert entry["offboard_request"] == "OB-2345"
    assert "request_id" not in json.loads(json_outside)
