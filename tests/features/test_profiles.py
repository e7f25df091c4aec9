"""The everyday commands as users run them: env, exec, cache list/clear, and --profile."""

from __future__ import annotations

import io
import json
import signal

import dotenv
import pytest
from support.assertions import assert_fails
from support.constants import OTHER_ROLE, ROLE
from support.sandbox import Sandbox

pytestmark = pytest.mark.integration

ENV_NAMES = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
]
PRINT_ENV = "".join(f'printf "%s\\n" "${name}"; ' for name in ENV_NAMES)


def _expected(document: dict[str, object]) -> list[str]:
    """The variables' values for a credential_process document; eu-west-1 is base's region."""
    keys = ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]
    return [str(document[key]) for key in keys] + ["eu-west-1", "eu-west-1"]


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_env_evaluated_by_a_shell_sets_what_the_json_says(sandbox: Sandbox, shell: str) -> None:
    document = sandbox.credproc(*sandbox.role_args()).json()
    args = " ".join(sandbox.role_args())
    result = sandbox.run([shell, "-c", f'eval "$(credproc env {args})" && {PRINT_ENV}'])

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == _expected(document)
    assert sandbox.server.calls("AssumeRole") == 1  # env was a cache hit


def test_env_dotenv_and_other_formats_carry_the_same_values(sandbox: Sandbox) -> None:
    document = sandbox.credproc(*sandbox.role_args()).json()
    dotenv_text = sandbox.credproc("env", "--format", "dotenv", *sandbox.role_args()).stdout
    fish = sandbox.credproc("env", "--format", "fish", *sandbox.role_args()).stdout
    powershell = sandbox.credproc("env", "--format", "powershell", *sandbox.role_args()).stdout

    values = dotenv.dotenv_values(stream=io.StringIO(dotenv_text))
    assert [values[name] for name in ENV_NAMES] == _expected(document)
    secret = str(document["SecretAccessKey"])
    assert f"set -gx AWS_SECRET_ACCESS_KEY '{secret}';\n" in fish
    assert f"$Env:AWS_SECRET_ACCESS_KEY = '{secret}'\n" in powershell
    assert sandbox.server.calls("AssumeRole") == 1


def test_env_with_a_bad_format_is_a_usage_error(sandbox: Sandbox) -> None:
    result = sandbox.credproc("env", "--format", "tcsh", *sandbox.role_args())

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("credproc: error: argument --format: invalid choice")
    assert sandbox.server.calls() == 0


def test_exec_gives_the_command_the_role_and_drops_the_profile(sandbox: Sandbox) -> None:
    document = sandbox.credproc(*sandbox.role_args()).json()
    parent = {"AWS_PROFILE": "dev", "AWS_DEFAULT_PROFILE": "dev", "KEEP_ME": "kept"}
    script = f'{PRINT_ENV} echo "profile=${{AWS_PROFILE-unset}},${{AWS_DEFAULT_PROFILE-unset}}"; '
    script += 'echo "$KEEP_ME"; exit 7'
    result = sandbox.credproc("exec", *sandbox.role_args(), "--", "sh", "-c", script, env=parent)

    assert result.returncode == 7
    lines = result.stdout.splitlines()
    assert lines[: len(ENV_NAMES)] == _expected(document)
    assert lines[len(ENV_NAMES) :] == ["profile=unset,unset", "kept"]
    assert result.stderr == ""


def test_exec_becomes_the_command(sandbox: Sandbox) -> None:
    # The command replaces credproc: same pid, and a signal reaches it directly, so the
    # caller sees death by that signal, not an exit status credproc made up.
    child = sandbox.popen("exec", *sandbox.role_args(), "--", "sh", "-c", "echo $$; kill -TERM $$")
    stdout, _ = child.communicate(timeout=60)

    assert int(stdout) == child.pid
    assert child.returncode == -signal.SIGTERM


@pytest.mark.parametrize(
    ("command", "status", "reason"),
    [("no-such-command-xyz", 127, "No such file or directory"), ("/etc", 126, "Permission")],
)
def test_exec_of_a_command_that_cannot_run(
    sandbox: Sandbox, command: str, status: int, reason: str
) -> None:
    result = sandbox.credproc("exec", *sandbox.role_args(), "--", command, "arg")

    line = assert_fails(result, status)
    assert line.startswith(f"credproc: error: cannot run {command!r}: {reason}")


