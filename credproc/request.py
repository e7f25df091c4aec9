"""The request: what credentials to fetch and how, resolved and validated without any network.

Precedence, highest first: command-line flags, ``CREDPROC_*`` environment variables, the
``[profile NAME]`` keys named by ``--profile``, defaults. Every check STS would make that can be
made locally is made here, so bad input fails fast and costs no STS call.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence

from .errors import ConfigError, UsageError
from .records import NamedTuple

DEFAULT_DURATION = 3600
DEFAULT_MFA_DURATION = 43200
# botocore (CLI, boto3) refreshes when less than 15 minutes remain and then re-runs the process
# on every API call, so a token handed out with less than that left costs one process per call.
DEFAULT_REFRESH_WINDOW = 900
# Long enough for a person to type an MFA code while parallel processes wait for it; a
# refresh without MFA finishes within STS's bounded retries (about 30 s at worst).
DEFAULT_LOCK_TIMEOUT = 60.0
# AWS caps a session assumed from another role's session at one hour.
CHAINED_MAX_DURATION = 3600

# Patterns as text, compiled by re on first use: a cache hit compiles only the ones it needs.
# STS's own patterns are Java regexes, where \w and \d are ASCII: matched here with re.ASCII,
# except tags, which STS documents as Unicode letters, digits and spaces.
_ROLE_ARN = (
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/"
    r"(?P<path>(?:[\w+=,.@-]+/)*)(?P<name>[\w+=,.@-]{1,64})"
)
_ANY_ARN = r"arn:[^:]*:[^:]*:[^:]*:[^:]*:.+"
_POLICY_ARN = r"arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\w+=,.@/-]+"
_MFA_SERIAL = r"arn:aws[a-z-]*:iam::\d{12}:mfa/[\w+=,.@/-]+|[\w+=/:,.@-]{9,256}"
_SESSION_NAME = r"[\w+=,.@-]{2,64}"
_EXTERNAL_ID = r"[\w+=,.@:/-]{2,1224}"
_REGION = r"[a-z]{2,}(-[a-z0-9]+){1,4}"
_TAG_KEY = r"[\w .:/=+@-]{1,128}"
_TAG_VALUE = r"[\w .:/=+@-]{0,256}"

MAX_POLICY_CHARS = 2048
MAX_POLICY_ARNS = 10
MAX_TAGS = 50


# NamedTuple, not dataclass: these are built on every cache hit, and the dataclasses module
# (with the inspect module it imports) would cost more than the rest of a hit's imports.


class Request(NamedTuple):
    """One fully resolved request. Fields above ``refresh_window`` decide which token you get
    and so form the cache key; the ones below only change how credproc behaves."""

    role_arn: str | None
    source_profile: str | None
    role_session_name: str
    duration: int
    external_id: str | None = None
    source_identity: str | None = None
    policy: str | None = None  # compact JSON
    policy_arns: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    region: str | None = None
    endpoint_url: str | None = None
    # With no source profile the caller's environment keys are the source; two different keys
    # must not share a token, so the (public) key id is part of the identity.
    source_key_id: str | None = None
    mfa_serial: str | None = None
    mfa_duration: int = DEFAULT_MFA_DURATION
    web_identity_token_file: str | None = None

    refresh_window: int = DEFAULT_REFRESH_WINDOW
    cache_dir: str | None = None  # None: no caching (--no-cache)
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    mfa_token_command: str | None = None

    def identity(self) -> dict[str, object]:
        """Every field that changes the identity or the token: the cache key's input.

        None of these is a secret, so the cache entry stores them next to the token to show in
        ``cache list`` and to check that an entry really belongs to the request that reads it."""
        fields: dict[str, object] = self._asdict()
        for behaviour in ("refresh_window", "cache_dir", "lock_timeout", "mfa_token_command"):
            del fields[behaviour]
        return fields

    @property
    def key(self) -> str:
        canonical = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return _sha256_hex(canonical.encode())

    def mfa_session(self, refresh_window: int) -> Request:
        """The GetSessionToken request behind this one. It keeps only what changes that token,
        so every role using the same source and device (and ``--mfa-serial`` alone, which
        prints the session itself) shares one cache entry, and so one code."""
        return self._replace(
            role_arn=None,
            role_session_name="",
            duration=self.mfa_duration,
            external_id=None,
            source_identity=None,
            policy=None,
            policy_arns=(),
            tags=(),
            transitive_tag_keys=(),
            web_identity_token_file=None,
            refresh_window=refresh_window,
        )


class RawOptions(NamedTuple):
    """Option values as typed by the user (flags, env or profile keys), still unvalidated."""

    profile: str | None = None  # [profile NAME] whose keys fill the options not given
    role_arn: str | None = None
    source_profile: str | None = None
    role_session_name: str | None = None
    duration: str | None = None
    external_id: str | None = None
    source_identity: str | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    region: str | None = None
    refresh_window: str | None = None
    cache_dir: str | None = None
    no_cache: bool = False
    lock_timeout: str | None = None
    mfa_serial: str | None = None
    mfa_duration: str | None = None
    mfa_token_command: str | None = None
    web_identity_token_file: str | None = None

    def updated(self, values: Mapping[str, object]) -> RawOptions:
        """A copy with options replaced by name: for the places that hold options by name
        (flags, the environment, profile keys, the Python API). Unknown names are a bug."""
        unknown = set(values) - set(self._fields)
        if unknown:
            raise TypeError(f"unknown options: {', '.join(sorted(unknown))}")
        return RawOptions._make(
            values.get(name, current) for name, current in zip(self._fields, self, strict=True)
        )


# Behaviour options a user may set once for every profile through the environment. Identity
# options are deliberately absent: clients pass their environment to nested credproc runs (role
# chains), where an inherited role ARN would silently change what the inner call fetches.
ENV_OPTIONS = {
    "cache_dir": "CREDPROC_CACHE_DIR",
    "refresh_window": "CREDPROC_REFRESH_WINDOW",
    "lock_timeout": "CREDPROC_LOCK_TIMEOUT",
}


# The variables botocore, EKS and CI runners use for web identity. Read only when the command
# line (and --profile) name no identity at all: clients pass their environment on to nested
# credproc runs, where these would turn a source profile's own request into a different one.
ENV_WEB_IDENTITY = ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")
ENV_ROLE_SESSION_NAME = "AWS_ROLE_SESSION_NAME"

# Options that shape an assumed role; --mfa-serial alone gets an MFA session, which has none.
_ROLE_ONLY = {
    "role_session_name": "--role-session-name",
    "duration": "--duration",
    "external_id": "--external-id",
    "source_identity": "--source-identity",
    "policy": "--policy",
    "policy_arns": "--policy-arn",
    "tags": "--tag",
    "transitive_tag_keys": "--transitive-tag-key",
    "web_identity_token_file": "--web-identity-token-file",
}
_MFA_ONLY = {"mfa_duration": "--mfa-duration", "mfa_token_command": "--mfa-token-command"}


def resolve(flags: RawOptions, environ: Mapping[str, str]) -> Request:
    """Merge flags, the environment, the profile's keys (--profile) and defaults; validate.

    Naming a profile names an identity, so the web identity variables are then left alone."""
    # The environment before the profile: a CREDPROC_* variable set for one run (a CI job, a
    # test) must win over what the profile says, as a flag would.
    raw = flags.updated(
        {
            name: environ[variable]
            for name, variable in ENV_OPTIONS.items()
            if getattr(flags, name) is None and environ.get(variable)
        }
    )
    if raw.profile:
        from .awsconfig import merge, options_from_profile  # noqa: PLC0415 - only for --profile

        raw = merge(raw, options_from_profile(raw.profile, environ))
    else:
        raw = _web_identity_from_environment(raw, environ)
    return build(raw, environ)


def _web_identity_from_environment(raw: RawOptions, environ: Mapping[str, str]) -> RawOptions:
    if raw.role_arn or raw.mfa_serial or raw.source_profile or raw.web_identity_token_file:
        return raw
    role, path = (environ.get(name, "").strip() for name in ENV_WEB_IDENTITY)
    if not (role or path):
        return raw
    if not (role and path):
        present, missing = ENV_WEB_IDENTITY if role else reversed(ENV_WEB_IDENTITY)
        raise UsageError(
            f"{present} is set but {missing} is not: set both for web identity, or give --role-arn"
        )
    session_name = raw.role_session_name
    if session_name is None and environ.get(ENV_ROLE_SESSION_NAME):
        session_name = _matching(
            ENV_ROLE_SESSION_NAME, environ[ENV_ROLE_SESSION_NAME], _SESSION_NAME, "2-64"
        )
    return raw._replace(
        role_arn=_role_arn(role, ENV_WEB_IDENTITY[0]),
        web_identity_token_file=path,
        role_session_name=session_name,
    )


def build(raw: RawOptions, environ: Mapping[str, str]) -> Request:
    role_arn = _role_arn(raw.role_arn) if raw.role_arn is not None else None
    _check_option_pairs(raw, role_arn)
    web_identity_token_file = _web_identity(raw)
    duration, mfa_duration, refresh_window = _lifetimes(raw, role_arn)
    tags, transitive_tag_keys = _tag_options(raw)
    endpoint = environ.get("AWS_ENDPOINT_URL_STS") or environ.get("AWS_ENDPOINT_URL") or None
    source_key_id = None
    if raw.source_profile is None and web_identity_token_file is None:
        source_key_id = environ.get("AWS_ACCESS_KEY_ID") or None
    if raw.source_profile is not None and not raw.source_profile.strip():
        raise UsageError("--source-profile is empty")
    if raw.region is not None and not re.fullmatch(_REGION, raw.region):
        raise UsageError(f"--region {_shown(raw.region)} is not an AWS region name like eu-west-1")

    request = Request(
        role_arn=role_arn,
        source_profile=raw.source_profile,
        role_session_name=_session_name(raw.role_session_name, environ),
        duration=duration,
        external_id=_matching("--external-id", raw.external_id, _EXTERNAL_ID, "2-1224"),
        source_identity=_matching("--source-identity", raw.source_identity, _SESSION_NAME, "2-64"),
        policy=_policy(raw.policy),
        policy_arns=_policy_arns(raw.policy_arns),
        tags=tags,
        transitive_tag_keys=transitive_tag_keys,
        region=raw.region,
        endpoint_url=endpoint,
        source_key_id=source_key_id,
        mfa_serial=_mfa_serial(raw.mfa_serial),
        mfa_duration=mfa_duration,
        web_identity_token_file=web_identity_token_file,
        refresh_window=refresh_window,
        cache_dir=None if raw.no_cache else cache_dir_from(raw.cache_dir, environ),
        lock_timeout=_lock_timeout(raw.lock_timeout),
        mfa_token_command=raw.mfa_token_command or None,
    )
    return request if role_arn else request.mfa_session(refresh_window)


def _check_option_pairs(raw: RawOptions, role_arn: str | None) -> None:
    """Refuse options that would be ignored: each one needs another that is missing."""
    if role_arn is None:
        if not raw.mfa_serial:
            raise UsageError(
                "missing --role-arn: name the role to assume (or --profile NAME, or set "
                "AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE for web identity)"
            )
        for name, option in _ROLE_ONLY.items():
            if getattr(raw, name) not in (None, ()):
                raise UsageError(
                    f"{option} needs --role-arn: --mfa-serial alone prints the MFA session "
                    "itself (its lifetime is --mfa-duration)"
                )
    if not raw.mfa_serial:
        for name, option in _MFA_ONLY.items():
            if getattr(raw, name) is not None:
                raise UsageError(f"{option} needs --mfa-serial")


def _web_identity(raw: RawOptions) -> str | None:
    if raw.web_identity_token_file is None:
        return None
    if raw.source_profile or raw.mfa_serial:
        raise UsageError(
            "--web-identity-token-file takes no --source-profile or --mfa-serial: "
            "the token itself is the source"
        )
    # Absolute, so the cache key names the same file from any working directory.
    return os.path.abspath(os.path.expanduser(raw.web_identity_token_file))


def _lifetimes(raw: RawOptions, role_arn: str | None) -> tuple[int, int, int]:
    """Duration, MFA session duration and refresh window, consistent with each other."""
    duration = _integer("--duration", raw.duration, DEFAULT_DURATION, 900, 43200)
    mfa_duration = _integer("--mfa-duration", raw.mfa_duration, DEFAULT_MFA_DURATION, 900, 129600)
    if role_arn is None:  # the MFA session itself is what gets printed
        duration = mfa_duration
    default_window = DEFAULT_REFRESH_WINDOW if duration > DEFAULT_REFRESH_WINDOW else duration // 2
    refresh_window = _integer("--refresh-window", raw.refresh_window, default_window, 0, None)
    if refresh_window >= duration:
        raise UsageError(
            f"--refresh-window {refresh_window} must be below the duration ({duration} s), "
            "or every call would refresh"
        )
    return duration, mfa_duration, refresh_window


def _tag_options(raw: RawOptions) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    tags = _tags(raw.tags)
    if len(raw.transitive_tag_keys) > MAX_TAGS:
        raise UsageError(f"too many --transitive-tag-key values (STS allows {MAX_TAGS})")
    tag_keys = {key.lower() for key, _ in tags}
    for key in raw.transitive_tag_keys:
        if key.lower() not in tag_keys:
            raise UsageError(f"--transitive-tag-key {_shown(key)} is not among the --tag keys")
    return tags, tuple(raw.transitive_tag_keys)


def _policy_arns(values: Sequence[str]) -> tuple[str, ...]:
    if len(values) > MAX_POLICY_ARNS:
        raise UsageError(f"too many --policy-arn values (STS allows {MAX_POLICY_ARNS})")
    for arn in values:
        if not re.fullmatch(_POLICY_ARN, arn, re.ASCII):
            raise UsageError(
                f"--policy-arn {_shown(arn)} is not a managed policy ARN "
                "(arn:aws:iam::123456789012:policy/NAME)"
            )
    return tuple(values)


def _mfa_serial(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(_MFA_SERIAL, value, re.ASCII):
        raise UsageError(
            f"--mfa-serial {_shown(value)} is neither an MFA device ARN "
            "(arn:aws:iam::123456789012:mfa/NAME) nor a hardware serial number"
        )
    return value


def _sha256_hex(data: bytes) -> str:
    """SHA-256 from CPython's built-in module where there is one: hashlib would load OpenSSL,
    which costs a cache hit more than everything else it does for one small hash."""
    for name in ("_sha2", "_sha256"):  # CPython 3.12+, then 3.10 and 3.11
        try:
            return str(importlib.import_module(name).sha256(data).hexdigest())
        except ImportError:
            continue
    import hashlib  # noqa: PLC0415 - other interpreters

    return hashlib.sha256(data).hexdigest()


def default_session_name(environ: Mapping[str, str]) -> str:
    """``credproc-<user>``: stable, so CloudTrail shows who it was; cut to STS's charset."""
    cleaned = re.sub(r"[^\w+=,.@-]", "-", f"credproc-{_user_name(environ)}", flags=re.ASCII)
    return cleaned[:64]


