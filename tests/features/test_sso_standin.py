"""The SSO stand-in (tests/support/ssoserver.py) speaks botocore's own ``sso-oidc`` and ``sso``
models: botocore's clients, pointed at it by the SDKs' endpoint variables, get every answer and
every modelled error they expect. Were its shapes wrong, these clients would fail to parse."""

from __future__ import annotations

import base64
import hashlib
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from support.ssoserver import DEVICE_GRANT, SsoStandIn, running_sso

START_URL = "https://example.awsapps.com/start"


@pytest.fixture
def stand_in() -> Iterator[SsoStandIn]:
    with running_sso() as server:
        yield server


@pytest.fixture
def clients(
    stand_in: SsoStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, Any]]:
    """botocore's clients, reaching the stand-in only through AWS_ENDPOINT_URL_SSO(_OIDC)."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in stand_in.env.items():
        monkeypatch.setenv(name, value)
    session = boto3.Session(region_name="eu-west-1")
    oidc, portal = session.client("sso-oidc"), session.client("sso")
    yield oidc, portal
    oidc.close()
    portal.close()


def _register(oidc: Any, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = oidc.register_client(
        clientName="test", clientType="public", scopes=["sso:account:access"], **extra
    )
    return answer


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_device_flow_pending_slow_down_approval_and_one_use(
    stand_in: SsoStandIn, clients: tuple[Any, Any]
) -> None:
    oidc, _ = clients
    client = _register(oidc)
    assert client["clientSecretExpiresAt"] > client["clientIdIssuedAt"]
    device = oidc.start_device_authorization(
        clientId=client["clientId"], clientSecret=client["clientSecret"], startUrl=START_URL
    )
    assert device["verificationUriComplete"].endswith(device["userCode"])
    assert device["interval"] == 1
    grant = {
        "clientId": client["clientId"],
        "clientSecret": client["clientSecret"],
        "grantType": DEVICE_GRANT,
        "deviceCode": device["deviceCode"],
    }
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        oidc.create_token(**grant)
    with pytest.raises(oidc.exceptions.SlowDownException):  # polled at once: too fast
        oidc.create_token(**grant)
    assert stand_in.approve() == 1
    stand_in.devices[device["deviceCode"]].last_poll = 0  # as if the 6 s had passed
    token = oidc.create_token(**grant)
    assert token["accessToken"] and token["refreshToken"] and token["expiresIn"] == 8 * 3600
    stand_in.devices[device["deviceCode"]].last_poll = 0
    with pytest.raises(oidc.exceptions.InvalidGrantException):  # a device code works once
        oidc.create_token(**grant)
    assert stand_in.count(f"CreateToken:{DEVICE_GRANT}") == 4


def test_device_code_expires(stand_in: SsoStandIn, clients: tuple[Any, Any]) -> None:
    oidc, _ = clients
    stand_in.device_seconds = -1
    client = _register(oidc)
    secret = {"clientId": client["clientId"], "clientSecret": client["clientSecret"]}
    device = oidc.start_device_authorization(**secret, startUrl=START_URL)
    with pytest.raises(oidc.exceptions.ExpiredTokenException):
        oidc.create_token(**secret, grantType=DEVICE_GRANT, deviceCode=device["deviceCode"])


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def _authorize(stand_in: SsoStandIn, query: dict[str, str]) -> dict[str, str]:
    """What the authorize page redirects the browser to: the callback's query."""
    url = f"{stand_in.url}/authorize?{urllib.parse.urlencode(query)}"
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(url, timeout=10)
    assert redirect.value.code == 302
    location = urllib.parse.urlsplit(redirect.value.headers["Location"])
    redirect.value.close()
    assert f"{location.scheme}://{location.netloc}{location.path}" == query["redirect_uri"]
    return dict(urllib.parse.parse_qsl(location.query))


