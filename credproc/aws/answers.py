"""What STS (or whatever answered in its place) said, as one of credproc's errors.

Every exception that escapes boto3 and botocore during an STS call ends here as a
``CredprocError`` with the right exit code: a refusal is STS's (exit 4, or 2 for a parameter
STS rejected), anything that is not a well-formed STS answer (a proxy's page, a captive portal,
a TLS or proxy failure, silence) is STS being unavailable (exit 5), so a cached token that
still lives is served instead; and a source that cannot sign is configuration (exit 3).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import botocore.exceptions
import botocore.parsers

from ..errors import (
    AuthError,
    ConfigError,
    ConfigFileError,
    CredprocError,
    MfaError,
    SsoLoginError,
    StsUnavailableError,
    UsageError,
    nested_failure,
)

if TYPE_CHECKING:
    from ..core.request import Request

# Bounded: 3 attempts of at most 3 s to connect and 5 s per read, with standard-mode backoff
# between them: the outage bound docs/security.md ("Outages") states follows from these.
# STS answers in well under 1 s.
MAX_ATTEMPTS = 3
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 5


class _Answer(threading.local):
    """The HTTP status and content type of the last answer this thread's STS client parsed:
    what an error may name when the answer was not STS's (never its body)."""

    status: int | None = None
    content_type: str = ""


_ANSWER = _Answer()


def remember_answer(response_dict: Mapping[str, Any], **_: object) -> None:
    _ANSWER.status = response_dict.get("status_code")
    headers = response_dict.get("headers") or {}
    _ANSWER.content_type = str(headers.get("content-type") or headers.get("Content-Type") or "")


def _not_sts(operation: str, request: Request) -> StsUnavailableError:
    """An answer that is not a well-formed STS response: a proxy's page, a captive portal."""
    content_type = _ANSWER.content_type.split(";")[0].strip() or "no content type"
    return StsUnavailableError(
        f"STS{_where(request)} answered {operation} with HTTP {_ANSWER.status} "
        f"({content_type}), which is not an STS response; is a proxy or a captive portal "
        "in the way?"
    )


@contextlib.contextmanager
def translated_errors(operation: str, request: Request) -> Iterator[None]:
    """Run an STS call; whatever botocore raises leaves as a CredprocError."""
    _ANSWER.status, _ANSWER.content_type = None, ""
    try:
        yield
    except botocore.exceptions.ClientError as error:
        if not _is_sts_error(error):
            raise _not_sts(operation, request) from None
        raise map_client_error(operation, request, error) from None
    except botocore.exceptions.NoCredentialsError:
        if request.source_profile is not None:
            # Found, but botocore can sign with nothing in it (say, a key id without its
            # secret): pointing the user at --source-profile would send them in a circle.
            raise ConfigError(
                f"source profile {request.source_profile!r} has no credentials to sign with "
                "(an access key id and secret, or sso_*, role_arn or credential_process)"
            ) from None
        raise AuthError(f"no source credentials found: {_source_hint(request)}") from None
    except botocore.exceptions.CredentialRetrievalError as error:
        raise source_failure(request, error) from None
    except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as error:
        raise StsUnavailableError(
            f"cannot reach STS{_where(request)} for {operation}: {_network_cause(error)} "
            f"(gave up after {MAX_ATTEMPTS} attempts); check the network, any proxy, or --region"
        ) from None
    except botocore.parsers.ResponseParserError:
        raise _not_sts(operation, request) from None
    except botocore.exceptions.ProfileNotFound as error:
        raise ConfigError(
            f"profile {error.kwargs.get('profile')!r} (named by the source profile's "
            "configuration) is not in your AWS config"
        ) from None
    except botocore.exceptions.ConfigParseError as error:
        raise ConfigFileError(
            f"cannot parse {error.kwargs.get('path')}: botocore refuses it"
        ) from None
    except botocore.exceptions.BotoCoreError as error:
        raise AuthError(f"{operation} failed: {one_line(error)}") from None
    except Exception:  # noqa: BLE001 - botocore choking on an answer it could not read
        # A well-formed XML document of another shape, say, ends in a KeyError deep in the
        # parser: whatever escapes botocore here is an answer that was not STS's.
        raise _not_sts(operation, request) from None


