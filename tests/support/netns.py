"""A host and a container at the network level, in network namespaces the test makes itself.

``Lab`` makes two namespaces with unique names (``ip netns add``): "host", where credproc serve
and the moto server run, and "container", joined to it by a veth pair. Inside them only, the
host's end gets 169.254.170.2 (the address the SDKs take plain http for) and the container's
169.254.170.3. Everything runs through ``ip netns exec``; the test process stays where it was,
and reaches a server in a namespace from a thread that joins it (``in_namespace``). Deleting
the namespaces deletes the veth pair with them: the machine's own network is never touched.

Needs root and ``ip`` (iproute2): skipped otherwise, failed in CI (``.ci/run`` runs as root).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pytest

from support.constants import BIN
from support.server import STSSERVER, StsServer
from support.tools import require

SERVER_IP = "169.254.170.2"
CONTAINER_IP = "169.254.170.3"
CLONE_NEWNET = 0x40000000
T = TypeVar("T")


def require_namespaces() -> str:
    """``ip``'s path, if network namespaces can be made here; else skip (fail in CI)."""
    ip = require("ip", "iproute2")
    if os.geteuid() != 0:
        reason = "network namespaces need root"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI runs as root")
        pytest.skip(reason)
    return ip


def in_namespace(namespace: str, work: Callable[[], T]) -> T:
    """``work()`` run by a thread that has joined the named network namespace (a thread's
    own, on Linux): its sockets are made there."""
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns")
            finally:
                os.close(fd)
            result.append(work())
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    if errors:
        raise errors[0]
    assert result, "the namespace's thread did not finish"
    return result[0]


class Lab:
    """``with Lab() as lab:``: the two namespaces and the veth pair, gone on the way out."""

    def __init__(self) -> None:
        self.ip = require_namespaces()
        tag = f"credproc-{os.getpid()}-{secrets.token_hex(3)}"
        self.host = f"{tag}-host"
        self.container = f"{tag}-ctr"
        self._made: list[str] = []

    def _ip(self, *args: str) -> None:
        subprocess.run([self.ip, *args], check=True, capture_output=True, timeout=30)

    def __enter__(self) -> Lab:
        try:
            for namespace in (self.host, self.container):
                self._ip("netns", "add", namespace)
                self._made.append(namespace)
                self._ip("-n", namespace, "link", "set", "lo", "up")
            # Made inside the host namespace, its peer moved straight into the container's:
            # neither end ever exists in the machine's own namespace.
            self._ip("-n", self.host, "link", "add", "veth-h", "type", "veth", "peer", "name",
                     "veth-c", "netns", self.container)  # fmt: skip
            for namespace, device, address in (
                (self.host, "veth-h", SERVER_IP),
                (self.container, "veth-c", CONTAINER_IP),
            ):
                self._ip("-n", namespace, "addr", "add", f"{address}/24", "dev", device)
                self._ip("-n", namespace, "link", "set", device, "up")
        except BaseException:
            self._delete()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._delete()

    def _delete(self) -> None:
        for namespace in reversed(self._made):
            subprocess.run(
                [self.ip, "netns", "delete", namespace],
                capture_output=True,
                timeout=30,
                check=False,
            )
        self._made.clear()

    def command(self, namespace: str, argv: Sequence[str]) -> list[str]:
        return [self.ip, "netns", "exec", namespace, *argv]

    def popen(
        self, namespace: str, argv: Sequence[str], env: Mapping[str, str], **kw: Any
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(namespace, argv),
            env=dict(env),
            text=True,
            **{"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kw},
        )

    def run(
        self, namespace: str, argv: Sequence[str], env: Mapping[str, str], timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(namespace, argv),
            env=dict(env),
            text=True,
            capture_output=True,
            timeout=timeout,
            check=False,
        )

    @contextlib.contextmanager
    def sts_server(self) -> Iterator[NamespacedSts]:
        """The moto wrapper in the host namespace, on every address there: credproc reaches
        it on 127.0.0.1, the container on 169.254.170.2."""
        process = self.popen(
            self.host,
            [sys.executable, str(STSSERVER), "0.0.0.0"],  # noqa: S104 - inside the lab only
            {**os.environ, "PYTHONUNBUFFERED": "1"},
            stderr=subprocess.DEVNULL,
        )
        assert process.stdout is not None
        port = int(process.stdout.readline())
        server = NamespacedSts(process, port, self.host)
        try:
            yield server
        finally:
            process.terminate()
            process.wait(timeout=10)
            process.stdout.close()


class NamespacedSts(StsServer):
    """The moto wrapper's controls, reached from inside its namespace."""

    def __init__(self, process: subprocess.Popen[str], port: int, namespace: str) -> None:
        super().__init__(process, port)
        self.port = port
        self.namespace = namespace
        self.container_url = f"http://{SERVER_IP}:{port}"

    def _call(self, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        method = "GET" if data is None and not path.endswith(("reset",)) else "POST"
        request = urllib.request.Request(self.url + path, data=data, method=method)  # noqa: S310

        def call() -> Any:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return json.loads(response.read())

        return in_namespace(self.namespace, call)

    def roles_assumed(self) -> dict[str, int]:
        """AssumeRole calls that reached the server, by role ARN."""
        counts: dict[str, int] = {}
        for request in self.requests("AssumeRole"):
            counts[request["RoleArn"]] = counts.get(request["RoleArn"], 0) + 1
        return counts


CLIENT = Path(__file__).with_name("container_client.py")
PYTHON = str(BIN / "python")
