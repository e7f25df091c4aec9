"""``credproc login``: sign in with console credentials, as ``aws login`` does (docs/login.md).

The browser on this machine (PKCE, a one-shot loopback callback), or with ``--remote`` a link
to open on any device and the code it shows pasted back. The session is stored where the AWS
CLI keeps it, in its format, and the profile gets ``login_session`` (and ``region`` if it had
none), every other byte of the config kept. What it says goes to stderr; stdout stays empty.

Everything that can be checked here is checked before anyone is asked to sign in: the profile
name, the region, a profile that already gets credentials another way (botocore would go on
using those), a config file botocore could not read, the login extra.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from datetime import datetime, timezone

from ...aws import logintoken
from ...config import loginprofile, rewrite, validate
from ...config.awsconfig import (
    PROFILE_NAME,
    config_path,
    credentials_profiles,
    parse_sections,
    profile_of_header,
)
from ...core.credentials import format_expiration
from ...errors import ConfigError, UsageError
from ...fetch import signin
from ...prompt.terminal import close, line_ready, open_terminal
from .sso.target import chosen_lock_timeout

# What aws login offers when it must ask for a region.
DEFAULT_REGION = "us-east-1"
REGION_QUESTION_TIMEOUT = 120


def chosen_profile(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    """--profile, or the name after the command, else AWS_PROFILE, else default."""
    given = [name for name in (args.profile, getattr(args, "profile_name", None)) if name]
    if len(set(given)) > 1:
        raise UsageError(f"two profiles named: {given[0]!r} and {given[1]!r}; give one")
    profile = given[0] if given else environ.get("AWS_PROFILE") or "default"
    if not re.fullmatch(PROFILE_NAME, profile):
        raise UsageError(
            f"profile {profile!r} must be 1-128 letters, digits or _ . @ + = , : / - characters"
        )
    return profile


def run(args: argparse.Namespace) -> int:
    environ = os.environ
    profile = chosen_profile(args, environ)
    config = config_path(environ)
    keys = _profile_keys(config, profile)
    other = loginprofile.other_credentials(keys)
    if other is None and "aws_access_key_id" in credentials_profiles(environ).get(profile, {}):
        other = "access key"
    if other is not None:
        raise ConfigError(
            f"profile {profile!r} already gets {other} credentials, which botocore would go on "
            "using; sign in as another profile (credproc login --profile NEW), or remove "
            "them from it first"
        )
    region = validate.region("--region", args.region) or keys.get("region") or _region(environ)
    lock_timeout = chosen_lock_timeout(args)

    how = signin.How(remote=args.remote, to_stderr=True)
    token, session = signin.sign_in(region, how, environ, profile)
    with logintoken.session_lock(session, environ, lock_timeout):
        signin.store(session, token, environ)

    # Read again: the config may have changed while the person signed in.
    original = rewrite.read_for_rewrite(config)
    updated = loginprofile.with_login_session(
        original.text, original.path, profile, session, region
    )
    changed = updated != original.text
    if changed:
        rewrite.replace(original, updated)
    until = format_expiration(datetime.fromtimestamp(token.expires_at, timezone.utc))
    where = f"set in {original.path}" if changed else f"already in {original.path}"
    previous = keys.get(loginprofile.LOGIN_SESSION)
    switched = f" (it used {previous} before)" if previous and previous != session else ""
    sys.stderr.write(
        f"credproc: signed in as {session}; profile {profile!r} uses it{switched} "
        f"(login_session {where}). Its credentials last until {until} and renew silently "
        "while the session lives (up to 12 hours)\n"
    )
    return 0


def _profile_keys(config: str, profile: str) -> dict[str, str]:
    """The profile's keys in the config file ({} for a profile it does not have yet)."""
    original = rewrite.read_for_rewrite(config)
    sections = parse_sections(original.text, original.path)
    for header, keys in sections.items():
        if profile_of_header(header) == profile:
            return keys
    return {}


def _region(environ: Mapping[str, str]) -> str:
    """The environment's region, else asked on the terminal (aws login asks too)."""
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        value = environ.get(variable, "").strip()
        if value:
            return validate.region(variable, value) or value
    terminal = open_terminal()
    if terminal is None:
        raise UsageError(
            "no region: give --region REGION (the Sign-In service's region, written to the "
            "profile), or set AWS_REGION"
        )
    reader, writer = terminal
    try:
        writer.write(f"credproc: the profile has no region; AWS region [{DEFAULT_REGION}]: ")
        writer.flush()
        if not line_ready(reader, REGION_QUESTION_TIMEOUT):
            raise UsageError("no region was entered; give --region REGION")
        answer = reader.readline().strip()
    finally:
        close(reader, writer)
    return validate.region("region", answer or DEFAULT_REGION) or DEFAULT_REGION
