"""The ``aws login`` session file: ``~/.aws/login/cache``, shared with the AWS CLI and botocore.

A profile's ``login_session`` (the console identity's ARN) names its session:
``<sha256 hex of the login_session value>.json`` in ``AWS_LOGIN_CACHE_DIRECTORY`` (``~`` and
variables expanded, as botocore does) or ``~/.aws/login/cache``. It holds the CLI's keys
exactly:

    accessToken   accessKeyId, secretAccessKey, sessionToken, accountId, expiresAt
                  (%Y-%m-%dT%H:%M:%SZ): the identity's credentials, 15 minutes long
    tokenType, clientId, refreshToken, idToken
    dpopKey       the PEM (SEC1) of the P-256 key every refresh proves it holds

credproc writes the same JSON the CLI does (``json.dumps`` of the same keys in the same order,
every key it does not know kept as it was, ``signInRegion`` say), so ``aws`` and botocore go
on using what credproc wrote, and credproc what they wrote.

Unlike them, credproc writes it whole (temp file, fsync, rename, 0600) and only under its lock
on the session (``session_lock``), so a rotated refresh token is never spent twice by credproc's
processes. Older CLIs rewrite it in place, so a reader may find it empty or cut short: ``read``
reads such a file again a few times before it gives up, and never takes it for "signed out".
A session file of the user's is read at any mode, as botocore reads it (an older CLI keeps
the mode when it rewrites in place; copies and other tools leave 0644): credproc says once
that it should be 0600, naming the ``chmod`` to run, and its next write makes it 0600 (the
same rule as IAM Identity Center's token files, ``tokenfile``). Only what is truly foreign is
never read nor overwritten: a symlink, another user's file, or not the CLI's shape; the read
or the write fails and names it.
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

from ..core.credentials import Credentials, format_expiration, parse_expiration
from ..core.files import atomic_write
from ..core.lock import Held, refresh_lock
from ..core.private import unusable_dir
from ..errors import ConfigError
from . import tokenfile

MAX_TOKEN_BYTES = 64 * 1024
# botocore's LoginCredentialFetcher refreshes with 5 minutes or less left: so does credproc,
# so the CLI and credproc do not race each other to the rotation of the refresh token.
REFRESH_WINDOW = 5 * 60
# An older CLI truncates the file and writes it again: a reader in between sees it empty or
# cut short. Read again this often, this far apart, before calling it broken.
REREADS = 8
REREAD_PAUSE = 0.05
# What botocore needs in a session to refresh it (LoginCredentialFetcher).
REQUIRED = ("accessToken", "refreshToken", "dpopKey", "clientId")
# How the advice to chmod names the file (tokenfile.say_mode).
WHAT = "the aws login session file"


class LoginToken(NamedTuple):
    """A session as the file holds it (the expiry as POSIX seconds). ``document`` is the whole
    file as read, so a rewrite keeps what credproc does not know, in its place."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    account_id: str
    expires_at: float
    client_id: str
    refresh_token: str
    dpop_key: str
    token_type: str = "aws_sigv4"  # noqa: S105 - the kind of token, no secret
    id_token: str = ""
    document: Mapping[str, object] = {}

    def __repr__(self) -> str:
        expires = format_expiration(_utc(self.expires_at))
        return f"LoginToken({self.access_key_id!r}, account {self.account_id}, expires {expires})"

    def seconds_left(self, now: float | None = None) -> float:
        return self.expires_at - (time.time() if now is None else now)

    def credentials(self) -> Credentials:
        """The identity's own credentials."""
        return Credentials(
            self.access_key_id, self.secret_access_key, self.session_token, _utc(self.expires_at)
        )

    def to_document(self) -> dict[str, object]:
        """The file's JSON object: the CLI's keys in the CLI's order, the others kept."""
        document = dict(self.document)
        document.update(
            {
                "accessToken": {
                    "accessKeyId": self.access_key_id,
                    "secretAccessKey": self.secret_access_key,
                    "sessionToken": self.session_token,
                    "accountId": self.account_id,
                    "expiresAt": format_expiration(_utc(self.expires_at)),
                },
                "tokenType": self.token_type,
                "clientId": self.client_id,
                "refreshToken": self.refresh_token,
                "idToken": self.id_token,
                "dpopKey": self.dpop_key,
            }
        )
        if not self.id_token and "idToken" not in self.document:
            del document["idToken"]
        return document


