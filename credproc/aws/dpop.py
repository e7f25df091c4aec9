"""DPoP proofs (RFC 9449) for AWS Sign-In: the key an ``aws login`` session is bound to.

Every call to Sign-In's token endpoint carries a ``DPoP`` header: a JWT signed with ES256 by
the session's own P-256 key, whose public half is in the JWT's header (``jwk``) and which
names the call (``htm``, ``htu``), its time (``iat``) and a value never used again (``jti``).
The key lives in the session file as the AWS CLI writes it: a SEC1 PEM ("EC PRIVATE KEY").

The signatures come from ``cryptography`` (the ``login`` extra), imported here alone: a
well-kept library with wheels for every platform credproc runs on, where botocore's own DPoP
code needs ``awscrt``, a far larger native runtime. It is never imported on a cache hit (the
hit imports nothing of ``aws/``); without it, every use says the one command that installs
it.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
import uuid

try:  # the login extra
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
except ImportError:
    ec = None  # type: ignore[assignment]

from ..errors import ConfigError

INSTALL_HINT = "pip install 'credproc[login]'"
# RFC 7518, section 3.4: an ES256 signature is r and s, 32 bytes each, big-endian.
_COORDINATE_BYTES = 32


def available() -> bool:
    """Whether the login extra is installed (doctor says so without failing)."""
    return ec is not None


def _require() -> None:
    if ec is None:
        raise ConfigError(f"aws login sessions need the login extra: {INSTALL_HINT}")


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWTs spell every part."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class ProofKey:
    """A session's P-256 private key: it signs the proofs, and is stored as the CLI's PEM."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "ProofKey(P-256)"  # never the key itself

    @classmethod
    def generate(cls) -> ProofKey:
        """A new key, for a new sign-in."""
        _require()
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: str) -> ProofKey:
        """The key of a session file; ValueError if it is not a P-256 private key."""
        _require()
        try:
            key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeError) as error:
            raise ValueError("the session's dpopKey is not a PEM private key") from error
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the session's dpopKey is not a P-256 key")
        return cls(key)

    def to_pem(self) -> str:
        """SEC1 ("BEGIN EC PRIVATE KEY"), 64 characters a line, a newline at the end: the
        form the AWS CLI writes and botocore reads."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode("ascii")

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 7517), in the members' order botocore sends."""
        numbers = self._key.public_key().public_numbers()
        return {
            "kty": "EC",
            "x": b64url(numbers.x.to_bytes(_COORDINATE_BYTES, "big")),
            "y": b64url(numbers.y.to_bytes(_COORDINATE_BYTES, "big")),
            "crv": "P-256",
        }

    def proof(self, method: str, url: str, *, now: float | None = None) -> str:
        """The DPoP header's value for one HTTP request: a new ``jti`` each time, and ``htu``
        the URL without its query and fragment (RFC 9449, section 4.2)."""
        parts = urllib.parse.urlsplit(url)
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()}
        claims = {
            "htm": method.upper(),
            "htu": urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
            "iat": int(time.time() if now is None else now),
            "jti": str(uuid.uuid4()),
        }
        signing_input = ".".join(
            b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        der = self._key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        signature = r.to_bytes(_COORDINATE_BYTES, "big") + s.to_bytes(_COORDINATE_BYTES, "big")
        return f"{signing_input}.{b64url(signature)}"
