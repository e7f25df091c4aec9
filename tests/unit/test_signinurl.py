"""Where ``credproc login`` sends the browser: the Sign-In origin as the AWS CLI finds it
(botocore's endpoint rules, or the environment's endpoint), the authorize link's query, the
code the cross-device page shows, and PKCE."""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse

import pytest

from credproc.aws import pkce, signinurl
from credproc.errors import LoginRequiredError

SAME_DEVICE = "arn:aws:signin:::devtools/same-device"


@pytest.fixture(autouse=True)
def _no_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SIGNIN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")


@pytest.mark.parametrize(
    ("region", "origin"),
    [
        ("us-east-1", "https://us-east-1.signin.aws.amazon.com"),
        ("eu-west-1", "https://eu-west-1.signin.aws.amazon.com"),
        ("cn-north-1", "https://cn-north-1.signin.amazonaws.cn"),
        ("us-gov-west-1", "https://us-gov-west-1.signin.amazonaws-us-gov.com"),
    ],
)
def test_the_regional_origin_comes_from_botocores_endpoint_rules(region: str, origin: str) -> None:
    # Not the legacy resolver's signin.REGION.amazonaws.com (client.meta.endpoint_url).
    assert signinurl.origin(region) == origin


def test_the_environments_endpoint_wins_and_only_its_origin_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1/general")
    assert signinurl.origin("eu-west-1") == "http://127.0.0.1:1"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SIGNIN", "http://127.0.0.1:2/some/path")
    assert signinurl.origin("eu-west-1") == "http://127.0.0.1:2"  # nothing was sent to port 2


def test_the_authorize_link_carries_what_the_cli_sends() -> None:
    url = signinurl.authorize_url(
        "https://eu-west-1.signin.aws.amazon.com",
        SAME_DEVICE,
        "http://127.0.0.1:4567/oauth/callback",
        "the-state",
        "the-challenge",
    )
    parts = urllib.parse.urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://eu-west-1.signin.aws.amazon.com/v1/authorize"
    )
    assert urllib.parse.parse_qsl(parts.query) == [
        ("response_type", "code"),
        ("client_id", SAME_DEVICE),
        ("state", "the-state"),
        ("code_challenge_method", "SHA-256"),
        ("scope", "openid"),
        ("redirect_uri", "http://127.0.0.1:4567/oauth/callback"),
        ("code_challenge", "the-challenge"),
    ]
    assert "+" not in parts.query and ":" not in parts.query  # percent-encoded, as the CLI


def _pasted(**fields: str) -> str:
    return base64.b64encode(urllib.parse.urlencode(fields).encode()).decode()


def test_the_pasted_code_gives_the_authorization_code_of_this_sign_in() -> None:
    assert signinurl.pasted_code(f"  {_pasted(state='s1', code='c-1')}\n", "s1") == "c-1"
    with pytest.raises(LoginRequiredError, match="from another sign-in"):
        signinurl.pasted_code(_pasted(state="s2", code="c-1"), "s1")
    for wrong in ("not base64!", _pasted(state="s1"), base64.b64encode(b"\xff").decode(), ""):
        with pytest.raises(LoginRequiredError, match="not the code the sign-in page shows"):
            signinurl.pasted_code(wrong, "s1")


def test_pkce_is_s256_of_a_long_random_verifier() -> None:
    first, second = pkce.new(), pkce.new()
    assert first.verifier != second.verifier
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,128}", first.verifier)
    digest = hashlib.sha256(first.verifier.encode()).digest()
    assert first.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
