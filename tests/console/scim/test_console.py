"""The SCIM console against the real third-party scim2-server, and against it behind a misbehaving transport."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import httpx
import pytest

from bot.console.scim import ScimConsole
from bot.domain.directory import UserStatus
from bot.errors import (
    AccessDenied,
    ConcurrentChange,
    ConfigurationError,
    ConsoleError,
    ConsoleRejected,
    ConsoleUnavailable,
    ConsoleUnsupported,
    DeactivatedOnly,
    OutcomeUnknown,
    UserGone,
    UsernameTaken,
)
from tests.processes import free_port
from tests.scim_server import BASIC_PROVIDER_CONFIG, ScimServer, SeededScim, seed, start_scim_server

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
Fault = Callable[[httpx.Request, Callable[[httpx.Request], httpx.Response]], httpx.Response | None]


class Proxy:
    """A transport in front of the real server: records every request and lets a test make it misbehave.

    `fault(request, forward)` may answer in the server's place, call `forward` and then lose the answer,
    or return None to let the request through untouched.
    """

    def __init__(self, fault: Fault | None = None) -> None:
        self.fault = fault
        self.requests: list[httpx.Request] = []
        self._upstream = httpx.HTTPTransport()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fault is not None:
            answer = self.fault(request, self.forward)
            if answer is not None:
                return answer
        return self.forward(request)

    def forward(self, request: httpx.Request) -> httpx.Response:
        response = self._upstream.handle_request(request)
        try:
            content = response.read()
        finally:
            response.close()
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def close(self) -> None:
        self._upstream.close()

    def sent(self, method: str, path_end: str = "") -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path.endswith(path_end)]


def lose_answer(method: str) -> Fault:
    """Forward the request, so the server applies it, then lose the answer."""

    def fault(request: httpx.Request, forward: Callable[[httpx.Request], httpx.Response]) -> httpx.Response | None:
        if request.method != method:
            return None
        forward(request)
        raise httpx.ReadTimeout("timed out waiting for the answer", request=request)

    return fault


def scim_error(status: int, detail: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": str(status), "detail": detail}
    return httpx.Response(status, json=body, headers=headers)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def consoles(scim: SeededScim) -> Iterator[Callable[..., ScimConsole]]:
    """Build consoles on the seeded server (optionally behind a Proxy); all closed at the end."""
    built: list[ScimConsole | Proxy] = []

    def build(proxy: Proxy | None = None, *, token: str | None = None, **options) -> ScimConsole:
        options.setdefault("backoff", 0)
        transport = httpx.MockTransport(proxy) if proxy is not None else None
        console = ScimConsole(scim.base_url, token or scim.token, transport=transport, **options)
        built.extend([console] if proxy is None else [console, proxy])
        return console

    yield build
    for item in built:
        item.close()


@pytest.fixture
def console(consoles) -> ScimConsole:
    return consoles()


@pytest.fixture(scope="module")
def basic_server(scim_server: ScimServer) -> Iterator[ScimServer]:
    """A second scim2-server announcing no PATCH, no ETags, no filters and no sorting."""
    server = start_scim_server(token=scim_server.token, provider_config=BASIC_PROVIDER_CONFIG)
    yield server
    server.stop()


@pytest.fixture
def basic(basic_server: ScimServer) -> Iterator[tuple[SeededScim, Proxy, ScimConsole]]:
    seeded = seed(basic_server)
    proxy = Proxy()
    with ScimConsole(seeded.base_url, seeded.token, transport=httpx.MockTransport(proxy), backoff=0) as console:
        yield seeded, proxy, console
    proxy.close()


# -- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(("base_url", "token", "problem"), [
    ("", "t0ken", "SCIM_BASE_URL must be set"),
    ("scim.example.com/v2", "t0ken", r"must be an http\(s\) URL"),
    ("https://scim.example.com/v2", "", "SCIM_TOKEN must be set"),
    ("https://scim.example.com/v2", "t0k en\n", "spaces or control characters"),
])
def test_settings_are_checked_when_the_console_is_built(base_url: str, token: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem) as caught:
        ScimConsole(base_url, token)
    assert "t0k" not in caught.value.message


def test_the_console_never_shows_credentials() -> None:
    with ScimConsole("https://bot:pass@scim.example.com/scim/v2/", "t0ken") as console:
        assert console.base_url == "https://scim.example.com/scim/v2"
        assert repr(console) == "ScimConsole('https://scim.example.com/scim/v2')"
        assert console.name == "SCIM"


# -- reads -------------------------------------------------------------------------------------


def test_find_user_by_username_is_exact_and_case_insensitive(scim: SeededScim, console: ScimConsole) -> None:
    assert console.find_user(reference="JDOE").id == scim.ids["jdoe"]
    assert console.find_user(reference=" jdoe.admin ").id == scim.ids["jdoe_admin"]
    assert console.find_user(reference="doe") is None
    assert console.find_user(reference="jdo") is None
    assert console.find_user(reference="  ") is None


def test_find_user_by_any_email_exactly(scim: SeededScim, console: ScimConsole) -> None:
    mary = console.find_user(reference="mary.smith@example.com")
    assert mary.id == scim.ids["msmith"]
    assert mary.email == "Mary.Smith@Example.com"
    # a secondary address finds the user too, whose email is still the primary one
    john = console.find_user(reference="John.Doe@corp.local")
    assert (john.id, john.email) == (scim.ids["jdoe"], "jdoe@example.com")
    assert console.find_user(reference="example.com") is None


def test_find_user_quotes_the_value_in_the_filter(scim: SeededScim, console: ScimConsole) -> None:
    assert console.find_user(reference='o"neil\\x').id == scim.ids["quoted"]
    assert console.find_user(reference='O"NEIL\\X').id == scim.ids["quoted"]
    # a value that would widen an unescaped filter finds nobody
    assert console.find_user(reference='jdoe" or userName pr or userName eq "x') is None


def test_an_email_shared_by_two_users_is_ambiguous(scim: SeededScim, console: ScimConsole) -> None:
    scim.server.create_user("jdoe2", emails=("other@example.com", "jdoe@example.com"))
    with pytest.raises(ConsoleRejected, match=r"several users have the email jdoe@example\.com"):
        console.find_user(reference="jdoe@example.com")
    assert console.find_user(reference="jdoe").id == scim.ids["jdoe"]


def test_exactness_is_checked_here_when_the_provider_matches_loosely(scim: SeededScim, consoles) -> None:
    def sloppy(request: httpx.Request, forward) -> httpx.Response | None:
        """A provider whose `eq` behaves like `co` (case-insensitive containment)."""
        expression = request.url.params.get("filter")
        if expression and " eq " in expression:
            loose = request.url.copy_set_param("filter", expression.replace(" eq ", " co "))
            return forward(httpx.Request(request.method, loose, headers=request.headers))
        return None

    console = consoles(Proxy(sloppy))
    assert console.find_user(reference="jdoe").id == scim.ids["jdoe"]
    assert console.find_user(reference="doe") is None
    assert console.find_user(reference="smith@example.com") is None
    assert console.username_taken(username="doe") is False


def test_get_user_maps_the_scim_record(scim: SeededScim, console: ScimConsole) -> None:
    jdoe = console.get_user(user_id=scim.ids["jdoe"])
    assert (jdoe.username, jdoe.email, jdoe.first_name, jdoe.last_name) == ("jdoe", "jdoe@example.com", "John", "Doe")
    assert jdoe.status is UserStatus.ACTIVE
    assert (jdoe.licenses, jdoe.extensions) == ((), ())
    assert console.get_user(user_id=scim.ids["tinactive"]).status is UserStatus.INACTIVE
    assert console.get_user(user_id="no-such-id") is None
    assert console.get_user(user_id="../Users") is None


def test_records_with_extensions_and_unusual_emails_are_readable(scim: SeededScim, console: ScimConsole) -> None:
    # scim2-models' own User model refuses both of these; real providers send them.
    user_id = scim.server.create_user(
        "ext.user", emails=("ext@intranet.local",), formatted="Ext User",
        extra={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
               ENTERPRISE: {"employeeNumber": "42", "department": "Sales"}, "externalId": "hr-42"},
    )
    user = console.get_user(user_id=user_id)
    assert (user.username, user.email, user.display_name) == ("ext.user", "ext@intranet.local", "Ext User")
    assert user.extra == {"externalId": "hr-42"}


def test_search_users_matches_username_email_and_name_sorted(scim: SeededScim, console: ScimConsole) -> None:
    def names(text: str, limit: int = 20) -> list[str]:
        return [user.username for user in console.search_users(text=text, limit=limit)]

    assert names("DOE") == ["jdoe", "jdoe.admin"]
    assert names("john doe") == ["jdoe", "jdoe.admin"]
    assert names("mary") == ["msmith"]  # email and given name
    assert names("smith@") == ["msmith"]
    assert names("example.com") == ["jdoe", "jdoe.admin", "msmith", 'o"neil\\x', "tinactive"]
    assert names("example.com", limit=2) == ["jdoe", "jdoe.admin"]
    assert names("nobody") == names("") == names("doe", limit=0) == []


def test_username_taken(scim: SeededScim, console: ScimConsole) -> None:
    assert console.username_taken(username="MSmith") is True
    assert console.username_taken(username='o"neil\\x') is True
    assert console.username_taken(username="msmit") is False
    assert console.username_taken(username="mary.smith@example.com") is False


def test_capabilities_are_discovered_once(scim: SeededScim, consoles) -> None:
    proxy = Proxy()
    console = consoles(proxy)
    console.find_user(reference="jdoe")
    console.search_users(text="doe")
    console.set_status(user_id=scim.ids["jdoe"], status=UserStatus.INACTIVE)
    assert len(proxy.sent("GET", "/ServiceProviderConfig")) == 1
    sent = proxy.requests[-1]
    assert sent.headers["Authorization"] == f"Bearer {scim.token}"
    assert sent.headers["Content-Type"] == sent.headers["Accept"].split(",")[0] == "application/scim+json"


# -- status and rename -------------------------------------------------------------------------


def test_set_status_deactivates_and_reactivates(scim: SeededScim, console: ScimConsole) -> None:
    console.set_status(user_id=scim.ids["jdoe"], status=UserStatus.INACTIVE)
    assert scim.server.raw_user(scim.ids["jdoe"])["active"] is False
    assert console.get_user(user_id=scim.ids["jdoe"]).status is UserStatus.INACTIVE

    console.set_status(user_id=scim.ids["tinactive"], status=UserStatus.ACTIVE)
    assert console.get_user(user_id=scim.ids["tinactive"]).status is UserStatus.ACTIVE
    console.set_status(user_id=scim.ids["jdoe"], status=UserStatus.ACTIVE)  # right after its own write
    assert scim.server.raw_user(scim.ids["jdoe"])["active"] is True


def test_rename_changes_the_username_only(scim: SeededScim, console: ScimConsole) -> None:
    console.rename(user_id=scim.ids["jdoe"], new_username="jdoe.old")
    assert console.find_user(reference="jdoe.old").id == scim.ids["jdoe"]
    assert console.find_user(reference="jdoe") is None
    raw = scim.server.raw_user(scim.ids["jdoe"])
    assert raw["name"] == {"givenName": "John", "familyName": "Doe"} and raw["active"] is True
    assert [e["value"] for e in raw["emails"]] == ["jdoe@example.com", "john.doe@corp.local"]


def test_rename_to_a_taken_username_raises_username_taken(scim: SeededScim, console: ScimConsole) -> None:
    with pytest.raises(UsernameTaken) as caught:
        console.rename(user_id=scim.ids["jdoe"], new_username="MSMITH")
    assert caught.value.status == 409
    assert caught.value.message == "the username MSMITH is already in use"
    assert scim.server.raw_user(scim.ids["jdoe"])["userName"] == "jdoe"


def test_rename_refuses_an_invalid_username_before_asking(scim: SeededScim, consoles) -> None:
    proxy = Proxy()
    console = consoles(proxy)
    with pytest.raises(ConsoleRejected, match="may only contain"):
        console.rename(user_id=scim.ids["jdoe"], new_username="john doe")
    with pytest.raises(ConsoleRejected, match="3 to 70 characters"):
        console.rename(user_id=scim.ids["jdoe"], new_username="jd")
    assert proxy.requests == []


def test_mutations_on_a_vanished_user_raise_user_gone(scim: SeededScim, console: ScimConsole) -> None:
    console.get_user(user_id=scim.ids["jdoe"])
    scim.server.reset()
    with pytest.raises(UserGone):
        console.set_status(user_id=scim.ids["jdoe"], status=UserStatus.INACTIVE)
    with pytest.raises(UserGone):
        console.rename(user_id="never-existed", new_username="whoever")
    with pytest.raises(UserGone):
        console.delete(user_id=scim.ids["jdoe"])


# -- ETags -------------------------------------------------------------------------------------


def test_every_mutation_sends_the_version_last_read(scim: SeededScim, consoles) -> None:
    proxy = Proxy()
    console = consoles(proxy)
    console.find_user(reference="jdoe")
    version = scim.server.raw_user(scim.ids["jdoe"])["meta"]["version"]
    console.set_status(user_id=scim.ids["jdoe"], status=UserStatus.INACTIVE)
    patch = proxy.sent("PATCH")[-1]
    assert patch.headers["If-Match"] == version
    # the next change is conditional on the version the first one produced
    console.rename(user_id=scim.ids["jdoe"], new_username="jdoe.old")
    assert proxy.sent("PATCH")[-1].headers["If-Match"] != version
    assert scim.server.raw_user(scim.ids["jdoe"])["userName"] == "jdoe.old"


def test_a_mutation_without_a_prior_read_reads_first(scim: SeededScim, consoles) -> None:
    proxy = Proxy()
    console = consoles(proxy)
    console.set_status(user_id=scim.ids["msmith"], status=UserStatus.INACTIVE)
    assert [r.method for r in proxy.requests] == ["GET", "GET", "PATCH"]  # config, the user, the change
    assert proxy.requests[-1].headers["If-Match"]


def test_a_change_made_since_the_read_is_not_overwritten(scim: SeededScim, console: ScimConsole) -> None:
    user_id = scim.ids["jdoe"]
    assert console.get_user(user_id=user_id).status is UserStatus.ACTIVE
    scim.server.patch_user(user_id, "userName", "john.doe")  # another admin, between read and write

    with pytest.raises(ConcurrentChange) as caught:
        console.set_status(user_id=user_id, status=UserStatus.INACTIVE)
    assert caught.value.status == 412
    assert "changed in the console since the bot last read it" in caught.value.message
    raw = scim.server.raw_user(user_id)
    assert (raw["userName"], raw["active"]) == ("john.doe", True)

    # after a fresh read the change goes through
    console.get_user(user_id=user_id)
    console.set_status(user_id=user_id, status=UserStatus.INACTIVE)
    assert scim.server.raw_user(user_id)["active"] is False


def test_a_delete_after_a_concurrent_change_deletes_nothing(scim: SeededScim, console: ScimConsole) -> None:
    user_id = scim.ids["msmith"]
    console.find_user(reference="msmith")
    scim.server.patch_user(user_id, "active", False)
    with pytest.raises(ConcurrentChange):
        console.delete(user_id=user_id)
    assert scim.server.raw_user(user_id) is not None


# -- delete ------------------------------------------------------------------------------------


def test_scim2_server_really_deletes(scim: SeededScim, console: ScimConsole) -> None:
    user_id = scim.ids["jdoe"]
    console.get_user(user_id=user_id)
    console.delete(user_id=user_id)
    assert scim.server.raw_user(user_id) is None
    assert console.get_user(user_id=user_id) is None
    with pytest.raises(UserGone):
        console.delete(user_id=user_id)


def test_a_provider_that_only_deactivates_on_delete_raises_deactivated_only(scim: SeededScim, consoles) -> None:
    def deactivate_instead(request: httpx.Request, forward) -> httpx.Response | None:
        """Like 8x8's SCIM: DELETE answers 204 but only sets active to false."""
        if request.method != "DELETE":
            return None
        user_id = request.url.path.rsplit("/", 1)[1]
        scim.server.patch_user(user_id, "active", False)
        return httpx.Response(204, headers={"X-Request-Id": "req-8x8-1"})

    console = consoles(Proxy(deactivate_instead))
    user_id = scim.ids["jdoe"]
    with pytest.raises(DeactivatedOnly) as caught:
        console.delete(user_id=user_id)
    assert caught.value.user_id == user_id
    assert caught.value.response_id == "req-8x8-1"
    assert "the profile still exists" in caught.value.message
    assert scim.server.raw_user(user_id)["active"] is False


