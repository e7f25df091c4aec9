"""Replacing a file whole, so that readers see the old content or the new, never a mix."""

from __future__ import annotations

import contextlib
import os
import time

from ..errors import ConfigError
from .private import O_CLOEXEC, O_NOFOLLOW, ready_dir


def atomic_write(
    path: str | os.PathLike[str], data: bytes, mode: int = 0o600, *, durable: bool = True
) -> None:
    """Write ``path`` through a temp file in its directory: fsync, chmod, then os.replace.

    The temp file is 0600 from its creation, so the data is never readable by others on the
    way, even when ``mode`` (the cache's 0600, or a config file's own mode) will allow it.
    ``durable=False`` skips the fsync, for a file whose readers can tell a whole one from
    what a crash leaves (a sealed file) and lose nothing but time with it (the index)."""
    # A writer killed before os.replace leaves its temp file behind; the next writer of the
    # same path sweeps it away (cache writers hold the key's lock, so no live writer owns it).
    path = os.fspath(path)
    directory, name = os.path.split(path)
    with contextlib.suppress(OSError):
        for stale in os.listdir(directory or "."):
            if stale.startswith(f".{name}.") and stale.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, stale))
    temp = os.path.join(directory, f".{name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    # O_EXCL never follows a symlink, where O_NOFOLLOW (POSIX's) is missing too.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            if durable:
                os.fsync(file.fileno())
        if mode != 0o600:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def private_dir(path: str) -> None:
    """Make ``path`` (and its missing parents) 0700, and check it is private: a real directory,
    ours, that no one else may enter (its contents may have been read: not tightened).
    ConfigError naming it otherwise."""
    why = ready_dir(path, tighten=False)
    if why is not None:
        raise ConfigError(f"{path} {why.removeprefix('it ')}")


def private_backup(path: str, data: bytes) -> str:
    """A private (0600) copy of ``data`` beside ``path``, named by the time, never replacing
    another file: taken before credproc rewrites a file of the user's (the AWS config, the
    credentials file). OSError if it cannot be made."""
    # time's strftime, not datetime's: every run that resolves loads this module.
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC
    for attempt in range(100):
        suffix = f".{attempt}" if attempt else ""
        backup = f"{path}.{stamp}{suffix}.bak"
        try:
            fd = os.open(backup, flags, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        return backup
    raise FileExistsError(f"too many backups named {stamp}")
