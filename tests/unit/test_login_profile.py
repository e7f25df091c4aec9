"""What ``credproc login`` writes into the AWS config: ``login_session`` (and ``region`` where
the profile has none), every other byte kept, read back by botocore itself."""

from __future__ import annotations

from pathlib import Path

import botocore.session
import pytest

from credproc.config.loginprofile import other_credentials, with_login_session
from credproc.errors import ConfigError

ARN = "arn:aws:iam::123456789012:user/alice"
OLD = "arn:aws:iam::123456789012:user/bob"
CONFIG = (
    "# my config, by hand\n"
    "[default]\n"
    "region = eu-west-1\n"
    "output=json\n"
    "\n"
    "; the console identity\n"
    "[profile dev]\n"
    "login_session = " + OLD + "\n"
    "cli_pager =\n"
    "s3 =\n"
    "  max_concurrent_requests = 4\n"
    "\n"
    "[sso-session corp]\n"
    "sso_region = us-east-1\n"
    "sso_start_url = https://example.awsapps.com/start\n"
    "# trailing comment, no newline at the end"
)


def botocore_profiles(tmp_path: Path, text: str) -> dict[str, dict[str, object]]:
    config = tmp_path / "config"
    config.write_text(text)
    session = botocore.session.Session()
    session.set_config_variable("config_file", str(config))
    profiles: dict[str, dict[str, object]] = session.full_config["profiles"]
    return profiles


def test_a_profile_of_the_file_gets_its_line_replaced_and_nothing_else_moves(
    tmp_path: Path,
) -> None:
    updated = with_login_session(CONFIG, "config", "dev", ARN, "us-west-2")
    before, after = CONFIG.splitlines(keepends=True), updated.splitlines(keepends=True)
    # The session line changed in place; region was added after the section's last key line.
    assert after[7] == f"login_session = {ARN}\n"
    assert after[11] == "region = us-west-2\n"
    assert before[:7] == after[:7]
    assert before[8:11] == after[8:11]
    assert before[11:] == after[12:]
    profiles = botocore_profiles(tmp_path, updated)
    assert profiles["dev"]["login_session"] == ARN
    assert profiles["dev"]["region"] == "us-west-2"
    assert profiles["dev"]["s3"] == {"max_concurrent_requests": "4"}
    assert profiles["default"] == {"region": "eu-west-1", "output": "json"}


def test_a_profile_with_a_region_keeps_it(tmp_path: Path) -> None:
    updated = with_login_session(CONFIG, "config", "default", ARN, "us-west-2")
    assert updated == CONFIG.replace("output=json\n", f"output=json\nlogin_session = {ARN}\n")
    assert botocore_profiles(tmp_path, updated)["default"]["region"] == "eu-west-1"


def test_a_new_profile_is_a_section_at_the_end(tmp_path: Path) -> None:
    updated = with_login_session(CONFIG, "config", "console", ARN, "eu-central-1")
    assert updated.startswith(CONFIG + "\n\n[profile console]\n")
    assert updated.endswith(f"login_session = {ARN}\nregion = eu-central-1\n")
    assert botocore_profiles(tmp_path, updated)["console"] == {
        "login_session": ARN,
        "region": "eu-central-1",
    }


def test_no_file_yet_and_windows_line_endings() -> None:
    assert with_login_session("", "config", "default", ARN, "us-east-1") == (
        f"[default]\nlogin_session = {ARN}\nregion = us-east-1\n"
    )
    crlf = "[profile a]\r\nregion = x-y-1\r\nfoo = bar"
    assert with_login_session(crlf, "config", "a", ARN, None) == (
        f"[profile a]\r\nregion = x-y-1\r\nfoo = bar\r\nlogin_session = {ARN}\r\n"
    )


def test_a_continued_old_value_goes_with_its_line() -> None:
    text = f"[profile a]\nlogin_session = {OLD}\n  more\nregion = r-x-1\n"
    assert with_login_session(text, "config", "a", ARN, None) == (
        f"[profile a]\nlogin_session = {ARN}\nregion = r-x-1\n"
    )


def test_a_profile_twice_or_a_broken_file_is_refused() -> None:
    with pytest.raises(ConfigError, match="cannot parse"):
        with_login_session("[profile a]\nx\n", "config", "a", ARN, None)
    with pytest.raises(ConfigError, match="no usable login session"):
        with_login_session("", "config", "a", "arn\nregion = evil", None)


@pytest.mark.parametrize(
    ("keys", "kind"),
    [
        ({"role_arn": "arn:aws:iam::1:role/x", "source_profile": "s"}, "assume role"),
        ({"sso_session": "corp", "sso_account_id": "1", "sso_role_name": "r"}, "SSO"),
        ({"aws_access_key_id": "AKIA"}, "access key"),
        ({"credential_process": "credproc --profile x"}, "credential process"),
        ({"web_identity_token_file": "/t"}, "web identity"),
        ({"region": "eu-west-1", "login_session": ARN}, None),
    ],
)
def test_other_credentials_are_named(keys: dict[str, str], kind: str | None) -> None:
    assert other_credentials(keys) == kind
