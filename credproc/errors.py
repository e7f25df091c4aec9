"""Every failure credproc reports, each with the exit code the CLI returns for it.

    CredprocError            1  unexpected failure (a bug, or an OS error nobody foresaw)
    ├── UsageError           2  bad flags or values: caught locally, before any network call
    ├── ConfigError          3  the AWS config, a profile or a file it names is missing or wrong
    │   └── ConfigFileError  3  the AWS config or credentials file cannot be read or parsed
    ├── AuthError            4  STS refused: no, invalid or expired source credentials; denied
    ├── StsUnavailableError  5  STS unreachable, throttled after retries, or answering garbage
    ├── LockTimeoutError     6  another process held the refresh lock past --lock-timeout
    ├── LoopError            7  credproc would call itself for the same request (a loop)
    └── MfaError             8  no MFA code could be had (no terminal, bad code, command failed)

Only ``cli.main`` turns these into an exit status and one line on stderr; library users catch
``CredprocError`` (or a subclass) like any exception.
"""

from __future__ import annotations

# How cli prints every failure. A parent credproc reads a nested one's stderr (botocore hands
# it over in its credential_process error) and finds its own kind of line there.
ERROR_PREFIX = "credproc: error: "
# Starts every LoopError message, so a parent credproc can tell a loop in a nested one apart
# from other failures when the message reaches it through botocore's credential_process error.
LOOP_MARKER = "loop:"
# Starts the error line of a nested credproc (one refreshing another's source: CREDPROC_CHAIN is
# set) that found STS unavailable, so that its parent fails as unavailable too, and serves its
# own cached token meanwhile, rather than take it for a source that was refused.
UNAVAILABLE_MARKER = "sts unavailable:"


class CredprocError(Exception):
    """Root of credproc's errors. ``str(error)`` is the one line shown to the user."""

    exit_code = 1


class UsageError(CredprocError):
    """An option or value is invalid; found without any network call."""

    exit_code = 2


class ConfigError(CredprocError):
    """The AWS config, a named profile, or a file an option points to cannot be used."""

    exit_code = 3


class ConfigFileError(ConfigError):
    """The AWS config or credentials file cannot be read, or botocore would refuse it."""


class AuthError(CredprocError):
    """STS refused the request: bad or missing source credentials, or not allowed."""

    exit_code = 4


class StsUnavailableError(CredprocError):
    """STS could not be reached or kept failing after the bounded retries."""

    exit_code = 5


class LockTimeoutError(CredprocError):
    """Another process held the refresh lock for longer than the lock timeout."""

    exit_code = 6


class LoopError(CredprocError):
    """credproc was asked, through its own caller chain, to refresh the request it is refreshing."""

    exit_code = 7


class MfaError(CredprocError):
    """No usable MFA code: no terminal and no token command, a bad code, or the command failed."""

    exit_code = 8


__all__ = [
    "AuthError",
    "ConfigError",
    "ConfigFileError",
    "CredprocError",
    "LockTimeoutError",
    "LoopError",
    "MfaError",
    "StsUnavailableError",
    "UsageError",
]
