"""An ``aws login`` profile, read from the AWS config as botocore reads it.

A profile is an aws login profile when it names ``login_session`` (the console identity's ARN,
which ``aws login`` and ``credproc login`` write there) and is neither a role (``role_arn``:
botocore assumes the role first) nor an SSO profile (botocore asks SSO before the session).
Such a profile is a source like any other: ``credproc --profile NAME`` prints the identity's
own credentials, and a role whose ``source_profile`` it is, is assumed with them. Its
``region`` is where its Sign-In calls go (``us-east-1`` if it names none).

Read on a cache hit's resolution for such a profile: nothing here reads the session file (a
refresh of the session must not turn the next run's hit into a miss) or imports more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..core.request import Request
from ..core.typed import NamedTuple
from ..errors import ConfigError, UsageError
from .awsconfig import profile_keys
from .options import RawOptions
from .sso import is_sso_profile, shapes_a_role

PROFILE_KEY = "login_session"
# Where Sign-In is called when the profile names no region (the CLI asks; botocore needs one).
DEFAULT_REGION = "us-east-1"
# The identity a console sign-in is: an IAM user, the root user, or an assumed role (a
# federated console session), as its ARN states it.
_ARN = re.compile(r"arn:aws[\w-]*:(iam|sts)::\d{12}:[\w+=,.@/:-]{1,512}", re.ASCII)
_REGION = re.compile(r"[a-z]{2,}(-[a-z0-9]+){1,4}", re.ASCII)


class LoginSource(NamedTuple):
    """A ``login_session`` profile: the session it uses and where to refresh it."""

    profile: str
    login_session: str
    region: str


def is_login_profile(keys: Mapping[str, str]) -> bool:
    return PROFILE_KEY in keys and "role_arn" not in keys and not is_sso_profile(keys)


def login_of_profile(profile: str, environ: Mapping[str, str]) -> LoginSource | None:
    """The profile's session, if it is an aws login profile; None otherwise. ConfigError
    naming the key that is malformed."""
    keys = profile_keys(profile, environ) or {}
    if not is_login_profile(keys):
        return None
    where = f"profile {profile!r}"
    session = keys[PROFILE_KEY].strip()
    if not session:
        raise ConfigError(f"{where}: login_session is empty; sign in with credproc login")
    if not _ARN.fullmatch(session):
        raise ConfigError(
            f"{where}: login_session {session!r} is not the ARN of an IAM identity, which "
            "aws login writes there"
        )
    region = keys.get("region", "").strip() or DEFAULT_REGION
    if not _REGION.fullmatch(region):
        raise ConfigError(f"{where}: region {region!r} is not a region name")
    return LoginSource(profile, session, region)


def with_login(request: Request, source: LoginSource) -> Request:
    return request._replace(
        login_session=source.login_session,
        login_profile=source.profile,
        login_region=source.region,
    )


def check_login_options(raw: RawOptions, source: LoginSource) -> None:
    """The identity's own credentials come from Sign-In as they are: refuse what would
    shape another token (a role, MFA, another source)."""
    if raw.has("role_arn"):
        raise UsageError(
            f"profile {source.profile!r} is an aws login profile; to assume a role with its "
            f"credentials, give --role-arn with --source-profile {source.profile}"
        )
    for option, _ in raw.given():
        if shapes_a_role(option):  # --duration too: it needs a role
            raise UsageError(
                f"{option.flag} (or its profile key) does not apply to aws login profile "
                f"{source.profile!r}: Sign-In hands out the identity's credentials as they are"
            )
