"""Every failure credproc reports, each with the exit code the CLI returns for it.

    CredprocError                  1  unexpected failure (a bug, or an OS error nobody foresaw)
    ├── UsageError                 2  bad flags or values: caught locally, before any network call
    ├── ConfigError                3  the AWS config, a profile or a file it names is wrong
    │   └── ConfigFileError        3  the AWS config or credentials file cannot be read or parsed
    ├── AuthError                  4  STS refused: no, invalid or expired source credentials
    │   ├── SsoLoginError          4  no usable SSO token and no login (never, nobody to ask)
    │   ├── LoginRequiredError     4  an aws login session is missing or has ended: sign in
    │   └── CommandOutputError     4  a wrapped command printed no credential_process JSON
    ├── ServiceUnavailableError    5  an AWS service unreachable, throttled, or answering garbage
    │   └── CommandFailedError     5  a wrapped command exited non-zero, or ran past --timeout
    ├── LockTimeoutError           6  another process held the refresh lock past --lock-timeout
    ├── LoopError                  7  credproc would call itself for the same request (a loop)
    └── MfaError                   8  no MFA code could be had (no terminal, bad code, failed)

``StsUnavailableError`` is ``ServiceUnavailableError``'s former name, kept for the Python API.

Only ``cli.main`` turns these into an exit status and one line on stderr; library users catch
``CredprocError`` (or a subclass) like any exception.
"""

from __future__ import annotations

# How cli prints every failure. A parent credproc reads a nested one's stderr (botocore hands
# it over in its credential_process error) and finds its own kind of line there.
ERROR_PREFIX = "credproc: error: "
# A credproc that runs inside another's refresh (a source profile that runs credproc) starts
# its message with its exit code, "credproc: error: [exit 8] ...", so the parent fails with the
# same kind of error at every depth. A person never sees it: the top-level credproc is not
# nested, and prints its line without it.
NESTED_CODE = "[exit {code}] "
# Keys of the requests being refreshed by this process and its ancestors (``core.provider``).
# Clients pass their environment to credential_process, so a nested credproc (a source profile
# that uses credproc) sees its parents' keys and can tell a chain of roles (new keys) from a
# loop (a key again); and the CLI knows it is nested, and marks its error line.
CHAIN_VARIABLE = "CREDPROC_CHAIN"
# Starts every LoopError message: the user reads "loop:", and a parent credproc older than the
# exit code marker still tells a loop apart.
LOOP_MARKER = "loop:"


class CredprocError(Exception):
    """Root of credproc's errors. ``str(error)`` is the one line shown to the user."""

    exit_code = 1
    # Words added where the error passed through (``with_context``), innermost first.
    leads: tuple[str, ...] = ()
    context: tuple[str, ...] = ()

    def with_context(self, context: str, *, lead: bool = False) -> CredprocError:
        """This error, of the same class and exit code, with ``context`` in its line: after
        its words ("...; nothing was changed"), or before them with ``lead`` ("stored 'dev',
        but ...: ..."). It never calls the constructor, so it serves every error class, also
        one whose constructor takes other arguments."""
        if lead:
            self.leads = (*self.leads, context)
        else:
            self.context = (*self.context, context)
        return self

    def __str__(self) -> str:
        leads = "".join(f"{words}: " for words in reversed(self.leads))
        return leads + "; ".join((super().__str__(), *self.context))


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


class SsoLoginError(AuthError):
    """An SSO session has no usable token, and no login could make one: ``--sso-login never``,
    no person to ask, or the login was refused, abandoned or expired."""


class LoginRequiredError(AuthError):
    """An ``aws login`` session is missing or has ended (expired, revoked, its password
    changed, its refresh token spent): only a new sign-in cures it."""


class CommandOutputError(AuthError):
    """The command ``credproc wrap`` runs printed something that is not valid
    credential_process JSON: nothing of it is cached or printed."""


class ServiceUnavailableError(CredprocError):
    """An AWS service (STS, IAM, the SSO portal and its OIDC service, AWS Sign-In, the
    console's federation endpoint) could not be reached, or kept failing after the bounded
    retries."""

    exit_code = 5


# Its name until it served every AWS service: the Python API keeps it (the same class).
StsUnavailableError = ServiceUnavailableError


class CommandFailedError(ServiceUnavailableError):
    """The command ``credproc wrap`` runs exited non-zero, or was ended at ``--timeout``: to
    the algorithm, an outage of the source like STS's."""


class LockTimeoutError(CredprocError):
    """Another process held the refresh lock for longer than the lock timeout."""

    exit_code = 6


class LoopError(CredprocError):
    """credproc was asked, through its own caller chain, to refresh the request it is refreshing."""

    exit_code = 7


class MfaError(CredprocError):
    """No usable MFA code: no terminal and no token command, a bad code, or the command failed."""

    exit_code = 8


def nested_failure(stderr: str, source: str) -> CredprocError:
    """The error a nested credential_process reported, as this process's own.

    ``stderr`` is what botocore hands over: the whole stderr of the process it ran (or of an
    aws CLI in between, which quotes the inner line after its own words). A credproc line is
    the cause; its exit code marker gives the kind. Anything else is a failed source (exit 4)
    with that process's last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    ours = next((line for line in reversed(lines) if ERROR_PREFIX in line), None)
    if ours is None:
        reason = lines[-1] if lines else "it failed without a message"
        return AuthError(f"{source} could not get credentials: {reason}")
    reason = ours[ours.index(ERROR_PREFIX) + len(ERROR_PREFIX) :]
    kind: type[CredprocError] = AuthError
    head, marker, rest = reason.partition("] ")
    if marker and head.startswith("[exit ") and head[6:].isdigit():
        kind = _BY_EXIT_CODE.get(int(head[6:]), AuthError)
        reason = rest
    if kind is LoopError or reason.startswith(LOOP_MARKER):
        return LoopError(reason)  # the loop's own words: it names the request that came round
    return kind(f"{source} could not get credentials: {reason}")


_BY_EXIT_CODE: dict[int, type[CredprocError]] = {
    kind.exit_code: kind
    for kind in (
        CredprocError,
        UsageError,
        ConfigError,
        AuthError,
        ServiceUnavailableError,
        LockTimeoutError,
        LoopError,
        MfaError,
    )
}

__all__ = [
    "AuthError",
    "CommandFailedError",
    "CommandOutputError",
    "ConfigError",
    "ConfigFileError",
    "CredprocError",
    "LockTimeoutError",
    "LoginRequiredError",
    "LoopError",
    "MfaError",
    "ServiceUnavailableError",
    "SsoLoginError",
    "StsUnavailableError",
    "UsageError",
]
