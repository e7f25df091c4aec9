"""One reader of credproc command lines, used to follow chains, to hint and by doctor."""

from __future__ import annotations

from pathlib import Path

import pytest

from credproc.config.cmdline import parse_line
from credproc.config.options import RawOptions
from credproc.config.resolve import options_from_profile, resolve
from credproc.config.source import check_source, source_kind
from credproc.errors import ConfigError, UsageError

ROLE = "arn:aws:iam::123456789012:role/dev"
HUB = "arn:aws:iam::123456789012:role/hub"


@pytest.mark.parametrize(
    "program",
    [
        "credproc",
        "/opt/venv/bin/credproc",
        "/usr/bin/python3 -m credproc",
        "python3.11 -m credproc",
        "'/path with space/python' -m credproc",
    ],
)
def test_every_way_to_run_credproc_is_recognised(program: str) -> None:
    line = parse_line(f"{program} --role-arn {HUB} --source-profile base")
    assert line is not None
    assert line.command == ""
    assert line.options == RawOptions(role_arn=HUB, source_profile="base")


@pytest.mark.parametrize(
    "line", ["", "aws-vault exec x --json", "python3 -m other --role-arn x", "credprocx"]
)
def test_other_programs_are_not_credproc(line: str) -> None:
    assert parse_line(line) is None


def test_a_line_that_cannot_be_split_or_parsed_says_so() -> None:
    with pytest.raises(ConfigError, match="not a valid command line"):
        parse_line("credproc --role-arn 'open")
    with pytest.raises(UsageError, match="unrecognized arguments"):
        parse_line("credproc --no-such-flag")
    with pytest.raises(UsageError, match="prints no credential_process JSON"):
        parse_line("credproc env --role-arn x")
    for asking in ("-h", "--help", "--version"):
        with pytest.raises(UsageError, match="asks credproc for its help or version"):
            parse_line(f"credproc --role-arn x {asking}")


@pytest.mark.parametrize("program", ["credproc", "/usr/bin/python3 -m credproc"])
def test_a_chained_role_is_found_whatever_runs_credproc(tmp_path: Path, program: str) -> None:
    config = tmp_path / "config"
    config.write_text(
        f"[profile hub]\ncredential_process = {program} --role-arn {HUB} --source-profile base\n"
    )
    environ = {"AWS_CONFIG_FILE": str(config), "CREDPROC_CACHE_DIR": str(tmp_path)}
    request = resolve(RawOptions(role_arn=ROLE, source_profile="hub", duration="7200"), environ)

    assert source_kind("hub", environ) == "role"
    with pytest.raises(UsageError, match="AWS caps a role assumed from a role at 3600 s"):
        check_source(request, environ)


def test_a_client_profile_given_to_profile_gets_a_hint(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile dev]\ncredential_process = python3 -m credproc --profile dev-role\n"
    )
    with pytest.raises(ConfigError, match="use --profile dev-role"):
        options_from_profile("dev", {"AWS_CONFIG_FILE": str(config)})
