"""argparse, built from the declaration of credproc's command line (``syntax``): one parser
per command, raising instead of exiting.

Here rather than with the rest of the command line in ``cli``: the reader of
``credential_process`` lines (``cmdline``) must accept and refuse a line exactly as credproc
itself would, with argparse's own messages, and it is read while resolving a request.

argparse's defaults cost every run that parses its command line: its help formatter imports shutil
(with zlib, bz2 and lzma) to find the terminal's width, and its own ``-h`` looks its text up
through gettext, which imports locale and probes for translation files. Both are replaced here.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable

from ..core.typed import TYPE_CHECKING
from ..errors import UsageError
from .options import Option
from .syntax import ACTION, COMMANDS, DEFAULT, HELP, VERSION, Argument, Command

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
        self.add_argument(*HELP.flags, action="help", help=HELP.help)

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


def parser_for(command: Command, version: str = "") -> Parser:
    """``credproc NAME``'s parser, as declared; ``version`` is what --version prints."""
    parser = Parser(prog=f"credproc {command.name}".strip(), description=command.summary)
    if command is DEFAULT:
        parser.add_argument(
            *VERSION.flags, action="version", version=f"credproc {version}", help=VERSION.help
        )
        parser.epilog = "commands: " + ", ".join(COMMANDS) + " (credproc COMMAND --help)"
    _fill(parser, command)
    return parser


def _fill(parser: argparse.ArgumentParser, command: Command, *, action: bool = False) -> None:
    """The table's options and the command's own arguments, then its actions' parsers.

    A command's own arguments follow the table's options, which every command shares; an
    action's come first in its usage line, since they are what tells ``keys add`` from
    ``keys rotate``."""
    if command.usage:
        parser.usage = command.usage
    if command.epilog:
        parser.epilog = command.epilog
    # One group per heading, whoever fills it: the table's console options and console's own
    # arguments share "console options".
    groups: dict[str, argparse._ArgumentGroup] = {}
    if action:
        _add_arguments(parser, command.arguments, groups)
    add_options(parser, command.options, groups)
    if not action:
        _add_arguments(parser, command.arguments, groups)
    if command.actions:
        # A command that takes arguments of its own does its own work when no action is named
        # (`credproc serve` serves; `credproc serve grant` makes a grant).
        required = not command.arguments
        actions = parser.add_subparsers(dest=ACTION, required=required, parser_class=Parser)
        for each in command.actions:
            _fill(actions.add_parser(each.name, help=each.summary), each, action=True)


def add_options(
    parser: argparse.ArgumentParser,
    options: Iterable[Option],
    groups: dict[str, argparse._ArgumentGroup] | None = None,
) -> None:
    """Each option as the table declares it, under "role options", "console options" or
    "general options"."""
    groups = {} if groups is None else groups
    for option in options:
        title = _TITLES.get(option.group, "general options")
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


_TITLES = {"role": "role options", "console": "console options"}


def _add_arguments(
    parser: argparse.ArgumentParser,
    arguments: Iterable[Argument],
    sections: dict[str, argparse._ArgumentGroup],
) -> None:
    exclusive: dict[str, argparse._MutuallyExclusiveGroup] = {}
    for argument in arguments:
        where: argparse._ActionsContainer = parser
        if argument.section:
            where = sections.get(argument.section) or sections.setdefault(
                argument.section, parser.add_argument_group(argument.section)
            )
        if argument.exclusive:
            where = exclusive.get(argument.exclusive) or exclusive.setdefault(
                argument.exclusive, where.add_mutually_exclusive_group()
            )
        details = _details(argument)
        if argument.flags:
            where.add_argument(*argument.flags, **details)  # type: ignore[arg-type]
        else:
            where.add_argument(argument.dest, **details)  # type: ignore[arg-type]


def _details(argument: Argument) -> dict[str, object]:
    """add_argument's keywords for a declared argument."""
    details: dict[str, object] = {"help": argument.help}
    if argument.switch:
        details["action"] = "store_true"
    else:
        details["metavar"] = argument.metavar
        if argument.choices:
            details["choices"] = argument.choices
        if argument.default is not None:
            details["default"] = argument.default
    if argument.flags:
        details["dest"] = argument.dest
        if argument.required:
            details["required"] = True
        if argument.many and not argument.switch:
            details["action"] = "append"  # --listen A --listen B
    elif argument.optional:
        details["nargs"] = "?"
    elif argument.many:
        details["nargs"] = "+"  # PROFILE...
    return details
