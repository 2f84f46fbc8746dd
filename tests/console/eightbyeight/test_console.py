"""The 8x8 backend against the stateful fake 8x8 server: every call on the wire, every fault class."""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import pytest

from bot.console.eightbyeight.client import Backoff, EightByEightClient, Polling
from bot.console.eightbyeight.console import EightByEightConsole
from bot.console.eightbyeight.limits import ApiLimits, Throttle
from bot.domain.directory import ExtensionType, UserStatus
from bot.errors import (
    AccessDenied,
    ConsoleRejected,
    ConsoleUnavailable,
    ConsoleUnsupported,
    OutcomeUnknown,
    UserGone,
    UsernameTaken,
)
from bot.simulators.eightbyeight.fake import FakeEightByEight
from bot.simulators.eightbyeight.model import Limits
from bot.simulators.eightbyeight.users import make_user

FAST_BACKOFF = Backoff(first=0.01, cap=0.05, attempts=3)
FAST_POLLING = Polling(first=0.01, cap=0.05, timeout=2.0)


def console_for(fake: FakeEightByEight, *, api_key: str | None = None, limits: ApiLimits | None = None,
                polling: Polling = FAST_POLLING, timeout: float = 5.0,
                reconcile_pauses: tuple[float, ...] = (0.05, 0.1, 0.2)) -> EightByEightConsole:
    client = EightByEightClient(fake.base_url, api_key or fake.api_key, throttle=Throttle(limits),
                                backoff=FAST_BACKOFF, polling=polling, timeout=timeout)
    return EightByEightConsole(client, reconcile_pauses=reconcile_pauses, resend_pauses=(0.01, 0.02))


def seed(fake: FakeEightByEight) -> FakeEightByEight:
    """The directory most tests start from: a UC user with a desk phone, a Contact Center agent, a near
    namesake (to catch loose matching) and an inactive user."""
    fake.add_user(make_user(
        "jdoe", "jdoe@example.com", first_name="John", last_name="Doe", licenses=["X Series X4"],
        extensions=[{"extensionNumber": "1001", "extensionType": "UC", "phoneNumbers": ["+14155550101"],
                     "devices": [{"model": "Poly VVX 450", "status": "ACTIVE"}]}],
        ring_groups=["Support Overflow"], call_queues=["Support Tier 1"]))
    fake.add_user(make_user(
        "msmith", "msmith@example.com", first_name="Mary", last_name="Smith", licenses=["X Series X6", "CC Agent"],
        extensions=[{"extensionNumber": "2001", "extensionType": "CC", "phoneNumbers": ["+14155550202"]}]))
    fake.add_user(make_user("jdoe2", "john.doe2@example.com", first_name="Johnny", last_name="Doe"))
    fake.add_user(make_user("tinactive", "tinactive@example.com", status="INACTIVE"))
    return fake


@pytest.fixture
def fake(eightbyeight: FakeEightByEight) -> FakeEightByEight:
    return seed(eightbyeight)


@pytest.fixture
def console(fake: FakeEightByEight) -> EightByEightConsole:
    console = console_for(fake)
    yield console
    console.close()


def _id(fake: FakeEightByEight, username: str) -> str:
    return next(user["basicInfo"]["userId"] for user in fake.users() if user["basicInfo"]["userName"] == username)


def _sent(fake: FakeEightByEight, method: str) -> list:
    return [r for r in fake.requests if r.method == method]


# -- reads --------------------------------------------------------------------------------------------

def test_find_by_username_or_email_is_exact_although_the_api_matches_wildcards(console, fake):
    user = console.find_user(reference="JDOE")
    assert user.username == "jdoe" and user.id == _id(fake, "jdoe")
    assert console.find_user(reference="john.doe2@example.com").username == "jdoe2"
    assert console.find_user(reference="jdo") is None
    assert console.find_user(reference="jdoe*") is None  # never sent: `*` is no part of a name
    filters = [r.query.get("filter") for r in _sent(fake, "GET")]
    assert 'basicInfo.userName=="JDOE"' in filters


