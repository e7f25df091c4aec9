"""The tests' side of the moto wrapper (stsserver.py): start it, count and disturb STS calls."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STSSERVER = Path(__file__).with_name("stsserver.py")


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

    def signers(self, action: str) -> list[str]:
        """The access key id that signed each request of this action, oldest first."""
        return [request["_signing_key_id"] for request in self.requests(action)]

    def reset(self) -> None:
        self._call("/_test/reset")

    def fault(self, action: str, **fault: object) -> None:
        self._call("/_test/faults", {action: fault})

    def faults(self, faults: dict[str, dict[str, object]]) -> None:
        """Faults for several actions at once (each as ``fault`` takes them)."""
        self._call("/_test/faults", faults)

    def clear_faults(self) -> None:
        self._call("/_test/faults", {})

    def skew(self, seconds: float) -> None:
        self._call("/_test/skew", {"seconds": seconds})

    def issued(self) -> dict[str, dict[str, Any]]:
        """Every token handed out: access key id -> action, role_arn, expiration, skew."""
        tokens: dict[str, dict[str, Any]] = self._call("/_test/issued")
        return tokens

    def wait_for_dropped(self, count: int, timeout: float = 60) -> None:
        """Until ``count`` dripped answers were hung up on by their reader (the server sees it
        at its next write, a second or two after the reader left); AssertionError past
        ``timeout``."""
        deadline = time.monotonic() + timeout
        while self._call("/_test/dropped")["dropped"] < count:
            assert time.monotonic() < deadline, f"no reader hung up on {count} dripped answer(s)"
            time.sleep(0.1)

    def disturbed(self) -> dict[str, int]:
        """Answers a fault changed, by kind: reset, body, garbage, status, delay."""
        counts: dict[str, int] = self._call("/_test/disturbed")
        return counts


@contextlib.contextmanager
def running_sts_server() -> Iterator[StsServer]:
    """The moto wrapper on a free loopback port, stopped on the way out."""
    process = subprocess.Popen(
        [sys.executable, str(STSSERVER)],
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
