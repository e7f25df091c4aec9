"""``credproc wrap -- COMMAND``: another credential process, run once per token lifetime under
the lock, its answer checked and cached. The runs are counted by the stand-in process itself
(tests/support/fakeprocess.py), never guessed from timings."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

import pexpect
import pytest
from support.assertions import assert_fails, assert_warns
from support.constants import BASE_KEY_ID, BASE_SECRET, BIN, ROLE
from support.federation import running_federation
from support.processes import wait_all
from support.sandbox import Result, Sandbox
from support.tools import require_path

from credproc.fetch.wrap import GRACE_SECONDS

pytestmark = pytest.mark.integration

FAKE = Path(__file__).resolve().parents[1] / "support" / "fakeprocess.py"
# The program credproc names in its lines and listings: the fake runs under this interpreter,
# whose file name depends on how the venv was made (python or python3).
PROGRAM = os.path.basename(sys.executable)


class Fake:
    """The stand-in's state dir: its mode for the next runs, and the runs it counted."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(exist_ok=True)
        self.dir = directory
        self.argv = [sys.executable, str(FAKE), str(directory)]

    def mode(self, **mode: object) -> None:
        (self.dir / "mode.json").write_text(json.dumps(mode))

    def runs(self) -> int:
        runs = self.dir / "runs"
        return len(runs.read_text().splitlines()) if runs.exists() else 0

    def pids(self) -> list[int]:
        return [int(line) for line in (self.dir / "runs").read_text().splitlines()]

    def line(self, *options: str) -> str:
        """The credential_process line of a profile that wraps it."""
        return shlex.join([str(BIN / "credproc"), "wrap", *options, "--", *self.argv])


@pytest.fixture
def fake(tmp_path: Path) -> Fake:
    return Fake(tmp_path / "fake")


def _wrap(
    sandbox: Sandbox, fake: Fake, *options: str, env: Mapping[str, str] | None = None
) -> Result:
    return sandbox.credproc("wrap", *options, "--", *fake.argv, env=env)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie no one has reaped yet is not running.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_thirty_processes_at_once_run_the_command_once(sandbox: Sandbox, fake: Fake) -> None:
    fake.mode(sleep=2)  # everyone arrives while the command runs
    processes = [sandbox.popen("wrap", "--", *fake.argv) for _ in range(30)]
    results = wait_all(processes, timeout=120)

    assert [r.returncode for r in results] == [0] * 30, results[0].stderr
    assert len({r.stdout for r in results}) == 1
    assert all(r.stderr == "" for r in results)
    assert fake.runs() == 1
    answer = json.loads(results[0].stdout)
    assert answer["AccessKeyId"] == "ASIAFAKE000000000001"
    assert answer["SessionToken"] == "fake-token-1"


def test_a_hundred_calls_run_once_and_the_refresh_window_once_more(
    sandbox: Sandbox, fake: Fake
) -> None:
    sandbox.settle()
    first = _wrap(sandbox, fake)
    later = [_wrap(sandbox, fake) for _ in range(99)]

    assert fake.runs() == 1
    assert all(r.returncode == 0 and r.stdout == first.stdout for r in later)

    sandbox.expire_entries(600)  # inside the 15-minute refresh window
    refreshed = _wrap(sandbox, fake)
    again = _wrap(sandbox, fake)

    assert fake.runs() == 2
    assert refreshed.returncode == 0 and refreshed.json()["AccessKeyId"].endswith("2")
    assert again.stdout == refreshed.stdout


