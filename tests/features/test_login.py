"""``credproc login`` and ``credproc logout``: the same-device sign-in in a real Chromium, the
cross-device one with the code pasted on a real terminal, the session file in the CLI's
format, the profile rewritten keeping every other byte. Every count is taken at the stand-in
Sign-In service (tests/support/signinserver.py)."""

from __future__ import annotations

import json
import re
import shlex
import stat
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from support.assertions import assert_fails
from support.constants import BIN
from support.loginsession import following_browser, session_path, sign_in_elsewhere
from support.sandbox import Sandbox
from support.signinserver import CROSS_DEVICE, IDENTITY, SAME_DEVICE, SignInStandIn, running_signin
from support.sso import CHROMIUM, chromium_browser, opened
from support.tools import require

pytestmark = pytest.mark.integration

# The keys of the file aws login writes, and of its accessToken.
SESSION_KEYS = {"accessToken", "tokenType", "clientId", "refreshToken", "idToken", "dpopKey"}
ACCESS_KEYS = {"accessKeyId", "secretAccessKey", "sessionToken", "accountId", "expiresAt"}
# A config of the user's, with what a rewrite could disturb: comments, odd spacing, a value
# continued on the next line, another profile and section, no newline at the end.
USERS_CONFIG = (
    "# my own config; keep me\n"
    "[default]\n"
    "region = eu-west-1\n"
    "\n"
    "; the console profile, written by hand\n"
    "[profile console]\n"
    "output=json\n"
    "s3 =\n"
    "    max_concurrent_requests = 4\n"
    "\n"
    "[profile other]\n"
    "region:us-west-2\n"
    "# the end, no newline"
)


@pytest.fixture
def signin(sandbox: Sandbox) -> Iterator[SignInStandIn]:
    """AWS Sign-In's stand-in, found by the sandbox's processes through
    AWS_ENDPOINT_URL_SIGNIN."""
    with running_signin() as stand_in:
        sandbox.env.update(stand_in.env)
        yield stand_in


