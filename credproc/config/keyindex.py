"""The index of source keys: what is not secret about the keys in the OS keyring.

``keys.json`` in credproc's config dir (0600, in a 0700 dir) holds, for each NAME, the access
key id, the IAM user's ARN, and when the keys were added and rotated. Two reasons for it:

- a cache hit with ``--source-keys NAME`` must compute its cache key, which includes the key id
  (so a rotated or replaced key never gets the old key's token), without the keyring: importing
  and asking it costs a hit many times its budget, and a locked keyring must not block hits;
- the keyring cannot list its items, which ``keys list`` needs.

Read on every ``--source-keys`` run, so plain functions and dicts: no records to build, nothing
to import but json (which the cache has loaded already). ``keystore`` writes it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from ..core.dirs import user_config_dir
from ..core.index import note_file
from ..errors import ConfigError

FORMAT = 1
MAX_BYTES = 1024 * 1024
FIELDS = ("access_key_id", "user_arn", "added", "rotated")
_REQUIRED = ("access_key_id", "added")


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
