"""The SSO token store: ``~/.aws/sso/cache``, where the AWS CLI and every SDK keep theirs.

A session's token is ``<sha1 hex of the session name>.json`` (of the start URL for a legacy
profile) with the CLI's keys exactly: ``startUrl``, ``region``, ``accessToken``, ``expiresAt``
and, from a login that registered a client, ``clientId``, ``clientSecret``,
``registrationExpiresAt`` and ``refreshToken`` (what botocore's SSOTokenProvider needs to
refresh it). So the ``aws`` CLI and the SDKs use credproc's login, and credproc uses theirs.
Both names are read (older Go and Rust SDKs wrote only the start URL's).

Unlike the CLI, which truncates and rewrites the file in place with no lock, credproc writes it
whole (temp file, fsync, rename, 0600) and only under its lock on the session
(``lock_path``), so a reader never sees half a token and a rotated refresh token is never
spent twice. A token file of the user's is read at any mode, as botocore reads it (some tools
and copies leave one at 0644, and the CLI keeps the mode when it rewrites in place); credproc
says once that it should be 0600, naming the ``chmod`` to run, and its own write makes it 0600.
Only a truly foreign file at a token's path is never overwritten: another user's, a symlink,
or not a token (not a JSON object with ``accessToken`` and ``expiresAt``): the write fails and
names it.

The client registration credproc reuses until it expires lives beside it, as the CLI v2's
does: ``<sha1 of what it was registered for>.json`` with ``clientId``, ``clientSecret``,
``expiresAt`` and ``scopes``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import NamedTuple

from ..config.sso import SsoSession
from ..core.credentials import format_expiration, parse_expiration
from ..core.files import atomic_write
from ..core.lock import Held, refresh_lock
from ..core.private import ready_dir
from ..errors import ConfigError
from . import tokenfile

MAX_TOKEN_BYTES = 64 * 1024
# botocore's SSOTokenProvider refreshes with less than this left; so does credproc, so a token
# handed to the CLI or an SDK is never one they would refresh themselves.
REFRESH_WINDOW = 15 * 60
# How the advice to chmod names the file (tokenfile.say_mode).
WHAT = "the SSO token file"


class SsoToken(NamedTuple):
    """A session's token as the token file holds it (times as POSIX seconds)."""

    start_url: str
    region: str
    access_token: str
    expires_at: float
    refresh_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    registration_expires_at: float | None = None

    def __repr__(self) -> str:
        return f"SsoToken({self.start_url!r}, expires {format_expiration(_utc(self.expires_at))})"

    def seconds_left(self) -> float:
        return self.expires_at - time.time()

    def refreshable(self) -> bool:
        """A refresh token and a client registration that has not expired: what CreateToken's
        refresh_token grant needs."""
        registered = self.registration_expires_at or 0
        return bool(self.refresh_token and self.client_id and self.client_secret) and (
            registered > time.time()
        )

    def to_document(self) -> dict[str, str]:
        document = {
            "startUrl": self.start_url,
            "region": self.region,
            "accessToken": self.access_token,
            "expiresAt": format_expiration(_utc(self.expires_at)),
        }
        if self.client_id and self.client_secret and self.registration_expires_at:
            document["clientId"] = self.client_id
            document["clientSecret"] = self.client_secret
            document["registrationExpiresAt"] = format_expiration(
                _utc(self.registration_expires_at)
            )
        if self.refresh_token:
            document["refreshToken"] = self.refresh_token
        return document


class Registration(NamedTuple):
    client_id: str
    client_secret: str
    expires_at: float


def token_dir(environ: Mapping[str, str]) -> str:
    """``~/.aws/sso/cache``, as botocore finds it (HOME, not AWS_CONFIG_FILE)."""
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".aws", "sso", "cache")


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def token_path(session: SsoSession, environ: Mapping[str, str]) -> str:
    """Where the AWS CLI keeps the session's token: the name's sha1, else the start URL's."""
    return os.path.join(token_dir(environ), _sha1(session.name or session.start_url) + ".json")


