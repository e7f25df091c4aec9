"""SSO through credproc: the logins (a real browser with PKCE, the device code), the role's
credentials through credproc's cache, SSO as a source, and the token shared with botocore and
the aws CLI both ways. Every count is taken at the stand-in (tests/support/ssoserver.py)."""

from __future__ import annotations

import json
import stat
import time
import urllib.request
from pathlib import Path

import pytest
from support.assertions import assert_fails
from support.constants import BIN, ROLE
from support.processes import wait_all
from support.sandbox import Sandbox
from support.sso import (
    CHROMIUM,
    START_URL,
    age_token,
    chromium_browser,
    counting_browser,
    is_private,
    opened,
    token,
    token_path,
)
from support.ssoserver import DEVICE_GRANT, SsoStandIn
from support.tools import require

pytestmark = pytest.mark.integration

CLI_KEYS = {
    "startUrl",
    "region",
    "accessToken",
    "expiresAt",
    "clientId",
    "clientSecret",
    "registrationExpiresAt",
    "refreshToken",
}


def _signed_in_with(sandbox: Sandbox, sso: SsoStandIn, browser: str) -> None:
    login = sandbox.run(
        ["setsid", str(BIN / "credproc"), "sso", "login", "--profile", "dev-sso"],
        env={"BROWSER": browser},
    )
    assert login.returncode == 0, login.stderr
    assert login.stdout == ""
    assert "signed in to SSO session 'corp'" in login.stderr


