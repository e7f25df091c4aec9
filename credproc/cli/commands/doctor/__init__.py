"""``credproc doctor``: check a setup end to end, one verdict per check, secrets never shown.

Checks run in the order a client depends on them: the profile and its credential_process
line, the options, the chain of source profiles, the source credentials (GetCallerIdentity),
the role itself (a real refresh that is not cached), the cache dir, the refresh window
against the clients' own, this machine's clock against STS's, and last the browser and
context `credproc console` would use. A check whose input
failed is skipped rather than reported twice.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ....aws import sts
from ....config.awsconfig import config_path, credentials_path, credentials_profiles, profile_keys
from ....config.cmdline import (
    WRAP,
    credproc_arguments,
    parse_arguments,
    parse_line,
    parse_wrap,
    split,
)
from ....config.options import CONSOLE_OPTIONS, RawOptions
from ....config.resolve import console_options, resolve, wrap_request
from ....config.source import check_source
from ....core.provider import get_credentials
from ....core.request import Request
from ....core.sourcekeys import mask
from ....errors import (
    ConfigError,
    ConfigFileError,
    CredprocError,
    LoopError,
    UsageError,
)
from ....fetch.fetch import from_aws, read_web_identity_token, signing_session
from ....keys import keystore
from ....prompt import browser as browsers
from ..console import plan
from .checks import Check, cache_check, clock_check, failed, refresh_window_check
from .loginchecks import login_checks
from .ssochecks import sso_checks

if TYPE_CHECKING:
    from ....aws.sts import Identity

# Keys that botocore's credential chain serves before it ever looks at credential_process. Its
# SSO provider needs the account or the role: sso_session or sso_start_url alone only name a
# session (the profiles `sso populate` writes), and leave the profile to credential_process.
# So does an aws login profile's login_session (botocore's LoginProvider comes first too).
_SHADOWING_KEYS = (
    "role_arn",
    "web_identity_token_file",
    "sso_account_id",
    "sso_role_name",
    "login_session",
)


def run(args: argparse.Namespace) -> int:
    if args.profile_name is not None:
        if args.profile not in (None, args.profile_name):
            raise UsageError(
                f"doctor {args.profile_name} and --profile {args.profile} name two profiles: "
                "give one"
            )
        args.profile = args.profile_name
    labels = {"ok": "ok", "warn": "warn", "fail": "FAIL"}
    status = 0
    flags = RawOptions.of(args).updated({o.dest: getattr(args, o.dest) for o in CONSOLE_OPTIONS})
    for check in diagnose(flags, os.environ):
        fix = f" \u2014 {check.fix}" if check.fix else ""
        sys.stdout.write(f"{labels[check.status]:<4}  {check.name}: {check.verdict}{fix}\n")
        sys.stdout.flush()  # each verdict as soon as it is known: the STS checks take a moment
        status = status or check.exit_code
    return status


def diagnose(flags: RawOptions, environ: Mapping[str, str]) -> Iterator[Check]:
    """Every check, yielded as it completes (the STS ones take a moment)."""
    start = flags.text("profile")
    console_flags = {o.dest: flags.text(o.dest) for o in CONSOLE_OPTIONS}
    if start is not None:
        checks, resolved = _profile(flags, environ)
        yield from checks
        if resolved is None:
            return
        flags = resolved
    try:
        request = resolve(flags, environ)
    except ConfigFileError as error:
        # The checks that need no AWS config still run, on the options as given.
        yield failed("options", error)
        try:
            request = resolve(flags, {**environ, "AWS_CONFIG_FILE": os.devnull})
        except CredprocError:
            return
        yield cache_check(request)
        yield refresh_window_check(request)
        return
    except CredprocError as error:
        yield failed("options", error)
        return
    yield Check("options", "ok", _describe(request))
    # The profile doctor was asked about, then the one its credential_process line names.
    named = [name for name in dict.fromkeys((start, flags.text("profile"))) if name]
    chain = _chain(named, request, environ)
    if chain is not None:
        yield chain
    keyring = _keyring(request) if request.source_keys else None
    if keyring is not None:
        yield keyring
    origin, identity = _origin(request, environ, chain, keyring)
    yield from origin
    yield cache_check(request)
    yield refresh_window_check(request)
    if identity is not None:
        yield clock_check(identity.clock_offset)
    if request.role_arn is not None:  # last: the credentials need no browser
        yield _console(flags.updated(console_flags), request.role_arn, environ)


def _origin(
    request: Request, environ: Mapping[str, str], chain: Check | None, keyring: Check | None
) -> tuple[Iterator[Check], Identity | None]:
    """Where the credentials come from (the SSO session, or the source and the role), unless
    an earlier check already failed; with the source's identity, when STS told it."""
    if request.sso_role_name is not None:  # the role, or its source, is an SSO role
        if chain is not None and chain.status == "fail":
            return iter(()), None
        return _sso(request), None
    if request.login_session is not None:  # an aws login identity, or a role from one
        if chain is not None and chain.status == "fail":
            return iter(()), None
        return _login(request), None
    if any(check is not None and check.status == "fail" for check in (chain, keyring)):
        return iter(()), None
    source, identity = _source(request, environ)
    return _source_then_role(source, request), identity


