"""Runs the real third-party SCIM server (`scim2-server`, in memory) for the SCIM console tests.

`start_scim_server()` starts `scim2-server --port N --bearer-token T` on a free loopback port and waits
until it answers; `ScimServer` seeds users over SCIM (POST /Users) and resets them between tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.processes import free_port

EXECUTABLE = "scim2-server"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
START_TIMEOUT = 15.0

# A provider announcing none of the optional features (RFC 7643 §5). scim2-server caps every page at
# filter.maxResults even when filtering is unsupported, so it must stay above the page size.
BASIC_PROVIDER_CONFIG: dict[str, Any] = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    "patch": {"supported": False},
    "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
    "filter": {"supported": False, "maxResults": 1000},
    "changePassword": {"supported": False},
    "sort": {"supported": False},
    "etag": {"supported": False},
}


def find_executable() -> str | None:
    """Return the path of the scim2-server command, or None when it is not installed."""
    beside_python = Path(sys.executable).with_name(EXECUTABLE)  # the test run's own virtualenv first
    return str(beside_python) if beside_python.exists() else shutil.which(EXECUTABLE)




@dataclass
class ScimServer:
    """A running scim2-server process and an admin client on it."""

    base_url: str  # the SCIM root, ending in /v2
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._client = httpx.Client(
            base_url=self.base_url + "/",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/scim+json"},
            timeout=10.0,
        )

    def create_user(
        self,
        username: str,
        *,
        emails: tuple[str, ...] = (),
        given_name: str | None = None,
        family_name: str | None = None,
        formatted: str | None = None,
        active: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Create a user over SCIM (POST /Users); the first email is the primary one. Return its id."""
        body: dict[str, Any] = {"schemas": [USER_SCHEMA], "userName": username, "active": active}
        name = {key: value for key, value in
                (("givenName", given_name), ("familyName", family_name), ("formatted", formatted)) if value}
        if name:
            body["name"] = name
        if emails:
            body["emails"] = [{"value": email, "primary": index == 0} for index, email in enumerate(emails)]
        body.update(extra or {})
        response = self._client.post("Users", content=json.dumps(body))
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def raw_user(self, user_id: str) -> dict[str, Any] | None:
        """The user as the server holds it, or None when it does not exist."""
        response = self._client.get(f"Users/{user_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def patch_user(self, user_id: str, path: str, value: Any) -> None:
        """Change one attribute behind the bot's back (PATCH replace, unconditional), or PUT without PATCH."""
        operation = {"op": "replace", "path": path, "value": value}
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [operation]}
        response = self._client.patch(f"Users/{user_id}", content=json.dumps(body))
        if response.status_code == 501:
            current = self.raw_user(user_id) or {}
            current.pop("meta", None)
            current[path] = value
            response = self._client.put(f"Users/{user_id}", content=json.dumps(current))
        assert response.is_success, response.text

    def user_ids(self) -> list[str]:
        ids: list[str] = []
        while True:
            response = self._client.get("Users", params={"startIndex": len(ids) + 1, "count": 100})
            response.raise_for_status()
            page = response.json().get("Resources") or []
            ids.extend(user["id"] for user in page)
            if not page or len(ids) >= response.json()["totalResults"]:
                return ids

    def reset(self) -> None:
        """Delete every user, so that each test starts from an empty directory."""
        for user_id in self.user_ids():
            response = self._client.delete(f"Users/{user_id}")
            assert response.status_code in (204, 404), response.text

    def stop(self) -> None:
        self._client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.log_path.parent, ignore_errors=True)


def start_scim_server(
    *, token: str, provider_config: dict[str, Any] | None = None, executable: str | None = None
) -> ScimServer:
    """Start scim2-server on a free loopback port and return once it answers; raise RuntimeError otherwise."""
    executable = executable or find_executable()
    if executable is None:
        raise RuntimeError(f"the {EXECUTABLE} command is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="scim2-server-"))
    command = [executable, "--hostname", "127.0.0.1", "--bearer-token", token]
    if provider_config is not None:
        config_path = workdir / "service-provider-config.json"
        config_path.write_text(json.dumps(provider_config))
        command += ["--service-provider-config", str(config_path)]
    problems = []
    for _ in range(3):  # another process may take the free port before the server binds it
        port = free_port()
        log_path = workdir / f"server-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                                       env={**os.environ, "PYTHONUNBUFFERED": "1"})
        server = ScimServer(f"http://127.0.0.1:{port}/v2", token, process, log_path)
        if _wait_until_ready(server):
            return server
        problems.append(log_path.read_text(errors="replace")[-500:])
        server.stop()
    raise RuntimeError(f"{EXECUTABLE} did not start: {problems[-1]}")


def _wait_until_ready(server: ScimServer) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            response = httpx.get(f"{server.base_url}/ServiceProviderConfig", timeout=1.0)
            if response.status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return False


# The users every `scim` test starts with: (key, username, emails, given name, family name, active).
SEED_USERS: tuple[tuple[str, str, tuple[str, ...], str, str, bool], ...] = (
    ("jdoe", "jdoe", ("jdoe@example.com", "john.doe@corp.local"), "John", "Doe", True),
    ("jdoe_admin", "jdoe.admin", ("jdoe.admin@example.com",), "John", "Doe (admin)", True),
    ("msmith", "msmith", ("Mary.Smith@Example.com",), "Mary", "Smith", True),
    ("tinactive", "tinactive", ("tinactive@example.com",), "Tom", "Inactive", False),
    ("quoted", 'o"neil\\x', ("oneil@example.com",), "Pat", "O'Neil", True),
)


@dataclass(frozen=True)
class SeededScim:
    """A clean scim2-server holding SEED_USERS; `ids` maps each seed key to the user's SCIM id."""

    base_url: str
    token: str
    ids: dict[str, str]
    server: ScimServer


def seed(server: ScimServer) -> SeededScim:
    """Reset the server and create SEED_USERS."""
    server.reset()
    ids = {
        key: server.create_user(username, emails=emails, given_name=given, family_name=family, active=active)
        for key, username, emails, given, family, active in SEED_USERS
    }
    return SeededScim(base_url=server.base_url, token=server.token, ids=ids, server=server)
