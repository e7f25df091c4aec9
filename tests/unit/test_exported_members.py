"""The public Python surface, pinned: a change here is a change users see."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import credproc
from credproc.config.options import REQUEST_OPTIONS

PUBLIC = [
    "AuthError",
    "ConfigError",
    "Credentials",
    "CredprocError",
    "LockTimeoutError",
    "LoopError",
    "MfaError",
    "Options",
    "ServiceUnavailableError",
    "StsUnavailableError",
    "UsageError",
    "__version__",
    "get_credentials",
    "session",
]


def test_all_and_dir_are_the_pinned_surface() -> None:
    assert credproc.__all__ == PUBLIC
    assert dir(credproc) == PUBLIC


def test_every_exported_name_resolves() -> None:
    for name in credproc.__all__:
        assert getattr(credproc, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = credproc.nothing


def test_errors_and_their_exit_codes() -> None:
    codes = {
        name: getattr(credproc, name).exit_code
        for name in credproc.__all__
        if name.endswith("Error")
    }
    assert codes == {
        "CredprocError": 1,
        "UsageError": 2,
        "ConfigError": 3,
        "AuthError": 4,
        "ServiceUnavailableError": 5,
        "StsUnavailableError": 5,
        "LockTimeoutError": 6,
        "LoopError": 7,
        "MfaError": 8,
    }
    for name in codes:
        assert issubclass(getattr(credproc, name), credproc.CredprocError)
    # The former name of the error for any AWS service being unreachable: the same class, so
    # code that catches it catches every outage.
    assert credproc.StsUnavailableError is credproc.ServiceUnavailableError


def test_the_api_takes_the_command_lines_options() -> None:
    cli_options = {o.dest for o in REQUEST_OPTIONS} - {"role_arn", "source_profile"}
    assert set(credproc.Options.__annotations__) == cli_options
    session = inspect.signature(credproc.session).parameters
    assert list(session) == ["role_arn", "source_profile", "region_name", "options"]
    assert list(inspect.signature(credproc.get_credentials).parameters) == [
        "role_arn",
        "source_profile",
        "options",
    ]


@pytest.mark.integration  # a fresh interpreter
def test_import_credproc_loads_nothing_until_a_name_is_used() -> None:
    """Every run of the command imports the package: it loads none of its modules (but the
    hit's own, credproc.core.hit, when run) until a public name is used."""
    probe = (
        "import sys, credproc\n"
        "print(sorted(m for m in sys.modules if m.startswith('credproc.') or m.split('.')[0] in "
        "('boto3', 'botocore', 'logging', 'filelock', 'json', 're', 'typing')))\n"
        "credproc.UsageError\n"
        "print('credproc.errors' in sys.modules, 'credproc.api' in sys.modules)\n"
        "credproc.session\n"
        "print('credproc.api' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["[]", "True False", "True"]
