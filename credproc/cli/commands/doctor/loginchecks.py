"""doctor's checks of an aws login setup: the profile's session, its file, and what renews
it, for a request that is an aws login identity (or a role assumed from one).

Nothing here signs in: doctor says what a sign-in would fix instead of opening a browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone

from ....aws import dpop, logintoken, tokenfile
from ....core.credentials import format_expiration
from ....core.request import Request
from ....errors import ConfigError, CredprocError, LoginRequiredError
from ....fetch.login import sign_in_command
from ...render import duration
from .checks import Check, failed


def login_checks(request: Request) -> Iterator[Check]:
    """The session, its file and its renewal; stops at the first failure."""
    profile = request.login_profile or "default"
    sign_in = f"run {sign_in_command(profile)}"
    yield Check(
        "login session",
        "ok",
        f"profile {profile!r} signs in as {request.login_session}, Sign-In in "
        f"{request.login_region}",
    )
    if not dpop.available():
        problem = ConfigError(f"renewing it needs the login extra: {dpop.INSTALL_HINT}")
        yield failed("login renewal", problem, dpop.INSTALL_HINT)
        return
    path = logintoken.token_path(request.login_session or "", os.environ)
    try:
        token = logintoken.read(request.login_session or "", os.environ)
    except CredprocError as error:
        yield failed("login file", error, sign_in)
        return
    if token is None:
        yield failed("login file", LoginRequiredError(f"no session in {path}"), sign_in)
        return
    mode = tokenfile.loose_mode(path)
    if mode is not None:  # read all the same, as botocore reads it; the next refresh fixes it
        advice = tokenfile.mode_advice(logintoken.WHAT, path, mode)
        yield Check("login file mode", "warn", advice.split(": run ", 1)[0], f"chmod 600 {path}")
    until = format_expiration(datetime.fromtimestamp(token.expires_at, timezone.utc))
    if token.seconds_left() > 0:
        left = duration(token.seconds_left())
        yield Check("login file", "ok", f"{path}: credentials until {until} ({left} left)")
    else:
        verdict = f"{path}: credentials expired at {until}; the next use renews them"
        yield Check("login file", "warn", verdict)
    yield Check(
        "login renewal",
        "ok",
        f"a refresh token and its key: renewed through AWS Sign-In when "
        f"{logintoken.REFRESH_WINDOW // 60} minutes or less are left, under credproc's lock",
    )
