"""``run_within``: a call's result or its exception in the caller's thread, or DeadlinePassed
once the deadline is past, whatever thread calls it."""

from __future__ import annotations

import threading
import time

import pytest

from credproc.core.deadline import DeadlinePassed, run_within


def test_the_result_and_the_exception_come_back_to_the_caller() -> None:
    assert run_within(5, lambda: 42, "test-call") == 42

    def broken() -> None:
        raise KeyError("inside")

    with pytest.raises(KeyError, match="inside"):
        run_within(5, broken, "test-call")


def test_a_call_past_its_deadline_is_given_up_on_from_any_thread() -> None:
    release = threading.Event()
    outcome: list[object] = []

    def caller() -> None:  # not the main thread: no SIGALRM could serve here
        started = time.monotonic()
        try:
            run_within(0.5, release.wait, "test-stuck")
        except DeadlinePassed as passed:
            stuck = any(t.name == "test-stuck" and t.is_alive() for t in threading.enumerate())
            outcome.extend((passed.seconds, time.monotonic() - started, stuck))

    thread = threading.Thread(target=caller)
    thread.start()
    thread.join(timeout=10)
    release.set()  # let the abandoned call end

    seconds, took, stuck = outcome
    assert seconds == 0.5
    # Released at the deadline while the call was still blocked (it ends only when released
    # above), however long a loaded machine took to get there: no upper bound on the time.
    assert isinstance(took, float) and took >= 0.5
    assert stuck is True
