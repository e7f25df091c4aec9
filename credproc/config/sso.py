"""An IAM Identity Center (SSO) setup, read from the AWS config as botocore reads it.

A profile is an SSO profile when it names ``sso_account_id`` or ``sso_role_name`` and no
``role_arn`` (botocore tries AssumeRole first). Its session comes from ``sso_session = NAME``
and the ``[sso-session NAME]`` section (``sso_start_url``, ``sso_region``,
``sso_registration_scopes``), or, for a legacy profile, from ``sso_start_url`` and
``sso_region`` in the profile itself. A key in both the profile and its session must agree, as
botocore demands. A missing or malformed key is a ConfigError (exit 3) that names it.

Read on a cache hit for an SSO profile: the AWS config reader is the lean one (``awsconfig``),
and nothing here imports more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..core.request import Request
from ..core.typed import NamedTuple
from ..errors import ConfigError, UsageError
from .awsconfig import config_path, profile_keys, sso_sessions
from .options import NEEDS_MFA, NEEDS_ROLE, Option, RawOptions

# What botocore and the AWS CLI ask for when a session names no scopes: the one that earns a
# refresh token (a legacy profile registers without scopes, and gets none).
DEFAULT_SCOPES = ("sso:account:access",)
ACCOUNT_ID = r"\d{12}"
PERMISSION_SET = r"[\w+=,.@-]{1,32}"
_URL = r"https?://[^\s/?#@]+(?:[/?#]\S*)?"
_REGION = r"[a-z]{2,}(-[a-z0-9]+){1,4}"
_SCOPE = r"[\w:./-]+"
# The keys that make a profile an SSO one, as in botocore's SSOProvider.
PROFILE_KEYS = ("sso_account_id", "sso_role_name")
# The same two as credproc alone reads them (the profiles `sso populate` writes): botocore's SSO
# provider comes before credential_process in its chain, so a profile with its own keys would
# get its credentials from botocore, per process, and never from credproc's cache.
CREDPROC_KEYS = {
    "credproc_sso_account_id": "sso_account_id",
    "credproc_sso_role_name": "sso_role_name",
}
# The options that name an SSO role on the command line (or in the Python API).
OPTION_FLAGS = {
    "sso_session": "--sso-session",
    "sso_account_id": "--sso-account-id",
    "sso_role_name": "--sso-role-name",
}


class SsoSession(NamedTuple):
    """Where a login goes and where its token lives: a named session, or a legacy profile's
    start URL (``name`` None). The token file is named after ``name``, else ``start_url``."""

    name: str | None
    start_url: str
    region: str
    scopes: tuple[str, ...]

    def describe(self) -> str:
        return f"SSO session {self.name!r}" if self.name else f"SSO start URL {self.start_url}"


class SsoRole(NamedTuple):
    """An SSO profile: the session and the portal's account and role."""

    profile: str
    session: SsoSession
    account_id: str
    role_name: str


def is_sso_profile(keys: Mapping[str, str]) -> bool:
    """ConfigError for credproc's own SSO keys beside a role_arn, which would be ignored."""
    if "role_arn" in keys and any(key in keys for key in CREDPROC_KEYS):
        raise ConfigError(f"a profile with role_arn cannot have {', '.join(CREDPROC_KEYS)}")
    return "role_arn" not in keys and any(key in keys for key in (*PROFILE_KEYS, *CREDPROC_KEYS))


def sso_role(profile: str, keys: Mapping[str, str], environ: Mapping[str, str]) -> SsoRole:
    """The SSO profile's role and session; ConfigError naming the key that is missing or bad."""
    where = f"profile {profile!r}"
    keys = _with_credproc_keys(keys, where)
    account = _required(keys, "sso_account_id", where)
    role = _required(keys, "sso_role_name", where)
    if not re.fullmatch(ACCOUNT_ID, account):
        raise ConfigError(f"{where}: sso_account_id {account!r} is not a 12-digit account id")
    if not re.fullmatch(PERMISSION_SET, role):
        raise ConfigError(f"{where}: sso_role_name {role!r} is not a permission set name")
    name = keys.get("sso_session", "").strip()
    if "sso_session" in keys and not name:
        raise ConfigError(f"{where}: sso_session is empty")
    session = session_named(name, environ, keys, where) if name else _legacy(keys, where)
    return SsoRole(profile, session, account, role)


def _with_credproc_keys(keys: Mapping[str, str], where: str) -> Mapping[str, str]:
    """The profile's keys, credproc's spelling of the account and role read as botocore's."""
    merged = dict(keys)
    for ours, botocores in CREDPROC_KEYS.items():
        if ours not in keys:
            continue
        if botocores in keys and keys[botocores].strip() != keys[ours].strip():
            raise ConfigError(f"{where}: {ours} and {botocores} differ; keep one")
        merged[botocores] = keys[ours]
    return merged


