"""What the commands print for people and shells to read: environment variables as lines for
a shell (or a .env file) to read back verbatim (``env``), a listing as JSON, a line saying it
is empty, or an aligned table (``cache list``, ``keys list``), and a time left as 1h05m
(``cache list``, ``doctor``)."""

from __future__ import annotations

import json
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


def listing(
    rows: Sequence[Mapping[str, object]], columns: Sequence[str], *, as_json: bool, empty: str
) -> str:
    """A list command's output: every row whole as JSON (``--json``, ``[]`` when there are
    none), else ``empty`` as a line when there are none, else the table of ``columns``."""
    if as_json:
        return json.dumps(list(rows), indent=2) + "\n"
    if not rows:
        return empty + "\n"
    return table(rows, columns)


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


def duration(left: float, *, seconds: bool = False) -> str:
    """1h05m or 7m; with ``seconds``, under a minute as 42s."""
    if seconds and 0 < left < 60:
        return f"{int(left)}s"
    if left <= 0:
        return "0m"
    hours, minutes = divmod(int(left) // 60, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"