def lock_path(session: SsoSession, environ: Mapping[str, str]) -> str:
    """credproc's lock on the session: held to refresh, to log in and to write the token."""
    return token_path(session, environ)[: -len(".json")] + ".credproc.lock"


def session_lock(
    session: SsoSession, environ: Mapping[str, str], timeout: float
) -> contextlib.AbstractContextManager[Held]:
    """Hold the session's lock (waiting up to ``timeout``), in a token directory that is ours:
    created 0700 here, rather than by the lock with the umask's mode."""
    _ready_dir(token_dir(environ))
    doing = f"refreshing the token of {session.describe()}"
    return refresh_lock(lock_path(session, environ), timeout, doing)


def read(
    session: SsoSession, environ: Mapping[str, str], *, say_mode: bool = True
) -> SsoToken | None:
    """The session's token, or None: the CLI's name first, then (for a named session) the
    start URL's, which older SDKs used. A token for another start URL is not this session's."""
    found = located(session, environ, say_mode=say_mode)
    return found[1] if found else None


def located(
    session: SsoSession, environ: Mapping[str, str], *, say_mode: bool = True
) -> tuple[str, SsoToken] | None:
    """The token ``read`` gives, with the path of its file. ``say_mode`` False: a file others
    may read is not said (``sso logout``, which removes it)."""
    found = _tokens(session, environ, say_mode)
    return found[0] if found else None


def remove_tokens(session: SsoSession, environ: Mapping[str, str]) -> int:
    """Remove every token file ``read`` would take for the session (``sso logout``): how many.
    A file of another shape, or another start URL's, is left alone."""
    found = _tokens(session, environ, say_mode=False)
    for path, _ in found:
        remove(path)
    return len(found)


def _tokens(
    session: SsoSession, environ: Mapping[str, str], say_mode: bool
) -> list[tuple[str, SsoToken]]:
    paths = [token_path(session, environ)]
    if session.name:
        paths.append(os.path.join(token_dir(environ), _sha1(session.start_url) + ".json"))
    found = []
    for path in paths:
        token = _load(path, say_mode)
        if token is not None and token.start_url.rstrip("/") == session.start_url.rstrip("/"):
            found.append((path, token))
    return found


def _load(path: str, say_mode: bool) -> SsoToken | None:
    document = _token_document(path, say_mode)
    if document is None:
        return None
    try:
        return _token(document)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def _document(path: str) -> dict[str, object] | None:
    """The JSON object in a private regular file of ours, else None (missing or not ours)."""
    return tokenfile.private_json(path, MAX_TOKEN_BYTES)


def _token_document(path: str, say_mode: bool = True) -> dict[str, object] | None:
    """The JSON object in a regular file of the user's at a token's path, at any mode (as
    botocore reads it), else None. A mode others can read is said once: it should be 0600."""
    found = tokenfile.own_json(path, MAX_TOKEN_BYTES)
    if found is None:
        return None
    document, mode = found
    if say_mode:
        tokenfile.say_mode(WHAT, path, mode)
    return document


def _token(document: Mapping[str, object]) -> SsoToken:
    texts = {key: document.get(key) for key in ("startUrl", "region", "accessToken", "expiresAt")}
    if not all(isinstance(value, str) and value for value in texts.values()):
        raise ValueError("not a token")
    optional: dict[str, str | None] = {}
    for key in ("refreshToken", "clientId", "clientSecret", "registrationExpiresAt"):
        value = document.get(key)
        optional[key] = value if isinstance(value, str) else None
    registered = optional["registrationExpiresAt"]
    return SsoToken(
        start_url=str(texts["startUrl"]),
        region=str(texts["region"]),
        access_token=str(texts["accessToken"]),
        expires_at=parse_expiration(str(texts["expiresAt"])).timestamp(),
        refresh_token=optional["refreshToken"] or None,
        client_id=optional["clientId"] or None,
        client_secret=optional["clientSecret"] or None,
        registration_expires_at=parse_expiration(registered).timestamp() if registered else None,
    )


