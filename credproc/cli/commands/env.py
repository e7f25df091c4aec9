"""``credproc env``: lines that export the role's credentials, for a shell or a .env file."""

from __future__ import annotations

import argparse
import os
import sys

from ...config.options import RawOptions
from ...config.resolve import resolve
from ...core.provider import get_credentials
from ..refresh import from_aws
from ..render import environment


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(environment(role_environment(args), args.format))
    return 0


def role_environment(args: argparse.Namespace) -> dict[str, str]:
    """The role's credentials as variables, with the region when one is known."""
    request = resolve(RawOptions.of(args), os.environ)
    variables = get_credentials(request, from_aws).to_env()
    if request.region:
        variables["AWS_REGION"] = variables["AWS_DEFAULT_REGION"] = request.region
    return variables
