"""Rewriting a file of the user's (the AWS config) without ever leaving it half written.

``configure --write`` and ``sso populate`` change one part of ``~/.aws/config`` and must leave
the rest byte for byte as it was: they read the file once (``read_for_rewrite``), compute the
new text, and ``replace`` it: a timestamped private backup first, then a temp file, fsync and
``os.replace``, with the file's own mode kept. A symlinked config (dotfiles) is written
through to its target, so the link stays a link.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from ..core.files import atomic_write, private_backup
from ..errors import ConfigError


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
    return backup


def appended(text: str, block: str) -> str:
    """``text`` with ``block`` after it, one blank line between, in the file's line endings."""
    newline = "\r\n" if "\r\n" in text else "\n"
    block = block.replace("\n", newline)
    if text and not text.endswith("\n"):
        text += newline  # end the last line before adding a section
    if text.strip() and not text.endswith(newline * 2):
        text += newline  # one blank line between sections
    return text + block
