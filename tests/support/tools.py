"""Outside programs a test needs (a shell, Xvfb, a keyring daemon, node): found, or the test
is skipped with the reason, except in CI, where a missing program is a failure.

.ci/run installs every program the suite uses, so in CI (CI=true) a skip would hide a test
that never ran; on a developer's machine a skip says what to install."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def require(program: str, package: str | None = None) -> str:
    """The program's path; else skip (fail in CI) naming the Debian package to install."""
    path = shutil.which(program)
    if path is not None:
        return path
    reason = f"{program} is not installed (Debian package {package or program})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: .ci/run should have installed it")
    pytest.skip(reason)


def require_path(path: Path, how: str) -> Path:
    """A file or directory a test needs that .ci/run puts in place (node_modules); else skip
    (fail in CI) saying how to make it."""
    if path.exists():
        return path
    reason = f"{path} is missing ({how})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: .ci/run should have made it")
    pytest.skip(reason)
