"""What the commands print for people and shells to read: environment variables as lines for
a shell (or a .env file) to read back verbatim (``env``), and rows as an aligned table
(``cache list``, ``keys list``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..config.syntax import ENV_FORMAT_ALIASES, ENV_FORMATS
from ..core.warm import lines
from ..errors import UsageError


def environment(variables: Mapping[str, str], shell_format: str) -> str:
    """The variables in one of ``syntax.ENV_FORMATS`` (or a name for one). The lines are
    ``core.warm``'s, which a warm ``env`` prints through the fence: the same bytes either way."""
    shell_format = ENV_FORMAT_ALIASES.get(shell_format, shell_format)
    if shell_format not in ENV_FORMATS:
        raise UsageError(f"unknown --format {shell_format!r}")
    text = lines(variables, shell_format)
    if text is None:  # only .env has values it cannot hold: name the first
        key = next(k for k, v in variables.items() if lines({k: v}, shell_format) is None)
        raise UsageError(
            f"{key} has a value that .env readers would not all read back unchanged; "
            "use another --format"
        )
    return text


def table(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> str:
    """A header of the column names in capitals, then one line per row, columns aligned."""
    lines = [[column.upper().replace("_", " ") for column in columns]]
    lines += [[str(row[column]) for column in columns] for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in lines
    )
