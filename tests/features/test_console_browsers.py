"""`credproc console` in real browsers, side by side: headless Chromium (a user-data dir per
AWS profile) and headless Firefox (a Firefox profile per AWS profile), against the stand-in
federation endpoint and console (tests/support/federation.py), which records which session
each context's cookie carried. The browsers are Debian's, run through a wrapper named after
the browser (credproc tells the family from the name) that adds the headless flags and notes
each process so the test can stop it. Headless browsers do not hand a page to a running
instance of the same profile, as a desktop one does, so a test stops a context's browser
(the way that keeps its cookies) before it opens that context again."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.browser import page_follower
from support.constants import OTHER_ROLE, ROLE
from support.federation import FederationStandIn, running_federation
from support.sandbox import Sandbox
from support.tools import require

pytestmark = pytest.mark.integration

DEV, OTHER = "123456789012/dev", "123456789012/other"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # as root
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class Browsers:
    """Wrapper programs that run a real browser headless; every process they start is
    stopped, with its process group (credproc starts a browser in a session of its own)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir()
        self.pids = folder / "pids"
        self.arguments = folder / "arguments"
        self.marionettes: list[int] = []  # ports of Firefox profiles that quit when told

    def wrapper(
        self, name: str, program: str, *flags: str, group: bool = False, env: str = ""
    ) -> Path:
        """A program ``name`` that runs ``program`` with ``flags``. Stopping it: SIGINT to the
        browser, which quits its helpers itself after writing its cookies (on SIGTERM headless
        Chromium quits without them: it commits them every 30 s); with ``group``, SIGTERM to
        its whole process group, for what Marionette has not already made quit (Firefox)."""
        script = self.folder / name
        script.write_text(
            "#!/bin/sh\n"
            f'echo $$ {int(group)} >> "{self.pids}"\n'
            f'printf "%s\\n" "$@" >> "{self.arguments}"\n'
            f'{env}exec {program} {" ".join(flags)} "$@"\n'
        )
        script.chmod(0o755)
        return script

    def stop_all(self) -> None:
        for port in self.marionettes:
            with contextlib.suppress(OSError):  # that profile's Firefox is not running
                _marionette_quit(port)
        if not self.pids.exists():
            return
        for line in set(self.pids.read_text().splitlines()):
            pid, group = (int(word) for word in line.split())
            with contextlib.suppress(ProcessLookupError):
                if group:
                    os.killpg(pid, signal.SIGTERM)
                else:
                    os.kill(pid, signal.SIGINT)
            _wait_gone(pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)  # whatever is left of it
        self.pids.unlink()


def _marionette_quit(port: int) -> None:
    """Ask a Firefox started with --marionette to quit as from its menu, writing its cookies
    (the Marionette protocol: "length:json" frames; a session, then Marionette:Quit)."""

    def send(connection: socket.socket, message: list[object]) -> None:
        data = json.dumps(message).encode()
        connection.sendall(str(len(data)).encode() + b":" + data)

    def receive(connection: socket.socket) -> Any:
        size = b""
        while not size.endswith(b":"):
            byte = connection.recv(1)
            if not byte:
                raise ConnectionError("Marionette closed the connection")
            size += byte
        data = b""
        while len(data) < int(size[:-1]):
            data += connection.recv(int(size[:-1]) - len(data))
        return json.loads(data)

    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        receive(connection)  # the greeting
        send(connection, [0, 1, "WebDriver:NewSession", {}])
        assert receive(connection)[2] is None
        send(connection, [0, 2, "Marionette:Quit", {"flags": ["eAttemptQuit"]}])
        assert receive(connection)[2] is None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_gone(group: int, timeout: float = 30) -> None:
    """Until every process of the group has exited (credproc starts each browser in a session
    of its own, so the group is that browser's processes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"browser process group {group} did not exit")


@pytest.fixture
def browsers(tmp_path: Path) -> Iterator[Browsers]:
    running = Browsers(tmp_path / "browsers")
    try:
        yield running
    finally:
        running.stop_all()


@pytest.fixture
def console(sandbox: Sandbox) -> Iterator[FederationStandIn]:
    with running_federation(sts_url=sandbox.server.url) as server:
        sandbox.env["CREDPROC_FEDERATION_URL"] = server.url
        yield server


def _open(sandbox: Sandbox, console: FederationStandIn, *args: str) -> list[tuple[str, Any]]:
    """Run credproc console; the stand-in's visits up to the console page, as (action, the
    role the context's cookie held), and the role the page showed."""
    seen = len(console.visits)
    result = sandbox.credproc("console", *args)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    visits = console.wait_for_visits(seen, lambda new: any(v["action"] == "page" for v in new))
    return [(visit["action"], visit["held"]) for visit in visits]


