"""The in-process twin of a credproc process (support/inprocess.py) is as fresh as one: it sees
only the sandbox's environment, leaves the test process as it found it, and cannot hang or
replace pytest."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

import pytest
from support.constants import BASE_KEY_ID
from support.inprocess import TimedOut, WouldExec
from support.sandbox import Sandbox

from credproc.errors import CHAIN_VARIABLE


def test_only_the_sandboxs_environment_is_seen_and_the_test_process_is_left_as_it_was(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sandbox.main(*sandbox.role_args())
    assert first.returncode == 0, first.stderr
    (entry,) = sandbox.cache_dir.glob("*.json")
    sandbox.expire_entries(seconds_left=0)
    # The caller's own keys, and a refresh of this very key around the run (a loop, if the run
    # saw it), must not reach it.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOFTHECALLER00000")
    monkeypatch.setenv(CHAIN_VARIABLE, entry.stem)
    environ, cwd, streams = dict(os.environ), Path.cwd(), (sys.stdin, sys.stdout, sys.stderr)

    result = sandbox.main(*sandbox.role_args(), "-v")

    assert result.returncode == 0, result.stderr
    assert "credproc: INFO:" in result.stderr  # -v set logging up for this run
    assert sandbox.server.signers("AssumeRole") == [BASE_KEY_ID, BASE_KEY_ID]
    assert dict(os.environ) == environ
    assert Path.cwd() == cwd
    assert (sys.stdin, sys.stdout, sys.stderr) == streams
    credproc_log = logging.getLogger("credproc")
    assert credproc_log.handlers == []
    assert credproc_log.propagate


def test_a_run_that_would_exec_fails_instead_of_replacing_pytest(sandbox: Sandbox) -> None:
    with pytest.raises(WouldExec, match="would exec"):
        sandbox.main("exec", *sandbox.role_args(), "--", "true")


def test_a_run_past_its_timeout_is_stopped(sandbox: Sandbox) -> None:
    sandbox.server.fault("AssumeRole", delay=3)
    before = set(threading.enumerate())

    with pytest.raises(TimedOut, match="did not finish in 1 s"):
        sandbox.main(*sandbox.role_args(), timeout=1)

    # The STS call goes on in credproc's worker thread, which a process would have taken down
    # with it: let it end here, or its retries would reach the next test's server.
    sandbox.server.clear_faults()
    for worker in set(threading.enumerate()) - before:
        worker.join(timeout=30)
        assert not worker.is_alive(), worker
