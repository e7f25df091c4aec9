"""credproc as users run it: a subprocess, the real aws CLI, real boto3 profile sessions."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timezone

import pytest
from support.assertions import assert_fails
from support.constants import BIN, ROLE
from support.sandbox import Sandbox

pytestmark = pytest.mark.integration

EXPIRATION = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def test_prints_one_compact_credential_process_document(sandbox: Sandbox) -> None:
    result = sandbox.credproc(*sandbox.role_args())

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # the Go SDK streams stderr live: silence on success
    assert result.stdout.count("\n") == 1 and result.stdout.endswith("}\n")
    document = result.json()
    assert list(document) == [
        "Version",
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ]
    assert document["Version"] == 1 and isinstance(document["Version"], int)
    assert EXPIRATION.fullmatch(document["Expiration"])
    expires = datetime.strptime(document["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
    left = expires.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)
    assert 3500 < left.total_seconds() <= 3600
    assert sandbox.server.calls("AssumeRole") == 1
    sent = sandbox.server.requests("AssumeRole")[0]
    assert sent["RoleArn"] == ROLE and sent["DurationSeconds"] == "3600"
    assert re.fullmatch(r"credproc-[\w+=,.@-]+", sent["RoleSessionName"])


def test_second_call_is_served_from_the_cache(sandbox: Sandbox) -> None:
    first = sandbox.credproc(*sandbox.role_args())
    second = sandbox.credproc(*sandbox.role_args())

    assert second.returncode == 0
    assert second.stdout == first.stdout
    assert sandbox.server.calls("AssumeRole") == 1
    entries = list(sandbox.cache_dir.glob("*.json"))
    assert len(entries) == 1
    assert entries[0].stat().st_mode & 0o777 == 0o600
    assert sandbox.cache_dir.stat().st_mode & 0o777 == 0o700


def test_python_dash_m_is_the_same_command(sandbox: Sandbox) -> None:
    result = sandbox.run([sys.executable, "-m", "credproc", *sandbox.role_args()])

    assert result.returncode == 0, result.stderr
    assert result.json()["Version"] == 1


@pytest.mark.parametrize(
    "change",
    [
        ["--duration", "7200"],
        ["--role-session-name", "other-session"],
        ["--external-id", "partner-42"],
        ["--region", "us-west-2"],
        ["--source-identity", "alice"],
        ["--tag", "team=payments"],
        ["--policy", '{"Version": "2012-10-17", "Statement": []}'],
        ["--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
    ],
)
def test_any_identity_change_never_returns_the_old_token(
    sandbox: Sandbox, change: list[str]
) -> None:
    original = sandbox.credproc(*sandbox.role_args()).json()
    changed = sandbox.credproc(*sandbox.role_args(ROLE, *change))

    assert changed.returncode == 0, changed.stderr
    assert changed.json()["AccessKeyId"] != original["AccessKeyId"]
    assert sandbox.server.calls("AssumeRole") == 2


def test_behaviour_options_share_the_token(sandbox: Sandbox) -> None:
    original = sandbox.credproc(*sandbox.role_args()).json()
    again = sandbox.credproc(*sandbox.role_args(ROLE, "--lock-timeout", "5", "-v"))

    assert again.json()["AccessKeyId"] == original["AccessKeyId"]
    assert sandbox.server.calls("AssumeRole") == 1
    assert "cache hit" in again.stderr


def test_no_cache_calls_sts_every_time_and_writes_nothing(sandbox: Sandbox) -> None:
    for _ in range(2):
        assert sandbox.credproc(*sandbox.role_args(ROLE, "--no-cache")).returncode == 0

    assert sandbox.server.calls("AssumeRole") == 2
    assert not sandbox.cache_dir.exists()


def test_default_cache_dir_is_the_user_cache_dir(sandbox: Sandbox) -> None:
    del sandbox.env["CREDPROC_CACHE_DIR"]
    assert sandbox.credproc(*sandbox.role_args()).returncode == 0

    entries = list((sandbox.home / ".cache" / "credproc").glob("*.json"))
    assert len(entries) == 1


def test_aws_cli_uses_the_role_and_reaches_sts_once(sandbox: Sandbox) -> None:
    sandbox.add_profile(
        "dev",
        credential_process=f"credproc --role-arn {ROLE} --source-profile base",
        region="eu-west-1",
    )
    identity = sandbox.run(["aws", "--profile", "dev", "sts", "get-caller-identity"])
    assert identity.returncode == 0, identity.stderr
    assert json.loads(identity.stdout)["Arn"].startswith(
        "arn:aws:sts::123456789012:assumed-role/dev/"
    )

    made = sandbox.run(["aws", "--profile", "dev", "s3", "mb", "s3://credproc-test"])
    listed = sandbox.run(["aws", "--profile", "dev", "s3", "ls"])
    assert made.returncode == 0, made.stderr
    assert listed.returncode == 0 and "credproc-test" in listed.stdout
    assert sandbox.server.calls("AssumeRole") == 1


def test_aws_cli_shows_credprocs_error_line(sandbox: Sandbox) -> None:
    sandbox.add_profile(
        "broken", credential_process=f"credproc --role-arn {ROLE} --source-profile nope"
    )
    result = sandbox.run(["aws", "--profile", "broken", "sts", "get-caller-identity"])

    assert result.returncode != 0
    assert "source profile 'nope'" in result.stderr
    assert sandbox.server.calls() == 0


def test_boto3_profile_session(sandbox: Sandbox) -> None:
    sandbox.add_profile(
        "dev", credential_process=f"credproc --role-arn {ROLE} --source-profile base"
    )
    script = (
        "import boto3, json\n"
        "session = boto3.Session(profile_name='dev', region_name='eu-west-1')\n"
        "print(json.dumps(session.client('sts').get_caller_identity()['Arn']))\n"
        "print(json.dumps(boto3.Session(profile_name='dev').client('sts', "
        "region_name='eu-west-1').get_caller_identity()['Arn']))\n"
    )
    result = sandbox.run([str(BIN / "python"), "-c", script])

    assert result.returncode == 0, result.stderr
    arns = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(arn.startswith("arn:aws:sts::123456789012:assumed-role/dev/") for arn in arns)
    assert sandbox.server.calls("AssumeRole") == 1


def test_source_from_environment_ignores_an_inherited_aws_profile(sandbox: Sandbox) -> None:
    # The client exports AWS_PROFILE=dev, and dev is the profile running credproc: following
    # it would recurse. credproc takes the source only from what the request names.
    sandbox.add_profile("dev", credential_process=f"credproc --role-arn {ROLE}")
    env = {
        "AWS_PROFILE": "dev",
        "AWS_ACCESS_KEY_ID": "AKIAENVIRONMENTKEY01",
        "AWS_SECRET_ACCESS_KEY": "environment-secret",
    }
    result = sandbox.credproc("--role-arn", ROLE, env=env, timeout=30)

    assert result.returncode == 0, result.stderr
    assert sandbox.server.calls("AssumeRole") == 1


def test_no_source_credentials_at_all_is_a_clear_error(sandbox: Sandbox) -> None:
    result = sandbox.credproc("--role-arn", ROLE, timeout=30)

    line = assert_fails(result, 4)
    assert line.startswith("credproc: error: no source credentials found")


def test_verbose_and_log_file_say_what_happened(sandbox: Sandbox) -> None:
    log = sandbox.home / "credproc.core.log"
    cold = sandbox.credproc(*sandbox.role_args(ROLE, "-v"))
    hit = sandbox.credproc(*sandbox.role_args(), env={"CREDPROC_LOG_FILE": str(log)})

    assert cold.returncode == 0
    assert f"new token from STS for role {ROLE}, cached" in cold.stderr
    assert "STS AssumeRole answered in" not in cold.stderr  # that detail is --debug only
    assert hit.returncode == 0
    assert hit.stderr == ""  # a log file alone keeps stderr quiet
    assert "cache hit" in log.read_text()
    assert log.stat().st_mode & 0o777 == 0o600


def test_debug_adds_a_traceback_to_an_error(sandbox: Sandbox) -> None:
    result = sandbox.credproc("--role-arn", "nope", "--debug")

    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("credproc: error: --role-arn is not an ARN")