def _side_by_side(sandbox: Sandbox, console: FederationStandIn) -> None:
    """Two profiles open at once keep their own sessions."""
    fresh = [("logout", None), ("login", None), ("page", DEV)]
    assert _open(sandbox, console, "--profile", "dev") == fresh
    assert _open(sandbox, console, "--profile", "ops") == [
        ("logout", None),  # a context credproc has not signed in yet: sign out first
        ("login", None),  # its own context: dev's session is not there
        ("page", OTHER),
    ]
    assert not any(visit.get("refused") for visit in console.visits)


def _again(sandbox: Sandbox, console: FederationStandIn, browsers: Browsers) -> None:
    """The same profile again reuses its context (its session is still there, and no
    sign-out); a new role there signs out first."""
    browsers.stop_all()

    assert _open(sandbox, console, "--profile", "dev") == [("login", DEV), ("page", DEV)]
    assert _open(sandbox, console, "--profile", "ops") == [("login", OTHER), ("page", OTHER)]
    browsers.stop_all()
    assert sandbox.server.calls("AssumeRole") == 2  # one per role, shared with the CLI

    # dev's profile now names another role: its context holds dev's session.
    sandbox.write_config(sandbox.config.read_text().replace(f"role_arn = {ROLE}", "role_arn = x"))
    sandbox.write_config(
        sandbox.config.read_text().replace("role_arn = x", f"role_arn = {OTHER_ROLE}", 1)
    )
    assert _open(sandbox, console, "--profile", "dev") == [
        ("logout", DEV),
        ("login", None),
        ("page", OTHER),
    ]
    assert not any(visit.get("refused") for visit in console.visits)
    # The sign-in link never reached a browser's command line.
    assert "SigninToken" not in browsers.arguments.read_text()
    assert "signin-token" not in browsers.arguments.read_text()


def test_chromium_keeps_each_profile_in_its_own_user_data_dir(
    sandbox: Sandbox, console: FederationStandIn, browsers: Browsers
) -> None:
    chromium = browsers.wrapper("chromium", require("chromium"), *CHROMIUM_FLAGS)
    for name, role in (("dev", ROLE), ("ops", OTHER_ROLE)):
        sandbox.add_profile(
            name, role_arn=role, source_profile="base", credproc_browser=str(chromium)
        )

    _side_by_side(sandbox, console)
    _again(sandbox, console, browsers)

    contexts = sandbox.home / ".local" / "share" / "credproc" / "browsers" / "chromium"
    dirs = sorted(contexts.iterdir())
    assert [d.name.rsplit("-", 1)[0] for d in dirs] == ["dev", "ops"]
    assert all(stat.S_IMODE(d.stat().st_mode) == 0o700 for d in dirs)
    pages = sandbox.home / ".local" / "share" / "credproc" / "pages"
    assert list(pages.iterdir()) == []  # each page removed once the browser had read it


