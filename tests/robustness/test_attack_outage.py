"""STS outages and a skewed STS clock.

In every outage a still-valid cached token is served with one warning line (exit 0, the old
token) and without one the run fails with one clear line (exit 5); the number of attempts is
counted where they arrive, never inferred from timing. The clock tests check that freshness
is judged by STS's clock and that Expiration is printed in this machine's.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from support import entries
from support.assertions import assert_fails, assert_warns
from support.constants import BASE_KEY_ID, BASE_SECRET, ROLE
from support.hostile import only_entry
from support.processes import stopped_at, wait_all
from support.sandbox import Result, Sandbox

from credproc.aws import iam, sts
from credproc.aws.boto import DEADLINE, MAX_ATTEMPTS, READ_TIMEOUT
from credproc.core.credentials import parse_expiration
from credproc.errors import ServiceUnavailableError


class Gate:
    """A loopback port in front of the STS server that forwards, hangs up on every connection
    (counting them: a broken proxy), or is closed (STS down). The endpoint URL is part of the
    cache key, so an outage must happen at the very address the token was cached from."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.hanging_up = False
        self.hung_up = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            if self.hanging_up:
                self.hung_up += 1
                client.close()
            else:
                threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        with client, socket.create_connection(self.upstream, timeout=30) as server:
            back = threading.Thread(target=_pump, args=(server, client), daemon=True)
            back.start()
            _pump(client, server)
            back.join(timeout=30)

    def close(self) -> None:
        # shutdown first: close alone leaves the thread's accept() listening on Linux.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(timeout=10)


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)


@pytest.fixture
def gate(sandbox: Sandbox) -> Iterator[Gate]:
    """The sandbox's STS, reached through a gate the test can break."""
    through = Gate(sandbox.server.url)
    sandbox.env["AWS_ENDPOINT_URL"] = through.url
    yield through
    through.close()


# name: (server fault, attempts the server sees, what the error line says)
FAULTS: dict[str, tuple[dict[str, Any], int, str]] = {
    "throttling": ({"status": 400, "code": "Throttling"}, MAX_ATTEMPTS, "throttling"),
    "internal error": ({"status": 500, "code": "InternalFailure"}, MAX_ATTEMPTS, "HTTP 500"),
    "garbage": ({"garbage": True}, 1, "not an STS response"),
    "connection closed": ({"reset": True}, MAX_ATTEMPTS, "the connection was closed"),
}


def _served_stale(result: Result, token: str) -> None:
    """Exit 0 with the cached token and exactly one warning saying so."""
    assert result.returncode == 0, result.stderr
    assert result.json()["AccessKeyId"] == token
    assert_warns(result, "serving the cached token")


def _cache_a_due_token(sandbox: Sandbox) -> str:
    """A token cached, due for refresh, valid for ten more minutes."""
    token: str = sandbox.main(*sandbox.role_args()).json()["AccessKeyId"]
    sandbox.expire_entries(seconds_left=600)
    sandbox.server.reset()  # count only what follows
    return token


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failing_sts_without_a_cached_token(sandbox: Sandbox, fault: str) -> None:
    injected, attempts, says = FAULTS[fault]
    sandbox.server.fault("AssumeRole", **injected)

    result = sandbox.main(*sandbox.role_args())

    assert_fails(result, 5, says)
    assert sandbox.server.calls("AssumeRole") == attempts
    assert sum(sandbox.server.disturbed().values()) == attempts  # each one by the fault


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failing_sts_with_a_due_token_serves_it(sandbox: Sandbox, fault: str) -> None:
    token = _cache_a_due_token(sandbox)
    injected, attempts, _ = FAULTS[fault]
    sandbox.server.fault("AssumeRole", **injected)

    result = sandbox.main(*sandbox.role_args())

    _served_stale(result, token)
    assert sandbox.server.calls("AssumeRole") == attempts


def test_a_token_about_to_expire_is_not_served_in_an_outage(sandbox: Sandbox) -> None:
    sandbox.main(*sandbox.role_args())
    sandbox.expire_entries(seconds_left=30)  # under a minute: useless by the time it is used
    sandbox.server.fault("AssumeRole", status=400, code="Throttling")

    assert_fails(sandbox.main(*sandbox.role_args()), 5, "throttling")


@pytest.mark.integration
def test_an_sts_slower_than_the_read_timeout(sandbox: Sandbox) -> None:
    """Each attempt times out; the attempts are bounded and counted at the server."""
    token = _cache_a_due_token(sandbox)
    sandbox.server.fault("AssumeRole", delay=READ_TIMEOUT + 2)

    result = sandbox.credproc(*sandbox.role_args(), timeout=120)

    _served_stale(result, token)
    assert "cannot reach STS" in result.stderr
    assert sandbox.server.calls("AssumeRole") == MAX_ATTEMPTS


