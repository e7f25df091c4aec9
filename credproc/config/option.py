"""One row of the option table (``options``): what an option is, and how a row is written."""

from __future__ import annotations

from ..core.lean import NamedTuple

# An option's kind: see ``options``.
IDENTITY, BEHAVIOUR, SELECT, OUTPUT = "identity", "behaviour", "select", "output"
CONSOLE = "console"


class Option(NamedTuple):
    dest: str
    flags: tuple[str, ...]  # the long flag last: it names the option in messages
    help: str
    kind: str
    metavar: str | None = None
    profile_key: str | None = None
    env: str | None = None
    many: bool = False  # repeatable: a list of values
    switch: bool = False  # takes no value
    default: object = None  # shown in help and docs; resolve applies it
    bounds: tuple[float, float | None] | None = None  # inclusive, for numbers of seconds
    needs: str | None = None
    group: str = "role"  # "role", "cache" or "output": which commands take it
    choices: tuple[str, ...] = ()  # the values it takes, when they are a fixed few

    @property
    def flag(self) -> str:
        return self.flags[-1]

    def help_text(self) -> str:
        """The help line: the text, then bounds, default and variable from the row itself."""
        extras = []
        if self.choices:
            extras.append("|".join(self.choices))
        if self.bounds is not None:
            low, high = self.bounds
            extras.append(f"{low:g}..{high:g}" if high is not None else f"at least {low:g}")
        if self.default is not None and not self.switch:
            extras.append(
                f"default {self.default:g}"
                if isinstance(self.default, (int, float))
                else f"default {self.default}"
            )
        text = self.help + (f" ({', '.join(extras)})" if extras else "")
        return text + (f"; env {self.env}" if self.env else "")


def _option(
    dest: str,
    text: str,
    kind: str = IDENTITY,
    *,
    flag: str | None = None,
    short: str | None = None,
    metavar: str | None = None,
    profile_key: str | None = None,
    env: str | None = None,
    many: bool = False,
    switch: bool = False,
    default: object = None,
    bounds: tuple[float, float | None] | None = None,
    needs: str | None = None,
    group: str = "role",
    choices: tuple[str, ...] = (),
) -> Option:
    """A row; the flag is the dest's own name unless given (--policy-arn for policy_arns)."""
    long = "--" + (flag or dest.replace("_", "-"))
    flags = (short, long) if short else (long,)
    return Option(
        dest,
        flags,
        text,
        kind,
        metavar,
        profile_key,
        env,
        many,
        switch,
        default,
        bounds,
        needs,
        group,
        choices,
    )
