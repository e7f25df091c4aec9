"""credproc's side of ``aws login`` sessions, one module at a time: the session file
(aws/logintoken), the DPoP proofs (aws/dpop) and Sign-In's token endpoint (aws/signin),
against the stand-in on loopback, and with botocore's own LoginProvider on the same file:
botocore refreshes a file credproc wrote, credproc one botocore wrote."""

from __future__ import annotations

import json
import os
import stat
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import botocore.utils
import pytest
from support.signinserver import (
    SAME_DEVICE,
    SignInStandIn,
    challenge,
    key_thumbprint,
    running_signin,
)

from credproc.aws import boto, dpop, logintoken, signin, signinurl, tokenfile
from credproc.errors import AuthError, ConfigError, LoginRequiredError, ServiceUnavailableError


@pytest.fixture
def stand_in() -> Iterator[SignInStandIn]:
    with running_signin() as server:
        yield server


@pytest.fixture
def environ(
    stand_in: SignInStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The process's environment (botocore reads it) and the one credproc is handed."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.delenv("AWS_LOGIN_CACHE_DIRECTORY", raising=False)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in stand_in.env.items():
        monkeypatch.setenv(name, value)
    return {"HOME": str(tmp_path)}


def _signed_in(
    stand_in: SignInStandIn, environ: dict[str, str], seconds_left: float = 900, **extra: Any
) -> tuple[str, dict[str, Any], Path]:
    """A session as ``aws login`` (botocore's JSONFileCache) leaves it on disk."""
    identity, document = stand_in.session_document(seconds_left, **extra)
    directory = Path(logintoken.cache_dir(environ))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{botocore.utils.generate_login_cache_key(identity)}.json"
    botocore.utils.JSONFileCache(str(directory))[path.stem] = document
    return identity, document, path


# -- the session file ---------------------------------------------------------------------


def test_the_file_is_where_botocore_looks(tmp_path: Path) -> None:
    environ = {"HOME": str(tmp_path)}
    name = botocore.utils.generate_login_cache_key("arn:aws:iam::1:user/a") + ".json"
    assert logintoken.token_path("arn:aws:iam::1:user/a", environ) == str(
        tmp_path / ".aws" / "login" / "cache" / name
    )
    moved = {**environ, "AWS_LOGIN_CACHE_DIRECTORY": "~/elsewhere/$WHERE", "WHERE": "x"}
    os.environ["WHERE"] = "x"
    try:
        assert logintoken.cache_dir(moved) == str(tmp_path / "elsewhere" / "x")
    finally:
        del os.environ["WHERE"]


def test_read_and_write_keep_the_clis_bytes(
    stand_in: SignInStandIn, environ: dict[str, str]
) -> None:
    identity, document, path = _signed_in(stand_in, environ, signInRegion="eu-west-1")
    cli_bytes = path.read_bytes()
    token = logintoken.read(identity, environ)
    assert token is not None
    assert token.access_key_id == document["accessToken"]["accessKeyId"]
    assert token.account_id == "111111111111"
    assert "Secret" not in repr(token) and token.secret_access_key not in repr(token)
    path.unlink()
    logintoken.write(identity, token, environ)
    assert path.read_bytes() == cli_bytes  # the same JSON, the same order, signInRegion kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert logintoken.read("arn:aws:iam::111111111111:user/nobody", environ) is None


def test_a_file_being_rewritten_in_place_is_read_again(
    stand_in: SignInStandIn, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    identity, _, path = _signed_in(stand_in, environ)
    whole = path.read_bytes()
    for partial in (b"", whole[: len(whole) // 2]):
        path.write_bytes(partial)  # what an older CLI's truncate-and-write leaves meanwhile
        pauses: list[int] = []

        def finish_writing(pauses: list[int] = pauses, whole: bytes = whole) -> None:
            pauses.append(1)
            if len(pauses) == 2:  # the CLI finishes while credproc waits
                path.write_bytes(whole)

        monkeypatch.setattr(logintoken, "_pause", finish_writing)
        token = logintoken.read(identity, environ)
        assert token is not None and len(pauses) == 2
    path.write_bytes(b"")  # and one that never becomes whole: not "signed out"
    monkeypatch.setattr(logintoken, "_pause", lambda: None)
    with pytest.raises(ConfigError, match="not a whole aws login session file"):
        logintoken.read(identity, environ)


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        ('{"accessToken": {"accessKeyId": "A"}}', 0o600, "no refreshToken, dpopKey, clientId"),
        ("[1, 2]", 0o600, "not a whole"),
        ("{}", 0o644, "no accessToken, refreshToken, dpopKey, clientId"),
    ],
)
def test_a_file_that_is_no_session_is_named(
    tmp_path: Path, content: str, mode: int, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {"HOME": str(tmp_path)}
    path = Path(logintoken.token_path("arn:aws:iam::1:user/a", environ))
    path.parent.mkdir(parents=True)
    path.write_text(content)
    path.chmod(mode)
    monkeypatch.setattr(logintoken, "_pause", lambda: None)
    with pytest.raises(ConfigError, match=message):
        logintoken.read("arn:aws:iam::1:user/a", environ)


def test_a_session_at_0644_is_read_said_once_and_written_back_0600(
    stand_in: SignInStandIn,
    environ: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As botocore reads it and as credproc reads an SSO token file: any mode of the user's."""
    monkeypatch.setattr(tokenfile, "_SAID_MODE", set())
    identity, document, path = _signed_in(stand_in, environ)
    path.chmod(0o644)
    first = logintoken.read(identity, environ)
    second = logintoken.read(identity, environ)
    assert first is not None and second == first
    assert first.access_key_id == document["accessToken"]["accessKeyId"]
    (said,) = [record.getMessage() for record in caplog.records]  # once, not at every read
    assert "mode 644" in said and f"chmod 600 {path}" in said
    assert first.secret_access_key not in said
    logintoken.write(identity, first, environ)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_file_not_of_the_users_own_is_neither_read_nor_replaced(
    stand_in: SignInStandIn, environ: dict[str, str], tmp_path: Path, kind: str
) -> None:
    identity, document, path = _signed_in(stand_in, environ)
    elsewhere = tmp_path / "elsewhere.json"
    path.rename(elsewhere)
    if kind == "symlink":
        path.symlink_to(elsewhere)
    else:
        os.mkfifo(path, 0o600)
    why = "symlink" if kind == "symlink" else "not a regular file"
    with pytest.raises(ConfigError, match=f"not an aws login session file of yours.*{why}"):
        logintoken.read(identity, environ)
    token = logintoken.LoginToken("A", "S", "T", "1", time.time(), "c", "r", "k")
    with pytest.raises(ConfigError, match=why):
        logintoken.write(identity, token, environ)
    assert os.path.islink(path) == (kind == "symlink")
    assert json.loads(elsewhere.read_text()) == document


def test_a_foreign_file_is_never_replaced(tmp_path: Path) -> None:
    environ = {"HOME": str(tmp_path)}
    path = Path(logintoken.token_path("arn:aws:iam::1:user/a", environ))
    path.parent.mkdir(parents=True)
    path.write_text('{"something": "else"}')
    path.chmod(0o600)
    token = logintoken.LoginToken("A", "S", "T", "1", time.time(), "c", "r", "k")
    with pytest.raises(ConfigError, match="is not an aws login session file"):
        logintoken.write("arn:aws:iam::1:user/a", token, environ)
    with pytest.raises(ConfigError):
        logintoken.remove("arn:aws:iam::1:user/a", environ)
    assert path.read_text() == '{"something": "else"}'


# -- the proofs ---------------------------------------------------------------------------


def test_the_key_is_stored_as_the_cli_stores_it(stand_in: SignInStandIn) -> None:
    _, document = stand_in.session_document()
    key = dpop.ProofKey.from_pem(document["dpopKey"])
    assert key.to_pem() == document["dpopKey"]
    pem = dpop.ProofKey.generate().to_pem()
    lines = pem.splitlines()
    assert lines[0] == "-----BEGIN EC PRIVATE KEY-----" and pem.endswith("-----\n")
    assert all(len(line) <= 64 for line in lines)
    assert repr(key) == "ProofKey(P-256)"
    with pytest.raises(ValueError, match="not a PEM private key"):
        dpop.ProofKey.from_pem(
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"
        )


def test_without_the_extra_one_line_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dpop, "ec", None)
    assert not dpop.available()
    with pytest.raises(ConfigError, match=r"pip install 'credproc\[login\]'$"):
        dpop.ProofKey.generate()


# -- the token endpoint -------------------------------------------------------------------


def test_refresh_renews_and_rotates(stand_in: SignInStandIn, environ: dict[str, str]) -> None:
    identity, _, _ = _signed_in(stand_in, environ, seconds_left=60)
    token = logintoken.read(identity, environ)
    assert token is not None
    renewed = signin.refresh(token, "eu-west-1", "dev")
    assert renewed.refresh_token != token.refresh_token
    assert renewed.dpop_key == token.dpop_key and renewed.client_id == token.client_id
    assert 890 < renewed.seconds_left() <= 900
    assert stand_in.issued_keys[renewed.access_key_id] == identity
    assert stand_in.count("CreateOAuth2Token:refresh_token") == 1
    assert stand_in.count("BadProof") == 0
    with pytest.raises(LoginRequiredError) as spent:
        signin.refresh(token, "eu-west-1", "dev")  # the old refresh token: spent
    assert str(spent.value) == (
        "the aws login session of profile 'dev' has ended (TOKEN_EXPIRED: expired, revoked, or "
        "refreshed elsewhere); sign in again: credproc login --profile dev"
    )
    assert spent.value.exit_code == 4


def test_a_retried_call_proves_itself_again(
    stand_in: SignInStandIn, environ: dict[str, str]
) -> None:
    identity, _, _ = _signed_in(stand_in, environ)
    token = logintoken.read(identity, environ)
    assert token is not None
    stand_in.fault("CreateOAuth2Token", status=500, times=1)
    signin.refresh(token, "eu-west-1", "dev")
    assert stand_in.count("CreateOAuth2Token") == 2
    assert stand_in.count("BadProof") == 0  # a fresh jti for the second attempt


@pytest.mark.parametrize(
    ("end", "error", "words"),
    [
        ("change_password", LoginRequiredError, "has ended: the identity's credentials changed"),
        ("revoke", LoginRequiredError, "credproc login --profile dev"),
        ("deny", AuthError, "attach the SignInLocalDevelopmentAccess managed policy"),
    ],
)
def test_what_the_service_refuses(
    stand_in: SignInStandIn, environ: dict[str, str], end: str, error: type[Exception], words: str
) -> None:
    identity, _, _ = _signed_in(stand_in, environ)
    token = logintoken.read(identity, environ)
    assert token is not None
    if end == "deny":
        stand_in.permitted = False
    else:
        getattr(stand_in, end)()
    with pytest.raises(error) as refused:
        signin.refresh(token, "eu-west-1", "dev")
    assert words in str(refused.value)
    assert "profile 'dev'" in str(refused.value)
    assert token.refresh_token not in str(refused.value)


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503, "code": "InternalServerException"},
        {"status": 429, "code": "TooManyRequestsError", "error": "rate_exceeded"},
        {"reset": True},
        {"garbage": True},
        {"body": "<html>captive portal</html>", "status": 200},
    ],
)
def test_an_outage_is_unavailable(
    stand_in: SignInStandIn, environ: dict[str, str], fault: dict[str, Any]
) -> None:
    identity, _, _ = _signed_in(stand_in, environ)
    token = logintoken.read(identity, environ)
    assert token is not None
    stand_in.fault("CreateOAuth2Token", **fault)
    with pytest.raises(ServiceUnavailableError) as failed:
        signin.refresh(token, "eu-west-1", "dev")
    assert failed.value.exit_code == 5


