"""``credproc exec -- COMMAND``: run a command with the role's credentials in its environment;
with no command, the user's shell (as aws-vault and similar tools do)."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import CredprocError
from ..options import OPTIONS as EVERY_OPTION
from .env import role_environment

OPTIONS = EVERY_OPTION
# The child must use the role, not the profile its parent used to run credproc.
PROFILE_VARIABLES = frozenset({"AWS_PROFILE", "AWS_DEFAULT_PROFILE"})


class CannotRunError(CredprocError):
    """The command cannot be run: exits as a shell would, 127 (not found) or 126."""

    def __init__(self, command: str, error: OSError) -> None:
        super().__init__(f"cannot run {command!r}: {error.strerror}")
        self.exit_code = 127 if isinstance(error, FileNotFoundError) else 126


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = "%(prog)s [options] [-- COMMAND [ARG ...]]"
    parser.epilog = (
        "Runs COMMAND with the role's credentials in its environment. With no command (nothing "
        "after --, or no --), starts your $SHELL (else /bin/sh) with them; exit it to drop them."
    )


def run(args: argparse.Namespace) -> int:
    child_env = {k: v for k, v in os.environ.items() if k not in PROFILE_VARIABLES}
    child_env.update(role_environment(args))
    command: list[str] = args.command_line or [os.environ.get("SHELL") or "/bin/sh"]
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        # Become the command: signals reach it directly and its exit status is ours.
        try:
            os.execvpe(command[0], command, child_env)  # noqa: S606
        except OSError as error:
            raise CannotRunError(command[0], error) from None
    import subprocess  # noqa: PLC0415

    try:
        return subprocess.call(command, env=child_env)
    except OSError as error:
        raise CannotRunError(command[0], error) from None
