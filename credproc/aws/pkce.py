"""PKCE (RFC 7636): the verifier a sign-in keeps and the S256 challenge the browser carries.

Both OAuth sign-ins credproc starts use it: IAM Identity Center's (``fetch.sso``) and AWS
Sign-In's (``fetch.signin``). The verifier never leaves this process until the code exchange,
so a code caught on its way back (another program on the loopback port, a pasted code read
over a shoulder) is worth nothing to whoever caught it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import NamedTuple


class Pkce(NamedTuple):
    verifier: str
    challenge: str


def new() -> Pkce:
    verifier = secrets.token_urlsafe(64)  # 86 characters of the unreserved set (43..128)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return Pkce(verifier, challenge)
