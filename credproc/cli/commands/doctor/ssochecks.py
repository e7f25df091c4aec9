"""doctor's checks of an SSO setup: the session, its token and whether it can be refreshed,
and the portal, for a request whose role (or whose source's role) is an SSO one.

Nothing here signs in: doctor says what a login would fix instead of opening a browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ....aws import portal, ssotoken, tokenfile
from ....core.credentials import format_expiration
from ....core.request import Request
from ....errors import CredprocError, SsoLoginError
from ....fetch.sso import login_command, session_of
from ...render import duration
from .checks import Check, failed

if TYPE_CHECKING:
    from ....aws.ssotoken import SsoToken


def sso_checks(request: Request) -> Iterator[Check]:
    """The session, the token, its refresh and the portal; stops at the first failure."""
    session = session_of(request)
    login = f"run {login_command(request.sso_profile, session)}"
    scopes = ", ".join(session.scopes) or "none (a legacy setup)"
    yield Check(
        "sso session",
        "ok",
        f"{session.describe()}: {session.start_url} in {session.region}, scopes {scopes}",
    )
    try:
        found = ssotoken.located(session, os.environ)
    except CredprocError as error:
        yield failed("sso token", error)
        return
    token = found[1] if found is not None else None
    mode = tokenfile.loose_mode(found[0]) if found is not None else None
    if found is not None and mode is not None:
        yield Check(
            "sso token file",
            "warn",
            tokenfile.mode_advice(ssotoken.WHAT, found[0], mode).split(": run ", 1)[0],
            f"chmod 600 {found[0]}",
        )
    if token is None:
        where = ssotoken.token_dir(os.environ)
        problem = SsoLoginError(f"{session.describe()} has no token in {where}")
        yield failed("sso token", problem, login)
        return
    until = _utc(token.expires_at)
    if token.seconds_left() > 0:
        left = duration(token.seconds_left())
        yield Check("sso token", "ok", f"valid until {until} ({left} left)")
    elif token.refreshable():
        yield Check("sso token", "warn", f"expired at {until}; the next use refreshes it")
    else:
        yield failed("sso token", SsoLoginError(f"expired at {until}"), login)
        return
    yield _refresh_check(session.name, token, login)
    if token.seconds_left() <= 0:
        return  # the portal would refuse it: the role check's refresh says more
    try:
        endpoint = portal.reach(session.region, token.access_token)
    except CredprocError as error:
        yield failed("sso portal", error, login if isinstance(error, SsoLoginError) else "")
        return
    yield Check("sso portal", "ok", f"{endpoint} answers and takes the token")


def _refresh_check(name: str | None, token: SsoToken, login: str) -> Check:
    """Whether credproc can renew the token without a person (botocore's conditions)."""
    if token.refreshable():
        until = _utc(token.registration_expires_at or 0)
        return Check(
            "sso refresh",
            "ok",
            f"a refresh token, and a client registration until {until}: renewed silently when "
            "less than 15 minutes are left",
        )
    if name is None:
        why = "a legacy setup (sso_start_url in the profile) gets no refresh token"
        fix = "move sso_start_url and sso_region to an [sso-session] section"
    elif not token.refresh_token:
        why = "the token came without a refresh token (a login without sso:account:access)"
        fix = login
    else:
        why = f"the client registration expired at {_utc(token.registration_expires_at or 0)}"
        fix = login
    return Check("sso refresh", "warn", f"not renewable: {why}; a new login when it expires", fix)


def _utc(seconds: float) -> str:
    return format_expiration(datetime.fromtimestamp(seconds, timezone.utc))
