"""`credproc env` formats: every value must come back byte for byte in the shell that reads it."""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import dotenv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.tools import require, require_path

from credproc.cli.render import environment, listing
from credproc.errors import UsageError

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


# Each shell, the format it reads, and how it is started on a script from stdin.
SHELLS = {
    "sh": ("sh", ["sh"]),
    "bash": ("sh", ["bash"]),
    "zsh": ("sh", ["zsh", "-f"]),
    "fish": ("fish", ["fish", "--no-config"]),
}


def _shell_roundtrip(shell: str, values: list[str]) -> list[str]:
    """The values after a trip through ``credproc env``'s lines and the real shell."""
    shell_format, argv = SHELLS[shell]
    require(argv[0], argv[0])
    variables = {f"V{i}": value for i, value in enumerate(values)}
    script = environment(variables, shell_format)
    script += "".join(f"printf '%s\\0' \"$V{i}\"\n" for i in range(len(values)))
    done = subprocess.run(
        argv,
        input=script.encode(),
        capture_output=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    return done.stdout.decode().split("\0")[:-1]


@pytest.mark.integration
@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_each_shell_reads_its_format_back_verbatim(shell: str) -> None:
    assert _shell_roundtrip(shell, AWKWARD) == AWKWARD


@pytest.mark.integration
@pytest.mark.parametrize("shell", ["sh", "fish"])
@settings(deadline=None, max_examples=40)  # a shell per example: no per-example deadline
@given(values=st.lists(TEXT, min_size=1, max_size=5))
def test_the_shell_reads_back_any_text(shell: str, values: list[str]) -> None:
    assert _shell_roundtrip(shell, values) == values


_QUOTES = "'\u2018\u2019\u201a\u201b"
# PowerShell is not packaged for Debian, so its quoting is checked against a model of its rules
# (the others above are checked by the real shells). Each statement as PowerShell reads it, and
# how it unescapes the quoted value.
READERS: dict[str, tuple[re.Pattern[str], Callable[[str], str]]] = {
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


def test_powershell_awkward_values() -> None:
    variables = {f"V{i}": value for i, value in enumerate(AWKWARD)}
    assert _read_back(environment(variables, "powershell"), "powershell") == variables


@given(values=st.lists(TEXT, min_size=1, max_size=4))
def test_powershell_quotes_any_text(values: list[str]) -> None:
    variables = {f"V{i}": value for i, value in enumerate(values)}
    assert _read_back(environment(variables, "powershell"), "powershell") == variables


def test_powershell_doubles_typographic_quotes_too() -> None:
    assert environment({"A": "x\u2019y'z"}, "powershell") == "$Env:A = 'x\u2019\u2019y''z'\n"


@pytest.mark.parametrize(
    "value",
    ["plain", "", "it's", "$HOME $x", "tab\there # not a comment", "two\nlines", "it's\nmine"],
)
def test_dotenv_values_read_back_through_python_dotenv(value: str) -> None:
    rendered = environment({"AWS_X": value, "AWS_Y": "after"}, "dotenv")

    assert dotenv.dotenv_values(stream=io.StringIO(rendered)) == {"AWS_X": value, "AWS_Y": "after"}


def test_dotenv_writes_credential_shaped_values_bare() -> None:
    value = "FQoGZXIvYXdzEBYaDA8h3q/+Mn1tVdu278B=="
    assert environment({"AWS_SESSION_TOKEN": value}, "dotenv") == f"AWS_SESSION_TOKEN={value}\n"


@pytest.mark.parametrize("value", ["${HOME}", "back\\slash", "both ' and \"", 'line\n"quoted"'])
def test_dotenv_refuses_values_readers_disagree_on(value: str) -> None:
    with pytest.raises(UsageError, match=r"^AWS_X has a value that \.env readers"):
        environment({"AWS_X": value}, "dotenv")


JS = Path(__file__).resolve().parents[1] / "js"


@pytest.mark.integration
def test_node_dotenv_reads_the_dotenv_format_back() -> None:
    """The docs name three .env readers; python-dotenv is above, node's dotenv is this."""
    node = require("node", "nodejs")
    require_path(JS / "node_modules" / "dotenv", "npm ci --prefix tests/js")
    values = [value for value in AWKWARD if "\\" not in value and "$" not in value]
    variables = {f"V{i}": value for i, value in enumerate(values)}
    done = subprocess.run(
        [
            node,
            "-e",
            "process.stdout.write(JSON.stringify(require('dotenv').parse("
            "require('fs').readFileSync(0, 'utf8'))))",
        ],
        input=environment(variables, "dotenv").encode(),
        capture_output=True,
        check=True,
        cwd=JS,
    )
    assert json.loads(done.stdout) == variables


def test_a_listing_is_json_or_its_empty_line_or_a_table() -> None:
    rows = [{"name": "dev", "key_id": "AKIA...WXYZ", "hidden": 1}]
    # --json: every row whole, whatever the table shows; [] when there are none.
    assert json.loads(listing(rows, ["name"], as_json=True, empty="none")) == rows
    assert listing([], ["name"], as_json=True, empty="none") == "[]\n"
    assert listing([], ["name"], as_json=False, empty="none here") == "none here\n"
    assert listing(rows, ["name", "key_id"], as_json=False, empty="none") == (
        "NAME  KEY ID\ndev   AKIA...WXYZ\n"
    )
