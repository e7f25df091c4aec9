"""What ``credproc keys`` asks of AWS: proving keys with STS, and rotating a stored key.

Rotation, step by step::

    GetCallerIdentity, old key    the stored key works, and whose it is
    ListAccessKeys                a user already at IAM's two keys hears so before any change
    CreateAccessKey               the new key; its secret exists only in this process
    GetCallerIdentity, new key    until STS accepts it: IAM takes seconds to spread a new key
    store it in the keyring       only a key STS has accepted replaces one that works
    DeleteAccessKey, old key      signed by the old key itself, which still works

The new key is proven before it is stored, so at every failure the keyring holds a key that
works (the old one until the new one is proven, then the new one), and the error says what IAM
and the keyring hold. A new key whose secret could not be stored is deleted again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from ..aws import iam, sts
from ..config import keyindex
from ..config.limits import IAM_KEY_LIMIT
from ..config.resolve import keys_request
from ..core.sourcekeys import SourceKeys, mask
from ..errors import AuthError, CredprocError, ServiceUnavailableError, UsageError
from . import keystore

if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")

MAX_RETRY_DELAY = 5.0


class Rotated(NamedTuple):
    old: str  # access key ids
    new: str
    user_arn: str


def identity(keys: SourceKeys, name: str | None, region: str | None) -> sts.Identity:
    """GetCallerIdentity signed by the keys: whose they are, or AuthError (whose message
    points at NAME's keyring entry when the keys are the ones stored there)."""
    request = keys_request(name, region, os.environ)
    session = sts.keys_session(keys.access_key_id, keys.secret_access_key, region)
    return sts.caller_identity(session, request)


def rotate(
    name: str,
    environ: Mapping[str, str],
    region: str | None,
    verify_timeout: float,
    keyring_timeout: float,
) -> Rotated:
    """Replace NAME's key by a new one of the same IAM user; the caller holds the index lock."""
    old = keystore.load(name, keyring_timeout)
    try:
        who = identity(old, name, region)
    except CredprocError as error:
        raise error.with_context("nothing was changed") from None
    user = _user_name(who.arn)
    iam_region = iam.region_for(who.arn, region)
    signer = sts.keys_session(old.access_key_id, old.secret_access_key, iam_region)
    unchanged = f"nothing was changed: the keyring still holds {mask(old.access_key_id)}"

    existing = _step(lambda: iam.access_key_ids(signer, user, iam_region), unchanged)
    if len(existing) >= IAM_KEY_LIMIT:
        others = [key for key in existing if key != old.access_key_id]
        raise AuthError(
            f"{who.arn} already has {len(existing)} access keys, IAM's limit: delete the one "
            f"credproc does not hold (aws iam delete-access-key{_user_flag(user)} "
            f"--access-key-id {others[0] if others else 'ID'}) and rotate again; {unchanged}"
        )
    new = _step(lambda: iam.create_access_key(signer, user, iam_region), unchanged)

    def undo(failure: CredprocError) -> CredprocError:
        """Delete the new key again; the failure then says what is left where."""
        try:
            iam.delete_access_key(signer, user, new.access_key_id, iam_region)
            iam_state = "it was deleted in IAM again"
        except CredprocError as error:
            iam_state = (
                f"deleting it in IAM failed too ({error}): delete it yourself with aws iam "
                f"delete-access-key{_user_flag(user)} --access-key-id {new.access_key_id}"
            )
        return failure.with_context(iam_state).with_context(
            f"the keyring still holds {mask(old.access_key_id)}, which works"
        )

    try:
        proven = _accepted(new, region, verify_timeout)
    except CredprocError as error:
        new_key = mask(new.access_key_id)
        lead = f"STS did not accept the new key {new_key} within {verify_timeout:g} s"
        raise undo(error.with_context(lead, lead=True)) from None
    if proven.arn != who.arn:
        raise undo(AuthError(f"the new key signs as {proven.arn}, not {who.arn}"))
    try:
        keystore.store(name, new, keyring_timeout)
    except CredprocError as error:
        lead = "cannot store the new key in the keyring"
        raise undo(error.with_context(lead, lead=True)) from None

    # From here on the keyring holds the new key, which works.
    try:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        entry = keyindex.read_index(environ).get(name)
        added = entry.added if entry is not None else now
        indexed = keyindex.Indexed(name, new.access_key_id, who.arn, added, now)
        keyindex.write_index(environ, name, indexed)
        iam.delete_access_key(signer, user, old.access_key_id, iam_region)
    except CredprocError as error:
        raise error.with_context(
            f"the keyring holds the new key {mask(new.access_key_id)}, which works, but IAM "
            "still has the old key",
            lead=True,
        ).with_context(
            f"delete it with aws iam delete-access-key{_user_flag(user)} "
            f"--access-key-id {old.access_key_id}"
        ) from None
    return Rotated(old.access_key_id, new.access_key_id, who.arn)


def _step(call: Callable[[], T], unchanged: str) -> T:
    try:
        return call()
    except CredprocError as error:
        raise error.with_context(unchanged) from None


def _accepted(keys: SourceKeys, region: str | None, timeout: float) -> sts.Identity:
    """GetCallerIdentity with a new key, again and again for up to ``timeout`` seconds: IAM's
    changes reach STS after a few seconds, and until then STS calls the key unknown."""
    deadline = time.monotonic() + timeout
    delay = 1.0
    while True:
        try:
            return identity(keys, None, region)
        except (AuthError, ServiceUnavailableError):
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            time.sleep(min(delay, left))
            delay = min(delay * 2, MAX_RETRY_DELAY)


def _user_name(arn: str) -> str | None:
    """The IAM user an ARN names; None for the account's root user (IAM then means the
    caller). UsageError for anything else: only an IAM user's keys can be rotated."""
    resource = arn.split(":", 5)[-1]
    if resource == "root":
        return None
    if not resource.startswith("user/"):
        raise UsageError(f"the stored keys sign as {arn}, not as an IAM user: they cannot rotate")
    return resource.rsplit("/", 1)[-1]


def _user_flag(user: str | None) -> str:
    return f" --user-name {user}" if user else ""
