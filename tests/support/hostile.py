"""Helpers shared by the tests/robustness suites: reach into the cache as an attacker, a crash
or the passage of time would, and look at what credproc left behind."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from credproc.config.options import RawOptions
from credproc.config.resolve import resolve
from credproc.core.hit import ENTRY_MAGIC
from credproc.core.private import seal, unseal
from support.constants import ROLE
from support.sandbox import Sandbox


def key_of(sandbox: Sandbox, role: str = ROLE, **options: Any) -> str:
    """The cache key credproc computes for ``--role-arn ROLE --source-profile base``."""
    raw = RawOptions(role_arn=role, source_profile="base", **options)
    return resolve(raw, sandbox.env).key


def only_entry(cache_dir: Path) -> Path:
    entries = sorted(cache_dir.glob("*.json"))
    assert len(entries) == 1, entries
    return entries[0]


def edit_entry(path: Path, change: Callable[[dict[str, Any]], object]) -> None:
    """Change a cache entry's document in place and seal it again (a whole entry, header and
    answer line as they were), keeping it a private regular file as credproc wrote it: what
    refuses it then is the reader's check of the document, not the seal."""
    sealed = unseal(path.read_bytes(), ENTRY_MAGIC)
    assert sealed is not None
    fields, body = sealed
    answer, _, text = body.partition(b"\n")
    document = json.loads(text)
    change(document)
    path.write_bytes(seal(ENTRY_MAGIC, fields, answer + b"\n" + json.dumps(document).encode()))
    path.chmod(0o600)


def seal_again(path: Path, change: Callable[[bytes], bytes]) -> None:
    """Change a cache entry's body (answer and document) and seal it again, header fields kept."""
    sealed = unseal(path.read_bytes(), ENTRY_MAGIC)
    assert sealed is not None
    path.write_bytes(seal(ENTRY_MAGIC, sealed[0], change(sealed[1])))
    path.chmod(0o600)


def temp_files(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob(".*.tmp"))


def mode(path: Path) -> int:
    return os.lstat(path).st_mode & 0o777
