"""The cache on real files in tmp_path: round trips, atomic writes, distrust of what it reads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from support import entries
from support.constants import ROLE

from credproc.cli.commands.cache import summary
from credproc.config.options import RawOptions
from credproc.config.resolve import resolve
from credproc.core.cache import Cache, parse_entry
from credproc.core.credentials import Credentials
from credproc.core.files import atomic_write
from credproc.core.request import Request


def _request(cache_dir: Path, role: str = ROLE) -> Request:
    return resolve(RawOptions(role_arn=role, source_profile="base", cache_dir=str(cache_dir)), {})


def _credentials(seconds_left: int = 3600) -> Credentials:
    expiry = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=seconds_left)
    return Credentials("ASIAKEY", "secret-value", "token-value", expiry)


def test_round_trip(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    request = _request(Path(cache.directory))
    credentials = _credentials()
    assert cache.write(request, credentials, clock_offset=12.0)

    entry = cache.read(request)

    assert entry is not None
    assert entry.credentials == credentials
    assert entry.clock_offset == 12.0
    assert entry.refresh_window == request.refresh_window
    assert (Path(cache.directory) / f"{request.key}.json").stat().st_mode & 0o777 == 0o600
    assert Path(cache.directory).stat().st_mode & 0o777 == 0o700


def test_read_of_a_missing_dir_creates_nothing(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "absent")
    assert cache.read(_request(Path(cache.directory))) is None
    assert not Path(cache.directory).exists()


def test_an_entry_is_only_served_to_its_own_request(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    mine, other = _request(tmp_path), _request(tmp_path, f"{ROLE}-other")
    cache.write(mine, _credentials(), 0.0)
    (tmp_path / f"{other.key}.json").write_bytes((tmp_path / f"{mine.key}.json").read_bytes())
    (tmp_path / f"{other.key}.json").chmod(0o600)

    assert cache.read(other) is None


def test_group_or_world_access_makes_an_entry_untrusted(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    tmp_path.chmod(0o700)
    request = _request(tmp_path)
    cache.write(request, _credentials(), 0.0)
    (tmp_path / f"{request.key}.json").chmod(0o640)

    assert cache.read(request) is None


def test_a_symlinked_entry_is_not_followed(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    request = _request(Path(cache.directory))
    cache.write(request, _credentials(), 0.0)
    real = Path(cache.directory) / f"{request.key}.json"
    target = tmp_path / "elsewhere.json"
    real.rename(target)
    real.symlink_to(target)

    assert cache.read(request) is None


def test_a_group_writable_dir_is_not_used(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    directory.mkdir(mode=0o700)
    cache = Cache(directory)
    request = _request(directory)
    cache.write(request, _credentials(), 0.0)
    directory.chmod(0o770)

    assert cache.read(request) is None
    assert not Cache(directory).prepare()  # a Cache checks once; a new one sees the change


def test_a_readable_dir_of_ours_is_tightened(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    directory.mkdir()
    directory.chmod(0o755)

    assert Cache(directory).prepare()
    assert directory.stat().st_mode & 0o777 == 0o700


def test_atomic_write_sweeps_temp_files_of_killed_writers(tmp_path: Path) -> None:
    target = tmp_path / "k.json"
    leftover = tmp_path / ".k.json.123.456.tmp"
    leftover.write_text("half")

    atomic_write(target, b"{}")

    assert target.read_bytes() == b"{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json"]


def test_atomic_write_leaves_nothing_behind_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "dir-in-the-way"
    (target / "occupied").mkdir(parents=True)  # os.replace cannot replace a non-empty dir

    with pytest.raises(OSError):  # noqa: PT011 - the OS decides which
        atomic_write(target, b"{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir-in-the-way"]


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(format=2),
        lambda d: d.update(key="0" * 64),
        lambda d: d.update(clock_offset="soon"),
        lambda d: d.update(clock_offset=float("nan")),
        lambda d: d.update(refresh_window=True),
        lambda d: d["credentials"].update(Expiration="2026-01-01T00:00:00"),
        lambda d: d["credentials"].update(Expiration="tomorrow"),
        lambda d: d["credentials"].pop("SessionToken"),
        lambda d: d.update(request=[]),
    ],
)
def test_parse_entry_refuses_what_it_did_not_write(tmp_path: Path, mutate: object) -> None:
    cache = Cache(tmp_path)
    tmp_path.chmod(0o700)
    request = _request(tmp_path)
    cache.write(request, _credentials(), 0.0)
    # The document's checks, through the old format's reader (a document without the seal).
    document = json.loads(entries.old_format(entries.document(tmp_path / f"{request.key}.json")))
    assert parse_entry(json.dumps(document).encode(), request.key) is not None

    mutate(document)  # type: ignore[operator]

    assert parse_entry(json.dumps(document).encode(), request.key) is None


def test_entries_and_remove(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    first, second = _request(Path(cache.directory)), _request(Path(cache.directory), f"{ROLE}-2")
    cache.write(first, _credentials(), 0.0)
    cache.write(second, _credentials(100), 0.0)

    rows = {entry.key: summary(entry) for entry in cache.entries()}

    assert rows[first.key]["state"] == "fresh"
    assert rows[second.key]["state"] == "refresh due"
    assert "secret-value" not in json.dumps(list(rows.values()))
    assert cache.remove(first.key) and not cache.remove(first.key)
    assert [entry.key for entry in cache.entries()] == [second.key]