def test_a_delete_that_did_not_happen_is_never_reported_as_done(scim: SeededScim, consoles) -> None:
    def pretend(request: httpx.Request, forward) -> httpx.Response | None:
        return httpx.Response(204) if request.method == "DELETE" else None

    console = consoles(Proxy(pretend))
    with pytest.raises(ConsoleRejected, match="the delete did not happen") as caught:
        console.delete(user_id=scim.ids["jdoe"])
    assert not isinstance(caught.value, DeactivatedOnly)
    assert scim.server.raw_user(scim.ids["jdoe"])["active"] is True


def test_release_licenses_is_a_manual_step(scim: SeededScim, console: ScimConsole) -> None:
    console.find_user(reference="jdoe")
    with pytest.raises(ConsoleUnsupported, match="in the admin console") as caught:
        console.release_licenses(user_id=scim.ids["jdoe"])
    assert "SCIM has no licenses" in caught.value.message
    assert "jdoe" in caught.value.message


# -- a provider without PATCH, ETags or filters ------------------------------------------------


def test_without_filters_look_ups_list_and_match_here(basic) -> None:
    seeded, proxy, console = basic
    assert console.find_user(reference="JDOE").id == seeded.ids["jdoe"]
    assert console.find_user(reference="john.doe@corp.local").id == seeded.ids["jdoe"]
    assert console.find_user(reference='o"neil\\x').id == seeded.ids["quoted"]
    assert console.find_user(reference="doe") is None
    assert [u.username for u in console.search_users(text="john doe")] == ["jdoe", "jdoe.admin"]
    assert console.username_taken(username="msmith") is True
    assert console.username_taken(username="nobody") is False
    assert all("filter" not in r.url.params and "sortBy" not in r.url.params for r in proxy.requests)


