"""The keystore's own rules, in-process: masking, the index on disk, and keyring calls that are
bounded and end in one clear line (the keyring's real errors, raised by a stand-in call)."""

from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import keyring.errors
import pytest

from credproc.config import keyindex
from credproc.config.keyindex import Indexed
from credproc.core.sourcekeys import SourceKeys, mask
from credproc.errors import ConfigError
from credproc.keys import keystore


def test_a_key_id_is_masked_to_its_ends_and_a_secret_never_shown() -> None:
    keys = SourceKeys("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    assert mask(keys.access_key_id) == "AKIA...MPLE"
    assert repr(keys) == str(keys) == "SourceKeys(AKIA...MPLE)"
    assert keys.secret_access_key not in f"{keys!r} {keys} {[keys]}"


def test_the_index_round_trips_privately(tmp_path: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    first = Indexed("a", "AKIAFIRST", "arn:aws:iam::1:user/a", "2026-01-01T00:00:00Z")
    second = Indexed("b", "AKIASECOND", None, "2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z")

    keyindex.write_index(environ, "b", second)
    keyindex.write_index(environ, "a", first)
    assert keyindex.read_index(environ) == {"a": first, "b": second}
    keyindex.write_index(environ, "a", None)
    assert keyindex.read_index(environ) == {"b": second}

    path = Path(keyindex.path(environ))
    assert path == tmp_path / "credproc" / "keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "user_arn" not in path.read_text()  # unknown fields are left out, not null


def test_mirror_follows_the_keyring_unless_a_keys_command_holds_the_index(
    tmp_path: Path,
) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path)}
    keyindex.write_index(environ, "a", Indexed("a", "AKIAOLD", "arn", "2026-01-01T00:00:00Z"))

    with keyindex.index_lock(environ, 1):
        keyindex.mirror("a", "AKIANEW", environ)  # never waits: left for the next refresh
    assert keyindex.read_index(environ)["a"].access_key_id == "AKIAOLD"

    keyindex.mirror("a", "AKIANEW", environ)
    assert keyindex.read_index(environ)["a"] == Indexed(
        "a", "AKIANEW", None, "2026-01-01T00:00:00Z"
    )


def test_a_keyring_call_that_never_answers_is_given_up_after_the_timeout() -> None:
    never = threading.Event()
    started = time.monotonic()

    with pytest.raises(ConfigError, match=r"no answer within 0\.3 s \(reading 'dev'\)"):
        keystore._bounded("reading 'dev'", 0.3, never.wait)
    # Given up on while the call still waits (it waits until set below), after the timeout:
    # no upper bound, which would measure the machine instead.
    assert time.monotonic() - started >= 0.3
    assert any(t.name == "credproc-keyring" and t.is_alive() for t in threading.enumerate())
    never.set()


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (keyring.errors.NoKeyringError("no backend"), "no OS keyring is available"),
        (keyring.errors.KeyringLocked("Failed to unlock"), "locked and was not unlocked"),
        (keyring.errors.InitError("bad\nbackend"), "failed while storing 'x': bad backend"),
        (RuntimeError(""), "failed while storing 'x': RuntimeError"),
    ],
)
def test_keyring_errors_become_one_config_error_line(error: Exception, message: str) -> None:
    def fail() -> None:
        raise error

    with pytest.raises(ConfigError, match=message) as raised:
        keystore._bounded("storing 'x'", 5, fail)
    assert "\n" not in str(raised.value)
