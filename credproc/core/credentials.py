"""Temporary AWS credentials and the formats clients read them in."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from .typed import NamedTuple

# Every client parses this form; real STS sends no fractional seconds, and botocore rejects
# some offsets, so UTC with a literal Z is the one form that is safe everywhere.
EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_expiration(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(EXPIRATION_FORMAT)


def parse_expiration(text: str) -> datetime:
    """Parse an ISO 8601 time that carries a zone; a zone-less time is refused, not guessed."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    # Whole seconds: what we print must round-trip through what we store.
    return moment.astimezone(timezone.utc).replace(microsecond=0)


class Credentials(NamedTuple):
    """A token: its secrets never show in a repr."""

    access_key_id: str
    secret_access_key: str
    session_token: str  # "" for long-lived keys (what a command credproc wraps may print)
    expiration: datetime  # aware, UTC, whole seconds

    def __repr__(self) -> str:
        # Never let a secret reach a log line or a traceback through repr().
        return f"Credentials({self.access_key_id!r}, expires {self.expiration_text})"

    @property
    def expiration_text(self) -> str:
        return format_expiration(self.expiration)

    def seconds_left(self, now: float) -> float:
        """Seconds until expiry at ``now``, a POSIX timestamp."""
        return self.expiration.timestamp() - now

    def in_local_clock(self, clock_offset: float) -> Credentials:
        """Expiration stated in this machine's clock, given STS's clock minus ours: clients
        compare it with their own clock, so a machine whose clock is off still refreshes before
        STS considers the token expired."""
        if not clock_offset:
            return self
        return self._replace(expiration=self.expiration - timedelta(seconds=clock_offset))

    def to_process_json(self) -> str:
        """The credential_process document: compact, Version the integer 1, nothing else;
        no SessionToken for long-lived keys (an empty one would be sent as a header)."""
        document: dict[str, object] = {
            "Version": 1,
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration_text,
        }
        if not self.session_token:
            del document["SessionToken"]
        return json.dumps(document, separators=(",", ":"))

    def to_container_json(self) -> str:
        """The container credential provider's document (``credproc exec --server``): every
        SDK's HTTP provider reads these four fields, ``Token`` being the session token."""
        return json.dumps(
            {
                "AccessKeyId": self.access_key_id,
                "SecretAccessKey": self.secret_access_key,
                "Token": self.session_token,
                "Expiration": self.expiration_text,
            },
            separators=(",", ":"),
        )

    def to_env(self) -> dict[str, str]:
        """The variables every SDK reads from the environment (no AWS_SESSION_TOKEN for
        long-lived keys)."""
        variables = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
            "AWS_CREDENTIAL_EXPIRATION": self.expiration_text,
        }
        if not self.session_token:
            del variables["AWS_SESSION_TOKEN"]
        return variables

    def to_dict(self) -> dict[str, str]:
        """The form stored in the cache entry."""
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration_text,
        }

    @classmethod
    def from_dict(cls, data: object, *, long_lived: bool = False) -> Credentials:
        """Build from STS's ``Credentials`` member or a cache entry; ValueError on a bad shape.
        ``long_lived``: an empty session token is allowed (a wrapped command's keys)."""
        if not isinstance(data, dict):
            raise ValueError("credentials are not an object")
        values = [data.get(k) for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")]
        if not all(isinstance(v, str) and v for v in values[:2]) or not isinstance(values[2], str):
            raise ValueError("credentials lack a key id, secret or session token")
        if not values[2] and not long_lived:
            raise ValueError("credentials lack a session token")
        expiration = data.get("Expiration")
        if isinstance(expiration, datetime):  # boto3 parses timestamps itself
            if expiration.tzinfo is None:
                raise ValueError("expiration without a zone")
            moment = expiration.astimezone(timezone.utc).replace(microsecond=0)
        elif isinstance(expiration, str):
            moment = parse_expiration(expiration)
        else:
            raise ValueError("credentials lack an expiration")
        access_key_id, secret_access_key, session_token = (str(v) for v in values)
        return cls(access_key_id, secret_access_key, session_token, moment)


class Fetched(NamedTuple):
    """A token just fetched, and STS's clock against ours when it answered."""

    credentials: Credentials
    clock_offset: float  # STS's clock minus ours, in seconds; 0 when within noise
