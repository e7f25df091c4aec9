"""Getting an MFA code when no AWS client will show a prompt.

Clients capture the process's stdout and stderr and give it no terminal on stdin, so a prompt
there is invisible and a read there hangs. The code comes from the user's token command, else
from a prompt (``--mfa-prompt``): the controlling terminal opened directly, or, where there is
none (an IDE, a desktop app), a dialog on the display (``dialog``). With none of them, fail at
once rather than hang.
"""

from __future__ import annotations

import os
import re
import subprocess
from typing import IO, TYPE_CHECKING

from ..errors import MfaError
from . import dialog
from .terminal import close, in_foreground, line_ready, open_terminal, open_terminal_fd

if TYPE_CHECKING:
    from ..core.request import Request

TOKEN_COMMAND_TIMEOUT = 120  # a hardware key may wait for a touch
_CODE = re.compile(r"\d{6}")


class _Mode:
    foreground_only = False  # see ask_only_in_foreground


def ask_only_in_foreground() -> None:
    """From now on, prompt only while this process's group owns the terminal.

    ``credproc exec --server`` sets this: its command may have taken the terminal (an
    interactive shell puts itself in the foreground), and reading the terminal then would
    stop credproc, endpoint and all (SIGTTIN), or fight the shell for every key typed."""
    _Mode.foreground_only = True


def get_code(request: Request) -> str:
    """The code for the request's MFA device: from the token command, else from the prompt
    ``--mfa-prompt`` picks, answered within ``--lock-timeout`` (a forgotten prompt holds the
    MFA lock that every parallel process is waiting on)."""
    serial = request.mfa_serial or ""
    if request.mfa_token_command:
        return _from_command(serial, request.mfa_token_command)
    how = request.mfa_prompt
    if how in ("auto", "terminal"):
        terminal = open_terminal()
        if terminal is not None:
            return _from_terminal(terminal, serial, request.lock_timeout)
        if how == "terminal":
            raise MfaError(f"an MFA code is needed for {serial} but there is no terminal{_HOW}")
    program = dialog.find(os.environ) if how == "auto" else how
    if program is None:
        raise MfaError(
            f"an MFA code is needed for {serial} but there is no terminal to ask on, nor a "
            f"display with zenity or kdialog (osascript on macOS){_HOW}"
        )
    code = dialog.ask(program, _question(request), request.lock_timeout)
    return _checked(code)


# What to do when no prompt can be shown.
_HOW = (
    "; set --mfa-token-command (or credproc_mfa_token_command in the profile), or run the "
    "same credproc command once in a terminal to cache the MFA session"
)


def _question(request: Request) -> str:
    """What the dialog asks: which device, and for which role."""
    wanted = f"to assume {request.for_role}" if request.for_role else "for an MFA session"
    return f"MFA code for {request.mfa_serial}\n{wanted}"


def _checked(code: str) -> str:
    code = code.strip()
    if not code:
        raise MfaError("no MFA code was entered")
    if not _CODE.fullmatch(code):
        raise MfaError("the MFA code must be exactly 6 digits")  # never echo what was typed
    return code


def _from_command(serial: str, command: str) -> str:
    # Its stderr goes to the terminal when there is one, so "touch your key" is seen; the
    # client captures ours and shows it only after a failure.
    terminal = open_terminal_fd()
    try:
        # shell=True: the command is the user's own configuration, written like a shell line
        # (the same way clients run credential_process itself).
        result = subprocess.run(  # noqa: S602
            command,
            shell=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if terminal is None else terminal,
            text=True,
            timeout=TOKEN_COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise MfaError(
            f"the MFA token command gave no code within {TOKEN_COMMAND_TIMEOUT} s"
        ) from None
    except OSError as error:
        raise MfaError(f"cannot run the MFA token command: {error.strerror or error}") from None
    finally:
        if terminal is not None:
            os.close(terminal)
    if result.returncode != 0:
        raise MfaError(
            f"the MFA token command failed with exit status {result.returncode} "
            f"(for MFA device {serial})"
        )
    code = result.stdout.strip()
    if not _CODE.fullmatch(code):
        # Never echo what it printed: it may be a secret from a password manager.
        raise MfaError("the MFA token command did not print a 6-digit code on stdout")
    return code


def _from_terminal(terminal: tuple[IO[str], IO[str]], serial: str, timeout: float) -> str:
    reader, writer = terminal
    if _Mode.foreground_only and not in_foreground(reader):
        close(reader, writer)
        raise MfaError(
            f"an MFA code is needed for {serial} but the command run by credproc owns the "
            "terminal; set --mfa-token-command, or run the same credproc command in another "
            "terminal to cache a new MFA session"
        )
    try:
        writer.write(f"credproc: MFA code for {serial}: ")
        writer.flush()
        if not line_ready(reader, timeout):
            raise MfaError(f"no MFA code was entered within {timeout:g} s (--lock-timeout)")
        code = reader.readline()
    except OSError as error:
        raise MfaError(f"cannot read the MFA code from the terminal: {error}") from None
    finally:
        close(reader, writer)
    return _checked(code)
