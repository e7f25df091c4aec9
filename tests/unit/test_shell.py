"""`credproc env` formats: every value must come back byte for byte in the shell that reads it."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable

import dotenv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credproc.errors import UsageError
from credproc.shell import render

AWKWARD = [
    "plain",
    "",
    "it's",
    'say "hi"',
    "$HOME and ${HOME} and $(id) and `id`",
    "back\\slash\\\\ and \\'",
    "two\nlines\n",
    "tab\there; semi; # hash & amp | pipe * glob ~ tilde",
    "unicode \u00e9 \u2713 \u2018curly\u2019 quotes",
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCY=EXAMPLE",
]
# What a shell variable can hold: anything but NUL.
TEXT = st.text(st.characters(exclude_characters="\0", exclude_categories=["Cs"]))


def _shell_roundtrip(shell: str, values: list[str]) -> list[str]:
    variables = {f"V{i}": value for i, value in enumerate(values)}
    script = render(variables, "sh")
    script += "".join(f'printf "%s\\0" "$V{i}"\n' for i in range(len(values)))
    done = subprocess.run(
        [shell], input=script.encode(), capture_output=True, check=True, env={"PATH": "/bin"}
    )
    return done.stdout.decode().split("\0")[:-1]


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_sh_format_reads_back_verbatim(shell: str) -> None:
    assert _shell_roundtrip(shell, AWKWARD) == AWKWARD


@settings(deadline=None, max_examples=40)  # a shell per example: no per-example deadline
@given(st.lists(TEXT, min_size=1, max_size=5))
def test_sh_format_reads_back_any_text(values: list[str]) -> None:
    assert _shell_roundtrip("sh", values) == values


_QUOTES = "'\u2018\u2019\u201a\u201b"
# Each statement as the shell reads it, and how it unescapes the quoted value.
READERS: dict[str, tuple[re.Pattern[str], Callable[[str], str]]] = {
    # fish: inside single quotes only \' and \\ are escapes.
    "fish": (
        re.compile(r"set -gx (\w+) '((?:[^'\\]|\\.)*)';\n", re.DOTALL),
        lambda quoted: re.sub(r"\\(['\\])", r"\1", quoted),
    ),
    # PowerShell: any of its four single quotes, doubled, stands for one.
    "powershell": (
        re.compile(rf"\$Env:(\w+) = '((?:[^{_QUOTES}]|[{_QUOTES}]{{2}})*)'\n"),
        lambda quoted: re.sub(rf"([{_QUOTES}])[{_QUOTES}]", r"\1", quoted),
    ),
}


def _read_back(text: str, shell_format: str) -> dict[str, str]:
    statement, unescape = READERS[shell_format]
    variables: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = statement.match(text, position)
        assert match, text[position:]
        variables[match[1]] = unescape(match[2])
        position = match.end()
    return variables


@pytest.mark.parametrize("shell_format", ["fish", "powershell"])
def test_fish_and_powershell_awkward_values(shell_format: str) -> None:
    variables = {f"V{i}": value for i, value in enumerate(AWKWARD)}
    assert _read_back(render(variables, shell_format), shell_format) == variables


@pytest.mark.parametrize("shell_format", ["fish", "powershell"])
@given(values=st.lists(TEXT, min_size=1, max_size=4))
def test_fish_and_powershell_quote_any_text(shell_format: str, values: list[str]) -> None:
    variables = {f"V{i}": value for i, value in enumerate(values)}
    assert _read_back(render(variables, shell_format), shell_format) == variables


def test_powershell_doubles_typographic_quotes_too() -> None:
    assert render({"A": "x\u2019y'z"}, "powershell") == "$Env:A = 'x\u2019\u2019y''z'\n"


@pytest.mark.parametrize(
    "value",
    ["plain", "", "it's", "$HOME $x", "tab\there # not a comment", "two\nlines", "it's\nmine"],
)
def test_dotenv_values_read_back_through_python_dotenv(value: str) -> None:
    rendered = render({"AWS_X": value, "AWS_Y": "after"}, "dotenv")

    assert dotenv.dotenv_values(stream=io.StringIO(rendered)) == {"AWS_X": value, "AWS_Y": "after"}


def test_dotenv_writes_credential_shaped_values_bare() -> None:
    value = "FQoGZXIvYXdzEBYaDA8h3q/+Mn1tVdu278B=="
    assert render({"AWS_SESSION_TOKEN": value}, "dotenv") == f"AWS_SESSION_TOKEN={value}\n"


@pytest.mark.parametrize("value", ["${HOME}", "back\\slash", "both ' and \"", 'line\n"quoted"'])
def test_dotenv_refuses_values_readers_disagree_on(value: str) -> None:
    with pytest.raises(UsageError, match=r"^AWS_X has a value that \.env readers"):
        render({"AWS_X": value}, "dotenv")
