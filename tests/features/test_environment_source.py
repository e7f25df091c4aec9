"""With no --source-profile, the source is botocore's default chain: environment keys first
(their key id in the cache key), then the [default] profile; never an inherited AWS_PROFILE."""

from __future__ import annotations

from support.assertions import assert_fails
from support.constants import BASE_KEY_ID, BASE_SECRET, MFA_SERIAL, ROLE
from support.sandbox import Sandbox

TEMPORARY = {
    "AWS_ACCESS_KEY_ID": "ASIATEMPORARYKEY0001",
    "AWS_SECRET_ACCESS_KEY": "t" * 40,
    "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEXAMPLE",
}


def _signers(sandbox: Sandbox) -> list[str]:
    return [call["_signing_key_id"] for call in sandbox.server.requests("AssumeRole")]


def test_temporary_environment_keys_are_the_source(sandbox: Sandbox) -> None:
    result = sandbox.main("--role-arn", ROLE, env=TEMPORARY)

    assert result.returncode == 0, result.stderr
    assert _signers(sandbox) == ["ASIATEMPORARYKEY0001"]


def test_two_environment_keys_never_share_a_token(sandbox: Sandbox) -> None:
    other = {**TEMPORARY, "AWS_ACCESS_KEY_ID": "ASIATEMPORARYKEY0002"}

    first = sandbox.main("--role-arn", ROLE, env=TEMPORARY)
    second = sandbox.main("--role-arn", ROLE, env=other)

    assert first.json()["AccessKeyId"] != second.json()["AccessKeyId"]
    assert _signers(sandbox) == ["ASIATEMPORARYKEY0001", "ASIATEMPORARYKEY0002"]


def test_the_default_profile_is_the_source_when_the_environment_has_no_keys(
    sandbox: Sandbox,
) -> None:
    (sandbox.home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIADEFAULTKEY000001\n"
        f"aws_secret_access_key = {BASE_SECRET}\n"
    )

    result = sandbox.main("--role-arn", ROLE, env={"AWS_PROFILE": "base"})

    assert result.returncode == 0, result.stderr
    assert _signers(sandbox) == ["AKIADEFAULTKEY000001"]  # not base's, which AWS_PROFILE names
    assert BASE_KEY_ID not in _signers(sandbox)


def test_mfa_with_temporary_environment_keys_is_refused_before_any_call(
    sandbox: Sandbox,
) -> None:
    result = sandbox.main(
        "--role-arn",
        ROLE,
        "--mfa-serial",
        MFA_SERIAL,
        "--mfa-token-command",
        "echo 123456",
        env=TEMPORARY,
    )

    assert_fails(result, 3, "AWS_SESSION_TOKEN", "temporary")
    assert sandbox.server.calls() == 0
