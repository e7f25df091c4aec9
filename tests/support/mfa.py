"""An MFA token command for the tests: no test ever prompts on the developer's terminal."""

from __future__ import annotations

from pathlib import Path


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
