"""A sign-in for ``aws login`` sessions: the two flows, the exchange, the session stored.

AWS Sign-In's authorization code with PKCE, as the AWS CLI's ``aws login`` asks for it:

    same device      a one-shot callback on 127.0.0.1 (prompt.weblogin), the browser opened
                     on the authorize page by credproc's one launcher; the code comes back
                     to the callback, with our state
    another device   (--remote, or a process with a terminal but no browser) the link shown,
                     opened anywhere; the service's confirmation page shows a code, pasted
                     back on the terminal
    then             CreateOAuth2Token (authorization_code) with a new P-256 key's DPoP
                     proof: the session, and its login_session (the ID token's subject)

A process that needs a session and has none, or an ended one (``login_for``), signs in under
the session's lock, so any number of processes cost one browser and one exchange: the others
wait on the lock and find the file written. A sign-in that fails is noted beside the session
(``<sha256>.credproc-login``) so that the processes that waited for it fail with its reason
instead of each opening another tab; the next run tries again. ``--login never``, or nobody to
ask (no BROWSER, no display, no terminal), fails at once naming ``credproc login``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import time
from collections.abc import Mapping
from typing import NamedTuple

from ..aws import logintoken, pkce, signin, signinurl
from ..aws.dpop import ProofKey
from ..aws.logintoken import LoginToken
from ..core.files import atomic_write
from ..core.lock import announce, waiting_since
from ..core.log import logger
from ..core.private import read_private
from ..errors import (
    AuthError,
    ConfigError,
    LoginRequiredError,
    ServiceUnavailableError,
)
from ..prompt import devicecode, weblogin
from ..prompt.terminal import close, in_foreground, line_ready, open_terminal

# How long a person has to finish signing in (the browser, or pasting the code), as for SSO.
SIGN_IN_TIMEOUT = 300


class How(NamedTuple):
    """How a sign-in reaches a person."""

    remote: bool = False  # another device: the link shown, the code pasted back
    to_stderr: bool = False  # credproc login: a person ran it, stderr is theirs


class Need(NamedTuple):
    """What a process that needs the session may do to get one."""

    profile: str
    login_session: str  # the profile's
    region: str
    login: str  # --login: auto or never


def command(profile: str) -> str:
    """How a person signs the profile in."""
    return f"credproc login --profile {profile}"


def sign_in(
    region: str, how: How, environ: Mapping[str, str], profile: str
) -> tuple[LoginToken, str]:
    """A new session and its login_session (nothing stored yet); ``profile`` is the one the
    sign-in is for, named in the service's refusals."""
    key = ProofKey.generate()  # the login extra missing: said before anyone is asked
    base = signinurl.origin(region)
    verifier, challenge = pkce.new()
    # Processes waiting on the session's lock wait as long as the person may take, as for SSO.
    announce("signing in with AWS Sign-In", time.time() + SIGN_IN_TIMEOUT)
    if how.remote:
        client_id = signin.CROSS_DEVICE
        redirect_uri = signinurl.confirmation_uri(base)
        code = _pasted(base, redirect_uri, challenge, how)
    else:
        client_id = signin.SAME_DEVICE
        callback = weblogin.Callback()
        try:
            redirect_uri = callback.redirect_uri
            url = signinurl.authorize_url(base, client_id, redirect_uri, callback.state, challenge)
            _show_in_browser(url, how, environ)
            code = callback.wait(SIGN_IN_TIMEOUT)
        finally:
            callback.close()
    return signin.exchange_code(
        region=region,
        profile=profile,
        client_id=client_id,
        code=code,
        verifier=verifier,
        redirect_uri=redirect_uri,
        key=key,
    )


def _show_in_browser(url: str, how: How, environ: Mapping[str, str]) -> None:
    if weblogin.open_url(url, environ):
        told = devicecode.tell(
            f"signing in with AWS Sign-In in your browser; if it did not open, open {url}",
            to_stderr=how.to_stderr,
        )
    else:
        told = devicecode.tell(
            f"to sign in, open this URL in a browser on this machine: {url} (on another "
            "device: credproc login --remote)",
            to_stderr=how.to_stderr,
        )
        if not told:
            raise LoginRequiredError("no browser could be opened, and no terminal to show the link")


