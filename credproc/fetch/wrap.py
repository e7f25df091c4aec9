"""The fetch step of a wrapped command (``credproc wrap``): run it, bound it, check its answer.

- It runs directly, its argv exactly as given (no shell), with credproc's environment, stdin
  and controlling terminal. Where credproc's stderr is a terminal (a person runs it, or the
  Go SDK, which hands over its own), the command's stderr is passed on as it comes, so a
  prompt or "touch your key" reaches the person; where a client captures it (botocore shows
  it only after a failure), it is kept, and its last line goes into credproc's one error line.
- It runs in a process group of its own, so that at ``--timeout`` the whole group is ended:
  SIGTERM, then SIGKILL after a grace period. Whatever it leaves behind in that group when it
  exits is ended the same way: nothing of it outlives the refresh (a child still holding its
  stdout would also keep credproc waiting). While it runs, its group owns the terminal if
  credproc's did, or a prompt it reads there would stop it (SIGTTIN) until the deadline.
- Its stdout is read strictly as credential_process JSON (``parse_answer``). Nothing of an
  answer that is not is kept, printed or quoted: it may hold a secret.

Only the program's name ever appears in a message or a log line: its arguments may hold
secrets (a password, a token).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from ..config.limits import MAX_AGE
from ..core.credentials import Credentials, Fetched
from ..core.log import logger
from ..errors import CommandFailedError, CommandOutputError, ConfigError

if TYPE_CHECKING:
    from ..core.request import Request

# The Java SDK's cap on a credential process's output; a real answer is a few KiB.
MAX_OUTPUT_BYTES = 64_000
# Between SIGTERM and SIGKILL: enough for a tool to clean up, short beside --timeout.
GRACE_SECONDS = 3.0
_POLL_SECONDS = 0.01
_LAST_LINE_CHARS = 300
_TAIL_BYTES = 4096
# RFC 3339's date-time, which every SDK parses: a zone is required, never guessed.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
# Signals Python ignores for itself, restored for the command as subprocess does (a command
# that inherited an ignored SIGPIPE would not die quietly on a closed pipe).
_RESTORED = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ") if hasattr(signal, name))
_KEY_TEXT = re.compile(r"[\x21-\x7e]+", re.ASCII)  # printable, no spaces: what a header takes


def from_command(request: Request, _session: Credentials | None = None) -> Fetched:
    """The fetch step for a wrapped command: what it printed, checked (no clock skew: the
    Expiration is the command's, stated against this machine's clock)."""
    output = run(request)
    credentials = parse_answer(output, request)
    logger().info(
        "%s gave credentials that expire at %s", request.program, credentials.expiration_text
    )
    return Fetched(credentials, 0.0)


def run(request: Request) -> bytes:
    """The command's stdout, once it has exited 0 within ``--timeout``."""
    program = request.program
    if os.name == "posix":
        stdout, stderr, status = _run_in_group(request)
    else:
        stdout, stderr, status = _run_plain(request)
    last = _last_line(stderr.tail())
    if status is None:
        raise CommandFailedError(
            f"{program} gave no answer within {request.wrap_timeout:g} s (--timeout) and was "
            f"ended{last}"
        )
    if status != 0:
        how = f"exited with status {status}" if status > 0 else f"was killed by {_signal(status)}"
        raise CommandFailedError(f"{program} {how}{last}")
    return stdout.data()


def _cannot_run(request: Request, error: OSError) -> ConfigError:
    return ConfigError(f"cannot run {request.program!r}: {error.strerror or error}")


def _readers(out_read: int, err_read: int) -> tuple[_Reader, _Reader]:
    stdout = _Reader(out_read, MAX_OUTPUT_BYTES + 1)
    stderr = _Reader(err_read, _TAIL_BYTES, tail=True, forward=_is_terminal(sys.stderr))
    return stdout, stderr


