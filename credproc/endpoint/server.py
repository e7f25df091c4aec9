"""The local credential endpoint of ``credproc exec --server``.

It speaks the container credential protocol every AWS SDK and the CLI read when
``AWS_CONTAINER_CREDENTIALS_FULL_URI`` is set: ``GET`` the URL with the
``AWS_CONTAINER_AUTHORIZATION_TOKEN`` in the ``Authorization`` header, get back
``{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}``. The SDKs take a plain-http URL
only on a loopback address, ask again when their token nears expiry (botocore with 15 minutes
left, the JS SDK with 5), and give each request a second or two before retrying.

Every request is answered by ``provider.get_credentials`` for the request, from any number of
threads: the cache, lock, stale-on-error and backoff of ``credential_process`` (an SDK asks on
every call once its token is due, and after a failed refresh the backoff serves the cached
token without trying STS on each).

Who may ask: the endpoint listens on 127.0.0.1 only, so any local user can connect, and only
the token (256 random bits, in the command's environment, which only its user and root can
read) gets credentials. A request without it, or with anything else, is refused before
anything is looked up; the comparison takes the same time whatever the guess.
"""

from __future__ import annotations

import hmac
import json
import secrets
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..config.awsconfig import config_path, config_profiles, credentials_path, credentials_profiles
from ..core.credentials import Credentials
from ..core.log import is_verbose, logger
from ..errors import CredprocError, LockTimeoutError, ServiceUnavailableError

HOST = "127.0.0.1"
PATH = "/credentials"  # a path of its own: some SDKs refuse a URL without one
TOKEN_BYTES = 32  # 256 bits
# A client that connects and sends nothing (or drips) is dropped after this long.
CLIENT_TIMEOUT = 10
# The same failure, seen again within this long, is not written to stderr again: an SDK
# retries each request two or three times.
REPEAT_QUIET_SECONDS = 60

# What would win over the endpoint in the command's SDKs (the environment's keys come first in
# every credential chain, a profile or a web identity before the container provider), or
# point them at another endpoint. The command gets the role through the endpoint alone.
REMOVED_FROM_COMMAND = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCOUNT_ID",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)
URI_VARIABLE = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN_VARIABLE = "AWS_CONTAINER_AUTHORIZATION_TOKEN"  # noqa: S105 - its name, not a token
_PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
_NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")
# Keys of the [default] profile that give botocore (and the JS SDK) credentials before they
# ever try the container provider: the command would silently use that identity instead.
DEFAULT_PROFILE_KEYS = (
    "aws_access_key_id",
    "credential_process",
    "role_arn",
    "web_identity_token_file",
    "sso_start_url",
    "sso_session",
    "login_session",
)


