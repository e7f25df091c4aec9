"""What a release carries: the wheel and the sdist are built here, offline, and opened."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# setuptools' own build hooks, as a build frontend calls them, without a network or isolation.
BUILD = (
    "from setuptools import build_meta as b; import sys; "
    "print(getattr(b, sys.argv[1])(sys.argv[2]))"
)


def _build(kind: str, out: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-c", BUILD, f"build_{kind}", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    return zipfile.ZipFile(_build("wheel", tmp_path_factory.mktemp("wheel")))


def test_the_wheel_carries_the_license_and_says_which(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    license_file = next(name for name in names if name.endswith(".dist-info/licenses/LICENSE"))
    assert wheel.read(license_file) == (ROOT / "LICENSE").read_bytes()
    metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata


def test_the_wheel_carries_the_package_and_nothing_of_the_tests(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    package = {path.relative_to(ROOT).as_posix() for path in (ROOT / "credproc").rglob("*.py")}
    assert package <= names
    assert "credproc/py.typed" in names
    assert not [name for name in names if name.startswith(("tests/", "bench/", "examples/"))]


def test_the_sdist_carries_the_license(tmp_path: Path) -> None:
    with tarfile.open(_build("sdist", tmp_path)) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "README.md", "pyproject.toml", "credproc/cli/commands/process.py"} <= names


def test_the_editable_install_is_a_plain_path_entry() -> None:
    # make installs in setuptools' default editable mode (compat mode warns, deprecated):
    # with the flat layout stated in pyproject.toml that is a path in a .pth file, where the
    # other modes add an import hook that every interpreter start-up would run.
    hooks = [f for f in sys.meta_path if type(f).__module__.startswith("__editable__")]
    assert hooks == []
    import credproc  # noqa: PLC0415

    assert Path(credproc.__file__).parent == ROOT / "credproc"
