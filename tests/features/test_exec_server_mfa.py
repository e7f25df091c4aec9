"""`credproc exec --server` with an MFA device: a refresh that needs a new code while the command
runs asks for it as credproc always does, the token command or the terminal; and when the
command has taken the terminal for itself (an interactive shell), it says so at once instead
of freezing the endpoint. Every prompt here is on a pexpect terminal, never the developer's."""

from __future__ import annotations

from pathlib import Path

import pexpect
import pytest
from support.constants import BIN, MFA_SERIAL, ROLE
from support.endpoint import CHILD_COMMAND, Served
from support.mfa import TokenCommand
from support.sandbox import Sandbox
from support.tools import require

pytestmark = pytest.mark.integration

PROMPT = f"credproc: MFA code for {MFA_SERIAL}: "


def mfa_role(*extra: str) -> list[str]:
    return ["--role-arn", ROLE, "--source-profile", "base", "--mfa-serial", MFA_SERIAL, *extra]


def spawn(sandbox: Sandbox, *command: str) -> pexpect.spawn:
    return pexpect.spawn(
        str(BIN / "credproc"),
        ["exec", "--server", *mfa_role(), "--", *command],
        env={**sandbox.env, "PS1": "shell$ "},
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=60,
    )


def codes(sandbox: Sandbox) -> list[str]:
    return [request["TokenCode"] for request in sandbox.server.requests("GetSessionToken")]


def test_the_token_command_gives_a_new_code_while_the_command_runs(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    token = TokenCommand(tmp_path, code="246810")
    with Served(sandbox, *mfa_role("--mfa-token-command", str(token))) as served:
        first = served.ask("call fresh")
        assert token.runs() == 1
        sandbox.expire_entries(seconds_left=30)  # the role's token and the MFA session both
        second = served.ask("call fresh")
        result = served.finish()

    assert second["key"] != first["key"]
    assert token.runs() == 2
    assert codes(sandbox) == ["246810", "246810"]
    assert result.returncode == 0
    assert result.stderr == ""


def test_the_terminal_prompt_while_the_command_runs(sandbox: Sandbox) -> None:
    # The command shares credproc's process group, which owns the terminal: credproc asks there.
    child = spawn(sandbox, *CHILD_COMMAND)
    try:
        child.expect_exact(PROMPT)  # before the command starts
        child.sendline("111111")
        child.sendline("call fresh")
        child.expect(r'"key": "(\w+)"')
        first = child.match.group(1)
        sandbox.expire_entries(seconds_left=30)
        child.sendline("call fresh")
        child.expect_exact(PROMPT)  # the endpoint needs a new MFA session
        child.sendline("222222")
        child.expect(r'"key": "(\w+)"')
        second = child.match.group(1)
        child.sendline("exit 0")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)

    assert child.exitstatus == 0
    assert second != first
    assert codes(sandbox) == ["111111", "222222"]


def test_a_command_that_took_the_terminal_gets_a_clear_error_not_a_frozen_endpoint(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # An interactive shell puts itself in the foreground: reading the terminal then would stop
    # credproc by SIGTTIN (the endpoint with it) or fight the shell for each key.
    bash = require("bash")
    child = spawn(sandbox, bash, "--norc", "--noprofile", "-i")
    identity = 'aws sts get-caller-identity --query Arn --output text; echo "status=$?"'
    try:
        child.expect_exact(PROMPT)
        child.sendline("123456")
        child.expect_exact("shell$ ")
        sandbox.expire_entries(seconds_left=30)
        child.sendline(identity)
        child.expect_exact("the command run by credproc owns the terminal")
        child.expect_exact("status=255")
        child.expect_exact("shell$ ")
        # What the error says to do: the same request in another terminal caches a session.
        token = TokenCommand(tmp_path, code="654321")
        again = sandbox.credproc(*mfa_role("--mfa-token-command", str(token)))
        assert again.returncode == 0, again.stderr
        child.sendline(identity)
        child.expect(r"assumed-role/\S+\s+status=0")
        child.sendline("exit 0")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)

    assert child.exitstatus == 0
    assert codes(sandbox) == ["123456", "654321"]
