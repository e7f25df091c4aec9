"""A lock holder that waits for a person says so (core/lock.py ``announce``): a waiter goes on
past its lock timeout until the holder's flow can last, and a timeout names what the holder
did. Real flocks, taken by threads of this process on a file in tmp_path."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from credproc.core import lock
from credproc.errors import LockTimeoutError


def _hold(path: Path, held: threading.Event, release: threading.Event, until: float) -> None:
    with lock.refresh_lock(str(path), 5):
        if until:
            lock.announce("signing in to SSO session 'corp'", until)
        held.set()
        release.wait(10)


def test_a_waiter_outlasts_its_timeout_while_a_sign_in_is_announced(tmp_path: Path) -> None:
    path = tmp_path / "key.lock"
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(path, held, release, time.time() + 60))
    holder.start()
    held.wait(10)
    assert (tmp_path / "key.lock.note").exists()
    threading.Timer(1.0, release.set).start()  # the person signs in after a second

    with lock.refresh_lock(str(path), 0.2) as got:  # past 0.2 s: still waiting, then it has it
        assert got.locked and got.waited
    holder.join(10)
    assert not (tmp_path / "key.lock.note").exists()  # gone with the lock


def test_a_timeout_names_what_the_holder_announced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lock, "NOTE_GRACE_SECONDS", 0.0)
    path = tmp_path / "key.lock"
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(path, held, release, time.time() + 0.5))
    holder.start()
    held.wait(10)
    try:
        with (
            pytest.raises(LockTimeoutError, match="has been signing in to SSO session 'corp'"),
            lock.refresh_lock(str(path), 0.2),
        ):
            pass
    finally:
        release.set()
        holder.join(10)


def test_without_a_note_the_timeout_is_the_lock_timeout(tmp_path: Path) -> None:
    path = tmp_path / "key.lock"
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(path, held, release, 0.0))
    holder.start()
    held.wait(10)
    started = time.monotonic()
    try:
        with (
            pytest.raises(LockTimeoutError, match="refreshing this role"),
            lock.refresh_lock(str(path), 0.3),
        ):
            pass
    finally:
        release.set()
        holder.join(10)
    assert time.monotonic() - started < 5
