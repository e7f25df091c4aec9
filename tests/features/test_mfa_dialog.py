"""--mfa-prompt: the MFA code from a dialog when the client gives credproc no terminal (an
IDE, a desktop app). zenity runs for real on an Xvfb display, and xdotool types the code.

Each run that may show a dialog has no controlling terminal (a new session), unless the test
is about the terminal; kdialog and osascript, which Debian's CI cannot run for real (KDE's
stack, macOS), are stand-ins that record how they were called.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from support.assertions import assert_fails
from support.constants import BIN, MFA_SERIAL
from support.display import Display, running_display
from support.processes import wait_all
from support.sandbox import Result, Sandbox
from support.tools import require

pytestmark = pytest.mark.integration

ROLE_A = "arn:aws:iam::123456789012:role/alpha_team"
TITLE = "credproc: MFA code"


@pytest.fixture(scope="module")
def display() -> Iterator[Display]:
    with running_display() as shown:
        yield shown


class Dialogs:
    """A directory put first on PATH whose ``zenity`` counts each dialog shown and records
    its arguments, then runs the real zenity."""

    def __init__(self, directory: Path) -> None:
        self.log = directory / "dialogs"
        self.bin = directory / "bin"
        self.bin.mkdir()
        real = require("zenity")
        self.stand_in("zenity", f'exec {real} "$@"')

    def stand_in(self, program: str, body: str) -> None:
        """``program`` on PATH: logs its arguments (NUL-separated, one run per line), then
        runs ``body``."""
        script = self.bin / program
        log = f"printf '%s\\0' \"$@\" >> '{self.log}'; echo >> '{self.log}'"
        script.write_text(f"#!/bin/sh\n{log}\n{body}\n")
        script.chmod(0o755)

    def shown(self) -> list[list[str]]:
        """Each run's arguments."""
        if not self.log.exists():
            return []
        runs = self.log.read_text().split("\0\n")
        return [run.split("\0") for run in runs if run]


@pytest.fixture
def dialogs(sandbox: Sandbox, display: Display, tmp_path: Path) -> Dialogs:
    found = Dialogs(tmp_path)
    sandbox.env["PATH"] = f"{found.bin}:{sandbox.env['PATH']}"
    sandbox.env["DISPLAY"] = display.name
    return found


def mfa_role(*extra: str) -> list[str]:
    return ["--role-arn", ROLE_A, "--source-profile", "base", "--mfa-serial", MFA_SERIAL, *extra]


def no_terminal(sandbox: Sandbox, *args: str) -> subprocess.Popen[str]:
    """credproc as an IDE starts it: no controlling terminal, stdin closed."""
    process: subprocess.Popen[str] = sandbox.popen(
        *args, stdin=subprocess.DEVNULL, start_new_session=True
    )
    return process


def test_one_dialog_for_parallel_processes_names_device_and_role(
    sandbox: Sandbox, display: Display, dialogs: Dialogs
) -> None:
    processes = [no_terminal(sandbox, *mfa_role()) for _ in range(3)]
    window = display.wait_for_window(TITLE)
    display.type_into(window, "135790")
    display.press(window, "Return")
    results = wait_all(processes)

    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    assert len({r.stdout for r in results}) == 1
    assert [r.stderr for r in results] == ["", "", ""]
    assert sandbox.server.calls("GetSessionToken") == 1
    assert sandbox.server.requests("GetSessionToken")[0]["TokenCode"] == "135790"
    [argv] = dialogs.shown()
    assert f"--title={TITLE}" in argv
    # The device and the role; the role's "_" doubled, zenity's way of showing one.
    assert f"--text=MFA code for {MFA_SERIAL}\nto assume {ROLE_A.replace('_', '__')}" in argv
    assert not any("135790" in word for word in argv)
    display.wait_until_gone(TITLE)

    # The MFA session is cached: another role asks nothing.
    other = sandbox.credproc("--role-arn", f"{ROLE_A}-2", *mfa_role()[2:])
    assert other.returncode == 0, other.stderr
    assert len(dialogs.shown()) == 1


def test_a_cancelled_dialog_is_exit_8_and_no_call(
    sandbox: Sandbox, display: Display, dialogs: Dialogs
) -> None:
    process = no_terminal(sandbox, *mfa_role())
    window = display.wait_for_window(TITLE)
    display.press(window, "Escape")
    [result] = wait_all([process])

    assert_fails(result, 8, "the MFA code dialog was cancelled")
    assert sandbox.server.calls() == 0
    assert len(dialogs.shown()) == 1


