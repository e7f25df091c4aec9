"""`--source-keys NAME`: keys from the OS keyring as the source, through the real aws CLI and
the Python API, with MFA, in the cache key, in `doctor`, `configure` and `cache list`.

A real Secret Service holds the keys; the server says which key signed each STS call.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import entries
from support.assertions import assert_fails
from support.constants import MFA_SERIAL, OTHER_ROLE, ROLE
from support.mfa import TokenCommand
from support.sandbox import Sandbox
from support.secretservice import SecretService
from support.sourcekeys import Keys, add, files_holding, new_user, user_arn

pytestmark = pytest.mark.integration


@pytest.fixture
def keys(sandbox: Sandbox, secret_service: SecretService) -> Keys:
    """alice's key, stored as 'dev'; the sandbox's base profile is not used."""
    stored = new_user(sandbox.server)
    result = add(sandbox, "dev", stored)
    assert result.returncode == 0, result.stderr
    return stored


def test_the_stored_keys_sign_and_the_token_is_cached(sandbox: Sandbox, keys: Keys) -> None:
    first = sandbox.credproc("--role-arn", ROLE, "--source-keys", "dev")
    hit = sandbox.credproc("--role-arn", ROLE, "--source-keys", "dev")

    assert first.returncode == 0, first.stderr
    assert (first.stderr, hit.stdout) == ("", first.stdout)
    assert sandbox.server.signers("AssumeRole") == [keys.key_id]
    [entry] = [entries.document(p) for p in sandbox.cache_dir.glob("*.json")]
    identity = entry["request"] if "request" in entry else entry["identity"]
    assert (identity["source_keys"], identity["source_key_id"]) == ("dev", keys.key_id)
    assert files_holding(sandbox.home, keys.secret) == []
    assert all(keys.secret not in p.read_text() for p in sandbox.cache_dir.glob("*"))


def test_the_aws_cli_through_a_profile_key(sandbox: Sandbox, keys: Keys) -> None:
    sandbox.add_profile("dev-role", role_arn=ROLE, credproc_source_keys="dev")
    sandbox.add_profile("dev", credential_process="credproc --profile dev-role", region="eu-west-1")

    for _ in range(2):
        result = sandbox.run(["aws", "--profile", "dev", "sts", "get-caller-identity"])
        assert result.returncode == 0, result.stderr
        assert ":assumed-role/dev/" in json.loads(result.stdout)["Arn"]

    assert sandbox.server.signers("AssumeRole") == [keys.key_id]


def test_the_python_api_takes_source_keys(sandbox: Sandbox, keys: Keys) -> None:
    code = (
        "import credproc; "
        f"print(credproc.get_credentials(role_arn={ROLE!r}, source_keys='dev').access_key_id)"
    )
    result = sandbox.run([sys.executable, "-c", code])

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ASIA")
    assert sandbox.server.signers("AssumeRole") == [keys.key_id]


def test_each_name_and_key_is_a_cache_key_of_its_own(
    sandbox: Sandbox, secret_service: SecretService, keys: Keys
) -> None:
    bob = new_user(sandbox.server, "bob")
    add(sandbox, "ops", bob)

    dev = sandbox.credproc("--role-arn", ROLE, "--source-keys", "dev")
    ops = sandbox.credproc("--role-arn", ROLE, "--source-keys", "ops")
    replaced = add(sandbox, "dev", bob, "--force")  # a new key under the same name
    again = sandbox.credproc("--role-arn", ROLE, "--source-keys", "dev")

    assert replaced.returncode == 0, replaced.stderr
    assert len({dev.stdout, ops.stdout, again.stdout}) == 3
    assert sandbox.server.signers("AssumeRole") == [keys.key_id, bob.key_id, bob.key_id]


def test_mfa_with_keyring_keys(sandbox: Sandbox, secret_service: SecretService, keys: Keys) -> None:
    token = TokenCommand(sandbox.home)
    mfa = ["--source-keys", "dev", "--mfa-serial", MFA_SERIAL, "--mfa-token-command", str(token)]

    # Temporary keys in the environment are no concern: they are not the source.
    temporary = {"AWS_ACCESS_KEY_ID": "ASIAIOSFODNN7EXAMPLE", "AWS_SESSION_TOKEN": "FwoGZXIvYXdz"}
    first = sandbox.credproc("--role-arn", ROLE, *mfa, env=temporary)
    secret_service.lock()  # the MFA session is cached: another role needs no keyring at all
    second = sandbox.credproc("--role-arn", OTHER_ROLE, *mfa)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert sandbox.server.signers("GetSessionToken") == [keys.key_id]
    # Both roles were assumed from the one MFA session (printed from the cache, without a role).
    session = sandbox.credproc(*mfa)
    assert session.returncode == 0, session.stderr
    assert sandbox.server.signers("AssumeRole") == [session.json()["AccessKeyId"]] * 2
    assert sandbox.server.calls("GetSessionToken") == 1
    assert token.runs() == 1


def test_source_keys_with_a_source_profile_is_a_usage_error(sandbox: Sandbox) -> None:
    sandbox.add_profile("dev-role", role_arn=ROLE, source_profile="base")

    direct = sandbox.credproc("--role-arn", ROLE, "--source-keys", "k", "--source-profile", "base")
    merged = sandbox.credproc("--profile", "dev-role", "--source-keys", "k")

    for result in (direct, merged):
        assert_fails(result, 2, "--source-keys and --source-profile")
    assert sandbox.server.calls() == 0


def test_a_missing_name_says_how_to_add_it(sandbox: Sandbox) -> None:
    result = sandbox.credproc("--role-arn", ROLE, "--source-keys", "nope")

    assert_fails(result, 3, "no source keys named 'nope'", "credproc keys add nope")
    assert sandbox.server.calls() == 0


def test_keys_gone_from_the_keyring_say_how_to_add_them(
    sandbox: Sandbox, secret_service: SecretService, keys: Keys
) -> None:
    with secret_service._collection() as collection:
        for item in collection.search_items({"service": "credproc", "username": "dev"}):
            item.delete()

    result = sandbox.credproc("--role-arn", ROLE, "--source-keys", "dev")

    assert_fails(result, 3, "holds no source keys named 'dev'", "credproc keys add dev")
    assert sandbox.server.calls("AssumeRole") == 0


def test_keys_sts_refuses_are_an_auth_error(sandbox: Sandbox, keys: Keys) -> None:
    sandbox.server.fault("AssumeRole", status=403, code="InvalidClientTokenId")

    result = sandbox.credproc("--role-arn", ROLE, "--source-keys", "dev")

    line = assert_fails(result, 4, "does not accept the source keys 'dev'", "keys add dev --force")
    assert keys.secret not in line and keys.key_id not in line


def test_a_key_changed_in_the_keyring_is_used_and_the_index_follows(
    sandbox: Sandbox, secret_service: SecretService, keys: Keys
) -> None:
    bob = new_user(sandbox.server, "bob")
    planted = {"AccessKeyId": bob.key_id, "SecretAccessKey": bob.secret}
    secret_service.store("dev", json.dumps(planted))  # another tool replaced the item

    result = sandbox.credproc("--role-arn", ROLE, "--source-keys", "dev")

    assert result.returncode == 0, result.stderr
    assert sandbox.server.signers("AssumeRole") == [bob.key_id]
    [listed] = json.loads(sandbox.credproc("keys", "list", "--json").stdout)
    assert listed["key_id"] == f"{bob.key_id[:4]}...{bob.key_id[-4:]}"
    assert listed["user_arn"] == "-"  # alice's ARN no longer applies
    again = sandbox.credproc("--role-arn", ROLE, "--source-keys", "dev")
    assert again.returncode == 0
    assert sandbox.server.signers("AssumeRole") == [bob.key_id, bob.key_id]  # the new key's own


def test_doctor_reports_the_keyring_and_the_name(sandbox: Sandbox, keys: Keys) -> None:
    result = sandbox.credproc("doctor", "--role-arn", ROLE, "--source-keys", "dev")

    assert result.returncode == 0, result.stdout
    lines = {line.split(":")[0][6:]: line for line in result.stdout.splitlines()}
    assert list(lines)[:4] == ["options", "keyring", "source", "role"]
    assert lines["keyring"].startswith("ok    keyring: SecretService Keyring")
    assert f"holds 'dev': {keys.key_id[:4]}...{keys.key_id[-4:]}" in lines["keyring"]
    assert user_arn() in lines["source"]
    assert keys.key_id not in result.stdout and keys.secret not in result.stdout


def test_doctor_fails_on_a_locked_keyring_and_skips_the_source(
    sandbox: Sandbox, secret_service: SecretService, keys: Keys
) -> None:
    secret_service.lock()

    result = sandbox.credproc("doctor", "--role-arn", ROLE, "--source-keys", "dev")

    assert result.returncode == 3
    names = [line.split(":")[0][6:] for line in result.stdout.splitlines()]
    assert names[:2] == ["options", "keyring"] and "source" not in names
    assert "FAIL  keyring: the OS keyring is locked" in result.stdout
    assert sandbox.server.calls("GetCallerIdentity") == 1  # keys add's own, none by doctor
    assert sandbox.server.calls("AssumeRole") == 0


def test_doctor_on_a_missing_name(sandbox: Sandbox, secret_service: SecretService) -> None:
    result = sandbox.credproc("doctor", "--role-arn", ROLE, "--source-keys", "nope")

    assert result.returncode == 3
    assert "FAIL  options: no source keys named 'nope'" in result.stdout


def test_configure_and_cache_list_name_the_keys(sandbox: Sandbox, keys: Keys) -> None:
    block = sandbox.credproc(
        "configure",
        "--name",
        "dev",
        "--role-arn",
        ROLE,
        "--source-keys",
        "dev",
        "--region",
        "eu-west-1",
    )
    sandbox.credproc("--role-arn", ROLE, "--source-keys", "dev")
    listing = sandbox.credproc("cache", "list", "--json")

    assert block.returncode == 0, block.stderr
    assert f"--role-arn {ROLE} --source-keys dev --region eu-west-1" in block.stdout
    [row] = json.loads(listing.stdout)
    assert row["source"] == "keys dev"
    # The line configure wrote works for a real client.
    sandbox.write_config(block.stdout)
    result = sandbox.run(["aws", "--profile", "dev", "sts", "get-caller-identity"])
    assert result.returncode == 0, result.stderr


def test_verbose_runs_show_no_secret(sandbox: Sandbox, keys: Keys) -> None:
    log = sandbox.home / "credproc.core.log"
    result = sandbox.credproc(
        "--role-arn", ROLE, "--source-keys", "dev", "--debug", "--log-file", str(log)
    )

    assert result.returncode == 0, result.stderr
    for text in (result.stderr, log.read_text()):
        assert keys.secret not in text
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    assert keys.secret not in ps.stdout
