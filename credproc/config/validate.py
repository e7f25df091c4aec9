"""Checks of single option values, each the check STS itself would make, made locally.

Each takes the option's flag (for the message) and the value as typed, and returns the value in
its final form or raises ``UsageError`` (``ConfigError`` for a file that cannot be read).
Checks that compare two options live in ``resolve``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence

from ..core.index import note_file
from ..errors import ConfigError, UsageError
from .limits import (
    EXTERNAL_ID_LENGTH,
    MAX_POLICY_ARNS,
    MAX_POLICY_CHARS,
    MAX_ROLE_PATH,
    MAX_TAGS,
    SESSION_NAME_LENGTH,
    TAG_KEY_LENGTH,
    TAG_VALUE_LENGTH,
    span,
)


def _counted(bounds: tuple[int, int]) -> str:
    return "{%d,%d}" % bounds  # noqa: UP031 - braces are the pattern's own


# Patterns as text, compiled by re on first use: a run compiles only the ones it needs.
# STS's own patterns are Java regexes, where \w and \d are ASCII: matched here with re.ASCII,
# except tags, which STS documents as Unicode letters, digits and spaces.
ROLE_ARN = (
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/"
    r"(?P<path>(?:[\w+=,.@-]+/)*)(?P<name>[\w+=,.@-]{1,64})"
)
_ANY_ARN = r"arn:[^:]*:[^:]*:[^:]*:[^:]*:.+"
_POLICY_ARN = r"arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\w+=,.@/-]+"
_MFA_SERIAL = r"arn:aws[a-z-]*:iam::\d{12}:mfa/[\w+=,.@/-]+|[\w+=/:,.@-]{9,256}"
SESSION_NAME = r"[\w+=,.@-]" + _counted(SESSION_NAME_LENGTH)
EXTERNAL_ID = r"[\w+=,.@:/-]" + _counted(EXTERNAL_ID_LENGTH)
_REGION = r"[a-z]{2,}(-[a-z0-9]+){1,4}"
_TAG_KEY = r"[\w .:/=+@-]" + _counted(TAG_KEY_LENGTH)
_TAG_VALUE = r"[\w .:/=+@-]" + _counted(TAG_VALUE_LENGTH)
# Source keys: a name for the keyring, and an IAM user's long-term key (AKIA: ASIA keys are
# temporary, and expire with the session that made them).
KEY_NAME = r"[A-Za-z0-9_.@+=,:-]{1,64}"
_VARIABLE = r"[A-Za-z_][A-Za-z0-9_]{0,255}"
_LONG_TERM_KEY_ID = r"AKIA[A-Z0-9]{16}"
_TEMPORARY_KEY_ID = r"ASIA[A-Z0-9]{16}"
_SECRET_KEY = r"[A-Za-z0-9/+]{40}"  # noqa: S105 - a pattern, not a secret


def role_arn(value: str, option: str = "--role-arn") -> str:
    value = value.strip()
    match = re.fullmatch(ROLE_ARN, value, re.ASCII)
    if match is None:
        if not value:
            problem = "is empty"
        elif re.fullmatch(_ANY_ARN, value):
            problem = f"is not an IAM role ARN: {shown(value)}"
        else:
            problem = f"is not an ARN: {shown(value)}"
        raise UsageError(f"{option} {problem} (expected arn:aws:iam::123456789012:role/NAME)")
    if len(match["path"]) > MAX_ROLE_PATH:
        raise UsageError(f"{option} has a role path longer than IAM's {MAX_ROLE_PATH} characters")
    return value


def matching(option: str, value: str | None, pattern: str, size: str) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(pattern, value, re.ASCII):
        raise UsageError(
            f"{option} {shown(value)} must be {size} characters of letters, digits and "
            f"{_allowed_punctuation(pattern)}"
        )
    return value


def _allowed_punctuation(pattern: str) -> str:
    inside = pattern[1 : pattern.index("]")]
    return " ".join(inside.replace("\\w", "_"))


def region(option: str, value: str | None) -> str | None:
    if value is not None and not re.fullmatch(_REGION, value):
        raise UsageError(f"{option} {shown(value)} is not an AWS region name like eu-west-1")
    return value


def integer(option: str, value: str | None, default: int, low: int, high: int | None) -> int:
    if value is None:
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise UsageError(f"{option} {shown(value)} is not a whole number of seconds") from None
    if number < low or (high is not None and number > high):
        bounds = f"{low}..{high}" if high is not None else f"at least {low}"
        raise UsageError(f"{option} {short(str(number))} is out of range ({bounds} seconds)")
    return number


def seconds(option: str, value: str | None, default: float, high: float) -> float:
    """A positive number of seconds, fractions allowed, at most ``high``."""
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"{option} {shown(value)} is not a number of seconds") from None
    if not 0 < number <= high:
        raise UsageError(f"{option} {short(value)} is out of range (above 0, at most {high:g} s)")
    return number


def policy(option: str, value: str | None) -> str | None:
    """The session policy as compact JSON, from the JSON itself or ``@FILE``."""
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        path = os.path.expanduser(value[1:])
        try:
            with open(path, encoding="utf-8") as file:
                note_file(path, os.fstat(file.fileno()))
                text = file.read()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            raise ConfigError(f"{option}: cannot read {path!r}: {reason}") from None
    try:
        # NaN and Infinity are Python's extensions, not JSON: STS would reject the policy.
        document = json.loads(text, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise UsageError(f"{option} is not valid JSON (give the JSON itself or @FILE)") from None
    if not isinstance(document, dict):
        raise UsageError(f"{option} must be a JSON object (an IAM policy document)")
    # As STS counts it: characters, not the \uXXXX escapes json.dumps would make of them.
    compact = json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    if len(compact) > MAX_POLICY_CHARS:
        raise UsageError(
            f"{option} is {len(compact)} characters without spaces; STS allows {MAX_POLICY_CHARS}"
        )
    return compact


def _not_json(constant: str) -> object:
    raise ValueError(f"{constant} is not JSON")


def policy_arns(option: str, values: Sequence[str]) -> tuple[str, ...]:
    if len(values) > MAX_POLICY_ARNS:
        raise UsageError(f"too many {option} values (STS allows {MAX_POLICY_ARNS})")
    for arn in values:
        if not re.fullmatch(_POLICY_ARN, arn, re.ASCII):
            raise UsageError(
                f"{option} {shown(arn)} is not a managed policy ARN "
                "(arn:aws:iam::123456789012:policy/NAME)"
            )
    return tuple(values)


def tags(option: str, values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    if len(values) > MAX_TAGS:
        raise UsageError(f"too many {option} values (STS allows {MAX_TAGS})")
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in values:
        key, equals, value = item.partition("=")
        if not equals or not re.fullmatch(_TAG_KEY, key):
            raise UsageError(
                f"{option} {shown(item)} must be KEY=VALUE with a "
                f"{span(TAG_KEY_LENGTH)} character key"
            )
        if not re.fullmatch(_TAG_VALUE, value):
            raise UsageError(
                f"{option} {shown(key)} has a value STS does not accept "
                f"({span(TAG_VALUE_LENGTH)} characters)"
            )
        if key.lower() in seen:  # STS treats tag keys case-insensitively
            raise UsageError(f"{option} {shown(key)} is given twice")
        seen.add(key.lower())
        found.append((key, value))
    return tuple(found)


def mfa_serial(option: str, value: str | None) -> str | None:
    if value is not None and not re.fullmatch(_MFA_SERIAL, value, re.ASCII):
        raise UsageError(
            f"{option} {shown(value)} is neither an MFA device ARN "
            "(arn:aws:iam::123456789012:mfa/NAME) nor a hardware serial number"
        )
    return value


def choice(option: str, value: str | None, choices: Sequence[str]) -> str:
    """One of ``choices``; the first when none is given."""
    if value is None:
        return choices[0]
    if value.strip() not in choices:
        raise UsageError(f"{option} {shown(value)} is not one of {', '.join(choices)}")
    return value.strip()


def variable_names(option: str, values: Sequence[str]) -> tuple[str, ...]:
    """Environment variable names, each once and in order (the order given does not matter)."""
    for value in values:
        if not re.fullmatch(_VARIABLE, value):
            raise UsageError(f"{option} {shown(value)} is not a variable name")
    return tuple(sorted(set(values)))


def key_name(option: str, value: str | None) -> str | None:
    if value is not None and not re.fullmatch(KEY_NAME, value):
        raise UsageError(
            f"{option} {shown(value)} must be 1-64 letters, digits or _ . @ + = , : - characters"
        )
    return value


def access_key_id(value: str) -> str:
    """An IAM user's long-term access key id; never shown whole in the message."""
    value = value.strip()
    if re.fullmatch(_TEMPORARY_KEY_ID, value):
        raise UsageError(
            "the access key id starts with ASIA: that is a temporary key, which expires with its "
            "session; store an IAM user's long-term key (AKIA...)"
        )
    if not re.fullmatch(_LONG_TERM_KEY_ID, value):
        raise UsageError(
            "the access key id must be AKIA and 16 more capital letters or digits "
            f"(got {len(value)} characters)"
        )
    return value


def secret_access_key(value: str) -> str:
    """The secret's shape, checked without ever showing any of it."""
    value = value.strip()
    if not re.fullmatch(_SECRET_KEY, value):
        raise UsageError(
            "the secret access key must be 40 letters, digits, / or + "
            f"(got {len(value)} characters)"
        )
    return value


def shown(value: str) -> str:
    """A value quoted for an error message, cut short: the message must stay one short line."""
    return repr(short(value))


def short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
