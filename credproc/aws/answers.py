"""What an AWS service (or whatever answered in its place) said, as one of credproc's errors.

One mapper for every service credproc calls: STS, IAM and those to come. ``aws_error`` takes
what a call raised and gives the ``CredprocError`` with the right exit code; ``translated``
runs a call through it. A refusal is the service's (exit 4, or 2 for a parameter it rejected);
network trouble, a call past its deadline (``boto.DEADLINE``) and anything that is not a
well-formed answer of the service (a proxy's page, a captive portal, silence, garbage
botocore cannot parse) are the service being unavailable (exit 5), so a cached token that
still lives is served instead; a source that cannot sign is configuration (exit 3).

Anything else is not the service's doing but a bug in credproc: it is left as it is, so the
CLI reports an internal error (exit 1) instead of hiding it behind an outage.
"""

from __future__ import annotations

import http.client
import os
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import botocore.exceptions
import botocore.parsers
import urllib3.exceptions

from ..core.deadline import DeadlinePassed
from ..errors import (
    AuthError,
    ConfigError,
    ConfigFileError,
    CredprocError,
    LoginRequiredError,
    MfaError,
    ServiceUnavailableError,
    SsoLoginError,
    UsageError,
    nested_failure,
)
from .boto import MAX_ATTEMPTS, last_answer

if TYPE_CHECKING:
    from ..core.request import Request

T = TypeVar("T")

# Where botocore parses an answer: an exception of any type raised there is an answer it
# could not read (a well-formed XML document of another shape, say, ends in a KeyError deep
# in the parser), not a bug of credproc's.
_PARSING_MODULES = ("botocore.parsers",)
# The transport's own failures, when botocore lets them through unwrapped (reading a body).
_TRANSPORT_ERRORS = (
    botocore.exceptions.ConnectionError,
    botocore.exceptions.HTTPClientError,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
)


def translated(
    service: str,
    operation: str,
    call: Callable[[], T],
    request: Request | None = None,
    mapper: Callable[..., CredprocError | None] | None = None,
) -> T:
    """``call()``, whose AWS failures leave as CredprocErrors (``aws_error``, or the
    service's own ``mapper`` built on it: ``sso_error``)."""
    try:
        return call()
    except Exception as error:
        mapped = (mapper or aws_error)(service, operation, error, request)
        if mapped is None:
            raise
        raise mapped from None


def aws_error(
    service: str, operation: str, error: Exception, request: Request | None = None
) -> CredprocError | None:
    """The CredprocError for what a call to ``service`` raised; None for what is no failure
    of AWS or of the way to it (a bug). ``request``, when the call serves one, lets the line
    name the source, the endpoint and the role, and tell an MFA session's refusal."""
    where = f" at {request.endpoint_url}" if request is not None and request.endpoint_url else ""
    if isinstance(error, DeadlinePassed):
        return ServiceUnavailableError(
            f"{service}{where} did not finish {operation} within {error.seconds:g} s (an answer "
            "that trickles in, or a network that stalls); check the network and any proxy"
        )
    if isinstance(error, botocore.exceptions.ClientError):
        if not _is_service_error(error):
            return _not_service(service, operation, where)
        return map_client_error(service, operation, error, request)
    if isinstance(
        error,
        (botocore.exceptions.NoCredentialsError, botocore.exceptions.CredentialRetrievalError),
    ):
        return _no_signature(service, operation, error, request)
    if isinstance(error, _TRANSPORT_ERRORS):
        return ServiceUnavailableError(
            f"cannot reach {service}{where} for {operation}: {_network_cause(error)} "
            f"(gave up after {MAX_ATTEMPTS} attempts); check the network, any proxy, or --region"
        )
    if isinstance(error, botocore.parsers.ResponseParserError):
        return _not_service(service, operation, where)
    if isinstance(error, botocore.exceptions.ProfileNotFound):
        return ConfigError(
            f"profile {error.kwargs.get('profile')!r} (named by the source profile's "
            "configuration) is not in your AWS config"
        )
    if isinstance(error, botocore.exceptions.ConfigParseError):
        return ConfigFileError(f"cannot parse {error.kwargs.get('path')}: botocore refuses it")
    if isinstance(error, botocore.exceptions.BotoCoreError):
        return AuthError(f"{operation} failed: {one_line(error)}")
    if _raised_in(error.__traceback__, _PARSING_MODULES):
        return _not_service(service, operation, where)
    return None


