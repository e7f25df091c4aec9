"""IAM Identity Center's OIDC service (botocore's ``sso-oidc``): client registration, the
device authorization, and CreateToken with its three grants.

Calls are unsigned (the service takes none) and go wherever botocore sends them: the region's
endpoint, or ``AWS_ENDPOINT_URL_SSO_OIDC`` / ``AWS_ENDPOINT_URL``, through the one client
construction (``boto.make_client``: bounded attempts, a deadline). Errors leave as credproc's
(``answers.sso_error``): a refusal that only a new login cures is SsoLoginError;
AuthorizationPending and SlowDown, which a device flow waits out, are answers here, not errors.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import TYPE_CHECKING, Any, NamedTuple

import boto3
import botocore.exceptions
from botocore import UNSIGNED
from botocore.config import Config

from ..config.sso import SsoSession
from ..errors import ServiceUnavailableError
from .answers import sso_error, translated
from .boto import CLIENT_CONFIG, make_client
from .ssotoken import Registration, SsoToken
from .sts import _profileless

if TYPE_CHECKING:
    from collections.abc import Callable

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# The redirect URI a client registers for the authorization-code flow: a loopback one, whose
# port may differ at each login (RFC 8252, section 7.3), as the AWS CLI v2 registers it.
REDIRECT_URI = "http://127.0.0.1/oauth/callback"
FLOW_DEVICE, FLOW_CODE = "device", "code"


class Granted(NamedTuple):
    """CreateToken's answer."""

    access_token: str
    expires_at: float
    refresh_token: str | None


class Device(NamedTuple):
    """StartDeviceAuthorization's answer: what the person is shown, and how to poll."""

    device_code: str
    user_code: str
    uri: str
    uri_complete: str
    expires_at: float
    interval: int


def service_client(service: str, region: str) -> Any:  # noqa: ANN401 - no stubs for sso*
    """An unsigned client of ``service`` ("sso-oidc" or "sso") in ``region``."""
    session = boto3.Session(botocore_session=_profileless(), region_name=region)
    config = CLIENT_CONFIG.merge(Config(signature_version=UNSIGNED))
    try:
        return make_client(session, service, region, config)
    except botocore.exceptions.BotoCoreError as error:
        raise ServiceUnavailableError(f"cannot set up the {service} client: {error}") from None


OIDC = "SSO OIDC service"


def _call(session: SsoSession, operation: str, call: Callable[[Any], Any]) -> dict[str, Any]:
    client = service_client("sso-oidc", session.region)
    try:
        answer: dict[str, Any] = translated(OIDC, operation, lambda: call(client), mapper=sso_error)
    finally:
        client.close()
    return answer


def register(session: SsoSession, flow: str) -> Registration:
    params: dict[str, Any] = {"clientName": "credproc", "clientType": "public"}
    if session.scopes:
        params["scopes"] = list(session.scopes)
    if flow == FLOW_CODE:
        params.update(
            grantTypes=["authorization_code", "refresh_token"],
            redirectUris=[REDIRECT_URI],
            issuerUrl=session.start_url,
        )
    answer = _call(session, "RegisterClient", lambda client: client.register_client(**params))
    try:
        return Registration(
            str(answer["clientId"]),
            str(answer["clientSecret"]),
            float(answer["clientSecretExpiresAt"]),
        )
    except (KeyError, TypeError, ValueError):
        raise _garbage("RegisterClient") from None


def start_device(session: SsoSession, registration: Registration) -> Device:
    answer = _call(
        session,
        "StartDeviceAuthorization",
        lambda client: client.start_device_authorization(
            clientId=registration.client_id,
            clientSecret=registration.client_secret,
            startUrl=session.start_url,
        ),
    )
    try:
        uri = str(answer["verificationUri"])
        return Device(
            device_code=str(answer["deviceCode"]),
            user_code=str(answer["userCode"]),
            uri=uri,
            uri_complete=str(answer.get("verificationUriComplete") or uri),
            expires_at=time.time() + int(answer["expiresIn"]),
            interval=max(int(answer.get("interval") or 5), 1),
        )
    except (KeyError, TypeError, ValueError):
        raise _garbage("StartDeviceAuthorization") from None


