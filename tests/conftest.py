"""Fixtures: a real moto STS on loopback, an isolated HOME/AWS config per test, and a real
Secret Service for the tests of the OS keyring.

credproc reaches the server through AWS_ENDPOINT_URL: the same mechanism a user would use, no
test-only code path. A test runs credproc in this process (``sandbox.main``) unless the process
is what it tests; then it runs credproc, the aws CLI, a shell, as real subprocesses and is
marked ``integration``, and only then: ``_the_marker_says_who_starts_processes`` fails a test
that does not match its marker, so ``-m "not integration"`` (make test-fast) is exactly the
tests that start no process. The classes behind the fixtures, and every other shared helper,
are in tests/support/.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.sandbox import Sandbox
from support.secretservice import SecretService, running_secret_service
from support.server import StsServer, running_sts_server
from support.signinserver import SignInStandIn, running_signin
from support.sso import configure
from support.ssoserver import SsoStandIn, running_sso


@pytest.fixture(scope="session")
def sts_server() -> Iterator[StsServer]:
    started = len(_STARTED)
    with running_sts_server() as server:
        del _STARTED[started:]  # one server for the whole run: not the process of one test
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


# Every way a test, or credproc run in-process, starts another process.
_PROCESS_STARTERS: tuple[tuple[Any, str], ...] = (
    (subprocess.Popen, "__init__"),
    (os, "fork"),
    (os, "forkpty"),
    (os, "posix_spawn"),
    (os, "posix_spawnp"),
)
_STARTED: list[str] = []  # by the current test, its fixtures included
# Module-scoped fixtures that started one, by where they are defined and their name: every
# test that uses one started it too (only the first one ran its setup).
_STARTERS: set[tuple[str, str]] = set()
_ORIGINALS: list[tuple[Any, str, Any]] = []


def pytest_configure(config: pytest.Config) -> None:
    for owner, name in _PROCESS_STARTERS:
        if not hasattr(owner, name):
            continue  # Windows has no fork, forkpty nor posix_spawn
        original = getattr(owner, name)
        _ORIGINALS.append((owner, name, original))
        setattr(owner, name, _counted(f"{getattr(owner, '__name__', owner)}.{name}", original))


def pytest_unconfigure(config: pytest.Config) -> None:
    for owner, name, original in _ORIGINALS:
        setattr(owner, name, original)
    _ORIGINALS.clear()


def _counted(label: str, start: Callable[..., Any]) -> Callable[..., Any]:
    def counting(*args: Any, **kwargs: Any) -> Any:
        _STARTED.append(label)
        return start(*args, **kwargs)

    return counting


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    _STARTED.clear()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Iterator[Any]:
    before = len(_STARTED)
    try:
        return (yield)
    finally:
        if len(_STARTED) > before and fixturedef.scope != "function":
            _STARTERS.add((fixturedef.baseid, fixturedef.argname))


@pytest.fixture(autouse=True)
def _the_marker_says_who_starts_processes(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose ``integration`` marker disagrees with what it did: started a process
    (itself or a fixture of function or module scope) or not."""
    yield
    node = request.node.nodeid
    started = _STARTED[:1] + [
        name
        for where, name in sorted(_STARTERS)
        if node.startswith(where) and name in request.fixturenames
    ]
    marked = request.node.get_closest_marker("integration") is not None
    if started and not marked:
        pytest.fail(f"started a process ({started[0]}): mark the test integration", False)
    if marked and not started:
        pytest.fail("marked integration but started no process: remove the marker", False)


@pytest.fixture
def sso(sandbox: Sandbox) -> Iterator[SsoStandIn]:
    """IAM Identity Center's stand-in, with the sandbox's [sso-session corp] and SSO profiles
    (support.sso.PROFILES) pointed at it."""
    with running_sso() as stand_in:
        configure(sandbox, stand_in)
        yield stand_in


@pytest.fixture
def signin(sandbox: Sandbox) -> Iterator[SignInStandIn]:
    """AWS Sign-In's stand-in, which the sandbox's processes reach (AWS_ENDPOINT_URL_SIGNIN);
    support.login.configure adds a signed-in login_session profile and roles built on it."""
    with running_signin() as stand_in:
        sandbox.env.update(stand_in.env)
        yield stand_in


@pytest.fixture
def reaped() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes to kill if a test fails half-way, so none outlives it."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()
