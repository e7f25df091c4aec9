"""What keeps a cache hit cheap, in one place: the budget, the banned imports, the shims.

Every AWS command a client runs starts credproc once, so a cache hit is paid for thousands of
times a day. The budget: a hit, in every documented form (``--role-arn ...`` and
``--profile NAME``), costs at most 2.5x a bare ``python -c pass`` (``make bench`` measures it;
``tests/unit/test_hot_path.py`` fails if a banned module is imported on a hit).

A hit must not import the modules in ``BANNED_ON_HIT``: boto3 and its kin cost more than the
rest of a hit together; the others each cost a tenth of a hit or more (counted with callgrind).
The shims below give credproc what it needs of them without the import:

- ``NamedTuple``: typing's class syntax without importing typing (16M of 150M instructions).
- ``TYPE_CHECKING``: typing's flag, False at run time, read by type checkers.
- Records are named tuples, not dataclasses (which import inspect); paths are ``os.path``
  strings, not pathlib; SHA-256 comes from CPython's built-in module, not OpenSSL's hashlib;
  logging is imported only when something is logged (``log``); argparse runs without the
  shutil and gettext look-ups it makes by default (``config.parser``); the AWS config is read
  without configparser or shlex when it holds nothing unusual (``awsconfig``).
"""

from __future__ import annotations

import collections
import importlib

__all__ = ["BANNED_ON_HIT", "TYPE_CHECKING", "NamedTuple", "sha256_hex"]

BANNED_ON_HIT = (
    *("boto3", "botocore", "urllib3", "filelock", "s3transfer", "keyring"),
    *("logging", "platformdirs", "typing", "dataclasses", "inspect", "pathlib", "hashlib"),
    *("configparser", "shlex"),
)

TYPE_CHECKING = False  # typing's own flag, read by type checkers, without importing typing
if TYPE_CHECKING:
    from typing import Any, NamedTuple
else:

    class _Maker(type):
        def __new__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
            if not bases:  # NamedTuple itself
                return super().__new__(cls, name, bases, namespace)
            fields = list(namespace.get("__annotations__", {}))
            defaults = [namespace[field] for field in fields if field in namespace]
            if any(field not in namespace for field in fields[len(fields) - len(defaults) :]):
                raise TypeError(f"{name}: a field without a default follows one with a default")
            base = collections.namedtuple(
                name, fields, defaults=defaults, module=namespace.get("__module__")
            )
            body = {key: value for key, value in namespace.items() if key not in fields}
            return type(name, (base,), {**body, "__slots__": ()})

    class NamedTuple(metaclass=_Maker):
        """Subclass with annotated fields, as with ``typing.NamedTuple``."""


def sha256_hex(data: bytes) -> str:
    """SHA-256 from CPython's built-in module where there is one: hashlib would load OpenSSL,
    which costs a cache hit more than everything else it does for one small hash."""
    for name in ("_sha2", "_sha256"):  # CPython 3.12+, then 3.10 and 3.11
        try:
            return str(importlib.import_module(name).sha256(data).hexdigest())
        except ImportError:
            continue
    import hashlib  # noqa: PLC0415 - other interpreters

    return hashlib.sha256(data).hexdigest()
