"""A real X display for dialogs (Xvfb), and a user at it (xdotool): find a window, type, press.

Every wait is for something seen: Xvfb writes its display number once it accepts clients
(-displayfd), and ``xdotool search --sync`` returns once the window exists."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

from support.tools import require


@dataclass
class Display:
    name: str  # ":N", for DISPLAY
    xdotool: str

    def _xdotool(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.xdotool, *args],
            env={"DISPLAY": self.name},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def wait_for_window(self, title: str, timeout: float = 30) -> str:
        """The id of the window called ``title``, once it is shown."""
        found = self._xdotool("search", "--sync", "--name", title, timeout=timeout)
        assert found.returncode == 0, found.stderr
        return found.stdout.split()[0]

    def windows(self, title: str) -> list[str]:
        return self._xdotool("search", "--name", title).stdout.split()

    def wait_until_gone(self, title: str, timeout: float = 10) -> None:
        """Poll (bounded) until no window is called ``title``: the X server drops a killed
        client's windows as soon as it sees the connection close."""
        deadline = time.monotonic() + timeout
        while self.windows(title):
            assert time.monotonic() < deadline, f"a window {title!r} is still shown"
            time.sleep(0.05)

    def type_into(self, window: str, text: str) -> None:
        """Focus the window (there is no window manager to do it) and type, as a user would."""
        for args in (["windowfocus", "--sync", window], ["type", "--delay", "20", text]):
            done = self._xdotool(*args)
            assert done.returncode == 0, done.stderr

    def press(self, window: str, key: str) -> None:
        for args in (["windowfocus", "--sync", window], ["key", key]):
            done = self._xdotool(*args)
            assert done.returncode == 0, done.stderr


@contextlib.contextmanager
def running_display() -> Iterator[Display]:
    """Xvfb on a display number it picks itself, stopped on the way out."""
    xvfb = require("Xvfb", "xvfb")
    xdotool = require("xdotool")
    server = subprocess.Popen(
        [xvfb, "-displayfd", "1", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        number = server.stdout.readline().strip()  # written once it accepts clients
        assert number.isdigit(), "Xvfb did not start"
        yield Display(f":{number}", xdotool)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
