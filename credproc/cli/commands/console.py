"""``credproc console``: open the AWS console as the role, from the same cached session.

The role session comes from the cache, refreshed under the lock when due exactly as for
credential_process, so the console and the CLI share one STS call. The federation endpoint
turns it into a sign-in link; the browser opens it, or ``--print`` prints it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import webbrowser

from ...aws import federation
from ...config.limits import CONSOLE_SECONDS
from ...config.options import RawOptions
from ...config.resolve import resolve
from ...config.source import source_kind
from ...config.syntax import DEFAULT_CONSOLE_SECONDS
from ...core.log import logger
from ...core.provider import get_credentials
from ...errors import ConfigError, UsageError
from ...fetch.fetch import from_sts

ISSUER = "credproc"


def run(args: argparse.Namespace) -> int:
    request = resolve(RawOptions.of(args), os.environ)
    if request.role_arn is None:
        raise UsageError(
            "an MFA session alone cannot sign in to the console: name a role with --role-arn "
            "(or --profile)"
        )
    wanted = _console_seconds(args.console_duration)
    partition = federation.partition_of(request.role_arn)
    url = federation.federation_url(partition, os.environ)
    target = federation.destination(args.destination, partition, request.region or "us-east-1")
    credentials = get_credentials(request, from_sts)
    chained = (
        request.source_profile is not None
        and request.mfa_serial is None
        and source_kind(request.source_profile, os.environ) == "role"
    )
    if chained:
        # The federation endpoint refuses SessionDuration for a session from role chaining.
        logger().info("a chained role: the console session lasts as long as the service decides")
        duration = None
    else:
        left = int(credentials.seconds_left(time.time()))
        duration = max(CONSOLE_SECONDS[0], min(wanted, left))
    token = federation.signin_token(url, credentials, duration)
    link = federation.login_url(url, token, ISSUER, target)
    sys.stderr.write(
        "credproc: the sign-in link signs in whoever has it for 15 minutes: do not share it\n"
    )
    if args.print_url:
        sys.stdout.write(link + "\n")
        return 0
    if not webbrowser.open(link):
        raise ConfigError("no browser could be opened here; use --print and open the link yourself")
    return 0


def _console_seconds(value: str | None) -> int:
    if value is None:
        return DEFAULT_CONSOLE_SECONDS
    try:
        seconds = int(value)
    except ValueError:
        raise UsageError(
            f"--console-duration {value[:20]!r} is not a whole number of seconds"
        ) from None
    low, high = CONSOLE_SECONDS
    if not low <= seconds <= high:
        raise UsageError(f"--console-duration {seconds} is out of range ({low}..{high} seconds)")
    return seconds
