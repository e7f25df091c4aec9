"""Reading the user's AWS config and credentials files (never writing them; see configure).

Used for ``--profile`` (the request's options as profile keys) and for the local checks of a
source profile that run before any STS call.
"""

from __future__ import annotations

import configparser
import re
import shlex
from collections.abc import Mapping
from pathlib import Path

from .errors import LOOP_MARKER, ConfigError, LoopError, UsageError
from .request import CHAINED_MAX_DURATION, RawOptions, Request

# Standard assume-role keys botocore itself understands, and the option each one sets.
STANDARD_KEYS = {
    "role_arn": "role_arn",
    "source_profile": "source_profile",
    "external_id": "external_id",
    "mfa_serial": "mfa_serial",
    "duration_seconds": "duration",
    "role_session_name": "role_session_name",
    "region": "region",
    "web_identity_token_file": "web_identity_token_file",
}
# credproc's own options as `credproc_<option>` keys (list options: comma or newline separated).
PREFIX = "credproc_"
LIST_OPTIONS = {
    "policy_arns": "policy_arn",
    "tags": "tag",
    "transitive_tag_keys": "transitive_tag_key",
}


def config_path(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser()


def credentials_path(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials").expanduser()


def read_ini(path: Path) -> configparser.RawConfigParser:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"cannot read {path}: {reason}") from None
    return parse_ini(text, path)


def parse_ini(text: str, path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, default_section="\0none")
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as error:
        first_line = str(error).splitlines()[0]
        raise ConfigError(f"cannot parse {path}: {first_line}") from None
    return parser


def config_section_name(profile: str) -> str:
    return "default" if profile == "default" else f"profile {profile}"


def profile_keys(profile: str, environ: Mapping[str, str]) -> dict[str, str] | None:
    """The keys of ``[profile NAME]`` in the config file, or None if there is no such profile."""
    parser = read_ini(config_path(environ))
    for section in (config_section_name(profile), profile if profile == "default" else None):
        if section and parser.has_section(section):
            return dict(parser.items(section))
    return None


def profile_exists(profile: str, environ: Mapping[str, str]) -> bool:
    if profile_keys(profile, environ) is not None:
        return True
    return read_ini(credentials_path(environ)).has_section(profile)


def options_from_profile(profile: str, environ: Mapping[str, str]) -> RawOptions:
    """Options from ``[profile NAME]``: the standard keys and the credproc_* keys."""
    keys = profile_keys(profile, environ)
    if keys is None:
        raise ConfigError(f"profile {profile!r} is not in {config_path(environ)}")
    values: dict[str, object] = {}
    for key, value in keys.items():
        if key in STANDARD_KEYS:
            values[STANDARD_KEYS[key]] = value.strip()
        elif key.startswith(PREFIX):
            name = key[len(PREFIX) :]
            if name in LIST_OPTIONS.values():
                name = next(field for field, single in LIST_OPTIONS.items() if single == name)
            if name not in RawOptions._fields or name in ("no_cache", "profile"):
                raise ConfigError(f"profile {profile!r}: unknown key {key!r}")
            if name in LIST_OPTIONS:
                values[name] = tuple(i.strip() for i in re.split(r"[,\n]", value) if i.strip())
            else:
                values[name] = value.strip()
    options = RawOptions().updated(values)
    if options.source_profile == profile:
        raise LoopError(f"{LOOP_MARKER} profile {profile!r} names itself as its source_profile")
    if options.role_arn is None and options.mfa_serial is None:
        raise ConfigError(f"profile {profile!r} has no role_arn{_hint(profile, keys)}")
    return options


def _hint(profile: str, keys: Mapping[str, str]) -> str:
    """What to do about a profile without role options that runs credproc itself."""
    line = keys.get("credential_process", "")
    if "credproc" not in line:
        return ""
    try:
        words = shlex.split(line)
    except ValueError:
        words = []
    named = words[words.index("--profile") + 1] if "--profile" in words[:-1] else None
    if named is not None and named != profile:
        # A client profile (`aws --profile dev`): its line names the profile with the options.
        return f"; its credential_process runs credproc --profile {named}: use --profile {named}"
    return (
        f"; it runs credproc on itself: put role_arn and source_profile in another "
        f"profile (say [profile {profile}-role]) and use credproc --profile {profile}-role"
    )


def merge(flags: RawOptions, profile: RawOptions) -> RawOptions:
    """Flags (and CREDPROC_* variables) win over profile keys, option by option."""
    return RawOptions._make(
        given if given not in (None, (), False) else from_profile
        for given, from_profile in zip(flags, profile, strict=True)
    )


def check_source(request: Request, environ: Mapping[str, str]) -> None:
    """Local checks of the source profile, made before any STS call."""
    name = request.source_profile
    if name is None:
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
    credproc) or "unknown" (access keys, or a process credproc cannot see into)."""
    keys = profile_keys(profile, environ) or {}
    if "role_arn" in keys or "sso_role_name" in keys:
        return "role"
    try:
        words = shlex.split(keys.get("credential_process", ""))
    except ValueError:
        return "unknown"
    if not words or Path(words[0]).stem != "credproc":
        return "unknown"
    flags = _flag_values(words[1:])
    named = (profile_keys(flags["--profile"], environ) if "--profile" in flags else None) or {}
    role = flags.get("--role-arn") or named.get("role_arn")
    # credproc prints an assumed role, or with --mfa-serial and no role the MFA session.
    return "MFA" if (flags.get("--mfa-serial") or named.get("mfa_serial")) and not role else "role"


def _flag_values(words: list[str]) -> dict[str, str]:
    """``--flag value`` and ``--flag=value`` pairs of a command line."""
    values: dict[str, str] = {}
    for index, word in enumerate(words):
        flag, equals, value = word.partition("=")
        if flag.startswith("--"):
            following = words[index + 1] if index + 1 < len(words) else ""
            values[flag] = value if equals else following
    return values


def region_for(request: Request, environ: Mapping[str, str]) -> str | None:
    """The region a client of these credentials should use, when one is known."""
    if request.region:
        return request.region
    if request.source_profile:
        region = (profile_keys(request.source_profile, environ) or {}).get("region")
        if region:
            return region.strip()
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None