def _user_name(environ: Mapping[str, str]) -> str:
    """The login name, as getpass.getuser() finds it (without importing termios with it)."""
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        if environ.get(variable):
            return environ[variable]
    if not hasattr(os, "getuid"):
        return "user"
    try:
        import pwd  # noqa: PLC0415 - POSIX only

        return pwd.getpwuid(os.getuid()).pw_name
    except (KeyError, ImportError):  # a container user with no passwd entry
        return str(os.getuid())


def _session_name(value: str | None, environ: Mapping[str, str]) -> str:
    if value is None:
        return default_session_name(environ)
    return _matching("--role-session-name", value, _SESSION_NAME, "2-64") or ""


def _role_arn(value: str, option: str = "--role-arn") -> str:
    value = value.strip()
    match = re.fullmatch(_ROLE_ARN, value, re.ASCII)
    if match is None:
        if not value:
            problem = "is empty"
        elif re.fullmatch(_ANY_ARN, value):
            problem = f"is not an IAM role ARN: {_shown(value)}"
        else:
            problem = f"is not an ARN: {_shown(value)}"
        raise UsageError(f"{option} {problem} (expected arn:aws:iam::123456789012:role/NAME)")
    if len(match["path"]) > 512:
        raise UsageError(f"{option} has a role path longer than IAM's 512 characters")
    return value


