"""`credproc env`: the role's credentials as variables, for a shell (sh, fish, PowerShell) or
a .env file, the same values as the credential_process document."""

from __future__ import annotations

import io

import dotenv
import pytest
from support.environment import ENV_NAMES, PRINT_ENV, expected_env
from support.sandbox import Sandbox
from support.tools import require


@pytest.mark.integration
@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_env_evaluated_by_a_shell_sets_what_the_json_says(sandbox: Sandbox, shell: str) -> None:
    document = sandbox.credproc(*sandbox.role_args()).json()
    args = " ".join(sandbox.role_args())
    result = sandbox.run([shell, "-c", f'eval "$(credproc env {args})" && {PRINT_ENV}'])

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected_env(document)
    assert sandbox.server.calls("AssumeRole") == 1  # env was a cache hit


@pytest.mark.integration
@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_env_format_named_after_the_shell(sandbox: Sandbox, shell: str) -> None:
    # --format bash and --format zsh: what people type, read by that very shell.
    program = require(shell)
    document = sandbox.credproc(*sandbox.role_args()).json()
    args = " ".join(sandbox.role_args())
    script = f'eval "$(credproc env --format {shell} {args})" && {PRINT_ENV}'
    result = sandbox.run([program, "-f" if shell == "zsh" else "--norc", "-c", script])

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected_env(document)
    same = sandbox.credproc("env", "--format", "sh", *sandbox.role_args()).stdout
    assert sandbox.credproc("env", "--format", shell, *sandbox.role_args()).stdout == same


def test_env_dotenv_and_other_formats_carry_the_same_values(sandbox: Sandbox) -> None:
    document = sandbox.main(*sandbox.role_args()).json()
    dotenv_text = sandbox.main("env", "--format", "dotenv", *sandbox.role_args()).stdout
    fish = sandbox.main("env", "--format", "fish", *sandbox.role_args()).stdout
    powershell = sandbox.main("env", "--format", "powershell", *sandbox.role_args()).stdout

    values = dotenv.dotenv_values(stream=io.StringIO(dotenv_text))
    assert [values[name] for name in ENV_NAMES] == expected_env(document)
    secret = str(document["SecretAccessKey"])
    assert f"set -gx AWS_SECRET_ACCESS_KEY '{secret}';\n" in fish
    assert f"$Env:AWS_SECRET_ACCESS_KEY = '{secret}'\n" in powershell
    assert sandbox.server.calls("AssumeRole") == 1


def test_env_with_a_bad_format_is_a_usage_error(sandbox: Sandbox) -> None:
    result = sandbox.main("env", "--format", "tcsh", *sandbox.role_args())

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("credproc: error: argument --format: invalid choice")
    assert sandbox.server.calls() == 0
