"""A stand-in for AWS Sign-In on loopback: the token endpoint and the browser's sign-in page.

No local implementation exists (moto has none), so this one answers exactly the shapes of
botocore's ``signin`` model (rest-json: the error type in the ``x-amzn-ErrorType`` header, the
body ``{"error": <OAuth2ErrorCode>, "message": ...}``). Point a process at it as every SDK
allows: ``AWS_ENDPOINT_URL_SIGNIN`` set to ``SignInStandIn.url`` (see ``env``).

    POST /v1/token               CreateOAuth2Token (``tokenInput`` is the body): grants
                                 refresh_token and authorization_code (PKCE checked)
    GET  /v1/authorize           the browser's sign-in: signs in ``identity`` and redirects to
                                 redirect_uri with code and state, at once (``auto_approve``)
                                 or when the test calls ``approve`` (``deny_browser``: error=)
    GET  /v1/sessions/confirmation   the cross-device flow's last page: the code to paste back
                                 (base64 of ``state=...&code=...``, as the AWS CLI reads it)

Every token call must carry a DPoP proof (RFC 9449) that verifies: ES256 over the header's
``jwk`` (P-256), ``typ`` dpop+jwt, ``htm`` POST, ``htu`` this server's /v1/token, ``iat``
within ``iat_window`` seconds, a ``jti`` never seen before; and a session's refresh token is
bound to the key that signed its sign-in (as RFC 9449 binds a public client's refresh token).
A call that fails any check gets ValidationException (``INVALID_REQUEST``) and is counted as
``BadProof``.

Refresh tokens rotate: each works once; a spent or unknown one gets AccessDeniedException
``TOKEN_EXPIRED``, as does a session past ``session_seconds`` or ``revoke``d;
``change_password`` ends every session with ``USER_CREDENTIALS_CHANGED``; ``deny_permission``
answers ``INSUFFICIENT_PERMISSIONS``; an authorization code older than ``code_seconds`` gets
``AUTHCODE_EXPIRED``.

The credentials it issues are shaped like STS's (ASIA..., a 40-character secret, a session
token), so moto's STS accepts them for signing; ``issued_keys`` maps each key id to the
identity, so a test can tell from the signer of an STS call whose credentials were used.
``session_document`` makes the file ``aws login`` would have written, for a session this
stand-in knows.

Every call is counted (``calls``: CreateOAuth2Token, also as ``CreateOAuth2Token:<grant>``,
and Authorize), and faults are injected as in stsserver.py and ssoserver.py:
``fault("CreateOAuth2Token", status=503)``, ``delay``, ``garbage``, ``body`` (+
``content_type``), ``reset`` (hang up), ``code`` and ``error`` (the error type and OAuth code,
with ``status``), ``skip``/``times``; ``delay_after`` does the work and then waits before
answering (a refresh that rotated the token but whose answer never arrives).

Tests in other processes reach the controls over HTTP: ``GET /_test/calls``, ``POST
/_test/approve``, ``POST /_test/faults`` (``{"CreateOAuth2Token": {"status": 500}}``). Run
as a program (``python tests/support/signinserver.py``) it prints its port and serves.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import string
import sys
import time
import urllib.parse
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

if __package__ in (None, ""):  # run as a program: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support import standin
from support.standin import Authorization, Reply, StandIn, json_reply, running, serve

SAME_DEVICE = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device"
IDENTITY = "arn:aws:iam::111111111111:user/console-dev"
OPERATION = "CreateOAuth2Token"
# The status each of the model's errors is sent with (AccessDeniedException has none in the
# model: botocore's default, 400).
STATUS = {
    "AccessDeniedException": 400,
    "ValidationException": 400,
    "TooManyRequestsError": 429,
    "InternalServerException": 500,
}


class ServiceError(standin.ServiceError):
    def __init__(self, kind: str, error: str, message: str) -> None:
        super().__init__(kind, message)
        self.error = error  # the OAuth2ErrorCode in the body


@dataclass
class Session:
    """One signed-in session: whose, bound to which DPoP key, until when."""

    identity: str
    thumbprint: str
    expires_at: float
    ended: str = ""  # the OAuth error that refuses it from now on


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: the SHA-256 of the key's required members, sorted, compact."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode())
    return b64url(digest.digest())


def new_key_pem() -> tuple[str, str]:
    """A new P-256 key as the AWS CLI stores it (SEC1 PEM), and its JWK thumbprint."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")
    return pem, key_thumbprint(pem)


