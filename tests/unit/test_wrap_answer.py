"""What ``credproc wrap`` accepts from the command it wraps: credential_process JSON, strictly
(``fetch.wrap.parse_answer``). Nothing else is cached or printed, nor quoted in the error."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from credproc.core.credentials import Credentials
from credproc.core.request import Request
from credproc.errors import CommandOutputError
from credproc.fetch.wrap import MAX_OUTPUT_BYTES, parse_answer

REQUEST = Request(
    role_arn=None,
    source_profile=None,
    role_session_name="",
    duration=3600,
    wrap_command=("/opt/idp/bin/login-tool", "--password", "hunter2"),
    max_age=600,
)
GOOD = {"Version": 1, "AccessKeyId": "ASIAX", "SecretAccessKey": "secret", "SessionToken": "t"}


def _parse(document: object) -> Credentials:
    return parse_answer(json.dumps(document).encode(), REQUEST)


def _soon() -> datetime:
    return datetime.fromtimestamp(int(time.time()) + 7200, timezone.utc)


def test_a_full_answer_is_taken_as_it_is() -> None:
    soon = _soon()
    credentials = _parse({**GOOD, "Expiration": soon.strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert credentials == Credentials("ASIAX", "secret", "t", soon)


def test_zones_and_fractions_are_honoured() -> None:
    soon = _soon()
    east = soon.astimezone(timezone(timedelta(hours=2)))  # the same moment, two hours east
    assert _parse({**GOOD, "Expiration": east.isoformat()}).expiration == soon
    written = soon.strftime("%Y-%m-%dT%H:%M:%S.250Z")
    assert _parse({**GOOD, "Expiration": written}).expiration == soon


def test_an_expiration_far_off_is_brought_in_to_the_longest_the_cache_serves() -> None:
    far = _parse({**GOOD, "Expiration": "2099-01-02T03:04:05Z"})
    assert 129590 < far.expiration.timestamp() - time.time() <= 129600


def test_no_expiration_is_kept_max_age_and_no_token_is_long_lived_keys() -> None:
    credentials = _parse({"Version": 1, "AccessKeyId": "AKIAX", "SecretAccessKey": "s"})
    assert credentials.session_token == ""
    left = credentials.expiration.timestamp() - time.time()
    assert 590 < left <= 600
    assert "SessionToken" not in credentials.to_process_json()


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"", "it printed nothing"),
        (b"Login failed\n", "not one JSON object"),
        (b'{"Version": 1}{"Version": 1}', "not one JSON object"),
        (b"[1]", "not a JSON object"),
        (b"\xff\xfe", "not UTF-8"),
        (json.dumps({**GOOD, "Version": 2}).encode(), "Version is not the number 1"),
        (json.dumps({**GOOD, "Version": "1"}).encode(), "Version is not the number 1"),
        (json.dumps({**GOOD, "Version": True}).encode(), "Version is not the number 1"),
        (json.dumps({**GOOD, "AccessKeyId": ""}).encode(), "AccessKeyId is missing"),
        (json.dumps({**GOOD, "SecretAccessKey": None}).encode(), "SecretAccessKey is missing"),
        (json.dumps({**GOOD, "SecretAccessKey": "a b"}).encode(), "SecretAccessKey"),
        (json.dumps({**GOOD, "SessionToken": ""}).encode(), "SessionToken"),
        (json.dumps({**GOOD, "SessionToken": 5}).encode(), "SessionToken"),
        (json.dumps({**GOOD, "Expiration": "2099-01-02T03:04:05"}).encode(), "RFC 3339"),
        (json.dumps({**GOOD, "Expiration": "tomorrow"}).encode(), "RFC 3339"),
        (json.dumps({**GOOD, "Expiration": "2099-02-30T03:04:05Z"}).encode(), "RFC 3339"),
        (json.dumps({**GOOD, "Expiration": 4102444800}).encode(), "not a string"),
        (json.dumps({**GOOD, "Expiration": "2001-01-01T00:00:00Z"}).encode(), "has passed"),
        (b" " * (MAX_OUTPUT_BYTES + 1), f"over {MAX_OUTPUT_BYTES} bytes"),
    ],
)
def test_anything_else_is_refused_without_quoting_it(raw: bytes, why: str) -> None:
    with pytest.raises(CommandOutputError) as caught:
        parse_answer(raw, REQUEST)
    message = str(caught.value)
    assert why in message
    assert message.startswith("login-tool printed no valid credential_process JSON")
    assert "hunter2" not in message and "/opt/idp" not in message and "secret" not in message
    assert caught.value.exit_code == 4