# 16 bytes a second: each read is well inside the read timeout, and an AssumeRole answer
# (over a kilobyte) takes over a minute in all: only the deadline of every call ends it.
DRIP = 16


@pytest.mark.integration
def test_a_dripping_sts_without_a_cached_token_is_exit_5_at_the_deadline(
    sandbox: Sandbox,
) -> None:
    sandbox.server.fault("AssumeRole", drip=DRIP)

    started = time.monotonic()
    result = sandbox.credproc(*sandbox.role_args(), timeout=120)
    took = time.monotonic() - started

    assert_fails(result, 5, f"did not finish AssumeRole within {DEADLINE:g} s")
    # Given up on at the deadline, mid-answer: the server saw credproc hang up (timed, only
    # that it waited the deadline out; the time after it is the machine's).
    assert took >= DEADLINE, took
    sandbox.server.wait_for_dropped(1)
    assert sandbox.server.disturbed() == {"drip": 1}  # one attempt


@pytest.mark.integration
def test_a_dripping_sts_serves_the_live_cached_token_at_the_deadline(sandbox: Sandbox) -> None:
    token = _cache_a_due_token(sandbox)
    sandbox.server.fault("AssumeRole", drip=DRIP)

    started = time.monotonic()
    result = sandbox.credproc(*sandbox.role_args(), timeout=120)
    took = time.monotonic() - started

    _served_stale(result, token)
    assert f"did not finish AssumeRole within {DEADLINE:g} s" in result.stderr
    assert took >= DEADLINE, took
    sandbox.server.wait_for_dropped(1)  # hung up mid-answer
    assert sandbox.server.disturbed() == {"drip": 1}


def _calling(operation: str) -> bool:
    """Whether credproc's worker thread for this AWS call is still running."""
    return any(t.name == f"credproc-{operation}" and t.is_alive() for t in threading.enumerate())


