"""`credproc serve` in the lab's host namespace (support/netns.py), and what a container there
needs to reach it. Every wait is for a line or an exit, and bounded."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from support.constants import BIN, ROLE
from support.netns import CLIENT, PYTHON, SERVER_IP, Lab, NamespacedSts
from support.processes import KilledAtEnd
from support.sandbox import Sandbox
from support.signals import default_signals

PORT = 9911
WAIT = 60
READY = "listening on"


def grant(sandbox: Sandbox, *args: str) -> Path:
    """``credproc serve grant ARGS``: the token file's path."""
    result = sandbox.credproc("serve", "grant", *args)
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.stat().st_mode & 0o777 == 0o600
    return path


class Server(KilledAtEnd):
    """``with Server(lab, sandbox) as server:``: credproc serve on 169.254.170.2 and
    127.0.0.1 in the host namespace, its stderr (the access log) collected line by line."""

    def __init__(self, lab: Lab, sandbox: Sandbox, *args: str) -> None:
        self.lab, self.sandbox, self.args = lab, sandbox, args
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self.process = self._start()

    def _start(self) -> subprocess.Popen[str]:
        argv = [str(BIN / "credproc"), "serve", "--listen", f"{SERVER_IP}:{PORT}",
                "--listen", f"127.0.0.1:{PORT}", *self.args]  # fmt: skip
        process = self.lab.popen(
            self.lab.host,
            argv,
            self.sandbox.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            cwd=self.sandbox.home,
            preexec_fn=default_signals,
        )
        threading.Thread(target=self._read, args=(process,), daemon=True).start()
        self.wait_for(READY)
        return process

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        with process.stderr:
            for line in process.stderr:
                self.lines.append(line)
                self._queue.put(line)
        self._queue.put("")

    def wait_for(self, text: str) -> str:
        """The next stderr line holding ``text``."""
        while True:
            try:
                line = self._queue.get(timeout=WAIT)
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {WAIT} s: {self.log}") from None
            assert line, f"credproc serve ended before {text!r}: {self.log}"
            if text in line:
                return line

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def restart(self) -> None:
        """Killed with SIGKILL, then started again (its old stderr lines kept)."""
        self.process.kill()
        self.process.wait(WAIT)
        while self._queue.get(timeout=WAIT):  # up to the old process's end of file
            pass
        self.process = self._start()

    def stop(self, number: signal.Signals = signal.SIGTERM) -> int:
        self.process.send_signal(number)
        return self.process.wait(WAIT)


def container_env(
    sts: NamespacedSts, home: Path, profile: str | None, token_file: Path | None
) -> dict[str, str]:
    """A container's environment: the URI and token file as `serve env` gives them, its STS
    at the host's address, nothing else of AWS."""
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": sts.container_url,
        "PYTHONUNBUFFERED": "1",
    }
    if profile is not None:
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = (
            f"http://{SERVER_IP}:{PORT}/credentials/{profile}"
        )
    if token_file is not None:
        env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = str(token_file)
    return env


def client(*args: str) -> list[str]:
    """The container client program (support/container_client.py) with its arguments."""
    return [PYTHON, str(CLIENT), *args]


def in_container(lab: Lab, env: dict[str, str], *args: str, timeout: float = 120) -> dict[str, Any]:
    """The container client's one JSON answer to ``args``, run in the lab's container."""
    done = lab.run(lab.container, client(*args), env, timeout=timeout)
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


class Serving(NamedTuple):
    sts: NamespacedSts
    server: Server
    env: dict[str, str]  # a container's, granted profile ``dev``


@contextmanager
def serving_dev(lab: Lab, sandbox: Sandbox, tmp_path: Path, *args: str) -> Iterator[Serving]:
    """Profile ``dev`` (ROLE from the base keys) granted and served: moto in the host
    namespace, ``credproc serve ARGS``, and the environment of a container that may fetch it."""
    sandbox.add_profile("dev", role_arn=ROLE, source_profile="base", region="eu-west-1")
    token = grant(sandbox, "dev")
    home = tmp_path / "container"
    home.mkdir()
    with lab.sts_server() as sts:
        sandbox.env["AWS_ENDPOINT_URL"] = sts.url
        with Server(lab, sandbox, *args) as server:
            yield Serving(sts, server, container_env(sts, home, "dev", token))
