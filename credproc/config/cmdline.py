"""The one reader of credproc command lines found in the AWS config (``credential_process``).

botocore splits such a line with ``shlex.split`` and runs it without a shell; the other SDKs
hand it to ``sh -c``. credproc reads its own lines to follow a chain of source profiles (is the
source a role? which profile does it name?) and for ``doctor``. A line runs credproc when its
program is ``credproc`` (any path) or a Python started with ``-m credproc``, the form
``configure`` writes when no credproc script is installed.
"""

from __future__ import annotations

import os
import shlex
from typing import NamedTuple

from ..errors import ConfigError, UsageError
from .options import RawOptions
from .parser import parser_for
from .syntax import COMMANDS, DEFAULT, HELP, VERSION


class CredprocLine(NamedTuple):
    program: str  # the executable as written: "credproc", a path, or a Python
    command: str  # "" for credential_process itself, else "env", "exec", ...
    options: RawOptions


def split(line: str) -> list[str]:
    """The line's words as botocore splits them; ConfigError if it cannot be split."""
    try:
        return shlex.split(line)
    except ValueError as error:
        raise ConfigError(f"credential_process is not a valid command line ({error})") from None


def credproc_arguments(words: list[str]) -> list[str] | None:
    """The words after the program, if the words run credproc; else None."""
    if not words:
        return None
    name = os.path.basename(words[0])
    if name in ("credproc", "credproc.exe"):
        return words[1:]
    if words[1:3] == ["-m", "credproc"]:
        return words[3:]
    return None


def parse_line(line: str) -> CredprocLine | None:
    """A credential_process line read as credproc reads its own arguments; None if it does not
    run credproc. ConfigError if it cannot be split, UsageError if credproc would refuse it."""
    words = split(line)
    arguments = credproc_arguments(words)
    if arguments is None:
        return None
    return CredprocLine(words[0], *parse_arguments(arguments))


def parse_arguments(arguments: list[str]) -> tuple[str, RawOptions]:
    """credproc's own words: the command and its options."""
    command = arguments[0] if arguments[:1] and arguments[0] in COMMANDS else ""
    if command:
        raise UsageError(
            f"credential_process runs credproc {command}, which prints no credential_process JSON"
        )
    if {*HELP.flags, *VERSION.flags} & set(arguments):
        raise UsageError("credential_process asks credproc for its help or version")
    return command, RawOptions.of(parser_for(DEFAULT).parse_args(arguments))