def test_an_answer_without_expiration_is_kept_max_age(sandbox: Sandbox, fake: Fake) -> None:
    fake.mode(expiration=False, token=False)
    result = _wrap(sandbox, fake, "--max-age", "1800", "--refresh-window", "60")
    again = _wrap(sandbox, fake, "--max-age", "1800", "--refresh-window", "60")

    answer = result.json()
    assert set(answer) == {"Version", "AccessKeyId", "SecretAccessKey", "Expiration"}
    expires = datetime.strptime(answer["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
    left = expires.replace(tzinfo=timezone.utc).timestamp() - time.time()
    assert 1790 < left <= 1800
    assert again.stdout == result.stdout and fake.runs() == 1


def test_garbage_is_never_cached_nor_printed(sandbox: Sandbox, fake: Fake) -> None:
    fake.mode(garbage='{"Version": 1, "AccessKeyId": "AKIA-LEAKED-SECRET"}')
    result = _wrap(sandbox, fake)

    line = assert_fails(result, 4, "python", "no valid credential_process JSON", "SecretAccessKey")
    assert "LEAKED" not in line
    assert list(sandbox.cache_dir.glob("*.json")) == []

    fake.mode(garbage="Login failed, try again\n")
    assert_fails(_wrap(sandbox, fake), 4, "not one JSON object")
    fake.mode(lifetime=-60)
    assert_fails(_wrap(sandbox, fake), 4, "has passed")
    assert list(sandbox.cache_dir.glob("*.json")) == []
    assert fake.runs() == 3


def test_a_failure_without_a_cached_token_is_exit_5_and_one_line(
    sandbox: Sandbox, fake: Fake
) -> None:
    fake.mode(stderr="opening the IdP\nError: the IdP said no (MFA rejected)", fail=3)
    result = _wrap(sandbox, fake, "--key-env", "SECRET_TOOL_VAR", env={"SECRET_TOOL_VAR": "v"})

    assert_fails(
        result, 5, f"{PROGRAM} exited with status 3: Error: the IdP said no (MFA rejected)"
    )
    assert str(FAKE) not in result.stderr  # never the command's arguments


def test_processes_queued_behind_a_failure_do_not_each_run_the_command_again(
    sandbox: Sandbox, fake: Fake
) -> None:
    """A sign-in that fails with no token to serve (the IdP down, a password refused): the ten
    processes started together fail with it, one line each, and the command ran once; the
    next run tries again at once (no backoff: a person who fixed it is not kept waiting)."""
    fake.mode(sleep=1.5, stderr="Error: the IdP is down", fail=1)
    results = wait_all([sandbox.popen("wrap", "--", *fake.argv) for _ in range(10)])

    lines = [assert_fails(result, 5) for result in results]
    assert (
        sum(f"{PROGRAM} exited with status 1: Error: the IdP is down" in line for line in lines)
        == 1
    )
    assert sum("failed for another credproc process" in line for line in lines) == 9
    assert fake.runs() == 1

    fake.mode()
    assert _wrap(sandbox, fake).returncode == 0
    assert fake.runs() == 2


def test_a_failure_with_a_live_token_serves_it_with_a_warning_and_backs_off(
    sandbox: Sandbox, fake: Fake
) -> None:
    first = _wrap(sandbox, fake)
    sandbox.expire_entries(600)  # due for a refresh, still good for ten minutes
    fake.mode(stderr="Error: the IdP is down", fail=1)

    served = _wrap(sandbox, fake)
    quiet = _wrap(sandbox, fake)  # in the backoff: served without running the command again

    assert_warns(served, f"{PROGRAM} exited with status 1: Error: the IdP is down", "cached token")
    assert served.json()["AccessKeyId"] == first.json()["AccessKeyId"]
    assert quiet.returncode == 0 and quiet.stdout == served.stdout
    assert fake.runs() == 2
    (row,) = sandbox.credproc("cache", "list", "--json").json_list()
    assert row["refresh_failures"] == 1 and row["state"].startswith("backoff")


def test_a_hung_command_ends_at_the_deadline_with_nothing_left(
    sandbox: Sandbox, fake: Fake
) -> None:
    fake.mode(hang=True, child=True)
    started = time.monotonic()
    result = _wrap(sandbox, fake, "--timeout", "2")
    took = time.monotonic() - started

    assert_fails(result, 5, f"{PROGRAM} gave no answer within 2 s (--timeout)")
    assert took < 2 + 3 + 5  # the deadline, the grace period, start-up on a loaded machine
    (pid,) = fake.pids()
    child = int((fake.dir / "child").read_text())
    assert not _alive(pid) and not _alive(child)


def test_a_command_that_ignores_sigterm_gets_sigkill_after_the_grace_period(
    sandbox: Sandbox, fake: Fake
) -> None:
    fake.mode(hang=True, child=True, stubborn=True)
    started = time.monotonic()
    result = _wrap(sandbox, fake, "--timeout", "1")
    took = time.monotonic() - started

    assert_fails(result, 5, f"{PROGRAM} gave no answer within 1 s (--timeout) and was ended")
    assert 1 + GRACE_SECONDS <= took < 1 + GRACE_SECONDS + 5  # SIGTERM was not enough
    (pid,) = fake.pids()
    assert not _alive(pid) and not _alive(int((fake.dir / "child").read_text()))


def test_a_child_left_behind_is_ended_too(sandbox: Sandbox, fake: Fake) -> None:
    fake.mode(child=True)
    result = _wrap(sandbox, fake)

    assert result.returncode == 0, result.stderr
    assert not _alive(int((fake.dir / "child").read_text()))


def test_the_command_prompts_on_the_terminal(sandbox: Sandbox, fake: Fake, tmp_path: Path) -> None:
    """As a client runs credential_process: stdin /dev/null, stdout and stderr captured; the
    command asks on the controlling terminal, which credproc hands to it while it runs."""
    fake.mode(prompt=True)
    out, err = tmp_path / "out", tmp_path / "err"
    line = shlex.join([str(BIN / "credproc"), "wrap", "--", *fake.argv])
    script = f"{line} </dev/null >{shlex.quote(str(out))} 2>{shlex.quote(str(err))}"
    child = pexpect.spawn(
        "sh", ["-c", script], env=sandbox.env, cwd=str(sandbox.home), encoding="utf-8", timeout=60
    )
    child.expect_exact("fake: password: ")
    child.sendline("hunter2")
    child.expect(pexpect.EOF)
    child.close()

    assert child.exitstatus == 0, err.read_text()
    assert json.loads(out.read_text())["SecretAccessKey"] == "fake-hunter2"
    assert err.read_text() == ""


def test_key_env_values_and_the_profile_enter_the_key(sandbox: Sandbox, fake: Fake) -> None:
    options = ("--key-env", "TOOL_PROFILE")
    dev = _wrap(sandbox, fake, *options, env={"TOOL_PROFILE": "dev"})
    prod = _wrap(sandbox, fake, *options, env={"TOOL_PROFILE": "prod"})
    dev_again = _wrap(sandbox, fake, *options, env={"TOOL_PROFILE": "dev"})
    other_profile = _wrap(sandbox, fake, *options, "--profile", "x", env={"TOOL_PROFILE": "dev"})

    assert dev.stdout == dev_again.stdout != prod.stdout
    assert other_profile.stdout not in (dev.stdout, prod.stdout)
    assert fake.runs() == 3


def test_cache_list_names_the_program_never_its_arguments(sandbox: Sandbox, fake: Fake) -> None:
    secret_argv = [*fake.argv, "--password", "hunter2"]
    assert sandbox.credproc("wrap", "--", *secret_argv).returncode == 0

    listed = sandbox.credproc("cache", "list")
    as_json = sandbox.credproc("cache", "list", "--json")

    assert f"credproc wrap {PROGRAM}" in listed.stdout
    for text in (listed.stdout, as_json.stdout):
        assert "hunter2" not in text and str(FAKE) not in text

    sandbox.add_profile("saml", credential_process=fake.line("--profile", "saml"))
    assert sandbox.run(shlex.split(fake.line("--profile", "saml"))).returncode == 0
    cleared = sandbox.credproc("cache", "clear", "--profile", "saml")
    assert cleared.stdout == "removed 1 cached token\n", cleared.stderr
    (row,) = sandbox.credproc("cache", "list", "--json").json_list()  # the other one stays
    assert row["role"] == f"credproc wrap {PROGRAM}" and row["source"] == "its command"


def test_env_exec_and_roles_share_a_wrapped_profile(sandbox: Sandbox, fake: Fake) -> None:
    """A profile whose credential_process is credproc wrap: credential_process itself,
    credproc env and exec, and a role whose source it is, all from one run of the command."""
    sandbox.add_profile("saml", credential_process=fake.line())
    sandbox.add_profile("role", role_arn=ROLE, source_profile="saml")
    sandbox.add_profile("chained", role_arn=ROLE + "-2", source_profile="role")
    sandbox.settle()

    direct = sandbox.run(shlex.split(fake.line()))
    env = sandbox.credproc("env", "--profile", "saml", "--format", "dotenv")
    child = sandbox.credproc("exec", "--profile", "saml", "--", "printenv", "AWS_ACCESS_KEY_ID")
    roles = [sandbox.credproc("--profile", "chained") for _ in range(20)]

    key = direct.json()["AccessKeyId"]
    assert f"AWS_ACCESS_KEY_ID={key}" in env.stdout.splitlines()
    assert child.stdout == key + "\n"
    assert all(r.returncode == 0 for r in roles), roles[0].stderr
    assert len({r.stdout for r in roles}) == 1
    assert fake.runs() == 1
    assert sandbox.server.calls("AssumeRole") == 2  # role, then chained, once each
    assert sandbox.server.signers("AssumeRole")[0] == key  # the role was signed by the wrap's key


def test_console_signs_in_with_a_wrapped_profile(sandbox: Sandbox, fake: Fake) -> None:
    sandbox.add_profile("saml", credential_process=fake.line(), region="eu-west-1")
    with running_federation() as stand_in:
        sandbox.env["CREDPROC_FEDERATION_URL"] = stand_in.url
        cached = sandbox.run(shlex.split(fake.line())).json()
        result = sandbox.credproc("console", "--profile", "saml", "--print")

        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(stand_in.url + "?")
        assert stand_in.session() == {
            "sessionId": cached["AccessKeyId"],
            "sessionKey": cached["SecretAccessKey"],
            "sessionToken": cached["SessionToken"],
        }
    assert fake.runs() == 1


def test_doctor_checks_the_wrapped_command_without_running_it(
    sandbox: Sandbox, fake: Fake, tmp_path: Path
) -> None:
    sandbox.add_profile("saml", credential_process=fake.line())
    missing = shlex.join([str(BIN / "credproc"), "wrap", "--", "no-such-tool", "--password", "x"])
    sandbox.add_profile("broken", credential_process=missing)
    plain = tmp_path / "not-executable"
    plain.write_text("#!/bin/sh\n")
    sandbox.add_profile(
        "plain", credential_process=shlex.join([str(BIN / "credproc"), "wrap", "--", str(plain)])
    )

    fine = sandbox.credproc("doctor", "saml")
    broken = sandbox.credproc("doctor", "broken")
    not_executable = sandbox.credproc("doctor", "plain")

    assert fine.returncode == 0, fine.stdout
    assert f"ok    command: {PROGRAM} is {sys.executable}" in fine.stdout
    assert broken.returncode == 3 and "FAIL  command: the wrapped command 'no-such-tool'" in (
        broken.stdout
    )
    assert "--password" not in broken.stdout
    assert not_executable.returncode == 3 and "FAIL  command" in not_executable.stdout
    assert fake.runs() == 0


# Debian's awscli: the AWS CLI v2 (the venv's `aws`, v1 from PyPI, comes first on PATH and has
# no `configure export-credentials`), called by its absolute path.
AWS_V2 = Path("/usr/bin/aws")


def test_the_real_aws_cli_v2_wrapped_as_the_source_of_a_role(sandbox: Sandbox, fake: Fake) -> None:
    """`aws configure export-credentials --format process` for a profile with static keys,
    wrapped, as the source of a role: counted at the command (the stand-in counts, then
    becomes the real CLI), one run for twenty calls."""
    require_path(AWS_V2, "apt-get install awscli: the AWS CLI v2")
    version = sandbox.run([str(AWS_V2), "--version"])
    assert version.stdout.startswith("aws-cli/2."), version.stdout + version.stderr
    export = [str(AWS_V2), "configure", "export-credentials", "--profile", "base"]
    counted = [*fake.argv, "--", *export, "--format", "process"]
    line = shlex.join([str(BIN / "credproc"), "wrap", "--", *counted])
    sandbox.add_profile("exported", credential_process=line)
    sandbox.add_profile("role", role_arn=ROLE, source_profile="exported")
    sandbox.settle()

    calls = [sandbox.run(shlex.split(line)) for _ in range(20)]
    role = sandbox.credproc("--profile", "role")

    assert all(c.returncode == 0 and c.stdout == calls[0].stdout for c in calls), calls[0].stderr
    answer = calls[0].json()
    assert answer["AccessKeyId"] == BASE_KEY_ID and answer["SecretAccessKey"] == BASE_SECRET
    assert "SessionToken" not in answer  # static keys: none, and none invented
    assert role.returncode == 0, role.stderr
    assert role.json()["AccessKeyId"].startswith("ASIA")
    assert sandbox.server.signers("AssumeRole") == [BASE_KEY_ID]
    assert fake.runs() == 1


def test_exec_server_and_the_default_command_serve_a_wrapped_profile(
    sandbox: Sandbox, fake: Fake
) -> None:
    """The endpoint of exec --server hands a boto3 program the wrapped command's credentials;
    `credproc --profile` reads the wrapped line too. One run of the command for all."""
    sandbox.add_profile("saml", credential_process=fake.line(), region="eu-west-1")
    sandbox.settle()
    direct = sandbox.run(shlex.split(fake.line()))
    program = (
        "import boto3; c = boto3.Session().get_credentials().get_frozen_credentials(); "
        "print(c.access_key, c.token)"
    )
    served = sandbox.credproc(
        "exec", "--server", "--profile", "saml", "--", sys.executable, "-c", program
    )
    default = [sandbox.credproc("--profile", "saml") for _ in range(3)]

    answer = direct.json()
    assert served.returncode == 0, served.stderr
    assert served.stdout == f"{answer['AccessKeyId']} {answer['SessionToken']}\n"
    assert all(r.returncode == 0 and r.json() == answer for r in default), default[0].stderr
    assert fake.runs() == 1


def test_the_command_line_never_reaches_a_message_or_a_log(
    sandbox: Sandbox, fake: Fake, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    secret_argv = [*fake.argv, "--password", "hunter2"]
    fake.mode(stderr="Error: bad password", fail=1)
    failed = sandbox.credproc("wrap", "-v", "--log-file", str(log), "--", *secret_argv)
    fake.mode()
    fine = sandbox.credproc("wrap", "-v", "--log-file", str(log), "--", *secret_argv)

    assert failed.returncode == 5 and fine.returncode == 0, fine.stderr
    for text in (failed.stderr, fine.stderr, log.read_text()):
        assert "running python" in text or "python exited" in text
        assert "hunter2" not in text and str(FAKE) not in text


def test_the_python_api_serves_a_wrapped_profile(sandbox: Sandbox, fake: Fake) -> None:
    sandbox.add_profile("saml", credential_process=fake.line())
    direct = sandbox.run(shlex.split(fake.line())).json()
    script = (
        "import credproc; c = credproc.get_credentials(profile='saml'); "
        "s = credproc.session(profile='saml').get_credentials().get_frozen_credentials(); "
        "print(c.access_key_id, s.access_key)"
    )
    result = sandbox.run([sys.executable, "-c", script])

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{direct['AccessKeyId']} {direct['AccessKeyId']}\n"
    assert fake.runs() == 1


def test_the_aws_cli_runs_a_wrapped_profile_and_its_own_role_on_it(
    sandbox: Sandbox, fake: Fake
) -> None:
    """The real aws CLI as the client: a wrapped profile, and botocore's own role_arn +
    source_profile on top of it. The command runs once for every call."""
    sandbox.add_profile("saml", credential_process=fake.line(), region="eu-west-1")
    sandbox.add_profile("cli-role", role_arn=ROLE, source_profile="saml", region="eu-west-1")
    sandbox.settle()
    aws = str(BIN / "aws")
    calls = [
        sandbox.run([aws, "--profile", "saml", "sts", "get-caller-identity"]) for _ in range(3)
    ]
    role = sandbox.run([aws, "--profile", "cli-role", "sts", "get-caller-identity"])

    assert all(c.returncode == 0 for c in calls), calls[0].stderr
    assert role.returncode == 0, role.stderr
    assert json.loads(role.stdout)["Arn"].startswith("arn:aws:sts::123456789012:assumed-role/dev/")
    signers = sandbox.server.signers("GetCallerIdentity")
    assert signers[:3] == ["ASIAFAKE000000000001"] * 3
    assert sandbox.server.signers("AssumeRole") == ["ASIAFAKE000000000001"]
    assert fake.runs() == 1


def test_serve_hands_a_wrapped_profile_to_a_container_client(sandbox: Sandbox, fake: Fake) -> None:
    """credproc serve, on loopback: a grant for a wrapped profile, and the container
    credential protocol's answer from the same cache entry as credential_process's."""
    sandbox.add_profile("saml", credential_process=fake.line())
    direct = sandbox.run(shlex.split(fake.line())).json()
    granted = sandbox.credproc("serve", "grant", "saml")
    assert granted.returncode == 0, granted.stderr
    token = Path(granted.stdout.strip()).read_text().strip()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = sandbox.popen(
        "serve", "--listen", f"127.0.0.1:{port}", stdin=subprocess.DEVNULL, cwd=sandbox.home
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()  # bounded: the server says it listens, or exits
        assert "listening on" in line, line
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/credentials/saml", headers={"Authorization": token}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
            document = json.loads(answer.read())
    finally:
        server.terminate()
        server.communicate(timeout=30)

    assert document["AccessKeyId"] == direct["AccessKeyId"]
    assert document["Token"] == direct["SessionToken"]
    assert fake.runs() == 1
