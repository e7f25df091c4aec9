"""Secrets stay where they belong: the source secret key, and the assumed secret key and
session token, appear only in the credential_process JSON on stdout and in the 0600 cache
entry. Not in stderr at any verbosity, the log file, error messages, tracebacks, `cache
list`, any process's argv, or any other file.

Every test learns the secrets it must look for from what credproc printed (and the base
secret from support.constants), then greps everything it captured.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.constants import BASE_SECRET
from support.leaks import Secrets, all_argv
from support.processes import wait_for_calls
from support.sandbox import Result, Sandbox


@pytest.fixture
def secrets() -> Secrets:
    return Secrets()


def _run(sandbox: Sandbox, secrets: Secrets, *args: str) -> Result:
    """Run credproc; stdout must be exactly one JSON document on success, else empty."""
    # exec only as a process (it replaces itself); everything else in this one.
    result = sandbox.credproc(*args) if args[:1] == ("exec",) else sandbox.main(*args)
    name = " ".join(args)
    secrets.capture(f"stderr of {name}", result.stderr)
    credential_process = not args or args[0] not in ("env", "exec", "cache")
    if result.returncode == 0 and credential_process:
        document = json.loads(result.stdout)  # one document, nothing around it
        assert result.stdout == json.dumps(document, separators=(",", ":")) + "\n"
        secrets.learn(document)
    elif credential_process or args[0] == "cache":
        secrets.capture(f"stdout of {name}", result.stdout)
    return result


def _every_path(sandbox: Sandbox, secrets: Secrets, log: Path) -> None:
    """Success, hit, refresh, stale serve and failures, at every verbosity, with a log file."""
    role = sandbox.role_args()
    loud = ("-v", "--debug", "--log-file", str(log))
    _run(sandbox, secrets, *role)  # a refresh
    for flags in (("-v",), ("--debug",), ("--log-file", str(log)), loud):
        _run(sandbox, secrets, *role, *flags)  # cache hits
        _run(sandbox, secrets, *role, "--no-cache", *flags)  # refreshes
    sandbox.expire_entries(seconds_left=600)
    sandbox.server.fault("AssumeRole", status=503)
    assert "serving the cached token" in _run(sandbox, secrets, *role, *loud).stderr
    for code in ("AccessDenied", "ExpiredToken", "InvalidClientTokenId", "SignatureDoesNotMatch"):
        sandbox.server.fault("AssumeRole", status=403, code=code)
        assert _run(sandbox, secrets, *role, "--no-cache", *loud).returncode == 4
    sandbox.server.fault("AssumeRole", garbage=True)
    assert _run(sandbox, secrets, *role, "--no-cache", *loud).returncode == 5
    sandbox.server.clear_faults()
    _run(sandbox, secrets, "cache", "clear", *role)  # no backoff: env refreshes, and logs it
    _run(sandbox, secrets, "env", *role, *loud)
    _run(sandbox, secrets, "exec", *role, *loud, "--", "true")
    _run(sandbox, secrets, "cache", "list", "-v")
    _run(sandbox, secrets, "cache", "list", "--json", "--debug")
    # A traceback (--debug) raised while botocore holds a source profile's secret.
    sandbox.add_profile("half", aws_secret_access_key=BASE_SECRET)
    assert _run(sandbox, secrets, *role[:2], "--source-profile", "half", *loud).returncode == 3


@pytest.mark.integration
def test_no_secret_in_stderr_logs_errors_or_listings(
    sandbox: Sandbox, secrets: Secrets, tmp_path: Path
) -> None:
    log = tmp_path / "credproc.core.log"

    _every_path(sandbox, secrets, log)

    secrets.capture("the log file", log.read_text())
    assert "new token from STS" in log.read_text()  # the log file did record the runs
    secrets.assert_none_leaked()


@pytest.mark.integration
def test_secrets_are_only_in_private_cache_entries(
    sandbox: Sandbox, secrets: Secrets, tmp_path: Path
) -> None:
    _every_path(sandbox, secrets, sandbox.home / "credproc.core.log")

    holding = []
    for path in _files(tmp_path):
        if path == sandbox.config:
            continue  # the user's own config, where the test put the base key
        leaks = secrets.leaks(path.read_bytes().decode("utf-8", "replace"))
        if not leaks:
            continue
        holding.append(path)
        assert path.parent == sandbox.cache_dir
        assert path.suffix == ".json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert BASE_SECRET not in leaks  # an entry holds the assumed token, never the source
    assert holding, "no cache entry holds the token: the walk found nothing to check"
    assert stat.S_IMODE(sandbox.cache_dir.stat().st_mode) == 0o700


def _files(root: Path) -> Iterator[Path]:
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            if path.is_file() and not path.is_symlink():
                yield path


# -- argv ----------------------------------------------------------------------------------------


def _wait_for_exec(process: subprocess.Popen[str], argv: list[str]) -> None:
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    wanted = "\0".join(argv) + "\0"
    deadline = time.monotonic() + 30
    while cmdline.read_bytes().decode() != wanted:
        assert time.monotonic() < deadline, "the command never replaced credproc"
        assert process.poll() is None
        time.sleep(0.05)


@pytest.mark.integration
def test_no_secret_in_any_process_argv(sandbox: Sandbox, secrets: Secrets) -> None:
    role = sandbox.role_args()
    _run(sandbox, secrets, *role)
    sandbox.expire_entries(seconds_left=600)  # so the next run refreshes, holding the old token
    sandbox.server.fault("AssumeRole", delay=2)

    refreshing = sandbox.popen(*role, "-v")
    wait_for_calls(sandbox, "AssumeRole", 2)  # it is inside the STS call, with every secret loaded
    secrets.capture("argv during a refresh", all_argv())
    stdout, _ = refreshing.communicate(timeout=60)
    secrets.learn(json.loads(stdout))
    sandbox.server.clear_faults()

    command = ["sleep", "30"]
    running = sandbox.popen("exec", *role, "--", *command)
    try:
        _wait_for_exec(running, command)  # the command now holds the token in its environment
        secrets.capture("argv of a command run by credproc exec", all_argv())
    finally:
        running.kill()
        running.communicate()

    secrets.assert_none_leaked()
