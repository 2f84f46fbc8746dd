"""The console HTTP policy itself, over httpx.MockTransport: what is retried, what is never resent, how long a
429 waits, the lease check before a change, the observation of every call and the one table of errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from bot.ambient import LeaseLost, holding_lease
from bot.console.http import (
    SERVER_ERRORS,
    Call,
    ConsoleHttp,
    Failure,
    Linear,
    Policy,
    RetryAfter,
    answer_error,
    map_transport_errors,
    retry_after_seconds,
)
from bot.errors import (
    AccessDenied,
    ConsoleError,
    ConsoleRejected,
    ConsoleUnavailable,
    ConsoleUnsupported,
    OutcomeUnknown,
)
from bot.ports import ConsoleCall

READ = Call("GET", "users/u-1", "read user u-1")
CHANGE = Call("PUT", "users/u-1", "deactivate user u-1", change=True, body={"active": False},
              headers={"Content-Type": "application/json"})
POLICY = Policy(tries=3, pause=Linear(0.5), retried=frozenset({500, 502, 503, 504}),
                doubtful=frozenset({500, 502, 504}))


class Words:
    """A dialect for tests: plain words that show what the policy decided."""

    backend = "test"

    def response_id(self, response: httpx.Response) -> str | None:
        return response.headers.get("x-id")

    def says_unsupported(self, response: httpx.Response, call: Call) -> bool:
        return response.status_code in (405, 501)

    def no_answer(self, error: httpx.TransportError, *, sent: bool) -> str:
        return f"{'lost' if sent else 'never sent'} ({type(error).__name__})"

    def lost_change(self, reason: str, call: Call) -> str:
        return f"{call.doing}: {reason}"

    def gave_up(self, failure: Failure, tries: int) -> str:
        said = failure.reason if failure.response is None else f"HTTP {failure.response.status_code}"
        return f"gave up after {tries}: {said}"

    def answer(self, kind: type[ConsoleError], response: httpx.Response, call: Call) -> str:
        return f"{kind.__name__}: {call.doing} (HTTP {response.status_code})"


class Script:
    """A console that answers from a script: a Response, or an exception to raise, per request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Pacer:
    """A pacer that records: every slot taken and answered, every pause asked for."""

    def __init__(self) -> None:
        self.acquired = self.answered_count = 0
        self.pauses: list[float] = []

    def acquire(self) -> int:
        self.acquired += 1
        return self.acquired

    def answered(self, ticket: Any) -> None:
        self.answered_count += 1

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def wire(script: Script, *, policy: Policy = POLICY, sleeps: Callable[[float], None] | None = None,
         pacer: Pacer | None = None, on_call: Callable[[ConsoleCall], None] | None = None) -> ConsoleHttp:
    client = httpx.Client(base_url="https://console.example/api/", transport=httpx.MockTransport(script))
    return ConsoleHttp(client, policy=policy, dialect=Words(), pacer=pacer,
                       sleep=sleeps if sleeps is not None else Sleeps(), on_call=on_call)


def ok(**headers: str) -> httpx.Response:
    return httpx.Response(200, json={"ok": True}, headers=headers)


def status(code: int, **headers: str) -> httpx.Response:
    return httpx.Response(code, headers=headers)


# -- what is tried again, and what never is ------------------------------------------------------------------

@pytest.mark.parametrize("call", [READ, CHANGE], ids=["read", "change"])
def test_a_request_that_never_left_is_tried_again(call):
    script = Script(httpx.ConnectError("refused"), httpx.ConnectTimeout("slow to connect"), ok())
    sleeps = Sleeps()
    assert wire(script, sleeps=sleeps).send(call).status_code == 200
    assert len(script.requests) == 3
    assert sleeps == [0.5, 1.0]  # the policy's pause after the first and the second failure


def test_connect_failures_give_up_after_the_policys_tries():
    script = Script(*[httpx.ConnectError("refused")] * 3)
    with pytest.raises(ConsoleUnavailable) as caught:
        wire(script).send(CHANGE)
    assert caught.value.message == "gave up after 3: never sent (ConnectError)"
    assert caught.value.retryable and caught.value.status is None
    assert len(script.requests) == 3


@pytest.mark.parametrize("lost", [httpx.ReadTimeout("no answer"), httpx.RemoteProtocolError("dropped")],
                         ids=lambda error: type(error).__name__)
def test_a_lost_answer_to_a_change_is_outcome_unknown_and_never_resent(lost):
    script = Script(lost, ok())
    sleeps = Sleeps()
    with pytest.raises(OutcomeUnknown) as caught:
        wire(script, sleeps=sleeps).send(CHANGE)
    assert caught.value.message == f"deactivate user u-1: lost ({type(lost).__name__})"
    assert len(script.requests) == 1 and sleeps == []


def test_a_lost_answer_to_a_read_is_tried_again():
    script = Script(httpx.ReadTimeout("no answer"), ok())
    assert wire(script).send(READ).json() == {"ok": True}
    assert len(script.requests) == 2


