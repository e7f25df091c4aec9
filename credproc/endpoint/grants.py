"""Grants of ``credproc serve``: which token may read which profiles.

A grant is a name, the profiles it may read, and a token: 256 random bits, written once to a
0600 file that the user mounts into a container as ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE``.
``grants.json`` (0600, in a 0700 dir of credproc's config dir) keeps only the token's SHA-256:
a copy of that file, a backup or a log of it lets nobody fetch anything. A token is 256 random
bits, so its hash needs no salt or slow hash to stay unguessable.

Every change replaces the file whole (temp file, fsync, rename) under a lock, so the server,
which re-reads it whenever it changes (``GrantBook``), sees a revocation at its next request.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

from ..core.dirs import user_config_dir
from ..core.files import atomic_write, private_dir
from ..core.lock import file_lock
from ..core.log import logger
from ..errors import ConfigError, UsageError

FORMAT = 1
MAX_BYTES = 1024 * 1024
TOKEN_BYTES = 32  # 256 bits
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}")
NAME_RULE = "1..64 of letters, digits and _ . @ + -, starting with a letter or digit"
# What the grants file's own lock waits for: another grant or revoke, a moment's work.
LOCK_TIMEOUT = 10.0


class Grant(NamedTuple):
    """One grant: nothing in it lets anyone fetch credentials."""

    name: str
    profiles: tuple[str, ...]
    digest: str  # SHA-256 of the token, hex
    token_file: str  # where the token was written
    created: str  # UTC, 2026-01-31T12:00:00Z

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "profiles": list(self.profiles),
            "token_sha256": self.digest,
            "token_file": self.token_file,
            "created": self.created,
        }


def directory(environ: Mapping[str, str]) -> str:
    """credproc serve's own dir: the grants file, and the token files it writes."""
    return os.path.join(user_config_dir(environ), "serve")


def grants_path(environ: Mapping[str, str]) -> str:
    return os.path.join(directory(environ), "grants.json")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise UsageError(f"grant name {name[:70]!r} is not {NAME_RULE}")
    return name


def load(path: str) -> tuple[Grant, ...]:
    """The grants in ``path`` (none if it does not exist); ConfigError if it is not one
    credproc wrote."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return ()
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path} is over {MAX_BYTES} bytes: not a grants file")
    try:
        return _parse(json.loads(data))
    except (ValueError, TypeError, KeyError) as error:
        why = str(error) if isinstance(error, _Malformed) else "not JSON"
        raise ConfigError(f"{path} is not a credproc grants file ({why})") from None


class _Malformed(ValueError):
    pass


def _parse(document: object) -> tuple[Grant, ...]:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise _Malformed(f"no format {FORMAT}")
    found = document.get("grants")
    if not isinstance(found, list):
        raise _Malformed("no list of grants")
    grants: list[Grant] = []
    for item in found:
        if not isinstance(item, dict):
            raise _Malformed("a grant is not an object")
        name, profiles = item.get("name"), item.get("profiles")
        token_hash, token_file = item.get("token_sha256"), item.get("token_file")
        created = item.get("created")
        if not (isinstance(name, str) and NAME.fullmatch(name)):
            raise _Malformed("a grant has no valid name")
        if not (isinstance(profiles, list) and profiles and all(_is_profile(p) for p in profiles)):
            raise _Malformed(f"grant {name!r} has no valid profiles")
        if not (isinstance(token_hash, str) and re.fullmatch(r"[0-9a-f]{64}", token_hash)):
            raise _Malformed(f"grant {name!r} has no valid token_sha256")
        if not (isinstance(token_file, str) and isinstance(created, str)):
            raise _Malformed(f"grant {name!r} lacks token_file or created")
        if any(grant.name == name for grant in grants):
            raise _Malformed(f"grant {name!r} appears twice")
        grants.append(Grant(name, tuple(profiles), token_hash, token_file, created))
    return tuple(grants)


def _is_profile(value: object) -> bool:
    return isinstance(value, str) and bool(value) and value.isprintable() and len(value) <= 256


def encode(grants: Sequence[Grant]) -> bytes:
    document = {"format": FORMAT, "grants": [grant.to_dict() for grant in grants]}
    return (json.dumps(document, indent=2) + "\n").encode()


@contextlib.contextmanager
def _changing(environ: Mapping[str, str]) -> Iterator[str]:
    """The grants file's path, held against other grant and revoke commands."""
    where = grants_path(environ)
    private_dir(os.path.dirname(where))
    try:
        lock = file_lock(where + ".lock", LOCK_TIMEOUT, "another credproc serve", "changing grants")
        with lock:
            yield where
    except OSError as error:
        raise ConfigError(f"cannot lock {where}.lock: {error.strerror or error}") from None


