"""The option table: one row per option, naming it everywhere it can be given.

A row gives an option's flag, its name in Python (``dest``: the argparse destination, the
Python API's keyword, the ``Request`` field), its key in ``[profile NAME]``, its environment
variable, its default and bounds, its help, and its kind:

- identity: changes which token STS hands out (its ``Request`` field is one of the cache key's,
  ``request.KEY_FIELDS``; a test checks the two agree);
- behaviour: changes only how credproc gets or keeps the token;
- select: ``--profile``, which fills the other options from the AWS config;
- output: where diagnostics go (not part of a request);
- console: how ``credproc console`` opens the console (not part of a request either; these rows
  are ``CONSOLE_OPTIONS``, outside ``OPTIONS``, so only ``console`` and ``doctor`` take them).

``WRAP_OPTIONS`` are ``credproc wrap``'s own (in the group of that name, outside ``OPTIONS``):
identity or behaviour like the others, but only for a wrapped command's request.

What reads an option derives from its row: the command line (``syntax``, and through it
argparse, completion and the ordinary lines' reader), the profile keys and the environment
(``resolve``), the Python API's keywords (``api``), ``configure``'s output, ``cache clear`` and
docs/options.md. What an option means is not here: a new option is a row, its ``Request``
field (in the cache key or not), its check in ``validate`` or ``resolve``, its line in
docs/options.md and its tests; ``tests/unit/test_options.py`` fails until they agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from ..core.request import (
    DEFAULT_DURATION,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_MAX_AGE,
    DEFAULT_MFA_DURATION,
    DEFAULT_REFRESH_WINDOW,
    DEFAULT_WRAP_TIMEOUT,
    LOGINS,
    MFA_PROMPTS,
    SSO_LOGINS,
)
from ..core.typed import NamedTuple
from .limits import MAX_AGE, MAX_POLICY_ARNS, MAX_TAGS, MFA_DURATION, ROLE_DURATION, WRAP_TIMEOUT

IDENTITY, BEHAVIOUR, SELECT, OUTPUT = "identity", "behaviour", "select", "output"
CONSOLE = "console"
WRAP = "wrap"

# Where an option is needed: "role" options shape an assumed role (--mfa-serial alone gets an
# MFA session, which has none of them); "mfa" options need --mfa-serial.
NEEDS_ROLE, NEEDS_MFA = "role", "mfa"
# Metavars that say what a value is, for shell completion (``completion``): profile names for
# PROFILE, [sso-session] names for SESSION, file names for PATH and after the @ of
# JSON_OR_FILE. Commands' own arguments use them too.
PROFILE, SESSION, PATH, JSON_OR_FILE = "PROFILE", "SESSION", "PATH", "JSON_OR_@FILE"
# The browsers `credproc console --browser` knows by name ("default": Python's webbrowser, which
# follows BROWSER), and how it keeps each AWS profile's console apart in one.
BROWSERS = ("default", "chromium", "chrome", "brave", "edge", "firefox")
ISOLATIONS = ("profile", "none")


class Option(NamedTuple):
    dest: str
    flags: tuple[str, ...]  # the long flag last: it names the option in messages
    help: str
    kind: str
    metavar: str | None = None
    profile_key: str | None = None
    env: str | None = None
    many: bool = False  # repeatable: a list of values
    switch: bool = False  # takes no value
    default: object = None  # shown in help and docs; resolve applies it
    bounds: tuple[float, float | None] | None = None  # inclusive, for numbers of seconds
    needs: str | None = None
    group: str = "role"  # "role", "cache", "output" or "console": which commands take it
    choices: tuple[str, ...] = ()  # the values it takes, when they are a fixed few

    @property
    def flag(self) -> str:
        return self.flags[-1]

    def help_text(self) -> str:
        """The help line: the text, then bounds, default and variable from the row itself."""
        extras = []
        if self.choices:
            extras.append("|".join(self.choices))
        if self.bounds is not None:
            low, high = self.bounds
            extras.append(f"{low:g}..{high:g}" if high is not None else f"at least {low:g}")
        if self.default is not None and not self.switch:
            extras.append(
                f"default {self.default:g}"
                if isinstance(self.default, (int, float))
                else f"default {self.default}"
            )
        text = self.help + (f" ({', '.join(extras)})" if extras else "")
        return text + (f"; env {self.env}" if self.env else "")


def _option(
    dest: str,
    text: str,
    kind: str = IDENTITY,
    *,
    flag: str | None = None,
    short: str | None = None,
    metavar: str | None = None,
    profile_key: str | None = None,
    env: str | None = None,
    many: bool = False,
    switch: bool = False,
    default: object = None,
    bounds: tuple[float, float | None] | None = None,
    needs: str | None = None,
    group: str = "role",
    choices: tuple[str, ...] = (),
) -> Option:
    """A row; the flag is the dest's own name unless given (--policy-arn for policy_arns)."""
    long = "--" + (flag or dest.replace("_", "-"))
    flags = (short, long) if short else (long,)
    shape = (many, switch, default, bounds, needs, group, choices)
    return Option(dest, flags, text, kind, metavar, profile_key, env, *shape)


