"""Role chaining: a source profile that runs credproc itself, cached at every level; loops
(the same request again) fail fast, chains (new requests) work.

Every run has a subprocess timeout: a deadlock or a fork storm fails the test, never hangs it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support import entries as cached
from support.assertions import assert_fails, assert_warns
from support.constants import BIN, MFA_SERIAL
from support.mfa import TokenCommand
from support.processes import hold_lock, wait_all
from support.sandbox import Result, Sandbox

from credproc.config.source import source_kind

ACCOUNT = "arn:aws:iam::123456789012"
ROLE_1 = f"{ACCOUNT}:role/level-1"
ROLE_2 = f"{ACCOUNT}:role/level-2"
ROLE_3 = f"{ACCOUNT}:role/level-3"
LOOP_TIMEOUT = 30


def add_credproc_profile(sandbox: Sandbox, name: str, *args: str) -> None:
    sandbox.add_profile(name, credential_process=" ".join(["credproc", *args]))


@pytest.fixture
def chain(sandbox: Sandbox) -> Sandbox:
    """base (keys) <- level-1 <- level-2, each level a profile that runs credproc."""
    add_credproc_profile(sandbox, "level-1", "--role-arn", ROLE_1, "--source-profile", "base")
    add_credproc_profile(sandbox, "level-2", "--role-arn", ROLE_2, "--source-profile", "level-1")
    return sandbox


@pytest.mark.integration
def test_three_levels_are_cached_at_every_level(chain: Sandbox) -> None:
    top = ["--role-arn", ROLE_3, "--source-profile", "level-2"]
    first = chain.main(*top)
    assert first.returncode == 0, first.stderr
    # Innermost first: each level's credentials sign the next level's AssumeRole.
    assert [r["RoleArn"] for r in chain.server.requests("AssumeRole")] == [ROLE_1, ROLE_2, ROLE_3]

    assert chain.main(*top).stdout == first.stdout
    assert chain.server.calls("AssumeRole") == 3

    # Refreshing the top level reuses both cached levels below it.
    chain.main("cache", "clear", *top)
    again = chain.main(*top)
    assert again.returncode == 0, again.stderr
    assert again.stdout != first.stdout
    assert chain.server.calls("AssumeRole") == 4
    assert len(json.loads(chain.main("cache", "list", "--json").stdout)) == 3


@pytest.mark.integration
def test_the_aws_cli_runs_a_chain_and_its_cache_serves_the_next_run(chain: Sandbox) -> None:
    add_credproc_profile(chain, "top", "--role-arn", ROLE_3, "--source-profile", "level-2")
    command = ["aws", "sts", "get-caller-identity", "--profile", "top", "--region", "eu-west-1"]
    for _ in range(2):
        result = chain.run(command, timeout=LOOP_TIMEOUT)
        assert result.returncode == 0, result.stderr
        assert "level-3" in result.stdout
    assert chain.server.calls("AssumeRole") == 3


@pytest.mark.parametrize(
    "source",
    [
        # a credproc profile that assumes a role: a nested credproc process
        pytest.param("level-1", marks=pytest.mark.integration),
        "botocore-role",  # botocore's own role_arn + source_profile
    ],
)
def test_a_chained_role_longer_than_an_hour_is_refused_locally(chain: Sandbox, source: str) -> None:
    chain.add_profile("botocore-role", role_arn=ROLE_1, source_profile="base")
    result = chain.main("--role-arn", ROLE_3, "--source-profile", source, "--duration", "7200")
    assert_fails(result, 2, "--duration 7200", repr(source), "3600")
    assert chain.server.calls() == 0

    hour = chain.main("--role-arn", ROLE_3, "--source-profile", source, "--duration", "3600")
    assert hour.returncode == 0, hour.stderr


@pytest.mark.parametrize("form", ["flags", "profile keys"])
@pytest.mark.integration
def test_a_role_assumed_from_an_mfa_session_is_not_a_chain(
    sandbox: Sandbox, tmp_path: Path, form: str
) -> None:
    token = TokenCommand(tmp_path)
    if form == "flags":
        add_credproc_profile(
            sandbox,
            "mfa",
            *(f"--mfa-serial={MFA_SERIAL}", "--source-profile", "base"),
            *("--mfa-token-command", str(token)),
        )
    else:
        sandbox.add_profile(
            "mfa-keys",
            mfa_serial=MFA_SERIAL,
            source_profile="base",
            credproc_mfa_token_command=str(token),
        )
        add_credproc_profile(sandbox, "mfa", "--profile", "mfa-keys")
    result = sandbox.main("--role-arn", ROLE_1, "--source-profile", "mfa", "--duration", "7200")
    assert result.returncode == 0, result.stderr
    assert sandbox.server.requests("AssumeRole")[0]["DurationSeconds"] == "7200"
    assert sandbox.server.calls("GetSessionToken") == 1


@pytest.mark.parametrize(
    ("keys", "kind"),
    [
        ({"aws_access_key_id": "AKIA", "aws_secret_access_key": "x"}, "unknown"),
        ({"role_arn": ROLE_1, "source_profile": "base"}, "role"),
        ({"sso_session": "corp", "sso_account_id": "123456789012", "sso_role_name": "Dev"}, "role"),
        ({"credential_process": "credproc --role-arn " + ROLE_1}, "role"),
        ({"credential_process": "/opt/bin/credproc --profile with-role"}, "role"),
        ({"credential_process": "credproc"}, "role"),  # AWS_ROLE_ARN: web identity
        ({"credential_process": f"credproc --mfa-serial {MFA_SERIAL}"}, "MFA"),
        ({"credential_process": f"credproc --mfa-serial={MFA_SERIAL}"}, "MFA"),
        ({"credential_process": "credproc --profile mfa-only"}, "MFA"),
        ({"credential_process": "credproc --profile mfa-only --role-arn " + ROLE_1}, "role"),
        ({"credential_process": "aws-vault export --format=json dev"}, "unknown"),
        ({"credential_process": "credproc 'unbalanced"}, "unknown"),
    ],
)
def test_source_kind_reads_what_a_profile_gives(
    tmp_path: Path, keys: dict[str, str], kind: str
) -> None:
    config = tmp_path / "config"
    lines = ["[profile subject]", *(f"{k} = {v}" for k, v in keys.items())]
    lines += ["[profile with-role]", f"role_arn = {ROLE_2}", "source_profile = base"]
    lines += ["[profile mfa-only]", f"mfa_serial = {MFA_SERIAL}", "source_profile = base"]
    config.write_text("\n".join(lines) + "\n")
    assert source_kind("subject", {"AWS_CONFIG_FILE": str(config)}) == kind


def assert_loop(result_line: str) -> None:
    assert result_line.startswith("credproc: error: loop: ")


@pytest.mark.integration
def test_a_source_profile_cycle_is_a_loop(sandbox: Sandbox) -> None:
    add_credproc_profile(sandbox, "ping", "--role-arn", ROLE_1, "--source-profile", "pong")
    add_credproc_profile(sandbox, "pong", "--role-arn", ROLE_2, "--source-profile", "ping")
    # The parent's request comes round again two levels down; the nested failure reaches the
    # top through two botocore credential_process errors and is still a loop there.
    result = sandbox.main("--role-arn", ROLE_1, "--source-profile", "pong", timeout=LOOP_TIMEOUT)
    assert_loop(assert_fails(result, 7, ROLE_1))
    assert sandbox.server.calls() == 0


@pytest.mark.integration
def test_a_profile_that_is_its_own_source_is_a_loop(sandbox: Sandbox) -> None:
    add_credproc_profile(sandbox, "self", "--role-arn", ROLE_1, "--source-profile", "self")
    result = sandbox.main("--role-arn", ROLE_1, "--source-profile", "self", timeout=LOOP_TIMEOUT)
    assert_loop(assert_fails(result, 7))

    # The same through the aws CLI: one credproc runs inside another, which refuses.
    cli = sandbox.run(
        ["aws", "sts", "get-caller-identity", "--profile", "self", "--region", "eu-west-1"],
        timeout=LOOP_TIMEOUT,
    )
    assert cli.returncode != 0
    assert "credproc: error: loop: " in cli.stderr

    # Found in the config alone when credproc reads the profile's own keys.
    sandbox.add_profile("keys-self", role_arn=ROLE_2, source_profile="keys-self")
    keys = sandbox.main("--profile", "keys-self", timeout=LOOP_TIMEOUT)
    assert_loop(assert_fails(keys, 7, "keys-self"))
    assert sandbox.server.calls() == 0


def test_a_botocore_source_profile_cycle_is_a_loop(sandbox: Sandbox) -> None:
    sandbox.add_profile("tick", role_arn=ROLE_1, source_profile="tock")
    sandbox.add_profile("tock", role_arn=ROLE_2, source_profile="tick")
    result = sandbox.main("--role-arn", ROLE_3, "--source-profile", "tick", timeout=LOOP_TIMEOUT)
    assert_loop(assert_fails(result, 7, "cycle"))
    assert sandbox.server.calls() == 0


@pytest.mark.integration
def test_aws_profile_naming_a_credproc_profile_is_not_followed(sandbox: Sandbox) -> None:
    add_credproc_profile(sandbox, "dev", "--role-arn", ROLE_1)
    dev = {"AWS_PROFILE": "dev"}
    result = sandbox.main("--role-arn", ROLE_1, env=dev, timeout=LOOP_TIMEOUT)
    assert_fails(result, 4, "no source credentials", "AWS_PROFILE=dev is not used")

    cli = sandbox.run(
        ["aws", "sts", "get-caller-identity", "--region", "eu-west-1"],
        env=dev,
        timeout=LOOP_TIMEOUT,
    )
    assert cli.returncode != 0
    assert "AWS_PROFILE=dev is not used" in cli.stderr
    assert sandbox.server.calls() == 0


@pytest.mark.integration
def test_a_default_profile_that_runs_credproc_is_a_loop(sandbox: Sandbox) -> None:
    # Without a source profile the default chain is the source; here it runs credproc again
    # for the same request.
    add_credproc_profile(sandbox, "default", "--role-arn", ROLE_1)
    result = sandbox.main("--role-arn", ROLE_1, timeout=LOOP_TIMEOUT)
    assert_loop(assert_fails(result, 7, ROLE_1))
    assert sandbox.server.calls() == 0


@pytest.mark.integration
def test_a_failing_nested_credproc_is_reported_in_one_line(sandbox: Sandbox) -> None:
    add_credproc_profile(sandbox, "broken", "--role-arn", ROLE_1, "--source-profile", "missing")
    result = sandbox.main("--role-arn", ROLE_2, "--source-profile", "broken")
    # The nested credproc's configuration error stays one (exit 3), with its own words.
    line = assert_fails(result, 3, "source profile 'broken' could not get credentials")
    assert line.endswith(
        "source profile 'missing' is in neither "
        f"{sandbox.config} nor {sandbox.home / '.aws' / 'credentials'}"
    )
    assert line.count("credproc: error:") == 1
    assert "[exit" not in line  # the nested run's marker is for its parent, not for people


@pytest.mark.integration
def test_a_failing_source_process_that_is_not_credproc_is_exit_4(sandbox: Sandbox) -> None:
    sandbox.add_profile("vault", credential_process="sh -c 'echo vault is locked >&2; exit 3'")
    result = sandbox.main("--role-arn", ROLE_2, "--source-profile", "vault")
    assert_fails(result, 4, "source profile 'vault' could not get credentials: vault is locked")


# -- exit codes through a chain --------------------------------------------------------------
#
# level-1 fails (it runs credproc on base's keys); each level above runs credproc on the one
# below. The failure must reach the top with its own exit code and its own words.

FAILURES = {
    # An MFA code is needed, and there is no terminal (a new session) and no display.
    "mfa": (8, ["--mfa-serial", MFA_SERIAL], "no terminal"),
    # Another process holds level-1's refresh lock.
    "lock": (6, ["--lock-timeout", "1"], "refreshing this role for over 1 s"),
    # STS answers 503 to every AssumeRole.
    "sts": (5, [], "ServiceUnavailable"),
}


def _failing_chain(sandbox: Sandbox, depth: int, failure: str) -> list[str]:
    """Profiles level-1 .. level-(depth-1), level-1 set up to fail; the top's arguments."""
    _, extra, _ = FAILURES[failure]
    add_credproc_profile(
        sandbox, "level-1", "--role-arn", ROLE_1, "--source-profile", "base", *extra
    )
    for level in range(2, depth):
        role = f"{ACCOUNT}:role/level-{level}"
        add_credproc_profile(
            sandbox, f"level-{level}", "--role-arn", role, "--source-profile", f"level-{level - 1}"
        )
    return ["--role-arn", ROLE_3, "--source-profile", f"level-{depth - 1}"]


