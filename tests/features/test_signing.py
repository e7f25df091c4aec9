"""Who signed each STS call, and for which region, read from the signature at the server.

moto accepts any signature, so only this tells a role chained through the wrong keys, or an
MFA role signed with the long-term keys, from the right thing."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from support.constants import BASE_KEY_ID, MFA_SERIAL, ROLE
from support.mfa import TokenCommand
from support.sandbox import Sandbox

HUB = "arn:aws:iam::123456789012:role/hub"


def exported(lines: str) -> dict[str, str]:
    """The variables `export K=V` lines set, read as sh reads them."""
    words = [shlex.split(line) for line in lines.splitlines()]
    return dict(word[1].split("=", 1) for word in words if word[:1] == ["export"])


def _signed(sandbox: Sandbox, action: str) -> list[tuple[str, str]]:
    """(signing key id, signing region) of each call of this action, oldest first."""
    return [
        (call["_signing_key_id"], call["_signing_region"])
        for call in sandbox.server.requests(action)
    ]


def test_a_role_is_signed_by_the_source_profile(sandbox: Sandbox) -> None:
    assert sandbox.main(*sandbox.role_args()).returncode == 0
    assert _signed(sandbox, "AssumeRole") == [(BASE_KEY_ID, "eu-west-1")]


@pytest.mark.integration
def test_a_chained_role_is_signed_by_the_role_below(sandbox: Sandbox) -> None:
    hub_line = f"credproc --role-arn {HUB} --source-profile base"
    sandbox.add_profile("hub", credential_process=hub_line, region="eu-west-1")

    outer = sandbox.credproc("--role-arn", ROLE, "--source-profile", "hub")
    hub = sandbox.credproc("--role-arn", HUB, "--source-profile", "base")  # a cache hit

    assert outer.returncode == 0 and hub.returncode == 0, outer.stderr
    calls = {
        call["RoleArn"]: call["_signing_key_id"] for call in sandbox.server.requests("AssumeRole")
    }
    assert calls == {HUB: BASE_KEY_ID, ROLE: hub.json()["AccessKeyId"]}


@pytest.mark.integration
def test_an_mfa_role_is_signed_by_the_mfa_session(sandbox: Sandbox, tmp_path: Path) -> None:
    token = TokenCommand(tmp_path)
    mfa = ["--mfa-serial", MFA_SERIAL, "--mfa-token-command", str(token)]

    role = sandbox.credproc(*sandbox.role_args(), *mfa)
    session = sandbox.credproc("--source-profile", "base", *mfa)  # the MFA session, cached

    assert role.returncode == 0 and session.returncode == 0, role.stderr
    assert _signed(sandbox, "GetSessionToken") == [(BASE_KEY_ID, "eu-west-1")]
    assert _signed(sandbox, "AssumeRole") == [(session.json()["AccessKeyId"], "eu-west-1")]


def test_web_identity_is_not_signed(sandbox: Sandbox, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJub25lIn0.e30.")
    result = sandbox.main("--role-arn", ROLE, "--web-identity-token-file", str(token))

    assert result.returncode == 0, result.stderr
    assert _signed(sandbox, "AssumeRoleWithWebIdentity") == [("", "")]


# -- one region for the STS call, the cache key and what env hands on ----------------------
#
# The documented order: --region, the source profile's region, AWS_REGION, AWS_DEFAULT_REGION,
# then us-east-1 for the STS call alone (env then sets no region).

REGION_CASES = {
    "flag beats all": (
        {"region": "eu-west-1"},
        {"AWS_REGION": "ca-central-1"},
        ["--region", "sa-east-1"],
        "sa-east-1",
        "sa-east-1",
    ),
    "profile beats the environment": (
        {"region": "eu-west-1"},
        {"AWS_DEFAULT_REGION": "ap-south-1"},
        [],
        "eu-west-1",
        "eu-west-1",
    ),
    "AWS_REGION without a profile region": (
        {},
        {"AWS_REGION": "ca-central-1", "AWS_DEFAULT_REGION": "ap-south-1"},
        [],
        "ca-central-1",
        "ca-central-1",
    ),
    "AWS_DEFAULT_REGION last": (
        {},
        {"AWS_DEFAULT_REGION": "ap-south-1"},
        [],
        "ap-south-1",
        "ap-south-1",
    ),
    "nothing: us-east-1 for STS, none for env": ({}, {}, [], "us-east-1", None),
}


@pytest.mark.parametrize("case", sorted(REGION_CASES))
def test_one_region_for_the_call_and_for_env(sandbox: Sandbox, case: str) -> None:
    profile_keys, environ, flags, signed, exported_region = REGION_CASES[case]
    sandbox.write_config("")
    sandbox.add_profile(
        "base", aws_access_key_id=BASE_KEY_ID, aws_secret_access_key="x" * 40, **profile_keys
    )
    args = [*sandbox.role_args(), *flags]

    env = sandbox.main("env", *args, env=environ)

    assert env.returncode == 0, env.stderr
    assert _signed(sandbox, "AssumeRole") == [(BASE_KEY_ID, signed)]
    variables = exported(env.stdout)
    assert variables.get("AWS_REGION") == exported_region
    assert variables.get("AWS_DEFAULT_REGION") == exported_region
