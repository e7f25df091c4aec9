"""An MFA code dialog, for when the AWS client gives credproc no terminal.

An editor or a desktop app that runs boto3 starts credproc with no controlling terminal, but
the user sits at a display: zenity (GNOME and most other desktops) or kdialog (KDE) on X11 or
Wayland, ``osascript`` on macOS. Each dialog prints what was typed on stdout, so the code never
appears on a command line; it is killed when the prompt's time (``--lock-timeout``) is up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping

from ..errors import MfaError

TITLE = "credproc: MFA code"
DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY")
# osascript runs this with the question, the title and the seconds as its arguments: the text
# stays out of the script, so nothing in it needs AppleScript quoting.
_APPLESCRIPT = (
    "on run argv",
    'display dialog (item 1 of argv) default answer "" with title (item 2 of argv) '
    "giving up after (item 3 of argv as integer)",
    "return text returned of result",
    "end run",
)


def find(environ: Mapping[str, str]) -> str | None:
    """The dialog program ``--mfa-prompt auto`` uses here, or None when there is none."""
    if sys.platform == "darwin":
        return "osascript" if shutil.which("osascript") else None
    if not any(environ.get(name) for name in DISPLAY_VARIABLES):
        return None
    order = ["zenity", "kdialog"]
    if "KDE" in environ.get("XDG_CURRENT_DESKTOP", "").upper():
        order.reverse()
    return next((program for program in order if shutil.which(program)), None)


def ask(program: str, question: str, timeout: float) -> str:
    """What the user typed into ``program``'s dialog; MfaError when none can be had."""
    path = shutil.which(program)
    if path is None:
        raise MfaError(f"--mfa-prompt {program}: {program} is not installed (not on PATH)")
    if program != "osascript" and not any(os.environ.get(v) for v in DISPLAY_VARIABLES):
        raise MfaError(
            f"--mfa-prompt {program} needs a display: neither DISPLAY nor WAYLAND_DISPLAY is set"
        )
    try:
        result = subprocess.run(
            _command(program, path, question, timeout),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            # A toolkit's warnings (no accessibility bus, no theme) are not our one line.
            stderr=subprocess.DEVNULL,
            text=True,
            timeout=timeout,  # then the dialog is killed, and its window goes with it
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise MfaError(f"no MFA code was entered within {timeout:g} s (--lock-timeout)") from None
    except OSError as error:
        raise MfaError(f"cannot run {program}: {error.strerror or error}") from None
    if result.returncode == 1:  # Cancel, Escape or the window closed, for all three
        raise MfaError("the MFA code dialog was cancelled")
    if result.returncode != 0:
        raise MfaError(f"the {program} MFA code dialog failed (exit status {result.returncode})")
    return result.stdout


def _command(program: str, path: str, question: str, timeout: float) -> list[str]:
    if program == "zenity":
        # Its label takes "_" for a mnemonic (role/my_role would lose the underscore).
        text = question.replace("_", "__")
        return [path, "--entry", f"--title={TITLE}", f"--text={text}"]
    if program == "kdialog":
        return [path, "--title", TITLE, "--inputbox", question]
    script = [word for line in _APPLESCRIPT for word in ("-e", line)]
    return [path, *script, question, TITLE, str(max(1, int(timeout)))]
