"""SSO profiles read as botocore reads them (config.sso): what makes a profile an SSO one, the
session it names, the keys both must agree on, and the key named when one is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from credproc.config.sso import DEFAULT_SCOPES, is_sso_profile, session_of_profile, sso_role
from credproc.errors import ConfigError

SESSION = """
[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = eu-west-1
"""


def _environ(tmp_path: Path, text: str) -> dict[str, str]:
    config = tmp_path / "config"
    config.write_text(text)
    return {"AWS_CONFIG_FILE": str(config)}


def test_an_sso_profile_has_account_or_role_and_no_role_arn() -> None:
    assert is_sso_profile({"sso_account_id": "1", "sso_role_name": "x"})
    assert is_sso_profile({"sso_role_name": "x"})  # then a missing key is named, not ignored
    assert not is_sso_profile({"sso_session": "corp"})  # a session only: sso login, no role
    assert not is_sso_profile({"sso_role_name": "x", "role_arn": "arn"})  # botocore: AssumeRole


def test_a_session_gives_start_url_region_and_default_scopes(tmp_path: Path) -> None:
    environ = _environ(tmp_path, SESSION)
    keys = {"sso_session": "corp", "sso_account_id": "111111111111", "sso_role_name": "Dev"}
    role = sso_role("dev", keys, environ)
    assert role.session.name == "corp" and role.session.region == "eu-west-1"
    assert role.session.scopes == DEFAULT_SCOPES
    assert session_of_profile(
        "x", _environ(tmp_path, SESSION + "[profile x]\nsso_session = corp\n")
    )


def test_a_key_in_profile_and_session_must_agree(tmp_path: Path) -> None:
    environ = _environ(tmp_path, SESSION)
    keys = {
        "sso_session": "corp",
        "sso_region": "us-east-1",
        "sso_account_id": "111111111111",
        "sso_role_name": "Dev",
    }
    with pytest.raises(ConfigError, match="sso_region differs"):
        sso_role("dev", keys, environ)


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        ({"sso_session": "corp", "sso_role_name": "Dev"}, "sso_account_id"),
        ({"sso_session": "corp", "sso_account_id": "111111111111"}, "sso_role_name"),
        ({"sso_session": "corp", "sso_account_id": "42", "sso_role_name": "Dev"}, "sso_account_id"),
        ({"sso_account_id": "111111111111", "sso_role_name": "Dev"}, "sso_start_url"),
        (
            {"sso_session": "", "sso_account_id": "111111111111", "sso_role_name": "D"},
            "sso_session",
        ),
    ],
)
def test_the_missing_or_bad_key_is_named(tmp_path: Path, keys: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        sso_role("dev", keys, _environ(tmp_path, SESSION))
