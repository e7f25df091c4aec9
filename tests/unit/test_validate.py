"""Single-value checks, counted the way STS counts."""

from __future__ import annotations

import json

import pytest

from credproc.config import validate
from credproc.errors import UsageError


def _policy(characters: int, letter: str = "é") -> str:
    """A policy whose compact JSON is exactly ``characters`` long."""
    empty = json.dumps({"Sid": ""}, separators=(",", ":"))
    return json.dumps({"Sid": letter * (characters - len(empty))})


def test_a_non_ascii_policy_is_measured_in_characters_and_kept_as_written() -> None:
    compact = validate.policy("--policy", _policy(2048))

    assert compact is not None
    assert len(compact) == 2048
    assert "é" in compact and "\\u" not in compact


def test_one_character_too_many_is_refused_with_the_count() -> None:
    with pytest.raises(UsageError, match="--policy is 2049 characters"):
        validate.policy("--policy", _policy(2049, "ж"))
