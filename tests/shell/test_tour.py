"""The README's tour of the shell, piped verbatim into `offboard-bot shell`: every message it describes appears,
the scheduled run's result included, and docs/shell-tour.txt is what the shell prints for it.

The checks name key facts (who, which user, which channel, the outcome), not whole sentences, so that rewording
a message does not break them; the transcript is compared command by command, the messages of each in any order
(they come from different threads), with request ids, times and the log file's name left out. After a change to
what the bot says, write the transcript again with `OFFBOARD_WRITE_TOUR=1 python -m pytest tests/shell/test_tour.py`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TRANSCRIPT = ROOT / "docs" / "shell-tour.txt"
PROMPT = re.compile(r"^(\w+)> (.*)$")


def tour() -> str:
    """The lines the README's tour asks to type or pipe in: the first text block after its heading."""
    readme = README.read_text(encoding="utf-8")
    section = readme[readme.index("### A tour of the shell"):]
    return re.search(r"```text\n(.*?)```", section, re.DOTALL).group(1)


@pytest.fixture(scope="module")
def toured(tmp_path_factory) -> subprocess.CompletedProcess:
    folder = tmp_path_factory.mktemp("tour")
    shell = Path(sys.executable).with_name("offboard-bot")
    command = [str(shell)] if shell.exists() else [sys.executable, "-m", "bot"]
    return subprocess.run([*command, "shell"], input=tour(), capture_output=True, text=True, timeout=240,
                          cwd=folder, env={"PATH": "/usr/bin:/bin", "TMPDIR": str(folder)})


def replies(out: str) -> list[tuple[str, str]]:
    """Each line of the tour as echoed (`alice> press Approve`), with what the shell printed after it."""
    found: list[tuple[str, str]] = []
    for line in out.splitlines():
        if PROMPT.match(line):
            found.append((line, ""))
        elif found:
            found[-1] = (found[-1][0], found[-1][1] + line + "\n")
    return found


def test_the_tour_shows_every_message_it_describes(toured) -> None:
    out = toured.stdout
    assert toured.returncode == 0, toured.stderr
    assert toured.stderr == "" and "Traceback" not in out
    said = replies(out)
    typed = [line for line in tour().splitlines() if line.strip()]
    assert len(said) == len(typed)  # every line was read, none ended the shell early

    def after(command: str, nth: int = 0) -> str:
        return [text for echoed, text in said if echoed.split("> ", 1)[1] == command][nth]

    plan = after("/offboard delete jdoe --reason left the company")
    assert "[ephemeral to alice in #general]" in plan and "Delete jdoe" in plan and "[ Request approval ]" in plan
    asked = after("press Request approval")
    assert "[#approvals] bot:" in asked and "jdoe" in asked and "[ Approve ] [ Reject ]" in asked
    approved = after("press Approve")
    assert "@bob" in approved
    results = approved.split("[#results] bot:", 1)[1]
    assert "`jdoe`: deleted successfully" in results
    assert "[DM to alice] bot:" in approved

    agent = after("/offboard delete msmith --reason moved to another team")
    assert "Delete msmith" in agent and "[ ] " in agent
    ticked = after("tick all", 1)
    assert "[x] " in ticked and "[ ] " not in ticked and re.search(r"ticked \d+ box", ticked)
    asked = after("press Request approval", 1)
    approvals = asked.split("[#approvals] bot:", 1)[1]
    boxes = re.findall(r"\[x\] (.+?) \(key=", ticked)
    assert boxes and all(box in approvals for box in boxes)  # the approvers see what alice ticked
    assert approvals.count("@alice") >= 2  # asked by, and ticked by

    form = after("press Reject")
    assert '[modal "Reject request" for dana]' in form and "Reason" in form
    rejected = after('submit reason="not yet: the queues first"')
    assert "[DM to alice] bot:" in rejected and "@dana" in rejected and "not yet: the queues first" in rejected

    scheduled = after("/offboard deactivate pnguyen --reason on leave --at in 1m")
    assert "Deactivate pnguyen" in scheduled and "[ Confirm ]" in scheduled
    waited = after("wait until-idle")
    assert "[#results] bot:" in waited and "`pnguyen`: deactivated" in waited  # the scheduled run's result
    request_id = re.search(r"OB-\w+", scheduled).group(0)
    assert "(waited " in waited and request_id in waited.rsplit("(waited", 1)[1]
    users = after("users")
    assert re.search(r"pnguyen\s+INACTIVE", users) and " msmith " in users and " jdoe " not in users


def _comparable(out: str) -> list[tuple[str, list[str]]]:
    """Each command with the messages it printed, sorted; ids, times and paths made neutral."""
    neutral = re.sub(r"OB-[A-Z0-9]{8}", "OB-…", out)
    neutral = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "YYYY-MM-DD HH:MM", neutral)
    neutral = re.sub(r"\(waited \d+ s", "(waited N s", neutral)
    neutral = re.sub(r"Log lines go to \S+", "Log lines go to FILE", neutral)
    commands: list[tuple[str, list[str]]] = [("(start)", [])]
    for line in neutral.splitlines():
        if PROMPT.match(line):
            commands.append((line, []))
        elif line.startswith("[") or not commands[-1][1]:
            commands[-1][1].append(line)
        else:
            commands[-1][1][-1] += "\n" + line
    return [(command, sorted(messages)) for command, messages in commands]


def test_the_recorded_transcript_is_what_the_shell_prints(toured) -> None:
    if os.environ.get("OFFBOARD_WRITE_TOUR"):
        log = re.sub(r"(Log lines go to )\S*/", r"\1/tmp/", toured.stdout)  # where it goes without TMPDIR
        TRANSCRIPT.write_text(log, encoding="utf-8")
    assert TRANSCRIPT.exists(), "write it: OFFBOARD_WRITE_TOUR=1 python -m pytest tests/shell/test_tour.py"
    assert _comparable(TRANSCRIPT.read_text(encoding="utf-8")) == _comparable(toured.stdout), (
        "docs/shell-tour.txt no longer matches what the shell prints for the README's tour; "
        "write it again: OFFBOARD_WRITE_TOUR=1 python -m pytest tests/shell/test_tour.py")
