"""SSO: a role's credentials from the portal, with the session's token kept usable.

The role's credentials are the fetch step of the one algorithm (``provider``): cached under the
role's key like an assumed role, so any number of processes cost one GetRoleCredentials per
role lifetime. Behind it, the session's token (``access_token``):

    read the token file (no lock)       fresh (over 15 min left, botocore's window) -> use it
    lock the session                    one refresher or login for any number of processes
        re-read                         another process refreshed or logged in -> use it
        refresh token + registration    CreateToken (refresh_token), written at once -> use it
            refused (rotated away, revoked, registration expired): drop the refresh token
            the service down or slow: the old token, while it lives, serves
        a token that still lives (a legacy one cannot be refreshed) -> use it
        a login that failed while we waited for it -> fail with its reason (no second tab)
        --sso-login never, or nobody to ask -> fail: "run credproc sso login --profile X"
        login: the browser (PKCE) or a device code, written -> use it

A kill -9 between the service rotating the refresh token and the new token reaching the file
loses that refresh token: nothing can write what never arrived. The next process meets
InvalidGrant, drops the refresh token from the file (so nobody tries it again), and serves the
access token while it lives; after that, one login, shared by every waiting process. See
docs/sso.md, "Refresh".
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple, TypeVar

from ..aws import oidc, pkce, portal, ssotoken
from ..aws.ssotoken import REFRESH_WINDOW, SsoToken
from ..config.sso import SsoSession
from ..core.credentials import Fetched
from ..core.lock import announce, waiting_since
from ..core.log import logger
from ..core.request import Request
from ..errors import ServiceUnavailableError, SsoLoginError
from ..prompt import devicecode, weblogin

T = TypeVar("T")
# How long a browser sign-in may take before the login gives up (the device flow has its own
# limit, the code's lifetime, usually 10 minutes).
BROWSER_TIMEOUT = 300
# RFC 8628: a SlowDown answer adds 5 seconds to the polling interval, for good.
SLOW_DOWN_STEP = 5
# A token with less left than this is not handed to the portal (as provider does with roles).
STALE_MINIMUM_SECONDS = 60


class How(NamedTuple):
    """How a login reaches a person."""

    use_device_code: bool = False
    no_browser: bool = False
    to_stderr: bool = False  # credproc sso login: a person ran it, stderr is theirs


class Need(NamedTuple):
    """What a process that needs the session's token may do to get one."""

    lock_timeout: float
    login: str  # --sso-login: auto or never
    command: str  # how a person logs in: "credproc sso login --profile X"


def session_of(request: Request) -> SsoSession:
    return SsoSession(
        request.sso_session,
        request.sso_start_url or "",
        request.sso_region or "",
        request.sso_scopes,
    )


def login_command(profile: str | None, session: SsoSession) -> str:
    if profile:
        return f"credproc sso login --profile {profile}"
    return f"credproc sso login --sso-session {session.name}"


def role_credentials(request: Request) -> Fetched:
    """GetRoleCredentials for an SSO profile's role, with a usable token for its session."""
    session = session_of(request)
    need = Need(
        request.lock_timeout, request.sso_login, login_command(request.sso_profile, session)
    )
    account, role = request.sso_account_id or "", request.sso_role_name or ""
    return with_access_token(
        session,
        need,
        lambda token: portal.role_credentials(session.region, token, account, role),
    )


def with_access_token(session: SsoSession, need: Need, call: Callable[[str], T]) -> T:
    """``call`` with a usable access token of the session; if the portal refuses it (signed
    out, revoked), once more with another."""
    token = access_token(session, need)
    try:
        return call(token.access_token)
    except SsoLoginError:
        logger().info("the SSO portal refused the token of %s", session.describe())
        token = access_token(session, need, rejected=token.access_token)
        return call(token.access_token)


