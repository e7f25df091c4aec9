"""The option table is the one source: argparse, profile keys, the environment, the Python API,
the Request record and docs/options.md all agree with it."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

import credproc
from credproc import api
from credproc.config.options import (
    BEHAVIOUR,
    CONSOLE_OPTIONS,
    IDENTITY,
    OPTIONS,
    OUTPUT,
    REQUEST_OPTIONS,
    TABLE,
    WRAP_OPTIONS,
    RawOptions,
)
from credproc.config.parser import parser_for
from credproc.config.resolve import from_environment, options_from_profile
from credproc.config.syntax import DEFAULT, command
from credproc.core.request import Request
from credproc.errors import ConfigError, UsageError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "options.md"
# Request fields that are not options: facts of the environment that change the token.
# The SSO role's fields come from the profile's sso_* keys and its [sso-session] (config.sso),
# not from options: an SSO profile, or the SSO profile a role is assumed from.
SSO_IDENTITY = {
    "sso_account_id",
    "sso_role_name",
    "sso_start_url",
    "sso_region",
    "sso_session",
    "sso_scopes",
}
# An aws login identity's session, from its profile (config.login): in the key only when set.
LOGIN_IDENTITY = {"login_session"}
DERIVED_IDENTITY = {"endpoint_url", "source_key_id", *SSO_IDENTITY, *LOGIN_IDENTITY}
# Request fields that are neither options nor identity: the role an MFA session is for, the
# SSO profile the login line names, and the aws login profile and its Sign-In region.
CONTEXT = {"for_role", "sso_profile", "login_profile", "login_region"}
# A wrapped command's fields that are not options of their own: the command after --, and
# --profile, which a wrapped command's key holds (credproc wrap).
WRAP_IDENTITY = {"wrap_command", "wrap_profile"}


def test_names_are_unique() -> None:
    for field in ("dest", "flag", "profile_key", "env"):
        values = [getattr(option, field) for option in TABLE if getattr(option, field)]
        assert len(values) == len(set(values)), field


def test_every_option_is_parsed_into_its_own_name() -> None:
    parser = parser_for(DEFAULT)
    for option in OPTIONS:
        value: list[str] = [] if option.switch else ["x"]
        args = parser.parse_args([option.flags[0], *value])
        expected: object = True if option.switch else ["x"] if option.many else "x"
        assert getattr(args, option.dest) == expected, option.flag


def test_console_options_are_parsed_by_console_and_doctor_alone() -> None:
    for name in ("console", "doctor"):
        parser = parser_for(command(name))
        for option in CONSOLE_OPTIONS:
            assert getattr(parser.parse_args([option.flag, "x"]), option.dest) == "x"
        help_text = " ".join(parser.format_help().split())
        assert "env CREDPROC_BROWSER" in help_text
        assert "profile|none" in help_text
    for name in ("", "env", "exec"):
        with pytest.raises(UsageError, match="unrecognized arguments: --browser"):
            parser_for(command(name)).parse_args(["--browser", "firefox"])


def test_help_shows_each_bound_and_default() -> None:
    help_text = " ".join(parser_for(DEFAULT).format_help().split())
    for option in OPTIONS:
        if option.bounds and option.bounds[1] is not None:
            assert f"{option.bounds[0]:g}..{option.bounds[1]:g}" in help_text, option.flag
        if option.env:
            assert option.env in help_text


def test_request_fields_are_the_table_options() -> None:
    resolved = {o.dest for o in OPTIONS if o.kind in (IDENTITY, BEHAVIOUR)} - {"no_cache"}
    wrap = {o.dest for o in WRAP_OPTIONS} | WRAP_IDENTITY
    assert set(Request._fields) == resolved | wrap | DERIVED_IDENTITY | CONTEXT


def test_a_wrapped_command_key_is_its_line_and_its_identity_options() -> None:
    request = Request(
        role_arn=None, source_profile=None, role_session_name="", duration=900, wrap_command=("x",)
    )
    identity = {o.dest for o in WRAP_OPTIONS if o.kind == IDENTITY} | WRAP_IDENTITY
    assert set(request.identity()) == identity


def test_the_cache_key_covers_identity_and_nothing_else() -> None:
    request = Request(role_arn="arn", source_profile="base", role_session_name="s", duration=900)
    # Without an SSO role, the SSO fields stay out: the keys users' caches hold are unchanged.
    assert (
        set(request.identity())
        == ({o.dest for o in OPTIONS if o.kind == IDENTITY} | DERIVED_IDENTITY)
        - SSO_IDENTITY
        - LOGIN_IDENTITY
    )
    identity = set(request._replace(sso_role_name="Developer", login_session="arn").identity())
    assert identity == {o.dest for o in OPTIONS if o.kind == IDENTITY} | DERIVED_IDENTITY
    assert not identity & {o.dest for o in OPTIONS if o.kind in (BEHAVIOUR, OUTPUT)}


def test_the_python_api_takes_every_request_option() -> None:
    positional = {"role_arn", "source_profile"}
    keywords = set(typing.get_type_hints(api.Options, include_extras=False))
    assert keywords == {o.dest for o in REQUEST_OPTIONS} - positional
    assert set(credproc.Options.__annotations__) == keywords


def test_only_behaviour_comes_from_the_environment() -> None:
    environ = {option.env: "5" for option in OPTIONS if option.env}
    given = dict(from_environment(environ).given())
    assert {option.kind for option in given} == {BEHAVIOUR}
    assert {option.dest for option in given} == {
        o.dest for o in OPTIONS if o.env and o.kind == BEHAVIOUR
    }


def test_every_profile_key_is_read(tmp_path: Path) -> None:
    keys = [option for option in TABLE if option.profile_key]
    config = tmp_path / "config"
    lines = [f"{option.profile_key} = v{index}" for index, option in enumerate(keys)]
    config.write_text("[profile p]\n" + "\n".join(lines) + "\n")

    read = dict(options_from_profile("p", {"AWS_CONFIG_FILE": str(config)}).given())

    for index, option in enumerate(keys):
        assert read[option] == ((f"v{index}",) if option.many else f"v{index}")


def test_an_unknown_credproc_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile p]\nrole_arn = x\ncredproc_policy_arns = a\n")
    with pytest.raises(ConfigError, match="unknown key 'credproc_policy_arns'"):
        options_from_profile("p", {"AWS_CONFIG_FILE": str(config)})


def test_raw_options_from_the_command_line_round_trip() -> None:
    args = parser_for(DEFAULT).parse_args(["--role-arn", "r", "--tag", "a=1", "--tag", "b=2", "-v"])
    assert RawOptions.of(args) == RawOptions(role_arn="r", tags=("a=1", "b=2"))


def _documented() -> dict[str, tuple[str, str]]:
    """docs/options.md's table: flag -> (profile key, environment variable)."""
    rows = {}
    table = DOCS.read_text().split("| option | profile key | environment variable |")[1]
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        flags = re.findall(r"`(-[-\w]+)", cells[0])
        rows[flags[-1]] = (cells[1].strip("`"), cells[2].strip("`"))
    return rows


def test_the_documented_options_are_the_table() -> None:
    documented = _documented()
    for extra in ("--version", "--help"):
        documented.pop(extra)
    assert documented == {
        option.flag: (option.profile_key or "-", option.env or "-") for option in TABLE
    }
