"""`credproc keys rotate`: a new key in IAM (moto, on the test server), proven with STS, stored,
and the old one deleted; at each failure point the keyring holds a key that works, and the one
error line says what IAM and the keyring hold.

The server's fault injection plays IAM and STS refusing at each step; the server also says
which key signed each call.
"""

from __future__ import annotations

import json

import pytest
from support.assertions import assert_fails
from support.constants import ROLE
from support.sandbox import Sandbox
from support.secretservice import SecretService
from support.sourcekeys import Keys, add, files_holding, iam, key_ids, new_user, stored, user_arn

pytestmark = pytest.mark.integration


def _masked(key_id: str) -> str:
    return f"{key_id[:4]}...{key_id[-4:]}"


@pytest.fixture
def old(sandbox: Sandbox, secret_service: SecretService) -> Keys:
    """alice's one key, stored as 'dev'."""
    keys = new_user(sandbox.server)
    result = add(sandbox, "dev", keys)
    assert result.returncode == 0, result.stderr
    return keys


def _role(sandbox: Sandbox) -> dict[str, str]:
    result = sandbox.credproc("--role-arn", ROLE, "--source-keys", "dev")
    assert result.returncode == 0, result.stderr
    return result.json()


def test_rotate_replaces_the_key_in_iam_and_the_keyring(
    sandbox: Sandbox, secret_service: SecretService, old: Keys
) -> None:
    before = _role(sandbox)

    result = sandbox.credproc("keys", "rotate", "dev")

    assert result.returncode == 0, result.stderr
    new = stored(secret_service, "dev")
    assert new is not None and new.key_id != old.key_id
    assert key_ids(sandbox.server) == [new.key_id]  # the old key is gone from IAM
    assert result.stdout == (
        f"rotated 'dev': {_masked(old.key_id)} -> {_masked(new.key_id)} ({user_arn()}); "
        "the old key is deleted in IAM\n"
    )
    # Each step signed by the key it should be: the new key proven before the old one goes.
    assert sandbox.server.signers("CreateAccessKey")[-1] == old.key_id
    assert sandbox.server.signers("DeleteAccessKey") == [old.key_id]
    assert sandbox.server.signers("GetCallerIdentity")[-2:] == [old.key_id, new.key_id]
    [listed] = json.loads(sandbox.credproc("keys", "list", "--json").stdout)
    assert listed["key_id"] == _masked(new.key_id) and listed["rotated"] != "-"

    # The new key id is part of the cache key: the next run refreshes, signed by the new key.
    after = _role(sandbox)
    assert after != before
    assert sandbox.server.signers("AssumeRole") == [old.key_id, new.key_id]
    assert _role(sandbox) == after  # and is cached again
    assert sandbox.server.calls("AssumeRole") == 2
    assert files_holding(sandbox.home, new.secret) == []


def test_rotate_waits_for_iam_to_spread_the_new_key(
    sandbox: Sandbox, secret_service: SecretService, old: Keys
) -> None:
    # The first GetCallerIdentity (the stored key) passes; the new key is "unknown" twice.
    sandbox.server.fault(
        "GetCallerIdentity", status=403, code="InvalidClientTokenId", skip=1, times=2
    )

    result = sandbox.credproc("keys", "rotate", "dev")

    assert result.returncode == 0, result.stderr
    new = stored(secret_service, "dev")
    assert new is not None
    assert sandbox.server.signers("GetCallerIdentity")[-4:] == [old.key_id, *[new.key_id] * 3]
    assert key_ids(sandbox.server) == [new.key_id]


def test_a_user_at_the_two_key_limit_is_told_before_anything_changes(
    sandbox: Sandbox, secret_service: SecretService, old: Keys
) -> None:
    other = iam(sandbox.server).create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    created = sandbox.server.calls("CreateAccessKey")

    result = sandbox.credproc("keys", "rotate", "dev")

    line = assert_fails(result, 4, "already has 2 access keys", "nothing was changed")
    assert f"--user-name alice --access-key-id {other}" in line  # the one credproc does not hold
    assert sandbox.server.calls("CreateAccessKey") == created
    assert stored(secret_service, "dev") == old
    assert key_ids(sandbox.server) == sorted([old.key_id, other])