def cache_dir(environ: Mapping[str, str]) -> str:
    """Where the sessions are: ``AWS_LOGIN_CACHE_DIRECTORY`` (``~`` and ``$VARS`` expanded,
    as botocore expands them) or ``~/.aws/login/cache``."""
    home = environ.get("HOME") or os.path.expanduser("~")
    configured = environ.get("AWS_LOGIN_CACHE_DIRECTORY")
    if configured is None:
        return os.path.join(home, ".aws", "login", "cache")
    path = os.path.expandvars(configured)
    if path == "~" or path.startswith("~/"):
        path = home + path[1:]
    return path


def token_path(login_session: str, environ: Mapping[str, str]) -> str:
    """The session's file, named as botocore names it (``generate_login_cache_key``)."""
    name = hashlib.sha256(login_session.encode("utf-8")).hexdigest()
    return os.path.join(cache_dir(environ), f"{name}.json")


def lock_path(login_session: str, environ: Mapping[str, str]) -> str:
    """credproc's lock on the session: held to refresh it, sign in, and write the file."""
    return token_path(login_session, environ)[: -len(".json")] + ".credproc.lock"


def session_lock(
    login_session: str, environ: Mapping[str, str], timeout: float
) -> contextlib.AbstractContextManager[Held]:
    """Hold the session's lock (waiting up to ``timeout``), in a directory that is ours."""
    _ready_dir(cache_dir(environ))
    return refresh_lock(lock_path(login_session, environ), timeout)


def read(login_session: str, environ: Mapping[str, str]) -> LoginToken | None:
    """The session, or None when there is no file for it (never signed in, or signed out).

    A file that is empty or not yet whole JSON is read again (``REREADS``), since the CLI may
    be rewriting it in place; one that stays so, or lacks what a refresh needs, or is not the
    user's own file (a symlink, another user's), is a ConfigError that names it: the session
    is not taken for gone while a file for it is there. A file of the user's is read at any
    mode, as botocore reads it; one that others may read is said once (``tokenfile.say_mode``),
    and the next refresh rewrites it 0600."""
    path = token_path(login_session, environ)
    for attempt in range(REREADS):
        if attempt:
            _pause()
        if not os.path.lexists(path):
            return None
        _check_own(path)
        found = tokenfile.own_bytes(path, MAX_TOKEN_BYTES)
        document = tokenfile.json_object(found[0]) if found is not None else None
        if found is not None and document is not None:
            token = _parse(document, path)
            tokenfile.say_mode(WHAT, path, found[1])
            return token
    raise ConfigError(
        f"{path} is not a whole aws login session file (it stayed empty or cut short); "
        "sign in again to rewrite it"
    )


def _pause() -> None:
    time.sleep(REREAD_PAUSE)


def _parse(document: dict[str, object], path: str) -> LoginToken:
    missing = [key for key in REQUIRED if not document.get(key)]
    if missing:
        raise ConfigError(
            f"{path} is not an aws login session a refresh can use: no {', '.join(missing)}; "
            "sign in again"
        )
    access = document["accessToken"]
    if not isinstance(access, dict):
        raise ConfigError(f"{path} is not an aws login session file (accessToken is not an object)")
    try:
        texts = {
            key: _text(access, key)
            for key in ("accessKeyId", "secretAccessKey", "sessionToken", "expiresAt")
        }
        return LoginToken(
            access_key_id=texts["accessKeyId"],
            secret_access_key=texts["secretAccessKey"],
            session_token=texts["sessionToken"],
            account_id=str(access.get("accountId") or ""),
            expires_at=parse_expiration(texts["expiresAt"]).timestamp(),
            client_id=_text(document, "clientId"),
            refresh_token=_text(document, "refreshToken"),
            dpop_key=_text(document, "dpopKey"),
            token_type=str(document.get("tokenType") or "aws_sigv4"),
            id_token=str(document.get("idToken") or ""),
            document=document,
        )
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise ConfigError(
            f"{path} is not an aws login session file ({error}); sign in again"
        ) from None


