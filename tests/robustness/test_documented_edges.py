"""Edges the docs promise, each tried for real: an interrupt, nesting past the limit, a log
file that is a symlink, a token command that reads stdin or never answers, an expired entry
in `cache list`, configure's replace of the config file."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from support.assertions import assert_fails
from support.constants import MFA_SERIAL, ROLE
from support.processes import wait_for_calls
from support.sandbox import Sandbox
from support.signals import default_signals

from credproc.core.provider import MAX_CHAIN_DEPTH
from credproc.core.request import Request
from credproc.errors import MfaError
from credproc.prompt import mfa


@pytest.mark.integration
def test_an_interrupt_is_exit_130_with_one_line(sandbox: Sandbox) -> None:
    sandbox.server.fault("AssumeRole", delay=30)
    process = sandbox.popen(*sandbox.role_args(), preexec_fn=default_signals)
    wait_for_calls(sandbox, "AssumeRole", 1)  # inside the STS call now

    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 130
    assert stdout == ""
    assert stderr == "credproc: error: interrupted\n"


@pytest.mark.integration
def test_nesting_deeper_than_the_limit_is_a_loop_error(sandbox: Sandbox) -> None:
    # level-0 is assumed from base; level-N from level-(N-1): one credproc per level.
    source = "base"
    for level in range(MAX_CHAIN_DEPTH + 1):
        role = f"{ROLE}-{level}"
        line = f"credproc --role-arn {role} --source-profile {source}"
        sandbox.add_profile(f"level-{level}", credential_process=line)
        source = f"level-{level}"

    result = sandbox.credproc("--role-arn", f"{ROLE}-top", "--source-profile", source, timeout=120)

    line = assert_fails(result, 7, f"more than {MAX_CHAIN_DEPTH} deep")
    assert "source_profile cycle" in line
    assert sandbox.server.calls("AssumeRole") == 0  # found before any call, at the innermost


def test_a_log_file_that_is_a_symlink_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep me\n")
    link = tmp_path / "credproc.core.log"
    link.symlink_to(target)

    result = sandbox.main(*sandbox.role_args(), "--log-file", str(link))

    assert_fails(result, 3, "cannot open the log file", str(link))
    assert target.read_text() == "keep me\n"
    assert sandbox.server.calls() == 0


@pytest.mark.integration
def test_a_token_command_reading_stdin_gets_end_of_file_not_a_hang(sandbox: Sandbox) -> None:
    command = 'read code; printf "%s\\n" "$code"'

    result = sandbox.credproc(
        *sandbox.role_args(),
        "--mfa-serial",
        MFA_SERIAL,
        "--mfa-token-command",
        command,
        timeout=20,
    )

    assert_fails(result, 8, "did not print a 6-digit code")


@pytest.mark.integration
def test_a_token_command_that_never_answers_is_given_up_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The limit is 120 s (a hardware key may wait for a touch); the same code path, shortened.
    monkeypatch.setattr(mfa, "TOKEN_COMMAND_TIMEOUT", 1)
    with pytest.raises(MfaError, match="gave no code within 1 s"):
        mfa.get_code(
            Request(
                role_arn=None,
                source_profile="base",
                role_session_name="",
                duration=900,
                mfa_serial=MFA_SERIAL,
                mfa_token_command="sleep 30",
                lock_timeout=5,
            )
        )


def test_cache_list_says_expired(sandbox: Sandbox) -> None:
    sandbox.main(*sandbox.role_args())
    sandbox.expire_entries(seconds_left=-30)

    table = sandbox.main("cache", "list")
    rows = sandbox.main("cache", "list", "--json").json_list()

    assert table.returncode == 0
    assert table.stdout.splitlines()[1].rstrip().endswith("expired")
    assert rows[0]["state"] == "expired" and rows[0]["left"] == "0m"


def test_configure_replaces_the_config_file_whole(sandbox: Sandbox) -> None:
    sandbox.config.chmod(0o640)
    before = os.stat(sandbox.config)

    result = sandbox.main("configure", "--name", "dev", *sandbox.role_args(), "--write")

    after = os.stat(sandbox.config)
    assert result.returncode == 0, result.stderr
    assert after.st_ino != before.st_ino  # a new file renamed into place, not edited in place
    assert after.st_mode & 0o777 == 0o640  # with the old file's mode
    assert [p.name for p in sandbox.config.parent.iterdir() if p.name.endswith(".tmp")] == []
    backups = [p for p in sandbox.config.parent.iterdir() if p.name.endswith(".bak")]
    assert len(backups) == 1 and backups[0].stat().st_mode & 0o777 == 0o600
