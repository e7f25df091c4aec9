"""Credentials and the credential_process document."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from credproc.core.credentials import Credentials, parse_expiration

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


GOOD = {
    "AccessKeyId": "A",
    "SecretAccessKey": "S",
    "SessionToken": "T",
    "Expiration": "2026-11-28T15:04:05Z",
}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (None, "not an object"),
        ([], "not an object"),
        ({k: v for k, v in GOOD.items() if k != "Expiration"}, "lack an expiration"),
        # Each bad in one way only, the rest good: a refusal for another reason would not count.
        ({**GOOD, "AccessKeyId": ""}, "lack a key id"),
        ({**GOOD, "SessionToken": 5}, "lack a key id, secret or session token"),
        ({**GOOD, "SecretAccessKey": None}, "lack a key id"),
        ({**GOOD, "Expiration": "2026-11-28T15:04:05"}, "without a zone"),
        ({**GOOD, "Expiration": datetime(2026, 1, 1)}, "without a zone"),
        ({**GOOD, "Expiration": 1764342245}, "lack an expiration"),
    ],
)
def test_from_dict_refuses_bad_shapes(data: object, reason: str) -> None:
    assert Credentials.from_dict(GOOD).access_key_id == "A"  # the good base itself is fine
    with pytest.raises(ValueError, match=reason):
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
