"""`credproc exec --server` running tests/support/endpoint_child.py, and its endpoint reached the
way an SDK reaches it. Every wait is for a line or an exit, and bounded."""

from __future__ import annotations

import http.client
import json
import queue
import subprocess
import threading
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from botocore.credentials import ContainerProvider, ReadOnlyCredentials

from support.constants import BIN
from support.processes import KilledAtEnd
from support.sandbox import Result, Sandbox

CHILD = Path(__file__).with_name("endpoint_child.py")
CHILD_COMMAND = [str(BIN / "python"), str(CHILD)]
WAIT = 60  # seconds: a line, or an exit, that takes longer than this is a failure


class Served(KilledAtEnd):
    """``with Served(sandbox, *role_args) as served:``: credproc serving the child command (or
    ``command``), its stdin ours, its stdout read line by line, killed if the test fails."""

    def __init__(
        self,
        sandbox: Sandbox,
        *args: str,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ) -> None:
        argv = [str(BIN / "credproc"), "exec", "--server", *args, "--", *(command or CHILD_COMMAND)]
        self.process = subprocess.Popen(
            argv,
            env={**sandbox.env, **(env or {})},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=sandbox.home,
        )
        self.signals: list[str] = []  # the signals the child reported, in order
        self._lines: queue.Queue[str] = queue.Queue()
        self._stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self._endpoint: dict[str, Any] | None = None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        super().__exit__(kind, error, trace)
        self._close()

    def _close(self) -> None:
        for reader in self._readers:
            reader.join(WAIT)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None and not stream.closed:
                stream.close()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put("")  # end of file

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self._stderr.extend(self.process.stderr)

    @property
    def pid(self) -> int:
        return self.process.pid

    def line(self) -> str:
        """The next line the command printed ("" once it has ended)."""
        try:
            return self._lines.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"no line within {WAIT} s: {''.join(self._stderr)}") from None

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def answer(self) -> dict[str, Any]:
        """The child's next answer; signal reports on the way are collected in ``signals``."""
        while True:
            line = self.line()
            assert line, f"the command ended: {''.join(self._stderr)}"
            document: dict[str, Any] = json.loads(line)
            if "signal" not in document:
                return document
            self.signals.append(document["signal"])

    def ask(self, command: str) -> dict[str, Any]:
        self.send(command)
        return self.answer()

    def finish(self, command: str = "exit 0") -> Result:
        """Tell the child to end (or just close its stdin); what credproc gave back."""
        assert self.process.stdin is not None
        if command:
            self.send(command)
        self.process.stdin.close()
        returncode = self.process.wait(WAIT)
        self._close()
        rest = []
        while (line := self._lines.get_nowait()) != "":
            rest.append(line)
        return Result(returncode, "".join(rest), "".join(self._stderr))

    # -- the endpoint ----------------------------------------------------------------------

    @property
    def endpoint(self) -> dict[str, Any]:
        """The child's view: url, token, pid, and its AWS_* and proxy variables."""
        if self._endpoint is None:
            self._endpoint = self.ask("env")
        return self._endpoint

    def request(
        self,
        authorization: list[str] | None,
        method: str = "GET",
        path: str | None = None,
    ) -> tuple[int, str]:
        """One raw request: each item of ``authorization`` an Authorization header."""
        url = urlsplit(self.endpoint["url"])
        connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=WAIT)
        try:
            connection.putrequest(method, path or url.path)
            for value in authorization or []:
                connection.putheader("Authorization", value)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def sdk_credentials(self) -> ReadOnlyCredentials:
        """Credentials as botocore's container provider fetches them (retries included)."""
        environ = {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": self.endpoint["url"],
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": self.endpoint["token"],
        }
        credentials = ContainerProvider(environ=environ).load()
        assert credentials is not None
        frozen: ReadOnlyCredentials = credentials.get_frozen_credentials()
        return frozen
