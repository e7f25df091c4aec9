"""IAM Identity Center's portal (botocore's ``sso``): a role's credentials for a session's
access token (GetRoleCredentials), the accounts and roles it reaches (ListAccounts,
ListAccountRoles) and the end of the session (Logout). Reached as botocore reaches it: the
region's endpoint, or ``AWS_ENDPOINT_URL_SSO`` / ``AWS_ENDPOINT_URL``."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..config.populate import Assignment
from ..core.credentials import Credentials, Fetched
from ..errors import ServiceUnavailableError
from .answers import sso_error, translated
from .oidc import service_client

PORTAL = "SSO portal"  # how errors name it


def role_credentials(region: str, access_token: str, account_id: str, role_name: str) -> Fetched:
    client = service_client("sso", region)
    try:
        answer: dict[str, Any] = translated(
            PORTAL,
            "GetRoleCredentials",
            lambda: client.get_role_credentials(
                roleName=role_name, accountId=account_id, accessToken=access_token
            ),
            mapper=sso_error,
        )
    finally:
        client.close()
    try:
        role = answer["roleCredentials"]
        expiration = datetime.fromtimestamp(int(role["expiration"]) / 1000, timezone.utc)
        credentials = Credentials.from_dict(
            {
                "AccessKeyId": role["accessKeyId"],
                "SecretAccessKey": role["secretAccessKey"],
                "SessionToken": role["sessionToken"],
                "Expiration": expiration,
            }
        )
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        raise ServiceUnavailableError(
            "the SSO portal answered GetRoleCredentials without usable credentials"
        ) from None
    return Fetched(credentials, 0.0)


def assignments(region: str, access_token: str) -> list[Assignment]:
    """Every account and role the token can reach: ListAccounts, then ListAccountRoles for
    each account, every page of both (``sso populate``)."""
    client = service_client("sso", region)
    found: list[Assignment] = []
    try:
        accounts = _pages(client, "ListAccounts", "accountList", accessToken=access_token)
        for account in accounts:
            account_id, name = _field(account, "accountId"), _field(account, "accountName")
            email = account.get("emailAddress")
            roles = _pages(
                client,
                "ListAccountRoles",
                "roleList",
                accessToken=access_token,
                accountId=account_id,
            )
            found += [
                Assignment(account_id, name, _field(role, "roleName"), str(email or ""))
                for role in roles
            ]
    finally:
        client.close()
    return found


def reach(region: str, access_token: str) -> str:
    """Whether the portal answers and takes the token (one ListAccounts of one row, for
    ``doctor``): its endpoint, or the error a call would meet."""
    client = service_client("sso", region)
    try:
        translated(
            PORTAL,
            "ListAccounts",
            lambda: client.list_accounts(accessToken=access_token, maxResults=1),
            mapper=sso_error,
        )
        return str(client.meta.endpoint_url)
    finally:
        client.close()


def logout(region: str, access_token: str) -> None:
    """End the session at the portal: the access token stops working there, for everyone."""
    client = service_client("sso", region)
    try:
        translated(
            PORTAL, "Logout", lambda: client.logout(accessToken=access_token), mapper=sso_error
        )
    finally:
        client.close()


def _pages(
    client: Any,  # noqa: ANN401 - no stubs for sso
    operation: str,
    member: str,
    **params: str,
) -> list[dict[str, Any]]:
    """Every row of a paginated listing (botocore's paginator follows nextToken)."""
    name = {"ListAccounts": "list_accounts", "ListAccountRoles": "list_account_roles"}[operation]
    pages: list[dict[str, Any]] = translated(
        PORTAL,
        operation,
        lambda: list(client.get_paginator(name).paginate(**params)),
        mapper=sso_error,
    )
    rows: list[dict[str, Any]] = []
    for page in pages:
        listed = page.get(member)
        if not isinstance(listed, list) or not all(isinstance(r, dict) for r in listed):
            raise ServiceUnavailableError(f"the SSO portal answered {operation} without {member}")
        rows += listed
    return rows


def _field(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not value:
        raise ServiceUnavailableError(f"the SSO portal listed an assignment without {name}")
    return value
