"""``credproc sso login``: sign in to an SSO session and store its token where the AWS CLI and
the SDKs find it. What it says goes to stderr; stdout stays empty."""

from __future__ import annotations

import argparse
import os
import sys

from ....config.options import BY_DEST, OUTPUT_OPTIONS
from ....core.credentials import format_expiration
from ....fetch.sso import How, login
from . import add_session_arguments, chosen_lock_timeout, chosen_session

OPTIONS = (BY_DEST["lock_timeout"], *OUTPUT_OPTIONS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_session_arguments(parser)
    parser.add_argument(
        "--use-device-code",
        action="store_true",
        help="sign in with a code to confirm in any browser (the default where none opens here)",
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the URL to open instead of opening it"
    )


def run(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone  # noqa: PLC0415

    from ....aws import ssotoken  # noqa: PLC0415 - imports boto3 with the OIDC client

    session, _ = chosen_session(args)
    how = How(use_device_code=args.use_device_code, no_browser=args.no_browser, to_stderr=True)
    with ssotoken.session_lock(session, os.environ, chosen_lock_timeout(args)):
        token = login(session, how, os.environ)
    until = format_expiration(datetime.fromtimestamp(token.expires_at, timezone.utc))
    renewal = "; credproc renews it silently" if token.refresh_token else ""
    sys.stderr.write(f"credproc: signed in to {session.describe()}, until {until}{renewal}\n")
    return 0