def _text(document: Mapping[str, object], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise KeyError(f"no {key}")
    return value


def orphaned(login_session: str, environ: Mapping[str, str]) -> LoginToken | None:
    """A whole session that a writer killed before its rename left in a temp file beside the
    session's (``core.files.atomic_write`` writes and fsyncs it first): the answer of a refresh
    that the service has already given, whose refresh token is the live one. The latest to
    expire, if any; the caller holds the session's lock (no live writer owns such a file)."""
    path = token_path(login_session, environ)
    directory, name = os.path.split(path)
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    found = []
    for candidate in names:
        if not (candidate.startswith(f".{name}.") and candidate.endswith(".tmp")):
            continue
        document = tokenfile.private_json(os.path.join(directory, candidate), MAX_TOKEN_BYTES)
        if document is None:
            continue  # cut short: killed while writing it
        with contextlib.suppress(ConfigError):
            found.append(_parse(document, path))
    return max(found, key=lambda token: token.expires_at, default=None)


def write(login_session: str, token: LoginToken, environ: Mapping[str, str]) -> None:
    """Store the session atomically (0600); the caller holds the session's lock."""
    path = token_path(login_session, environ)
    refuse_foreign(path)
    _ready_dir(os.path.dirname(path))
    try:
        atomic_write(path, json.dumps(token.to_document()).encode())
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror or error}") from None


def remove(login_session: str, environ: Mapping[str, str]) -> bool:
    """Remove the session's file (a sign-out); whether there was one. A file that is not a
    session file of the user's is left alone (ConfigError)."""
    path = token_path(login_session, environ)
    if not os.path.lexists(path):
        return False
    refuse_foreign(path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    return True


def refuse_foreign(path: str) -> None:
    """ConfigError if ``path`` holds something that is not a session file of the CLI's or
    credproc's: credproc must not silently replace what it does not understand. An empty or
    cut-short file (a rewrite in place that died) may be replaced, and so may a session of the
    user's at any mode: the write makes it 0600."""
    _check_own(path)
    found = tokenfile.own_bytes(path, MAX_TOKEN_BYTES)
    raw = found[0] if found is not None else None
    if raw is None or not raw.strip():
        return
    try:
        document = json.loads(raw)
    except ValueError:
        return  # cut short: a rewrite that never finished
    except RecursionError:
        document = None
    if not isinstance(document, dict) or "accessToken" not in document:
        raise ConfigError(
            f"{path} is not an aws login session file credproc or the AWS CLI wrote; "
            "move it away and sign in again"
        )


def _check_own(path: str) -> None:
    """ConfigError if the file at ``path`` is not the user's own regular file (a symlink,
    another user's): credproc neither trusts nor replaces it. Its mode is no reason."""
    why = tokenfile.not_own(path)
    if why is not None:
        raise ConfigError(
            f"{path} is not an aws login session file of yours ({why}): credproc neither "
            "trusts nor replaces it; move it away and sign in again"
        )


def _ready_dir(directory: str) -> None:
    """The session directory, created 0700 if missing; ConfigError if it must not be used."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        why = unusable_dir(os.lstat(directory))
    except OSError as error:
        raise ConfigError(f"cannot use {directory}: {error.strerror or error}") from None
    if why is not None:
        raise ConfigError(f"not using {directory} for aws login sessions: {why}")


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)
