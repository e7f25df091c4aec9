"""`make demo`: credproc end to end against a local STS, with nothing of yours touched.

Starts a moto server on 127.0.0.1, builds a throwaway HOME whose ~/.aws/config is
examples/aws-config, runs the real aws CLI through credproc, shows a cold call next to a
cached one, and stops the server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
ROLE = "arn:aws:iam::123456789012:role/dev"


def main() -> int:
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    home = Path(tempfile.mkdtemp(prefix="credproc-demo-"))
    try:
        _wait_until_up(port)
        env = _sandbox(home, port)
        _step("Who am I through the dev profile? (aws CLI -> credproc -> STS)")
        _show(env, ["aws", "--profile", "dev", "sts", "get-caller-identity"])
        _step("S3 through the same profile: make a bucket, list buckets")
        _show(env, ["aws", "--profile", "dev", "s3", "mb", "s3://credproc-demo"])
        _show(env, ["aws", "--profile", "dev", "s3", "ls"])
        _step("A chained role (audit, assumed from dev's session)")
        _show(env, ["aws", "--profile", "audit", "sts", "get-caller-identity"])
        _step("The cache: one entry per role, no secrets shown")
        _show(env, ["credproc", "cache", "list"])
        _step("Cold call (STS) next to cached calls")
        command = ["credproc", "--role-arn", f"{ROLE}-cold", "--source-profile", "base"]
        cold = _timed(env, command)
        warm = sorted(_timed(env, command) for _ in range(10))[5]
        print(f"  cold (calls STS):            {cold * 1000:7.1f} ms")
        print(f"  cached (median of 10):       {warm * 1000:7.1f} ms")
        bare = _timed(env, [sys.executable, "-c", "pass"])
        print(f"  bare python -c pass:         {bare * 1000:7.1f} ms")
        print("\nDone. The server is stopped and the throwaway HOME removed.")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)


def _sandbox(home: Path, port: int) -> dict[str, str]:
    aws = home / ".aws"
    aws.mkdir(parents=True)
    shutil.copy(HERE / "aws-config", aws / "config")
    # Fake keys: the local STS accepts any.
    (aws / "credentials").write_text(
        "[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
    )
    return {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_EC2_METADATA_DISABLED": "true",
        "CREDPROC_CACHE_DIR": str(home / "cache"),
    }


def _step(title: str) -> None:
    print(f"\n== {title}")


def _show(env: dict[str, str], argv: Sequence[str]) -> None:
    print("$ " + " ".join(argv))
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    print((done.stdout + done.stderr).rstrip())
    if done.returncode != 0:
        raise SystemExit(f"demo step failed with exit status {done.returncode}")


def _timed(env: dict[str, str], argv: Sequence[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the local moto server did not start within 30 s") from None
            time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
