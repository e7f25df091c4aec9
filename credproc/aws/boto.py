"""The one way credproc builds an AWS client (STS, IAM, and every service to come).

Each client it builds:

- tries at most ``MAX_ATTEMPTS`` times, with ``CONNECT_TIMEOUT`` and ``READ_TIMEOUT`` per
  attempt and botocore's standard-mode backoff between them: at most about 27 s in all;
- ends every call within ``DEADLINE`` seconds of wall-clock time, whatever the server does.
  The timeouts above bound each read, not the whole answer: a server that drips its answer a
  few bytes a second held a refresh for over a minute. Past the deadline the call raises
  ``DeadlinePassed`` (an outage, to the error mapper in ``answers``), from any thread;
- notes the HTTP status and content type of each answer it parses, for the error mapper to
  tell a service's own error from a page that something else sent (``last_answer``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.model import OperationModel

from ..core.deadline import DeadlinePassed, run_within

# Bounded: 3 attempts of at most 3 s to connect and 5 s per read, with standard-mode backoff
# (under 1 s, then under 2 s) between them. The services answer in well under 1 s.
MAX_ATTEMPTS = 3
CONNECT_TIMEOUT = 3
READ_TIMEOUT = 5
# Above the retry budget (3 x (3 + 5) s + 3 s of backoff), so it never cuts that short; it ends
# what the per-read timeouts cannot. docs/security.md ("Outages") states it.
DEADLINE = 30.0

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT,
    read_timeout=READ_TIMEOUT,
    user_agent_extra="credproc",
)


class Answer(NamedTuple):
    """What an error may name of the answer a call got last (never its body)."""

    status: int | None = None
    content_type: str = ""
    protocol: str = ""  # the service's: "query" and "rest-xml" answer XML, the others JSON


class _Call(threading.local):
    """The call this thread is making: its answer so far, and when it must have ended."""

    answer = Answer()
    deadline = float("inf")


_CALL = _Call()


def last_answer() -> Answer:
    """The answer the last call made from this thread got (empty if none was parsed)."""
    return _CALL.answer


def make_client(
    session: boto3.Session, service: str, region: str, config: Config = CLIENT_CONFIG
) -> BaseClient:
    """A client of ``service`` from ``session``, bounded and observed as the module says.

    botocore's own errors while building it (no credentials, a broken profile) are left to
    the caller, which knows what the session was made of."""
    session.events.register("creating-client-class", _with_deadline, unique_id="credproc-deadline")
    client: BaseClient = session.client(service, region_name=region, config=config)  # type: ignore[call-overload]
    client.meta.events.register("before-parse", _remember_answer)
    client.meta.events.register("before-send", _refuse_past_deadline)
    return client


def _with_deadline(base_classes: list[type], **_: object) -> None:
    """botocore's hook for extending the client classes it builds (boto3 adds its own this
    way): the deadline comes first in the class's bases."""
    base_classes.insert(0, _Deadlined)


class _Deadlined(BaseClient):
    """Every API call in a worker thread, waited for up to ``DEADLINE``: ``_make_api_call`` is
    where each operation (a paginator's pages too) goes, with its retries inside it."""

    def _make_api_call(self, operation_name: str, api_params: Mapping[str, Any]) -> dict[str, Any]:
        make_call: Callable[[str, Mapping[str, Any]], dict[str, Any]]
        make_call = super()._make_api_call  # type: ignore[misc]
        deadline = time.monotonic() + DEADLINE
        seen: list[Answer] = []

        def call() -> dict[str, Any]:
            _CALL.answer, _CALL.deadline = Answer(), deadline
            try:
                return make_call(operation_name, api_params)
            finally:
                seen.append(_CALL.answer)

        _CALL.answer = Answer()
        try:
            return run_within(DEADLINE, call, f"credproc-{operation_name}")
        finally:
            if seen:
                _CALL.answer = seen[0]


def _remember_answer(
    response_dict: Mapping[str, Any], operation_model: OperationModel, **_: object
) -> None:
    headers = response_dict.get("headers") or {}
    _CALL.answer = Answer(
        response_dict.get("status_code"),
        str(headers.get("content-type") or headers.get("Content-Type") or ""),
        str(operation_model.service_model.protocol),
    )


def _refuse_past_deadline(**_: object) -> None:
    """No new attempt once the call has been given up on: its worker ends at the next retry."""
    if time.monotonic() > _CALL.deadline:
        raise DeadlinePassed(DEADLINE)
