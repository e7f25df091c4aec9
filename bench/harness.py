"""Process timing, process bursts, import-time parsing and a local moto server.

Nothing here knows about credproc: run.py decides what to measure and what counts as a pass.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

# No single command of the bench comes near this; it only turns a hang into an error.
TIMEOUT = 180.0

Env = Mapping[str, str]
Check = Callable[[str], None]
"""Validates a command's stdout; raises BenchError if it is wrong."""


class BenchError(Exception):
    """A command failed or printed something unexpected: its timings would mean nothing."""


def _verify(
    argv: Sequence[str], returncode: int, stdout: str, stderr: str, check: Check | None
) -> None:
    if returncode != 0:
        raise BenchError(f"`{shlex.join(argv)}` exited {returncode}: {stderr.strip()[-2000:]}")
    if check is not None:
        try:
            check(stdout)
        except BenchError as exc:
            raise BenchError(f"`{shlex.join(argv)}`: {exc}") from None


def _run(argv: Sequence[str], env: Env) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    return time.perf_counter() - start, proc


def run_checked(
    argv: Sequence[str], env: Env, check: Check | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; raise BenchError unless it exits 0 and passes `check`."""
    _, proc = _run(argv, env)
    _verify(argv, proc.returncode, proc.stdout, proc.stderr, check)
    return proc


def time_once(argv: Sequence[str], env: Env) -> float:
    """Wall time in seconds of one run, from spawn to exit, as a calling tool would see it."""
    elapsed, proc = _run(argv, env)
    _verify(argv, proc.returncode, proc.stdout, proc.stderr, None)
    return elapsed


def time_interleaved(
    commands: Mapping[str, Sequence[str]],
    env: Env,
    runs: int,
    checks: Mapping[str, Check] | None = None,
    envs: Mapping[str, Env] | None = None,
) -> dict[str, list[float]]:
    """Time each command `runs` times, round-robin, after one untimed, checked warm-up run each.
    `envs`: variables that some commands run with on top of `env`.

    Interleaving spreads the slow drifts of a noisy machine (other jobs, CPU frequency) over
    every command instead of charging them to whichever ran last; rotating the start of each
    round does the same for any effect of running right after a particular command.
    """
    names = list(commands)
    own = {name: {**env, **(envs or {}).get(name, {})} for name in names}
    for name in names:
        run_checked(commands[name], own[name], (checks or {}).get(name))
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(runs):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            times[name].append(time_once(commands[name], own[name]))
    return times


def burst(argv: Sequence[str], env: Env, n: int, check: Check | None = None) -> float:
    """Run `n` copies of a command released at one instant; seconds until the last one exits.

    Spawned one after another on a loaded 2-core machine, the first copies would be far ahead of
    the last and could fill a cache before the others look: no race at all. So each copy first
    waits in a shell reading a pipe that only the bench can write to, and closing that pipe
    releases them all together: the worst case that a lock has to handle.
    """
    gated = ["/bin/sh", "-c", 'read _; exec "$@" </dev/null', "sh", *argv]
    read_fd, write_fd = os.pipe()
    procs: list[subprocess.Popen[str]] = []
    with os.fdopen(read_fd, "rb") as gate_out, os.fdopen(write_fd, "wb") as gate_in:
        try:
            for _ in range(n):
                procs.append(
                    subprocess.Popen(
                        gated,
                        env=env,
                        stdin=gate_out,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                )
            gate_out.close()
            start = time.perf_counter()
            gate_in.close()  # end of file for every waiting shell: all of them go at once
            outputs = [proc.communicate(timeout=TIMEOUT) for proc in procs]
            wall = time.perf_counter() - start
        finally:
            # On an error or Ctrl-C leave no stragglers behind.
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    for proc, (out, err) in zip(procs, outputs, strict=True):
        _verify(argv, proc.returncode, out, err, check)
    return wall


def hyperfine_medians(
    commands: Mapping[str, Sequence[str]], env: Env, runs: int, export: Path
) -> dict[str, float] | None:
    """Median seconds per command as measured by hyperfine, or None if it is not installed.

    A second opinion from an independent tool; the bench does not depend on it.
    """
    exe = shutil.which("hyperfine")
    if exe is None:
        return None
    argv = [exe, "-N", "--style=none", "--warmup=2", f"--runs={runs}", f"--export-json={export}"]
    for name, command in commands.items():
        argv += ["--command-name", name, shlex.join(command)]
    run_checked(argv, env)
    results = json.loads(export.read_text())["results"]
    return {result["command"]: float(result["median"]) for result in results}


def _import_entries(stderr: str) -> list[tuple[int, str, int]]:
    """(depth, module, cumulative microseconds) for each line that `-X importtime` printed."""
    entries = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = line.split("|", 2)
        if not cumulative.strip().isdigit():  # the header line
            continue
        indent = len(name) - len(name.lstrip(" ")) - 1  # one space follows the "|"
        entries.append((indent // 2, name.strip(), int(cumulative)))
    return entries


def imported_modules(stderr: str) -> set[str]:
    """Every module named in `-X importtime` output."""
    return {name for _, name, _ in _import_entries(stderr)}


def slowest_imports(stderr: str, count: int) -> list[tuple[str, float]]:
    """The `count` outermost imports that took longest, with their cumulative seconds."""
    outermost = [(name, us / 1e6) for depth, name, us in _import_entries(stderr) if depth == 0]
    return sorted(outermost, key=lambda entry: entry[1], reverse=True)[:count]


def import_seconds(stderr: str, packages: set[str] | None = None) -> float:
    """Seconds spent importing `packages` (default: everything), including what they import.

    `-X importtime` prints a tree in post-order (children before their parent) with each
    module's cumulative time. Read backwards, parents come first: add up the outermost entries
    that belong to `packages`, so that nested imports are not counted twice.
    """
    total_us = 0
    enclosing: list[bool] = []  # per ancestor depth: is that ancestor inside `packages`?
    for depth, name, cumulative in reversed(_import_entries(stderr)):
        del enclosing[depth:]
        inside = bool(enclosing) and enclosing[-1]
        mine = packages is None or name.partition(".")[0] in packages
        if mine and not inside:
            total_us += cumulative
        enclosing.append(inside or mine)
    return total_us / 1e6


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MotoServer:
    """moto's standalone server on a free loopback port, run as a subprocess.

    Use it as a context manager: the server is stopped on every way out, Ctrl-C included.
    Calls are counted from the server's own state (`/moto-api/data.json`), not by trusting
    what the clients say they did.
    """

    def __init__(self, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log
        self._proc: subprocess.Popen[bytes] | None = None
        # The bench itself talks only to this server: ignore any proxy set in the caller's env.
        self._http = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __enter__(self) -> MotoServer:
        with self._log.open("wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_ready()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise BenchError(f"moto server exited {self._proc.returncode}; see {self._log}")
            try:
                self._request("GET", "/moto-api/data.json")
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError(f"moto server not ready after {timeout:.0f} s") from None
                time.sleep(0.1)
            else:
                return

    def _stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None

    def _request(self, method: str, path: str) -> bytes:
        request = urllib.request.Request(self.url + path, method=method)  # noqa: S310 (our loopback URL)
        with self._http.open(request, timeout=30) as response:
            body: bytes = response.read()
            return body

    def reset(self) -> None:
        """Forget every role session (and all other state) the server holds."""
        self._request("POST", "/moto-api/reset")

    def assume_role_calls(self, role_arn: str) -> int:
        """AssumeRole calls the server has answered for `role_arn` since the last reset."""
        state = json.loads(self._request("GET", "/moto-api/data.json"))
        sessions = state.get("sts", {}).get("AssumedRole", [])
        return sum(1 for session in sessions if session["role_arn"] == role_arn)
