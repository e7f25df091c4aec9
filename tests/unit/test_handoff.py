"""The private page and the one-shot address that hand a browser the sign-in link (prompt
/handoff.py): a real loopback server, real files, and a real process of another user."""

from __future__ import annotations

import os
import stat
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from credproc.errors import ConfigError
from credproc.prompt.handoff import handoff

TARGET = "https://signin.example/federation?Action=login&SigninToken=secret"
FETCH = """
import sys, urllib.error, urllib.request
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None
try:
    urllib.request.build_opener(Stay).open(sys.argv[1])
except urllib.error.HTTPError as answer:
    print(answer.code)
"""


def _fetch(address: str) -> tuple[int, str | None]:
    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object) -> None:
            return None

    try:
        urllib.request.build_opener(Stay).open(address)
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers["Location"]
    raise AssertionError("the address answered without a redirect")


def test_the_page_is_private_and_the_address_answers_once(tmp_path: Path) -> None:
    with handoff(TARGET, str(tmp_path / "pages")) as page:
        assert page.page.startswith("file://")
        file = Path(urllib.parse.unquote(page.page[len("file://") :]))
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
        text = file.read_text()
        assert page.address in text
        assert "secret" not in text  # the file leads to the address, not to the link
        assert not page.fetched.is_set()

        assert _fetch(page.address.rsplit("/", 1)[0] + "/guess") == (404, None)
        assert _fetch(page.address) == (303, TARGET)
        assert _fetch(page.address) == (410, None)  # once
        page.wait(lambda: None, timeout=1)
    assert not file.exists()


@pytest.mark.integration
@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="needs root on POSIX to run a process as another user",
)
def test_another_user_is_refused_the_address(tmp_path: Path) -> None:
    with handoff(TARGET, str(tmp_path / "pages")) as page:
        other = subprocess.run(
            ["/usr/bin/python3", "-c", FETCH, page.address],
            user=65534,  # nobody
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            cwd="/",
        )
        assert other.stdout.strip() == "404"
        assert page.refused == 1
        assert _fetch(page.address) == (303, TARGET)  # still there for the browser


def test_waiting_ends_when_the_browser_fails_or_never_comes(tmp_path: Path) -> None:
    with handoff(TARGET, str(tmp_path / "pages")) as page:
        with pytest.raises(ConfigError, match="exited with status 1 before it opened the page"):
            page.wait(lambda: 1)
        with pytest.raises(ConfigError, match=r"did not open the page within 0\.3 s"):
            page.wait(lambda: 0, timeout=0.3)


def test_a_pages_dir_others_can_enter_is_refused(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir(mode=0o755)
    pages.chmod(0o755)
    with pytest.raises(ConfigError, match="is not private"), handoff(TARGET, str(pages)):
        pass


def test_a_browser_that_exits_without_fetching_is_said_at_once(tmp_path: Path) -> None:
    """A BROWSER that forwards the URL to another machine exits 0 and never fetches."""
    with (
        handoff(TARGET, str(tmp_path / "pages")) as page,
        pytest.raises(ConfigError, match=r"exited without opening the page.*--print"),
    ):
        page.wait(lambda: 0, timeout=30, after_exit=0.3)
