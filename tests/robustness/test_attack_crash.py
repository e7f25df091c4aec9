"""Crashes and crowds: a refresher killed with -9 at each step of a refresh while others wait
for it, a lock held by a hung process, and 128 processes started at once.

Nothing here sleeps and hopes. A refresher to be killed before the STS call or before its
rename is frozen there by tests/support/killpoint.py (SIGSTOP) and the test sees it stopped;
one to be killed inside the STS call is seen there by the server's call count; a waiter is seen
waiting by the line credproc -v prints when the lock is taken. Every count is the server's.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections import Counter
from typing import Any

import pytest
from support import entries
from support.assertions import assert_fails, assert_warns
from support.constants import ROLE
from support.hostile import key_of, only_entry, temp_files
from support.processes import hold_lock, stopped_at, wait_all, wait_for_calls
from support.sandbox import Sandbox

pytestmark = pytest.mark.integration

WAITERS = 4


def _kill(victim: subprocess.Popen[str]) -> None:
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL


def _finish(waiters: list[subprocess.Popen[str]]) -> list[str]:
    """Each waiter's key id, after checking it succeeded with one JSON document."""
    tokens = []
    for waiter in waiters:
        stdout, stderr = waiter.communicate(timeout=120)
        assert waiter.returncode == 0, stderr
        assert "error" not in stderr
        tokens.append(json.loads(stdout)["AccessKeyId"])
    return tokens


def test_killed_holding_the_lock_before_the_sts_call(
    sandbox: Sandbox, reaped: list[subprocess.Popen[str]]
) -> None:
    args = sandbox.role_args()
    victim = stopped_at(sandbox, "fetch", *args)
    reaped.append(victim)
    waiters = sandbox.waiting(WAITERS, *args)
    reaped.extend(waiters)
    assert sandbox.server.calls("AssumeRole") == 0

    _kill(victim)
    tokens = _finish(waiters)

    assert len(set(tokens)) == 1
    assert sandbox.server.calls("AssumeRole") == 1  # one waiter's; the others read its entry
    assert sandbox.credproc(*args).json()["AccessKeyId"] == tokens[0]
    assert sandbox.server.calls("AssumeRole") == 1
    assert temp_files(sandbox.cache_dir) == []


def test_killed_inside_the_sts_call(sandbox: Sandbox, reaped: list[subprocess.Popen[str]]) -> None:
    args = sandbox.role_args()
    sandbox.server.fault("AssumeRole", delay=30)
    victim = sandbox.popen(*args)
    reaped.append(victim)
    wait_for_calls(sandbox, "AssumeRole", 1)  # the victim is inside the call now
    waiters = sandbox.waiting(WAITERS, *args)
    reaped.extend(waiters)

    sandbox.server.clear_faults()
    _kill(victim)
    tokens = _finish(waiters)

    assert len(set(tokens)) == 1
    assert sandbox.server.calls("AssumeRole") == 2  # the victim's, then one waiter's
    assert sandbox.credproc(*args).json()["AccessKeyId"] == tokens[0]
    assert temp_files(sandbox.cache_dir) == []


def test_killed_between_the_temp_file_and_the_rename(
    sandbox: Sandbox, reaped: list[subprocess.Popen[str]]
) -> None:
    args = sandbox.role_args()
    # An old token is cached and due for refresh: readers must see it whole, or the new one.
    old = sandbox.credproc(*args).json()["AccessKeyId"]
    entry = only_entry(sandbox.cache_dir)
    sandbox.expire_entries(seconds_left=300)
    old_bytes = entry.read_bytes()

    victim = stopped_at(sandbox, "replace", *args)
    reaped.append(victim)
    (temp,) = temp_files(sandbox.cache_dir)
    victims_token = entries.document(temp)["credentials"]["AccessKeyId"]
    assert entry.read_bytes() == old_bytes  # the rename has not happened
    waiters = sandbox.waiting(WAITERS, *args)
    reaped.extend(waiters)

    _kill(victim)
    tokens = _finish(waiters)

    # The waiters cannot tell a killed refresher from a failed one, so they serve the old
    # entry, whole, which still works; never the orphaned temp file.
    assert set(tokens) == {old}
    assert victims_token != old
    assert sandbox.server.calls("AssumeRole") == 2  # the old token, the victim's
    refreshed = sandbox.credproc(*args).json()["AccessKeyId"]  # the next run refreshes
    assert refreshed not in (old, victims_token)
    assert sandbox.server.calls("AssumeRole") == 3
    assert temp_files(sandbox.cache_dir) == []  # swept by that writer


# -- a hung lock holder ------------------------------------------------------------------------


def test_a_hung_lock_holder_fails_every_waiter_after_the_lock_timeout(
    sandbox: Sandbox, reaped: list[subprocess.Popen[str]]
) -> None:
    holder = hold_lock(sandbox.cache_dir / f"{key_of(sandbox)}.lock")
    reaped.append(holder)
    waiters = [sandbox.popen(*sandbox.role_args(), "--lock-timeout", "2") for _ in range(3)]
    reaped.extend(waiters)

    for result in wait_all(waiters, timeout=60):
        line = assert_fails(result, 6, "over 2 s", "--lock-timeout")
        assert line.startswith("credproc: error: another credproc process has been")
    assert sandbox.server.calls("AssumeRole") == 0

    holder.kill()
    holder.communicate()
    assert sandbox.credproc(*sandbox.role_args()).returncode == 0
    assert sandbox.server.calls("AssumeRole") == 1


def test_a_hung_lock_holder_does_not_withhold_a_token_that_still_works(
    sandbox: Sandbox, reaped: list[subprocess.Popen[str]]
) -> None:
    cached = sandbox.credproc(*sandbox.role_args()).json()["AccessKeyId"]
    sandbox.expire_entries(seconds_left=600)  # due for refresh, valid for 10 minutes
    holder = hold_lock(sandbox.cache_dir / f"{key_of(sandbox)}.lock")
    reaped.append(holder)

    result = sandbox.credproc(*sandbox.role_args(), "--lock-timeout", "1")

    assert result.returncode == 0, result.stderr
    assert result.json()["AccessKeyId"] == cached
    line = assert_warns(result, "serving the cached token")
    assert line.startswith("credproc: WARNING: another credproc process has been")
    assert sandbox.server.calls("AssumeRole") == 1


# -- a crowd ---------------------------------------------------------------------------------


def test_128_processes_make_one_sts_call_per_key(
    sandbox: Sandbox, reaped: list[subprocess.Popen[str]]
) -> None:
    # 64 on one key and 8 on each of 8 more, all started before any can finish: the machine
    # has 2 cores, so STS answers slowly enough for every process to be queued behind it.
    sandbox.server.fault("AssumeRole", delay=1)
    others = [f"arn:aws:iam::123456789012:role/team-{i}" for i in range(8)]
    roles = [ROLE] * 64 + [role for role in others for _ in range(8)]
    processes = [sandbox.popen(*sandbox.role_args(role, "--lock-timeout", "300")) for role in roles]
    reaped.extend(processes)

    tokens: dict[str, set[str]] = {}
    for role, process in zip(roles, processes, strict=True):
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        assert stderr == ""
        tokens.setdefault(role, set()).add(json.loads(stdout)["AccessKeyId"])

    assert all(len(keys) == 1 for keys in tokens.values()), tokens
    calls: Counter[Any] = Counter(p["RoleArn"] for p in sandbox.server.requests("AssumeRole"))
    assert calls == Counter(dict.fromkeys([ROLE, *others], 1))
    assert temp_files(sandbox.cache_dir) == []