def _login(sandbox: Sandbox, *args: str, browser: str) -> None:
    # setsid: no controlling terminal, as in CI; the browser is the only way to the person.
    result = sandbox.run(
        ["setsid", str(BIN / "credproc"), "login", *args], env={"BROWSER": browser}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert f"signed in as {IDENTITY}" in result.stderr


def _query(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def test_same_device_sign_in_in_a_real_browser(
    sandbox: Sandbox, signin: SignInStandIn, tmp_path: Path
) -> None:
    require(str(CHROMIUM), "chromium")
    browser, count = chromium_browser(tmp_path)
    _login(sandbox, "--profile", "console", "--region", "eu-west-1", browser=browser)

    [url] = opened(count)
    assert url.startswith(f"{signin.url}/v1/authorize?")
    query = _query(url)
    assert query["client_id"] == SAME_DEVICE and query["scope"] == "openid"
    assert query["response_type"] == "code" and query["code_challenge_method"] == "SHA-256"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/oauth/callback", query["redirect_uri"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", query["code_challenge"])
    # Chromium loaded the page and followed its redirect to credproc's callback.
    assert signin.count("Authorize") == 1
    assert signin.count("CreateOAuth2Token:authorization_code") == 1
    assert signin.count("CreateOAuth2Token") == 1

    path = session_path(sandbox)
    document = json.loads(path.read_text())
    assert set(document) == SESSION_KEYS and set(document["accessToken"]) == ACCESS_KEYS
    assert document["clientId"] == SAME_DEVICE
    assert document["accessToken"]["accountId"] == IDENTITY.split(":")[4]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", document["accessToken"]["expiresAt"])
    assert document["dpopKey"].startswith("-----BEGIN EC PRIVATE KEY-----\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert signin.issued_keys[document["accessToken"]["accessKeyId"]] == IDENTITY
    assert sandbox.config.read_text().endswith(
        f"[profile console]\nlogin_session = {IDENTITY}\nregion = eu-west-1\n"
    )


def _remote(sandbox: Sandbox) -> pexpect.spawn:
    """``credproc login --remote`` on a terminal of its own, as a person runs it over SSH."""
    command = [str(BIN / "credproc"), "login", "--profile", "console", "--remote"]
    return pexpect.spawn(
        "sh",
        ["-c", shlex.join([*command, "--region", "eu-west-1"])],
        env=sandbox.env,
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=60,
    )


def test_cross_device_sign_in_with_the_code_pasted_on_the_terminal(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    child = _remote(sandbox)
    child.expect_exact("paste the code it shows here: ")
    landed, code = sign_in_elsewhere(child.before)
    assert landed.startswith(f"{signin.url}/v1/sessions/confirmation?")
    assert signin.count("CreateOAuth2Token") == 0  # nothing exchanged before the paste
    child.sendline(code)
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, child.before
    assert f"signed in as {IDENTITY}" in child.before
    assert signin.count("Authorize") == 1
    assert signin.count("CreateOAuth2Token:authorization_code") == 1
    [authorization] = signin.authorizations
    assert authorization.client_id == CROSS_DEVICE
    assert authorization.redirect_uri == f"{signin.url}/v1/sessions/confirmation"
    assert json.loads(session_path(sandbox).read_text())["clientId"] == CROSS_DEVICE
    assert f"login_session = {IDENTITY}" in sandbox.config.read_text()


def test_a_code_that_is_not_the_pages_is_refused_and_nothing_is_written(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    before = sandbox.config.read_text()
    child = _remote(sandbox)
    child.expect_exact("paste the code it shows here: ")
    child.sendline("not-the-code")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 4
    assert "credproc: error: that is not the code the sign-in page shows" in child.before
    assert "Traceback" not in child.before
    assert signin.count("CreateOAuth2Token") == 0
    assert not session_path(sandbox).exists()
    assert sandbox.config.read_text() == before


def test_the_profile_is_rewritten_keeping_every_other_byte(
    sandbox: Sandbox, signin: SignInStandIn, tmp_path: Path
) -> None:
    sandbox.write_config(USERS_CONFIG)
    sandbox.config.chmod(0o640)
    browser, count = following_browser(tmp_path)
    _login(sandbox, "console", "--region", "eu-central-1", browser=browser)

    assert len(opened(count)) == 1
    assert sandbox.config.read_text() == USERS_CONFIG.replace(
        "    max_concurrent_requests = 4\n",
        f"    max_concurrent_requests = 4\nlogin_session = {IDENTITY}\nregion = eu-central-1\n",
    )
    assert stat.S_IMODE(sandbox.config.stat().st_mode) == 0o640  # the file's own mode kept
    [backup] = sandbox.config.parent.glob("config.*.bak")
    assert backup.read_text() == USERS_CONFIG
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600

    # Signed in again: the line is already there, and the config is not touched.
    written = sandbox.config.read_text()
    _login(sandbox, "console", browser=browser)
    assert sandbox.config.read_text() == written
    assert len(list(sandbox.config.parent.glob("config.*.bak"))) == 1
    assert signin.count("CreateOAuth2Token:authorization_code") == 2

    # aws login's other keys stay readable by botocore itself.
    code = (
        "import botocore.session\n"
        "print(botocore.session.Session(profile='console').get_scoped_config()['login_session'])"
    )
    result = sandbox.run([str(BIN / "python"), "-c", code])
    assert result.stdout.strip() == IDENTITY, result.stderr


@pytest.mark.parametrize(
    ("keys", "kind"),
    [
        ("role_arn = arn:aws:iam::111111111111:role/x\nsource_profile = base\n", "assume role"),
        ("credential_process = credproc --profile base\n", "credential process"),
    ],
)
def test_a_profile_with_other_credentials_is_refused_before_any_sign_in(
    sandbox: Sandbox, signin: SignInStandIn, tmp_path: Path, keys: str, kind: str
) -> None:
    sandbox.write_config(f"[profile console]\n{keys}")
    before = sandbox.config.read_bytes()
    browser, count = following_browser(tmp_path)
    result = sandbox.credproc("login", "--profile", "console", env={"BROWSER": browser})
    assert_fails(result, 3, f"profile 'console' already gets {kind} credentials")
    # The credentials file's keys count too.
    credentials = sandbox.home / ".aws" / "credentials"
    credentials.write_text("[keys]\naws_access_key_id = AKIA\naws_secret_access_key = x\n")
    result = sandbox.credproc("login", "--profile", "keys", env={"BROWSER": browser})
    assert_fails(result, 3, "profile 'keys' already gets access key credentials")
    assert opened(count) == [] and sum(signin.calls.values()) == 0
    assert sandbox.config.read_bytes() == before


def test_bad_input_is_one_line_before_any_sign_in(
    sandbox: Sandbox, signin: SignInStandIn, tmp_path: Path
) -> None:
    browser, count = following_browser(tmp_path)
    env = {"BROWSER": browser}
    assert_fails(
        sandbox.credproc("login", "--profile", "no such", env=env), 2, "must be 1-128 letters"
    )
    assert_fails(
        sandbox.credproc("login", "--profile", "a", "--region", "nowhere", env=env),
        2,
        "is not an AWS region name",
    )
    assert_fails(sandbox.credproc("login", "a", "--profile", "b", env=env), 2, "two profiles")
    # No region anywhere, and no terminal to ask on (stdin is /dev/null, setsid: no tty).
    result = sandbox.run(["setsid", str(BIN / "credproc"), "login", "--profile", "fresh"], env=env)
    assert_fails(result, 2, "no region: give --region REGION")
    assert opened(count) == [] and sum(signin.calls.values()) == 0


OTHER = "arn:aws:iam::222222222222:user/console-ops"


def test_logout_removes_the_session_files_and_says_what_it_did(
    sandbox: Sandbox, signin: SignInStandIn, tmp_path: Path
) -> None:
    browser, _ = following_browser(tmp_path)
    _login(sandbox, "console", "--region", "eu-west-1", browser=browser)
    signin.identity = OTHER
    result = sandbox.run(
        ["setsid", str(BIN / "credproc"), "login", "ops", "--region", "eu-west-1"],
        env={"BROWSER": browser},
    )
    assert result.returncode == 0, result.stderr
    directory = session_path(sandbox).parent
    foreign = directory / "not-a-session.json"
    foreign.write_text('{"accessToken": "an SSO token, not ours"}')
    foreign.chmod(0o600)
    assert session_path(sandbox).exists() and session_path(sandbox, OTHER).exists()

    result = sandbox.credproc("logout", "--profile", "console")
    assert result.returncode == 0 and result.stdout == "", result.stderr
    assert f"signed profile 'console' out of {IDENTITY}: removed its session file" in (
        result.stderr
    )
    assert "nothing was revoked at AWS" in result.stderr
    assert not session_path(sandbox).exists() and session_path(sandbox, OTHER).exists()
    # login_session stays: credproc login (or the next process) signs the profile in again.
    assert f"login_session = {IDENTITY}" in sandbox.config.read_text()

    again = sandbox.credproc("logout", "--profile", "console")
    assert again.returncode == 0 and "it had no session file here" in again.stderr

    everything = sandbox.credproc("logout", "--all")
    assert everything.returncode == 0, everything.stderr
    assert "removed 1 aws login session file and cleared 0 cached role credentials" in (
        everything.stderr
    )
    assert not session_path(sandbox, OTHER).exists()
    assert foreign.exists()  # not a session file: aws logout --all leaves it too
    # The two sign-ins, each one authorize page and one exchange; logout called nobody.
    assert signin.count("Authorize") == 2 and signin.count("CreateOAuth2Token") == 2

    assert_fails(sandbox.credproc("logout", "--profile", "base"), 3, "has no login_session")
    assert_fails(sandbox.credproc("logout", "--profile", "nobody"), 3, "is not in")
    assert_fails(sandbox.credproc("logout", "--profile", "a", "--all"), 2, "not allowed with")