def access_token(session: SsoSession, need: Need, rejected: str | None = None) -> SsoToken:
    """A token for the session that the portal should take (see the module docstring)."""
    environ = os.environ
    fresh = _fresh(ssotoken.read(session, environ), rejected)
    if fresh is not None:
        return fresh
    with ssotoken.session_lock(session, environ, need.lock_timeout):
        token = ssotoken.read(session, environ)
        fresh = _fresh(token, rejected)
        if fresh is not None:
            logger().info("the token of %s was renewed by another process", session.describe())
            return fresh
        if token is not None and token.refreshable():
            refreshed = _refresh(session, token, environ)
            if refreshed is not None and refreshed.access_token != rejected:
                return refreshed
            token = ssotoken.read(session, environ)
        usable = token is not None and token.seconds_left() >= STALE_MINIMUM_SECONDS
        if usable and token is not None and token.access_token != rejected:
            return token  # not refreshable (a legacy login), but it still works
        return _login_for(session, need, environ)


def _fresh(token: SsoToken | None, rejected: str | None) -> SsoToken | None:
    """The token, if it is not the one refused and has more than the refresh window left."""
    if token is None or token.access_token == rejected or token.seconds_left() <= REFRESH_WINDOW:
        return None
    return token


def _refresh(session: SsoSession, token: SsoToken, environ: Mapping[str, str]) -> SsoToken | None:
    """The refreshed token, stored; None if the service refused the refresh token."""
    try:
        granted = oidc.refresh(session, token)
    except SsoLoginError as error:
        # Rotated away (a refresher killed before it stored the new one), revoked, or the
        # registration expired: nobody may try it again. The access token stays while it lives.
        logger().info("cannot refresh the token of %s: %s", session.describe(), error)
        current = ssotoken.read(session, environ)
        if current is not None and current.access_token != token.access_token:
            # Another tool (the aws CLI, an SDK: no lock of ours) refreshed it meanwhile.
            return current if current.seconds_left() > REFRESH_WINDOW else None
        ssotoken.write(session, token._replace(refresh_token=None), environ)
        return None
    except ServiceUnavailableError as error:
        if token.seconds_left() < STALE_MINIMUM_SECONDS:
            raise
        logger().warning(
            "%s; using the SSO token of %s, valid for %d more minutes",
            error,
            session.describe(),
            token.seconds_left() // 60,
        )
        return token
    refreshed = token._replace(
        access_token=granted.access_token,
        expires_at=granted.expires_at,
        # A service that does not rotate sends none: the old one still works.
        refresh_token=granted.refresh_token or token.refresh_token,
    )
    ssotoken.write(session, refreshed, environ)  # first: the old refresh token may be dead now
    logger().info("refreshed the token of %s", session.describe())
    return refreshed


def _login_for(session: SsoSession, need: Need, environ: Mapping[str, str]) -> SsoToken:
    """A login on behalf of a process that needs the token, if allowed and possible."""
    failure = ssotoken.last_failure(session, environ)
    if failure is not None and failure[0] >= waiting_since():
        raise SsoLoginError(
            f"the login to {session.describe()} that another credproc started while this one "
            f"waited failed ({failure[1]}); run again to retry, or {need.command}"
        )
    if need.login == "never":
        raise SsoLoginError(
            f"{session.describe()} has no usable token (--sso-login never): run {need.command}"
        )
    if not devicecode.person_reachable(environ):
        raise SsoLoginError(
            f"{session.describe()} has no usable token, and no person can sign in from here "
            f"(no BROWSER, no display, no terminal): run {need.command}"
        )
    return login(session, How(), environ)


def login(session: SsoSession, how: How, environ: Mapping[str, str]) -> SsoToken:
    """Sign in (the caller holds the session's lock) and store the token."""
    ssotoken.refuse_foreign(ssotoken.token_path(session, environ))  # before asking anyone
    flow = oidc.FLOW_CODE
    if how.use_device_code or session.name is None:
        flow = oidc.FLOW_DEVICE  # a legacy profile's start URL: the device flow, as the CLI
    elif not how.no_browser and not weblogin.can_open(environ):
        flow = oidc.FLOW_DEVICE  # no browser here (SSH): a code to confirm on another device
    try:
        granted, registration = _with_registration(session, flow, how, environ)
    except (SsoLoginError, ServiceUnavailableError) as error:
        ssotoken.record_failure(session, str(error), environ)
        raise
    token = SsoToken(
        start_url=session.start_url,
        region=session.region,
        access_token=granted.access_token,
        expires_at=granted.expires_at,
        refresh_token=granted.refresh_token,
        client_id=registration.client_id,
        client_secret=registration.client_secret,
        registration_expires_at=registration.expires_at,
    )
    ssotoken.write(session, token, environ)
    ssotoken.remove(ssotoken.failure_path(session, environ))
    logger().info("signed in to %s", session.describe())
    return token