def test_create_refused_changes_nothing(
    sandbox: Sandbox, secret_service: SecretService, old: Keys
) -> None:
    sandbox.server.fault("CreateAccessKey", status=403, code="AccessDenied")

    result = sandbox.credproc("keys", "rotate", "dev")

    assert_fails(
        result, 4, "IAM denied CreateAccessKey", "nothing was changed",
        f"still holds {_masked(old.key_id)}",
    )  # fmt: skip
    assert stored(secret_service, "dev") == old
    assert key_ids(sandbox.server) == [old.key_id]


def test_a_new_key_sts_never_accepts_is_deleted_and_the_old_one_kept(
    sandbox: Sandbox, secret_service: SecretService, old: Keys
) -> None:
    sandbox.server.fault("GetCallerIdentity", status=403, code="InvalidClientTokenId", skip=1)

    result = sandbox.credproc("keys", "rotate", "dev", "--verify-timeout", "2")

    line = assert_fails(result, 4, "STS did not accept the new key", "within 2 s")
    assert "it was deleted in IAM again" in line
    assert f"the keyring still holds {_masked(old.key_id)}, which works" in line
    assert stored(secret_service, "dev") == old
    assert key_ids(sandbox.server) == [old.key_id]
    assert sandbox.server.calls("GetCallerIdentity") >= 3  # it did retry, within the bound
    sandbox.server.clear_faults()
    _role(sandbox)
    assert sandbox.server.signers("AssumeRole") == [old.key_id]


def test_when_the_old_key_cannot_be_deleted_the_keyring_holds_the_new_one(
    sandbox: Sandbox, secret_service: SecretService, old: Keys
) -> None:
    sandbox.server.fault("DeleteAccessKey", status=403, code="AccessDenied")

    result = sandbox.credproc("keys", "rotate", "dev")

    new = stored(secret_service, "dev")
    assert new is not None and new.key_id != old.key_id
    line = assert_fails(result, 4, f"holds the new key {_masked(new.key_id)}, which works")
    assert "IAM still has the old key" in line
    assert f"aws iam delete-access-key --user-name alice --access-key-id {old.key_id}" in line
    assert key_ids(sandbox.server) == sorted([old.key_id, new.key_id])
    # The index follows the keyring: the next run signs with the new key.
    _role(sandbox)
    assert sandbox.server.signers("AssumeRole") == [new.key_id]


def test_a_stored_key_sts_refuses_is_not_rotated(
    sandbox: Sandbox, secret_service: SecretService, old: Keys
) -> None:
    sandbox.server.fault("GetCallerIdentity", status=403, code="InvalidClientTokenId")

    result = sandbox.credproc("keys", "rotate", "dev")

    assert_fails(result, 4, "does not accept the source keys 'dev'", "nothing was changed")
    assert sandbox.server.calls("CreateAccessKey") == 1  # new_user's own, none by credproc
    assert stored(secret_service, "dev") == old


def test_rotate_an_unknown_name(sandbox: Sandbox, secret_service: SecretService) -> None:
    result = sandbox.credproc("keys", "rotate", "nope")

    assert_fails(result, 3, "no source keys named 'nope'", "credproc keys add nope")
    assert sandbox.server.calls() == 0


@pytest.mark.parametrize("value", ["0", "601", "soon"])
def test_a_bad_verify_timeout_is_a_usage_error(
    sandbox: Sandbox, secret_service: SecretService, value: str
) -> None:
    result = sandbox.credproc("keys", "rotate", "dev", "--verify-timeout", value)

    assert_fails(result, 2, "--verify-timeout")
    assert sandbox.server.calls() == 0
