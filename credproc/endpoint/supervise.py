"""A command run as credproc's child: signals forwarded, its exit status passed on.

``credproc exec --server`` cannot become its command, as plain ``exec`` does: it must stay
alive to serve credentials. So it stays the parent, in the command's process group, and

- forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to the command,
  except those the terminal sent: a terminal signals its whole foreground process group, so
  the command has that one already (and a second Ctrl-C makes terraform drop its graceful
  stop and abort);
- exits with the command's status, or dies by the signal that killed it.

Where the system has sigwaitinfo (Linux), the signals are blocked in every thread and taken
by the main thread, which learns who sent each: si_pid 0 is the kernel, that is the terminal.
Elsewhere (macOS) handlers forward them, and a signal the terminal sends (Ctrl-C, Ctrl-\\, a
resize, a hang-up) is taken for the terminal's while the command shares credproc's process
group and that group owns the terminal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

if sys.platform != "win32":  # the core-file limit of a command killed by a signal
    import resource

if TYPE_CHECKING:
    from typing import Any


def _signals(*names: str) -> tuple[signal.Signals, ...]:
    """The signals of these names that this system has."""
    return tuple(getattr(signal, name) for name in names if hasattr(signal, name))


FORWARDED = _signals("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH")
# What a terminal sends its foreground process group on its own.
FROM_TERMINAL = frozenset(_signals("SIGINT", "SIGQUIT", "SIGWINCH", "SIGHUP"))
# Blocked as well while the command runs: when the command has taken the terminal (an
# interactive shell does), a credproc thread that writes a warning to it (under `stty tostop`)
# or reads it must get an error back, not be stopped, endpoint and all, by SIGTTOU or SIGTTIN.
_JOB_CONTROL = _signals("SIGTTIN", "SIGTTOU")


class Supervisor:
    """``with Supervisor() as child: child.spawn(...); status = child.wait()``.

    Enter it before starting any thread that must not take the forwarded signals (the
    endpoint's): threads inherit the blocked set of the thread that starts them."""

    def __init__(self) -> None:
        self._waits = hasattr(signal, "sigwaitinfo") and hasattr(os, "posix_spawnp")
        self._held: set[signal.Signals] = set()
        self._handlers: dict[int, Any] = {}
        self._pid: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Supervisor:
        if self._waits:
            self._held = {*FORWARDED, signal.SIGCHLD, *_JOB_CONTROL}
            signal.pthread_sigmask(signal.SIG_BLOCK, self._held)
        else:
            for number in FORWARDED:
                self._handlers[number] = signal.signal(number, self._forward)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._waits:
            # Signals that came after the command ended are answered by its status: unblocked
            # now, a SIGINT would turn that status into credproc's "interrupted".
            while signal.sigtimedwait(self._held, 0) is not None:
                pass
            signal.pthread_sigmask(signal.SIG_UNBLOCK, self._held)
        for number, handler in self._handlers.items():
            signal.signal(number, handler)

    def spawn(self, command: Sequence[str], env: Mapping[str, str]) -> None:
        """Start the command (found on PATH); OSError if it cannot be run."""
        if self._waits:
            # posix_spawn, not subprocess: the command must start with nothing blocked, and
            # subprocess would hand it our blocked set.
            self._pid = os.posix_spawnp(command[0], list(command), dict(env), setsigmask=())
        else:
            self._process = subprocess.Popen(list(command), env=dict(env))
            self._pid = self._process.pid

    def wait(self) -> int:
        """The command's exit status, or minus the signal that killed it (as subprocess says)."""
        if not self._waits:  # handlers forward the signals (macOS, Windows)
            if self._process is None:
                raise RuntimeError("wait() before spawn()")
            return self._process.wait()
        if self._pid is None:
            raise RuntimeError("wait() before spawn()")
        taken = {*FORWARDED, signal.SIGCHLD}
        while True:
            info = signal.sigwaitinfo(taken)
            if info.si_signo == signal.SIGCHLD:
                # Any child of ours may have ended (an MFA token command run for the
                # endpoint); each end raises SIGCHLD anew, so no end of the command is missed.
                pid, status = os.waitpid(self._pid, os.WNOHANG)
                if pid:
                    return os.waitstatus_to_exitcode(status)
            elif not (info.si_pid == 0 and self._shares_group()):
                self._send(info.si_signo)

    def _forward(self, number: int, frame: FrameType | None) -> None:
        if number in FROM_TERMINAL and self._terminal_may_have_sent():
            return
        self._send(number)

    def _send(self, number: int) -> None:
        if self._pid is None:
            return  # not started yet: the command never sees it, credproc exits as it would
        with contextlib.suppress(ProcessLookupError):  # reaped since: its status is on the way
            os.kill(self._pid, number)

    def _shares_group(self) -> bool:
        if os.name != "posix" or self._pid is None:
            return False  # process groups are POSIX's
        try:
            return os.getpgid(self._pid) == os.getpgrp()
        except OSError:
            return False

    def _terminal_may_have_sent(self) -> bool:
        """Without siginfo: could the terminal have signalled the command along with us?"""
        if os.name != "posix":
            return True  # a console's Ctrl-C reaches every process attached to it
        if not self._shares_group():
            return False
        try:
            terminal = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
        except OSError:
            return False
        try:
            return os.tcgetpgrp(terminal) == os.getpgrp()
        except OSError:
            return False
        finally:
            os.close(terminal)


def exit_status(returncode: int) -> int:
    """The status credproc exits with: the command's own. If a signal killed the command,
    credproc dies by that signal, so its caller (a shell, make, CI) sees what really happened."""
    if returncode >= 0:
        return returncode
    number = -returncode
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        # A core file of credproc would hold the credentials it served.
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
        with contextlib.suppress(OSError, ValueError):  # SIGKILL and SIGSTOP keep theirs
            signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {number})
        os.kill(os.getpid(), number)
    return 128 + number  # a signal that does not end credproc: the shell's convention
