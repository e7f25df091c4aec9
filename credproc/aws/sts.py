"""Source sessions and the STS calls (clients from ``boto``, errors from ``answers``).

Imported only when a token must be fetched: a cache hit never pays for boto3's import.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import boto3
import botocore.credentials
import botocore.exceptions
import botocore.parsers
import botocore.session
from botocore import UNSIGNED
from botocore.config import Config

from ..core.credentials import Credentials, Fetched
from ..core.log import logger
from ..errors import (
    LOOP_MARKER,
    ConfigError,
    ConfigFileError,
    LoopError,
    ServiceUnavailableError,
    UsageError,
)
from .answers import one_line, source_failure, translated
from .boto import CLIENT_CONFIG, make_client

if TYPE_CHECKING:
    from mypy_boto3_sts.client import STSClient

    from ..core.request import Request

# The Date header has one-second resolution and the call takes time: smaller skews are noise.
SKEW_NOISE_SECONDS = 5


def source_session(request: Request) -> boto3.Session:
    """The session whose credentials call STS: exactly what the request names, nothing else.

    Without --source-profile, an AWS_PROFILE inherited from the client is ignored: it usually
    names the very profile that is running credproc, and following it would recurse."""
    try:
        if request.source_profile is not None:
            return boto3.Session(profile_name=request.source_profile, region_name=request.region)
        core = _profileless()
        return boto3.Session(botocore_session=core, region_name=request.region)
    except botocore.exceptions.ProfileNotFound:
        raise ConfigError(
            f"source profile {request.source_profile!r} is not in your AWS config or credentials "
            "file (check --source-profile and AWS_CONFIG_FILE)"
        ) from None
    except botocore.exceptions.ConfigParseError as error:
        raise ConfigFileError(
            f"cannot parse {error.kwargs.get('path')}: botocore refuses it"
        ) from None


def _profileless() -> botocore.session.Session:
    """A botocore session that ignores AWS_PROFILE and AWS_DEFAULT_PROFILE (see above)."""
    return botocore.session.Session(session_vars={"profile": (None, None, None, None)})


def refreshing_session(fetch: Callable[[], Credentials], region: str | None) -> boto3.Session:
    """A session whose credentials renew themselves through ``fetch`` whenever botocore finds
    them near expiry (15 minutes left, or 10 for a refresh that must succeed)."""

    def metadata() -> dict[str, str]:
        credentials = fetch()
        return {
            "access_key": credentials.access_key_id,
            "secret_key": credentials.secret_access_key,
            "token": credentials.session_token,
            "expiry_time": credentials.expiration_text,
        }

    credentials = botocore.credentials.RefreshableCredentials.create_from_metadata(
        metadata=metadata(), refresh_using=metadata, method="credproc"
    )
    core = _profileless()
    # These credentials and nothing else: no fallback to the environment or a profile.
    core.register_component(
        "credential_provider", botocore.credentials.CredentialResolver([_Fixed(credentials)])
    )
    return boto3.Session(botocore_session=core, region_name=region)


class _Fixed(botocore.credentials.CredentialProvider):
    METHOD = CANONICAL_NAME = "credproc"

    def __init__(self, credentials: botocore.credentials.Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> botocore.credentials.Credentials:
        return self._credentials


def session_from(credentials: Credentials, region: str | None) -> boto3.Session:
    """A session that signs with credentials credproc already holds (an MFA session)."""
    core = _profileless()
    return boto3.Session(
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        botocore_session=core,
        region_name=region,
    )


def keys_session(access_key_id: str, secret_access_key: str, region: str | None) -> boto3.Session:
    """A session that signs with long-term keys credproc holds (from the OS keyring)."""
    return boto3.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        botocore_session=_profileless(),
        region_name=region,
    )


def assume_role(session: boto3.Session, request: Request) -> Fetched:
    assert request.role_arn is not None  # noqa: S101 - the provider only calls with a role
    params: dict[str, Any] = {
        "RoleArn": request.role_arn,
        "RoleSessionName": request.role_session_name,
        "DurationSeconds": request.duration,
    }
    optional = {
        "ExternalId": request.external_id,
        "SourceIdentity": request.source_identity,
        "Policy": request.policy,
        "PolicyArns": [{"arn": arn} for arn in request.policy_arns],
        "Tags": [{"Key": key, "Value": value} for key, value in request.tags],
        "TransitiveTagKeys": list(request.transitive_tag_keys),
    }
    params.update({name: value for name, value in optional.items() if value})
    client = _client(session, request)
    return _call("AssumeRole", request, lambda: client.assume_role(**params))


def get_session_token(session: boto3.Session, request: Request, serial: str, code: str) -> Fetched:
    client = _client(session, request)
    return _call(
        "GetSessionToken",
        request,
        lambda: client.get_session_token(
            SerialNumber=serial, TokenCode=code, DurationSeconds=request.mfa_duration
        ),
    )


def assume_role_with_web_identity(request: Request, token: str) -> Fetched:
    assert request.role_arn is not None  # noqa: S101
    # Unsigned: the web identity token is the only credential, and there may be no other.
    core = _profileless()
    session = boto3.Session(botocore_session=core, region_name=request.region)
    config = CLIENT_CONFIG.merge(Config(signature_version=UNSIGNED))
    client = _client(session, request, config)
    return _call(
        "AssumeRoleWithWebIdentity",
        request,
        lambda: client.assume_role_with_web_identity(
            RoleArn=request.role_arn or "",
            RoleSessionName=request.role_session_name,
            WebIdentityToken=token,
            DurationSeconds=request.duration,
        ),
    )


class Identity(NamedTuple):
    arn: str
    account: str
    clock_offset: float  # STS's clock minus ours, 0 when within noise


def caller_identity(session: boto3.Session, request: Request) -> Identity:
    """GetCallerIdentity, for ``doctor``: who the source credentials are, and STS's clock."""
    client = _client(session, request)
    result = _call_raw("GetCallerIdentity", request, client.get_caller_identity)
    offset = _clock_offset(result, time.time())
    return Identity(str(result.get("Arn", "")), str(result.get("Account", "")), offset)


