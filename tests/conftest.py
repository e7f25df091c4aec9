"""Fixtures: a real moto STS on loopback, and an isolated HOME/AWS config per test.

Every integration test runs credproc (and the aws CLI) as real subprocesses, pointed at the
server with AWS_ENDPOINT_URL: the same mechanism a user would use, no test-only code path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
ROLE = "arn:aws:iam::123456789012:role/dev"
# Fake, but shaped like real keys; moto accepts any.
BASE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
BASE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


class StsServer:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"

    def _call(self, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        method = "GET" if data is None and not path.endswith(("reset",)) else "POST"
        request = urllib.request.Request(self.url + path, data=data, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())

    def calls(self, action: str | None = None) -> int:
        counts: dict[str, int] = self._call("/_test/calls")
        return counts.get(action, 0) if action else sum(counts.values())

    def requests(self, action: str) -> list[dict[str, str]]:
        found: list[dict[str, str]] = self._call(f"/_test/requests?action={action}")
        return found

    def reset(self) -> None:
        self._call("/_test/reset")

    def fault(self, action: str, **fault: object) -> None:
        self._call("/_test/faults", {action: fault})

    def clear_faults(self) -> None:
        self._call("/_test/faults", {})

    def skew(self, seconds: float) -> None:
        self._call("/_test/skew", {"seconds": seconds})


@pytest.fixture(scope="session")
def sts_server() -> Iterator[StsServer]:
    here = Path(__file__).parent
    process = subprocess.Popen(
        [sys.executable, str(here / "support" / "stsserver.py")],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    server = StsServer(process, port)
    try:
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.stdout)
        return document


@dataclass
class Sandbox:
    """An isolated user: HOME, AWS config and credentials files, cache dir, environment."""

    home: Path
    server: StsServer
    env: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.home / ".aws" / "config"

    @property
    def cache_dir(self) -> Path:
        return Path(self.env["CREDPROC_CACHE_DIR"])

    def write_config(self, text: str) -> None:
        self.config.write_text(text)

    def add_profile(self, name: str, **keys: str) -> None:
        header = "default" if name == "default" else f"profile {name}"
        lines = "".join(f"{key} = {value}\n" for key, value in keys.items())
        with self.config.open("a") as file:
            file.write(f"\n[{header}]\n{lines}")

    def popen(self, *args: str, env: Mapping[str, str] | None = None, **kw: Any) -> Any:
        return subprocess.Popen(
            [str(BIN / "credproc"), *args],
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kw,
        )

    def waiting(self, count: int, *args: str) -> list[subprocess.Popen[str]]:
        """``count`` credproc runs, each returned once it has said (-v) that it waits for the
        refresh lock: proof that it really queues behind another process, not a sleep."""
        waiters = []
        for _ in range(count):
            waiter = self.popen(*args, "-v", "--lock-timeout", "120")
            assert waiter.stderr is not None
            line = waiter.stderr.readline()  # blocks until the line, or EOF if it never waits
            assert "waiting up to 120 s" in line, line
            waiters.append(waiter)
        return waiters

    def credproc(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        timeout: float = 60,
        stdin: int | None = subprocess.DEVNULL,
    ) -> Result:
        return self.run([str(BIN / "credproc"), *args], env=env, timeout=timeout, stdin=stdin)

    def run(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        timeout: float = 60,
        stdin: int | None = subprocess.DEVNULL,
    ) -> Result:
        done = subprocess.run(
            list(argv),
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=stdin,
            check=False,
            cwd=self.home,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def expire_entries(self, seconds_left: float) -> None:
        """Make every cached token expire in ``seconds_left`` (as if it had aged), in place."""
        moment = datetime.now(timezone.utc) + timedelta(seconds=seconds_left)
        for path in self.cache_dir.glob("*.json"):
            document = json.loads(path.read_text())
            document["credentials"]["Expiration"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            path.write_text(json.dumps(document))

    def role_args(self, role: str = ROLE, *extra: str) -> list[str]:
        return ["--role-arn", role, "--source-profile", "base", *extra]


@pytest.fixture
def sandbox(tmp_path: Path, sts_server: StsServer) -> Sandbox:
    sts_server.reset()
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    env = {
        # Only what a clean login would have, plus our isolation: nothing of the developer's
        # own AWS setup (profiles, keys, regions) can leak into a test.
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_ENDPOINT_URL": sts_server.url,
        "AWS_EC2_METADATA_DISABLED": "true",  # never reach for an instance role off loopback
        "XDG_CACHE_HOME": str(home / ".cache"),
        "CREDPROC_CACHE_DIR": str(tmp_path / "cache"),
    }
    box = Sandbox(home=home, server=sts_server, env=env)
    box.add_profile(
        "base",
        aws_access_key_id=BASE_KEY_ID,
        aws_secret_access_key=BASE_SECRET,
        region="eu-west-1",
    )
    return box
