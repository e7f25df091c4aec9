"""credproc: assumed-role credentials for every AWS client, cached on disk under a lock.

The command line is the main interface (``credproc --help``). From Python::

    import credproc
    s3 = credproc.session(role_arn="arn:aws:iam::123456789012:role/dev",
                          source_profile="base").client("s3")

``import credproc`` stays cheap: the CLI's every run imports this package, so the API's
module (and boto3, with a session) load only when first used.
"""

from __future__ import annotations

from .core.credentials import Credentials
from .core.lean import TYPE_CHECKING
from .errors import (
    AuthError,
    ConfigError,
    CredprocError,
    LockTimeoutError,
    LoopError,
    MfaError,
    StsUnavailableError,
    UsageError,
)

if TYPE_CHECKING:
    from .api import Options, get_credentials, session

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
    "StsUnavailableError",
    "UsageError",
    "__version__",
    "get_credentials",
    "session",
]

_FROM_API = ("Options", "get_credentials", "session")


def __getattr__(name: str) -> object:
    if name in _FROM_API:
        from . import api  # noqa: PLC0415 - see the module docstring

        return getattr(api, name)
    raise AttributeError(f"module 'credproc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)  # the public surface, whether or not the API module is loaded yet