def _no_signature(
    service: str, operation: str, error: Exception, request: Request | None
) -> CredprocError:
    """No credentials to sign the call with, or their own process failed."""
    if isinstance(error, botocore.exceptions.CredentialRetrievalError):
        if request is None:
            return AuthError(f"{service} {operation}: {one_line(error)}")
        return source_failure(request, error)
    if request is None:
        return AuthError(f"no credentials to sign {service} {operation} with")
    if request.source_profile is not None:
        # Found, but botocore can sign with nothing in it (say, a key id without its
        # secret): pointing the user at --source-profile would send them in a circle.
        return ConfigError(
            f"source profile {request.source_profile!r} has no credentials to sign with "
            "(an access key id and secret, or sso_*, role_arn or credential_process)"
        )
    return AuthError(f"no source credentials found: {_source_hint(request)}")


def _raised_in(traceback: types.TracebackType | None, modules: tuple[str, ...]) -> bool:
    """Whether the innermost frame of ``traceback`` runs code of one of ``modules``."""
    if traceback is None:
        return False
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    module = str(traceback.tb_frame.f_globals.get("__name__", ""))
    return any(module == name or module.startswith(f"{name}.") for name in modules)


def _not_service(service: str, operation: str, where: str) -> ServiceUnavailableError:
    """An answer that is not a well-formed one of the service: a proxy's page, a captive
    portal, garbage."""
    answer = last_answer()
    content_type = answer.content_type.split(";")[0].strip() or "no content type"
    return ServiceUnavailableError(
        f"{service}{where} answered {operation} with HTTP {answer.status} ({content_type}), "
        f"which is not an {service} response; is a proxy or a captive portal in the way?"
    )


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


def _is_service_error(error: botocore.exceptions.ClientError) -> bool:
    """Whether the service itself sent this error: a document in its protocol's format (XML
    for STS and IAM, JSON for the JSON services) with a code of its own. For anything else (an
    HTML page, another format, nothing) botocore makes the code up from the HTTP status."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    answer = last_answer()
    formats = {"query": ("xml",), "rest-xml": ("xml",), "ec2": ("xml",), "": ("xml", "json")}
    expected = formats.get(answer.protocol, ("json",))
    content_type = answer.content_type.lower()
    return any(kind in content_type for kind in expected) and bool(code) and not code.isdigit()


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
    service: str,
    operation: str,
    error: botocore.exceptions.ClientError,
    request: Request | None = None,
) -> CredprocError:
    """One line that says what the service refused and what to do about it."""
    details = error.response.get("Error", {})
    code = str(details.get("Code", "Unknown"))
    message = " ".join(str(details.get("Message", "")).split())
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if request is not None:
        refused = _request_refused(service, operation, code, message, request)
        if refused is not None:
            return refused
    target = f" {request.role_arn}" if request and request.role_arn and "Role" in operation else ""
    if code == "AccessDenied":
        return AuthError(f"{service} denied {operation}{target}: {message or 'access denied'}")
    if code in _AUTH_CODES:
        return AuthError(f"{operation} failed: {_AUTH_CODES[code]} ({code})")
    if code in _THROTTLE_CODES:
        return ServiceUnavailableError(
            f"{service} is throttling {operation} (still after {MAX_ATTEMPTS} attempts); "
            "try again soon"
        )
    if code in _INPUT_CODES:
        return UsageError(f"{service} rejected {operation}: {message or code}")
    if isinstance(status, int) and status >= 500:
        return ServiceUnavailableError(f"{service} failed {operation} with {code} (HTTP {status})")
    return AuthError(f"{service} refused {operation}{target}: {code}: {message}".rstrip(": "))


def _request_refused(
    service: str, operation: str, code: str, message: str, request: Request
) -> CredprocError | None:
    """What a refusal means for the request's own source: its MFA session or stored keys."""
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
            f"{service} does not accept the source keys {request.source_keys!r} ({code}); store "
            f"working ones with credproc keys add {request.source_keys} --force"
        )
    return None


