"""`credproc cache list` and `credproc cache clear`: who and when, never a secret; clear one
role's token or all of them."""

from __future__ import annotations

import json

import pytest
from support import entries
from support.constants import OTHER_ROLE, ROLE
from support.sandbox import Sandbox

from credproc.core.hit import ENTRY_MAGIC, INDEX_SUFFIX


def test_cache_list_shows_who_and_when_but_no_secret(sandbox: Sandbox) -> None:
    assert sandbox.main("cache", "list").stdout == "no cached tokens\n"
    first = sandbox.main(*sandbox.role_args(ROLE, "--role-session-name", "alice")).json()
    second = sandbox.main(*sandbox.role_args(OTHER_ROLE)).json()

    table = sandbox.main("cache", "list")
    listed = sandbox.main("cache", "list", "--json")

    assert table.returncode == 0
    assert listed.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ROLE", "SOURCE", "SESSION", "NAME", "EXPIRES", "LEFT", "STATE"]
    assert len(lines) == 3
    rows = json.loads(listed.stdout)
    assert {(row["role"], row["source"], row["state"]) for row in rows} == {
        (ROLE, "base", "fresh"),
        (OTHER_ROLE, "base", "fresh"),
    }
    assert "alice" in {row["session_name"] for row in rows}
    for document in (first, second):
        for field in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
            assert str(document[field]) not in table.stdout + listed.stdout


def test_cache_clear_of_one_role_forces_one_new_sts_call(sandbox: Sandbox) -> None:
    before = sandbox.main(*sandbox.role_args()).json()
    sandbox.main(*sandbox.role_args(OTHER_ROLE))

    cleared = sandbox.main("cache", "clear", *sandbox.role_args())
    after = sandbox.main(*sandbox.role_args()).json()
    other = sandbox.main(*sandbox.role_args(OTHER_ROLE))

    assert cleared.stdout == "removed 1 cached token\n"
    assert after["AccessKeyId"] != before["AccessKeyId"]
    assert other.returncode == 0
    assert sandbox.server.calls("AssumeRole") == 3  # dev, other, dev again; other was kept


def test_cache_clear_all(sandbox: Sandbox) -> None:
    sandbox.main(*sandbox.role_args())
    sandbox.main(*sandbox.role_args(OTHER_ROLE))

    cleared = sandbox.main("cache", "clear", "--all")
    listed = json.loads(sandbox.main("cache", "list", "--json").stdout)
    sandbox.main(*sandbox.role_args())
    sandbox.main(*sandbox.role_args(OTHER_ROLE))

    assert cleared.stdout == "removed 2 cached tokens\n"
    assert listed == []
    assert sandbox.server.calls("AssumeRole") == 4


@pytest.mark.parametrize(
    "args",
    [["clear"], ["clear", "--all", "--role-arn", ROLE], ["clear", "--all", "--profile", "base"]],
)
def test_cache_clear_needs_exactly_one_target(sandbox: Sandbox, args: list[str]) -> None:
    sandbox.main(*sandbox.role_args())
    result = sandbox.main("cache", *args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("credproc: error: cache clear")
    assert len(list(sandbox.cache_dir.glob("*.json"))) == 1


@pytest.mark.integration  # the hit runs in a process of its own
def test_an_entry_of_the_previous_format_is_served_and_listed(sandbox: Sandbox) -> None:
    """credproc 0.1 wrote the JSON document alone (format 1): read, never an error; the hit
    cannot read it, so the full path serves it, and its next refresh writes format 2."""
    served = sandbox.credproc(*sandbox.role_args())
    (path,) = sandbox.cache_dir.glob("*.json")
    path.write_bytes(entries.old_format(entries.document(path)))
    for record in sandbox.cache_dir.glob(f"*{INDEX_SUFFIX}"):
        record.unlink()  # nothing recorded: the index is new in format 2 as well

    again = sandbox.credproc(*sandbox.role_args())
    listed = json.loads(sandbox.credproc("cache", "list", "--json").stdout)

    assert again.returncode == 0 and again.stderr == ""
    assert again.stdout == served.stdout
    assert sandbox.server.calls("AssumeRole") == 1
    assert [row["role"] for row in listed] == [ROLE]
    assert path.read_bytes().startswith(b"{")  # served as it is, not rewritten
    sandbox.expire_entries(seconds_left=600)  # due: the refresh writes the new format
    assert sandbox.credproc(*sandbox.role_args()).returncode == 0
    assert sandbox.server.calls("AssumeRole") == 2
    assert path.read_bytes().startswith(ENTRY_MAGIC.encode())
