"""The request: what credentials to fetch and how, fully resolved (see ``resolve``).

Its identity fields, which decide the token STS hands out, form the cache key; the behaviour
fields (the table's ``behaviour`` options) change only how credproc gets or keeps it.
"""

from __future__ import annotations

import hashlib
import json
from typing import NamedTuple

from ..config.options import (
    BEHAVIOUR,
    BY_DEST,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_MFA_DURATION,
    MFA_PROMPTS,
)


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

    refresh_window: int = 900
    cache_dir: str | None = None  # None: no caching (--no-cache)
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    mfa_token_command: str | None = None
    mfa_prompt: str = MFA_PROMPTS[0]
    # Not an option, nor part of the identity: the role an MFA session is fetched for, which
    # the MFA prompt names. Every role shares the session, so it never changes the key.
    for_role: str | None = None

    def identity(self) -> dict[str, object]:
        """Every field that changes the identity or the token: the cache key's input.

        None of these is a secret, so the cache entry stores them next to the token to show in
        ``cache list`` and to check that an entry really belongs to the request that reads it."""
        fields: dict[str, object] = {
            name: value
            for name, value in zip(self._fields, self, strict=True)
            if name != "for_role" and (name not in BY_DEST or BY_DEST[name].kind != BEHAVIOUR)
        }
        if self.role_arn is None:
            # An MFA session works in every region: one code per device, whichever region
            # the roles that use it are assumed in.
            del fields["region"]
        return fields

    @property
    def key(self) -> str:
        canonical = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def describe(self) -> str:
        """What the token is, for messages: 'role ARN' or 'MFA session for SERIAL'."""
        if self.role_arn:
            return f"role {self.role_arn}"
        return f"MFA session for {self.mfa_serial}"

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
            for_role=self.role_arn,
        )
