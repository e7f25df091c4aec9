"""`credproc serve` under abuse, from a container namespace of the test's own (support/netns.py):
an oversized request, a client that drips, a thousand connections at once; the server stays
up and answers the others. And an STS outage: the live cached token, within the SDKs'
deadline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.constants import ROLE
from support.netns import Lab
from support.sandbox import Sandbox
from support.serving import in_container, serving_dev

from credproc.endpoint.protocol import CLIENT_DEADLINE

pytestmark = pytest.mark.integration

FLOOD = 1000


@pytest.fixture
def lab() -> Iterator[Lab]:
    with Lab() as made:
        yield made


def _run(lab: Lab, env: dict[str, str], *args: str) -> dict[str, Any]:
    return in_container(lab, env, *args, timeout=180)


def test_oversized_slow_and_a_thousand_connections_leave_the_others_answered(
    lab: Lab, sandbox: Sandbox, tmp_path: Path
) -> None:
    with serving_dev(lab, sandbox, tmp_path) as (sts, server, env):
        big = _run(lab, env, "big")
        slow = _run(lab, env, "slow")
        flood = _run(lab, env, "flood", str(FLOOD))
        after = _run(lab, env, "fetch")
        assert server.process.poll() is None
        assert server.stop() == 0
        assert sts.roles_assumed() == {ROLE: 1}

    assert str(big["big"]).startswith("HTTP/1.0 431 ")
    assert big["status"] == 200
    # Cut off at the deadline for the whole request, however often it sent a byte; answered
    # every fetch meanwhile.
    assert CLIENT_DEADLINE - 1 <= float(slow["closed_after"]) <= CLIENT_DEADLINE + 5
    assert int(slow["ok"]) >= CLIENT_DEADLINE - 2
    assert flood == {"held": FLOOD, "status": 200}  # all held open, and a fetch answered
    assert after["status"] == 200
    assert " - 431 too large " in server.log
    assert " - 408 too slow " in server.log


def test_during_an_outage_the_live_token_is_served_within_the_deadline(
    lab: Lab, sandbox: Sandbox, tmp_path: Path
) -> None:
    with serving_dev(lab, sandbox, tmp_path) as (sts, server, env):
        first = _run(lab, env, "fetch")
        sandbox.expire_entries(seconds_left=600)  # due: inside the 900 s window
        sts.fault("AssumeRole", delay=8)  # STS hangs: each try outlasts any SDK's wait
        during = _run(lab, env, "fetch")
        assert server.stop() == 0
        assert sts.roles_assumed()[ROLE] >= 2  # the refresh did try

    assert first["status"] == during["status"] == 200
    assert during["body"]["AccessKeyId"] == first["body"]["AccessKeyId"]
    assert float(during["seconds"]) < 1.5
