"""The one reader of credproc command lines found in the AWS config (``credential_process``).

botocore splits such a line with ``shlex.split`` and runs it without a shell; the other SDKs
hand it to ``sh -c``. credproc reads its own lines to follow a chain of source profiles (is the
source a role? which profile does it name?) and for ``doctor``. A line runs credproc when its
program is ``credproc`` (any path) or a Python started with ``-m credproc``, the form
``configure`` writes when no credproc script is installed. ``credproc wrap [options] -- COMMAND``
is a line credproc reads too: the profile is a wrapped command's (``resolve``).
"""

from __future__ import annotations

import importlib
import os
import shlex

from ..core.typed import TYPE_CHECKING, NamedTuple
from ..errors import ConfigError, UsageError
from .options import WRAP_REQUEST_OPTIONS, RawOptions
from .syntax import COMMANDS, DEFAULT, HELP, VERSION, Command

if TYPE_CHECKING:
    import argparse

WRAP = "wrap"


class CredprocLine(NamedTuple):
    program: str  # the executable as written: "credproc", a path, or a Python
    command: str  # "" for credential_process itself, or "wrap"
    options: RawOptions
    wrapped: tuple[str, ...] = ()  # credproc wrap's COMMAND and its arguments


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
    if arguments[:1] == [WRAP]:
        return CredprocLine(words[0], WRAP, *parse_wrap(arguments[1:]))
    return CredprocLine(words[0], *parse_arguments(arguments))


def parse_wrap(arguments: list[str]) -> tuple[RawOptions, tuple[str, ...]]:
    """``credproc wrap``'s words: its options, and the command after ``--``."""
    if "--" not in arguments:
        raise UsageError("credproc wrap takes its command after --: credproc wrap -- COMMAND")
    split = arguments.index("--")
    if {*HELP.flags} & set(arguments[:split]):
        raise UsageError("credential_process asks credproc wrap for its help")
    args = _parser(COMMANDS[WRAP]).parse_args(arguments[:split])
    return RawOptions.of(args, WRAP_REQUEST_OPTIONS), tuple(arguments[split + 1 :])


def parse_arguments(arguments: list[str]) -> tuple[str, RawOptions]:
    """credproc's own words: the command and its options."""
    command = arguments[0] if arguments[:1] and arguments[0] in COMMANDS else ""
    if command:
        raise UsageError(
            f"credential_process runs credproc {command}, which prints no credential_process JSON"
        )
    if {*HELP.flags, *VERSION.flags} & set(arguments):
        raise UsageError("credential_process asks credproc for its help or version")
    return command, RawOptions.of(_parser(DEFAULT).parse_args(arguments))


def _parser(command: Command) -> argparse.ArgumentParser:
    """``config.parser``'s parser for ``command``, loaded by name when a line is read: a run
    that resolves a profile without a credproc line never pays for importing argparse."""
    module = importlib.import_module("credproc.config.parser")
    parser: argparse.ArgumentParser = module.parser_for(command)
    return parser