def test_authorization_code_with_pkce_and_rotating_refresh(
    stand_in: SsoStandIn, clients: tuple[Any, Any]
) -> None:
    oidc, _ = clients
    redirect = "http://127.0.0.1/oauth/callback"
    client = _register(
        oidc,
        grantTypes=["authorization_code", "refresh_token"],
        redirectUris=[redirect],
        issuerUrl=START_URL,
    )
    verifier = "v" * 64
    callback = "http://127.0.0.1:4711/oauth/callback"  # any port on loopback (RFC 8252)
    query = {
        "response_type": "code",
        "client_id": client["clientId"],
        "redirect_uri": callback,
        "state": "the-state",
        "code_challenge_method": "S256",
        "code_challenge": _challenge(verifier),
        "scopes": "sso:account:access",
    }
    answer = _authorize(stand_in, query)
    assert answer["state"] == "the-state"
    secret = {"clientId": client["clientId"], "clientSecret": client["clientSecret"]}
    with pytest.raises(oidc.exceptions.InvalidGrantException):  # a wrong verifier
        oidc.create_token(
            **secret,
            grantType="authorization_code",
            code=answer["code"],
            redirectUri=callback,
            codeVerifier="w" * 64,
        )
    token = oidc.create_token(
        **secret,
        grantType="authorization_code",
        code=answer["code"],
        redirectUri=callback,
        codeVerifier=verifier,
    )
    refreshed = oidc.create_token(
        **secret, grantType="refresh_token", refreshToken=token["refreshToken"]
    )
    assert refreshed["refreshToken"] != token["refreshToken"]
    with pytest.raises(oidc.exceptions.InvalidGrantException):  # rotated: the old one is dead
        oidc.create_token(**secret, grantType="refresh_token", refreshToken=token["refreshToken"])
    stand_in.expire_registrations()
    with pytest.raises(oidc.exceptions.InvalidClientException):
        oidc.create_token(
            **secret, grantType="refresh_token", refreshToken=refreshed["refreshToken"]
        )
    stand_in.auto_approve = False
    stand_in.clients[client["clientId"]].expires_at += 10_000
    denied: dict[str, str] = {}

    def sign_in() -> None:
        denied.update(_authorize(stand_in, query))

    browser = threading.Thread(target=sign_in)
    browser.start()
    stand_in.wait_for_sign_in(2)
    stand_in.deny_browser()
    browser.join(timeout=10)
    assert denied == {"error": "access_denied", "state": "the-state"}


def test_portal_role_credentials_pages_and_logout(
    stand_in: SsoStandIn, clients: tuple[Any, Any]
) -> None:
    oidc, portal = clients
    client = _register(oidc)
    secret = {"clientId": client["clientId"], "clientSecret": client["clientSecret"]}
    device = oidc.start_device_authorization(**secret, startUrl=START_URL)
    stand_in.approve()
    token = oidc.create_token(**secret, grantType=DEVICE_GRANT, deviceCode=device["deviceCode"])
    bearer = token["accessToken"]

    role = portal.get_role_credentials(
        roleName="Developer", accountId="111111111111", accessToken=bearer
    )["roleCredentials"]
    assert role["accessKeyId"].startswith("ASIA") and len(role["accessKeyId"]) == 20
    assert stand_in.issued_keys[role["accessKeyId"]]["role_name"] == "Developer"
    assert role["expiration"] > 1_000_000_000_000  # milliseconds, as the model says
    with pytest.raises(ClientError) as refused:
        portal.get_role_credentials(roleName="Admin", accountId="111111111111", accessToken=bearer)
    assert _code(refused) == "ForbiddenException"

    stand_in.accounts.append(stand_in.accounts[0].__class__("333333333333", "Third", ["A"]))
    accounts = [
        row
        for page in portal.get_paginator("list_accounts").paginate(accessToken=bearer)
        for row in page["accountList"]
    ]
    assert [a["accountId"] for a in accounts] == ["111111111111", "222222222222", "333333333333"]
    assert stand_in.count("ListAccounts") == 2  # pages of two
    roles = portal.list_account_roles(accessToken=bearer, accountId="111111111111", maxResults=1)
    assert roles["roleList"] == [{"roleName": "Developer", "accountId": "111111111111"}]
    assert roles["nextToken"]

    portal.logout(accessToken=bearer)
    with pytest.raises(portal.exceptions.UnauthorizedException):
        portal.list_accounts(accessToken=bearer)


def test_faults_reach_botocore_as_the_service_would_send_them(
    stand_in: SsoStandIn, clients: tuple[Any, Any]
) -> None:
    oidc, portal = clients
    stand_in.fault("RegisterClient", status=400, code="InvalidScopeException")
    with pytest.raises(oidc.exceptions.InvalidScopeException):
        _register(oidc)
    stand_in.fault("ListAccounts", status=429, code="TooManyRequestsException", times=1)
    with pytest.raises(portal.exceptions.UnauthorizedException):  # retried, then a real answer
        portal.list_accounts(accessToken="never-issued")
    assert stand_in.count("ListAccounts") == 2
    stand_in.fault("GetRoleCredentials", garbage=True)
    # botocore takes a 200 that is not JSON as an answer without members: a caller must check.
    garbage = portal.get_role_credentials(roleName="r", accountId="1", accessToken="x")
    assert "roleCredentials" not in garbage
