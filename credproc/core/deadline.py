"""A wall-clock deadline for a call that may block without end, from any thread.

A socket timeout bounds each read, not the whole answer (a server that drips one byte at a
time holds a reader as long as it likes), and a D-Bus call to a locked keyring waits for a
dialog nobody may see. SIGALRM would work only in the main thread, and the Python API and
``exec --server`` call from others; so the call runs in a worker thread, and the caller waits
for it up to the deadline. A call given up on is left to end on its own: a daemon thread, it
holds up no exit, and what it returns is dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class DeadlinePassed(Exception):
    """The call did not end within its deadline; it may still be running."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


def run_within(seconds: float, call: Callable[[], T], name: str) -> T:
    """``call()``'s result, or what it raised, in this thread; ``DeadlinePassed`` once
    ``seconds`` have passed without either. ``name`` names the worker thread."""
    outcome: list[Any] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def work() -> None:
        try:
            outcome.append(call())
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread
            failure.append(error)
        finally:
            done.set()

    threading.Thread(target=work, name=name, daemon=True).start()
    if not done.wait(seconds):
        raise DeadlinePassed(seconds)
    if failure:
        raise failure[0]
    result: T = outcome[0]
    return result
