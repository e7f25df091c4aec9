"""The AWS config reader reads exactly what botocore reads: its own small loop for ordinary
files, configparser and shlex for the rest, compared here with botocore's own functions."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
from botocore.configloader import build_profile_map, raw_config_parse
from hypothesis import given, settings
from hypothesis import strategies as st

from credproc.config import awsconfig
from credproc.errors import ConfigError

# Line shapes that meet configparser's corner cases: comments, continuations, blank lines in
# values, both delimiters, odd headers, keys in any case, repeated sections and keys.
_LINES = st.sampled_from(
    [
        "[default]",
        "[profile dev]",
        "[profile  dev]",
        "[profile\tdev]",
        "[profile 'quoted name']",
        '[profile "dev"]',
        "[profile a b]",
        "[profiles dev]",
        "[profile]",
        "[DEFAULT]",
        "[sso-session x]",
        "[sso-session 'my corp']",
        "[sso-sessionx y]",
        "[sso-session a b]",
        "sso_start_url = https://example.awsapps.com/start",
        "[profile dev] trailing",
        "  [profile indented]",
        "region = eu-west-1",
        "Region=us-east-1",
        "role_arn: arn:aws:iam::123456789012:role/dev",
        "key = value = more",
        "key =",
        "s3 =",
        "    max_concurrent_requests = 20",
        "\tnested = 1",
        "  continued value",
        "",
        "   ",
        "# comment",
        "; comment",
        "  # indented comment",
        "no delimiter here",
        "= no key",
        "credproc_tag = a=1, b=2",
    ]
)


def _configparser(text: str) -> dict[str, dict[str, str]] | None:
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return {name: dict(parser.items(name)) for name in parser.sections()}


@settings(max_examples=1500, deadline=None)
@given(lines=st.lists(_LINES, max_size=12), newline=st.sampled_from(["\n", "\r\n"]))
def test_the_plain_reader_agrees_with_configparser(lines: list[str], newline: str) -> None:
    text = newline.join(lines)
    plain = awsconfig._parse_plain(text.replace("\r\n", "\n"))
    expected = _configparser(text)
    if plain is not None:  # where it is unsure, configparser itself answers
        assert plain == expected
    if expected is None:
        assert plain is None  # never an answer where configparser has an error


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_LINES, max_size=12))
def test_profiles_are_the_ones_botocore_finds(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str]
) -> None:
    path = tmp_path_factory.mktemp("config") / "config"
    path.write_text("\n".join(lines))
    environ = {"AWS_CONFIG_FILE": str(path)}
    try:
        raw_config_parse(str(path))  # as botocore loads it: indented blocks parsed too
        # The same, with those blocks as the text credproc keeps.
        botocore_map = build_profile_map(raw_config_parse(str(path), False))
    except Exception:  # noqa: BLE001 - botocore refuses the file: so must credproc
        with pytest.raises(ConfigError, match="cannot parse"):
            awsconfig.config_profiles(environ)
        return
    assert awsconfig.config_profiles(environ) == botocore_map["profiles"]
    assert awsconfig.sso_sessions(environ) == botocore_map["sso_sessions"]


@pytest.mark.parametrize(
    ("header", "profile"),
    [
        ("default", "default"),
        ("profile dev", "dev"),
        ("profile  dev", "dev"),
        ("profile\tdev", "dev"),
        ("profile 'my dev'", "my dev"),
        ("profiledev x", "x"),
        ("profile", None),
        ("profile a b", None),
        ("profile 'open", None),
        ("dev", None),
        ("Default", None),
    ],
)
def test_profile_headers_follow_botocore(header: str, profile: str | None) -> None:
    assert awsconfig.profile_of_header(header) == profile


def test_a_section_given_twice_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("[profile a]\nregion = x\n\n[profile a]\nregion = y\n")
    with pytest.raises(ConfigError, match=rf"cannot parse {path}: .*already exists"):
        awsconfig.config_profiles({"AWS_CONFIG_FILE": str(path)})


def test_a_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "config"
    environ = {"AWS_CONFIG_FILE": str(path)}
    path.write_text("[profile a]\nregion = x\n")
    assert awsconfig.profile_keys("a", environ) == {"region": "x"}
    path.write_text("[profile a]\nregion = yy\n")
    assert awsconfig.profile_keys("a", environ) == {"region": "yy"}


def test_a_missing_file_has_no_profiles(tmp_path: Path) -> None:
    assert awsconfig.config_profiles({"AWS_CONFIG_FILE": str(tmp_path / "none")}) == {}
