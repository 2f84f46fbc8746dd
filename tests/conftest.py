"""Shared fixtures: databases (SQLite always, PostgreSQL when reachable), policy, clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from bot.clock import ManualClock
from bot.policy import Policy, load_policy
from bot.settings import DEMO_POLICY
from bot.simulators.eightbyeight.fake import FakeEightByEight
from storage import migrate
from storage.db import make_engine

POSTGRES_URL = os.environ.get("OFFBOARD_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("OFFBOARD_REQUIRE_SERVICES") == "1"


def _postgres_available() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means "no PostgreSQL here"
        return f"PostgreSQL not reachable at {POSTGRES_URL} ({type(error).__name__})"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    problem = _postgres_available()
    if problem:
        if REQUIRE_SERVICES:
            pytest.fail(f"{problem}; OFFBOARD_REQUIRE_SERVICES=1 forbids skipping")
        pytest.skip(problem)
    name = f"offboard_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_schema(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate.upgrade(engine)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_engine(request, tmp_path) -> Iterator[Engine]:
    """A migrated, empty database: each test runs once on SQLite and once on PostgreSQL."""
    url = f"sqlite:///{tmp_path / 'offboard.db'}" if request.param == "sqlite" else request.getfixturevalue(
        "postgres_url")
    engine = make_engine(url)
    _fresh_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'offboard.db'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def policy() -> Policy:
    return load_policy(DEMO_POLICY)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))


# -- SCIM: the real third-party scim2-server ------------------------------------------------------


@pytest.fixture(scope="session")
def scim_server():
    """A scim2-server process for the whole session (announcing PATCH, ETags and filters); stopped at the end."""
    from tests.scim_server import EXECUTABLE, find_executable, start_scim_server

    if find_executable() is None:
        problem = f"the {EXECUTABLE} command is not installed (pip install scim2-server)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{problem}; OFFBOARD_REQUIRE_SERVICES=1 forbids skipping")
        pytest.skip(problem)
    server = start_scim_server(token=f"scim-test-{uuid.uuid4().hex}")
    yield server
    server.stop()


@pytest.fixture
def scim(scim_server):
    """The session's scim2-server emptied and seeded with tests.scim_server.SEED_USERS (base_url, token, ids)."""
    from tests.scim_server import seed

    return seed(scim_server)


@pytest.fixture
def eightbyeight() -> Iterator[FakeEightByEight]:
    """A running fake of 8x8's Administration API (empty directory, short operation delay)."""
    fake = FakeEightByEight(operation_delay=0.02).start()
    yield fake
    fake.stop()
    assert not fake.bugs, "the 8x8 fake failed inside:\n" + "\n".join(fake.bugs)


@pytest.fixture
def openapi_8x8() -> Path:
    """The folder with 8x8's official OpenAPI files; skips without it (fails under OFFBOARD_REQUIRE_SERVICES=1)."""
    from tests.contract_8x8 import SPECS_ENV, spec_dir  # openapi-core loads only where the specs are used

    folder = spec_dir()
    if folder is None:
        problem = f"8x8 OpenAPI files not found in ../shared/specs/8x8 (or ${SPECS_ENV})"
        if REQUIRE_SERVICES:
            pytest.fail(f"{problem}; OFFBOARD_REQUIRE_SERVICES=1 forbids skipping")
        pytest.skip(problem)
    return folder
