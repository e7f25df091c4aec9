"""The algorithm's branches in-process, with a fake fetch step: milliseconds each.

The subprocess suites prove the same against a real STS and real processes; these pin down
which branch serves what, and exactly when the fetch step runs."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from credproc.config.options import RawOptions
from credproc.config.resolve import resolve
from credproc.core import provider
from credproc.core.cache import FIRST_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS, Backoff, Cache
from credproc.core.credentials import Credentials, Fetched
from credproc.core.lock import Held
from credproc.core.request import Request
from credproc.errors import (
    CHAIN_VARIABLE,
    AuthError,
    LoginRequiredError,
    LoopError,
    MfaError,
    ServiceUnavailableError,
    SsoLoginError,
)

ROLE = "arn:aws:iam::123456789012:role/dev"
MFA = "arn:aws:iam::123456789012:mfa/alice"


class FakeSts:
    """A fetch step that hands out numbered tokens, or fails as told, and records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Request, Credentials | None]] = []
        self.failure: Exception | None = None
        self.lifetime: int | None = None  # default: the request's duration

    def __call__(self, request: Request, mfa_session: Credentials | None) -> Fetched:
        self.calls.append((request, mfa_session))
        if self.failure is not None:
            raise self.failure
        lifetime = self.lifetime or request.duration
        expiration = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=lifetime)
        number = len(self.calls)
        return Fetched(Credentials(f"ASIA{number}", f"secret{number}", "token", expiration), 0.0)

    def roles(self) -> list[str | None]:
        return [request.role_arn for request, _ in self.calls]


@pytest.fixture
def sts() -> FakeSts:
    return FakeSts()


@pytest.fixture(autouse=True)
def _no_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CHAIN_VARIABLE, raising=False)


def _request(tmp_path: Path, **options: object) -> Request:
    values = {"role_arn": ROLE, "cache_dir": str(tmp_path / "cache"), **options}
    return resolve(RawOptions(values), {})


def _age(request: Request, seconds_left: float) -> None:
    """Make the cached token expire in ``seconds_left``, as if it had aged."""
    cache = Cache(request.cache_dir or "")
    entry = cache.read(request)
    assert entry is not None
    moment = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=seconds_left)
    cache.write(request, entry.credentials._replace(expiration=moment), 0.0)


def test_a_miss_fetches_once_and_then_hits(tmp_path: Path, sts: FakeSts) -> None:
    request = _request(tmp_path)

    first = provider.get_credentials(request, sts)
    second = provider.get_credentials(request, sts)

    assert first.access_key_id == second.access_key_id == "ASIA1"
    assert len(sts.calls) == 1


def test_a_token_inside_the_refresh_window_is_refreshed(tmp_path: Path, sts: FakeSts) -> None:
    request = _request(tmp_path)
    provider.get_credentials(request, sts)
    _age(request, request.refresh_window - 1)

    assert provider.get_credentials(request, sts).access_key_id == "ASIA2"
    assert provider.get_credentials(request, sts).access_key_id == "ASIA2"  # cached again


def test_without_a_cache_every_call_fetches(tmp_path: Path, sts: FakeSts) -> None:
    request = _request(tmp_path, no_cache=True)

    provider.get_credentials(request, sts)
    provider.get_credentials(request, sts)

    assert len(sts.calls) == 2
    assert not (tmp_path / "cache").exists()


def test_an_outage_serves_the_cached_token_while_it_lives(tmp_path: Path, sts: FakeSts) -> None:
    request = _request(tmp_path)
    provider.get_credentials(request, sts)
    _age(request, 300)
    sts.failure = ServiceUnavailableError("down")

    assert provider.get_credentials(request, sts).access_key_id == "ASIA1"
    assert len(sts.calls) == 2  # it did try


def test_an_outage_with_less_than_a_minute_left_fails(tmp_path: Path, sts: FakeSts) -> None:
    request = _request(tmp_path)
    provider.get_credentials(request, sts)
    _age(request, provider.STALE_MINIMUM_SECONDS - 5)
    sts.failure = ServiceUnavailableError("down")

    with pytest.raises(ServiceUnavailableError, match="down"):
        provider.get_credentials(request, sts)


