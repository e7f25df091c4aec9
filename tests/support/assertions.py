"""The contracts every credproc run keeps, checked in one place.

A failure: its documented exit status, nothing on stdout (a client must never parse half a
document), and exactly one line on stderr, ``credproc: error: ...``. A degraded success (a
stale token served, a cache that cannot be used): exit 0 and exactly one warning line.
"""

from __future__ import annotations

from support.sandbox import Result


def assert_fails(result: Result, exit_code: int, *words: str) -> str:
    """The failure contract: the exit code, empty stdout, one ``credproc: error:`` line
    (ended by a newline) holding each of ``words``. Returns that line, without the newline."""
    assert result.returncode == exit_code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stderr.endswith("\n"), result.stderr
    assert lines[0].startswith("credproc: error: "), result.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


def assert_warns(result: Result, *words: str) -> str:
    """A success with one warning: exit 0 and one ``credproc: WARNING:`` line (ended by a
    newline) holding each of ``words``. Returns that line, without the newline."""
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stderr.endswith("\n"), result.stderr
    assert lines[0].startswith("credproc: WARNING: "), result.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]
