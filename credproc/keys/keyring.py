"""Long-term source keys in the OS keyring, and the records of the index beside it.

The secret lives only in the keyring, under service ``credproc`` and account NAME (the macOS
Keychain, the Windows Credential Manager, a Secret Service such as gnome-keyring on Linux:
whatever the ``keyring`` package picks). What is not secret is in the index (``keyindex``),
which a cache hit reads instead of the keyring.

``keyring`` (an optional extra) is imported only here; without it, every use says how to
install it. Every keyring call is bounded by a timeout: an unlock prompt nobody can see (or
answers) must end in an error, not a hang.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, NamedTuple

try:  # the keyring extra
    import keyring
    import keyring.errors
except ImportError:
    keyring = None  # type: ignore[assignment]

from ..config import keyindex
from ..core.deadline import DeadlinePassed, run_within
from ..core.files import atomic_write
from ..core.lock import file_lock
from ..errors import ConfigError, LockTimeoutError

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import TypeVar

    T = TypeVar("T")

SERVICE = "credproc"
INSTALL_HINT = "pip install 'credproc[keyring]' (or: pipx inject credproc keyring)"


class SourceKeys(NamedTuple):
    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:  # a stray log or traceback must never show the secret
        return f"SourceKeys({mask(self.access_key_id)})"


class Indexed(NamedTuple):
    """One name in the index: nothing secret."""

    name: str
    access_key_id: str
    user_arn: str | None  # None when added with --no-verify
    added: str  # UTC, 2026-01-31T12:00:00Z
    rotated: str | None = None


def mask(access_key_id: str) -> str:
    """The first 4 and last 4 characters: enough to tell keys apart, too little to use."""
    return f"{access_key_id[:4]}...{access_key_id[-4:]}"


# -- the index's records (keyindex reads it on the hit path) --------------------------------


def read_index(environ: Mapping[str, str]) -> dict[str, Indexed]:
    """Every name in the index, as records; ConfigError if the index is unreadable."""
    return {
        name: Indexed(
            name,
            fields["access_key_id"],
            fields.get("user_arn"),
            fields["added"],
            fields.get("rotated"),
        )
        for name, fields in keyindex.entries(environ).items()
    }


def write_index(environ: Mapping[str, str], name: str, entry: Indexed | None) -> None:
    """Put (or with None, remove) one name; the caller holds ``index_lock``."""
    entries = read_index(environ)
    if entry is None:
        entries.pop(name, None)
    else:
        entries[name] = entry
    document = {
        "format": keyindex.FORMAT,
        "keys": {key: _fields(record) for key, record in sorted(entries.items())},
    }
    path = keyindex.path(environ)
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        atomic_write(path, (json.dumps(document, indent=2) + "\n").encode())
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror or error}") from None


def mirror(name: str, access_key_id: str, environ: Mapping[str, str]) -> None:
    """Make the index name the key id the keyring holds for NAME, unless a ``keys`` command is
    changing it right now (it writes the index itself): a refresh never waits for one."""
    with contextlib.suppress(LockTimeoutError), index_lock(environ, 0):
        entry = read_index(environ).get(name)
        if entry is not None and entry.access_key_id != access_key_id:
            # The user ARN was the other key's: unknown until `keys add` verifies again.
            write_index(environ, name, entry._replace(access_key_id=access_key_id, user_arn=None))


def _fields(entry: Indexed) -> dict[str, str]:
    """The entry as stored: its name is the key it is stored under."""
    named = zip(entry._fields[1:], entry[1:], strict=True)
    return {field: value for field, value in named if value is not None}


@contextlib.contextmanager
def index_lock(environ: Mapping[str, str], timeout: float) -> Iterator[None]:
    """One ``keys`` command changing keys at a time (two rotations of one key would each
    delete the other's new key)."""
    path = keyindex.path(environ) + ".lock"
    held = contextlib.ExitStack()
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        held.enter_context(
            file_lock(path, timeout, "another credproc keys command", "changing keys")
        )
    except OSError as error:
        raise ConfigError(f"cannot lock {path}: {error.strerror or error}") from None
    with held:
        yield


# -- the keyring: bounded calls, one clear line per failure --------------------------------


def backend_name(timeout: float) -> str:
    """The keyring backend keyring picks, as it names it; ConfigError when there is none."""

    def find() -> str:
        keyring = _keyring()
        backend = keyring.get_keyring()
        if _is_unusable(backend):
            raise keyring.errors.NoKeyringError()
        return f"{backend.name} ({type(backend).__module__}.{type(backend).__name__})"

    return _bounded("finding the keyring", timeout, find)


def load(name: str, timeout: float) -> SourceKeys:
    """The keys stored under NAME; ConfigError if none are, or the keyring cannot answer."""
    stored = _bounded(f"reading {name!r}", timeout, lambda: _keyring().get_password(SERVICE, name))
    if stored is None:
        raise ConfigError(
            f"the OS keyring holds no source keys named {name!r}: store them with "
            f"credproc keys add {name}"
        )
    try:
        fields = json.loads(stored)
        return SourceKeys(str(fields["AccessKeyId"]), str(fields["SecretAccessKey"]))
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            f"the keyring's item for {name!r} (service {SERVICE!r}) is not credproc's: store the "
            f"keys again with credproc keys add {name} --force"
        ) from None


