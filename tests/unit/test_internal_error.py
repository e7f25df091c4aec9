"""A bug in credproc's own code during a refresh is an internal error, never an outage.

Served a stale token instead, a bug would hide until the token ran out. The CLI runs in-process
(``cli.main``) with a fetch step that has a bug; the AWS error mapper is shown to leave a bug
alone while it still maps what botocore raises."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import botocore.exceptions
import pytest

from credproc.aws.answers import aws_error, translated
from credproc.cli import main as cli
from credproc.config.options import RawOptions
from credproc.config.resolve import resolve
from credproc.core.cache import Cache
from credproc.core.credentials import Credentials, Fetched
from credproc.core.deadline import DeadlinePassed
from credproc.core.request import Request
from credproc.errors import CHAIN_VARIABLE, ServiceUnavailableError

ROLE = "arn:aws:iam::123456789012:role/dev"


class BuggyStep:
    """A fetch step that works once, then fails with a plain bug; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.bug: Exception | None = None

    def __call__(self, request: Request, mfa_session: Credentials | None) -> Fetched:
        self.calls += 1
        if self.bug is not None:
            raise self.bug
        expiration = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1)
        return Fetched(Credentials("ASIAOLD", "secret", "token", expiration), 0.0)


@pytest.fixture
def step(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> BuggyStep:
    fetch = BuggyStep()
    monkeypatch.setattr("credproc.cli.commands.process.from_aws", fetch)  # its caller
    monkeypatch.delenv(CHAIN_VARIABLE, raising=False)
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    return fetch


def _due(cache_dir: Path) -> None:
    """Leave the cached token 10 minutes: inside the refresh window, alive enough to serve."""
    request = resolve(RawOptions({"role_arn": ROLE, "cache_dir": str(cache_dir)}), {})
    cache = Cache(str(cache_dir))
    entry = cache.read(request)
    assert entry is not None
    moment = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=600)
    cache.write(request, entry.credentials._replace(expiration=moment), 0.0)


@pytest.mark.parametrize("verbose", [False, True])
def test_a_bug_during_a_refresh_is_exit_1_not_the_stale_token(
    step: BuggyStep, tmp_path: Path, capsys: pytest.CaptureFixture[str], verbose: bool
) -> None:
    args = ["--role-arn", ROLE, "--cache-dir", str(tmp_path / "cache")]
    assert cli.main(args) == 0
    assert "ASIAOLD" in capsys.readouterr().out
    _due(tmp_path / "cache")
    step.bug = TypeError("'NoneType' object is not subscriptable")

    status = cli.main([*args, *(["-v"] if verbose else [])])

    out, err = capsys.readouterr()
    assert step.calls == 2  # the refresh was tried, and met the bug
    assert status == 1
    assert out == ""  # not the stale token
    last = err.splitlines()[-1]
    assert last == (
        "credproc: error: internal error: TypeError: 'NoneType' object is not subscriptable; "
        f"{cli.BUG_REPORT}"
    )
    assert ("Traceback (most recent call last)" in err) is verbose
    assert "serving the cached token" not in err


def test_the_mapper_leaves_a_bug_alone() -> None:
    def buggy() -> None:
        raise TypeError("a bug in the call's own code")

    assert aws_error("STS", "AssumeRole", TypeError("x")) is None
    with pytest.raises(TypeError, match="a bug in the call's own code"):
        translated("STS", "AssumeRole", buggy)


@pytest.mark.parametrize(
    "error",
    [
        botocore.exceptions.EndpointConnectionError(endpoint_url="https://sts.example"),
        botocore.exceptions.ReadTimeoutError(endpoint_url="https://sts.example"),
        botocore.exceptions.ConnectionClosedError(endpoint_url="https://sts.example"),
        DeadlinePassed(30),
    ],
)
def test_the_transport_failing_is_an_outage_for_every_service(error: Exception) -> None:
    for service, operation in (("STS", "AssumeRole"), ("IAM", "ListAccessKeys")):
        mapped = aws_error(service, operation, error)
        assert isinstance(mapped, ServiceUnavailableError), (service, mapped)
        assert service in str(mapped)
        assert operation in str(mapped)
