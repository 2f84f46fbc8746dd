"""`offboard-bot shell` as a conversation: what happens later shows up when it happens (and `wait` lets a piped
script see it), log lines stay out of it, a mistyped command gets one line, a button that opens a form is
followed by `submit`, boxes are ticked with `tick`, and a form keeps what was chosen after an error."""

from __future__ import annotations

import os
import re
import selectors
import subprocess
import sys
import time
from pathlib import Path

ENV = {"PATH": "/usr/bin:/bin"}


def _shell(tmp_path: Path, script: str, *options: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "shell", "--data-dir", str(tmp_path / "data"), *options],
                          input=script, capture_output=True, text=True, timeout=150, cwd=tmp_path,
                          env=env or ENV)


def _after(out: str, line: str) -> str:
    """What the shell printed after the echo of `line` (up to the next prompt)."""
    rest = out.split(line, 1)[1]
    return re.split(r"^\w+> ", rest, maxsplit=1, flags=re.MULTILINE)[0]


def test_a_mistyped_command_gets_one_line_and_logs_go_to_the_file_named_at_start(tmp_path) -> None:
    result = _shell(tmp_path, "/offbaord delete jdoe\n/frobnicate\nquit\n", env=ENV | {"OFFBOARD_LOG_LEVEL": "INFO"})
    assert result.returncode == 0, result.stderr
    assert _after(result.stdout, "alice> /offbaord delete jdoe").strip() == \
        "No command /offbaord — did you mean /offboard?"
    assert "No command /frobnicate" in result.stdout and "/offboard" in _after(result.stdout, "alice> /frobnicate")
    assert "Suggestion" not in result.stdout + result.stderr and "@app.command" not in result.stdout + result.stderr
    assert result.stderr == ""  # no log line in the conversation, even at INFO
    log = tmp_path / "data" / "shell.log"
    assert f"Log lines go to {log}" in result.stdout
    assert "seeded the local console with" in log.read_text()  # an INFO line, in the file
    assert " INFO " not in result.stdout


def test_wait_until_idle_shows_a_scheduled_runs_result_and_says_what_it_waited_for(tmp_path) -> None:
    script = "/offboard deactivate pnguyen --reason left --at in 4s\npress Confirm\nwait until-idle\nwait 1\nquit\n"
    started = time.monotonic()
    result = _shell(tmp_path, script)
    assert result.returncode == 0, result.stderr
    waited = _after(result.stdout, "alice> wait until-idle")
    request_id = re.search(r"OB-\w+", result.stdout).group(0)
    assert "[#results] bot:" in waited and "`pnguyen`: deactivated" in waited
    assert re.search(rf"\(waited \d+ s for the run of {request_id}; now nothing is running", waited)
    assert waited.index("deactivated") < waited.index("(waited")  # the result, then what was waited for
    assert "(waited 1 s)" in _after(result.stdout, "alice> wait 1")
    assert time.monotonic() - started < 60


def test_a_scheduled_runs_result_appears_while_the_shell_waits_for_the_next_line(tmp_path) -> None:
    shell = subprocess.Popen([sys.executable, "-m", "bot", "shell", "--data-dir", str(tmp_path / "data")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                             env=ENV)
    try:
        shell.stdin.write(b"/offboard deactivate pnguyen --at in 3s\npress Confirm\n")
        shell.stdin.flush()  # and nothing more: no next command to print it
        out = _read_until(shell, b"deactivated successfully", seconds=30)
        assert b"[#results] bot:" in out, out.decode()
    finally:
        shell.stdin.close()
        shell.wait(timeout=30)
        shell.stdout.close()
        shell.stderr.close()
    assert shell.returncode == 0


def _read_until(process: subprocess.Popen, wanted: bytes, *, seconds: float) -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while wanted not in out:
            assert time.monotonic() < deadline, f"{wanted!r} did not appear; the shell printed:\n{out.decode()}"
            if selector.select(timeout=0.5):
                chunk = os.read(process.stdout.fileno(), 65536)
                assert chunk, f"the shell ended before {wanted!r}:\n{out.decode()}"
                out += chunk
    return out


def test_reject_opens_a_form_that_submit_sends(tmp_path) -> None:
    script = ("/offboard delete jdoe --reason left\ntick all\npress Request approval\nas bob\n"
              'press Reject reason="not yet"\npress Reject\nsubmit reason="not yet"\nquit\n')
    result = _shell(tmp_path, script)
    assert result.returncode == 0, result.stderr
    hint = _after(result.stdout, 'bob> press Reject reason="not yet"')
    assert "press Reject" in hint and "submit reason=" in hint and "input keys here" not in hint
    form = _after(result.stdout, "bob> press Reject\n")
    assert '[modal "Reject request" for bob]' in form and "Reason" in form
    sent = _after(result.stdout, 'bob> submit reason="not yet"')
    assert "rejected by @bob: not yet" in sent and "Rejected* by @bob: not yet" in sent


def test_tick_all_ticks_the_plans_box_for_the_next_press(tmp_path) -> None:
    script = "/offboard delete msmith\ntick payroll\ntick all\npress Request approval\nquit\n"
    result = _shell(tmp_path, script)
    assert result.returncode == 0, result.stderr
    assert "no box with 'payroll' here; the boxes: " in result.stdout
    ticked = _after(result.stdout, "alice> tick all")
    assert re.search(r"ticked \d+ box", ticked) and "[x] " in ticked and "[ ] " not in ticked
    assert "Approval needed: Delete msmith" in _after(result.stdout, "alice> press Request approval")


def test_the_form_keeps_what_was_chosen_after_an_error(tmp_path) -> None:
    script = ("/offboard\npress Show plan action=deactivate users=nobody-here reason=\"moved on\"\n"
              "submit users=pnguyen\nquit\n")
    result = _shell(tmp_path, script)
    assert result.returncode == 0, result.stderr
    errors = _after(result.stdout, "alice> press Show plan")
    assert '[modal "Offboard users" for alice] (errors)' in errors and "nobody-here" in errors
    assert "- Deactivate (value=deactivate, selected)" in errors and "- Delete (value=delete)\n" in errors
    assert '"nobody-here"' in errors and '"moved on"' in errors
    plan = _after(result.stdout, "alice> submit users=pnguyen")
    assert "Plan: Deactivate pnguyen" in plan and "moved on" in plan
