"""A stand-in for the AWS console's federation endpoint, on loopback.

No local implementation of that service exists, so this one answers ``getSigninToken`` in the
service's documented form (GET or POST, the ``Session`` JSON with sessionId, sessionKey and
sessionToken, an optional SessionDuration) and records each request, so that a test can check
exactly what credproc sent. ``status`` makes it refuse (4xx) or fail (5xx) instead; ``drip``
makes it send its answer that many bytes a second."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FederationStandIn:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.drip = 0  # bytes a second; 0: all at once
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/federation"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(urllib.parse.urlsplit(self.path).query, "GET")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(self.rfile.read(length).decode(), "POST")

            def _answer(self, query: str, method: str) -> None:
                form = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
                stand_in.requests.append(
                    {"method": method, "path": urllib.parse.urlsplit(self.path).path, **form}
                )
                if stand_in.status != 200:
                    self._send(stand_in.status, {"message": "refused by the stand-in"})
                elif form.get("Action") != "getSigninToken" or "Session" not in form:
                    self._send(400, {"message": "not a getSigninToken request"})
                else:
                    session = json.loads(form["Session"])
                    assert set(session) == {"sessionId", "sessionKey", "sessionToken"}
                    self._send(200, {"SigninToken": f"signin-token-{len(stand_in.requests)}"})

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                step = stand_in.drip or len(data)
                # A reader may give up on a dripped answer, as it should.
                with contextlib.suppress(ConnectionError):
                    for start in range(0, len(data), step):
                        if start:
                            time.sleep(1)
                        self.wfile.write(data[start : start + step])
                        self.wfile.flush()

            def log_message(self, *args: Any) -> None:
                """Quiet: the tests read what was recorded."""

        return Handler

    def session(self, index: int = -1) -> dict[str, str]:
        """The Session JSON of a recorded request."""
        document: dict[str, str] = json.loads(self.requests[index]["Session"])
        return document


@contextmanager
def running_federation() -> Iterator[FederationStandIn]:
    stand_in = FederationStandIn()
    thread = threading.Thread(target=stand_in._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        stand_in._server.shutdown()
        stand_in._server.server_close()
        thread.join(timeout=10)
