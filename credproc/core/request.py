"""The request: what credentials to fetch and how, fully resolved (see ``resolve``).

Its identity fields (``KEY_FIELDS``), which decide the token STS hands out, form the cache key;
the others change only how credproc gets or keeps it. The key is declared here, field by field,
and pinned by a test: a change to it invalidates every user's cache (or, worse, merges entries
that must stay apart), so it is never a side effect of another edit.
"""

from __future__ import annotations

import json
import os

from .private import sha256_hex
from .typed import NamedTuple

# The defaults resolve applies; the option table shows them in help and docs.
DEFAULT_DURATION = 3600
DEFAULT_MFA_DURATION = 43200
# botocore (CLI, boto3) refreshes when less than 15 minutes remain and then re-runs the process
# on every API call, so a token handed out with less than that left costs one process per call.
DEFAULT_REFRESH_WINDOW = 900
# Long enough for a person to type an MFA code while parallel processes wait for it; a refresh
# without MFA gives up well within it (docs/security.md, "Outages").
DEFAULT_LOCK_TIMEOUT = 60.0
# How to ask for an MFA code when there is no token command (``mfa``, ``dialog``).
MFA_PROMPTS = ("auto", "terminal", "zenity", "kdialog", "osascript")
# Whether a process that finds no usable SSO token starts a login (docs/sso.md).
SSO_LOGINS = ("auto", "never")
# Whether a process that finds a login_session profile with no session, or an ended one, starts
# a sign-in (docs/login.md).
LOGINS = ("auto", "never")
# An aws login session's credentials live 15 minutes, and botocore (so the CLI) renews the
# session with 5 minutes or less left. The identity's own credentials are served from the cache
# while more than that is left: a window of credproc's 15-minute default would never serve one
# from the cache at all. At 5 minutes left a refresh renews the session, as botocore would,
# and the new credentials are served for the next 10 (docs/sources.md, "aws login sessions").
LOGIN_REFRESH_WINDOW = 300
LOGIN_CREDENTIAL_SECONDS = 900
# credproc wrap: how long an answer without Expiration (long-lived keys) is kept, never
# forever; and how long the wrapped command may run, a person's sign-in included.
DEFAULT_MAX_AGE = 3600
DEFAULT_WRAP_TIMEOUT = 120.0