def _pasted(base: str, redirect_uri: str, challenge: str, how: How) -> str:
    """The cross-device flow's code, pasted on the terminal (or stdin for credproc login)."""
    state = secrets.token_urlsafe(24)
    url = signinurl.authorize_url(base, signin.CROSS_DEVICE, redirect_uri, state, challenge)
    terminal = open_terminal()
    if terminal is None and not how.to_stderr:
        raise LoginRequiredError("no terminal to paste the sign-in code on")
    if terminal is None:
        reader, writer = sys.stdin, sys.stderr
    else:
        reader, writer = terminal
        if not in_foreground(reader):
            # Another command owns the terminal (the shell exec --server runs, a job in the
            # background): a read would stop this process, or steal that command's keys.
            close(reader, writer)
            raise LoginRequiredError(
                "the terminal belongs to another command, so the sign-in code cannot be "
                "asked for there; sign in from a terminal of your own with credproc login"
            )
    try:
        writer.write(
            f"credproc: to sign in, open this link in a browser on any device:\n\n    {url}\n\n"
            "credproc: then paste the code it shows here: "
        )
        writer.flush()
        ready = reader is sys.stdin or line_ready(reader, SIGN_IN_TIMEOUT)
        if not ready:
            raise LoginRequiredError(
                f"no sign-in code was pasted within {SIGN_IN_TIMEOUT} s; run again"
            )
        text = reader.readline()
    except OSError as error:
        raise LoginRequiredError(
            f"cannot read the sign-in code: {error.strerror or error}"
        ) from None
    finally:
        if terminal is not None:
            close(*terminal)
    if not text.strip():
        raise LoginRequiredError("no sign-in code was pasted; run again to retry")
    return signinurl.pasted_code(text, state)


def store(login_session: str, token: LoginToken, environ: Mapping[str, str]) -> None:
    """The session written (the caller holds its lock), and any failed sign-in forgotten."""
    logintoken.write(login_session, token, environ)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(failure_path(login_session, environ))


def login_for(need: Need, environ: Mapping[str, str], cause: LoginRequiredError) -> LoginToken:
    """A sign-in on behalf of a process that needs the session, if allowed and possible. The
    caller holds the session's lock and found no session under it, or one that has ended
    (``cause`` says which, naming the command that signs in)."""
    again = command(need.profile)
    failure = last_failure(need.login_session, environ)
    if failure is not None and failure[0] >= waiting_since():
        raise LoginRequiredError(
            f"the sign-in for profile {need.profile!r} that another credproc started while this "
            f"one waited failed ({failure[1]}); run again to retry, or {again}"
        )
    if need.login == "never":
        raise cause.with_context("--login never, so no sign-in was started")
    can_browse = weblogin.can_open(environ)
    if not (can_browse or devicecode.has_terminal()):
        raise cause.with_context(
            "no person can sign in from here (no BROWSER, no display, no terminal)"
        )
    try:
        token, login_session = sign_in(
            need.region, How(remote=not can_browse), environ, need.profile
        )
    except (AuthError, ServiceUnavailableError) as error:
        # Refused, abandoned, not permitted, or the service down: the processes that waited
        # for this sign-in fail with its reason rather than each open another tab.
        record_failure(need.login_session, str(error), environ)
        raise
    if login_session != need.login_session:
        # Another identity than the profile's: its session is not the one this lock guards,
        # and the profile is the person's to change (credproc login does).
        reason = f"signed in as {login_session}, but profile {need.profile!r} uses " + (
            need.login_session
        )
        record_failure(need.login_session, reason, environ)
        raise LoginRequiredError(f"{reason}; to switch the profile to it, run {again}")
    store(login_session, token, environ)
    logger().info("signed in for profile %s", need.profile)
    return token


def failure_path(login_session: str, environ: Mapping[str, str]) -> str:
    return logintoken.token_path(login_session, environ)[: -len(".json")] + ".credproc-login"


def record_failure(login_session: str, reason: str, environ: Mapping[str, str]) -> None:
    """Note that a sign-in just failed, and why, for the processes that waited for it."""
    document = json.dumps({"failedAt": time.time(), "reason": reason}).encode()
    with contextlib.suppress(OSError, ConfigError):
        atomic_write(failure_path(login_session, environ), document)


def last_failure(login_session: str, environ: Mapping[str, str]) -> tuple[float, str] | None:
    raw = read_private(failure_path(login_session, environ), 64 * 1024)
    if raw is None:
        return None
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    failed_at, reason = document.get("failedAt"), document.get("reason")
    if not isinstance(failed_at, (int, float)) or not isinstance(reason, str):
        return None
    return float(failed_at), reason
