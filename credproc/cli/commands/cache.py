"""``credproc cache list`` and ``credproc cache clear``: what is cached, never a secret."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from ...aws import ssotoken
from ...aws.ssotoken import REFRESH_WINDOW
from ...config.awsconfig import sso_sessions as configured
from ...config.options import RawOptions
from ...config.resolve import cache_dir_from, resolve
from ...config.sso import session_named
from ...core.cache import Cache, Entry
from ...core.credentials import format_expiration
from ...core.log import logger
from ...core.provider import MFA_SOURCE_MINIMUM_SECONDS
from ...core.request import program_name
from ...errors import CredprocError, UsageError
from ..render import duration, listing


def run(args: argparse.Namespace) -> int:
    return cache_list(args) if args.action == "list" else cache_clear(args)


def cache_list(args: argparse.Namespace) -> int:
    rows = [summary(entry) for entry in Cache(cache_dir_from(args.cache_dir, os.environ)).entries()]
    rows += sso_sessions(os.environ)
    columns = ["role", "source", "session_name", "expires", "left", "state"]
    if any(row["sts_clock"] != "-" for row in rows):
        # EXPIRES is in this machine's clock and LEFT by STS's: say when the two differ.
        columns.append("sts_clock")
    sys.stdout.write(listing(rows, columns, as_json=args.json, empty="no cached tokens"))
    return 0


def cache_clear(args: argparse.Namespace) -> int:
    options = RawOptions.of(args)
    if args.all:
        if any(True for _ in options.without(["cache_dir"]).given()):
            raise UsageError("cache clear takes --all or role options, not both")
        cache = Cache(cache_dir_from(args.cache_dir, os.environ))
        removed = sum(cache.remove(entry.key) for entry in list(cache.entries()))
        for key in cache.failures():  # MFA sessions in backoff with no token (provider)
            cache.clear_failure(key)
    else:
        if not any(options.has(d) for d in ("role_arn", "profile", "mfa_serial", "sso_role_name")):
            raise UsageError("cache clear needs --all, or the role options of the entry to clear")
        # The request's own cache dir: a profile may name one with credproc_cache_dir.
        request = resolve(options, os.environ)
        assert request.cache_dir is not None  # noqa: S101 - cache clear has no --no-cache
        cache = Cache(request.cache_dir)
        removed = int(cache.remove(request.key))
        if request.mfa_serial is not None:
            # The role's MFA session may be backing off after an outage (provider): clearing
            # the role is how a user says "ask me for a code now".
            cache.clear_failure(request.mfa_session(MFA_SOURCE_MINIMUM_SECONDS).key)
    sys.stdout.write(f"removed {removed} cached token{'s' if removed != 1 else ''}\n")
    return 0


def summary(entry: Entry) -> dict[str, object]:
    """One row: who and until when, never a secret."""
    identity = entry.identity
    left = entry.seconds_left()
    role, source = _wrapped(identity) or (_role_of(identity), _source_of(identity))
    waiting = entry.backoff.seconds_to_wait()
    if left <= 0:
        state = "expired"
    elif left > entry.refresh_window:
        state = "fresh"
    elif waiting:  # a refresh failed: runs serve the token until the next try
        state = f"backoff, next try in {duration(waiting, seconds=True)}"
    else:
        state = "refresh due"
    local_expiry = entry.credentials.expiration.timestamp() - entry.clock_offset
    return {
        "role": role,
        "source": source,
        "session_name": identity.get("role_session_name") or "-",
        "expires": datetime.fromtimestamp(local_expiry, timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%SZ"
        ),
        "left": duration(left),
        "seconds_left": int(left),
        "state": state,
        "refresh_failures": entry.backoff.failures,
        "backoff_seconds": int(waiting),
        "clock_skew_seconds": int(entry.clock_offset),
        "sts_clock": skew(entry.clock_offset),
        "key": entry.key,
    }


def _wrapped(identity: dict[str, Any]) -> tuple[str, str] | None:
    """A wrapped command's role and source columns (``credproc wrap``); None for any other."""
    wrapped = identity.get("wrap_command")
    if not wrapped or not isinstance(wrapped, list):
        return None
    # The program's name alone: the command's arguments may hold secrets.
    profile = identity.get("wrap_profile")
    program = program_name([str(word) for word in wrapped])
    return f"credproc wrap {program}", f"profile {profile}" if profile else "its command"


def sso_sessions(environ: Mapping[str, str]) -> list[dict[str, object]]:
    """One row per SSO session of the AWS config: its token's expiry and whether credproc can
    renew it, never the token. A config that cannot be read lists none (said once)."""
    rows: list[dict[str, object]] = []
    try:
        sessions = [session_named(name, environ) for name in sorted(configured(environ))]
    except CredprocError as error:
        logger().warning("not listing SSO sessions: %s", error)
        return rows
    for session in sessions:
        token = ssotoken.read(session, environ)
        left = token.seconds_left() if token is not None else 0.0
        if token is None:
            state = "signed out"
        elif left > REFRESH_WINDOW:
            state = "fresh"
        elif token.refreshable():
            state = "refresh due" if left > 0 else "expired, renewable"
        else:
            state = "expiring, login due" if left > 0 else "expired, login due"
        expires = (
            "-"
            if token is None
            else format_expiration(datetime.fromtimestamp(token.expires_at, timezone.utc)).replace(
                "T", " "
            )
        )
        rows.append(
            {
                "role": f"SSO session {session.name}",
                "source": session.start_url,
                "session_name": "-",
                "expires": expires,
                "left": duration(left),
                "seconds_left": int(left),
                "state": state,
                "refresh_failures": 0,
                "backoff_seconds": 0,
                "clock_skew_seconds": 0,
                "sts_clock": "-",
                "key": os.path.basename(ssotoken.token_path(session, environ))[: -len(".json")],
            }
        )
    return rows


def skew(clock_offset: float) -> str:
    """STS's clock against ours, as +1h05m (STS ahead) or -7m; '-' within a minute."""
    if abs(clock_offset) <= 60:
        return "-"
    return ("+" if clock_offset > 0 else "-") + duration(abs(clock_offset))


def _role_of(identity: dict[str, object]) -> str:
    if identity.get("role_arn"):
        return str(identity["role_arn"])
    if identity.get("sso_role_name"):
        return f"SSO {identity['sso_role_name']} in {identity.get('sso_account_id')}"
    if identity.get("login_session"):
        return f"aws login {identity['login_session']}"
    return f"MFA session {identity.get('mfa_serial')}"


def _source_of(identity: dict[str, object]) -> str:
    if identity.get("sso_role_name") and not identity.get("role_arn"):
        return f"SSO session {identity.get('sso_session') or identity.get('sso_start_url')}"
    if identity.get("login_session") and not identity.get("role_arn"):
        return "aws login session"
    if identity.get("web_identity_token_file"):
        return f"web identity {identity['web_identity_token_file']}"
    if identity.get("mfa_serial") and identity.get("role_arn"):
        return f"MFA session {identity['mfa_serial']}"
    if identity.get("source_keys"):
        return f"keys {identity['source_keys']}"
    return str(identity.get("source_profile") or "environment")
