"""The declaration of the command line is what argparse parses: every command and action, each
of its own arguments under its name, its choices enforced, and nothing it does not declare."""

from __future__ import annotations

import pytest

from credproc.cli.completion import complete
from credproc.config.parser import parser_for
from credproc.config.syntax import ACTION, COMMANDS, DEFAULT, Argument, Command
from credproc.errors import UsageError


def _every_command() -> list[object]:
    """(the words that pick it, its declaration) for every command and action."""
    found: list[tuple[list[str], Command]] = [([], DEFAULT)]
    for name, declared in COMMANDS.items():
        found.append(([name], declared))
        found.extend(([name, action.name], action) for action in declared.actions)
    return [pytest.param(words, each, id=" ".join(words) or "default") for words, each in found]


def _value(argument: Argument) -> str:
    return argument.choices[-1] if argument.choices else f"value-of-{argument.dest}"


@pytest.mark.parametrize(("words", "declared"), _every_command())
def test_every_argument_reaches_its_name(words: list[str], declared: Command) -> None:
    if declared.actions:
        return  # checked through each action
    argv: list[str] = []
    expected: dict[str, object] = {}
    exclusive: set[str] = set()
    for argument in declared.arguments:
        if argument.exclusive and argument.exclusive in exclusive:
            continue  # one of a group that excludes the others
        exclusive.add(argument.exclusive)
        value = _value(argument)
        expected[argument.dest] = True if argument.switch else [value] if argument.many else value
        argv += argument.flags[-1:]
        if not argument.switch:
            argv.append(value)
    parser = parser_for(COMMANDS[words[0]] if words else DEFAULT)
    parsed = vars(parser.parse_known_args([*words[1:], *argv])[0])
    assert {dest: parsed[dest] for dest in expected} == expected
    if len(words) == 2:
        assert parsed[ACTION] == words[1]
    for option in declared.options:
        assert option.dest in parsed


def test_choices_are_enforced_and_undeclared_flags_refused() -> None:
    with pytest.raises(UsageError, match="invalid choice"):
        parser_for(COMMANDS["env"]).parse_args(["--format", "cmd"])
    with pytest.raises(UsageError, match="unrecognized arguments: --json"):
        parser_for(COMMANDS["env"]).parse_args(["--json"])
    with pytest.raises(UsageError, match="not allowed with argument"):
        parser_for(COMMANDS["keys"]).parse_args(["add", "n", "--from-env", "--from-profile", "p"])


@pytest.mark.parametrize(("words", "declared"), _every_command())
def test_completion_offers_every_declared_flag(words: list[str], declared: Command) -> None:
    offered = {candidate.word for candidate in complete([*words, "--"], {}).words}
    declared_flags = {flag for each in declared.flags() for flag in each.flags}
    if declared.actions and not declared.arguments:
        assert offered == {"--help"}  # an action comes first
    else:
        assert offered == {flag for flag in declared_flags if flag.startswith("--")}
