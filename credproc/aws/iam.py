"""IAM's access key calls, for ``credproc keys rotate``: list, create and delete a user's keys.

Imported only by ``rotate``. Each call is signed by a session from ``sts.keys_session``, and
bounded and mapped to credproc's errors like every AWS call (``boto``, ``answers``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import boto3
import botocore.exceptions

from ..core.sourcekeys import SourceKeys
from ..errors import AuthError, ServiceUnavailableError
from .answers import one_line, translated
from .boto import make_client

if TYPE_CHECKING:
    from mypy_boto3_iam.client import IAMClient

# IAM is global; its endpoint lives in the partition's first region.
_PARTITION_REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}


def region_for(user_arn: str, region: str | None) -> str:
    """The region to send IAM calls to: the one given, else the partition's own."""
    partition = user_arn.split(":")[1] if user_arn.count(":") >= 5 else "aws"
    return region or _PARTITION_REGIONS.get(partition, "us-east-1")


def access_key_ids(session: boto3.Session, user: str | None, region: str) -> list[str]:
    """The user's access key ids (None: the user whose key signs the call)."""
    client = _client(session, region)
    named = _user(user)
    answer = _call("ListAccessKeys", lambda: client.list_access_keys(**named))
    return [str(key["AccessKeyId"]) for key in answer.get("AccessKeyMetadata", [])]


def create_access_key(session: boto3.Session, user: str | None, region: str) -> SourceKeys:
    client = _client(session, region)
    named = _user(user)
    answer = _call("CreateAccessKey", lambda: client.create_access_key(**named))
    try:
        key = answer["AccessKey"]
        return SourceKeys(str(key["AccessKeyId"]), str(key["SecretAccessKey"]))
    except (KeyError, TypeError):
        raise ServiceUnavailableError("IAM answered CreateAccessKey without a key") from None


def delete_access_key(
    session: boto3.Session, user: str | None, access_key_id: str, region: str
) -> None:
    client = _client(session, region)
    named = _user(user)
    _call(
        "DeleteAccessKey",
        lambda: client.delete_access_key(AccessKeyId=access_key_id, **named),
    )


def _user(user: str | None) -> dict[str, Any]:
    """IAM's UserName parameter; none for the user whose key signs (or the root user)."""
    return {"UserName": user} if user else {}


def _client(session: boto3.Session, region: str) -> IAMClient:
    try:
        client = cast("IAMClient", make_client(session, "iam", region))
    except botocore.exceptions.BotoCoreError as error:
        raise AuthError(f"cannot set up an IAM client: {one_line(error)}") from None
    return client


def _call(operation: str, call: Callable[[], Mapping[str, Any]]) -> Mapping[str, Any]:
    return translated("IAM", operation, call)
