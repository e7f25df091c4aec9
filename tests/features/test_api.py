"""credproc.session and credproc.get_credentials against the moto server, in this process."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.constants import OTHER_ROLE, ROLE
from support.health import health
from support.sandbox import Sandbox

import credproc


@pytest.fixture
def api(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """The sandbox's environment as this process's own, for the API to read."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "CREDPROC_")):
            monkeypatch.delenv(name)
    for name, value in sandbox.env.items():
        monkeypatch.setenv(name, value)
    yield sandbox
    assert "CREDPROC_CHAIN" not in os.environ  # every refresh put the environment back


def _key(session: object) -> str:
    frozen = session.get_credentials().get_frozen_credentials()  # type: ignore[attr-defined]
    return str(frozen.access_key)


@pytest.mark.integration
def test_a_session_renews_its_token_through_the_shared_cache(api: Sandbox) -> None:
    # 900 s tokens are inside botocore's 15-minute refresh window from the start, so botocore
    # asks credproc again before every call: the cache answers until the entry is due.
    session = credproc.session(role_arn=ROLE, source_profile="base", duration=900)
    sts = session.client("sts")
    for _ in range(3):
        assert "assumed-role/dev/" in sts.get_caller_identity()["Arn"]
    first = _key(session)
    assert api.server.calls("AssumeRole") == 1

    api.expire_entries(seconds_left=400)  # below the 450 s window of a 900 s token

    assert "assumed-role/dev/" in sts.get_caller_identity()["Arn"]
    assert session.client("s3").list_buckets()["Buckets"] == []
    renewed = _key(session)
    assert renewed != first
    assert api.server.calls("AssumeRole") == 2
    # The CLI reads what the session's refresh cached.
    cli = api.credproc(*api.role_args(ROLE, "--duration", "900"))
    assert cli.json()["AccessKeyId"] == renewed
    assert api.server.calls("AssumeRole") == 2


@pytest.mark.integration
def test_the_api_serves_what_the_cli_cached(api: Sandbox) -> None:
    cli = api.credproc(*api.role_args()).json()

    credentials = credproc.get_credentials(ROLE, "base")
    session = credproc.session(ROLE, "base")

    assert isinstance(credentials, credproc.Credentials)
    assert credentials.access_key_id == cli["AccessKeyId"]
    assert credentials.expiration_text == cli["Expiration"]
    assert _key(session) == cli["AccessKeyId"]
    assert api.server.calls("AssumeRole") == 1


def test_options_reach_sts_as_from_the_command_line(api: Sandbox, tmp_path: Path) -> None:
    credentials = credproc.get_credentials(
        ROLE,
        "base",
        duration=1800,
        external_id="partner-42",
        role_session_name="api-test",
        tags={"team": "pay ments"},
        transitive_tag_keys=["team"],
        policy={"Version": "2012-10-17", "Statement": []},
        policy_arns=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        cache_dir=tmp_path / "own-cache",
    )

    (sent,) = api.server.requests("AssumeRole")
    assert sent["DurationSeconds"] == "1800"
    assert sent["ExternalId"] == "partner-42"
    assert sent["RoleSessionName"] == "api-test"
    assert (sent["Tags.member.1.Key"], sent["Tags.member.1.Value"]) == ("team", "pay ments")
    assert sent["TransitiveTagKeys.member.1"] == "team"
    assert sent["Policy"] == '{"Statement":[],"Version":"2012-10-17"}'
    assert sent["PolicyArns.member.1.arn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert 1700 < credentials.seconds_left(time.time()) <= 1800
    assert len(list((tmp_path / "own-cache").glob("*.json"))) == 1


def test_profile_option(api: Sandbox) -> None:
    api.add_profile("dev-role", role_arn=ROLE, source_profile="base", external_id="from-profile")

    credproc.get_credentials(profile="dev-role")

    assert api.server.requests("AssumeRole")[0]["ExternalId"] == "from-profile"


def test_session_region(api: Sandbox) -> None:
    assert credproc.session(ROLE, "base").region_name == "eu-west-1"  # base's region
    assert credproc.session(ROLE, "base", region_name="us-west-2").region_name == "us-west-2"


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"duration": 60}, credproc.UsageError, r"--duration 60 is out of range"),
        ({"tags": {"a=b": "c"}}, credproc.UsageError, r"a tag key with '='"),
        ({"policy_arns": "arn:aws:iam::aws:policy/X"}, TypeError, r"policy_arns= takes a list"),
        ({"tags": ["team=x"]}, TypeError, r"tags= takes a mapping"),
        ({"role": ROLE}, TypeError, r"unexpected keyword argument 'role'"),
        ({"source_profile": "missing"}, credproc.ConfigError, r"source profile 'missing'"),
    ],
)
def test_bad_options_raise_before_any_sts_call(
    api: Sandbox, options: dict[str, object], error: type[Exception], message: str
) -> None:
    arguments: dict[str, object] = {"role_arn": ROLE, "source_profile": "base", **options}
    with pytest.raises(error, match=message):
        credproc.session(**arguments)  # type: ignore[arg-type]
    assert api.server.calls() == 0


