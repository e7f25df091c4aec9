"""argparse, built from the option table: one parser per command, raising instead of exiting.

argparse's defaults cost every run that parses its command line: its help formatter imports shutil
(with zlib, bz2 and lzma) to find the terminal's width, and its own ``-h`` looks its text up
through gettext, which imports locale and probes for translation files. Both are replaced here.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..config.options import OPTIONS, Option
from ..errors import UsageError

if TYPE_CHECKING:
    from typing import NoReturn


class Finished(Exception):
    """--help or --version has printed its text: main returns this status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting: errors stay one line, and
    main(argv) returns a status rather than ending the caller's process."""

    def __init__(self, prog: str | None = None, description: str | None = None) -> None:
        super().__init__(
            prog=prog,
            description=description,
            formatter_class=_Formatter,
            allow_abbrev=False,
            add_help=False,
        )
        self.add_argument("-h", "--help", action="help", help="show this help and exit")

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise Finished(status)


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter with the width found without shutil."""

    def __init__(self, prog: str) -> None:
        try:
            width = os.get_terminal_size(sys.stderr.fileno()).columns - 2
        except (OSError, ValueError):
            width = 78
        super().__init__(prog, width=max(width, 40))


def add_options(parser: argparse.ArgumentParser, options: Iterable[Option]) -> None:
    """Each option as the table declares it, under "role options" or "general options"."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for option in options:
        title = "role options" if option.group == "role" else "general options"
        group = groups.get(title) or groups.setdefault(title, parser.add_argument_group(title))
        if option.switch:
            group.add_argument(
                *option.flags, dest=option.dest, action="store_true", help=option.help_text()
            )
        else:
            group.add_argument(
                *option.flags,
                dest=option.dest,
                metavar=option.metavar,
                action="append" if option.many else "store",
                help=option.help_text(),
            )


def request_parser(prog: str = "credproc", description: str | None = None) -> Parser:
    """A parser of every option, as the default command (credential_process) takes them."""
    parser = Parser(prog=prog, description=description)
    add_options(parser, OPTIONS)
    return parser
