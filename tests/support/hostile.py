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
    """Change a cache entry in place, keeping it a private regular file as credproc wrote it."""
    document = json.loads(path.read_bytes())
    change(document)
    path.write_text(json.dumps(document))
    path.chmod(0o600)


def temp_files(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob(".*.tmp"))


def mode(path: Path) -> int:
    return os.lstat(path).st_mode & 0o777
