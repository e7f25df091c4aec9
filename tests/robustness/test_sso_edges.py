"""SSO where new users found it wrong (issue 28): a token file at 0644, a logout that must say
what it did and remove what `aws sso logout` removes, a client registration the service no
longer knows, waiters for a person's sign-in, and messages that name the service. Counted at
the stand-in (tests/support/ssoserver.py); the AWS CLI's role cache is written by botocore's
own SSO provider."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.assertions import assert_fails
from support.constants import BIN
from support.processes import wait_all
from support.sandbox import Result, Sandbox
from support.sso import (
    CHROMIUM,
    age_token,
    chromium_browser,
    counting_browser,
    is_private,
    opened,
    token,
    token_path,
)
from support.ssoserver import SsoStandIn
from support.tools import require

pytestmark = pytest.mark.integration


def _login(sandbox: Sandbox, browser: str) -> None:
    login = sandbox.run(
        ["setsid", str(BIN / "credproc"), "sso", "login", "--profile", "dev-sso"],
        env={"BROWSER": browser},
    )
    assert login.returncode == 0, login.stderr


def _loosen(path: Path) -> None:
    """What some tools and copies do: the same token, readable by all (0644)."""
    path.chmod(0o644)


def test_a_token_at_0644_is_used_said_once_and_shown_as_it_is(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, count = counting_browser(tmp_path, sso)
    _login(sandbox, browser)
    path = token_path(sandbox)
    _loosen(path)

    role = sandbox.credproc("--profile", "dev-sso", "--sso-login", "never")
    assert role.returncode == 0, role.stderr
    assert role.json()["AccessKeyId"].startswith("ASIA")
    (line,) = role.stderr.splitlines()  # once, though the token was read twice
    assert f"chmod 600 {path}" in line and "mode 644" in line
    listed = sandbox.credproc("cache", "list", "--json").json_list()
    (session,) = [row for row in listed if row["role"] == "SSO session corp"]
    assert session["state"] == "fresh"
    doctor = sandbox.credproc("doctor", "dev-sso")
    (warned,) = [x for x in doctor.stdout.splitlines() if "sso token file" in x]
    assert warned.startswith("warn") and f"chmod 600 {path}" in doctor.stdout
    assert len(opened(count)) == 1  # no second sign-in


def test_sso_login_replaces_a_0644_token_at_0600(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, count = counting_browser(tmp_path, sso)
    _login(sandbox, browser)
    before = token(sandbox)["accessToken"]
    _loosen(token_path(sandbox))

    login = sandbox.run(
        ["setsid", str(BIN / "credproc"), "sso", "login", "--profile", "dev-sso"],
        env={"BROWSER": browser},
    )

    assert login.returncode == 0, login.stderr
    assert "chmod" not in login.stderr  # nothing to do: the login made it 0600
    assert is_private(token_path(sandbox))
    assert token(sandbox)["accessToken"] != before
    assert len(opened(count)) == 2


@pytest.mark.parametrize("kind", ["symlink", "not a token", "another user's"])
def test_sso_login_refuses_only_a_truly_foreign_file(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path, kind: str
) -> None:
    browser, count = counting_browser(tmp_path, sso)
    path = token_path(sandbox)
    path.parent.mkdir(parents=True)
    target = tmp_path / "elsewhere.json"
    target.write_text('{"accessToken": "x", "expiresAt": "2030-01-01T00:00:00Z"}')
    if kind == "symlink":
        path.symlink_to(target)
    elif kind == "another user's":
        if os.geteuid() != 0:
            pytest.skip("giving a file to another user takes root")
        path.write_text(target.read_text())
        path.chmod(0o600)
        os.chown(path, 65534, 65534)
    else:
        path.write_text('["a list"]')
        path.chmod(0o644)
    result = sandbox.run(
        ["setsid", str(BIN / "credproc"), "sso", "login", "--profile", "dev-sso"],
        env={"BROWSER": browser},
    )
    why = {
        "symlink": "symlink",
        "another user's": "belongs to another user",
        "not a token": "not an SSO token file",
    }[kind]
    assert_fails(result, 3, str(path), why)
    assert opened(count) == []  # refused before anyone was asked


def _cli_cached_role(sandbox: Sandbox, profile: str) -> Result:
    """The AWS CLI v2's cache of an SSO role: botocore's own SSO provider with a JSONFileCache
    on ~/.aws/cli/cache, as the CLI v2 sets it up, run as the sandbox's user."""
    script = (
        "import os, botocore.session\n"
        "from botocore.credentials import JSONFileCache\n"
        f"s = botocore.session.Session(profile={profile!r})\n"
        "p = s.get_component('credential_provider').get_provider('sso')\n"
        "p.cache = JSONFileCache(os.path.expanduser('~/.aws/cli/cache'))\n"
        "print(p.load().get_frozen_credentials().access_key)\n"
    )
    return sandbox.run([sys.executable, "-c", script])