def test_firefox_keeps_each_profile_in_a_firefox_profile(
    sandbox: Sandbox, console: FederationStandIn, browsers: Browsers
) -> None:
    program = require("firefox-esr")
    for name in ("dev", "ops"):
        profile = sandbox.home / f"ff-{name}"
        subprocess.run(
            [program, "-headless", "-CreateProfile", f"{name} {profile}"],
            env=sandbox.env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        # Headless Firefox writes no cookies when stopped by a signal (and ignores SIGINT):
        # it is asked to quit through Marionette instead, each profile on its own port.
        port = _free_port()
        (profile / "user.js").write_text(f'user_pref("marionette.port", {port});\n')
        browsers.marionettes.append(port)
    # No crash helper: it would start in a session of its own, and outlive the test.
    firefox = browsers.wrapper(
        "firefox",
        program,
        "-headless",
        "--marionette",
        group=True,
        env="MOZ_CRASHREPORTER_DISABLE=1 ",
    )
    for name, role in (("dev", ROLE), ("ops", OTHER_ROLE)):
        sandbox.add_profile(
            name,
            role_arn=role,
            source_profile="base",
            credproc_browser=str(firefox),
            credproc_browser_profile=name,
        )

    _side_by_side(sandbox, console)
    _again(sandbox, console, browsers)

    launched = browsers.arguments.read_text()
    assert "-P\ndev\n" in launched and "-P\nops\n" in launched
    assert "signin-token" not in launched


@pytest.fixture
def container_handler(sandbox: Sandbox) -> Path:
    """A Firefox profile whose handlers.json hands ext+container: links to the extension,
    as Firefox records it once "Open external links in a container" is installed."""
    home = sandbox.home / ".mozilla" / "firefox"
    (home / "abc.default").mkdir(parents=True)
    (home / "profiles.ini").write_text(
        "[Profile0]\nName=default\nIsRelative=1\nPath=abc.default\nDefault=1\n"
    )
    handlers = home / "abc.default" / "handlers.json"
    handlers.write_text(
        '{"defaultHandlersVersion": {}, "schemes": {"ext+container": {"action": 2, '
        '"handlers": [{"name": "Open external links in a container", '
        '"uriTemplate": "moz-extension://x/opener.html#%s"}]}}}'
    )
    return handlers


def test_a_firefox_container_gets_the_extension_url_with_a_one_shot_address(
    sandbox: Sandbox, console: FederationStandIn, tmp_path: Path, container_handler: Path
) -> None:
    record = tmp_path / "firefox-args"
    firefox = page_follower(tmp_path / "firefox", record)
    sandbox.add_profile("dev", role_arn=ROLE, source_profile="base")

    result = sandbox.credproc("console", "--profile", "dev", "--browser", str(firefox))

    assert result.returncode == 0, result.stderr
    (argument, answer) = record.read_text().splitlines()
    scheme, query = argument.split(":", 1)
    assert scheme == "ext+container"
    fields = dict(urllib.parse.parse_qsl(query))
    assert set(fields) == {"name", "url"}
    assert fields["name"] == "dev"
    assert fields["url"].startswith("http://127.0.0.1:")
    status, target = answer.split(" ", 1)
    assert status == "303"
    assert target.startswith(console.url.replace("/federation", "/oauth?Action=logout"))


def test_no_container_extension_is_exit_3_before_any_call(
    sandbox: Sandbox, console: FederationStandIn, tmp_path: Path, container_handler: Path
) -> None:
    container_handler.write_text('{"schemes": {}}')
    firefox = page_follower(tmp_path / "firefox", tmp_path / "record")

    result = sandbox.credproc("console", *sandbox.role_args(), "--browser", str(firefox))

    assert result.returncode == 3
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "no handler for ext+container: links" in line
    assert "Open external links in a container" in line
    assert sandbox.server.calls() == 0


@pytest.mark.parametrize(
    ("browser", "says"),
    [
        ("netscape", "unknown browser 'netscape'"),
        ("edge", "browser edge not found: looked for microsoft-edge, microsoft-edge-stable"),
        ("/no/such/browser", "there is no executable file there"),
    ],
)
def test_a_browser_that_is_not_there_is_exit_3_before_any_call(
    sandbox: Sandbox, console: FederationStandIn, browser: str, says: str
) -> None:
    sandbox.env["CREDPROC_BROWSER"] = browser

    result = sandbox.credproc("console", *sandbox.role_args())

    assert result.returncode == 3
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert says in line
    assert sandbox.server.calls() == 0


def test_a_context_dir_others_can_enter_is_refused(
    sandbox: Sandbox, console: FederationStandIn, browsers: Browsers
) -> None:
    chromium = browsers.wrapper("chromium", "/bin/true")
    sandbox.add_profile("dev", role_arn=ROLE, source_profile="base", credproc_browser=str(chromium))
    assert "user-data dir" in sandbox.credproc("doctor", "dev").stdout  # makes the context dir
    contexts = sandbox.home / ".local" / "share" / "credproc" / "browsers" / "chromium"
    (context,) = contexts.iterdir()
    assert stat.S_IMODE(context.stat().st_mode) == 0o700
    context.chmod(0o755)
    calls = sandbox.server.calls()

    result = sandbox.credproc("console", "--profile", "dev")

    assert result.returncode == 3
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert f"{context} is not private (mode 755)" in line
    assert sandbox.server.calls() == calls  # refused before any call


def test_a_browser_that_fails_to_start_is_exit_3(
    sandbox: Sandbox, console: FederationStandIn, browsers: Browsers
) -> None:
    chromium = browsers.wrapper("chromium", "/bin/false")

    result = sandbox.credproc("console", *sandbox.role_args(), "--browser", str(chromium))

    assert result.returncode == 3
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()[-1:]
    assert "the browser exited with status 1 before it opened the page" in line
    assert "signin-token" not in result.stderr


def test_doctor_names_the_browser_and_the_context(sandbox: Sandbox, browsers: Browsers) -> None:
    chromium = browsers.wrapper("chromium", "/bin/true")
    sandbox.add_profile("dev", role_arn=ROLE, source_profile="base", credproc_browser=str(chromium))

    named = sandbox.credproc("doctor", "dev")
    default = sandbox.credproc("doctor", "dev", "--browser", "default")

    (line,) = [x for x in named.stdout.splitlines() if " console: " in x]
    assert line.startswith("ok")
    assert f"{chromium}, in user-data dir " in line
    assert "/credproc/browsers/chromium/dev-" in line
    (line,) = [x for x in default.stdout.splitlines() if " console: " in x]
    assert "the default browser, in the browser's own context" in line
