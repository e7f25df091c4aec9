"""``credproc serve``: the container credential endpoint for many profiles, each readable only
with a grant's token (``grants``), on the addresses the user chose (``addresses``).

``GET /credentials/PROFILE`` with a grant's token that may read PROFILE is answered like a
``credential_process`` run for ``--profile PROFILE``: ``provider.get_credentials``, its cache,
its per-key lock (one STS call however many containers ask), its stale-on-error and backoff.
Around it:

- one fetch per profile at a time in this process: the containers asking meanwhile share its
  answer;
- an answer within ``ANSWER_SECONDS``: the SDKs give the endpoint a second or two (botocore 2 s,
  the JS SDK 1 s) before they retry. If a refresh takes longer (STS slow or down) and the
  cached token still lives, that token is the answer, and the refresh goes on;
- a proactive refresh: once a profile has been asked for, a thread refreshes it when its
  token enters the refresh window, so no container waits for STS;
- a prompt (an MFA code, an SSO or ``login`` sign-in) is the serving process's own: its
  terminal, or a dialog on its display, once for all the containers waiting under the lock.
  A container never sees a prompt, only the answer or an error.

Refusals (no token 401; a wrong, revoked or other profile's token 403; a Host header that is
a name, DNS rebinding, 403) are answered before anything is looked up, as JSON. The access log
has one line per request: who asked, what, the status and the grant's name, never a token.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from errno import EADDRNOTAVAIL
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from ..config.options import RawOptions
from ..config.resolve import resolve
from ..core.cache import Cache
from ..core.credentials import Credentials
from ..core.log import logger
from ..core.provider import STALE_MINIMUM_SECONDS, get_credentials
from ..core.request import Request
from ..errors import ConfigError
from .addresses import Address, host_allowed
from .grants import GrantBook
from .protocol import ProtocolHandler, ProtocolServer, problem

if TYPE_CHECKING:
    from ..core.provider import Fetcher

PREFIX = "/credentials/"
HEALTH = "/health"
# What the slowest SDK gives the endpoint before it retries (the JS SDK's 1 s), less a margin.
ANSWER_SECONDS = 0.8
# The proactive refresher looks again at least this often, and waits at least this long
# between two tries of a profile whose refresh failed (the provider's backoff decides the rest).
LOOK_AT_LEAST_EVERY = 60.0
RETRY_AT_MOST_EVERY = 10.0


def credentials_path(profile: str) -> str:
    """The URL path of a profile's credentials."""
    return PREFIX + quote(profile, safe="")


def resolve_profile(options: RawOptions, environ: Mapping[str, str], profile: str) -> Request:
    """The request ``credproc --profile PROFILE`` with serve's own options (over the
    profile's keys, as flags are) resolves to; no network."""
    given = {option.dest: value for option, value in options.given()}
    return resolve(RawOptions({**given, "profile": profile}), environ)


