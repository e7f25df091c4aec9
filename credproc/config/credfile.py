"""Taking a profile's static keys out of the credentials file, once they are in the keyring
(``credproc keys add --from-profile NAME --remove-from-file``).

Only the ``aws_access_key_id`` and ``aws_secret_access_key`` lines of that one profile go; every
other line stays byte for byte, the profile's header and its other keys included. A private
timestamped backup is made first and the file is replaced atomically with its mode kept; both
versions are parsed as botocore parses them to check that nothing else changed.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from ..core.files import atomic_write, private_backup
from ..errors import ConfigError
from .awsconfig import parse_sections, section_spans

KEY_NAMES = ("aws_access_key_id", "aws_secret_access_key")


class Removed(NamedTuple):
    path: str  # the file rewritten (a symlinked file is written through to its target)
    backup: str  # the private copy of the file as it was, secret included


def static_keys(text: str, profile: str, path: str) -> tuple[str, str] | None:
    """The profile's access key id and secret in credentials file text, if it has both."""
    keys = parse_sections(text, path).get(profile, {})
    key_id, secret = (keys.get(name, "").strip() for name in KEY_NAMES)
    return (key_id, secret) if key_id and secret else None


def remove_static_keys(path: str, profile: str, expected: tuple[str, str]) -> Removed:
    """Drop the profile's two key lines, if they still hold ``expected`` (the keys just stored:
    a file changed meanwhile is left alone)."""
    real = os.path.realpath(path)  # keep a dotfiles symlink a symlink
    try:
        with open(real, "rb") as file:
            original = file.read()
        mode = os.stat(real).st_mode & 0o777
        text = original.decode("utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read {real}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read {real}: not UTF-8 text") from None
    if static_keys(text, profile, real) != expected:
        raise ConfigError(f"[{profile}] in {real} changed meanwhile; it was left as it is")
    spans = [(start, end) for header, start, end in section_spans(text) if header == profile]
    if len(spans) != 1:
        raise ConfigError(f"cannot find [{profile}] in {real} once and only once; edit it by hand")
    start, end = spans[0]
    updated = text[:start] + _without_keys(text[start:end]) + text[end:]
    _check(text, updated, profile, real)
    try:
        backup = private_backup(real, original)
        atomic_write(real, updated.encode("utf-8"), mode)
    except OSError as error:
        raise ConfigError(f"cannot rewrite {real}: {error.strerror or error}") from None
    return Removed(real, backup)


def _without_keys(section: str) -> str:
    """The section's text without the key lines (and any indented lines continuing them)."""
    kept: list[str] = []
    dropping = False
    for line in section.splitlines(keepends=True):
        if line[:1] in (" ", "\t") and line.strip() and dropping:
            continue  # a continuation of a dropped value
        name = line.split("=", 1)[0].split(":", 1)[0].strip().lower()
        dropping = line[:1] not in (" ", "\t") and name in KEY_NAMES
        if not dropping:
            kept.append(line)
    return "".join(kept)


def _check(before: str, after: str, profile: str, path: str) -> None:
    """Read back as botocore will: the profile lost its two keys, nothing else changed."""
    old, new = parse_sections(before, path), parse_sections(after, path)
    expected = dict(old)
    expected[profile] = {k: v for k, v in old[profile].items() if k not in KEY_NAMES}
    if new != expected:
        raise ConfigError(f"cannot take the keys out of {path} safely; edit it by hand")
