"""How the 8x8 client configures the console HTTP policy, over httpx.MockTransport and a throttle on a fake
clock: the 429 budget every caller pauses on, Retry-After's bounds, and which failed changes are in doubt."""

from __future__ import annotations

import httpx
import pytest

from bot.console.eightbyeight.client import Backoff, EightByEightClient
from bot.console.eightbyeight.limits import Throttle
from bot.errors import AccessDenied, ConsoleRejected, ConsoleUnavailable, ConsoleUnsupported, OutcomeUnknown


class Clock:
    """A monotonic clock that a sleep moves on."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def client_for(answers: list[httpx.Response], clock: Clock, requests: list[httpx.Request]) -> EightByEightClient:
    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answers.pop(0)

    return EightByEightClient("https://8x8.example/admin-provisioning", "key-0123456789",
                              throttle=Throttle(monotonic=clock, sleep=clock.sleep),
                              transport=httpx.MockTransport(answer), backoff=Backoff(first=0.01, cap=0.02),
                              sleep=clock.sleep)


def problem(status: int, detail: str = "busy", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"status": status, "title": "Error", "detail": detail},
                          headers={"x-response-id": "resp-1", **headers})


def test_six_429s_are_waited_out_by_every_caller_and_the_seventh_is_unavailable():
    clock, requests = Clock(), []
    client = client_for([problem(429)] * 7, clock, requests)
    with pytest.raises(ConsoleUnavailable, match=r"could not read user u-1 right now \(429: Error: busy\)") as caught:
        client.get_user("u-1")
    assert len(requests) == 7
    assert client.throttle.waited == pytest.approx(6.0)  # no Retry-After: a second each, through the throttle
    assert caught.value.response_id == "resp-1"


@pytest.mark.parametrize(("retry_after", "waited"), [("0", 1.0), ("30", 30.0), ("600", 120.0), ("soon", 5.0)])
def test_retry_after_is_kept_between_a_second_and_two_minutes(retry_after, waited):
    clock, requests = Clock(), []
    client = client_for([problem(429, **{"retry-after": retry_after}), httpx.Response(404)], clock, requests)
    assert client.get_user("u-1") is None
    assert client.throttle.waited == pytest.approx(waited)


@pytest.mark.parametrize(("status", "kind"), [
    (408, OutcomeUnknown), (500, OutcomeUnknown), (502, OutcomeUnknown), (504, OutcomeUnknown),
    (503, ConsoleUnavailable), (429, ConsoleUnavailable),
])
def test_a_change_that_failed_is_in_doubt_unless_the_console_says_it_was_not_taken(status, kind):
    clock, requests = Clock(), []
    answers = [problem(status)] * (7 if status == 429 else 1)
    client = client_for(answers, clock, requests)
    with pytest.raises(kind) as caught:
        client.delete_user("u-1", doing="delete user jdoe")
    assert type(caught.value) is kind
    assert f"could not delete user jdoe right now ({status}: Error: busy)" in caught.value.message
    assert (caught.value.status, caught.value.response_id) == (status, "resp-1")
    assert [r.method for r in requests].count("DELETE") == (7 if status == 429 else 1)


def test_a_500_whose_words_say_unsupported_is_unsupported_not_in_doubt():
    clock, requests = Clock(), []
    client = client_for([problem(500, "PUT is not implemented for this tenant")], clock, requests)
    with pytest.raises(ConsoleUnsupported, match="does not support this on your account"):
        client.put_user("u-1", {"basicInfo": {}}, doing="deactivate user jdoe")


def test_reads_give_up_after_the_attempts_without_citing_the_answer():
    clock, requests = Clock(), []
    client = client_for([problem(503)] * 4, clock, requests)
    with pytest.raises(ConsoleUnavailable) as caught:
        client.get_user("u-1")
    assert caught.value.message == "the 8x8 API answered 503, 4 times in a row. Nothing was changed; try again later"
    assert (caught.value.status, caught.value.response_id) == (None, None)
    assert caught.value.explained == caught.value.message


def test_a_connect_failure_reads_as_one_and_a_lost_answer_to_a_change_is_in_doubt():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client = EightByEightClient("https://8x8.example", "key-0123456789", transport=httpx.MockTransport(refuse),
                                backoff=Backoff(first=0), sleep=lambda _: None)
    with pytest.raises(ConsoleUnavailable, match=r"^could not connect to the 8x8 API \(ConnectError\), 4 times"):
        client.get_user("u-1")

    def lose(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer")

    client = EightByEightClient("https://8x8.example", "key-0123456789", transport=httpx.MockTransport(lose))
    with pytest.raises(OutcomeUnknown) as caught:
        client.delete_user("u-1", doing="delete user jdoe")
    assert caught.value.message == ("the 8x8 API's answer was lost (ReadTimeout); the change may or may not have "
                                    "been made")


@pytest.mark.parametrize(("status", "kind", "words"), [
    (401, AccessDenied, "refused the API key when asked to list users (401: Error: busy)"),
    (405, ConsoleUnsupported, "does not support this on your account (405: Error: busy)"),
    (400, ConsoleRejected, "refused to list users (400: Error: busy)"),
])
def test_a_refused_read_keeps_the_consoles_words(status, kind, words):
    clock, requests = Clock(), []
    client = client_for([problem(status)], clock, requests)
    with pytest.raises(kind, match=words.replace("(", r"\(").replace(")", r"\)")):
        list(client.list_users())