def test_a_change_answered_in_doubt_is_outcome_unknown_and_never_resent():
    script = Script(status(502, **{"x-id": "r-7"}), ok())
    with pytest.raises(OutcomeUnknown) as caught:
        wire(script).send(CHANGE)
    assert (caught.value.status, caught.value.response_id) == (502, "r-7")
    assert caught.value.message == "OutcomeUnknown: deactivate user u-1 (HTTP 502)"
    assert len(script.requests) == 1


def test_a_change_answered_not_taken_is_returned_to_the_caller():
    """503 is retried on reads but not in doubt on a change here: the caller decides (8x8 resends after a read)."""
    script = Script(status(503))
    assert wire(script).send(CHANGE).status_code == 503
    assert len(script.requests) == 1


def test_reads_are_tried_again_on_the_policys_statuses_then_give_up():
    script = Script(status(503), status(500), status(502, **{"x-id": "r-9"}))
    sleeps = Sleeps()
    with pytest.raises(ConsoleUnavailable) as caught:
        wire(script, sleeps=sleeps).send(READ)
    assert caught.value.message == "gave up after 3: HTTP 502"
    assert (caught.value.status, caught.value.response_id) == (502, "r-9")  # cite_failures
    assert sleeps == [0.5, 1.0]


def test_a_policy_may_give_up_without_citing_the_answer():
    policy = Policy(tries=1, pause=Linear(0), retried=frozenset({503}), doubtful=frozenset(), cite_failures=False)
    with pytest.raises(ConsoleUnavailable) as caught:
        wire(Script(status(503, **{"x-id": "r-1"})), policy=policy).send(READ)
    assert (caught.value.status, caught.value.response_id) == (None, None)


def test_other_answers_are_returned_as_they_are():
    for code in (201, 204, 400, 404, 409, 412, 501):
        script = Script(status(code))
        assert wire(script).send(CHANGE).status_code == code
        assert len(script.requests) == 1


# -- 429 --------------------------------------------------------------------------------------------------------

def test_a_429_waits_retry_after_then_goes_on():
    script = Script(status(429, **{"Retry-After": "3"}), ok())
    sleeps = Sleeps()
    assert wire(script, sleeps=sleeps).send(CHANGE).status_code == 200
    assert sleeps == [3.0]
    assert len(script.requests) == 2


def test_without_a_budget_of_their_own_429s_count_as_failed_tries():
    script = Script(*[status(429, **{"Retry-After": "1"})] * 3)
    with pytest.raises(ConsoleUnavailable, match="gave up after 3: HTTP 429") as caught:
        wire(script).send(READ)
    assert caught.value.status == 429


def test_429s_on_a_budget_of_their_own_pause_the_pacer_then_the_answer_is_returned():
    pacer = Pacer()
    sleeps = Sleeps()
    policy = Policy(tries=2, pause=Linear(0.5), retried=frozenset({503}), doubtful=frozenset(), throttled=2,
                    retry_after=RetryAfter(missing=1.0))
    script = Script(status(429, **{"Retry-After": "2"}), status(429), status(429))
    assert wire(script, policy=policy, pacer=pacer, sleeps=sleeps).send(CHANGE).status_code == 429
    assert pacer.pauses == [2.0, 1.0]  # every caller of a shared pacer waits, not only this one
    assert sleeps == []
    assert pacer.acquired == pacer.answered_count == 3


@pytest.mark.parametrize(("header", "waited"), [
    ({"Retry-After": "7"}, 7.0),
    ({"Retry-After": "0"}, 1.0),  # never less than the shortest
    ({"Retry-After": "3600"}, 120.0),  # never more than the longest
    ({"Retry-After": "soon"}, 5.0),  # unreadable
    ({}, 1.5),  # missing
])
def test_the_wait_comes_from_retry_after_within_bounds(header, waited):
    rule = RetryAfter(missing=1.5, unreadable=5.0, shortest=1.0, longest=120.0)
    policy = Policy(tries=2, pause=Linear(0.5), retried=frozenset(), doubtful=frozenset(), retry_after=rule)
    sleeps = Sleeps()
    wire(Script(status(429, **header), ok()), policy=policy, sleeps=sleeps).send(READ)
    assert sleeps == [waited]


def test_without_retry_after_and_fallbacks_a_429_waits_the_pause():
    sleeps = Sleeps()
    wire(Script(status(429), ok()), sleeps=sleeps).send(READ)
    assert sleeps == [0.5]


def test_an_answer_asking_for_too_long_a_wait_gives_up_at_once():
    policy = Policy(tries=3, pause=Linear(0.5), retried=frozenset(), doubtful=frozenset(), longest_wait=30.0)
    script = Script(status(429, **{"Retry-After": "3600", "x-id": "r-2"}), ok())
    sleeps = Sleeps()
    with pytest.raises(ConsoleUnavailable, match="gave up after 1: HTTP 429") as caught:
        wire(script, policy=policy, sleeps=sleeps).send(READ)
    assert (caught.value.status, caught.value.response_id) == (429, "r-2")
    assert len(script.requests) == 1 and sleeps == []


# -- the lease ----------------------------------------------------------------------------------------------------

