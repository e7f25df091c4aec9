"""Run credproc's command line, freezing it with SIGSTOP at a chosen point of a refresh.

    python tests/support/killpoint.py POINT [credproc arguments...]

POINT is where the process stops itself, so that a test can see it stopped (waitpid with
WUNTRACED) and then SIGKILL it exactly there:

    fetch    the refresh lock is held and the STS call not yet made (sts.assume_role)
    replace  the new entry's temp file is written and fsynced, not yet renamed (os.replace);
             for an aws login session, its file's, which is written first
    signin   the aws login session's lock is held and the Sign-In call not yet made
    answered the Sign-In service has answered (the refresh token rotated), nothing written

This is the test's wrapper around an unchanged credproc: it patches the function credproc
calls next, in this process only. credproc itself has no test-only code path.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import credproc.aws.logintoken
import credproc.aws.signin
import credproc.aws.sts
import credproc.core.credentials
from credproc.cli import main as cli


def _stop() -> None:
    os.kill(os.getpid(), signal.SIGSTOP)  # the test kills us here; SIGCONT would carry on


def main() -> int:
    point, argv = sys.argv[1], sys.argv[2:]
    if point == "fetch":
        assume_role = credproc.aws.sts.assume_role

        def stopping_assume_role(*args: Any, **kwargs: Any) -> credproc.core.credentials.Fetched:
            _stop()
            return assume_role(*args, **kwargs)

        credproc.aws.sts.assume_role = stopping_assume_role
    elif point in ("signin", "answered"):
        refresh = credproc.aws.signin.refresh

        def stopping_refresh(*args: Any, **kwargs: Any) -> credproc.aws.logintoken.LoginToken:
            if point == "signin":
                _stop()
            answer = refresh(*args, **kwargs)
            if point == "answered":
                _stop()
            return answer

        credproc.aws.signin.refresh = stopping_refresh
    elif point == "replace":
        replace = os.replace

        def stopping_replace(source: Any, target: Any, **kwargs: Any) -> None:
            if str(target).endswith(".json"):
                _stop()
            replace(source, target, **kwargs)

        os.replace = stopping_replace  # type: ignore[assignment]
    else:
        sys.exit(f"unknown point {point!r}")
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