class ContainerService:
    """The bound listeners, the grants and the fetches. ``start()``, then ``stop()``."""

    def __init__(
        self,
        addresses: list[Address],
        book: GrantBook,
        *,
        options: RawOptions,
        environ: dict[str, str],
        fetcher: Fetcher,
        access_log: Callable[[str], None],
    ) -> None:
        self.book = book
        self._options = options
        self._environ = environ
        self._fetcher = fetcher
        self._access_log = access_log
        self._requests: dict[str, Request] = {}
        self._inflight: dict[str, Future[Credentials]] = {}
        self._due: dict[str, float] = {}  # profile -> monotonic time its refresh is due
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_failure: tuple[str, float] = ("", 0.0)
        self.servers: list[_Server] = []
        try:
            for address in addresses:
                self.servers.append(_Server(address, self))
        except OSError as error:
            self._close_servers()
            raise ConfigError(
                f"cannot listen on {address}: {error.strerror or error}"
                + (
                    " (is the address on an interface here?)"
                    if error.errno == EADDRNOTAVAIL
                    else ""
                )
            ) from None

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        for server in self.servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.2},
                name=f"credproc-serve-{server.server_port}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        refresher = threading.Thread(target=self._refresh_ahead, name="credproc-ahead", daemon=True)
        refresher.start()
        self._threads.append(refresher)

    def stop(self) -> None:
        """Stop accepting, let the answers under way finish, close every socket (again: a
        no-op)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._wake.set()
        if self._threads:  # shutdown() waits for a serve_forever that must have started
            for server in self.servers:
                server.shutdown()
        self._close_servers()
        for thread in self._threads:
            thread.join(5)

    def _close_servers(self) -> None:
        for server in self.servers:
            server.server_close()

    def reload(self) -> int:
        """SIGHUP: the grants file read again, and each profile's settings at its next fetch."""
        with self._lock:
            self._requests.clear()
        return self.book.reload()

    # -- fetching --------------------------------------------------------------------------

    def request_for(self, profile: str) -> Request:
        """The profile's request, as ``credproc --profile PROFILE`` with serve's own options
        would resolve it (kept until a reload)."""
        with self._lock:
            found = self._requests.get(profile)
        if found is None:
            found = resolve_profile(self._options, self._environ, profile)
            with self._lock:
                self._requests[profile] = found
        return found

    def fetch(self, profile: str) -> Credentials:
        """The profile's credentials: from the one fetch under way for it, within
        ANSWER_SECONDS; past that, the cached token while it lives, else the fetch's end."""
        fresh = self._fresh(profile)
        if fresh is not None:
            return fresh
        future = self._fetching(profile)
        try:
            return future.result(ANSWER_SECONDS)
        except FutureTimeout:
            live = self._cached(profile)
            if live is not None:
                return live
        return future.result()

    def _fetching(self, profile: str) -> Future[Credentials]:
        with self._lock:
            future = self._inflight.get(profile)
            if future is None:
                future = Future()
                self._inflight[profile] = future
                future.add_done_callback(lambda done: self._finished(profile, done))
                # A daemon thread, not a pool's: a refresh stuck on a silent STS must not hold
                # up the exit SIGTERM asked for (an interrupted refresh leaves the cache whole).
                thread = threading.Thread(
                    target=self._run, args=(profile, future), name="credproc-fetch", daemon=True
                )
                thread.start()
        return future

    def _run(self, profile: str, future: Future[Credentials]) -> None:
        try:
            future.set_result(self._get(profile))
        except BaseException as error:  # noqa: BLE001 - handed to every waiting request
            future.set_exception(error)

    def _finished(self, profile: str, done: Future[Credentials]) -> None:
        with self._lock:
            if self._inflight.get(profile) is done:
                del self._inflight[profile]

    def _get(self, profile: str) -> Credentials:
        request = self.request_for(profile)
        credentials = get_credentials(request, self._fetcher)
        left = credentials.seconds_left(time.time()) - request.refresh_window
        with self._lock:
            # Due again when it enters the window; one that did not leave it (a failed
            # refresh served the old token) is tried again in a while, not at once.
            self._due[profile] = time.monotonic() + (left if left > 0 else RETRY_AT_MOST_EVERY)
        self._wake.set()
        return credentials

    def _fresh(self, profile: str) -> Credentials | None:
        """A cache hit, read on the request's own thread (the provider's first step, without
        a thread to wait on); None when the token is due or not cached."""
        request = self.request_for(profile)
        if request.cache_dir is None:
            return None
        entry = Cache(request.cache_dir).read(request)
        if entry is None or entry.seconds_left() <= request.refresh_window:
            return None
        credentials = entry.local_credentials()
        with self._lock:
            if profile not in self._due:  # served before any fetch ran: refreshed ahead too
                left = entry.seconds_left() - request.refresh_window
                self._due[profile] = time.monotonic() + left
                self._wake.set()
        return credentials

    def _cached(self, profile: str) -> Credentials | None:
        """The profile's cached token, if it lives long enough to hand out."""
        request = self.request_for(profile)
        if request.cache_dir is None:
            return None
        entry = Cache(request.cache_dir).read(request)
        if entry is None or entry.seconds_left() < STALE_MINIMUM_SECONDS:
            return None
        logger().info("a refresh of %s is slow; serving its cached token meanwhile", profile)
        return entry.local_credentials()

    def _refresh_ahead(self) -> None:
        """Refresh each profile asked for when its token enters the refresh window."""
        while not self._stop.is_set():
            self._wake.clear()  # before looking: a wake-up from here on is not missed
            now = time.monotonic()
            with self._lock:
                due = [profile for profile, when in self._due.items() if when <= now]
                upcoming = [when for when in self._due.values() if when > now]
                for profile in due:
                    del self._due[profile]  # set again when the fetch ends
            granted = {profile for grant in self.book.grants for profile in grant.profiles}
            for profile in due:
                if profile in granted:  # a revoked grant's profile is left to expire
                    self._fetching(profile).add_done_callback(_quietly)
            wait = min([*(when - now for when in upcoming), LOOK_AT_LEAST_EVERY])
            self._wake.wait(max(wait, 0.05))

    def failed(self, message: str) -> None:
        """Say on stderr why a fetch failed; the same failure again within a minute once."""
        with self._lock:
            last, when = self._last_failure
            now = time.monotonic()
            if message == last and now - when < 60:
                return
            self._last_failure = (message, now)
        logger().warning("could not serve credentials: %s", message)

    def logged(self, line: str) -> None:
        self._access_log(line)


