"""``credproc wrap [options] -- COMMAND [ARG ...]``: another credential process, run once per
token lifetime under the lock, its answer cached like a role's.

Written as a profile's ``credential_process``. A run records what resolving its options read
(``core.index``) as the default command does, so the next run of the same line is a hit
through the fence (``core.hit``); a miss runs the algorithm (``core.provider``) with the wrapped
command as its fetch step (``fetch.wrap``): N processes at once run COMMAND once, and a
failure with a token still cached serves that token with a warning, as in an STS outage.
"""

from __future__ import annotations

import argparse
import os
import sys

from ...config.options import BY_DEST, WRAP_REQUEST_OPTIONS, RawOptions
from ...config.resolve import wrap_request
from ...core.index import recording, remember
from ...core.provider import get_credentials
from ...fetch.wrap import from_command

_LOG_FILE_VARIABLE = BY_DEST["log_file"].env or ""


def run(args: argparse.Namespace) -> int:
    with recording(os.environ, always=(_LOG_FILE_VARIABLE,)) as reads:
        request = wrap_request(RawOptions.of(args, WRAP_REQUEST_OPTIONS), args.command_line, reads)
    credentials = get_credentials(request, from_command)
    # One write of the whole document: nothing partial on stdout, whatever happens after.
    sys.stdout.write(credentials.to_process_json() + "\n")
    sys.stdout.flush()
    if not (args.verbose or args.debug or args.log_file):  # a hit would say nothing
        remember(args.argv, reads, request)
    return 0