class Endpoint:
    """``with endpoint.serving(): ...``: the HTTP server, bound at creation, served by a
    thread while the block runs, closed at its end (nothing is left listening)."""

    def __init__(self, serve: Callable[[], Credentials]) -> None:
        self.serve = serve
        self.token = secrets.token_urlsafe(TOKEN_BYTES)
        self._token = self.token.encode()
        self._server = _Server((HOST, 0), _Handler)
        self._server.endpoint = self
        self._last_failure: tuple[str, float] = ("", 0.0)
        self._failure_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}{PATH}"

    @contextmanager
    def serving(self) -> Iterator[Endpoint]:
        thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="credproc-endpoint",
            daemon=True,
        )
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()

    def command_environment(self, environ: Mapping[str, str], region: str | None) -> dict[str, str]:
        """The command's environment: the endpoint's URL and token, the region when known,
        and nothing that would win over the endpoint."""
        env = {k: v for k, v in environ.items() if k not in REMOVED_FROM_COMMAND}
        env[URI_VARIABLE] = self.url
        env[TOKEN_VARIABLE] = self.token
        if region:
            env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = region
        if any(env.get(name) for name in _PROXY_VARIABLES):
            # An SDK honours HTTP_PROXY for the endpoint too: the token would go to the proxy.
            for name in _NO_PROXY_VARIABLES:
                kept = [item for item in env.get(name, "").split(",") if item.strip()]
                env[name] = ",".join([*kept, HOST])
        return env

    def authorized(self, values: list[str]) -> int:
        """0 for exactly the token; else the status to refuse with: 401 without a token (or
        an empty one), 403 with a wrong one, or with more than one Authorization header."""
        if not any(value.strip() for value in values):
            return 401
        if len(values) != 1:
            return 403
        given = values[0].encode("utf-8", "surrogateescape")
        return 0 if hmac.compare_digest(given, self._token) else 403

    def failed(self, message: str) -> None:
        """Say on stderr why a request failed (the JS SDK shows the command only a status)."""
        with self._failure_lock:
            last, when = self._last_failure
            now = time.monotonic()
            if message == last and now - when < REPEAT_QUIET_SECONDS:
                return
            self._last_failure = (message, now)
        logger().warning("the endpoint could not give the command credentials: %s", message)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    request_queue_size = 128  # a burst of parallel SDK clients is queued, not refused
    endpoint: Endpoint

    def handle_error(self, request: object, client_address: object) -> None:
        # socketserver prints a traceback to stderr (the command's terminal): a client that
        # hung up before its answer (an SDK past its timeout) is no news.
        if is_verbose():
            kind = type(sys.exc_info()[1]).__name__
            logger().info("endpoint: a request ended early (%s)", kind)

    def server_bind(self) -> None:
        # HTTPServer's own looks the host's name up (socket.getfqdn): a DNS query for nothing.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = HOST, self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "credproc"
    sys_version = ""
    timeout = CLIENT_TIMEOUT

    def do_GET(self) -> None:
        self._answer()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _answer(self) -> None:
        endpoint = self.server.endpoint
        refused = endpoint.authorized(self.headers.get_all("Authorization") or [])
        if refused:
            self._send(refused, _problem("Unauthorized", "no valid Authorization token"))
        elif self.command != "GET":
            self._send(405, _problem("MethodNotAllowed", "only GET"), {"Allow": "GET"})
        elif self.path != PATH:
            self._send(404, _problem("NotFound", f"credentials are at {PATH}"))
        else:
            self._credentials(endpoint)

    def _credentials(self, endpoint: Endpoint) -> None:
        try:
            credentials = endpoint.serve()
        except CredprocError as error:
            message = " ".join(str(error).split())  # one line, whatever the message held
            endpoint.failed(message)
            temporary = isinstance(error, (ServiceUnavailableError, LockTimeoutError))
            self._send(503 if temporary else 500, _problem(type(error).__name__, message))
        except Exception as error:  # noqa: BLE001 - a bug answers 500; the command goes on
            message = f"internal error: {type(error).__name__}"  # its text might hold anything
            endpoint.failed(message)
            self._send(500, _problem("InternalError", message))
        else:
            self._send(200, credentials.to_container_json())

    def _send(self, status: int, body: str, headers: Mapping[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        # http.server writes every request to stderr, the command's terminal: only with -v.
        if is_verbose():
            logger().info("endpoint: %s", format % args)


def _problem(code: str, message: str) -> str:
    """An error body: the JS SDK shows Code and Message, botocore the whole body."""
    return json.dumps({"Code": code, "Message": message}, separators=(",", ":"))


def default_profile_shadow(environ: Mapping[str, str]) -> str | None:
    """What in the [default] profile the command's SDKs would use before the endpoint, if
    anything: botocore and the JS SDK read the profile's credentials first whenever the
    command names no profile (credproc removes AWS_PROFILE for it)."""
    found = []
    for path, sections in (
        (credentials_path(environ), credentials_profiles(environ)),
        (config_path(environ), config_profiles(environ)),
    ):
        keys = sections.get("default", {})
        found += [f"{key} in {path}" for key in DEFAULT_PROFILE_KEYS if key in keys]
    if not found:
        return None
    return (
        f"the [default] profile has {', '.join(found)}: a client in the command that names "
        "no profile (a bare boto3.Session(), aws without --profile) takes those credentials, "
        "not the role from the endpoint; move them to a named profile"
    )
