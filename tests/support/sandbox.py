"""An isolated user per test (HOME, AWS config, cache dir, environment), and what a run gave."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from credproc.core.index import SETTLED_NS
from support import entries
from support.constants import BASE_KEY_ID, BASE_SECRET, BIN, ROLE
from support.inprocess import run_main
from support.server import StsServer


@dataclass
class Result:
    """What one finished run gave: ``Sandbox.run``, ``Sandbox.main`` and ``wait_all`` return
    these."""

    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.stdout)
        return document

    def json_list(self) -> list[dict[str, Any]]:
        """stdout as a JSON array of objects (`cache list --json`)."""
        rows: list[dict[str, Any]] = json.loads(self.stdout)
        return rows


@dataclass
class Sandbox:
    """An isolated user: HOME, AWS config and credentials files, cache dir, environment."""

    home: Path
    server: StsServer
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, tmp_path: Path, server: StsServer) -> Sandbox:
        """A new user under ``tmp_path`` whose ``base`` profile holds keys for ``server``."""
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
            "AWS_ENDPOINT_URL": server.url,
            "AWS_EC2_METADATA_DISABLED": "true",  # never reach for an instance role off loopback
            "XDG_CACHE_HOME": str(home / ".cache"),
            "CREDPROC_CACHE_DIR": str(tmp_path / "cache"),
        }
        box = cls(home=home, server=server, env=env)
        box.add_profile(
            "base",
            aws_access_key_id=BASE_KEY_ID,
            aws_secret_access_key=BASE_SECRET,
            region="eu-west-1",
        )
        return box

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
        preexec_fn: Callable[[], object] | None = None,
    ) -> Result:
        argv = [str(BIN / "credproc"), *args]
        return self.run(argv, env=env, timeout=timeout, stdin=stdin, preexec_fn=preexec_fn)

    def main(self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> Result:
        """``credproc ARGS`` in this process (support/inprocess.py): the twin of ``credproc``
        for a test of what credproc does, not of the process that does it."""
        return Result(*run_main(args, {**self.env, **(env or {})}, self.home, timeout))

    def run(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        timeout: float = 60,
        stdin: int | None = subprocess.DEVNULL,
        preexec_fn: Callable[[], object] | None = None,
    ) -> Result:
        """``argv`` run as this user, from HOME; ``preexec_fn`` as subprocess takes it (see
        support/signals.py)."""
        done = subprocess.run(
            list(argv),
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=stdin,
            check=False,
            cwd=self.home,
            preexec_fn=preexec_fn,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def expire_entries(self, seconds_left: float, access_key_id: str | None = None) -> None:
        """Make every cached token (or the one of ``access_key_id``) expire in
        ``seconds_left`` (as if it had aged), in place."""
        moment = datetime.now(timezone.utc) + timedelta(seconds=seconds_left)
        expiration = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        for path in self.cache_dir.glob("*.json"):
            held = entries.document(path)["credentials"]["AccessKeyId"]
            if access_key_id is not None and held != access_key_id:
                continue
            entries.rewrite(
                path, lambda document: document["credentials"].update(Expiration=expiration)
            )

    def settle(self) -> None:
        """Wait until every file of this user is old enough for credproc's index of resolved
        requests to record it (credproc.core.index: a file written within the same kernel tick
        as a read could change unseen, so a fresher one is never recorded)."""
        newest = max(
            max(info.st_mtime_ns, info.st_ctime_ns)
            for path in self.home.rglob("*")
            for info in [path.lstat()]
        )
        wait = newest + SETTLED_NS - time.time_ns()
        if wait > 0:
            time.sleep(wait / 1e9)

    def role_args(self, role: str = ROLE, *extra: str) -> list[str]:
        return ["--role-arn", role, "--source-profile", "base", *extra]
