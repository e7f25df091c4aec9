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
            outcome.extend((passed.seconds, time.monotonic() - started))

    thread = threading.Thread(target=caller)
    thread.start()
    thread.join(timeout=10)
    release.set()  # let the abandoned call end

    seconds, took = outcome
    assert seconds == 0.5
    assert isinstance(took, float) and 0.5 <= took < 2
