"""doctor's verdicts: the Check record, and the checks of this machine's own state (the cache
dir, the refresh window against the clients' own, the clock against STS's)."""

from __future__ import annotations

import os
from typing import Literal, NamedTuple

from ....core.cache import Cache
from ....core.private import POSIX_MODES, PRIVATE_BITS, is_private_file, unusable_dir
from ....core.request import Request
from ....errors import (
    AuthError,
    ConfigError,
    ConfigFileError,
    CredprocError,
    ServiceUnavailableError,
)

BOTOCORE_WINDOW = 900  # botocore (AWS CLI, boto3) refreshes with 15 minutes left
JS_WINDOW = 300  # the JS SDK v3 with 5
SIGNATURE_SKEW_LIMIT = 300  # AWS refuses requests signed more than 5 minutes off its clock
_FIXES: dict[type[CredprocError], str] = {
    AuthError: "renew the source credentials (new keys, or aws sso login) or check the role's "
    "trust policy",
    ServiceUnavailableError: "check the network, --region, and any AWS_ENDPOINT_URL",
    ConfigFileError: "fix that line by hand: the AWS CLI and every SDK refuse the file as it is",
}


class Check(NamedTuple):
    name: str
    status: Literal["ok", "warn", "fail"]
    verdict: str
    fix: str = ""
    error: type[CredprocError] = CredprocError  # a failure's class gives the exit status

    @property
    def exit_code(self) -> int:
        return self.error.exit_code if self.status == "fail" else 0


def failed(name: str, error: CredprocError, fix: str = "") -> Check:
    return Check(name, "fail", str(error), fix or _FIXES.get(type(error), ""), type(error))


# -- local state: cache dir, refresh window, clock ----------------------------------------


def cache_check(request: Request) -> Check:
    directory = request.cache_dir
    if directory is None:
        return Check("cache", "warn", "off: every client call goes to STS", "drop --no-cache")
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        ancestor = os.path.dirname(os.path.abspath(directory))
        while not os.path.exists(ancestor) and ancestor != os.path.dirname(ancestor):
            ancestor = os.path.dirname(ancestor)
        if not os.access(ancestor, os.W_OK | os.X_OK):
            return Check(
                "cache",
                "fail",
                f"{directory} does not exist and cannot be created ({ancestor} is not "
                "writable); credproc runs without caching",
                "point CREDPROC_CACHE_DIR (or --cache-dir) at a directory you can write",
                ConfigError,
            )
        return Check("cache", "ok", f"{directory} does not exist yet; a refresh creates it (700)")
    except OSError as error:
        return Check("cache", "fail", f"{directory}: {error.strerror}", error=ConfigError)
    why = unusable_dir(info)
    if why is not None:
        return Check(
            "cache",
            "fail",
            f"{directory}: {why}; credproc runs without caching",
            "point CREDPROC_CACHE_DIR (or --cache-dir) at a directory only you can write",
            ConfigError,
        )
    mode = f"mode {info.st_mode & 0o777:o}"
    if not os.access(directory, os.W_OK | os.X_OK):  # a read-only mount, or mode 500
        return Check(
            "cache",
            "fail",
            f"{directory}: yours, {mode}, but not writable; credproc runs without caching",
            f"chmod 700 {directory}, or point CREDPROC_CACHE_DIR at a writable directory",
            ConfigError,
        )
    if POSIX_MODES and info.st_mode & PRIVATE_BITS:
        return Check(
            "cache",
            "warn",
            f"{directory} can be listed by others ({mode})",
            f"chmod 700 {directory} (credproc also does at its next refresh)",
        )
    entries = [os.path.join(directory, n) for n in os.listdir(directory) if n.endswith(".json")]
    ignored = [path for path in entries if not is_private_file(os.lstat(path))]
    if ignored:
        return Check(
            "cache",
            "warn",
            f"{len(ignored)} cache files are not private to you, so credproc ignores them",
            "credproc cache clear --all",
        )
    tokens = sum(1 for _ in Cache(directory).entries())
    counted = f"{tokens} cached token{'' if tokens == 1 else 's'}"
    return Check("cache", "ok", f"{directory}: yours, {mode}, {counted}")


def refresh_window_check(request: Request) -> Check:
    window = request.refresh_window
    if request.login_session and not request.role_arn:
        # 15-minute credentials: botocore always finds less than its 15 minutes left.
        return Check(
            "refresh window",
            "ok",
            f"{window} s: aws login credentials live 15 minutes, so botocore (AWS CLI, boto3) "
            "runs credproc on every API call, each a cache hit; renewed with "
            f"{window // 60} minutes left",
        )
    if window >= BOTOCORE_WINDOW:
        verdict = f"{window} s: tokens are renewed before botocore (15 min) or the JS SDK asks"
        return Check("refresh window", "ok", verdict)
    clients = "botocore (AWS CLI, boto3) with 15 min left"
    if window < JS_WINDOW:
        clients += " and the JS SDK with 5"
    fix = f"--refresh-window {BOTOCORE_WINDOW}"
    if request.duration <= BOTOCORE_WINDOW:
        fix = f"--duration above {BOTOCORE_WINDOW} s, then {fix}"
    return Check(
        "refresh window",
        "warn",
        f"{window} s is shorter than the clients' own: {clients} would run credproc on every "
        "API call until credproc refreshes",
        fix,
    )


def clock_check(offset: float) -> Check:
    if not offset:
        return Check("clock", "ok", "within a few seconds of STS's")
    direction = "behind" if offset > 0 else "ahead of"
    verdict = f"this machine is {abs(offset):.0f} s {direction} STS"
    if abs(offset) > SIGNATURE_SKEW_LIMIT:
        return Check(
            "clock",
            "fail",
            f"{verdict}: AWS refuses requests signed more than 5 minutes off",
            "sync the clock (NTP)",
            AuthError,
        )
    verdict += "; credproc corrects expiry times for it"
    return Check("clock", "warn", verdict, "sync the clock (NTP)")