def test_a_stalled_service_ends_within_the_deadline(
    stand_in: SignInStandIn, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    identity, _, _ = _signed_in(stand_in, environ)
    token = logintoken.read(identity, environ)
    assert token is not None
    monkeypatch.setattr(boto, "DEADLINE", 1.0)
    stand_in.fault("CreateOAuth2Token", delay=4)
    started = time.monotonic()
    with pytest.raises(
        ServiceUnavailableError, match="did not finish CreateOAuth2Token within 1 s"
    ):
        signin.refresh(token, "eu-west-1", "dev")
    assert time.monotonic() - started < 3


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_a_sign_in_ends_in_a_session_botocore_uses(
    stand_in: SignInStandIn, environ: dict[str, str], tmp_path: Path
) -> None:
    """The authorization-code grant (what ``credproc login`` calls after the browser): its
    session, written by credproc, is one botocore's LoginProvider reads and refreshes."""
    verifier = "Z" * 64
    redirect = "http://127.0.0.1:5555/oauth/callback"
    base = signinurl.origin("eu-west-1")
    url = signinurl.authorize_url(base, SAME_DEVICE, redirect, "st", challenge(verifier))
    assert url.startswith(f"{stand_in.url}/v1/authorize?")
    with pytest.raises(urllib.error.HTTPError) as sent:
        urllib.request.build_opener(_NoRedirect).open(url, timeout=30)
    sent.value.close()
    back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(sent.value.headers["Location"]).query))
    key = dpop.ProofKey.generate()
    token, login_session = signin.exchange_code(
        region="eu-west-1",
        profile="dev",
        client_id=SAME_DEVICE,
        code=back["code"],
        verifier=verifier,
        redirect_uri=redirect,
        key=key,
    )
    assert login_session == stand_in.identity and token.account_id == "111111111111"
    assert key_thumbprint(token.dpop_key) == key_thumbprint(key.to_pem())
    with pytest.raises(LoginRequiredError, match=r"\(invalid_grant\)"):
        signin.exchange_code(
            region="eu-west-1",
            profile="dev",
            client_id=SAME_DEVICE,
            code=back["code"],
            verifier=verifier,
            redirect_uri=redirect,
            key=key,
        )
    logintoken.write(login_session, token._replace(expires_at=time.time() + 60), environ)
    (tmp_path / "config").write_text(
        f"[profile dev]\nlogin_session = {login_session}\nregion = eu-west-1\n"
    )
    credentials = botocore.session.Session(profile="dev").get_credentials()
    assert credentials is not None
    frozen = credentials.get_frozen_credentials()
    assert frozen.access_key != token.access_key_id  # botocore refreshed it, with our key
    assert stand_in.count("CreateOAuth2Token:refresh_token") == 1
    assert stand_in.count("BadProof") == 0