def test_an_unanswered_dialog_is_closed_after_the_lock_timeout(
    sandbox: Sandbox, display: Display, dialogs: Dialogs
) -> None:
    process = no_terminal(sandbox, *mfa_role("--lock-timeout", "2"))
    display.wait_for_window(TITLE)  # it was shown; nobody answers
    [result] = wait_all([process])

    assert_fails(result, 8, "no MFA code was entered within 2 s (--lock-timeout)")
    display.wait_until_gone(TITLE)  # killed, not left behind on the screen
    assert sandbox.server.calls() == 0


def test_a_code_that_is_not_six_digits_is_refused(
    sandbox: Sandbox, display: Display, dialogs: Dialogs
) -> None:
    process = no_terminal(sandbox, *mfa_role())
    window = display.wait_for_window(TITLE)
    display.type_into(window, "12345x")
    display.press(window, "Return")
    [result] = wait_all([process])

    line = assert_fails(result, 8, "exactly 6 digits")
    assert "12345x" not in line
    assert sandbox.server.calls() == 0


def test_the_profile_key_picks_the_dialog_over_a_terminal(
    sandbox: Sandbox, display: Display, dialogs: Dialogs
) -> None:
    sandbox.add_profile(
        "alpha",
        role_arn=ROLE_A,
        source_profile="base",
        mfa_serial=MFA_SERIAL,
        credproc_mfa_prompt="zenity",
    )
    child = pexpect.spawn(
        str(BIN / "credproc"),
        ["--profile", "alpha"],
        env=sandbox.env,
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=30,
    )
    window = display.wait_for_window(TITLE)
    display.type_into(window, "246802")
    display.press(window, "Return")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.before
    assert "MFA code for" not in child.before  # nothing asked on the terminal
    assert sandbox.server.requests("GetSessionToken")[0]["TokenCode"] == "246802"


def test_auto_prefers_the_terminal_when_there_is_one(
    sandbox: Sandbox, display: Display, dialogs: Dialogs
) -> None:
    child = pexpect.spawn(
        str(BIN / "credproc"),
        mfa_role(),
        env=sandbox.env,
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=30,
    )
    child.expect_exact(f"credproc: MFA code for {MFA_SERIAL}: ")
    child.sendline("975310")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.before
    assert dialogs.shown() == []


def run_without_terminal(sandbox: Sandbox, *args: str, env: dict[str, str]) -> Result:
    [result] = wait_all([sandbox.popen(*args, env=env, start_new_session=True)])
    return result


@pytest.mark.parametrize(
    ("program", "answer", "failure"),
    [
        ("kdialog", "echo 864209", None),
        ("kdialog", "exit 1", "the MFA code dialog was cancelled"),
        ("osascript", "echo 864209", None),
        ("osascript", "exit 1", "the MFA code dialog was cancelled"),
        ("osascript", "exit 3", "the osascript MFA code dialog failed (exit status 3)"),
    ],
)
def test_kdialog_and_osascript_are_asked_with_the_question(
    sandbox: Sandbox, tmp_path: Path, program: str, answer: str, failure: str | None
) -> None:
    stand_ins = Dialogs(tmp_path)
    stand_ins.stand_in(program, answer)
    env = {"PATH": f"{stand_ins.bin}:{sandbox.env['PATH']}", "DISPLAY": ":99"}
    result = run_without_terminal(
        sandbox, *mfa_role("--mfa-prompt", program, "--lock-timeout", "30"), env=env
    )

    if failure is not None:
        assert_fails(result, 8, failure)
        assert sandbox.server.calls() == 0
    else:
        assert result.returncode == 0, result.stderr
        assert sandbox.server.requests("GetSessionToken")[0]["TokenCode"] == "864209"
    [argv] = stand_ins.shown()
    question = f"MFA code for {MFA_SERIAL}\nto assume {ROLE_A}"
    if program == "kdialog":
        assert argv == ["--title", TITLE, "--inputbox", question]
    else:  # an AppleScript that takes the text as arguments: nothing to quote
        assert argv[-3:] == [question, TITLE, "30"]
        assert argv[:-3:2] == ["-e"] * ((len(argv) - 3) // 2)


@pytest.mark.parametrize(
    ("prompt", "env", "words"),
    [
        ("auto", {}, "nor a display with zenity or kdialog"),
        ("terminal", {"DISPLAY": ":99"}, "there is no terminal"),
        ("zenity", {}, "--mfa-prompt zenity needs a display"),
        ("kdialog", {"DISPLAY": ":99", "PATH": "/usr/bin:/bin"}, "kdialog is not installed"),
    ],
)
def test_no_way_to_ask_fails_at_once(
    sandbox: Sandbox, prompt: str, env: dict[str, str], words: str
) -> None:
    result = run_without_terminal(sandbox, *mfa_role("--mfa-prompt", prompt), env=env)

    assert_fails(result, 8, MFA_SERIAL if prompt in ("auto", "terminal") else "", words)
    assert sandbox.server.calls() == 0
