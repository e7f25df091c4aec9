"""The fetch step the commands hand to the provider, loaded only when a refresh calls it.

``fetch.fetch.from_aws`` imports boto3, which costs twenty times a bare interpreter's start.
``credproc env`` and ``credproc exec`` are served from the cache far more often than they
refresh, so they pass this stand-in and stay cheap on a warm cache (a plain credential_process
hit never gets here: ``core.hit`` serves it). The layout test follows this load by name.
"""

from __future__ import annotations

import importlib

from ..core.typed import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.credentials import Credentials, Fetched
    from ..core.request import Request


def from_aws(request: Request, mfa_session: Credentials | None) -> Fetched:
    """``fetch.fetch.from_aws``, imported now."""
    fetch = importlib.import_module("credproc.fetch.fetch")
    fetched: Fetched = fetch.from_aws(request, mfa_session)
    return fetched