def test_logout_of_a_0644_token_reaches_the_portal_and_removes_the_cli_role_cache(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, _ = counting_browser(tmp_path, sso)
    _login(sandbox, browser)
    assert _cli_cached_role(sandbox, "dev-sso").returncode == 0
    assert _cli_cached_role(sandbox, "prod-sso").returncode == 0
    cli_cache = sandbox.home / ".aws" / "cli" / "cache"
    other = cli_cache / "assumed-role.json"  # not SSO: aws sso logout leaves it too
    other.write_text('{"Credentials": {}}')
    other.chmod(0o600)
    assert len(list(cli_cache.glob("*.json"))) == 3
    _loosen(token_path(sandbox))

    result = sandbox.credproc("sso", "logout", "--sso-session", "corp")

    assert result.returncode == 0, result.stderr
    (said,) = result.stderr.splitlines()  # no advice to chmod a file it removes
    assert "the IAM Identity Center portal ended the session (Logout)" in said
    assert "removed 1 token file" in said
    assert "2 cached role credentials of the AWS CLI's" in said
    assert sso.count("Logout") == 1 and sso.access_tokens == {}
    assert not token_path(sandbox).exists()
    assert list(cli_cache.glob("*.json")) == [other]
    # botocore's own SSO profile, with the CLI v2's cache, no longer works past the logout.
    assert _cli_cached_role(sandbox, "dev-sso").returncode != 0


def test_logout_with_no_token_says_no_logout_was_sent(sandbox: Sandbox, sso: SsoStandIn) -> None:
    result = sandbox.credproc("sso", "logout", "--sso-session", "corp")
    assert result.returncode == 0, result.stderr
    assert "no token of it was stored here, so no Logout was sent" in result.stderr
    assert sso.count("Logout") == 0


@pytest.mark.parametrize("kind", ["counting", "chromium"])
def test_a_registration_the_service_forgot_is_replaced_before_the_browser_opens(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path, kind: str
) -> None:
    if kind == "chromium":
        require(str(CHROMIUM), "chromium")
        browser, count = chromium_browser(tmp_path)  # a real browser at the authorize page
    else:
        browser, count = counting_browser(tmp_path, sso)
    _login(sandbox, browser)
    with sso.lock:
        sso.clients.clear()  # the service no longer knows the saved registration
    age_token(sandbox, -60)

    started = time.monotonic()
    result = sandbox.credproc("--profile", "dev-sso", env={"BROWSER": browser})

    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    assert sso.count("RegisterClient") == 2
    assert sso.count("Authorize") == 2  # the first login's and this one's: none with the dead id
    assert len(opened(count)) == 2
    assert token(sandbox)["clientId"] in sso.clients


def test_waiters_wait_for_a_sign_in_past_their_lock_timeout(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, count = counting_browser(tmp_path, sso)
    sso.auto_approve = False
    env = {"BROWSER": browser}
    signing_in = sandbox.popen("--profile", "dev-sso", env=env, start_new_session=True)
    sso.wait_for_sign_in(1)
    waiters = [
        sandbox.popen("--profile", p, "--lock-timeout", "1", env=env, start_new_session=True)
        for p in ("dev-sso", "read-sso")
    ]
    for waiter in waiters:  # past their lock timeout: still waiting for the person
        with pytest.raises(subprocess.TimeoutExpired):
            waiter.wait(timeout=4)
    sso.approve()

    results = wait_all([signing_in, *waiters])
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    assert len(opened(count)) == 1
    assert sso.count("GetRoleCredentials") == 2  # one per role


def test_a_lock_timeout_during_a_sign_in_names_the_sign_in(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, _ = counting_browser(tmp_path, sso)
    sso.auto_approve = False
    env = {"BROWSER": browser, "CREDPROC_LOCK_TIMEOUT": "1"}
    # An announced sign-in that ends at once: the waiter's grace is all it waits.
    signing_in = sandbox.popen("--profile", "dev-sso", env={**env}, start_new_session=True)
    sso.wait_for_sign_in(1)
    note = next(sandbox.cache_dir.glob("*.lock.note"))
    document = json.loads(note.read_text())
    document["until"] = time.time() - 29  # the flow's time, and the grace, all but over
    note.write_text(json.dumps(document))
    os.chmod(note, 0o600)

    waiter = sandbox.credproc("--profile", "dev-sso", env=env)

    assert_fails(waiter, 6, "has been signing in to SSO session 'corp'")
    sso.approve()
    wait_all([signing_in])


def test_an_sso_role_in_backoff_names_the_portal(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, _ = counting_browser(tmp_path, sso)
    _login(sandbox, browser)
    assert sandbox.credproc("--profile", "dev-sso").returncode == 0
    sandbox.expire_entries(300)
    sso.fault("GetRoleCredentials", status=503)
    first = sandbox.credproc("--profile", "dev-sso")
    assert first.returncode == 0, first.stderr

    second = sandbox.credproc("--profile", "dev-sso")

    assert second.returncode == 0, second.stderr
    assert "the IAM Identity Center portal failed 1 refresh(es) in a row" in second.stderr
    assert "STS" not in second.stderr
