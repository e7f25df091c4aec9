"""``credproc console``: open the AWS console as the role, from the same cached session.

The role session comes from the cache, refreshed under the lock when due exactly as for
credential_process, so the console and the CLI share one STS call. The federation endpoint
turns it into a sign-in link; ``--print`` prints it, or a browser opens it: by default in a
context of its own for each AWS profile (``prompt.browser``), through a private page rather
than its command line (``prompt.handoff``), signing out first when that context last held
another role.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Mapping

from ...aws import federation
from ...config import validate
from ...config.options import CONSOLE_OPTIONS, RawOptions
from ...config.options import OPTIONS as EVERY_OPTION
from ...config.resolve import console_options, resolve
from ...config.source import source_kind
from ...core.dirs import user_data_dir
from ...core.files import atomic_write
from ...core.log import logger
from ...core.provider import get_credentials
from ...errors import UsageError
from ...prompt import browser as browsers
from ...prompt.handoff import handoff
from ..parser import add_option

# --region is the console's own here (below): the role session is the one credential_process
# gets for the same profile, in the same STS region, so the two share one cached token.
OPTIONS = tuple(option for option in EVERY_OPTION if option.dest != "region")
ISSUER = "credproc"
DEFAULT_CONSOLE_SECONDS = 3600
DEFAULT_REGION = "us-east-1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    console = parser.add_argument_group("console options")
    console.add_argument(
        "--destination",
        metavar="SERVICE_OR_URL",
        help="a service (s3, ec2, cloudwatch...) or a https:// console URL (default: home)",
    )
    console.add_argument(
        "--print",
        dest="print_url",
        action="store_true",
        help="print the sign-in link on stdout instead of opening a browser",
    )
    console.add_argument(
        "--console-duration",
        metavar="SECONDS",
        help=(
            f"how long the console session lasts, {federation.MIN_CONSOLE_SECONDS}.."
            f"{federation.MAX_CONSOLE_SECONDS} (default {DEFAULT_CONSOLE_SECONDS}; at most "
            "what the role session has left)"
        ),
    )
    console.add_argument(
        "--region",
        metavar="REGION",
        help="the console's region, and the destination's (default: the profile's region, "
        f"else {DEFAULT_REGION}); the role session stays in the profile's STS region",
    )
    for option in CONSOLE_OPTIONS:
        add_option(console, option)


def run(args: argparse.Namespace) -> int:
    request = resolve(RawOptions.of(args).without(["region"]), os.environ)
    if request.role_arn is None:
        raise UsageError(
            "an MFA session alone cannot sign in to the console: name a role with --role-arn "
            "(or --profile)"
        )
    wanted = _console_seconds(args.console_duration)
    region = validate.region("--region", args.region) or request.region or DEFAULT_REGION
    partition = federation.partition_of(request.role_arn)
    url = federation.federation_url(partition, os.environ)
    target = federation.destination(args.destination, partition, region)
    # The browser and its context are settled before any network call: a wrong name fails
    # at once, and costs no STS call.
    settings = console_options(given(args), os.environ)
    opener = None if args.print_url else plan(settings, request.role_arn, os.environ)
    credentials = get_credentials(request)
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
        duration = max(federation.MIN_CONSOLE_SECONDS, min(wanted, left))
    token = federation.signin_token(url, credentials, duration)
    link = federation.login_url(url, token, ISSUER, target)
    sys.stderr.write(
        "credproc: the sign-in link signs in whoever has it for 15 minutes: do not share it\n"
    )
    if opener is None:
        sys.stdout.write(link + "\n")
        return 0
    browser, where = opener
    record = SignedIn(os.environ)
    if record.holds(browser, where, request.role_arn):
        page_target = link
    else:
        logger().info("signing out of %s first: it may hold another role's session", where.describe)
        page_target = federation.logout_url(url, link)
    with handoff(page_target, os.path.join(user_data_dir(os.environ), "pages")) as page:
        process = browsers.open_page(browser, where, page.address if where.container else page.page)
        page.wait(process.poll if process is not None else lambda: None)
    record.sign_in(browser, where, request.role_arn)
    logger().info("the console opened in %s, %s", browser.describe(), where.describe)
    return 0


def given(args: argparse.Namespace) -> RawOptions:
    """The console options on the command line, and the profile they may come from."""
    values = {o.dest: getattr(args, o.dest, None) for o in CONSOLE_OPTIONS}
    return RawOptions(values, profile=args.profile)


def plan(
    raw: RawOptions, role_arn: str, environ: Mapping[str, str]
) -> tuple[browsers.Browser, browsers.Context]:
    """The browser and the context ``console`` opens the console in (doctor names them), for
    the options ``console_options`` resolved."""
    return browsers.choose(
        raw.text("browser") or browsers.DEFAULT,
        isolate=raw.text("isolate"),
        own_profile=raw.text("browser_profile"),
        name=context_name(raw.text("profile"), role_arn),
        contexts_dir=os.path.join(user_data_dir(environ), "browsers"),
        environ=environ,
    )


def context_name(profile: str | None, role_arn: str) -> str:
    """The AWS profile's name, else the role's, as ``NAME@ACCOUNT``."""
    if profile:
        return profile
    account, role = role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1]
    return f"{role}@{account}"


class SignedIn:
    """Which role each isolated context was last signed in as (a file in the data dir), so a
    context that held another role signs out first. The browser's own context is never
    recorded: the user signs in there too, so it always signs out first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.path = os.path.join(user_data_dir(environ), "signed-in.json")
        try:
            with open(self.path, encoding="utf-8") as file:
                roles = json.load(file)
        except (OSError, ValueError):
            roles = {}
        self.roles: dict[str, str] = roles if isinstance(roles, dict) else {}

    @staticmethod
    def _key(browser: browsers.Browser, where: browsers.Context) -> str | None:
        if where == browsers.OWN_CONTEXT:
            return None
        return json.dumps([browser.path, *where.arguments, where.container])

    def holds(self, browser: browsers.Browser, where: browsers.Context, role: str) -> bool:
        key = self._key(browser, where)
        return key is not None and self.roles.get(key) == role

    def sign_in(self, browser: browsers.Browser, where: browsers.Context, role: str) -> None:
        key = self._key(browser, where)
        if key is None:
            return
        self.roles[key] = role
        with contextlib.suppress(OSError):  # a lost record costs one sign-out next time
            atomic_write(self.path, json.dumps(self.roles, indent=1).encode())


def _console_seconds(value: str | None) -> int:
    if value is None:
        return DEFAULT_CONSOLE_SECONDS
    try:
        seconds = int(value)
    except ValueError:
        raise UsageError(
            f"--console-duration {value[:20]!r} is not a whole number of seconds"
        ) from None
    low, high = federation.MIN_CONSOLE_SECONDS, federation.MAX_CONSOLE_SECONDS
    if not low <= seconds <= high:
        raise UsageError(f"--console-duration {seconds} is out of range ({low}..{high} seconds)")
    return seconds
