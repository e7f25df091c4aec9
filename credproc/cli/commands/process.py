"""``credproc [options]``: the credential_process JSON, one object on stdout and nothing else."""

from __future__ import annotations

import os
import sys

from ...config.options import RawOptions
from ...config.resolve import resolve
from ...core.lean import TYPE_CHECKING
from ...core.provider import get_credentials

if TYPE_CHECKING:  # argparse is not imported on a cache hit: see fastargs
    import argparse

    from ...core.credentials import Credentials, Fetched
    from ...core.request import Request


def run(args: argparse.Namespace) -> int:
    credentials = get_credentials(resolve(RawOptions.of(args), os.environ), _from_sts)
    # One write of the whole document: nothing partial on stdout, whatever happens after.
    sys.stdout.write(credentials.to_process_json() + "\n")
    sys.stdout.flush()
    return 0


def _from_sts(request: Request, mfa_session: Credentials | None) -> Fetched:
    """The fetch step, imported when a refresh calls it: a cache hit never loads it."""
    from ...fetch.fetch import from_sts  # noqa: PLC0415 - a refresh only

    return from_sts(request, mfa_session)
