"""The bench's `credproc serve` on loopback: a grant for a profile, the server started, N
fetches by endpoint_fetch.py with the grant's token file (re-read on every fetch, as the SDKs
do), the server stopped with SIGTERM. The seconds each fetch took."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from harness import BenchError, run_checked

BENCH = Path(__file__).resolve().parent
READY = "listening on"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def serve_fetches(credproc: str, profile: str, count: int, env: Mapping[str, str]) -> list[float]:
    """``count`` fetches of ``profile`` from a `credproc serve` of its own."""
    made = run_checked([credproc, "serve", "grant", profile, "--name", "bench"], env)
    token_file = made.stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [credproc, "serve", "--listen", f"127.0.0.1:{port}"],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        if READY not in first:
            raise BenchError(f"credproc serve did not start: {first.strip()}")
        # Its access log, a line a fetch, read on: a full pipe would stall the server.
        drain = threading.Thread(target=server.stderr.read, daemon=True)
        drain.start()
        fetcher_env = {
            **env,
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{port}/credentials/{profile}",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": token_file,
        }
        fetcher = [sys.executable, str(BENCH / "endpoint_fetch.py"), str(count)]
        # Once to warm the server's resolution of the profile, then the measured run.
        run_checked([*fetcher[:2], "1"], fetcher_env)
        fetched = run_checked(fetcher, fetcher_env)
        seconds: list[float] = json.loads(fetched.stdout)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        finally:
            run_checked([credproc, "serve", "revoke", "bench"], env)
    if server.returncode != 0:
        raise BenchError(f"credproc serve exited {server.returncode} on SIGTERM")
    return seconds