def test_without_filters_listing_is_bounded(basic) -> None:
    _, proxy, console = basic
    console.page_size, console.scan_limit = 2, 4
    with pytest.raises(ConsoleUnsupported, match="cannot filter users and holds more than 4"):
        console.find_user(reference="nobody")
    assert len(proxy.sent("GET", "/Users")) == 2


def test_without_patch_changes_put_the_whole_user_back(basic) -> None:
    seeded, proxy, console = basic
    user_id = seeded.server.create_user(
        "ext.user", emails=("ext@example.com",), given_name="Ext", family_name="User",
        extra={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
               ENTERPRISE: {"employeeNumber": "42"}},
    )
    console.set_status(user_id=user_id, status=UserStatus.INACTIVE)
    console.rename(user_id=user_id, new_username="ext.old")
    raw = seeded.server.raw_user(user_id)
    assert (raw["userName"], raw["active"]) == ("ext.old", False)
    assert raw[ENTERPRISE] == {"employeeNumber": "42"}  # what the bot does not know is kept
    assert raw["name"] == {"givenName": "Ext", "familyName": "User"}
    assert proxy.sent("PATCH") == []
    assert len(proxy.sent("PUT")) == 2
    assert all("If-Match" not in r.headers for r in proxy.requests)  # no ETags announced, none sent

    with pytest.raises(UsernameTaken):
        console.rename(user_id=user_id, new_username="jdoe")
    console.set_status(user_id=seeded.ids["tinactive"], status=UserStatus.ACTIVE)
    assert seeded.server.raw_user(seeded.ids["tinactive"])["active"] is True


