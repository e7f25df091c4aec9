"""Environment variables as lines for a shell (or a .env file) to read back verbatim."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from ..errors import UsageError

FORMATS = ("sh", "fish", "powershell", "dotenv")  # the first is the default
# Other names people type for a format: bash and zsh read sh's lines as they are.
ALIASES = {"bash": "sh", "zsh": "sh"}
_PLAIN = re.compile(r"[A-Za-z0-9_/+=.:@,-]*")
# PowerShell ends a single-quoted string at any of these, not only at the ASCII quote.
_POWERSHELL_QUOTES = re.compile("(['\u2018\u2019\u201a\u201b])")


def render(variables: Mapping[str, str], shell_format: str) -> str:
    shell_format = ALIASES.get(shell_format, shell_format)
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
