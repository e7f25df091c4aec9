"""The on-disk token cache: safe reads without a lock, atomic writes, one lock per key.

Readers take no lock because writers never change a file in place: they write a temp file in
the same directory and ``os.replace`` it, so a reader sees a whole old entry or a whole new one.
Everything read is distrusted: an entry that is not ours, not private, not whole (its header
states the length and SHA-256 of the rest), not the right shape or not for this request is a
miss, never an error and never served.

An entry (``<key>.json``, format 2) is sealed by ``core.hit``: a header line
``credproc-cache 2 KEY EXPIRES LENGTH SHA256``, then the credential_process answer ready to
print (Expiration in this machine's clock, EXPIRES the same moment in POSIX seconds), then the
JSON document below, which ``cache list``, the Python API and the endpoint read. A hit reads
the first two lines only. An entry of format 1 (the document alone, written by credproc 0.1)
is still read here; the hit treats it as a miss, and the next refresh writes format 2.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Iterator
from datetime import datetime, timezone

from .credentials import Credentials
from .files import atomic_write
from .hit import ENTRY_MAGIC, ENTRY_SUFFIX, LONGEST_TOKEN_SECONDS, MAX_ENTRY_BYTES
from .log import logger
from .private import read_private, ready_dir, seal, unseal, unusable_dir
from .typed import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

    from .request import Request

ENTRY_FORMAT = 2
OLD_ENTRY_FORMAT = 1  # the JSON document alone, without the header and the ready answer
# After a failed refresh, how long runs serve the cached token before trying STS again: it
# doubles with each failure in a row, up to the cap. A retry time further off than the cap
# (a clock that jumped back) is ignored.
FIRST_BACKOFF_SECONDS = 30
MAX_BACKOFF_SECONDS = 600
# Beside <key>.json: the backoff of a request whose refreshes failed with no token to serve
# (an MFA session during an STS outage: see provider), so that the next runs do not ask a
# person for another code until it ends.
FAILURE_SUFFIX = ".failed"


class Backoff(NamedTuple):
    """Refreshes of an entry that failed in a row, and when the next may try STS."""

    failures: int = 0
    retry_after: float = 0.0  # POSIX time, this machine's clock

    def seconds_to_wait(self) -> float:
        wait = self.retry_after - time.time()
        return wait if 0 < wait <= MAX_BACKOFF_SECONDS else 0.0

    def after_another_failure(self) -> Backoff:
        period = min(FIRST_BACKOFF_SECONDS * 2**self.failures, MAX_BACKOFF_SECONDS)
        return Backoff(self.failures + 1, time.time() + period)


class Entry(NamedTuple):
    credentials: Credentials  # Expiration as STS stated it, by STS's clock
    clock_offset: float  # STS's clock minus ours at refresh time, in seconds
    identity: dict[str, Any]
    key: str
    refresh_window: int
    backoff: Backoff = Backoff()

    def seconds_left(self) -> float:
        """Time left by STS's clock, the one that decides when the token stops working."""
        return self.credentials.seconds_left(time.time() + self.clock_offset)

    def local_credentials(self) -> Credentials:
        """The token as clients get it: Expiration in this machine's clock."""
        return self.credentials.in_local_clock(self.clock_offset)


