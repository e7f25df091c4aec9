"""credproc: assumed-role credentials for every AWS client, cached on disk under a lock.

The command line is the main interface (``credproc --help``). From Python::

    import credproc
    s3 = credproc.session(role_arn="arn:aws:iam::123456789012:role/dev",
                          source_profile="base").client("s3")

``import credproc`` stays cheap: every run of the command imports this package, and a cache
hit (``core.hit``) must not pay for the rest of it, so each public name is imported when first
used (the API's module, and boto3 with a session).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own flag, without importing typing (see core.hit)
if TYPE_CHECKING:
    from .api import Options, get_credentials, session
    from .core.credentials import Credentials
    from .errors import (
        AuthError,
        ConfigError,
        CredprocError,
        LockTimeoutError,
        LoopError,
        MfaError,
        ServiceUnavailableError,
        StsUnavailableError,
        UsageError,
    )

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "ConfigError",
    "Credentials",
    "CredprocError",
    "LockTimeoutError",
    "LoopError",
    "MfaError",
    "Options",
    "ServiceUnavailableError",
    "StsUnavailableError",
    "UsageError",
    "__version__",
    "get_credentials",
    "session",
]

_HOMES = {
    **dict.fromkeys(("Options", "get_credentials", "session"), "api"),
    "Credentials": "core.credentials",
    **dict.fromkeys(
        (
            *("AuthError", "ConfigError", "CredprocError", "LockTimeoutError", "LoopError"),
            *("MfaError", "ServiceUnavailableError", "StsUnavailableError", "UsageError"),
        ),
        "errors",
    ),
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'credproc' has no attribute {name!r}")
    from importlib import import_module  # noqa: PLC0415 - see the module docstring

    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)  # the public surface, whether or not its modules are loaded yet
