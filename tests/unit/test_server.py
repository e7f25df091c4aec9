"""The endpoint's pieces in-process: who is let in, the command's environment, the [default]
profile check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from credproc.core.credentials import Credentials
from credproc.core.request import Request
from credproc.endpoint.server import (
    DEFAULT_PROFILE_KEYS,
    REMOVED_FROM_COMMAND,
    TOKEN_VARIABLE,
    URI_VARIABLE,
    Endpoint,
    default_profile_shadow,
)

REQUEST = Request("arn:aws:iam::123456789012:role/dev", "base", "credproc-me", 3600)


def credentials(seconds_left: float) -> Credentials:
    moment = datetime.now(timezone.utc) + timedelta(seconds=seconds_left)
    return Credentials("ASIAKEY", "secret", "token", moment.replace(microsecond=0))


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    made = Endpoint(lambda: credentials(3600))
    with made.serving():  # closed on the way out
        yield made


def test_only_exactly_the_token_is_let_in(endpoint: Endpoint) -> None:
    token = endpoint.token
    assert len(token) >= 43  # 32 random bytes
    assert endpoint.authorized([token]) == 0
    assert endpoint.authorized([]) == 401
    assert endpoint.authorized([""]) == 401
    assert endpoint.authorized(["  "]) == 401
    assert endpoint.authorized([token + " "]) == 403
    assert endpoint.authorized([token.upper() if token != token.upper() else token.lower()]) == 403
    assert endpoint.authorized([f"Bearer {token}"]) == 403
    assert endpoint.authorized([token, token]) == 403
    assert endpoint.authorized(["caf\udce9"]) == 403  # undecodable bytes are just wrong


def test_every_endpoint_has_its_own_token_and_port() -> None:
    one, two = Endpoint(lambda: credentials(1)), Endpoint(lambda: credentials(1))
    with one.serving(), two.serving():
        assert one.token != two.token
        assert one.url != two.url
        assert one.url.startswith("http://127.0.0.1:")
        assert one.url.endswith("/credentials")


def test_the_command_gets_the_endpoint_and_nothing_that_would_win_over_it(
    endpoint: Endpoint,
) -> None:
    parent = dict.fromkeys(REMOVED_FROM_COMMAND, "x") | {
        "HOME": "/home/me",
        URI_VARIABLE: "old",
    }
    env = endpoint.command_environment(parent, "eu-west-1")

    assert env == {
        "HOME": "/home/me",
        URI_VARIABLE: endpoint.url,
        TOKEN_VARIABLE: endpoint.token,
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    assert "AWS_REGION" not in endpoint.command_environment({}, None)


def test_loopback_bypasses_a_proxy(endpoint: Endpoint) -> None:
    env = endpoint.command_environment({"https_proxy": "http://proxy:3128"}, None)
    assert "NO_PROXY" not in env  # an https proxy is never used for an http URL

    env = endpoint.command_environment({"http_proxy": "http://proxy:3128", "NO_PROXY": "a,b"}, None)
    assert env["NO_PROXY"] == "a,b,127.0.0.1"
    assert env["no_proxy"] == "127.0.0.1"


@pytest.mark.parametrize("key", DEFAULT_PROFILE_KEYS)
def test_a_default_profile_that_would_win_is_named(tmp_path: Path, key: str) -> None:
    config, creds = tmp_path / "config", tmp_path / "credentials"
    config.write_text(f"[default]\nregion = eu-west-1\n{key} = value\n[profile other]\n{key} = v\n")
    environ = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(creds)}

    message = default_profile_shadow(environ)

    assert message is not None
    assert message.startswith(f"the [default] profile has {key} in {config}: ")


def test_a_default_profile_without_credentials_is_fine(tmp_path: Path) -> None:
    config, creds = tmp_path / "config", tmp_path / "credentials"
    config.write_text("[default]\nregion = eu-west-1\n[profile base]\naws_access_key_id = A\n")
    creds.write_text("[base]\naws_access_key_id = A\n")
    environ = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(creds)}
    assert default_profile_shadow(environ) is None

    creds.write_text("[default]\naws_access_key_id = A\naws_secret_access_key = B\n")
    assert f"aws_access_key_id in {creds}" in (default_profile_shadow(environ) or "")
