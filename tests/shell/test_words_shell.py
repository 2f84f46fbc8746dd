"""The shell's words (issue 16, item 9): members' roles read once, errors name people rather than Slack ids, and
`users` shows each user's extension, number and desk phone."""

import re
import subprocess
import sys


def _shell(tmp_path, script: str) -> str:
    result = subprocess.run([sys.executable, "-m", "bot", "shell", "--data-dir", str(tmp_path)], input=script,
                            capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin", "OFFBOARD_LOG_LEVEL": "WARNING"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_roles_errors_and_users_read_as_a_person_would_say_them(tmp_path):
    out = _shell(tmp_path, "press Approve\nusers\nquit\n")
    assert "((" not in out and "))" not in out  # no parenthesis inside a parenthesis in the banner
    assert "jdoe (not an admin; the demo user to offboard)" in out
    assert "visible to alice" in out and "U0ALICE" not in out
    jdoe = next(line for line in out.splitlines() if line.strip().startswith("jdoe "))
    assert "ext 1001" in jdoe and "+14155550101" in jdoe and "Poly VVX 450" in jdoe and "X Series X4" in jdoe


def test_a_refusal_in_the_shell_shows_its_ref_as_the_readme_promises(tmp_path):
    out = _shell(tmp_path, "/offboard frob\nas carol\n/offboard delete jdoe\nquit\n")
    refusals = [block for block in out.split("[ephemeral to ")[1:] if ":no_entry:" in block]
    assert len(refusals) == 2
    assert all(re.search(r"ref `[0-9a-f]{10}`", block) for block in refusals), refusals