def _matching(option: str, value: str | None, pattern: str, size: str) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(pattern, value, re.ASCII):
        raise UsageError(
            f"{option} {_shown(value)} must be {size} characters of letters, digits and "
            f"{_allowed_punctuation(pattern)}"
        )
    return value


def _allowed_punctuation(pattern: str) -> str:
    inside = pattern[1 : pattern.index("]")]
    return " ".join(inside.replace("\\w", "_"))


def _shown(value: str) -> str:
    """A value quoted for an error message, cut short: the message must stay one short line."""
    return repr(_short(value))


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _integer(option: str, value: str | None, default: int, low: int, high: int | None) -> int:
    if value is None:
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise UsageError(f"{option} {_shown(value)} is not a whole number of seconds") from None
    if number < low or (high is not None and number > high):
        bounds = f"{low}..{high}" if high is not None else f"at least {low}"
        raise UsageError(f"{option} {_short(str(number))} is out of range ({bounds} seconds)")
    return number


def _lock_timeout(value: str | None) -> float:
    if value is None:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(f"--lock-timeout {_shown(value)} is not a number of seconds") from None
    if not 0 < seconds <= 3600:
        raise UsageError(
            f"--lock-timeout {_short(value)} is out of range (above 0, at most 3600 s)"
        )
    return seconds


