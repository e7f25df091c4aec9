"""Which dialog --mfa-prompt auto picks: a display and a program for it, KDE's own first."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from credproc.prompt import dialog


@pytest.fixture
def programs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PATH", str(tmp_path))
    return tmp_path


def _install(directory: Path, *names: str) -> None:
    for name in names:
        (directory / name).write_text("#!/bin/sh\n")
        (directory / name).chmod(0o755)


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS always uses osascript")
@pytest.mark.parametrize(
    ("installed", "environ", "expected"),
    [
        (["zenity", "kdialog"], {"DISPLAY": ":0"}, "zenity"),
        (["zenity", "kdialog"], {"WAYLAND_DISPLAY": "wayland-0"}, "zenity"),
        (["zenity", "kdialog"], {"DISPLAY": ":0", "XDG_CURRENT_DESKTOP": "KDE"}, "kdialog"),
        (["kdialog"], {"DISPLAY": ":0"}, "kdialog"),
        (["zenity"], {"DISPLAY": ":0", "XDG_CURRENT_DESKTOP": "KDE"}, "zenity"),
        (["zenity", "kdialog"], {}, None),  # no display: nobody would see it
        (["zenity", "kdialog"], {"DISPLAY": ""}, None),
        ([], {"DISPLAY": ":0"}, None),
        (["osascript"], {"DISPLAY": ":0"}, None),  # not on Linux
    ],
)
def test_auto_finds_a_dialog_only_where_one_can_be_seen(
    programs: Path, installed: list[str], environ: dict[str, str], expected: str | None
) -> None:
    _install(programs, *installed)
    assert dialog.find(environ) == expected
