"""The controlling terminal, opened directly: the one place a prompt reaches a person.

AWS clients capture a credential_process's stdout and stderr and give it no terminal on stdin,
so a prompt there is invisible and a read there hangs. ``/dev/tty`` (``CONIN$``/``CONOUT$`` on
Windows) is the terminal itself, when the process has one; without one, callers fail at once.
"""

from __future__ import annotations

import contextlib
import getpass
import io
import os
import select
import sys
from typing import IO

if sys.platform != "win32":
    import termios


def open_terminal() -> tuple[IO[str], IO[str]] | None:
    if os.name == "nt":
        try:
            reader = open("CONIN$", encoding="utf-8")  # noqa: SIM115 - closed by close
        except OSError:
            return None
        try:
            return reader, open("CONOUT$", "w", encoding="utf-8")
        except OSError:
            reader.close()
            return None
    fd = open_terminal_fd()
    if fd is None:
        return None
    # Not open("/dev/tty", "r+"): its buffered reader-writer demands a seekable file, and a
    # terminal is not one. A text layer straight over the raw file reads and writes both ways.
    tty = io.TextIOWrapper(io.FileIO(fd, "r+"), encoding="utf-8")
    return tty, tty


def open_terminal_fd() -> int | None:
    if os.name == "nt":
        return None
    try:
        # Fails (ENXIO) when the process has no controlling terminal: the no-terminal case.
        return os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None


def in_foreground(terminal: IO[str]) -> bool:
    """Whether this process's group owns the terminal (a background job reading it would stop)."""
    if os.name == "nt":
        return True
    try:
        return os.tcgetpgrp(terminal.fileno()) == os.getpgrp()
    except OSError:
        return False


def line_ready(reader: IO[str], timeout: float) -> bool:
    """Wait for a typed line (a terminal in canonical mode is readable once Enter is hit)."""
    if os.name == "nt":
        return True  # no select() on console handles; the lock timeout still bounds waiters
    readable, _, _ = select.select([reader.fileno()], [], [], timeout)
    return bool(readable)


def close(reader: IO[str], writer: IO[str]) -> None:
    for stream in {id(reader): reader, id(writer): writer}.values():
        with contextlib.suppress(OSError):
            stream.close()


def read_hidden(reader: IO[str], writer: IO[str], prompt: str) -> str:
    """A line typed without echo (a secret): the prompt, then the line, echo restored after."""
    if sys.platform == "win32":
        return getpass.getpass(prompt)  # reads the console itself, without echo
    fd = reader.fileno()
    saved = termios.tcgetattr(fd)
    quiet = list(saved)
    quiet[3] &= ~termios.ECHO  # lflag: no echo, still line by line
    writer.write(prompt)
    writer.flush()
    try:
        termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
        line = reader.readline()
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)
        writer.write("\n")  # the Enter that was not echoed
        writer.flush()
    return line
