"""The block ``sso populate`` owns in the AWS config: names from a template, made safe; only the
block rewritten; the user's profiles byte for byte; pruning; what botocore reads back."""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
import pytest

from credproc.config import populate, rewrite
from credproc.config.populate import (
    DEFAULT_TEMPLATE,
    Assignment,
    apply,
    check_template,
    find_block,
    name_profiles,
    render_block,
    safe_name,
)
from credproc.errors import ConfigError, UsageError

PROD = Assignment("111111111111", "Prod", "Admin", "prod@example.com")
PROD_RO = Assignment("111111111111", "Prod", "ReadOnly", "prod@example.com")
DEV = Assignment("222222222222", "Dev", "Admin", "dev@example.com")
USER = "[default]\nregion = eu-west-1\n\n[profile mine]\nrole_arn = arn:aws:iam::1:role/x\n"


def profiles(*assignments: Assignment, session: str = "corp") -> dict[str, dict[str, str]]:
    named, _ = name_profiles(assignments, DEFAULT_TEMPLATE, session, ())
    return {
        name: {"credential_process": f"credproc --sso-role-name {a.role_name}", "region": "x"}
        for name, a in named.items()
    }


@pytest.mark.parametrize(
    "template",
    ["{account_name}.{role_name}", "{sso_session}-{account_id}-{role_name}", "x{email}"],
)
def test_templates_of_the_fields_are_accepted(template: str) -> None:
    check_template(template)


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{account}", "{account} is not one of"),
        ("{role_name!r}", "{role_name} is not one of"),
        ("{role_name:>20}", "{role_name} is not one of"),
        ("{account_name.__class__}", "is not one of"),
        ("{account_name", "unmatched brace"),
        ("static", "uses no field"),
    ],
)
def test_bad_templates_are_usage_errors(template: str, words: str) -> None:
    with pytest.raises(UsageError, match="--template") as error:
        check_template(template)
    assert words in str(error.value)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Prod.Admin", "Prod.Admin"),
        ("My Big Account.Admin", "My-Big-Account.Admin"),
        ("Café [EU].Admin", "Cafe-EU.Admin"),
        ("-leading.", "leading"),
        ("a" * 200, "a" * 128),
        ("q\"u'o;t#e", "q-u-o-t-e"),
    ],
)
def test_names_are_made_safe_for_a_profile_header(text: str, name: str) -> None:
    assert safe_name(text) == name


def test_accounts_with_one_name_are_told_apart_by_their_id() -> None:
    twin = Assignment("333333333333", "Prod", "Admin")
    named, skipped = name_profiles([PROD, twin, DEV], DEFAULT_TEMPLATE, "corp", ())
    assert sorted(named) == ["Dev.Admin", "Prod.Admin-111111111111", "Prod.Admin-333333333333"]
    assert skipped == []


def test_a_template_that_cannot_tell_roles_apart_is_refused() -> None:
    with pytest.raises(UsageError, match=re.escape("add {role_name}")):
        name_profiles([PROD, PROD_RO], "{account_name}", "corp", ())


def test_a_name_the_user_has_is_skipped_not_shadowed() -> None:
    named, skipped = name_profiles([PROD, DEV], DEFAULT_TEMPLATE, "corp", ["Dev.Admin"])
    assert list(named) == ["Prod.Admin"]
    assert skipped == [("Dev.Admin", DEV)]


def test_the_block_is_appended_after_the_users_profiles_byte_for_byte() -> None:
    change = apply(USER, "corp", profiles(PROD, DEV), "config")
    assert change.text.startswith(USER + "\n# BEGIN credproc sso populate, sso-session corp")
    assert change.added == ["Dev.Admin", "Prod.Admin"]
    assert change.text.endswith("# END credproc sso populate, sso-session corp\n")


def test_a_rerun_changes_nothing_and_a_removed_assignment_is_pruned() -> None:
    tail = "\n[profile after]\nregion = us-east-1\n"
    first = apply(USER, "corp", profiles(PROD, PROD_RO, DEV), "config").text + tail

    again = apply(first, "corp", profiles(PROD, PROD_RO, DEV), "config")
    assert again.text == first
    assert again.added == again.removed == again.updated == []

    pruned = apply(first, "corp", profiles(PROD, DEV), "config")
    assert pruned.removed == ["Prod.ReadOnly"]
    assert "[profile Prod.ReadOnly]" not in pruned.text
    assert pruned.text.startswith(USER) and pruned.text.endswith(tail)  # the user's, unchanged


