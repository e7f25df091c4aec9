"""An aws login setup in a sandbox: the Sign-In stand-in's endpoint, a ``login_session``
profile with its session file (as ``aws login`` leaves them), and roles built on it."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from support.sandbox import Sandbox
from support.signinserver import SignInStandIn

PROFILE = "console"
# Roles assumed with the console identity's credentials (moto takes any role ARN).
ROLES = {
    "admin": "arn:aws:iam::111111111111:role/admin",
    "ops": "arn:aws:iam::111111111111:role/ops",
    "audit": "arn:aws:iam::111111111111:role/audit",
}


def configure(sandbox: Sandbox, stand_in: SignInStandIn, seconds_left: float = 900) -> str:
    """Point the sandbox at the stand-in and sign ``console`` in (its session's credentials
    live ``seconds_left`` more seconds); add the ROLES with it as their source. Returns the
    ``login_session`` value."""
    sandbox.env.update(stand_in.env)
    identity, document = stand_in.session_document(seconds_left)
    sandbox.add_profile(PROFILE, login_session=identity, region="eu-west-1")
    for name, role in ROLES.items():
        sandbox.add_profile(name, role_arn=role, source_profile=PROFILE, region="eu-west-1")
    write_session(sandbox, identity, document)
    return identity


def session_path(sandbox: Sandbox, identity: str) -> Path:
    digest = hashlib.sha256(identity.encode()).hexdigest()
    return sandbox.home / ".aws" / "login" / "cache" / f"{digest}.json"


def write_session(sandbox: Sandbox, identity: str, document: dict[str, Any]) -> None:
    """As botocore's JSONFileCache writes it: the JSON, mode 0600."""
    path = session_path(sandbox, identity)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(json.dumps(document))


def session(sandbox: Sandbox, identity: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(session_path(sandbox, identity).read_text())
    return document


def age_session(sandbox: Sandbox, identity: str, seconds_left: float) -> None:
    """Make the session's credentials say they expire in ``seconds_left`` (the refresh token
    still works)."""
    document = session(sandbox, identity)
    moment = datetime.now(timezone.utc) + timedelta(seconds=seconds_left)
    document["accessToken"]["expiresAt"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    write_session(sandbox, identity, document)
