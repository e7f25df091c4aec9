"""The commands' work: one module per command that ``config.syntax`` declares (``process`` for
the default one, what credential_process runs), each imported only when run, so adding commands
never slows a cache hit. What a command accepts is declared in ``config.syntax``; its module is
a ``CommandModule``, whose ``run`` gets the parsed arguments and returns the exit status. Only
``cli.main`` runs them.
"""

from __future__ import annotations

import importlib

from ...core.typed import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from typing import Protocol

    class CommandModule(Protocol):
        """The contract of a command's module, checked by mypy below."""

        def run(self, args: argparse.Namespace, /) -> int:
            """Do the command's work with its parsed arguments; the exit status."""
            ...

    from . import (
        cache,
        completion,
        configure,
        console,
        doctor,
        env,
        keys,
        login,
        logout,
        process,
        serve,
        sso,
        wrap,
    )
    from . import exec as exec_

    # Every command's module, as mypy sees it: each must be a CommandModule (the layout test
    # checks that this names a module for every command of the syntax).
    MODULES: tuple[CommandModule, ...] = (
        process,
        env,
        exec_,
        cache,
        configure,
        doctor,
        console,
        keys,
        sso,
        login,
        logout,
        serve,
        completion,
        wrap,
    )

DEFAULT_MODULE = "process"


def load(name: str) -> CommandModule:
    """The module of ``credproc NAME`` ("" for the default command), imported now."""
    module: CommandModule = importlib.import_module(f"{__name__}.{name or DEFAULT_MODULE}")
    return module
