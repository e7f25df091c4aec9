"""The benchmark keeps working and measures what it claims: a quick run of credproc's part,
its tables read back as numbers, each held to what must be true of any honest run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

Table = list[dict[str, str]]


def tables(report: str) -> dict[str, Table]:
    """Every Markdown table of the report, by the start of its title: one dict per row."""
    found: dict[str, Table] = {}
    title = ""
    for line in report.splitlines():
        if line.startswith("## "):
            title = line[3:]
        elif line.startswith("| ") and title:
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            if title not in found:
                found[title] = []
                headers = cells
            elif not set(cells[0]) <= {"-"}:
                found[title].append(dict(zip(headers, cells, strict=True)))
    return found


def table(found: dict[str, Table], start: str) -> dict[str, dict[str, str]]:
    """The table whose title starts with ``start``, rows by their first cell."""
    (rows,) = [rows for title, rows in found.items() if title.startswith(start)]
    return {next(iter(row.values())): row for row in rows}


def test_quick_benchmark_measures_a_hit_a_refresh_and_one_sts_call() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--skip-alternatives"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.rstrip().endswith("## Checks\n\n- all passed")
    found = tables(done.stdout)
    hot = table(found, "Hot path")
    cold = table(found, "Cold path")
    hit = float(hot["credproc, cache hit"]["median ms"])
    profile_hit = float(hot["credproc --profile, cache hit"]["median ms"])
    refresh = float(cold["cold refresh, median wall time"]["ms"])
    # A hit that refreshed, or a refresh served from a cache, would not fit these.
    assert 0 < hit < refresh / 2, (hit, refresh)
    assert 0 < profile_hit < refresh / 2, (profile_hit, refresh)
    # The SSO role's form, through its stand-in: a hit too (its GetRoleCredentials count is
    # one of the checks).
    sso_hit = float(hot["credproc --profile (SSO role), cache hit"]["median ms"])
    assert 0 < sso_hit < refresh / 2, (sso_hit, refresh)
    assert float(cold["for comparison: a cache hit"]["ms"]) == hit
    # Every cold burst, whatever N, made exactly one AssumeRole call at the server.
    bursts = table(found, "Concurrency")["credproc"]
    counts = [cell.split(" (")[0] for name, cell in bursts.items() if name.startswith("N=")]
    assert counts and set(counts) == {"1"}, bursts
    endpoint = table(found, "Endpoint")
    fetch = float(endpoint["endpoint fetch, cache hit"]["median ms"])
    assert fetch < float(endpoint["credproc credential_process, cache hit"]["median ms"])
    served = float(endpoint["serve fetch, cache hit"]["median ms"])  # credproc serve's
    assert served < float(endpoint["credproc credential_process, cache hit"]["median ms"])
    # The warm commands were checked to go through the fence (else the checks above fail).
    warm = table(found, "Warm commands")
    assert {f"credproc env --format {f}" for f in ("sh", "fish", "powershell", "dotenv")} <= set(
        warm
    )
    assert {"credproc exec -- true", "first run after an edit of the AWS config"} <= set(warm)
    imports = table(found, "Imports on a credproc cache hit")
    banned = imports["of the modules credproc.core.hit bans (BANNED_ON_HIT)"]
    assert banned["value"] == "none imported"