def test_pkce_login_in_a_real_browser_then_role_credentials_from_the_cache(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    require(str(CHROMIUM), "chromium")
    browser, count = chromium_browser(tmp_path)
    _signed_in_with(sandbox, sso, browser)

    [url] = opened(count)
    assert url.startswith(f"{sso.url}/authorize?") and "code_challenge_method=S256" in url
    assert sso.count("Authorize") == 1  # Chromium loaded the page, and followed its redirect
    assert sso.count("CreateToken:authorization_code") == 1
    document = token(sandbox)
    assert set(document) == CLI_KEYS and document["startUrl"] == START_URL
    assert document["expiresAt"].endswith("Z") and len(document["expiresAt"]) == 20
    assert is_private(token_path(sandbox))

    first = sandbox.credproc("--profile", "dev-sso")
    second = sandbox.credproc("--profile", "dev-sso")
    assert first.returncode == 0 and second.returncode == 0, first.stderr
    assert first.json() == second.json()
    assert sso.issued_keys[first.json()["AccessKeyId"]]["role_name"] == "Developer"
    assert sso.count("GetRoleCredentials") == 1  # the second run was a cache hit
    assert sso.count("CreateToken") == 1  # the fresh token was used as it was


def test_device_code_login_honours_slow_down(sandbox: Sandbox, sso: SsoStandIn) -> None:
    sso.fault("CreateToken", status=400, code="SlowDownException", times=1)
    login = sandbox.popen(
        "sso", "login", "--sso-session", "corp", "--use-device-code", start_new_session=True
    )
    sso.wait_for(f"CreateToken:{DEVICE_GRANT}", 2)  # told to slow down, then still pending
    sso.approve()
    [done] = wait_all([login])

    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert sso.user_codes[0] in done.stderr  # shown to the person, on stderr
    polls = sso.times("CreateToken")
    # Interval 1 s; the SlowDown adds 5 s: the poll after it came no sooner.
    assert polls[1] - polls[0] >= 6 - 0.1
    assert sso.count("SlowDown") == 0  # never polled faster than the interval
    assert sso.count("StartDeviceAuthorization") == 1 and "refreshToken" in token(sandbox)


def test_no_person_to_ask_fails_at_once_naming_the_login(sandbox: Sandbox, sso: SsoStandIn) -> None:
    process = sandbox.popen("--profile", "dev-sso", start_new_session=True)
    [result] = wait_all([process])
    assert_fails(result, 4, "credproc sso login --profile dev-sso")
    assert "no BROWSER, no display, no terminal" in result.stderr
    assert sum(sso.calls.values()) == 0


@pytest.mark.parametrize("how", ["flag", "env", "profile key"])
def test_sso_login_never_gives_the_line(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path, how: str
) -> None:
    browser, count = counting_browser(tmp_path, sso)
    env = {"BROWSER": browser}
    args = ["--profile", "dev-sso"]
    if how == "flag":
        args += ["--sso-login", "never"]
    elif how == "env":
        env["CREDPROC_SSO_LOGIN"] = "never"
    else:
        sandbox.write_config(
            sandbox.config.read_text().replace(
                "sso_role_name = Developer", "sso_role_name = Developer\ncredproc_sso_login = never"
            )
        )
    result = sandbox.credproc(*args, env=env)
    assert_fails(result, 4, "(--sso-login never): run credproc sso login --profile dev-sso")
    assert opened(count) == [] and sum(sso.calls.values()) == 0


def test_sso_as_the_source_of_a_role(sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path) -> None:
    browser, _ = counting_browser(tmp_path, sso)
    _signed_in_with(sandbox, sso, browser)
    sandbox.add_profile("chained", role_arn=ROLE, source_profile="dev-sso")
    runs = [sandbox.credproc("--profile", "chained") for _ in range(3)]
    direct = sandbox.credproc("--profile", "dev-sso")

    assert all(run.returncode == 0 for run in runs), runs[0].stderr
    assert direct.returncode == 0
    # The AssumeRole was signed with the portal's keys for Developer...
    [signer] = sandbox.server.signers("AssumeRole")
    assert sso.issued_keys[signer]["role_name"] == "Developer"
    # ...which credproc cached under the SSO profile's own key: the direct run shares it.
    assert direct.json()["AccessKeyId"] == signer
    assert sso.count("GetRoleCredentials") == 1
    rows = {
        row["role"]: row["source"]
        for row in sandbox.credproc("cache", "list", "--json").json_list()
    }
    assert rows == {
        "SSO Developer in 111111111111": "SSO session corp",
        ROLE: "dev-sso",
        "SSO session corp": START_URL,  # the session itself, beside its roles
    }


def test_boto3_and_the_aws_cli_use_the_token_credproc_wrote(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, _ = counting_browser(tmp_path, sso)
    _signed_in_with(sandbox, sso, browser)
    boto = _access_key(sandbox, "boto3.Session(profile_name='read-sso')")
    cli = sandbox.run([str(BIN / "aws"), "sts", "get-caller-identity", "--profile", "prod-sso"])

    assert sso.issued_keys[boto]["role_name"] == "ReadOnly"
    assert cli.returncode == 0, cli.stderr
    [signer] = sandbox.server.signers("GetCallerIdentity")
    assert sso.issued_keys[signer]["account_id"] == "222222222222"
    assert sso.count("Authorize") == 1  # credproc's one login served both


def test_credproc_uses_a_token_botocore_wrote(sandbox: Sandbox, sso: SsoStandIn) -> None:
    """botocore's own SSO token provider refreshes a token near expiry and writes it (its way:
    in place); credproc takes that file as it is."""
    code = f"""
import json, os
import boto3
from botocore.tokens import SSOTokenProvider
from datetime import datetime, timedelta, timezone
session = boto3.Session(region_name="eu-west-1")
oidc = session.client("sso-oidc")
client = oidc.register_client(clientName="cli", clientType="public", scopes=["sso:account:access"])
secret = {{"clientId": client["clientId"], "clientSecret": client["clientSecret"]}}
device = oidc.start_device_authorization(**secret, startUrl="{START_URL}")
import urllib.request
urllib.request.urlopen(urllib.request.Request("{sso.url}/_test/approve", method="POST"))
import time; time.sleep(1.1)
grant = "urn:ietf:params:oauth:grant-type:device_code"
answer = oidc.create_token(**secret, grantType=grant, deviceCode=device["deviceCode"])
soon = datetime.now(timezone.utc) + timedelta(minutes=5)
registered = datetime.fromtimestamp(client["clientSecretExpiresAt"], timezone.utc)
provider = SSOTokenProvider(session._session, profile_name="dev-sso")
provider._token_loader.save_token("{START_URL}", {{
    "startUrl": "{START_URL}", "region": "eu-west-1", "accessToken": answer["accessToken"],
    "expiresAt": soon.strftime("%Y-%m-%dT%H:%M:%SZ"), "refreshToken": answer["refreshToken"],
    **secret, "registrationExpiresAt": registered.strftime("%Y-%m-%dT%H:%M:%SZ"),
}}, session_name="corp")
provider.load_token().get_frozen_token()  # inside 15 minutes: botocore refreshes and writes
"""
    written = sandbox.run([str(BIN / "python"), "-c", code])
    assert written.returncode == 0, written.stderr
    assert sso.count("CreateToken:refresh_token") == 1
    assert set(token(sandbox)) == CLI_KEYS

    result = sandbox.credproc("--profile", "dev-sso")
    assert result.returncode == 0, result.stderr
    assert sso.count("CreateToken") == 2  # the device grant and botocore's refresh: no more
    assert sso.count("Authorize") == 0 and sso.count("RegisterClient") == 1
    assert sso.count("GetRoleCredentials") == 1


def _access_key(sandbox: Sandbox, session: str) -> str:
    """The access key id a boto3 session (a Python expression) signs with, in a new process."""
    code = (
        "import boto3, credproc\n"
        f"print({session}.get_credentials().get_frozen_credentials().access_key)\n"
    )
    result = sandbox.run([str(BIN / "python"), "-c", code])
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _storm(
    sandbox: Sandbox,
    env: dict[str, str],
    per_profile: int = 10,
    profiles: tuple[str, ...] = ("dev-sso", "read-sso", "prod-sso"),
) -> None:
    """Runs at once, ``per_profile`` for each profile (30 by default); all must succeed."""
    processes = [
        sandbox.popen("--profile", name, env=env, start_new_session=True)
        for _ in range(per_profile)
        for name in profiles
    ]
    results = wait_all(processes, timeout=120)
    assert [r.returncode for r in results] == [0] * len(processes), [
        r.stderr for r in results if r.returncode
    ][:1]
    assert all(r.stdout.count("\n") == 1 for r in results)


def test_thirty_processes_with_an_expiring_token_make_one_refresh(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, _ = counting_browser(tmp_path, sso)
    _signed_in_with(sandbox, sso, browser)
    age_token(sandbox, 5 * 60)  # inside botocore's 15 minutes: due for a refresh
    before = token(sandbox)["refreshToken"]
    _storm(sandbox, {})

    assert sso.count("CreateToken:refresh_token") == 1
    assert sso.count("GetRoleCredentials") == 3  # one per role
    assert token(sandbox)["refreshToken"] != before  # rotated, and the new one stored
    assert is_private(token_path(sandbox))


def test_thirty_processes_without_a_token_open_one_browser(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, count = counting_browser(tmp_path, sso)
    _storm(sandbox, {"BROWSER": browser})

    assert len(opened(count)) == 1
    assert stat.S_IMODE(token_path(sandbox).parent.stat().st_mode) == 0o700
    assert is_private(token_path(sandbox))
    assert sso.count("Authorize") == 1 and sso.count("RegisterClient") == 1
    assert sso.count("CreateToken") == 1
    assert sso.count("GetRoleCredentials") == 3


def test_a_refresh_killed_after_the_service_rotated_costs_exactly_one_login(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    """The worst moment for a kill -9: the service has rotated the refresh token and its answer
    never reaches the file. The next process finds the refresh token refused, keeps using the
    access token while it lives, and then every process shares one login."""
    browser, count = counting_browser(tmp_path, sso)
    _signed_in_with(sandbox, sso, browser)
    age_token(sandbox, 5 * 60)
    old = token(sandbox)["refreshToken"]
    sso.fault("CreateToken", delay_after=60)  # rotates, then holds its answer back
    refresher = sandbox.popen("--profile", "dev-sso", start_new_session=True)
    deadline = time.monotonic() + 30
    while old in sso.refresh_tokens:
        assert time.monotonic() < deadline, "the refresh never reached the service"
        time.sleep(0.02)
    refresher.kill()
    refresher.communicate(timeout=10)
    sso.clear_faults()
    assert token(sandbox)["refreshToken"] == old  # the rotated token never arrived

    meanwhile = sandbox.credproc("--profile", "read-sso", env={"BROWSER": browser})
    assert meanwhile.returncode == 0, meanwhile.stderr  # the access token still works
    assert "refreshToken" not in token(sandbox)  # dropped: nobody tries it again
    assert opened(count) == [opened(count)[0]]  # no login yet (the first line: sign-in)

    age_token(sandbox, -60)  # now it is gone too
    _storm(sandbox, {"BROWSER": browser}, per_profile=4)
    assert len(opened(count)) == 2  # the first login, and exactly one more
    assert sso.count("CreateToken:refresh_token") == 2  # the killed one, the refused one


def test_a_token_file_of_another_shape_is_never_overwritten(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, _ = counting_browser(tmp_path, sso)
    path = token_path(sandbox)
    path.parent.mkdir(parents=True)
    path.write_text('{"something": "else"}')
    path.chmod(0o600)
    result = sandbox.run(
        ["setsid", str(BIN / "credproc"), "sso", "login", "--profile", "dev-sso"],
        env={"BROWSER": browser},
    )
    assert_fails(result, 3, str(path))
    assert path.read_text() == '{"something": "else"}'


def test_the_login_waits_for_the_person_and_a_refusal_is_one_clear_line(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, _ = counting_browser(tmp_path, sso)
    sso.auto_approve = False
    login = sandbox.popen(
        "sso", "login", "--profile", "dev-sso", env={"BROWSER": browser}, start_new_session=True
    )
    sso.wait_for_sign_in(1)
    sso.deny_browser()
    [result] = wait_all([login])
    assert result.returncode == 4 and result.stdout == ""
    told, error = result.stderr.splitlines()
    assert told.startswith("credproc: signing in to SSO session 'corp' in your browser")
    assert error.startswith("credproc: error: ") and "refused or abandoned (access_denied)" in error
    assert not token_path(sandbox).exists()
    assert sso.count("CreateToken") == 0


def test_env_and_exec_take_an_sso_profile(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, _ = counting_browser(tmp_path, sso)
    _signed_in_with(sandbox, sso, browser)
    exported = sandbox.credproc("env", "--profile", "dev-sso")
    ran = sandbox.credproc(
        "exec", "--profile", "dev-sso", "--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID"
    )

    assert exported.returncode == 0 and ran.returncode == 0, exported.stderr + ran.stderr
    key = ran.stdout.strip()
    assert f"AWS_ACCESS_KEY_ID={key}" in exported.stdout.replace("'", "").replace('"', "")
    assert sso.issued_keys[key]["role_name"] == "Developer"
    assert sso.count("GetRoleCredentials") == 1


def test_no_browser_prints_the_url_and_the_sign_in_completes_there(
    sandbox: Sandbox, sso: SsoStandIn
) -> None:
    login = sandbox.popen(
        "sso", "login", "--profile", "dev-sso", "--no-browser", start_new_session=True
    )
    assert login.stderr is not None
    line = login.stderr.readline()
    assert "open this URL on this machine: " in line, line
    url = line.split("open this URL on this machine: ", 1)[1].strip()
    with urllib.request.urlopen(url, timeout=30) as page:  # noqa: S310 - the stand-in's page
        assert b"Signed in" in page.read()  # credproc's callback answered the browser
    [done] = wait_all([login])
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert sso.count("CreateToken:authorization_code") == 1


def test_processes_waiting_on_a_refused_login_fail_with_it_and_the_next_one_retries(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, count = counting_browser(tmp_path, sso)
    sso.auto_approve = False
    env = {"BROWSER": browser}
    first = sandbox.popen("--profile", "dev-sso", env=env, start_new_session=True)
    sso.wait_for_sign_in(1)  # the sign-in page is open, waiting for the person
    waiting = sandbox.waiting(4, "--profile", "dev-sso")  # queued behind the login
    sso.deny_browser()
    results = wait_all([first, *waiting])

    for result in results:
        assert_fails(result, 4, "refused or abandoned (access_denied)")
    assert len(opened(count)) == 1  # the waiters opened no tab of their own

    sso.auto_approve = True
    retry = sandbox.run(["setsid", str(BIN / "credproc"), "--profile", "dev-sso"], env=env)
    assert retry.returncode == 0, retry.stderr
    assert len(opened(count)) == 2


def test_a_legacy_profile_storm_makes_one_device_authorization(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    """A legacy profile (sso_start_url in the profile) signs in with a device code; the
    browser opens the page with the code filled in, where the person confirms it."""
    for name, role in (("old-dev", "Developer"), ("old-read", "ReadOnly")):
        sandbox.add_profile(
            name,
            sso_start_url=START_URL,
            sso_region="eu-west-1",
            sso_account_id="111111111111",
            sso_role_name=role,
        )
    browser, count = counting_browser(tmp_path, sso)
    _storm(sandbox, {"BROWSER": browser}, profiles=("old-dev", "old-read"))

    assert sso.count("StartDeviceAuthorization") == 1 and len(opened(count)) == 1
    assert sso.count("GetRoleCredentials") == 2
    legacy = token_path(sandbox, START_URL)  # named after the start URL, as the CLI names it
    assert set(json.loads(legacy.read_text())) >= {"startUrl", "accessToken", "expiresAt"}
    assert "refreshToken" not in json.loads(legacy.read_text())  # no scopes: not refreshable


def test_the_python_api_takes_an_sso_profile(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, _ = counting_browser(tmp_path, sso)
    _signed_in_with(sandbox, sso, browser)
    key = _access_key(sandbox, "credproc.session(profile='dev-sso', sso_login='never')")
    assert sso.issued_keys[key]["role_name"] == "Developer"
    assert sso.count("GetRoleCredentials") == 1


@pytest.mark.parametrize("login", ["never", "auto"])  # auto: nobody to ask (no terminal)
@pytest.mark.parametrize("profile", ["dev-sso", "chained"])  # the SSO role, a role built on it
def test_a_role_outlives_its_ended_sso_session_while_its_token_lives(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path, login: str, profile: str
) -> None:
    """The SSO session has ended (revoked, its token expired) and no login can happen: the
    role's cached token, inside its refresh window but alive, is served with a line naming
    the login, as in an outage; once too little of it is left, exit 4."""
    browser, count = counting_browser(tmp_path, sso)
    _signed_in_with(sandbox, sso, browser)
    sandbox.add_profile("chained", role_arn=ROLE, source_profile="dev-sso")
    first = sandbox.credproc("--profile", profile)
    assert first.returncode == 0, first.stderr
    role_key = first.json()["AccessKeyId"]
    sso.revoke()
    age_token(sandbox, -60)
    sandbox.expire_entries(30)  # the SSO role under a chained one: too little left to serve
    sandbox.expire_entries(600, role_key)  # the role's: inside its 15 minutes, alive
    argv = ["setsid", str(BIN / "credproc"), "--profile", profile, "--sso-login", login]

    served = sandbox.run(argv)
    assert served.returncode == 0, served.stderr
    assert served.json()["AccessKeyId"] == role_key
    (line,) = served.stderr.splitlines()
    assert "credproc sso login --profile dev-sso" in line
    assert "serving the cached token, valid for 9 more minutes" in line
    assert sso.count("CreateToken:refresh_token") == 1  # refused: the session was revoked
    assert sso.count("GetRoleCredentials") == 1  # the first run's, no other
    assert sso.count("Authorize") == 1 and len(opened(count)) == 1  # no new login

    sandbox.expire_entries(30, role_key)
    failed = sandbox.run(argv)
    assert_fails(failed, 4, "credproc sso login --profile dev-sso")
    assert "serving" not in failed.stderr
