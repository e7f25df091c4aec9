"""A warm env and exec (credproc.core.warm): the variables come from the ready answer exactly as
Credentials.to_env gives them, and anything that is not the answer credproc writes is left to
the long way."""

from __future__ import annotations

import shlex
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credproc.cli.render import environment
from credproc.core.credentials import Credentials
from credproc.core.warm import answer_variables, lines

CREDENTIALS = Credentials(
    "ASIAEXAMPLE",
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCY=EXAMPLE",
    "FwoGZXIvYXdzE//token+with/slashes==",
    datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
)


def _answer(credentials: Credentials = CREDENTIALS) -> bytes:
    return (credentials.to_process_json() + "\n").encode()


def test_the_variables_are_to_envs_and_the_regions() -> None:
    expected = CREDENTIALS.to_env()
    assert answer_variables(_answer(), "") == expected
    with_region = {**expected, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}
    assert answer_variables(_answer(), "eu-west-1") == with_region


@pytest.mark.parametrize(
    "answer",
    [
        # json.dumps escapes these: the long way decodes them, the warm way does not try.
        _answer(CREDENTIALS._replace(session_token='tok"en')),
        _answer(CREDENTIALS._replace(session_token="tok\u00e9n")),
        _answer()[:-3],  # cut short
        _answer().replace(b'"Version":1', b'"Version":2'),
        _answer().replace(b"}", b',"Extra":"x"}'),
        b"",
    ],
)
def test_an_answer_it_does_not_know_goes_the_long_way(answer: bytes) -> None:
    assert answer_variables(answer, "") is None


@given(st.text(st.characters(exclude_characters="\0", exclude_categories=["Cs"])))
def test_sh_quotes_as_shlex_does(value: str) -> None:
    """The sh format without shlex (a warm run loads no re): the same as shlex.quote."""
    assert lines({"V": value}, "sh") == f"export V={shlex.quote(value)}\n"


def test_the_long_way_writes_the_warm_ways_lines() -> None:
    variables = answer_variables(_answer(), "eu-west-1")
    assert variables is not None
    for shell_format in ("sh", "fish", "powershell", "dotenv"):
        assert environment(variables, shell_format) == lines(variables, shell_format)
    assert environment(variables, "zsh") == lines(variables, "sh")


def test_a_value_dotenv_cannot_hold_goes_the_long_way() -> None:
    """The long way then says which variable, and exits with a usage error."""
    assert lines({"A": "a'b\\c"}, "dotenv") is None
    assert lines({"A": "a'b\\c"}, "sh") == "export A='a'\"'\"'b\\c'\n"
    assert lines({"A": ""}, "sh") == "export A=''\n"
