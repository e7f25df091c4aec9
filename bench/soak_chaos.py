"""The soak's chaos: STS faults and clock jumps at the test server, faults of IAM Identity
Center's portal and OIDC service at the SSO stand-in, tampered cache entries, and SIGKILL for
credproc processes, on a seeded random schedule.

Bounded in time and count: events come every 0.3..1.5 s until the chaos ends, at most
``MAX_EVENTS_PER_SECOND`` per second of chaos; each fault window lasts a few seconds (an outage
under half a minute) and ends by itself. Everything stays on loopback, and only processes this
soak started (its descendants) are ever killed.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from soak_judge import Skews
from support.server import StsServer
from support.ssoserver import SsoStandIn

MAX_EVENTS_PER_SECOND = 3
CREDENTIAL_ACTIONS = ("AssumeRole", "GetSessionToken")
# The SSO role's calls: its credentials, and its session token's refresh (and any login).
SSO_ACTIONS = ("GetRoleCredentials", "CreateToken")
# Where a fault window strikes: STS, IAM Identity Center, or both at once.
TARGETS = ("sts", "sso", "both")
# What may happen at each event, and how often (weights).
EVENTS = {"fault": 3.0, "tamper": 3.0, "kill": 3.0, "clock": 1.0}
FAULT_KINDS = ("slow", "throttle", "5xx", "reset", "garbage", "outage")
# Clock jumps: STS's clock minus this machine's. At most 500 s ahead: the test server states
# Expiration by the true clock, so a skew near a 900 s token's lifetime would have STS issue
# tokens already expired by its own clock, which no real STS does.
SKEWS = (0.0, 0.0, 20.0, -20.0, 300.0, -300.0, 500.0, -3600.0)
TAMPERINGS = ("truncated", "garbled", "group-readable", "symlink")


def _fault(kind: str, rng: random.Random) -> tuple[dict[str, object], float]:
    """The fault to inject, and how long the window lasts."""
    if kind == "slow":
        return {"delay": round(rng.uniform(0.5, 3.0), 2)}, rng.uniform(3, 8)
    if kind == "throttle":
        return {"status": 400, "code": "Throttling"}, rng.uniform(2, 6)
    if kind == "5xx":
        status, code = rng.choice(((500, "InternalFailure"), (503, "ServiceUnavailable")))
        return {"status": status, "code": code}, rng.uniform(2, 6)
    if kind == "reset":
        return {"reset": True}, rng.uniform(2, 6)
    if kind == "garbage":
        answer = rng.choice(
            (
                {"garbage": True},
                {"status": 200, "content_type": "text/html", "body": "<html>Log in</html>"},
                {"status": 200, "content_type": "text/xml", "body": "<AssumeRoleResponse><Ass"},
            )
        )
        return dict(answer), rng.uniform(2, 6)
    # An outage: STS unreachable (every connection dropped) or silent past the read timeout,
    # long enough for due tokens to be served stale and refreshes to back off.
    unreachable = rng.random() < 0.5
    return ({"reset": True} if unreachable else {"delay": 7.0}), rng.uniform(12, 25)


def _in_sso_words(fault: dict[str, object]) -> dict[str, object]:
    """The same fault as IAM Identity Center would answer it (its JSON error types)."""
    if fault.get("code") == "Throttling":
        return {"status": 429, "code": "TooManyRequestsException"}
    if "code" in fault:
        return {"status": 500, "code": "InternalServerException"}
    return dict(fault)


class Chaos(threading.Thread):
    """Runs the schedule until ``ends_at`` (time.monotonic), then puts STS right again."""

    def __init__(
        self,
        server: StsServer,
        cache_dir: Path,
        seed: int,
        ends_at: float,
        mark_killed: Callable[[int], None],
        *,
        sso: SsoStandIn,
    ) -> None:
        super().__init__(name="chaos", daemon=True)
        self.server = server
        self.sso = sso  # the SSO role's portal and OIDC service, in this process
        self.cache_dir = cache_dir
        self.rng = random.Random(seed)  # noqa: S311 - a schedule, not a secret
        self.ends_at = ends_at
        self.mark_killed = mark_killed  # told the pid of each process about to be killed
        self.faults: Counter[str] = Counter()
        self.tamperings: Counter[str] = Counter()
        self.kills = 0
        self.kills_mid_refresh = 0
        self.killed_pids: set[int] = set()
        # Processes whose trees are never killed: the Python API process, whose nested source
        # credproc dying would fail a refresh as a source failure (exit 4), which is right.
        self.spared: set[int] = set()
        self.clock_jumps = 0
        self.skews = Skews()
        self.stop = threading.Event()
        self._fault_ends = 0.0
        # When something failed, in time.time(): each fault window, each kill.
        self.disruptions: list[tuple[float, float]] = []
        self._fault_started = 0.0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._schedule()
        except BaseException as error:  # noqa: BLE001 - reported by the soak, never lost
            self.error = error
        finally:
            self._end_fault()
            self.server.skew(0)
            self.skews.jumped(time.time(), 0.0)

    def _schedule(self) -> None:
        budget = int(MAX_EVENTS_PER_SECOND * max(self.ends_at - time.monotonic(), 0)) + 1
        kinds, weights = list(EVENTS), list(EVENTS.values())
        for _ in range(budget):
            # Paced, not waiting for anything: the gap is part of the schedule.
            gap = self.rng.uniform(0.3, 1.5)
            if self.stop.wait(min(gap, max(self.ends_at - time.monotonic(), 0))):
                return
            now = time.monotonic()
            if now >= self.ends_at:
                return
            if self._fault_ends and now >= self._fault_ends:
                self._end_fault()
            kind = self.rng.choices(kinds, weights)[0]
            if kind == "fault" and not self._fault_ends:
                self._start_fault(now)
            elif kind == "tamper":
                self._tamper()
            elif kind == "kill":
                self._kill()
            elif kind == "clock":
                self._jump()

    def _start_fault(self, now: float) -> None:
        kind = self.rng.choice(FAULT_KINDS)
        fault, seconds = _fault(kind, self.rng)
        target = self.rng.choice(TARGETS)
        # A slow STS still answers within the read timeout: nothing fails in that window.
        self._fault_started = time.time() if kind != "slow" else 0.0
        if target != "sso":
            self.server.faults(dict.fromkeys(CREDENTIAL_ACTIONS, fault))
        if target != "sts":
            for operation in SSO_ACTIONS:
                self.sso.fault(operation, **_in_sso_words(fault))
        self._fault_ends = min(now + seconds, self.ends_at)
        self.faults[kind if target == "sts" else f"{kind} ({target})"] += 1

    def _end_fault(self) -> None:
        self.server.clear_faults()
        self.sso.clear_faults()
        if self._fault_ends and self._fault_started:
            self.disruptions.append((self._fault_started, time.time()))
        self._fault_ends = 0.0

    def _jump(self) -> None:
        seconds = self.rng.choice(SKEWS)
        self.server.skew(seconds)
        self.skews.jumped(time.time(), seconds)
        self.clock_jumps += 1

    # -- the cache ------------------------------------------------------------------------

    def _tamper(self) -> None:
        entries = sorted(p for p in self.cache_dir.glob("*.json") if not p.is_symlink())
        if not entries:
            return
        target = self.rng.choice(entries)
        kind = self.rng.choice(TAMPERINGS)
        try:
            if kind == "truncated":
                os.truncate(target, self.rng.randrange(max(target.stat().st_size, 1)))
            elif kind == "garbled":
                with open(target, "r+b") as entry:
                    size = os.fstat(entry.fileno()).st_size
                    entry.seek(self.rng.randrange(max(size, 1)))
                    entry.write(self.rng.randbytes(self.rng.randint(1, 16)))
            elif kind == "group-readable":
                target.chmod(0o640)
            else:  # replaced by a symlink: to another role's entry, or to a file elsewhere
                others = [p for p in entries if p != target]
                planted = self.cache_dir.parent / "planted.json"
                if not planted.exists():
                    planted.write_bytes(target.read_bytes())
                    planted.chmod(0o600)
                link = self.cache_dir / f".planted-{self.rng.randrange(1 << 30)}"
                link.symlink_to(self.rng.choice(others) if others else planted)
                link.replace(target)
        except OSError:  # the entry was replaced under us by a writer: try another next time
            return
        self.tamperings[kind] += 1

    # -- processes ------------------------------------------------------------------------

    def _kill(self) -> None:
        victims = _credproc_descendants(os.getpid(), self.spared)
        if not victims:
            return
        refreshing = [pid for pid in victims if _holds_a_lock(pid, self.cache_dir)]
        prefer = refreshing and self.rng.random() < 0.7
        pid = self.rng.choice(refreshing if prefer else victims)
        mid_refresh = pid in refreshing
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:  # gone already
            return
        try:
            # Still ours and still credproc now that the pidfd pins it (a pid can be reused),
            # and not yet exited (a signal would change nothing).
            if not (_is_credproc(pid) and os.getpid() in ancestors(pid, parents())):
                return
            if _state(pid) in ("Z", None):
                return
            self.mark_killed(pid)
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            self.disruptions.append((time.time(), time.time()))
        except OSError:
            return
        finally:
            os.close(pidfd)
        self.kills += 1
        self.kills_mid_refresh += mid_refresh
        self.killed_pids.add(pid)


def parents() -> dict[int, int]:
    """pid -> parent pid, for every process now."""
    found: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        with (
            contextlib.suppress(OSError, IndexError, ValueError),
            open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as stat,
        ):
            found[int(name)] = int(stat.read().rpartition(")")[2].split()[1])
    return found


def ancestors(pid: int, tree: dict[int, int]) -> list[int]:
    chain = []
    while pid in tree and pid not in chain:
        pid = tree[pid]
        chain.append(pid)
    return chain


def _credproc_descendants(root: int, spared: set[int]) -> list[int]:
    tree = parents()
    return [
        pid
        for pid in tree
        if root in ancestors(pid, tree) and not spared & {pid, *ancestors(pid, tree)}
        if _is_credproc(pid)
    ]


def _is_credproc(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            words = cmdline.read().split(b"\0")
    except OSError:
        return False
    return any(word.endswith(b"/credproc") for word in words[:2])


def _holds_a_lock(pid: int, cache_dir: Path) -> bool:
    """Whether the process has a refresh lock of the cache open: it is refreshing."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith(str(cache_dir)) and target.endswith(".lock"):
                return True
    return False


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return None
