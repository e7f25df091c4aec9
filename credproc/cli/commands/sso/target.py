"""What every ``credproc sso`` action reads from its arguments: the session it works on
(``--profile NAME`` or ``--sso-session NAME``) and how long it waits for the session's lock."""

from __future__ import annotations

import argparse
import os

from ....config.options import BY_DEST
from ....config.resolve import lock_timeout
from ....config.sso import SsoSession, session_named, session_of_profile
from ....errors import UsageError


def chosen_session(args: argparse.Namespace) -> SsoSession:
    """The session the arguments name: a profile's, or an [sso-session NAME]."""
    if args.profile:
        return session_of_profile(args.profile, os.environ)
    if args.sso_session:
        return session_named(args.sso_session, os.environ)
    raise UsageError(f"credproc sso {args.action} needs --profile NAME or --sso-session NAME")


def chosen_lock_timeout(args: argparse.Namespace) -> float:
    return lock_timeout(args.lock_timeout or os.environ.get(BY_DEST["lock_timeout"].env or ""))
