"""Signal dispositions a test relies on, set in the processes it starts.

A process inherits ignored signals: started from a background job of a non-interactive shell
(`make test &`, nohup, some CI runners) SIGINT and SIGQUIT arrive ignored, under nohup SIGHUP
too, and Python keeps them ignored. A test that sends one of these signals, or runs a command
that raises one, starts its processes with ``preexec_fn=default_signals``: the outcome is then
the one a user at a terminal sees, whoever started pytest.
"""

from __future__ import annotations

import signal

# Every signal a test sends or has a command raise, except SIGKILL and SIGSTOP (never ignored);
# those this system has (Windows: SIGINT and SIGTERM), so that importing this never fails.
SENT = tuple(
    getattr(signal, name)
    for name in ("SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2")
    if hasattr(signal, name)
)


def default_signals() -> None:
    """For ``preexec_fn``: every signal in ``SENT`` back to its default action."""
    for number in SENT:
        signal.signal(number, signal.SIG_DFL)
