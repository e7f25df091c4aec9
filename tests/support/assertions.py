"""Helpers shared by the MFA, role chaining and web identity tests."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Protocol

MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"


class Outcome(Protocol):
    returncode: int
    stdout: str
    stderr: str


def assert_fails(result: Outcome, exit_code: int, *words: str) -> str:
    """The failure contract: the exit code, empty stdout, one ``credproc: error:`` line."""
    assert result.returncode == exit_code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("credproc: error: "), result.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


class TokenCommand:
    """An MFA token command that prints a fixed code and counts its own runs in a file."""

    def __init__(self, directory: Path, code: str = "123456", status: int = 0) -> None:
        self.code = code
        self.runs_file = directory / "token-runs"
        self.path = directory / "token-command"
        self.path.write_text(
            f"#!/bin/sh\necho run >> '{self.runs_file}'\nprintf '%s\\n' '{code}'\nexit {status}\n"
        )
        self.path.chmod(0o755)

    def __str__(self) -> str:
        return str(self.path)

    def runs(self) -> int:
        if not self.runs_file.exists():
            return 0
        return len(self.runs_file.read_text().splitlines())


def wait_all(processes: list[subprocess.Popen[str]], timeout: float = 90) -> list[Outcome]:
    """Collect every process, each with a timeout: a deadlock fails the test, never hangs it."""
    results: list[Outcome] = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=timeout)
        results.append(_Done(process.returncode, stdout, stderr))
    return results


class _Done:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
