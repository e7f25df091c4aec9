"""A hostile cache: whatever is found in the cache dir, credproc neither crashes, nor serves
it, nor follows it; and where STS can be reached the user still gets credentials.

Each file-level case starts from a real entry written by credproc, spoils it the way a crash,
a bug, another user or an attacker could, and runs credproc again: the server must count a
refresh (nothing planted was served) and the next run must be a cache hit again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support.assertions import assert_warns
from support.constants import BIN, ROLE
from support.hostile import edit_entry, key_of, mode, only_entry, seal_again, temp_files
from support.sandbox import Result, Sandbox

from credproc.cli.commands.cache import summary
from credproc.config.options import RawOptions
from credproc.config.resolve import resolve
from credproc.core.cache import Cache, parse_entry
from credproc.core.credentials import parse_expiration
from credproc.core.hit import INDEX_SUFFIX
from credproc.core.request import Request

NOBODY = 65534
# The attacks are through POSIX modes, owners, FIFOs and symlinks, which Windows keeps apart
# (ACLs) or lacks; credproc does not support Windows yet (README, Platforms).
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="attacks on POSIX file modes")


def _token(result: Result) -> str:
    assert result.returncode == 0, result.stderr
    key_id: str = result.json()["AccessKeyId"]
    return key_id


def _cached(sandbox: Sandbox) -> tuple[str, Path]:
    """Run once to cache a token; its key id and the entry's path."""
    token = _token(sandbox.main(*sandbox.role_args()))
    assert sandbox.server.calls("AssumeRole") == 1
    return token, only_entry(sandbox.cache_dir)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _replace_text(text: str) -> Callable[[Path], None]:
    def spoil(path: Path) -> None:
        path.write_text(text)

    return spoil


def _edit(change: Callable[[dict[str, Any]], object]) -> Callable[[Path], None]:
    def spoil(path: Path) -> None:
        edit_entry(path, change)
        # Sealed again by hand, the entry is whole: the hit (credproc.core.hit), which reads its
        # answer line only, would serve that line, the token credproc wrote. What is checked
        # here is the full reader's check of the document, so the index goes.
        for record in path.parent.glob(f"*{INDEX_SUFFIX}"):
            record.unlink()

    return spoil


def _pad(path: Path) -> None:
    # Still valid JSON (whitespace), but far larger than any entry credproc writes.
    path.write_bytes(path.read_bytes() + b" " * 100_000)


def _sparse(path: Path) -> None:
    with path.open("r+b") as file:
        file.truncate(1 << 33)  # 8 GiB of nothing: must be refused by size, never read


def _give_away(path: Path) -> None:
    try:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    except PermissionError:
        pytest.skip("chown to another user needs root (CI runs as root)")


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path, 0o600)


def _chmod(bits: int) -> Callable[[Path], None]:
    return lambda path: path.chmod(bits)


def _rewrite(path: Path, old: bytes, new: bytes) -> None:
    """The entry's bytes with the first ``old`` replaced, the seal not made again."""
    path.write_bytes(path.read_bytes().replace(old, new, 1))


def _set_expiration(value: object) -> Callable[[dict[str, Any]], object]:
    return lambda d: d["credentials"].__setitem__("Expiration", value)


def _set(field: str, value: object) -> Callable[[dict[str, Any]], object]:
    return lambda d: d.__setitem__(field, value)


def _other_role(document: dict[str, Any]) -> None:
    document["request"]["role_arn"] = "arn:aws:iam::123456789012:role/other"


