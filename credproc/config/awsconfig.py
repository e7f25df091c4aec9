"""Reading the AWS config and credentials files exactly as botocore reads them. A leaf module.

botocore parses both files with ``configparser.RawConfigParser()`` (its defaults: ``=`` or
``:``, whole-line ``#``/``;`` comments, indented continuation lines, keys lower-cased, a
section or key given twice is an error, ``[DEFAULT]`` keys shared by every section), then
takes ``[profile NAME]`` headers apart with ``shlex.split`` (exactly two words) and ``[default]``
as is. Every ``--profile`` run that resolves reads the config file (a hit does not: see
``core.hit``), and configparser with shlex would cost it more than the reading itself, so a
small reader here follows the same rules; any file it is unsure of (an error, ``[DEFAULT]``,
quotes in a header) goes to configparser and shlex themselves, so the answer, or the error, is
always theirs. A test compares the two. configparser is loaded by name only then: importing it
cost a run that resolves a quarter of a bare interpreter's start.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
from collections.abc import Mapping
from types import ModuleType

from ..core.index import note_file
from ..errors import ConfigFileError

Sections = dict[str, dict[str, str]]

# Profile names botocore reads back unchanged from `[profile NAME]` (it shlex-splits the header).
PROFILE_NAME = r"[A-Za-z0-9_.@+=,:/-]{1,128}"

# configparser's patterns for its default delimiters.
_SECTION = re.compile(r"\[(?P<header>.+)\]")
_OPTION = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")
_NON_SPACE = re.compile(r"\S")
# A header shlex splits like str.split on these four: no quotes, no backslash.
_SHLEX_PLAIN = re.compile(r"[^'\"\\]*")
_SHLEX_SPACE = re.compile(r"[ \t\r\n]+")
# os.path.expandvars' pattern on POSIX: $NAME or ${NAME}.
_VARIABLE = re.compile(r"\$(\w+|\{[^}]*\})", re.ASCII)
# Files read by this process, by path: (size, mtime, inode) and what they held.
_READ: dict[str, tuple[tuple[int, int, int], Sections]] = {}


def config_path(environ: Mapping[str, str]) -> str:
    return _path(environ.get("AWS_CONFIG_FILE") or "~/.aws/config", environ)


def credentials_path(environ: Mapping[str, str]) -> str:
    return _path(environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials", environ)


def _path(value: str, environ: Mapping[str, str]) -> str:
    """botocore's expandvars then expanduser, with the variables taken from ``environ``: the
    environment resolution reads, and records (``core.index``)."""

    def expanded(match: re.Match[str]) -> str:
        name = match[1][1:-1] if match[1].startswith("{") else match[1]
        return environ.get(name, match[0])  # an unknown variable stays as written

    return os.path.expanduser(_VARIABLE.sub(expanded, value))


def section_name(profile: str) -> str:
    """The config file's header for a profile: ``default`` or ``profile NAME``."""
    return "default" if profile == "default" else f"profile {profile}"


def config_profiles(environ: Mapping[str, str]) -> Sections:
    """Every profile of the config file by name, as botocore finds them."""
    profiles: Sections = {}
    for header, keys in read_sections(config_path(environ)).items():
        name = profile_of_header(header)
        if name is not None:
            profiles[name] = keys
    return profiles


def profile_of_header(header: str) -> str | None:
    """The profile a config file section header names, by botocore's rule, or None."""
    if header == "default":
        return header
    if not header.startswith("profile"):
        return None
    words = _header_words(header)
    return words[1] if words is not None and len(words) == 2 else None


def sso_sessions(environ: Mapping[str, str]) -> Sections:
    """Every ``[sso-session NAME]`` section of the config file by name, as botocore finds them
    (its rule for profiles: a header that starts with the word, split in exactly two)."""
    sessions: Sections = {}
    for header, keys in read_sections(config_path(environ)).items():
        if header.startswith("sso-session"):
            words = _header_words(header)
            if words is not None and len(words) == 2:
                sessions[words[1]] = keys
    return sessions


def credentials_profiles(environ: Mapping[str, str]) -> Sections:
    """The credentials file's sections: each header is a profile's name."""
    return read_sections(credentials_path(environ))


def profile_keys(profile: str, environ: Mapping[str, str]) -> dict[str, str] | None:
    """The keys of a profile in the config file, or None if there is no such profile."""
    return config_profiles(environ).get(profile)


def profile_exists(profile: str, environ: Mapping[str, str]) -> bool:
    return profile in config_profiles(environ) or profile in credentials_profiles(environ)