def _source_then_role(source: Check, request: Request) -> Iterator[Check]:
    yield source  # before the role's check, which takes a moment
    if source.status != "fail":
        yield _role(request)


def _console(flags: RawOptions, role_arn: str, environ: Mapping[str, str]) -> Check:
    """The browser and the context `credproc console` would use (a warning if none: the
    credentials themselves do not need a browser)."""
    try:
        browser, where = plan(console_options(flags, environ), role_arn, environ)
    except CredprocError as error:
        return Check("console", "warn", str(error))
    chosen = f"{browser.describe()}, in {where.describe}"
    why = browsers.cannot_start(browser, environ)
    if why is not None:
        return Check(
            "console",
            "warn",
            f"{chosen}; but no browser can be started here: {why}",
            "credproc console --print prints the link to open elsewhere",
        )
    return Check("console", "ok", chosen)


# -- the profile and its credential_process line ------------------------------------------


def _profile(
    flags: RawOptions, environ: Mapping[str, str]
) -> tuple[list[Check], RawOptions | None]:
    """Check ``--profile NAME``; the options the rest of the checks should use, or None."""
    name = flags.text("profile") or ""
    try:
        keys = profile_keys(name, environ)
    except ConfigError as error:
        return [failed("profile", error)], None
    if keys is None:
        problem = ConfigError(f"profile {name!r} is not in {config_path(environ)}")
        return [failed("profile", problem, "check the name, and AWS_CONFIG_FILE")], None
    line = keys.get("credential_process")
    if line is None:  # credproc's own options, read by `credproc --profile NAME`
        verdict = f"{name!r} holds credproc's options (credproc --profile {name})"
        return [Check("profile", "ok", verdict)], flags
    checks = [_shadowing(name, keys, environ)]
    line_checks, options = _credential_process(line, environ)
    checks += line_checks
    if options is None:
        return checks, None
    # The line's options, with any role option given to doctor itself on top.
    return checks, flags.without(["profile"]).over(options)


def _shadowing(name: str, keys: Mapping[str, str], environ: Mapping[str, str]) -> Check:
    """Does botocore even run this profile's credential_process?"""
    found = [key for key in _SHADOWING_KEYS if key in keys]
    try:
        credentials = credentials_profiles(environ)
    except ConfigError:
        credentials = {}  # reported by the source check
    if "aws_access_key_id" in credentials.get(name, {}):
        found.append(f"aws_access_key_id in {credentials_path(environ)}")
    if "role_arn" in keys and not {"source_profile", "credential_source"} & set(keys):
        return Check(
            "profile",
            "fail",
            f"{name!r} sets role_arn without source_profile: botocore refuses the profile "
            "and never runs its credential_process",
            f"remove role_arn from [profile {name}] (credproc's options belong on its line or "
            "in the profile its --profile names)",
            ConfigError,
        )
    if found:
        return Check(
            "profile",
            "warn",
            f"botocore uses {', '.join(found)} of {name!r} and never runs its credential_process",
            f"remove them from {name!r}, or give credproc's options on its line",
        )
    return Check("profile", "ok", f"{name!r} gets its credentials from credential_process")


