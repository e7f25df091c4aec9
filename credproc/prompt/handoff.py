"""Handing a secret URL to a browser without putting it in any process's argv.

Every local user can read a process's command line (``/proc/PID/cmdline``, ``ps``), so a
sign-in link given to a browser as an argument is a link given to them all. Instead the browser
gets a page of ours: a file in a private directory (0700, the file 0600) that redirects to a
one-shot address on 127.0.0.1, whose random path appears nowhere else. That address answers
once, with a redirect to the real URL; then the file is removed and the address closed.

The page and the address go on every way out: the browser came, an error, Ctrl-C, and SIGTERM
or SIGHUP (a closed terminal, a killed job), which are caught while the page exists and
re-raised once it is gone.

Where the browser must be handed an http address itself (a Firefox container: extensions
cannot open file: pages), the one-shot address goes in argv, and on Linux it answers only a
connection made by a process of this user (the owner of the client's socket in /proc/net/tcp).
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import pathlib
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from ..core.files import atomic_write, private_dir
from ..errors import ConfigError

# A browser's cold start, or a handed-over window in a running one, takes seconds; a minute
# means it is not coming.
WAIT_SECONDS = 60.0
# A browser that hands the page to one already running exits at once, and the running one
# fetches it a moment later; one that has not within this long after its exit never will
# (it handed a file: URL of this machine to a browser elsewhere).
AFTER_EXIT_SECONDS = 10.0
ADVICE = "use --print and open the link yourself"
# The signals that end credproc while it waits, other than Ctrl-C (KeyboardInterrupt).
ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Handoff:
    """The page (``page``, a file: URL) and the one-shot address (``address``) for ``target``."""

    def __init__(self, target: str, directory: str) -> None:
        private_dir(directory)
        self._target = target
        self._ticket = secrets.token_urlsafe(32)
        self.fetched = threading.Event()
        self.refused = 0  # connections from another user, or for another path
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.address = f"http://127.0.0.1:{port}/{self._ticket}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._file = os.path.join(directory, f"credproc-{secrets.token_hex(8)}.html")
        shown = html.escape(self.address, quote=True)
        try:
            atomic_write(
                self._file,
                (
                    "<!doctype html><html><head><meta charset=utf-8>"
                    '<meta name="referrer" content="no-referrer">'
                    f'<meta http-equiv="refresh" content="0;url={shown}">'
                    f"<script>location.replace({_js_string(self.address)})</script>"
                    "<title>credproc</title></head><body></body></html>\n"
                ).encode(),
            )
        except BaseException:
            self.close()
            raise
        self.page = pathlib.Path(self._file).as_uri()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        handoff = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != f"/{handoff._ticket}" or not _same_user(self.client_address[1]):
                    handoff.refused += 1
                    self._send(404, None)
                elif handoff.fetched.is_set():
                    self._send(410, None)
                else:
                    handoff.fetched.set()
                    self._send(303, handoff._target)

            def _send(self, status: int, location: str | None) -> None:
                self.send_response(status)
                if location is not None:
                    self.send_header("Location", location)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                """Quiet: the address is a secret, and stderr belongs to credproc's messages."""

        return Handler

    def wait(
        self,
        exited: Callable[[], int | None],
        timeout: float = WAIT_SECONDS,
        after_exit: float = AFTER_EXIT_SECONDS,
    ) -> None:
        """Until the browser has fetched the address; ConfigError if its process ends in
        failure first, ends without the page being fetched within ``after_exit``, or nothing
        comes within ``timeout``. ``exited`` gives the browser process's status (None while it
        runs, or when there is none to watch)."""
        start = time.monotonic()
        gone: float | None = None
        while not self.fetched.wait(0.1):
            now = time.monotonic()
            status = exited()
            if status is not None and status != 0:
                raise ConfigError(
                    f"the browser exited with status {status} before it opened the page; {ADVICE}"
                )
            if status == 0 and gone is None:
                gone = now
            if gone is not None and now - gone >= after_exit:
                raise ConfigError(
                    "the browser exited without opening the page: it may have handed it to a "
                    "browser elsewhere (a remote shell's or WSL's BROWSER), which cannot open "
                    f"a page on this machine; {ADVICE}"
                )
            if now - start >= timeout:
                raise ConfigError(
                    f"the browser did not open the page within {timeout:g} s; {ADVICE}"
                )

    def close(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._file)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Ended(BaseException):
    """SIGTERM or SIGHUP arrived while the page existed: unwinds to ``handoff``'s cleanup."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def handoff(target: str, directory: str) -> Iterator[Handoff]:
    """The hand-off for ``target``, removed (the page, the address) on every way out. A
    SIGTERM or SIGHUP meanwhile ends the process by that signal, once the page is gone."""
    late: list[int] = []
    cleaning = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if cleaning.is_set():
            late.append(signum)  # the page is being removed: let that finish first
            return
        raise _Ended(signum)

    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in ENDING_SIGNALS:
            previous[signum] = signal.signal(signum, on_signal)
    try:
        page = Handoff(target, directory)
        try:
            yield page
        finally:
            cleaning.set()
            page.close()
    except _Ended as ended:
        late.append(ended.signum)
    finally:
        cleaning.set()
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
    if late:
        # Die by the signal, as without the hand-off: whoever sent it sees it was obeyed.
        signal.signal(late[0], signal.SIG_DFL)
        os.kill(os.getpid(), late[0])
        raise SystemExit(128 + late[0])  # only if the signal could not end the process


def _js_string(text: str) -> str:
    """A JavaScript string literal that cannot close the script element."""
    return json.dumps(text).replace("<", "\\u003c")


def _same_user(port: int) -> bool:
    """Whether the client's socket belongs to this user. Linux shows each TCP socket's owner
    in /proc/net/tcp; elsewhere there is no such record, and the random path is the guard."""
    if not os.path.exists("/proc/net/tcp") or not hasattr(os, "getuid"):
        return True
    wanted = f"{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as file:
            next(file, None)
            for line in file:
                fields = line.split()
                if len(fields) > 7 and fields[1].rsplit(":", 1)[-1] == wanted:
                    return int(fields[7]) == os.getuid()
    return False
