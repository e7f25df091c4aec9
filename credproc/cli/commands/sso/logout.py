"""``credproc sso logout``: sign out of an SSO session, at the portal and on this machine.

Under the session's lock (no refresh or login of it runs meanwhile): the portal's Logout ends
the token for everyone who holds a copy; then the token file (both names ``sso login`` and the
CLI use, at any mode), credproc's client registrations and the record of a failed login are
removed, and the cached credentials of the session's roles are cleared: credproc's own and the
AWS CLI v2's in ``~/.aws/cli/cache`` (what ``aws sso logout`` removes, for this session), so
the next use of any of them signs in again. Roles assumed *from* an SSO role
(``--source-profile``) are STS sessions of their own, which Logout does not end: their cache
entries stay until they expire.

What it says is what happened: whether a Logout reached the portal (and what it answered), or
why none was sent; which files were removed; and a file it left (not a token of the user's).
If the portal cannot be reached, everything local is removed all the same and the command
fails (exit 5) saying that the token stays valid at AWS until its expiry.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone

from ....aws import clicache, oidc, portal, ssotoken
from ....config.resolve import cache_dir_from
from ....config.sso import SsoSession
from ....core.cache import Cache
from ....core.credentials import format_expiration
from ....errors import ConfigError, ServiceUnavailableError, SsoLoginError
from .target import chosen_lock_timeout, chosen_session


def run(args: argparse.Namespace) -> int:
    session = chosen_session(args)
    environ = os.environ
    failure: ServiceUnavailableError | None = None
    with ssotoken.session_lock(session, environ, chosen_lock_timeout(args)):
        token = ssotoken.read(session, environ, say_mode=False)  # removed below, whatever its mode
        if token is None:
            ended = "no token of it was stored here, so no Logout was sent"
        elif token.seconds_left() <= 0:
            ended = "its token had expired, so no Logout was sent"
        else:
            try:
                portal.logout(session.region, token.access_token)
                ended = "the IAM Identity Center portal ended the session (Logout)"
            except SsoLoginError:
                ended = "the IAM Identity Center portal no longer took the token (Logout)"
            except ServiceUnavailableError as error:
                failure = error
                ended = ""
        left = ssotoken.foreign(ssotoken.token_path(session, environ))
        try:
            tokens = ssotoken.remove_tokens(session, environ)
            for flow in (oidc.FLOW_CODE, oidc.FLOW_DEVICE):
                ssotoken.remove(ssotoken.registration_path(session, flow, environ))
            ssotoken.remove(ssotoken.failure_path(session, environ))
        except OSError as error:
            raise ConfigError(
                f"cannot remove the token of {session.describe()}: {error.strerror or error}"
            ) from None
    cleared, roles = clear_roles(session, cache_dir_from(args.cache_dir, environ))
    roles |= clicache.configured_roles(session, environ)
    try:
        cli = clicache.remove_sso_roles(session, roles, environ)
    except OSError as error:
        raise ConfigError(
            f"cannot remove the AWS CLI's cached role credentials of {session.describe()}: "
            f"{error.strerror or error}"
        ) from None
    done = (
        f"removed {_count(tokens, 'token file')}, {_count(cleared, 'cached role credential')} "
        f"of credproc's and {_count(len(cli), 'cached role credential')} of the AWS CLI's "
        f"(in {clicache.cache_dir(environ)})"
    )
    if left is not None:
        done += f"; left {ssotoken.token_path(session, environ)}: {left}"
    if failure is not None and token is not None:
        until = format_expiration(datetime.fromtimestamp(token.expires_at, timezone.utc))
        raise ServiceUnavailableError(
            f"signed out of {session.describe()} here ({done}), but the IAM Identity Center "
            f"portal's Logout failed, so the token stays valid at AWS until {until}: {failure}"
        )
    sys.stderr.write(f"credproc: signed out of {session.describe()}: {ended}; {done}\n")
    return 0


def _count(number: int, what: str) -> str:
    return f"{number} {what}{'s' if number != 1 else ''}"


def clear_roles(session: SsoSession, directory: str) -> tuple[int, set[tuple[str, str]]]:
    """Remove the cached credentials of the session's roles (GetRoleCredentials): how many,
    and the (account, role) of each."""
    cache = Cache(directory)
    mine = [
        entry
        for entry in cache.entries()
        if entry.identity.get("sso_role_name")
        and entry.identity.get("sso_session") == session.name
        and entry.identity.get("sso_start_url") == session.start_url
    ]
    roles = {
        (str(entry.identity.get("sso_account_id")), str(entry.identity.get("sso_role_name")))
        for entry in mine
    }
    return sum(cache.remove(entry.key) for entry in mine), roles
