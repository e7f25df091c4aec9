"""The examples run as users would run them: the script, and the conftest in a pytest run."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from support.constants import ROLE
from support.sandbox import Sandbox

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
USES_AWS = """
def test_who_am_i(aws_session):
    arn = aws_session.client("sts").get_caller_identity()["Arn"]
    assert arn == "arn:aws:sts::123456789012:assumed-role/dev/pytest"


def test_same_session(aws_session):
    assert aws_session.client("s3").list_buckets()["Buckets"] == []
"""


def test_boto3_script_runs_rounds_on_one_token(sandbox: Sandbox) -> None:
    script = [sys.executable, str(EXAMPLES / "boto3_script.py"), *sandbox.role_args()]
    result = sandbox.run([*script, "--times", "3", "--every", "0"])
    again = sandbox.credproc(*sandbox.role_args())

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("arn:aws:sts::123456789012:assumed-role/dev/") for line in lines)
    assert again.returncode == 0
    assert sandbox.server.calls("AssumeRole") == 1  # the CLI shares the script's token


def test_boto3_script_reports_credprocs_error(sandbox: Sandbox) -> None:
    result = sandbox.run([sys.executable, str(EXAMPLES / "boto3_script.py"), "--role-arn", "x"])

    assert result.returncode == 2
    assert result.stderr.startswith("boto3_script: --role-arn is not an ARN")
    assert sandbox.server.calls() == 0


@pytest.mark.parametrize("role", [ROLE, ""])
def test_example_conftest_in_a_pytest_run(sandbox: Sandbox, tmp_path: Path, role: str) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(EXAMPLES / "conftest.py", project / "conftest.py")
    (project / "test_uses_aws.py").write_text(USES_AWS)
    env = {"AWS_TEST_ROLE_ARN": role, "AWS_TEST_SOURCE_PROFILE": "base"}

    result = sandbox.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-W",
            "error",
            "-p",
            "no:cacheprovider",
            str(project),
        ],
        env=env,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    if role:
        assert "2 passed" in result.stdout
        assert sandbox.server.calls("AssumeRole") == 1  # one session for the whole run
    else:
        assert "2 skipped" in result.stdout
        assert sandbox.server.calls() == 0