def _network_cause(error: Exception) -> str:
    """What kind of network trouble, in a few words (never a URL with credentials in it)."""
    causes = (
        (botocore.exceptions.ProxyConnectionError, "the proxy cannot be reached"),
        (botocore.exceptions.SSLError, "the TLS handshake failed"),
        (botocore.exceptions.ConnectTimeoutError, "the connection timed out"),
        (botocore.exceptions.ReadTimeoutError, "no answer in time"),
        (botocore.exceptions.ConnectionClosedError, "the connection was closed"),
        (botocore.exceptions.EndpointConnectionError, "the connection failed"),
    )
    return next((cause for kind, cause in causes if isinstance(error, kind)), "a network error")


def _is_sts_error(error: botocore.exceptions.ClientError) -> bool:
    """Whether STS itself sent this error: an XML error document with a code of its own.
    For anything else (an HTML page, JSON, nothing) botocore makes the code up from the
    HTTP status."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    return "xml" in _ANSWER.content_type.lower() and bool(code) and not code.isdigit()


def source_failure(
    request: Request, error: botocore.exceptions.CredentialRetrievalError
) -> CredprocError:
    """The source's own credential_process (maybe a nested credproc) failed: fail as it did.

    botocore hands over that process's whole stderr; a nested credproc's line there says what
    went wrong and which kind of error it was, at any depth of the chain (``nested_failure``)."""
    source = (
        f"source profile {request.source_profile!r}"
        if request.source_profile
        else "the default source credentials"
    )
    return nested_failure(str(error.kwargs.get("error_msg", "")), source)


def _source_hint(request: Request) -> str:
    hint = (
        "give --source-profile NAME, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
        "or run where an instance role exists"
    )
    variable = next((v for v in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE") if os.environ.get(v)), "")
    if request.source_profile is None and variable:
        hint += (
            f"; {variable}={os.environ[variable]} is not used as the source, since it usually "
            "names the profile that runs credproc (following it would loop)"
        )
    return hint


_AUTH_CODES = {
    "InvalidClientTokenId": "the source credentials are not valid (unknown access key id)",
    "SignatureDoesNotMatch": "the source credentials are not valid (wrong secret key)",
    "UnrecognizedClientException": "the source credentials are not valid",
    "ExpiredToken": "the source credentials have expired; renew them (or their SSO login)",
    "ExpiredTokenException": "the token has expired",
    "InvalidIdentityToken": "the web identity token was rejected",
    "IDPRejectClaim": "the identity provider rejected the web identity token",
    "RegionDisabledException": "STS is not activated in this region for the account",
}
_THROTTLE_CODES = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
_INPUT_CODES = {"ValidationError", "MalformedPolicyDocument", "PackedPolicyTooLarge"}
# What STS says when the session credentials that signed a call are no longer good.
_SESSION_GONE_CODES = {"ExpiredToken", "InvalidClientTokenId"}


def map_client_error(
    operation: str, request: Request, error: botocore.exceptions.ClientError
) -> CredprocError:
    """One line that says what STS refused and what to do about it."""
    details = error.response.get("Error", {})
    code = str(details.get("Code", "Unknown"))
    message = " ".join(str(details.get("Message", "")).split())
    target = f" {request.role_arn}" if request.role_arn and "Role" in operation else ""
    if operation == "GetSessionToken" and code == "AccessDenied":
        # A wrong or reused code, or a serial that is not the user's device. STS's message
        # says which; it never contains the code.
        return MfaError(
            f"STS refused the MFA session for {request.mfa_serial}: {message or 'access denied'}"
        )
    if operation == "AssumeRole" and request.mfa_serial and code in _SESSION_GONE_CODES:
        # With --mfa-serial the role is assumed from the cached MFA session: that is what
        # STS refuses here, not the user's own keys.
        return MfaError(
            f"STS no longer accepts the MFA session for {request.mfa_serial} ({code}): "
            "it expired early or was revoked"
        )
    if request.source_keys and code in ("InvalidClientTokenId", "SignatureDoesNotMatch"):
        return AuthError(
            f"STS does not accept the source keys {request.source_keys!r} ({code}); store "
            f"working ones with credproc keys add {request.source_keys} --force"
        )
    if code == "AccessDenied":
        return AuthError(f"STS denied {operation}{target}: {message or 'access denied'}")
    if code in _AUTH_CODES:
        return AuthError(f"{operation} failed: {_AUTH_CODES[code]} ({code})")
    if code in _THROTTLE_CODES:
        return StsUnavailableError(
            f"STS is throttling {operation} (still after {MAX_ATTEMPTS} attempts); try again soon"
        )
    if code in _INPUT_CODES:
        return UsageError(f"STS rejected {operation}: {message or code}")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if isinstance(status, int) and status >= 500:
        return StsUnavailableError(f"STS failed {operation} with {code} (HTTP {status})")
    return AuthError(f"STS refused {operation}{target}: {code}: {message}".rstrip(": "))


def one_line(error: Exception) -> str:
    # botocore's messages may span lines (parameter validation does); ours are one line.
    return " ".join(str(error).split())


def _where(request: Request) -> str:
    return f" at {request.endpoint_url}" if request.endpoint_url else ""


# -- IAM Identity Center: the OIDC service and the portal ---------------------------------

# Answers that mean the session's token, refresh token or client registration is no good any
# more (revoked, rotated away, expired): only a new login helps.
SSO_LOGIN_CODES = {
    "InvalidGrantException",
    "InvalidClientException",
    "ExpiredTokenException",
    "UnauthorizedException",
    "UnauthorizedClientException",
    "AccessDeniedException",
}
_SSO_BUSY_CODES = {"TooManyRequestsException", "SlowDownException", "InternalServerException"}


@contextlib.contextmanager
def translated_sso_errors(service: str, operation: str, endpoint: str) -> Iterator[None]:
    """Run a call to IAM Identity Center's ``service`` ("OIDC" or "portal"); whatever botocore
    raises leaves as a CredprocError: SsoLoginError where a new login is the remedy, exit 5
    for an outage (down, slow, throttling, a proxy's page or garbage), exit 4 for a refusal."""
    _ANSWER.status, _ANSWER.content_type = None, ""
    where = f"the SSO {service} at {endpoint}"
    try:
        yield
    except botocore.exceptions.ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if "json" not in _ANSWER.content_type.lower() or not code or code.isdigit():
            raise StsUnavailableError(
                f"{where} answered {operation} with HTTP {status} "
                f"({_ANSWER.content_type.split(';')[0] or 'no content type'}), which is not "
                "its answer; is a proxy in the way?"
            ) from None
        if code in SSO_LOGIN_CODES:
            raise SsoLoginError(
                f"{where} refused {operation} ({code}): a new login is needed"
            ) from None
        if code in _SSO_BUSY_CODES or (isinstance(status, int) and status >= 500):
            raise StsUnavailableError(f"{where} failed {operation} with {code}") from None
        raise AuthError(f"{where} refused {operation}: {code}") from None
    except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as error:
        raise StsUnavailableError(
            f"cannot reach {where} for {operation}: {_network_cause(error)} "
            f"(gave up after {MAX_ATTEMPTS} attempts)"
        ) from None
    except botocore.exceptions.BotoCoreError as error:
        raise StsUnavailableError(f"{where} failed {operation}: {one_line(error)}") from None
    except Exception:  # noqa: BLE001 - botocore choking on an answer it could not read
        raise StsUnavailableError(f"{where} answered {operation} with garbage") from None
