"""A cache entry's document, read and rewritten as credproc writes it (credproc.core.cache):
the header and the ready answer are credproc's to make, so a test edits the document only."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from credproc.core.cache import OLD_ENTRY_FORMAT, encode_entry, parse_entry
from credproc.core.hit import ENTRY_MAGIC
from credproc.core.private import unseal


def document(path: Path) -> dict[str, Any]:
    """The JSON document of the entry at ``path`` (after its header and answer lines; the
    whole file in the old format)."""
    raw = path.read_bytes()
    sealed = unseal(raw, ENTRY_MAGIC)
    assert sealed is not None or raw.startswith(b"{"), f"{path} is not a whole entry"
    found: dict[str, Any] = json.loads(raw if sealed is None else sealed[1].partition(b"\n")[2])
    return found


def old_format(document: dict[str, Any]) -> bytes:
    """The document as credproc 0.1 wrote it: the JSON alone, format 1."""
    return json.dumps({**document, "format": OLD_ENTRY_FORMAT}).encode()


def rewrite(path: Path, change: Callable[[dict[str, Any]], object]) -> None:
    """Change the entry's document and write the entry again in its format (the new one
    sealed, its answer line made again)."""
    old = path.read_bytes().startswith(b"{")
    changed = document(path)
    change(changed)
    entry = parse_entry(old_format(changed), path.stem)
    assert entry is not None, f"the change made {path} an entry credproc would not write"
    path.write_bytes(old_format(changed) if old else encode_entry(entry))
