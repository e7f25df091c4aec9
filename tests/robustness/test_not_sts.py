"""Whatever answers in STS's place is STS being unavailable, and network trouble is too.

A captive portal, a proxy's login page, a load balancer's JSON, an empty or truncated answer,
XML of another shape, binary: each is an outage (a due token that still lives is served with
one warning; without one, exit 5 with one line naming the endpoint, the status and the content
type, never the body). What is the user's own configuration fails at once with exit 3."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

import pytest
from support.assertions import assert_fails, assert_warns
from support.constants import ROLE
from support.sandbox import Sandbox

from credproc.aws.boto import MAX_ATTEMPTS
from credproc.config.options import RawOptions
from credproc.config.resolve import resolve
from credproc.core.cache import Cache
from credproc.core.credentials import Credentials

SECRET_MARK = "SECRET-BODY-MARK"  # in every body: it must never reach stderr
# name: (status, content type, body, attempts the server sees: 5xx answers are retried)
ANSWERS: dict[str, tuple[int, str, str, int]] = {
    "captive portal": (200, "text/html", f"<html><body>Log in {SECRET_MARK}</body></html>", 1),
    "proxy login": (407, "text/html", f"<html>Proxy auth {SECRET_MARK}</html>", 1),
    "forbidden page": (403, "text/html; charset=utf-8", f"<h1>No {SECRET_MARK}</h1>", 1),
    "gateway page": (502, "text/html", f"<html>Bad gateway {SECRET_MARK}</html>", MAX_ATTEMPTS),
    "json": (200, "application/json", f'{{"message": "{SECRET_MARK}"}}', 1),
    "empty": (200, "text/xml", "", 1),
    "truncated": (
        200,
        "text/xml",
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<AssumeRoleResult><Credentials><AccessKeyId>{SECRET_MARK}",
        1,
    ),
    "xml of another shape": (
        200,
        "text/xml",
        f'<?xml version="1.0"?><Portal><Login url="{SECRET_MARK}"/></Portal>',
        1,
    ),
    "binary": (200, "application/octet-stream", f"\x00\xff\xfe\x01{SECRET_MARK}\x80", 1),
}


def _cache_a_due_token(sandbox: Sandbox) -> str:
    token: str = sandbox.main(*sandbox.role_args()).json()["AccessKeyId"]
    sandbox.expire_entries(seconds_left=600)
    sandbox.server.reset()
    return token


def _fault(sandbox: Sandbox, answer: str) -> None:
    status, content_type, body, _ = ANSWERS[answer]
    sandbox.server.fault("AssumeRole", status=status, content_type=content_type, body=body)


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_an_answer_that_is_not_sts_serves_a_live_token(sandbox: Sandbox, answer: str) -> None:
    token = _cache_a_due_token(sandbox)
    _fault(sandbox, answer)

    result = sandbox.main(*sandbox.role_args())

    assert result.json()["AccessKeyId"] == token
    assert_warns(result, "not an STS response", "serving the cached token")
    assert SECRET_MARK not in result.stderr
    assert sandbox.server.calls("AssumeRole") == ANSWERS[answer][3]


@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_an_answer_that_is_not_sts_without_a_token_is_exit_5(sandbox: Sandbox, answer: str) -> None:
    _fault(sandbox, answer)
    status, content_type, _, _ = ANSWERS[answer]

    result = sandbox.main(*sandbox.role_args())

    line = assert_fails(result, 5, sandbox.server.url, f"HTTP {status}")
    assert content_type.split(";")[0] in line
    assert SECRET_MARK not in result.stderr


def _dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_proxy_that_cannot_be_reached_is_an_outage(sandbox: Sandbox) -> None:
    token = _cache_a_due_token(sandbox)
    proxy = {"HTTP_PROXY": f"http://127.0.0.1:{_dead_port()}", "NO_PROXY": ""}

    stale = sandbox.main(*sandbox.role_args(), env=proxy)
    (sandbox.cache_dir / next(p.name for p in sandbox.cache_dir.glob("*.json"))).unlink()
    failed = sandbox.main(*sandbox.role_args(), env=proxy)

    assert stale.json()["AccessKeyId"] == token
    assert_warns(stale, "proxy cannot be reached", "serving the cached token")
    assert_fails(failed, 5, "proxy cannot be reached")
    assert sandbox.server.calls() == 0


def _cache_for(sandbox: Sandbox, endpoint: str, seconds_left: int) -> None:
    """A token cached for the request as made with this endpoint (as a past refresh would)."""
    environ = {**sandbox.env, "AWS_ENDPOINT_URL": endpoint}
    request = resolve(RawOptions(role_arn=ROLE, source_profile="base"), environ)
    expiry = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=seconds_left)
    Cache(request.cache_dir or "").write(request, Credentials("ASIAOLD", "s", "t", expiry), 0.0)


def test_a_tls_failure_is_an_outage(sandbox: Sandbox) -> None:
    # https to a server that speaks plain HTTP: the handshake fails, as with an intercepting
    # proxy or something that is not STS at all.
    endpoint = sandbox.server.url.replace("http://", "https://")
    _cache_for(sandbox, endpoint, seconds_left=600)

    stale = sandbox.main(*sandbox.role_args(), env={"AWS_ENDPOINT_URL": endpoint})
    sandbox.main("cache", "clear", "--all")
    failed = sandbox.main(*sandbox.role_args(), env={"AWS_ENDPOINT_URL": endpoint})

    assert stale.json()["AccessKeyId"] == "ASIAOLD"
    assert_warns(stale, "TLS handshake failed")
    assert_fails(failed, 5, "TLS handshake failed", endpoint)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AWS_ENDPOINT_URL", "not a url"),
        ("AWS_ENDPOINT_URL", "ftp://127.0.0.1/"),
        ("AWS_ENDPOINT_URL_STS", "127.0.0.1:8080"),
        ("AWS_ENDPOINT_URL_STS", "http://"),
    ],
)
def test_an_endpoint_that_is_no_url_is_a_config_error(
    sandbox: Sandbox, variable: str, value: str
) -> None:
    result = sandbox.main(*sandbox.role_args(), env={variable: value})

    assert_fails(result, 3, variable, "http:// or https:// URL")
    assert sandbox.server.calls() == 0


def test_a_ca_bundle_that_is_missing_is_a_config_error(sandbox: Sandbox) -> None:
    result = sandbox.main(*sandbox.role_args(), env={"AWS_CA_BUNDLE": "/no/such/ca.pem"})

    assert_fails(result, 3, "AWS_CA_BUNDLE", "/no/such/ca.pem")
    assert sandbox.server.calls() == 0
