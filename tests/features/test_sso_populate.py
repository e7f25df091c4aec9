"""``credproc sso populate`` and ``credproc sso logout`` against the SSO stand-in
(tests/support/ssoserver.py) and moto's STS, with the real aws CLI and boto3.

The session is signed in for real (``credproc sso login --use-device-code``, approved at the
stand-in). Every call is counted where it lands: the portal's listings, GetRoleCredentials and
Logout at the stand-in, the identity calls at moto (with the key that signed them)."""

from __future__ import annotations

import json
import sys

import pytest
from support.assertions import assert_fails
from support.constants import BIN
from support.sandbox import Result, Sandbox
from support.sso import PROFILES, device_login
from support.ssoserver import Account, SsoStandIn

from credproc.core.hit import BANNED_ON_HIT, FENCE

pytestmark = pytest.mark.integration

# The user's own config beside the block: it must stay byte for byte.
MINE = "# my own settings\n[profile mine]\nregion = us-east-2 ; a comment\noutput = json\n"
USERS = {"base", "mine", *PROFILES}


@pytest.fixture
def corp(sandbox: Sandbox, sso: SsoStandIn) -> Sandbox:
    """The sandbox signed in to sso-session corp (a device code, approved at the stand-in),
    whose portal lists its accounts and roles over several pages."""
    sso.page_size = 2
    sso.accounts = [
        Account("111111111111", "Sandbox", ["Developer", "ReadOnly", "Admin"]),
        Account("222222222222", "Production", ["ReadOnly"]),
        Account("333333333333", "Sandbox", ["Developer"]),  # a second account of that name
    ]
    with sandbox.config.open("a") as file:
        file.write("\n" + MINE)
    device_login(sandbox, sso)
    return sandbox


def populate(sandbox: Sandbox, *extra: str) -> Result:
    return sandbox.credproc("sso", "populate", "--sso-session", "corp", *extra)


def generated(sandbox: Sandbox) -> set[str]:
    """The profiles botocore finds in the config, in a process of its own (the user's aside)."""
    script = "import botocore.session as s; print(*s.Session().available_profiles)"
    listed = sandbox.run([sys.executable, "-c", script])
    assert listed.returncode == 0, listed.stderr
    return set(listed.stdout.split()) - USERS


def test_every_assignment_across_pages_becomes_a_profile(corp: Sandbox, sso: SsoStandIn) -> None:
    before = corp.config.read_text()

    result = populate(corp)

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "5 profiles for sso-session corp" in result.stderr
    assert "5 added" in result.stderr
    assert generated(corp) == {
        "Sandbox.Developer-111111111111",
        "Sandbox.ReadOnly",
        "Sandbox.Admin",
        "Production.ReadOnly",
        "Sandbox.Developer-333333333333",
    }
    text = corp.config.read_text()
    assert text.startswith(before)  # the user's config, byte for byte, then the block
    assert text[len(before) :].startswith("\n# BEGIN credproc sso populate, sso-session corp")
    # 3 accounts at 2 a page; 3 + 1 + 1 roles at 2 a page
    assert sso.count("ListAccounts") == 2
    assert sso.count("ListAccountRoles") == 4


def test_the_config_keeps_its_mode_and_a_backup_is_made(corp: Sandbox) -> None:
    corp.config.chmod(0o640)
    result = populate(corp)
    assert result.returncode == 0, result.stderr
    assert corp.config.stat().st_mode & 0o777 == 0o640
    [backup] = corp.config.parent.glob("config.*.bak")
    assert corp.config.read_text().startswith(backup.read_text())  # what was there, then the block
    assert backup.stat().st_mode & 0o777 == 0o600


