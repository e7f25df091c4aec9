"""SSO when things go wrong: the portal or the OIDC service down, slow, answering garbage or a
proxy's page (exit 5, a live cached role token still served); a session revoked, a refresh
token refused or a registration expired (a new login with auto, the line with never); a
configuration missing a key (exit 3 naming it). Counted at the stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.assertions import assert_fails, assert_warns
from support.constants import BIN
from support.sandbox import Sandbox
from support.sso import age_token, counting_browser, opened, token, token_path
from support.ssoserver import SsoStandIn

pytestmark = pytest.mark.integration

OUTAGES: dict[str, dict[str, object]] = {
    "down": {"status": 503},
    "throttling": {"status": 429, "code": "TooManyRequestsException"},
    "garbage": {"garbage": True},
    "proxy page": {"status": 403, "body": "<html>Access denied by proxy</html>"},
    "hang-up": {"reset": True},
    "slow": {"delay": 6},  # past the 5 s read timeout, at every attempt
}


def _logged_in(sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path) -> tuple[str, Path]:
    browser, count = counting_browser(tmp_path, sso)
    login = sandbox.run(
        ["setsid", str(BIN / "credproc"), "sso", "login", "--profile", "dev-sso"],
        env={"BROWSER": browser},
    )
    assert login.returncode == 0, login.stderr
    return browser, count


@pytest.mark.parametrize("fault", sorted(OUTAGES))
def test_a_portal_outage_serves_the_live_role_token_or_is_exit_5(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path, fault: str
) -> None:
    _logged_in(sandbox, sso, tmp_path)
    cached = sandbox.credproc("--profile", "dev-sso")
    assert cached.returncode == 0, cached.stderr
    sandbox.expire_entries(300)  # due for a refresh, still good for five minutes
    sso.fault("GetRoleCredentials", **OUTAGES[fault])

    served = sandbox.credproc("--profile", "dev-sso")
    assert_warns(served, "serving the cached token")
    assert served.json()["AccessKeyId"] == cached.json()["AccessKeyId"]

    fresh = sandbox.credproc("--profile", "read-sso")  # nothing cached for this role
    assert_fails(fresh, 5, "SSO portal")


@pytest.mark.parametrize("fault", ["down", "garbage", "hang-up"])
def test_an_oidc_outage_during_a_refresh_keeps_the_live_token(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path, fault: str
) -> None:
    _logged_in(sandbox, sso, tmp_path)
    age_token(sandbox, 5 * 60)
    before = token(sandbox)
    sso.fault("CreateToken", **OUTAGES[fault])

    result = sandbox.credproc("--profile", "dev-sso")
    assert_warns(result, "using the SSO token of SSO session 'corp'")
    assert sso.count("GetRoleCredentials") == 1
    assert token(sandbox) == before  # nothing lost: the refresh token is kept for next time

    age_token(sandbox, -60)  # and once it has expired, the outage is the answer
    assert_fails(sandbox.credproc("--profile", "read-sso", "--sso-login", "never"), 5)


def test_a_revoked_session_means_one_new_login(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, count = _logged_in(sandbox, sso, tmp_path)
    sso.revoke()  # the token file still looks fresh: the portal is the one to say no

    result = sandbox.credproc("--profile", "dev-sso", env={"BROWSER": browser})
    assert result.returncode == 0, result.stderr
    assert len(opened(count)) == 2
    assert sso.count("GetRoleCredentials") == 2  # refused, then with the new token
    assert sso.count("CreateToken:refresh_token") == 1  # refused: revoked too


def test_a_refused_refresh_with_never_gives_the_line(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    _, count = _logged_in(sandbox, sso, tmp_path)
    age_token(sandbox, -60)
    sso.revoke()
    result = sandbox.credproc("--profile", "dev-sso", "--sso-login", "never")
    assert_fails(result, 4, "run credproc sso login --profile dev-sso")
    assert "refreshToken" not in token(sandbox)  # refused once, never tried again
    assert len(opened(count)) == 1


def test_an_expired_registration_registers_again_and_logs_in_once(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, count = _logged_in(sandbox, sso, tmp_path)
    sso.expire_registrations()
    for path in token_path(sandbox).parent.glob("*.json"):  # the token's and credproc's own
        document = json.loads(path.read_text())
        for key in ("registrationExpiresAt", "expiresAt"):
            if key in document:
                document[key] = "2020-01-01T00:00:00Z"
        path.write_text(json.dumps(document))

    result = sandbox.credproc("--profile", "dev-sso", env={"BROWSER": browser})
    assert result.returncode == 0, result.stderr
    assert sso.count("RegisterClient") == 2 and len(opened(count)) == 2
    assert sso.count("CreateToken:refresh_token") == 0  # an expired registration is not tried


SESSION = "\n[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\n"
BROKEN = {
    "sso_region": (SESSION, "sso_region"),
    "sso_start_url": ("\n[sso-session corp]\nsso_region = eu-west-1\n", "sso_start_url"),
    "no section": ("", "[sso-session corp] is not in"),
    "bad region": (SESSION + "sso_region = Europe\n", "sso_region 'Europe'"),
    "legacy": (None, "sso_region"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_sso_setup_is_exit_3_naming_the_key(
    sandbox: Sandbox, tmp_path: Path, case: str
) -> None:
    section, words = BROKEN[case]
    if section is None:
        sandbox.add_profile(
            "dev-sso",
            sso_start_url="https://example.awsapps.com/start",
            sso_account_id="111111111111",
            sso_role_name="Developer",
        )
    else:
        sandbox.write_config(sandbox.config.read_text() + section)
        sandbox.add_profile(
            "dev-sso", sso_session="corp", sso_account_id="111111111111", sso_role_name="Dev"
        )
    assert_fails(sandbox.credproc("--profile", "dev-sso"), 3, words)
    login = sandbox.credproc("sso", "login", "--profile", "dev-sso")
    assert_fails(login, 3, words)
