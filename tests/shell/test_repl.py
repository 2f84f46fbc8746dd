"""`offboard-bot shell` driven through stdin, as a newcomer (or a script) would."""

import subprocess
import sys

SCRIPT = """\
/offboard delete jdoe --reason left the company
press Request approval offboard_checklist=box-1
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


def _shell(tmp_path, script: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "shell", "--data-dir", str(tmp_path), *options], input=script,
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "OFFBOARD_LOG_LEVEL": "WARNING"})


DELETE_JDOE = """\
/offboard delete jdoe --reason left the company
press Request approval offboard_checklist=box-1
as bob
press Approve
users
quit
"""


def test_shell_on_the_simulated_8x8_deletes_through_its_api(tmp_path):
    result = _shell(tmp_path, DELETE_JDOE, "--console", "8x8")
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "simulated 8x8 Administration API at http://127.0.0.1:" in out
    assert "Plan: Delete jdoe" in out and "X Series X4, +14155550101" in out  # read from the 8x8 user object
    assert "`jdoe`: deleted successfully" in out
    users = out.split("bob> users", 1)[1]
    assert " msmith " in users and " jdoe " not in users  # the console's directory, read back from the simulator
    assert "Traceback" not in out + result.stderr


def test_shell_on_an_8x8_tenant_without_put_shows_the_manual_step(tmp_path):
    result = _shell(tmp_path, DELETE_JDOE, "--console", "8x8-without-put")
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "without PUT" in out
    assert "In 8x8 Admin Console, open *Users*" in out and "[ Re-check ] [ Stop here ]" in out
    assert "needs steps done by hand in the 8x8 console" in out
    assert "deleted successfully" not in out
    assert " jdoe " in out.split("bob> users", 1)[1]  # nothing was changed for it
    assert "Traceback" not in out + result.stderr


TAKEN_AND_APPROVED = """\
as alice
press Take it
press Request approval offboard_checklist=box-1
as bob
press Approve
quit
"""
WORKFLOW = """\
workflow request_offboarding leaver=jdoe action=delete reason="left the company" offboarding_process_complete=true
as carol
press Take it
""" + TAKEN_AND_APPROVED


def test_shell_runs_a_workflow_step_that_an_admin_takes_and_another_approves(tmp_path):
    result = _shell(tmp_path, WORKFLOW)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Workflow asks: Delete" in out and "[ Take it ]" in out
    assert "Only account admins" in out  # carol could not take it
    assert "`jdoe`: deleted successfully" in out
    assert "[workflow] step request_offboarding completed: request_id=OB-" in out
    assert "summary=jdoe: deleted successfully" in out
    assert "Traceback" not in out + result.stderr


LATER = """\
workflow request_offboarding leaver=jdoe action=delete reason=left date=yesterday
workflow request_offboarding leaver=jdoe action=delete reason=left date="in 10d"
""" + TAKEN_AND_APPROVED


def test_shell_reads_a_workflows_date_as_for_at_and_answers_a_step_that_runs_later(tmp_path):
    result = _shell(tmp_path, LATER)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "cannot read date=yesterday" in out
    assert "[workflow] step request_offboarding completed: request_id=OB-" in out
    assert "final_state=Approved, still in progress: runs " in out and "still_in_progress=True" in out
    assert "was answered now with what is known" in out
    assert "Traceback" not in out + result.stderr