def _client(session: boto3.Session, request: Request, config: Config = CLIENT_CONFIG) -> STSClient:
    # The request's region, resolved once (resolve._region); never the session's own, which
    # botocore takes from AWS_DEFAULT_REGION before the profile.
    region = request.region or _default_region(request.role_arn)
    try:
        # Creating the client loads the source credentials: a source profile's own
        # credential_process (maybe a nested credproc) runs here.
        client = cast("STSClient", make_client(session, "sts", region, config))
    except botocore.exceptions.CredentialRetrievalError as error:
        raise source_failure(request, error) from None
    except botocore.exceptions.InfiniteLoopConfigError as error:
        raise LoopError(
            f"{LOOP_MARKER} the source_profile keys in your AWS config form a cycle: "
            f"{one_line(error)}"
        ) from None
    except botocore.exceptions.ProfileNotFound as error:
        raise ConfigError(f"profile not found: {error.kwargs.get('profile')!r}") from None
    except botocore.exceptions.BotoCoreError as error:
        raise ConfigError(f"cannot set up an STS client: {one_line(error)}") from None
    return client


def _default_region(role_arn: str | None) -> str:
    partition = role_arn.split(":")[1] if role_arn else "aws"
    if partition != "aws":
        raise UsageError(f"roles in the {partition} partition need --region")
    return "us-east-1"


def _call(operation: str, request: Request, call: Callable[[], Mapping[str, Any]]) -> Fetched:
    response = _call_raw(operation, request, call)
    received = time.time()
    try:
        credentials = Credentials.from_dict(response["Credentials"])
    except (KeyError, TypeError, ValueError):
        raise ServiceUnavailableError(
            f"STS {operation} answered without usable credentials"
        ) from None
    return Fetched(credentials, _clock_offset(response, received))


def _call_raw(
    operation: str, request: Request, call: Callable[[], Mapping[str, Any]]
) -> Mapping[str, Any]:
    started = time.monotonic()
    response = translated("STS", operation, call, request)
    logger().debug("STS %s answered in %.0f ms", operation, (time.monotonic() - started) * 1000)
    return response


def _clock_offset(response: Mapping[str, Any], received: float) -> float:
    """STS's clock minus ours, from the response's Date header (0 when unknown or noise)."""
    try:
        date = response["ResponseMetadata"]["HTTPHeaders"]["date"]
        server = email.utils.parsedate_to_datetime(date).timestamp()
    except (KeyError, TypeError, ValueError, IndexError):
        return 0.0
    offset = server - received
    return float(round(offset)) if abs(offset) > SKEW_NOISE_SECONDS else 0.0
