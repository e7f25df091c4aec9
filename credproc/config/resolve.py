"""Resolving a request: precedence, the profile's keys, validation. Nothing here touches the
network (the source's own checks, which read the AWS config, are in ``source``).

Precedence, highest first: command-line flags, ``CREDPROC_*`` environment variables, the
``[profile NAME]`` keys named by ``--profile``, defaults. Every check STS would make that can be
made locally is made here, so bad input fails fast and costs no STS call.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence

from ..core.dirs import user_cache_dir
from ..core.index import note_cwd
from ..core.request import (
    DEFAULT_DURATION,
    DEFAULT_MFA_DURATION,
    DEFAULT_REFRESH_WINDOW,
    LOGIN_CREDENTIAL_SECONDS,
    LOGIN_REFRESH_WINDOW,
    LOGINS,
    MFA_PROMPTS,
    SSO_LOGINS,
    Request,
)
from ..errors import LOOP_MARKER, ConfigError, LoopError, UsageError
from . import validate
from .awsconfig import config_path, profile_keys
from .cmdline import WRAP, parse_line
from .keyindex import key_id
from .limits import EXTERNAL_ID_LENGTH, MAX_TAGS, SESSION_NAME_LENGTH, span
from .login import LoginSource, check_login_options, is_login_profile, login_of_profile, with_login
from .options import (
    BY_DEST,
    BY_PROFILE_KEY,
    CONSOLE_OPTIONS,
    IDENTITY,
    ISOLATIONS,
    NEEDS_MFA,
    NEEDS_ROLE,
    OPTIONS,
    Option,
    RawOptions,
)
from .sso import OPTION_FLAGS as SSO_OPTIONS
from .sso import SsoRole, check_sso_options, flags_role, is_sso_profile, sso_role, with_sso_role

if sys.platform != "win32":  # the login name, when no variable gives it
    import pwd

# The variables botocore, EKS and CI runners use for web identity. Read only when the command
# line (and --profile) name no identity at all: clients pass their environment on to nested
# credproc runs, where these would turn a source profile's own request into a different one.
ENV_WEB_IDENTITY = ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")
ENV_ROLE_SESSION_NAME = "AWS_ROLE_SESSION_NAME"
ENV_ENDPOINTS = ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL")
ENV_REGIONS = ("AWS_REGION", "AWS_DEFAULT_REGION")
_URL = re.compile(r"https?://[^\s/?#@]+(?:[/?#]\S*)?", re.ASCII)
# Options whose values may hold several items in one profile key, comma or newline separated.
_ITEM_SEPARATORS = re.compile(r"[,\n]")


def resolve(flags: RawOptions, environ: Mapping[str, str]) -> Request:
    """Merge flags, the environment, the profile's keys (--profile) and defaults; validate.

    Naming a profile names an identity, so the web identity variables are then left alone."""
    raw = flags.over(from_environment(environ))
    profile = raw.text("profile")
    wrapped = wrapped_profile(profile, flags, environ) if profile else None
    if wrapped is not None:
        return wrapped
    sso = flags_role(flags, environ, profile)  # --sso-* flags: refused beside --profile
    login = None
    if profile:
        raw = raw.over(options_from_profile(profile, environ))
        sso = sso_of_profile(profile, environ)
        login = login_of_profile(profile, environ)
    else:
        raw = _web_identity_from_environment(raw, environ)
    return build(raw, environ, sso, login)


def wrapped_profile(profile: str, flags: RawOptions, environ: Mapping[str, str]) -> Request | None:
    """The request of a profile whose credential_process is ``credproc wrap ... -- COMMAND``
    (and that botocore would run: no role_arn, MFA device, SSO role or aws login session of
    its own), read from
    that line so that credproc env, exec and console share its cache entry; None otherwise.
    Cache options given to the command go on top; options that name a role have no place."""
    keys = profile_keys(profile, environ) or {}
    if "role_arn" in keys or "mfa_serial" in keys or is_sso_profile(keys):
        return None
    if is_login_profile(keys):
        return None
    try:
        line = parse_line(keys.get("credential_process", ""))
    except (ConfigError, UsageError) as error:
        if "credproc wrap" not in keys.get("credential_process", ""):
            return None  # not a wrapped command: the usual checks say what is wrong
        raise error.with_context(f"in the credential_process of profile {profile!r}") from None
    if line is None or line.command != WRAP:
        return None
    named = [o.flag for o, _ in flags.given() if o.kind == IDENTITY or o.dest in SSO_OPTIONS]
    if named:
        raise UsageError(
            f"profile {profile!r} runs credproc wrap, whose line says where its credentials "
            f"come from: give no {', '.join(named)} with it"
        )
    cache = flags.without(o.dest for o in OPTIONS if o.group != "cache")
    return wrap_request(cache.over(line.options), line.wrapped, environ)


def wrap_request(raw: RawOptions, command: Sequence[str], environ: Mapping[str, str]) -> Request:
    """``credproc wrap``'s request: the command whose output is the token (``fetch.wrap``), the
    values of the ``--key-env`` variables and ``--profile`` (the key), and how to keep it."""
    if not command or not command[0]:
        raise UsageError(
            "credproc wrap needs a command after --: credproc wrap [options] -- COMMAND [ARG ...]"
        )
    raw = raw.over(from_environment(environ, [o for o in OPTIONS if o.group == "cache"]))
    names = validate.variable_names(BY_DEST["key_env"].flag, raw.items("key_env"))
    profile = raw.text("profile")
    if profile is not None and not profile.strip():
        raise UsageError("--profile is empty")
    max_age = _integer("max_age", raw)
    default_window = DEFAULT_REFRESH_WINDOW if max_age > DEFAULT_REFRESH_WINDOW else max_age // 2
    refresh_window = _integer("refresh_window", raw, default_window)
    if refresh_window >= max_age:
        raise UsageError(
            f"--refresh-window {refresh_window} must be below --max-age ({max_age} s), or "
            "every call would run the command"
        )
    return Request(
        role_arn=None,
        source_profile=None,
        role_session_name="",
        duration=DEFAULT_DURATION,
        wrap_command=tuple(command),
        # Read through the mapping resolution is given: the index records each value.
        key_env=tuple((name, environ.get(name)) for name in names),
        wrap_profile=profile,
        refresh_window=refresh_window,
        cache_dir=None
        if raw.switch("no_cache")
        else cache_dir_from(raw.text("cache_dir"), environ),
        lock_timeout=lock_timeout(raw.text("lock_timeout")),
        max_age=max_age,
        wrap_timeout=float(_integer("wrap_timeout", raw)),
    )


def sso_of_profile(profile: str, environ: Mapping[str, str]) -> SsoRole | None:
    """The profile's SSO role, if it is an SSO profile (config.sso); None otherwise."""
    keys = profile_keys(profile, environ) or {}
    return sso_role(profile, keys, environ) if is_sso_profile(keys) else None