def test_threads_refreshing_at_once(api: Sandbox) -> None:
    # The refresher holds its refresh for a second at the server while the others arrive:
    # none may take another thread's refresh for a loop, and each role costs one STS call.
    api.server.fault("AssumeRole", delay=1)
    roles = [ROLE, OTHER_ROLE] * 3
    keys: list[str] = [""] * len(roles)
    errors: list[BaseException] = []

    def fetch(index: int) -> None:
        try:
            keys[index] = credproc.get_credentials(roles[index], "base").access_key_id
        except credproc.CredprocError as error:
            errors.append(error)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(len(roles))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(set(keys[0::2])) == 1
    assert len(set(keys[1::2])) == 1
    assert keys[0] != keys[1]
    assert api.server.calls("AssumeRole") == 2


# A long-lived program: 16 threads, each with its own session, across forced refreshes.
THREADS = 16
WARM_UP = 10  # rounds before the first measure: boto3 loads its models, pools fill
ROUNDS = 20  # refreshes between the two measures
# Bounds, each far below what a leak per refresh would add over ROUNDS refreshes:
FD_SLACK = 4  # a connection or two kept by a pool; one file or socket per refresh is 20
# Python objects: botocore's endpoint cache keeps about 4 per refresh until it holds 100
# entries; a boto3 session and client kept per refresh are about 26,000.
OBJECTS_PER_REFRESH = 25
# Memory: the C allocator's arenas (one per thread) grow towards their high-water marks over
# the first few dozen refreshes, by about 1 MiB a refresh after the warm-up and less and less
# (20 to 26 MiB over these 20, measured); a boto3 session and client kept per refresh would
# be about 8 MiB each.
RSS_PER_REFRESH_KIB = 3 * 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (support.health)")
def test_sixteen_threads_across_many_refreshes_keep_files_threads_and_memory_flat(
    api: Sandbox,
) -> None:
    rounds = threading.Barrier(THREADS + 1, timeout=120)
    last = threading.Event()
    failures: list[str] = []

    def caller() -> None:
        session = credproc.session(role_arn=ROLE, source_profile="base", duration=900)
        sts = session.client("sts")
        while True:
            # A 900 s token is inside botocore's 15-minute window: every call asks credproc.
            try:
                assert "assumed-role/dev/" in sts.get_caller_identity()["Arn"]
            except Exception as error:  # noqa: BLE001 - collected, the test fails below
                failures.append(repr(error))
            rounds.wait()  # this round's calls are done
            rounds.wait()  # the entry has aged: the next call refreshes
            if last.is_set():
                return

    threads = [threading.Thread(target=caller) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for index in range(WARM_UP + ROUNDS):
        rounds.wait()  # every thread parked, alive
        if index == WARM_UP - 1:
            before = health()
        if index == WARM_UP + ROUNDS - 1:
            after = health()
            last.set()
        api.expire_entries(seconds_left=400)  # under the 450 s window of a 900 s token
        rounds.wait()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert api.server.calls("AssumeRole") == WARM_UP + ROUNDS  # one refresh a round
    assert after.threads == before.threads
    assert after.fds <= before.fds + FD_SLACK
    assert after.objects - before.objects <= OBJECTS_PER_REFRESH * ROUNDS
    assert after.rss_kib - before.rss_kib <= RSS_PER_REFRESH_KIB * ROUNDS
