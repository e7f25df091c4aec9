"""The AWS console's federation endpoint: a role session in, a sign-in link out.

``getSigninToken`` takes the session's key id, secret and token (as the ``Session`` JSON) and
gives a sign-in token; ``login`` with that token signs the browser in as the role, for 15
minutes from the token's issue. The session is sent in a POST body, never in a URL, so no proxy
or server log sees it; the sign-in link itself is the user's to hand to a browser.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping

from ..core.credentials import Credentials
from ..core.deadline import DeadlinePassed, run_within
from ..errors import AuthError, ServiceUnavailableError, UsageError

FEDERATION_URL_VARIABLE = "CREDPROC_FEDERATION_URL"
TIMEOUT_SECONDS = 15  # for the whole exchange, as for each read
# Each partition's sign-in endpoint and console host.
PARTITIONS = {
    "aws": ("https://signin.aws.amazon.com/federation", "console.aws.amazon.com"),
    "aws-us-gov": (
        "https://signin.amazonaws-us-gov.com/federation",
        "console.amazonaws-us-gov.com",
    ),
    "aws-cn": ("https://signin.amazonaws.cn/federation", "console.amazonaws.cn"),
}
_SERVICE = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")


def partition_of(role_arn: str) -> str:
    partition = role_arn.split(":")[1]
    if partition not in PARTITIONS:
        raise UsageError(f"the console of the {partition} partition is not known to credproc")
    return partition


def partition_of_region(region: str) -> str:
    """The partition a region belongs to (credentials with no role ARN to tell it)."""
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def federation_url(partition: str, environ: Mapping[str, str]) -> str:
    """The partition's endpoint, or CREDPROC_FEDERATION_URL (a proxy, a VPC setup, tests)."""
    override = environ.get(FEDERATION_URL_VARIABLE, "").strip()
    if override:
        if not re.fullmatch(r"https?://[^\s/?#@]+(?:/\S*)?", override, re.ASCII):
            raise UsageError(f"{FEDERATION_URL_VARIABLE} is not an http:// or https:// URL")
        return override
    return PARTITIONS[partition][0]


def destination(value: str | None, partition: str, region: str) -> str:
    """A console URL as given, a service's console page (``s3``, ``ec2``), or the home page."""
    host = PARTITIONS[partition][1]
    query = urllib.parse.urlencode({"region": region})
    if value is None:
        return f"https://{region}.{host}/console/home?{query}"
    if value.startswith("https://"):
        return value
    if not _SERVICE.fullmatch(value):
        raise UsageError(
            f"--destination {value[:60]!r} is neither a https:// console URL nor a service name "
            "such as s3 or ec2"
        )
    return f"https://{region}.{host}/{value}/home?{query}"


def signin_token(url: str, credentials: Credentials, session_duration: int | None) -> str:
    """Ask the federation endpoint for a sign-in token for this role session."""
    session = json.dumps(
        {
            "sessionId": credentials.access_key_id,
            "sessionKey": credentials.secret_access_key,
            "sessionToken": credentials.session_token,
        }
    )
    form = {"Action": "getSigninToken", "Session": session}
    if session_duration is not None:
        form["SessionDuration"] = str(session_duration)
    request = urllib.request.Request(  # noqa: S310 - http(s) only: checked above
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    where = urllib.parse.urlsplit(url).netloc

    def exchange() -> bytes:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            body: bytes = answer.read(64 * 1024)
            return body

    try:
        # The timeout bounds each read, the deadline the whole answer (one dripped a byte at a
        # time would hold the command as long as the server liked).
        body = run_within(TIMEOUT_SECONDS, exchange, "credproc-federation")
    except DeadlinePassed:
        raise ServiceUnavailableError(
            f"the federation endpoint {where} did not answer getSigninToken within "
            f"{TIMEOUT_SECONDS} s"
        ) from None
    except urllib.error.HTTPError as error:
        if error.code >= 500:
            raise ServiceUnavailableError(
                f"the federation endpoint {where} failed getSigninToken (HTTP {error.code})"
            ) from None
        raise AuthError(
            f"the federation endpoint {where} refused getSigninToken (HTTP {error.code}); "
            "the role session may lack console access, or the session was revoked"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ServiceUnavailableError(
            f"cannot reach the federation endpoint {where}: {reason}"
        ) from None
    try:
        token = json.loads(body)["SigninToken"]
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        raise ServiceUnavailableError(
            f"the federation endpoint {where} answered without a sign-in token"
        )
    return token


def login_url(url: str, token: str, issuer: str, target: str) -> str:
    query = urllib.parse.urlencode(
        {"Action": "login", "Issuer": issuer, "Destination": target, "SigninToken": token}
    )
    return f"{url}?{query}"


def logout_url(url: str, then: str) -> str:
    """The console's sign-out beside the federation endpoint (``/oauth?Action=logout``), which
    then goes on to ``then``: the console signs a browser context in as one role at a time,
    and refuses a second role's link while another role's session is there."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.urlencode({"Action": "logout", "redirect_uri": then})
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/oauth", query, ""))
