"""IAM users with real access keys on the moto server, for the keyring tests: credproc signs
with them, rotates them, and the server says which key signed what."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import boto3

from support.constants import BASE_KEY_ID, BASE_SECRET
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