def from_environment(environ: Mapping[str, str], options: Iterable[Option] = OPTIONS) -> RawOptions:
    """The options set by ``CREDPROC_*`` variables: behaviour only. Identity options have none,
    since clients pass their environment to nested credproc runs (role chains), where an
    inherited role ARN would silently change what the inner call fetches."""
    return RawOptions(
        {
            o.dest: environ[o.env]
            for o in options
            if o.env and o.kind != "output" and environ.get(o.env)
        }
    )


def console_options(flags: RawOptions, environ: Mapping[str, str]) -> RawOptions:
    """``credproc console``'s own options (``CONSOLE_OPTIONS``), with the same precedence as
    a request's: flags, ``CREDPROC_*`` variables, the ``--profile``'s keys, defaults; with
    the profile they came from."""
    raw = flags.over(from_environment(environ, CONSOLE_OPTIONS))
    profile = raw.text("profile")
    if profile:
        # Any profile may hold them: a wrapped command's too, which names no role.
        raw = raw.over(options_from_profile(profile, environ, role=False))
    values: dict[str, object] = {"profile": profile}
    for option in CONSOLE_OPTIONS:
        value = raw.text(option.dest)
        if value is not None and not value.strip():
            raise UsageError(f"{option.flag} is empty")
        values[option.dest] = value.strip() if value else None
    if values["isolate"] is not None:
        flag = BY_DEST["isolate"].flag
        values["isolate"] = validate.choice(flag, raw.text("isolate"), ISOLATIONS)
    return RawOptions(values)


