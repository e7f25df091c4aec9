"""A pytest fixture that gives a whole test run one boto3 Session on an assumed role.

Copy it into your own tests/conftest.py. The role comes from the environment, so CI and
laptops differ only in variables:

    AWS_TEST_ROLE_ARN=arn:aws:iam::123456789012:role/ci-tests
    AWS_TEST_SOURCE_PROFILE=base    # optional: else the environment's own credentials

Tests that take ``aws_session`` are skipped when no role is set. The session's credentials
renew themselves, so a run that outlasts the token keeps working, and parallel workers
(pytest-xdist) share one token through credproc's cache instead of each calling STS.
"""

from __future__ import annotations

import os

import boto3
import pytest

import credproc


@pytest.fixture(scope="session")
def aws_session() -> boto3.Session:
    role_arn = os.environ.get("AWS_TEST_ROLE_ARN")
    if not role_arn:
        pytest.skip("set AWS_TEST_ROLE_ARN to run the tests that use AWS")
    return credproc.session(
        role_arn=role_arn,
        source_profile=os.environ.get("AWS_TEST_SOURCE_PROFILE"),
        role_session_name="pytest",
    )
