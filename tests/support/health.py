"""What a long-lived process holds: open files, threads, memory. Read from /proc, Linux only.

The soak's Python API process reports it at its start and end, and the API test bounds what
may change between the two."""

from __future__ import annotations

import gc
import os
import threading
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Health:
    fds: int  # open file descriptors: files, sockets, pipes
    threads: int  # live Python threads
    rss_kib: int  # resident memory
    objects: int  # objects the garbage collector tracks, after a full collection

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def health() -> Health:
    """This process, now; after a full collection, so that garbage awaiting the collector (a
    dropped boto3 client sits in reference cycles) is not mistaken for something kept."""
    gc.collect()
    return Health(
        fds=len(os.listdir("/proc/self/fd")),
        threads=threading.active_count(),
        rss_kib=_rss_kib(),
        objects=len(gc.get_objects()),
    )


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")