def key_thumbprint(pem: str) -> str:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    numbers = key.public_key().public_numbers()
    return thumbprint(
        {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }
    )


class SignInStandIn(StandIn):
    routes = {  # noqa: RUF012 - read only
        ("POST", "/v1/token"): OPERATION,
        ("GET", "/v1/authorize"): "Authorize",
        ("GET", "/v1/sessions/confirmation"): "Confirmation",
    }

    def __init__(self) -> None:
        super().__init__()
        # What the tests may change before (or during) a run (and auto_approve).
        self.identity = IDENTITY  # who signs in at the browser page
        self.credential_seconds = 900  # the service's: 15 minutes
        self.session_seconds = 12 * 3600
        self.code_seconds = 300
        self.iat_window = 300
        self.permitted = True  # False: INSUFFICIENT_PERMISSIONS
        # State.
        self.sessions: dict[str, Session] = {}
        self.refresh_tokens: dict[str, str] = {}  # live refresh token -> session id
        self.spent_tokens: set[str] = set()
        self.jtis: set[str] = set()
        self.bad_proofs: list[str] = []  # why each refused proof was refused
        # access key id -> identity whose credentials they are
        self.issued_keys: dict[str, str] = {}

    @property
    def env(self) -> dict[str, str]:
        """The variable that points botocore (and so credproc and the aws CLI) here."""
        return {"AWS_ENDPOINT_URL_SIGNIN": self.url}

    # -- the tests' controls ------------------------------------------------------------------

    def revoke(self) -> None:
        """Every session ends (an administrator revoked them): TOKEN_EXPIRED from now on."""
        with self.lock:
            for session in self.sessions.values():
                session.ended = "TOKEN_EXPIRED"

    def change_password(self) -> None:
        """The identity's credentials changed: every session ends, USER_CREDENTIALS_CHANGED."""
        with self.lock:
            for session in self.sessions.values():
                session.ended = "USER_CREDENTIALS_CHANGED"

    def session_document(
        self, seconds_left: float = 900, identity: str | None = None, **extra: Any
    ) -> tuple[str, dict[str, Any]]:
        """A new session as ``aws login`` leaves it: its ``login_session`` value and the
        file's JSON object (the CLI's keys in the CLI's order), its credentials live for
        ``seconds_left`` more seconds (negative: expired)."""
        identity = identity or self.identity
        pem, print_ = new_key_pem()
        with self.lock:
            session_id = self._new_session(identity, print_)
            access = self._credentials(identity)
            refresh = self._refresh_token(session_id)
        expires = datetime.fromtimestamp(time.time() + seconds_left, timezone.utc)
        access["accountId"] = identity.split(":")[4]
        access["expiresAt"] = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
        document = {
            "accessToken": access,
            "tokenType": "aws_sigv4",
            "clientId": SAME_DEVICE,
            "refreshToken": refresh,
            "idToken": self._id_token(identity),
            "dpopKey": pem,
            **extra,
        }
        return identity, document

    def live_refresh_tokens(self) -> int:
        with self.lock:
            return len(self.refresh_tokens)

    # -- the token endpoint -------------------------------------------------------------------

    def _new_session(self, identity: str, print_: str) -> str:
        session_id = str(uuid.uuid4())
        self.sessions[session_id] = Session(identity, print_, time.time() + self.session_seconds)
        return session_id

    def _credentials(self, identity: str) -> dict[str, str]:
        key_id = "ASIA" + "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)
        )
        self.issued_keys[key_id] = identity
        return {
            "accessKeyId": key_id,
            "secretAccessKey": secrets.token_urlsafe(30)[:40],
            "sessionToken": "IQoJb3JpZ2luX2VjE" + secrets.token_urlsafe(120),
        }

    def _refresh_token(self, session_id: str) -> str:
        token = "refresh-" + secrets.token_urlsafe(32)
        self.refresh_tokens[token] = session_id
        return token

    def _id_token(self, identity: str) -> str:
        header = {"alg": "ES256", "typ": "JWT", "kid": "stand-in"}
        now = int(time.time())
        claims = {"sub": identity, "iss": self.url, "aud": SAME_DEVICE, "iat": now}
        parts = [b64url(json.dumps(part).encode()) for part in (header, claims)]
        return ".".join([*parts, b64url(secrets.token_bytes(64))])

    def create_token(self, body: object, proof: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ServiceError("ValidationException", "INVALID_REQUEST", "not a JSON object")
        for name in ("clientId", "grantType"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise ServiceError("ValidationException", "INVALID_REQUEST", f"{name} is required")
        print_ = self._check_proof(proof)
        grant = body["grantType"]
        self.calls[f"{OPERATION}:{grant}"] += 1
        if not self.permitted:
            raise ServiceError(
                "AccessDeniedException", "INSUFFICIENT_PERMISSIONS", "not authorized"
            )
        if grant == "refresh_token":
            session_id = self._refresh_grant(body, print_)
        elif grant == "authorization_code":
            session_id = self._code_grant(body, print_)
        else:
            raise ServiceError("ValidationException", "unsupported_grant_type", grant)
        session = self.sessions[session_id]
        return {
            "accessToken": self._credentials(session.identity),
            "tokenType": "aws_sigv4",
            "expiresIn": self.credential_seconds,
            "refreshToken": self._refresh_token(session_id),
            "idToken": self._id_token(session.identity),
        }

    def _refresh_grant(self, body: dict[str, Any], print_: str) -> str:
        token = str(body.get("refreshToken") or "")
        session_id = self.refresh_tokens.get(token)
        if session_id is None:
            spent = "spent" if token in self.spent_tokens else "unknown"
            raise ServiceError("AccessDeniedException", "TOKEN_EXPIRED", f"refresh token {spent}")
        session = self.sessions[session_id]
        if session.thumbprint != print_:
            raise ServiceError("AccessDeniedException", "invalid_grant", "not this token's key")
        if session.ended:
            raise ServiceError("AccessDeniedException", session.ended, "the session has ended")
        if session.expires_at < time.time():
            raise ServiceError("AccessDeniedException", "TOKEN_EXPIRED", "the session expired")
        del self.refresh_tokens[token]  # rotation: it worked once
        self.spent_tokens.add(token)
        return session_id

    def _code_grant(self, body: dict[str, Any], print_: str) -> str:
        found = [a for a in self.authorizations if a.code and a.code == body.get("code")]
        if not found or found[0].used or found[0].client_id != body["clientId"]:
            raise ServiceError("AccessDeniedException", "invalid_grant", "unknown code")
        authorization = found[0]
        if time.time() - authorization.issued_at > self.code_seconds:
            raise ServiceError("AccessDeniedException", "AUTHCODE_EXPIRED", "the code expired")
        if body.get("redirectUri") != authorization.redirect_uri:
            raise ServiceError("ValidationException", "invalid_grant", "redirectUri differs")
        if challenge(str(body.get("codeVerifier") or "")) != authorization.challenge:
            raise ServiceError("ValidationException", "invalid_grant", "codeVerifier differs")
        authorization.used = True
        return self._new_session(self.identity, print_)

    def _check_proof(self, proof: str) -> str:
        """The proof's key thumbprint, if the proof holds; ServiceError otherwise."""
        why = self._proof_fault(proof)
        if isinstance(why, tuple):
            return why[0]
        self.calls["BadProof"] += 1
        self.bad_proofs.append(why)
        raise ServiceError("ValidationException", "INVALID_REQUEST", f"DPoP proof: {why}")

    def _proof_fault(self, proof: str) -> str | tuple[str]:
        parts = proof.split(".")
        if len(parts) != 3:
            return "not a JWT"
        try:
            header = json.loads(unb64url(parts[0]))
            claims = json.loads(unb64url(parts[1]))
            signature = unb64url(parts[2])
            jwk = header["jwk"]
            if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
                return f"typ {header.get('typ')!r}, alg {header.get('alg')!r}"
            if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
                return "jwk is not a public P-256 key"
            numbers = ec.EllipticCurvePublicNumbers(
                int.from_bytes(unb64url(jwk["x"]), "big"),
                int.from_bytes(unb64url(jwk["y"]), "big"),
                ec.SECP256R1(),
            )
            public = numbers.public_key()
        except (ValueError, KeyError, TypeError, AttributeError):
            return "unreadable header"
        if len(signature) != 64:
            return "the signature is not ES256's r||s"
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            public.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "bad signature"
        if not isinstance(claims, dict):
            return "claims are not an object"
        if claims.get("htm") != "POST":
            return f"htm {claims.get('htm')!r}"
        if claims.get("htu") != f"{self.url}/v1/token":
            return f"htu {claims.get('htu')!r}"
        iat = claims.get("iat")
        if not isinstance(iat, int) or abs(time.time() - iat) > self.iat_window:
            return f"iat {iat!r} out of the window"
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            return "no jti"
        if jti in self.jtis:
            return "jti used before"
        self.jtis.add(jti)
        return (thumbprint(jwk),)

    # -- the browser's pages ------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> str:
        """The redirect the browser follows (the Location header), once decided."""
        client_id = query.get("client_id", "")
        redirect = query.get("redirect_uri", "")
        if client_id == SAME_DEVICE:
            parts = urllib.parse.urlsplit(redirect)
            if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost"):
                raise ServiceError("ValidationException", "invalid_request", "not loopback")
        elif client_id == CROSS_DEVICE:
            if redirect != f"{self.url}/v1/sessions/confirmation":
                raise ServiceError("ValidationException", "invalid_request", "bad redirect_uri")
        else:
            raise ServiceError("ValidationException", "invalid_client", "unknown client_id")
        if (
            query.get("response_type") != "code"
            or query.get("code_challenge_method") not in ("SHA-256", "S256")
            or query.get("scope") != "openid"
            or not query.get("code_challenge")
            or not query.get("state")
        ):
            raise ServiceError("ValidationException", "invalid_request", "bad authorize query")
        authorization = Authorization(
            client_id=client_id,
            redirect_uri=redirect,
            challenge=query["code_challenge"].rstrip("="),
            state=query["state"],
        )
        return self.sign_in(authorization)

    @staticmethod
    def confirmation(query: dict[str, str]) -> str:
        """The cross-device flow's last page: the code a person pastes into the terminal."""
        pasted = urllib.parse.urlencode({"state": query.get("state", ""), "code": query["code"]})
        code = base64.b64encode(pasted.encode()).decode("ascii")
        return (
            "<!doctype html><title>Signed in</title><p>Enter this code in your terminal:</p>"
            f'<pre id="verification-code">{html.escape(code)}</pre>'
        )

    # -- HTTP ---------------------------------------------------------------------------------

    def operate(self, operation: str, query: dict[str, str], raw: bytes, headers: Any) -> Reply:
        try:
            if operation == "Authorize":  # may wait for the test: not under the lock
                return Reply(302, content_type="", headers={"Location": self.authorize(query)})
            if operation == "Confirmation":
                return Reply(200, self.confirmation(query).encode(), "text/html; charset=utf-8")
            body = json.loads(raw or b"{}")
            with self.lock:
                return json_reply(self.create_token(body, headers.get("DPoP") or ""))
        except (ValueError, KeyError) as error:
            raise ServiceError("ValidationException", "INVALID_REQUEST", "bad") from error

    def injected(self, fault: dict[str, Any]) -> ServiceError:
        kind = str(fault.get("code", "InternalServerException"))
        return ServiceError(kind, str(fault.get("error", "server_error")), "injected")

    def error_reply(self, error: standin.ServiceError, status: int | None = None) -> Reply:
        oauth = error.error if isinstance(error, ServiceError) else "INVALID_REQUEST"
        data = json.dumps({"error": oauth, "message": str(error)}).encode()
        return Reply(
            status or STATUS.get(error.kind, 400), data, headers={"x-amzn-ErrorType": error.kind}
        )


def challenge(verifier: str) -> str:
    """The PKCE code challenge of a verifier (RFC 7636 S256, which the AWS CLI names
    SHA-256): base64url of its SHA-256, unpadded."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def running_signin() -> AbstractContextManager[SignInStandIn]:
    return running(SignInStandIn())


if __name__ == "__main__":
    serve(SignInStandIn())
