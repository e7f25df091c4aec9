"""The token files credproc shares with the AWS CLI and botocore (IAM Identity Center's, aws
login's, the CLI's role cache): read as botocore reads them, at any mode.

botocore reads such a file whatever its mode, and some tools and copies leave one at 0644 (an
older CLI keeps the mode when it rewrites in place), so refusing one would break a setup that
works everywhere else. A file of the user's is read; one that others may read is said once
per process, naming the ``chmod`` to run, and credproc's own write of it (whole, 0600) fixes
it. Never read: a symlink's target, another user's file, what is not a regular file, more than
a limit, a FIFO (no wait).
"""

from __future__ import annotations

import json
import os
import stat

from ..core.log import logger
from ..core.private import POSIX_MODES, PRIVATE_BITS, owned, read_owned, read_private

# The files this process has said are not 0600: said once each, not at every read.
_SAID_MODE: set[str] = set()


def own_bytes(path: str, limit: int) -> tuple[bytes, int] | None:
    """The content of a regular file of the user's, at any mode, and that mode; else None
    (missing, a symlink, another user's, not a regular file, over ``limit`` bytes)."""
    found = read_owned(path, limit)
    return (found[0], stat.S_IMODE(found[1].st_mode)) if found is not None else None


def own_json(path: str, limit: int) -> tuple[dict[str, object], int] | None:
    """The JSON object in a regular file of the user's, at any mode, and that mode; else None."""
    found = own_bytes(path, limit)
    if found is None:
        return None
    document = json_object(found[0])
    return (document, found[1]) if document is not None else None


def private_json(path: str, limit: int) -> dict[str, object] | None:
    """The JSON object in a private regular file of ours (0600: one credproc wrote, not one
    shared with the CLI), else None (missing, not ours, not a JSON object)."""
    return json_object(read_private(path, limit))


def json_object(raw: bytes | None) -> dict[str, object] | None:
    """``raw`` as a JSON object, else None (nothing, not JSON, too deep, not an object)."""
    if not raw:
        return None
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def say_mode(what: str, path: str, mode: int) -> None:
    """Warn, once per path in this process, that ``what`` at ``path`` is readable by others."""
    if POSIX_MODES and mode & PRIVATE_BITS and path not in _SAID_MODE:
        _SAID_MODE.add(path)
        logger().warning("%s", mode_advice(what, path, mode))


def mode_advice(what: str, path: str, mode: int) -> str:
    """What to say about a token file others may read (``doctor`` says it too, up to ``: run``)."""
    return (
        f"{what} {path} is mode {stat.S_IMODE(mode):o}: others may read it; it should be "
        f"0600: run chmod 600 {path}"
    )


def loose_mode(path: str) -> int | None:
    """The mode of a file of the user's that others may read, else None."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    mode = stat.S_IMODE(info.st_mode)
    # Where mode bits mean nothing (Windows: ACLs), no file is "loose" by them.
    loose = POSIX_MODES and mode & PRIVATE_BITS
    return mode if own_regular(info) and loose else None


def own_regular(info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode) and owned(info)


def not_own(path: str) -> str | None:
    """Why the file at ``path`` is not one of the user's to read or replace (a symlink, not a
    regular file, another user's), or None (none there, or one of the user's at any mode)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"it cannot be checked ({error.strerror or error})"
    if stat.S_ISLNK(info.st_mode):
        return "it is a symlink, which credproc does not follow"
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file"
    if not own_regular(info):
        return "it belongs to another user"
    return None