class Request(NamedTuple):
    """One fully resolved request. A field named like an option holds that option's value."""

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
    # Not options, but part of the identity: the STS endpoint the token comes from, and the
    # source's access key id when credproc knows it without asking AWS (two keys must not share
    # a token): the environment's with no source profile, or the one --source-keys names.
    endpoint_url: str | None = None
    source_key_id: str | None = None
    source_keys: str | None = None
    mfa_serial: str | None = None
    mfa_duration: int = DEFAULT_MFA_DURATION
    web_identity_token_file: str | None = None
    # An SSO profile's role (config.sso): the portal's GetRoleCredentials, with the session's
    # token. The session is named by sso_session, or by its start URL for a legacy profile.
    sso_account_id: str | None = None
    sso_role_name: str | None = None
    sso_start_url: str | None = None
    sso_region: str | None = None
    sso_session: str | None = None
    sso_scopes: tuple[str, ...] = ()
    # An aws login session's identity (config.login): its own credentials, or the source a
    # role is assumed from. The session file is named by this value (the identity's ARN).
    login_session: str | None = None
    # credproc wrap: the command's argv, the --key-env variables with their values (None:
    # unset) and the --profile it was called with. The token is whatever the command prints.
    wrap_command: tuple[str, ...] = ()
    key_env: tuple[tuple[str, str | None], ...] = ()
    wrap_profile: str | None = None

    refresh_window: int = DEFAULT_REFRESH_WINDOW
    cache_dir: str | None = None  # None: no caching (--no-cache)
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    mfa_token_command: str | None = None
    mfa_prompt: str = MFA_PROMPTS[0]
    sso_login: str = SSO_LOGINS[0]
    login: str = LOGINS[0]
    max_age: int = DEFAULT_MAX_AGE
    wrap_timeout: float = DEFAULT_WRAP_TIMEOUT
    # Not an option, nor part of the identity: the role an MFA session is fetched for, which
    # the MFA prompt names. Every role shares the session, so it never changes the key.
    for_role: str | None = None
    # Not an option, nor part of the identity: the SSO profile, named in the line that says
    # how to log in (two profiles for one role share the token).
    sso_profile: str | None = None
    # Not options, nor part of the identity: the aws login profile (named in the line that
    # says how to sign in again) and the region its Sign-In calls go to.
    login_profile: str | None = None
    login_region: str | None = None

    def identity(self) -> dict[str, object]:
        """Every field that changes the identity or the token: the cache key's input.

        None of these is a secret, so the cache entry stores them next to the token to show in
        ``cache list`` and to check that an entry really belongs to the request that reads it."""
        if self.wrap_command:
            # A wrapped command: its line is the whole identity (STS's fields mean nothing
            # to it). Its own fields are in no other key, so the keys users' caches hold
            # stay what they were.
            return {name: getattr(self, name) for name in WRAP_KEY_FIELDS}
        fields: dict[str, object] = {name: getattr(self, name) for name in KEY_FIELDS}
        for name in WRAP_KEY_FIELDS:
            del fields[name]
        if self.sso_role_name is None:
            # Not an SSO role, nor assumed from one: the key stays what it was before SSO
            # roles had fields, so the tokens users' caches hold are still found.
            for name in SSO_KEY_FIELDS:
                del fields[name]
        if self.login_session is None:
            # Likewise for aws login sessions: only their requests have the field.
            del fields["login_session"]
        if self.role_arn is None:
            # An MFA session works in every region: one code per device, whichever region
            # the roles that use it are assumed in. So does an SSO role's token.
            del fields["region"]
        return fields

    @property
    def key(self) -> str:
        canonical = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return sha256_hex(canonical.encode())  # hashlib would load OpenSSL for this

    def describe(self) -> str:
        """What the token is, for messages: 'role ARN' or 'MFA session for SERIAL'."""
        if self.wrap_command:
            return f"the credentials {self.program} prints"
        if self.role_arn:
            return f"role {self.role_arn}"
        if self.sso_role_name:
            return f"SSO role {self.sso_role_name} in account {self.sso_account_id}"
        if self.login_session:
            return f"aws login identity {self.login_session}"
        return f"MFA session for {self.mfa_serial}"

    @property
    def program(self) -> str:
        """The wrapped command's program name, the one part of its line ever shown: its
        arguments may hold secrets (a password, a token)."""
        return program_name(self.wrap_command)

    def origin(self) -> str:
        """Where a refresh gets the token, for messages: STS, the portal, or a command."""
        if self.wrap_command:
            return self.program
        if self.role_arn:
            return "STS"
        if self.login_session:
            return "AWS Sign-In"
        return "the SSO portal" if self.sso_role_name else "STS"

    def sso_source(self, refresh_window: int) -> Request:
        """The SSO role a role is assumed from (its source profile is an SSO profile): the
        request ``--profile SOURCE`` makes, so that both share one cache entry."""
        return self._without_role(
            refresh_window,
            source_profile=None,
            duration=DEFAULT_DURATION,
            source_key_id=None,
            source_keys=None,
            mfa_serial=None,
            mfa_duration=DEFAULT_MFA_DURATION,
            sso_profile=self.source_profile,
        )

    def login_source(self) -> Request:
        """The aws login identity a role is assumed from (its source profile is a
        ``login_session`` profile): the request ``--profile SOURCE`` makes, so that both share
        one cache entry, refreshed at the identity's own window."""
        return self._without_role(
            LOGIN_REFRESH_WINDOW,
            source_profile=None,
            duration=DEFAULT_DURATION,
            source_key_id=None,
            source_keys=None,
            mfa_serial=None,
            mfa_duration=DEFAULT_MFA_DURATION,
        )

    def mfa_session(self, refresh_window: int) -> Request:
        """The GetSessionToken request behind this one. It keeps only what changes that token,
        so every role using the same source and device (and ``--mfa-serial`` alone, which
        prints the session itself) shares one cache entry, and so one code."""
        return self._without_role(
            refresh_window, duration=self.mfa_duration, for_role=self.role_arn
        )

    def _without_role(self, refresh_window: int, **changes: object) -> Request:
        """This request with nothing left of the role it assumes, and ``changes``."""
        return self._replace(
            role_arn=None,
            role_session_name="",
            external_id=None,
            source_identity=None,
            policy=None,
            policy_arns=(),
            tags=(),
            transitive_tag_keys=(),
            web_identity_token_file=None,
            refresh_window=refresh_window,
            **changes,  # type: ignore[arg-type]
        )


# The SSO role's fields (an SSO profile's, or a role's SSO source profile's): in the key only
# when there is an SSO role.
SSO_KEY_FIELDS = (
    "sso_account_id",
    "sso_role_name",
    "sso_start_url",
    "sso_region",
    "sso_session",
    "sso_scopes",
)
# A wrapped command's fields: its whole identity (see ``identity``), in no other key.
WRAP_KEY_FIELDS = ("wrap_command", "key_env", "wrap_profile")


def program_name(argv: tuple[str, ...] | list[str]) -> str:
    """A command line's program, without its directory or arguments."""
    return (os.path.basename(argv[0]) or argv[0]) if argv else ""


# The cache key's fields, every one of which changes the token STS hands out; the rest of the
# request (``OTHER_FIELDS``) changes only how credproc gets or keeps it. Every field is in one of
# the two (a test checks), so a new field is a decision, not an accident.
KEY_FIELDS = (
    "role_arn",
    "source_profile",
    "role_session_name",
    "duration",
    "external_id",
    "source_identity",
    "policy",
    "policy_arns",
    "tags",
    "transitive_tag_keys",
    "region",
    "endpoint_url",
    "source_key_id",
    "source_keys",
    "mfa_serial",
    "mfa_duration",
    "web_identity_token_file",
    *SSO_KEY_FIELDS,
    "login_session",
    *WRAP_KEY_FIELDS,
)
OTHER_FIELDS = (
    "refresh_window",
    "cache_dir",
    "lock_timeout",
    "mfa_token_command",
    "mfa_prompt",
    "sso_login",
    "login",
    "max_age",
    "wrap_timeout",
    "for_role",
    "sso_profile",
    "login_profile",
    "login_region",
)
