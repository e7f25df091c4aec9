"""``credproc sso login``: sign in to an SSO session and store its token where the AWS CLI and
the SDKs find it. What it says goes to stderr; stdout stays empty."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone

from ....aws import ssotoken
from ....core.credentials import format_expiration
from ....fetch.sso import How, login
from .target import chosen_lock_timeout, chosen_session


def run(args: argparse.Namespace) -> int:
    session = chosen_session(args)
    how = How(use_device_code=args.use_device_code, no_browser=args.no_browser, to_stderr=True)
    with ssotoken.session_lock(session, os.environ, chosen_lock_timeout(args)):
        token = login(session, how, os.environ)
    until = format_expiration(datetime.fromtimestamp(token.expires_at, timezone.utc))
    renewal = "; credproc renews it silently" if token.refresh_token else ""
    sys.stderr.write(f"credproc: signed in to {session.describe()}, until {until}{renewal}\n")
    return 0
