"""The index of resolved requests (credproc.core.index) lets a hit skip resolution: it must
never answer for a request that would now resolve differently. Each change below comes between
two runs, and the next run is checked by what it does: the role it used, the error it gave."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.assertions import assert_fails
from support.constants import BASE_SECRET, ROLE
from support.hostile import mode
from support.sandbox import Result, Sandbox

from credproc.core.hit import INDEX_SUFFIX

pytestmark = pytest.mark.integration

NEW_ROLE = ROLE[:-1] + "X"  # the same length: an edit that keeps the config's size
PROFILE = ["--profile", "dev-role"]


def _role_of(sandbox: Sandbox, result: Result) -> str:
    """The role the server issued this run's token for."""
    assert result.returncode == 0, result.stderr
    role: str = sandbox.server.issued()[result.json()["AccessKeyId"]]["role_arn"]
    return role


def _indexed(sandbox: Sandbox) -> Sandbox:
    """A profile, one run that resolved it and recorded it, one run served by the hit."""
    sandbox.add_profile("dev-role", role_arn=ROLE, source_profile="base")
    sandbox.settle()
    first = sandbox.credproc(*PROFILE)
    assert len(list(sandbox.cache_dir.glob(f"*{INDEX_SUFFIX}"))) == 1  # recorded
    second = sandbox.credproc(*PROFILE)
    assert second.stdout == first.stdout
    assert sandbox.server.calls("AssumeRole") == 1
    return sandbox


def test_an_edit_in_place_at_the_same_size_and_mtime_is_seen(sandbox: Sandbox) -> None:
    config = _indexed(sandbox).config
    before = config.stat()
    config.write_text(config.read_text().replace(ROLE, NEW_ROLE))
    # The same inode, size and mtime as the version the index recorded: only ctime differs.
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = config.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )

    assert _role_of(sandbox, sandbox.credproc(*PROFILE)) == NEW_ROLE


def test_a_removed_config_is_seen(sandbox: Sandbox) -> None:
    _indexed(sandbox).config.unlink()

    assert_fails(sandbox.credproc(*PROFILE), 3, "profile 'dev-role' is not in")


def test_a_config_replaced_by_a_symlink_is_seen(sandbox: Sandbox, tmp_path: Path) -> None:
    config = _indexed(sandbox).config
    elsewhere = tmp_path / "config-elsewhere"
    elsewhere.write_text(config.read_text().replace(ROLE, NEW_ROLE))
    config.unlink()
    config.symlink_to(elsewhere)

    assert _role_of(sandbox, sandbox.credproc(*PROFILE)) == NEW_ROLE


def test_a_variable_that_resolution_read_is_seen(sandbox: Sandbox) -> None:
    """AWS_ENDPOINT_URL_STS is part of the request's identity: set, it makes another entry."""
    _indexed(sandbox)

    moved = sandbox.credproc(*PROFILE, env={"AWS_ENDPOINT_URL_STS": sandbox.server.url + "/"})

    assert _role_of(sandbox, moved) == ROLE
    assert sandbox.server.calls("AssumeRole") == 2
    assert len(list(sandbox.cache_dir.glob("*.json"))) == 2


def test_the_index_is_private_and_holds_no_secret(sandbox: Sandbox) -> None:
    token = _indexed(sandbox).credproc(*PROFILE).json()

    (record,) = sandbox.cache_dir.glob(f"*{INDEX_SUFFIX}")
    assert mode(record) == 0o600
    text = record.read_bytes()
    assert b"dev-role" in text  # the command line it answers for
    for secret in (BASE_SECRET, token["SecretAccessKey"], token["SessionToken"]):
        assert secret.encode() not in text


def test_a_log_file_variable_makes_the_run_resolve_and_log(sandbox: Sandbox) -> None:
    """The CLI, not resolution, reads CREDPROC_LOG_FILE, and a hit would not log: a record
    holds it unset, so setting it is a miss that the full run logs."""
    log = sandbox.home / "credproc.log"
    _indexed(sandbox)

    logged = sandbox.credproc(*PROFILE, env={"CREDPROC_LOG_FILE": str(log)})

    assert logged.returncode == 0 and sandbox.server.calls("AssumeRole") == 1
    assert "cache hit" in log.read_text()
