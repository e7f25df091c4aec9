"""MFA: one code per MFA session, asked once under the lock, shared by every role.

Every run that could ask for a code either gets a token command or runs without a
controlling terminal: a test must never prompt on the developer's own terminal.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pexpect
import pytest
from support.assertions import assert_fails
from support.constants import BIN, MFA_SERIAL
from support.mfa import TokenCommand
from support.processes import wait_all
from support.sandbox import Sandbox

pytestmark = pytest.mark.integration

ROLE_A = "arn:aws:iam::123456789012:role/alpha"
ROLE_B = "arn:aws:iam::123456789012:role/beta"


@pytest.fixture
def token(tmp_path: Path) -> TokenCommand:
    return TokenCommand(tmp_path, code="246810")


def mfa_args(token: TokenCommand | None, *extra: str) -> list[str]:
    args = ["--source-profile", "base", "--mfa-serial", MFA_SERIAL, *extra]
    return [*args, "--mfa-token-command", str(token)] if token else args


def role(sandbox: Sandbox, role_arn: str, token: TokenCommand, *extra: str) -> dict[str, str]:
    result = sandbox.credproc("--role-arn", role_arn, *mfa_args(token, *extra))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.json()


def counts(sandbox: Sandbox) -> tuple[int, int]:
    return sandbox.server.calls("GetSessionToken"), sandbox.server.calls("AssumeRole")


def test_roles_share_one_mfa_session_and_one_code(sandbox: Sandbox, token: TokenCommand) -> None:
    first = role(sandbox, ROLE_A, token)
    role(sandbox, ROLE_B, token)
    assert token.runs() == 1
    assert counts(sandbox) == (1, 2)

    # A cache hit for A, and a refresh of A (its entry cleared) that reuses the MFA session.
    assert role(sandbox, ROLE_A, token) == first
    cleared = sandbox.credproc("cache", "clear", "--role-arn", ROLE_A, *mfa_args(token))
    assert cleared.stdout == "removed 1 cached token\n"
    assert role(sandbox, ROLE_A, token) != first
    assert token.runs() == 1
    assert counts(sandbox) == (1, 3)

    [session] = sandbox.server.requests("GetSessionToken")
    assert session["SerialNumber"] == MFA_SERIAL
    assert session["TokenCode"] == token.code
    assert session["DurationSeconds"] == "43200"  # 12 h by default


def test_mfa_serial_alone_prints_the_mfa_session_roles_then_use(
    sandbox: Sandbox, token: TokenCommand
) -> None:
    result = sandbox.credproc(*mfa_args(token, "--mfa-duration", "7200"))
    assert result.returncode == 0, result.stderr
    session = result.json()
    assert list(session) == [
        "Version",
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ]
    expires = datetime.strptime(session["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
    left = expires.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)
    assert 7000 < left.total_seconds() <= 7200
    assert sandbox.server.requests("GetSessionToken")[0]["DurationSeconds"] == "7200"

    # The same source, device and duration: the role is assumed from that very session.
    role(sandbox, ROLE_A, token, "--mfa-duration", "7200")
    assert token.runs() == 1
    assert counts(sandbox) == (1, 1)
    # Another MFA duration is another MFA session.
    role(sandbox, ROLE_A, token)
    assert token.runs() == 2
    assert counts(sandbox) == (2, 2)


def test_eight_cold_processes_ask_for_one_code(sandbox: Sandbox, token: TokenCommand) -> None:
    # A slow GetSessionToken keeps the first refresher busy while the others queue on the lock.
    sandbox.server.fault("GetSessionToken", delay=1)
    processes = [sandbox.popen("--role-arn", ROLE_A, *mfa_args(token)) for _ in range(8)]
    results = wait_all(processes)
    assert [r.returncode for r in results] == [0] * 8, [r.stderr for r in results]
    assert len({r.stdout for r in results}) == 1
    assert token.runs() == 1
    assert counts(sandbox) == (1, 1)


def test_two_roles_in_parallel_share_the_code_without_deadlock(
    sandbox: Sandbox, token: TokenCommand
) -> None:
    # Each process holds its role's lock and then waits for the MFA session's lock: the roles
    # take the locks in the same order, so they queue instead of deadlocking.
    sandbox.server.fault("GetSessionToken", delay=1)
    processes = [
        sandbox.popen("--role-arn", arn, *mfa_args(token, "--lock-timeout", "30"))
        for arn in [ROLE_A, ROLE_B] * 3
    ]
    results = wait_all(processes)
    assert [r.returncode for r in results] == [0] * 6, [r.stderr for r in results]
    assert len({r.stdout for r in results}) == 2
    assert token.runs() == 1
    assert counts(sandbox) == (1, 2)


def spawn(sandbox: Sandbox, *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        str(BIN / "credproc"),
        list(args),
        env=sandbox.env,
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=30,
    )


def test_prompts_on_the_terminal(sandbox: Sandbox) -> None:
    child = spawn(sandbox, "--role-arn", ROLE_A, *mfa_args(None))
    child.expect_exact(f"credproc: MFA code for {MFA_SERIAL}: ")
    child.sendline("135790")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    # The terminal shows the typed code (echo) and then the JSON document.
    document = json.loads(child.before.strip().splitlines()[-1])
    assert document["Version"] == 1
    assert sandbox.server.requests("GetSessionToken")[0]["TokenCode"] == "135790"

    # The cached MFA session serves the next role: no prompt at all this time.
    again = spawn(sandbox, "--role-arn", ROLE_B, *mfa_args(None))
    again.expect(pexpect.EOF)
    again.close()
    assert again.exitstatus == 0
    assert "MFA code" not in again.before
    assert counts(sandbox) == (1, 2)


@pytest.mark.parametrize("typed", ["12345", "1234567", "12345a", ""])
def test_a_typed_code_must_be_six_digits(sandbox: Sandbox, typed: str) -> None:
    child = spawn(sandbox, "--role-arn", ROLE_A, *mfa_args(None))
    child.expect_exact("MFA code for")
    child.sendline(typed)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 8
    assert "credproc: error: " in child.before
    assert ("6 digits" if typed else "no MFA code was entered") in child.before
    assert sandbox.server.calls() == 0


def test_an_unanswered_prompt_gives_up_after_the_lock_timeout(sandbox: Sandbox) -> None:
    child = spawn(sandbox, "--role-arn", ROLE_A, *mfa_args(None, "--lock-timeout", "1"))
    child.expect_exact("MFA code for")
    child.expect(pexpect.EOF)  # nothing typed
    child.close()
    assert child.exitstatus == 8
    assert "no MFA code was entered within 1 s (--lock-timeout)" in child.before
    assert sandbox.server.calls() == 0


def test_no_terminal_and_no_command_fails_at_once(sandbox: Sandbox) -> None:
    # A new session has no controlling terminal: what an SDK or a CI job gives credproc.
    process = sandbox.popen("--role-arn", ROLE_A, *mfa_args(None), start_new_session=True)
    [result] = wait_all([process], timeout=30)
    assert_fails(result, 8, MFA_SERIAL, "no terminal", "--mfa-token-command")
    assert sandbox.server.calls() == 0


@pytest.mark.parametrize(
    ("output", "status", "words"),
    [
        ("97531", 0, "did not print a 6-digit code"),
        ("code: 975310", 0, "did not print a 6-digit code"),
        ("hunter2-secret", 0, "did not print a 6-digit code"),
        ("975310", 3, "exit status 3"),
    ],
)
def test_a_bad_token_command_is_one_clear_line(
    sandbox: Sandbox, tmp_path: Path, output: str, status: int, words: str
) -> None:
    bad = TokenCommand(tmp_path, code=output, status=status)
    result = sandbox.credproc("--role-arn", ROLE_A, *mfa_args(bad))
    line = assert_fails(result, 8, words)
    assert output not in line  # what the command printed may be a secret
    assert bad.runs() == 1
    assert sandbox.server.calls() == 0


def test_a_code_sts_rejects_is_never_cached(sandbox: Sandbox, token: TokenCommand) -> None:
    sandbox.server.fault("GetSessionToken", status=403, code="AccessDenied")
    rejected = sandbox.credproc("--role-arn", ROLE_A, *mfa_args(token))
    assert_fails(rejected, 8, "refused the MFA session", MFA_SERIAL)
    assert counts(sandbox) == (1, 0)
    listing = sandbox.credproc("cache", "list", "--json")
    assert json.loads(listing.stdout) == []

    sandbox.server.clear_faults()
    role(sandbox, ROLE_A, token)
    assert token.runs() == 2  # a new code, not the rejected one from a cache
    assert counts(sandbox) == (2, 1)


def test_an_mfa_session_sts_no_longer_accepts_is_dropped(
    sandbox: Sandbox, token: TokenCommand
) -> None:
    role(sandbox, ROLE_A, token)
    # B's AssumeRole is signed with the cached MFA session, which STS now calls expired.
    sandbox.server.fault("AssumeRole", status=400, code="ExpiredToken")
    refused = sandbox.credproc("--role-arn", ROLE_B, *mfa_args(token))
    assert_fails(refused, 8, MFA_SERIAL, "ExpiredToken", "run again")

    sandbox.server.clear_faults()
    role(sandbox, ROLE_B, token)
    assert token.runs() == 2
    assert sandbox.server.calls("GetSessionToken") == 2


@pytest.mark.parametrize(
    ("seconds_left", "codes"),
    [
        # Less than the refresh window and than the role's hour, yet it signs the role's
        # refresh and no code is asked for: a role session may outlive its MFA session.
        (400, 1),
        # Too little to sign an STS call safely: a new code is asked for.
        (30, 2),
    ],
)
def test_a_role_refresh_uses_the_mfa_session_until_its_last_minute(
    sandbox: Sandbox, token: TokenCommand, seconds_left: int, codes: int
) -> None:
    role(sandbox, ROLE_A, token)
    sandbox.expire_entries(seconds_left)  # the role's entry and the MFA session's
    role(sandbox, ROLE_A, token)
    assert token.runs() == codes
    assert counts(sandbox) == (codes, 2)


def test_the_code_appears_nowhere(sandbox: Sandbox, token: TokenCommand, tmp_path: Path) -> None:
    log = tmp_path / "credproc.core.log"
    verbose = ["--debug", "--log-file", str(log)]
    success = sandbox.credproc("--role-arn", ROLE_A, *mfa_args(token, *verbose))
    sandbox.server.fault("GetSessionToken", status=403, code="AccessDenied")
    failure = sandbox.credproc(
        "--role-arn", ROLE_B, *mfa_args(token, "--mfa-duration", "900", *verbose)
    )
    assert success.returncode == 0
    assert failure.returncode == 8
    assert token.runs() == 2
    written = [log.read_text()] + [p.read_text() for p in sandbox.cache_dir.iterdir()]
    for text in [success.stdout, success.stderr, failure.stdout, failure.stderr, *written]:
        assert token.code not in text


@pytest.mark.parametrize(
    ("args", "exit_code", "words"),
    [
        (["--role-arn", ROLE_A, "--mfa-duration", "3600"], 2, "--mfa-duration needs --mfa-serial"),
        (["--role-arn", ROLE_A, "--mfa-token-command", "true"], 2, "needs --mfa-serial"),
        (["--mfa-serial", "not an arn"], 2, "--mfa-serial"),
        (["--mfa-serial", MFA_SERIAL, "--mfa-duration", "600"], 2, "--mfa-duration 600"),
        (["--mfa-serial", MFA_SERIAL, "--duration", "900"], 2, "--duration needs --role-arn"),
        (["--mfa-serial", MFA_SERIAL, "--tag", "a=b"], 2, "--tag needs --role-arn"),
        (["--role-arn", ROLE_A, "--mfa-prompt", "zenity"], 2, "--mfa-prompt needs --mfa-serial"),
        (["--mfa-serial", MFA_SERIAL, "--mfa-prompt", "gui"], 2, "'gui' is not one of auto,"),
        (
            ["--mfa-serial", MFA_SERIAL, "--mfa-prompt", "zenity", "--mfa-token-command", "x"],
            2,
            "both say how to get the code",
        ),
        (["--profile", "bad-prompt"], 2, "--mfa-prompt 'dialog' is not one of"),
        (
            ["--role-arn", ROLE_A, "--mfa-serial", MFA_SERIAL, "--source-profile", "chained"],
            3,
            "GetSessionToken refuses",
        ),
    ],
)
def test_bad_mfa_options_fail_before_any_call(
    sandbox: Sandbox, args: list[str], exit_code: int, words: str
) -> None:
    sandbox.add_profile("chained", role_arn=ROLE_B, source_profile="base")
    sandbox.add_profile(
        "bad-prompt", mfa_serial=MFA_SERIAL, source_profile="base", credproc_mfa_prompt="dialog"
    )
    result = sandbox.credproc(*args)
    assert_fails(result, exit_code, words)
    assert sandbox.server.calls() == 0


def test_mfa_from_profile_keys_through_the_aws_cli(sandbox: Sandbox, token: TokenCommand) -> None:
    sandbox.add_profile(
        "alpha",
        role_arn=ROLE_A,
        source_profile="base",
        mfa_serial=MFA_SERIAL,
        credproc_mfa_token_command=str(token),
    )
    sandbox.add_profile("use-alpha", credential_process="credproc --profile alpha")
    for _ in range(2):
        result = sandbox.run(
            ["aws", "sts", "get-caller-identity", "--profile", "use-alpha"],
            env={"AWS_DEFAULT_REGION": "eu-west-1"},
        )
        assert result.returncode == 0, result.stderr
    assert token.runs() == 1
    assert counts(sandbox) == (1, 1)


def test_the_token_commands_stderr_reaches_the_terminal(sandbox: Sandbox) -> None:
    # The client captures credproc's stderr; a "touch your key" hint must reach the user.
    command = "echo 'Touch your security key' >&2; echo 246802"
    child = spawn(sandbox, "--role-arn", ROLE_A, *mfa_args(None, "--mfa-token-command", command))
    child.expect_exact("Touch your security key")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert sandbox.server.requests("GetSessionToken")[0]["TokenCode"] == "246802"


def test_a_yubikey_that_is_not_plugged_in_is_one_line_and_no_retry_storm(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The docs' YubiKey example, `ykman oath accounts code --single NAME`, with no key
    plugged in: a stand-in ykman on PATH (it is not installed here) fails as the real one
    does. Eight processes at once: ykman runs once; those that queued behind it fail at once
    with one line each, and no STS call is made."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    runs = tmp_path / "ykman-runs"
    ykman = bin_dir / "ykman"
    ykman.write_text(
        f"#!/bin/sh\necho \"$*\" >> '{runs}'\nsleep 1\n"
        "echo 'ERROR: Failed connecting to a YubiKey: no YubiKey detected' >&2\nexit 1\n"
    )
    ykman.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{sandbox.env['PATH']}"}
    args = ["--role-arn", ROLE_A, "--source-profile", "base", "--mfa-serial", MFA_SERIAL]
    command = ["--mfa-token-command", "ykman oath accounts code --single 'AWS:alice'"]
    processes = [sandbox.popen(*args, *command, env=env) for _ in range(8)]
    results = wait_all(processes)

    for result in results:
        assert_fails(result, 8, "MFA")
    assert runs.read_text().splitlines() == ["oath accounts code --single AWS:alice"]
    assert sandbox.server.calls() == 0

    again = sandbox.credproc(*args, *command, env=env)  # a later run tries the key again
    assert_fails(again, 8, "the MFA token command failed with exit status 1")
    assert len(runs.read_text().splitlines()) == 2
