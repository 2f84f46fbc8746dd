"""The admin console the shell runs against: the local demo directory (the default), or the simulated 8x8
Administration API, started in this process on a loopback port and seeded with the same demo users, at 8x8's
real limits and with its asynchronous operations; `8x8-without-put` is a tenant whose API has no PUT yet
(501), so every change to a user becomes a manual step for the admin, as it would there."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.console.eightbyeight.mapping import user_from_api
from bot.domain.directory import ConsoleUser
from bot.ports import Console
from bot.simulators.eightbyeight.demo import seed_demo_users
from bot.simulators.eightbyeight.fake import FakeEightByEight

CONSOLES = ("local", "8x8", "8x8-without-put")
OPERATION_SECONDS = 0.5  # how long the simulated 8x8 takes to carry out a change (it answers 202 at once)


@dataclass(frozen=True)
class ShellConsole:
    """How the shell's app reaches its console, and how the shell lists what the console holds."""

    settings: dict[str, object]  # overrides of the app's settings
    description: str  # for the banner
    directory: Callable[[Console], list[ConsoleUser]]  # every user, for the `users` command


def start_console(choice: str, *, data_dir: Path, stack: contextlib.ExitStack) -> ShellConsole:
    """Set up the chosen console (one of CONSOLES); anything started is stopped when `stack` closes."""
    if choice == "local":
        return ShellConsole({"offboard_console": "local", "offboard_local_console": data_dir / "console.db"},
                            "local demo console", lambda console: console.search_users(text="", limit=100))
    if choice not in CONSOLES:
        raise ValueError(f"unknown console {choice!r}; one of {', '.join(CONSOLES)}")
    fake = FakeEightByEight(api_key=secrets.token_hex(16), operation_delay=OPERATION_SECONDS)
    seed_demo_users(fake)
    if choice == "8x8-without-put":
        fake.put_unsupported = "501"
    stack.enter_context(fake)
    limits = fake.limits
    settings: dict[str, object] = {
        "offboard_console": "8x8", "eightbyeight_base_url": fake.base_url,
        "eightbyeight_api_key": SecretStr(fake.api_key), "eightbyeight_rate_limit": limits.requests,
        "eightbyeight_burst_limit": limits.burst, "eightbyeight_max_operations": limits.operations,
    }
    without = ", without PUT: changes to users are manual steps" if fake.put_unsupported else ""
    return ShellConsole(settings, f"simulated 8x8 Administration API at {fake.base_url}{without}",
                        lambda _console: sorted((user_from_api(raw) for raw in fake.users()),
                                                key=lambda user: user.username))
