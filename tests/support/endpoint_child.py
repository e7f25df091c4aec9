"""A command for `credproc exec --server` to run in the tests, a program (python
tests/support/endpoint_child.py): it does what each line of stdin says and answers with one JSON
line on stdout, and reports each signal it gets as a line too.

    env          {"url", "token", "pid", "variables": {every AWS_* and *_proxy variable}}
    call         GetCallerIdentity through the one boto3 client made at start, whose
                 credentials come from the endpoint: {"arn", "key", "pid"}, or {"error"}
    call fresh   the same through a new session, as a new process would
    exit N       exits with status N
    die NAME     dies by signal NAME

Signals: each signal credproc forwards is answered by {"signal": NAME}, nothing else done.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from types import FrameType

import boto3

FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH")


def say(document: object) -> None:
    # One write per line: a signal's line never lands inside an answer's.
    os.write(1, (json.dumps(document) + "\n").encode())


def report(number: int, frame: FrameType | None) -> None:
    say({"signal": signal.Signals(number).name})


def main() -> int:
    for name in FORWARDED:
        signal.signal(getattr(signal, name), report)
    # Made once: the SDK's own refresh decides when to ask the endpoint again.
    session = boto3.Session()
    client = session.client("sts")
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "env":
            variables = {
                k: v for k, v in os.environ.items() if k.startswith("AWS_") or "proxy" in k.lower()
            }
            say(
                {
                    "url": os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
                    "token": os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
                    "pid": os.getpid(),
                    "variables": variables,
                }
            )
        elif words[0] == "call":
            used = boto3.Session() if words[1:] == ["fresh"] else session
            try:
                arn = (client if used is session else used.client("sts")).get_caller_identity()
            except Exception as error:  # noqa: BLE001 - the test reads what went wrong
                say({"error": str(error)})
                continue
            credentials = used.get_credentials()
            key = credentials.get_frozen_credentials().access_key if credentials else None
            say({"arn": arn["Arn"], "key": key, "pid": os.getpid()})
        elif words[0] == "exit":
            return int(words[1])
        elif words[0] == "die":
            number = getattr(signal, words[1])
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
    return 0


if __name__ == "__main__":
    sys.exit(main())
