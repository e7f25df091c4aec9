"""Shell completion: what may come next on a credproc command line, read from its declaration.

The scripts ``credproc completion SHELL`` prints are small and fixed; at each Tab they run
``credproc completion SHELL -- WORD...`` (the words after ``credproc``, the last one being
completed) and show what this module finds. Everything comes from ``config.syntax``, the
declaration argparse's parsers are built from: the commands, each one's flags with their help,
its actions and positional arguments, and the values an option or argument takes, from its
choices or its metavar (``options.PROFILE``, ``PATH``, ``JSON_OR_FILE``). A new option or
command needs no change here. Profile names are
read at each Tab, from the files ``AWS_CONFIG_FILE`` and ``AWS_SHARED_CREDENTIALS_FILE`` name,
and so are the ``[sso-session NAME]`` names (``options.SESSION``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from ..config.awsconfig import config_profiles, credentials_profiles, sso_sessions
from ..config.options import JSON_OR_FILE, PATH, PROFILE, SESSION, Option
from ..config.syntax import COMMANDS, Argument, Command, command
from ..errors import CredprocError

if TYPE_CHECKING:
    from typing import TypeAlias

    Flag: TypeAlias = Option | Argument

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
    line = _Line(command(name))
    for word in before[1:] if name else before:
        line.read(word)
    if line.command is not None:
        return Completions(command=True)
    if line.expecting is not None:
        return _values(line.expecting, current, "", environ)
    if current.startswith("--") and "=" in current:
        flag, _, value = current.partition("=")
        found = line.flag(flag)
        if found is None or found.switch:
            return Completions()
        return _values(found, value, f"{flag}=", environ)
    if current.startswith("-"):
        return Completions(_matching(line.flags(current), current))
    if not before:
        commands = [Candidate(n, declared.summary) for n, declared in COMMANDS.items()]
        return Completions(_matching(commands, current))
    offered = line.positional(current, environ)
    if offered.words or offered.files is not None or current:
        return offered
    return Completions(_matching(line.flags(""), ""))  # nothing else goes here: the flags


class _Line:
    """A command line read word by word as argparse would take it, up to the current word."""

    def __init__(self, declared: Command) -> None:
        self.declared = declared
        self.expecting: Flag | None = None  # an option waiting for its value
        self.given: set[str] = set()
        self.positionals = 0
        self.command: list[str] | None = None  # the words after "--"

    def read(self, word: str) -> None:
        if self.command is not None:
            self.command.append(word)
        elif self.expecting is not None:
            self.expecting = None
        elif word == "--" and self.declared.takes_command:
            self.command = []
        elif word.startswith("-") and word != "-":
            flag, equals, _ = word.partition("=")
            found = self.flag(flag)
            if found is not None:
                self.given.add(found.dest)
                if not found.switch and not equals:
                    self.expecting = found
        else:
            slot = self._next_positional()
            actions = slot is not None and not isinstance(slot, Argument)
            chosen = self.declared.action(word) if actions else None
            if chosen is not None:
                self.declared = chosen
                self.given, self.positionals = set(), 0
            elif slot is not None:
                self.positionals += 1

    def flag(self, flag: str) -> Flag | None:
        return next((found for found in self.declared.flags() if flag in found.flags), None)

    def _next_positional(self) -> Argument | tuple[Command, ...] | None:
        """The positional argument the next word fills: one of the command's own, or the
        choice of one of its actions, which comes after them."""
        slots: list[Argument | tuple[Command, ...]] = [*self.declared.positionals()]
        if self.declared.actions:
            slots.append(self.declared.actions)
        if self.positionals < len(slots):
            return slots[self.positionals]
        last = slots[-1] if slots else None
        return last if isinstance(last, Argument) and last.many else None  # PROFILE...

    def flags(self, current: str) -> list[Candidate]:
        """Every flag of the command, but those already given once (unless repeatable); the
        short ones only for a bare "-"."""
        found = []
        for declared in self.declared.flags():
            repeatable = declared.many
            if declared.dest in self.given and not repeatable:
                continue
            for flag in declared.flags:
                if flag.startswith("--") or current == "-":
                    found.append(Candidate(flag, _short(declared.help_text())))
        return found

    def positional(self, current: str, environ: Mapping[str, str]) -> Completions:
        slot = self._next_positional()
        if slot is None:
            return Completions()
        if not isinstance(slot, Argument):  # the command's actions
            names = [Candidate(action.name, _short(action.summary)) for action in slot]
            return Completions(_matching(names, current))
        return _values(slot, current, "", environ)


def _values(
    declared: Flag | Argument, current: str, prefix: str, environ: Mapping[str, str]
) -> Completions:
    """The values ``declared`` takes that start with ``current``, each after ``prefix``."""
    choices: Iterable[str] = declared.choices
    if declared.metavar == PROFILE:
        choices = profile_names(environ)
    elif declared.metavar == SESSION:
        choices = session_names(environ)
    elif declared.metavar == PATH:
        return Completions(files=prefix)
    elif declared.metavar == JSON_OR_FILE:
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


def session_names(environ: Mapping[str, str]) -> list[str]:
    """Every [sso-session NAME] of the config file; none if it cannot be read or parsed."""
    try:
        return sorted(sso_sessions(environ))
    except (CredprocError, OSError, ValueError):
        return []


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