def _run_plain(request: Request) -> tuple[_Reader, _Reader, int | None]:
    """Where there are no POSIX process groups (Windows): the command in a process group of
    its own, its pipes read as on POSIX, ended with its children at the deadline."""
    try:
        child = subprocess.Popen(
            list(request.wrap_command),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0),
        )
    except OSError as error:
        raise _cannot_run(request, error) from None
    if child.stdout is None or child.stderr is None:  # both asked for as pipes: never
        child.kill()
        raise ConfigError(f"cannot read what {request.program!r} prints")
    logger().info("running %s (at most %g s)", request.program, request.wrap_timeout)
    stdout, stderr = _readers(os.dup(child.stdout.fileno()), os.dup(child.stderr.fileno()))
    child.stdout.close()
    child.stderr.close()
    status: int | None
    try:
        status = child.wait(request.wrap_timeout)
    except subprocess.TimeoutExpired:
        status = None
        with contextlib.suppress(OSError):
            # taskkill ends the tree the command started, as the process group does on POSIX.
            subprocess.run(
                ["taskkill", "/F", "/T", "/PID", str(child.pid)],
                capture_output=True,
                timeout=GRACE_SECONDS,
                check=False,
            )
        child.kill()
        child.wait()
    stdout.join()
    stderr.join()
    return stdout, stderr, status


if os.name == "posix":

    def _run_in_group(request: Request) -> tuple[_Reader, _Reader, int | None]:
        """The command in a process group of its own, holding the terminal while it runs;
        whatever is left of the group after it is ended."""
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        actions = [
            (os.POSIX_SPAWN_DUP2, out_write, 1),
            (os.POSIX_SPAWN_DUP2, err_write, 2),
        ]
        try:
            # posix_spawn: safe from any thread (the Python API, exec --server's endpoint),
            # and the command starts with no signal blocked, whatever this thread blocks.
            pid = os.posix_spawnp(
                request.wrap_command[0],
                list(request.wrap_command),
                dict(os.environ),
                file_actions=actions,
                setpgroup=0,
                setsigmask=(),
                setsigdef=_RESTORED,
            )
        except OSError as error:
            for fd in (out_read, out_write, err_read, err_write):
                os.close(fd)
            raise _cannot_run(request, error) from None
        os.close(out_write)
        os.close(err_write)
        logger().info(
            "running %s (pid %d, at most %g s)", request.program, pid, request.wrap_timeout
        )
        stdout, stderr = _readers(out_read, err_read)
        status: int | None = None
        try:
            with _terminal_to(pid):
                status = _wait(pid, request.wrap_timeout)
        finally:
            _end_group(pid, status is None)
            stdout.join()
            stderr.join()
        return stdout, stderr, status

    def _wait(pid: int, seconds: float) -> int | None:
        """The command's exit status (minus the signal that ended it), or None at the deadline."""
        deadline = time.monotonic() + seconds
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() >= deadline:
                return None
            time.sleep(_POLL_SECONDS)

    def _end_group(pgid: int, leader_running: bool) -> None:
        """End what is left of the command's process group: SIGTERM, then SIGKILL after the grace
        period; the leader reaped if it was still running. Nothing is sent to an empty group."""
        if not _signal_group(pgid, signal.SIGTERM):
            return
        logger().info("ending what is left of the command's process group %d", pgid)
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline:
            if leader_running and os.waitpid(pgid, os.WNOHANG)[0]:
                leader_running = False
            if not leader_running and not _signal_group(pgid, 0):
                return
            time.sleep(_POLL_SECONDS)
        _signal_group(pgid, signal.SIGKILL)
        if leader_running:
            os.waitpid(pgid, 0)

    def _signal_group(pgid: int, number: int) -> bool:
        """Send a signal to the group (0: only look); False if nothing of it is left."""
        try:
            os.killpg(pgid, number)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # a member that changed user: still there, and nothing we can do
        return True

    @contextlib.contextmanager
    def _terminal_to(pgid: int) -> Iterator[None]:
        """The terminal's foreground to the command's group while it runs, if credproc's group has
        it (a shell does the same for a job it starts in the foreground), and back after."""
        try:
            fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
        except OSError:
            yield None
            return
        handed = False
        try:
            if os.tcgetpgrp(fd) == os.getpgrp():
                os.tcsetpgrp(fd, pgid)
                handed = True
        except OSError:
            pass
        try:
            yield None
        finally:
            if handed:
                # From a background group, taking the terminal back raises SIGTTOU unless blocked.
                old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
                with contextlib.suppress(OSError):
                    os.tcsetpgrp(fd, os.getpgrp())
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
            os.close(fd)


