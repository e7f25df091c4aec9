"""Environment variables as lines for a shell (or a .env file) to read back verbatim."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

FORMATS = ("sh", "fish", "powershell", "dotenv")
_PLAIN = re.compile(r"[\w/+=.:@,-]*")


def render(variables: Mapping[str, str], shell_format: str) -> str:
    line = {
        "sh": lambda k, v: f"export {k}={shlex.quote(v)}",
        "fish": lambda k, v: f"set -gx {k} {_fish_quote(v)};",
        "powershell": lambda k, v: f"$Env:{k} = '{v.replace(chr(39), chr(39) * 2)}'",
        "dotenv": lambda k, v: f"{k}={_dotenv_quote(v)}",
    }[shell_format]
    return "".join(line(key, value) + "\n" for key, value in variables.items())


def _fish_quote(value: str) -> str:
    # Inside fish's single quotes only backslash and the quote itself are special.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _dotenv_quote(value: str) -> str:
    if _PLAIN.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
