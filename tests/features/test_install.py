"""`pip install .` (and pipx) install a complete, working credproc, and `make`'s editable
install keeps start-up as fast as an installed package's."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "credproc"


def test_the_wheel_holds_every_module_and_runs(tmp_path: Path) -> None:
    # Built from a copy: pip builds a local directory in place, and would leave build/ and
    # *.egg-info in the worktree. Offline, with this venv's setuptools.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "credproc", ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps"]
    build += ["--no-build-isolation", "--quiet", "--wheel-dir", str(wheels)]
    built = subprocess.run(build, capture_output=True, text=True, check=False, timeout=300)
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("credproc-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py")}
    assert expected <= names, sorted(expected - names)
    assert "credproc/py.typed" in names

    # Installed on its own (its dependencies from this venv), every command loads.
    target = tmp_path / "installed"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target"]
    done = subprocess.run(
        [*install, str(target), str(wheel)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    env = {"PYTHONPATH": str(target), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    where = subprocess.run(
        [sys.executable, "-c", "import credproc.commands.doctor as d; print(d.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # not the worktree, which python would put first on sys.path
        check=False,
    )
    assert where.stdout.startswith(str(target)), where.stderr
    listing = subprocess.run(
        [sys.executable, "-m", "credproc", "cache", "list", "--cache-dir", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # not the worktree, which python would put first on sys.path
        check=False,
    )
    assert (listing.returncode, listing.stdout) == (0, "no cached tokens\n"), listing.stderr


def test_the_editable_install_is_a_plain_path_entry() -> None:
    # setuptools' other editable modes add an import hook to every interpreter start-up.
    hooks = [f for f in sys.meta_path if type(f).__module__.startswith("__editable__")]
    assert hooks == []
    import credproc  # noqa: PLC0415

    assert Path(credproc.__file__).parent == PACKAGE