def test_generated_profiles_go_through_credprocs_cache_for_aws_and_boto3(
    corp: Sandbox, sso: SsoStandIn
) -> None:
    populate(corp)
    profile = "Sandbox.Developer-333333333333"

    by_aws = [
        corp.run([str(BIN / "aws"), "--profile", profile, "sts", "get-caller-identity"])
        for _ in range(2)
    ]
    script = (
        "import boto3, sys; "
        "print(boto3.Session(profile_name=sys.argv[1]).client('sts').get_caller_identity()['Arn'])"
    )
    by_boto3 = corp.run([sys.executable, "-c", script, profile])

    for result in (*by_aws, by_boto3):
        assert result.returncode == 0, result.stderr
    signers = set(corp.server.signers("GetCallerIdentity"))
    assert len(signers) == 1  # one key for all three processes: credproc's cached one
    [key] = signers
    assert sso.issued_keys[key]["account_id"] == "333333333333"
    assert sso.issued_keys[key]["role_name"] == "Developer"
    assert sso.count("GetRoleCredentials") == 1


def test_a_rerun_removes_what_is_gone_and_keeps_the_users_profiles(
    corp: Sandbox, sso: SsoStandIn
) -> None:
    populate(corp)
    corp.config.write_text(corp.config.read_text() + "\n[profile after]\nregion = eu-north-1\n")
    first = corp.config.read_text()
    sso.accounts[0].roles.remove("Admin")
    sso.accounts.append(Account("444444444444", "Lab", ["Developer"]))

    result = populate(corp)

    assert result.returncode == 0, result.stderr
    assert "1 added, 0 updated, 1 removed, 4 unchanged" in result.stderr
    assert generated(corp) == {
        "Sandbox.Developer-111111111111",
        "Sandbox.ReadOnly",
        "Production.ReadOnly",
        "Sandbox.Developer-333333333333",
        "Lab.Developer",
        "after",
    }
    text = corp.config.read_text()
    head = first[: first.index("# BEGIN")]
    tail = first[first.index("# END") :].split("\n", 1)[1]
    assert text.startswith(head) and text.endswith(tail)
    assert tail == "\n[profile after]\nregion = eu-north-1\n"

    again = populate(corp)
    assert "0 added, 0 updated, 0 removed, 5 unchanged" in again.stderr
    assert corp.config.read_text() == text
    assert len(list(corp.config.parent.glob("config.*.bak"))) == 2  # no write, no backup


def test_no_prune_keeps_profiles_of_assignments_that_are_gone(
    corp: Sandbox, sso: SsoStandIn
) -> None:
    populate(corp)
    sso.accounts[0].roles.remove("Admin")

    result = populate(corp, "--no-prune")

    assert result.returncode == 0, result.stderr
    assert "0 removed" in result.stderr
    assert "Sandbox.Admin" in generated(corp)


def test_dry_run_prints_a_diff_and_writes_nothing(corp: Sandbox) -> None:
    before = corp.config.read_text()

    result = populate(corp, "--dry-run", "--template", "{sso_session}-{account_id}-{role_name}")

    assert result.returncode == 0, result.stderr
    assert corp.config.read_text() == before
    lines = result.stdout.splitlines()
    assert lines[0].startswith("--- ") and lines[1].startswith("+++ ")
    assert "+[profile corp-222222222222-ReadOnly]" in lines
    assert not [line for line in lines[2:] if line.startswith("-") and not line.startswith("---")]


def test_a_profile_of_the_users_is_never_shadowed(corp: Sandbox) -> None:
    corp.write_config(corp.config.read_text() + "\n[profile Sandbox.ReadOnly]\nregion = x\n")
    before = corp.config.read_text()

    result = populate(corp)

    assert result.returncode == 0
    [warning] = result.stderr.splitlines()[:-1]
    assert warning.startswith("credproc: WARNING: not generating profile Sandbox.ReadOnly")
    assert corp.config.read_text().startswith(before)
    assert corp.config.read_text().count("[profile Sandbox.ReadOnly]") == 1


