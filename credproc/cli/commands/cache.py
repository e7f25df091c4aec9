"""``credproc cache list`` and ``credproc cache clear``: what is cached, never a secret."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone

from ...config.options import RawOptions
from ...config.resolve import cache_dir_from, resolve
from ...core.cache import Cache, Entry
from ...errors import UsageError
from ..render import table


def run(args: argparse.Namespace) -> int:
    return cache_list(args) if args.action == "list" else cache_clear(args)


def cache_list(args: argparse.Namespace) -> int:
    rows = [summary(entry) for entry in Cache(cache_dir_from(args.cache_dir, os.environ)).entries()]
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not rows:
        sys.stdout.write("no cached tokens\n")
        return 0
    columns = ["role", "source", "session_name", "expires", "left", "state"]
    if any(row["sts_clock"] != "-" for row in rows):
        # EXPIRES is in this machine's clock and LEFT by STS's: say when the two differ.
        columns.append("sts_clock")
    sys.stdout.write(table(rows, columns))
    return 0


def cache_clear(args: argparse.Namespace) -> int:
    options = RawOptions.of(args)
    if args.all:
        if any(True for _ in options.without(["cache_dir"]).given()):
            raise UsageError("cache clear takes --all or role options, not both")
        cache = Cache(cache_dir_from(args.cache_dir, os.environ))
        removed = sum(cache.remove(entry.key) for entry in list(cache.entries()))
    else:
        if not any(options.has(d) for d in ("role_arn", "profile", "mfa_serial")):
            raise UsageError("cache clear needs --all, or the role options of the entry to clear")
        # The request's own cache dir: a profile may name one with credproc_cache_dir.
        request = resolve(options, os.environ)
        assert request.cache_dir is not None  # noqa: S101 - cache clear has no --no-cache
        removed = int(Cache(request.cache_dir).remove(request.key))
    sys.stdout.write(f"removed {removed} cached token{'s' if removed != 1 else ''}\n")
    return 0


def summary(entry: Entry) -> dict[str, object]:
    """One row: who and until when, never a secret."""
    identity = entry.identity
    left = entry.seconds_left()
    if identity.get("role_arn"):
        role = str(identity["role_arn"])
    else:
        role = f"MFA session {identity.get('mfa_serial')}"
    if identity.get("web_identity_token_file"):
        source = f"web identity {identity['web_identity_token_file']}"
    elif identity.get("mfa_serial") and identity.get("role_arn"):
        source = f"MFA session {identity['mfa_serial']}"
    elif identity.get("source_keys"):
        source = f"keys {identity['source_keys']}"
    else:
        source = str(identity.get("source_profile") or "environment")
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


def skew(clock_offset: float) -> str:
    """STS's clock against ours, as +1h05m (STS ahead) or -7m; '-' within a minute."""
    if abs(clock_offset) <= 60:
        return "-"
    return ("+" if clock_offset > 0 else "-") + duration(abs(clock_offset))


def duration(left: float, *, seconds: bool = False) -> str:
    """1h05m or 7m; with ``seconds``, under a minute as 42s."""
    if seconds and 0 < left < 60:
        return f"{int(left)}s"
    if left <= 0:
        return "0m"
    hours, minutes = divmod(int(left) // 60, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"
