"""An aws login session under crashes and outages, through real processes.

A refresher of the session is frozen at each step of its refresh by tests/support/killpoint.py
(SIGSTOP) and killed there: before the Sign-In call (the session's lock held), after the
service answered (the refresh token rotated, nothing written), and between the answer's temp
file and its rename. The next process either uses the new session or says, in one line, to
sign in again; never every process failing for good. And Sign-In down: the live cached role
token is served, else exit 5. Every count is the stand-in's."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from support import entries
from support.assertions import assert_fails, assert_warns
from support.hostile import temp_files
from support.login import (
    PROFILE,
    ROLES,
    age_session,
    configure,
    session,
    session_path,
    write_session,
)
from support.processes import stopped_at
from support.sandbox import Sandbox
from support.signinserver import SignInStandIn

pytestmark = pytest.mark.integration

WAITERS = 3


def _kill(victim: subprocess.Popen[str]) -> None:
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL


def _key(result: Any) -> str:
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["AccessKeyId"])


def test_killed_holding_the_lock_before_the_call(
    sandbox: Sandbox, signin: SignInStandIn, reaped: list[subprocess.Popen[str]]
) -> None:
    identity = configure(sandbox, signin, seconds_left=120)
    victim = stopped_at(sandbox, "signin", "--profile", PROFILE)
    reaped.append(victim)
    waiters = sandbox.waiting(WAITERS, "--profile", PROFILE)
    reaped.extend(waiters)
    assert signin.count("CreateOAuth2Token") == 0

    _kill(victim)
    keys = set()
    for waiter in waiters:
        stdout, stderr = waiter.communicate(timeout=120)
        assert waiter.returncode == 0, stderr
        keys.add(json.loads(stdout)["AccessKeyId"])

    assert keys == {session(sandbox, identity)["accessToken"]["accessKeyId"]}
    assert signin.count("CreateOAuth2Token") == 1  # one waiter's; the others read its answer


def test_killed_after_the_answer_says_sign_in_again_once_and_a_sign_in_mends_it(
    sandbox: Sandbox, signin: SignInStandIn, reaped: list[subprocess.Popen[str]]
) -> None:
    identity = configure(sandbox, signin)
    role = _key(sandbox.credproc("--profile", "admin"))  # a role cached from the session
    age_session(sandbox, identity, 120)
    _age(sandbox, 120, lambda request: not request.get("role_arn"))
    spent = session(sandbox, identity)["refreshToken"]
    victim = stopped_at(sandbox, "answered", "--profile", PROFILE)
    reaped.append(victim)
    assert signin.count("CreateOAuth2Token") == 1  # rotated at the service...
    _kill(victim)
    assert session(sandbox, identity)["refreshToken"] == spent  # ...never written

    # The identity's own token still lives two minutes: served, the line naming the sign-in.
    served = sandbox.credproc("--profile", PROFILE)
    assert_warns(served, "TOKEN_EXPIRED", "sign in again: credproc login --profile console")
    assert signin.count("CreateOAuth2Token") == 2  # the spent token was tried once, refused
    _age(sandbox, 30, lambda request: not request.get("role_arn"))  # under the minimum now
    ended = sandbox.credproc("--profile", PROFILE)
    assert_fails(ended, 4, "TOKEN_EXPIRED", "sign in again: credproc login --profile console")
    assert _key(sandbox.credproc("--profile", "admin")) == role  # the cached role still serves

    _, document = signin.session_document()  # the person signs in again (aws login)
    write_session(sandbox, identity, document)
    assert _key(sandbox.credproc("--profile", PROFILE)) == document["accessToken"]["accessKeyId"]


def test_killed_before_the_rename_the_next_process_adopts_the_answer(
    sandbox: Sandbox, signin: SignInStandIn, reaped: list[subprocess.Popen[str]]
) -> None:
    identity = configure(sandbox, signin, seconds_left=120)
    victim = stopped_at(sandbox, "replace", "--profile", PROFILE)
    reaped.append(victim)
    directory = session_path(sandbox, identity).parent
    (temp,) = temp_files(directory)
    answer = json.loads(temp.read_text())
    _kill(victim)
    assert signin.count("CreateOAuth2Token") == 1

    adopted = _key(sandbox.credproc("--profile", PROFILE))
    assert adopted == answer["accessToken"]["accessKeyId"]
    assert session(sandbox, identity)["refreshToken"] == answer["refreshToken"]
    assert signin.count("CreateOAuth2Token") == 1  # no second call: its answer was there
    assert temp_files(directory) == []
    assert json.loads(session_path(sandbox, identity).read_text()) == answer


def _age(sandbox: Sandbox, seconds_left: float, which: Callable[[dict[str, Any]], bool]) -> None:
    """Make the cached entries ``which`` picks (by their request) expire in ``seconds_left``."""
    moment = datetime.now(timezone.utc) + timedelta(seconds=seconds_left)
    expiration = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    for path in sandbox.cache_dir.glob("*.json"):
        if which(entries.document(path)["request"]):
            entries.rewrite(
                path, lambda document: document["credentials"].update(Expiration=expiration)
            )


def test_an_outage_serves_the_live_role_token_else_exit_5(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    identity = configure(sandbox, signin)
    role = _key(sandbox.credproc("--profile", "admin"))
    document = session(sandbox, identity)
    moment = datetime.now(timezone.utc) - timedelta(seconds=10)
    document["accessToken"]["expiresAt"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    write_session(sandbox, identity, document)  # the identity's credentials: gone
    _age(sandbox, 30, lambda request: not request.get("role_arn"))
    _age(sandbox, 300, lambda request: request.get("role_arn") == ROLES["admin"])
    signin.fault("CreateOAuth2Token", status=503)

    served = sandbox.credproc("--profile", "admin")
    assert_warns(served, "AWS Sign-In failed CreateOAuth2Token", "serving the cached token")
    assert _key(served) == role
    assert signin.count("CreateOAuth2Token") == 3  # the bounded attempts of one refresh

    _age(sandbox, 30, lambda request: request.get("role_arn") == ROLES["admin"])
    failed = sandbox.credproc("--profile", "admin")
    assert_fails(failed, 5, "AWS Sign-In failed CreateOAuth2Token")
    assert_fails(sandbox.credproc("--profile", PROFILE), 5, "AWS Sign-In")
