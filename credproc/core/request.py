"""The request: what credentials to fetch and how, fully resolved (see ``resolve``).

Its identity fields, which decide the token STS hands out, form the cache key; the behaviour
fields (the table's ``behaviour`` options) change only how credproc gets or keeps it.
"""

from __future__ import annotations

import json

from ..config.options import (
    BEHAVIOUR,
    BY_DEST,
    DEFAULT_DURATION,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_MFA_DURATION,
    MFA_PROMPTS,
    SSO_LOGINS,
)
from .lean import NamedTuple, sha256_hex

# NamedTuple, not dataclass: this is built on every cache hit (see lean).


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

    refresh_window: int = 900
    cache_dir: str | None = None  # None: no caching (--no-cache)
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    mfa_token_command: str | None = None
    mfa_prompt: str = MFA_PROMPTS[0]
    sso_login: str = SSO_LOGINS[0]
    # Not an option, nor part of the identity: the role an MFA session is fetched for, which
    # the MFA prompt names. Every role shares the session, so it never changes the key.
    for_role: str | None = None
    # Not an option, nor part of the identity: the SSO profile, named in the line that says
    # how to log in (two profiles for one role share the token).
    sso_profile: str | None = None

    def identity(self) -> dict[str, object]:
        """Every field that changes the identity or the token: the cache key's input.

        None of these is a secret, so the cache entry stores them next to the token to show in
        ``cache list`` and to check that an entry really belongs to the request that reads it."""
        fields: dict[str, object] = {
            name: value
            for name, value in zip(self._fields, self, strict=True)
            if name not in ("for_role", "sso_profile")
            and (name not in BY_DEST or BY_DEST[name].kind != BEHAVIOUR)
        }
        if self.role_arn is None:
            # An MFA session works in every region: one code per device, whichever region
            # the roles that use it are assumed in. So does an SSO role's token.
            del fields["region"]
        return fields

    @property
    def key(self) -> str:
        canonical = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return sha256_hex(canonical.encode())

    def describe(self) -> str:
        """What the token is, for messages: 'role ARN' or 'MFA session for SERIAL'."""
        if self.role_arn:
            return f"role {self.role_arn}"
        if self.sso_role_name:
            return f"SSO role {self.sso_role_name} in account {self.sso_account_id}"
        return f"MFA session for {self.mfa_serial}"

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
