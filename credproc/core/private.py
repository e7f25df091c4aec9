"""Private files and directories: what every layer uses to keep a secret on disk, fenced.

A hit (``core.hit``) loads this module, so it imports only what a bare interpreter has loaded
already (``os``, ``stat``, ``sys``) and CPython's built-in SHA-256; everything here is plain
functions on paths and ``os.stat_result``.

- A **private file** is a regular file of this user's that no one else may read or write; it
  is read without following a symlink, without waiting on a FIFO planted in its place, and up
  to a size cap (``read_private``).
- A **private directory** is a real directory of this user's that no one else may write to
  (``unusable_dir`` says why one is not); ``ready_dir`` is the one way credproc makes one
  ready before writing into it (the cache, the index, the SSO token dir, browser contexts, the
  console's hand-off pages).
- A **sealed file** states its own length and SHA-256 in a header line (``seal``/``unseal``),
  so a reader tells a whole file from a truncated or garbled one without parsing it.

Portability: ``O_NOFOLLOW``, ``O_NONBLOCK``, ``O_CLOEXEC`` and ``geteuid`` are POSIX's. Where
the platform has no ``O_NOFOLLOW`` (Windows), ``open_nofollow`` checks with ``lstat`` that the
path is not a symlink before opening it (a window a local attacker with write access to the
directory could race; the directory itself is checked private first). Where there is no
``geteuid`` (Windows) ownership and permission bits are not checked: st_mode shows no ACL
there, and the user's own profile directories are private by their ACLs.
"""

from __future__ import annotations

import os
import stat
import sys

TYPE_CHECKING = False  # typing's own flag, without importing typing (see core.hit)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

# POSIX-only flags, 0 where the platform has none (their absence is handled below).
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
_GETEUID = getattr(os, "geteuid", None)
# POSIX permission bits mean what they say; elsewhere (Windows) st_mode shows no ACL and every
# directory looks writable by all, so ownership and mode are left to the platform's ACLs.
POSIX_MODES = _GETEUID is not None
PRIVATE_BITS = 0o077  # group and other permission bits
_OTHERS_WRITE = 0o022


def owned(info: os.stat_result) -> bool:
    """Whether this user owns the file (always, where there are no POSIX user ids)."""
    return _GETEUID is None or info.st_uid == _GETEUID()


def is_private_file(info: os.stat_result) -> bool:
    private = not (POSIX_MODES and info.st_mode & PRIVATE_BITS)
    return stat.S_ISREG(info.st_mode) and owned(info) and private


def unusable_dir(info: os.stat_result) -> str | None:
    """Why a directory with this lstat must not hold credproc's files, or None if it may."""
    if stat.S_ISLNK(info.st_mode):
        return "it is a symlink, which credproc does not follow"
    if not stat.S_ISDIR(info.st_mode):
        return "it is not a directory"
    if not owned(info):
        return "it belongs to another user"
    if POSIX_MODES and info.st_mode & _OTHERS_WRITE:
        return "others can write to it (make it chmod 700)"
    return None


def usable_dir(path: str) -> bool:
    """Whether ``path`` is a directory credproc may read its files from (not made if absent)."""
    try:
        return unusable_dir(os.lstat(path)) is None
    except OSError:
        return False


def ready_dir(path: str, *, tighten: bool = True) -> str | None:
    """Make ``path`` (and its missing parents) a private directory ready to write into, 0700
    if made now; None when ready, else why it must not be used ("it is ...").

    A directory of ours that others may read or enter (but not write) is tightened to 0700
    (``tighten``: the cache, whose files are private anyway), or refused where its contents
    may already have been read (browser contexts, hand-off pages)."""
    try:
        # Not contextlib.suppress: a hit loads this module, and contextlib is not loaded yet.
        try:  # noqa: SIM105
            os.makedirs(path, mode=0o700, exist_ok=True)
        except FileExistsError:
            pass  # not a directory: lstat below says what it is
        info = os.lstat(path)
    except OSError as error:
        return f"it cannot be made: {error.strerror or error}"
    why = unusable_dir(info)
    if why is not None:
        return why
    if not os.access(path, os.W_OK | os.X_OK):  # a read-only mount, or mode 0500
        return "it is not writable"
    if POSIX_MODES and info.st_mode & PRIVATE_BITS:
        if not tighten:
            return f"it is not private (mode {stat.S_IMODE(info.st_mode):o}): chmod 700 it"
        try:
            os.chmod(path, 0o700)
        except OSError as error:
            return f"it cannot be made private: {error.strerror or error}"
    return None


def open_nofollow(path: str, flags: int, mode: int = 0o600) -> int:
    """``os.open`` that never follows a symlink at ``path`` (OSError ELOOP if one is there)."""
    if not O_NOFOLLOW and os.path.islink(path):
        # No O_NOFOLLOW on this platform: check first (see the module docstring). errno's
        # names are not loaded at start-up, and a hit must not load them.
        raise OSError(0, "a symlink, which credproc does not follow", path)
    return os.open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_BINARY, mode)


def read_owned(path: str, limit: int) -> tuple[bytes, os.stat_result] | None:
    """A regular file of ours, whole, at any mode, and its stat; or None: never a symlink's
    target, never more than ``limit`` bytes, never a wait on a FIFO planted in its place."""
    try:
        fd = open_nofollow(path, os.O_RDONLY | O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not (stat.S_ISREG(info.st_mode) and owned(info)) or info.st_size > limit:
            return None
        return os.read(fd, limit + 1), info
    except OSError:
        return None
    finally:
        os.close(fd)


def read_private(path: str, limit: int) -> bytes | None:
    """A private regular file of ours (``read_owned``, and nobody else may read it), or None."""
    found = read_owned(path, limit)
    return found[0] if found is not None and is_private_file(found[1]) else None


# -- sealed files: a header line that states the rest's length and hash ----------------------


def seal(magic: str, fields: Sequence[str], body: bytes) -> bytes:
    """``MAGIC FIELD... LENGTH SHA256`` then the body: a reader can tell a whole file from a
    truncated or garbled one without parsing it. The fields hold no spaces or newlines."""
    header = " ".join([magic, *fields, str(len(body)), sha256_hex(body)])
    return header.encode() + b"\n" + body


def unseal(raw: bytes | None, magic: str) -> tuple[list[str], bytes] | None:
    """The header's fields and the body of a whole sealed file of this kind, else None."""
    if raw is None or not raw.startswith(magic.encode() + b" "):
        return None
    end = raw.find(b"\n")
    if end < 0:
        return None
    try:
        words = raw[len(magic) + 1 : end].decode("ascii").split(" ")
    except UnicodeDecodeError:
        return None
    body = raw[end + 1 :]
    if len(words) < 2 or words[-2] != str(len(body)) or words[-1] != sha256_hex(body):
        return None
    return words[:-2], body


def sha256_hex(data: bytes) -> str:
    """SHA-256 from CPython's built-in module: hashlib would load OpenSSL, which costs a hit
    more than everything else it does."""
    return str(_SHA256(data).hexdigest())


def _builtin_sha256() -> Callable[[bytes], Any]:
    try:  # _sha2 since CPython 3.12, _sha256 before
        return __import__("_sha2" if sys.version_info >= (3, 12) else "_sha256").sha256  # type: ignore[no-any-return]
    except ImportError:
        import hashlib  # noqa: PLC0415 - other interpreters

        return hashlib.sha256


_SHA256 = _builtin_sha256()
