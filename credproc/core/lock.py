"""The per-key refresh lock: one refresher per key, other keys never wait.

An flock dies with its process, so a refresher killed with -9 blocks nobody. filelock is
loaded only here (``file_lock``, which the keys index's lock uses too), by name when a lock is
taken: importing it costs a run several times a bare interpreter's start, and a run whose
entry is fresh (``env``, ``exec``, the first run after the AWS config changed) takes none.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import stat
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

from ..errors import LockTimeoutError
from .log import logger

# When this process began to wait for each refresh lock it is taking or holding, outermost
# first.
_SINCE: list[float] = []


def waiting_since() -> float:
    """When this process began to wait for the outermost refresh lock it holds (now, if
    none): what finished after that, another process did while this one waited for it."""
    return _SINCE[0] if _SINCE else time.time()


class Held(NamedTuple):
    """What taking a key's lock gave: the lock itself, and whether someone else had it first."""

    locked: bool  # False: no lock could be had here, so refresh without caching
    waited: bool  # True: another process held it, and has just finished its own refresh


@contextlib.contextmanager
def refresh_lock(path: str, timeout: float) -> Iterator[Held]:
    """Hold the lock file at ``path`` (waiting up to ``timeout`` seconds).

    Yields an unlocked Held, after a warning, if no lock can be had here (a read-only file
    system, or something other than a file at the lock's path): the caller then refreshes
    without caching rather than failing."""
    _SINCE.append(time.time())
    held = contextlib.ExitStack()
    try:
        try:
            waited = held.enter_context(
                file_lock(path, timeout, "another credproc process", "refreshing this role")
            )
        except OSError as error:
            logger().warning(
                "cannot lock %s (%s); continuing without caching", path, error.strerror or error
            )
            yield Held(locked=False, waited=False)
            return
        with held:
            yield Held(locked=True, waited=waited)
    finally:
        _SINCE.pop()


@contextlib.contextmanager
def file_lock(path: str, timeout: float, holder: str, doing: str) -> Iterator[bool]:
    """Hold the lock file at ``path``, waiting up to ``timeout`` seconds; yields whether
    another process held it first. The one way credproc takes a file lock.

    ``holder`` and ``doing`` name who may hold it and what for, in the LockTimeoutError
    ("another credproc process has been refreshing this role for over 60 s") and the -v line
    while waiting. OSError when no lock can be had at ``path``."""
    filelock: Any = importlib.import_module("filelock")
    lock = filelock.FileLock(path, timeout=timeout, mode=0o600)
    waited = False
    try:
        _no_link_or_special(path)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            waited = True
            # Why this run is slow, for -v; and the sign tests wait for to know it waits.
            logger().info("%s is %s; waiting up to %g s for it", holder, doing, timeout)
            lock.acquire()
    except filelock.Timeout:
        raise LockTimeoutError(
            f"{holder} has been {doing} for over {timeout:g} s (lock {path}); retry, or "
            "raise --lock-timeout"
        ) from None
    try:
        yield waited
    finally:
        lock.release()


def _no_link_or_special(path: str) -> None:
    """Refuse a symlink, directory or device at the lock's path, whatever the installed
    filelock would do with it (older versions follow links and truncate their target)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise OSError(f"{os.path.basename(path)} is not a regular file")
