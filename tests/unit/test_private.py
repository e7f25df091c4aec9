"""The private-file primitives (credproc.core.private): one way to make a private directory
ready, and reads that never follow a symlink, also where the platform has no O_NOFOLLOW."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from credproc.core import private
from credproc.core.files import private_dir
from credproc.errors import ConfigError

# Symlinks, modes and FIFOs as POSIX has them; the last test plays Windows on POSIX.
pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_missing_dir_is_made_0700_with_its_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    assert private.ready_dir(str(target)) is None
    assert _mode(target) == 0o700 and target.is_dir()


def test_a_dir_others_may_read_is_tightened_or_refused(tmp_path: Path) -> None:
    target = tmp_path / "d"
    target.mkdir()
    target.chmod(0o755)
    assert private.ready_dir(str(target), tighten=False) == (
        "it is not private (mode 755): chmod 700 it"
    )
    assert _mode(target) == 0o755  # refused, left as it was
    with pytest.raises(ConfigError, match=f"^{target} is not private \\(mode 755\\)"):
        private_dir(str(target))
    assert private.ready_dir(str(target)) is None
    assert _mode(target) == 0o700


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda p: p.symlink_to(p.parent), "it is a symlink, which credproc does not follow"),
        (lambda p: p.write_text(""), "it is not a directory"),
        (lambda p: (p.mkdir(), p.chmod(0o777)), "others can write to it (make it chmod 700)"),
        pytest.param(
            lambda p: (p.mkdir(), p.chmod(0o500)),
            "it is not writable",
            marks=pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere"),
        ),
    ],
)
def test_a_dir_that_must_not_be_used_says_why(tmp_path: Path, make: object, why: str) -> None:
    target = tmp_path / "d"
    make(target)  # type: ignore[operator]
    try:
        assert private.ready_dir(str(target)) == why
    finally:
        if target.is_dir() and not target.is_symlink():
            target.chmod(0o700)


def test_a_dir_that_cannot_be_made_says_why(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    why = private.ready_dir(str(tmp_path / "file" / "d"))
    assert why is not None and why.startswith("it cannot be made: ")


@pytest.mark.parametrize("nofollow", [private.O_NOFOLLOW, 0], ids=["O_NOFOLLOW", "without"])
def test_a_symlink_is_never_read_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nofollow: int
) -> None:
    """Where the platform has no O_NOFOLLOW (Windows), an lstat check refuses the link."""
    monkeypatch.setattr(private, "O_NOFOLLOW", nofollow)
    real = tmp_path / "real"
    real.write_bytes(b"secret")
    real.chmod(0o600)
    link = tmp_path / "link"
    link.symlink_to(real)
    assert private.read_private(str(real), 100) == b"secret"
    assert private.read_private(str(link), 100) is None
    with pytest.raises(OSError, match=r"symlink|Too many levels"):
        os.close(private.open_nofollow(str(link), os.O_RDONLY))


def test_a_private_file_is_read_only_whole_and_private(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    path.chmod(0o600)
    assert private.read_private(str(path), 10) == b"x" * 10
    assert private.read_private(str(path), 9) is None  # over the cap
    path.chmod(0o640)
    assert private.read_private(str(path), 10) is None
    os.mkfifo(tmp_path / "fifo", 0o600)
    assert private.read_private(str(tmp_path / "fifo"), 10) is None  # no wait on a FIFO


def test_without_posix_ids_the_mode_is_left_to_the_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows: st_mode shows no ACL and every directory looks writable by all."""
    monkeypatch.setattr(private, "POSIX_MODES", False)
    monkeypatch.setattr(private, "_GETEUID", None)
    shared = tmp_path / "d"
    shared.mkdir()
    shared.chmod(0o777)
    assert private.unusable_dir(shared.lstat()) is None
    path = shared / "f"
    path.write_bytes(b"{}")
    path.chmod(0o666)
    assert private.read_private(str(path), 10) == b"{}"
