"""Bad input: one line on stderr, a documented exit status, empty stdout, no STS call.

Every bad command line is run as a real subprocess, so that the server counts that no STS call
was made, and checked against the one failure contract (support.assertions.assert_fails). Two
tables: CASES names the exact words of each message; BAD_COMMAND_LINES goes after the limits
STS documents, and checks that the line names what was wrong and stays short.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.assertions import assert_fails
from support.constants import BASE_KEY_ID, BASE_SECRET, ROLE
from support.sandbox import Sandbox

USAGE, CONFIG = 2, 3
SOURCE = ["--source-profile", "base"]
LONG_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "x" * 2100}]})
OTHER_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/ops"

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
        ["--role-arn", ROLE, "--policy", LONG_POLICY, *SOURCE],
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
    (
        "source keys and profile",
        ["--role-arn", ROLE, "--source-keys", "dev", *SOURCE],
        USAGE,
        "--source-keys and --source-profile",
    ),
    (
        "source keys name",
        ["--role-arn", ROLE, "--source-keys", "a b"],
        USAGE,
        "--source-keys 'a b' must be 1-64",
    ),
    (
        "source keys web identity",
        ["--role-arn", ROLE, "--source-keys", "dev", "--web-identity-token-file", "/t"],
        USAGE,
        "takes no --source-profile, --source-keys",
    ),
    (
        "unknown source keys",
        ["--role-arn", ROLE, "--source-keys", "nope"],
        CONFIG,
        "no source keys named 'nope': store them with credproc keys add nope",
    ),
]


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_fails_cleanly_without_calling_sts(
    sandbox: Sandbox, argv: list[str], status: int, message: str
) -> None:
    result = sandbox.main(*argv)

    assert_fails(result, status, message)
    assert sandbox.server.calls() == 0


# -- STS's documented limits, and what the error line names ------------------------------------


def _bad_policy_file(home: Path, kind: str) -> str:
    if kind == "missing":
        return f"@{home / 'no-such-policy.json'}"
    if kind == "directory":
        return f"@{home}"
    binary = home / "policy.bin"
    binary.write_bytes(b"\xff\xfe{not utf-8")
    return f"@{binary}"


def _role(arn: str) -> list[str]:
    """A role with a working source profile: were the ARN accepted, STS would be called."""
    return ["--role-arn", arn, "--source-profile", "base"]


R = _role(ROLE)

# (argv after `credproc`, exit code, what the error line must name)
BAD_COMMAND_LINES: list[tuple[list[str], int, str]] = [
    (_role("arn:aws:s3:::my-bucket"), 2, "--role-arn"),
    (_role("arn:aws:iam::123456789012:user/alice"), 2, "role"),
    (_role("arn:aws:iam::12345:role/dev"), 2, "--role-arn"),
    (_role("arn:aws:iam::1234567890123:role/dev"), 2, "--role-arn"),
    (_role(""), 2, "empty"),
    (_role("arn:aws:iam::123456789012:role/"), 2, "--role-arn"),
    (_role(f"arn:aws:iam::123456789012:role/{'n' * 65}"), 2, "--role-arn"),
    (_role(f"arn:aws:iam::123456789012:role/{'p/' * 300}dev"), 2, "path"),
    # Arabic-Indic digits are \d to Python's re, but not to IAM.
    (_role("arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/dev"), 2, "--role-arn"),
    (_role("not an arn at all"), 2, "not an ARN"),
    ([*R, "--duration", "899"], 2, "--duration"),
    ([*R, "--duration", "43201"], 2, "--duration"),
    ([*R, "--duration", "one hour"], 2, "--duration"),
    ([*R, "--duration", "3600.5"], 2, "--duration"),
    ([*R, "--duration", "-3600"], 2, "--duration"),
    ([*R, "--duration", ""], 2, "--duration"),
    ([*R, "--duration", "3600", "--refresh-window", "3600"], 2, "window"),
    ([*R, "--duration", "900", "--refresh-window", "901"], 2, "window"),
    ([*R, "--refresh-window", "-1"], 2, "--refresh-window"),
    ([*R, "--refresh-window", "soon"], 2, "--refresh-window"),
    ([*R, "--mfa-duration", "129601"], 2, "--mfa-duration"),
    ([*R, "--role-session-name", "x"], 2, "--role-session-name"),
    ([*R, "--role-session-name", "s" * 65], 2, "--role-session-name"),
    ([*R, "--role-session-name", "two words"], 2, "--role-session-name"),
    ([*R, "--role-session-name", "naïve-user"], 2, "--role-session-name"),
    ([*R, "--role-session-name", "a/b"], 2, "--role-session-name"),
    ([*R, "--source-identity", "i"], 2, "--source-identity"),
    ([*R, "--source-identity", "who?"], 2, "--source-identity"),
    ([*R, "--source-identity", "é" * 10], 2, "--source-identity"),
    ([*R, "--external-id", "x"], 2, "--external-id"),
    ([*R, "--external-id", "e" * 1225], 2, "--external-id"),
    ([*R, "--policy", "{not json"], 2, "--policy"),
    ([*R, "--policy", '["a list"]'], 2, "--policy"),
    ([*R, "--policy", LONG_POLICY], 2, "--policy"),
    ([*R, "--policy", '{"Version": NaN}'], 2, "--policy"),
    ([*R, "--policy", "[" * 20_000], 2, "--policy"),
    ([*R, "--policy", '{"a":' * 20_000], 2, "--policy"),
    ([*R, "--policy", "@missing"], 3, "--policy"),
    ([*R, "--policy", "@directory"], 3, "--policy"),
    ([*R, "--policy", "@binary"], 3, "--policy"),
    (
        R + [a for i in range(11) for a in ("--policy-arn", f"arn:aws:iam::aws:policy/P{i}")],
        2,
        "--policy-arn",
    ),
    ([*R, "--policy-arn", OTHER_ACCOUNT_ROLE], 2, "--policy-arn"),
    ([*R, *[a for i in range(51) for a in ("--tag", f"k{i}=v")]], 2, "--tag"),
    ([*R, "--tag", "team"], 2, "--tag"),
    ([*R, "--tag", "=value"], 2, "--tag"),
    ([*R, "--tag", f"{'k' * 129}=v"], 2, "--tag"),
    ([*R, "--tag", f"k={'v' * 257}"], 2, "--tag"),
    ([*R, "--tag", "k=semi;colon"], 2, "--tag"),
    ([*R, "--tag", "Team=a", "--tag", "team=b"], 2, "twice"),
    ([*R, "--tag", "a=b", "--transitive-tag-key", "c"], 2, "--transitive"),
    ([*R, "--region", "Mars-1"], 2, "--region"),
    ([*R, "--mfa-serial", "short"], 2, "--mfa-serial"),
    ([*R, "--lock-timeout", "0"], 2, "--lock-timeout"),
    ([*R, "--lock-timeout", "nan"], 2, "--lock-timeout"),
    ([*R, "--lock-timeout", "forever"], 2, "--lock-timeout"),
    ([*R, "--web-identity-token-file", "t"], 2, "web"),
    ([*R, "--no-such-option"], 2, "--no-such-option"),
    (["--role-arn", ROLE, "--source-profile"], 2, "--source-profile"),
    (["--source-profile", "base"], 2, "--role-arn"),
    ([], 2, "--role-arn"),
    (["env", *R, "--format", "xml"], 2, "--format"),
    (["exec", *R, "true"], 2, "--"),
    (["doctor", "dev", "--profile", "base"], 2, "two profiles"),
    (["doctor", "dev", "extra"], 2, "extra"),
    (["completion", "tcsh"], 2, "tcsh"),
    (["completion"], 2, "shell"),
    ([*R, "--mfa-prompt", "zenity"], 2, "--mfa-serial"),
    ([*R, "--mfa-serial", "arn:aws:iam::123456789012:mfa/a", "--mfa-prompt", "x"], 2, "auto"),
    (["cache"], 2, "action"),
    (["cache", "clear"], 2, "--all"),
    (["cache", "shred"], 2, "shred"),
    (["--profile", "no-such-profile"], 3, "no-such-profile"),
    (["--profile", "base"], 3, "role_arn"),
    (["--role-arn", ROLE, "--source-profile", "no-such-source"], 3, "no-such-source"),
    ([*R, "--log-file", "/proc/no/such/dir/log"], 3, "log file"),
]


@pytest.mark.parametrize(
    ("argv", "code", "named"),
    BAD_COMMAND_LINES,
    ids=[" ".join(c[0])[-60:] for c in BAD_COMMAND_LINES],
)
def test_bad_command_line_fails_in_one_line_without_calling_sts(
    sandbox: Sandbox, argv: list[str], code: int, named: str
) -> None:
    argv = [
        _bad_policy_file(sandbox.home, arg[1:])
        if arg in ("@missing", "@directory", "@binary")
        else arg
        for arg in argv
    ]
    result = sandbox.main(*argv)

    line = assert_fails(result, code)
    assert named.lower() in line.lower()
    assert len(line) < 400  # an echoed 100 kB value would drown the message
    assert sandbox.server.calls() == 0


# -- a source profile without usable keys ------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "says"),
    [
        ({"aws_secret_access_key": BASE_SECRET}, "source profile 'broken' has no credentials"),
        ({"region": "eu-west-1"}, "source profile 'broken' has no credentials"),
        ({"aws_access_key_id": BASE_KEY_ID}, "missing: aws_secret_access_key"),
    ],
    ids=["secret only", "no keys", "key id only"],
)
def test_a_source_profile_without_usable_keys(
    sandbox: Sandbox, keys: dict[str, str], says: str
) -> None:
    sandbox.add_profile("broken", **keys)

    result = sandbox.main("--role-arn", ROLE, "--source-profile", "broken")

    assert_fails(result, 3, says)
    assert BASE_SECRET not in result.stderr
    assert sandbox.server.calls() == 0
