"""Where a person signs in for ``aws login``: the Sign-In service's origin, the authorize link
of each flow, and the code the cross-device page shows.

The origin is found exactly as the AWS CLI finds it: botocore's ``signin`` client resolves its
token endpoint (the region's, from the service's endpoint rules, or ``AWS_ENDPOINT_URL_SIGNIN``
/ ``AWS_ENDPOINT_URL``), a call is stopped before it is sent, and its URL's scheme and host are
kept. ``client.meta.endpoint_url`` would not do: it is the legacy resolver's guess
(``signin.REGION.amazonaws.com``), not where the rules send the call
(``REGION.signin.aws.amazon.com``).

The link carries what the CLI's carries: ``response_type=code``, the client id of the flow,
``state``, the PKCE challenge with ``code_challenge_method=SHA-256``, ``scope=openid`` and
the redirect URI: credproc's loopback callback for the same device, the service's own
confirmation page for another device, which shows a code to paste back. That code is
base64 of ``state=...&code=...``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import botocore.exceptions
from botocore.awsrequest import AWSResponse, HTTPHeaders

from ..errors import ConfigError, LoginRequiredError
from . import signin

CONFIRMATION_PATH = "/v1/sessions/confirmation"


def origin(region: str) -> str:
    """``https://REGION.signin.aws.amazon.com``, or the endpoint the environment names."""
    client = signin.client(region)
    found: dict[str, str] = {}

    def stop(params: dict[str, Any], **_: object) -> tuple[AWSResponse, dict[str, Any]]:
        url = urllib.parse.urlsplit(str(params.get("url") or ""))
        found["origin"] = f"{url.scheme}://{url.netloc}"
        return AWSResponse(found["origin"], 200, HTTPHeaders(), None), {}  # never sent

    client.meta.events.register("before-call.signin.CreateOAuth2Token", stop)
    try:
        client.create_o_auth2_token(tokenInput={"clientId": " ", "grantType": " "})
    except botocore.exceptions.BotoCoreError as error:
        raise ConfigError(f"cannot find the Sign-In endpoint of {region}: {error}") from None
    finally:
        client.close()
    if "://" not in found.get("origin", "://") or found["origin"].endswith("://"):
        raise ConfigError(f"cannot find the Sign-In endpoint of {region}")
    return found["origin"]


def confirmation_uri(base: str) -> str:
    """The cross-device flow's redirect: the service's page that shows the code."""
    return base + CONFIRMATION_PATH


def authorize_url(base: str, client_id: str, redirect_uri: str, state: str, challenge: str) -> str:
    """The page a browser opens to sign in, on the Sign-In origin ``base``."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "state": state,
        "code_challenge_method": "SHA-256",
        "scope": "openid",
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
    }
    encoded = urllib.parse.urlencode(query, quote_via=urllib.parse.quote, safe="-_.~")
    return f"{base}/v1/authorize?{encoded}"


def pasted_code(text: str, state: str) -> str:
    """The authorization code in what the person pasted from the confirmation page (read by
    ``signin.pasted_code``); the one line error when it is not that page's code, or is
    another sign-in's (its state)."""
    try:
        code, pasted_state = signin.pasted_code(text)
    except ValueError:
        raise LoginRequiredError(
            "that is not the code the sign-in page shows (paste it whole); run again to retry"
        ) from None
    if pasted_state != state:
        raise LoginRequiredError(
            "that code is from another sign-in (open the link this run printed); run again"
        )
    return code
