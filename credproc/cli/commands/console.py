"""``credproc console``: open the AWS console as the role, from the same cached session.

The role session comes from the cache, refreshed under the lock when due exactly as for
credential_process, so the console and the CLI share one STS call. The federation endpoint
turns it into a sign-in link; ``--print`` prints it, or a browser opens it: by default in a
context of its own for each AWS profile (``prompt.browser``), through a private page rather
than its command line (``prompt.handoff``), signing out first when that context last held
another role. Its ``--region`` is the console's alone (see ``syntax``).
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
from ...config.limits import CONSOLE_SECONDS
from ...config.options import CONSOLE_OPTIONS, RawOptions
from ...config.resolve import console_options, resolve
from ...config.source import source_kind
from ...config.syntax import DEFAULT_CONSOLE_REGION, DEFAULT_CONSOLE_SECONDS
from ...core.dirs import user_data_dir
from ...core.files import atomic_write
from ...core.log import logger
from ...core.provider import get_credentials
from ...errors import ConfigError, UsageError
from ...fetch.fetch import from_aws
from ...prompt import browser as browsers
from ...prompt.handoff import handoff

ISSUER = "credproc"


def run(args: argparse.Namespace) -> int:
    request = resolve(RawOptions.of(args).without(["region"]), os.environ)
    if request.role_arn is None and request.login_session is not None:
        # The federation endpoint signs in role sessions; the person holds a console session
        # of this identity already (aws login started from one).
        raise UsageError(
            f"the aws login identity of profile {request.login_profile!r} cannot sign in to the "
            "console through credproc: name a role with --role-arn and --source-profile "
            f"{request.login_profile}"
        )
    if request.role_arn is None and not request.wrap_command:
        raise UsageError(
            "an MFA session alone cannot sign in to the console: name a role with --role-arn "
            "(or --profile)"
        )
    wanted = _console_seconds(args.console_duration)
    region = validate.region("--region", args.region) or request.region or DEFAULT_CONSOLE_REGION
    # A wrapped command's profile (always named: its line is what makes it one) signs in
    # as whatever the command's credentials are; its partition is its region's.
    role = request.role_arn or f"{args.profile} (credproc wrap {request.program})"
    partition = (
        federation.partition_of(request.role_arn)
        if request.role_arn
        else federation.partition_of_region(region)
    )
    url = federation.federation_url(partition, os.environ)
    target = federation.destination(args.destination, partition, region)
    # The browser and its context are settled before any network call: a wrong name fails
    # at once, and costs no STS call.
    settings = console_options(given(args), os.environ)
    opener = None if args.print_url else plan(settings, role, os.environ)
    if opener is not None:
        # No browser can start here (SSH, a container): say so before any STS or federation
        # call, so no sign-in token is minted for nothing.
        why = browsers.cannot_start(opener[0], os.environ)
        if why is not None:
            raise ConfigError(
                f"no browser can be started here: {why}; {browsers.NO_BROWSER_ADVICE}"
            )
    credentials = get_credentials(request, from_aws)
    if not credentials.session_token:
        raise UsageError(
            f"{request.program} gave long-lived keys, and the console signs in with temporary "
            "credentials only (a role's, a federated user's)"
        )
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
    if opener is None:
        sys.stdout.write(link + "\n")
        return 0
    browser, where = opener
    record = SignedIn(os.environ)
    if record.holds(browser, where, role):
        page_target = link
    else:
        logger().info("signing out of %s first: it may hold another role's session", where.describe)
        page_target = federation.logout_url(url, link)
    with handoff(page_target, os.path.join(user_data_dir(os.environ), "pages")) as page:
        handed = page.address if where.container else page.page
        process = browsers.open_page(browser, where, handed, os.environ)
        page.wait(process.poll if process is not None else lambda: None)
    record.sign_in(browser, where, role)
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
    low, high = CONSOLE_SECONDS
    if not low <= seconds <= high:
        raise UsageError(f"--console-duration {seconds} is out of range ({low}..{high} seconds)")
    return seconds
