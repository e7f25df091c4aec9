"""Credentials and the credential_process document."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from credproc.credentials import Credentials, parse_expiration

EXPIRY = datetime(2026, 11, 28, 15, 4, 5, tzinfo=timezone.utc)
CREDENTIALS = Credentials("ASIAKEY", "the-secret", "the-token", EXPIRY)


def test_process_json_is_compact_and_exact() -> None:
    assert CREDENTIALS.to_process_json() == (
        '{"Version":1,"AccessKeyId":"ASIAKEY","SecretAccessKey":"the-secret",'
        '"SessionToken":"the-token","Expiration":"2026-11-28T15:04:05Z"}'
    )


def test_repr_hides_secrets() -> None:
    assert "the-secret" not in repr(CREDENTIALS)
    assert "the-token" not in repr(CREDENTIALS)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-28T15:04:05Z",
        "2026-11-28T15:04:05.123456Z",  # moto sends microseconds; real STS does not
        "2026-11-28T16:04:05+01:00",
        EXPIRY + timedelta(microseconds=999),
    ],
)
def test_from_dict_normalises_expiration(value: object) -> None:
    data = {"AccessKeyId": "A", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": value}
    assert Credentials.from_dict(data).expiration == EXPIRY


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"AccessKeyId": "A", "SecretAccessKey": "S", "SessionToken": "T"},
        {"AccessKeyId": "", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": "x"},
        {"AccessKeyId": "A", "SecretAccessKey": "S", "SessionToken": 5, "Expiration": "x"},
        {
            "AccessKeyId": "A",
            "SecretAccessKey": "S",
            "SessionToken": "T",
            "Expiration": "2026-11-28T15:04:05",
        },
        {
            "AccessKeyId": "A",
            "SecretAccessKey": "S",
            "SessionToken": "T",
            "Expiration": datetime(2026, 1, 1),
        },
    ],
)
def test_from_dict_refuses_bad_shapes(data: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Credentials.from_dict(data)


def test_zone_less_times_are_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="without a zone"):
        parse_expiration("2026-11-28T15:04:05")


def test_env_form_matches_the_json() -> None:
    document = json.loads(CREDENTIALS.to_process_json())
    env = CREDENTIALS.to_env()
    assert env["AWS_ACCESS_KEY_ID"] == document["AccessKeyId"]
    assert env["AWS_SECRET_ACCESS_KEY"] == document["SecretAccessKey"]
    assert env["AWS_SESSION_TOKEN"] == document["SessionToken"]
    assert env["AWS_CREDENTIAL_EXPIRATION"] == document["Expiration"]


def test_container_form_is_what_the_sdks_read() -> None:
    # botocore's ContainerProvider and the JS SDK's fromHttp read exactly these four fields.
    assert CREDENTIALS.to_container_json() == (
        '{"AccessKeyId":"ASIAKEY","SecretAccessKey":"the-secret","Token":"the-token",'
        '"Expiration":"2026-11-28T15:04:05Z"}'
    )