def options_from_profile(
    profile: str, environ: Mapping[str, str], *, role: bool = True
) -> RawOptions:
    """Options from ``[profile NAME]``: the standard keys and the ``credproc_*`` keys; with
    ``role``, refused if they name nothing to fetch."""
    keys = profile_keys(profile, environ)
    if keys is None:
        raise ConfigError(f"profile {profile!r} is not in {config_path(environ)}")
    values: dict[str, object] = {}
    for key, value in keys.items():
        option = BY_PROFILE_KEY.get(key)
        if option is None:
            if key.startswith("credproc_"):
                raise ConfigError(f"profile {profile!r}: unknown key {key!r}")
            continue  # a key for botocore or another tool
        if option.many:
            values[option.dest] = tuple(
                item.strip() for item in _ITEM_SEPARATORS.split(value) if item.strip()
            )
        else:
            values[option.dest] = value.strip()
    options = RawOptions(values)
    if options.text("source_profile") == profile:
        raise LoopError(f"{LOOP_MARKER} profile {profile!r} names itself as its source_profile")
    if role and not (
        options.has("role_arn")
        or options.has("mfa_serial")
        or is_sso_profile(keys)
        or is_login_profile(keys)
    ):
        raise ConfigError(f"profile {profile!r} has no role_arn{_hint(profile, keys)}")
    return options


def _hint(profile: str, keys: Mapping[str, str]) -> str:
    """What to do about a profile without role options that runs credproc itself."""
    try:
        line = parse_line(keys.get("credential_process", ""))
    except (ConfigError, UsageError):
        line = None
    if line is None:
        return ""
    named = line.options.text("profile")
    if named is not None and named != profile:
        # A client profile (`aws --profile dev`): its line names the profile with the options.
        return f"; its credential_process runs credproc --profile {named}: use --profile {named}"
    return (
        f"; it runs credproc on itself: put role_arn and source_profile in another "
        f"profile (say [profile {profile}-role]) and use credproc --profile {profile}-role"
    )


def _web_identity_from_environment(raw: RawOptions, environ: Mapping[str, str]) -> RawOptions:
    if any(
        raw.has(d)
        for d in (
            "role_arn",
            "mfa_serial",
            "source_profile",
            "source_keys",
            "web_identity_token_file",
            *SSO_OPTIONS,
        )
    ):
        return raw
    role, path = (environ.get(name, "").strip() for name in ENV_WEB_IDENTITY)
    if not (role or path):
        return raw
    if not (role and path):
        present, missing = ENV_WEB_IDENTITY if role else reversed(ENV_WEB_IDENTITY)
        raise UsageError(
            f"{present} is set but {missing} is not: set both for web identity, or give --role-arn"
        )
    values: dict[str, object] = {
        "role_arn": validate.role_arn(role, ENV_WEB_IDENTITY[0]),
        "web_identity_token_file": path,
    }
    if not raw.has("role_session_name") and environ.get(ENV_ROLE_SESSION_NAME):
        values["role_session_name"] = validate.matching(
            ENV_ROLE_SESSION_NAME,
            environ[ENV_ROLE_SESSION_NAME],
            validate.SESSION_NAME,
            span(SESSION_NAME_LENGTH),
        )
    return raw.updated(values)


