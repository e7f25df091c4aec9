"""`credproc keys add`, `list` and `remove`, against a real Secret Service and IAM users on the
moto server: each input mode, the checks before storing, the index, and the credentials file.

Every run that could prompt runs under pexpect's own terminal, or with no terminal at all.
"""

from __future__ import annotations

import json
import os
import stat

import pexpect
import pytest
from support.assertions import assert_fails
from support.constants import BASE_KEY_ID, BASE_SECRET, BIN
from support.sandbox import Sandbox
from support.secretservice import SecretService
from support.sourcekeys import Keys, add, files_holding, new_user, stored, user_arn

pytestmark = pytest.mark.integration


def _index(sandbox: Sandbox) -> dict[str, dict[str, str]]:
    path = sandbox.home / ".config" / "credproc" / "keys.json"
    document: dict[str, dict[str, dict[str, str]]] = json.loads(path.read_text())
    return document["keys"]


def test_add_from_the_environment_checks_and_stores_the_keys(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    keys = new_user(sandbox.server)

    result = add(sandbox, "dev", keys)

    assert result.returncode == 0, result.stderr
    masked = f"{keys.key_id[:4]}...{keys.key_id[-4:]}"
    assert result.stdout == f"stored 'dev' in the OS keyring: {masked} ({user_arn()})\n"
    assert result.stderr == ""
    assert stored(secret_service, "dev") == keys
    # Checked with STS, signed by the keys themselves.
    assert sandbox.server.signers("GetCallerIdentity") == [keys.key_id]
    index = _index(sandbox)["dev"]
    assert (index["access_key_id"], index["user_arn"]) == (keys.key_id, user_arn())
    path = sandbox.home / ".config" / "credproc" / "keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert files_holding(sandbox.home, keys.secret) == []


def test_add_asks_on_the_terminal_without_echoing_the_secret(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    keys = new_user(sandbox.server)
    child = pexpect.spawn(
        str(BIN / "credproc"),
        ["keys", "add", "dev"],
        env=sandbox.env,
        cwd=str(sandbox.home),
        encoding="utf-8",
        timeout=30,
    )
    child.expect_exact("Access key id for 'dev': ")
    child.sendline(keys.key_id)
    child.expect_exact("Secret access key (not shown): ")
    child.sendline(keys.secret)
    child.expect(pexpect.EOF)
    transcript = child.before
    child.close()

    assert child.exitstatus == 0, transcript
    assert "stored 'dev' in the OS keyring" in transcript
    assert keys.secret not in transcript  # the terminal never showed it
    assert stored(secret_service, "dev") == keys
    assert files_holding(sandbox.home, keys.secret) == []


def test_add_without_a_terminal_or_a_source_fails_at_once(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    result = sandbox.run(["setsid", str(BIN / "credproc"), "keys", "add", "dev"])

    assert_fails(result, 2, "no terminal", "--from-env or --from-profile")
    assert secret_service.names() == []


def test_add_from_a_profile_leaves_the_file_alone_without_remove(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    credentials = sandbox.home / ".aws" / "credentials"
    credentials.write_text(
        f"[base]\naws_access_key_id = {BASE_KEY_ID}\naws_secret_access_key = {BASE_SECRET}\n"
    )
    before = credentials.read_bytes()

    result = sandbox.credproc("keys", "add", "base", "--from-profile", "base")

    assert result.returncode == 0, result.stderr
    assert stored(secret_service, "base") == Keys(BASE_KEY_ID, BASE_SECRET)
    assert credentials.read_bytes() == before
    assert list(credentials.parent.glob("*.bak")) == []


def test_remove_from_file_deletes_only_the_two_key_lines(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    sandbox.write_config("")  # the sandbox's base profile holds these keys in the config file
    credentials = sandbox.home / ".aws" / "credentials"
    original = (
        "# my keys\r\n"
        "[default]\r\n"
        "aws_access_key_id = AKIAAAAAAAAAAAAAAAAA\r\n"
        "aws_secret_access_key = default-secret-stays\r\n"
        "\r\n"
        "[base]\r\n"
        "; the team's key\r\n"
        f"AWS_Access_Key_Id={BASE_KEY_ID}\r\n"
        "region = eu-west-1\r\n"
        f"aws_secret_access_key : {BASE_SECRET}\r\n"
        "\r\n"
        "[other]\r\n"
        "aws_access_key_id = AKIABBBBBBBBBBBBBBBB\r\n"
        "aws_secret_access_key = other-secret-stays\r\n"
    )
    credentials.write_bytes(original.encode())
    credentials.chmod(0o640)

    result = sandbox.credproc("keys", "add", "base", "--from-profile", "base", "--remove-from-file")

    assert result.returncode == 0, result.stderr
    assert stored(secret_service, "base") == Keys(BASE_KEY_ID, BASE_SECRET)
    expected = original.replace(f"AWS_Access_Key_Id={BASE_KEY_ID}\r\n", "").replace(
        f"aws_secret_access_key : {BASE_SECRET}\r\n", ""
    )
    assert credentials.read_bytes() == expected.encode()
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o640
    [backup] = credentials.parent.glob("credentials.*.bak")
    assert backup.read_bytes() == original.encode()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and str(backup) in lines[0] and "still holds the secret" in lines[0]
    # The secret is in the keyring, and on disk only in the backup the message named.
    assert files_holding(sandbox.home, BASE_SECRET) == [backup]

    # The profile now has no keys: importing it again says so.
    again = sandbox.credproc("keys", "add", "other", "--from-profile", "base")
    assert_fails(again, 3, "[base]", "has no aws_access_key_id")


def test_a_file_that_cannot_be_edited_safely_is_left_as_it_was(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    # [DEFAULT]'s keys are every section's: without its own lines, [base] would inherit them.
    credentials = sandbox.home / ".aws" / "credentials"
    credentials.write_text(
        "[DEFAULT]\naws_access_key_id = AKIAAAAAAAAAAAAAAAAA\naws_secret_access_key = shared\n"
        f"[base]\naws_access_key_id = {BASE_KEY_ID}\naws_secret_access_key = {BASE_SECRET}\n"
    )
    before = credentials.read_bytes()

    result = sandbox.credproc("keys", "add", "base", "--from-profile", "base", "--remove-from-file")

    assert_fails(result, 3, "stored 'base' in the OS keyring, but left the credentials file")
    assert stored(secret_service, "base") == Keys(BASE_KEY_ID, BASE_SECRET)
    assert credentials.read_bytes() == before
    assert sorted(p.name for p in credentials.parent.iterdir()) == ["config", "credentials"]


def test_remove_from_file_writes_through_a_symlinked_file(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    dotfiles = sandbox.home / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "credentials"
    target.write_text(
        f"[base]\naws_access_key_id = {BASE_KEY_ID}\naws_secret_access_key = {BASE_SECRET}\n"
    )
    link = sandbox.home / ".aws" / "credentials"
    link.symlink_to(target)

    result = sandbox.credproc("keys", "add", "base", "--from-profile", "base", "--remove-from-file")

    assert result.returncode == 0, result.stderr
    assert link.is_symlink()
    assert target.read_text() == "[base]\n"
    assert [p.name for p in dotfiles.glob("*.bak")] != []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--remove-from-file"], ["--remove-from-file needs --from-profile"]),
        (["--from-env", "--from-profile", "base"], ["not allowed with argument"]),
    ],
)
def test_add_refuses_contradicting_flags(
    sandbox: Sandbox, secret_service: SecretService, args: list[str], words: list[str]
) -> None:
    result = sandbox.credproc("keys", "add", "dev", *args, env=Keys(BASE_KEY_ID, BASE_SECRET).env)

    assert_fails(result, 2, *words)
    assert secret_service.names() == []


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"AWS_ACCESS_KEY_ID": "ASIAIOSFODNN7EXAMPLE"}, ["ASIA", "temporary"]),
        ({"AWS_ACCESS_KEY_ID": "AKIA-short"}, ["AKIA and 16 more", "10 characters"]),
        ({"AWS_SECRET_ACCESS_KEY": "tooShortSecret"}, ["40 letters", "14 characters"]),
        ({"AWS_SESSION_TOKEN": "FwoGZXIvYXdzE"}, ["AWS_SESSION_TOKEN is set", "temporary"]),
        ({"AWS_SECRET_ACCESS_KEY": ""}, ["AWS_SECRET_ACCESS_KEY not set"]),
    ],
)
def test_add_checks_the_format_before_calling_sts(
    sandbox: Sandbox, secret_service: SecretService, env: dict[str, str], words: list[str]
) -> None:
    given = {**Keys(BASE_KEY_ID, BASE_SECRET).env, **env}
    result = sandbox.credproc("keys", "add", "dev", "--from-env", env=given)

    line = assert_fails(result, 2, *words)
    assert given["AWS_SECRET_ACCESS_KEY"] not in line or not given["AWS_SECRET_ACCESS_KEY"]
    assert sandbox.server.calls() == 0
    assert secret_service.names() == []


def test_keys_sts_refuses_are_not_stored(sandbox: Sandbox, secret_service: SecretService) -> None:
    sandbox.server.fault("GetCallerIdentity", status=403, code="InvalidClientTokenId")

    result = add(sandbox, "dev", Keys(BASE_KEY_ID, BASE_SECRET))

    line = assert_fails(result, 4, "InvalidClientTokenId", "nothing was stored")
    assert BASE_SECRET not in line
    assert secret_service.names() == []
    assert not (sandbox.home / ".config" / "credproc" / "keys.json").exists()


def test_no_verify_stores_without_asking_sts(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    result = add(sandbox, "dev", Keys(BASE_KEY_ID, BASE_SECRET), "--no-verify")

    assert result.returncode == 0, result.stderr
    assert "(not verified)" in result.stdout
    assert sandbox.server.calls() == 0
    assert "user_arn" not in _index(sandbox)["dev"]
    listed = json.loads(sandbox.credproc("keys", "list", "--json").stdout)
    assert listed[0]["user_arn"] == "-"


def test_an_existing_name_is_replaced_only_with_force(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    first, second = new_user(sandbox.server, "alice"), new_user(sandbox.server, "bob")
    assert add(sandbox, "dev", first).returncode == 0

    refused = sandbox.credproc("keys", "add", "dev")  # refused before any prompt
    assert_fails(refused, 3, "'dev' already exist", "--force")
    assert_fails(add(sandbox, "dev", second), 3, "--force")
    assert stored(secret_service, "dev") == first

    forced = add(sandbox, "dev", second, "--force")
    assert forced.returncode == 0, forced.stderr
    assert stored(secret_service, "dev") == second
    assert _index(sandbox)["dev"]["user_arn"] == user_arn("bob")


def test_a_name_only_in_the_keyring_is_not_overwritten(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    secret_service.store("dev", "put there by another program")

    result = add(sandbox, "dev", Keys(BASE_KEY_ID, BASE_SECRET))

    assert_fails(result, 3, "already exist")
    assert secret_service.secret("dev") == "put there by another program"


def test_list_shows_masked_key_ids_and_never_a_secret(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    alice, bob = new_user(sandbox.server, "alice"), new_user(sandbox.server, "bob")
    assert sandbox.credproc("keys", "list").stdout.startswith("no source keys")
    add(sandbox, "work", alice)
    add(sandbox, "home", bob, "--no-verify")
    secret_service.lock()  # list reads the index alone: no unlock needed

    table = sandbox.credproc("keys", "list")
    listed = json.loads(sandbox.credproc("keys", "list", "--json").stdout)

    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["NAME", "KEY", "ID", "USER", "ARN", "ADDED", "ROTATED"]
    assert [row.split()[:3] for row in rows] == [
        ["home", f"{bob.key_id[:4]}...{bob.key_id[-4:]}", "-"],
        ["work", f"{alice.key_id[:4]}...{alice.key_id[-4:]}", user_arn("alice")],
    ]
    assert [(row["name"], row["key_id"]) for row in listed] == [
        ("home", f"{bob.key_id[:4]}...{bob.key_id[-4:]}"),
        ("work", f"{alice.key_id[:4]}...{alice.key_id[-4:]}"),
    ]
    for output in (table.stdout, json.dumps(listed)):
        for keys in (alice, bob):
            assert keys.key_id not in output
            assert keys.secret not in output


def test_remove_deletes_from_the_keyring_and_the_index(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    keys = new_user(sandbox.server)
    add(sandbox, "dev", keys)
    add(sandbox, "other", keys, "--no-verify")

    result = sandbox.credproc("keys", "remove", "dev")

    assert result.returncode == 0, result.stderr
    assert "removed 'dev'" in result.stdout and "still exists in IAM" in result.stdout
    assert secret_service.names() == ["other"]
    assert list(_index(sandbox)) == ["other"]
    assert_fails(sandbox.credproc("keys", "remove", "dev"), 3, "no source keys named 'dev'")


@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "../up", "k\n"])
def test_a_bad_name_is_a_usage_error(
    sandbox: Sandbox, secret_service: SecretService, name: str
) -> None:
    for argv in (["add", name, "--from-env"], ["remove", name], ["rotate", name]):
        result = sandbox.credproc("keys", *argv, env=Keys(BASE_KEY_ID, BASE_SECRET).env)
        assert_fails(result, 2, "NAME")
    assert secret_service.names() == []
    assert sandbox.server.calls() == 0


def test_keys_files_are_private_even_with_a_loose_umask(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    keys = new_user(sandbox.server)
    result = sandbox.run(
        ["sh", "-c", f'umask 000 && exec "{BIN / "credproc"}" keys add dev --from-env'],
        env=keys.env,
    )

    assert result.returncode == 0, result.stderr
    config = sandbox.home / ".config" / "credproc"
    for path in (config, *config.iterdir()):
        assert stat.S_IMODE(os.lstat(path).st_mode) & 0o077 == 0, path
