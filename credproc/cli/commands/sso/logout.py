"""``credproc sso logout``: sign out of an SSO session, at the portal and on this machine.

Under the session's lock (no refresh or login of it runs meanwhile): the portal's Logout ends
the token for everyone who holds a copy; then the token file (both names ``sso login`` and the
CLI use), credproc's client registrations and the record of a failed login are removed, and
credproc's cached credentials of the session's roles are cleared, so the next use of any of
them signs in again. Roles assumed *from* an SSO role (``--source-profile``) are STS sessions
of their own, which Logout does not end: their cache entries stay until they expire.

If the portal cannot be reached, everything local is removed all the same and the command
fails (exit 5) saying that the token stays valid at AWS until its expiry.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone

from ....aws import oidc, portal, ssotoken
from ....config.resolve import cache_dir_from
from ....config.sso import SsoSession
from ....core.cache import Cache
from ....core.credentials import format_expiration
from ....errors import ServiceUnavailableError, SsoLoginError
from .target import chosen_lock_timeout, chosen_session


def run(args: argparse.Namespace) -> int:
    session = chosen_session(args)
    environ = os.environ
    failure: ServiceUnavailableError | None = None
    with ssotoken.session_lock(session, environ, chosen_lock_timeout(args)):
        token = ssotoken.read(session, environ)
        if token is not None and token.seconds_left() > 0:
            try:
                portal.logout(session.region, token.access_token)
            except SsoLoginError:
                pass  # the portal no longer takes the token: that session is over already
            except ServiceUnavailableError as error:
                failure = error
        tokens = ssotoken.remove_tokens(session, environ)
        for flow in (oidc.FLOW_CODE, oidc.FLOW_DEVICE):
            ssotoken.remove(ssotoken.registration_path(session, flow, environ))
        ssotoken.remove(ssotoken.failure_path(session, environ))
    cleared = clear_roles(session, cache_dir_from(args.cache_dir, environ))
    done = (
        f"removed {tokens} token file{'s' if tokens != 1 else ''} and cleared {cleared} cached "
        f"role credential{'s' if cleared != 1 else ''}"
    )
    if failure is not None and token is not None:
        until = format_expiration(datetime.fromtimestamp(token.expires_at, timezone.utc))
        raise ServiceUnavailableError(
            f"signed out of {session.describe()} here ({done}), but the portal's Logout "
            f"failed, so the token stays valid at AWS until {until}: {failure}"
        )
    ended = "the portal ended the session; " if token is not None else "no token was stored; "
    sys.stderr.write(f"credproc: signed out of {session.describe()}: {ended}{done}\n")
    return 0


def clear_roles(session: SsoSession, directory: str) -> int:
    """Remove the cached credentials of the session's roles (GetRoleCredentials): how many."""
    cache = Cache(directory)
    mine = [
        entry.key
        for entry in cache.entries()
        if entry.identity.get("sso_role_name")
        and entry.identity.get("sso_session") == session.name
        and entry.identity.get("sso_start_url") == session.start_url
    ]
    return sum(cache.remove(key) for key in mine)
