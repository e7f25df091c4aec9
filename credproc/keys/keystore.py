"""Long-term source keys in the OS keyring.

The secret lives only in the keyring, under service ``credproc`` and account NAME (the macOS
Keychain, the Windows Credential Manager, a Secret Service such as gnome-keyring on Linux:
whatever the ``keyring`` package picks). What is not secret is in the index (``keyindex``),
which a cache hit reads instead of the keyring.

``keyring`` (an optional extra) is imported only here; without it, every use says how to
install it. Every keyring call is bounded by a timeout: an unlock prompt nobody can see (or
answers) must end in an error, not a hang.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

try:  # the keyring extra
    import keyring
    import keyring.errors
except ImportError:
    keyring = None  # type: ignore[assignment]

from ..core.deadline import DeadlinePassed, run_within
from ..core.sourcekeys import SourceKeys
from ..errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import TypeVar

    T = TypeVar("T")

SERVICE = "credproc"
INSTALL_HINT = "pip install 'credproc[keyring]' (or: pipx inject credproc keyring)"


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