def one_line(error: Exception) -> str:
    # botocore's messages may span lines (parameter validation does); ours are one line.
    return " ".join(str(error).split())


# -- IAM Identity Center: the OIDC service and the portal (rest-json) -----------------------

# What only a new login cures: the session's token, refresh token or client registration is
# no good any more (revoked, rotated away, expired).
SSO_LOGIN_CODES = {
    "InvalidGrantException",
    "InvalidClientException",
    "ExpiredTokenException",
    "UnauthorizedException",
    "UnauthorizedClientException",
    "AccessDeniedException",
}
# The service busy or failing: an outage, as throttling is for STS.
_SSO_BUSY_CODES = {"TooManyRequestsException", "SlowDownException", "InternalServerException"}


def sso_error(
    service: str, operation: str, error: Exception, request: Request | None = None
) -> CredprocError | None:
    """``aws_error`` for IAM Identity Center: its own refusals that mean "log in again" are
    SsoLoginError (exit 4, and a login where one is allowed), its busy answers an outage."""
    if isinstance(error, botocore.exceptions.ClientError) and _is_service_error(error):
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in SSO_LOGIN_CODES:
            return SsoLoginError(f"{service} refused {operation} ({code}): a new login is needed")
        if code in _SSO_BUSY_CODES:
            return ServiceUnavailableError(f"{service} failed {operation} with {code}")
    return aws_error(service, operation, error, request)


# -- AWS Sign-In (rest-json): the token endpoint of aws login sessions -----------------------

# The OAuth error (the body's ``error`` member of an AccessDeniedException) that only a new
# sign-in cures: the session expired (12 hours) or was revoked, the identity's password
# changed, the refresh token was spent (rotated away by another refresh), or the sign-in's
# authorization code came too late.
SIGN_IN_AGAIN = {"TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED", "AUTHCODE_EXPIRED", "invalid_grant"}
# The managed policy an identity needs to sign in for local development (aws login).
SIGN_IN_POLICY = "SignInLocalDevelopmentAccess"
_SIGNIN_BUSY_CODES = {"TooManyRequestsError", "InternalServerException"}


def signin_error(
    service: str,
    operation: str,
    error: Exception,
    request: Request | None = None,
    *,
    profile: str,
) -> CredprocError | None:
    """``aws_error`` for AWS Sign-In: a session that has ended is LoginRequiredError naming
    the profile and the command that signs in again (exit 4); missing permission names the
    policy; a busy or failing service is an outage (exit 5), as any network trouble is."""
    if isinstance(error, botocore.exceptions.ClientError) and _is_service_error(error):
        code = str(error.response.get("Error", {}).get("Code", ""))
        oauth = str(error.response.get("error") or "")
        message = " ".join(str(error.response.get("Error", {}).get("Message", "")).split())
        again = f"sign in again: credproc login --profile {profile}"
        if oauth in SIGN_IN_AGAIN:
            what = {
                "USER_CREDENTIALS_CHANGED": "has ended: the identity's credentials changed",
                "AUTHCODE_EXPIRED": "was not started: the sign-in's code expired",
                "invalid_grant": "was refused",
            }.get(oauth, "has ended")
            why = "expired, revoked, or refreshed elsewhere" if oauth == "TOKEN_EXPIRED" else ""
            return LoginRequiredError(
                f"the aws login session of profile {profile!r} {what} "
                f"({oauth}{': ' + why if why else ''}); {again}"
            )
        if oauth == "INSUFFICIENT_PERMISSIONS":
            return AuthError(
                f"{service} refused {operation} for profile {profile!r}: the identity may not "
                f"sign in for local development; attach the {SIGN_IN_POLICY} managed policy "
                "to it (or allow signin:AuthorizeOAuth2Access and signin:CreateOAuth2Token)"
            )
        if code in _SIGNIN_BUSY_CODES or oauth in ("server_error", "service_unavailable"):
            return ServiceUnavailableError(f"{service} failed {operation} with {code}")
        if code == "AccessDeniedException":
            detail = f"{oauth}: {message}" if oauth and message else oauth or message
            return AuthError(
                f"{service} refused {operation} for profile {profile!r} ({detail or code}); {again}"
            )
    return aws_error(service, operation, error, request)