def test_bad_input_fails_before_any_portal_call(corp: Sandbox, sso: SsoStandIn) -> None:
    sso.reset()
    assert_fails(populate(corp, "--template", "{account}"), 2, "--template")
    assert_fails(populate(corp, "--region", "moon"), 2, "--region")
    missing = corp.credproc("sso", "populate", "--sso-session", "nope")
    assert_fails(missing, 3, "[sso-session nope]")
    assert_fails(corp.credproc("sso", "populate"), 2)
    assert sso.count("ListAccounts") == 0


def test_the_portal_down_is_an_outage_and_the_config_is_untouched(
    corp: Sandbox, sso: SsoStandIn
) -> None:
    before = corp.config.read_text()
    sso.fault("ListAccountRoles", status=503, code="InternalServerException")

    assert_fails(populate(corp), 5, "ListAccountRoles")
    assert corp.config.read_text() == before


def test_logout_ends_the_session_at_the_portal_and_here(corp: Sandbox, sso: SsoStandIn) -> None:
    populate(corp)
    role = corp.credproc("--profile", "Production.ReadOnly")
    assert role.returncode == 0, role.stderr
    token_dir = corp.home / ".aws" / "sso" / "cache"
    assert list(token_dir.glob("*.json"))

    result = corp.credproc("sso", "logout", "--profile", "Production.ReadOnly")

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "the IAM Identity Center portal ended the session (Logout)" in result.stderr
    assert "removed 1 token file, 1 cached role credential of credproc's" in result.stderr
    assert sso.count("Logout") == 1
    assert sso.access_tokens == {}  # the portal no longer takes it
    assert not [p for p in token_dir.glob("*.json") if "refreshToken" in p.read_text()]
    listed = corp.credproc("cache", "list", "--json").json_list()
    assert [(row["role"], row["state"]) for row in listed] == [("SSO session corp", "signed out")]
    after = corp.credproc("--profile", "Production.ReadOnly", "--sso-login", "never")
    assert_fails(after, 4, "credproc sso login --profile Production.ReadOnly")


def test_logout_with_the_portal_down_still_signs_out_here(corp: Sandbox, sso: SsoStandIn) -> None:
    sso.fault("Logout", reset=True)

    result = corp.credproc("sso", "logout", "--sso-session", "corp")

    assert_fails(result, 5, "signed out of SSO session 'corp' here", "stays valid at AWS until")
    token_dir = corp.home / ".aws" / "sso" / "cache"
    assert not [p for p in token_dir.glob("*.json") if "accessToken" in p.read_text()]


def test_the_cache_list_and_flags_name_the_same_role(corp: Sandbox, sso: SsoStandIn) -> None:
    """--sso-session, --sso-account-id and --sso-role-name (and the Python API's keywords)
    name the role a generated profile names: one cache entry, one GetRoleCredentials."""
    populate(corp)
    by_profile = corp.credproc("--profile", "Production.ReadOnly").json()
    flags = ["--sso-session", "corp", "--sso-account-id", "222222222222"]
    by_flags = corp.credproc(*flags, "--sso-role-name", "ReadOnly").json()

    script = (
        "import credproc; print(credproc.get_credentials(sso_session='corp', "
        "sso_account_id='222222222222', sso_role_name='ReadOnly').access_key_id)"
    )
    by_api = corp.run([sys.executable, "-c", script])

    assert by_flags == by_profile
    assert by_api.stdout.strip() == by_flags["AccessKeyId"], by_api.stderr
    assert sso.count("GetRoleCredentials") == 1
    assert_fails(corp.credproc(*flags), 2, "missing --sso-role-name")
    assert_fails(
        corp.credproc(*flags, "--sso-role-name", "ReadOnly", "--profile", "mine"), 2, "--profile"
    )
    listed = json.dumps(corp.credproc("cache", "list", "--json").json_list())
    assert by_flags["SecretAccessKey"] not in listed
    cleared = corp.credproc("cache", "clear", *flags, "--sso-role-name", "ReadOnly")
    assert cleared.stdout == "removed 1 cached token\n", cleared.stderr


