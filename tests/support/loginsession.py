"""An ``aws login`` session in a sandbox: where its file is, and a browser that signs in at
the stand-in Sign-In service (tests/support/signinserver.py) without a window."""

from __future__ import annotations

import hashlib
import re
import urllib.request
from pathlib import Path

from support.constants import BIN
from support.sandbox import Sandbox
from support.signinserver import IDENTITY


def session_path(sandbox: Sandbox, login_session: str = IDENTITY) -> Path:
    """The file aws login keeps the session in: the sha256 hex of login_session."""
    name = hashlib.sha256(login_session.encode()).hexdigest()
    return sandbox.home / ".aws" / "login" / "cache" / f"{name}.json"


def following_browser(tmp_path: Path) -> tuple[str, Path]:
    """A BROWSER that notes each URL it is opened with (a line each in the returned file) and
    loads it, following redirects, as a person's browser would: the stand-in signs in and
    sends it back to credproc's loopback callback."""
    count = tmp_path / "browser-opened"
    count.touch()
    script = tmp_path / "browser.py"
    script.write_text(
        "import sys, urllib.request\n"
        f"open({str(count)!r}, 'a').write(sys.argv[1] + '\\n')\n"
        "urllib.request.urlopen(sys.argv[1], timeout=60).read()\n"
    )
    return f"{BIN / 'python'} {script}", count


def sign_in_elsewhere(text: str) -> tuple[str, str]:
    """What a person does on another device with the link credproc showed in ``text``: open
    it, sign in, read the code the confirmation page shows. Where the browser landed, and
    the code."""
    [link] = re.findall(r"https?://\S+/v1/authorize\?\S+", text)
    with urllib.request.urlopen(link, timeout=30) as page:  # noqa: S310 - the stand-in's
        body = page.read().decode()
        landed = page.geturl()
    [code] = re.findall(r'<pre id="verification-code">([^<]+)</pre>', body)
    return landed, code
