"""After a refresh fails while the cached token still lives, runs back off: they serve the
token at once, without trying STS, until the backoff ends. botocore runs credential_process on
every API call while a token is due, so without this each call would pay STS's whole retry
budget (a silent STS: about 15 s a call)."""

from __future__ import annotations

from support import entries
from support.assertions import assert_warns
from support.hostile import only_entry
from support.sandbox import Sandbox

from credproc.aws.boto import MAX_ATTEMPTS


def _end_backoff(sandbox: Sandbox) -> None:
    """As if the backoff period had passed."""
    entries.rewrite(
        only_entry(sandbox.cache_dir), lambda document: document["backoff"].update(retry_after=0)
    )


def test_runs_back_off_after_a_failed_refresh(sandbox: Sandbox) -> None:
    token = sandbox.main(*sandbox.role_args()).json()["AccessKeyId"]
    sandbox.expire_entries(seconds_left=600)
    sandbox.server.reset()
    sandbox.server.fault("AssumeRole", status=400, code="Throttling")

    first = sandbox.main(*sandbox.role_args())
    assert sandbox.server.calls("AssumeRole") == MAX_ATTEMPTS
    later = [sandbox.main(*sandbox.role_args()) for _ in range(5)]
    listed = sandbox.main("cache", "list", "--json").json_list()

    assert_warns(first, "throttling", "serving the cached token")
    for result in later:
        assert result.json()["AccessKeyId"] == token
        assert_warns(result, "1 refresh(es) in a row", "next try in")
    assert sandbox.server.calls("AssumeRole") == MAX_ATTEMPTS  # not one more attempt
    assert listed[0]["state"].startswith("backoff, next try in")
    assert listed[0]["refresh_failures"] == 1
    assert 0 < listed[0]["backoff_seconds"] <= 30


def test_the_next_run_after_the_backoff_tries_and_a_success_clears_it(
    sandbox: Sandbox,
) -> None:
    sandbox.main(*sandbox.role_args())
    sandbox.expire_entries(seconds_left=600)
    sandbox.server.reset()
    sandbox.server.fault("AssumeRole", status=400, code="Throttling")
    sandbox.main(*sandbox.role_args())
    _end_backoff(sandbox)

    sandbox.main(*sandbox.role_args())  # tries again, fails again: a longer backoff
    assert sandbox.server.calls("AssumeRole") == 2 * MAX_ATTEMPTS
    assert entries.document(only_entry(sandbox.cache_dir))["backoff"]["failures"] == 2

    sandbox.server.clear_faults()
    _end_backoff(sandbox)
    fresh = sandbox.main(*sandbox.role_args())

    assert fresh.returncode == 0 and fresh.stderr == ""
    assert "backoff" not in entries.document(only_entry(sandbox.cache_dir))
    assert sandbox.main("cache", "list", "--json").json_list()[0]["state"] == "fresh"


def test_verbose_says_why_no_refresh_is_tried(sandbox: Sandbox) -> None:
    sandbox.main(*sandbox.role_args())
    sandbox.expire_entries(seconds_left=600)
    sandbox.server.fault("AssumeRole", status=400, code="Throttling")
    sandbox.main(*sandbox.role_args())

    result = sandbox.main(*sandbox.role_args(), "-v")

    assert result.returncode == 0
    assert "next try in" in result.stderr
