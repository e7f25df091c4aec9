"""What completion offers, in-process: derived from the command registry, each command's
parser and the option table, with profile names read from the AWS files at each call."""

from __future__ import annotations

from pathlib import Path

import pytest

from credproc.cli.commands.completion import render
from credproc.cli.completion import Candidate, Completions, complete
from credproc.config.options import BY_DEST, OPTIONS
from credproc.config.parser import parser_for
from credproc.config.syntax import COMMANDS, ENV_FORMAT_ALIASES, ENV_FORMATS, command
from credproc.core.request import MFA_PROMPTS


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n[profile dev]\n[profile dev-role]\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[base]\naws_access_key_id = AKIA\n[dev]\n")
    return {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}


def words(line: str, environ: dict[str, str] | None = None) -> list[str]:
    """The candidates' words for a line; a trailing space starts a new, empty word."""
    typed = line.split(" ")
    return [c.word for c in complete(typed, environ or {}).words]


def test_the_first_word_is_a_command_with_its_summary() -> None:
    found = complete([""], {}).words
    assert found == tuple(Candidate(name, command.summary) for name, command in COMMANDS.items())
    assert words("e") == ["env", "exec"]
    assert words("c") == [name for name in COMMANDS if name.startswith("c")]
    assert {"cache", "configure", "completion"} <= set(words("c"))


@pytest.mark.parametrize("name", ["", *COMMANDS])
def test_every_flag_a_command_parses_is_offered(name: str) -> None:
    parser = parser_for(command(name))
    parsed = {
        flag
        for action in parser._actions
        for flag in action.option_strings
        if flag.startswith("--")
    }
    line = [name, "--"] if name else ["--"]
    offered = {c.word for c in complete(line, {}).words}
    assert offered == parsed
    # Each with its help, as the shells that show descriptions print it.
    descriptions = {c.word: c.description for c in complete(line, {}).words}
    for action in parser._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and action.help:
                assert descriptions[flag].startswith(action.help[:20]), flag


def test_the_option_table_reaches_every_command_that_takes_it() -> None:
    for name in ("", "env", "exec", "configure", "doctor"):
        offered = set(words(f"{name} --".strip()))
        assert {option.flag for option in OPTIONS} <= offered, name
    assert {"--format"} <= set(words("env --"))
    assert {"--name", "--write", "--force"} <= set(words("configure --"))


def test_short_flags_only_for_a_bare_dash() -> None:
    assert "-v" in words("-")
    assert "-h" in words("-")
    assert "-v" not in words("--")


def test_a_flag_given_once_is_not_offered_again_unless_repeatable() -> None:
    offered = words("--region eu-west-1 --tag a=1 --")
    assert "--region" not in offered
    assert "--tag" in offered


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("env --format ", [*ENV_FORMATS, *ENV_FORMAT_ALIASES]),
        ("env --format z", ["zsh"]),
        ("env --format=f", ["--format=fish"]),
        ("--mfa-serial x --mfa-prompt ", list(MFA_PROMPTS)),
        ("--mfa-prompt=ze", ["--mfa-prompt=zenity"]),
        ("completion ", ["bash", "zsh", "fish"]),
        ("cache ", ["list", "clear"]),
        ("cache cl", ["clear"]),
        ("--role-arn ", []),  # free text: nothing to offer
        ("--duration 3", []),
        ("--bogus=", []),  # not an option: no value to offer
    ],
)
def test_values_from_choices(line: str, expected: list[str]) -> None:
    assert words(line) == expected


def test_table_choices_come_from_the_table() -> None:
    assert BY_DEST["mfa_prompt"].choices == MFA_PROMPTS
    assert parser_for(command(""))._option_string_actions["--mfa-prompt"].choices is None


@pytest.mark.parametrize(
    "line",
    [
        "--profile ",
        "--source-profile ",
        "env --profile ",
        "cache clear --source-profile ",
        "doctor ",
        "configure --name x --profile ",
    ],
)
def test_profile_names_from_both_files(line: str, environ: dict[str, str]) -> None:
    assert words(line, environ) == ["base", "default", "dev", "dev-role"]


def test_profile_names_are_read_at_each_call(environ: dict[str, str]) -> None:
    assert words("--profile d", environ) == ["default", "dev", "dev-role"]
    assert words("--profile=dev-", environ) == ["--profile=dev-role"]
    with Path(environ["AWS_CONFIG_FILE"]).open("a") as config:
        config.write("[profile dev-admin]\n")
    assert words("--profile dev-", environ) == ["dev-admin", "dev-role"]


