"""The one algorithm: serve from the cache, or refresh once under a per-key lock.

read entry (no lock)      fresh enough -> return                  the hot path
loop guard                the request is already being refreshed up the process chain
lock key                  one refresher per key; other keys never wait
    re-read               someone may just have refreshed -> return
    waited for a refresher that failed, and the old token lives -> return it
    fetch                 failed but the old token still lives -> warn, return it
    write atomically      -> return

The fetch step is a parameter (a ``Fetcher``: the callers pass ``fetch.from_aws``), so the
algorithm knows nothing of STS and is tested in-process with a fake one; a role behind an MFA
device first gets its MFA session through this same algorithm, under that session's own key,
and hands it to the fetch step.
"""

from __future__ import annotations

import contextlib
import os
import time
from _thread import RLock
from collections.abc import Iterator

from ..errors import (
    CHAIN_VARIABLE,
    LOOP_MARKER,
    CommandFailedError,
    CommandOutputError,
    CredprocError,
    LockTimeoutError,
    LoginRequiredError,
    LoopError,
    MfaError,
    ServiceUnavailableError,
    SsoLoginError,
)
from .cache import Backoff, Cache, Entry
from .credentials import Credentials, Fetched
from .lock import refresh_lock
from .log import is_verbose, logger
from .request import Request
from .typed import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Protocol

    class Fetcher(Protocol):
        """The fetch step: the request's new token, signed by ``mfa_session`` when the request
        has an MFA device and names a role (the provider gets that session first)."""

        def __call__(self, request: Request, mfa_session: Credentials | None, /) -> Fetched: ...


MAX_CHAIN_DEPTH = 8
# A cached token served during an STS outage must still be usable when the client gets it.
STALE_MINIMUM_SECONDS = 60
# A cached MFA session signs AssumeRole until this little of it is left (enough for the call and
# its retries). STS lets a role session outlive the session that assumed it, so asking for a new
# code any earlier gains nothing, and fails a refresh where no code can be had (no terminal)
# while the old session would still have worked.
MFA_SOURCE_MINIMUM_SECONDS = 60
# Failures of the fetch step after which a token still cached is served: an outage of STS (or
# of a wrapped command: it failed, ran past its deadline, or printed something that is not
# credentials).
OUTAGES = (ServiceUnavailableError, CommandOutputError)
# The backoffs this process has warned about, by entry key and retry time.
_SAID_BACKOFF: set[tuple[str, float]] = set()
# When each refresh in progress in this process began, outermost first: before it waited for
# any lock. An SSO login that failed after that failed while this refresh waited for it.
_STARTED: list[float] = []


def refresh_started() -> float:
    """When the outermost refresh in progress began (now, if none is)."""
    return _STARTED[0] if _STARTED else time.time()


def get_credentials(request: Request, fetch: Fetcher) -> Credentials:
    """Credentials for the request, with Expiration stated in this machine's clock."""
    cache = Cache(request.cache_dir) if request.cache_dir is not None else None
    entry = cache.read(request) if cache is not None else None
    if entry is not None and entry.seconds_left() > request.refresh_window:
        return _served(entry, "cache hit")
    if entry is not None and entry.backoff.seconds_to_wait() and _usable(entry):
        # A refresh failed a moment ago (STS silent, throttling, a proxy in the way): until the
        # backoff ends, runs serve the token without trying, so a client that runs credproc on
        # every API call does not pay STS's whole retry budget on each.
        # An SSO role's credentials come from the portal, not STS: name the one that failed.
        portal = request.sso_role_name and request.role_arn is None
        service = "the IAM Identity Center portal" if portal else "STS"
        service = request.program if request.wrap_command else service
        error = ServiceUnavailableError(
            f"{service} failed {entry.backoff.failures} refresh(es) in a row; next try in "
            f"{entry.backoff.seconds_to_wait():.0f} s"
        )
        # Once per backoff in a process: a long-lived one (exec --server, the Python API) is
        # asked on every API call, and one line says it all.
        said = (entry.key, entry.backoff.retry_after)
        quiet = said in _SAID_BACKOFF
        _SAID_BACKOFF.add(said)
        return _stale(entry, error, quiet=quiet)
    with _refreshing(request):
        if cache is None or not cache.prepare():  # no caching, or a dir we must not use
            fetched = _fetch(request, fetch)
            return fetched.credentials.in_local_clock(fetched.clock_offset)
        try:
            return _refresh_locked(cache, request, fetch, entry)
        except LockTimeoutError as error:
            # The process holding the lock may be stuck (an MFA prompt nobody answers, a
            # network that swallows packets): the token still cached serves meanwhile.
            return _stale(entry, error)


