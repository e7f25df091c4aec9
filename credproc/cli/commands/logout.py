"""``credproc logout``: remove an ``aws login`` session from this machine (docs/login.md).

``--profile NAME`` (default AWS_PROFILE, else default) removes that profile's session file;
``--all`` every session file in the directory (the files the AWS CLI's ``aws logout --all``
removes: a JSON object whose ``accessToken`` has an ``accessKeyId``). Each under the session's
lock, so no refresh of it runs meanwhile and writes it back. credproc's cached role
credentials built on a removed session go too, so the next use signs in again.

Like ``aws logout``, it ends nothing at AWS: credentials already handed out (15 minutes for the
session's own, a role's until its expiry) stay valid until they expire, and the command says
so. The profile's ``login_session`` line stays, so ``credproc login`` signs it in again.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
from collections.abc import Mapping

from ...aws import logintoken, tokenfile
from ...config.awsconfig import config_path, config_profiles, profile_keys
from ...config.loginprofile import LOGIN_SESSION
from ...config.resolve import cache_dir_from
from ...core.cache import Cache
from ...core.lock import refresh_lock
from ...errors import ConfigError
from ...fetch import signin
from .login import chosen_profile
from .sso.target import chosen_lock_timeout

_STILL_VALID = (
    "credentials already handed out stay valid until they expire (the session's own within "
    "15 minutes); nothing was revoked at AWS"
)


def run(args: argparse.Namespace) -> int:
    environ = os.environ
    timeout = chosen_lock_timeout(args)
    cache = Cache(cache_dir_from(args.cache_dir, environ))
    if args.all:
        names = session_names(environ)
        removed = 0
        for name in names:
            path = os.path.join(logintoken.cache_dir(environ), name)
            # The lock logintoken.session_lock takes, found by the file's name: the session
            # itself (the ARN) is not in the file.
            with refresh_lock(path[: -len(".json")] + ".credproc.lock", timeout):
                removed += _remove_file(path)
        cleared = clear_roles(cache, {name[: -len(".json")] for name in names}, environ)
        sys.stderr.write(
            f"credproc: removed {_count(removed, 'aws login session file')} and cleared "
            f"{_count(cleared, 'cached role credential')}; {_STILL_VALID}\n"
        )
        return 0
    profile = chosen_profile(args, environ)
    keys = profile_keys(profile, environ)
    if keys is None:
        raise ConfigError(f"profile {profile!r} is not in {config_path(environ)}")
    session = keys.get(LOGIN_SESSION)
    if not session:
        raise ConfigError(
            f"profile {profile!r} has no login_session: it is not an aws login profile "
            "(credproc logout --all removes every session)"
        )
    with logintoken.session_lock(session, environ, timeout):
        had_file = logintoken.remove(session, environ)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(signin.failure_path(session, environ))
    cleared = clear_roles(cache, {_digest(session)}, environ)
    what = "removed its session file" if had_file else "it had no session file here"
    sys.stderr.write(
        f"credproc: signed profile {profile!r} out of {session}: {what}, and cleared "
        f"{_count(cleared, 'cached role credential')}; {_STILL_VALID}\n"
    )
    return 0


def session_names(environ: Mapping[str, str]) -> list[str]:
    """The session files in the directory: ``<sha256>.json`` holding a session's shape."""
    directory = logintoken.cache_dir(environ)
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [
        name
        for name in names
        if name.endswith(".json") and _is_session(os.path.join(directory, name))
    ]


def _is_session(path: str) -> bool:
    # A session of the user's at any mode, as the rest of credproc (and botocore) reads it.
    found = tokenfile.own_json(path, logintoken.MAX_TOKEN_BYTES)
    access = found[0].get("accessToken") if found is not None else None
    return isinstance(access, dict) and "accessKeyId" in access


def _remove_file(path: str) -> int:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return 0
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path[: -len(".json")] + ".credproc-login")
    return 1


def clear_roles(cache: Cache, digests: set[str], environ: Mapping[str, str]) -> int:
    """Remove credproc's cached credentials built on these sessions (named by the sha256 their
    files are named by): the identity's own, roles assumed from a profile that uses one, and
    roles chained from those (the profiles' source_profile links, followed to the end)."""
    profiles = config_profiles(environ)
    built = {
        name
        for name, keys in profiles.items()
        if keys.get(LOGIN_SESSION) and _digest(keys[LOGIN_SESSION]) in digests
    }
    while True:
        more = {
            name
            for name, keys in profiles.items()
            if name not in built and keys.get("source_profile") in built
        }
        if not more:
            break
        built |= more
    mine = [
        entry.key
        for entry in cache.entries()
        if (
            isinstance(entry.identity.get(LOGIN_SESSION), str)
            and _digest(entry.identity[LOGIN_SESSION]) in digests
        )
        or entry.identity.get("source_profile") in built
    ]
    return sum(cache.remove(key) for key in mine)


def _digest(session: str) -> str:
    return hashlib.sha256(session.encode("utf-8")).hexdigest()


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'s' if number != 1 else ''}"
