"""The command line: parse, dispatch to one command, map its errors to exit codes.

Every failure becomes one line on stderr and a documented exit status (see ``errors``); in the
default mode stdout carries the credential_process JSON and nothing else. What each command
accepts is declared in ``config.syntax``; its work is a module of ``credproc.cli.commands``,
imported only when run.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..config.options import BY_DEST
from ..config.syntax import COMMANDS, Command, command
from ..core.log import configure, is_verbose, quiet_until_warning
from ..core.typed import TYPE_CHECKING
from ..errors import CHAIN_VARIABLE, ERROR_PREFIX, NESTED_CODE, CredprocError, UsageError
from .commands import load
from .fastargs import parse

if TYPE_CHECKING:
    import argparse


INTERRUPTED = 130  # the shell's code for death by SIGINT
BUG_REPORT = "this is a bug in credproc: please report it, with the traceback -v shows"


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        return _run(args_list)
    except CredprocError as error:
        return _fail(str(error), error.exit_code, debug)
    except KeyboardInterrupt:
        return _fail("interrupted", INTERRUPTED, debug=False)
    except Exception as error:  # noqa: BLE001 - a bug must still end in one line, not a trace
        # Never an outage: a bug met during a refresh must not hide behind a stale token.
        return _fail(
            f"internal error: {type(error).__name__}: {error}; {BUG_REPORT}",
            1,
            debug or is_verbose(),
        )


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        # The interpreter's own report, as traceback.print_exc() writes it, without
        # importing traceback (and linecache, tokenize) into every run.
        sys.__excepthook__(*sys.exc_info())
    marker = NESTED_CODE.format(code=code) if _nested() else ""
    sys.stderr.write(f"{ERROR_PREFIX}{marker}{_one_line(message)}\n")
    return code


def _nested() -> bool:
    """Run by botocore inside another credproc's refresh: that one reads this error line."""
    return bool(os.environ.get(CHAIN_VARIABLE))


def _one_line(message: str) -> str:
    """Escape what would break the line: argparse echoes arguments (newlines, \\x1e, U+2028)
    verbatim, and clients show stderr to a person or a log that splits on them."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)


def _run(argv: list[str]) -> int:
    name = argv[0] if argv and argv[0] in COMMANDS else ""
    declared = command(name)
    rest = argv[1:] if name else argv
    module = load(name)
    args = None
    if not (declared.takes_command or declared.arguments or declared.actions):
        args = parse(rest, declared.options)
    if args is None:
        # argparse, loaded by name only now: a plain command line (fastargs) never pays for it.
        parser = importlib.import_module("credproc.config.parser")
        try:
            args = _parse(parser.parser_for(declared, __version__), declared, rest)
        except parser.Finished as finished:  # --help or --version has printed its text
            status: int = finished.status
            return status
    args.argv = argv  # the command line as given: process records it (core.index)
    _setup_logging(args)
    return module.run(args)


def _parse(
    parser: argparse.ArgumentParser, declared: Command, argv: list[str]
) -> argparse.Namespace:
    """The arguments through argparse, with ``parser`` built from the command's declaration."""
    if not declared.takes_command:
        return parser.parse_args(argv)
    # The command line after "--" is the command's own, whatever it looks like.
    split = argv.index("--") if "--" in argv else len(argv)
    args, stray = parser.parse_known_args(argv[:split])
    if stray:
        raise UsageError(
            f"unrecognized arguments: {' '.join(stray)} (a command goes after --: "
            f"credproc {declared.name} [options] -- COMMAND)"
        )
    args.command_line = argv[split + 1 :]
    return args


def _setup_logging(args: argparse.Namespace) -> None:
    log_file = args.log_file or os.environ.get(BY_DEST["log_file"].env or "")
    if not (args.verbose or args.debug or log_file):
        quiet_until_warning()
        return
    configure(verbose=args.verbose, debug=args.debug, log_file=log_file)