PENDING, SLOW_DOWN = "pending", "slow_down"


def poll_device(session: SsoSession, registration: Registration, device: Device) -> Granted | str:
    """One CreateToken with the device code: the token, or PENDING / SLOW_DOWN."""
    client = service_client("sso-oidc", session.region)

    def poll() -> dict[str, Any] | str:
        try:
            answer: dict[str, Any] = client.create_token(
                clientId=registration.client_id,
                clientSecret=registration.client_secret,
                grantType=DEVICE_GRANT,
                deviceCode=device.device_code,
            )
        except client.exceptions.AuthorizationPendingException:
            return PENDING
        except client.exceptions.SlowDownException:
            return SLOW_DOWN
        return answer

    try:
        answer = translated(OIDC, "CreateToken", poll, mapper=sso_error)
    finally:
        client.close()
    return answer if isinstance(answer, str) else _granted(answer)


# What a registration the service no longer knows is refused with (an unknown client id, a
# secret that does not match, one it has expired or revoked): a new registration cures it.
DEAD_REGISTRATION = ("InvalidClientException", "UnauthorizedClientException")


def registration_known(session: SsoSession, registration: Registration) -> bool:
    """Whether the service still knows the client, asked before a browser is sent to its
    authorize page with it (where an unknown client ends in an error page credproc cannot
    see): CreateToken with a code that was never issued, which the service refuses with
    InvalidGrantException for a client it knows, and InvalidClientException otherwise."""
    client = service_client("sso-oidc", session.region)

    def probe() -> bool:
        try:
            client.create_token(
                clientId=registration.client_id,
                clientSecret=registration.client_secret,
                grantType="authorization_code",
                code="credproc-registration-check",
                redirectUri=REDIRECT_URI,
                codeVerifier="credproc-registration-check-" + "0" * 20,
            )
        except botocore.exceptions.ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in DEAD_REGISTRATION:
                return False
            if code in ("InvalidGrantException", "InvalidRequestException"):
                return True  # the client passed; the made-up code did not
            raise
        return True

    try:
        known: bool = translated(OIDC, "CreateToken", probe, mapper=sso_error)
    finally:
        client.close()
    return known


def exchange_code(
    session: SsoSession, registration: Registration, code: str, redirect_uri: str, verifier: str
) -> Granted:
    return _create_token(
        session,
        clientId=registration.client_id,
        clientSecret=registration.client_secret,
        grantType="authorization_code",
        code=code,
        redirectUri=redirect_uri,
        codeVerifier=verifier,
    )


def refresh(session: SsoSession, token: SsoToken) -> Granted:
    """CreateToken with the refresh_token grant. The service may rotate the refresh token: the
    old one is then dead, so the caller stores the answer before anything else."""
    return _create_token(
        session,
        clientId=token.client_id or "",
        clientSecret=token.client_secret or "",
        grantType="refresh_token",
        refreshToken=token.refresh_token or "",
    )


def _create_token(session: SsoSession, **params: str) -> Granted:
    return _granted(_call(session, "CreateToken", lambda client: client.create_token(**params)))


def authorize_url(
    session: SsoSession, registration: Registration, redirect_uri: str, state: str, challenge: str
) -> str:
    """The page a browser opens for the authorization-code flow, on the OIDC endpoint."""
    client = service_client("sso-oidc", session.region)
    endpoint = client.meta.endpoint_url.rstrip("/")
    client.close()
    query = {
        "response_type": "code",
        "client_id": registration.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge_method": "S256",
        "code_challenge": challenge,
        "scopes": " ".join(session.scopes),
    }
    return f"{endpoint}/authorize?{urllib.parse.urlencode(query)}"


def _granted(answer: dict[str, Any]) -> Granted:
    try:
        access = str(answer["accessToken"])
        expires_in = int(answer["expiresIn"])
    except (KeyError, TypeError, ValueError):
        raise _garbage("CreateToken") from None
    if not access or expires_in <= 0:
        raise _garbage("CreateToken")
    return Granted(access, time.time() + expires_in, answer.get("refreshToken") or None)


def _garbage(operation: str) -> ServiceUnavailableError:
    return ServiceUnavailableError(f"SSO OIDC service answered {operation} without its fields")
