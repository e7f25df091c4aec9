"""``credproc configure``: a ``[profile NAME]`` block that runs credproc, and writing it safely.

The block's ``credential_process`` line is read by two kinds of client: botocore splits it
with ``shlex.split`` and runs it without a shell; the JS, Go, Java and Rust SDKs hand it to
``sh -c``. A POSIX ``shlex.join`` is parsed the same way by both.

Writing changes nothing but that one profile: the rest of the file stays byte for byte as it
was, a timestamped private backup is made first, and the file is replaced atomically with
its mode kept.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from ...config import rewrite
from ...config.awsconfig import (
    PROFILE_NAME,
    config_path,
    parse_sections,
    profile_of_header,
    section_name,
    section_spans,
)
from ...config.options import RawOptions
from ...config.resolve import resolve
from ...config.source import check_source
from ...core.request import Request
from ...errors import ConfigError, UsageError

# Options whose value is a path: clients run credential_process in their own working
# directory, so a relative path would name a different file for each of them.
_PATH_OPTIONS = frozenset({"cache_dir", "web_identity_token_file"})


def run(args: argparse.Namespace) -> int:
    if args.force and not args.write:
        raise UsageError("--force replaces a profile in the config file: it needs --write")
    flags = RawOptions.of(args)
    request = resolve(flags, os.environ)  # the same validation as every other command
    profile = flags.text("profile")
    if args.name in (profile, request.source_profile):
        which = "--profile" if args.name == profile else "the source profile"
        raise UsageError(f"--name {args.name!r} is also {which}: the profile would use itself")
    check_source(request, os.environ)
    line = command_line(credproc_command(os.environ), flags, request)
    block = profile_block(args.name, line, request.region)
    if args.write:
        written = write_profile(Path(config_path(os.environ)), args.name, block, force=args.force)
        sys.stderr.write(
            f"credproc: {'replaced' if written.replaced else 'added'} "
            f"[{section_name(args.name)}] in {written.path}"
            + (f"; the previous file is {written.backup}\n" if written.backup else "\n")
        )
    sys.stdout.write(block)
    return 0


def credproc_command(environ: Mapping[str, str]) -> list[str]:
    """How a client should start this credproc: the bare name when the client's PATH lookup
    finds this very file, else its absolute path (a venv not on every client's PATH), else
    this interpreter with ``-m credproc``."""
    installed = _installed_script()
    if installed is None:
        return [sys.executable, "-m", "credproc"]
    found = shutil.which("credproc", path=environ.get("PATH"))
    if found is not None and installed.samefile(found):
        return ["credproc"]
    return [str(installed)]


def _installed_script() -> Path | None:
    """The credproc script of this installation (argv[0], or the one beside the interpreter)."""
    for candidate in (Path(sys.argv[0]), Path(sys.executable).parent / "credproc"):
        if candidate.name == "credproc" and candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.absolute()
    return None


def command_line(command: list[str], flags: RawOptions, request: Request) -> str:
    """The credential_process value: the options as typed, made independent of the working
    directory, in the option table's order so the same options always give the same line."""
    words = list(command)
    for option, value in flags.given():
        flag, name = option.flag, option.dest
        if value is True:
            words.append(flag)
        elif isinstance(value, tuple):
            for item in value:
                words += [flag, item]
        else:
            words += [flag, _portable(name, str(value), request)]
    return joined(words)


def joined(words: list[str]) -> str:
    """A credential_process value that botocore and ``sh -c`` both split into ``words``."""
    line = shlex.join(words)
    if "\n" in line or "\r" in line:
        raise UsageError("an option holds a line break, which a config file line cannot")
    if re.search(r"\s[#;]", line):
        # The JS SDK's ini parser cuts a line at whitespace followed by # or ;, even in quotes.
        raise UsageError("an option holds a space before # or ;, which JS SDKs read as a comment")
    return line


def _portable(name: str, value: str, request: Request) -> str:
    if name in _PATH_OPTIONS:
        return str(Path(value).expanduser().absolute())
    if name == "policy":
        if value.startswith("@"):
            return "@" + str(Path(value[1:]).expanduser().absolute())
        return request.policy or value  # compact: one line, whatever the user typed
    return value.strip()


def profile_block(name: str, credential_process: str, region: str | None) -> str:
    if not re.fullmatch(PROFILE_NAME, name):
        raise UsageError(
            f"--name {name!r} must be 1-128 letters, digits or _ . @ + = , : / - characters"
        )
    lines = [f"[{section_name(name)}]", f"credential_process = {credential_process}"]
    if region:
        lines.append(f"region = {region}")
    return "\n".join(lines) + "\n"


class Written(NamedTuple):
    path: Path  # the file written (a symlinked config is written through to its target)
    backup: Path | None  # None when there was no file before
    replaced: bool  # True if an existing profile of that name was replaced


def write_profile(config: Path, name: str, block: str, *, force: bool) -> Written:
    """Add the block to the config file, or with ``force`` put it in place of that profile."""
    original = rewrite.read_for_rewrite(config)
    path, text = Path(original.path), original.text
    sections = section_spans(text)
    spans = [
        (header, start, end) for header, start, end in sections if profile_of_header(header) == name
    ]
    if spans and not force:
        raise ConfigError(
            f"profile {name!r} already exists in {path}; add --force to replace it, "
            "or choose another --name"
        )
    if len(spans) > 1:
        raise ConfigError(f"profile {name!r} appears {len(spans)} times in {path}; fix it by hand")
    if spans:
        _, start, end = spans[0]
        newline = "\r\n" if "\r\n" in text else "\n"
        updated = text[:start] + block.replace("\n", newline) + text[end:]
    else:
        updated = rewrite.appended(text, block)
    _check_result(text, updated, block, path, spans)
    backup = rewrite.replace(original, updated)
    return Written(path, Path(backup) if backup else None, replaced=bool(spans))


def _check_result(
    before: str, after: str, block: str, path: Path, replaced: list[tuple[str, int, int]]
) -> None:
    """Parse both texts as the clients will: every other section must read back unchanged,
    and the new one exactly as written. Guards against a header the line scan misread."""
    where = str(path)
    old, new = parse_sections(before, where), parse_sections(after, where)
    ((section, keys),) = parse_sections(block, where).items()
    gone = {header for header, _, _ in replaced}
    others = {name: old_keys for name, old_keys in old.items() if name not in gone}
    if new != {**others, section: keys}:
        raise ConfigError(f"cannot place the profile in {path} safely; add it by hand")
