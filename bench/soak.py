"""The chaos soak: `python bench/soak.py --seconds N [--seed S]` (`make soak`: ten minutes).

A local moto STS on loopback (tests/support/stsserver.py), an isolated user with four roles
(plain; chained through another credproc profile; MFA through a token command; due every few
seconds), and concurrent callers through the real paths: credproc processes (flags and
--profile), `credproc env` read back by a real shell, the `aws` CLI running credproc as its
credential_process, and a long-lived Python process using credproc.session() from 16 threads
(bench/soak_api.py). Meanwhile a seeded chaos schedule (bench/soak_chaos.py) slows STS,
throttles it, fails it with 5xx, drops its connections, makes it answer garbage or go away,
jumps its clock, SIGKILLs credproc processes (mid-refresh by preference) and truncates,
garbles, opens up or replaces cache entries with symlinks.

Every call is held to the contract (bench/soak_judge.py). When the chaos stops, every role must
work at once by every path; no temp file may be left but those of killed processes; the Python
process must end with the threads and file descriptors it started with. The last line is

    N calls, F faults, K kills, T tamperings, B broken

and the exit status is 1 if B > 0 (2 if the soak could not even start).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from soak_chaos import Chaos, ancestors, parents
from soak_judge import (
    EXPECTED_FAILURES,
    Call,
    Tally,
    TokenUse,
    check_claims,
    check_tokens,
    judge,
)
from soak_world import PATHS, Role, World, argv, build
from support.health import Health
from support.server import StsServer, running_sts_server

BENCH = Path(__file__).resolve().parent
CALL_TIMEOUT = 150.0  # far above the worst documented wait (lock timeout 60 s + a refresh)
# How the callers spread over the paths: the aws CLI costs a second of CPU a call.
PATH_WEIGHTS = {"credproc": 4.0, "credproc --profile": 2.0, "env": 2.0, "aws": 1.5}
# The Python process may open a few more files than at its start (a connection the pool
# keeps, a pipe to a nested credproc in flight); a leak per refresh would be hundreds.
API_FD_SLACK = 8


class SetupError(Exception):
    """The soak could not start: nothing was measured."""


class Soak:
    def __init__(self, world: World, server: StsServer, args: argparse.Namespace) -> None:
        self.world = world
        self.server = server
        self.args = args
        self.tally = Tally()
        self.lock = threading.Lock()  # the tally, and the registry of running calls
        self.running: dict[int, list[bool]] = {}  # pid of a call's process -> [killed]
        self.rng = random.Random(args.seed)  # noqa: S311 - a schedule, not a secret
        self.api_health: dict[str, Any] = {}
        self.chaos_started = 0.0  # time.monotonic()

    # -- calls ------------------------------------------------------------------------------

    def call(self, path: str, role: Role, final: bool = False) -> Call:
        started = time.time()
        with self.lock:  # registered before the chaos can see its process
            process = subprocess.Popen(
                argv(path, role),
                env=self.world.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=self.world.root,
            )
            self.running[process.pid] = [False]
        returncode: int | None
        try:
            stdout, stderr = process.communicate(timeout=CALL_TIMEOUT)
            returncode = process.returncode
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            returncode = None
        ended = time.time()
        with self.lock:
            killed = self.running.pop(process.pid)[0]
        return Call(path, role, returncode, stdout, stderr, started, ended, killed, final)

    def judged(self, call: Call) -> None:
        with self.lock:
            judge(call, self.tally)

    def mark_killed(self, pid: int) -> None:
        """The chaos is about to kill ``pid``: the call whose tree it is in is not judged."""
        tree = parents()
        with self.lock:
            for member in (pid, *ancestors(pid, tree)):
                if member in self.running:
                    self.running[member][0] = True

    def caller(self, ends_at: float, seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311
        paths, weights = list(PATH_WEIGHTS), list(PATH_WEIGHTS.values())
        while time.monotonic() < ends_at:
            path = rng.choices(paths, weights)[0]
            try:
                self.judged(self.call(path, rng.choice(self.world.roles)))
            except OSError as error:  # the machine, not credproc: say so, and go on
                with self.lock:
                    self.tally.fail(f"the soak could not run a call: {error}")

    # -- the Python API process -------------------------------------------------------------

    def start_api(self) -> subprocess.Popen[str]:
        stderr = self.world.root / "api-stderr"
        with stderr.open("w") as log:
            process = self._popen_api(log)
        ready = threading.Event()
        threading.Thread(target=self.read_api, args=(process, ready), daemon=True).start()
        ready.wait(timeout=CALL_TIMEOUT)  # set by the "ready" line, or at the end of output
        if "ready" not in self.api_health:
            process.kill()
            process.wait()
            said = stderr.read_text()[-2000:]
            raise SetupError(f"the Python API process did not start: {self.api_health} {said}")
        return process

    def _popen_api(self, stderr: IO[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                sys.executable,
                str(BENCH / "soak_api.py"),
                f"--threads={self.args.api_threads}",
                "--pause=1",
                f"--token-command={self.world.token_command}",
            ],
            env=self.world.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )

    def read_api(self, process: subprocess.Popen[str], ready: threading.Event) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            record = json.loads(line)
            if "ready" in record or "setup" in record:
                self.api_health.update(record)
                ready.set()
            elif "health" in record:
                at = time.monotonic() - self.chaos_started
                self.api_health.setdefault("during", []).append((at, record["health"]))
            elif "end" in record:
                self.api_health["end"], self.api_health["log"] = record["end"], record["log"]
            else:
                with self.lock:
                    self.judge_api(record)
        ready.set()

    def judge_api(self, record: dict[str, Any]) -> None:
        role = self.world.role(record["role"])
        final = bool(record.get("final"))
        if record["ok"]:
            if f":assumed-role/{role.arn.rpartition('/')[2]}/" not in record["arn"]:
                self.tally.add("api", "broken")
                self.tally.fail(f"api {role.name} ran as {record['arn']}")
                return
            use = TokenUse(record["key_id"], role.arn, None, record["at"], f"api {role.name}")
            self.tally.add("api", "ok", use)
            return
        code = record.get("exit_code")
        if final or code not in EXPECTED_FAILURES:
            self.tally.add("api", "broken")
            when = "after the chaos stopped" if final else "during the chaos"
            self.tally.fail(f"api {role.name} {when}: {record['error']}: {record['message']}")
            return
        self.tally.exit_codes[code] += 1
        self.tally.add("api", "failed")

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> int:
        for role in self.world.roles:  # every role works before the chaos starts
            first = self.call("credproc", role)
            if first.returncode != 0:
                raise SetupError(f"{role.name} does not work even before the chaos: {first.stderr}")
        api = self.start_api()
        started = self.chaos_started = time.monotonic()
        ends_at = started + self.args.seconds
        chaos = Chaos(self.server, self.world.cache_dir, self.args.seed, ends_at, self.mark_killed)
        chaos.spared.add(api.pid)
        chaos.start()
        callers = [
            threading.Thread(
                target=self.caller, args=(ends_at, self.rng.randrange(1 << 32)), daemon=True
            )
            for _ in range(self.args.callers)
        ]
        for thread in callers:
            thread.start()
        self.progress(started, ends_at, chaos, api)
        for thread in callers:
            thread.join()
        chaos.stop.set()
        chaos.join()
        if chaos.error is not None:
            raise SetupError(f"the chaos failed: {chaos.error!r}")
        self.after_the_chaos(api)
        leftovers = self.temp_files(chaos.killed_pids)
        across_jumps = check_tokens(self.tally, self.server.issued(), chaos.skews)
        check_claims(self.tally, chaos.disruptions)
        self.check_api_health()
        for line in self.report(chaos, time.monotonic() - started, leftovers, across_jumps):
            print(line)
        faults = sum(chaos.faults.values()) + chaos.clock_jumps
        broken = len(self.tally.broken)
        print(
            f"{self.tally.calls} calls, {faults} faults, {chaos.kills} kills, "
            f"{sum(chaos.tamperings.values())} tamperings, {broken} broken"
        )
        return 1 if broken else 0

    def progress(
        self, started: float, ends_at: float, chaos: Chaos, api: subprocess.Popen[str]
    ) -> None:
        """Every minute of a long run: a line on stderr, and the Python process's health."""
        assert api.stdin is not None
        while not chaos.stop.wait(min(60.0, max(ends_at - time.monotonic(), 0))):
            if time.monotonic() >= ends_at:
                return
            api.stdin.write("health\n")
            api.stdin.flush()
            with self.lock:
                calls, broken = self.tally.calls, len(self.tally.broken)
            elapsed = time.monotonic() - started
            print(f"soak: {elapsed:.0f} s, {calls} calls, {broken} broken", file=sys.stderr)

    def after_the_chaos(self, api: subprocess.Popen[str]) -> None:
        """STS is right again: every role works at once, by every path and from Python."""
        pairs = [(path, role) for role in self.world.roles for path in PATHS]
        with ThreadPoolExecutor(max_workers=4) as pool:
            for call in pool.map(lambda pair: self.call(pair[0], pair[1], final=True), pairs):
                self.judged(call)
        assert api.stdin is not None
        api.stdin.write("stop\n")
        api.stdin.close()
        try:
            api.wait(timeout=CALL_TIMEOUT)
        except subprocess.TimeoutExpired:
            api.kill()
            api.wait()
        if api.returncode != 0 or "end" not in self.api_health:
            with self.lock:
                self.tally.fail(f"the Python API process ended with status {api.returncode}")

    def temp_files(self, killed: set[int]) -> int:
        """Temp files left in the cache: those of killed processes are documented (the next
        writer of the key removes them); any other is broken."""
        left = 0
        for path in self.world.cache_dir.glob(".*.tmp"):
            # .<key>.json.<pid>.<nanoseconds>.tmp, as files.atomic_write names them
            pid = path.name.split(".")[-3]
            if pid.isdigit() and int(pid) in killed:
                left += 1
            else:
                self.tally.fail(f"a temp file left by a process that was not killed: {path.name}")
        return left

    def check_api_health(self) -> None:
        if "end" not in self.api_health:
            return
        ready, end = Health(**self.api_health["ready"]), Health(**self.api_health["end"])
        if end.threads != ready.threads:
            self.tally.fail(
                f"the Python API process went from {ready.threads} threads to {end.threads}"
            )
        if end.fds > ready.fds + API_FD_SLACK:
            self.tally.fail(f"the API process went from {ready.fds} open files to {end.fds}")

    def report(self, chaos: Chaos, elapsed: float, leftovers: int, across_jumps: int) -> list[str]:
        tally, server = self.tally, self.server
        by_path = {
            path: {outcome: n for (p, outcome), n in tally.outcomes.items() if p == path}
            for path in (*PATHS, "api")
        }
        lines = [
            f"soak: seed {self.args.seed}, {self.args.seconds:g} s of chaos, "
            f"{self.args.callers} callers and {self.args.api_threads} API threads, "
            f"{elapsed:.0f} s in all",
            "",
            "| what | figures |",
            "|---|---|",
        ]

        def row(what: str, figures: dict[str, int] | str) -> None:
            if isinstance(figures, dict):
                figures = ", ".join(f"{n} {name}" for name, n in figures.items() if n) or "none"
            lines.append(f"| {what} | {figures} |")

        for path, outcomes in by_path.items():
            row(f"calls: {path}", outcomes)
        codes = sorted(tally.exit_codes.items())
        row("failures, by exit code", {f"with exit {code}": n for code, n in codes})
        row("STS requests", {a: server.calls(a) for a in ("AssumeRole", "GetSessionToken")})
        row("STS answers disturbed", server.disturbed())
        row("fault windows", dict(chaos.faults))
        row("clock jumps", str(chaos.clock_jumps))
        row("kills (SIGKILL)", {"in all": chaos.kills, "mid-refresh": chaos.kills_mid_refresh})
        row("tamperings", dict(chaos.tamperings))
        row("MFA codes asked", str(self.world.token_command.runs()))
        row("temp files left by killed processes", str(leftovers))
        row("tokens served after a clock jump made them expired by STS", str(across_jumps))
        during = self.api_health.get("during", [])
        samples = [("start", self.api_health.get("ready"))]
        if during:  # one measured while the chaos ran, about halfway through
            at, sample = during[(len(during) - 1) // 2]
            samples.append((f"after {at:.0f} s", sample))
        samples.append(("end", self.api_health.get("end")))
        for moment, sample in samples:
            if sample:
                health = Health(**sample)
                row(
                    f"Python API process, {moment}",
                    f"{health.fds} fds, {health.threads} threads, {health.rss_kib // 1024} MiB, "
                    f"{health.objects} objects",
                )
        row("warnings (credproc processes)", str(sum(tally.warnings.values())))
        lines.append("")
        lines += [f"warning x{n}: {text}" for text, n in tally.warnings.most_common(8)]
        lines += [f"broken: {line}" for line in tally.broken[:20]]
        return lines


def main(argv_: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600, help="how long the chaos lasts")
    parser.add_argument("--seed", type=int, help="the chaos schedule's seed (default: random)")
    parser.add_argument("--callers", type=int, default=4, help="concurrent process callers")
    parser.add_argument("--api-threads", type=int, default=16, help="threads of the API process")
    args = parser.parse_args(argv_)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 32)
    # Said first, so that a run that fails or is stopped can be replayed.
    print(f"soak: seed {args.seed} (replay with --seed {args.seed})", file=sys.stderr, flush=True)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="credproc-soak-") as root,
            running_sts_server() as server,
        ):
            return Soak(build(Path(root), server.url), server, args).run()
    except SetupError as error:
        print(f"soak: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