def test_a_refusal_is_never_answered_with_the_old_token(tmp_path: Path, sts: FakeSts) -> None:
    request = _request(tmp_path)
    provider.get_credentials(request, sts)
    _age(request, 300)
    sts.failure = AuthError("denied")

    with pytest.raises(AuthError):
        provider.get_credentials(request, sts)


@pytest.mark.parametrize("ended", [LoginRequiredError, SsoLoginError])
def test_an_ended_sign_in_session_serves_the_cached_token_while_it_lives(
    tmp_path: Path, sts: FakeSts, ended: type[AuthError], caplog: pytest.LogCaptureFixture
) -> None:
    """Unlike STS's refusal (above), an ended session is served around, as an outage is."""
    request = _request(tmp_path)
    provider.get_credentials(request, sts)
    _age(request, 300)
    sts.failure = ended("the session has ended; sign in again: credproc login --profile p")

    caplog.clear()  # what earlier calls (and tests) logged is not this refresh's warning
    assert provider.get_credentials(request, sts).access_key_id == "ASIA1"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "credproc login --profile p; serving the cached token" in warnings[0]
    _age(request, provider.STALE_MINIMUM_SECONDS - 5)
    with pytest.raises(ended, match="has ended"):
        provider.get_credentials(request, sts)


def _lock_that(before: object = None, *, waited: bool = False) -> object:
    """A stand-in for refresh_lock: runs ``before`` once the lock is 'taken', and says whether
    this process had to wait for another refresher."""

    @contextlib.contextmanager
    def refresh_lock(path: str, timeout: float) -> Iterator[Held]:
        if callable(before):
            before()
        yield Held(locked=True, waited=waited)

    return refresh_lock