SPOILED_FILES: dict[str, Callable[[Path], None]] = {
    "truncated": _truncate,
    "empty": _replace_text(""),
    "not JSON": _replace_text("<html>captive portal</html>"),
    "a JSON list": _replace_text("[]"),
    "JSON null": _replace_text("null"),
    "deeply nested": _replace_text("[" * 50_000),
    "no credentials": _edit(lambda d: d.pop("credentials")),
    "no session token": _edit(lambda d: d["credentials"].pop("SessionToken")),
    "empty secret": _edit(lambda d: d["credentials"].__setitem__("SecretAccessKey", "")),
    "tz-less expiry": _edit(_set_expiration("2099-01-01T00:00:00")),
    "garbage expiry": _edit(_set_expiration("tomorrow")),
    "numeric expiry": _edit(_set_expiration(4102444800)),
    "expiry at the end of time": _edit(_set_expiration("9999-12-31T23:59:59Z")),
    "end of time, skewed": _edit(
        lambda d: d.update(
            {
                "clock_offset": -86400 * 300,
                "credentials": {**d["credentials"], "Expiration": "9999-12-31T23:59:59Z"},
            }
        )
    ),
    "another format": _edit(_set("format", 3)),
    "the old format's number": _edit(_set("format", 1)),
    "garbled, same length": lambda path: _rewrite(path, b'"Version":1', b'"Version":7'),
    "an answer the document does not say": lambda path: seal_again(
        path, lambda body: body.replace(b'"Version":1', b'"Version":7', 1)
    ),
    "no answer line": lambda path: seal_again(path, lambda body: body.partition(b"\n")[2]),
    "header for another key": lambda path: _rewrite(path, path.stem.encode(), b"0" * 64),
    "format true": _edit(_set("format", True)),
    "another key": _edit(_set("key", "0" * 64)),
    "another role's entry": _edit(_other_role),
    "offset NaN": _edit(_set("clock_offset", float("nan"))),  # json.dumps writes NaN
    "offset a string": _edit(_set("clock_offset", "0")),
    "window negative": _edit(_set("refresh_window", -1)),
    "huge": _pad,
    "sparse 8 GiB": _sparse,
    "owned by another user": _give_away,
    "group-writable": _chmod(0o620),
    "world-writable": _chmod(0o606),
    "world-readable": _chmod(0o644),
    "a FIFO": _fifo,
}


@pytest.mark.parametrize("spoil", sorted(SPOILED_FILES))
def test_a_spoiled_entry_is_refreshed_not_served(
    sandbox: Sandbox, spoil: str, tmp_path: Path
) -> None:
    cached, entry = _cached(sandbox)
    SPOILED_FILES[spoil](entry)

    # With logging on, a run that resolves reads the entry through the full reader (the
    # provider), not the hit's check of its sealed answer line: that reader is what this tests.
    log = ["--log-file", str(tmp_path / "credproc.log")]
    result = sandbox.main(*sandbox.role_args(), *log, timeout=30)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert _token(result) != cached
    assert sandbox.server.calls("AssumeRole") == 2
    # The spoiled file was replaced by a good private entry: the next run is a hit again.
    assert mode(entry) == 0o600
    assert os.lstat(entry).st_uid == os.geteuid()
    assert _token(sandbox.main(*sandbox.role_args())) == _token(result)
    assert sandbox.server.calls("AssumeRole") == 2
    assert temp_files(sandbox.cache_dir) == []


