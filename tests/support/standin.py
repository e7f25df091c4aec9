"""What every stand-in service on loopback shares (ssoserver.py, signinserver.py): the HTTP
server, counting calls, injecting faults, the tests' controls, waiting for calls, and the
browser sign-in that redirects with a code once the test (or ``auto_approve``) decides it.

A service subclasses ``StandIn`` and keeps only its own shapes: ``routes`` (method and path to
operation name), ``operate`` (an operation's answer, or its ``ServiceError``), ``error_reply``
(how the service sends an error) and ``injected`` (the error a ``status`` fault sends).

Faults, per operation, as in stsserver.py: ``delay``, ``garbage``, ``body`` (+
``content_type``), ``reset`` (hang up), ``status`` (with the service's error), ``skip``/``times``
to disturb only some, and ``delay_after``: the work is done, then the answer waits.

Tests in other processes reach the controls over HTTP: ``GET /_test/calls``, ``POST
/_test/approve``, ``POST /_test/faults`` (``{"Operation": {"status": 500}}``).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, TypeVar


class ServiceError(Exception):
    """An error the service answers with; ``kind`` goes in the x-amzn-ErrorType header."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Reply:
    """One HTTP answer: an empty ``content_type`` sends no Content-Type (a redirect)."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(document: Any) -> Reply:
    return Reply(200, json.dumps(document).encode())


@dataclass
class Authorization:
    """One browser sign-in: the authorize request, then the code it redirected with."""

    client_id: str
    redirect_uri: str
    challenge: str
    state: str
    decided: threading.Event = field(default_factory=threading.Event)
    approved: bool = False
    code: str = ""
    issued_at: float = 0.0
    used: bool = False


class StandIn:
    routes: ClassVar[dict[tuple[str, str], str]] = {}

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[float, str]] = []  # (time.time(), operation) of every call
        self.faults: dict[str, dict[str, Any]] = {}
        self._fault_seen: Counter[str] = Counter()
        self.auto_approve = True  # the authorize page redirects at once
        self.authorizations: list[Authorization] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- what a service defines ---------------------------------------------------------------

    def operate(self, operation: str, query: dict[str, str], raw: bytes, headers: Any) -> Reply:
        raise NotImplementedError

    def error_reply(self, error: ServiceError, status: int | None = None) -> Reply:
        raise NotImplementedError

    def injected(self, fault: dict[str, Any]) -> ServiceError:
        raise NotImplementedError

    # -- the tests' controls ------------------------------------------------------------------

    def fault(self, operation: str, **fault: Any) -> None:
        with self.lock:
            self.faults[operation] = fault
            self._fault_seen[operation] = 0

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def count(self, name: str) -> int:
        with self.lock:
            return self.calls[name]

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.log.clear()
            self.faults.clear()

    def times(self, name: str) -> list[float]:
        """When each call of ``name`` arrived (time.time()), oldest first."""
        with self.lock:
            return [moment for moment, operation in self.log if operation == name]

    def wait_for(self, name: str, count: int, timeout: float = 30) -> None:
        """Until ``count`` calls of ``name`` arrived (bounded): never a sleep and a hope."""
        deadline = time.monotonic() + timeout
        while self.count(name) < count:
            assert time.monotonic() < deadline, f"{name}: {self.count(name)} of {count} calls"
            time.sleep(0.02)

    def wait_for_sign_in(self, count: int = 1, timeout: float = 30) -> None:
        """Until ``count`` browser sign-ins are open at the authorize page (bounded): then
        ``approve`` or ``deny_browser`` decides them. (The Authorize count rises a moment
        before the sign-in is there to decide.)"""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.authorizations) >= count:
                    return
            assert time.monotonic() < deadline, f"no sign-in {count} at the authorize page"
            time.sleep(0.02)

    def approve(self) -> int:
        """Approve every pending browser sign-in; how many there were."""
        with self.lock:
            pending = [a for a in self.authorizations if not a.decided.is_set()]
        for authorization in pending:
            authorization.approved = True
            authorization.decided.set()
        return len(pending)

    def deny_browser(self) -> None:
        """The person closes the page or refuses: the redirect carries error=access_denied."""
        with self.lock:
            pending = [a for a in self.authorizations if not a.decided.is_set()]
        for authorization in pending:
            authorization.decided.set()

    # -- the browser's sign-in ----------------------------------------------------------------

    def sign_in(self, authorization: Authorization) -> str:
        """Open ``authorization`` at the page, wait until it is decided, and return the
        redirect the browser follows: with a new code and the state, or error=access_denied."""
        with self.lock:
            self.authorizations.append(authorization)
        if self.auto_approve:
            authorization.approved = True
            authorization.decided.set()
        authorization.decided.wait(timeout=120)
        redirect = authorization.redirect_uri
        if not authorization.approved:
            answer = {"error": "access_denied", "state": authorization.state}
            return f"{redirect}?{urllib.parse.urlencode(answer)}"
        with self.lock:
            authorization.code = "code-" + secrets.token_urlsafe(24)
            authorization.issued_at = time.time()
        answer = {"code": authorization.code, "state": authorization.state}
        return f"{redirect}?{urllib.parse.urlencode(answer)}"

    # -- HTTP ---------------------------------------------------------------------------------

    def _disturbance(self, operation: str) -> dict[str, Any]:
        """The fault this request of ``operation`` gets, honouring skip and times."""
        with self.lock:
            self.calls[operation] += 1
            self.log.append((time.time(), operation))
            fault = dict(self.faults.get(operation, {}))
            seen = self._fault_seen[operation]
            self._fault_seen[operation] += 1
        skip = int(fault.get("skip", 0))
        times = fault.get("times")
        if seen < skip or (times is not None and seen >= skip + int(times)):
            return {}
        return fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def _dispatch(self, method: str) -> None:
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if parts.path.startswith("/_test/"):
                    self._control(parts.path, raw)
                    return
                operation = stand_in.routes.get((method, parts.path))
                if operation is None:
                    self._send(Reply(404, b'{"message": "no such operation"}'))
                    return
                fault = stand_in._disturbance(operation)
                time.sleep(float(fault.get("delay", 0)))
                if self._disturbed(fault):
                    return
                try:
                    reply = stand_in.operate(operation, query, raw, self.headers)
                except ServiceError as error:
                    self._send(stand_in.error_reply(error))
                    return
                time.sleep(float(fault.get("delay_after", 0)))
                self._send(reply)

            def _disturbed(self, fault: dict[str, Any]) -> bool:
                if fault.get("reset"):
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return True
                if "body" in fault:
                    body = str(fault["body"]).encode("latin-1")
                    kind = str(fault.get("content_type", "text/html"))
                    self._send(Reply(int(fault.get("status", 200)), body, kind))
                    return True
                if fault.get("garbage"):
                    self._send(Reply(200, b"{{not json at all"))
                    return True
                if "status" in fault:
                    self._send(stand_in.error_reply(stand_in.injected(fault), int(fault["status"])))
                    return True
                return False

            def _control(self, path: str, raw: bytes) -> None:
                if path == "/_test/calls":
                    with stand_in.lock:
                        counts = dict(stand_in.calls)
                    self._send(json_reply(counts))
                elif path == "/_test/approve":
                    approved = stand_in.approve()
                    self._send(Reply(200, json.dumps({"approved": approved}).encode(), "text/json"))
                elif path == "/_test/faults":
                    for operation, fault in json.loads(raw or b"{}").items():
                        stand_in.fault(operation, **fault)
                    self._send(Reply(200, b"{}"))
                else:
                    self._send(Reply(404, b"unknown control", "text/plain"))

            def _send(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.content_type:
                    self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.body:
                    self.wfile.write(reply.body)

            def log_message(self, *args: Any) -> None:
                """Quiet: the tests read the counters."""

        return Handler


Service = TypeVar("Service", bound=StandIn)


@contextmanager
def running(stand_in: Service) -> Iterator[Service]:
    """``stand_in`` serving on a thread until the block ends."""
    thread = threading.Thread(target=stand_in._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        stand_in.approve()  # release any authorize request still waiting
        stand_in._server.shutdown()
        stand_in._server.server_close()
        thread.join(timeout=10)


def serve(stand_in: StandIn) -> None:
    """Run as a program: print the port, then serve until killed."""
    sys.stdout.write(f"{stand_in._server.server_address[1]}\n")
    sys.stdout.flush()
    stand_in._server.serve_forever()
