"""The 8x8 fake, driven with plain httpx: what a client of the real Administration API would see."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from bot.simulators.eightbyeight.fake import FakeEightByEight
from bot.simulators.eightbyeight.model import OPERATIONS_MEDIA_TYPE, USERS_MEDIA_TYPE, Limits, Recorded
from bot.simulators.eightbyeight.users import make_user
from tests.contract_8x8 import request_problems, response_problems
from tests.processes import wait_for

FINISHED = ("COMPLETED", "FAILED")


class Api:
    """A bare httpx client for the fake, sending the headers the real API wants."""

    def __init__(self, fake: FakeEightByEight, *, timeout: float = 5.0, api_key: str | None = None) -> None:
        self.fake = fake
        self.http = httpx.Client(base_url=fake.base_url, headers={"x-api-key": api_key or fake.api_key},
                                 timeout=timeout)

    def list(self, **params: str | int) -> httpx.Response:
        return self.http.get("/users", params=params, headers={"accept": USERS_MEDIA_TYPE})

    def get(self, user_id: str) -> httpx.Response:
        return self.http.get(f"/users/{user_id}", headers={"accept": USERS_MEDIA_TYPE})

    def put(self, user_id: str, user: dict, *, content_type: str = USERS_MEDIA_TYPE) -> httpx.Response:
        return self.http.put(f"/users/{user_id}", content=json.dumps(user),
                             headers={"content-type": content_type, "accept": USERS_MEDIA_TYPE})

    def delete(self, user_id: str) -> httpx.Response:
        return self.http.delete(f"/users/{user_id}", headers={"accept": USERS_MEDIA_TYPE})

    def operation(self, operation_id: str) -> httpx.Response:
        return self.http.get(f"/operations/{operation_id}", headers={"accept": OPERATIONS_MEDIA_TYPE})

    def wait(self, operation_id: str, *, timeout: float = 3.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            body = self.operation(operation_id).json()
            if body["status"] in FINISHED or time.monotonic() > deadline:
                return body
            time.sleep(0.05)

    def close(self) -> None:
        self.http.close()


@contextmanager
def running(**options) -> Iterator[tuple[FakeEightByEight, Api]]:
    with FakeEightByEight(**options) as fake:
        api = Api(fake)
        try:
            yield fake, api
        finally:
            api.close()
    assert not fake.bugs, fake.bugs


@pytest.fixture
def api(eightbyeight: FakeEightByEight) -> Iterator[Api]:
    client = Api(eightbyeight)
    yield client
    client.close()


def jdoe() -> dict:
    return make_user(
        "jdoe", "jdoe@example.com", first_name="John", last_name="Doe", licenses=["X Series X4"],
        extensions=[{"extensionNumber": "1001", "extensionType": "UC", "phoneNumbers": ["+14085551234"],
                     "devices": [{"model": "Yealink T54W", "status": "ACTIVE"}]}],
        ring_groups=["Sales"], call_queues=["Support"],
    )


def seed(fake: FakeEightByEight) -> dict[str, str]:
    """A small directory; returns username -> userId."""
    users = [
        jdoe(),
        make_user("jdoe2", "jdoe2@example.com", first_name="Jane", last_name="Doe"),
        make_user("JSmith", "jsmith@example.com", first_name="Jay", last_name="Smith", status="INACTIVE"),
        make_user("alice", "alice@example.com", first_name="Alice", last_name="Admin"),
        make_user("msmith", "msmith@example.com", first_name="Mary", last_name="Smith",
                  extensions=[{"extensionNumber": "2001", "extensionType": "CC"}]),
    ]
    return {user["basicInfo"]["userName"]: fake.add_user(user) for user in users}


def names(response: httpx.Response) -> list[str]:
    return [user["basicInfo"]["userName"] for user in response.json()["data"]]


def error_codes(response: httpx.Response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


def without_accept(api: Api, method: str, url: str) -> httpx.Response:
    request = api.http.build_request(method, url)
    del request.headers["accept"]
    return api.http.send(request)


# -- make_user and the directory ----------------------------------------------------------------


def test_make_user_expands_licenses_extensions_and_assignments() -> None:
    user = jdoe()
    info = user["basicInfo"]
    assert (info["userName"], info["primaryEmail"], info["status"], info["site"]["name"]) == (
        "jdoe", "jdoe@example.com", "ACTIVE", "Headquarters")
    assert "userId" not in info
    [license_] = user["serviceInfo"]["licenses"]
    assert license_["name"] == "X Series X4" and len(license_["id"]) == 22
    [extension] = user["serviceInfo"]["extensions"]
    assert extension["licenseId"] == license_["id"]
    assert extension["phoneNumbers"] == [
        {"phoneNumber": "+14085551234", "primary": True, "country": "US", "origin": "CLAIMED"}]
    assert extension["primaryPhoneNumber"] == "+14085551234"
    [device] = extension["devices"]
    assert device["model"] == "Yealink T54W" and device["status"] == "ACTIVE" and device["id"]
    assert [group["name"] for group in user["assignmentInfo"]["ringGroups"]] == ["Sales"]
    assert [queue["name"] for queue in user["assignmentInfo"]["ucCallQueues"]] == ["Support"]


def test_add_user_assigns_ids_and_refuses_a_taken_username(eightbyeight: FakeEightByEight) -> None:
    user_id = eightbyeight.add_user(jdoe())
    stored = eightbyeight.user(user_id)
    assert stored is not None and stored["basicInfo"]["userId"] == user_id
    assert stored["basicInfo"]["createdTime"].endswith("Z")
    stored["basicInfo"]["userName"] = "changed"  # a copy: the fake's record is untouched
    assert eightbyeight.user(user_id)["basicInfo"]["userName"] == "jdoe"
    with pytest.raises(ValueError, match="already exists"):
        eightbyeight.add_user(make_user("JDOE", "other@example.com"))
    assert eightbyeight.add_user({**make_user("x.y", "x@example.com"), "basicInfo": {
        **make_user("x.y", "x@example.com")["basicInfo"], "userId": "fixed-id"}}) == "fixed-id"
    assert len(eightbyeight.users()) == 2 and eightbyeight.user("nope") is None


# -- auth, headers, media types -----------------------------------------------------------------


def test_every_answer_has_a_response_id_and_rate_limit_headers(eightbyeight: FakeEightByEight, api: Api) -> None:
    response = api.list()
    assert response.status_code == 200
    assert response.headers["content-type"] == USERS_MEDIA_TYPE
    uuid.UUID(response.headers["x-response-id"])
    assert response.headers["x-ratelimit-limit"] == "20"  # the burst window is the closer one to full
    assert response.headers["x-ratelimit-remaining"] == "19"
    assert response.headers["x-ratelimit-reset"] == "10"
    assert int(response.headers["content-length"]) == len(response.content)


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_a_missing_or_wrong_api_key_gets_401(eightbyeight: FakeEightByEight, key: str | None) -> None:
    headers = {"accept": USERS_MEDIA_TYPE, **({"x-api-key": key} if key else {})}
    response = httpx.get(f"{eightbyeight.base_url}/users", headers=headers)
    assert response.status_code == 401
    assert response.json()["status"] == 401 and response.headers["x-response-id"]
    assert "x-ratelimit-remaining" in response.headers


def test_plain_json_or_no_accept_is_refused_with_406_and_changes_nothing(eightbyeight: FakeEightByEight,
                                                                          api: Api) -> None:
    user_id = eightbyeight.add_user(jdoe())
    for url in ("/users", f"/users/{user_id}"):
        refused = api.http.get(url, headers={"accept": "application/json"})
        assert refused.status_code == 406 and refused.headers["content-type"] == USERS_MEDIA_TYPE
        assert without_accept(api, "GET", url).status_code == 406
    assert api.http.delete(f"/users/{user_id}", headers={"accept": "application/json"}).status_code == 406
    assert without_accept(api, "DELETE", f"/users/{user_id}").status_code == 406
    operation_id = api.delete(user_id).json()["operationId"]
    refused = api.http.get(f"/operations/{operation_id}", headers={"accept": USERS_MEDIA_TYPE})
    assert refused.status_code == 406 and refused.headers["content-type"] == OPERATIONS_MEDIA_TYPE
    assert api.wait(operation_id)["status"] == "COMPLETED"
    assert eightbyeight.applied == [("DELETE", user_id)]  # only the well-formed DELETE went through


def test_a_put_without_the_vendor_content_type_gets_415(eightbyeight: FakeEightByEight, api: Api) -> None:
    user_id = eightbyeight.add_user(jdoe())
    user = api.get(user_id).json()
    user["basicInfo"]["status"] = "INACTIVE"
    response = api.put(user_id, user, content_type="application/json")
    assert response.status_code == 415 and response.headers["content-type"] == USERS_MEDIA_TYPE
    assert api.put(user_id, user, content_type=f"{USERS_MEDIA_TYPE}; charset=utf-8").status_code == 202


# -- listing: filters, paging -------------------------------------------------------------------


def test_filters_match_case_insensitively_with_wildcards(eightbyeight: FakeEightByEight, api: Api) -> None:
    seed(eightbyeight)
    assert names(api.list(filter="basicInfo.userName==JDOE")) == ["jdoe"]
    assert names(api.list(filter="basicInfo.userName==jdoe*")) == ["jdoe", "jdoe2"]
    assert names(api.list(filter="basicInfo.userName==jsmith")) == ["JSmith"]
    assert names(api.list(filter="basicInfo.primaryEmail=='JDOE2@Example.com'")) == ["jdoe2"]
    assert names(api.list(filter='basicInfo.lastName=="smith";basicInfo.status==active')) == ["msmith"]
    assert names(api.list(filter="basicInfo.userName==alice,basicInfo.firstName==jane")) == ["jdoe2", "alice"]
    assert names(api.list(filter="(basicInfo.lastName==doe,basicInfo.lastName==admin);basicInfo.firstName==a*")) == [
        "alice"]
    assert names(api.list(filter="basicInfo.userName!=*smith")) == ["jdoe", "jdoe2", "alice"]
    assert names(api.list(filter="basicInfo.userName==nobody")) == []
    assert names(api.list(sort="-basicInfo.userName")) == ["msmith", "JSmith", "jdoe2", "jdoe", "alice"]


@pytest.mark.parametrize("expression", ["basicInfo.phone==1", "basicInfo.userName=jdoe", "basicInfo.userName==",
                                        "(basicInfo.userName==jdoe", "basicInfo.userName=gt=jdoe", ""])
def test_a_bad_filter_is_a_validation_error_on_filter(eightbyeight: FakeEightByEight, api: Api,
                                                      expression: str) -> None:
    response = api.list(filter=expression)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "filter" and error_codes(response) == ["VALIDATION_ERROR"]


def test_paging_follows_scroll_ids_across_three_pages(eightbyeight: FakeEightByEight, api: Api) -> None:
    for number in range(7):
        eightbyeight.add_user(make_user(f"user{number}", f"user{number}@example.com"))
    eightbyeight.add_user(make_user("other", "other@example.com"))
    first = api.list(filter="basicInfo.userName==user*", pageSize=3).json()
    assert first["pagination"] == {"pageSize": 3, "pageNumber": 0, "hasMore": True,
                                   "filter": "basicInfo.userName==user*", "sort": None,
                                   "nextScrollId": first["pagination"]["nextScrollId"]}
    assert first["_links"]["next"]["href"].endswith(f"scrollId={first['pagination']['nextScrollId']}")
    second = api.list(scrollId=first["pagination"]["nextScrollId"]).json()
    third = api.list(scrollId=second["pagination"]["nextScrollId"]).json()
    pages = [first, second, third]
    assert [len(page["data"]) for page in pages] == [3, 3, 1]
    assert [page["pagination"]["pageNumber"] for page in pages] == [0, 1, 2]
    assert [page["pagination"]["hasMore"] for page in pages] == [True, True, False]
    assert third["pagination"]["nextScrollId"] is None and "next" not in third["_links"]
    assert third["pagination"]["filter"] == "basicInfo.userName==user*"
    seen = [user["basicInfo"]["userName"] for page in pages for user in page["data"]]
    assert seen == [f"user{number}" for number in range(7)]
    again = api.list(scrollId=first["pagination"]["nextScrollId"]).json()  # a retried page is the same page
    assert again["data"] == second["data"]
    assert api.list().json()["pagination"]["pageSize"] == 100


@pytest.mark.parametrize("params", [{"filter": "basicInfo.userName==x"}, {"pageSize": 3},
                                    {"sort": "basicInfo.userName"}])
def test_a_scroll_id_with_first_page_parameters_conflicts(eightbyeight: FakeEightByEight, api: Api,
                                                          params: dict) -> None:
    seed(eightbyeight)
    scroll_id = api.list(pageSize=2).json()["pagination"]["nextScrollId"]
    response = api.list(scrollId=scroll_id, **params)
    assert response.status_code == 400 and error_codes(response) == ["CONFLICTING_QUERY_PARAMETER"]


def test_bad_listing_parameters_are_validation_errors(eightbyeight: FakeEightByEight, api: Api) -> None:
    for params, field_name in (({"scrollId": "unknown"}, "scrollId"), ({"pageSize": "0"}, "pageSize"),
                               ({"pageSize": "many"}, "pageSize"), ({"sort": "basicInfo.phone"}, "sort")):
        response = api.list(**params)
        assert response.status_code == 400, params
        assert response.json()["errors"][0]["field"] == field_name


# -- reading, updating, deleting ----------------------------------------------------------------


def test_get_user_returns_the_record_or_404(eightbyeight: FakeEightByEight, api: Api) -> None:
    user_id = eightbyeight.add_user(jdoe())
    assert api.get(user_id).json() == eightbyeight.user(user_id)
    missing = api.get("nobody")
    assert missing.status_code == 404 and error_codes(missing) == ["NOT_FOUND"]
    assert api.operation("op_unknown").status_code == 404


def test_put_applies_only_when_its_operation_completes(eightbyeight: FakeEightByEight, api: Api) -> None:
    eightbyeight.operation_delay = 0.6
    user_id = eightbyeight.add_user(jdoe())
    before = api.get(user_id).json()
    changed = json.loads(json.dumps(before))
    changed["basicInfo"]["status"] = "INACTIVE"
    changed["serviceInfo"]["licenses"] = []
    changed["basicInfo"]["createdTime"] = "2001-01-01T00:00:00Z"  # read-only: the server keeps its own
    started = time.monotonic()
    response = api.put(user_id, changed)
    assert response.status_code == 202 and response.headers["content-type"] == USERS_MEDIA_TYPE
    operation = response.json()
    assert (operation["status"], operation["operationType"], operation["resourceType"], operation["resourceId"]) == (
        "PENDING", "UPDATE", "USER", user_id)
    assert operation["_links"]["self"]["href"] == f"{eightbyeight.base_url}/operations/{operation['operationId']}"
    assert "completedTime" not in operation
    assert api.get(user_id).json() == before  # not applied yet
    assert api.operation(operation["operationId"]).json()["status"] == "PENDING"
    time.sleep(max(0.0, started + 0.35 - time.monotonic()))
    assert api.operation(operation["operationId"]).json()["status"] == "IN_PROGRESS"
    assert eightbyeight.applied == []
    done = api.wait(operation["operationId"])
    assert done["status"] == "COMPLETED" and done["completedTime"] and "error" not in done
    after = api.get(user_id).json()
    assert after["basicInfo"]["status"] == "INACTIVE" and after["serviceInfo"]["licenses"] == []
    assert after["basicInfo"]["createdTime"] == before["basicInfo"]["createdTime"]
    assert after["basicInfo"]["lastUpdatedTime"] > before["basicInfo"]["lastUpdatedTime"]
    assert eightbyeight.applied == [("UPDATE", user_id)]


def test_a_rename_to_a_free_username_is_applied(eightbyeight: FakeEightByEight, api: Api) -> None:
    ids = seed(eightbyeight)
    user = api.get(ids["jdoe"]).json()
    user["basicInfo"]["userName"] = "jdoe.old-2024/x@corp"
    api.wait(api.put(ids["jdoe"], user).json()["operationId"])
    assert names(api.list(filter="basicInfo.userName==jdoe.old*")) == ["jdoe.old-2024/x@corp"]


def _with(user: dict, **basic_info: object) -> dict:
    """A deep copy of ``user`` with some basicInfo fields replaced."""
    changed = json.loads(json.dumps(user))
    changed["basicInfo"].update(basic_info)
    return changed


@pytest.mark.parametrize(("change", "field_name", "message"), [
    ({"userName": "ab"}, "basicInfo.userName", "size must be between 3 and 70"),
    ({"userName": "x" * 71}, "basicInfo.userName", "size must be between 3 and 70"),
    ({"userName": "j doe"}, "basicInfo.userName", "must match"),
    ({"userName": "jdöe"}, "basicInfo.userName", "must match"),
    ({"firstName": None}, "basicInfo.firstName", "must not be blank"),
    ({"primaryEmail": "not-an-email"}, "basicInfo.primaryEmail", "well-formed"),
    ({"status": "DELETED"}, "basicInfo.status", "ACTIVE, INACTIVE"),
])
def test_put_validation_errors_change_nothing(eightbyeight: FakeEightByEight, api: Api, change: dict,
                                              field_name: str, message: str) -> None:
    user_id = eightbyeight.add_user(jdoe())
    before = eightbyeight.user(user_id)
    response = api.put(user_id, _with(before, **change))
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION_ERROR", field_name) and message in error["message"]
    assert eightbyeight.user(user_id) == before and eightbyeight.applied == []


def test_put_refusals_for_ids_names_and_bodies(eightbyeight: FakeEightByEight, api: Api) -> None:
    ids = seed(eightbyeight)
    user = eightbyeight.user(ids["jdoe"])
    taken = api.put(ids["jdoe"], _with(user, userName="JSMITH"))
    assert taken.status_code == 400 and taken.json()["errors"][0]["message"] == "userName already in use"
    assert api.put(ids["jdoe"], _with(user, userName="JDOE")).status_code == 202  # its own name, other case
    mismatched = api.put(ids["jdoe"], _with(user, userId=ids["alice"]))
    assert mismatched.status_code == 400
    assert mismatched.json()["title"] == "Mismatched userId in url vs payload"
    assert api.put("nobody", _with(user, userId=None)).status_code == 404
    malformed = api.http.put(f"/users/{ids['jdoe']}", content=b"{not json",
                             headers={"content-type": USERS_MEDIA_TYPE})
    assert malformed.status_code == 400 and error_codes(malformed) == ["BAD_REQUEST"]
    no_basics = api.put(ids["jdoe"], {"serviceInfo": {}})
    assert no_basics.status_code == 400 and no_basics.json()["errors"][0]["field"] == "basicInfo"


def test_delete_removes_the_user_when_its_operation_completes(eightbyeight: FakeEightByEight, api: Api) -> None:
    eightbyeight.operation_delay = 0.2
    ids = seed(eightbyeight)
    response = api.delete(ids["jdoe"])
    assert response.status_code == 202 and response.json()["operationType"] == "DELETE"
    assert api.get(ids["jdoe"]).status_code == 200
    assert api.wait(response.json()["operationId"])["status"] == "COMPLETED"
    assert api.get(ids["jdoe"]).status_code == 404 and eightbyeight.user(ids["jdoe"]) is None
    assert eightbyeight.applied == [("DELETE", ids["jdoe"])]
    assert api.delete(ids["jdoe"]).status_code == 404
    assert names(api.list(filter="basicInfo.userName==jdoe*")) == ["jdoe2"]


def test_an_update_that_lands_after_a_delete_fails(eightbyeight: FakeEightByEight, api: Api) -> None:
    eightbyeight.operation_delay = 0.1
    user_id = eightbyeight.add_user(jdoe())
    user = api.get(user_id).json()
    deleting = api.delete(user_id).json()["operationId"]
    updating = api.put(user_id, user).json()["operationId"]
    assert api.wait(deleting)["status"] == "COMPLETED"
    failed = api.wait(updating)
    assert failed["status"] == "FAILED" and failed["error"]["status"] == 404
    assert eightbyeight.applied == [("DELETE", user_id)]


def test_concurrent_requests_are_served_in_parallel(api: Api, eightbyeight: FakeEightByEight) -> None:
    ids = seed(eightbyeight)
    release = threading.Event()
    eightbyeight.hold_requests(until=release)  # every request waits inside the server until released
    results: list[int] = []

    def delete(user_id: str) -> None:
        with httpx.Client(base_url=eightbyeight.base_url, headers={"x-api-key": eightbyeight.api_key}) as client:
            results.append(client.delete(f"/users/{user_id}", headers={"accept": USERS_MEDIA_TYPE}).status_code)

    threads = [threading.Thread(target=delete, args=(user_id,)) for user_id in ids.values()]
    for thread in threads:
        thread.start()
    # All of them inside the server at once: only a server that serves requests in parallel gets there.
    wait_for(lambda: eightbyeight.held == len(ids), what="every request held by the server at the same time")
    release.set()
    for thread in threads:
        thread.join()
    assert results == [202] * len(ids)
    time.sleep(0.05)
    assert sorted(eightbyeight.applied) == sorted(("DELETE", user_id) for user_id in ids.values())
    assert eightbyeight.users() == []


def test_the_recording_keeps_each_exchange_in_arrival_order(eightbyeight: FakeEightByEight, api: Api) -> None:
    user_id = eightbyeight.add_user(jdoe())
    api.list(filter="basicInfo.userName==jdoe", pageSize=5)
    api.put(user_id, eightbyeight.user(user_id))
    listed, updated = eightbyeight.requests
    assert (listed.method, listed.path, listed.query) == (
        "GET", "/admin-provisioning/users", {"filter": "basicInfo.userName==jdoe", "pageSize": "5"})
    assert listed.headers["accept"] == USERS_MEDIA_TYPE and listed.headers["x-api-key"] == "test-key"
    assert listed.status == 200 and json.loads(listed.response_body)["data"][0]["basicInfo"]["userId"] == user_id
    assert listed.response_headers["content-type"] == USERS_MEDIA_TYPE
    assert (updated.method, updated.status, json.loads(updated.body)["basicInfo"]["userName"]) == ("PUT", 202, "jdoe")
    assert listed.at < updated.at <= time.monotonic()


# -- faults -------------------------------------------------------------------------------------


def test_fail_next_answers_an_error_without_applying(eightbyeight: FakeEightByEight, api: Api) -> None:
    user_id = eightbyeight.add_user(jdoe())
    eightbyeight.fail_next("GET", "/users", times=2)
    eightbyeight.fail_next("PUT", "/users", status=500)
    eightbyeight.fail_next("DELETE", status=429, retry_after=2)
    eightbyeight.fail_next("GET", "/operations", status=502, retry_after=0.5)
    assert [api.list().status_code, api.get(user_id).status_code, api.get(user_id).status_code] == [503, 503, 200]
    assert api.list().status_code == 200
    failed = api.put(user_id, eightbyeight.user(user_id))
    assert failed.status_code == 500 and failed.json()["status"] == 500
    throttled = api.delete(user_id)
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "2"
    assert eightbyeight.throttled == 0  # injected, not caused by a limit
    operation_id = api.delete(user_id).json()["operationId"]
    assert api.operation(operation_id).headers["retry-after"] == "0.5"
    assert api.wait(operation_id)["status"] == "COMPLETED"
    assert eightbyeight.applied == [("DELETE", user_id)]
    eightbyeight.fail_next("GET", times=5)
    eightbyeight.reset_faults()
    assert api.list().status_code == 200


def test_slow_next_delays_then_handles_normally(eightbyeight: FakeEightByEight) -> None:
    user_id = eightbyeight.add_user(jdoe())
    impatient = Api(eightbyeight, timeout=0.1)
    eightbyeight.slow_next("DELETE", "/users", seconds=0.3)
    with pytest.raises(httpx.ReadTimeout):
        impatient.delete(user_id)
    impatient.close()
    wait_for(lambda: eightbyeight.applied == [("DELETE", user_id)],  # the server did its work; only the client
             what="the slow delete applied")                          # gave up
    assert eightbyeight.pending_faults() == 0  # the fault was for that request only: the next ones are not slowed
    patient = Api(eightbyeight, timeout=10)
    assert patient.list().status_code == 200
    patient.close()


def test_drop_next_loses_the_connection_before_applying(eightbyeight: FakeEightByEight, api: Api) -> None:
    user_id = eightbyeight.add_user(jdoe())
    before = eightbyeight.user(user_id)
    changed = _with(before, status="INACTIVE")
    eightbyeight.drop_next("PUT", "/users", after_apply=False)
    with pytest.raises(httpx.TransportError):
        api.put(user_id, changed)
    time.sleep(0.05)
    assert eightbyeight.user(user_id) == before and eightbyeight.applied == []
    assert eightbyeight.requests[-1].status is None and eightbyeight.requests[-1].response_body == b""
    assert api.put(user_id, changed).status_code == 202  # the same client carries on


def test_drop_next_after_apply_loses_only_the_answer(eightbyeight: FakeEightByEight, api: Api) -> None:
    user_id = eightbyeight.add_user(jdoe())
    eightbyeight.drop_next("DELETE", "/users", after_apply=True)
    with pytest.raises(httpx.TransportError):
        api.delete(user_id)
    time.sleep(0.05)
    assert eightbyeight.applied == [("DELETE", user_id)] and eightbyeight.user(user_id) is None


def test_failed_operations_change_nothing(eightbyeight: FakeEightByEight, api: Api) -> None:
    user_id = eightbyeight.add_user(jdoe())
    eightbyeight.fail_operations_next("DELETE", detail="Downstream PBX refused", status=503)
    first = api.delete(user_id)
    assert first.status_code == 202
    failed = api.wait(first.json()["operationId"])
    assert failed["status"] == "FAILED" and failed["completedTime"]
    assert failed["error"]["status"] == 503 and failed["error"]["detail"] == "Downstream PBX refused"
    assert failed["error"]["errors"][0]["code"] == "SERVICE_UNAVAILABLE"
    assert eightbyeight.user(user_id) is not None and eightbyeight.applied == []
    assert api.wait(api.delete(user_id).json()["operationId"])["status"] == "COMPLETED"  # only the next one


@pytest.mark.parametrize("mode", ["405", "501"])
def test_put_unsupported_answers_the_status(eightbyeight: FakeEightByEight, api: Api, mode: str) -> None:
    user_id = eightbyeight.add_user(jdoe())
    eightbyeight.put_unsupported = mode
    response = api.put(user_id, _with(eightbyeight.user(user_id), status="INACTIVE"))
    assert response.status_code == int(mode) and response.json()["status"] == int(mode)
    assert response.headers["content-type"] == USERS_MEDIA_TYPE
    assert api.get(user_id).status_code == 200 and eightbyeight.applied == []


def test_put_unsupported_as_a_failed_operation(eightbyeight: FakeEightByEight, api: Api) -> None:
    user_id = eightbyeight.add_user(jdoe())
    before = eightbyeight.user(user_id)
    eightbyeight.put_unsupported = "operation"
    response = api.put(user_id, _with(before, status="INACTIVE"))
    assert response.status_code == 202
    failed = api.wait(response.json()["operationId"])
    assert failed["status"] == "FAILED"
    assert failed["error"] == {
        "status": 501, "title": "Not Implemented",
        "detail": "Internal operation handler configuration error for UPDATE USER",
        "errors": [{"code": "UNKNOWN", "message": "Operation not supported"}],
    }
    assert eightbyeight.user(user_id) == before
    assert api.wait(api.delete(user_id).json()["operationId"])["status"] == "COMPLETED"  # DELETE still works


# -- limits -------------------------------------------------------------------------------------


def test_the_burst_window_throttles_with_retry_after() -> None:
    with running(limits=Limits(burst=3, burst_period=0.8)) as (fake, api):
        user_id = fake.add_user(jdoe())
        answers = [api.list() for _ in range(3)]
        assert [answer.headers["x-ratelimit-remaining"] for answer in answers] == ["2", "1", "0"]
        throttled = api.delete(user_id)
        assert throttled.status_code == 429 and error_codes(throttled) == ["TOO_MANY_REQUESTS"]
        assert throttled.headers["retry-after"] == "1" and throttled.headers["x-ratelimit-limit"] == "3"
        assert fake.throttled == 1 and fake.user(user_id) is not None
        time.sleep(0.8)
        assert api.delete(user_id).status_code == 202


def test_the_request_window_throttles_with_retry_after_rounded_up() -> None:
    with running(limits=Limits(requests=4, period=1.2)) as (fake, api):
        for _ in range(4):
            assert api.list().status_code == 200
        throttled = api.list()
        assert throttled.status_code == 429 and throttled.headers["retry-after"] == "2"
        assert throttled.headers["x-ratelimit-limit"] == "4" and throttled.headers["x-ratelimit-remaining"] == "0"
        assert api.list().status_code == 429 and fake.throttled == 2  # a 429 takes no slot
        time.sleep(1.2)
        assert api.list().status_code == 200


def test_too_many_unfinished_operations_are_throttled() -> None:
    with running(limits=Limits(operations=2), operation_delay=0.4) as (fake, api):
        ids = seed(fake)
        first, second = api.delete(ids["jdoe"]), api.delete(ids["alice"])
        assert (first.status_code, second.status_code) == (202, 202)
        throttled = api.put(ids["jdoe2"], _with(fake.user(ids["jdoe2"]), status="INACTIVE"))
        assert throttled.status_code == 429 and throttled.headers["retry-after"] == "1"
        assert fake.throttled == 1 and fake.user(ids["jdoe2"])["basicInfo"]["status"] == "ACTIVE"
        assert api.list().status_code == 200  # reads are not operations
        api.wait(second.json()["operationId"])
        assert api.delete(ids["jdoe2"]).status_code == 202


def test_latency_is_added_to_every_answer() -> None:
    with running(latency=0.15) as (_fake, api):
        started = time.monotonic()
        api.list()
        assert time.monotonic() - started >= 0.15


# -- the official OpenAPI files -----------------------------------------------------------------


def _tour(fake: FakeEightByEight, api: Api) -> None:
    """Exercise every kind of answer the fake gives."""
    ids = seed(fake)
    api.list(filter="basicInfo.userName==jdoe*", pageSize=1, sort="basicInfo.userName")
    api.list(scrollId=api.list(pageSize=2).json()["pagination"]["nextScrollId"])
    api.list(filter="basicInfo.phone==1")
    api.list(scrollId="x", pageSize=1)
    api.get(ids["jdoe"])
    api.get("nobody")
    user = api.get(ids["jdoe"]).json()
    api.put(ids["jdoe"], _with(user, userName="JSMITH"))
    api.put(ids["jdoe"], _with(user, userName="j doe"))
    api.put(ids["jdoe"], _with(user, userId="other"))
    api.put("nobody", user)
    api.wait(api.put(ids["jdoe"], _with(user, status="INACTIVE")).json()["operationId"])
    fake.fail_operations_next("DELETE")
    api.wait(api.delete(ids["alice"]).json()["operationId"])
    api.wait(api.delete(ids["msmith"]).json()["operationId"])
    api.delete("nobody")
    api.operation("op_unknown")
    fake.put_unsupported = "operation"
    api.wait(api.put(ids["jdoe2"], fake.user(ids["jdoe2"])).json()["operationId"])
    fake.put_unsupported = "501"
    api.put(ids["jdoe2"], fake.user(ids["jdoe2"]))
    fake.put_unsupported = None
    fake.fail_next("GET", "/users", status=503, retry_after=1)
    api.list()
    fake.fail_next("GET", "/operations", status=500)
    api.operation("op_unknown")
    api.http.get("/users", headers={"accept": "application/json"})
    api.http.get("/operations/op_x", headers={"accept": USERS_MEDIA_TYPE})
    api.put(ids["jdoe"], user, content_type="application/json")
    httpx.get(f"{fake.base_url}/users/{ids['jdoe']}", headers={"accept": USERS_MEDIA_TYPE})
    fake.drop_next("GET", after_apply=True)
    with pytest.raises(httpx.TransportError):
        api.list()
    fake.limits.operations = 0
    api.delete(ids["jdoe"])
    fake.limits.burst = 1
    api.get(ids["jdoe"])


@pytest.mark.spec
def test_every_answer_matches_the_official_spec(openapi_8x8) -> None:
    with running(limits=Limits(requests=1000, burst=1000), operation_delay=0.01) as (fake, api):
        _tour(fake, api)
        recorded = fake.requests
    statuses = {item.status for item in recorded}
    assert {200, 202, 400, 401, 404, 406, 415, 429, 500, 501, 503, None} <= statuses
    problems = [problem for item in recorded for problem in response_problems(item)]
    assert problems == []


@pytest.mark.spec
def test_well_formed_requests_match_the_official_spec(openapi_8x8, eightbyeight: FakeEightByEight,
                                                      api: Api) -> None:
    user_id = eightbyeight.add_user(jdoe())
    api.list(filter="basicInfo.userName==jdoe", pageSize=10)
    api.list(scrollId="anything")
    api.get(user_id)
    api.put(user_id, api.get(user_id).json())  # read-only fields sent back as read are accepted
    api.wait(api.delete(user_id).json()["operationId"])
    api.http.get("/users", headers={"accept": USERS_MEDIA_TYPE, "x-request-id": str(uuid.uuid4())})
    assert [problem for item in eightbyeight.requests for problem in request_problems(item)] == []


def _one(fake: FakeEightByEight, send) -> Recorded:
    count = len(fake.requests)
    send()
    [item] = fake.requests[count:]
    return item


@pytest.mark.spec
def test_malformed_requests_are_reported(openapi_8x8, eightbyeight: FakeEightByEight, api: Api) -> None:
    user_id = eightbyeight.add_user(jdoe())
    user = eightbyeight.user(user_id)
    cases = [
        ("Accept must be", lambda: api.http.get("/users", headers={"accept": "application/json"})),
        ("Accept must be", lambda: without_accept(api, "DELETE", f"/users/{user_id}")),
        ("Accept must be", lambda: api.http.get("/operations/op_x", headers={"accept": "application/json"})),
        ("ApiKeyAuth", lambda: httpx.get(f"{eightbyeight.base_url}/users", headers={"accept": USERS_MEDIA_TYPE})),
        ("Content-Type must be", lambda: api.put(user_id, user, content_type="application/json")),
        ("basicInfo/userName", lambda: api.put(user_id, _with(user, userName="j doe"))),
        ("pageSize", lambda: api.list(pageSize="ten")),
        ("X-Request-Id", lambda: api.http.get("/users", headers={"accept": USERS_MEDIA_TYPE, "x-request-id": "7"})),
        ("patch not found", lambda: api.http.patch(f"/users/{user_id}", json={})),
    ]
    for expected, send in cases:
        problems = request_problems(_one(eightbyeight, send))
        assert any(expected.lower() in problem.lower() for problem in problems), (expected, problems)
