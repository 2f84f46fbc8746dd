"""How the SCIM client configures the console HTTP policy and speaks SCIM's dialect, over httpx.MockTransport."""

from __future__ import annotations

import httpx
import pytest

from bot.console.scim.client import FilterRefused, ScimClient, change, response_id
from bot.errors import AccessDenied, ConsoleError, ConsoleRejected, ConsoleUnavailable, OutcomeUnknown

TOKEN = "scim-token-5f0c1e9a"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(*answers: httpx.Response | Exception, sleeps: Sleeps | None = None,
               **options) -> tuple[ScimClient, list[httpx.Request]]:
    script, requests = list(answers), []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        found = script.pop(0)
        if isinstance(found, Exception):
            raise found
        return found

    client = ScimClient("https://scim.example/scim/v2", TOKEN, transport=httpx.MockTransport(answer),
                        sleep=sleeps if sleeps is not None else Sleeps(), **options)
    return client, requests


def scim_error(status: int, detail: str = "", scim_type: str | None = None, **headers: str) -> httpx.Response:
    body = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return httpx.Response(status, json=body, headers=headers)


def test_reads_are_tried_again_with_a_linear_backoff_then_give_up():
    sleeps = Sleeps()
    client, requests = client_for(*[scim_error(503)] * 3, sleeps=sleeps, retries=2, backoff=0.5)
    with pytest.raises(ConsoleUnavailable) as caught:
        client.read("Users")
    assert caught.value.message == ("the SCIM provider at https://scim.example/scim/v2 keeps failing (HTTP 503) "
                                    "after 3 attempts; try again later")
    assert caught.value.status == 503
    assert sleeps == [0.5, 1.0] and len(requests) == 3


def test_501_is_an_answer_never_repeated():
    client, requests = client_for(scim_error(501, "no such thing"))
    with pytest.raises(ConsoleRejected, match=r"refused to read /Users/u-1 \(HTTP 501\): no such thing"):
        client.read("Users/u-1")
    assert len(requests) == 1


def test_any_5xx_but_501_on_a_change_is_in_doubt():
    client, requests = client_for(scim_error(503, "maintenance", **{"X-Request-Id": "req-1"}))
    with pytest.raises(OutcomeUnknown) as caught:
        client.send(change("PATCH", "Users/u-1", doing="deactivate user jdoe", body={"Operations": []}))
    assert caught.value.message.startswith("the SCIM provider failed while asked to deactivate user jdoe "
                                           "(HTTP 503): maintenance; it may or may not have been applied")
    assert (caught.value.status, caught.value.response_id) == (503, "req-1")
    assert len(requests) == 1
    assert requests[0].headers["Content-Type"] == "application/scim+json"


def test_a_429_asking_for_more_than_max_wait_gives_up_at_once():
    client, requests = client_for(scim_error(429, "slow down", **{"Retry-After": "120"}), max_wait=30)
    with pytest.raises(ConsoleUnavailable, match=r"is rate limiting the bot \(HTTP 429\) after 1 attempts"):
        client.read("Users")
    assert len(requests) == 1


def test_the_token_never_appears_in_a_message():
    client, _ = client_for(httpx.ConnectError(f"refused with Bearer {TOKEN}"), scim_error(401, f"bad token {TOKEN}"),
                           retries=0)
    with pytest.raises(ConsoleUnavailable) as unreachable:
        client.read("Users")
    assert TOKEN not in unreachable.value.message and "[token]" in unreachable.value.message
    with pytest.raises(AccessDenied) as denied:
        client.read("Users")
    assert denied.value.message == ("the SCIM token was refused (HTTP 401): bad token [token]; check SCIM_TOKEN and "
                                    "the rights it has in the provider")
    assert TOKEN not in repr(client) and TOKEN not in repr(client.dialect)


def test_a_missing_endpoint_points_at_the_base_url_unless_expected():
    client, _ = client_for(httpx.Response(404), httpx.Response(404))
    with pytest.raises(ConsoleError, match=r"has no /Users endpoint .* check SCIM_BASE_URL"):
        client.read("Users")
    assert client.read("Users/u-1", expect=(404,)).status_code == 404


@pytest.mark.parametrize(("answer", "for_good"), [
    (scim_error(501), True), (scim_error(400, "bad filter", scim_type="invalidFilter"), False),
])
def test_a_refused_filter_is_told_apart(answer, for_good):
    client, _ = client_for(answer)
    with pytest.raises(FilterRefused) as caught:
        client.read("Users", params={"filter": 'userName eq "x"'})
    assert caught.value.for_good is for_good


def test_pages_follow_start_index_up_to_the_limit():
    page = [httpx.Response(200, json={"totalResults": 9, "Resources": [{"id": f"u{n}", "userName": f"u{n}"}
                                                                       for n in range(start, start + 2)]})
            for start in (1, 3)]
    client, requests = client_for(*page)
    found = list(client.pages({"filter": "x"}, page_size=2, limit=4))
    assert [raw["id"] for raw in found] == ["u1", "u2", "u3", "u4"]
    assert [r.url.params["startIndex"] for r in requests] == ["1", "3"]


def test_the_response_id_comes_from_any_known_header():
    assert response_id(httpx.Response(200, headers={"x-ms-request-id": "ms-1"})) == "ms-1"
    assert response_id(httpx.Response(200, headers={"request-id": "r-1", "x-request-id": "x-1"})) == "x-1"
    assert response_id(httpx.Response(200)) is None


def test_an_answer_that_is_not_scim_json_is_explained():
    client, _ = client_for(httpx.Response(200, text="<html>login</html>", headers={"Content-Type": "text/html"}))
    with pytest.raises(ConsoleError, match=r"not SCIM JSON .*text/html"):
        client.json(client.read("Users"))
