"""Finding a browser and its contexts (prompt/browser.py), on real files and PATHs."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import pytest

from credproc.errors import ConfigError, UsageError
from credproc.prompt import browser
from credproc.prompt.browser import CHROMIUM, FIREFOX


def _program(folder: Path, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_a_name_is_found_on_path_under_any_of_its_programs(tmp_path: Path) -> None:
    esr = _program(tmp_path / "bin", "firefox-esr")

    found = browser.find("firefox", {"PATH": str(tmp_path / "bin")})

    assert found == browser.Browser("firefox", str(esr), FIREFOX)


def test_a_missing_browser_names_what_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        browser.find("chrome", {"PATH": str(tmp_path)})
    assert str(raised.value) == (
        "browser chrome not found: looked for google-chrome, google-chrome-stable, chrome on PATH"
    )


def test_a_path_takes_its_family_from_its_name_or_its_target(tmp_path: Path) -> None:
    real = _program(tmp_path / "bin", "brave-browser")
    link = tmp_path / "bin" / "x-www-browser"
    link.symlink_to(real)
    plain = _program(tmp_path / "bin", "mybrowser")

    assert browser.find(str(link), {}).family == CHROMIUM
    assert browser.find(str(plain), {}).family is None
    with pytest.raises(ConfigError, match="cannot keep profiles apart"):
        browser.choose(
            str(plain), isolate=None, own_profile=None, name="dev", contexts_dir="", environ={}
        )


def test_default_uses_the_browsers_own_context() -> None:
    chosen, where = browser.choose(
        "default", isolate=None, own_profile=None, name="dev", contexts_dir="", environ={}
    )
    assert chosen.path is None
    assert where == browser.OWN_CONTEXT
    with pytest.raises(UsageError, match="--browser-profile names a context"):
        browser.choose(
            "default", isolate=None, own_profile="P", name="dev", contexts_dir="", environ={}
        )


def test_chromium_contexts(tmp_path: Path) -> None:
    chromium = browser.Browser("chromium", "/usr/bin/chromium", CHROMIUM)

    own = browser.context(chromium, "dev", "Profile 2", str(tmp_path))
    kept = browser.context(chromium, "dev/prod ops", None, str(tmp_path))

    assert own.arguments == ("--profile-directory=Profile 2",)
    argument, *rest = kept.arguments
    assert rest == ["--no-first-run", "--no-default-browser-check"]
    directory = Path(argument.removeprefix("--user-data-dir="))
    assert directory.parent == tmp_path / "chromium"
    assert directory.name.startswith("dev_prod_ops-")
    assert oct(directory.stat().st_mode & 0o777) == "0o700"


def test_the_container_url_keeps_the_page_whole() -> None:
    page = "http://127.0.0.1:5000/abc?x=1&y=a%20b"

    url = browser.container_url("dev & ops", page)

    scheme, query = url.split(":", 1)
    assert scheme == "ext+container"
    assert dict(urllib.parse.parse_qsl(query)) == {"name": "dev & ops", "url": page}


def test_the_default_firefox_profile_of_an_install(tmp_path: Path) -> None:
    home = tmp_path / "firefox"
    home.mkdir()
    (home / "profiles.ini").write_text(
        "[Profile1]\nName=other\nIsRelative=1\nPath=b.other\nDefault=1\n\n"
        "[Install4F96D1932A9F858E]\nDefault=a.default-esr\nLocked=1\n"
    )

    assert browser._default_profile(str(home)) == os.path.join(home, "a.default-esr")
    (home / "profiles.ini").write_text("[Profile0]\nIsRelative=0\nPath=/p\nDefault=1\n")
    assert browser._default_profile(str(home)) == "/p"
    assert browser._default_profile(str(tmp_path / "none")) is None


@pytest.mark.skipif(os.name != "posix" or os.uname().sysname != "Linux", reason="Linux's rule")
def test_whether_a_browser_can_start_is_known_before_anything_is_sent(tmp_path: Path) -> None:
    """No display and no BROWSER (SSH, a container), a BROWSER naming no program, a browser
    named by name with no display: each a reason; a path to a program is the user's."""
    bin_dir = tmp_path / "bin"
    _program(bin_dir, "opener")
    chromium = _program(bin_dir, "chromium")
    path = {"PATH": str(bin_dir)}
    default = browser.Browser("default", None, None)
    named = browser.Browser("chromium", str(chromium), CHROMIUM)
    given = browser.Browser(str(chromium), str(chromium), CHROMIUM)

    assert "no BROWSER and no display" in str(browser.cannot_start(default, path))
    assert browser.cannot_start(default, {**path, "DISPLAY": ":0"}) is None
    assert browser.cannot_start(default, {**path, "BROWSER": "opener %s"}) is None
    missing = browser.cannot_start(default, {**path, "BROWSER": "gone:also-gone"})
    assert missing == "no program BROWSER names is found here"
    assert "needs a display" in str(browser.cannot_start(named, path))
    assert browser.cannot_start(named, {**path, "WAYLAND_DISPLAY": "wayland-0"}) is None
    assert browser.cannot_start(given, path) is None


@pytest.mark.integration
def test_the_default_browser_is_started_from_browser_without_waiting(tmp_path: Path) -> None:
    record = tmp_path / "opened"
    opener = tmp_path / "opener"
    opener.write_text(f'#!/bin/sh\necho "$2" > {record}\n')
    opener.chmod(0o755)
    environ = {"BROWSER": f"missing-program:{opener} --new-window %s", "PATH": os.defpath}

    opened = browser.open_default("file:///page.html", environ)

    assert opened is not None and opened.process is not None
    assert opened.process.wait(timeout=10) == 0
    assert record.read_text() == "file:///page.html\n"
    assert browser.open_default("file:///page.html", {"BROWSER": "missing-program"}) is None
