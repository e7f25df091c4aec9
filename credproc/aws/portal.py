"""IAM Identity Center's portal (botocore's ``sso``): a role's credentials for a session's
access token (GetRoleCredentials). Reached as botocore reaches it: the region's endpoint, or
``AWS_ENDPOINT_URL_SSO`` / ``AWS_ENDPOINT_URL``."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..core.credentials import Credentials, Fetched
from ..errors import StsUnavailableError
from .answers import sso_error, translated
from .oidc import service_client


def role_credentials(region: str, access_token: str, account_id: str, role_name: str) -> Fetched:
    client = service_client("sso", region)
    try:
        answer: dict[str, Any] = translated(
            "SSO portal",
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
        raise StsUnavailableError(
            "the SSO portal answered GetRoleCredentials without usable credentials"
        ) from None
    return Fetched(credentials, 0.0)
