"""The command line of a command that takes only table options, read without argparse.

A run that resolves its options (a miss, or the first run after the AWS config changed; a
hit skips even this, see ``core.hit``) would pay for importing argparse (and gettext), for its
parser, built from two dozen options, and for the gettext look-ups it makes. Ordinary
command lines, ``--flag value``, ``--flag=value`` and switches, are read here; anything else
(help, a version request, an unknown flag, a switch given a value, a value that starts with
``-``, a positional argument) goes to argparse (``config.parser``, which ``cli.main`` loads
only then), which gives its own answer or error. A test checks that both read every command
line they both accept alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..config.options import Option
from ..core.typed import TYPE_CHECKING

if TYPE_CHECKING:
    from argparse import Namespace
else:
    # argparse's Namespace is a bag of attributes; this is the same bag without argparse.
    from types import SimpleNamespace as Namespace


def parse(argv: Sequence[str], options: Sequence[Option]) -> Namespace | None:
    """The arguments as argparse would parse them, or None where argparse must decide."""
    by_flag = {flag: option for option in options for flag in option.flags}
    values: dict[str, object] = {o.dest: False if o.switch else None for o in options}
    lists: dict[str, list[str]] = {}
    words = iter(argv)
    for word in words:
        flag, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        option = by_flag.get(flag)
        if option is None:
            return None  # not one of ours: help, --version, a typo, a positional, "--"
        if option.switch:
            if equals:
                return None
            values[option.dest] = True
            continue
        if not equals:
            value = next(words, "-")
            if value.startswith("-"):
                return None  # a missing value, or one argparse may take for an option
        if option.many:
            lists.setdefault(option.dest, []).append(value)
        else:
            values[option.dest] = value
    return Namespace(**{**values, **lists})