def _quietly(done: Future[Credentials]) -> None:
    """A proactive refresh that failed: the next request meets (and reports) the error."""
    if not done.cancelled():
        done.exception()


class _Server(ProtocolServer):
    # A server restarted on its fixed port (after a crash, or systemd's restart) must not
    # wait out the old connections' TIME_WAIT. On POSIX this never lets two servers share a
    # port; on Windows it would, so there it stays off.
    allow_reuse_address = os.name == "posix"

    def __init__(self, address: Address, service: ContainerService) -> None:
        self.service = service
        super().__init__((address.host, address.port), _Handler, family=address.family)


class _Handler(ProtocolHandler):
    server: _Server

    def answer(self) -> None:
        started = time.monotonic()
        status, who = self._route(self.server.service)
        path = urlsplit(self.path).path
        self._log(status, f"{self.command} {_printable(path)}", who, started)

    def refused(self, why: str) -> None:
        self._log(431 if why == "too large" else 408, "-", why, time.monotonic())

    def _log(self, status: int, what: str, who: str, started: float) -> None:
        milliseconds = (time.monotonic() - started) * 1000
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        client = self.client_address[0] if self.client_address else "-"
        self.server.service.logged(
            f"{stamp} {client} {what} {status} {who or '-'} {milliseconds:.0f}ms"
        )

    def _route(self, service: ContainerService) -> tuple[int, str]:
        """Answer; the status and the grant's name (or why it was refused)."""
        if not host_allowed(self.headers.get("Host")):
            why = "Host is not an IP address or localhost"
            self.send_json(403, problem("HostNotAllowed", why))
            return 403, "bad-host"
        path = urlsplit(self.path).path
        if path == HEALTH:
            if self.command not in ("GET", "HEAD"):
                self.send_json(405, problem("MethodNotAllowed", "only GET"), {"Allow": "GET"})
                return 405, "-"
            self.send_json(200, '{"status":"ok","service":"credproc serve"}')
            return 200, "-"
        profile = unquote(path[len(PREFIX) :]) if path.startswith(PREFIX) else None
        values = self.headers.get_all("Authorization") or []
        refused, who = service.book.check(values, profile or None)
        if refused:
            code = "Unauthorized" if refused == 401 else "Forbidden"
            self.send_json(refused, problem(code, who))
            return refused, f"refused: {who}"
        if self.command != "GET":
            self.send_json(405, problem("MethodNotAllowed", "only GET"), {"Allow": "GET"})
            return 405, who
        if not profile:
            self.send_json(404, problem("NotFound", f"credentials are at {PREFIX}PROFILE"))
            return 404, who
        return self.send_credentials(lambda: service.fetch(profile), service.failed), who


def _printable(text: str) -> str:
    """A path as a log line may hold it: short, and nothing that breaks the line."""
    shown = "".join(c if c.isprintable() and c != " " else "?" for c in text)
    return shown if len(shown) <= 200 else shown[:197] + "..."