def write(session: SsoSession, token: SsoToken, environ: Mapping[str, str]) -> None:
    """Store the token atomically (0600); the caller holds the session's lock."""
    path = token_path(session, environ)
    refuse_foreign(path)
    _write_json(path, token.to_document())


def refuse_foreign(path: str) -> None:
    """ConfigError if ``path`` holds something truly foreign: another user's file, a symlink,
    not a regular file, or not an SSO token. A token of the user's at any mode is not foreign:
    the write replaces it whole, at 0600."""
    why = foreign(path)
    if why is not None:
        raise ConfigError(f"not replacing {path}: {why}; move it away and log in again")


def foreign(path: str) -> str | None:
    """Why the file at ``path`` is not a token file credproc may replace, or None (none there,
    or a token file of the user's)."""
    why = tokenfile.not_own(path)
    if why is not None or not os.path.lexists(path):
        return why
    document = _token_document(path, say_mode=False)  # a login replaces it at 0600 anyway
    if document is None or "accessToken" not in document or "expiresAt" not in document:
        return "it is not an SSO token file (a JSON object with accessToken and expiresAt)"
    return None


def _ready_dir(directory: str) -> None:
    """The token directory, created 0700 if missing; ConfigError if it must not be used."""
    why = ready_dir(directory)
    if why is not None:
        raise ConfigError(f"not writing SSO tokens to {directory}: {why}")


def _write_json(path: str, document: Mapping[str, object]) -> None:
    _ready_dir(os.path.dirname(path))
    try:
        atomic_write(path, json.dumps(document).encode())
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror or error}") from None


def remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


# -- the client registration ---------------------------------------------------------------


def registration_path(session: SsoSession, flow: str, environ: Mapping[str, str]) -> str:
    """Named after what the client was registered for: one per session, scopes and flow."""
    what = {
        "tool": "credproc",
        "startUrl": session.start_url,
        "region": session.region,
        "scopes": list(session.scopes),
        "session": session.name,
        "flow": flow,
    }
    return os.path.join(token_dir(environ), _sha1(json.dumps(what, sort_keys=True)) + ".json")


def read_registration(
    session: SsoSession, flow: str, environ: Mapping[str, str]
) -> Registration | None:
    """The registration to reuse: present, ours, and good for at least another hour."""
    document = _document(registration_path(session, flow, environ))
    if document is None:
        return None
    try:
        registration = Registration(
            str(document["clientId"]),
            str(document["clientSecret"]),
            parse_expiration(str(document["expiresAt"])).timestamp(),
        )
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    return registration if registration.expires_at > time.time() + 3600 else None


def write_registration(
    session: SsoSession, flow: str, registration: Registration, environ: Mapping[str, str]
) -> None:
    path = registration_path(session, flow, environ)
    if os.path.lexists(path) and _document(path) is None:
        raise ConfigError(f"{path} is not a client registration credproc wrote; move it away")
    _write_json(
        path,
        {
            "clientId": registration.client_id,
            "clientSecret": registration.client_secret,
            "expiresAt": format_expiration(_utc(registration.expires_at)),
            "scopes": list(session.scopes),
        },
    )


# -- a login that failed, for the processes that waited on it -------------------------------


def failure_path(session: SsoSession, environ: Mapping[str, str]) -> str:
    return token_path(session, environ)[: -len(".json")] + ".credproc-login"


def record_failure(session: SsoSession, reason: str, environ: Mapping[str, str]) -> None:
    """Note that a login just failed, and why: the processes that waited for it fail with the
    same reason instead of each opening another browser tab (see fetch.sso)."""
    with contextlib.suppress(ConfigError):
        _write_json(failure_path(session, environ), {"failedAt": time.time(), "reason": reason})


def last_failure(session: SsoSession, environ: Mapping[str, str]) -> tuple[float, str] | None:
    document = _document(failure_path(session, environ))
    if document is None:
        return None
    failed_at, reason = document.get("failedAt"), document.get("reason")
    if not isinstance(failed_at, (int, float)) or not isinstance(reason, str):
        return None
    return float(failed_at), reason


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)