def test_the_user_object_becomes_a_plan_ready_record(console, fake):
    jdoe = console.get_user(user_id=_id(fake, "jdoe"))
    assert jdoe.licenses == ("X Series X4",)
    assert jdoe.phone_numbers == ("+14155550101",)
    assert [device.model for device in jdoe.devices] == ["Poly VVX 450"]
    assert jdoe.call_queues == ("Support Tier 1",) and jdoe.ring_groups == ("Support Overflow",)
    msmith = console.get_user(user_id=_id(fake, "msmith"))
    assert msmith.is_contact_center_agent and msmith.extensions[0].type is ExtensionType.CC
    assert console.get_user(user_id="no-such-user") is None


def test_paging_follows_scroll_ids(fake):
    for number in range(45):
        fake.add_user(make_user(f"temp{number:02}", f"temp{number:02}@example.com"))
    console = console_for(fake)
    found = list(console.client.list_users(filter='basicInfo.userName=="temp*"', page_size=20))
    assert len(found) == 45
    pages = [r for r in fake.requests if r.path.endswith("/users")]
    assert [("scrollId" in r.query) for r in pages] == [False, True, True]
    assert all("filter" not in r.query for r in pages[1:])  # the scroll id carries the query


def test_search_and_username_taken(console):
    assert [user.username for user in console.search_users(text="doe")] == ["jdoe", "jdoe2"]
    assert console.username_taken(username="JDOE2")
    assert not console.username_taken(username="jdoe3")


def test_every_call_carries_the_key_and_the_versioned_media_types(console, fake):
    console.find_user(reference="jdoe")
    console.set_status(user_id=_id(fake, "jdoe"), status=UserStatus.INACTIVE)
    for request in fake.requests:
        assert request.headers["x-api-key"] == fake.api_key
        wanted = "operations" if "/operations/" in request.path else "users"
        assert request.headers["accept"] == f"application/vnd.{wanted}.v1+json"
        if request.method == "PUT":
            assert request.headers["content-type"] == "application/vnd.users.v1+json"


# -- changes ------------------------------------------------------------------------------------------

def _user_reads(fake: FakeEightByEight, since: int) -> list[str]:
    """The reads of users sent since `since`: "list" for a filtered list call, "get" for a GET of one user."""
    return ["list" if r.path.endswith("/users") else "get" for r in fake.requests[since:]
            if r.method == "GET" and "/users" in r.path]


def test_many_users_are_read_with_one_list_call_that_stands_in_for_their_next_get(console, fake):
    names = {_id(fake, name): (name,) for name in ("jdoe", "msmith", "jdoe2")}
    since = len(fake.requests)
    found = console.get_users(names=names)
    assert {user_id: user.username for user_id, user in found.items()} == {
        user_id: name for user_id, (name,) in names.items()}
    assert _user_reads(fake, since) == ["list"]  # not a GET each
    jdoe = _id(fake, "jdoe")
    assert found[jdoe].holds_numbers and found[jdoe].licenses == ("X Series X4",)  # whole User records

    since = len(fake.requests)
    console.release_licenses(user_id=jdoe)  # the list's record stands in for the GET before the PUT
    assert _user_reads(fake, since) == []
    assert [r.method for r in fake.requests[since:] if "/operations/" not in r.path] == ["PUT"]


def test_a_user_the_list_answer_does_not_hold_is_read_on_its_own(console, fake):
    renamed, gone, jdoe = _id(fake, "jdoe2"), _id(fake, "tinactive"), _id(fake, "jdoe")
    console.rename(user_id=renamed, new_username="john.doe.2")  # someone renamed it since the plan was made
    console.delete(user_id=gone)
    since = len(fake.requests)
    found = console.get_users(names={renamed: ("jdoe2",), gone: ("tinactive",), jdoe: ("jdoe",)})
    assert found[renamed].username == "john.doe.2" and found[renamed].id == renamed
    assert found[gone] is None and found[jdoe].username == "jdoe"
    assert sorted(_user_reads(fake, since)) == ["get", "get", "list"]  # never assumed gone or unchanged


