"""Web identity: AssumeRoleWithWebIdentity from a token file (CI runners, Kubernetes), cached
and locked like any role, the file read afresh at every refresh."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.assertions import assert_fails
from support.constants import MFA_SERIAL, ROLE
from support.processes import wait_all
from support.sandbox import Sandbox

CI_ROLE = "arn:aws:iam::123456789012:role/ci"
ACTION = "AssumeRoleWithWebIdentity"
TOKEN_ONE = "eyJhbGciOiJSUzI1NiJ9.token-one.signature"
TOKEN_TWO = "eyJhbGciOiJSUzI1NiJ9.token-two.signature"


@pytest.fixture
def token_file(sandbox: Sandbox) -> Path:
    path = sandbox.home / "oidc-token"
    path.write_text(TOKEN_ONE + "\n")
    return path


def web_identity(sandbox: Sandbox, token_file: Path, *extra: str) -> str:
    args = ["--role-arn", CI_ROLE, "--web-identity-token-file", str(token_file), *extra]
    result = sandbox.main(*args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_assumes_the_role_with_the_token_and_no_source_credentials(
    sandbox: Sandbox, token_file: Path
) -> None:
    web_identity(sandbox, token_file, "--role-session-name", "pipeline-7")
    [call] = sandbox.server.requests(ACTION)
    assert call["RoleArn"] == CI_ROLE
    assert call["WebIdentityToken"] == TOKEN_ONE
    assert call["RoleSessionName"] == "pipeline-7"
    assert sandbox.server.calls() == 1  # no other STS call: the token is the only credential


def test_the_token_is_read_at_refresh_time_and_is_not_part_of_the_key(
    sandbox: Sandbox, token_file: Path
) -> None:
    first = web_identity(sandbox, token_file)
    # The runner rotates the file: the cached role token is still good, so nothing is sent.
    token_file.write_text(TOKEN_TWO)
    assert web_identity(sandbox, token_file) == first
    # A relative path names the same file, so the same entry.
    assert web_identity(sandbox, Path(token_file.name)) == first
    assert sandbox.server.calls(ACTION) == 1

    # Due for refresh: the new call sends the token now in the file.
    sandbox.expire_entries(seconds_left=300)
    assert web_identity(sandbox, token_file) != first
    assert [c["WebIdentityToken"] for c in sandbox.server.requests(ACTION)] == [
        TOKEN_ONE,
        TOKEN_TWO,
    ]


@pytest.mark.integration
def test_cold_processes_share_one_call(sandbox: Sandbox, token_file: Path) -> None:
    sandbox.server.fault(ACTION, delay=1)
    args = ["--role-arn", CI_ROLE, "--web-identity-token-file", str(token_file)]
    results = wait_all([sandbox.popen(*args) for _ in range(6)])
    assert [r.returncode for r in results] == [0] * 6, [r.stderr for r in results]
    assert len({r.stdout for r in results}) == 1
    assert sandbox.server.calls(ACTION) == 1


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "No such file"),
        (b"", "is empty"),
        (b" \n\n", "is empty"),
        (b"abc", "holds 3 characters"),
        (b"\xff\xfe-not-text", "not UTF-8"),
        ("directory", "Is a directory"),
    ],
)
def test_a_token_file_that_cannot_be_used_fails_before_any_call(
    sandbox: Sandbox, tmp_path: Path, content: bytes | str | None, words: str
) -> None:
    path = tmp_path / "token"
    if content == "directory":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    result = sandbox.main("--role-arn", CI_ROLE, "--web-identity-token-file", str(path))
    assert_fails(result, 3, str(path), words)
    assert sandbox.server.calls() == 0


def test_a_rejected_token_is_an_auth_error_that_does_not_show_it(
    sandbox: Sandbox, token_file: Path
) -> None:
    sandbox.server.fault(ACTION, status=400, code="InvalidIdentityToken")
    result = sandbox.main("--role-arn", CI_ROLE, "--web-identity-token-file", str(token_file))
    line = assert_fails(result, 4, "web identity token was rejected")
    assert TOKEN_ONE not in line


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--source-profile", "base"], "takes no --source-profile"),
        (["--mfa-serial", MFA_SERIAL], "takes no --source-profile, --source-keys or --mfa-serial"),
        (["--source-keys", "dev"], "takes no --source-profile, --source-keys"),
    ],
)
def test_web_identity_takes_no_other_source(
    sandbox: Sandbox, token_file: Path, extra: list[str], words: str
) -> None:
    args = ["--role-arn", CI_ROLE, "--web-identity-token-file", str(token_file), *extra]
    assert_fails(sandbox.main(*args), 2, words)
    without_role = sandbox.main("--web-identity-token-file", str(token_file))
    assert_fails(without_role, 2, "missing --role-arn")
    assert sandbox.server.calls() == 0


def ci_environment(token_file: Path) -> dict[str, str]:
    return {
        "AWS_ROLE_ARN": CI_ROLE,
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
        "AWS_ROLE_SESSION_NAME": "github-run-42",
    }


def test_the_environment_variables_give_web_identity_to_a_bare_credproc(
    sandbox: Sandbox, token_file: Path
) -> None:
    result = sandbox.main(env=ci_environment(token_file))
    assert result.returncode == 0, result.stderr
    [call] = sandbox.server.requests(ACTION)
    assert call["RoleArn"] == CI_ROLE
    assert call["RoleSessionName"] == "github-run-42"
    assert call["WebIdentityToken"] == TOKEN_ONE

    # The same request as the flags name: one cache entry.
    flags = ["--role-arn", CI_ROLE, "--web-identity-token-file", str(token_file)]
    assert sandbox.main(*flags, "--role-session-name", "github-run-42").stdout == result.stdout
    assert sandbox.server.calls(ACTION) == 1


@pytest.mark.parametrize(
    "identity",
    [
        ["--role-arn", ROLE, "--source-profile", "base"],
        ["--profile", "dev-role"],
    ],
)
def test_the_environment_variables_never_override_a_named_identity(
    sandbox: Sandbox, token_file: Path, identity: list[str]
) -> None:
    sandbox.add_profile("dev-role", role_arn=ROLE, source_profile="base")
    result = sandbox.main(*identity, env=ci_environment(token_file))
    assert result.returncode == 0, result.stderr
    assert sandbox.server.calls(ACTION) == 0
    [call] = sandbox.server.requests("AssumeRole")
    assert call["RoleArn"] == ROLE
    assert call["RoleSessionName"] != "github-run-42"


@pytest.mark.integration
def test_a_ci_chain_uses_the_variables_only_where_no_identity_is_named(
    sandbox: Sandbox, token_file: Path
) -> None:
    # The CI pattern: a bare credproc profile takes its identity from the runner's
    # variables, and a deploy role is assumed from it. Both processes see the variables.
    sandbox.add_profile("ci", credential_process="credproc")
    deploy = ["--role-arn", ROLE, "--source-profile", "ci"]
    for _ in range(2):
        result = sandbox.credproc(*deploy, env=ci_environment(token_file))
        assert result.returncode == 0, result.stderr
    assert sandbox.server.calls(ACTION) == 1
    assert [c["RoleArn"] for c in sandbox.server.requests("AssumeRole")] == [ROLE]

    # The bare credproc gives a role session, so the deploy role is a chained one.
    longer = sandbox.credproc(*deploy, "--duration", "7200", env=ci_environment(token_file))
    assert_fails(longer, 2, "3600")


@pytest.mark.parametrize(
    ("variables", "words"),
    [
        ({"AWS_ROLE_ARN": CI_ROLE}, "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not"),
        (
            {"AWS_WEB_IDENTITY_TOKEN_FILE": "/token"},
            "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not",
        ),
        (
            {"AWS_ROLE_ARN": "ci", "AWS_WEB_IDENTITY_TOKEN_FILE": "/token"},
            "AWS_ROLE_ARN is not an ARN",
        ),
        (
            {
                "AWS_ROLE_ARN": CI_ROLE,
                "AWS_WEB_IDENTITY_TOKEN_FILE": "/token",
                "AWS_ROLE_SESSION_NAME": "a b",
            },
            "AWS_ROLE_SESSION_NAME 'a b'",
        ),
    ],
)
def test_bad_environment_variables_are_named_in_the_error(
    sandbox: Sandbox, variables: dict[str, str], words: str
) -> None:
    assert_fails(sandbox.main(env=variables), 2, words)
    assert sandbox.server.calls() == 0
