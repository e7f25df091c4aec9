"""A process that needs an ``aws login`` session and has none: ``--login auto`` starts one
sign-in that every waiting process shares (counted at the stand-in Sign-In service);
``--login never``, or nobody to ask, fails at once with the line naming ``credproc login``
and no network call; logout clears the cached credentials built on the session."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from support.assertions import assert_fails
from support.constants import BIN
from support.login import write_session
from support.loginsession import following_browser, session_path, sign_in_elsewhere
from support.processes import wait_all
from support.sandbox import Sandbox
from support.signinserver import CROSS_DEVICE, IDENTITY, SignInStandIn, running_signin
from support.sso import opened

pytestmark = pytest.mark.integration

DEPLOY = "arn:aws:iam::111111111111:role/deploy"
READ = "arn:aws:iam::111111111111:role/read"


@pytest.fixture
def console(sandbox: Sandbox) -> Iterator[SignInStandIn]:
    """The stand-in, a ``console`` profile that names its identity's session (no file yet),
    and two roles assumed from it."""
    with running_signin() as stand_in:
        sandbox.env.update(stand_in.env)
        sandbox.add_profile("console", login_session=IDENTITY, region="eu-west-1")
        sandbox.add_profile("deploy", role_arn=DEPLOY, source_profile="console")
        sandbox.add_profile("read", role_arn=READ, source_profile="console")
        yield stand_in


def test_thirty_processes_without_a_session_open_one_browser_and_sign_in_once(
    sandbox: Sandbox, console: SignInStandIn, tmp_path: Path
) -> None:
    browser, count = following_browser(tmp_path)
    processes = [
        sandbox.popen("--profile", name, env={"BROWSER": browser}, start_new_session=True)
        for _ in range(10)
        for name in ("console", "deploy", "read")
    ]
    results = wait_all(processes, timeout=120)

    assert [r.returncode for r in results] == [0] * 30, [r.stderr for r in results if r.returncode][
        :1
    ]
    assert all(r.stdout.count("\n") == 1 and '"Version":1' in r.stdout for r in results)
    assert len(opened(count)) == 1  # one browser for thirty processes
    assert console.count("Authorize") == 1
    assert console.count("CreateOAuth2Token:authorization_code") == 1
    assert console.count("CreateOAuth2Token") == 1  # and no refresh: the session was fresh
    assert sandbox.server.calls("AssumeRole") == 2  # one per role
    assert session_path(sandbox).exists()


@pytest.mark.parametrize("how", ["flag", "env", "profile key"])
def test_login_never_fails_at_once_with_no_network_call(
    sandbox: Sandbox, console: SignInStandIn, tmp_path: Path, how: str
) -> None:
    browser, count = following_browser(tmp_path)
    env = {"BROWSER": browser}
    args = ["--profile", "deploy"]
    if how == "flag":
        args += ["--login", "never"]
    elif how == "env":
        env["CREDPROC_LOGIN"] = "never"
    else:
        # In the profile that is run (a role's own options decide, as for every option).
        sandbox.write_config(
            sandbox.config.read_text().replace(
                f"role_arn = {DEPLOY}\n", f"role_arn = {DEPLOY}\ncredproc_login = never\n"
            )
        )
    result = sandbox.credproc(*args, env=env)
    assert_fails(result, 4, "credproc login --profile console", "--login never, so no sign-in")
    assert opened(count) == [] and sum(console.calls.values()) == 0
    assert sandbox.server.calls("AssumeRole") == 0


def test_nobody_to_ask_fails_at_once_naming_the_login(
    sandbox: Sandbox, console: SignInStandIn
) -> None:
    process = sandbox.popen("--profile", "console", start_new_session=True)  # no tty, no BROWSER
    [result] = wait_all([process])
    assert_fails(
        result, 4, "no BROWSER, no display, no terminal", "credproc login --profile console"
    )
    assert sum(console.calls.values()) == 0


def test_a_bad_login_value_is_a_usage_error(sandbox: Sandbox, console: SignInStandIn) -> None:
    result = sandbox.credproc("--profile", "console", "--login", "sometimes")
    assert_fails(result, 2, "--login 'sometimes' is not one of auto, never")
    assert sum(console.calls.values()) == 0


def test_logout_clears_the_cached_credentials_built_on_the_session(
    sandbox: Sandbox, console: SignInStandIn, tmp_path: Path
) -> None:
    browser, _ = following_browser(tmp_path)
    for name in ("console", "deploy", "read"):
        result = sandbox.credproc("--profile", name, env={"BROWSER": browser})
        assert result.returncode == 0, result.stderr
    listed = sandbox.credproc("cache", "list", "--json")
    assert len(listed.json_list()) >= 3, listed.stdout

    result = sandbox.credproc("logout", "--profile", "console")
    assert result.returncode == 0, result.stderr
    assert "removed its session file, and cleared 3 cached role credentials" in result.stderr
    assert not session_path(sandbox).exists()
    assert sandbox.credproc("cache", "list", "--json").json_list() == []

    # The next process signs in again (auto), once.
    again = sandbox.credproc("--profile", "deploy", env={"BROWSER": browser})
    assert again.returncode == 0, again.stderr
    assert console.count("CreateOAuth2Token:authorization_code") == 2


def test_an_ended_session_is_signed_in_again_once_for_every_waiting_process(
    sandbox: Sandbox, console: SignInStandIn, tmp_path: Path
) -> None:
    identity, document = console.session_document(seconds_left=120)  # due for a refresh
    write_session(sandbox, identity, document)
    console.change_password()  # the refresh will say USER_CREDENTIALS_CHANGED
    browser, count = following_browser(tmp_path)
    processes = [
        sandbox.popen("--profile", name, env={"BROWSER": browser}, start_new_session=True)
        for _ in range(5)
        for name in ("console", "deploy", "read")
    ]
    results = wait_all(processes, timeout=120)

    failures = [r.stderr for r in results if r.returncode]
    assert failures == [], failures[:1]
    assert console.count("CreateOAuth2Token:refresh_token") == 1  # told: the session ended
    assert len(opened(count)) == 1 and console.count("Authorize") == 1
    assert console.count("CreateOAuth2Token:authorization_code") == 1
    assert (
        json.loads(session_path(sandbox).read_text())["refreshToken"] != (document["refreshToken"])
    )


def test_an_ended_session_with_login_never_gives_the_services_reason(
    sandbox: Sandbox, console: SignInStandIn, tmp_path: Path
) -> None:
    identity, document = console.session_document(seconds_left=120)
    write_session(sandbox, identity, document)
    console.revoke()
    browser, count = following_browser(tmp_path)
    result = sandbox.credproc("--profile", "deploy", "--login", "never", env={"BROWSER": browser})
    assert_fails(result, 4, "TOKEN_EXPIRED", "credproc login --profile console", "--login never")
    assert opened(count) == [] and console.count("Authorize") == 0


def test_with_no_browser_a_process_asks_on_its_terminal_for_the_code(
    sandbox: Sandbox, console: SignInStandIn, tmp_path: Path
) -> None:
    out, err = tmp_path / "out", tmp_path / "err"
    # As a client runs it: stdin not the terminal, stdout and stderr captured; the terminal
    # (no BROWSER, no display) is the only way to the person.
    line = shlex.join([str(BIN / "credproc"), "--profile", "deploy"])
    line += f" </dev/null >{shlex.quote(str(out))} 2>{shlex.quote(str(err))}"
    child = pexpect.spawn(
        "sh", ["-c", line], env=sandbox.env, cwd=str(sandbox.home), encoding="utf-8", timeout=60
    )
    child.expect_exact("paste the code it shows here: ")
    landed, code = sign_in_elsewhere(child.before)
    assert landed.startswith(f"{console.url}/v1/sessions/confirmation?")
    child.sendline(code)
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, err.read_text()
    assert err.read_text() == ""  # the link and the prompt went to the terminal alone
    assert json.loads(out.read_text())["Version"] == 1
    assert console.count("CreateOAuth2Token:authorization_code") == 1
    assert json.loads(session_path(sandbox).read_text())["clientId"] == CROSS_DEVICE


def test_processes_waiting_on_a_refused_sign_in_fail_with_it_and_the_next_one_retries(
    sandbox: Sandbox, console: SignInStandIn, tmp_path: Path
) -> None:
    browser, count = following_browser(tmp_path)
    console.auto_approve = False
    env = {"BROWSER": browser}
    first = sandbox.popen("--profile", "deploy", env=env, start_new_session=True)
    console.wait_for_sign_in(1)  # the sign-in page is open, waiting for the person
    waiting = sandbox.waiting(4, "--profile", "read")  # queued behind it on the session's lock
    console.deny_browser()
    results = wait_all([first, *waiting])

    for result in results:
        assert_fails(result, 4, "refused or abandoned (access_denied)")
    assert len(opened(count)) == 1  # the waiters opened no tab of their own
    assert console.count("CreateOAuth2Token") == 0

    console.auto_approve = True
    retry = sandbox.run(["setsid", str(BIN / "credproc"), "--profile", "read"], env=env)
    assert retry.returncode == 0, retry.stderr
    assert len(opened(count)) == 2
    assert console.count("CreateOAuth2Token:authorization_code") == 1


def test_a_sign_in_as_another_identity_is_not_taken_for_the_profiles(
    sandbox: Sandbox, console: SignInStandIn, tmp_path: Path
) -> None:
    other = "arn:aws:iam::222222222222:user/someone-else"
    console.identity = other  # the person signs in with another console account
    browser, count = following_browser(tmp_path)
    result = sandbox.run(
        ["setsid", str(BIN / "credproc"), "--profile", "console"], env={"BROWSER": browser}
    )
    assert_fails(
        result,
        4,
        f"signed in as {other}, but profile 'console' uses {IDENTITY}",
        "credproc login --profile console",
    )
    assert len(opened(count)) == 1
    assert not session_path(sandbox).exists() and not session_path(sandbox, other).exists()
    assert f"login_session = {IDENTITY}" in sandbox.config.read_text()  # the person's to change


def test_a_process_outside_the_terminals_foreground_never_reads_it(
    sandbox: Sandbox, console: SignInStandIn, tmp_path: Path
) -> None:
    out, err = tmp_path / "out", tmp_path / "err"
    # Its own process group on the terminal, not the foreground one: the shell of
    # exec --server, or a job in the background, owns what is typed.
    program = (
        "import os, subprocess, sys\n"
        f"with open({str(out)!r}, 'w') as out, open({str(err)!r}, 'w') as err:\n"
        "    done = subprocess.run(\n"
        f"        [{str(BIN / 'credproc')!r}, '--profile', 'deploy'],\n"
        "        stdin=subprocess.DEVNULL, stdout=out, stderr=err, preexec_fn=os.setpgrp\n"
        "    )\n"
        "sys.exit(done.returncode)\n"
    )
    child = pexpect.spawn(
        str(BIN / "python"),
        ["-c", program],
        env=sandbox.env,
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=60,
    )
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 4
    assert "the terminal belongs to another command" in err.read_text()
    assert out.read_text() == ""
    assert console.count("Authorize") == 0 and console.count("CreateOAuth2Token") == 0


def test_doctor_never_starts_a_sign_in(
    sandbox: Sandbox, console: SignInStandIn, tmp_path: Path
) -> None:
    identity, document = console.session_document(seconds_left=120)  # due for a refresh
    write_session(sandbox, identity, document)
    console.revoke()  # the renewal will say TOKEN_EXPIRED
    browser, count = following_browser(tmp_path)
    result = sandbox.credproc("doctor", "deploy", env={"BROWSER": browser})
    assert result.returncode != 0
    assert "credproc login --profile console" in result.stdout + result.stderr
    assert opened(count) == [] and console.count("Authorize") == 0


def test_waiters_wait_for_a_sign_in_past_their_lock_timeout(
    sandbox: Sandbox, console: SignInStandIn, tmp_path: Path
) -> None:
    browser, count = following_browser(tmp_path)
    console.auto_approve = False
    env = {"BROWSER": browser}
    signing_in = sandbox.popen("--profile", "console", env=env, start_new_session=True)
    console.wait_for_sign_in(1)
    waiters = [
        sandbox.popen("--profile", p, "--lock-timeout", "1", env=env, start_new_session=True)
        for p in ("deploy", "read")
    ]
    for waiter in waiters:  # past their lock timeout: still waiting for the person
        with pytest.raises(subprocess.TimeoutExpired):
            waiter.wait(timeout=4)
    console.approve()

    results = wait_all([signing_in, *waiters], timeout=120)
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    assert len(opened(count)) == 1
    assert console.count("CreateOAuth2Token:authorization_code") == 1