@pytest.mark.parametrize("form", ["profile", "flags"])
def test_a_hit_for_a_generated_profile_imports_nothing_banned(
    corp: Sandbox, sso: SsoStandIn, form: str
) -> None:
    populate(corp)
    argv = [sys.executable, "-X", "importtime", "-m", "credproc"]
    if form == "profile":
        argv += ["--profile", "Production.ReadOnly"]
    else:
        argv += ["--sso-session", "corp", "--sso-account-id", "222222222222"]
        argv += ["--sso-role-name", "ReadOnly"]
    cold, hit = corp.run(argv), corp.run(argv)

    assert cold.returncode == 0 and hit.returncode == 0, cold.stderr + hit.stderr
    assert sso.count("GetRoleCredentials") == 1  # the second run was a hit
    loaded = {
        line.rsplit("|", 1)[1].strip()
        for line in hit.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "credproc.core.hit" in loaded  # served through the fence
    assert {m for m in loaded if m.split(".")[0] == "credproc"} <= set(FENCE)
    # runpy (for -m) imports collections and functools: neither is banned, nothing to allow.
    assert sorted(m for m in loaded if m.split(".")[0] in BANNED_ON_HIT) == []


def test_doctor_passes_a_generated_profile(corp: Sandbox, sso: SsoStandIn) -> None:
    populate(corp)

    result = corp.credproc("doctor", "Production.ReadOnly")

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split(None, 1) == [
        "ok",
        "profile: 'Production.ReadOnly' gets its credentials from credential_process",
    ]
    assert not [line for line in lines if not line.startswith("ok ")]
    assert any(line.startswith("ok    sso portal:") for line in lines)


def test_an_account_name_with_no_ascii_form_keeps_the_account_id(
    sandbox: Sandbox, sso: SsoStandIn
) -> None:
    sso.accounts = [
        Account("444444444444", "日本 アカウント", ["PowerUser"]),
        Account("555555555555", "Ünïcode 開発", ["PowerUser"]),
        Account("666666666666", "Café", ["PowerUser"]),
    ]
    device_login(sandbox, sso)

    result = populate(sandbox)

    assert result.returncode == 0, result.stderr
    assert generated(sandbox) == {
        "444444444444.PowerUser",  # nothing of the name survives: the id in its place
        "Unicode-555555555555.PowerUser",  # what survives, and the id
        "Cafe.PowerUser",  # accents only: the name is whole
    }


def test_only_the_newest_backups_are_kept_and_said_where(corp: Sandbox, sso: SsoStandIn) -> None:
    folder = corp.config.parent
    for second in range(6):
        old = folder / f"config.20200101T00000{second}Z.bak"
        old.write_text("old\n")
        old.chmod(0o600)
    mine = folder / "config.notes.bak"  # not a backup credproc made: never touched
    mine.write_text("mine\n")

    result = populate(corp)

    assert result.returncode == 0, result.stderr
    kept = sorted(p.name for p in folder.glob("config.*.bak"))
    assert len(kept) == 6 and "config.notes.bak" in kept
    assert "config.20200101T000000Z.bak" not in kept  # the oldest went
    assert "config.20200101T000001Z.bak" not in kept
    assert f"the newest 5 backups are kept in {folder}" in result.stderr


def test_check_exit_status_says_whether_changes_are_pending(corp: Sandbox, sso: SsoStandIn) -> None:
    before = corp.config.read_text()
    pending = populate(corp, "--check")
    assert pending.returncode == 9, pending.stderr
    assert pending.stdout.startswith("---")  # the diff, as --dry-run prints it
    assert corp.config.read_text() == before  # nothing written
    assert populate(corp, "--dry-run").returncode == 0  # a preview stays a success

    assert populate(corp).returncode == 0
    settled = populate(corp, "--check")
    assert settled.returncode == 0 and settled.stdout == ""
    assert "needs no change" in settled.stderr