def test_a_lone_user_is_read_with_a_get(console, fake):
    jdoe = _id(fake, "jdoe")
    since = len(fake.requests)
    assert console.get_users(names={jdoe: ("jdoe",)})[jdoe].username == "jdoe"
    assert _user_reads(fake, since) == ["get"]


def test_release_licenses_puts_the_whole_user_back_without_them(console, fake):
    user_id = _id(fake, "jdoe")
    before = fake.user(user_id)
    console.release_licenses(user_id=user_id)
    after = fake.user(user_id)
    assert after["serviceInfo"]["licenses"] == [] and after["serviceInfo"]["extensions"] == []
    assert after["basicInfo"]["userName"] == "jdoe" and after["directoryInfo"] == before["directoryInfo"]
    assert fake.applied == [("UPDATE", user_id)]
    put = _sent(fake, "PUT")[0]
    assert put.json()["status"] == "PENDING"  # the 202 was followed to the end, not taken as success
    assert any("/operations/" in r.path for r in fake.requests)


def test_deactivate_reactivate_rename_delete(console, fake):
    user_id = _id(fake, "jdoe")
    console.set_status(user_id=user_id, status=UserStatus.INACTIVE)
    assert fake.user(user_id)["basicInfo"]["status"] == "INACTIVE"
    console.set_status(user_id=user_id, status=UserStatus.ACTIVE)
    assert fake.user(user_id)["basicInfo"]["status"] == "ACTIVE"
    console.rename(user_id=user_id, new_username="jdoe.former")
    assert fake.user(user_id)["basicInfo"]["userName"] == "jdoe.former"
    console.delete(user_id=user_id)
    assert fake.user(user_id) is None
    assert [kind for kind, _ in fake.applied] == ["UPDATE", "UPDATE", "UPDATE", "DELETE"]


def test_rename_checks_the_name_before_sending_anything(console, fake):
    user_id = _id(fake, "jdoe")
    with pytest.raises(UsernameTaken):
        console.rename(user_id=user_id, new_username="JDoe2")
    with pytest.raises(ConsoleRejected, match="3 to 70"):
        console.rename(user_id=user_id, new_username="jd")
    assert _sent(fake, "PUT") == []


def test_rename_taken_meanwhile_surfaces_the_consoles_answer(console, fake):
    fake.fail_operations_next("UPDATE", detail="userName already in use", status=400)
    with pytest.raises(UsernameTaken, match="newname"):
        console.rename(user_id=_id(fake, "jdoe"), new_username="newname")
    assert fake.user(_id(fake, "jdoe"))["basicInfo"]["userName"] == "jdoe"


def test_a_wrong_key_is_access_denied_and_never_echoed(fake):
    console = console_for(fake, api_key="wrong-key-s3cr3t")
    with pytest.raises(AccessDenied) as refused:
        console.find_user(reference="jdoe")
    assert "s3cr3t" not in str(refused.value) and "s3cr3t" not in repr(console.client)


def test_check_reports_read_access(console, fake):
    assert "may read users" in console.check()[0]
    with pytest.raises(AccessDenied):
        console_for(fake, api_key="wrong").check()


# -- PUT not available on the tenant ---------------------------------------------------------------

@pytest.mark.parametrize("mode", ["405", "501", "500", "operation"])
def test_put_unsupported_is_recognised(console, fake, mode):
    fake.put_unsupported = mode
    with pytest.raises(ConsoleUnsupported):
        console.set_status(user_id=_id(fake, "jdoe"), status=UserStatus.INACTIVE)
    assert fake.user(_id(fake, "jdoe"))["basicInfo"]["status"] == "ACTIVE"


# -- faults ---------------------------------------------------------------------------------------------

def test_reads_are_retried_through_server_errors_and_slow_answers(fake):
    console = console_for(fake, timeout=0.3)
    fake.fail_next("GET", "/users", status=503, times=2)
    assert console.find_user(reference="jdoe").username == "jdoe"
    fake.slow_next("GET", "/users/", seconds=0.6)
    assert console.get_user(user_id=_id(fake, "jdoe")).username == "jdoe"
    fake.drop_next("GET", "/users/", after_apply=False)
    assert console.get_user(user_id=_id(fake, "jdoe")).username == "jdoe"


