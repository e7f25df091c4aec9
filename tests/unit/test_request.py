"""Request resolution, validation and the cache key, in-process."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import platformdirs
import pytest
from support.constants import ROLE

from credproc.config.keyindex import Indexed, write_index
from credproc.config.options import RawOptions
from credproc.config.resolve import default_session_name, keys_request, resolve, wrap_request
from credproc.core.dirs import user_cache_dir, user_config_dir, user_data_dir
from credproc.core.request import KEY_FIELDS, OTHER_FIELDS, Request
from credproc.errors import ConfigError, UsageError

ENV = {"CREDPROC_CACHE_DIR": "/tmp/credproc-unit"}


def _request(**options: object) -> Request:
    return resolve(RawOptions(role_arn=ROLE, source_profile="base").updated(options), ENV)


def test_defaults() -> None:
    request = _request()

    assert request.duration == 3600
    assert request.refresh_window == 900
    assert request.lock_timeout == 60
    assert request.cache_dir == "/tmp/credproc-unit"
    assert request.role_session_name.startswith("credproc-")


def test_short_duration_halves_the_default_window() -> None:
    assert _request(duration="900").refresh_window == 450
    assert _request(duration="1000").refresh_window == 900


def test_flags_beat_the_environment() -> None:
    env = {**ENV, "CREDPROC_REFRESH_WINDOW": "300", "CREDPROC_LOCK_TIMEOUT": "5"}
    from_env = resolve(RawOptions(role_arn=ROLE), env)
    from_flag = resolve(RawOptions(role_arn=ROLE, refresh_window="120"), env)

    assert (from_env.refresh_window, from_env.lock_timeout) == (300, 5.0)
    assert from_flag.refresh_window == 120


def test_identity_environment_variables_are_ignored() -> None:
    # An inherited CREDPROC_ROLE_ARN would silently change what a nested credproc fetches.
    with pytest.raises(UsageError, match="missing --role-arn"):
        resolve(RawOptions(), {**ENV, "CREDPROC_ROLE_ARN": ROLE})


def test_no_cache_means_no_cache_dir() -> None:
    assert _request(no_cache=True).cache_dir is None


def test_policy_is_stored_compact_and_read_from_a_file(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text('{\n  "Version": "2012-10-17",\n  "Statement": []\n}\n')

    from_file = _request(policy=f"@{policy}")
    inline = _request(policy='{"Statement": [], "Version": "2012-10-17"}')

    assert from_file.policy == '{"Statement":[],"Version":"2012-10-17"}'
    assert from_file.key == inline.key


# A value for every field of the identity, each unlike the default.
EVERY_IDENTITY_FIELD: dict[str, Any] = {
    "role_arn": "arn:aws:iam::123456789012:role/other",
    "source_profile": "other",
    "role_session_name": "someone",
    "duration": 7200,
    "external_id": "ext",
    "source_identity": "alice",
    "policy": "{}",
    "policy_arns": ("arn:aws:iam::aws:policy/ReadOnlyAccess",),
    "tags": (("team", "a"),),
    "transitive_tag_keys": ("team",),
    "region": "us-east-2",
    "endpoint_url": "http://127.0.0.1:1",
    "source_key_id": "AKIAOTHER",
    "source_keys": "other-keys",
    "mfa_serial": "arn:aws:iam::123456789012:mfa/me",
    "mfa_duration": 3600,
    "web_identity_token_file": "/token",
}
# An SSO role's fields: in the key only when there is an SSO role (old keys stay as they were).
SSO_IDENTITY_FIELDS: dict[str, Any] = {
    "sso_account_id": "111111111111",
    "sso_role_name": "Developer",
    "sso_start_url": "https://example.awsapps.com/start",
    "sso_region": "eu-west-1",
    "sso_session": "corp",
    "sso_scopes": ("sso:account:access",),
}


def test_key_covers_every_identity_field() -> None:
    base = _request()
    changes = EVERY_IDENTITY_FIELD
    assert set(changes) == set(base.identity())
    keys = {base._replace(**{name: value}).key for name, value in changes.items()}

    assert len(keys) == len(changes)
    assert base.key not in keys


def test_key_covers_every_sso_field_of_an_sso_role() -> None:
    base = _request()._replace(sso_role_name="Base")
    changes = {**EVERY_IDENTITY_FIELD, **SSO_IDENTITY_FIELDS}
    assert set(changes) == set(base.identity())
    keys = {base._replace(**{name: value}).key for name, value in changes.items()}
    assert len(keys) == len(changes)
    assert base.key not in keys and _request().key not in keys


def test_a_login_session_is_in_the_key_only_of_its_requests(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile console]\nlogin_session = arn:aws:iam::123456789012:user/alice\n"
        f"[profile admin]\nrole_arn = {ROLE}\nsource_profile = console\n"
        f"[profile keys]\nrole_arn = {ROLE}\nsource_profile = base\n"
    )
    env = {**ENV, "AWS_CONFIG_FILE": str(config)}
    identity = resolve(RawOptions(profile="console"), env)
    role = resolve(RawOptions(profile="admin"), env)
    assert "login_session" not in resolve(RawOptions(profile="keys"), env).identity()
    assert identity.identity()["login_session"] == role.identity()["login_session"]
    assert role.login_source().key == identity.key  # one entry for both
    assert (identity.refresh_window, identity.login_region) == (300, "us-east-1")
    other = role._replace(login_session="arn:aws:iam::123456789012:user/bob")
    assert other.key != role.key  # signed in as someone else: another token


def test_key_ignores_behaviour_fields() -> None:
    base = _request()
    same = base._replace(refresh_window=10, lock_timeout=1, cache_dir=None, mfa_token_command="x")
    assert same.key == base.key


def test_environment_keys_are_part_of_the_identity_without_a_source_profile() -> None:
    first = resolve(RawOptions(role_arn=ROLE), {**ENV, "AWS_ACCESS_KEY_ID": "AKIAFIRST"})
    second = resolve(RawOptions(role_arn=ROLE), {**ENV, "AWS_ACCESS_KEY_ID": "AKIASECOND"})
    with_profile = resolve(
        RawOptions(role_arn=ROLE, source_profile="base"), {**ENV, "AWS_ACCESS_KEY_ID": "AKIAX"}
    )

    assert first.key != second.key
    assert with_profile.source_key_id is None


def test_source_keys_name_their_key_id_from_the_index(tmp_path: Path) -> None:
    environ = {**ENV, "XDG_CONFIG_HOME": str(tmp_path)}
    entry = Indexed("dev", "AKIAFIRST", None, "2026-01-01T00:00:00Z")
    write_index(environ, "dev", entry)
    first = resolve(RawOptions(role_arn=ROLE, source_keys="dev"), environ)
    write_index(environ, "dev", entry._replace(access_key_id="AKIASECOND"))  # rotated
    second = resolve(RawOptions(role_arn=ROLE, source_keys="dev"), environ)

    assert (first.source_keys, first.source_key_id) == ("dev", "AKIAFIRST")
    assert second.source_key_id == "AKIASECOND"
    assert first.key != second.key
    with pytest.raises(ConfigError, match="credproc keys add other"):
        resolve(RawOptions(role_arn=ROLE, source_keys="other"), environ)


def test_a_damaged_index_of_source_keys_is_a_config_error(tmp_path: Path) -> None:
    environ = {**ENV, "XDG_CONFIG_HOME": str(tmp_path)}
    (tmp_path / "credproc").mkdir()
    for text in ("not json", "[]", '{"format": 2, "keys": {}}', '{"format": 1, "keys": {"a": 1}}'):
        (tmp_path / "credproc" / "keys.json").write_text(text)
        with pytest.raises(ConfigError, match="is not credproc's index of source keys"):
            resolve(RawOptions(role_arn=ROLE, source_keys="a"), environ)


def test_proving_keys_checks_the_endpoint_as_every_request_does() -> None:
    request = keys_request("dev", "eu-west-1", {"AWS_ENDPOINT_URL_STS": "http://127.0.0.1:1"})
    assert (request.source_keys, request.region) == ("dev", "eu-west-1")
    assert request.endpoint_url == "http://127.0.0.1:1"
    with pytest.raises(ConfigError, match="AWS_ENDPOINT_URL is not an http:// or https:// URL"):
        keys_request("dev", None, {"AWS_ENDPOINT_URL": "ftp://sts"})


def test_endpoint_is_part_of_the_identity() -> None:
    sts = resolve(RawOptions(role_arn=ROLE), {**ENV, "AWS_ENDPOINT_URL_STS": "http://a"})
    generic = resolve(RawOptions(role_arn=ROLE), {**ENV, "AWS_ENDPOINT_URL": "http://b"})

    assert (sts.endpoint_url, generic.endpoint_url) == ("http://a", "http://b")


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("alice", "credproc-alice"),
        ("DOMAIN\\bob smith", "credproc-DOMAIN-bob-smith"),
        ("x" * 80, "credproc-" + "x" * 55),
    ],
)
def test_default_session_name_fits_sts(user: str, expected: str) -> None:
    assert default_session_name({"LOGNAME": user}) == expected


def test_role_arn_accepts_paths_and_partitions() -> None:
    for arn in (
        "arn:aws:iam::123456789012:role/path/to/dev",
        "arn:aws-cn:iam::123456789012:role/dev",
        "arn:aws-us-gov:iam::123456789012:role/a+b=c,d.e@f-g",
    ):
        assert _request(role_arn=arn).role_arn == arn


OUR_DIRS = {"cache": user_cache_dir, "config": user_config_dir, "data": user_data_dir}


@pytest.mark.parametrize("kind", sorted(OUR_DIRS))
@pytest.mark.parametrize("xdg", [None, "/custom/dir", "relative/ignored", "  "])
def test_user_dirs_agree_with_platformdirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str, xdg: str | None
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    variable = f"XDG_{kind.upper()}_HOME"
    if xdg is None:
        monkeypatch.delenv(variable, raising=False)
    else:
        monkeypatch.setenv(variable, xdg)

    theirs = getattr(platformdirs, f"user_{kind}_dir")("credproc", appauthor=False)
    assert OUR_DIRS[kind](os.environ) == theirs


# Fixed requests and the keys users' caches hold for them today. A change to any of these
# strings invalidates every cache (or merges entries that must stay apart): it must be a
# decision, with a note in the changelog, never the side effect of another edit.
_ROLE = "arn:aws:iam::123456789012:role/dev"
_SERIAL = "arn:aws:iam::123456789012:mfa/alice"
_LOGIN = "arn:aws:iam::123456789012:user/alice"
PINNED_KEYS = {
    "05a89ed10ff0e0d5cae8e15aca7df55d5ad549987aa2e5c746a329d04200d848": Request(
        role_arn=_ROLE, source_profile="base", role_session_name="credproc-alice", duration=3600
    ),
    "9a4d09a1da8a9fd8386ac3ae748ca40d3de756db5015aa3dc8b46ca480d28157": Request(
        role_arn=_ROLE,
        source_profile=None,
        role_session_name="ci",
        duration=7200,
        external_id="ext-1",
        source_identity="alice",
        policy='{"Version":"2012-10-17","Statement":[]}',
        policy_arns=("arn:aws:iam::aws:policy/ReadOnlyAccess",),
        tags=(("team", "a"), ("env", "dev")),
        transitive_tag_keys=("team",),
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:5000",
        source_key_id="AKIAEXAMPLE",
        source_keys="dev-keys",
        mfa_serial=_SERIAL,
        mfa_duration=3600,
        refresh_window=60,
        cache_dir="/c",
        lock_timeout=5,
        mfa_token_command="echo 1",
        mfa_prompt="terminal",
    ),
    "ca9d55ecd2f8b055b96f6bea8f250ef9cb1c415cc35a0a5a65cfbb4773adce9c": Request(
        role_arn=_ROLE,
        source_profile="base",
        role_session_name="x",
        duration=3600,
        region="us-east-2",
        mfa_serial=_SERIAL,
    ).mfa_session(60),
    "30b1353ddbb287920f0a5be8d72bd1379446c4d0938a25bfc2b34fc6a036e5b4": Request(
        role_arn=_ROLE,
        source_profile=None,
        role_session_name="gh",
        duration=900,
        web_identity_token_file="/var/run/token",
    ),
    # An aws login identity's own credentials (credproc --profile of a login_session profile)
    # and a role assumed with them: the login_session field is in these keys only.
    "d98bcee37125502925f11887b8e3bf50e7f356e5a24b66e266a233d627c9d784": Request(
        role_arn=None,
        source_profile=None,
        role_session_name="",
        duration=3600,
        login_session=_LOGIN,
        login_profile="console",
        login_region="eu-west-1",
        refresh_window=300,
    ),
    "a799ccce9dad816b6722d453cbd88683bda24a6aa9e75bc9305c6dfa811794fd": Request(
        role_arn=_ROLE,
        source_profile="console",
        role_session_name="credproc-alice",
        duration=3600,
        region="eu-west-1",
        login_session=_LOGIN,
        login_profile="console",
        login_region="eu-west-1",
    ),
    # credproc wrap: the command's argv, the --key-env values (one unset) and --profile; the
    # behaviour fields change nothing.
    "baa28509f913d0bd1dbf71af103d282158de6e69de9808eb42c84c19fac2293d": Request(
        role_arn=None,
        source_profile=None,
        role_session_name="",
        duration=3600,
        wrap_command=("saml2aws", "login", "--credential-process", "--role", _ROLE),
        key_env=(("AWS_PROFILE", "dev"), ("SAML2AWS_IDP_ACCOUNT", None)),
        wrap_profile="dev",
        refresh_window=900,
        cache_dir="/c",
        max_age=600,
        wrap_timeout=30.0,
    ),
    # An SSO role of an [sso-session]: the SSO fields are in the key, the region is not (nor
    # the behaviour fields, nor the profile that names it).
    "e750e9b454bd2b9b50d1ef77f824af46544428429ba566786657bea13ca3886e": Request(
        role_arn=None,
        source_profile=None,
        role_session_name="credproc-alice",
        duration=3600,
        region="eu-west-1",
        sso_account_id="111111111111",
        sso_role_name="Developer",
        sso_start_url="https://example.awsapps.com/start",
        sso_region="eu-west-1",
        sso_session="corp",
        sso_scopes=("sso:account:access",),
        refresh_window=60,
        cache_dir="/c",
        sso_login="never",
        sso_profile="dev",
    ),
    # A legacy SSO role (sso_start_url in the profile): no session name, no scopes.
    "41c44673a0cd3e33137ca9b4b9a431acf33954cf7e615cc192c3d1897be95ebc": Request(
        role_arn=None,
        source_profile=None,
        role_session_name="credproc-alice",
        duration=3600,
        sso_account_id="222222222222",
        sso_role_name="ReadOnly",
        sso_start_url="https://legacy.awsapps.com/start",
        sso_region="us-east-1",
    ),
}


@pytest.mark.parametrize("expected", list(PINNED_KEYS))
def test_cache_keys_stay_what_users_caches_hold(expected: str) -> None:
    assert PINNED_KEYS[expected].key == expected


def test_every_request_field_is_declared_in_the_key_or_out_of_it() -> None:
    assert sorted(KEY_FIELDS + OTHER_FIELDS) == sorted(Request._fields)
    assert not set(KEY_FIELDS) & set(OTHER_FIELDS)


def test_environment_beats_profile_keys_and_flags_beat_both(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        f"[profile dev-role]\nrole_arn = {ROLE}\nsource_profile = base\n"
        "credproc_refresh_window = 100\ncredproc_lock_timeout = 7\n"
    )
    env = {**ENV, "AWS_CONFIG_FILE": str(config), "CREDPROC_REFRESH_WINDOW": "200"}

    from_profile_and_env = resolve(RawOptions(profile="dev-role"), env)
    with_flag = resolve(RawOptions(profile="dev-role", refresh_window="300"), env)

    assert from_profile_and_env.refresh_window == 200
    assert from_profile_and_env.lock_timeout == 7
    assert with_flag.refresh_window == 300


def test_raw_options_by_name_refuses_unknown_names() -> None:
    with pytest.raises(TypeError, match="unknown options: role"):
        RawOptions().updated({"role": ROLE})
    assert RawOptions().updated({"role_arn": ROLE}).text("role_arn") == ROLE


_WRAPPED = Request(
    role_arn=None, source_profile=None, role_session_name="", duration=3600, wrap_command=("x",)
)


def test_a_wrapped_command_key_covers_its_line_its_variables_and_its_profile() -> None:
    changes: dict[str, Any] = {
        "wrap_command": ("x", "--account", "2"),
        "key_env": (("AWS_PROFILE", None),),
        "wrap_profile": "dev",
    }
    assert set(changes) == set(_WRAPPED.identity())
    keys = {_WRAPPED._replace(**{name: value}).key for name, value in changes.items()}
    assert len(keys) == len(changes) and _WRAPPED.key not in keys
    set_variable = _WRAPPED._replace(key_env=(("AWS_PROFILE", "dev"),))
    assert set_variable.key != _WRAPPED._replace(key_env=(("AWS_PROFILE", None),)).key
    same = _WRAPPED._replace(max_age=60, wrap_timeout=1.0, refresh_window=10, region="x")
    assert same.key == _WRAPPED.key


def test_key_env_order_and_repeats_do_not_change_the_key() -> None:
    env = {**ENV, "A": "1", "B": "2"}
    first = wrap_request(RawOptions(key_env=("B", "A", "B")), ["x"], env)
    second = wrap_request(RawOptions(key_env=("A", "B")), ["x"], env)
    assert first.key_env == (("A", "1"), ("B", "2"))
    assert first.key == second.key


@pytest.mark.parametrize(
    ("options", "command", "message"),
    [
        ({}, [], "needs a command after --"),
        ({"key_env": ("NOT-A-NAME",)}, ["x"], "--key-env 'NOT-A-NAME' is not a variable name"),
        ({"max_age": "30"}, ["x"], "--max-age 30 is out of range (60..129600 seconds)"),
        ({"wrap_timeout": "0"}, ["x"], "--timeout 0 is out of range (1..3600 seconds)"),
        ({"max_age": "600", "refresh_window": "600"}, ["x"], "must be below --max-age (600 s)"),
    ],
)
def test_a_wrapped_command_request_is_checked(
    options: dict[str, Any], command: list[str], message: str
) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        wrap_request(RawOptions(options), command, ENV)


def test_a_short_max_age_halves_the_default_window() -> None:
    request = wrap_request(RawOptions(max_age="600"), ["x"], ENV)
    assert request.refresh_window == 300 and request.max_age == 600
