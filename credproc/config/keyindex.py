"""The index of source keys: what is not secret about the keys in the OS keyring.

``keys.json`` in credproc's config dir (0600, in a 0700 dir) holds, for each NAME, the access
key id, the IAM user's ARN, and when the keys were added and rotated. Two reasons for it:

- a run with ``--source-keys NAME`` must compute its cache key, which includes the key id (so a
  rotated or replaced key never gets the old key's token), without the keyring: importing and
  asking it costs a cached answer many times over, and a locked keyring must not block one;
  the index of resolved requests records this file's identity, so a hit does not read it;
- the keyring cannot list its items, which ``keys list`` needs.

Read on every ``--source-keys`` run, so the hit's reader (``key_id``) uses plain functions and
dicts: no records to build, nothing to import but json (which the cache has loaded already).
The ``keys`` commands, and a refresh that finds the keyring holding another key, write it
here too (atomically, under ``index_lock``).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping

from ..core.dirs import user_config_dir
from ..core.files import atomic_write
from ..core.index import note_file
from ..core.lock import file_lock
from ..core.typed import NamedTuple
from ..errors import ConfigError, LockTimeoutError

FORMAT = 1
MAX_BYTES = 1024 * 1024
FIELDS = ("access_key_id", "user_arn", "added", "rotated")
_REQUIRED = ("access_key_id", "added")


class Indexed(NamedTuple):
    """One name in the index: nothing secret."""

    name: str
    access_key_id: str
    user_arn: str | None  # None when added with --no-verify
    added: str  # UTC, 2026-01-31T12:00:00Z
    rotated: str | None = None


def path(environ: Mapping[str, str]) -> str:
    return os.path.join(user_config_dir(environ), "keys.json")


def entries(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Each NAME's fields (none if there is no index yet); ConfigError if it is unreadable."""
    where = path(environ)
    try:
        with open(where, "rb") as file:
            note_file(where, os.fstat(file.fileno()))
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        note_file(where, None)
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read {where}: {error.strerror or error}") from None
    found = _parse(data) if len(data) <= MAX_BYTES else None
    if found is None:
        raise ConfigError(
            f"{where} is not credproc's index of source keys; move it away and add the keys "
            "again (credproc keys add NAME --force)"
        )
    return found


def key_id(name: str, environ: Mapping[str, str]) -> str:
    """NAME's access key id; ConfigError naming the command that adds it."""
    entry = entries(environ).get(name)
    if entry is None:
        raise ConfigError(
            f"no source keys named {name!r}: store them with credproc keys add {name}"
        )
    return entry["access_key_id"]


def _parse(data: bytes) -> dict[str, dict[str, str]] | None:
    try:
        document = json.loads(data)
        keys = document["keys"] if isinstance(document, dict) else None
        if document.get("format") != FORMAT or not isinstance(keys, dict):
            return None
    except (ValueError, AttributeError, KeyError):
        return None
    found: dict[str, dict[str, str]] = {}
    for name, fields in keys.items():
        if not isinstance(fields, dict) or not all(
            isinstance(fields.get(field), str) for field in _REQUIRED
        ):
            return None
        found[str(name)] = {f: str(fields[f]) for f in FIELDS if isinstance(fields.get(f), str)}
    return found


def read_index(environ: Mapping[str, str]) -> dict[str, Indexed]:
    """Every name in the index, as records (for the ``keys`` commands); ConfigError if the
    index is unreadable."""
    return {
        name: Indexed(
            name,
            fields["access_key_id"],
            fields.get("user_arn"),
            fields["added"],
            fields.get("rotated"),
        )
        for name, fields in entries(environ).items()
    }


def write_index(environ: Mapping[str, str], name: str, entry: Indexed | None) -> None:
    """Put (or with None, remove) one name; the caller holds ``index_lock``."""
    entries = read_index(environ)
    if entry is None:
        entries.pop(name, None)
    else:
        entries[name] = entry
    document = {
        "format": FORMAT,
        "keys": {key: _fields(record) for key, record in sorted(entries.items())},
    }
    where = path(environ)
    try:
        os.makedirs(os.path.dirname(where), mode=0o700, exist_ok=True)
        atomic_write(where, (json.dumps(document, indent=2) + "\n").encode())
    except OSError as error:
        raise ConfigError(f"cannot write {where}: {error.strerror or error}") from None


def mirror(name: str, access_key_id: str, environ: Mapping[str, str]) -> None:
    """Make the index name the key id the keyring holds for NAME, unless a ``keys`` command is
    changing it right now (it writes the index itself): a refresh never waits for one."""
    with contextlib.suppress(LockTimeoutError), index_lock(environ, 0):
        entry = read_index(environ).get(name)
        if entry is not None and entry.access_key_id != access_key_id:
            # The user ARN was the other key's: unknown until `keys add` verifies again.
            write_index(environ, name, entry._replace(access_key_id=access_key_id, user_arn=None))


def _fields(entry: Indexed) -> dict[str, str]:
    """The entry as stored: its name is the key it is stored under."""
    named = zip(entry._fields[1:], entry[1:], strict=True)
    return {field: value for field, value in named if value is not None}


@contextlib.contextmanager
def index_lock(environ: Mapping[str, str], timeout: float) -> Iterator[None]:
    """One ``keys`` command changing keys at a time (two rotations of one key would each
    delete the other's new key)."""
    lock = path(environ) + ".lock"
    held = contextlib.ExitStack()
    try:
        os.makedirs(os.path.dirname(lock), mode=0o700, exist_ok=True)
        held.enter_context(
            file_lock(lock, timeout, "another credproc keys command", "changing keys")
        )
    except OSError as error:
        raise ConfigError(f"cannot lock {lock}: {error.strerror or error}") from None
    with held:
        yield
