"""The source's local checks, made from the AWS config before any STS call: the source profile
exists, gives what the request needs (long-term keys for --mfa-serial), and is not a role when
the duration would be too long for a chained one.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..core.request import Request
from ..errors import ConfigError, UsageError
from .awsconfig import (
    config_path,
    config_profiles,
    credentials_path,
    credentials_profiles,
    profile_exists,
    profile_keys,
)
from .cmdline import parse_line
from .limits import CHAINED_MAX_DURATION


def check_source(request: Request, environ: Mapping[str, str]) -> None:
    """Local checks of the source profile, made before any STS call."""
    # Both files, whatever the request names: botocore reads both for any source, and would
    # refuse a broken one with a less precise message (or none at all for a nested credproc).
    config_profiles(environ)
    credentials_profiles(environ)
    name = request.source_profile
    if name is None:
        temporary = request.source_keys is None and environ.get("AWS_SESSION_TOKEN")
        if request.mfa_serial and request.source_key_id and temporary:
            raise ConfigError(
                "--mfa-serial needs an IAM user's own access keys as the source, but the "
                "environment's keys are temporary (AWS_SESSION_TOKEN is set), which "
                "GetSessionToken refuses"
            )
        return
    if not profile_exists(name, environ):
        raise ConfigError(
            f"source profile {name!r} is in neither {config_path(environ)} nor "
            f"{credentials_path(environ)}"
        )
    kind = source_kind(name, environ)
    if request.mfa_serial:
        if kind != "unknown":
            raise ConfigError(
                f"--mfa-serial needs an IAM user's own access keys as the source, but source "
                f"profile {name!r} gives temporary ({kind} session) credentials, which "
                "GetSessionToken refuses"
            )
    elif request.role_arn and request.duration > CHAINED_MAX_DURATION and kind == "role":
        # With --mfa-serial the role is assumed from the MFA session: that is no chain.
        raise UsageError(
            f"--duration {request.duration} is too long: source profile {name!r} is itself a "
            f"role, and AWS caps a role assumed from a role at {CHAINED_MAX_DURATION} s"
        )


def source_kind(profile: str, environ: Mapping[str, str]) -> str:
    """What a profile's credentials are, as far as the config tells: "role" (an assumed-role
    session, so a role assumed from it is chained), "MFA" (a GetSessionToken session from
    credproc), "aws login" (a console identity's session) or "unknown" (access keys, or a
    process credproc cannot see into)."""
    keys = profile_keys(profile, environ) or {}
    if "role_arn" in keys or "sso_role_name" in keys:
        return "role"
    if "login_session" in keys:
        return "aws login"
    try:
        line = parse_line(keys.get("credential_process", ""))
    except (ConfigError, UsageError):
        return "unknown"
    if line is None or line.command:  # not credproc, or a command credproc wraps
        return "unknown"
    named_profile = line.options.text("profile")
    named = (profile_keys(named_profile, environ) if named_profile else None) or {}
    role = line.options.text("role_arn") or named.get("role_arn")
    mfa = line.options.text("mfa_serial") or named.get("mfa_serial")
    # credproc prints an assumed role, or with --mfa-serial and no role the MFA session.
    return "MFA" if mfa and not role else "role"
