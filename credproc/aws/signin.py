"""AWS Sign-In's token endpoint (botocore's ``signin`` model): ``CreateOAuth2Token``.

``POST /v1/token`` (rest-json, unsigned), its body the ``tokenInput`` member, its answer
``tokenOutput``: the identity's credentials (``accessToken``: accessKeyId, secretAccessKey,
sessionToken), ``expiresIn`` (900 s), a new ``refreshToken`` every time (the old one is spent)
and an ``idToken`` whose subject is the identity's ARN, the profile's ``login_session``. Two
grants:

- ``refresh``: the refresh_token grant, which renews a session (``logintoken`` holds it);
- ``exchange_code``: the authorization_code grant that ends a browser sign-in (``credproc
  login``): the code, the PKCE verifier, the redirect URI and the client id of the flow
  (``SAME_DEVICE`` or ``CROSS_DEVICE``).

Every call carries a DPoP proof (``dpop``) made by the session's key for that very attempt
(a retry gets a new one: a proof's ``jti`` is used once). The call goes through the one client
construction (``boto.make_client``: bounded attempts, one deadline) to the region's endpoint or
``AWS_ENDPOINT_URL_SIGNIN`` / ``AWS_ENDPOINT_URL``, and its failures leave as credproc's errors
(``answers.signin_error``): a session that has ended is LoginRequiredError naming the profile,
an outage is ServiceUnavailableError.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import time
import urllib.parse
from typing import Any

import boto3
import botocore.exceptions
from botocore import UNSIGNED
from botocore.awsrequest import AWSRequest
from botocore.config import Config

from ..errors import ConfigError, ServiceUnavailableError
from .answers import signin_error, translated
from .boto import CLIENT_CONFIG, make_client
from .dpop import ProofKey
from .logintoken import LoginToken
from .sts import _profileless

SERVICE = "AWS Sign-In"
OPERATION = "CreateOAuth2Token"
# The OAuth clients of the AWS CLI's two sign-in flows (aws login, aws login --remote).
SAME_DEVICE = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device"


def client(region: str) -> Any:  # noqa: ANN401 - no stubs for signin
    """An unsigned Sign-In client in ``region`` (the endpoint botocore resolves for it)."""
    session = boto3.Session(botocore_session=_profileless(), region_name=region)
    config = CLIENT_CONFIG.merge(Config(signature_version=UNSIGNED))
    try:
        return make_client(session, "signin", region, config)
    except botocore.exceptions.BotoCoreError as error:
        raise ServiceUnavailableError(f"cannot set up the {SERVICE} client: {error}") from None


def pasted_code(text: str) -> tuple[str, str]:
    """The authorization code and state in what a person pasted from the confirmation page
    (base64 of ``state=...&code=...``, as the AWS CLI reads it); ValueError if it is not one."""
    try:
        decoded = base64.b64decode(text.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("that is not the code the sign-in page showed") from None
    fields = dict(urllib.parse.parse_qsl(decoded))
    if not fields.get("code") or not fields.get("state"):
        raise ValueError("that is not the code the sign-in page showed")
    return fields["code"], fields["state"]


def refresh(token: LoginToken, region: str, profile: str) -> LoginToken:
    """The session renewed: new credentials and a new refresh token, the rest as it was.

    The service spends the old refresh token as it answers: the caller stores the result
    (``logintoken.write``) before anything else, and holds the session's lock around both.
    The token's own ``signInRegion``, where a login wrote one, wins over ``region`` (as in
    botocore)."""
    key = _key(token.dpop_key)
    region = str(token.document.get("signInRegion") or region)
    answer = _create_token(
        region,
        profile,
        key,
        {
            "clientId": token.client_id,
            "grantType": "refresh_token",
            "refreshToken": token.refresh_token,
        },
    )
    output = _output(answer)
    return token._replace(
        access_key_id=output["accessKeyId"],
        secret_access_key=output["secretAccessKey"],
        session_token=output["sessionToken"],
        expires_at=time.time() + int(output["expiresIn"]),
        refresh_token=output["refreshToken"],
    )


def exchange_code(
    *,
    region: str,
    profile: str,
    client_id: str,
    code: str,
    verifier: str,
    redirect_uri: str,
    key: ProofKey,
) -> tuple[LoginToken, str]:
    """The end of a browser sign-in: the new session and its ``login_session`` (the ARN the
    ID token names). ``key`` is the session's new key: it signs this call and every refresh."""
    body = {
        "clientId": client_id,
        "grantType": "authorization_code",
        "code": code,
        "codeVerifier": verifier,
        "redirectUri": redirect_uri,
    }
    output = _output(_create_token(region, profile, key, body))
    login_session = _subject(output["idToken"])
    token = LoginToken(
        access_key_id=output["accessKeyId"],
        secret_access_key=output["secretAccessKey"],
        session_token=output["sessionToken"],
        account_id=login_session.split(":")[4],
        expires_at=time.time() + int(output["expiresIn"]),
        client_id=client_id,
        refresh_token=output["refreshToken"],
        dpop_key=key.to_pem(),
        token_type=output["tokenType"],
        id_token=output["idToken"],
    )
    return token, login_session


def _key(pem: str) -> ProofKey:
    try:
        return ProofKey.from_pem(pem)
    except ValueError as error:
        raise ConfigError(f"the aws login session's {error}; sign in again") from None


def _create_token(region: str, profile: str, key: ProofKey, body: dict[str, str]) -> dict[str, Any]:
    signin = client(region)

    def prove(request: AWSRequest, **_: object) -> None:
        # request-created comes once per attempt: each retry proves itself afresh.
        request.headers["DPoP"] = key.proof(request.method or "POST", request.url or "")

    signin.meta.events.register(f"request-created.signin.{OPERATION}", prove)
    mapper = functools.partial(signin_error, profile=profile)
    try:
        answer: dict[str, Any] = translated(
            SERVICE, OPERATION, lambda: signin.create_o_auth2_token(tokenInput=body), mapper=mapper
        )
    finally:
        signin.close()
    return answer


def _output(answer: dict[str, Any]) -> dict[str, str]:
    """The answer's fields, flat, each a non-empty string (expiresIn a positive number)."""
    try:
        output = answer["tokenOutput"]
        access = output["accessToken"]
        flat = {
            "accessKeyId": access["accessKeyId"],
            "secretAccessKey": access["secretAccessKey"],
            "sessionToken": access["sessionToken"],
            "refreshToken": output["refreshToken"],
            "tokenType": output.get("tokenType") or "aws_sigv4",
            "idToken": output.get("idToken") or "",
        }
        expires_in = int(output["expiresIn"])
    except (KeyError, TypeError, ValueError):
        raise _garbage() from None
    if expires_in <= 0 or not all(
        isinstance(value, str) and value for name, value in flat.items() if name != "idToken"
    ):
        raise _garbage()
    return {**{name: str(value) for name, value in flat.items()}, "expiresIn": str(expires_in)}


def _subject(id_token: str) -> str:
    """The ``sub`` of the ID token (a JWT): the identity's ARN, which names the session. The
    token came straight from the service over TLS; credproc reads it, as the CLI does, without
    checking its signature."""
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        subject = claims["sub"]
    except (IndexError, KeyError, TypeError, ValueError, binascii.Error):
        raise _garbage() from None
    parts = subject.split(":") if isinstance(subject, str) else []
    if len(parts) < 6 or parts[0] != "arn" or not parts[4].isdigit():
        raise _garbage()
    return str(subject)


def _garbage() -> ServiceUnavailableError:
    return ServiceUnavailableError(f"{SERVICE} answered {OPERATION} without its fields")
