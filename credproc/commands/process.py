"""``credproc [options]``: the credential_process JSON, one object on stdout and nothing else."""

from __future__ import annotations

import argparse
import os
import sys

from ..arguments import ALL, add_options, raw_options
from ..provider import get_credentials
from ..resolve import resolve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_options(parser, ALL)


def run(args: argparse.Namespace) -> int:
    credentials = get_credentials(resolve(raw_options(args), os.environ))
    # One write of the whole document: nothing partial on stdout, whatever happens after.
    sys.stdout.write(credentials.to_process_json() + "\n")
    sys.stdout.flush()
    return 0
