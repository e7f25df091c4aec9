"""The fetch step of the algorithm: the AWS call that makes a request's token (STS's, or the
SSO portal's for an SSO role: ``sso``).

``provider`` calls it under the key's lock; the callers of ``provider.get_credentials`` (the
commands, the Python API) hand it over, so the algorithm can be tested in-process with another.
It makes the local checks of the source first (a typo costs no
STS call), then picks the STS call: AssumeRoleWithWebIdentity, GetSessionToken with an MFA code
(the MFA session itself), or AssumeRole, signed by the source profile or by the MFA session
``provider`` hands it. boto3 is imported only here, through ``sts``, and only when called.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..aws import sts
from ..config import keyindex
from ..config.limits import WEB_IDENTITY_TOKEN_LENGTH
from ..config.source import check_source
from ..core.credentials import Credentials, Fetched
from ..core.log import logger
from ..core.sourcekeys import mask
from ..errors import ConfigError
from ..keys import keystore
from ..prompt.mfa import get_code
from .login import identity_credentials
from .sso import role_credentials
from .wrap import from_command

if TYPE_CHECKING:
    import boto3

    from ..core.request import Request


def from_aws(request: Request, mfa_session: Credentials | None) -> Fetched:
    if request.wrap_command:
        return from_command(request)  # a wrapped command's profile: no STS either
    if request.role_arn is None and request.sso_role_name is not None:
        return role_credentials(request)  # the portal, not STS
    if request.role_arn is None and request.login_session is not None:
        return identity_credentials(request)  # AWS Sign-In's session, not STS
    check_source(request, os.environ)
    bundle = os.environ.get("AWS_CA_BUNDLE")
    if bundle and not os.path.isfile(os.path.expanduser(bundle)):
        raise ConfigError(f"AWS_CA_BUNDLE names {bundle}, which is not a file")
    if request.web_identity_token_file is not None:
        return sts.assume_role_with_web_identity(request, read_web_identity_token(request))
    if mfa_session is not None:  # the MFA session, an SSO source's role, a login identity
        return sts.assume_role(sts.session_from(mfa_session, request.region), request)
    if request.mfa_serial is None:
        return sts.assume_role(signing_session(request), request)
    session = signing_session(request)  # the keyring first: a locked one must not waste a code
    code = get_code(request)
    return sts.get_session_token(session, request, request.mfa_serial, code)


def signing_session(request: Request) -> boto3.Session:
    """The session whose credentials sign for the request: the OS keyring's keys with
    --source-keys, else the source profile or the environment."""
    if request.source_keys is None:
        return sts.source_session(request)
    keys = keystore.load(request.source_keys, request.lock_timeout)
    if keys.access_key_id != request.source_key_id:
        # The keyring is the truth about the key; the index, which gave this request its cache
        # key, only mirrors it (changed behind credproc's back, or a `keys` command died between
        # the two writes). Mend it: the next run's key names the key really used.
        logger().info("the keyring holds %s for %r", mask(keys.access_key_id), request.source_keys)
        keyindex.mirror(request.source_keys, keys.access_key_id, os.environ)
    return sts.keys_session(keys.access_key_id, keys.secret_access_key, request.region)


def read_web_identity_token(request: Request) -> str:
    # Read at every refresh, never cached: CI runners and Kubernetes rotate the file.
    path = request.web_identity_token_file or ""
    try:
        with open(path, encoding="utf-8") as file:
            token = file.read().strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise ConfigError(f"cannot read the web identity token file {path}: {reason}") from None
    if not token:
        raise ConfigError(f"the web identity token file {path} is empty")
    low, high = WEB_IDENTITY_TOKEN_LENGTH
    if not low <= len(token) <= high:
        raise ConfigError(
            f"the web identity token file {path} holds {len(token)} characters; STS takes "
            f"{low}..{high}"
        )
    return token
