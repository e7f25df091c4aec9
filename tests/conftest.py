"""Fixtures: a real moto STS on loopback, an isolated HOME/AWS config per test, and a real
Secret Service for the tests of the OS keyring.

Every integration test runs credproc (and the aws CLI) as real subprocesses, pointed at the
server with AWS_ENDPOINT_URL: the same mechanism a user would use, no test-only code path.
The classes behind the fixtures, and every other shared helper, are in tests/support/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.sandbox import Sandbox
from support.secretservice import SecretService, running_secret_service
from support.server import StsServer, running_sts_server
from support.sso import configure
from support.ssoserver import SsoStandIn, running_sso


@pytest.fixture(scope="session")
def sts_server() -> Iterator[StsServer]:
    with running_sts_server() as server:
        yield server


@pytest.fixture
def sandbox(tmp_path: Path, sts_server: StsServer) -> Sandbox:
    sts_server.reset()
    return Sandbox.create(tmp_path, sts_server)


@pytest.fixture
def secret_service(sandbox: Sandbox, tmp_path: Path) -> Iterator[SecretService]:
    """A real Secret Service (gnome-keyring on a private D-Bus), unlocked, that the sandbox's
    processes find as the OS keyring; stopped after the test."""
    with running_secret_service(sandbox.home, tmp_path / "secret-service") as service:
        sandbox.env.update(service.env)
        yield service


@pytest.fixture
def sso(sandbox: Sandbox) -> Iterator[SsoStandIn]:
    """IAM Identity Center's stand-in, with the sandbox's [sso-session corp] and SSO profiles
    (support.sso.PROFILES) pointed at it."""
    with running_sso() as stand_in:
        configure(sandbox, stand_in)
        yield stand_in
