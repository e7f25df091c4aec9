"""What the commands print for people and shells to read: environment variables as lines for
a shell (or a .env file) to read back verbatim (``env``), a listing as JSON, a line saying it
is empty, or an aligned table (``cache list``, ``keys list``), and a time left as 1h05m
(``cache list``, ``doctor``)."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence

from ..config.syntax import ENV_FORMAT_ALIASES
from ..errors import UsageError

_PLAIN = re.compile(r"[A-Za-z0-9_/+=.:@,-]*")
# PowerShell ends a single-quoted string at any of these, not only at the ASCII quote.
_POWERSHELL_QUOTES = re.compile("(['\u2018\u2019\u201a\u201b])")


def environment(variables: Mapping[str, str], shell_format: str) -> str:
    """The variables in one of ``syntax.ENV_FORMATS`` (or a name for one)."""
    shell_format = ENV_FORMAT_ALIASES.get(shell_format, shell_format)
    return "".join(_line(key, value, shell_format) + "\n" for key, value in variables.items())


def _line(key: str, value: str, shell_format: str) -> str:
    if shell_format == "sh":
        return f"export {key}={shlex.quote(value)}"
    if shell_format == "fish":
        return f"set -gx {key} {_fish_quote(value)};"
    if shell_format == "powershell":
        doubled = _POWERSHELL_QUOTES.sub(r"\1\1", value)
        return f"$Env:{key} = '{doubled}'"
    return f"{key}={_dotenv_quote(key, value)}"


def _fish_quote(value: str) -> str:
    # Inside fish's single quotes only backslash and the quote itself are special.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _dotenv_quote(key: str, value: str) -> str:
    """A form that docker compose, python-dotenv and node's dotenv all read back unchanged.

    Bare or single-quoted values are literal to all three; in double quotes they agree only on
    ``\\n``. Their other escapes and their ``$`` expansion disagree, so a value that needs them
    is refused rather than written in a form some reader would change."""
    if _PLAIN.fullmatch(value):
        return value
    if not re.search(r"['\\\n\r]|\$\{", value):
        return f"'{value}'"
    if not re.search(r'["\\\r$]', value):
        return '"' + value.replace("\n", "\\n") + '"'
    raise UsageError(
        f"{key} has a value that .env readers would not all read back unchanged; "
        "use another --format"
    )


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