OPTIONS: tuple[Option, ...] = (
    _option(
        "profile",
        "take the options below from [profile NAME] in the AWS config",
        SELECT,
        metavar=PROFILE,
    ),
    _option("role_arn", "the role to assume", metavar="ARN", profile_key="role_arn"),
    _option(
        "source_profile",
        "profile whose credentials call STS",
        metavar=PROFILE,
        profile_key="source_profile",
    ),
    _option(
        "source_keys",
        "long-term keys stored with `credproc keys add NAME`, from the OS keyring",
        metavar="NAME",
        profile_key="credproc_source_keys",
    ),
    _option(
        "role_session_name",
        "default: credproc-<your user name>",
        metavar="NAME",
        profile_key="role_session_name",
        needs=NEEDS_ROLE,
    ),
    _option(
        "duration",
        "token lifetime in seconds",
        metavar="SECONDS",
        profile_key="duration_seconds",
        default=DEFAULT_DURATION,
        bounds=ROLE_DURATION,
        needs=NEEDS_ROLE,
    ),
    _option(
        "external_id",
        "ExternalId the role's trust policy demands",
        metavar="ID",
        profile_key="external_id",
        needs=NEEDS_ROLE,
    ),
    _option(
        "source_identity",
        "SourceIdentity to set on the session",
        metavar="ID",
        profile_key="credproc_source_identity",
        needs=NEEDS_ROLE,
    ),
    _option(
        "policy",
        "inline session policy",
        metavar=JSON_OR_FILE,
        profile_key="credproc_policy",
        needs=NEEDS_ROLE,
    ),
    _option(
        "policy_arns",
        f"managed session policy (repeat, at most {MAX_POLICY_ARNS})",
        flag="policy-arn",
        metavar="ARN",
        profile_key="credproc_policy_arn",
        many=True,
        needs=NEEDS_ROLE,
    ),
    _option(
        "tags",
        f"session tag (repeat, at most {MAX_TAGS})",
        flag="tag",
        metavar="KEY=VALUE",
        profile_key="credproc_tag",
        many=True,
        needs=NEEDS_ROLE,
    ),
    _option(
        "transitive_tag_keys",
        "tag key to pass on to chained roles (repeat)",
        flag="transitive-tag-key",
        metavar="KEY",
        profile_key="credproc_transitive_tag_key",
        many=True,
        needs=NEEDS_ROLE,
    ),
    _option(
        "region",
        "STS region (default: the source profile's or the environment's)",
        metavar="REGION",
        profile_key="region",
    ),
    _option(
        "mfa_serial",
        "MFA device: one code per MFA session",
        metavar="ARN_OR_SERIAL",
        profile_key="mfa_serial",
    ),
    _option(
        "mfa_token_command",
        "command whose stdout is the 6-digit code",
        BEHAVIOUR,
        metavar="CMD",
        profile_key="credproc_mfa_token_command",
        needs=NEEDS_MFA,
    ),
    _option(
        "mfa_prompt",
        "how to ask for the code without a token command: auto is the terminal if there is "
        "one, else a dialog on the display",
        BEHAVIOUR,
        metavar="HOW",
        profile_key="credproc_mfa_prompt",
        default=MFA_PROMPTS[0],
        needs=NEEDS_MFA,
        choices=MFA_PROMPTS,
    ),
    _option(
        "mfa_duration",
        "MFA session lifetime in seconds",
        metavar="SECONDS",
        profile_key="credproc_mfa_duration",
        default=DEFAULT_MFA_DURATION,
        bounds=MFA_DURATION,
        needs=NEEDS_MFA,
    ),
    _option(
        "web_identity_token_file",
        "OIDC token file: AssumeRoleWithWebIdentity",
        metavar=PATH,
        profile_key="web_identity_token_file",
        needs=NEEDS_ROLE,
    ),
    _option("sso_session", "SSO: the [sso-session NAME] to sign in with", metavar=SESSION),
    _option(
        "sso_account_id",
        "SSO: the account of the role the portal hands out",
        metavar="ID",
        profile_key="credproc_sso_account_id",
    ),
    _option(
        "sso_role_name",
        "SSO: the role (permission set) the portal hands out",
        metavar="NAME",
        profile_key="credproc_sso_role_name",
    ),
    _option(
        "sso_login",
        "no usable SSO token: auto starts one login that waiting processes share; never fails",
        BEHAVIOUR,
        metavar="WHEN",
        profile_key="credproc_sso_login",
        env="CREDPROC_SSO_LOGIN",
        default=SSO_LOGINS[0],
        choices=SSO_LOGINS,
    ),
    _option(
        "login",
        "no usable aws login session (none, or ended): auto starts one sign-in that waiting "
        "processes share; never fails",
        BEHAVIOUR,
        metavar="WHEN",
        profile_key="credproc_login",
        env="CREDPROC_LOGIN",
        default=LOGINS[0],
        choices=LOGINS,
    ),
    _option(
        "cache_dir",
        "default: the user cache dir",
        BEHAVIOUR,
        metavar=PATH,
        profile_key="credproc_cache_dir",
        env="CREDPROC_CACHE_DIR",
        group="cache",
    ),
    _option(
        "no_cache",
        "always call STS and write nothing",
        BEHAVIOUR,
        switch=True,
        group="cache",
    ),
    _option(
        "refresh_window",
        "refresh when fewer seconds than this remain",
        BEHAVIOUR,
        metavar="SECONDS",
        profile_key="credproc_refresh_window",
        env="CREDPROC_REFRESH_WINDOW",
        default=DEFAULT_REFRESH_WINDOW,
        bounds=(0, None),
        group="cache",
    ),
    _option(
        "lock_timeout",
        "wait this long for another refresh, an MFA code or the keyring",
        BEHAVIOUR,
        metavar="SECONDS",
        profile_key="credproc_lock_timeout",
        env="CREDPROC_LOCK_TIMEOUT",
        default=DEFAULT_LOCK_TIMEOUT,
        bounds=(0, 3600),
        group="cache",
    ),
    _option(
        "verbose", "say what happens, on stderr", OUTPUT, short="-v", switch=True, group="output"
    ),
    _option("debug", "more detail, and tracebacks on errors", OUTPUT, switch=True, group="output"),
    _option(
        "log_file",
        "append diagnostics here",
        OUTPUT,
        metavar=PATH,
        env="CREDPROC_LOG_FILE",
        group="output",
    ),
)

