"""The hot path's reader of command lines reads each one exactly as argparse does, or leaves
it to argparse."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credproc.cli import fastargs
from credproc.config.parser import parser_for
from credproc.config.syntax import DEFAULT
from credproc.errors import UsageError

_WORDS = st.sampled_from(
    [
        *(flag for option in DEFAULT.options for flag in option.flags),
        "--role-arn=arn:aws:iam::123456789012:role/dev",
        "--tag=a=b",
        "--no-cache=yes",
        "--region=",
        "--role",
        "-vv",
        "-h",
        "--help",
        "--version",
        "--",
        "-",
        "-5",
        "--unknown",
        "value",
        "a=1",
        "",
        "with space",
        "3600",
    ]
)


def _argparse(argv: list[str]) -> dict[str, object] | None:
    try:
        return vars(parser_for(DEFAULT).parse_args(argv))
    except (UsageError, SystemExit, Exception):  # noqa: BLE001 - any refusal or exit
        return None


@settings(max_examples=2000, deadline=None)
@given(argv=st.lists(_WORDS, max_size=8))
def test_it_agrees_with_argparse_or_abstains(argv: list[str]) -> None:
    quick = fastargs.parse(argv, DEFAULT.options)
    if quick is not None:
        assert vars(quick) == _argparse(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["--role-arn", "arn", "--source-profile", "base"],
        ["--profile", "dev", "-v", "--tag", "a=1", "--tag", "b=2"],
        ["--role-arn=arn", "--no-cache", "--duration", "900"],
    ],
)
def test_ordinary_command_lines_are_read_without_argparse(argv: list[str]) -> None:
    quick = fastargs.parse(argv, DEFAULT.options)
    assert quick is not None
    assert vars(quick) == _argparse(argv)


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["--role-arn"], ["--role-arn", "-x"], ["--no-cache=1"], ["x"]],
)
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    assert fastargs.parse(argv, DEFAULT.options) is None