def _credential_process(
    line: str, environ: Mapping[str, str]
) -> tuple[list[Check], RawOptions | None]:
    try:
        words = split(line)
    except ConfigError as error:  # botocore splits it the same way and fails alike
        return [failed("credential_process", error, "check its quotes")], None
    executable = _find(words[0], environ) if words else None
    if executable is None:
        problem = ConfigError(
            f"credential_process runs {words[0] if words else ''!r}, which is not on PATH; "
            "clients run it without a shell"
        )
        fix = "give the absolute path (credproc configure prints one)"
        return [failed("credential_process", problem, fix)], None
    arguments = credproc_arguments(words)
    if arguments is None:
        verdict = f"runs {executable}, not credproc: there is nothing more to check here"
        return [Check("credential_process", "warn", verdict)], None
    if arguments[:1] == [WRAP]:
        return _wrapped(arguments[1:], executable, environ), None
    try:
        _, options = parse_arguments(arguments)
    except CredprocError as error:
        return [failed("credential_process", error)], None
    return [Check("credential_process", "ok", f"runs credproc ({executable})")], options


def _wrapped(arguments: list[str], executable: str, environ: Mapping[str, str]) -> list[Check]:
    """A ``credproc wrap`` line: its options, the command it wraps (found and executable, as
    credproc runs it: PATH, no shell; never run here) and the cache. Only the command's
    program is named: its arguments may hold secrets."""
    try:
        options, command = parse_wrap(arguments)
        request = wrap_request(options, command, environ)
    except CredprocError as error:
        return [failed("credential_process", error)]
    checks = [Check("credential_process", "ok", f"runs credproc wrap ({executable})")]
    found = _find(command[0], environ)
    if found is None:
        problem = ConfigError(
            f"the wrapped command {request.program!r} is not on PATH, or not an executable file"
        )
        checks.append(failed("command", problem, "install it, or give its absolute path"))
    else:
        checks.append(Check("command", "ok", f"{request.program} is {found}"))
    return [*checks, cache_check(request), refresh_window_check(request)]


def _find(command: str, environ: Mapping[str, str]) -> str | None:
    """The file a client would run, looked up as botocore does: PATH, no shell."""
    if os.sep in command:
        path = Path(command)
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(command, path=environ.get("PATH", os.defpath))


def _chain(named: list[str], request: Request, environ: Mapping[str, str]) -> Check | None:
    """Follow source profiles (and the credproc lines they run) until a real source."""
    if request.source_profile is None:
        return None
    path = list(named)
    current: str | None = request.source_profile
    while current is not None:
        if current in path:
            loop = " -> ".join([*path, current])
            return Check(
                "chain",
                "fail",
                f"{loop}: credproc would call itself",
                f"give {path[-1]!r} a source that does not lead back to {current!r}",
                LoopError,
            )
        path.append(current)
        current = _next_hop(current, environ)
    return Check("chain", "ok", " -> ".join(path))


def _next_hop(profile: str, environ: Mapping[str, str]) -> str | None:
    """The profile this one's credentials come from, if it is a role or runs credproc."""
    try:
        keys = profile_keys(profile, environ) or {}
        line = parse_line(keys.get("credential_process", ""))
        if line is not None and line.command:
            return None  # a wrapped command: the chain's real source
        if line is not None:
            return line.options.text("profile") or line.options.text("source_profile")
    except CredprocError:
        return None  # reported by the check that reads it
    return keys.get("source_profile") if "role_arn" in keys else None


# -- the options, the source, the role ----------------------------------------------------


