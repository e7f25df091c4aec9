"""``doctor`` and ``cache list`` for SSO: the session, its token and refresh, the portal and the
role checked without ever signing in; SSO sessions listed beside the cached roles, no secret
shown. Calls are counted at the stand-in (tests/support/ssoserver.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.constants import ROLE
from support.sandbox import Result, Sandbox
from support.sso import counting_browser, device_login, opened, token, token_path
from support.ssoserver import SsoStandIn

pytestmark = pytest.mark.integration


def verdicts(result: Result) -> dict[str, str]:
    """doctor's lines by check name: 'ok: ...', 'warn: ...' or 'FAIL: ...'."""
    found = {}
    for line in result.stdout.splitlines():
        label, rest = line.split(None, 1)
        name, _, verdict = rest.partition(": ")
        found[name] = f"{label}: {verdict}"
    return found


def test_doctor_checks_session_token_refresh_portal_and_role(
    sandbox: Sandbox, sso: SsoStandIn
) -> None:
    device_login(sandbox, sso)
    sso.reset()

    result = sandbox.credproc("doctor", "dev-sso")

    assert result.returncode == 0, result.stdout + result.stderr
    found = verdicts(result)
    assert found["options"].startswith("ok: SSO role Developer in account 111111111111")
    assert found["sso session"].startswith("ok: SSO session 'corp': https://example.awsapps")
    assert found["sso token"].startswith("ok: valid until")
    assert found["sso refresh"].startswith("ok: a refresh token")
    assert found["sso portal"] == f"ok: {sso.url} answers and takes the token"
    assert found["role"].startswith("ok: got SSO role Developer in account 111111111111")
    assert sso.count("ListAccounts") == 1 and sso.count("GetRoleCredentials") == 1
    assert sso.count("CreateToken") == 0
    document = token(sandbox)
    for secret in (document["accessToken"], document["refreshToken"], document["clientSecret"]):
        assert secret not in result.stdout + result.stderr


def test_doctor_never_signs_in_it_names_the_login(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path
) -> None:
    browser, count = counting_browser(tmp_path, sso)

    result = sandbox.credproc("doctor", "dev-sso", env={"BROWSER": browser})

    assert result.returncode == 4
    found = verdicts(result)
    assert found["sso token"].startswith("FAIL: SSO session 'corp' has no token")
    assert "credproc sso login --profile dev-sso" in result.stdout
    assert "role" not in found and "sso portal" not in found
    assert opened(count) == []
    assert sum(sso.calls.values()) == 0


def test_doctor_says_a_token_cannot_be_renewed_and_the_portal_is_down(
    sandbox: Sandbox, sso: SsoStandIn
) -> None:
    device_login(sandbox, sso)
    document = token(sandbox)
    del document["refreshToken"]
    token_path(sandbox).write_text(json.dumps(document))
    sso.fault("ListAccounts", status=503, code="InternalServerException")

    result = sandbox.credproc("doctor", "--profile", "dev-sso")

    assert result.returncode == 5
    found = verdicts(result)
    assert found["sso refresh"].startswith("warn: not renewable: the token came without")
    assert found["sso portal"].startswith("FAIL: SSO portal failed ListAccounts")
    assert "role" not in found


def test_cache_list_shows_sso_sessions_beside_roles_without_secrets(
    sandbox: Sandbox, sso: SsoStandIn
) -> None:
    before = sandbox.credproc("cache", "list", "--json").json_list()
    device_login(sandbox, sso)
    document = token(sandbox)
    role = sandbox.credproc("--profile", "prod-sso").json()

    table = sandbox.credproc("cache", "list")
    rows = sandbox.credproc("cache", "list", "--json").json_list()
    sandbox.credproc("sso", "logout", "--sso-session", "corp")
    after = sandbox.credproc("cache", "list", "--json").json_list()

    assert [(r["role"], r["state"]) for r in before] == [("SSO session corp", "signed out")]
    assert {(r["role"], r["source"], r["state"]) for r in rows} == {
        ("SSO session corp", "https://example.awsapps.com/start", "fresh"),
        ("SSO ReadOnly in 222222222222", "SSO session corp", "fresh"),
    }
    assert table.stdout.splitlines()[0].split()[:2] == ["ROLE", "SOURCE"]
    assert "SSO session corp" in table.stdout
    assert [(r["role"], r["state"]) for r in after] == [("SSO session corp", "signed out")]
    shown = table.stdout + json.dumps(rows)
    secrets = ("accessToken", "refreshToken", "clientSecret")
    for secret in (role["SecretAccessKey"], role["SessionToken"], *map(document.get, secrets)):
        assert str(secret) not in shown


def test_doctor_checks_the_sso_source_of_a_role(sandbox: Sandbox, sso: SsoStandIn) -> None:
    device_login(sandbox, sso)

    result = sandbox.credproc("doctor", "--role-arn", ROLE, "--source-profile", "dev-sso")

    assert result.returncode == 0, result.stdout + result.stderr
    found = verdicts(result)
    assert "from SSO role Developer in account 111111111111" in found["options"]
    assert found["sso token"].startswith("ok: valid until")
    assert found["role"].startswith(f"ok: assumed {ROLE}")
    assert "source" not in found  # GetCallerIdentity through botocore's own SSO: not ours
    [signer] = sandbox.server.signers("AssumeRole")
    assert sso.issued_keys[signer]["role_name"] == "Developer"
