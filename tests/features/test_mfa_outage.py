"""Ask a person once: during an STS outage with no cached MFA session, a code entered for a
refresh that failed is not asked for again on every run. Runs inside the backoff fail at once
(exit 5) without a prompt; the first run after it asks again; clearing the role asks now.

Prompts are counted where a person would see them: runs of the token command, and the prompt
on a real controlling terminal (pexpect). STS calls are counted at the server."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pexpect
import pytest
from support.assertions import assert_fails
from support.constants import BIN, MFA_SERIAL
from support.mfa import TokenCommand
from support.processes import wait_all, wait_for_calls
from support.sandbox import Sandbox

from credproc.aws.boto import MAX_ATTEMPTS
from credproc.core.cache import FAILURE_SUFFIX

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/alpha"
PROMPT = f"credproc: MFA code for {MFA_SERIAL}: "


def _args(token: TokenCommand | None = None) -> list[str]:
    args = ["--role-arn", ROLE, "--source-profile", "base", "--mfa-serial", MFA_SERIAL]
    return [*args, "--mfa-token-command", str(token)] if token else args


def _outage(sandbox: Sandbox, delay: float = 0) -> None:
    sandbox.server.fault("GetSessionToken", status=400, code="Throttling", delay=delay)


def _failure_record(sandbox: Sandbox) -> Path:
    [record] = sandbox.cache_dir.glob(f"*{FAILURE_SUFFIX}")
    return record


def _end_backoff(sandbox: Sandbox) -> None:
    """As if the backoff period had passed."""
    record = _failure_record(sandbox)
    document = json.loads(record.read_text())
    document["backoff"]["retry_after"] = 0
    record.write_text(json.dumps(document))


def test_a_code_lost_to_an_outage_is_not_asked_for_again(sandbox: Sandbox, tmp_path: Path) -> None:
    token = TokenCommand(tmp_path)
    _outage(sandbox)

    first = sandbox.credproc(*_args(token))
    assert_fails(first, 5, "throttling")
    assert token.runs() == 1
    assert sandbox.server.calls("GetSessionToken") == MAX_ATTEMPTS

    later = [sandbox.credproc(*_args(token)) for _ in range(5)]

    for result in later:
        assert_fails(result, 5, "not asking for another", MFA_SERIAL)
    assert token.runs() == 1  # nobody was asked again
    # Nor STS tried: failing at once, not after a retry budget (counted at the server, not
    # timed: five process starts take what the machine gives them).
    assert sandbox.server.calls("GetSessionToken") == MAX_ATTEMPTS
    assert sandbox.server.calls("AssumeRole") == 0
    assert _failure_record(sandbox).stat().st_mode & 0o777 == 0o600


def test_after_the_backoff_one_run_asks_again_and_a_success_forgets_the_failures(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    token = TokenCommand(tmp_path)
    _outage(sandbox)
    sandbox.credproc(*_args(token))
    _end_backoff(sandbox)

    assert_fails(sandbox.credproc(*_args(token)), 5, "throttling")  # tries, fails again
    assert token.runs() == 2
    record = json.loads(_failure_record(sandbox).read_text())
    assert record["backoff"]["failures"] == 2  # a longer backoff
    assert "SecretAccessKey" not in record and "credentials" not in record

    sandbox.server.clear_faults()
    _end_backoff(sandbox)
    result = sandbox.credproc(*_args(token))

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert token.runs() == 3
    assert not list(sandbox.cache_dir.glob(f"*{FAILURE_SUFFIX}"))


def test_clearing_the_role_asks_now(sandbox: Sandbox, tmp_path: Path) -> None:
    token = TokenCommand(tmp_path)
    _outage(sandbox)
    sandbox.credproc(*_args(token))
    sandbox.server.clear_faults()

    cleared = sandbox.credproc("cache", "clear", *_args())
    result = sandbox.credproc(*_args(token))

    assert cleared.returncode == 0, cleared.stderr
    assert result.returncode == 0, result.stderr
    assert token.runs() == 2


def test_clearing_everything_lifts_the_backoff_too(sandbox: Sandbox, tmp_path: Path) -> None:
    token = TokenCommand(tmp_path)
    _outage(sandbox)
    sandbox.credproc(*_args(token))
    assert _failure_record(sandbox).exists()

    cleared = sandbox.credproc("cache", "clear", "--all")

    assert cleared.returncode == 0, cleared.stderr
    assert not list(sandbox.cache_dir.glob(f"*{FAILURE_SUFFIX}"))


def test_processes_waiting_for_the_one_that_asked_do_not_ask(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    token = TokenCommand(tmp_path)
    _outage(sandbox, delay=1)  # the first holds the MFA session's lock through its retries
    first = sandbox.popen(*_args(token), "--lock-timeout", "120", stdin=subprocess.DEVNULL)
    wait_for_calls(sandbox, "GetSessionToken", 1)  # it holds the locks now
    waiters = sandbox.waiting(3, *_args(token))

    results = wait_all([first, *waiters])

    for result in results:
        assert result.returncode == 5, result.stderr
        assert result.stdout == ""
    assert token.runs() == 1
    assert sandbox.server.calls("GetSessionToken") == MAX_ATTEMPTS


def test_the_terminal_prompt_is_shown_once(sandbox: Sandbox, tmp_path: Path) -> None:
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    line = shlex.join([str(BIN / "credproc"), *_args()])
    script = f"{line} </dev/null >{shlex.quote(str(out))} 2>{shlex.quote(str(err))}"
    _outage(sandbox)

    def run() -> pexpect.spawn:
        return pexpect.spawn(
            "sh",
            ["-c", script],
            env=sandbox.env,
            cwd=str(sandbox.home),
            encoding="utf-8",
            timeout=60,
        )

    asked = run()
    asked.expect_exact(PROMPT)
    asked.sendline("246810")
    asked.expect(pexpect.EOF)
    asked.close()
    assert asked.exitstatus == 5
    assert "throttling" in err.read_text()

    again = run()
    again.expect(pexpect.EOF)  # no prompt: it ends without asking
    again.close()

    assert again.exitstatus == 5
    assert "MFA code" not in (again.before or "")
    assert "not asking for another" in err.read_text()
    assert out.read_text() == ""
    assert sandbox.server.calls("GetSessionToken") == MAX_ATTEMPTS
