"""`credproc exec -- command`: the command runs with the role's variables, in credproc's place."""

from __future__ import annotations

import signal

import pytest
from support.assertions import assert_fails
from support.constants import ROLE
from support.environment import ENV_NAMES, PRINT_ENV, expected_env
from support.sandbox import Sandbox

pytestmark = pytest.mark.integration


def test_exec_gives_the_command_the_role_and_drops_the_profile(sandbox: Sandbox) -> None:
    document = sandbox.credproc(*sandbox.role_args()).json()
    parent = {"AWS_PROFILE": "dev", "AWS_DEFAULT_PROFILE": "dev", "KEEP_ME": "kept"}
    script = f'{PRINT_ENV} echo "profile=${{AWS_PROFILE-unset}},${{AWS_DEFAULT_PROFILE-unset}}"; '
    script += 'echo "$KEEP_ME"; exit 7'
    result = sandbox.credproc("exec", *sandbox.role_args(), "--", "sh", "-c", script, env=parent)

    assert result.returncode == 7
    lines = result.stdout.splitlines()
    assert lines[: len(ENV_NAMES)] == expected_env(document)
    assert lines[len(ENV_NAMES) :] == ["profile=unset,unset", "kept"]
    assert result.stderr == ""


def test_exec_becomes_the_command(sandbox: Sandbox) -> None:
    # The command replaces credproc: same pid, and a signal reaches it directly, so the
    # caller sees death by that signal, not an exit status credproc made up.
    child = sandbox.popen("exec", *sandbox.role_args(), "--", "sh", "-c", "echo $$; kill -TERM $$")
    stdout, _ = child.communicate(timeout=60)

    assert int(stdout) == child.pid
    assert child.returncode == -signal.SIGTERM


@pytest.mark.parametrize(
    ("command", "status", "reason"),
    [("no-such-command-xyz", 127, "No such file or directory"), ("/etc", 126, "Permission")],
)
def test_exec_of_a_command_that_cannot_run(
    sandbox: Sandbox, command: str, status: int, reason: str
) -> None:
    result = sandbox.credproc("exec", *sandbox.role_args(), "--", command, "arg")

    line = assert_fails(result, status)
    assert line.startswith(f"credproc: error: cannot run {command!r}: {reason}")


@pytest.mark.parametrize(
    "args", [["echo", "hi"], ["--"], ["--role-arn", ROLE, "--source-profile", "base"]]
)
def test_exec_needs_a_command_after_double_dash(sandbox: Sandbox, args: list[str]) -> None:
    result = sandbox.credproc("exec", *args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("credproc: error: exec needs")
    assert sandbox.server.calls() == 0


def test_exec_help_is_help(sandbox: Sandbox) -> None:
    result = sandbox.credproc("exec", "--help")

    assert result.returncode == 0
    assert result.stdout.startswith("usage: credproc exec")
