"""The OS keyring failing every way it can: no keyring package, no backend, a locked keyring
whose unlock is dismissed or never answered, another `keys` command holding the index. Each is
one line and a documented status, never a hang and never a traceback; and a cache hit, which
needs no secret, works through all of them.

The unlock dialog is gnome-keyring's own, on an Xvfb of the test's, answered (or not) with
xdotool as a person would.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.assertions import assert_fails
from support.constants import BIN, ROLE
from support.display import Display, running_display
from support.processes import hold_lock, wait_all
from support.sandbox import Result, Sandbox
from support.secretservice import PASSWORD, SecretService, running_secret_service
from support.sourcekeys import Keys, add, new_user

from credproc.config.keyindex import Indexed, write_index

pytestmark = pytest.mark.integration

SOURCE_KEYS = ["--role-arn", ROLE, "--source-keys", "dev"]
# credproc with the keyring package made unimportable, as in an install without the extra.
WITHOUT_KEYRING = (
    "import sys; sys.modules['keyring'] = None; "
    "from credproc.cli.main import main; sys.exit(main(sys.argv[1:]))"
)


def _without_keyring(sandbox: Sandbox, *args: str) -> Result:
    return sandbox.run([sys.executable, "-c", WITHOUT_KEYRING, *args])


def _index_only(sandbox: Sandbox) -> None:
    """An index naming 'dev', as `keys add` leaves it, with no keyring behind it."""
    entry = Indexed("dev", "AKIAIOSFODNN7EXAMPLE", None, "2026-01-01T00:00:00Z")
    write_index({"XDG_CONFIG_HOME": str(sandbox.home / ".config")}, "dev", entry)


@pytest.fixture
def keys(sandbox: Sandbox, secret_service: SecretService) -> Keys:
    stored = new_user(sandbox.server)
    assert add(sandbox, "dev", stored).returncode == 0
    return stored


# -- no keyring package ---------------------------------------------------------------------


def test_without_the_keyring_package_every_keys_command_names_the_extra(
    sandbox: Sandbox,
) -> None:
    for argv in (["keys", "list"], ["keys", "add", "dev", "--from-env"], ["keys", "remove", "x"]):
        result = _without_keyring(sandbox, *argv)
        assert_fails(result, 3, "keyring package", "pip install 'credproc[keyring]'")


def test_without_the_keyring_package_a_refresh_names_the_extra(sandbox: Sandbox) -> None:
    _index_only(sandbox)

    result = _without_keyring(sandbox, *SOURCE_KEYS)

    assert_fails(result, 3, "pip install 'credproc[keyring]'")
    assert sandbox.server.calls() == 0


def test_a_cache_hit_needs_no_keyring_package(sandbox: Sandbox, keys: Keys) -> None:
    cold = sandbox.credproc(*SOURCE_KEYS)

    hit = _without_keyring(sandbox, *SOURCE_KEYS)

    assert cold.returncode == 0, cold.stderr
    assert (hit.returncode, hit.stdout, hit.stderr) == (0, cold.stdout, "")


# -- no backend -----------------------------------------------------------------------------


def test_no_keyring_backend_is_one_line(sandbox: Sandbox) -> None:
    # The sandbox has no D-Bus session bus: keyring finds no backend at all.
    _index_only(sandbox)
    keys = Keys("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    for result in (
        sandbox.credproc(*SOURCE_KEYS),
        add(sandbox, "other", keys, "--no-verify"),
        sandbox.credproc("keys", "remove", "dev"),
        sandbox.credproc("keys", "rotate", "dev"),
    ):
        assert_fails(result, 3, "no OS keyring is available")
    assert sandbox.server.calls() == 0
    doctor = sandbox.credproc("doctor", *SOURCE_KEYS)
    assert doctor.returncode == 3
    assert "FAIL  keyring: no OS keyring is available" in doctor.stdout


# -- locked, and no prompt can be shown -----------------------------------------------------


def test_a_locked_keyring_without_a_prompter_fails_at_once(
    sandbox: Sandbox, secret_service: SecretService, keys: Keys
) -> None:
    secret_service.lock()
    before = sandbox.server.calls()

    for argv in (
        SOURCE_KEYS,
        ["keys", "add", "dev", "--force", "--no-verify", "--from-env"],
        ["keys", "remove", "dev"],
        ["keys", "rotate", "dev"],
    ):
        # The full wait allowed is 120 s: failing well within the test's own 60 s limit shows
        # that a dismissed unlock is not waited out.
        result = sandbox.credproc(*argv, "--lock-timeout", "120", env=keys.env)
        assert_fails(result, 3, "locked and was not unlocked")
    assert sandbox.server.calls() == before  # nothing reached IAM or STS
    assert secret_service.names() == ["dev"]


def test_a_cache_hit_works_with_the_keyring_locked(
    sandbox: Sandbox, secret_service: SecretService, keys: Keys
) -> None:
    cold = sandbox.credproc(*SOURCE_KEYS)
    secret_service.lock()

    hit = sandbox.credproc(*SOURCE_KEYS)

    assert cold.returncode == 0, cold.stderr
    assert (hit.returncode, hit.stdout, hit.stderr) == (0, cold.stdout, "")
    assert secret_service.is_locked()  # nothing even asked to unlock it


# -- locked, with gnome-keyring's real unlock dialog ----------------------------------------


@pytest.fixture
def display() -> Iterator[Display]:
    with running_display() as screen:
        yield screen


@pytest.fixture
def prompting(sandbox: Sandbox, tmp_path: Path, display: Display) -> Iterator[SecretService]:
    """A Secret Service that shows its unlock dialog on the test's display."""
    with running_secret_service(sandbox.home, tmp_path / "ss", display.name) as service:
        sandbox.env.update(service.env)
        yield service