def test_no_prune_keeps_what_is_gone_and_adds_what_is_new() -> None:
    first = apply(USER, "corp", profiles(PROD_RO), "config").text
    kept = apply(first, "corp", profiles(PROD, DEV), "config", prune=False)
    assert kept.removed == []
    assert kept.added == ["Dev.Admin", "Prod.Admin"]
    assert "[profile Prod.ReadOnly]" in kept.text


def test_each_session_has_its_own_block() -> None:
    corp = apply(USER, "corp", profiles(PROD), "config").text
    both = apply(corp, "lab", profiles(DEV, session="lab"), "config").text
    lab_span = find_block(both, "lab")
    corp_span = find_block(both, "corp")
    assert lab_span is not None and corp_span is not None
    assert both[: corp_span[1]] == corp  # the corp block untouched by the lab run
    rerun = apply(both, "corp", profiles(PROD_RO), "config").text
    assert (
        rerun[rerun.index("# BEGIN credproc sso populate, sso-session lab") :]
        == (both[lab_span[0] :])
    )


def test_a_block_the_user_moved_is_rewritten_where_it_is() -> None:
    block = render_block("corp", profiles(PROD))
    text = USER + "\n" + block + "\n[profile later]\nregion = x\n"
    change = apply(text, "corp", profiles(PROD, DEV), "config")
    assert change.text.startswith(USER + "\n# BEGIN")
    assert change.text.endswith(
        "# END credproc sso populate, sso-session corp\n\n[profile later]\nregion = x\n"
    )


def test_crlf_files_keep_their_line_endings() -> None:
    text = USER.replace("\n", "\r\n")
    first = apply(text, "corp", profiles(PROD), "config").text
    assert "\n" not in first.replace("\r\n", "")
    assert apply(first, "corp", profiles(PROD), "config").text == first


def test_no_assignment_left_removes_the_block() -> None:
    first = apply(USER, "corp", profiles(PROD), "config").text
    change = apply(first, "corp", {}, "config")
    assert change.removed == ["Prod.Admin"]
    assert "BEGIN" not in change.text and change.text.startswith(USER)


@pytest.mark.parametrize(
    "broken",
    [
        "# BEGIN credproc sso populate, sso-session corp\n[profile a]\nregion = x\n",
        "[profile a]\nregion = x\n# END credproc sso populate, sso-session corp\n",
        "# END credproc sso populate, sso-session corp\n# BEGIN credproc sso populate, "
        "sso-session corp\n",
    ],
)
def test_broken_markers_are_refused_not_guessed(broken: str) -> None:
    with pytest.raises(ConfigError, match="fix them by hand"):
        apply(USER + broken, "corp", profiles(PROD), "config")


def test_botocore_reads_every_generated_profile_and_the_users(tmp_path: Path) -> None:
    twin = Assignment("333333333333", "Prod", "Admin")
    odd = Assignment("444444444444", "Ünïcode Team (EU)", "Power User")
    config = tmp_path / "config"
    config.write_text(apply(USER, "corp", profiles(PROD, DEV, twin, odd), "config").text)

    session = botocore.session.Session()
    session.set_config_variable("config_file", str(config))
    found = session.full_config["profiles"]

    assert set(found) == {
        "default",
        "mine",
        "Dev.Admin",
        "Prod.Admin-111111111111",
        "Prod.Admin-333333333333",
        "Unicode-Team-EU.Power-User",
    }
    assert found["Dev.Admin"]["credential_process"] == "credproc --sso-role-name Admin"


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Sandbox", "Sandbox"),
        ("Café", "Café"),  # accents alone: safe_name keeps every letter
        ("日本 アカウント", "444444444444"),
        ("Ünïcode 開発", "Unicode-444444444444"),
    ],
)
def test_an_account_name_keeps_its_identity_through_the_id(name: str, label: str) -> None:
    assert populate.account_label(name, "444444444444") == label


def test_only_the_newest_backups_are_kept(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\n")
    for second in range(7):
        (tmp_path / f"config.20200101T00000{second}Z.bak").write_text("old\n")
    (tmp_path / "config.20200101T000009Z.1.bak").write_text("old\n")
    (tmp_path / "config.mine.bak").write_text("mine\n")

    backup = rewrite.replace(rewrite.read_for_rewrite(config), "[default]\nregion = x\n")

    assert backup is not None
    assert rewrite.backups(str(config))[-1] == backup
    assert len(rewrite.backups(str(config))) == rewrite.KEEP_BACKUPS
    assert (tmp_path / "config.mine.bak").exists()
    assert (tmp_path / "config.20200101T000009Z.1.bak").exists()
