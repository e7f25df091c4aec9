"""The browser side of an SSO sign-in: whether one can be opened, opening it (the default
browser, as ``browser`` starts every browser), and the one-shot loopback callback the
authorization-code flow (PKCE) returns to.
"""

from __future__ import annotations

import secrets
import time
import urllib.parse
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer

from ..errors import SsoLoginError
from .browser import default_missing, open_default

CALLBACK_PATH = "/oauth/callback"


def can_open(environ: Mapping[str, str]) -> bool:
    return default_missing(environ) is None


def open_url(url: str, environ: Mapping[str, str]) -> bool:
    """Start the default browser on ``url`` without waiting for it; False if none could be."""
    return open_default(url, environ) is not None


class Callback:
    """The loopback end of the authorization-code flow: serves 127.0.0.1 on a free port until
    the browser comes back with the code for our ``state`` (anything else is refused)."""

    def __init__(self) -> None:
        self.state = secrets.token_urlsafe(24)
        self.result: dict[str, str] | None = None
        self._server = HTTPServer(("127.0.0.1", 0), self._handler())
        self.redirect_uri = f"http://127.0.0.1:{self._server.server_address[1]}{CALLBACK_PATH}"

    def wait(self, timeout: float) -> str:
        """The authorization code; SsoLoginError if refused or not back within ``timeout``."""
        deadline = time.monotonic() + timeout
        try:
            while self.result is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SsoLoginError(
                        f"the browser sign-in did not finish within {timeout:.0f} s; run again "
                        "to retry"
                    )
                self._server.timeout = min(left, 1.0)
                self._server.handle_request()
        finally:
            self._server.server_close()
        if "code" not in self.result:
            error = self.result.get("error", "no code")
            raise SsoLoginError(f"the browser sign-in was refused or abandoned ({error})")
        return self.result["code"]

    def close(self) -> None:
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        callback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                if parts.path != CALLBACK_PATH or query.get("state") != callback.state:
                    self._page(400, "This is not the sign-in credproc is waiting for.")
                    return
                callback.result = query
                if "code" in query:
                    self._page(200, "Signed in. You can close this tab.")
                else:
                    self._page(200, "The sign-in did not complete. You can close this tab.")

            def _page(self, status: int, text: str) -> None:
                body = f"<!doctype html><title>credproc</title><p>{text}</p>".encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                """Nothing on stderr: the client may show it to the user as an error."""

        return Handler