@pytest.fixture
def locked(sandbox: Sandbox, prompting: SecretService) -> Keys:
    stored = new_user(sandbox.server)
    assert add(sandbox, "dev", stored).returncode == 0
    prompting.lock()
    return stored


def test_a_dismissed_unlock_dialog_fails_with_one_line(
    sandbox: Sandbox, display: Display, locked: Keys
) -> None:
    refresh = sandbox.popen(*SOURCE_KEYS)
    dialog = display.wait_for_window("Unlock")
    display.press(dialog, "Escape")
    [result] = wait_all([refresh], timeout=60)

    assert_fails(result, 3, "locked and was not unlocked")
    assert sandbox.server.calls("AssumeRole") == 0


def test_an_unanswered_unlock_dialog_is_waited_for_lock_timeout_only(
    sandbox: Sandbox, display: Display, locked: Keys
) -> None:
    started = time.monotonic()
    refresh = sandbox.popen(*SOURCE_KEYS, "--lock-timeout", "3")
    display.wait_for_window("Unlock")  # shown, and nobody answers it
    [result] = wait_all([refresh], timeout=60)
    elapsed = time.monotonic() - started

    assert_fails(result, 3, "gave no answer within 3 s", "unlock it")
    # Given up on at --lock-timeout while the dialog still waits for an answer: shown as long
    # as the keyring waits. The time, bounded below only: above, it is the machine's.
    assert elapsed >= 3
    assert display.windows("Unlock")
    assert sandbox.server.calls("AssumeRole") == 0


def test_an_unlock_typed_into_the_dialog_lets_the_refresh_go_on(
    sandbox: Sandbox, display: Display, prompting: SecretService, locked: Keys
) -> None:
    refresh = sandbox.popen(*SOURCE_KEYS)
    dialog = display.wait_for_window("Unlock")
    display.type_into(dialog, PASSWORD)
    display.press(dialog, "Return")
    [result] = wait_all([refresh], timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.json()["Version"] == 1
    assert sandbox.server.signers("AssumeRole") == [locked.key_id]
    assert not prompting.is_locked()


# -- another keys command at work -----------------------------------------------------------


def test_keys_commands_wait_for_each_other_within_the_lock_timeout(
    sandbox: Sandbox, secret_service: SecretService, keys: Keys
) -> None:
    holder = hold_lock(sandbox.home / ".config" / "credproc" / "keys.json.lock")
    try:
        result = sandbox.credproc("keys", "remove", "dev", "--lock-timeout", "1")
        refresh = sandbox.credproc(*SOURCE_KEYS)  # a refresh takes no lock of the index
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()

    assert_fails(result, 6, "another credproc keys command", "--lock-timeout")
    assert refresh.returncode == 0, refresh.stderr
    assert secret_service.names() == ["dev"]


def test_keyring_errors_are_never_a_traceback(sandbox: Sandbox) -> None:
    _index_only(sandbox)
    result = sandbox.run(
        [str(BIN / "credproc"), *SOURCE_KEYS],
        env={"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"},
    )

    line = assert_fails(result, 3)
    assert "Traceback" not in result.stderr
    assert "keyring" in line
