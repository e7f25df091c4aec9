"""The MFA prompt as AWS clients really run credproc: stdin is not the terminal (an SDK's pipe,
or /dev/null), stdout and stderr are captured, and only the controlling terminal reaches the
user. The prompt must be there, on /dev/tty, and nowhere else; N processes started together
from one terminal ask once."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pexpect
import pytest
from support.constants import BIN, MFA_SERIAL
from support.sandbox import Sandbox

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/alpha"
PROMPT = f"credproc: MFA code for {MFA_SERIAL}: "


def _as_a_client_runs_it(sandbox: Sandbox, script: str) -> pexpect.spawn:
    """``script`` under sh on a new terminal, which is the processes' controlling terminal."""
    return pexpect.spawn(
        "sh", ["-c", script], env=sandbox.env, cwd=str(sandbox.home), encoding="utf-8", timeout=60
    )


def _credproc_line(out: Path, err: Path) -> str:
    args = ["--role-arn", ROLE, "--source-profile", "base", "--mfa-serial", MFA_SERIAL]
    command = shlex.join([str(BIN / "credproc"), *args])
    return f"{command} </dev/null >{shlex.quote(str(out))} 2>{shlex.quote(str(err))}"


def test_the_prompt_is_on_the_terminal_not_on_stderr(sandbox: Sandbox, tmp_path: Path) -> None:
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    child = _as_a_client_runs_it(sandbox, _credproc_line(out, err))

    child.expect_exact(PROMPT)
    child.sendline("246810")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0
    assert err.read_text() == ""  # no prompt, no echo: stderr is the client's
    assert json.loads(out.read_text())["Version"] == 1  # stdout carries the JSON alone
    assert sandbox.server.requests("GetSessionToken")[0]["TokenCode"] == "246810"


def test_processes_started_together_ask_once(sandbox: Sandbox, tmp_path: Path) -> None:
    count = 4
    lines = [
        _credproc_line(tmp_path / f"out{i}", tmp_path / f"err{i}") + " &" for i in range(count)
    ]
    child = _as_a_client_runs_it(sandbox, "\n".join([*lines, "wait"]))

    child.expect_exact(PROMPT)
    child.sendline("135790")
    child.expect(pexpect.EOF)
    child.close()

    assert child.before.count("MFA code for") == 0  # the one prompt was consumed above
    outputs = [json.loads((tmp_path / f"out{i}").read_text()) for i in range(count)]
    assert len({document["AccessKeyId"] for document in outputs}) == 1
    assert all((tmp_path / f"err{i}").read_text() == "" for i in range(count))
    assert sandbox.server.calls("GetSessionToken") == 1
    assert sandbox.server.calls("AssumeRole") == 1
