"""Where a login's words reach a person: the URL to open and the device code to confirm.

``credproc sso login`` writes to stderr (a person ran it). Under credential_process the client
captures stdout and stderr, so the words go to the controlling terminal; where there is none
the browser, if one can be opened, shows the page with the code filled in. Never stdout.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from . import weblogin
from .terminal import open_terminal_fd


def has_terminal() -> bool:
    fd = open_terminal_fd()
    if fd is None:
        return False
    os.close(fd)
    return True


def person_reachable(environ: Mapping[str, str]) -> bool:
    """Whether a login can reach a person: a browser can be opened, or a terminal asked."""
    return weblogin.can_open(environ) or has_terminal()


def tell(text: str, *, to_stderr: bool) -> bool:
    """Show ``text`` to the person: on stderr, or on the terminal. False if nowhere."""
    line = f"credproc: {text}\n"
    if to_stderr:
        sys.stderr.write(line)
        sys.stderr.flush()
        return True
    fd = open_terminal_fd()
    if fd is None:
        return False
    try:
        os.write(fd, line.encode("utf-8", "replace"))
    except OSError:
        return False
    finally:
        os.close(fd)
    return True
