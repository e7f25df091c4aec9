"""credproc's logger, set up once per run.

The CLI says what it wants once (``quiet_until_warning`` or ``configure``); modules call
``logger()`` on paths that have something to say, and check ``is_verbose()`` before composing
an informational message. The logging package is loaded by name when first needed (a warning,
or ``-v``): importing it costs a run that only resolves and prints more than a bare
interpreter's start, and most runs say nothing.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from ..errors import ConfigError
from .private import open_nofollow
from .typed import TYPE_CHECKING

if TYPE_CHECKING:
    import logging
    from typing import IO, ClassVar

NAME = "credproc"
FORMAT = "credproc: %(levelname)s: %(message)s"


class _State:
    stderr_on_first_use = False  # CLI default mode: a stderr handler, made when first needed
    verbose = False  # INFO or DEBUG is on: worth composing informational messages
    handlers: ClassVar[list[logging.Handler]] = []  # ours, to remove when set up again
    files: ClassVar[list[IO[str]]] = []  # log files we opened, to close then


def _logging() -> ModuleType:
    """The logging package, imported now (see the module docstring)."""
    return importlib.import_module("logging")


def logger() -> logging.Logger:
    lib = _logging()
    log: logging.Logger = lib.getLogger(NAME)
    if _State.stderr_on_first_use:
        _State.stderr_on_first_use = False
        _add(log, _stderr_handler(lib.WARNING))
        log.setLevel(lib.WARNING)
        log.propagate = False
    return log


def quiet_until_warning() -> None:
    """CLI default mode: warnings reach stderr, but logging is set up only if one is emitted."""
    _forget_setup()
    _State.stderr_on_first_use = True


def is_verbose() -> bool:
    return _State.verbose


def configure(*, verbose: bool, debug: bool, log_file: str | None) -> None:
    """Send credproc's own messages to stderr and, if asked, to a file. Never botocore's: its
    debug log holds request and response bodies, secrets included."""
    _forget_setup()
    lib = _logging()
    level: int = lib.DEBUG if debug else lib.INFO if verbose else lib.WARNING
    log: logging.Logger = lib.getLogger(NAME)
    log.propagate = False
    _add(log, _stderr_handler(level))
    if log_file:
        path = os.path.expanduser(log_file)
        try:
            # 0600 from the start: diagnostics name roles and accounts.
            fd = open_nofollow(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as error:
            raise ConfigError(f"cannot open the log file {path}: {error.strerror}") from None
        stream = os.fdopen(fd, "a", encoding="utf-8")
        _State.files.append(stream)
        to_file = lib.StreamHandler(stream)
        to_file.setFormatter(lib.Formatter("%(asctime)s " + FORMAT))
        to_file.setLevel(lib.DEBUG if debug else lib.INFO)
        _add(log, to_file)
        level = min(level, to_file.level)
    log.setLevel(level)
    _State.verbose = level <= lib.INFO


def _add(log: logging.Logger, handler: logging.Handler) -> None:
    log.addHandler(handler)
    _State.handlers.append(handler)


def _forget_setup() -> None:
    """Undo an earlier set-up: each cli.main() in one process (tests, a wrapper script) logs
    to the stderr and log file of its own run, once, at its own level."""
    _State.stderr_on_first_use = False
    _State.verbose = False
    if not _State.handlers:
        return
    log = _logging().getLogger(NAME)
    for handler in _State.handlers:
        log.removeHandler(handler)
        handler.close()
    _State.handlers.clear()
    for stream in _State.files:
        stream.close()
    _State.files.clear()


def _stderr_handler(level: int) -> logging.Handler:
    lib = _logging()
    handler: logging.Handler = lib.StreamHandler()
    handler.setFormatter(lib.Formatter(FORMAT))
    handler.setLevel(level)
    return handler
