"""The Python API: the command line's requests, cache and lock, from a Python program.

Options are the command line's, in snake_case (``duration=``, ``external_id=``,
``cache_dir=``, ``refresh_window=``, ``profile=``...), resolved and validated exactly as the
CLI resolves them, so a bad value raises ``UsageError`` before any STS call. Tokens share the
CLI's disk cache: a script and ``aws --profile`` using the same role make one STS call.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypedDict

from .aws.sts import refreshing_session
from .config.options import BY_DEST, RawOptions
from .config.resolve import resolve
from .core.provider import get_credentials as fetch
from .core.request import Request
from .errors import UsageError
from .fetch.fetch import from_aws

if TYPE_CHECKING:
    import boto3
    from typing_extensions import Unpack

    from .core.credentials import Credentials


class Options(TypedDict, total=False):
    """The keyword options of ``session`` and ``get_credentials``: the CLI's options."""

    profile: str
    source_keys: str  # a name from `credproc keys add NAME`
    role_session_name: str
    duration: int
    external_id: str
    source_identity: str
    policy: str | Mapping[str, object]  # a policy document, its JSON, or "@FILE"
    policy_arns: Sequence[str]
    tags: Mapping[str, str]
    transitive_tag_keys: Sequence[str]
    region: str  # STS's region
    mfa_serial: str
    mfa_token_command: str
    mfa_prompt: str  # auto, terminal, zenity, kdialog or osascript
    mfa_duration: int
    web_identity_token_file: str | os.PathLike[str]
    sso_session: str  # with sso_account_id and sso_role_name: an SSO role from the portal
    sso_account_id: str
    sso_role_name: str
    sso_login: str  # auto or never
    login: str  # auto or never: a login_session profile's sign-in
    cache_dir: str | os.PathLike[str]
    no_cache: bool
    refresh_window: int
    lock_timeout: float


def get_credentials(
    role_arn: str | None = None,
    source_profile: str | None = None,
    **options: Unpack[Options],
) -> Credentials:
    """Credentials for the role: from the cache while fresh, else from STS (then cached)."""
    return fetch(_request("get_credentials", role_arn, source_profile, options), from_aws)


def session(
    role_arn: str | None = None,
    source_profile: str | None = None,
    region_name: str | None = None,
    **options: Unpack[Options],
) -> boto3.Session:
    """A boto3 Session for the role whose credentials renew themselves, through the same cache
    and lock as the CLI, whenever botocore finds them near expiry: a long-running program
    keeps working across token lifetimes.

    ``region_name`` is the session's region; without it, the request's (``region=``, else the
    source profile's, else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``), as ``credproc env``
    sets it."""
    request = _request("session", role_arn, source_profile, options)
    return refreshing_session(lambda: fetch(request, from_aws), region_name or request.region)


def _request(
    caller: str, role_arn: str | None, source_profile: str | None, options: Mapping[str, object]
) -> Request:
    values: dict[str, object] = {"role_arn": role_arn, "source_profile": source_profile}
    for name, value in options.items():
        if name not in Options.__annotations__:
            raise TypeError(f"{caller}() got an unexpected keyword argument {name!r}")
        values[name] = _raw_value(name, value)
    return resolve(RawOptions(values), os.environ)


def _raw_value(name: str, value: object) -> object:
    """The value as the command line would have put it in RawOptions."""
    option = BY_DEST[name]
    if option.switch:
        return bool(value)
    if name == "tags":
        if not isinstance(value, Mapping):
            raise TypeError("tags= takes a mapping of tag keys to values")
        if any("=" in str(key) for key in value):
            raise UsageError("a tag key with '=' cannot be given (as with --tag KEY=VALUE)")
        return tuple(f"{key}={tag}" for key, tag in value.items())
    if option.many:
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise TypeError(f"{name}= takes a list of strings")
        return tuple(str(item) for item in value)
    if name == "policy" and isinstance(value, Mapping):
        return json.dumps(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)
