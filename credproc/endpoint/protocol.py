"""The container credential protocol as credproc's endpoints speak it, for ``exec --server``
(``server``) and ``credproc serve`` (``containers``) alike.

A client ``GET``s a URL with a token in its ``Authorization`` header and gets back
``{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}``, or an error document
``{"Code", "Message"}`` with a 4xx or 5xx status (the JS SDK shows those two fields, botocore
the whole body). One request per connection: the SDKs open a new one for each fetch anyway.

A connection is bounded before any of it is parsed: its request line and headers must come
within ``CLIENT_DEADLINE`` seconds in all (a client that drips a byte at a time is cut off at
the deadline, not at a per-read timeout it could keep resetting) and within
``MAX_REQUEST_BYTES``; at most ``MAX_CONNECTIONS`` are open at once, further ones are closed at
once, so a flood takes memory and threads it can bound and the others are still answered.
"""

from __future__ import annotations

import io
import json
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..core.credentials import Credentials
from ..core.log import is_verbose, logger
from ..errors import CredprocError, LockTimeoutError, ServiceUnavailableError

# Seconds a client has to send its whole request line and headers.
CLIENT_DEADLINE = 10.0
# A credential request is a request line and a few short headers: well under a kilobyte.
MAX_REQUEST_BYTES = 8192
# Connections served at once; one thread each, for at most CLIENT_DEADLINE while they talk.
MAX_CONNECTIONS = 2048
_HEAD_ENDS = (b"\r\n\r\n", b"\n\n")


class TooLargeError(Exception):
    """The request's head passed MAX_REQUEST_BYTES."""


def problem(code: str, message: str) -> str:
    """An error body: the JS SDK shows Code and Message, botocore the whole body."""
    return json.dumps({"Code": code, "Message": message}, separators=(",", ":"))


class ProtocolServer(ThreadingHTTPServer):
    """A thread per connection, up to MAX_CONNECTIONS; quiet about clients that hang up."""

    daemon_threads = True
    allow_reuse_address = False
    # A burst of parallel SDK clients is queued by the kernel, not refused.
    request_queue_size = 1024

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[ProtocolHandler],
        *,
        family: socket.AddressFamily = socket.AF_INET,
    ) -> None:
        self.address_family = family
        self._open = 0
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        with self._open_lock:
            full = self._open >= MAX_CONNECTIONS
            if not full:
                self._open += 1
        if full:
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._closed()
            raise

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._closed()

    def _closed(self) -> None:
        with self._open_lock:
            self._open -= 1

    def handle_error(self, request: object, client_address: object) -> None:
        # socketserver prints a traceback to stderr: a client that hung up before its answer
        # (an SDK past its timeout) is no news.
        if is_verbose():
            kind = type(sys.exc_info()[1]).__name__
            logger().info("endpoint: a request ended early (%s)", kind)

    def server_bind(self) -> None:
        # HTTPServer's own looks the host's name up (socket.getfqdn): a DNS query for nothing.
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])


class ProtocolHandler(BaseHTTPRequestHandler):
    """Reads one bounded request, hands it to ``answer`` (the subclass's), writes JSON."""

    server: ProtocolServer
    server_version = "credproc"
    sys_version = ""
    timeout = CLIENT_DEADLINE

    def handle(self) -> None:
        self.close_connection = True
        self.request_version = "HTTP/1.0"  # until a request line says otherwise
        self.command = ""
        self.requestline = ""
        try:
            head = _read_head(self.connection, time.monotonic() + CLIENT_DEADLINE)
        except TooLargeError:
            self.send_json(431, problem("RequestTooLarge", f"over {MAX_REQUEST_BYTES} bytes"))
            self.refused("too large")
            return
        except TimeoutError:
            self.refused("too slow")
            return
        if not head:
            return  # connected and hung up
        self.rfile = io.BytesIO(head)
        self.handle_one_request()

    def do_GET(self) -> None:
        self.answer()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def answer(self) -> None:
        raise NotImplementedError

    def refused(self, why: str) -> None:
        """A connection dropped before it made a request (the subclass may log it)."""

    def send_credentials(
        self, serve: Callable[[], Credentials], failed: Callable[[str], None]
    ) -> int:
        """Answer with ``serve()``'s credentials, or the error it raised; the status sent."""
        try:
            credentials = serve()
        except CredprocError as error:
            message = " ".join(str(error).split())  # one line, whatever the message held
            failed(message)
            temporary = isinstance(error, (ServiceUnavailableError, LockTimeoutError))
            status = 503 if temporary else 500
            self.send_json(status, problem(type(error).__name__, message))
            return status
        except Exception as error:  # noqa: BLE001 - a bug answers 500; the server goes on
            message = f"internal error: {type(error).__name__}"  # its text might hold anything
            failed(message)
            self.send_json(500, problem("InternalError", message))
            return 500
        self.send_json(200, credentials.to_container_json())
        return 200

    def send_json(self, status: int, body: str, headers: Mapping[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own error page is HTML; a client of this protocol reads JSON.
        self.close_connection = True
        self.send_json(code, problem("BadRequest", message or "malformed request"))

    def log_message(self, format: str, *args: object) -> None:
        # http.server writes every request to stderr: only with -v.
        if is_verbose():
            logger().info("endpoint: %s", format % args)


def _read_head(connection: socket.socket, deadline: float) -> bytes:
    """The request line and headers, read by the deadline; b"" if the client hung up first."""
    data = b""
    while not any(end in data for end in _HEAD_ENDS):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        connection.settimeout(left)
        try:
            chunk = connection.recv(4096)
        except TimeoutError:
            raise TimeoutError from None
        if not chunk:
            return b""
        data += chunk
        if len(data) > MAX_REQUEST_BYTES:
            raise TooLargeError
    return data
