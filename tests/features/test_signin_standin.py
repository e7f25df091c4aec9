"""The Sign-In stand-in (tests/support/signinserver.py) speaks botocore's own ``signin`` model:
botocore's client, with botocore's own DPoP proofs, gets every answer and modelled error it
expects, and botocore's ``LoginProvider`` (what the AWS CLI and boto3 use for a
``login_session`` profile) refreshes a session through it. Were its shapes wrong, botocore
would fail to parse them; were its proof checks lax, the bad proofs below would pass."""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.credentials
import botocore.session
import pytest
from awscrt.crypto import EC
from botocore import UNSIGNED
from botocore.config import Config
from support.signinserver import (
    CROSS_DEVICE,
    SAME_DEVICE,
    SignInStandIn,
    challenge,
    running_signin,
)


@pytest.fixture
def stand_in() -> Iterator[SignInStandIn]:
    with running_signin() as server:
        yield server


@pytest.fixture
def home(stand_in: SignInStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """botocore reaches the stand-in only through AWS_ENDPOINT_URL_SIGNIN."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_LOGIN_CACHE_DIRECTORY", str(tmp_path / "login"))
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in stand_in.env.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def _client() -> Any:
    session = boto3.Session(region_name="eu-west-1")
    return session.client("signin", config=Config(signature_version=UNSIGNED))


def _key(pem: str) -> Any:
    lines = [line for line in pem.splitlines() if not line.startswith("-----")]
    return EC.new_key_from_der_data(base64.b64decode("".join(lines)))


def _with_botocore_proofs(client: Any, pem: str) -> Any:
    """botocore's own DPoP handler, as its LoginCredentialFetcher registers it."""
    build = botocore.credentials._build_add_dpop_header_handler  # type: ignore[attr-defined]
    handler = build(_key(pem))
    client.meta.events.register("before-call.signin.CreateOAuth2Token", handler)
    return client


def test_refresh_rotates_and_a_spent_token_is_token_expired(
    stand_in: SignInStandIn, home: Path
) -> None:
    _, session = stand_in.session_document()
    client = _with_botocore_proofs(_client(), str(session["dpopKey"]))
    grant = {
        "clientId": session["clientId"],
        "grantType": "refresh_token",
        "refreshToken": session["refreshToken"],
    }
    answer = client.create_o_auth2_token(tokenInput=grant)["tokenOutput"]
    assert set(answer) == {"accessToken", "tokenType", "expiresIn", "refreshToken", "idToken"}
    assert answer["expiresIn"] == 900
    assert answer["accessToken"]["accessKeyId"].startswith("ASIA")
    assert answer["refreshToken"] != session["refreshToken"]
    with pytest.raises(client.exceptions.AccessDeniedException) as refused:
        client.create_o_auth2_token(tokenInput=grant)  # the spent one
    assert refused.value.response["error"] == "TOKEN_EXPIRED"  # where botocore reads it
    assert refused.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == (
        "AccessDeniedException"
    )
    assert stand_in.count("CreateOAuth2Token:refresh_token") == 2
    assert stand_in.count("BadProof") == 0


def test_ended_sessions_and_missing_permission_are_modelled_errors(
    stand_in: SignInStandIn, home: Path
) -> None:
    for end, expected in (
        (stand_in.change_password, "USER_CREDENTIALS_CHANGED"),
        (stand_in.revoke, "TOKEN_EXPIRED"),
    ):
        _, session = stand_in.session_document()
        end()
        client = _with_botocore_proofs(_client(), str(session["dpopKey"]))
        with pytest.raises(client.exceptions.AccessDeniedException) as refused:
            client.create_o_auth2_token(
                tokenInput={
                    "clientId": session["clientId"],
                    "grantType": "refresh_token",
                    "refreshToken": session["refreshToken"],
                }
            )
        assert refused.value.response["error"] == expected
    stand_in.permitted = False
    _, session = stand_in.session_document()
    client = _with_botocore_proofs(_client(), str(session["dpopKey"]))
    with pytest.raises(client.exceptions.AccessDeniedException) as refused:
        client.create_o_auth2_token(
            tokenInput={
                "clientId": SAME_DEVICE,
                "grantType": "refresh_token",
                "refreshToken": session["refreshToken"],
            }
        )
    assert refused.value.response["error"] == "INSUFFICIENT_PERMISSIONS"


def test_a_call_without_a_good_proof_is_refused(stand_in: SignInStandIn, home: Path) -> None:
    _, session = stand_in.session_document()
    _, other = stand_in.session_document()
    grant = {
        "clientId": SAME_DEVICE,
        "grantType": "refresh_token",
        "refreshToken": session["refreshToken"],
    }
    client = _client()
    with pytest.raises(client.exceptions.ValidationException):  # no proof at all
        client.create_o_auth2_token(tokenInput=grant)
    # A proof from another session's key: well made, but not the key the token is bound to.
    client = _with_botocore_proofs(_client(), str(other["dpopKey"]))
    with pytest.raises(client.exceptions.AccessDeniedException) as refused:
        client.create_o_auth2_token(tokenInput=grant)
    assert refused.value.response["error"] == "invalid_grant"
    # The same proof twice (a replay), then a proof for another URL.
    sent: list[str] = []

    def remember(request: Any, **_: Any) -> None:
        value = request.headers["DPoP"]  # encoded by the time it is sent
        sent.append(value.decode() if isinstance(value, bytes) else value)

    client = _with_botocore_proofs(_client(), str(session["dpopKey"]))
    client.meta.events.register("before-send.signin.CreateOAuth2Token", remember)
    grant["refreshToken"] = client.create_o_auth2_token(tokenInput=grant)["tokenOutput"][
        "refreshToken"
    ]
    replay = _raw_token_call(stand_in, grant, sent[0])
    assert replay == (400, "ValidationException", "INVALID_REQUEST")
    assert stand_in.bad_proofs[-1] == "jti used before"
    header, claims, signature = sent[0].split(".")
    tampered = json.loads(base64.urlsafe_b64decode(claims + "=="))
    tampered["jti"] = "another"
    forged = base64.urlsafe_b64encode(json.dumps(tampered).encode()).rstrip(b"=").decode()
    assert _raw_token_call(stand_in, grant, f"{header}.{forged}.{signature}")[1] == (
        "ValidationException"
    )
    assert stand_in.bad_proofs[-1] == "bad signature"
    assert stand_in.count("BadProof") == 3


def _raw_token_call(
    stand_in: SignInStandIn, grant: dict[str, str], proof: str
) -> tuple[int, str, str]:
    request = urllib.request.Request(  # noqa: S310 - the stand-in on loopback
        f"{stand_in.url}/v1/token",
        data=json.dumps(grant).encode(),
        headers={"Content-Type": "application/json", "DPoP": proof},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            return answer.status, "", ""
    except urllib.error.HTTPError as error:
        with error:
            body = json.loads(error.read())
        return error.code, str(error.headers["x-amzn-ErrorType"]), str(body["error"])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _authorize(stand_in: SignInStandIn, query: dict[str, str]) -> str:
    """The browser's visit to the authorize page: where it is sent next."""
    url = f"{stand_in.url}/v1/authorize?{urllib.parse.urlencode(query)}"
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(url, timeout=30)
    redirect.value.close()
    assert redirect.value.code == 302
    return str(redirect.value.headers["Location"])


def test_same_device_sign_in_and_its_code_grant(stand_in: SignInStandIn, home: Path) -> None:
    verifier = "v" * 64
    redirect = "http://127.0.0.1:4711/oauth/callback"
    location = _authorize(
        stand_in,
        {
            "response_type": "code",
            "client_id": SAME_DEVICE,
            "state": "s-1",
            "code_challenge_method": "SHA-256",
            "scope": "openid",
            "redirect_uri": redirect,
            "code_challenge": challenge(verifier),
        },
    )
    assert location.startswith(redirect + "?")
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert back["state"] == "s-1"
    _, session = stand_in.session_document()  # only for a key the proofs are made with
    client = _with_botocore_proofs(_client(), str(session["dpopKey"]))
    grant = {
        "clientId": SAME_DEVICE,
        "grantType": "authorization_code",
        "code": back["code"],
        "codeVerifier": verifier,
        "redirectUri": redirect,
    }
    with pytest.raises(client.exceptions.ValidationException):
        client.create_o_auth2_token(tokenInput={**grant, "codeVerifier": "w" * 64})
    answer = client.create_o_auth2_token(tokenInput=grant)["tokenOutput"]
    subject = answer["idToken"].split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(subject + "=="))["sub"] == stand_in.identity
    with pytest.raises(client.exceptions.AccessDeniedException):  # a code works once
        client.create_o_auth2_token(tokenInput=grant)
    assert stand_in.count("CreateOAuth2Token:authorization_code") == 3


def test_cross_device_sign_in_shows_the_code_to_paste(stand_in: SignInStandIn, home: Path) -> None:
    confirmation = f"{stand_in.url}/v1/sessions/confirmation"
    location = _authorize(
        stand_in,
        {
            "response_type": "code",
            "client_id": CROSS_DEVICE,
            "state": "s-2",
            "code_challenge_method": "SHA-256",
            "scope": "openid",
            "redirect_uri": confirmation,
            "code_challenge": challenge("x" * 50),
        },
    )
    with urllib.request.urlopen(location, timeout=10) as page:  # noqa: S310 - loopback
        text = page.read().decode()
    pasted = text.split('<pre id="verification-code">')[1].split("</pre>")[0]
    back = dict(urllib.parse.parse_qsl(base64.b64decode(pasted).decode()))
    assert back["state"] == "s-2" and back["code"].startswith("code-")
    # A same-device sign-in must come back to loopback; an unknown client is refused.
    for client_id, redirect in ((SAME_DEVICE, "https://example.com/cb"), ("nobody", confirmation)):
        url = f"{stand_in.url}/v1/authorize?" + urllib.parse.urlencode(
            {"client_id": client_id, "redirect_uri": redirect, "response_type": "code"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)  # noqa: S310 - loopback
        refused.value.close()
        assert refused.value.code == 400


def test_botocores_login_provider_refreshes_through_the_stand_in(
    stand_in: SignInStandIn, home: Path
) -> None:
    identity, session = stand_in.session_document(seconds_left=120)  # within 5 minutes
    (home / "config").write_text(f"[profile dev]\nlogin_session = {identity}\nregion = eu-west-1\n")
    directory = home / "login"
    directory.mkdir(mode=0o700)
    path = directory / (botocore.utils.generate_login_cache_key(identity) + ".json")
    path.write_text(json.dumps(session))
    path.chmod(0o600)
    credentials = botocore.session.Session(profile="dev").get_credentials()
    assert credentials is not None
    frozen = credentials.get_frozen_credentials()
    assert frozen.access_key != session["accessToken"]["accessKeyId"]
    assert stand_in.issued_keys[str(frozen.access_key)] == identity
    assert stand_in.count("CreateOAuth2Token:refresh_token") == 1
    assert stand_in.count("BadProof") == 0
    written = json.loads(path.read_text())
    assert written["refreshToken"] != session["refreshToken"]
    assert list(written) == list(session)
    assert os.stat(path).st_mode & 0o777 == 0o600