def parse_answer(raw: bytes, request: Request) -> Credentials:
    """credential_process JSON, strictly: one object, Version the integer 1, AccessKeyId and
    SecretAccessKey, SessionToken if any, Expiration if any as an RFC 3339 time with a zone
    that has not passed. No Expiration (long-lived keys): kept ``--max-age``. An Expiration
    past the longest the cache serves is brought in to it (a client refreshes earlier, that
    is all)."""
    if len(raw) > MAX_OUTPUT_BYTES:
        raise _malformed(request, f"it printed over {MAX_OUTPUT_BYTES} bytes")
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _malformed(request, "its output is not UTF-8 text") from None
    except (ValueError, RecursionError):
        what = "it printed nothing" if not raw.strip() else "its output is not one JSON object"
        raise _malformed(request, what) from None
    if not isinstance(document, dict):
        raise _malformed(request, "its output is not a JSON object")
    version = document.get("Version")
    if type(version) is not int or version != 1:
        raise _malformed(request, "Version is not the number 1")
    values = []
    for name in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        value = document.get(name)
        if value is None and name == "SessionToken":
            values.append("")
            continue
        if not isinstance(value, str) or not _KEY_TEXT.fullmatch(value):
            raise _malformed(request, f"{name} is missing, empty or not plain text")
        values.append(value)
    now = time.time()
    expires = _expiry(document.get("Expiration"), now, request)
    moment = datetime.fromtimestamp(int(min(expires, now + MAX_AGE[1])), timezone.utc)
    return Credentials(values[0], values[1], values[2], moment)


def _expiry(stated: object, now: float, request: Request) -> float:
    """When the answer expires, in POSIX seconds: its Expiration, else ``--max-age`` from now."""
    if stated is None:
        return now + request.max_age
    if not isinstance(stated, str):
        raise _malformed(request, "Expiration is not a string")
    moment = _rfc3339(stated)
    if moment is None:
        raise _malformed(request, "Expiration is not an RFC 3339 time with a zone")
    if moment.timestamp() <= now:
        raise _malformed(request, f"its Expiration {stated} has passed")
    return moment.timestamp()


def _malformed(request: Request, why: str) -> CommandOutputError:
    return CommandOutputError(
        f"{request.program} printed no valid credential_process JSON: {why}; nothing of it "
        "was cached or printed"
    )


def _rfc3339(text: str) -> datetime | None:
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, zulu, sign, zone_h, zone_m = match.groups()
    offset = timedelta()
    if not zulu:
        offset = timedelta(hours=int(zone_h), minutes=int(zone_m)) * (1 if sign == "+" else -1)
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    return (local - offset).replace(tzinfo=timezone.utc)


class _Reader:
    """Reads a pipe to its end in a thread, keeping its first ``keep`` bytes (``tail``: its
    last), each passed on to credproc's stderr at once with ``forward``."""

    def __init__(self, fd: int, keep: int, *, tail: bool = False, forward: bool = False) -> None:
        self._fd, self._keep, self._tail, self._forward = fd, keep, tail, forward
        self._chunks = bytearray()
        self._thread = threading.Thread(target=self._read, name="credproc-wrap-pipe", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while chunk := os.read(self._fd, 65536):
                if self._forward:
                    _pass_on(chunk)
                if self._tail:
                    self._chunks = (self._chunks + chunk)[-self._keep :]
                elif len(self._chunks) < self._keep:
                    self._chunks += chunk[: self._keep - len(self._chunks)]
        except OSError:
            pass
        finally:
            os.close(self._fd)

    def join(self) -> None:
        # Every writer is gone once the group is: the pipe ends. A process that left the group
        # (setsid) may hold it still: give up on it after the grace period, unread.
        self._thread.join(GRACE_SECONDS)

    def data(self) -> bytes:
        return bytes(self._chunks)

    def tail(self) -> str:
        return bytes(self._chunks).decode("utf-8", "replace")


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream is not None and os.isatty(stream.fileno()))  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


def _pass_on(chunk: bytes) -> None:
    stream = sys.stderr
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        stream.write(chunk.decode("utf-8", "replace"))
        stream.flush()


def _last_line(text: str) -> str:
    """': LAST LINE' of the command's stderr, cut short, or '' if it said nothing."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return " (its stderr said nothing)"
    line = lines[-1]
    if len(line) > _LAST_LINE_CHARS:
        line = line[:_LAST_LINE_CHARS] + "..."
    return f": {line}"


def _signal(status: int) -> str:
    try:
        return signal.Signals(-status).name
    except ValueError:
        return f"signal {-status}"
