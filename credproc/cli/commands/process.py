"""``credproc [options]``: the credential_process JSON, one object on stdout and nothing else.

A run records what resolving its options read (``core.index``), so that the next run of the
same command line is answered by ``core.hit`` without resolving them again while that holds.
"""

from __future__ import annotations

import importlib
import os
import sys

from ...config.options import BY_DEST, RawOptions
from ...config.resolve import resolve
from ...core.index import answer_now, recording, remember
from ...core.log import is_verbose
from ...core.typed import TYPE_CHECKING
from ..refresh import from_aws

if TYPE_CHECKING:
    import argparse

    from ...core.credentials import Credentials

# Read by the CLI itself rather than by resolution, and a hit would not honour it: a record
# holds its value (unset), so setting it makes the next run a miss.
_LOG_FILE_VARIABLE = BY_DEST["log_file"].env or ""


def run(args: argparse.Namespace) -> int:
    with recording(os.environ, always=(_LOG_FILE_VARIABLE,)) as reads:
        request = resolve(RawOptions.of(args), reads)
    quiet = not (args.verbose or args.debug or args.log_file)  # a hit would say nothing
    # Once this resolution is recorded, the hit answers this command line from the entry: so
    # can this run, if the entry is fresh, without loading the provider (loaded by name). Not
    # where logging is on (-v, --debug, a log file by flag or variable): the provider says
    # what it did.
    answer = None if is_verbose() else answer_now(reads, request)
    if answer is None:
        provider = importlib.import_module("credproc.core.provider")
        credentials: Credentials = provider.get_credentials(request, from_aws)
        document = credentials.to_process_json() + "\n"
    else:
        document = answer.decode()
    # One write of the whole document: nothing partial on stdout, whatever happens after.
    sys.stdout.write(document)
    sys.stdout.flush()
    if quiet:
        remember(args.argv, reads, request)
    return 0
