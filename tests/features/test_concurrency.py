"""Many processes, one STS call: the per-key lock, counted at the server."""

from __future__ import annotations

import os
import signal

import pytest
from support.assertions import assert_fails
from support.constants import ROLE
from support.processes import hold_lock, wait_for_calls
from support.sandbox import Sandbox

pytestmark = pytest.mark.integration


def test_cold_parallel_processes_make_one_sts_call(sandbox: Sandbox) -> None:
    sandbox.server.fault("AssumeRole", delay=1.5)  # everyone arrives while STS is busy
    processes = [sandbox.popen(*sandbox.role_args()) for _ in range(24)]
    results = [process.communicate(timeout=120) for process in processes]

    assert [p.returncode for p in processes] == [0] * 24, results[0][1]
    assert len({stdout for stdout, _ in results}) == 1
    assert all(stderr == "" for _, stderr in results)
    assert sandbox.server.calls("AssumeRole") == 1


def test_different_roles_do_not_wait_for_each_other(sandbox: Sandbox) -> None:
    sandbox.server.fault("AssumeRole", delay=5)
    slow = sandbox.popen(*sandbox.role_args(f"{ROLE}-slow"))
    wait_for_calls(sandbox, "AssumeRole", 1)  # the slow role holds its lock now
    sandbox.server.clear_faults()

    other = sandbox.credproc(*sandbox.role_args(f"{ROLE}-other", "--lock-timeout", "2"))
    still_running = slow.poll() is None
    slow.communicate(timeout=60)

    assert other.returncode == 0, other.stderr
    assert still_running  # the other role finished while the slow one was inside STS
    assert slow.returncode == 0


def test_a_hung_refresher_makes_waiters_fail_after_the_lock_timeout(sandbox: Sandbox) -> None:
    # Learn the key's lock path from a real run, then empty the cache so the next run refreshes.
    assert sandbox.credproc(*sandbox.role_args()).returncode == 0
    (entry,) = sandbox.cache_dir.glob("*.json")
    entry.unlink()
    holder = hold_lock(entry.with_suffix(".lock"))
    try:
        result = sandbox.credproc(*sandbox.role_args(ROLE, "--lock-timeout", "1"))
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()

    assert_fails(result, 6, "another credproc process has been refreshing this role for over 1 s")
    assert sandbox.server.calls("AssumeRole") == 1


def test_kill_9_during_refresh_blocks_and_corrupts_nothing(sandbox: Sandbox) -> None:
    sandbox.server.fault("AssumeRole", delay=30)
    victim = sandbox.popen(*sandbox.role_args())
    wait_for_calls(sandbox, "AssumeRole", 1)
    # Returned once it has said (-v) that it waits for the victim's lock: it really queued.
    (waiter,) = sandbox.waiting(1, *sandbox.role_args())
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=30)
    sandbox.server.clear_faults()

    stdout, stderr = waiter.communicate(timeout=60)
    after = sandbox.credproc(*sandbox.role_args())

    assert victim.returncode == -signal.SIGKILL
    assert waiter.returncode == 0, stderr
    assert after.returncode == 0 and after.stdout == stdout
    assert sandbox.server.calls("AssumeRole") == 2  # the victim's, then the waiter's
    assert [p.name for p in sandbox.cache_dir.iterdir() if p.name.startswith(".")] == []
