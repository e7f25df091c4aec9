"""The AWS CLI v2's cache of SSO role credentials: ``~/.aws/cli/cache``.

For a profile with botocore's ``sso_account_id`` and ``sso_role_name``, the CLI v2 keeps the
role credentials GetRoleCredentials gave in ``<sha1 hex>.json``, named after the compact
sorted JSON of ``accountId``, ``roleName`` and ``sessionName`` (``startUrl`` in place of the
session for a legacy profile), holding ``{"ProviderType": "sso", "Credentials": {...}}``.
``aws sso logout`` removes every such file whose ``ProviderType`` is ``sso``; credproc's
``sso logout`` removes those of one session: the names of the roles the session reaches in
the AWS config or in credproc's cache, whose file says ``sso``. Anything else there (assumed
roles, other sessions' roles, another shape) is left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping

from ..config.awsconfig import config_profiles
from ..config.sso import SsoSession
from .ssotoken import MAX_TOKEN_BYTES
from .tokenfile import own_json


def cache_dir(environ: Mapping[str, str]) -> str:
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".aws", "cli", "cache")


def file_name(session: SsoSession, account_id: str, role_name: str) -> str:
    """The file the CLI v2 keeps a role's credentials in (botocore's SSOCredentialFetcher)."""
    what = {"accountId": account_id, "roleName": role_name}
    if session.name:
        what["sessionName"] = session.name
    else:
        what["startUrl"] = session.start_url
    text = json.dumps(what, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest() + ".json"


def configured_roles(session: SsoSession, environ: Mapping[str, str]) -> set[tuple[str, str]]:
    """(account, role) of every profile in the AWS config that uses the session."""
    roles = set()
    for keys in config_profiles(environ).values():
        if session.name:
            if keys.get("sso_session") != session.name:
                continue
        elif keys.get("sso_session") or keys.get("sso_start_url") != session.start_url:
            continue
        account = keys.get("sso_account_id") or keys.get("credproc_sso_account_id")
        role = keys.get("sso_role_name") or keys.get("credproc_sso_role_name")
        if account and role:
            roles.add((account, role))
    return roles


def remove_sso_roles(
    session: SsoSession, roles: Iterable[tuple[str, str]], environ: Mapping[str, str]
) -> list[str]:
    """Remove the CLI's cached credentials of these roles of the session: the paths removed."""
    directory = cache_dir(environ)
    removed = []
    for account, role in sorted(set(roles)):
        path = os.path.join(directory, file_name(session, account, role))
        found = own_json(path, MAX_TOKEN_BYTES)
        if found is not None and found[0].get("ProviderType") == "sso":
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                removed.append(path)
    return removed
