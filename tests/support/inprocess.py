"""credproc's command line run inside the test process, as a fresh process would run it.

``Sandbox.main`` is the twin of ``Sandbox.credproc``: the same arguments, the same ``Result``,
without starting Python and importing boto3 again (most of a subprocess's second). A test
switches by that one word wherever the process itself is not what it tests (see
docs/development.md, "Tests"). What a new process would not share with the last run is reset
before and after each run: the environment (replaced whole, so the caller's AWS setup or a
CREDPROC_CHAIN cannot leak in), the working directory, stdin/stdout/stderr, credproc's logging
set-up, and the module-level memories that live for one process: the parsed AWS config files,
the backoffs already reported, the keyring backend chosen from the environment.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import NoReturn

import pytest

from credproc.aws import tokenfile
from credproc.cli.main import main
from credproc.config import awsconfig
from credproc.core import log, provider


class TimedOut(BaseException):
    """The run took longer than its timeout. Not an ``Exception``: main() must not catch it."""


class WouldExec(BaseException):
    """The run reached ``os.exec``: only a subprocess can test that (``Sandbox.credproc``)."""


def _no_exec(*args: object) -> NoReturn:
    raise WouldExec(f"credproc in-process would exec {args[0]!r}: use Sandbox.credproc")


def run_main(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float
) -> tuple[int, str, str]:
    """``credproc ARGV`` through ``credproc.cli.main.main``: (exit status, stdout, stderr).
    Past ``timeout`` seconds the run is interrupted and the test fails, as
    ``subprocess.run(timeout=...)`` would make it fail, instead of hanging."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with _as_a_new_process(env, cwd), pytest.MonkeyPatch.context() as patch:
        # `credproc exec` would replace this process, pytest, with the command: every os.exec*
        # function goes through these two.
        patch.setattr(os, "execv", _no_exec)
        patch.setattr(os, "execve", _no_exec)
        patch.setattr(sys, "stdin", io.StringIO())  # as /dev/null
        patch.setattr(sys, "stdout", stdout)
        patch.setattr(sys, "stderr", stderr)
        with _deadline(timeout):
            status = main(list(argv))
    return status, stdout.getvalue(), stderr.getvalue()


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimedOut(f"credproc did not finish in {seconds:g} s")

    if not hasattr(signal, "setitimer"):  # Windows: the CI job's own timeout bounds a hang
        yield
        return
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _as_a_new_process(env: Mapping[str, str], cwd: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        patch.chdir(cwd)
        _forget_process_state()
        try:
            yield
        finally:
            _forget_process_state()


def _forget_process_state() -> None:
    awsconfig._READ.clear()
    provider._SAID_BACKOFF.clear()
    tokenfile._SAID_MODE.clear()
    # main() sets logging up for its own run (its stderr, its level): undo it, so that the next
    # run, or a test that reads credproc's log with caplog, starts from a clean logger.
    log._forget_setup()
    credproc_log = logging.getLogger(log.NAME)
    credproc_log.setLevel(logging.NOTSET)
    credproc_log.propagate = True
    keyring_core = sys.modules.get("keyring.core")
    if keyring_core is not None:
        # keyring picks its backend once per process, from the environment of that moment.
        keyring_core._keyring_backend = None  # type: ignore[attr-defined]
