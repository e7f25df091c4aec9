"""The per-key refresh lock: one refresher per key, other keys never wait.

An flock dies with its process, so a refresher killed with -9 blocks nobody. filelock is
loaded only here (``file_lock``, which the keys index's lock uses too), by name when a lock is
taken: importing it costs a run several times a bare interpreter's start, and a run whose
entry is fresh (``env``, ``exec``, the first run after the AWS config changed) takes none.

A holder that waits for a person (an SSO sign-in in the browser, a device code) says so
(``announce``): a note beside each lock it holds, with what it does and until when its flow
can last. A process that waited ``--lock-timeout`` for such a lock goes on waiting until then,
instead of failing while the person is still signing in, and its timeout names what the
holder was doing.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import stat
import time
from _thread import _local
from collections.abc import Iterator

from ..errors import LockTimeoutError
from .files import atomic_write
from .log import logger
from .private import read_private
from .typed import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

    import filelock

# When this process began to wait for each refresh lock it is taking or holding, outermost
# first.
_SINCE: list[float] = []
# The refresh locks each thread holds, outermost first: where ``announce`` leaves its notes (a
# long-lived process, exec --server or the Python API, may refresh in several threads).
# threading.local is this C class: importing threading would cost every run that resolves.
_HELD = _local()
# What a holder finishes after its person's flow ends (the token exchange, the role call).
NOTE_GRACE_SECONDS = 30.0
_NOTE_SUFFIX = ".note"


def announce(doing: str, until: float) -> None:
    """Say, beside every refresh lock this process holds, that it is ``doing`` something that
    waits for a person, until ``until`` (POSIX seconds): processes waiting for those locks
    wait that long, not just their lock timeout. The notes go when the locks are released."""
    note = json.dumps({"doing": doing, "until": until, "pid": os.getpid()}).encode()
    for path in _held():
        with contextlib.suppress(OSError):  # a lost note costs a waiter its patience, no more
            atomic_write(path + _NOTE_SUFFIX, note)


def _held() -> list[str]:
    if not hasattr(_HELD, "paths"):
        _HELD.paths = []
    paths: list[str] = _HELD.paths
    return paths


def _note(path: str) -> tuple[str, float] | None:
    raw = read_private(path + _NOTE_SUFFIX, 4096)
    try:
        note = json.loads(raw) if raw is not None else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(note, dict):
        return None
    doing, until = note.get("doing"), note.get("until")
    if not isinstance(doing, str) or not isinstance(until, (int, float)):
        return None
    return doing, float(until)


def _drop_note(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path + _NOTE_SUFFIX)


def waiting_since() -> float:
    """When this process began to wait for the outermost refresh lock it holds (now, if
    none): what finished after that, another process did while this one waited for it."""
    return _SINCE[0] if _SINCE else time.time()


class Held(NamedTuple):
    """What taking a key's lock gave: the lock itself, and whether someone else had it first."""

    locked: bool  # False: no lock could be had here, so refresh without caching
    waited: bool  # True: another process held it, and has just finished its own refresh


@contextlib.contextmanager
def refresh_lock(path: str, timeout: float, doing: str = "refreshing this role") -> Iterator[Held]:
    """Hold the lock file at ``path`` (waiting up to ``timeout`` seconds, or longer while its
    holder announces a person's sign-in); ``doing`` is what a holder does, for the messages.

    Yields an unlocked Held, after a warning, if no lock can be had here (a read-only file
    system, or something other than a file at the lock's path): the caller then refreshes
    without caching rather than failing."""
    _SINCE.append(time.time())
    held = contextlib.ExitStack()
    try:
        try:
            waited = held.enter_context(file_lock(path, timeout, "another credproc process", doing))
        except OSError as error:
            logger().warning(
                "cannot lock %s (%s); continuing without caching", path, error.strerror or error
            )
            yield Held(locked=False, waited=False)
            return
        _drop_note(path)  # held now: a note left there is a dead holder's
        _held().append(path)
        try:
            with held:
                yield Held(locked=True, waited=waited)
        finally:
            _held().remove(path)
            _drop_note(path)
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
    began = time.monotonic()
    try:
        _no_link_or_special(path)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            waited = True
            # Why this run is slow, for -v; and the sign tests wait for to know it waits.
            logger().info("%s is %s; waiting up to %g s for it", holder, doing, timeout)
            _acquire_while_announced(lock, path, timeout, filelock.Timeout)
    except filelock.Timeout:
        note = _note(path)
        doing = note[0] if note is not None else doing
        raise LockTimeoutError(
            f"{holder} has been {doing} for over {time.monotonic() - began:.0f} s (lock "
            f"{path}); retry, or raise --lock-timeout"
        ) from None
    try:
        yield waited
    finally:
        lock.release()


def _acquire_while_announced(
    lock: filelock.FileLock, path: str, timeout: float, timed_out: type[Exception]
) -> None:
    """Wait ``timeout`` for the lock, then on while its holder's note says a person is still
    signing in (until the note's time and a grace). ``timed_out`` (filelock's Timeout) when
    neither holds."""
    deadline = time.time() + timeout
    while True:
        try:
            lock.acquire(timeout=max(deadline - time.time(), 0))
        except timed_out:
            note = _note(path)
            until = note[1] + NOTE_GRACE_SECONDS if note is not None else 0
            if note is None or until <= time.time():
                raise
            logger().info(
                "another credproc process is %s; waiting up to %.0f s more",
                note[0],
                until - time.time(),
            )
            deadline = until
        else:
            return


def _no_link_or_special(path: str) -> None:
    """Refuse a symlink, directory or device at the lock's path, whatever the installed
    filelock would do with it (older versions follow links and truncate their target)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise OSError(f"{os.path.basename(path)} is not a regular file")