def test_reads_give_up_with_a_clear_error(console, fake):
    fake.fail_next("GET", "/users", status=500, times=10)
    with pytest.raises(ConsoleUnavailable, match="500, 3 times in a row"):
        console.find_user(reference="jdoe")


def test_429_waits_retry_after_then_goes_on(console, fake):
    fake.fail_next("PUT", "/users/", status=429, retry_after=1)
    user_id = _id(fake, "jdoe")
    console.set_status(user_id=user_id, status=UserStatus.INACTIVE)
    puts = _sent(fake, "PUT")
    assert [put.status for put in puts] == [429, 202]
    assert puts[1].at - puts[0].at >= 0.95
    assert fake.applied == [("UPDATE", user_id)]


def test_a_change_answered_with_5xx_is_sent_again_only_after_a_read_shows_it_missing(console, fake):
    fake.fail_next("PUT", "/users/", status=503)
    user_id = _id(fake, "jdoe")
    console.set_status(user_id=user_id, status=UserStatus.INACTIVE)
    assert [put.status for put in _sent(fake, "PUT")] == [503, 202]
    assert fake.applied == [("UPDATE", user_id)]


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_a_lost_answer_is_reconciled_by_reading_not_by_repeating(console, fake, method):
    user_id = _id(fake, "jdoe")
    fake.drop_next(method, "/users/", after_apply=True)
    if method == "PUT":
        console.set_status(user_id=user_id, status=UserStatus.INACTIVE)
        assert fake.user(user_id)["basicInfo"]["status"] == "INACTIVE"
    else:
        console.delete(user_id=user_id)
        assert fake.user(user_id) is None
    assert len(_sent(fake, method)) == 1
    assert len(fake.applied) == 1


@pytest.mark.parametrize("status", [408, 500, 502, 504])
def test_a_change_answered_with_an_error_it_may_have_taken_is_never_sent_again(console, fake, status):
    user_id = _id(fake, "jdoe")
    fake.fail_next("DELETE", "/users/", status=status)
    with pytest.raises(OutcomeUnknown, match=f"{status}.*may or may not have been made.*may still happen"):
        console.delete(user_id=user_id)
    assert len(_sent(fake, "DELETE")) == 1


def test_a_lost_answer_that_never_shows_is_reported_unknown_not_repeated(console, fake):
    user_id = _id(fake, "jdoe")
    fake.drop_next("DELETE", "/users/", after_apply=False)
    with pytest.raises(OutcomeUnknown, match="may still happen"):
        console.delete(user_id=user_id)
    assert len(_sent(fake, "DELETE")) == 1
    assert fake.user(user_id) is not None and fake.applied == []


def test_a_failed_operation_carries_the_consoles_words_and_response_id(console, fake):
    fake.fail_operations_next("DELETE", detail="User is a Contact Center admin", status=409)
    with pytest.raises(ConsoleRejected, match="Contact Center admin") as failed:
        console.delete(user_id=_id(fake, "msmith"))
    assert failed.value.response_id and failed.value.response_id in failed.value.explained
    assert fake.user(_id(fake, "msmith")) is not None


def test_an_operation_that_never_finishes_is_unknown(fake):
    fake.operation_delay = 5.0
    console = console_for(fake, polling=Polling(first=0.05, cap=0.1, timeout=0.5))
    with pytest.raises(OutcomeUnknown, match="still"):
        console.delete(user_id=_id(fake, "jdoe"))


def test_deleting_a_user_already_gone_is_done(console, fake):
    user_id = _id(fake, "jdoe")
    console.delete(user_id=user_id)
    console.delete(user_id=user_id)
    with pytest.raises(UserGone):
        console.set_status(user_id=user_id, status=UserStatus.INACTIVE)


# -- limits ---------------------------------------------------------------------------------------------

