"""A real moto server on loopback, wrapped so tests can count and disturb STS calls.

Run as ``python tests/support/stsserver.py [HOST]`` (the tests' session fixture does): it binds
127.0.0.1 (or HOST, inside a test's own network namespace) on a free port, prints the port on
stdout, and serves until killed. Besides every moto endpoint it answers ``/_test/...``:

    GET  /_test/calls             {"AssumeRole": 3, ...}: STS and IAM requests that reached it
    GET  /_test/requests?action=A the form parameters of each such request, oldest first, with
                                  _signing_key_id and _signing_region from its signature ("" if
                                  unsigned)
    POST /_test/reset             forget calls and faults, and reset moto's state
    POST /_test/faults            {"AssumeRole": {"delay": 2, "status": 503, "garbage": true}}
                                  or {"AssumeRole": {"status": 200, "body": "<html>...",
                                  "content_type": "text/html"}}: that answer, byte for byte;
                                  or {"AssumeRole": {"reset": true}}: the connection is closed
                                  without an answer; or {"AssumeRole": {"drip": 16}}: the real
                                  answer, 16 bytes a second (each read well inside any timeout)
    POST /_test/skew              {"seconds": 3600}: the Date header says now + seconds
    GET  /_test/issued            {"ASIA...": {"action": "AssumeRole", "role_arn": ARN,
                                  "expiration": "2026-...Z", "skew": 0.0}}: every token moto
                                  handed out, with the skew its Date header carried
    GET  /_test/disturbed         {"reset": 2, "delay": 5, ...}: answers a fault changed
    GET  /_test/dropped           {"dropped": 1}: dripped answers whose reader hung up before
                                  the answer was whole

A fault may also say {"skip": 1, "times": 2}: of the requests from then on, let the first
through, disturb the next two, then none. Counting happens here, at the server, so a test
counts exactly what credproc sent (moto checks no signature, so the signer is read from the
Authorization header).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, make_server

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


class Recorder:
    """State shared by the server's threads: calls seen, faults to inject, clock skew."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.faults: dict[str, dict[str, Any]] = {}
        self.faults_since: dict[str, int] = {}  # requests of each action before the faults
        self.skew = 0.0
        self.issued: dict[str, dict[str, Any]] = {}
        self.disturbed: dict[str, int] = {}
        self.dropped = 0

    def count(self, action: str) -> int:
        return sum(1 for done, _ in self.requests if done == action)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.faults.clear()
            self.skew = 0.0
            self.issued.clear()
            self.disturbed.clear()
            self.dropped = 0

    def disturbing(self, fault: dict[str, Any]) -> None:
        """An answer ``fault`` changes, counted by what it does (a delay only when that is all)."""
        delayed = "delay" if float(fault.get("delay", 0)) > 0 else None
        kinds = ("reset", "body", "garbage", "status", "drip")
        kind = next((k for k in kinds if k in fault), delayed)
        if kind is not None:
            with self.lock:
                self.disturbed[kind] = self.disturbed.get(kind, 0) + 1

    def issue(self, action: str, params: dict[str, str], body: bytes) -> None:
        """Note the token in a successful answer, and the skew its Date header carries."""
        key = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", body)
        expiration = re.search(rb"<Expiration>([^<]+)</Expiration>", body)
        if key is None or expiration is None:
            return
        with self.lock:
            self.issued[key[1].decode()] = {
                "action": action,
                "role_arn": params.get("RoleArn", ""),
                "expiration": expiration[1].decode(),
                "skew": self.skew,
            }


