"""Small helpers for tests that run real processes and servers: a free loopback port, waiting for a state."""

from __future__ import annotations

import itertools
import os
import socket
import time
from collections.abc import Callable

# The suite runs in several processes (pytest-xdist); each draws the ports it hands to servers it starts from a
# block of its own, below the kernel's ephemeral range, so two processes never pick the same free port.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_PORTS = itertools.cycle(range(20000 + 500 * _WORKER, 20500 + 500 * _WORKER))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, from this test process's own block."""
    for port in itertools.islice(_PORTS, 500):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("every port of this test process's block is taken")


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "condition met") -> None:
    """Poll condition until it is true; fail the test when timeout seconds pass first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not in {timeout:.0f} s: {what}")


def delete_jdoe_with_approval(workspace, slack, *, channel_id: str) -> None:
    """Drive a running bot through the whole flow: alice asks to delete jdoe, bob approves, results posted."""
    workspace.slash("U0ALICE", "delete jdoe --reason moved on", channel_id=channel_id)
    wait_for(lambda: "Request approval" in workspace.visible_buttons("U0ALICE"), what="the private plan")
    workspace.press("U0ALICE", "Request approval", inputs={"offboard_checklist": "box-1"})
    wait_for(lambda: slack.messages("C0APPROVALS"), what="the approval message")
    workspace.press("U0BOB", "Approve")
    wait_for(lambda: slack.messages("C0RESULTS"), what="the results")
    assert "deleted successfully" in str(slack.messages("C0RESULTS")[-1].blocks)
