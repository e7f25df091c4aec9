"""Fixtures: a real moto STS on loopback, and an isolated HOME/AWS config per test.

Every integration test runs credproc (and the aws CLI) as real subprocesses, pointed at the
server with AWS_ENDPOINT_URL: the same mechanism a user would use, no test-only code path.
The classes behind the fixtures, and every other shared helper, are in tests/support/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.sandbox import Sandbox
from support.server import StsServer, running_sts_server


@pytest.fixture(scope="session")
def sts_server() -> Iterator[StsServer]:
    with running_sts_server() as server:
        yield server


@pytest.fixture
def sandbox(tmp_path: Path, sts_server: StsServer) -> Sandbox:
    sts_server.reset()
    return Sandbox.create(tmp_path, sts_server)
