"""`offboard-bot shell` driven through stdin, as a newcomer (or a script) would."""

import subprocess
import sys

SCRIPT = """\
/offboard delete jdoe --reason left the company
press Request approval
as carol
press Approve
as bob
press Approve
as alice
/offboard rename msmith msmith.old
press Confirm
users
quit
"""


def test_shell_reaches_deleted_successfully(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bot", "shell", "--data-dir", str(tmp_path)], input=SCRIPT,
                            capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin", "OFFBOARD_LOG_LEVEL": "WARNING"})
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "[ephemeral to alice in #general]" in out and "Plan: Delete jdoe" in out
    assert "[#approvals] bot:" in out and "[ Approve ] [ Reject ]" in out
    assert "Only account admins" in out  # carol's click was refused
    assert "[#results] bot:" in out
    assert "`jdoe`: deleted successfully" in out
    assert "`msmith` → `msmith.old`: renamed successfully" in out
    users = out.split("alice> users", 1)[1]
    assert "msmith.old" in users and " jdoe " not in users
    assert "Traceback" not in out + result.stderr


def test_shell_explains_unknown_input_and_keeps_going(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bot", "shell", "--data-dir", str(tmp_path)],
                            input="frob\nas nobody\npress Nothing\n/offboard\nquit\n", capture_output=True,
                            text=True, timeout=120, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "unknown command 'frob'" in result.stdout
    assert "no member 'nobody'" in result.stdout
    assert 'modal "Offboard users"' in result.stdout