def test_a_symlinked_entry_is_not_followed_nor_written_through(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    cached, entry = _cached(sandbox)
    elsewhere = tmp_path / "elsewhere.json"
    shutil.copy(entry, elsewhere)  # a perfectly good entry, private, ours: only the link is bad
    elsewhere.chmod(0o600)
    entry.unlink()
    entry.symlink_to(elsewhere)
    before = elsewhere.read_bytes()

    result = sandbox.main(*sandbox.role_args())

    assert _token(result) != cached
    assert result.stderr == ""
    assert sandbox.server.calls("AssumeRole") == 2
    assert elsewhere.read_bytes() == before  # the link's target was neither read nor written
    assert not entry.is_symlink()
    assert mode(entry) == 0o600


def test_a_directory_in_place_of_the_entry_costs_only_the_cache(sandbox: Sandbox) -> None:
    _, entry = _cached(sandbox)
    entry.unlink()
    entry.mkdir()

    first = sandbox.main(*sandbox.role_args())
    second = sandbox.main(*sandbox.role_args())

    for result in (first, second):
        assert result.returncode == 0, result.stderr
        assert result.json()["Version"] == 1
        assert result.stderr.count("\n") == 1
        assert "cannot write the cache" in result.stderr
    assert sandbox.server.calls("AssumeRole") == 3
    assert entry.is_dir()


# -- a hostile cache directory ---------------------------------------------------------------


def _world_writable(directory: Path) -> None:
    directory.chmod(0o777)


def _group_writable(directory: Path) -> None:
    directory.chmod(0o770)


SPOILED_DIRS: dict[str, Callable[[Path], None]] = {
    "world-writable": _world_writable,
    "group-writable": _group_writable,
    "owned by another user": _give_away,
}


@pytest.mark.parametrize("spoil", sorted(SPOILED_DIRS))
def test_an_entry_in_an_untrusted_dir_is_not_served_and_nothing_is_written(
    sandbox: Sandbox, spoil: str
) -> None:
    cached, entry = _cached(sandbox)
    before = sorted(p.name for p in sandbox.cache_dir.iterdir())
    entry_bytes = entry.read_bytes()
    SPOILED_DIRS[spoil](sandbox.cache_dir)

    result = sandbox.main(*sandbox.role_args())

    assert _token(result) != cached
    assert sandbox.server.calls("AssumeRole") == 2
    assert_warns(result, str(sandbox.cache_dir))
    assert sorted(p.name for p in sandbox.cache_dir.iterdir()) == before  # no lock, no temp
    assert entry.read_bytes() == entry_bytes


def test_a_symlinked_cache_dir_is_not_followed(sandbox: Sandbox, tmp_path: Path) -> None:
    cached, _ = _cached(sandbox)
    real = tmp_path / "real-cache"
    sandbox.cache_dir.rename(real)
    sandbox.cache_dir.symlink_to(real)
    before = sorted(p.name for p in real.iterdir())

    result = sandbox.main(*sandbox.role_args())

    assert _token(result) != cached
    assert sandbox.server.calls("AssumeRole") == 2
    assert_warns(result, str(sandbox.cache_dir))
    assert sorted(p.name for p in real.iterdir()) == before


def test_a_file_in_place_of_the_cache_dir(sandbox: Sandbox) -> None:
    sandbox.cache_dir.write_text("not a directory")

    results = [sandbox.main(*sandbox.role_args()) for _ in range(2)]

    for result in results:
        assert result.json()["Version"] == 1
        assert_warns(result, str(sandbox.cache_dir))
    assert sandbox.server.calls("AssumeRole") == 2
    assert sandbox.cache_dir.read_text() == "not a directory"


def test_a_cache_dir_that_cannot_be_created(sandbox: Sandbox, tmp_path: Path) -> None:
    # Even root cannot make a directory under a regular file (ENOTDIR).
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    cache_dir = blocker / "cache"

    result = sandbox.main(*sandbox.role_args(), "--cache-dir", str(cache_dir))

    assert result.json()["Version"] == 1
    assert_warns(result, str(cache_dir))
    assert sandbox.server.calls("AssumeRole") == 1


def test_a_cache_dir_others_can_read_is_made_private(sandbox: Sandbox) -> None:
    sandbox.cache_dir.mkdir(mode=0o755)
    sandbox.cache_dir.chmod(0o755)

    result = sandbox.main(*sandbox.role_args())

    assert result.returncode == 0
    assert result.stderr == ""
    assert mode(sandbox.cache_dir) == 0o700
    assert mode(only_entry(sandbox.cache_dir)) == 0o600


# -- a read-only file system -------------------------------------------------------------------
#
# As root, permission bits do not stop a write, so a chmod'ed directory proves nothing. A real
# read-only mount does: credproc runs inside a private mount namespace (unshare, as an
# unprivileged user namespace would allow any user) where the cache dir is bind-mounted
# read-only. The STS server is reached over loopback as usual.


_BIND_READ_ONLY = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"'


def _read_only(sandbox: Sandbox, *args: str) -> Result:
    directory = str(sandbox.cache_dir)
    script = f'{_BIND_READ_ONLY} && shift && exec "$@"'
    argv = ["unshare", "-rm", "sh", "-c", script, "sh", directory, str(BIN / "credproc"), *args]
    return sandbox.run(argv)


@pytest.fixture
def read_only_works(sandbox: Sandbox) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    sandbox.cache_dir.mkdir(mode=0o700)
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", _BIND_READ_ONLY, "sh", str(sandbox.cache_dir)],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"no private read-only mount here: {probe.stderr.decode().strip()}")


@pytest.mark.integration
@pytest.mark.usefixtures("read_only_works")
def test_a_read_only_cache_still_serves_its_fresh_entries(sandbox: Sandbox) -> None:
    cached, _ = _cached(sandbox)

    result = _read_only(sandbox, *sandbox.role_args())

    assert _token(result) == cached
    assert result.stderr == ""
    assert sandbox.server.calls("AssumeRole") == 1


@pytest.mark.integration
@pytest.mark.usefixtures("read_only_works")
def test_a_read_only_cache_dir_costs_only_the_cache(sandbox: Sandbox) -> None:
    result = _read_only(sandbox, *sandbox.role_args())

    assert result.json()["Version"] == 1
    assert_warns(result, str(sandbox.cache_dir))
    assert sandbox.server.calls("AssumeRole") == 1
    assert list(sandbox.cache_dir.iterdir()) == []


@pytest.mark.integration
@pytest.mark.usefixtures("read_only_works")
def test_doctor_fails_a_cache_dir_credproc_would_not_write(sandbox: Sandbox) -> None:
    result = _read_only(sandbox, "doctor", *sandbox.role_args())

    cache = next(line for line in result.stdout.splitlines() if "cache:" in line)
    assert cache.startswith("FAIL  cache:"), result.stdout
    assert "not writable" in cache and "mode 700" in cache
    assert result.returncode == 3


def test_doctor_shows_the_cache_dirs_real_mode(sandbox: Sandbox) -> None:
    sandbox.cache_dir.mkdir(mode=0o700)
    sandbox.cache_dir.chmod(0o711)

    result = sandbox.main("doctor", *sandbox.role_args())

    cache = next(line for line in result.stdout.splitlines() if "cache:" in line)
    assert cache.startswith("warn  cache:") and "(mode 711)" in cache, result.stdout


# -- fuzzing the reader ------------------------------------------------------------------------

KEY = "a" * 64
IN_AN_HOUR = datetime.fromtimestamp(time.time() + 3600, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
IDENTITY: dict[str, object] = {"role_arn": ROLE, "duration": 3600}
CREDENTIALS = {
    "AccessKeyId": "ASIAEXAMPLE",
    "SecretAccessKey": "secret",
    "SessionToken": "token",
    "Expiration": IN_AN_HOUR,
}


def valid_entry_for(raw: bytes, key: str) -> bool:
    """What an entry must be to be served, written from the entry format, not from the parser."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    if not isinstance(document, dict):
        return False
    credentials = document.get("credentials")
    offset = document.get("clock_offset")
    window = document.get("refresh_window")
    if type(document.get("format")) is not int or document["format"] != 1:
        return False
    if document.get("key") != key or not isinstance(document.get("request"), dict):
        return False
    if isinstance(offset, bool) or not isinstance(offset, int | float):
        return False
    if not abs(offset) < 86400 * 366 or type(window) is not int or window < 0:
        return False
    if not isinstance(credentials, dict):
        return False
    for name in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        if not isinstance(credentials.get(name), str) or not credentials[name]:
            return False
    if not isinstance(credentials.get("Expiration"), str):
        return False
    try:
        expiry = parse_expiration(credentials["Expiration"])
        # Printable in this machine's clock: what the hot path and `cache list` do with it.
        local_expiry = datetime.fromtimestamp(expiry.timestamp() - offset, timezone.utc)
    except (ValueError, OverflowError, OSError):
        return False
    # STS never grants more than 36 hours (GetSessionToken); a minute more for clock noise.
    return local_expiry.timestamp() <= time.time() + 36 * 3600 + 60


def _document(**changes: object) -> dict[str, object]:
    document: dict[str, object] = {
        "format": 1,
        "key": KEY,
        "request": IDENTITY,
        "credentials": CREDENTIALS,
        "clock_offset": 0,
        "refresh_window": 900,
        "written_at": "2030-01-01T00:00:00Z",
    }
    document.update(changes)
    return document


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)
_expirations = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", IN_AN_HOUR]),
    st.integers(-40 * 3600, 40 * 3600).map(
        lambda s: datetime.fromtimestamp(time.time() + s, timezone.utc).isoformat()
    ),
    st.text(max_size=30),
)
_credentials = st.fixed_dictionaries(
    {},
    optional={
        "AccessKeyId": st.one_of(st.just("ASIA1"), _json),
        "SecretAccessKey": st.one_of(st.just("s"), _json),
        "SessionToken": st.one_of(st.just("t"), _json),
        "Expiration": st.one_of(_expirations, _json),
    },
)
_FIELDS: dict[str, st.SearchStrategy[object]] = {
    "format": st.one_of(st.sampled_from([1, 1.0, True, "1", 2]), _json),
    "key": st.one_of(st.just("b" * 64), _json),
    "request": _json,
    "credentials": st.one_of(
        _expirations.map(lambda e: {**CREDENTIALS, "Expiration": e}),
        _credentials,
        _json,
    ),
    "clock_offset": st.one_of(
        st.integers(-2 * 86400, 2 * 86400),
        st.floats(),
        st.integers(),
        st.sampled_from([86400 * 366, -86400 * 300]),
    ),
    "refresh_window": st.one_of(st.integers(0, 5000), st.integers(), st.booleans(), st.floats()),
}
_mutations = st.one_of(
    st.fixed_dictionaries({}, optional=_FIELDS),
    st.sampled_from(sorted(_FIELDS)).flatmap(lambda k: _FIELDS[k].map(lambda v: {k: v})),
)
_entry_bytes = st.one_of(
    st.binary(max_size=300),
    _mutations.map(lambda m: json.dumps(_document(**m)).encode()),
    _mutations.map(lambda m: json.dumps(_document(**m)).encode()).flatmap(
        lambda raw: st.integers(0, len(raw)).map(lambda cut: raw[:cut])
    ),
)


@settings(max_examples=1500, deadline=None)
@given(raw=_entry_bytes)
def test_parse_entry_never_raises_and_accepts_only_valid_entries(raw: bytes) -> None:
    entry = parse_entry(raw, KEY)

    event("served" if entry is not None else "refused")
    assert (entry is not None) == valid_entry_for(raw, KEY), raw
    if entry is not None:
        entry.seconds_left()
        summary(entry)  # what `cache list` shows must be computable for any accepted entry


# Entries as credproc writes them, expiring at any time STS could grant: so that the tests
# below see plenty of entries that must be served, not only ones that must not.
_valid_entry_bytes = st.integers(-3600, 36 * 3600).map(
    lambda seconds: json.dumps(
        _document(
            credentials={
                **CREDENTIALS,
                "Expiration": datetime.fromtimestamp(time.time() + seconds, timezone.utc).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
            }
        )
    ).encode()
)


@pytest.fixture
def fuzz_request(tmp_path: Path) -> Request:
    return resolve(
        RawOptions(role_arn=ROLE, source_profile="base", cache_dir=str(tmp_path / "fuzz")), {}
    )


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.one_of(_entry_bytes, _valid_entry_bytes), private=st.booleans())
def test_cache_read_of_arbitrary_files(fuzz_request: Request, raw: bytes, private: bool) -> None:
    assert fuzz_request.cache_dir is not None
    directory = Path(fuzz_request.cache_dir)
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / f"{fuzz_request.key}.json"
    path.unlink(missing_ok=True)
    # The document as written for this request, so that the valid share is really valid.
    try:
        document = json.loads(raw)
        if isinstance(document, dict) and document.get("key") == KEY:
            document["key"] = fuzz_request.key
            if document.get("request") == IDENTITY:
                document["request"] = fuzz_request.identity()
            raw = json.dumps(document).encode()
    except (ValueError, RecursionError):
        pass
    path.write_bytes(raw)
    path.chmod(0o600 if private else 0o640)

    entry = Cache(directory).read(fuzz_request)

    identity = json.loads(json.dumps(fuzz_request.identity()))
    served = private and valid_entry_for(raw, fuzz_request.key)
    served = served and json.loads(raw).get("request") == identity
    event("served" if served else "refused")
    assert (entry is not None) == served, raw  # a reader that always missed would fail here
    if entry is not None:
        assert entry.identity == identity
        assert entry.key == fuzz_request.key


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=_valid_entry_bytes)
def test_cache_read_serves_every_entry_credproc_writes(fuzz_request: Request, raw: bytes) -> None:
    assert fuzz_request.cache_dir is not None
    directory = Path(fuzz_request.cache_dir)
    directory.mkdir(mode=0o700, exist_ok=True)
    document = {**json.loads(raw), "key": fuzz_request.key, "request": fuzz_request.identity()}
    path = directory / f"{fuzz_request.key}.json"
    path.write_text(json.dumps(document))
    path.chmod(0o600)

    entry = Cache(directory).read(fuzz_request)

    assert entry is not None
    assert entry.credentials.access_key_id == CREDENTIALS["AccessKeyId"]


def test_entries_lists_only_trustworthy_entries(sandbox: Sandbox) -> None:
    _cached(sandbox)
    good = only_entry(sandbox.cache_dir)
    (sandbox.cache_dir / f"{'b' * 64}.json").write_bytes(good.read_bytes())  # wrong name for key
    (sandbox.cache_dir / f"{'c' * 64}.json").symlink_to(good)
    (sandbox.cache_dir / f"{'d' * 64}.json").write_text("{")
    (sandbox.cache_dir / f"{'b' * 64}.json").chmod(0o600)

    listing = sandbox.main("cache", "list", "--json")

    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert [row["key"] for row in rows] == [good.stem]
    assert key_of(sandbox) == good.stem


def _lock_fifo(lock: Path, _: Path) -> None:
    os.mkfifo(lock, 0o600)


def _lock_dir(lock: Path, _: Path) -> None:
    lock.mkdir()


def _lock_symlink(lock: Path, target: Path) -> None:
    lock.symlink_to(target)


@pytest.mark.parametrize("plant", [_lock_fifo, _lock_dir, _lock_symlink])
def test_a_planted_lock_path_is_not_followed_and_costs_only_the_cache(
    sandbox: Sandbox, tmp_path: Path, plant: Callable[[Path, Path], None]
) -> None:
    sandbox.cache_dir.mkdir(mode=0o700)
    target = tmp_path / "precious"
    target.write_text("keep me")
    plant(sandbox.cache_dir / f"{key_of(sandbox)}.lock", target)

    result = sandbox.main(*sandbox.role_args(), timeout=30)

    assert result.json()["Version"] == 1
    assert_warns(result, "cannot lock", f"{key_of(sandbox)}.lock", "continuing without caching")
    assert sandbox.server.calls("AssumeRole") == 1
    assert target.read_text() == "keep me"