def _run_failing(sandbox: Sandbox, failure: str, argv: list[str]) -> tuple[Result, int]:
    """Run argv (no controlling terminal) while level-1 is made to fail; what it gave, and
    how many AssumeRole calls it made."""
    holder = None
    if failure == "lock":
        # Learn level-1's lock from a real run, then empty the cache and hold that lock.
        learn = sandbox.main("--role-arn", ROLE_1, "--source-profile", "base")
        assert learn.returncode == 0, learn.stderr
        (entry,) = sandbox.cache_dir.glob("*.json")
        entry.unlink()
        holder = hold_lock(entry.with_suffix(".lock"))
    if failure == "sts":
        sandbox.server.fault("AssumeRole", status=503)
    before = sandbox.server.calls("AssumeRole")
    try:
        process = subprocess.Popen(
            argv,
            env=sandbox.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=sandbox.home,
            start_new_session=True,  # no controlling terminal: nobody can be asked for a code
        )
        [result] = wait_all([process], timeout=LOOP_TIMEOUT + 30)
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
            assert holder.stdout is not None
            holder.stdout.close()
    return result, sandbox.server.calls("AssumeRole") - before


@pytest.mark.parametrize("depth", [2, 3])
@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.integration
def test_a_nested_failure_keeps_its_exit_code_at_any_depth(
    sandbox: Sandbox, depth: int, failure: str
) -> None:
    code, _, cause = FAILURES[failure]
    top = _failing_chain(sandbox, depth, failure)

    result, calls = _run_failing(sandbox, failure, [str(BIN / "credproc"), *top])

    line = assert_fails(result, code, cause)
    # The path down the chain, then level-1's own line, without the nested runs' markers.
    path = [f"source profile 'level-{level}'" for level in range(depth - 1, 0, -1)]
    assert line.startswith(f"credproc: error: {path[0]} could not get credentials: ")
    assert all(step in line for step in path)
    assert "[exit" not in line
    assert calls == (3 if failure == "sts" else 0)  # level-1's attempts, and nobody else's