def build(
    raw: RawOptions,
    environ: Mapping[str, str],
    sso: SsoRole | None = None,
    login: LoginSource | None = None,
) -> Request:
    """The request the options describe, every value and every combination checked."""
    role_arn = raw.text("role_arn")
    if role_arn is not None:
        role_arn = validate.role_arn(role_arn)
    if sso is not None:
        check_sso_options(raw, sso)
    elif login is not None:
        check_login_options(raw, login)
    else:
        _check_needs(raw, role_arn)
    web_identity_token_file = _web_identity(raw)
    duration, mfa_duration, refresh_window = _lifetimes(raw, role_arn)
    source_profile = raw.text("source_profile")
    if source_profile is not None and not source_profile.strip():
        raise UsageError("--source-profile is empty")
    source_keys = _source_keys(raw, source_profile)
    # A role assumed from an SSO profile's role: the request carries that SSO role too.
    source_sso = sso_of_profile(source_profile, environ) if source_profile and role_arn else None
    # Or from an aws login profile's identity: the request carries its session.
    source_login = _source_login(source_profile if role_arn else None, source_sso, raw, environ)
    source_key_id = None
    if source_keys is not None:
        # From the index beside the keyring, never the keyring itself: see keyindex.
        source_key_id = key_id(source_keys, environ)
    elif source_profile is None and web_identity_token_file is None and not (sso or login):
        source_key_id = environ.get("AWS_ACCESS_KEY_ID") or None
    flag = {option.dest: option.flag for option in OPTIONS}
    request = Request(
        role_arn=role_arn,
        source_profile=source_profile,
        role_session_name=_session_name(raw.text("role_session_name"), environ),
        duration=duration,
        external_id=validate.matching(
            flag["external_id"],
            raw.text("external_id"),
            validate.EXTERNAL_ID,
            span(EXTERNAL_ID_LENGTH),
        ),
        source_identity=validate.matching(
            flag["source_identity"],
            raw.text("source_identity"),
            validate.SESSION_NAME,
            span(SESSION_NAME_LENGTH),
        ),
        policy=validate.policy(flag["policy"], raw.text("policy")),
        policy_arns=validate.policy_arns(flag["policy_arns"], raw.items("policy_arns")),
        tags=validate.tags(flag["tags"], raw.items("tags")),
        transitive_tag_keys=_transitive_tag_keys(raw),
        region=_region(raw, source_profile, environ),
        endpoint_url=_endpoint(environ),
        source_key_id=source_key_id,
        source_keys=source_keys,
        mfa_serial=validate.mfa_serial(flag["mfa_serial"], raw.text("mfa_serial")),
        mfa_duration=mfa_duration,
        web_identity_token_file=web_identity_token_file,
        refresh_window=refresh_window,
        cache_dir=None
        if raw.switch("no_cache")
        else cache_dir_from(raw.text("cache_dir"), environ),
        lock_timeout=lock_timeout(raw.text("lock_timeout")),
        mfa_token_command=raw.text("mfa_token_command") or None,
        mfa_prompt=validate.choice(flag["mfa_prompt"], raw.text("mfa_prompt"), MFA_PROMPTS),
        sso_login=validate.choice(flag["sso_login"], raw.text("sso_login"), SSO_LOGINS),
        login=validate.choice(flag["login"], raw.text("login"), LOGINS),
    )
    if sso is not None:
        # As Request.sso_source makes it for a role's SSO source: one cache entry for both.
        neutral = request._replace(
            role_session_name="", duration=DEFAULT_DURATION, mfa_duration=DEFAULT_MFA_DURATION
        )
        return with_sso_role(neutral, sso)
    if source_sso is not None:
        return with_sso_role(request, source_sso)
    if login is not None:
        return _login_identity(raw, request, login)
    if source_login is not None:
        return with_login(request, source_login)
    return request if role_arn else request.mfa_session(refresh_window)


def _source_login(
    profile: str | None, sso: SsoRole | None, raw: RawOptions, environ: Mapping[str, str]
) -> LoginSource | None:
    """A role's source profile, if it is an aws login profile; what it cannot give is refused
    here, before a due session would be renewed for nothing."""
    login = login_of_profile(profile, environ) if profile and sso is None else None
    if login is not None and raw.has("mfa_serial"):
        raise ConfigError(
            "--mfa-serial needs an IAM user's own access keys as the source, but source "
            f"profile {login.profile!r} gives temporary (aws login session) credentials, "
            "which GetSessionToken refuses"
        )
    return login