class TestControls:
    def __init__(self, app: Callable[..., Iterable[bytes]], recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_test/"):
            return self._control(path, environ, start_response)
        action, params = _sts_action(environ)
        if action is None:
            return self.app(environ, start_response)
        with self.recorder.lock:
            seen = self.recorder.count(action) - self.recorder.faults_since.get(action, 0)
            self.recorder.requests.append((action, params))
            fault = dict(self.recorder.faults.get(action, {}))
        skip = int(fault.get("skip", 0))
        times = fault.get("times")
        if seen < skip or (times is not None and seen >= skip + int(times)):
            fault = {}
        self.recorder.disturbing(fault)
        time.sleep(float(fault.get("delay", 0)))
        if fault.get("reset"):
            _hang_up(environ)
        if "body" in fault:  # whatever a proxy, a portal or a broken server might send
            body = str(fault["body"]).encode("latin-1")
            content_type = str(fault.get("content_type", "text/html"))
            return _respond(start_response, int(fault.get("status", 200)), body, content_type)
        if fault.get("garbage"):
            return _respond(start_response, 200, b"<<not xml at all", "text/xml")
        if "status" in fault:
            code = fault.get("code", "ServiceUnavailable")
            body = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>injected by the test</Message></Error></ErrorResponse>"
            ).encode()
            return _respond(start_response, int(fault["status"]), body, "text/xml")
        if "drip" in fault:
            return self._drip(environ, start_response, action, params, int(fault["drip"]))
        answer = b"".join(self.app(environ, start_response))
        self.recorder.issue(action, params, answer)
        return [answer]

    def _drip(
        self,
        environ: Environ,
        start_response: StartResponse,
        action: str,
        params: dict[str, str],
        per_second: int,
    ) -> Iterable[bytes]:
        """moto's answer as it is, but sent ``per_second`` bytes at a time, a second apart."""
        started: list[Any] = []

        def keep(status: str, headers: list[tuple[str, str]], *_: Any) -> Callable[..., None]:
            started.extend((status, headers))
            return lambda _data: None

        answer = b"".join(self.app(environ, keep))
        self.recorder.issue(action, params, answer)
        status, headers = started
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(answer)))])

        def still_dripping() -> bool:
            with self.recorder.lock:
                return "drip" in self.recorder.faults.get(action, {})

        def dropped() -> None:
            with self.recorder.lock:
                self.recorder.dropped += 1

        return _dripping(answer, per_second, still_dripping, dropped)

    def _control(
        self, path: str, environ: Environ, start_response: StartResponse
    ) -> Iterable[bytes]:
        recorder = self.recorder
        body = _read_body(environ)
        if path == "/_test/calls":
            with recorder.lock:
                counts: dict[str, int] = {}
                for action, _ in recorder.requests:
                    counts[action] = counts.get(action, 0) + 1
            return _json(start_response, counts)
        if path == "/_test/requests":
            wanted = parse_qs(environ.get("QUERY_STRING", "")).get("action", [None])[0]
            with recorder.lock:
                found = [p for a, p in recorder.requests if wanted in (None, a)]
            return _json(start_response, found)
        if path == "/_test/reset":
            recorder.reset()
            reset = dict(environ, PATH_INFO="/moto-api/reset", REQUEST_METHOD="POST")
            reset["wsgi.input"] = io.BytesIO(b"")
            reset["CONTENT_LENGTH"] = "0"
            b"".join(self.app(reset, lambda *_: None))
            return _json(start_response, {"reset": True})
        if path == "/_test/faults":
            with recorder.lock:
                recorder.faults = json.loads(body or b"{}")
                recorder.faults_since = {a: recorder.count(a) for a in recorder.faults}
            return _json(start_response, recorder.faults)
        if path == "/_test/issued":
            with recorder.lock:
                return _json(start_response, dict(recorder.issued))
        if path == "/_test/dropped":
            with recorder.lock:
                return _json(start_response, {"dropped": recorder.dropped})
        if path == "/_test/disturbed":
            with recorder.lock:
                return _json(start_response, dict(recorder.disturbed))
        if path == "/_test/skew":
            with recorder.lock:
                recorder.skew = float(json.loads(body)["seconds"])
            return _json(start_response, {"skew": recorder.skew})
        return _respond(start_response, 404, b"unknown control", "text/plain")


def _sts_action(environ: Environ) -> tuple[str | None, dict[str, str]]:
    """The STS Action of a request, read without consuming the body for the real app."""
    if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO", "/") != "/":
        return None, {}
    if "x-www-form-urlencoded" not in environ.get("CONTENT_TYPE", ""):
        return None, {}
    body = _read_body(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    params = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    auth = environ.get("HTTP_AUTHORIZATION", "")
    unsigned = params.get("Action") == "AssumeRoleWithWebIdentity"
    signed = "/sts/aws4_request" in auth or "/iam/aws4_request" in auth
    if not signed and not unsigned:
        return None, {}
    # Who signed, and for which region: "Credential=AKID/20261201/eu-west-1/sts/aws4_request".
    signer = re.search(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/(?:sts|iam)/", auth)
    params["_signing_key_id"], params["_signing_region"] = signer.groups() if signer else ("", "")
    return params.get("Action"), params


def _dripping(
    body: bytes, per_second: int, still: Callable[[], bool], dropped: Callable[[], None]
) -> Iterator[bytes]:
    """The body, a few bytes a second; cut short (the connection then closes with the answer
    incomplete) once the fault is cleared, so a reader the test gave up on is let go.
    ``dropped`` is told when the reader hangs up first (the server's write fails and it closes
    this generator): evidence, at any machine's speed, that the reader gave up mid-answer."""
    for start in range(0, len(body), per_second):
        if start:
            time.sleep(1)
            if not still():
                return
        try:
            yield body[start : start + per_second]
        except GeneratorExit:
            dropped()
            raise


def _hang_up(environ: Environ) -> None:
    """Close the connection without a word, as a dropped link or a crashed server would.

    werkzeug writes nothing for a request whose handler raises ConnectionError, and the
    shutdown tells the client at once rather than after its read timeout."""
    connection: socket.socket = environ["werkzeug.socket"]
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("connection closed by the test server")


def _read_body(environ: Environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data: bytes = environ["wsgi.input"].read(length) if length else b""
    return data


def _json(start_response: StartResponse, value: object) -> Iterable[bytes]:
    return _respond(start_response, 200, json.dumps(value).encode(), "application/json")


def _respond(
    start_response: StartResponse, status: int, body: bytes, content_type: str
) -> Iterable[bytes]:
    reason = {200: "OK", 404: "Not Found"}.get(status, "Error")
    start_response(
        f"{status} {reason}",
        [("Content-Type", content_type), ("Content-Length", str(len(body)))],
    )
    return [body]


RECORDER = Recorder()


class SkewedClockHandler(WSGIRequestHandler):
    """Every response's Date header is what a server with a skewed clock would send."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate((timestamp or time.time()) + RECORDER.skew, usegmt=True)

    def log_request(self, *args: Any) -> None:
        """Quiet: the tests read counts, not access logs."""


def main() -> None:
    app = TestControls(DomainDispatcherApplication(create_backend_app), RECORDER)
    # Another address only in a network namespace a test made (support/netns.py).
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    server = make_server(host, 0, app, threaded=True, request_handler=SkewedClockHandler)
    sys.stdout.write(f"{server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
