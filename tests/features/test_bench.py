"""The benchmark keeps working: a quick run of credproc's part, with its own checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_runs_and_passes_its_checks() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--skip-alternatives"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "credproc, cache hit" in done.stdout
    assert "| endpoint fetch, cache hit " in done.stdout  # credproc exec --server
    assert "| credproc | 1 (" in done.stdout  # one STS call, whatever the concurrency
    assert "none imported" in done.stdout  # of boto3, botocore, urllib3 and filelock
    assert "- all passed" in done.stdout