def test_a_lost_lease_stops_a_change_before_anything_is_sent():
    script = Script(ok())
    with holding_lease(lambda: False), pytest.raises(LeaseLost, match="PUT users/u-1"):
        wire(script).send(CHANGE)
    assert script.requests == []


def test_reads_go_without_a_lease():
    script = Script(ok())
    with holding_lease(lambda: False):
        assert wire(script).send(READ).status_code == 200


def test_the_lease_is_checked_again_before_each_try_of_a_change():
    held = iter([True, False])
    script = Script(httpx.ConnectError("refused"), ok())
    with holding_lease(lambda: next(held)), pytest.raises(LeaseLost):
        wire(script).send(CHANGE)
    assert len(script.requests) == 1


def test_the_lease_is_checked_after_the_wait_for_a_slot():
    order: list[str] = []

    class Slow(Pacer):
        def acquire(self) -> int:
            order.append("slot")
            return super().acquire()

    def still_held() -> bool:
        order.append("lease")
        return True

    with holding_lease(still_held):
        wire(Script(ok()), pacer=Slow()).send(CHANGE)
    assert order == ["slot", "lease"]


# -- observation ------------------------------------------------------------------------------------------------

def test_every_call_is_observed_retries_included():
    seen: list[ConsoleCall] = []
    script = Script(httpx.ConnectError("refused"), status(503), ok())
    http = wire(script, on_call=seen.append)
    http.send(READ)
    assert [(call.backend, call.operation, call.status, call.error) for call in seen] == [
        ("test", "GET users", None, "ConnectError"),
        ("test", "GET users", 503, None),
        ("test", "GET users", 200, None),
    ]
    assert all(call.seconds >= 0 for call in seen)
    assert http.calls == 3


def test_a_lost_answer_to_a_change_is_observed_once():
    seen: list[ConsoleCall] = []
    with pytest.raises(OutcomeUnknown):
        wire(Script(httpx.ReadTimeout("no answer")), on_call=seen.append).send(CHANGE)
    assert [(call.operation, call.status, call.error) for call in seen] == [("PUT users", None, "ReadTimeout")]


def test_the_request_carries_the_calls_headers_params_and_json_body():
    script = Script(ok())
    http = wire(script)
    http.send(Call("PUT", "users/u-1", "change", change=True, body={"a": [1, "é"]},
                   headers={"Content-Type": "application/x.test+json"}, params={"v": "2"}))
    sent = script.requests[0]
    assert str(sent.url) == "https://console.example/api/users/u-1?v=2"
    assert sent.headers["Content-Type"] == "application/x.test+json"
    assert json.loads(sent.content) == {"a": [1, "é"]}
    assert http.base_url == "https://console.example/api"


# -- the mapping, in one place ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "call", "kind"), [
    (401, READ, AccessDenied),
    (403, CHANGE, AccessDenied),
    (405, CHANGE, ConsoleUnsupported),
    (501, READ, ConsoleUnsupported),
    (502, CHANGE, OutcomeUnknown),
    (502, READ, ConsoleUnavailable),
    (503, CHANGE, ConsoleUnavailable),  # not in doubt under this policy: not taken
    (429, CHANGE, ConsoleUnavailable),
    (400, CHANGE, ConsoleRejected),
    (409, READ, ConsoleRejected),
    (200, CHANGE, ConsoleRejected),  # an answer the caller did not want, even a success
])
def test_answer_error_is_the_one_table_of_failed_answers(code, call, kind):
    error = answer_error(status(code, **{"x-id": "r-3"}), call, policy=POLICY, dialect=Words())
    assert type(error) is kind
    assert (error.status, error.response_id) == (code, "r-3")
    assert error.message == f"{kind.__name__}: {call.doing} (HTTP {code})"


@pytest.mark.parametrize(("raised", "call", "kind"), [
    (httpx.ConnectError("refused"), CHANGE, ConsoleUnavailable),
    (httpx.PoolTimeout("no connection free"), CHANGE, ConsoleUnavailable),
    (httpx.ReadTimeout("no answer"), CHANGE, OutcomeUnknown),
    (httpx.WriteError("broken pipe"), CHANGE, OutcomeUnknown),
    (httpx.ReadTimeout("no answer"), READ, ConsoleUnavailable),
])
def test_map_transport_errors(raised, call, kind):
    with pytest.raises(kind) as caught, map_transport_errors(call, Words()):
        raise raised
    assert type(caught.value) is kind
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_map_transport_errors_lets_anything_else_through():
    with pytest.raises(ValueError), map_transport_errors(READ, Words()):
        raise ValueError("not a transport error")


def test_server_errors_are_the_5xx():
    assert min(SERVER_ERRORS) == 500 and max(SERVER_ERRORS) == 599 and 501 in SERVER_ERRORS


# -- Retry-After ------------------------------------------------------------------------------------------------

def test_retry_after_seconds():
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(" 1.5 ") == 1.5
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds(None) is retry_after_seconds("") is retry_after_seconds("later") is None
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    assert 80 <= retry_after_seconds(when) <= 90
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