def _login_identity(raw: RawOptions, request: Request, login: LoginSource) -> Request:
    """An aws login profile's own credentials: the request Request.login_source makes for a
    role assumed from it (one cache entry for both), at its own refresh window."""
    window = _integer("refresh_window", raw, LOGIN_REFRESH_WINDOW)
    if window >= LOGIN_CREDENTIAL_SECONDS:
        raise UsageError(
            f"--refresh-window {window} must be below {LOGIN_CREDENTIAL_SECONDS} s, the "
            f"lifetime of aws login credentials, or every call of profile {login.profile!r} "
            "would refresh"
        )
    return with_login(request, login).login_source()._replace(refresh_window=window)


def keys_request(name: str | None, region: str | None, environ: Mapping[str, str]) -> Request:
    """The request that proves long-term keys with STS (``keys add``, ``keys rotate``): no role,
    the keys' NAME (for STS's refusals to name), the region as given and the environment's STS
    endpoint, checked as every request's is. Never cached, so nothing else matters."""
    return Request(
        role_arn=None,
        source_profile=None,
        role_session_name="",
        duration=DEFAULT_DURATION,
        region=validate.region(BY_DEST["region"].flag, region),
        endpoint_url=_endpoint(environ),
        source_keys=name,
        cache_dir=None,
    )


def cache_dir_from(value: str | None, environ: Mapping[str, str]) -> str:
    """--cache-dir, else CREDPROC_CACHE_DIR, else the platform's user cache dir."""
    value = value or environ.get(BY_DEST["cache_dir"].env or "")
    if value:
        return os.path.expanduser(value)
    return user_cache_dir(environ)


def _endpoint(environ: Mapping[str, str]) -> str | None:
    """The STS endpoint the environment names, if any: an http(s) URL, else a config error."""
    variable = next((v for v in ENV_ENDPOINTS if environ.get(v)), None)
    if variable is None:
        return None
    url = environ[variable]
    if not _URL.fullmatch(url):
        raise ConfigError(f"{variable} is not an http:// or https:// URL: {validate.shown(url)}")
    return url


def _region(raw: RawOptions, source_profile: str | None, environ: Mapping[str, str]) -> str | None:
    """STS's region, the one every use of the request shares (the STS call, the cache key,
    the region `env`, `exec` and the Python API hand on, doctor): --region (or the options
    profile's region key), else the source profile's region, else AWS_REGION, else
    AWS_DEFAULT_REGION; None leaves the partition's default to the STS call."""
    given = raw.text("region")
    if given is not None:
        return validate.region(BY_DEST["region"].flag, given)
    if source_profile:
        value = (profile_keys(source_profile, environ) or {}).get("region", "").strip()
        if value:
            return validate.region(f"the region of profile {source_profile!r}", value)
    for variable in ENV_REGIONS:
        if environ.get(variable, "").strip():
            return validate.region(variable, environ[variable].strip())
    return None


def _check_needs(raw: RawOptions, role_arn: str | None) -> None:
    """Refuse options that would be ignored: each one needs another that is missing."""
    if role_arn is None and not raw.has("mfa_serial"):
        raise UsageError(
            "missing --role-arn: name the role to assume (or --profile NAME, or set "
            "AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE for web identity)"
        )
    for option, _ in raw.given():
        if option.needs == NEEDS_ROLE and role_arn is None:
            raise UsageError(
                f"{option.flag} needs --role-arn: --mfa-serial alone prints the MFA session "
                "itself (its lifetime is --mfa-duration)"
            )
        if option.needs == NEEDS_MFA and not raw.has("mfa_serial"):
            raise UsageError(f"{option.flag} needs --mfa-serial")
    if raw.has("mfa_prompt") and raw.has("mfa_token_command"):
        raise UsageError("--mfa-prompt and --mfa-token-command both say how to get the code")


