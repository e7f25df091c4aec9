"""The contract every call of the soak is held to, and the tally of what each call gave.

A call keeps the contract when it exits 0 with valid credentials (exactly one JSON document, or
the shell lines of ``env``, or the role's identity through the ``aws`` CLI) and at most one
warning line; or when it fails with one ``credproc: error:`` line, a documented exit status
(3..8) and nothing on stdout. Anything else is broken: a traceback, exit 1, partial stdout, a
hang. Calls whose process tree the chaos killed are counted, not judged.

Tokens are checked once more at the end, against the server's record of what it issued: every
token served was issued, for that role, and was still valid, by STS's clock as credproc
learned it, when it was served (``check_tokens``).
"""

from __future__ import annotations

import bisect
import json
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from soak_world import Role

ERROR = "credproc: error: "
WARNING = "credproc: WARNING: "
DOCUMENTED_FAILURES = range(3, 9)
# What the soak's world can cause: STS unavailable with no token left to serve (5), a refresh
# lock held past --lock-timeout (6). Its credentials are valid, its config sound, its MFA codes
# right: any other documented failure is a wrong verdict, and counts as broken.
EXPECTED_FAILURES = (5, 6)
EXPIRATION = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
FIELDS = ("Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
# The Date header counts whole seconds and credproc ignores skews of 5 s or less: how far a
# printed Expiration may be from STS's own, restated in this machine's clock.
CLOCK_TOLERANCE = 10.0
# The warning of a run that serves a token without trying STS, because a refresh failed up to
# ten minutes ago: the only warning that may come when nothing is failing now.
BACKOFF = "refresh(es) in a row; next try in"
# How long after a fault window closes a refresh that met it may still fail: its last attempt
# (5 s read timeout) and the retry delays before it (docs/security.md, "Outages").
GRACE = 20.0
# credproc never hands out a token with less than a minute left by STS's clock as it knows it
# (printed in the same clock); Expiration counts whole seconds.
STALE_MINIMUM = 60.0
CLOCK_ROUNDING = 2.0
READ_BACK = (
    'eval "$(cat)"; printf "%s\\n" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" '
    '"$AWS_SESSION_TOKEN" "$AWS_CREDENTIAL_EXPIRATION"'
)


@dataclass(frozen=True)
class Call:
    """One finished call: what the process gave, and what happened to it."""

    path: str
    role: Role
    returncode: int | None  # None: it hung and was stopped
    stdout: str
    stderr: str
    started: float  # time.time()
    ended: float
    killed: bool = False  # the chaos killed a process of its tree
    final: bool = False  # made after the chaos stopped: it must succeed


@dataclass(frozen=True)
class TokenUse:
    """A token a call was given, for the check against what the server issued."""

    key_id: str
    role_arn: str
    expiration: datetime | None  # as printed (this machine's clock); None if not shown
    at: float  # when it was handed over
    where: str


@dataclass
class Tally:
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (path, outcome)
    exit_codes: Counter[int] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    broken: list[str] = field(default_factory=list)
    tokens: list[TokenUse] = field(default_factory=list)
    # Warnings that a refresh just failed: (started, ended, where, line) of each call.
    claims: list[tuple[float, float, str, str]] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return sum(self.outcomes.values())

    def add(self, path: str, outcome: str, token: TokenUse | None = None) -> None:
        self.outcomes[path, outcome] += 1
        if token is not None:
            self.tokens.append(token)

    def warned(self, line: str) -> None:
        # Grouped by their words: numbers (seconds, counts) vary from run to run.
        self.warnings[re.sub(r"\d+", "N", line.removeprefix(WARNING))[:110]] += 1

    def fail(self, reason: str, call: Call | None = None) -> None:
        where = f"{call.path} {call.role.name} exit {call.returncode}: " if call else ""
        stderr = call.stderr.strip().replace("\n", " | ")[:300] if call else ""
        self.broken.append(f"{reason}: {where}{stderr}".rstrip(": "))


def judge(call: Call, tally: Tally) -> None:
    """Hold one call to the contract and count it."""
    if call.killed:
        tally.add(call.path, "killed")
        return
    if call.returncode is None:
        tally.add(call.path, "broken")
        tally.fail("hung", call)
        return
    verdict = _aws(call, tally) if call.path == "aws" else _credproc(call, tally)
    if call.final and verdict not in ("ok", "warned"):
        tally.fail("failed after the chaos stopped", call)
        verdict = "broken"
    tally.add(call.path, verdict)


def _credproc(call: Call, tally: Tally) -> str:
    lines = call.stderr.splitlines()
    if call.returncode != 0:
        return _failed(call, tally)
    if len(lines) > 1 or (lines and not lines[0].startswith(WARNING)):
        tally.fail("a success with more than one warning line on stderr", call)
        return "broken"
    credentials = _read_back(call.stdout) if call.path == "env" else _document(call.stdout)
    if credentials is None:
        tally.fail("a success without valid credentials on stdout", call)
        return "broken"
    key_id, expiration_text = credentials
    expiration = _parse(expiration_text)
    if expiration.timestamp() < call.started + STALE_MINIMUM - CLOCK_ROUNDING:
        left = expiration.timestamp() - call.started
        tally.fail(f"a token with {left:.0f} s left when the call started", call)
        return "broken"
    tally.tokens.append(
        TokenUse(key_id, call.role.arn, expiration, call.ended, f"{call.path} {call.role.name}")
    )
    if lines:
        tally.warned(lines[0])
        if BACKOFF not in lines[0]:
            where = f"{call.path} {call.role.name}"
            tally.claims.append((call.started, call.ended, where, lines[0]))
        return "warned"
    return "ok"


def _failed(call: Call, tally: Tally) -> str:
    lines = call.stderr.splitlines()
    if call.stdout:
        tally.fail("stdout is not empty on a failure", call)
        return "broken"
    if call.returncode not in DOCUMENTED_FAILURES:
        tally.fail("an undocumented exit status", call)
        return "broken"
    if len(lines) != 1 or not lines[0].startswith(ERROR) or not call.stderr.endswith("\n"):
        tally.fail("not exactly one error line", call)
        return "broken"
    if call.returncode not in EXPECTED_FAILURES:
        tally.fail(f"exit {call.returncode}, which nothing in the soak should cause", call)
        return "broken"
    tally.exit_codes[call.returncode or 0] += 1
    return "failed"


def _document(stdout: str) -> tuple[str, str] | None:
    """(AccessKeyId, Expiration) from exactly one credential_process document and a newline."""
    if not stdout.endswith("\n") or "\n" in stdout[:-1]:
        return None
    try:
        document = json.loads(stdout)
    except ValueError:
        return None
    if not isinstance(document, dict) or sorted(document) != sorted(FIELDS):
        return None
    if document["Version"] != 1 or isinstance(document["Version"], bool):
        return None
    if not all(isinstance(document[name], str) and document[name] for name in FIELDS[1:]):
        return None
    if not EXPIRATION.fullmatch(document["Expiration"]):
        return None
    return document["AccessKeyId"], document["Expiration"]


def _read_back(stdout: str) -> tuple[str, str] | None:
    """What a real shell sets from ``credproc env``'s lines (fed on stdin, never in argv)."""
    shell = subprocess.run(
        ["sh", "-c", READ_BACK], input=stdout, capture_output=True, text=True, check=False
    )
    values = shell.stdout.split("\n")
    if shell.returncode != 0 or len(values) != 5 or not all(values[:4]):
        return None
    if not EXPIRATION.fullmatch(values[3]):
        return None
    return values[0], values[3]


def _aws(call: Call, tally: Tally) -> str:
    """The aws CLI ran credproc as its credential_process: the role's identity, or credproc's
    one error line inside the CLI's message."""
    if call.returncode == 0:
        try:
            arn = str(json.loads(call.stdout)["Arn"])
        except (ValueError, KeyError, TypeError):
            tally.fail("aws printed no identity", call)
            return "broken"
        if call.role.identity not in arn:
            tally.fail(f"aws ran as {arn}", call)
            return "broken"
        return "ok"
    errors = [line for line in call.stderr.splitlines() if ERROR in line]
    if call.stdout or len(errors) != 1 or "internal error" in errors[0]:
        tally.fail("aws failed without one credproc error line", call)
        return "broken"
    return "failed"


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _parse_sts(text: str) -> datetime:
    """moto states Expiration with microseconds; real STS without."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def check_claims(tally: Tally, disruptions: list[tuple[float, float]]) -> None:
    """A warning that a refresh failed (STS's answer, another credproc's failure) must come
    while something failed: a fault window, or a kill, during the call (or just before: a
    refresh that met the fault fails once its retries are spent, after the window closed)."""
    for started, ended, where, line in tally.claims:
        if not any(start <= ended and started <= end + GRACE for start, end in disruptions):
            tally.fail(f"{where}: warned while nothing failed: {line}")


class Skews:
    """The skew the server's clock had at any moment: the chaos records every jump."""

    def __init__(self) -> None:
        self.times: list[float] = [0.0]
        self.values: list[float] = [0.0]

    def jumped(self, at: float, seconds: float) -> None:
        self.times.append(at)
        self.values.append(seconds)

    def at(self, moment: float) -> float:
        return self.values[bisect.bisect_right(self.times, moment) - 1]


def check_tokens(tally: Tally, issued: dict[str, dict[str, object]], skews: Skews) -> int:
    """Every token served against the server's record; returns how many were served after a
    clock jump made them expired by STS's new clock (documented: skew is learned at refresh)."""
    across_jumps = 0
    for use in tally.tokens:
        record = issued.get(use.key_id)
        if record is None:
            tally.fail(f"{use.where}: a token the server never issued ({use.key_id})")
            continue
        if record["role_arn"] != use.role_arn:
            tally.fail(f"{use.where}: a token of {record['role_arn']} ({use.key_id})")
            continue
        by_sts = _parse_sts(str(record["expiration"])).timestamp()
        skew = float(str(record["skew"]))
        local = by_sts - skew  # STS's expiry in this machine's clock, as credproc learned it
        printed = use.expiration.timestamp() if use.expiration else local
        if abs(printed - local) > CLOCK_TOLERANCE:
            tally.fail(f"{use.where}: Expiration is {printed - local:+.0f} s off STS's")
        if local <= use.at:
            tally.fail(f"{use.where}: a token expired by STS's clock ({use.key_id})")
        elif by_sts <= use.at + skews.at(use.at):
            across_jumps += 1
    return across_jumps
