"""A cache hit's cost is paid on every AWS command: it must not import the heavy modules.

Import checks are deterministic where timings are not; the speed itself is measured by the
benchmark (make bench), not here."""

from __future__ import annotations

import sys

import pytest
from support.sandbox import Sandbox

pytestmark = pytest.mark.integration

# The first four would cost a hit more than everything else it does; the rest are each a
# tenth or more of a hit (callgrind), for what a hit needs of them.
HEAVY = (
    *("boto3", "botocore", "urllib3", "filelock", "s3transfer"),
    *("logging", "platformdirs", "typing", "dataclasses", "inspect", "pathlib", "hashlib"),
)


def _imported_modules(stderr: str) -> set[str]:
    """Module names from python -X importtime's report."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_a_cache_hit_imports_none_of_the_heavy_modules(sandbox: Sandbox) -> None:
    argv = [sys.executable, "-X", "importtime", "-m", "credproc", *sandbox.role_args()]
    cold = sandbox.run(argv)
    hit = sandbox.run(argv)

    assert cold.returncode == 0 and hit.returncode == 0
    assert sandbox.server.calls("AssumeRole") == 1  # the second run really was a hit
    assert "boto3" in _imported_modules(cold.stderr)  # the check sees imports when they happen
    loaded = _imported_modules(hit.stderr)
    assert "credproc.cache" in loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert heavy == []