def _refresh_locked(
    cache: Cache, request: Request, fetch: Fetcher, seen: Entry | None
) -> Credentials:
    with refresh_lock(cache.path(request.key, ".lock"), request.lock_timeout) as held:
        entry = cache.read(request)
        if entry is not None and entry.seconds_left() > request.refresh_window:
            return _served(entry, "refreshed by another process")
        if entry is not None and _replaced(entry, seen) and _usable(entry):
            # Another process refreshed since we looked, and STS's new token is already inside
            # the refresh window (STS's clock runs ahead of ours by more than the duration
            # leaves over the window): a refresh now would get the same. Serve it as fresh.
            return _served(entry, "refreshed by another process")
        if held.waited and entry is not None and _usable(entry):
            # The process we waited for could not refresh (STS down or throttling, most
            # likely): N waiters retrying in turn would multiply the load on a struggling STS,
            # so they serve the token that still works, and the next run tries again.
            return _stale(entry, ServiceUnavailableError("another credproc just failed to refresh"))
        # Asking a person for a code with no token to fall back on: after an outage swallowed
        # the last code, runs fail at once until the backoff ends, without asking again (a
        # client retrying every few seconds would otherwise ask for a code each time).
        usable = entry is not None and _usable(entry)
        asks = _asks_a_person(request) and not usable
        # A refresh that may ask a person (an MFA code, a wrapped command's sign-in) shares
        # its failure with the processes queued behind it when there is no token to serve.
        shares = (asks or bool(request.wrap_command)) and not usable
        failed = cache.read_failure(request) if shares else Backoff()
        _refuse_after_failure(request, failed, shares)
        try:
            fetched = _fetch(request, fetch)
        except (MfaError, *OUTAGES) as error:
            outage = isinstance(error, OUTAGES)
            if held.locked and outage and usable and entry is not None:
                # Recorded with the entry, atomically like the entry itself: the next runs
                # back off (cache.Backoff) instead of each trying STS again.
                backoff = entry.backoff.after_another_failure()
                cache.write(request, entry.credentials, entry.clock_offset, backoff)
                _SAID_BACKOFF.add((request.key, backoff.retry_after))  # this failure says it
            elif held.locked and outage and asks:
                cache.record_failure(request, failed.after_another_failure())
            elif held.locked and shares:
                # Noted for the runs queued behind this one, without a backoff: a person who
                # plugs the key in, or fixes the sign-in, and runs again is asked at once.
                cache.record_failure(request, Backoff(failed.failures, time.time()))
            if not outage:
                raise
            return _stale(entry, error)
        except (LoginRequiredError, SsoLoginError) as error:
            # The sign-in session behind the request has ended (an aws login session or an SSO
            # token) and no new sign-in happened (--login never, nobody to ask, abandoned): as
            # in an outage, the cached token serves while it lives, the line naming the sign-in.
            # Unlike STS refusing the role (AuthError: a revoked role must not be served), an
            # ended session decides nothing about the role, and AWS does not end credentials
            # already issued when a sign-in session ends: serving them grants nothing new.
            # Signing out (logout, sso logout) removes what it names from this cache.
            return _stale(entry, error)
        if shares and (failed.failures or failed.retry_after):
            cache.clear_failure(request.key)
        _report_skew(fetched.clock_offset)
        if held.locked and cache.write(request, fetched.credentials, fetched.clock_offset):
            logger().info("new token from %s for %s, cached", request.origin(), request.describe())
        return fetched.credentials.in_local_clock(fetched.clock_offset)


def _refuse_after_failure(request: Request, failed: Backoff, shares: bool) -> None:
    """Raise instead of asking again when the last refresh that asked failed: within its
    backoff, or while this run queued behind it."""
    if failed.seconds_to_wait():
        # Worded like the backoff of an entry: the same state, seen from a run.
        raise ServiceUnavailableError(
            f"STS failed {failed.failures} refresh(es) in a row; next try in "
            f"{failed.seconds_to_wait():.0f} s, not asking for another MFA code for "
            f"{request.mfa_serial} until then (credproc cache clear with the role's "
            "options: ask now)"
        )
    if shares and failed.retry_after >= refresh_started():
        raise _failed_while_waiting(request)


def _failed_while_waiting(request: Request) -> CredprocError:
    """The process this one queued behind could not refresh a moment ago, with no token to
    serve (a hardware key not plugged in, a prompt refused, a wrapped command's sign-in
    failed): N waiters must not each run the token command, prompt or command again, one
    after another. The next run tries again."""
    if request.wrap_command:
        return CommandFailedError(
            f"{request.program} failed for another credproc process while this one waited "
            "for it (that process's line says why); run again to retry"
        )
    return MfaError(
        f"another credproc process could not get an MFA code for {request.mfa_serial} "
        "while this one waited for it (its own line says why); run again to retry"
    )


def _asks_a_person(request: Request) -> bool:
    """Whether a refresh of the request needs an MFA code (GetSessionToken): a person typing
    one, a key touched, or a token command."""
    return request.mfa_serial is not None and request.role_arn is None


def _replaced(entry: Entry, seen: Entry | None) -> bool:
    """Whether ``entry`` holds a new token from a refresh that succeeded since ``seen`` was
    read (a failed refresh rewrites the token it had, with a backoff)."""
    new = seen is None or entry.credentials.access_key_id != seen.credentials.access_key_id
    return new and not entry.backoff.failures


