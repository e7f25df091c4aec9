"""Bad input: one line on stderr, a documented exit status, empty stdout, no STS call."""

from __future__ import annotations

import json

import pytest
from support.constants import ROLE
from support.sandbox import Sandbox

pytestmark = pytest.mark.integration

USAGE, CONFIG = 2, 3
SOURCE = ["--source-profile", "base"]
BIG_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "x" * 2100}]})

CASES: list[tuple[str, list[str], int, str]] = [
    ("no role", SOURCE, USAGE, "missing --role-arn"),
    ("empty arn", ["--role-arn", "", *SOURCE], USAGE, "--role-arn is empty"),
    (
        "user arn",
        ["--role-arn", "arn:aws:iam::123456789012:user/bob", *SOURCE],
        USAGE,
        "is not an IAM role ARN",
    ),
    ("s3 arn", ["--role-arn", "arn:aws:s3:::bucket/key", *SOURCE], USAGE, "is not an IAM role ARN"),
    (
        "short account",
        ["--role-arn", "arn:aws:iam::12345:role/dev", *SOURCE],
        USAGE,
        "is not an IAM role ARN",
    ),
    ("not an arn", ["--role-arn", "dev", *SOURCE], USAGE, "is not an ARN"),
    (
        "duration text",
        ["--role-arn", ROLE, "--duration", "1h", *SOURCE],
        USAGE,
        "--duration '1h' is not a whole number",
    ),
    (
        "duration low",
        ["--role-arn", ROLE, "--duration", "899", *SOURCE],
        USAGE,
        "--duration 899 is out of range (900..43200",
    ),
    ("duration high", ["--role-arn", ROLE, "--duration", "43201", *SOURCE], USAGE, "out of range"),
    (
        "window = duration",
        ["--role-arn", ROLE, "--duration", "900", "--refresh-window", "900", *SOURCE],
        USAGE,
        "must be below the duration",
    ),
    (
        "negative window",
        ["--role-arn", ROLE, "--refresh-window", "-1", *SOURCE],
        USAGE,
        "out of range",
    ),
    (
        "session name chars",
        ["--role-arn", ROLE, "--role-session-name", "a b", *SOURCE],
        USAGE,
        "--role-session-name 'a b' must be 2-64 characters",
    ),
    (
        "session name long",
        ["--role-arn", ROLE, "--role-session-name", "x" * 65, *SOURCE],
        USAGE,
        "must be 2-64",
    ),
    (
        "source identity",
        ["--role-arn", ROLE, "--source-identity", "é", *SOURCE],
        USAGE,
        "--source-identity",
    ),
    (
        "external id",
        ["--role-arn", ROLE, "--external-id", "x", *SOURCE],
        USAGE,
        "--external-id 'x' must be 2-1224",
    ),
    (
        "policy json",
        ["--role-arn", ROLE, "--policy", "{nope", *SOURCE],
        USAGE,
        "--policy is not valid JSON",
    ),
    (
        "policy array",
        ["--role-arn", ROLE, "--policy", "[]", *SOURCE],
        USAGE,
        "must be a JSON object",
    ),
    (
        "policy size",
        ["--role-arn", ROLE, "--policy", BIG_POLICY, *SOURCE],
        USAGE,
        "STS allows 2048",
    ),
    (
        "policy file",
        ["--role-arn", ROLE, "--policy", "@/nonexistent/p.json", *SOURCE],
        CONFIG,
        "--policy: cannot read '/nonexistent/p.json'",
    ),
    (
        "policy arns",
        [
            "--role-arn",
            ROLE,
            *SOURCE,
            *[f"--policy-arn=arn:aws:iam::aws:policy/P{i}" for i in range(11)],
        ],
        USAGE,
        "too many --policy-arn values",
    ),
    (
        "policy arn",
        ["--role-arn", ROLE, "--policy-arn", "ReadOnly", *SOURCE],
        USAGE,
        "is not a managed policy ARN",
    ),
    (
        "tags",
        ["--role-arn", ROLE, *SOURCE, *[f"--tag=k{i}=v" for i in range(51)]],
        USAGE,
        "too many --tag values",
    ),
    (
        "tag shape",
        ["--role-arn", ROLE, "--tag", "novalue", *SOURCE],
        USAGE,
        "--tag 'novalue' must be KEY=VALUE",
    ),
    (
        "tag twice",
        ["--role-arn", ROLE, "--tag", "a=1", "--tag", "A=2", *SOURCE],
        USAGE,
        "is given twice",
    ),
    (
        "transitive",
        ["--role-arn", ROLE, "--transitive-tag-key", "x", *SOURCE],
        USAGE,
        "not among the --tag keys",
    ),
    (
        "region",
        ["--role-arn", ROLE, "--region", "Europe", *SOURCE],
        USAGE,
        "is not an AWS region name",
    ),
    (
        "lock timeout",
        ["--role-arn", ROLE, "--lock-timeout", "0", *SOURCE],
        USAGE,
        "--lock-timeout 0 is out of range",
    ),
    (
        "unknown option",
        ["--role-arn", ROLE, "--rolearn", "x", *SOURCE],
        USAGE,
        "unrecognized arguments: --rolearn",
    ),
    ("abbreviation", ["--role", ROLE, *SOURCE], USAGE, "unrecognized arguments"),
    ("missing value", ["--role-arn"], USAGE, "expected one argument"),
    (
        "unknown source",
        ["--role-arn", ROLE, "--source-profile", "nope"],
        CONFIG,
        "source profile 'nope' is in neither",
    ),
    ("unknown profile", ["--profile", "nope"], CONFIG, "profile 'nope' is not in"),
]


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_fails_cleanly_without_calling_sts(
    sandbox: Sandbox, argv: list[str], status: int, message: str
) -> None:
    result = sandbox.credproc(*argv)

    assert result.returncode == status, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("credproc: error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert sandbox.server.calls() == 0
