"""The chaos soak, short and on a fixed schedule: `bench/soak.py --seconds 30 --seed 1`
(`make soak` runs ten minutes on a random one, and says its seed).

Faults, clock jumps, kills and tampered cache entries against every path at once, every call
held to the contract; it passes only if nothing broke and the chaos really happened. The
soak's own checks are tested one by one in tests/unit/test_soak_judge.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from support.constants import ROLE
from support.sandbox import Sandbox

from credproc.core.credentials import parse_expiration

ROOT = Path(__file__).resolve().parents[2]
# The same chaos schedule every run: a failure here reproduces with the same seed.
SEED = "1"
SUMMARY = re.compile(r"(\d+) calls, (\d+) faults, (\d+) kills, (\d+) tamperings, (\d+) broken")


@pytest.mark.integration
def test_thirty_seconds_of_chaos_break_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak.py"), "--seconds", "30", "--seed", SEED],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )

    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.stderr.startswith(f"soak: seed {SEED} (replay with --seed {SEED})\n"), report
    assert done.stdout.startswith(f"soak: seed {SEED}, 30 s of chaos"), report
    summary = SUMMARY.fullmatch(done.stdout.splitlines()[-1] if done.stdout else "")
    assert summary, report
    calls, faults, kills, tamperings, broken = map(int, summary.groups())
    assert broken == 0, report
    assert done.returncode == 0, report
    # The chaos happened: a soak that disturbs nothing proves nothing.
    assert calls >= 100, report
    assert faults > 0 and kills > 0 and tamperings > 0, report
    assert "| calls: aws |" in done.stdout and "| calls: api |" in done.stdout


def test_the_server_records_every_token_and_the_skew_it_stated(sandbox: Sandbox) -> None:
    """What the soak checks each token against: the token moto issued, for which role, its
    expiry by STS's clock, and the skew the answer's Date header carried."""
    sandbox.server.skew(120)

    printed = sandbox.main(*sandbox.role_args()).json()

    record = sandbox.server.issued()[printed["AccessKeyId"]]
    assert (record["action"], record["role_arn"], record["skew"]) == ("AssumeRole", ROLE, 120)
    by_sts = datetime.fromisoformat(record["expiration"].replace("Z", "+00:00"))
    # credproc printed STS's expiry in this machine's clock: 120 s earlier, give or take the
    # Date header's whole seconds.
    shift = (by_sts - parse_expiration(printed["Expiration"])).total_seconds()
    assert 118 <= shift <= 122