def test_the_deadline_holds_for_iam_and_from_any_thread(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process, as the Python API and exec --server call AWS: from a thread that is not the
    main one (no SIGALRM there), through the client every service gets. A short deadline keeps
    the test quick; the subprocess tests above use the real one."""
    for name, value in sandbox.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("credproc.aws.boto.DEADLINE", 3.0)
    sandbox.server.fault("ListAccessKeys", drip=DRIP)
    session = sts.keys_session(BASE_KEY_ID, BASE_SECRET, "us-east-1")
    outcome: list[BaseException | float | bool] = []

    def call() -> None:
        started = time.monotonic()
        try:
            iam.access_key_ids(session, None, "us-east-1")
        except ServiceUnavailableError as error:
            outcome.extend((error, time.monotonic() - started, _calling("ListAccessKeys")))

    caller = threading.Thread(target=call)
    caller.start()
    caller.join(timeout=30)

    assert not caller.is_alive()
    error, took, still_calling = outcome
    assert "IAM" in str(error) and "did not finish ListAccessKeys within 3 s" in str(error)
    # Given up on at the deadline, not when the answer ended: the call was still reading it.
    # (No upper bound on the time: the client made before the call takes what the machine
    # gives it, seconds on a loaded one.)
    assert isinstance(took, float) and took >= 3
    assert still_calling is True
    # The call given up on ends once the answer stops, and makes no other attempt.
    sandbox.server.clear_faults()
    for worker in [t for t in threading.enumerate() if t.name == "credproc-ListAccessKeys"]:
        worker.join(timeout=10)
        assert not worker.is_alive()
    assert sandbox.server.calls("ListAccessKeys") == 1


def test_sts_down_serves_a_due_token(sandbox: Sandbox, gate: Gate) -> None:
    token = _cache_a_due_token(sandbox)
    gate.close()  # nothing listens there any more: connection refused

    result = sandbox.main(*sandbox.role_args())

    _served_stale(result, token)
    assert f"cannot reach STS at {gate.url}" in result.stderr


def test_sts_down_without_a_cached_token(sandbox: Sandbox, gate: Gate) -> None:
    gate.close()

    assert_fails(sandbox.main(*sandbox.role_args()), 5, f"cannot reach STS at {gate.url}")


def test_a_connection_closed_at_once_is_retried_a_bounded_number_of_times(
    sandbox: Sandbox, gate: Gate
) -> None:
    token = _cache_a_due_token(sandbox)
    gate.hanging_up = True

    stale = sandbox.main(*sandbox.role_args())
    _served_stale(stale, token)
    assert gate.hung_up == MAX_ATTEMPTS

    (only_entry(sandbox.cache_dir)).unlink()
    assert_fails(sandbox.main(*sandbox.role_args()), 5, "cannot reach STS")
    assert gate.hung_up == 2 * MAX_ATTEMPTS
    assert sandbox.server.calls() == 0


# -- a skewed clock ----------------------------------------------------------------------------
#
# server.skew(s) makes STS's Date header say now + s while moto still states Expiration by the
# true clock: by STS's own clock the token then has s seconds less to live than it seems here.


def _stored(sandbox: Sandbox) -> tuple[datetime, float]:
    """The cached token's Expiration as STS stated it, and the clock offset stored with it."""
    document = entries.document(only_entry(sandbox.cache_dir))
    return parse_expiration(document["credentials"]["Expiration"]), document["clock_offset"]


def _skew_said(stderr: str) -> int:
    """The skew -v reports, in seconds: positive when this machine is behind STS."""
    match = re.search(r"clock is (\d+) s (behind|ahead of) STS's", stderr)
    assert match, stderr
    return int(match[1]) * (1 if match[2] == "behind" else -1)


def test_freshness_is_judged_by_stss_clock(sandbox: Sandbox) -> None:
    sandbox.server.skew(3000)  # an hour's token has ten minutes left by STS's clock

    first = sandbox.main(*sandbox.role_args(), "-v")

    assert first.returncode == 0, first.stderr
    expiry, offset = _stored(sandbox)
    assert abs(offset - 3000) <= 2
    assert abs(_skew_said(first.stderr) - 3000) <= 2
    printed = parse_expiration(first.json()["Expiration"])
    assert printed == expiry - timedelta(seconds=offset)  # stated in this machine's clock

    second = sandbox.main(*sandbox.role_args())  # ten minutes left < the 15-minute window

    assert second.json()["AccessKeyId"] != first.json()["AccessKeyId"]
    assert sandbox.server.calls("AssumeRole") == 2


def test_a_token_all_but_expired_by_stss_clock_is_not_served_in_an_outage(
    sandbox: Sandbox,
) -> None:
    sandbox.server.skew(3570)  # by STS's clock the token has 30 seconds left
    assert sandbox.main(*sandbox.role_args()).returncode == 0
    sandbox.server.fault("AssumeRole", status=400, code="Throttling")

    assert_fails(sandbox.main(*sandbox.role_args()), 5, "throttling")


def test_a_clock_ahead_of_sts_is_reported_and_does_not_shorten_the_token(
    sandbox: Sandbox,
) -> None:
    sandbox.server.skew(-7200)
    first = sandbox.main(*sandbox.role_args())
    expiry, offset = _stored(sandbox)
    assert abs(offset + 7200) <= 2
    assert parse_expiration(first.json()["Expiration"]) == expiry - timedelta(seconds=offset)

    hit = sandbox.main(*sandbox.role_args(), "-v")
    table = sandbox.main("cache", "list")
    listing = json.loads(sandbox.main("cache", "list", "--json").stdout)

    assert hit.json() == first.json()
    assert sandbox.server.calls("AssumeRole") == 1
    assert abs(_skew_said(hit.stderr) + 7200) <= 2
    assert abs(listing[0]["clock_skew_seconds"] + 7200) <= 2
    header, row = table.stdout.splitlines()
    assert header.split()[-2:] == ["STS", "CLOCK"]
    assert row.split()[-1] in ("-2h00m", "-1h59m")


@pytest.mark.integration
def test_waiters_for_a_token_sts_issues_already_due_serve_it_without_a_warning(
    sandbox: Sandbox,
) -> None:
    """STS's clock 60 s ahead makes a 900 s token due at once under a 895 s refresh window.
    Processes that waited for its refresh serve it as refreshed: nothing failed, so no warning
    (they used to say another credproc had failed), and no second STS call."""
    args = sandbox.role_args(ROLE, "--duration", "900", "--refresh-window", "895")
    sandbox.server.skew(60)
    refresher = stopped_at(sandbox, "fetch", *args)  # holding the lock
    waiters = sandbox.waiting(3, *args)
    refresher.send_signal(signal.SIGCONT)

    results = wait_all([refresher, *waiters])

    token = results[0].json()["AccessKeyId"]
    for result in results:
        assert result.returncode == 0, result.stderr
        assert result.json()["AccessKeyId"] == token
        assert "WARNING" not in result.stderr
    assert sandbox.server.calls("AssumeRole") == 1


def test_no_clock_column_without_skew(sandbox: Sandbox) -> None:
    cached = sandbox.main(*sandbox.role_args())
    assert cached.returncode == 0, cached.stderr

    table = sandbox.main("cache", "list")

    assert table.returncode == 0, table.stderr
    header, _row = table.stdout.splitlines()  # the entry is listed, yet no clock column
    assert header.split()[-1] == "STATE"
    assert "CLOCK" not in table.stdout
    assert sandbox.server.calls("AssumeRole") == 1
