"""A stand-in browser, for where the test is about what a browser is handed rather than what a
real one does with it (tests/features/test_console_browsers.py runs real ones)."""

from __future__ import annotations

import sys
from pathlib import Path


def page_follower(script: Path, record: Path) -> Path:
    """A program that records its arguments, opens the page its last one names (a file: URL,
    or an ext+container: URL's url), and records where the address in it redirects."""
    script.write_text(
        f"""#!{sys.executable}
import re, sys, urllib.error, urllib.parse, urllib.request
arguments = sys.argv[1:]
with open({str(record)!r}, "w") as out:
    out.write("\\n".join(arguments) + "\\n")
page = arguments[-1]
if page.startswith("file://"):
    text = open(urllib.parse.unquote(page[len("file://"):])).read()
    address = re.search(r'url=([^"]+)"', text).group(1)
else:
    address = dict(urllib.parse.parse_qsl(page.split(":", 1)[1]))["url"]
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None
try:
    urllib.request.build_opener(Stay).open(address)
except urllib.error.HTTPError as answer:
    with open({str(record)!r}, "a") as out:
        out.write(str(answer.code) + " " + answer.headers["Location"] + "\\n")
"""
    )
    script.chmod(0o755)
    return script