def test_many_callers_at_once_never_exceed_the_limits(fake):
    small = dict(requests=40, period=4.0, burst=12, burst_period=1.0, operations=3)
    fake.limits = Limits(**small)
    for number in range(12):
        fake.add_user(make_user(f"bulk{number:02}", f"bulk{number:02}@example.com"))
    console = console_for(fake, limits=ApiLimits(**small))
    ids = [_id(fake, f"bulk{number:02}") for number in range(12)]
    errors = []

    def deactivate(user_id: str) -> None:
        try:
            console.set_status(user_id=user_id, status=UserStatus.INACTIVE)
        except Exception as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=deactivate, args=(user_id,)) for user_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert fake.throttled == 0
    assert sorted(user_id for _, user_id in fake.applied) == sorted(ids)


def test_a_change_is_not_sent_once_the_runs_lease_is_gone(console, fake):
    from bot.ambient import LeaseLost, holding_lease

    with holding_lease(lambda: False), pytest.raises(LeaseLost):
        console.delete(user_id=_id(fake, "jdoe"))
    with holding_lease(lambda: False):
        assert console.get_user(user_id=_id(fake, "jdoe")) is not None  # reads are harmless
    assert _sent(fake, "DELETE") == [] and fake.applied == []


def test_a_request_the_server_counts_late_still_counts_in_our_windows(fake):
    """A request in flight longer than a window (a slow network, or a process starved of CPU between our send and
    the server's count) is counted by the server when it arrives: our throttle keeps counting it until its answer,
    so requests sent meanwhile never make the server's window overflow (the cause of a rare 429 under load)."""
    small = dict(requests=100, period=60.0, burst=2, burst_period=1.0, operations=3)
    fake.limits = Limits(**small)
    console = console_for(fake, limits=ApiLimits(**small))
    user_id = _id(fake, "jdoe")
    fake.slow_next("GET", seconds=1.5, times=2)  # counted by the server 1.5 s after we sent them
    first = [threading.Thread(target=console.get_user, kwargs={"user_id": user_id}) for _ in range(2)]
    for thread in first:
        thread.start()
    threading.Event().wait(1.1)  # our window's span has passed since they were sent; they are still in flight
    second = [threading.Thread(target=console.get_user, kwargs={"user_id": user_id}) for _ in range(2)]
    for thread in second:
        thread.start()
    for thread in first + second:
        thread.join(30)
    assert fake.throttled == 0


def test_a_slot_taken_before_the_lease_was_found_gone_is_given_back(fake):
    """The lease is checked after the wait for a slot; when it is gone nothing is sent, and the slot still
    counts only until then: a slot held for ever would block every later caller once the window fills."""
    from bot.ambient import LeaseLost, holding_lease

    small = dict(requests=100, period=60.0, burst=1, burst_period=0.2, operations=3)
    fake.limits = Limits(**small)
    console = console_for(fake, limits=ApiLimits(**small))
    with holding_lease(lambda: False), pytest.raises(LeaseLost):
        console.delete(user_id=_id(fake, "jdoe"))
    answered = threading.Event()
    threading.Thread(target=lambda: (console.get_user(user_id=_id(fake, "jdoe")), answered.set()),
                     daemon=True).start()
    assert answered.wait(5), "the slot taken before the lease check was never given back"


def test_reading_many_users_keeps_every_list_call_url_short(console, fake):
    from bot.console.eightbyeight.console import READ_FILTER

    ids = {}
    for number in range(60):  # long names full of characters a URL must encode
        name = f"someone.with.a.long/name@{number:02}.example.com"
        ids[fake.add_user(make_user(name, f"user{number}@example.com"))] = (name,)
    since = len(fake.requests)
    found = console.get_users(names=ids)
    assert {user_id: user.username for user_id, user in found.items()} == {i: n for i, (n,) in ids.items()}
    lists = [r for r in fake.requests[since:] if r.method == "GET" and r.path.endswith("/users")]
    assert len(lists) >= 2 and not [r for r in fake.requests[since:] if "/users/" in r.path]
    assert all(len(urlencode({"filter": r.query["filter"]})) <= READ_FILTER + 10 for r in lists)
