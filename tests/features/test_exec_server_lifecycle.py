"""`credproc exec --server`: credproc stays the command's parent. Signals reach the command
once, its exit status (or the signal that killed it) is credproc's, nothing is left listening
afterwards, and a failure before the command starts is credproc's usual one line."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pexpect
import pytest
from support.assertions import assert_fails
from support.constants import BIN
from support.endpoint import CHILD_COMMAND, Served
from support.sandbox import Sandbox
from support.signals import default_signals

pytestmark = pytest.mark.integration

FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"]


def served_run(sandbox: Sandbox, *command: str) -> tuple[int, str, str]:
    # The command raises signals at itself: they must not arrive ignored (support/signals.py).
    args = ("exec", "--server", *sandbox.role_args(), "--", *command)
    result = sandbox.credproc(*args, preexec_fn=default_signals)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("status", [0, 1, 7, 255])
def test_the_exit_status_is_the_commands(sandbox: Sandbox, status: int) -> None:
    script = f"echo out; echo err >&2; exit {status}"
    assert served_run(sandbox, "sh", "-c", script) == (status, "out\n", "err\n")


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT", "SIGKILL", "SIGHUP", "SIGUSR1", "SIGQUIT"])
def test_credproc_dies_by_the_signal_that_killed_the_command(sandbox: Sandbox, name: str) -> None:
    returncode, stdout, stderr = served_run(sandbox, "sh", "-c", f"kill -{name[3:]} $$")

    assert returncode == -getattr(signal, name)
    assert (stdout, stderr) == ("", "")


def test_each_signal_is_forwarded_to_the_command_once(sandbox: Sandbox) -> None:
    with Served(sandbox, *sandbox.role_args()) as served:
        served.ask("env")  # the command is up, its handlers in place
        for name in FORWARDED:
            served.process.send_signal(getattr(signal, name))
            assert json.loads(served.line()) == {"signal": name}
        served.ask("env")  # any second delivery would have come before this answer
        served.send("die SIGTERM")
        result = served.finish("")

    assert served.signals == []
    assert result.returncode == -signal.SIGTERM
    assert result.stderr == ""


def test_a_signal_from_the_terminal_reaches_the_command_once(sandbox: Sandbox) -> None:
    # The terminal signals its whole foreground process group, credproc and the command alike:
    # credproc must not send the command a second one (terraform aborts on a second Ctrl-C).
    child = pexpect.spawn(
        str(BIN / "credproc"),
        ["exec", "--server", *sandbox.role_args(), "--", *CHILD_COMMAND],
        env=sandbox.env,
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=60,
    )
    try:
        child.sendline("env")
        child.expect_exact('"url": ')
        child.sendintr()  # Ctrl-C
        child.expect_exact('{"signal": "SIGINT"}')
        os.kill(child.pid, signal.SIGUSR1)  # sent by a process: forwarded, after any SIGINT
        child.expect_exact('{"signal": "SIGUSR1"}')
        assert '"SIGINT"' not in child.before
        child.setwinsize(40, 100)  # the terminal sends SIGWINCH
        child.expect_exact('{"signal": "SIGWINCH"}')
        os.kill(child.pid, signal.SIGUSR2)
        child.expect_exact('{"signal": "SIGUSR2"}')
        assert '"SIGWINCH"' not in child.before
        child.sendline("exit 3")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 3


def test_nothing_is_left_listening_when_the_command_ends(sandbox: Sandbox, tmp_path: Path) -> None:
    # The command leaves a process of its own behind: it must not keep the endpoint alive.
    pid_file = tmp_path / "grandchild"
    script = 'echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI"; '
    script += f"sleep 120 >/dev/null 2>&1 & echo $! > {pid_file}"
    with Served(sandbox, *sandbox.role_args(), command=["sh", "-c", script]) as served:
        url = urlsplit(served.line().strip())
        result = served.finish("")
    grandchild = int(pid_file.read_text())
    try:
        assert result.returncode == 0, result.stderr
        assert url.hostname == "127.0.0.1"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((url.hostname, url.port or 0), timeout=10).close()
        os.kill(grandchild, 0)  # still running: the endpoint closed all the same
    finally:
        os.kill(grandchild, signal.SIGKILL)


def test_the_command_is_reaped(sandbox: Sandbox) -> None:
    with Served(sandbox, *sandbox.role_args()) as served:
        command = served.ask("env")["pid"]
        assert Path(f"/proc/{command}").exists()
        assert served.finish().returncode == 0
    assert not Path(f"/proc/{command}").exists()  # credproc waited for it: no zombie


BEFORE_THE_COMMAND = {
    "bad value": (["--duration", "5"], 2, "--duration"),
    "unknown source profile": (["--source-profile", "nobody"], 3, "'nobody'"),
    "STS refuses": (["--source-profile", "base"], 4, "STS denied AssumeRole"),
}


@pytest.mark.parametrize("case", sorted(BEFORE_THE_COMMAND))
def test_a_failure_before_the_command_starts_is_credprocs_own(
    sandbox: Sandbox, tmp_path: Path, case: str
) -> None:
    args, status, words = BEFORE_THE_COMMAND[case]
    sandbox.server.fault("AssumeRole", status=403, code="AccessDenied")
    if "--source-profile" not in args:
        args = [*args, "--source-profile", "base"]
    marker = tmp_path / "ran"
    role = ["--role-arn", "arn:aws:iam::123456789012:role/dev", *args]
    result = sandbox.credproc("exec", "--server", *role, "--", "touch", str(marker))

    assert_fails(result, status, words)
    assert not marker.exists()
    assert sandbox.server.calls("AssumeRole") == (1 if status == 4 else 0)


@pytest.mark.parametrize(
    ("command", "status", "reason"),
    [("no-such-command-xyz", 127, "No such file or directory"), ("/etc", 126, "Permission")],
)
def test_a_command_that_cannot_run(
    sandbox: Sandbox, command: str, status: int, reason: str
) -> None:
    result = sandbox.credproc("exec", "--server", *sandbox.role_args(), "--", command)

    line = assert_fails(result, status)
    assert line.startswith(f"credproc: error: cannot run {command!r}: {reason}")


def test_help_names_the_server(sandbox: Sandbox) -> None:
    result = sandbox.credproc("exec", "--help")

    assert result.returncode == 0
    assert "--server" in result.stdout
