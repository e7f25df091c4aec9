"""`credproc console` on its ways out (issue 28): a SIGTERM or SIGHUP while it waits for the
browser removes the hand-off page and closes its address; no browser that can start here is
found before any STS or federation call; a browser that exits at once without fetching the
page (a BROWSER that forwards the URL elsewhere) is said to have done so, without a minute's
wait. Calls are counted at moto and at the federation stand-in."""

from __future__ import annotations

import re
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.assertions import assert_fails
from support.federation import FederationStandIn, running_federation
from support.processes import wait_all
from support.sandbox import Sandbox
from support.signals import default_signals

pytestmark = pytest.mark.integration


@pytest.fixture
def stand_in(sandbox: Sandbox) -> Iterator[FederationStandIn]:
    with running_federation() as server:
        sandbox.env["CREDPROC_FEDERATION_URL"] = server.url
        sandbox.env.pop("DISPLAY", None)
        sandbox.env.pop("WAYLAND_DISPLAY", None)
        yield server


def _pages(sandbox: Sandbox) -> Path:
    return sandbox.home / ".local" / "share" / "credproc" / "pages"


@pytest.mark.parametrize("ending", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_waiting_removes_the_page_and_closes_the_address(
    sandbox: Sandbox, stand_in: FederationStandIn, tmp_path: Path, ending: signal.Signals
) -> None:
    started = tmp_path / "started"
    browser = tmp_path / "browser"  # starts, never fetches the page, stays
    browser.write_text(f'#!/bin/sh\necho "$@" > {started}\nexec sleep 600\n')
    browser.chmod(0o755)
    sandbox.env["XDG_DATA_HOME"] = str(sandbox.home / ".local" / "share")
    console = sandbox.popen(
        "console",
        *sandbox.role_args(),
        "--browser",
        str(browser),
        "--isolate",
        "none",
        preexec_fn=default_signals,
    )
    deadline = time.monotonic() + 30
    while not started.exists() or not started.read_text():
        assert time.monotonic() < deadline and console.poll() is None, console.stderr
        time.sleep(0.02)
    (page,) = _pages(sandbox).glob("credproc-*.html")
    port = int(re.search(r"127\.0\.0\.1:(\d+)/", page.read_text())[1])  # type: ignore[index]

    console.send_signal(ending)
    [result] = wait_all([console])

    assert result.returncode == -ending, result.stderr
    assert list(_pages(sandbox).glob("credproc-*.html")) == []
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass


@pytest.mark.parametrize("browser", ["default", "chromium"])
def test_no_browser_here_is_found_before_any_aws_call(
    sandbox: Sandbox, stand_in: FederationStandIn, browser: str
) -> None:
    sandbox.env.pop("BROWSER", None)  # and no display: an SSH session, a container

    result = sandbox.credproc("console", *sandbox.role_args(), "--browser", browser)

    if browser == "chromium" and "not found" in result.stderr:
        pytest.skip("no chromium on PATH")
    assert_fails(result, 3, "no browser can be started here", "--print")
    assert sandbox.server.calls() == 0  # no STS call
    assert stand_in.requests == []  # no sign-in token minted for nothing


def test_a_browser_that_forwards_the_url_elsewhere_is_said_at_once(
    sandbox: Sandbox, stand_in: FederationStandIn, tmp_path: Path
) -> None:
    forwarded = tmp_path / "forwarded"
    forwarder = tmp_path / "forward"  # a remote shell's BROWSER: hands the URL on, exits 0
    forwarder.write_text(f'#!/bin/sh\necho "$1" >> {forwarded}\nexit 0\n')
    forwarder.chmod(0o755)
    sandbox.env["BROWSER"] = str(forwarder)

    started = time.monotonic()
    result = sandbox.credproc("console", *sandbox.role_args())
    took = time.monotonic() - started

    assert result.returncode == 3 and result.stdout == ""
    line = result.stderr.splitlines()[-1]  # after the note that the link is a secret
    assert "the browser exited without opening the page" in line and "--print" in line
    assert took < 40, took  # not the minute of a browser that never comes
    assert forwarded.read_text().startswith("file://")


def test_doctor_warns_that_no_browser_can_start_here(
    sandbox: Sandbox, stand_in: FederationStandIn
) -> None:
    sandbox.env.pop("BROWSER", None)
    sandbox.add_profile("dev", role_arn="arn:aws:iam::123456789012:role/dev", source_profile="base")

    result = sandbox.credproc("doctor", "dev")

    (line,) = [x for x in result.stdout.splitlines() if " console: " in x]
    assert line.startswith("warn") and "no browser can be started here" in line
    assert "--print" in line