def flags_role(
    flags: RawOptions, environ: Mapping[str, str], profile: str | None
) -> SsoRole | None:
    """The SSO role --sso-session, --sso-account-id and --sso-role-name name (all three, and
    not beside --profile), or None if they are not given."""
    given = {flag: flags.text(dest) for dest, flag in OPTION_FLAGS.items()}
    named = [flag for flag, value in given.items() if value is not None]
    if not named:
        return None
    if profile:
        raise UsageError(f"{named[0]} and --profile both name the role: give one")
    missing = [flag for flag, value in given.items() if not (value or "").strip()]
    if missing:
        raise UsageError(
            f"an SSO role needs {', '.join(given)} together; missing {', '.join(missing)}"
        )
    session, account, role = ((value or "").strip() for value in given.values())
    if not re.fullmatch(ACCOUNT_ID, account):
        raise UsageError(f"--sso-account-id {account!r} is not a 12-digit account id")
    if not re.fullmatch(PERMISSION_SET, role):
        raise UsageError(f"--sso-role-name {role!r} is not a permission set name")
    return SsoRole("", session_named(session, environ), account, role)


def session_named(
    name: str,
    environ: Mapping[str, str],
    profile_keys: Mapping[str, str] | None = None,
    where: str = "",
) -> SsoSession:
    """``[sso-session NAME]``, checked against the keys of the profile that names it."""
    section = sso_sessions(environ).get(name)
    if section is None:
        named_by = f"{where} names sso_session {name!r}, but " if where else ""
        raise ConfigError(f"{named_by}[sso-session {name}] is not in {config_path(environ)}")
    header = f"[sso-session {name}]"
    for key, value in (profile_keys or {}).items():
        if key in section and section[key].strip() != value.strip():
            raise ConfigError(
                f"{key} differs between {where} ({value.strip()}) and {header} "
                f"({section[key].strip()}): botocore refuses that"
            )
    scopes = tuple(scope.strip() for scope in section.get("sso_registration_scopes", "").split(","))
    scopes = tuple(scope for scope in scopes if scope) or DEFAULT_SCOPES
    for scope in scopes:
        if not re.fullmatch(_SCOPE, scope):
            raise ConfigError(f"{header}: sso_registration_scopes has a bad scope {scope!r}")
    return SsoSession(
        name, _start_url(section, header), _region(section, header), tuple(sorted(scopes))
    )


def _legacy(keys: Mapping[str, str], where: str) -> SsoSession:
    return SsoSession(None, _start_url(keys, where), _region(keys, where), ())


def _start_url(keys: Mapping[str, str], where: str) -> str:
    url = _required(keys, "sso_start_url", where)
    if not re.fullmatch(_URL, url, re.ASCII):
        raise ConfigError(f"{where}: sso_start_url {url!r} is not an http(s) URL")
    return url


def _region(keys: Mapping[str, str], where: str) -> str:
    region = _required(keys, "sso_region", where)
    if not re.fullmatch(_REGION, region, re.ASCII):
        raise ConfigError(f"{where}: sso_region {region!r} is not a region name")
    return region


def _required(keys: Mapping[str, str], key: str, where: str) -> str:
    value = keys.get(key, "").strip()
    if not value:
        raise ConfigError(f"{where} is an SSO setup but has no {key}")
    return value


def session_of_profile(profile: str, environ: Mapping[str, str]) -> SsoSession:
    """The session a profile signs in to (``credproc sso login --profile``): its sso_session,
    or its own sso_start_url and sso_region. It need not name an account and role."""
    keys = profile_keys(profile, environ)
    where = f"profile {profile!r}"
    if keys is None:
        raise ConfigError(f"{where} is not in {config_path(environ)}")
    name = keys.get("sso_session", "").strip()
    if name:
        return session_named(name, environ, keys, where)
    if "sso_start_url" not in keys:
        raise ConfigError(f"{where} has no sso_session or sso_start_url: it is not an SSO profile")
    return _legacy(keys, where)


def with_sso_role(request: Request, sso: SsoRole) -> Request:
    return request._replace(
        sso_account_id=sso.account_id,
        sso_role_name=sso.role_name,
        sso_start_url=sso.session.start_url,
        sso_region=sso.session.region,
        sso_session=sso.session.name,
        sso_scopes=sso.session.scopes,
        sso_profile=sso.profile or None,
    )


def shapes_a_role(option: Option) -> bool:
    """Whether ``option`` would shape a role of credproc's own (a role, MFA, another source):
    nothing a service that hands out its credentials as they are (the portal, Sign-In) takes."""
    return option.needs in (NEEDS_ROLE, NEEDS_MFA) or option.dest in (
        "mfa_serial",
        "source_profile",
        "source_keys",
        "web_identity_token_file",
    )


def check_sso_options(raw: RawOptions, sso: SsoRole) -> None:
    """An SSO profile's role comes from the portal as it is: refuse what would shape another."""
    if raw.has("role_arn"):
        if not sso.profile:
            raise UsageError("--role-arn and --sso-role-name both name the role: give one")
        raise UsageError(
            f"profile {sso.profile!r} is an SSO profile; to assume a role with its "
            f"credentials, give --role-arn with --source-profile {sso.profile}"
        )
    what = f"SSO profile {sso.profile!r}" if sso.profile else "an SSO role (--sso-role-name)"
    for option, _ in raw.given():
        if shapes_a_role(option):
            raise UsageError(
                f"{option.flag} (or its profile key) does not apply to {what}: the portal "
                "hands out its role's credentials as they are"
            )
