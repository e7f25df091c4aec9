"""`credproc exec -- command`: the command runs with the role's variables, in credproc's place."""

from __future__ import annotations

import signal
from subprocess import PIPE

import pytest
from support.assertions import assert_fails
from support.environment import ENV_NAMES, PRINT_ENV, expected_env
from support.sandbox import Sandbox
from support.tools import require

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


@pytest.mark.parametrize("double_dash", [["--"], []])
@pytest.mark.parametrize("shell", ["bash", "sh"])
def test_exec_with_no_command_starts_the_users_shell(
    sandbox: Sandbox, double_dash: list[str], shell: str
) -> None:
    # The shell reads its commands from a pipe, as it would from a person at a terminal.
    document = sandbox.credproc(*sandbox.role_args()).json()
    env = {"SHELL": require(shell), "AWS_PROFILE": "dev"}
    script = f'{PRINT_ENV} echo "bash=${{BASH_VERSION:+yes}} profile=${{AWS_PROFILE-unset}}"\n'
    child = sandbox.popen("exec", *sandbox.role_args(), *double_dash, env=env, stdin=PIPE)
    stdout, stderr = child.communicate(script + "exit 5\n", timeout=60)

    assert child.returncode == 5, stderr
    lines = stdout.splitlines()
    assert lines[: len(ENV_NAMES)] == expected_env(document)
    assert lines[len(ENV_NAMES) :] == [f"bash={'yes' if shell == 'bash' else ''} profile=unset"]
    assert stderr == ""


@pytest.mark.parametrize("shell", [None, ""])
def test_exec_without_shell_variable_starts_sh(sandbox: Sandbox, shell: str | None) -> None:
    env = {"SHELL": shell} if shell is not None else {}
    sandbox.env.pop("SHELL", None)
    child = sandbox.popen("exec", *sandbox.role_args(), env=env, stdin=PIPE)
    stdout, stderr = child.communicate('echo "$0 $AWS_REGION"\n', timeout=60)

    assert (child.returncode, stdout, stderr) == (0, "/bin/sh eu-west-1\n", "")


def test_exec_with_a_shell_that_is_not_there(sandbox: Sandbox) -> None:
    result = sandbox.credproc("exec", *sandbox.role_args(), env={"SHELL": "/no/such/shell"})

    assert_fails(result, 127, "cannot run '/no/such/shell'")


def test_exec_with_a_command_but_no_double_dash_is_a_usage_error(sandbox: Sandbox) -> None:
    result = sandbox.credproc("exec", *sandbox.role_args(), "echo", "hi")

    assert_fails(result, 2, "unrecognized arguments: echo hi", "a command goes after --")
    assert sandbox.server.calls() == 0


def test_exec_help_is_help(sandbox: Sandbox) -> None:
    result = sandbox.credproc("exec", "--help")

    assert result.returncode == 0
    assert result.stdout.startswith(
        "usage: credproc exec [options] [--server] [-- COMMAND [ARG ...]]"
    )
    assert "starts your $SHELL (else /bin/sh)" in " ".join(result.stdout.split())
