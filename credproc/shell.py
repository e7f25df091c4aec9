"""Environment variables as lines for a shell (or a .env file) to read back verbatim."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

_PLAIN = re.compile(r"[\w/+=.:@,-]*")


def render(variables: Mapping[str, str], shell_format: str) -> str:
    return "".join(_line(key, value, shell_format) + "\n" for key, value in variables.items())


def _line(key: str, value: str, shell_format: str) -> str:
    if shell_format == "sh":
        return f"export {key}={shlex.quote(value)}"
    if shell_format == "fish":
        return f"set -gx {key} {_fish_quote(value)};"
    if shell_format == "powershell":
        return f"$Env:{key} = '{value.replace(chr(39), chr(39) * 2)}'"
    return f"{key}={_dotenv_quote(value)}"


def _fish_quote(value: str) -> str:
    # Inside fish's single quotes only backslash and the quote itself are special.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _dotenv_quote(value: str) -> str:
    if _PLAIN.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
