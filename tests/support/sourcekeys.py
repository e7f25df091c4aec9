"""Source keys for the keyring tests: IAM users with real access keys on the moto server (which
credproc signs with and rotates, and the server says which key signed what), what credproc
stored, and where a secret can be found on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import boto3

from support.constants import BASE_KEY_ID, BASE_SECRET
from support.sandbox import Result, Sandbox
from support.secretservice import SecretService
from support.server import StsServer


class Keys(NamedTuple):
    key_id: str
    secret: str

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.key_id, "AWS_SECRET_ACCESS_KEY": self.secret}


def iam(server: StsServer, keys: Keys | None = None) -> Any:
    """An IAM client of the server, signed by the base profile's keys (an admin) or ``keys``."""
    key_id, secret = keys or (BASE_KEY_ID, BASE_SECRET)
    session = boto3.Session(
        aws_access_key_id=key_id, aws_secret_access_key=secret, region_name="us-east-1"
    )
    return session.client("iam", endpoint_url=server.url)


def new_user(server: StsServer, name: str = "alice") -> Keys:
    """An IAM user with one access key: its ARN is arn:aws:iam::123456789012:user/NAME."""
    client = iam(server)
    client.create_user(UserName=name)
    key = client.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


def key_ids(server: StsServer, user: str = "alice") -> list[str]:
    """The user's access key ids in IAM, as an admin lists them."""
    found = iam(server).list_access_keys(UserName=user)["AccessKeyMetadata"]
    return sorted(key["AccessKeyId"] for key in found)


def stored(service: SecretService, name: str) -> Keys | None:
    """The keys credproc stored under NAME in the Secret Service."""
    secret = service.secret(name)
    if secret is None:
        return None
    fields = json.loads(secret)
    return Keys(fields["AccessKeyId"], fields["SecretAccessKey"])


def user_arn(name: str = "alice") -> str:
    return f"arn:aws:iam::123456789012:user/{name}"


def add(sandbox: Sandbox, name: str, keys: Keys, *args: str) -> Result:
    """``credproc keys add NAME --from-env`` with these keys in the environment."""
    return sandbox.credproc("keys", "add", name, "--from-env", *args, env=keys.env)


def files_holding(root: Path, secret: str) -> list[Path]:
    """Every file under ``root`` whose bytes hold the secret as plain text."""
    needle = secret.encode()
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and needle in path.read_bytes()
    )
