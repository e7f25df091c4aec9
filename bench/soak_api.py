"""The soak's long-lived Python process: credproc.session() from many threads, for as long as
the soak lasts.

    python bench/soak_api.py --threads 16 --pause 0.5

Run by bench/soak.py in the soak's environment. Each thread makes its own session for one of
the soak's roles and calls STS GetCallerIdentity through it, ``--pause`` seconds apart; botocore
asks credproc for a new token whenever its token is near expiry, which for the 900 s roles is
every call. It writes JSON lines on stdout:

    {"ready": HEALTH}                   every thread has made its first call
    {"role": NAME, "ok": true, "arn": ARN, "key_id": AKID, "at": T, "final": false}
    {"role": NAME, "ok": false, "error": CLASS, "exit_code": N, "message": LINE, "final": ...}
    {"health": HEALTH}                  asked for by a line "health" on stdin, while it runs
    {"end": HEALTH, "log": {"WARNING credproc": 3, ...}}

A line "stop" on stdin ends it: each thread makes one last call (``"final": true``, after the
chaos), HEALTH is measured again with every thread still alive, and the process exits.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from soak_world import Role, roles  # first: it puts tests/ on sys.path
from support.health import health

import credproc

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_sts.client import STSClient


class _Output:
    """One JSON document per line, whole, from any thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, document: dict[str, Any]) -> None:
        with self.lock:
            sys.stdout.write(json.dumps(document) + "\n")
            sys.stdout.flush()


class _CountLog(logging.Handler):
    """Counts botocore's and credproc's log records instead of printing them: a failed
    advisory refresh is logged with a traceback, and the soak reads only stdout."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.lock_counts = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self.lock_counts:
            self.counts[f"{record.levelname} {record.name.split('.')[0]}"] += 1


def _call(
    role: Role, client: STSClient, session: boto3.Session, output: _Output, final: bool
) -> None:
    try:
        arn = client.get_caller_identity()["Arn"]
        credentials = session.get_credentials()
        assert credentials is not None  # credproc.session() always has them
        key_id = credentials.get_frozen_credentials().access_key
    except credproc.CredprocError as error:
        line = " ".join(str(error).split())
        name, code = type(error).__name__, error.exit_code
        output(
            {"role": role.name, "ok": False, "error": name, "exit_code": code, "message": line}
            | {"final": final}
        )
        return
    except Exception as error:  # noqa: BLE001 - reported to the soak, which counts it broken
        line = " ".join(str(error).split())[:300]
        name = type(error).__name__
        output({"role": role.name, "ok": False, "error": name, "message": line, "final": final})
        return
    at = time.time()
    output({"role": role.name, "ok": True, "arn": arn, "key_id": key_id, "at": at, "final": final})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--pause", type=float, default=0.5)
    parser.add_argument("--token-command", required=True)
    args = parser.parse_args()

    log = _CountLog()
    logging.basicConfig(handlers=[log], level=logging.WARNING, force=True)
    output = _Output()
    every = roles(args.token_command)
    stop = threading.Event()
    started = threading.Barrier(args.threads + 1)
    finished = threading.Barrier(args.threads + 1)

    def worker(role: Role) -> None:
        try:
            session = credproc.session(**role.api_options())
        except credproc.CredprocError as error:
            output({"setup": role.name, "error": str(error)})
            started.abort()
            return
        client = session.client("sts")
        _call(role, client, session, output, final=False)
        started.wait()
        while not stop.wait(args.pause):
            _call(role, client, session, output, final=False)
        _call(role, client, session, output, final=True)
        finished.wait()  # alive while the end is measured
        finished.wait()

    threads = [
        threading.Thread(target=worker, args=(every[index % len(every)],), name=f"api-{index}")
        for index in range(args.threads)
    ]
    for thread in threads:
        thread.start()
    try:
        started.wait()
    except threading.BrokenBarrierError:
        return 1
    output({"ready": health().as_dict()})
    for line in sys.stdin:
        if line.strip() == "health":
            output({"health": health().as_dict()})
        elif line.strip() == "stop":
            break
    stop.set()
    finished.wait()
    output({"end": health().as_dict(), "log": dict(log.counts)})
    finished.wait()
    for thread in threads:
        thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
