"""The local SQLite console: seeding, look-ups, mutations and the operations log."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.console.demo_data import DEMO_USERS
from bot.console.local import LocalConsole, Operation
from bot.domain.directory import ConsoleUser, Device, Extension, ExtensionType, UserStatus
from bot.errors import ConfigurationError, ConsoleRejected, UserGone, UsernameTaken

JDOE_ID = "u-1001"


class FixedClock:
    def now(self) -> datetime:
        return datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "console.db"


@pytest.fixture
def console(db_path: Path) -> LocalConsole:
    console = LocalConsole(db_path, clock=FixedClock())
    console.seed_if_empty()
    return console


def jdoe(console: LocalConsole) -> ConsoleUser:
    user = console.get_user(user_id=JDOE_ID)
    assert user is not None
    return user


# -- demo data and seeding ---------------------------------------------------------------------


def test_demo_data_has_the_documented_users() -> None:
    by_name = {user.username: user for user in DEMO_USERS}
    for name in ("alice", "bob", "carol", "dana", "jdoe", "msmith", "tinactive"):
        assert by_name[name].email == f"{name}@example.com"
    assert len({u.id for u in DEMO_USERS}) == len({u.username.lower() for u in DEMO_USERS}) == len(DEMO_USERS)
    john = by_name["jdoe"]
    assert (john.first_name, john.last_name, john.licenses) == ("John", "Doe", ("X Series X4",))
    assert john.extensions[0].number == "1001"
    assert john.phone_numbers == ("+14155550101",)
    assert john.devices and john.call_queues and john.ring_groups
    assert by_name["msmith"].is_contact_center_agent and by_name["msmith"].phone_numbers
    assert by_name["tinactive"].status is UserStatus.INACTIVE
    assert by_name["alice"].display_name == "Alice Admin"


def test_seeding_is_idempotent(db_path: Path) -> None:
    console = LocalConsole(db_path)
    assert console.seed_if_empty() == len(DEMO_USERS)
    assert console.seed_if_empty() == 0
    assert LocalConsole(db_path).seed_if_empty() == 0
    assert len(console.search_users(text="", limit=1000)) == len(DEMO_USERS)
    assert console.operations() == []


def test_seeding_skips_a_directory_that_already_has_users(db_path: Path) -> None:
    console = LocalConsole(db_path)
    console.add_user(ConsoleUser(id="x-1", username="solo", email="solo@example.com"))
    assert console.seed_if_empty() == 0
    assert console.find_user(reference="jdoe") is None


def test_users_round_trip_faithfully(console: LocalConsole) -> None:
    for expected in DEMO_USERS:
        stored = console.get_user(user_id=expected.id)
        assert stored == expected
        assert stored is not None and stored.fingerprint() == expected.fingerprint()
    john = jdoe(console)
    assert isinstance(john.extensions, tuple) and isinstance(john.extensions[0].devices[0], Device)
    assert john.extensions[0].type is ExtensionType.UC and john.status is UserStatus.ACTIVE


def test_extra_round_trips(console: LocalConsole) -> None:
    console.add_user(ConsoleUser(id="x-1", username="extra", email="e@example.com", extra={"department": "Ops"}))
    user = console.get_user(user_id="x-1")
    assert user is not None and user.extra == {"department": "Ops"}


def test_add_user_refuses_duplicates(console: LocalConsole) -> None:
    with pytest.raises(UsernameTaken):
        console.add_user(ConsoleUser(id="x-1", username="JDOE", email="other@example.com"))
    with pytest.raises(ConsoleRejected):
        console.add_user(ConsoleUser(id=JDOE_ID, username="fresh", email="fresh@example.com"))
    assert console.find_user(reference="fresh") is None


def test_in_memory_database_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        LocalConsole(":memory:")


def test_schema_uses_wal(console: LocalConsole, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


# -- reads -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["jdoe", "JDoe", " jdoe ", "jdoe@example.com", "JDOE@Example.COM"])
def test_find_user_by_username_or_email(console: LocalConsole, reference: str) -> None:
    user = console.find_user(reference=reference)
    assert user is not None and user.id == JDOE_ID


def test_find_user_mixed_case_username(console: LocalConsole) -> None:
    user = console.find_user(reference="nkumar")
    assert user is not None and user.username == "NKumar"


@pytest.mark.parametrize("reference", ["jdo", "doe", "jdoe@", "example.com", "jd%", "j_oe", "*", "", "  ", "John Doe"])
def test_find_user_has_no_partial_or_wildcard_matches(console: LocalConsole, reference: str) -> None:
    assert console.find_user(reference=reference) is None


def test_find_user_prefers_a_username_match_over_an_email_match(console: LocalConsole) -> None:
    console.add_user(ConsoleUser(id="x-1", username="jdoe@example.com", email="someone@example.com"))
    user = console.find_user(reference="jdoe@example.com")
    assert user is not None and user.id == "x-1"


def test_find_user_refuses_an_ambiguous_email(console: LocalConsole) -> None:
    console.add_user(ConsoleUser(id="x-1", username="jdoe2", email="JDoe@example.com"))
    with pytest.raises(ConsoleRejected):
        console.find_user(reference="jdoe@example.com")


def test_get_user_unknown_id(console: LocalConsole) -> None:
    assert console.get_user(user_id="u-nope") is None


def test_search_users(console: LocalConsole) -> None:
    assert [u.username for u in console.search_users(text="DOE")] == ["jane.doe", "jdoe"]
    assert [u.username for u in console.search_users(text="john d")] == ["jdoe"]
    assert [u.username for u in console.search_users(text="maria")] == ["msmith"]
    assert [u.username for u in console.search_users(text="sam")] == ["sam.taylor", "samantha"]
    assert [u.username for u in console.search_users(text="ross@")] == ["samantha"]
    assert console.search_users(text="%") == []
    assert console.search_users(text="zzz") == []


def test_search_users_sorted_case_insensitively_and_limited(console: LocalConsole) -> None:
    names = [u.username for u in console.search_users(text="", limit=100)]
    assert names == sorted(names, key=str.lower)
    assert "NKumar" in names
    assert len(console.search_users(text="example.com", limit=3)) == 3
    assert console.search_users(text="jdoe", limit=0) == []


def test_username_taken(console: LocalConsole) -> None:
    assert console.username_taken(username="jdoe")
    assert console.username_taken(username="JDOE")
    assert not console.username_taken(username="jdoe.departed")
    assert not console.username_taken(username="jdoe@example.com")


# -- mutations ---------------------------------------------------------------------------------


def test_release_licenses_clears_licenses_and_numbers_but_keeps_devices(console: LocalConsole) -> None:
    before = console.get_user(user_id="u-1002")  # msmith: UC + CC extensions
    assert before is not None
    console.release_licenses(user_id="u-1002")
    after = console.get_user(user_id="u-1002")
    assert after is not None
    assert after.licenses == () and after.phone_numbers == () and not after.holds_numbers
    assert after.devices == before.devices
    assert [ext.number for ext in after.extensions] == [ext.number for ext in before.extensions]
    assert after.call_queues == before.call_queues and after.status is UserStatus.ACTIVE
    [op] = console.operations()
    assert (op.name, op.user_id) == ("release_licenses", "u-1002")
    assert "Contact Center Agent" in op.detail and "+14155550102" in op.detail


def test_fingerprint_changes_when_licenses_change(console: LocalConsole) -> None:
    before = jdoe(console).fingerprint()
    assert jdoe(console).fingerprint() == before
    console.release_licenses(user_id=JDOE_ID)
    assert jdoe(console).fingerprint() != before


def test_deactivate_and_reactivate(console: LocalConsole) -> None:
    console.set_status(user_id=JDOE_ID, status=UserStatus.INACTIVE)
    assert jdoe(console).status is UserStatus.INACTIVE
    console.set_status(user_id=JDOE_ID, status=UserStatus.ACTIVE)
    assert jdoe(console).status is UserStatus.ACTIVE
    assert [(op.name, op.detail) for op in console.operations()] == [
        ("set_status", "ACTIVE -> INACTIVE"),
        ("set_status", "INACTIVE -> ACTIVE"),
    ]


def test_a_mutation_that_changes_nothing_still_succeeds_and_is_logged(console: LocalConsole) -> None:
    console.set_status(user_id="u-1003", status=UserStatus.INACTIVE)  # tinactive is already INACTIVE
    console.release_licenses(user_id="u-1008")  # lchen has no licenses
    assert [op.name for op in console.operations()] == ["set_status", "release_licenses"]


def test_rename(console: LocalConsole) -> None:
    console.rename(user_id=JDOE_ID, new_username="jdoe.departed")
    assert jdoe(console).username == "jdoe.departed"
    assert console.find_user(reference="jdoe") is None
    assert console.find_user(reference="jdoe@example.com") == jdoe(console)
    assert not console.username_taken(username="jdoe")
    [op] = console.operations()
    assert op == Operation(op.seq, FixedClock().now(), "rename", JDOE_ID, "jdoe -> jdoe.departed")


def test_rename_to_own_name_in_another_case_is_allowed(console: LocalConsole) -> None:
    console.rename(user_id=JDOE_ID, new_username="JDoe")
    assert jdoe(console).username == "JDoe"


def test_rename_to_a_taken_name_changes_nothing(console: LocalConsole) -> None:
    before = jdoe(console)
    with pytest.raises(UsernameTaken) as caught:
        console.rename(user_id=JDOE_ID, new_username="MSmith")
    assert caught.value.username == "MSmith"
    assert jdoe(console) == before
    assert console.operations() == []


@pytest.mark.parametrize("bad", ["jd", "x" * 71, "john doe", "jdoe!", ""])
def test_rename_to_an_invalid_name_changes_nothing(console: LocalConsole, bad: str) -> None:
    before = jdoe(console)
    with pytest.raises(ConsoleRejected) as caught:
        console.rename(user_id=JDOE_ID, new_username=bad)
    assert not isinstance(caught.value, UsernameTaken)
    assert jdoe(console) == before
    assert console.operations() == []


def test_delete(console: LocalConsole) -> None:
    console.delete(user_id=JDOE_ID)
    assert console.get_user(user_id=JDOE_ID) is None
    assert console.find_user(reference="jdoe") is None
    assert console.find_user(reference="jdoe@example.com") is None
    assert not console.username_taken(username="jdoe")
    assert [op.name for op in console.operations(user_id=JDOE_ID)] == ["delete"]
    with pytest.raises(UserGone):
        console.delete(user_id=JDOE_ID)
    assert len(console.operations()) == 1


@pytest.mark.parametrize(
    "mutation",
    [
        lambda c: c.release_licenses(user_id="u-nope"),
        lambda c: c.set_status(user_id="u-nope", status=UserStatus.INACTIVE),
        lambda c: c.rename(user_id="u-nope", new_username="whoever"),
        lambda c: c.rename(user_id="u-nope", new_username="jdoe"),
        lambda c: c.delete(user_id="u-nope"),
    ],
)
def test_mutations_on_a_missing_user_raise_user_gone(console: LocalConsole, mutation) -> None:
    with pytest.raises(UserGone) as caught:
        mutation(console)
    assert caught.value.user_id == "u-nope"
    assert console.operations() == []


def test_operations_log_is_ordered_and_filterable(console: LocalConsole) -> None:
    console.release_licenses(user_id=JDOE_ID)
    console.set_status(user_id="u-1002", status=UserStatus.INACTIVE)
    console.delete(user_id=JDOE_ID)
    ops = console.operations()
    assert [(op.name, op.user_id) for op in ops] == [
        ("release_licenses", JDOE_ID),
        ("set_status", "u-1002"),
        ("delete", JDOE_ID),
    ]
    assert [op.seq for op in ops] == sorted({op.seq for op in ops})
    assert [op.name for op in console.operations(user_id=JDOE_ID)] == ["release_licenses", "delete"]
    assert all(op.at == FixedClock().now() for op in ops)


def test_data_survives_reopening_the_file(console: LocalConsole, db_path: Path) -> None:
    console.release_licenses(user_id=JDOE_ID)
    console.rename(user_id=JDOE_ID, new_username="jdoe.departed")
    reopened = LocalConsole(db_path)
    user = reopened.find_user(reference="jdoe.departed")
    assert user is not None and user.licenses == () and user.devices == jdoe(console).devices
    assert reopened.operations() == console.operations()


# -- concurrency -------------------------------------------------------------------------------


@pytest.mark.parametrize("attempt_no", range(5))
def test_concurrent_renames_to_the_same_name_exactly_one_wins(console: LocalConsole, attempt_no: int) -> None:
    user_ids = ["u-1001", "u-1002", "u-1004", "u-1009"]
    barrier = threading.Barrier(len(user_ids))
    outcomes: dict[str, str] = {}

    def attempt(user_id: str) -> None:
        barrier.wait()
        try:
            console.rename(user_id=user_id, new_username="winner")
            outcomes[user_id] = "won"
        except UsernameTaken:
            outcomes[user_id] = "taken"

    threads = [threading.Thread(target=attempt, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [uid for uid, outcome in outcomes.items() if outcome == "won"]
    assert len(winners) == 1 and len(outcomes) == len(user_ids)
    found = console.find_user(reference="winner")
    assert found is not None and found.id == winners[0]
    assert [(op.name, op.user_id) for op in console.operations()] == [("rename", winners[0])]


def test_concurrent_mutations_from_many_threads_are_all_applied(db_path: Path) -> None:
    LocalConsole(db_path).seed_if_empty()
    errors: list[BaseException] = []

    def flip(user: ConsoleUser) -> None:
        console = LocalConsole(db_path)  # separate instances share the file, like separate processes
        try:
            for i in range(10):
                status = UserStatus.INACTIVE if i % 2 == 0 else UserStatus.ACTIVE
                console.set_status(user_id=user.id, status=status)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=flip, args=(user,)) for user in DEMO_USERS[:8]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    console = LocalConsole(db_path)
    assert len(console.operations()) == 80
    for user in DEMO_USERS[:8]:
        assert len(console.operations(user_id=user.id)) == 10
        stored = console.get_user(user_id=user.id)
        assert stored is not None and stored.status is UserStatus.ACTIVE


def test_extensions_keep_their_type_after_mutation(console: LocalConsole) -> None:
    console.add_user(
        ConsoleUser(
            id="x-cc",
            username="agent.only",
            email="agent@example.com",
            extensions=(Extension(number="5999", type=ExtensionType.CC, phone_numbers=("+15550000",)),),
        )
    )
    console.release_licenses(user_id="x-cc")
    user = console.get_user(user_id="x-cc")
    assert user is not None and user.is_contact_center_agent and user.phone_numbers == ()