def _sso(request: Request) -> Iterator[Check]:
    """The SSO session, token and portal, then the role, without ever signing in."""
    fine = True
    for check in sso_checks(request):
        fine = fine and check.status != "fail"
        yield check
    if fine:
        yield _role(request._replace(sso_login="never"))


def _login(request: Request) -> Iterator[Check]:
    """The aws login session and its file, then the identity or the role, never signing in
    (a renewal of the session, when due, is made, as any use would)."""
    fine = True
    for check in login_checks(request):
        fine = fine and check.status != "fail"
        yield check
    if fine:
        # A session the service says has ended: doctor names credproc login, never opens a
        # browser (--login never), as for SSO.
        yield _role(request._replace(login="never"))


def _describe(request: Request) -> str:
    if request.sso_role_name and not request.role_arn:
        return (
            f"SSO role {request.sso_role_name} in account {request.sso_account_id}, "
            f"from the portal in {request.sso_region}"
        )
    if request.login_session and not request.role_arn:
        return (
            f"the aws login identity {request.login_session} of profile "
            f"{request.login_profile!r}, renewed through AWS Sign-In in {request.login_region}"
        )
    if request.sso_role_name:
        source = f"SSO role {request.sso_role_name} in account {request.sso_account_id}"
    elif request.login_session:
        source = f"the aws login identity of profile {request.source_profile!r}"
    elif request.web_identity_token_file:
        source = f"the web identity token in {request.web_identity_token_file}"
    elif request.source_profile:
        source = f"profile {request.source_profile!r}"
    elif request.source_keys:
        source = f"the keys {request.source_keys!r} in the OS keyring"
    else:
        source = "the environment's credentials"
    if request.mfa_serial:
        source += f" with MFA device {request.mfa_serial}"
    region = f"STS in {request.region}" if request.region else "STS's default region"
    if request.role_arn is None:
        return f"an MFA session from {source}, {request.duration} s, {region}"
    return (
        f"role {request.role_arn} from {source}, {request.duration} s tokens, "
        f"session name {request.role_session_name}, {region}"
    )


def _keyring(request: Request) -> Check:
    """The keyring backend, and the keys --source-keys names in it."""
    name = request.source_keys or ""
    try:
        backend = keystore.backend_name(request.lock_timeout)
        keys = keystore.load(name, request.lock_timeout)
    except CredprocError as error:
        return failed("keyring", error)
    verdict = f"{backend} holds {name!r}: {mask(keys.access_key_id)}"
    if keys.access_key_id != request.source_key_id:
        indexed = mask(request.source_key_id or "")
        fix = "the next refresh corrects the index"
        return Check("keyring", "warn", f"{verdict}, but credproc's index says {indexed}", fix)
    return Check("keyring", "ok", verdict)


def _source(request: Request, environ: Mapping[str, str]) -> tuple[Check, Identity | None]:
    if request.web_identity_token_file is not None:
        try:
            token = read_web_identity_token(request)
        except CredprocError as error:
            return failed("source", error), None
        verdict = (
            f"a {len(token)}-character web identity token in {request.web_identity_token_file}"
        )
        return Check("source", "ok", verdict), None
    try:
        check_source(request, environ)
        identity = sts.caller_identity(signing_session(request), request)
    except CredprocError as error:
        return failed("source", error), None
    return Check("source", "ok", f"the source credentials are {identity.arn}"), identity


def _role(request: Request) -> Check:
    try:
        credentials = get_credentials(request._replace(cache_dir=None), from_aws)
    except CredprocError as error:
        return failed("role", error)
    minutes = int(credentials.seconds_left(time.time()) // 60)
    what = f"assumed {request.role_arn}" if request.role_arn else "got an MFA session"
    if request.sso_role_name and not request.role_arn:
        what = f"got {request.describe()} from the portal"
    if request.login_session and not request.role_arn:
        what = "got the aws login identity's credentials"
    return Check("role", "ok", f"{what}: a {minutes}-minute token (fetched now, not cached)")