@pytest.mark.parametrize(
    "broken",
    [
        "[profile dev\nno header end\n",  # configparser refuses it
        b"\xff\xfe not utf-8",
        None,  # a directory where the file should be
    ],
)
def test_a_broken_config_offers_nothing_from_it(
    environ: dict[str, str], broken: str | bytes | None
) -> None:
    config = Path(environ["AWS_CONFIG_FILE"])
    if broken is None:
        config.unlink()
        config.mkdir()
    elif isinstance(broken, bytes):
        config.write_bytes(broken)
    else:
        config.write_text(broken)
    assert words("--profile ", environ) == ["base", "dev"]  # the credentials file still counts


def test_nothing_configured_offers_no_profile(tmp_path: Path) -> None:
    environ = {"AWS_CONFIG_FILE": str(tmp_path / "none"), "HOME": str(tmp_path)}
    environ["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "none2")
    assert words("--profile ", environ) == []


@pytest.mark.parametrize(
    ("line", "files"),
    [
        ("--cache-dir ", ""),
        ("--cache-dir /t", ""),
        ("--cache-dir=/t", "--cache-dir="),
        ("env --log-file ", ""),
        ("--web-identity-token-file=", "--web-identity-token-file="),
        ("--role-arn r --policy @", "@"),
        ("--role-arn r --policy=@/tmp/p", "--policy=@"),
    ],
)
def test_paths_are_left_to_the_shell(line: str, files: str) -> None:
    assert complete(line.split(" "), {}) == Completions(files=files)


def test_a_policy_that_is_json_is_not_a_file() -> None:
    assert complete(["--policy", "{"], {}) == Completions()


@pytest.mark.parametrize("line", ["exec -- ", "exec -- aws s", "exec --profile dev -- terraform "])
def test_after_double_dash_the_command_completes_itself(line: str) -> None:
    assert complete(line.split(" "), {}) == Completions(command=True)


def test_wrap_its_flags_and_its_command() -> None:
    assert words("w") == ["wrap"]
    assert {"--key-env", "--max-age", "--timeout", "--profile", "--cache-dir"} <= set(
        words("wrap --")
    )
    assert "--role-arn" not in words("wrap --")
    assert complete(["wrap", "--timeout", "30", "--", "saml2aws", "l"], {}) == Completions(
        command=True
    )


def test_a_command_without_positionals_offers_its_flags_on_an_empty_word() -> None:
    assert "--format" in words("env ")
    assert words("env x") == []


def test_cache_list_has_its_own_flags() -> None:
    offered = words("cache list --")
    assert "--json" in offered
    assert "--all" not in offered
    assert "--role-arn" not in offered
    assert "--all" in words("cache clear --")


def test_the_answer_the_scripts_read() -> None:
    found = Completions((Candidate("--format", "the format"), Candidate("sh")))
    assert render(found, describe=True) == "--format\tthe format\nsh\n"
    assert render(found, describe=False) == "--format\nsh\n"
    assert render(Completions(files="--cache-dir="), describe=True) == "\tfiles\t--cache-dir=\n"
    assert render(Completions(command=True), describe=False) == "\tcommand\n"
    assert render(Completions(), describe=True) == ""


def test_descriptions_are_one_short_line() -> None:
    for candidate in complete(["--"], {}).words:
        assert "\n" not in candidate.description
        assert len(candidate.description) <= 60


def test_it_never_reads_past_what_argparse_would(environ: dict[str, str]) -> None:
    # A value that looks like a command is a value: "--profile env" does not switch commands.
    assert words("--profile env --for", environ) == []
    assert words("--profile env --reg", environ) == ["--region"]


def test_sso_its_actions_and_session_names(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[sso-session corp]\nsso_start_url = https://x.awsapps.com/start\n"
        "[sso-session lab]\n[profile dev]\nsso_session = corp\n"
    )
    environ = {"AWS_CONFIG_FILE": str(config)}
    assert "sso" in words("s")
    assert words("sso ") == ["login", "logout", "populate"]
    assert words("sso populate --sso-session ", environ) == ["corp", "lab"]
    assert words("sso logout --sso-session=l", environ) == ["--sso-session=lab"]
    assert words("--sso-session c", environ) == ["corp"]
    assert words("sso populate --profile ", environ) == ["dev"]
    assert "--no-prune" in words("sso populate --")
    config.write_text("[sso-session broken\n")
    assert words("sso login --sso-session ", environ) == []
