"""A nested credproc's failure, read back from the stderr botocore hands over, keeps its kind."""

from __future__ import annotations

import pytest

from credproc.errors import (
    AuthError,
    ConfigError,
    CredprocError,
    LockTimeoutError,
    LoopError,
    MfaError,
    ServiceUnavailableError,
    UsageError,
    nested_failure,
)

SOURCE = "source profile 'inner'"


@pytest.mark.parametrize(
    "kind",
    [
        CredprocError,
        UsageError,
        ConfigError,
        AuthError,
        ServiceUnavailableError,
        LockTimeoutError,
        MfaError,
    ],
)
def test_the_exit_code_marker_gives_the_kind(kind: type[CredprocError]) -> None:
    stderr = f"credproc: error: [exit {kind.exit_code}] what went wrong\n"
    error = nested_failure(stderr, SOURCE)
    assert type(error) is kind
    assert str(error) == f"{SOURCE} could not get credentials: what went wrong"


def test_a_loop_keeps_its_own_words() -> None:
    error = nested_failure("credproc: error: [exit 7] loop: credproc calls itself\n", SOURCE)
    assert type(error) is LoopError
    assert str(error) == "loop: credproc calls itself"
    # A credproc too old to mark its line: the loop's own marker still tells.
    assert type(nested_failure("credproc: error: loop: again\n", SOURCE)) is LoopError


def test_the_aws_cli_in_between_quotes_the_line_after_its_own_words() -> None:
    stderr = (
        "\nError when retrieving credentials from custom-process: "
        "credproc: error: [exit 6] another credproc process has been refreshing\n"
    )
    error = nested_failure(stderr, SOURCE)
    assert type(error) is LockTimeoutError
    assert str(error).endswith(": another credproc process has been refreshing")


def test_the_last_credproc_line_is_the_cause() -> None:
    stderr = "some warning\ncredproc: error: [exit 5] STS is down\ntrailing noise\n"
    error = nested_failure(stderr, SOURCE)
    assert type(error) is ServiceUnavailableError
    assert str(error).endswith(": STS is down")


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        ("vault: cannot unlock\n", "vault: cannot unlock"),  # another program: its last line
        ("credproc: error: [exit 99] odd\n", "odd"),  # a code credproc never uses
        ("credproc: error: [exit x] odd\n", "[exit x] odd"),  # not a marker
        ("credproc: error: no marker\n", "no marker"),  # a credproc that was not nested
        ("", "it failed without a message"),
    ],
)
def test_anything_else_is_a_failed_source(stderr: str, reason: str) -> None:
    error = nested_failure(stderr, SOURCE)
    assert type(error) is AuthError
    assert str(error) == f"{SOURCE} could not get credentials: {reason}"


class _NamedFileError(ConfigError):
    """An error class whose constructor takes other arguments than the message."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot read {path}: {reason}")
        self.path = path


def test_context_is_added_whatever_the_constructor_takes() -> None:
    error = _NamedFileError("/x/config", "no such file")

    def step() -> None:
        try:
            raise error
        except CredprocError as caught:
            raise caught.with_context("nothing was changed") from None

    with pytest.raises(_NamedFileError) as raised:
        step()

    assert raised.value is error  # the same error: its class, exit code and attributes kept
    assert raised.value.exit_code == 3
    assert raised.value.path == "/x/config"
    assert str(raised.value) == "cannot read /x/config: no such file; nothing was changed"


def test_context_may_lead_and_follow_and_nests_in_order() -> None:
    error = AuthError("denied").with_context("first").with_context("stored it", lead=True)
    error = error.with_context("outer", lead=True).with_context("last")

    assert str(error) == "outer: stored it: denied; first; last"
    assert str(UsageError("plain")) == "plain"  # no context: the words as given