def add(
    environ: Mapping[str, str], profiles: Sequence[str], name: str, out: str | None
) -> tuple[Grant, str]:
    """A new grant of ``profiles`` named ``name``, its token written to ``out`` (else a file
    in credproc's dir): the grant and the token file's path. The token file is written first
    and removed again if the grant cannot be recorded: no grant without its file."""
    check_name(name)
    with _changing(environ) as where:
        grants = load(where)
        if any(grant.name == name for grant in grants):
            raise UsageError(
                f"a grant named {name!r} exists: revoke it first, or choose another --name"
            )
        if out is None:
            tokens = os.path.join(directory(environ), "tokens")
            private_dir(tokens)
            out = os.path.join(tokens, f"{name}.token")
        out = os.path.abspath(out)
        if os.path.lexists(out):
            raise UsageError(f"{out} exists: credproc writes a new token file, never over one")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        try:
            # No newline: some SDKs send the file's content as it is, and refuse CR or LF.
            atomic_write(out, token.encode())
        except OSError as error:
            raise ConfigError(f"cannot write {out}: {error.strerror or error}") from None
        grant = Grant(name, tuple(profiles), digest(token), out, _now())
        try:
            atomic_write(where, encode([*grants, grant]))
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(out)
            raise ConfigError(f"cannot write {where}: {error.strerror or error}") from None
    return grant, out


def revoke(environ: Mapping[str, str], name: str) -> tuple[Grant, bool]:
    """Remove the grant (refused at once by a running server) and its token file: the grant
    and whether the file was there to remove."""
    with _changing(environ) as where:
        grants = load(where)
        found = next((grant for grant in grants if grant.name == name), None)
        if found is None:
            raise UsageError(f"no grant named {name[:70]!r} (credproc serve list shows them)")
        try:
            atomic_write(where, encode([grant for grant in grants if grant is not found]))
        except OSError as error:
            raise ConfigError(f"cannot write {where}: {error.strerror or error}") from None
    try:
        os.unlink(found.token_file)
    except FileNotFoundError:
        return found, False
    except OSError as error:
        raise ConfigError(
            f"grant {name!r} is revoked, but its token file {found.token_file} could not be "
            f"removed: {error.strerror or error}"
        ) from None
    return found, True


def find(environ: Mapping[str, str], name: str) -> Grant:
    found = next((grant for grant in load(grants_path(environ)) if grant.name == name), None)
    if found is None:
        raise UsageError(f"no grant named {name[:70]!r} (credproc serve list shows them)")
    return found


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class GrantBook:
    """The server's view of the grants file, read again whenever it changes (a stat per
    request: a revocation takes effect at the next request) or on ``reload()`` (SIGHUP).

    If the file turns unreadable or malformed while serving, every token is refused until it
    is fixed: a grant revoked by hand must never come back through the old copy."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._broken: str | None = None
        self._stamp = self._stat()
        self._grants = load(path)  # ConfigError at start: the server does not start

    @property
    def grants(self) -> tuple[Grant, ...]:
        self._fresh()
        return self._grants

    def reload(self) -> int:
        """Read the file now; the number of grants (ConfigError if it is broken)."""
        with self._lock:
            self._read(self._stat())
            if self._broken:
                raise ConfigError(self._broken)
            return len(self._grants)

    def check(self, values: Sequence[str], profile: str | None) -> tuple[int, str]:
        """(0, the grant's name) if exactly one Authorization value holds a grant's token and
        that grant may read ``profile`` (any, for None); else (401 or 403, why), the why
        never holding the token."""
        if not any(value.strip() for value in values):
            return 401, "no token"
        if len(values) != 1:
            return 403, "more than one Authorization header"
        self._fresh()
        if self._broken:
            return 403, "the grants file is broken"
        given = digest(values[0])
        match: Grant | None = None
        for grant in self._grants:  # every grant compared, in constant time each
            if hmac.compare_digest(given, grant.digest):
                match = grant
        if match is None:
            return 403, "unknown or revoked token"
        if profile is not None and profile not in match.profiles:
            return 403, f"grant {match.name} may not read this profile"
        return 0, match.name

    def _stat(self) -> tuple[int, int, int, int] | None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError:
            return (-1, -1, -1, -1)
        return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)

    def _fresh(self) -> None:
        stamp = self._stat()
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp != self._stamp:
                self._read(stamp)

    def _read(self, stamp: tuple[int, int, int, int] | None) -> None:
        try:
            self._grants = load(self.path)
        except ConfigError as error:
            if self._broken != str(error):
                logger().warning("%s; refusing every token until it is fixed", error)
            self._grants, self._broken = (), str(error)
        else:
            if self._broken or stamp != self._stamp:
                logger().info("grants read from %s: %d", self.path, len(self._grants))
            self._broken = None
        self._stamp = stamp
