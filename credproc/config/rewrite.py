"""Rewriting a file of the user's (the AWS config) without ever leaving it half written.

``configure --write`` and ``sso populate`` change one part of ``~/.aws/config`` and must leave
the rest byte for byte as it was: they read the file once (``read_for_rewrite``), compute the
new text, and ``replace`` it: a timestamped private backup first (``config.<time>.bak``
beside it; only the newest ``KEEP_BACKUPS`` are kept), then a temp file, fsync and
``os.replace``, with the file's own mode kept. A symlinked config (dotfiles) is written
through to its target, so the link stays a link.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from typing import NamedTuple

from ..core.files import atomic_write, private_backup
from ..errors import ConfigError

# How many backups of a rewritten file are kept: the newest, by the time in their names.
KEEP_BACKUPS = 5


class Original(NamedTuple):
    path: str  # the real file (a symlink resolved)
    text: str  # "" when there was no file
    data: bytes | None  # None when there was no file
    mode: int  # kept by the rewrite; 0600 for a new file


def read_for_rewrite(config: str | os.PathLike[str]) -> Original:
    path = os.path.realpath(config)
    try:
        with open(path, "rb") as file:
            data: bytes | None = file.read()
            mode = os.fstat(file.fileno()).st_mode & 0o777
    except FileNotFoundError:
        data, mode = None, 0o600
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        text = (data or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read {path}: not UTF-8 text") from None
    return Original(path, text, data, mode)


def replace(original: Original, updated: str) -> str | None:
    """Write ``updated`` in place of the file; the backup's path, or None if there was no file."""
    backup = None
    if original.data is not None:
        try:
            backup = private_backup(original.path, original.data)
        except OSError as error:
            raise ConfigError(
                f"cannot back up {original.path}: {error.strerror or error}"
            ) from None
    try:
        os.makedirs(os.path.dirname(original.path), mode=0o700, exist_ok=True)
        atomic_write(original.path, updated.encode("utf-8"), original.mode)
    except OSError as error:
        raise ConfigError(f"cannot write {original.path}: {error.strerror or error}") from None
    if backup is not None:
        prune_backups(original.path)
    return backup


def backups(path: str) -> list[str]:
    """The backups ``replace`` made of ``path`` (``NAME.<time>[.N].bak``, regular files of the
    user's), oldest first."""
    directory, name = os.path.split(path)
    pattern = re.compile(re.escape(name) + r"\.(\d{8}T\d{6}Z)(?:\.(\d+))?\.bak")
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory or "."):
            match = pattern.fullmatch(entry.name)
            if match is None:
                continue
            info = entry.stat(follow_symlinks=False)
            owned = not hasattr(os, "geteuid") or info.st_uid == os.geteuid()
            if stat.S_ISREG(info.st_mode) and owned:
                found.append((match[1], int(match[2] or 0), entry.path))
    return [where for _, _, where in sorted(found)]


def prune_backups(path: str, keep: int = KEEP_BACKUPS) -> None:
    """Remove all but the newest ``keep`` backups of ``path``: each changed run makes one."""
    for old in backups(path)[:-keep]:
        with contextlib.suppress(OSError):
            os.unlink(old)


def appended(text: str, block: str) -> str:
    """``text`` with ``block`` after it, one blank line between, in the file's line endings."""
    newline = "\r\n" if "\r\n" in text else "\n"
    block = block.replace("\n", newline)
    if text and not text.endswith("\n"):
        text += newline  # end the last line before adding a section
    if text.strip() and not text.endswith(newline * 2):
        text += newline  # one blank line between sections
    return text + block