def test_the_entry_is_read_again_under_the_lock(
    tmp_path: Path, sts: FakeSts, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = _request(tmp_path)
    provider.get_credentials(request, sts)
    _age(request, 300)
    other = FakeSts()
    other.calls = [(request, None)] * 7  # its token is "ASIA8"

    def another_process_refreshes() -> None:
        fetched = other(request, None)
        Cache(request.cache_dir or "").write(request, fetched.credentials, 0.0)

    monkeypatch.setattr(
        "credproc.core.provider.refresh_lock", _lock_that(another_process_refreshes)
    )

    assert provider.get_credentials(request, sts).access_key_id == "ASIA8"
    assert len(sts.calls) == 1  # only the first fill: the re-read found the new token


def test_a_waiter_behind_a_failed_refresh_serves_the_live_token(
    tmp_path: Path, sts: FakeSts, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = _request(tmp_path)
    provider.get_credentials(request, sts)
    _age(request, 300)
    monkeypatch.setattr("credproc.core.provider.refresh_lock", _lock_that(waited=True))

    assert provider.get_credentials(request, sts).access_key_id == "ASIA1"
    assert len(sts.calls) == 1  # no second attempt on a struggling STS


def test_a_waiter_with_a_dying_token_fetches_itself(
    tmp_path: Path, sts: FakeSts, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = _request(tmp_path)
    provider.get_credentials(request, sts)
    _age(request, 10)
    monkeypatch.setattr("credproc.core.provider.refresh_lock", _lock_that(waited=True))

    assert provider.get_credentials(request, sts).access_key_id == "ASIA2"


def test_one_mfa_session_serves_every_role(tmp_path: Path, sts: FakeSts) -> None:
    first = _request(tmp_path, mfa_serial=MFA)
    second = _request(tmp_path, mfa_serial=MFA, role_arn=f"{ROLE}-2")

    provider.get_credentials(first, sts)
    provider.get_credentials(second, sts)

    assert sts.roles() == [None, ROLE, f"{ROLE}-2"]  # one GetSessionToken, then two roles
    session_token = sts.calls[0]
    assert session_token[0].mfa_serial == MFA and session_token[1] is None
    assert sts.calls[1][1] == sts.calls[2][1]  # both signed by that one MFA session
    assert sts.calls[1][1] is not None and sts.calls[1][1].access_key_id == "ASIA1"


def test_a_refused_mfa_session_is_forgotten(tmp_path: Path, sts: FakeSts) -> None:
    request = _request(tmp_path, mfa_serial=MFA)
    provider.get_credentials(request, sts)
    _age(request, 10)  # the role is due; its MFA session is still cached
    sts.failure = MfaError("STS no longer accepts the MFA session")

    with pytest.raises(MfaError, match="run again to enter a new code"):
        provider.get_credentials(request, sts)
    sts.failure = None
    provider.get_credentials(request, sts)

    assert sts.roles()[-2:] == [None, ROLE]  # a new MFA session first, then the role


def test_a_request_already_being_refreshed_up_the_chain_is_a_loop(
    tmp_path: Path, sts: FakeSts, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = _request(tmp_path)
    monkeypatch.setenv(CHAIN_VARIABLE, f"other,{request.key}")

    with pytest.raises(LoopError, match="calls itself"):
        provider.get_credentials(request, sts)
    assert sts.calls == []


def test_the_chain_marks_the_request_only_while_it_refreshes(
    tmp_path: Path, sts: FakeSts, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = _request(tmp_path)
    seen: list[str | None] = []

    def fetch(request: Request, mfa_session: Credentials | None) -> Fetched:
        seen.append(os.environ.get(CHAIN_VARIABLE))
        return sts(request, mfa_session)

    provider.get_credentials(request, fetch)

    assert seen == [request.key]
    assert CHAIN_VARIABLE not in os.environ


# -- backing off after a failed refresh ---------------------------------------------------


def _retry_now(request: Request) -> None:
    """End the entry's backoff, as if its period had passed."""
    cache = Cache(request.cache_dir or "")
    entry = cache.read(request)
    assert entry is not None
    cache.write(request, entry.credentials, entry.clock_offset, Backoff(entry.backoff.failures))


def test_a_failed_refresh_backs_off_then_tries_again(tmp_path: Path, sts: FakeSts) -> None:
    request = _request(tmp_path)
    provider.get_credentials(request, sts)
    _age(request, 300)
    sts.failure = ServiceUnavailableError("down")

    provider.get_credentials(request, sts)  # tries, fails, serves the old token
    provider.get_credentials(request, sts)  # within the backoff: no try
    provider.get_credentials(request, sts)
    assert len(sts.calls) == 2

    _retry_now(request)
    provider.get_credentials(request, sts)  # the period is over: one try
    assert len(sts.calls) == 3
    entry = Cache(request.cache_dir or "").read(request)
    assert entry is not None and entry.backoff.failures == 2
    assert entry.backoff.seconds_to_wait() > FIRST_BACKOFF_SECONDS  # it grew


def test_a_success_ends_the_backoff(tmp_path: Path, sts: FakeSts) -> None:
    request = _request(tmp_path)
    provider.get_credentials(request, sts)
    _age(request, 300)
    sts.failure = ServiceUnavailableError("down")
    provider.get_credentials(request, sts)
    _retry_now(request)
    sts.failure = None

    assert provider.get_credentials(request, sts).access_key_id == "ASIA3"
    entry = Cache(request.cache_dir or "").read(request)
    assert entry is not None and entry.backoff == Backoff()


def test_no_backoff_serves_a_token_with_less_than_a_minute_left(
    tmp_path: Path, sts: FakeSts
) -> None:
    request = _request(tmp_path)
    provider.get_credentials(request, sts)
    _age(request, 300)
    sts.failure = ServiceUnavailableError("down")
    provider.get_credentials(request, sts)
    entry = Cache(request.cache_dir or "").read(request)
    assert entry is not None
    expiry = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=30)
    Cache(request.cache_dir or "").write(
        request, entry.credentials._replace(expiration=expiry), 0.0, entry.backoff
    )

    with pytest.raises(ServiceUnavailableError):
        provider.get_credentials(request, sts)
    assert len(sts.calls) == 3  # it tried: there was nothing worth serving


def test_a_backoff_further_off_than_the_cap_is_ignored() -> None:
    assert Backoff(1, time.time() + MAX_BACKOFF_SECONDS + 60).seconds_to_wait() == 0
    assert 0 < Backoff(1, time.time() + 10).seconds_to_wait() <= 10