def test_botocore_and_credproc_refresh_each_others_files(
    stand_in: SignInStandIn, environ: dict[str, str], tmp_path: Path
) -> None:
    identity, _, path = _signed_in(stand_in, environ, seconds_left=60)
    (tmp_path / "config").write_text(
        f"[profile dev]\nlogin_session = {identity}\nregion = eu-west-1\n"
    )

    def botocore_refreshes() -> str:
        credentials = botocore.session.Session(profile="dev").get_credentials()
        assert credentials is not None
        return str(credentials.get_frozen_credentials().access_key)

    def credproc_refreshes() -> str:
        token = logintoken.read(identity, environ)
        assert token is not None
        with logintoken.session_lock(identity, environ, timeout=10):
            renewed = signin.refresh(token, "eu-west-1", "dev")
            logintoken.write(identity, renewed._replace(expires_at=time.time() + 60), environ)
        return renewed.access_key_id

    keys = [botocore_refreshes(), credproc_refreshes(), botocore_refreshes(), credproc_refreshes()]
    assert len(set(keys)) == 4
    assert stand_in.count("CreateOAuth2Token:refresh_token") == 4
    assert stand_in.count("BadProof") == 0
    assert json.loads(path.read_text())["accessToken"]["accessKeyId"] == keys[-1]


def test_the_cross_device_code_is_read_as_the_page_shows_it(
    stand_in: SignInStandIn, environ: dict[str, str]
) -> None:
    base = signinurl.origin("eu-west-1")
    assert signinurl.confirmation_uri(base) == f"{stand_in.url}/v1/sessions/confirmation"
    page = stand_in.confirmation({"code": "code-abc", "state": "s-9"})
    shown = page.split('<pre id="verification-code">')[1].split("</pre>")[0]
    assert signin.pasted_code(f"  {shown}\n") == ("code-abc", "s-9")
    for pasted in ("not base64!", "c3RhdGU9eA==", ""):  # the last but one: state=x, no code
        with pytest.raises(ValueError, match="not the code the sign-in page showed"):
            signin.pasted_code(pasted)
