"""A real Secret Service for the keyring tests: gnome-keyring's daemon on a private D-Bus
session bus, its login keyring unlocked with a throwaway password, stopped at the end.

credproc finds it as it finds the user's own: keyring's SecretService backend connects to
DBUS_SESSION_BUS_ADDRESS. Nothing of the machine's own session is used. Without a display the
bus offers no prompter, so unlocking a locked keyring is dismissed at once; with one (an Xvfb,
``support.display``), gnome-keyring shows its real unlock dialog there, which the test answers
with xdotool as a person would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

if sys.platform.startswith("linux"):  # keyring installs the Secret Service's client there only
    import secretstorage
    from jeepney import DBusAddress, MatchRule, message_bus, new_method_call
    from jeepney.io.blocking import DBusConnection, open_dbus_connection

from support.tools import require

PASSWORD = "throwaway-login-password"
SECRETS_NAME = "org.freedesktop.secrets"
SERVICE = "credproc"  # credproc's keyring service
STARTUP_TIMEOUT = 20.0

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={runtime}</listen>
  <auth>EXTERNAL</auth>
  {servicedirs}
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass
class SecretService:
    address: str
    runtime_dir: Path

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to find this Secret Service (and nothing else)."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.address, "XDG_RUNTIME_DIR": str(self.runtime_dir)}

    @contextlib.contextmanager
    def _collection(self) -> Iterator[secretstorage.Collection]:
        connection = open_dbus_connection(bus=self.address)
        try:
            yield secretstorage.get_default_collection(connection)
        finally:
            connection.close()

    def secret(self, name: str) -> str | None:
        """What credproc stored under NAME (read as any keyring client would), or None."""
        with self._collection() as collection:
            items = list(collection.search_items({"service": SERVICE, "username": name}))
            return items[0].get_secret().decode() if items else None

    def names(self) -> list[str]:
        with self._collection() as collection:
            items = collection.search_items({"service": SERVICE})
            return sorted(item.get_attributes()["username"] for item in items)

    def store(self, name: str, secret: str) -> None:
        """An item as keyring itself would write it (to plant one credproc did not write)."""
        attributes = {"service": SERVICE, "username": name, "application": "Python keyring library"}
        with self._collection() as collection:
            label = f"Password for '{name}' on '{SERVICE}'"
            collection.create_item(label, attributes, secret.encode(), replace=True)

    def lock(self) -> None:
        with self._collection() as collection:
            collection.lock()
            assert collection.is_locked()

    def is_locked(self) -> bool:
        with self._collection() as collection:
            return bool(collection.is_locked())


@contextlib.contextmanager
def running_secret_service(
    home: Path, work: Path, display: str | None = None
) -> Iterator[SecretService]:
    """The bus and the daemon, stopped on the way out. With ``display``, the bus can start
    gnome-keyring's prompter there; without, no prompt can ever be shown."""
    dbus_daemon = require("dbus-daemon", "dbus")
    daemon = require("gnome-keyring-daemon", "gnome-keyring")
    # Short: the bus's socket lives here, and a socket path has a limit of about 100 bytes.
    runtime = Path(tempfile.mkdtemp(prefix="credproc-bus-"))
    work.mkdir(parents=True, exist_ok=True)
    config = work / "bus.conf"
    servicedirs = "<standard_session_servicedirs />" if display else ""
    config.write_text(_BUS_CONFIG.format(runtime=runtime, servicedirs=servicedirs))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "LANG": "C.UTF-8",
        **({"DISPLAY": display} if display else {}),
    }
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, runtime, ignore_errors=True)
        bus = stack.enter_context(
            _process(
                [dbus_daemon, f"--config-file={config}", "--nofork", "--print-address=1"],
                env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # it warns that it may not raise its fd limit
            )
        )
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()  # printed once the bus listens
        assert address.startswith("unix:"), address
        connection = open_dbus_connection(bus=address)
        stack.callback(connection.close)
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        with _name_owned(connection, SECRETS_NAME):
            keyring = stack.enter_context(
                _process(
                    [daemon, "--foreground", "--unlock", "--components=secrets"],
                    env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            assert keyring.stdin is not None
            keyring.stdin.write(PASSWORD)  # --unlock: the login keyring's password, on stdin
            keyring.stdin.close()
        yield SecretService(address, runtime)


@contextlib.contextmanager
def _process(argv: list[str], env: dict[str, str], **kw: object) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(argv, env=env, text=True, **kw)  # type: ignore[call-overload]
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


@contextlib.contextmanager
def _name_owned(connection: DBusConnection, name: str) -> Iterator[None]:
    """Return from the block only once ``name`` has an owner on the bus: the signal the bus
    sends when it gets one, subscribed to before the block starts the owner."""
    rule = MatchRule(
        type="signal",
        sender="org.freedesktop.DBus",
        interface="org.freedesktop.DBus",
        member="NameOwnerChanged",
        path="/org/freedesktop/DBus",
    )
    rule.add_arg_condition(0, name)
    connection.send_and_get_reply(message_bus.AddMatch(rule))
    with connection.filter(rule) as signals:
        yield
        if not _has_owner(connection, name):
            connection.recv_until_filtered(signals, timeout=STARTUP_TIMEOUT)


def _has_owner(connection: DBusConnection, name: str) -> bool:
    bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
    reply = connection.send_and_get_reply(new_method_call(bus, "NameHasOwner", "s", (name,)))
    return bool(reply.body[0])