def test_a_patch_refused_at_run_time_falls_back_to_put_with_the_etag(scim: SeededScim, consoles) -> None:
    def no_patch(request: httpx.Request, forward) -> httpx.Response | None:
        return scim_error(501, "PATCH is not supported") if request.method == "PATCH" else None

    proxy = Proxy(no_patch)
    console = consoles(proxy)
    user_id = scim.ids["jdoe"]
    console.get_user(user_id=user_id)
    console.set_status(user_id=user_id, status=UserStatus.INACTIVE)
    console.rename(user_id=user_id, new_username="jdoe.old")
    raw = scim.server.raw_user(user_id)
    assert (raw["userName"], raw["active"]) == ("jdoe.old", False)
    assert len(proxy.sent("PATCH")) == 1  # refused once, not asked again
    assert all(r.headers.get("If-Match") for r in proxy.sent("PUT"))

    # a change behind the bot's back is caught on the PUT path too
    scim.server.patch_user(user_id, "userName", "someone.else")
    with pytest.raises(ConcurrentChange):
        console.set_status(user_id=user_id, status=UserStatus.ACTIVE)
    assert scim.server.raw_user(user_id)["active"] is False


# -- failures ----------------------------------------------------------------------------------


def test_a_wrong_token_is_access_denied_and_never_shown(scim: SeededScim, consoles, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "wrong-token-5f0c1e9a"
    console = consoles(token=secret)
    calls = [
        lambda: console.find_user(reference="jdoe"),
        lambda: console.get_user(user_id=scim.ids["jdoe"]),
        lambda: console.search_users(text="doe"),
        lambda: console.set_status(user_id=scim.ids["jdoe"], status=UserStatus.INACTIVE),
        lambda: console.rename(user_id=scim.ids["jdoe"], new_username="jdoe.old"),
        lambda: console.delete(user_id=scim.ids["jdoe"]),
        console.check,
    ]
    for call in calls:
        with pytest.raises(AccessDenied) as caught:
            call()
        error = caught.value
        assert error.status == 401
        assert error.message.startswith("the SCIM token was refused")
        for text in (str(error), error.explained, repr(error), repr(error.__cause__), repr(error.__context__)):
            assert secret not in text
    assert secret not in repr(console)
    assert all(secret not in record.getMessage() for record in caplog.records)
    assert scim.server.raw_user(scim.ids["jdoe"])["active"] is True


def test_a_lost_answer_on_a_mutation_is_outcome_unknown_and_not_repeated(scim: SeededScim, consoles) -> None:
    proxy = Proxy(lose_answer("PATCH"))
    console = consoles(proxy, retries=3)
    with pytest.raises(OutcomeUnknown, match="may or may not have been applied") as caught:
        console.set_status(user_id=scim.ids["jdoe"], status=UserStatus.INACTIVE)
    assert "deactivate user jdoe" in caught.value.message
    assert len(proxy.sent("PATCH")) == 1
    assert scim.server.raw_user(scim.ids["jdoe"])["active"] is False  # it did happen: hence "unknown"


def test_a_lost_answer_on_a_delete_is_outcome_unknown(scim: SeededScim, consoles) -> None:
    proxy = Proxy(lose_answer("DELETE"))
    console = consoles(proxy)
    with pytest.raises(OutcomeUnknown):
        console.delete(user_id=scim.ids["jdoe"])
    assert len(proxy.sent("DELETE")) == 1


def test_a_server_error_on_a_mutation_is_outcome_unknown(scim: SeededScim, consoles) -> None:
    def fail(request: httpx.Request, forward) -> httpx.Response | None:
        return scim_error(500, "Internal server error") if request.method == "PATCH" else None

    proxy = Proxy(fail)
    with pytest.raises(OutcomeUnknown) as caught:
        consoles(proxy).rename(user_id=scim.ids["jdoe"], new_username="jdoe.old")
    assert caught.value.status == 500
    assert len(proxy.sent("PATCH")) == 1


def test_a_mutation_that_could_not_connect_is_retried(scim: SeededScim, consoles) -> None:
    refused: list[httpx.Request] = []

    def refuse_once(request: httpx.Request, forward) -> httpx.Response | None:
        if request.method == "PATCH" and not refused:
            refused.append(request)
            raise httpx.ConnectError("connection refused", request=request)
        return None

    sleeps = Sleeps()
    proxy = Proxy(refuse_once)
    consoles(proxy, sleep=sleeps).set_status(user_id=scim.ids["jdoe"], status=UserStatus.INACTIVE)
    assert len(proxy.sent("PATCH")) == 2
    assert len(sleeps) == 1
    assert scim.server.raw_user(scim.ids["jdoe"])["active"] is False


def test_a_rate_limited_mutation_waits_as_told(scim: SeededScim, consoles) -> None:
    limited: list[httpx.Request] = []

    def limit_once(request: httpx.Request, forward) -> httpx.Response | None:
        if request.method == "PATCH" and not limited:
            limited.append(request)
            return scim_error(429, "Too many requests", headers={"Retry-After": "3"})
        return None

    sleeps = Sleeps()
    consoles(Proxy(limit_once), sleep=sleeps).set_status(user_id=scim.ids["jdoe"], status=UserStatus.INACTIVE)
    assert sleeps == [3.0]
    assert scim.server.raw_user(scim.ids["jdoe"])["active"] is False


def test_reads_are_retried_then_give_up(scim: SeededScim, consoles) -> None:
    failures = iter([503, 429])

    def flaky(request: httpx.Request, forward) -> httpx.Response | None:
        if not request.url.path.endswith("/Users"):
            return None
        status = next(failures, None)
        if status is None:
            return None
        return scim_error(status, "busy", headers={"Retry-After": "2"} if status == 429 else None)

    sleeps = Sleeps()
    console = consoles(Proxy(flaky), sleep=sleeps, backoff=0.25)
    assert console.find_user(reference="jdoe").id == scim.ids["jdoe"]
    assert sleeps == [0.25, 2.0]

    def down(request: httpx.Request, forward) -> httpx.Response | None:
        return scim_error(503, "maintenance") if "/Users" in request.url.path else None

    proxy = Proxy(down)
    with pytest.raises(ConsoleUnavailable, match="keeps failing") as caught:
        consoles(proxy, retries=2).search_users(text="doe")
    assert caught.value.retryable and caught.value.status == 503
    assert len(proxy.sent("GET", "/Users")) == 3

    def slow_down(request: httpx.Request, forward) -> httpx.Response | None:
        return scim_error(429, "slow down", headers={"Retry-After": "3600"}) if "/Users/" in request.url.path else None

    with pytest.raises(ConsoleUnavailable, match="rate limiting"):
        consoles(Proxy(slow_down), max_wait=30).get_user(user_id=scim.ids["jdoe"])


def test_an_unreachable_provider_is_unavailable() -> None:
    sleeps = Sleeps()
    with ScimConsole(f"http://127.0.0.1:{free_port()}/v2", "some-token", sleep=sleeps) as console:
        with pytest.raises(ConsoleUnavailable, match="unreachable") as caught:
            console.find_user(reference="jdoe")
        assert len(sleeps) == 2
        assert "some-token" not in caught.value.message


def test_an_answer_that_is_not_scim_is_explained(scim: SeededScim, consoles) -> None:
    def html(request: httpx.Request, forward) -> httpx.Response | None:
        if request.url.path.endswith("/Users"):
            return httpx.Response(200, text="<html>login</html>", headers={"Content-Type": "text/html"})
        return None

    with pytest.raises(ConsoleError, match="not SCIM JSON"):
        consoles(Proxy(html)).find_user(reference="jdoe")


# -- check -------------------------------------------------------------------------------------


def test_check_reports_reachability_token_and_capabilities(scim: SeededScim, console: ScimConsole) -> None:
    lines = console.check()
    assert lines[0] == f"SCIM provider reachable at {scim.base_url}"
    assert lines[1] == "SCIM token accepted (5 users visible)"
    assert "SCIM PATCH supported" in lines
    assert any(line.startswith("SCIM ETags supported") for line in lines)
    assert "SCIM filters supported" in lines
    assert scim.token not in "\n".join(lines)


def test_check_names_what_a_basic_provider_lacks(basic) -> None:
    _, _, console = basic
    lines = console.check()
    assert any(line.startswith("SCIM PATCH not supported") for line in lines)
    assert any(line.startswith("SCIM ETags not supported") for line in lines)
    assert any(line.startswith("SCIM filters not supported") for line in lines)


def test_check_with_a_wrong_token_fails(scim: SeededScim, consoles) -> None:
    with pytest.raises(AccessDenied):
        consoles(token="not-the-token").check()
