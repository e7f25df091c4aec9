"""The soak's judge (bench/soak_judge.py), call by call: each way of breaking the contract is
counted as broken, and what keeps it is not. A soak that could not see breakage would pass
whatever credproc did."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from soak_judge import Call, Skews, Tally, check_claims, check_tokens, judge
from soak_world import Role

ROLE = Role("plain", {"role_arn": "arn:aws:iam::123456789012:role/soak-plain"})
NOW = float(int(time.time()))  # whole seconds, as Expiration is printed: exact figures


def _in(seconds: float) -> str:
    """Expiration as credproc prints it, ``seconds`` after the judged calls started."""
    moment = datetime.fromtimestamp(NOW - 1 + seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


IN_AN_HOUR = _in(3600)
TOKEN = {
    "Version": 1,
    "AccessKeyId": "ASIAGOOD",
    "SecretAccessKey": "secret",
    "SessionToken": "token",
    "Expiration": IN_AN_HOUR,
}
GOOD = json.dumps(TOKEN, separators=(",", ":")) + "\n"
ERROR = "credproc: error: cannot reach STS at http://127.0.0.1:1 for AssumeRole\n"
STALE = "credproc: WARNING: STS is throttling AssumeRole; serving the cached token\n"
BACKOFF = "credproc: WARNING: STS failed 1 refresh(es) in a row; next try in 30 s\n"


def _call(
    returncode: int | None,
    stdout: str = "",
    stderr: str = "",
    *,
    path: str = "credproc",
    killed: bool = False,
    final: bool = False,
) -> Call:
    return Call(path, ROLE, returncode, stdout, stderr, NOW - 1, NOW, killed, final)


def _verdict(call: Call) -> tuple[str, Tally]:
    tally = Tally()
    judge(call, tally)
    ((_, outcome),) = tally.outcomes
    return outcome, tally


@pytest.mark.parametrize(
    ("call", "outcome"),
    [
        (_call(0, GOOD), "ok"),
        (_call(0, GOOD, STALE), "warned"),
        (_call(5, "", ERROR), "failed"),
        (_call(6, "", "credproc: error: another credproc process has been refreshing\n"), "failed"),
        (_call(-9, "", "", killed=True), "killed"),  # the chaos killed it: not judged
        (_call(0, '{"Arn": "arn:aws:sts::1:assumed-role/soak-plain/x"}', path="aws"), "ok"),
        (_call(255, "", "\nError when retrieving credentials: " + ERROR, path="aws"), "failed"),
    ],
)
def test_what_keeps_the_contract(call: Call, outcome: str) -> None:
    assert _verdict(call)[0] == outcome


@pytest.mark.parametrize(
    ("call", "why"),
    [
        (_call(1, "", "credproc: error: internal error: KeyError: 'x'\n"), "undocumented"),
        (_call(5, "", "Traceback (most recent call last):\n" + ERROR), "one error line"),
        (_call(5, GOOD[:40], ERROR), "stdout is not empty"),
        (_call(5, "", ERROR.rstrip("\n")), "one error line"),
        (
            _call(4, "", "credproc: error: source profile 'hub' could not get credentials\n"),
            "exit 4",
        ),
        (_call(0, GOOD, STALE + STALE), "more than one warning"),
        (_call(0, GOOD, "DEBUG something\n"), "more than one warning"),
        (_call(0, GOOD + GOOD), "without valid credentials"),
        (_call(0, GOOD.replace('"Version":1', '"Version":true')), "without valid credentials"),
        (_call(0, GOOD.replace("Z", "+00:00")), "without valid credentials"),
        (_call(0, json.dumps({**TOKEN, "Extra": 1}) + "\n"), "without valid credentials"),
        (_call(0, GOOD.replace(IN_AN_HOUR, "2001-01-01T00:00:00Z")), "s left when the call"),
        (_call(0, GOOD.replace(IN_AN_HOUR, _in(30))), "30 s left when the call started"),
        (_call(None), "hung"),
        (_call(5, "", ERROR, final=True), "after the chaos stopped"),
        pytest.param(  # the env output is read back by a real shell
            _call(0, "", "", path="env"), "without valid credentials", marks=pytest.mark.integration
        ),
        (_call(255, "", "Expecting value: line 1 column 1\n", path="aws"), "aws failed"),
        (_call(0, '{"Arn": "arn:aws:sts::1:assumed-role/other/x"}', path="aws"), "aws ran as"),
    ],
)
def test_what_breaks_the_contract(call: Call, why: str) -> None:
    outcome, tally = _verdict(call)
    assert outcome == "broken"
    assert len(tally.broken) == 1 and why in tally.broken[0], tally.broken


@pytest.mark.integration
def test_env_output_is_read_back_by_a_real_shell() -> None:
    lines = "".join(f"export {k}='{v}'\n" for k, v in _environment().items())
    assert _verdict(_call(0, lines, path="env"))[0] == "ok"
    no_token = "".join(line for line in lines.splitlines(True) if "SESSION" not in line)
    assert _verdict(_call(0, no_token, path="env"))[0] == "broken"


def _environment() -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "ASIAGOOD",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
        "AWS_CREDENTIAL_EXPIRATION": IN_AN_HOUR,
    }


def _issued(role_arn: str, by_sts: float, skew: float) -> dict[str, dict[str, object]]:
    """The server's record of ASIAGOOD: expiring ``by_sts`` s from now by STS's clock, issued
    while STS's clock was ``skew`` s ahead of ours."""
    expiry = datetime.fromtimestamp(NOW + by_sts, timezone.utc).isoformat()
    return {"ASIAGOOD": {"role_arn": role_arn, "expiration": expiry, "skew": skew}}


@pytest.mark.parametrize(
    ("issued", "why"),
    [
        ({}, "never issued"),
        (_issued("arn:aws:iam::123456789012:role/other", 3600, 0), "a token of"),
        (_issued(ROLE.arn, 3600, 600), "off STS's"),  # printed as if STS's clock were ours
        (_issued(ROLE.arn, 3600, 0), ""),
        (_issued(ROLE.arn, 3000, -600), ""),  # STS behind ours: its expiry, in our clock
        (_issued(ROLE.arn, 4200, 600), ""),  # STS ahead of ours: likewise
    ],
)
def test_tokens_are_checked_against_what_the_server_issued(
    issued: dict[str, dict[str, object]], why: str
) -> None:
    _, tally = _verdict(_call(0, GOOD))

    check_tokens(tally, issued, Skews())

    if why:
        assert len(tally.broken) == 1 and why in tally.broken[0], tally.broken
    else:
        assert tally.broken == []


def test_a_warning_that_something_failed_needs_something_to_have_failed() -> None:
    warned = _call(0, GOOD, STALE)
    _, quiet = _verdict(warned)
    check_claims(quiet, disruptions=[(NOW - 100, NOW - 50)])
    _, faulted = _verdict(warned)
    check_claims(faulted, disruptions=[(NOW - 100, NOW - 0.5)])
    _, just_after = _verdict(warned)  # a refresh that met the fault failed as it closed
    check_claims(just_after, disruptions=[(NOW - 100, NOW - 10)])
    _, backing_off = _verdict(_call(0, GOOD, BACKOFF))  # a failure up to ten minutes ago
    check_claims(backing_off, disruptions=[])

    assert len(quiet.broken) == 1 and "warned while nothing failed" in quiet.broken[0]
    assert faulted.broken == []
    assert just_after.broken == []
    assert backing_off.broken == []
