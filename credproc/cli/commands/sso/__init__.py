"""``credproc sso ACTION``: IAM Identity Center sessions (docs/sso.md).

Each action is a module of this package with ``run(args) -> int``, named in ``ACTIONS`` (one
line) and declared, with its arguments, in ``config.syntax``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from . import login, logout, populate

ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "login": login.run,
    "logout": logout.run,
    "populate": populate.run,
}


def run(args: argparse.Namespace) -> int:
    return ACTIONS[args.action](args)
