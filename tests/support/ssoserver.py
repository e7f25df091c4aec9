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
import contextlib
import hashlib
import json
import secrets
import socket
import string
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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


class ServiceError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


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
class Authorization:
    """One browser sign-in: the authorize request, then the code it redirected with."""

    client_id: str
    redirect_uri: str
    challenge: str
    state: str
    decided: threading.Event = field(default_factory=threading.Event)
    approved: bool = False
    code: str = ""
    used: bool = False


@dataclass
class Account:
    account_id: str
    name: str
    roles: list[str]

    @property
    def email(self) -> str:
        return f"{self.name}@example.com"


class SsoStandIn:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[float, str]] = []  # (time.time(), operation) of every call
        self.faults: dict[str, dict[str, Any]] = {}
        self._fault_seen: Counter[str] = Counter()
        # What the tests may change before (or during) a run.
        self.auto_approve = True  # the authorize page redirects at once
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
        self.authorizations: list[Authorization] = []
        self.access_tokens: dict[str, float] = {}  # live access token -> expiry
        self.refresh_tokens: set[str] = set()  # live refresh tokens (each works once)
        # access key id -> account, role, expiration (ms)
        self.issued_keys: dict[str, dict[str, str]] = {}
        self.user_codes: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def env(self) -> dict[str, str]:
        """The variables that point botocore (and so credproc and the aws CLI) here."""
        return {"AWS_ENDPOINT_URL_SSO_OIDC": self.url, "AWS_ENDPOINT_URL_SSO": self.url}

    # -- the tests' controls ------------------------------------------------------------------

    def fault(self, operation: str, **fault: Any) -> None:
        with self.lock:
            self.faults[operation] = fault
            self._fault_seen[operation] = 0

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def count(self, name: str) -> int:
        with self.lock:
            return self.calls[name]

    def approve(self) -> int:
        """Approve every pending device code and browser sign-in; how many there were."""
        with self.lock:
            devices = [d for d in self.devices.values() if not d.approved]
            for device in devices:
                device.approved = True
            pending = [a for a in self.authorizations if not a.decided.is_set()]
        for authorization in pending:
            authorization.approved = True
            authorization.decided.set()
        return len(devices) + len(pending)

    def deny_browser(self) -> None:
        """The person closes the page or refuses: the redirect carries error=access_denied."""
        with self.lock:
            pending = [a for a in self.authorizations if not a.decided.is_set()]
        for authorization in pending:
            authorization.decided.set()

    def expire_registrations(self) -> None:
        with self.lock:
            for client in self.clients.values():
                client.expires_at = int(time.time()) - 1

    def revoke(self) -> None:
        """The administrator ends every session: tokens and refresh tokens stop working."""
        with self.lock:
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.log.clear()
            self.faults.clear()

    def wait_for_sign_in(self, count: int = 1, timeout: float = 30) -> None:
        """Until ``count`` browser sign-ins are open at the authorize page (bounded): then
        ``approve`` or ``deny_browser`` decides them. (The Authorize count rises a moment
        before the sign-in is there to decide.)"""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.authorizations) >= count:
                    return
            assert time.monotonic() < deadline, f"no sign-in {count} at the authorize page"
            time.sleep(0.02)

    def times(self, name: str) -> list[float]:
        """When each call of ``name`` arrived (time.time()), oldest first."""
        with self.lock:
            return [moment for moment, operation in self.log if operation == name]

    def wait_for(self, name: str, count: int, timeout: float = 30) -> None:
        """Until ``count`` calls of ``name`` arrived (bounded): never a sleep and a hope."""
        deadline = time.monotonic() + timeout
        while self.count(name) < count:
            assert time.monotonic() < deadline, f"{name}: {self.count(name)} of {count} calls"
            time.sleep(0.02)

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
        with self.lock:
            self.authorizations.append(authorization)
        if self.auto_approve:
            authorization.approved = True
            authorization.decided.set()
        authorization.decided.wait(timeout=120)
        if not authorization.approved:
            answer = {"error": "access_denied", "state": authorization.state}
            return f"{redirect}?{urllib.parse.urlencode(answer)}"
        authorization.code = _token("code")
        answer = {"code": authorization.code, "state": authorization.state}
        return f"{redirect}?{urllib.parse.urlencode(answer)}"

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

    def _disturbance(self, operation: str) -> dict[str, Any]:
        """The fault this request of ``operation`` gets, honouring skip and times."""
        with self.lock:
            self.calls[operation] += 1
            self.log.append((time.time(), operation))
            fault = dict(self.faults.get(operation, {}))
            seen = self._fault_seen[operation]
            self._fault_seen[operation] += 1
        skip = int(fault.get("skip", 0))
        times = fault.get("times")
        if seen < skip or (times is not None and seen >= skip + int(times)):
            return {}
        return fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self
        routes = {
            ("POST", "/client/register"): "RegisterClient",
            ("POST", "/device_authorization"): "StartDeviceAuthorization",
            ("POST", "/token"): "CreateToken",
            ("GET", "/authorize"): "Authorize",
            ("GET", "/federation/credentials"): "GetRoleCredentials",
            ("GET", "/assignment/accounts"): "ListAccounts",
            ("GET", "/assignment/roles"): "ListAccountRoles",
            ("POST", "/logout"): "Logout",
        }

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def _dispatch(self, method: str) -> None:
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if parts.path.startswith("/_test/"):
                    self._control(parts.path, raw)
                    return
                operation = routes.get((method, parts.path))
                if operation is None:
                    self._send(404, b'{"message": "no such operation"}', "application/json")
                    return
                fault = stand_in._disturbance(operation)
                time.sleep(float(fault.get("delay", 0)))
                if fault.get("reset"):
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if "body" in fault:
                    body = str(fault["body"]).encode("latin-1")
                    kind = str(fault.get("content_type", "text/html"))
                    self._send(int(fault.get("status", 200)), body, kind)
                    return
                if fault.get("garbage"):
                    self._send(200, b"{{not json at all", "application/json")
                    return
                if "status" in fault:
                    code = str(fault.get("code", "InternalServerException"))
                    self._error(ServiceError(code, "injected by the test"), int(fault["status"]))
                    return
                try:
                    if operation == "Authorize":  # may wait for the test: not under the lock
                        answer: Any = stand_in.authorize(query)
                    else:
                        with stand_in.lock:
                            answer = self._operate(operation, query, raw)
                except ServiceError as error:
                    self._error(error)
                    return
                time.sleep(float(fault.get("delay_after", 0)))
                if operation == "Authorize":
                    self.send_response(302)
                    self.send_header("Location", str(answer))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._send(200, json.dumps(answer or {}).encode(), "application/json")

            def _operate(self, operation: str, query: dict[str, str], raw: bytes) -> Any:
                body: dict[str, Any] = json.loads(raw or b"{}") if raw else {}
                if operation == "RegisterClient":
                    return stand_in.register_client(body)
                if operation == "StartDeviceAuthorization":
                    return stand_in.start_device_authorization(body)
                if operation == "CreateToken":
                    return stand_in.create_token(body)
                if operation == "GetRoleCredentials":
                    return stand_in.get_role_credentials(query, self.headers)
                if operation == "ListAccounts":
                    return stand_in.list_accounts(query, self.headers)
                if operation == "ListAccountRoles":
                    return stand_in.list_account_roles(query, self.headers)
                stand_in.logout(self.headers)
                return None

            def _control(self, path: str, raw: bytes) -> None:
                if path == "/_test/calls":
                    with stand_in.lock:
                        counts = dict(stand_in.calls)
                    self._send(200, json.dumps(counts).encode(), "application/json")
                elif path == "/_test/approve":
                    approved = stand_in.approve()
                    self._send(200, json.dumps({"approved": approved}).encode(), "text/json")
                elif path == "/_test/faults":
                    for operation, fault in json.loads(raw or b"{}").items():
                        stand_in.fault(operation, **fault)
                    self._send(200, b"{}", "application/json")
                else:
                    self._send(404, b"unknown control", "text/plain")

            def _error(self, error: ServiceError, status: int | None = None) -> None:
                if error.kind in OAUTH_ERRORS or error.kind.startswith("Invalid"):
                    oauth = OAUTH_ERRORS.get(error.kind, "invalid_request")
                    document: dict[str, Any] = {"error": oauth, "error_description": str(error)}
                else:  # the portal's errors carry a message
                    document = {"message": str(error)}
                data = json.dumps(document).encode()
                self.send_response(status or STATUS.get(error.kind, 400))
                self.send_header("x-amzn-ErrorType", error.kind)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send(self, status: int, data: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                """Quiet: the tests read the counters."""

        return Handler


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


@contextmanager
def running_sso() -> Iterator[SsoStandIn]:
    stand_in = SsoStandIn()
    thread = threading.Thread(target=stand_in._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        stand_in.approve()  # release any authorize request still waiting
        stand_in._server.shutdown()
        stand_in._server.server_close()
        thread.join(timeout=10)


def main() -> None:
    stand_in = SsoStandIn()
    sys.stdout.write(f"{stand_in._server.server_address[1]}\n")
    sys.stdout.flush()
    stand_in._server.serve_forever()


if __name__ == "__main__":
    main()
