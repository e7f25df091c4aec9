"""A stand-in for the AWS console's federation endpoint, on loopback.

No local implementation of that service exists, so this one answers ``getSigninToken`` in the
service's documented form (GET or POST, the ``Session`` JSON with sessionId, sessionKey and
sessionToken, an optional SessionDuration) and records each request, so that a test can check
exactly what credproc sent. ``status`` makes it refuse (4xx) or fail (5xx) instead; ``drip``
makes it send its answer that many bytes a second.

It is also a stand-in console, for a real browser: ``login`` with a token it issued sets a
session cookie (persistent, as the console's are) and redirects to its console page, which
shows the role signed in; ``/oauth?Action=logout`` clears the cookie and goes on to its
``redirect_uri``. Like the console, it refuses a second role's link in a browser context that
holds another role's session ("sign out first"). Every visit is recorded with the session its
cookie carried, so a test reads which context held which role. With ``sts_url`` it asks STS
(GetCallerIdentity, with the session itself) which role a session is, as the real service
knows; without, the session's key id stands for it."""

from __future__ import annotations

import html
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COOKIE = "console-session"


class FederationStandIn:
    def __init__(self, sts_url: str | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.drip = 0  # bytes a second; 0: all at once
        self.hung_up = threading.Event()  # a reader left before a dripped answer was whole
        self.visits: list[dict[str, Any]] = []  # login, logout, page: with the cookie's role
        self._tokens: dict[str, str] = {}  # sign-in token -> the role it signs in
        self._sts_url = sts_url
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/federation"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                form = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
                if parts.path == "/federation" and form.get("Action") == "login":
                    self._login(form)
                elif parts.path == "/oauth" and form.get("Action") == "logout":
                    self._logout(form)
                elif parts.path == "/console":
                    self._page()
                else:
                    self._answer(parts.query, "GET")

            def _cookie_role(self) -> str | None:
                jar = SimpleCookie(self.headers.get("Cookie", ""))
                token = jar[COOKIE].value if COOKIE in jar else None
                return stand_in._tokens.get(token or "")

            def _login(self, form: dict[str, str]) -> None:
                role = stand_in._tokens.get(form.get("SigninToken", ""))
                held = self._cookie_role()
                refused = role is None or (held is not None and held != role)
                stand_in._visit(
                    "login", held, role=role, refused=refused, destination=form.get("Destination")
                )
                if refused:
                    self._page_text(400, "You must first sign out before signing in again.")
                    return
                self._redirect("/console", f"{COOKIE}={form['SigninToken']}; Max-Age=3600")

            def _logout(self, form: dict[str, str]) -> None:
                stand_in._visit("logout", self._cookie_role())
                self._redirect(form.get("redirect_uri", "/console"), f"{COOKIE}=; Max-Age=0")

            def _page(self) -> None:
                role = self._cookie_role()
                stand_in._visit("page", role)
                self._page_text(200, f"Signed in as {role}" if role else "Not signed in")

            def _redirect(self, location: str, cookie: str) -> None:
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Set-Cookie", f"{cookie}; Path=/; HttpOnly")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _page_text(self, status: int, text: str) -> None:
                body = f"<!doctype html><title>console</title><p id=role>{html.escape(text)}"
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

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
                    token = f"signin-token-{len(stand_in.requests)}"
                    stand_in._tokens[token] = stand_in._role(session)
                    self._send(200, {"SigninToken": token})

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                step = stand_in.drip or len(data)
                # A reader may give up on a dripped answer, as it should.
                try:
                    for start in range(0, len(data), step):
                        if start:
                            time.sleep(1)
                        self.wfile.write(data[start : start + step])
                        self.wfile.flush()
                except ConnectionError:
                    stand_in.hung_up.set()

            def log_message(self, *args: Any) -> None:
                """Quiet: the tests read what was recorded."""

        return Handler

    def _role(self, session: dict[str, str]) -> str:
        """The role a session is, as ``ACCOUNT/ROLE`` (STS's answer), or its key id."""
        if self._sts_url is None:
            return session["sessionId"]
        import boto3  # noqa: PLC0415 - only for a stand-in that asks STS

        sts = boto3.client(
            "sts",
            region_name="us-east-1",
            endpoint_url=self._sts_url,
            aws_access_key_id=session["sessionId"],
            aws_secret_access_key=session["sessionKey"],
            aws_session_token=session["sessionToken"],
        )
        arn = sts.get_caller_identity()["Arn"]  # arn:aws:sts::ACCOUNT:assumed-role/ROLE/NAME
        account, rest = arn.split(":", 5)[4:]
        return f"{account}/{rest.split('/')[1]}"

    def _visit(self, action: str, held: str | None, **details: Any) -> None:
        with self._changed:
            self.visits.append({"action": action, "held": held, **details})
            self._changed.notify_all()

    def wait_for_visits(
        self, count: int, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 60
    ) -> list[dict[str, Any]]:
        """The visits after the first ``count``, once ``done`` says they are complete: a real
        browser follows the redirects after credproc has handed it the page."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done(self.visits[count:]):
                left = deadline - time.monotonic()
                assert left > 0, f"the browser got no further than {self.visits[count:]}"
                self._changed.wait(left)
            return list(self.visits[count:])

    def session(self, index: int = -1) -> dict[str, str]:
        """The Session JSON of a recorded request."""
        document: dict[str, str] = json.loads(self.requests[index]["Session"])
        return document


@contextmanager
def running_federation(sts_url: str | None = None) -> Iterator[FederationStandIn]:
    stand_in = FederationStandIn(sts_url)
    thread = threading.Thread(target=stand_in._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        stand_in._server.shutdown()
        stand_in._server.server_close()
        thread.join(timeout=10)