@pytest.mark.parametrize(
    "args", [["echo", "hi"], ["--"], ["--role-arn", ROLE, "--source-profile", "base"]]
)
def test_exec_needs_a_command_after_double_dash(sandbox: Sandbox, args: list[str]) -> None:
    result = sandbox.credproc("exec", *args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("credproc: error: exec needs")
    assert sandbox.server.calls() == 0


def test_exec_help_is_help(sandbox: Sandbox) -> None:
    result = sandbox.credproc("exec", "--help")

    assert result.returncode == 0
    assert result.stdout.startswith("usage: credproc exec")


def test_cache_list_shows_who_and_when_but_no_secret(sandbox: Sandbox) -> None:
    assert sandbox.credproc("cache", "list").stdout == "no cached tokens\n"
    first = sandbox.credproc(*sandbox.role_args(ROLE, "--role-session-name", "alice")).json()
    second = sandbox.credproc(*sandbox.role_args(OTHER_ROLE)).json()

    table = sandbox.credproc("cache", "list")
    listed = sandbox.credproc("cache", "list", "--json")

    assert table.returncode == 0
    assert listed.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ROLE", "SOURCE", "SESSION", "NAME", "EXPIRES", "LEFT", "STATE"]
    assert len(lines) == 3
    rows = json.loads(listed.stdout)
    assert {(row["role"], row["source"], row["state"]) for row in rows} == {
        (ROLE, "base", "fresh"),
        (OTHER_ROLE, "base", "fresh"),
    }
    assert "alice" in {row["session_name"] for row in rows}
    for document in (first, second):
        for field in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
            assert str(document[field]) not in table.stdout + listed.stdout


def test_cache_clear_of_one_role_forces_one_new_sts_call(sandbox: Sandbox) -> None:
    before = sandbox.credproc(*sandbox.role_args()).json()
    sandbox.credproc(*sandbox.role_args(OTHER_ROLE))

    cleared = sandbox.credproc("cache", "clear", *sandbox.role_args())
    after = sandbox.credproc(*sandbox.role_args()).json()
    other = sandbox.credproc(*sandbox.role_args(OTHER_ROLE))

    assert cleared.stdout == "removed 1 cached token\n"
    assert after["AccessKeyId"] != before["AccessKeyId"]
    assert other.returncode == 0
    assert sandbox.server.calls("AssumeRole") == 3  # dev, other, dev again; other was kept


def test_cache_clear_all(sandbox: Sandbox) -> None:
    sandbox.credproc(*sandbox.role_args())
    sandbox.credproc(*sandbox.role_args(OTHER_ROLE))

    cleared = sandbox.credproc("cache", "clear", "--all")
    listed = json.loads(sandbox.credproc("cache", "list", "--json").stdout)
    sandbox.credproc(*sandbox.role_args())
    sandbox.credproc(*sandbox.role_args(OTHER_ROLE))

    assert cleared.stdout == "removed 2 cached tokens\n"
    assert listed == []
    assert sandbox.server.calls("AssumeRole") == 4


@pytest.mark.parametrize(
    "args",
    [["clear"], ["clear", "--all", "--role-arn", ROLE], ["clear", "--all", "--profile", "base"]],
)
def test_cache_clear_needs_exactly_one_target(sandbox: Sandbox, args: list[str]) -> None:
    sandbox.credproc(*sandbox.role_args())
    result = sandbox.credproc("cache", *args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("credproc: error: cache clear")
    assert len(list(sandbox.cache_dir.glob("*.json"))) == 1


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
    result = sandbox.credproc("--profile", "dev-role")

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
    result = sandbox.credproc("--profile", "dev-role", "--duration", "900", "--external-id", "xy")

    assert result.returncode == 0, result.stderr
    sent = sandbox.server.requests("AssumeRole")[0]
    assert (sent["DurationSeconds"], sent["ExternalId"]) == ("900", "xy")


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
    sandbox.credproc("--profile", "dev-role")
    assert len(list(own_dir.glob("*.json"))) == 1

    cleared = sandbox.credproc("cache", "clear", "--profile", "dev-role")

    assert cleared.stdout == "removed 1 cached token\n"
    assert list(own_dir.glob("*.json")) == []


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
    result = sandbox.credproc("--profile", "dev")

    assert result.returncode == 7
    assert result.stdout == ""
    assert result.stderr == (
        "credproc: error: loop: profile 'dev' names itself as its source_profile\n"
    )
    assert sandbox.server.calls() == 0


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

    result = sandbox.credproc("exec", "--profile", "dev", "--", "true")

    assert result.returncode == 3
    assert result.stderr == (
        "credproc: error: profile 'dev' has no role_arn; its credential_process runs "
        "credproc --profile dev-role: use --profile dev-role\n"
    )
    assert sandbox.server.calls() == 0