def _usable(entry: Entry) -> bool:
    """Whether a token still lives long enough to hand out when no new one can be had."""
    return entry.seconds_left() >= STALE_MINIMUM_SECONDS


def _stale(entry: Entry | None, error: CredprocError, *, quiet: bool = False) -> Credentials:
    """The cached token when no new one can be had, if it still lives long enough to use."""
    if entry is None or not _usable(entry):
        raise error
    if quiet and not is_verbose():
        return entry.local_credentials()
    (logger().info if quiet else logger().warning)(
        "%s; serving the cached token, valid for %d more minutes",
        error,
        entry.seconds_left() // 60,
    )
    return entry.local_credentials()


def _fetch(request: Request, fetch: Fetcher) -> Fetched:
    if request.role_arn is not None and request.sso_role_name is not None:
        # The source profile is an SSO profile: its role, cached under its own key like an MFA
        # session (one portal call per role lifetime), signs the AssumeRole.
        source = get_credentials(request.sso_source(MFA_SOURCE_MINIMUM_SECONDS), fetch)
        return fetch(request, source)
    if request.role_arn is not None and request.login_session is not None:
        # The source profile is an aws login profile: the identity's credentials, cached under
        # their own key (the one --profile SOURCE uses) and renewed at their own window.
        return fetch(request, get_credentials(request.login_source(), fetch))
    if request.mfa_serial is None or request.role_arn is None:
        return fetch(request, None)
    # The role is assumed from the MFA session, itself cached under its own key: one code
    # serves every role and every refresh while that session lives. Its lock is taken while
    # this role's is held, always in that order, so two roles sharing it cannot deadlock.
    mfa_request = request.mfa_session(MFA_SOURCE_MINIMUM_SECONDS)
    mfa_session = get_credentials(mfa_request, fetch)
    try:
        return fetch(request, mfa_session)
    except MfaError as error:
        _forget(mfa_request, mfa_session)
        raise error.with_context("run again to enter a new code") from None


def _forget(request: Request, refused: Credentials) -> None:
    """Drop a cached session STS refused, so the next call asks for a new code instead of
    failing until the session's stated expiry; keep it if another process replaced it."""
    if request.cache_dir is None:
        return
    cache = Cache(request.cache_dir)
    if cache.read(request) is None:  # nothing cached, or no cache we may use
        return
    with refresh_lock(cache.path(request.key, ".lock"), request.lock_timeout):
        entry = cache.read(request)
        if entry is not None and entry.credentials.access_key_id == refused.access_key_id:
            cache.remove(request.key)


@contextlib.contextmanager
def _refreshing(request: Request) -> Iterator[None]:
    """Mark this request as being refreshed for nested credproc processes; refuse a loop.

    Checked before taking the lock: a nested credproc waiting for a lock its parent holds
    would be a deadlock, not an error."""
    with _ONE_REFRESH_AT_A_TIME:
        started = time.time()
        previous = os.environ.get(CHAIN_VARIABLE)
        chain = [key for key in (previous or "").split(",") if key]
        if request.key in chain:
            raise LoopError(
                f"{LOOP_MARKER} credproc calls itself for the same request "
                f"({request.describe()}); a source profile must not lead back to the profile "
                "that uses it"
            )
        if len(chain) >= MAX_CHAIN_DEPTH:
            raise LoopError(
                f"{LOOP_MARKER} source profiles nest more than {MAX_CHAIN_DEPTH} deep; "
                "check for a source_profile cycle"
            )
        os.environ[CHAIN_VARIABLE] = ",".join([*chain, request.key])
        _STARTED.append(started)
        try:
            yield
        finally:
            _STARTED.pop()
            if previous is None:
                os.environ.pop(CHAIN_VARIABLE, None)
            else:
                os.environ[CHAIN_VARIABLE] = previous


# One refresh at a time in this process (the Python API may refresh from many threads). The
# chain lives in os.environ, which the processes botocore starts inherit, so two threads
# refreshing at once would take each other's keys for a loop. Refreshes are rare and cache hits
# never take this lock; reentrant for the MFA session refreshed inside a role's. threading's
# RLock is this C class: importing threading would cost every run that resolves.
_ONE_REFRESH_AT_A_TIME = RLock()


def _served(entry: Entry, how: str) -> Credentials:
    if is_verbose():  # checked first: a quiet cache hit must not import logging
        logger().info("%s: %d s left%s", how, entry.seconds_left(), _skew_note(entry.clock_offset))
    return entry.local_credentials()


def _report_skew(clock_offset: float) -> None:
    if abs(clock_offset) > 60:
        logger().info("%s; expirations are adjusted for it", _skew_note(clock_offset)[2:])


def _skew_note(clock_offset: float) -> str:
    """'; this machine's clock is N s behind STS's' when off by over a minute, else ''."""
    if abs(clock_offset) <= 60:
        return ""
    direction = "behind" if clock_offset > 0 else "ahead of"
    return f"; this machine's clock is {abs(clock_offset):.0f} s {direction} STS's"