def _with_registration(
    session: SsoSession, flow: str, how: How, environ: Mapping[str, str]
) -> tuple[oidc.Granted, ssotoken.Registration]:
    """The flow with the saved client registration, or a new one if there is none or the
    service no longer knows it."""
    registration = ssotoken.read_registration(session, flow, environ)
    # Before a browser goes to the authorize page with it: a dead client there ends in an
    # error page credproc cannot see, and a wait for a person who cannot sign in.
    probe = registration is not None and flow == oidc.FLOW_CODE
    if probe and registration is not None and not oidc.registration_known(session, registration):
        logger().info(
            "the IAM Identity Center OIDC service no longer knows the client registration of "
            "%s: registering again",
            session.describe(),
        )
        ssotoken.remove(ssotoken.registration_path(session, flow, environ))
        registration = None
    if registration is not None:
        try:
            return _flow(session, flow, registration, how, environ), registration
        except SsoLoginError as error:
            if not any(code in str(error) for code in oidc.DEAD_REGISTRATION):
                raise
            ssotoken.remove(ssotoken.registration_path(session, flow, environ))
    registration = oidc.register(session, flow)
    ssotoken.write_registration(session, flow, registration, environ)
    return _flow(session, flow, registration, how, environ), registration


def _flow(
    session: SsoSession,
    flow: str,
    registration: ssotoken.Registration,
    how: How,
    environ: Mapping[str, str],
) -> oidc.Granted:
    if flow == oidc.FLOW_CODE:
        return _browser_flow(session, registration, how, environ)
    return _device_flow(session, registration, how, environ)


def _browser_flow(
    session: SsoSession, registration: ssotoken.Registration, how: How, environ: Mapping[str, str]
) -> oidc.Granted:
    """The authorization-code flow with PKCE (RFC 7636, S256) and a loopback callback."""
    verifier, challenge = pkce.new()
    callback = weblogin.Callback()
    try:
        url = oidc.authorize_url(
            session, registration, callback.redirect_uri, callback.state, challenge
        )
        # Processes waiting for this login wait as long as the person may take.
        announce(f"signing in to {session.describe()}", time.time() + BROWSER_TIMEOUT)
        opened = not how.no_browser and weblogin.open_url(url, environ)
        if opened:
            told = devicecode.tell(
                f"signing in to {session.describe()} in your browser; if it did not open, "
                f"open {url}",
                to_stderr=how.to_stderr,
            )
        else:
            told = devicecode.tell(
                f"to sign in to {session.describe()}, open this URL on this machine: {url}",
                to_stderr=how.to_stderr,
            )
        if not (opened or told):
            raise SsoLoginError(f"no browser could be opened to sign in to {session.describe()}")
        code = callback.wait(BROWSER_TIMEOUT)
    finally:
        callback.close()
    return oidc.exchange_code(session, registration, code, callback.redirect_uri, verifier)


def _device_flow(
    session: SsoSession, registration: ssotoken.Registration, how: How, environ: Mapping[str, str]
) -> oidc.Granted:
    """The device-code flow: the code shown, confirmed in any browser, polled for."""
    device = oidc.start_device(session, registration)
    announce(f"signing in to {session.describe()} (a device code)", device.expires_at)
    told = devicecode.tell(
        f"to sign in to {session.describe()}, open {device.uri} and confirm the code "
        f"{device.user_code}",
        to_stderr=how.to_stderr,
    )
    opened = not how.no_browser and weblogin.can_open(environ)
    opened = opened and weblogin.open_url(device.uri_complete, environ)
    if not (told or opened):
        raise SsoLoginError(
            f"nowhere to show the sign-in code for {session.describe()} (no terminal, no browser)"
        )
    interval = device.interval
    while time.time() + interval < device.expires_at:
        time.sleep(interval)
        answer = oidc.poll_device(session, registration, device)
        if isinstance(answer, oidc.Granted):
            return answer
        if answer == oidc.SLOW_DOWN:
            interval += SLOW_DOWN_STEP
    raise SsoLoginError(
        f"the sign-in code for {session.describe()} expired before it was confirmed; run again"
    )
