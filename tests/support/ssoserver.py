"""A stand-in for IAM Identity Center on loopback: the OIDC service and the portal.

No local implementation of either exists (moto has none), so this one answers exactly the
request and response shapes of botocore's ``sso-oidc`` and ``sso`` service models (rest-json:
the error code in the ``x-amzn-ErrorType`` header, the modelled members in the body). Point a
process at it the way every SDK allows: ``AWS_ENDPOINT_URL_SSO_OIDC`` and
``AWS_ENDPOINT_URL_SSO`` set to ``SsoStandIn.url`` (see ``env``).

The OIDC service (``oidc`` below):

    POST /client/register        RegisterClient: clientId, clientSecret, their expiry
    POST /device_authorization   StartDeviceAuthorization: deviceCode, userCode, the URIs
    POST /token                  CreateToken: grants authorization_code (PKCE S256 checked),
                                 urn:ietf:params:oauth:grant-type:device_code and refresh_token;
                                 refresh tokens rotate (each works once)
    GET  /authorize              the page the browser is sent to: redirects to redirect_uri with
                                 code and state, at once (``auto_approve``) or when the test
                                 calls ``approve_browser`` (``deny_browser`` sends error=...)

Errors as the service sends them: AuthorizationPendingException until a device code is
approved, SlowDownException when polled sooner than the interval (which then grows by
``slow_down_step`` seconds), ExpiredTokenException for an expired device code,
InvalidGrantException for a used, unknown or revoked code or refresh token,
InvalidClientException for an unknown or expired registration.

The portal: GET /federation/credentials (GetRoleCredentials), GET /assignment/accounts
(ListAccounts), GET /assignment/roles (ListAccountRoles), both paginated by ``page_size``
whatever ``max_result`` asks (fewer if it asks fewer), POST /logout (Logout). A bearer token
that was never issued, has expired or was logged out gets UnauthorizedException; a role not
assigned gets ForbiddenException ("No access"), as the real portal answers.

Role credentials are shaped like STS's (ASIA..., 40-character secret, a session token), so
moto's STS accepts them for signing; ``issued_keys`` lists them, so a test can tell from the
signer of an STS call that credproc used the portal's keys.

Every call is counted (``calls``: by operation, CreateToken also as ``CreateToken:<grant>``,
the authorize page as ``Authorize``), and faults are injected per operation as in
stsserver.py: ``fault("GetRoleCredentials", status=503)``, ``delay``, ``garbage``, ``body``
(+ ``content_type``), ``reset`` (hang up), ``code`` (the error type with ``status``), and
``skip``/``times`` to disturb only some; ``delay_after`` does the work and then waits before
answering (a CreateToken that rotated the refresh token but whose answer never arrives).

Tests in other processes (a BROWSER script, a soak) reach the controls over HTTP:

    GET  /_test/calls            the counters
    POST /_test/approve          approve every pending device code and browser sign-in
    POST /_test/faults           {"CreateToken": {"status": 500}}

Run as a program (``python tests/support/ssoserver.py``) it prints its port and serves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import string
import sys
import time
import urllib.parse
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a program: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.standin import (
    Authorization,
    Reply,
    ServiceError,
    StandIn,
    json_reply,
    running,
    serve,
)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# OAuth's error names beside the AWS error types (the body's "error" member).
OAUTH_ERRORS = {
    "AuthorizationPendingException": "authorization_pending",
    "SlowDownException": "slow_down",
    "ExpiredTokenException": "expired_token",
    "InvalidGrantException": "invalid_grant",
    "InvalidClientException": "invalid_client",
    "InvalidRequestException": "invalid_request",
    "UnsupportedGrantTypeException": "unsupported_grant_type",
    "AccessDeniedException": "access_denied",
    "InternalServerException": "server_error",
}
STATUS = {
    "InvalidClientException": 401,
    "InternalServerException": 500,
    "UnauthorizedException": 401,
    "ForbiddenException": 403,
    "ResourceNotFoundException": 404,
    "TooManyRequestsException": 429,
}


@dataclass
class Client:
    secret: str
    expires_at: int
    scopes: list[str]
    redirect_uris: list[str]


@dataclass
class Device:
    client_id: str
    user_code: str
    expires_at: float
    interval: int
    approved: bool = False
    used: bool = False
    last_poll: float = 0.0


@dataclass
class Account:
    account_id: str
    name: str
    roles: list[str]

    @property
    def email(self) -> str:
        return f"{self.name}@example.com"


class SsoStandIn(StandIn):
    routes = {  # noqa: RUF012 - read only
        ("POST", "/client/register"): "RegisterClient",
        ("POST", "/device_authorization"): "StartDeviceAuthorization",
        ("POST", "/token"): "CreateToken",
        ("GET", "/authorize"): "Authorize",
        ("GET", "/federation/credentials"): "GetRoleCredentials",
        ("GET", "/assignment/accounts"): "ListAccounts",
        ("GET", "/assignment/roles"): "ListAccountRoles",
        ("POST", "/logout"): "Logout",
    }

    def __init__(self) -> None:
        super().__init__()
        # What the tests may change before (or during) a run (and auto_approve).
        self.registration_seconds = 90 * 24 * 3600
        self.token_seconds = 8 * 3600
        self.role_seconds = 3600
        self.device_seconds = 600
        self.interval = 1
        self.slow_down_step = 5
        self.page_size = 2
        self.accounts = [
            Account("111111111111", "Sandbox", ["Developer", "ReadOnly"]),
            Account("222222222222", "Production", ["ReadOnly"]),
        ]
        # State.
        self.clients: dict[str, Client] = {}
        self.devices: dict[str, Device] = {}
        self.access_tokens: dict[str, float] = {}  # live access token -> expiry
        self.refresh_tokens: set[str] = set()  # live refresh tokens (each works once)
        # access key id -> account, role, expiration (ms)
        self.issued_keys: dict[str, dict[str, str]] = {}
        self.user_codes: list[str] = []

    @property
    def env(self) -> dict[str, str]:
        """The variables that point botocore (and so credproc and the aws CLI) here."""
        return {"AWS_ENDPOINT_URL_SSO_OIDC": self.url, "AWS_ENDPOINT_URL_SSO": self.url}

    # -- the tests' controls ------------------------------------------------------------------

    def approve(self) -> int:
        """Approve every pending device code and browser sign-in; how many there were."""
        with self.lock:
            devices = [d for d in self.devices.values() if not d.approved]
            for device in devices:
                device.approved = True
        return len(devices) + super().approve()

    def expire_registrations(self) -> None:
        with self.lock:
            for client in self.clients.values():
                client.expires_at = int(time.time()) - 1

    def revoke(self) -> None:
        """The administrator ends every session: tokens and refresh tokens stop working."""
        with self.lock:
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    # -- the OIDC service ---------------------------------------------------------------------

    def register_client(self, body: dict[str, Any]) -> dict[str, Any]:
        _require(body, "clientName", "clientType")
        if body["clientType"] != "public":
            raise ServiceError("InvalidClientMetadataException", "clientType must be public")
        client_id = _token("client")
        expires = int(time.time()) + self.registration_seconds
        self.clients[client_id] = Client(
            secret=_token("secret"),
            expires_at=expires,
            scopes=list(body.get("scopes") or []),
            redirect_uris=list(body.get("redirectUris") or []),
        )
        return {
            "clientId": client_id,
            "clientSecret": self.clients[client_id].secret,
            "clientIdIssuedAt": int(time.time()),
            "clientSecretExpiresAt": expires,
        }

    def _client(self, body: dict[str, Any]) -> Client:
        client = self.clients.get(str(body.get("clientId")))
        if client is None or client.secret != body.get("clientSecret"):
            raise ServiceError("InvalidClientException", "unknown client")
        if client.expires_at < time.time():
            raise ServiceError("InvalidClientException", "the client registration has expired")
        return client

    def start_device_authorization(self, body: dict[str, Any]) -> dict[str, Any]:
        _require(body, "clientId", "clientSecret", "startUrl")
        self._client(body)
        device_code = _token("device")
        user_code = "".join(secrets.choice(string.ascii_uppercase) for _ in range(8))
        user_code = f"{user_code[:4]}-{user_code[4:]}"
        self.devices[device_code] = Device(
            client_id=body["clientId"],
            user_code=user_code,
            expires_at=time.time() + self.device_seconds,
            interval=self.interval,
        )
        self.user_codes.append(user_code)
        uri = f"{self.url}/device"
        return {
            "deviceCode": device_code,
            "userCode": user_code,
            "verificationUri": uri,
            "verificationUriComplete": f"{uri}?user_code={user_code}",
            "expiresIn": self.device_seconds,
            "interval": self.interval,
        }

    def create_token(self, body: dict[str, Any]) -> dict[str, Any]:
        _require(body, "clientId", "clientSecret", "grantType")
        client = self._client(body)
        grant = body["grantType"]
        self.calls[f"CreateToken:{grant}"] += 1
        if grant == DEVICE_GRANT:
            self._device_grant(body)
        elif grant == "authorization_code":
            self._code_grant(body)
        elif grant == "refresh_token":
            if body.get("refreshToken") not in self.refresh_tokens:
                raise ServiceError("InvalidGrantException", "refresh token is invalid")
            self.refresh_tokens.discard(body["refreshToken"])  # rotation: it worked once
        else:
            raise ServiceError("UnsupportedGrantTypeException", f"grant {grant}")
        access = _token("access")
        self.access_tokens[access] = time.time() + self.token_seconds
        answer: dict[str, Any] = {
            "accessToken": access,
            "tokenType": "Bearer",
            "expiresIn": self.token_seconds,
        }
        if "sso:account:access" in client.scopes:  # the scope that earns a refresh token
            answer["refreshToken"] = _token("refresh")
            self.refresh_tokens.add(answer["refreshToken"])
        return answer

    def _device_grant(self, body: dict[str, Any]) -> None:
        device = self.devices.get(str(body.get("deviceCode")))
        if device is None or device.used or device.client_id != body["clientId"]:
            raise ServiceError("InvalidGrantException", "unknown device code")
        now = time.time()
        if device.expires_at < now:
            raise ServiceError("ExpiredTokenException", "the device code has expired")
        too_soon = now - device.last_poll < device.interval
        device.last_poll = now
        if too_soon:
            device.interval += self.slow_down_step
            self.calls["SlowDown"] += 1
            raise ServiceError("SlowDownException", "polling too fast")
        if not device.approved:
            raise ServiceError("AuthorizationPendingException", "not yet approved")
        device.used = True

    def _code_grant(self, body: dict[str, Any]) -> None:
        found = [a for a in self.authorizations if a.code and a.code == body.get("code")]
        if not found or found[0].used or found[0].client_id != body["clientId"]:
            raise ServiceError("InvalidGrantException", "unknown authorization code")
        authorization = found[0]
        if body.get("redirectUri") != authorization.redirect_uri:
            raise ServiceError("InvalidGrantException", "redirect_uri does not match")
        if _challenge(str(body.get("codeVerifier", ""))) != authorization.challenge:
            raise ServiceError("InvalidGrantException", "code_verifier does not match")
        authorization.used = True

    def authorize(self, query: dict[str, str]) -> str:
        """The redirect the browser follows (the Location header), once decided."""
        with self.lock:
            client = self.clients.get(query.get("client_id", ""))
        redirect = query.get("redirect_uri", "")
        if client is None or client.expires_at < time.time():
            raise ServiceError("InvalidClientException", "unknown client")
        if not _loopback_match(redirect, client.redirect_uris):
            raise ServiceError("InvalidRequestException", "redirect_uri not registered")
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256":
            raise ServiceError("InvalidRequestException", "response_type code with S256 only")
        authorization = Authorization(
            client_id=query["client_id"],
            redirect_uri=redirect,
            challenge=query.get("code_challenge", ""),
            state=query.get("state", ""),
        )
        return self.sign_in(authorization)

    # -- the portal ---------------------------------------------------------------------------

    def _bearer(self, headers: Any) -> str:
        token = str(headers.get("x-amz-sso_bearer_token") or "")
        if not token:
            raise ServiceError("InvalidRequestException", "x-amz-sso_bearer_token is required")
        if self.access_tokens.get(token, 0) < time.time():
            raise ServiceError("UnauthorizedException", "Session token not found or invalid")
        return token

    def get_role_credentials(self, query: dict[str, str], headers: Any) -> dict[str, Any]:
        self._bearer(headers)
        account = next((a for a in self.accounts if a.account_id == query.get("account_id")), None)
        role = query.get("role_name", "")
        if account is None or role not in account.roles:
            raise ServiceError("ForbiddenException", "No access")
        key_id = "ASIA" + "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)
        )
        expiration = int((time.time() + self.role_seconds) * 1000)
        self.issued_keys[key_id] = {
            "account_id": account.account_id,
            "role_name": role,
            "expiration": str(expiration),  # milliseconds, as the portal states it
        }
        return {
            "roleCredentials": {
                "accessKeyId": key_id,
                "secretAccessKey": secrets.token_urlsafe(30)[:40],
                "sessionToken": "FwoGZXIvYXdzE" + secrets.token_urlsafe(120),
                "expiration": expiration,
            }
        }

    def list_accounts(self, query: dict[str, str], headers: Any) -> dict[str, Any]:
        self._bearer(headers)
        rows = [
            {"accountId": a.account_id, "accountName": a.name, "emailAddress": a.email}
            for a in self.accounts
        ]
        page, token = self._page(rows, query)
        return {"accountList": page, **token}

    def list_account_roles(self, query: dict[str, str], headers: Any) -> dict[str, Any]:
        self._bearer(headers)
        account = next((a for a in self.accounts if a.account_id == query.get("account_id")), None)
        if account is None:
            raise ServiceError("ResourceNotFoundException", "no such account")
        rows = [{"roleName": r, "accountId": account.account_id} for r in account.roles]
        page, token = self._page(rows, query)
        return {"roleList": page, **token}

    def _page(
        self, rows: list[dict[str, str]], query: dict[str, str]
    ) -> tuple[list[dict[str, str]], dict[str, str]]:
        start = int(query.get("next_token") or 0)
        size = min(self.page_size, int(query.get("max_result") or self.page_size))
        end = start + size
        return rows[start:end], ({"nextToken": str(end)} if end < len(rows) else {})

    def logout(self, headers: Any) -> None:
        token = self._bearer(headers)
        self.access_tokens.pop(token, None)

    # -- HTTP ---------------------------------------------------------------------------------

    def operate(self, operation: str, query: dict[str, str], raw: bytes, headers: Any) -> Reply:
        if operation == "Authorize":  # may wait for the test: not under the lock
            return Reply(302, content_type="", headers={"Location": self.authorize(query)})
        body: dict[str, Any] = json.loads(raw or b"{}") if raw else {}
        with self.lock:
            if operation == "RegisterClient":
                answer: Any = self.register_client(body)
            elif operation == "StartDeviceAuthorization":
                answer = self.start_device_authorization(body)
            elif operation == "CreateToken":
                answer = self.create_token(body)
            elif operation == "GetRoleCredentials":
                answer = self.get_role_credentials(query, headers)
            elif operation == "ListAccounts":
                answer = self.list_accounts(query, headers)
            elif operation == "ListAccountRoles":
                answer = self.list_account_roles(query, headers)
            else:
                self.logout(headers)
                answer = None
        return json_reply(answer or {})

    def injected(self, fault: dict[str, Any]) -> ServiceError:
        kind = str(fault.get("code", "InternalServerException"))
        return ServiceError(kind, "injected by the test")

    def error_reply(self, error: ServiceError, status: int | None = None) -> Reply:
        if error.kind in OAUTH_ERRORS or error.kind.startswith("Invalid"):
            oauth = OAUTH_ERRORS.get(error.kind, "invalid_request")
            document: dict[str, Any] = {"error": oauth, "error_description": str(error)}
        else:  # the portal's errors carry a message
            document = {"message": str(error)}
        return Reply(
            status or STATUS.get(error.kind, 400),
            json.dumps(document).encode(),
            headers={"x-amzn-ErrorType": error.kind},
        )


def _require(body: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if not body.get(name)]
    if missing:
        raise ServiceError("InvalidRequestException", f"missing {', '.join(missing)}")


def _token(kind: str) -> str:
    return f"{kind}-{secrets.token_urlsafe(24)}"


def _challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _loopback_match(redirect: str, registered: list[str]) -> bool:
    """RFC 8252: a loopback redirect matches a registered one whatever its port."""
    parts = urllib.parse.urlsplit(redirect)
    if parts.hostname != "127.0.0.1":
        return False
    for uri in registered:
        want = urllib.parse.urlsplit(uri)
        if (want.scheme, want.hostname, want.path) == (parts.scheme, parts.hostname, parts.path):
            return True
    return False


def running_sso() -> AbstractContextManager[SsoStandIn]:
    return running(SsoStandIn())


if __name__ == "__main__":
    serve(SsoStandIn())
