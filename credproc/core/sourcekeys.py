"""An IAM user's long-term access key as credproc holds it (from the OS keyring, or new from
IAM): never shown whole. Not on the hot path: a cache hit never holds one."""

from __future__ import annotations

from typing import NamedTuple


class SourceKeys(NamedTuple):
    """An IAM user's long-term access key (from the OS keyring, or new from IAM)."""

    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:  # a stray log or traceback must never show the secret
        return f"SourceKeys({mask(self.access_key_id)})"


def mask(access_key_id: str) -> str:
    """The first 4 and last 4 characters: enough to tell keys apart, too little to use."""
    return f"{access_key_id[:4]}...{access_key_id[-4:]}"
