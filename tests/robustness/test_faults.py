"""Broken caches and broken STS: credentials still flow where they can, errors are one line."""

from __future__ import annotations

import json
import socket

import pytest
from support import entries
from support.assertions import assert_fails, assert_warns
from support.constants import ROLE
from support.hostile import only_entry
from support.processes import wait_for_calls
from support.sandbox import Sandbox


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"not json at all", b'{"format": 1}', b"[]", b"\xff\xfe\x00garbage"],
    ids=["empty", "truncated", "text", "wrong-shape", "array", "binary"],
)
def test_a_corrupt_entry_is_a_miss_and_gets_replaced(sandbox: Sandbox, content: bytes) -> None:
    first = sandbox.main(*sandbox.role_args()).json()
    with open(only_entry(sandbox.cache_dir), "wb") as entry:
        entry.write(content)

    second = sandbox.main(*sandbox.role_args())
    third = sandbox.main(*sandbox.role_args())

    assert second.returncode == 0 and second.stderr == ""
    assert second.json()["AccessKeyId"] != first["AccessKeyId"]
    assert third.stdout == second.stdout
    assert sandbox.server.calls("AssumeRole") == 2


def test_an_entry_for_another_request_is_never_served(sandbox: Sandbox) -> None:
    sandbox.main(*sandbox.role_args(f"{ROLE}-a"))
    sandbox.main(*sandbox.role_args(f"{ROLE}-b"))
    by_role = {
        entries.document(path)["request"]["role_arn"]: path
        for path in sandbox.cache_dir.glob("*.json")
    }
    # a's entry copied under b's name: a whole, valid entry, but not for this request
    by_role[f"{ROLE}-b"].write_bytes(by_role[f"{ROLE}-a"].read_bytes())

    again = sandbox.main(*sandbox.role_args(f"{ROLE}-b"))

    assert again.returncode == 0
    assert sandbox.server.calls("AssumeRole") == 3


def test_an_unusable_cache_dir_degrades_to_no_caching(sandbox: Sandbox) -> None:
    blocker = sandbox.home / "not-a-dir"
    blocker.write_text("a file where the cache dir should be")
    env = {"CREDPROC_CACHE_DIR": str(blocker)}

    results = [sandbox.main(*sandbox.role_args(), env=env) for _ in range(2)]

    for result in results:
        assert result.returncode == 0
        assert result.json()["Version"] == 1
        assert "not using the cache dir" in result.stderr
        assert "continuing without caching" in result.stderr
    assert sandbox.server.calls("AssumeRole") == 2
    assert blocker.read_text() == "a file where the cache dir should be"


def test_a_cache_dir_that_cannot_be_created_degrades_too(sandbox: Sandbox) -> None:
    blocker = sandbox.home / "file"
    blocker.write_text("x")
    result = sandbox.main(*sandbox.role_args(), env={"CREDPROC_CACHE_DIR": str(blocker / "c")})

    assert result.returncode == 0
    assert "not using the cache dir" in result.stderr
    assert "Not a directory" in result.stderr


def test_sts_outage_serves_the_cached_token_with_a_warning(sandbox: Sandbox) -> None:
    cached = sandbox.main(*sandbox.role_args())
    sandbox.server.fault("AssumeRole", status=503)

    sandbox.expire_entries(seconds_left=600)  # inside the 15-minute refresh window

    due = sandbox.main(*sandbox.role_args())

    assert due.returncode == 0
    assert due.json()["AccessKeyId"] == cached.json()["AccessKeyId"]
    assert sandbox.server.calls("AssumeRole") == 1 + 3  # the first call, then the retries
    line = assert_warns(due, "serving the cached token")
    assert line.startswith("credproc: WARNING: STS failed AssumeRole")


def test_sts_outage_without_a_cached_token_is_one_clear_error(sandbox: Sandbox) -> None:
    sandbox.server.fault("AssumeRole", status=503)

    result = sandbox.main(*sandbox.role_args())

    assert result.returncode == 5
    assert result.stdout == ""
    assert result.stderr == (
        "credproc: error: STS failed AssumeRole with ServiceUnavailable (HTTP 503)\n"
    )
    assert sandbox.server.calls("AssumeRole") == 3  # bounded standard-mode retries


def test_throttling_after_retries_is_reported_as_such(sandbox: Sandbox) -> None:
    sandbox.server.fault("AssumeRole", status=400, code="Throttling")

    result = sandbox.main(*sandbox.role_args())

    assert result.returncode == 5
    assert "STS is throttling AssumeRole" in result.stderr
    assert sandbox.server.calls("AssumeRole") == 3


def test_unreachable_sts_is_one_clear_error(sandbox: Sandbox) -> None:
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed}"}

    result = sandbox.main(*sandbox.role_args(), env=env)

    assert result.returncode == 5
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"credproc: error: cannot reach STS at http://127.0.0.1:{closed}"
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDenied", f"STS denied AssumeRole {ROLE}: injected by the test"),
        ("ExpiredToken", "the source credentials have expired"),
        ("InvalidClientTokenId", "the source credentials are not valid"),
    ],
)
def test_sts_refusals_are_mapped_to_one_line(sandbox: Sandbox, code: str, expected: str) -> None:
    sandbox.server.fault("AssumeRole", status=403, code=code)

    result = sandbox.main(*sandbox.role_args())

    assert_fails(result, 4, expected)
    assert sandbox.server.calls("AssumeRole") == 1  # refusals are not retried


def test_an_expired_cached_token_is_never_served_during_an_outage(sandbox: Sandbox) -> None:
    sandbox.main(*sandbox.role_args())
    sandbox.server.fault("AssumeRole", status=503)
    sandbox.expire_entries(seconds_left=-5)

    result = sandbox.main(*sandbox.role_args())

    assert result.returncode == 5
    assert result.stdout == ""


def test_a_due_token_is_refreshed_when_sts_is_up(sandbox: Sandbox) -> None:
    first = sandbox.main(*sandbox.role_args()).json()
    sandbox.expire_entries(seconds_left=600)

    second = sandbox.main(*sandbox.role_args())

    assert second.json()["AccessKeyId"] != first["AccessKeyId"]
    assert sandbox.server.calls("AssumeRole") == 2


@pytest.mark.integration
def test_waiters_do_not_pile_onto_a_failing_sts(sandbox: Sandbox) -> None:
    cached = sandbox.credproc(*sandbox.role_args()).json()
    sandbox.expire_entries(seconds_left=600)  # due for refresh, still good for 10 minutes
    sandbox.server.fault("AssumeRole", status=400, code="Throttling", delay=1)
    refresher = sandbox.popen(*sandbox.role_args())
    # The first run's call, then the refresher's: it holds the lock and is inside STS.
    wait_for_calls(sandbox, "AssumeRole", 1 + 1)
    waiters = sandbox.waiting(3, *sandbox.role_args())

    outcomes = [process.communicate(timeout=120) for process in [refresher, *waiters]]

    assert all(process.returncode == 0 for process in [refresher, *waiters])
    assert {json.loads(stdout)["AccessKeyId"] for stdout, _ in outcomes} == {cached["AccessKeyId"]}
    # One refresher's bounded retries, not one set per waiting process.
    assert sandbox.server.calls("AssumeRole") == 1 + 3
    assert all("another credproc just failed to refresh" in err for _, err in outcomes[1:])
