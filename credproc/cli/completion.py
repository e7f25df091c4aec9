"""Shell completion: what may come next on a credproc command line, read from the parsers.

The scripts ``credproc completion SHELL`` prints are small and fixed; at each Tab they run
``credproc completion SHELL -- WORD...`` (the words after ``credproc``, the last one being
completed) and show what this module finds. Everything comes from the parser ``cli`` builds
for each command of the registry (``commands.COMMANDS``): the commands, each one's flags
with their help, its subcommands and positional arguments, and the values an option takes,
from its choices (argparse's, or the option table's) or its metavar (``options.PROFILE``,
``PATH``, ``JSON_OR_FILE``). A new option or command needs no change here. Profile names are
read at each Tab, from the files ``AWS_CONFIG_FILE`` and ``AWS_SHARED_CREDENTIALS_FILE`` name.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from ..config.awsconfig import config_profiles, credentials_profiles
from ..config.options import BY_DEST, JSON_OR_FILE, PATH, PROFILE
from ..errors import CredprocError
from .commands import COMMANDS
from .main import command_parser

DESCRIPTION_LENGTH = 60


class Candidate(NamedTuple):
    word: str
    description: str = ""


class Completions(NamedTuple):
    """What the shell should offer: these words, or a file name (after ``files``, a prefix
    of the current word such as ``--cache-dir=`` or ``@``), or, after ``--``, whatever
    completes the command line that follows."""

    words: tuple[Candidate, ...] = ()
    files: str | None = None
    command: bool = False


def complete(words: Sequence[str], environ: Mapping[str, str]) -> Completions:
    """Completions for the last of ``words`` (the words after ``credproc``; "" when a new
    word is starting)."""
    *before, current = list(words) or [""]
    name = before[0] if before and before[0] in COMMANDS else ""
    parser = command_parser(name)
    line = _Line(parser, takes_command=(COMMANDS[name].takes_command if name else False))
    for word in before[1:] if name else before:
        line.read(word)
    if line.command is not None:
        return Completions(command=True)
    if line.expecting is not None:
        return _values(line.expecting, current, "", environ)
    if current.startswith("--") and "=" in current:
        flag, _, value = current.partition("=")
        action = line.parser._option_string_actions.get(flag)
        if action is None or not _takes_value(action):
            return Completions()
        return _values(action, value, f"{flag}=", environ)
    if current.startswith("-"):
        return Completions(_matching(line.flags(current), current))
    if not before:
        commands = [Candidate(n, command.summary) for n, command in COMMANDS.items()]
        return Completions(_matching(commands, current))
    found = line.positional(current, environ)
    if found.words or found.files is not None or current:
        return found
    return Completions(_matching(line.flags(""), ""))  # nothing else goes here: the flags


class _Line:
    """A command line read word by word as argparse would take it, up to the current word."""

    def __init__(self, parser: argparse.ArgumentParser, *, takes_command: bool) -> None:
        self.parser = parser
        self.takes_command = takes_command
        self.expecting: argparse.Action | None = None  # an option waiting for its value
        self.given: set[str] = set()
        self.positionals = 0
        self.command: list[str] | None = None  # the words after "--"

    def read(self, word: str) -> None:
        if self.command is not None:
            self.command.append(word)
        elif self.expecting is not None:
            self.expecting = None
        elif word == "--" and self.takes_command:
            self.command = []
        elif word.startswith("-") and word != "-":
            flag, equals, _ = word.partition("=")
            action = self.parser._option_string_actions.get(flag)
            if action is not None:
                self.given.add(action.dest)
                if _takes_value(action) and not equals:
                    self.expecting = action
        else:
            action = self._next_positional()
            if isinstance(action, argparse._SubParsersAction) and word in action.choices:
                self.parser = action.choices[word]
                self.given, self.positionals = set(), 0
            elif action is not None:
                self.positionals += 1

    def _next_positional(self) -> argparse.Action | None:
        positionals = [action for action in self.parser._actions if not action.option_strings]
        return positionals[self.positionals] if self.positionals < len(positionals) else None

    def flags(self, current: str) -> list[Candidate]:
        """Every flag of the command, but those already given once (unless repeatable); the
        short ones only for a bare "-"."""
        found = []
        for action in self.parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            repeatable = isinstance(action, argparse._AppendAction)
            if action.dest in self.given and not repeatable:
                continue
            for flag in action.option_strings:
                if flag.startswith("--") or current == "-":
                    found.append(Candidate(flag, _short(action.help)))
        return found

    def positional(self, current: str, environ: Mapping[str, str]) -> Completions:
        action = self._next_positional()
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            names = [Candidate(name, _short(helps.get(name))) for name in action.choices]
            return Completions(_matching(names, current))
        if action is None:
            return Completions()
        return _values(action, current, "", environ)


def _values(
    action: argparse.Action, current: str, prefix: str, environ: Mapping[str, str]
) -> Completions:
    """The values ``action`` takes that start with ``current``, each after ``prefix``."""
    option = BY_DEST.get(action.dest)
    choices: Iterable[str] = action.choices or (option.choices if option else ()) or ()
    if action.metavar == PROFILE:
        choices = profile_names(environ)
    elif action.metavar == PATH:
        return Completions(files=prefix)
    elif action.metavar == JSON_OR_FILE:
        return Completions(files=prefix + "@") if current.startswith("@") else Completions()
    words = [Candidate(prefix + str(choice)) for choice in choices]
    return Completions(_matching(words, prefix + current))


def profile_names(environ: Mapping[str, str]) -> list[str]:
    """Every profile of the config and credentials files; a file that cannot be read or
    parsed offers none, and the other still does."""
    names: set[str] = set()
    for read in (config_profiles, credentials_profiles):
        try:
            names.update(read(environ))
        except (CredprocError, OSError, ValueError):
            continue
    return sorted(names)


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0


def _matching(candidates: Iterable[Candidate], current: str) -> tuple[Candidate, ...]:
    # A word with a line break would split into two candidates: none of ours has one.
    return tuple(
        c for c in candidates if c.word.startswith(current) and "\n" not in c.word and c.word
    )


def _short(text: str | None) -> str:
    """A help text as one short line, for the shells that show descriptions."""
    words = " ".join((text or "").split())
    if len(words) <= DESCRIPTION_LENGTH:
        return words
    return words[: DESCRIPTION_LENGTH - 3].rsplit(" ", 1)[0] + "..."