def _source_keys(raw: RawOptions, source_profile: str | None) -> str | None:
    name = validate.key_name(BY_DEST["source_keys"].flag, raw.text("source_keys"))
    if name is not None and source_profile is not None:
        raise UsageError(
            "--source-keys and --source-profile (or a profile's source_profile) both name the "
            "source credentials: give one"
        )
    return name


def _web_identity(raw: RawOptions) -> str | None:
    path = raw.text("web_identity_token_file")
    if path is None:
        return None
    if any(raw.has(dest) for dest in ("source_profile", "source_keys", "mfa_serial")):
        raise UsageError(
            "--web-identity-token-file takes no --source-profile, --source-keys or "
            "--mfa-serial: the token itself is the source"
        )
    # Absolute, so the cache key names the same file from any working directory.
    path = os.path.expanduser(path)
    if not os.path.isabs(path):
        note_cwd()
    return os.path.abspath(path)


def _lifetimes(raw: RawOptions, role_arn: str | None) -> tuple[int, int, int]:
    """Duration, MFA session duration and refresh window, consistent with each other."""
    duration = _integer("duration", raw)
    mfa_duration = _integer("mfa_duration", raw)
    if role_arn is None:  # the MFA session itself is what gets printed
        duration = mfa_duration
    default_window = DEFAULT_REFRESH_WINDOW if duration > DEFAULT_REFRESH_WINDOW else duration // 2
    refresh_window = _integer("refresh_window", raw, default_window)
    if refresh_window >= duration:
        raise UsageError(
            f"--refresh-window {refresh_window} must be below the duration ({duration} s), "
            "or every call would refresh"
        )
    return duration, mfa_duration, refresh_window


def _integer(dest: str, raw: RawOptions, default: int | None = None) -> int:
    """A whole number of seconds within the option's bounds, or its default."""
    option = BY_DEST[dest]
    low, high = option.bounds or (0, None)
    return validate.integer(
        option.flag,
        raw.text(dest),
        int(_number(option.default)) if default is None else default,
        int(low),
        None if high is None else int(high),
    )


def lock_timeout(value: str | None) -> float:
    option = BY_DEST["lock_timeout"]
    high = (option.bounds or (0, None))[1]
    return validate.seconds(option.flag, value, _number(option.default), _number(high))


def _number(value: object) -> float:
    if not isinstance(value, (int, float)):
        raise TypeError(f"the option table gives {value!r} where a number belongs")
    return value


def _transitive_tag_keys(raw: RawOptions) -> tuple[str, ...]:
    keys = raw.items("transitive_tag_keys")
    flag = BY_DEST["transitive_tag_keys"].flag
    if len(keys) > MAX_TAGS:
        raise UsageError(f"too many {flag} values (STS allows {MAX_TAGS})")
    tag_keys = {item.partition("=")[0].lower() for item in raw.items("tags")}
    for key in keys:
        if key.lower() not in tag_keys:
            raise UsageError(f"{flag} {validate.shown(key)} is not among the --tag keys")
    return keys


def _session_name(value: str | None, environ: Mapping[str, str]) -> str:
    if value is None:
        return default_session_name(environ)
    return (
        validate.matching(
            "--role-session-name", value, validate.SESSION_NAME, span(SESSION_NAME_LENGTH)
        )
        or ""
    )


def default_session_name(environ: Mapping[str, str]) -> str:
    """``credproc-<user>``: stable, so CloudTrail shows who it was; cut to STS's charset."""
    cleaned = re.sub(r"[^\w+=,.@-]", "-", f"credproc-{_user_name(environ)}", flags=re.ASCII)
    return cleaned[:64]


def _user_name(environ: Mapping[str, str]) -> str:
    """The login name, as getpass.getuser() finds it (without importing termios with it)."""
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        if environ.get(variable):
            return environ[variable]
    if sys.platform == "win32":
        return "user"
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a container user with no passwd entry
        return str(os.getuid())
