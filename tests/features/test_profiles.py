"""--profile: a profile's keys are credproc's options (flags win), for the aws CLI and for
credproc itself; a profile that cannot work is named in one clear line."""

from __future__ import annotations

import json

import pytest
from support.assertions import assert_fails
from support.constants import ROLE
from support.sandbox import Sandbox


def _add_role_profile(sandbox: Sandbox, name: str = "dev-role", **extra: str) -> None:
    sandbox.add_profile(
        name,
        role_arn=ROLE,
        source_profile="base",
        external_id="partner-42",
        duration_seconds="1800",
        role_session_name="ci-session",
        credproc_tag="team=payments, env=prod",
        **extra,
    )


def test_profile_keys_reach_sts(sandbox: Sandbox) -> None:
    _add_role_profile(sandbox)
    result = sandbox.main("--profile", "dev-role")

    assert result.returncode == 0, result.stderr
    sent = sandbox.server.requests("AssumeRole")
    assert len(sent) == 1
    assert sent[0]["RoleArn"] == ROLE
    assert sent[0]["ExternalId"] == "partner-42"
    assert sent[0]["DurationSeconds"] == "1800"
    assert sent[0]["RoleSessionName"] == "ci-session"
    assert sent[0]["Tags.member.1.Key"] == "team"
    assert sent[0]["Tags.member.2.Value"] == "prod"


def test_flags_win_over_profile_keys(sandbox: Sandbox) -> None:
    _add_role_profile(sandbox)
    result = sandbox.main("--profile", "dev-role", "--duration", "900", "--external-id", "xy")

    assert result.returncode == 0, result.stderr
    sent = sandbox.server.requests("AssumeRole")[0]
    assert (sent["DurationSeconds"], sent["ExternalId"]) == ("900", "xy")


@pytest.mark.integration
def test_aws_cli_through_a_profile_that_names_credprocs_profile(sandbox: Sandbox) -> None:
    _add_role_profile(sandbox)
    sandbox.add_profile("dev", credential_process="credproc --profile dev-role", region="eu-west-1")

    for _ in range(2):
        result = sandbox.run(["aws", "--profile", "dev", "sts", "get-caller-identity"])
        assert result.returncode == 0, result.stderr
        arn = json.loads(result.stdout)["Arn"]
        assert arn == "arn:aws:sts::123456789012:assumed-role/dev/ci-session"
    assert sandbox.server.calls("AssumeRole") == 1


def test_cache_clear_by_profile_uses_the_profiles_cache_dir(sandbox: Sandbox) -> None:
    del sandbox.env["CREDPROC_CACHE_DIR"]  # only the profile names a cache dir
    own_dir = sandbox.home / "own-cache"
    _add_role_profile(sandbox, credproc_cache_dir=str(own_dir))
    sandbox.main("--profile", "dev-role")
    assert len(list(own_dir.glob("*.json"))) == 1

    cleared = sandbox.main("cache", "clear", "--profile", "dev-role")

    assert cleared.stdout == "removed 1 cached token\n"
    assert list(own_dir.glob("*.json")) == []


@pytest.mark.integration
def test_a_profile_that_runs_credproc_on_itself_is_a_clear_error(sandbox: Sandbox) -> None:
    sandbox.add_profile("dev", credential_process="credproc --profile dev", region="eu-west-1")
    direct = sandbox.credproc("--profile", "dev")
    through_cli = sandbox.run(["aws", "--profile", "dev", "sts", "get-caller-identity"])

    line = assert_fails(direct, 3, "[profile dev-role]")
    assert line.startswith("credproc: error: profile 'dev' has no role_arn; it runs")
    assert through_cli.returncode != 0
    assert "profile 'dev' has no role_arn" in through_cli.stderr
    assert sandbox.server.calls() == 0


def test_a_profile_that_is_its_own_source_is_a_clear_error(sandbox: Sandbox) -> None:
    sandbox.add_profile("dev", role_arn=ROLE, source_profile="dev")
    result = sandbox.main("--profile", "dev")

    assert result.returncode == 7
    assert result.stdout == ""
    assert result.stderr == (
        "credproc: error: loop: profile 'dev' names itself as its source_profile\n"
    )
    assert sandbox.server.calls() == 0


@pytest.mark.integration
def test_a_source_profile_cycle_through_credproc_is_a_loop(sandbox: Sandbox) -> None:
    # dev's source runs `credproc --profile dev` again: the nested credproc sees its parent's
    # request in CREDPROC_CHAIN and refuses before waiting on the lock its parent holds.
    sandbox.add_profile("dev", role_arn=ROLE, source_profile="back")
    sandbox.add_profile("back", credential_process="credproc --profile dev")
    result = sandbox.credproc("--profile", "dev", timeout=30)

    line = assert_fails(result, 7)
    assert line.startswith("credproc: error: loop: credproc calls itself")
    assert sandbox.server.calls() == 0


def test_a_client_profile_points_to_the_profile_credproc_reads(sandbox: Sandbox) -> None:
    # `aws --profile dev` users try `credproc exec --profile dev` first.
    _add_role_profile(sandbox)
    sandbox.add_profile("dev", credential_process="credproc --profile dev-role")

    result = sandbox.main("exec", "--profile", "dev", "--", "true")

    assert result.returncode == 3
    assert result.stderr == (
        "credproc: error: profile 'dev' has no role_arn; its credential_process runs "
        "credproc --profile dev-role: use --profile dev-role\n"
    )
    assert sandbox.server.calls() == 0