@pytest.mark.parametrize("middle", ["credproc", "botocore"])
@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.integration
def test_the_aws_cli_on_top_of_a_chain_shows_the_cause(
    sandbox: Sandbox, failure: str, middle: str
) -> None:
    # aws -> credproc (top) -> hop -> credproc (level-1), hop being a credproc of its own or
    # botocore's role_arn/source_profile.
    _failing_chain(sandbox, 2, failure)
    if middle == "credproc":
        add_credproc_profile(sandbox, "hop", "--role-arn", ROLE_2, "--source-profile", "level-1")
    else:
        sandbox.add_profile("hop", role_arn=ROLE_2, source_profile="level-1")
    add_credproc_profile(sandbox, "top", "--role-arn", ROLE_3, "--source-profile", "hop")
    command = ["aws", "sts", "get-caller-identity", "--profile", "top", "--region", "eu-west-1"]

    result, _ = _run_failing(sandbox, failure, command)

    assert result.returncode != 0  # the aws CLI's own status: 255 for any failure
    _, _, cause = FAILURES[failure]
    [line] = [line for line in result.stderr.splitlines() if "credproc: error: " in line]
    assert "credproc: error: source profile 'hop' could not get credentials: " in line
    if middle == "credproc":
        assert "hop' could not get credentials: source profile 'level-1' could not" in line
    assert cause in line
    assert "[exit" not in line


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.integration
def test_botocore_in_between_keeps_the_exit_code(sandbox: Sandbox, failure: str) -> None:
    # credproc -> botocore's role_arn/source_profile (hop) -> credproc (level-1).
    _failing_chain(sandbox, 2, failure)
    sandbox.add_profile("hop", role_arn=ROLE_2, source_profile="level-1")
    top = ["--role-arn", ROLE_3, "--source-profile", "hop"]

    result, _ = _run_failing(sandbox, failure, [str(BIN / "credproc"), *top])

    code, _, cause = FAILURES[failure]
    assert_fails(result, code, "source profile 'hop' could not get credentials", cause)


