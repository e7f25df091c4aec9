"""``credproc exec -- COMMAND``: run a command with the role's credentials; with no command,
the user's shell (as aws-vault and similar tools do).

Plain, the command gets them as fixed variables and replaces credproc; the run records what
resolving its options read (``core.index``, the command line before ``--``), so that the next
one is answered by ``core.warm`` through the fence, with the same rules. With ``--server``,
credproc stays its parent and serves them from a local endpoint that keeps refreshing
(``credproc.endpoint.server``, ``credproc.endpoint.supervise``), for commands that outlive a token.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from ...config.options import RawOptions
from ...config.resolve import resolve
from ...core.index import remember
from ...core.log import logger
from ...core.provider import get_credentials
from ...core.warm import DEFAULT_SHELL, PROFILE_VARIABLES
from ...endpoint.server import Endpoint, default_profile_shadow
from ...endpoint.supervise import Supervisor, exit_status
from ...errors import CredprocError
from ...prompt.mfa import ask_only_in_foreground
from ..refresh import from_aws
from .env import resolved, role_environment

# The child must use the role, not the profile its parent used to run credproc; nor a session
# token of the parent's beside long-lived keys (a wrapped command's), which have none.
DROPPED_VARIABLES = frozenset({*PROFILE_VARIABLES, "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"})


class CannotRunError(CredprocError):
    """The command cannot be run: exits as a shell would, 127 (not found) or 126."""

    def __init__(self, command: str, error: OSError) -> None:
        super().__init__(f"cannot run {command!r}: {error.strerror}")
        self.exit_code = 127 if isinstance(error, FileNotFoundError) else 126


def run(args: argparse.Namespace) -> int:
    if args.server:
        return _serve(args)
    request, reads = resolved(args)
    child_env = {k: v for k, v in os.environ.items() if k not in DROPPED_VARIABLES}
    child_env.update(role_environment(request))
    command = _command(args)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        if not (args.verbose or args.debug or args.log_file):  # a warm run would say nothing
            argv: list[str] = args.argv
            remember(argv[: argv.index("--")] if "--" in argv else argv, reads, request)
        # Become the command: signals reach it directly and its exit status is ours.
        try:
            os.execvpe(command[0], command, child_env)  # noqa: S606
        except OSError as error:
            raise CannotRunError(command[0], error) from None
    try:
        return subprocess.call(command, env=child_env)
    except OSError as error:
        raise CannotRunError(command[0], error) from None


def _serve(args: argparse.Namespace) -> int:
    request = resolve(RawOptions.of(args), os.environ)
    # Once before the command starts: a bad setup fails with credproc's own line and status,
    # and an MFA prompt has the terminal to itself.
    get_credentials(request, from_aws)
    endpoint = Endpoint(lambda: get_credentials(request, from_aws))
    env = endpoint.command_environment(os.environ, request.region)
    try:
        shadow = default_profile_shadow(env)
    except CredprocError:
        shadow = None  # a config the command's own SDK will complain about
    # Set up now: the endpoint's threads may each be first to warn, and must share one handler.
    log = logger()
    if shadow:
        log.warning("%s", shadow)
    ask_only_in_foreground()
    command = _command(args)
    sys.stdout.flush()
    sys.stderr.flush()
    with Supervisor() as child, endpoint.serving():
        try:
            child.spawn(command, env)
        except OSError as error:
            raise CannotRunError(command[0], error) from None
        returncode = child.wait()
    return exit_status(returncode)


def _command(args: argparse.Namespace) -> list[str]:
    """The command after --, else the user's shell."""
    command: list[str] = args.command_line or [os.environ.get("SHELL") or DEFAULT_SHELL]
    return command
