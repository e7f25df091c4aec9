"""Processes side by side: collect them, see one reach STS, hold a lock, freeze a refresh at a
chosen point. Nothing sleeps and hopes: every wait is for something seen (a server count, a
line, a stopped process), and bounded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from support.sandbox import Result, Sandbox

KILLPOINT = Path(__file__).with_name("killpoint.py")


Killed = TypeVar("Killed", bound="KilledAtEnd")


class KilledAtEnd:
    """A context manager over ``self.process``: killed (and reaped, bounded) when the block
    ends with it still running, so no test leaves one behind."""

    process: subprocess.Popen[str]
    WAIT = 60  # seconds

    def __enter__(self: Killed) -> Killed:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(self.WAIT)


def wait_all(processes: list[subprocess.Popen[str]], timeout: float = 90) -> list[Result]:
    """Collect every process, each with a timeout: a deadlock fails the test, never hangs it."""
    results: list[Result] = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=timeout)
        results.append(Result(process.returncode, stdout, stderr))
    return results


def wait_for_calls(sandbox: Sandbox, action: str, count: int) -> None:
    """Poll the server until it has seen ``count`` ``action`` calls (bounded: 30 s): the last
    caller is now inside STS, holding its refresh lock."""
    deadline = time.monotonic() + 30
    while sandbox.server.calls(action) < count:
        assert time.monotonic() < deadline, f"no {action} call reached the server"
        time.sleep(0.05)


def hold_lock(lock: Path) -> subprocess.Popen[str]:
    """Another process that takes the refresh lock at ``lock`` the way credproc does, then
    hangs, as a stuck refresher would. Returned once it holds the lock; the caller kills it."""
    lock.parent.mkdir(mode=0o700, exist_ok=True)
    code = (
        "import filelock, sys, time\n"
        "lock = filelock.FileLock(sys.argv[1], mode=0o600)\n"
        "lock.acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(300)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(lock)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    return holder


def stopped_at(sandbox: Sandbox, point: str, *args: str) -> subprocess.Popen[str]:
    """A credproc refresh frozen at ``point`` (see killpoint.py), still holding whatever it
    holds there: SIGKILL it, or SIGCONT it to let it finish."""
    frozen = subprocess.Popen(
        [sys.executable, str(KILLPOINT), point, *args],
        env=sandbox.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, status = os.waitpid(frozen.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"exited before {point}: {frozen.communicate()}"
    return frozen