def read_sections(path: str) -> Sections:
    """The file's sections and their keys; a missing file has none. ConfigFileError if the file
    cannot be read or is not an INI file botocore would accept."""
    try:
        with open(path, "rb") as file:
            info = os.fstat(file.fileno())
            note_file(path, info)
            signature = (info.st_size, info.st_mtime_ns, info.st_ino)
            known = _READ.get(path)
            if known is not None and known[0] == signature:
                return known[1]
            data = file.read()
    except FileNotFoundError:
        note_file(path, None)
        return {}
    except OSError as error:
        raise ConfigFileError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigFileError(f"cannot read {path}: not UTF-8 text") from None
    sections = parse_sections(text, path)
    _READ[path] = (signature, sections)
    return sections


def parse_sections(text: str, path: str) -> Sections:
    """Parse INI text as botocore's configparser does; ConfigFileError names the file and line."""
    # Universal newlines, as open() in text mode gives configparser.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    sections = _parse_plain(text)
    if sections is None:
        sections = _parse_with_configparser(text, path)
    _check_nested(sections, path)
    return sections


def _check_nested(sections: Sections, path: str) -> None:
    """botocore reads a value that starts on the next line as ``key = value`` lines (the s3
    settings); one such line without ``=`` makes it refuse the whole file, for every profile."""
    for section, keys in sections.items():
        for key, value in keys.items():
            if not value.startswith("\n"):
                continue
            for line in value.splitlines():
                if line.strip() and "=" not in line:
                    raise ConfigFileError(
                        f"cannot parse {path}: in [{section}], {key} continues on a line "
                        f"without '=' ({line.strip()[:40]!r}), which botocore refuses: put a "
                        "list on one line, separated by commas"
                    )


def _parse_plain(text: str) -> Sections | None:
    """configparser's reading loop for the files it accepts; None where configparser must
    decide (an error to report, a [DEFAULT] section to share out)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    option: str | None = None
    indent = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            # A blank line inside a value is kept (empty_lines_in_values); a comment is not.
            if not stripped and current is not None and option is not None:
                current[option].append("")
            continue
        first = _NON_SPACE.search(line)
        level = first.start() if first else 0
        if current is not None and option is not None and level > indent:
            current[option].append(stripped)
            continue
        indent = level
        header = _SECTION.match(stripped)
        if header is not None:
            name = header["header"]
            if name in sections or name == "DEFAULT":
                return None  # strict: a section twice is an error; DEFAULT is shared out
            current = sections[name] = {}
            option = None
            continue
        pair = _OPTION.match(stripped)
        if current is None or pair is None or not pair["option"]:
            return None  # no section header yet, or not a key = value line
        option = pair["option"].rstrip().lower()
        if option in current:
            return None  # strict: a key twice in one section is an error
        current[option] = [pair["value"].strip()]
    return {
        name: {key: "\n".join(lines).rstrip() for key, lines in keys.items()}
        for name, keys in sections.items()
    }


def _parse_with_configparser(text: str, path: str) -> Sections:
    configparser = importlib.import_module("configparser")
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=path)
    except configparser.Error as error:
        raise ConfigFileError(f"cannot parse {path}: {_problem(error, configparser)}") from None
    return {name: dict(parser.items(name)) for name in parser.sections()}


def section_spans(text: str) -> list[tuple[str, int, int]]:
    """Each section as (header, start, end) in character offsets. A section ends at its last
    key line: blank lines and comments before the next header stay with that header."""
    found: list[tuple[str, int, int]] = []
    offset = last_content = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        header = _SECTION.match(stripped) if line[:1] not in (" ", "\t") else None
        if header is not None:
            if found:
                found[-1] = (found[-1][0], found[-1][1], last_content)
            found.append((header["header"], offset, offset))
        offset += len(line)
        if stripped and stripped[0] not in "#;":
            last_content = offset
    if found:
        found[-1] = (found[-1][0], found[-1][1], last_content)
    return found


def _problem(error: Exception, configparser: ModuleType) -> str:
    """Where and what, never the line's text: a mangled line may hold a secret key."""
    if isinstance(error, configparser.DuplicateSectionError):
        return f"line {error.lineno}: section [{error.section}] already exists"
    if isinstance(error, configparser.DuplicateOptionError):
        return f"line {error.lineno}: key {error.option!r} already exists in [{error.section}]"
    if isinstance(error, configparser.MissingSectionHeaderError):
        return f"line {error.lineno}: a key before any [section] header (no section headers)"
    if isinstance(error, configparser.ParsingError) and error.errors:
        lineno = error.errors[0][0]
        return f"line {lineno}: neither a [section], a key = value line nor a comment"
    return type(error).__name__


def _header_words(header: str) -> list[str] | None:
    """``shlex.split(header)``, or None where shlex cannot split it (an open quote)."""
    if _SHLEX_PLAIN.fullmatch(header):
        return [word for word in _SHLEX_SPACE.split(header) if word]
    try:
        return shlex.split(header)
    except ValueError:
        return None