CONSOLE_OPTIONS: tuple[Option, ...] = (
    _option(
        "browser",
        "the browser to open the console in: " + ", ".join(BROWSERS[1:]) + ", a path, or "
        "default, the default (Python's webbrowser, which follows BROWSER)",
        CONSOLE,
        metavar="NAME_OR_PATH",
        profile_key="credproc_browser",
        env="CREDPROC_BROWSER",
        group=CONSOLE,
    ),
    _option(
        "isolate",
        "profile: each AWS profile (or role) in its own browser context, side by side; none: "
        "the browser's own context (default: profile when --browser names a browser)",
        CONSOLE,
        metavar="HOW",
        profile_key="credproc_isolate",
        group=CONSOLE,
        choices=ISOLATIONS,
    ),
    _option(
        "browser_profile",
        "the context: a profile of your own Chromium-family browser (--profile-directory) or a "
        "Firefox profile (-P), instead of the one credproc makes",
        CONSOLE,
        metavar="NAME",
        profile_key="credproc_browser_profile",
        group=CONSOLE,
    ),
)
WRAP_OPTIONS: tuple[Option, ...] = (
    _option(
        "key_env",
        "a variable whose value the command's answer depends on (AWS_PROFILE, the tool's "
        "own): its value enters the cache key (repeat)",
        metavar="VAR",
        many=True,
        group=WRAP,
    ),
    _option(
        "max_age",
        "how long to keep an answer without Expiration (long-lived keys)",
        BEHAVIOUR,
        metavar="SECONDS",
        default=DEFAULT_MAX_AGE,
        bounds=MAX_AGE,
        group=WRAP,
    ),
    _option(
        "wrap_timeout",
        "end the command (its whole process group) after this long",
        BEHAVIOUR,
        flag="timeout",
        metavar="SECONDS",
        default=DEFAULT_WRAP_TIMEOUT,
        bounds=WRAP_TIMEOUT,
        group=WRAP,
    ),
)
# Every row: names are unique across them, and docs/options.md lists them all.
TABLE = OPTIONS + CONSOLE_OPTIONS + WRAP_OPTIONS
BY_DEST: dict[str, Option] = {option.dest: option for option in TABLE}
# The sets commands take (each command module names its own as OPTIONS).
ROLE_OPTIONS = tuple(option for option in OPTIONS if option.group == "role")
CACHE_DIR_OPTION = (BY_DEST["cache_dir"],)
OUTPUT_OPTIONS = tuple(option for option in OPTIONS if option.group == "output")
BY_PROFILE_KEY: dict[str, Option] = {o.profile_key: o for o in TABLE if o.profile_key}
# Options that are part of a request (everything but where diagnostics go).
REQUEST_OPTIONS = tuple(option for option in OPTIONS if option.kind != OUTPUT)
# What a wrapped command's request is made of: its own options, the cache's, and --profile,
# which only enters the key (``credproc wrap``, and its lines in the AWS config).
WRAP_REQUEST_OPTIONS = (
    BY_DEST["profile"],
    *(option for option in OPTIONS if option.group == "cache"),
    *WRAP_OPTIONS,
)