@pytest.mark.integration
def test_sts_unavailable_under_a_chain_is_an_outage_at_every_level(chain: Sandbox) -> None:
    """The nested credproc finds STS throttling and has no token to serve: the one above it
    serves its own token while it lives (exit 0, one warning), then fails as unavailable
    (exit 5), at every level, never as a source that was refused (exit 4)."""
    top = ["--role-arn", ROLE_2, "--source-profile", "level-1"]
    token = chain.main(*top).json()["AccessKeyId"]
    chain.expire_entries(seconds_left=600)  # due, still alive
    entries = {
        cached.document(path)["request"]["role_arn"]: path
        for path in chain.cache_dir.glob("*.json")
    }
    entries[ROLE_1].unlink()
    chain.server.fault("AssumeRole", status=400, code="Throttling")

    stale = chain.main(*top)
    assert stale.json()["AccessKeyId"] == token
    assert_warns(stale, "source profile 'level-1' could not get credentials", "throttling")

    entries[ROLE_2].unlink()
    line = assert_fails(chain.main(*top), 5, "source profile 'level-1'", "throttling")
    assert "[exit" not in line  # the nested run's marker is for its parent, not for people
    three = chain.main("--role-arn", ROLE_3, "--source-profile", "level-2")
    assert_fails(three, 5, "source profile 'level-2'", "source profile 'level-1'", "throttling")
