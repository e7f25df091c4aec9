"""``credproc env``: lines that export the role's credentials, for a shell or a .env file.

A run records what resolving its options read (``core.index``), with the format and region, so
that the next run of the same command line is answered by ``core.warm`` through the fence.
"""

from __future__ import annotations

import os
import sys

from ...config.options import BY_DEST, RawOptions
from ...config.resolve import resolve
from ...config.syntax import ENV_FORMAT_ALIASES
from ...core.index import Reads, recording, remember
from ...core.provider import get_credentials
from ...core.request import Request
from ...core.typed import TYPE_CHECKING
from ..refresh import from_aws
from ..render import environment

if TYPE_CHECKING:
    import argparse

# Read by the CLI itself rather than by resolution, and a warm run would not honour it: a
# record holds its value (unset), so setting it makes the next run the long way.
_LOG_FILE_VARIABLE = BY_DEST["log_file"].env or ""


def run(args: argparse.Namespace) -> int:
    request, reads = resolved(args)
    shell_format = ENV_FORMAT_ALIASES.get(args.format, args.format)
    sys.stdout.write(environment(role_environment(request), shell_format))
    sys.stdout.flush()
    if not (args.verbose or args.debug or args.log_file):  # a warm run would say nothing
        remember(args.argv, reads, request, shell_format)
    return 0


def resolved(args: argparse.Namespace) -> tuple[Request, Reads]:
    """The request, and what resolving it read (for ``remember``)."""
    with recording(os.environ, always=(_LOG_FILE_VARIABLE,)) as reads:
        return resolve(RawOptions.of(args), reads), reads


def role_environment(request: Request) -> dict[str, str]:
    """The role's credentials as variables, with the region when one is known."""
    variables = get_credentials(request, from_aws).to_env()
    if request.region:
        variables["AWS_REGION"] = variables["AWS_DEFAULT_REGION"] = request.region
    return variables
