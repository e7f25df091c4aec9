"""What a release carries: the wheel and the sdist are built here, offline, and opened; the
wheel is installed on its own and run."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import credproc
from credproc.config.syntax import COMMANDS

# Every test here builds or installs the package in another process.
pytestmark = pytest.mark.integration

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
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build("wheel", tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def wheel(built_wheel: Path) -> Iterator[zipfile.ZipFile]:
    with zipfile.ZipFile(built_wheel) as opened:
        yield opened


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


def test_the_installed_wheel_runs_every_command(built_wheel: Path, tmp_path: Path) -> None:
    # What a user gets from the wheel, not from this source tree: installed on its own (its
    # dependencies are this venv's), run from elsewhere, through its console script.
    target = tmp_path / "installed"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    pip = subprocess.run(
        [*install, "--target", str(target), str(built_wheel)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert pip.returncode == 0, pip.stderr
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = _run([sys.executable, "-c", "import credproc; print(credproc.__file__)"], env, tmp_path)
    assert Path(where.stdout.strip()).parent == target / "credproc"
    credproc_script = str(target / "bin" / "credproc")
    for name in ["", *COMMANDS]:
        shown = _run([credproc_script, *([name] if name else []), "--help"], env, tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith(f"usage: credproc {name}".rstrip()), shown.stdout
    version = _run([credproc_script, "--version"], env, tmp_path)
    assert version.stdout == f"credproc {credproc.__version__}\n"


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