def _policy(value: str | None) -> str | None:
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        path = os.path.expanduser(value[1:])
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            raise ConfigError(f"--policy: cannot read {path!r}: {reason}") from None
    try:
        # NaN and Infinity are Python's extensions, not JSON: STS would reject the policy.
        document = json.loads(text, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise UsageError("--policy is not valid JSON (give the JSON itself or @FILE)") from None
    if not isinstance(document, dict):
        raise UsageError("--policy must be a JSON object (an IAM policy document)")
    compact = json.dumps(document, separators=(",", ":"), sort_keys=True)
    if len(compact) > MAX_POLICY_CHARS:
        raise UsageError(
            f"--policy is {len(compact)} characters without spaces; STS allows {MAX_POLICY_CHARS}"
        )
    return compact


def _not_json(constant: str) -> object:
    raise ValueError(f"{constant} is not JSON")


def _tags(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    if len(values) > MAX_TAGS:
        raise UsageError(f"too many --tag values (STS allows {MAX_TAGS})")
    tags: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in values:
        key, equals, value = item.partition("=")
        if not equals or not re.fullmatch(_TAG_KEY, key):
            raise UsageError(f"--tag {_shown(item)} must be KEY=VALUE with a 1-128 character key")
        if not re.fullmatch(_TAG_VALUE, value):
            raise UsageError(
                f"--tag {_shown(key)} has a value STS does not accept (0-256 characters)"
            )
        if key.lower() in seen:  # STS treats tag keys case-insensitively
            raise UsageError(f"--tag {_shown(key)} is given twice")
        seen.add(key.lower())
        tags.append((key, value))
    return tuple(tags)


def cache_dir_from(value: str | None, environ: Mapping[str, str]) -> str:
    """--cache-dir, else CREDPROC_CACHE_DIR, else the platform's user cache dir."""
    value = value or environ.get(ENV_OPTIONS["cache_dir"])
    if value:
        return os.path.expanduser(value)
    return user_cache_dir(environ)


def user_cache_dir(environ: Mapping[str, str]) -> str:
    """platformdirs' user cache dir for credproc.

    On Linux and macOS the rule is short and fixed, and importing platformdirs (which pulls in
    tempfile, shutil and random) would cost a cache hit half a bare interpreter's start-up; a
    test checks that both agree. Elsewhere platformdirs decides."""
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/credproc")
    if sys.platform.startswith("linux"):
        base = environ.get("XDG_CACHE_HOME", "").strip()
        if not os.path.isabs(base):  # the XDG spec: relative values are ignored
            base = os.path.expanduser("~/.cache")
        return os.path.join(base, "credproc")
    import platformdirs  # noqa: PLC0415

    return platformdirs.user_cache_dir("credproc", appauthor=False)
