"""``credproc sso ACTION``: IAM Identity Center sessions (docs/sso.md).

Each action is a module of this package with ``OPTIONS`` (the table's options it takes),
``add_arguments(parser)`` and ``run(args) -> int``; ``ACTIONS`` names it, one line each.
"""

from __future__ import annotations

import argparse
import importlib
import os
from types import ModuleType

from ....config.options import BY_DEST, PROFILE, SESSION
from ....config.resolve import lock_timeout
from ....config.sso import SsoSession, session_named, session_of_profile
from ...parser import Parser, add_options

OPTIONS = ()  # each action has its own

ACTIONS = {
    "login": "Sign in to an SSO session: in the browser (PKCE), or with a device code.",
    "logout": "Sign out of an SSO session: the portal's Logout, its token and its roles' "
    "cached credentials removed.",
    "populate": "Write a profile for every account and role the session reaches into the AWS "
    "config, in a block credproc owns (assignments that are gone are removed).",
}


def _action(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, parser_class=Parser)
    for name, summary in ACTIONS.items():
        module = _action(name)
        action = actions.add_parser(name, help=summary, description=summary)
        add_options(action, module.OPTIONS)
        module.add_arguments(action)


def run(args: argparse.Namespace) -> int:
    status: int = _action(args.action).run(args)
    return status


def add_session_arguments(parser: argparse.ArgumentParser) -> None:
    """--profile NAME or --sso-session NAME: which session an action works on."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--profile", metavar=PROFILE, help="the session of this profile (sso_session, or legacy)"
    )
    which.add_argument("--sso-session", metavar=SESSION, help="the [sso-session NAME] section")


def chosen_session(args: argparse.Namespace) -> tuple[SsoSession, str]:
    """The session the arguments name, and how a person names it again (for messages)."""
    if args.profile:
        return session_of_profile(args.profile, os.environ), f"--profile {args.profile}"
    return session_named(args.sso_session, os.environ), f"--sso-session {args.sso_session}"


def chosen_lock_timeout(args: argparse.Namespace) -> float:
    return lock_timeout(args.lock_timeout or os.environ.get(BY_DEST["lock_timeout"].env or ""))
