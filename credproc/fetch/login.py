"""aws login sessions: the identity's credentials, with the session kept alive under one lock.

The identity's own credentials are the fetch step of the one algorithm (``provider``), cached
under their own key like any token (``--profile NAME`` of a ``login_session`` profile, and the
source of every role assumed from it, share that entry). Behind it, the session file the AWS
CLI shares (``aws.logintoken``):

    read the session file (no lock)    over 5 minutes left (botocore's threshold) -> use it
    lock the session                   one refresher for every process and every role
        re-read                        another process, or the aws CLI, renewed it -> use it
        CreateOAuth2Token              the refresh token rotates: the answer is written at
                                       once, whole, 0600, before anything uses it -> use it
            the service down or slow: the credentials, while they live, serve
            the session has ended (TOKEN_EXPIRED, ...): unless another tool renewed it
            meanwhile, one sign-in for every waiting process (fetch.signin, --login auto),
            or fail: "sign in again: credproc login --profile NAME"
        no session at all: the same sign-in, or the same line

A kill -9 before the call leaves the old file whole: the next process refreshes. One after
the temp file of the answer was written (fsynced) and before its rename leaves the answer
there: the next process adopts it (``logintoken.orphaned``). Only a kill in the moment between
the service's answer and that temp file loses the rotation: the file still holds the spent
token, and the next process gets TOKEN_EXPIRED and says to sign in again, once, clearly
(nothing can write an answer that never arrived). See docs/sources.md, "aws login sessions".
"""

from __future__ import annotations

import os

from ..aws import logintoken, signin
from ..aws.logintoken import REFRESH_WINDOW, LoginToken
from ..config.login import DEFAULT_REGION
from ..core.credentials import Fetched
from ..core.log import logger
from ..core.request import Request
from ..errors import LoginRequiredError, ServiceUnavailableError
from . import signin as signin_flow

# Credentials with less left than this are not handed out when the service is down (as
# provider does with cached roles).
STALE_MINIMUM_SECONDS = 60


def sign_in_command(profile: str) -> str:
    return f"credproc login --profile {profile}"


def identity_credentials(request: Request) -> Fetched:
    """The aws login identity's own credentials, the session renewed first if it must be."""
    token = session_token(request)
    return Fetched(token.credentials(), 0.0)


def session_token(request: Request) -> LoginToken:
    """The request's session, with more than botocore's 5 minutes left where that can be had
    (see the module docstring)."""
    login_session = request.login_session or ""
    profile = request.login_profile or "default"
    environ = os.environ
    token = logintoken.read(login_session, environ)
    if token is not None and token.seconds_left() > REFRESH_WINDOW:
        return token
    with logintoken.session_lock(login_session, environ, request.lock_timeout):
        token = logintoken.read(login_session, environ)
        if token is None:
            # No session (never signed in, or signed out): one sign-in for every process that
            # waits on this lock, if --login allows it and a person can be reached.
            return signin_flow.login_for(_need(request), environ, _absent(profile))
        if token.seconds_left() > REFRESH_WINDOW:
            logger().info("the aws login session of %r was renewed by another process", profile)
            return token
        orphan = logintoken.orphaned(login_session, environ)
        if orphan is not None and orphan.expires_at > token.expires_at:
            # A refresher killed just before its rename: its answer is whole in the temp file,
            # and holds the refresh token the service now expects. Adopt it.
            logintoken.write(login_session, orphan, environ)
            logger().info("recovered the aws login session of %r from a killed refresh", profile)
            if orphan.seconds_left() > REFRESH_WINDOW:
                return orphan
            token = orphan
        region = request.login_region or DEFAULT_REGION
        try:
            renewed = signin.refresh(token, region, profile)
        except ServiceUnavailableError as error:
            if token.seconds_left() < STALE_MINIMUM_SECONDS:
                raise
            logger().warning(
                "%s; using the aws login credentials of %r, valid for %d more minutes",
                error,
                profile,
                token.seconds_left() // 60,
            )
            return token
        except LoginRequiredError as ended:
            # The aws CLI (which takes no lock of ours) may have renewed the session with
            # this very refresh token a moment ago: its answer is then in the file.
            current = logintoken.read(login_session, environ)
            if current is not None and _renewed_elsewhere(current, token):
                return current
            # Ended: one sign-in for every waiting process, if --login allows it and a
            # person can be reached; else the service's reason, which names the command.
            return signin_flow.login_for(_need(request), environ, ended)
        logintoken.write(login_session, renewed, environ)  # first: the old token is spent
        logger().info("renewed the aws login session of %r", profile)
        return renewed


def _renewed_elsewhere(current: LoginToken, spent: LoginToken) -> bool:
    """Whether the file now holds another refresh's answer, still good to use."""
    return (
        current.refresh_token != spent.refresh_token
        and current.seconds_left() > STALE_MINIMUM_SECONDS
    )


def _absent(profile: str) -> LoginRequiredError:
    return LoginRequiredError(
        f"profile {profile!r} has no aws login session (signed out, or never signed in): "
        f"sign in: {sign_in_command(profile)}"
    )


def _need(request: Request) -> signin_flow.Need:
    """What fetch.signin needs to sign the request's profile in on its behalf."""
    return signin_flow.Need(
        profile=request.login_profile or "default",
        login_session=request.login_session or "",
        region=request.login_region or DEFAULT_REGION,
        login=request.login,
    )