def exists(name: str, timeout: float) -> bool:
    stored = _bounded(
        f"looking up {name!r}", timeout, lambda: _keyring().get_password(SERVICE, name)
    )
    return stored is not None


def store(name: str, keys: SourceKeys, timeout: float) -> None:
    value = json.dumps(
        {"AccessKeyId": keys.access_key_id, "SecretAccessKey": keys.secret_access_key}
    )
    _bounded(f"storing {name!r}", timeout, lambda: _keyring().set_password(SERVICE, name, value))


def delete(name: str, timeout: float) -> bool:
    """Remove NAME's item; False if there was none."""

    def remove() -> bool:
        keyring = _keyring()
        if keyring.get_password(SERVICE, name) is None:
            return False
        keyring.delete_password(SERVICE, name)
        return True

    return _bounded(f"removing {name!r}", timeout, remove)


def require() -> None:
    """Fail with the install hint unless the keyring package is there."""
    _keyring()


def _keyring() -> ModuleType:
    if keyring is None:
        raise ConfigError(f"source keys in the OS keyring need the keyring package: {INSTALL_HINT}")
    return keyring


def _is_unusable(backend: object) -> bool:
    """keyring's stand-ins for "no backend": the fail backend, or a chainer of none."""
    module = type(backend).__module__
    return module.endswith(".fail") or (
        module.endswith(".chainer") and not getattr(backend, "backends", ())
    )


def _bounded(what: str, timeout: float, call: Callable[[], T]) -> T:
    """Run a keyring call and give up after ``timeout`` seconds.

    A locked keyring asks to be unlocked with a dialog, and a Secret Service waits for that
    dialog's answer without any limit; no one may be there to see it (a client running
    credproc in the background, a session over SSH). Giving up leaves the call blocked on its
    D-Bus socket in a daemon thread, which ends with the process."""
    try:
        return run_within(timeout, call, "credproc-keyring")
    except DeadlinePassed:
        raise ConfigError(
            f"the OS keyring gave no answer within {timeout:g} s ({what}): it is probably locked "
            "and waiting for you to unlock it; unlock it and retry, or raise --lock-timeout"
        ) from None
    except BaseException as error:  # noqa: BLE001 - whatever the backend raised, as one line
        raise _failed(what, error) from None


def _failed(what: str, error: BaseException) -> BaseException:
    if isinstance(error, ConfigError):
        return error
    errors = _keyring().errors
    if isinstance(error, errors.NoKeyringError):
        return ConfigError(
            "no OS keyring is available (keyring found no backend; on Linux it needs a Secret "
            "Service such as gnome-keyring or KeePassXC on the D-Bus session bus)"
        )
    if isinstance(error, errors.KeyringLocked):
        return ConfigError(
            "the OS keyring is locked and was not unlocked (the prompt was dismissed, or none "
            "could be shown): unlock it and retry"
        )
    if isinstance(error, KeyboardInterrupt):
        return error
    # Messages from the keyring come from its backend (D-Bus, the Keychain), never hold the
    # secret, and may span lines.
    reason = re.sub(r"\s+", " ", str(error)).strip() or type(error).__name__
    return ConfigError(f"the OS keyring failed while {what}: {reason}")