class Cache:
    # Paths are plain strings with os.path: pathlib costs a cache hit as much as reading the
    # entry itself.
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = os.fspath(directory)
        self._warned = False  # each run says once why it does not use the directory
        self._writable: bool | None = None  # prepare()'s verdict, once made

    # -- reading --------------------------------------------------------------------------

    def read(self, request: Request) -> Entry | None:
        """The entry for this request, or None if there is none we can trust."""
        if not self._dir_is_safe(create=False):
            return None
        entry = self._load(request.key)
        if entry is None or entry.identity != _jsonable(request.identity()):
            return None
        return entry

    def entries(self) -> Iterator[Entry]:
        """Every trustworthy entry, for ``cache list`` and ``cache clear``."""
        if not self._dir_is_safe(create=False):
            return
        try:
            names = sorted(os.listdir(self.directory))
        except OSError:
            return
        for name in names:
            key, suffix = os.path.splitext(name)
            entry = self._load(key) if suffix == ENTRY_SUFFIX and not key.startswith(".") else None
            if entry is not None:
                yield entry

    def path(self, key: str, suffix: str = ENTRY_SUFFIX) -> str:
        return os.path.join(self.directory, key + suffix)

    def _load(self, key: str) -> Entry | None:
        raw = read_private(self.path(key), MAX_ENTRY_BYTES)
        return None if raw is None else parse_entry(raw, key)

    # -- failed refreshes with no token to serve ------------------------------------------

    def read_failure(self, request: Request) -> Backoff:
        """The backoff after refreshes of ``request`` that failed with no token to serve
        (see ``provider``); none if there is no record of ours for this request."""
        if not self._dir_is_safe(create=False):
            return Backoff()
        raw = read_private(self.path(request.key, FAILURE_SUFFIX), MAX_ENTRY_BYTES)
        try:
            document = json.loads(raw) if raw is not None else None
        except (ValueError, RecursionError):
            return Backoff()
        if not isinstance(document, dict) or document.get("key") != request.key:
            return Backoff()
        if document.get("request") != _jsonable(request.identity()):
            return Backoff()
        return _backoff(document)

    def record_failure(self, request: Request, backoff: Backoff) -> None:
        """Store the backoff for a request that has no entry, atomically like an entry."""
        document = {
            "format": ENTRY_FORMAT,
            "key": request.key,
            "request": request.identity(),
            "backoff": {"failures": backoff.failures, "retry_after": backoff.retry_after},
        }
        try:
            atomic_write(self.path(request.key, FAILURE_SUFFIX), json.dumps(document).encode())
        except OSError as error:
            logger().warning("cannot record the failed refresh in %s (%s)", self.directory, error)

    def failures(self) -> list[str]:
        """The keys that have a record of failed refreshes, for ``cache clear --all``."""
        if not self._dir_is_safe(create=False):
            return []
        with contextlib.suppress(OSError):
            names = os.listdir(self.directory)
            return sorted(
                name[: -len(FAILURE_SUFFIX)]
                for name in names
                if name.endswith(FAILURE_SUFFIX) and not name.startswith(".")
            )
        return []

    # -- writing --------------------------------------------------------------------------

    def write(
        self,
        request: Request,
        credentials: Credentials,
        clock_offset: float,
        backoff: Backoff | None = None,
    ) -> bool:
        """Store atomically; False (with a warning) if the directory cannot be used."""
        if not self.prepare():
            return False
        entry = Entry(
            credentials,
            clock_offset,
            request.identity(),
            request.key,
            request.refresh_window,
            backoff or Backoff(),
        )
        try:
            atomic_write(self.path(request.key), encode_entry(entry))
        except OSError as error:
            logger().warning(
                "cannot write the cache in %s (%s); continuing without caching",
                self.directory,
                error.strerror or error,
            )
            return False
        return True

    def remove(self, key: str) -> bool:
        """Remove the key's entry (True if there was one) and its record of failures."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(key, FAILURE_SUFFIX))
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            return False
        return True

    def clear_failure(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(key, FAILURE_SUFFIX))

    # -- the directory --------------------------------------------------------------------

    def prepare(self) -> bool:
        """Create the directory if needed; False (with a warning) if it must not be used.
        Checked once per Cache: a refresh prepares, then writes."""
        if self._writable is None:
            self._writable = self._dir_is_safe(create=True)
        return self._writable

    def _dir_is_safe(self, *, create: bool) -> bool:
        """Use only a real directory that we own and nobody else can write to; ``create``:
        make it ready to write into (``private.ready_dir``: made, writable, tightened)."""
        if create:
            why = ready_dir(self.directory)
            return True if why is None else self._unusable(why)
        try:
            why = unusable_dir(os.lstat(self.directory))
        except FileNotFoundError:
            return False
        except OSError as error:
            return self._unusable(error.strerror or str(error))
        return True if why is None else self._unusable(why)

    def _unusable(self, why: str) -> bool:
        if not self._warned:  # a read and a refresh each check the directory
            self._warned = True
            logger().warning(
                "not using the cache dir %s: %s; continuing without caching", self.directory, why
            )
        return False


def encode_entry(entry: Entry) -> bytes:
    """An entry's bytes: sealed, the ready answer first (see the module docstring)."""
    document: dict[str, object] = {
        "format": ENTRY_FORMAT,
        "key": entry.key,
        "request": entry.identity,
        "credentials": entry.credentials.to_dict(),
        "clock_offset": entry.clock_offset,
        "refresh_window": entry.refresh_window,
        "written_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if entry.backoff != Backoff():
        document["backoff"] = {
            "failures": entry.backoff.failures,
            "retry_after": entry.backoff.retry_after,
        }
    local = entry.local_credentials()
    expires = math.floor(local.expiration.timestamp())
    body = f"{local.to_process_json()}\n{json.dumps(document)}\n".encode()
    return seal(ENTRY_MAGIC, [entry.key, str(expires)], body)


def parse_entry(raw: bytes, key: str) -> Entry | None:
    """Decode an entry's bytes, of either format; None for anything that is not exactly what
    credproc writes."""
    sealed = unseal(raw, ENTRY_MAGIC)
    if sealed is not None:
        fields, body = sealed
        answer, _, raw = body.partition(b"\n")
        expected = ENTRY_FORMAT
        if len(fields) != 2 or fields[0] != key:
            return None
    elif raw[:1] == b"{":
        answer, expected = b"", OLD_ENTRY_FORMAT
    else:
        return None
    try:
        document = json.loads(raw)
        if not isinstance(document, dict) or not _is_int(document.get("format"), expected):
            return None
        identity = document["request"]
        offset = document["clock_offset"]
        window = document["refresh_window"]
        if not isinstance(identity, dict) or document.get("key") != key:
            return None
        if isinstance(offset, bool) or not isinstance(offset, (int, float)):
            return None
        if not -86400 * 366 < offset < 86400 * 366:  # also rejects NaN and infinities
            return None
        if not _is_int(window) or window < 0:
            return None
        # Only a wrapped command's entry may hold long-lived keys (no session token).
        long_lived = bool(identity.get("wrap_command"))
        credentials = Credentials.from_dict(document["credentials"], long_lived=long_lived)
        # The expiry in this machine's clock, as the hot path prints it: must be a date.
        local = credentials.in_local_clock(offset)
        if answer and answer != local.to_process_json().encode():
            return None  # the ready answer says something else than the document
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
        return None
    if local.expiration.timestamp() > time.time() + LONGEST_TOKEN_SECONDS:
        return None
    return Entry(credentials, float(offset), identity, key, window, _backoff(document))


def _backoff(document: dict[str, Any]) -> Backoff:
    """The entry's record of failed refreshes; none if absent or not what credproc writes."""
    record = document.get("backoff")
    if not isinstance(record, dict):
        return Backoff()
    failures, retry_after = record.get("failures"), record.get("retry_after")
    if not _is_int(failures) or isinstance(retry_after, bool):
        return Backoff()
    if not isinstance(retry_after, (int, float)) or not 0 <= retry_after < 2**40:
        return Backoff()
    return Backoff(max(failures, 0) if isinstance(failures, int) else 0, float(retry_after))


def _is_int(value: object, expected: int | None = None) -> bool:
    """An integer as JSON states one: not true/false, not 1.0."""
    return type(value) is int and expected in (None, value)


def _jsonable(value: object) -> object:
    """The form a value takes after a trip through JSON (tuples become lists)."""
    return json.loads(json.dumps(value))