class RawOptions:
    """Option values as typed by the user (flags, environment or profile keys), unvalidated.

    Held by ``dest``: a string, a tuple of strings for a repeatable option, a bool for a switch,
    or nothing. Names not in the table are a bug (TypeError)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, object] | None = None, /, **named: object) -> None:
        given = {**(values or {}), **named}
        unknown = set(given) - set(BY_DEST)
        if unknown:
            raise TypeError(f"unknown options: {', '.join(sorted(unknown))}")
        self._values = {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in given.items()
            if _is_given(value)
        }

    @classmethod
    def of(cls, args: object, options: Iterable[Option] = REQUEST_OPTIONS) -> RawOptions:
        """The request's options from parsed arguments (a command may lack some)."""
        return cls({o.dest: getattr(args, o.dest, None) for o in options})

    def text(self, dest: str) -> str | None:
        value = self._values.get(dest)
        return value if isinstance(value, str) else None

    def items(self, dest: str) -> tuple[str, ...]:
        value = self._values.get(dest)
        return value if isinstance(value, tuple) else ()

    def switch(self, dest: str) -> bool:
        return self._values.get(dest) is True

    def has(self, dest: str) -> bool:
        return dest in self._values

    def given(self) -> Iterator[tuple[Option, object]]:
        """The options given, in the table's order, with their values."""
        for option in TABLE:
            if option.dest in self._values:
                yield option, self._values[option.dest]

    def updated(self, values: Mapping[str, object]) -> RawOptions:
        """A copy with these options replaced (an empty value removes one)."""
        return RawOptions({**self._values, **values})

    def over(self, lower: RawOptions) -> RawOptions:
        """These options, and ``lower``'s where these give none (flags over profile keys)."""
        return RawOptions({**lower._values, **self._values})

    def without(self, dests: Iterable[str]) -> RawOptions:
        removed = set(dests)
        return RawOptions({k: v for k, v in self._values.items() if k not in removed})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawOptions) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items())))

    def __repr__(self) -> str:
        return f"RawOptions({self._values!r})"


def _is_given(value: object) -> bool:
    return value is not None and value not in ((), []) and value is not False
