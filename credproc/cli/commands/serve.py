"""``credproc serve``: credentials for containers, devcontainers and sandboxes, each holding
only the profiles it was granted (``credproc.endpoint.containers``).

- ``credproc serve [--listen ADDRESS:PORT]...``: the server, in the foreground, one access log
  line per request on stderr; SIGTERM or SIGINT stop it, SIGHUP reads the grants (and the
  profiles) again.
- ``credproc serve grant PROFILE... [--name N] [--out FILE]``: a token for those profiles, in a
  new 0600 file whose path is printed.
- ``credproc serve list`` and ``credproc serve revoke NAME``.
- ``credproc serve env GRANT [--address A:P] [--format env|docker|compose]``: what a container
  needs to use a grant.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable

if sys.platform != "win32":  # the open-file limit
    import resource

from ...config.options import BY_DEST, RawOptions
from ...config.resolve import resolve
from ...config.syntax import DEFAULT_SERVE_ADDRESS, SERVER_OPTION_DESTS
from ...core.log import logger
from ...endpoint import addresses, grants
from ...endpoint.containers import ContainerService, credentials_path, resolve_profile
from ...errors import UsageError
from ...prompt.mfa import ask_only_in_foreground
from ..refresh import from_aws
from ..render import table

# Containers, each with a connection or a few: the server needs a file descriptor each.
WANTED_FILES = 8192
# The hosts every SDK takes a plain-http AWS_CONTAINER_CREDENTIALS_FULL_URI for, besides
# loopback (botocore's ContainerProvider, the JS, Java and Rust SDKs).
SDK_HOSTS = frozenset(
    ipaddress.ip_address(host) for host in ("169.254.170.2", "169.254.170.23", "fd00:ec2::23")
)
_STOP = (signal.SIGINT, signal.SIGTERM)
# The server's own flags: given with an action (`serve --duration 900 grant dev`), they would
# be parsed and ignored.
_SERVER_FLAGS = {
    "listen": "--listen",
    "allow_public": "--allow-public",
    **{dest: BY_DEST[dest].flag for dest in SERVER_OPTION_DESTS},
}


def run(args: argparse.Namespace) -> int:
    if args.action is None:
        return _serve(args)
    servers = [flag for dest, flag in _SERVER_FLAGS.items() if getattr(args, dest, None)]
    if servers:
        raise UsageError(f"{servers[0]} is the server's option, not serve {args.action}'s")
    action = {"grant": grant, "list": listing, "revoke": revoke, "env": env}[args.action]
    return action(args)


# -- the server -------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    listen = [addresses.parse(text) for text in args.listen or [DEFAULT_SERVE_ADDRESS]]
    addresses.check_listen(listen, args.allow_public)
    environ = dict(os.environ)
    book = grants.GrantBook(grants.grants_path(environ))
    options = RawOptions.of(args)
    # Every granted profile resolved now: a bad one fails here, in one line, before anything
    # listens, not later in a container's fetch.
    for each in book.grants:
        for profile in each.profiles:
            resolve_profile(options, environ, profile)
    _more_files()
    write = _writer()
    service = ContainerService(
        listen, book, options=options, environ=environ, fetcher=from_aws, access_log=write
    )
    try:
        logger()  # set up before the threads: they share one handler
        ask_only_in_foreground()  # started in the background (&), it prompts in a dialog
        urls = ", ".join(f"http://{address}" for address in listen)
        ready = f"credproc serve: {len(book.grants)} grant(s), listening on {urls}"
        _until_stopped(service, write, ready)
    finally:
        service.stop()  # also when it never started: the sockets bound are closed
    return 0


def _until_stopped(service: ContainerService, write: Callable[[str], None], ready: str) -> None:
    """Serve until SIGTERM or SIGINT; SIGHUP reloads. The signals are blocked in every thread
    (the server's inherit the mask) and taken by this one, so none interrupts an answer."""
    if not hasattr(signal, "sigwait"):  # Windows: Ctrl-C stops it; no SIGHUP there
        service.start()
        write(ready)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            write("credproc serve: interrupted, stopping")
        return  # the grants file is still checked at every request
    waited = {*_STOP, signal.SIGHUP}
    signal.pthread_sigmask(signal.SIG_BLOCK, waited)
    try:
        service.start()
        write(ready)
        while True:
            number = signal.sigwait(waited)
            if number == signal.SIGHUP:
                _reload(service)
                continue
            write(f"credproc serve: {signal.Signals(number).name}, stopping")
            break
    finally:
        service.stop()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, waited)


def _reload(service: ContainerService) -> None:
    try:
        count = service.reload()
    except Exception as error:  # noqa: BLE001 - a broken file refuses every token; serve on
        logger().warning("%s", error)
        return
    service.logged(f"credproc serve: SIGHUP, grants read again: {count}, profiles at next use")


def _writer() -> Callable[[str], None]:
    """The access log: one line at a time on stderr, whichever thread writes it."""
    lock = threading.Lock()

    def write(line: str) -> None:
        with lock, contextlib.suppress(OSError, ValueError):
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    return write


def _more_files() -> None:
    """Raise the open-file limit toward WANTED_FILES: a thousand containers connecting at once
    must not run the server out of descriptors (the soft limit is often 1024)."""
    if sys.platform == "win32":
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = WANTED_FILES if hard == resource.RLIM_INFINITY else min(WANTED_FILES, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


# -- grants -----------------------------------------------------------------------------------


def grant(args: argparse.Namespace) -> int:
    profiles = list(dict.fromkeys(args.profiles))  # each once, in the order given
    name = args.name if args.name is not None else "+".join(profiles)
    try:
        grants.check_name(name)
    except UsageError as error:
        if args.name is None:
            raise error.with_context("name it with --name") from None
        raise
    for profile in profiles:
        resolve(RawOptions(profile=profile), os.environ)  # exists, and resolves: no network
    _, path = grants.add(os.environ, profiles, name, args.out)
    sys.stdout.write(f"{path}\n")
    return 0


def listing(args: argparse.Namespace) -> int:
    rows = [
        {
            "name": each.name,
            "profiles": ",".join(each.profiles),
            "created": each.created,
            "token_file": each.token_file,
        }
        for each in grants.load(grants.grants_path(os.environ))
    ]
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not rows:
        sys.stdout.write("no grants (make one with credproc serve grant PROFILE)\n")
        return 0
    sys.stdout.write(table(rows, ["name", "profiles", "created", "token_file"]))
    return 0


def revoke(args: argparse.Namespace) -> int:
    found, removed = grants.revoke(os.environ, args.grant)
    what = f"its token file {found.token_file} removed" if removed else "no token file was left"
    sys.stdout.write(f"revoked {found.name!r}; {what}\n")
    return 0


def env(args: argparse.Namespace) -> int:
    address = addresses.parse(args.address or DEFAULT_SERVE_ADDRESS, option="--address")
    if not (address.ip.is_loopback or address.ip in SDK_HOSTS):
        raise UsageError(
            f"--address {address}: the SDKs take plain http only to loopback, 169.254.170.2, "
            "169.254.170.23 or fd00:ec2::23"
        )
    found = grants.find(os.environ, args.grant)
    profile = args.profile if args.profile is not None else found.profiles[0]
    if profile not in found.profiles:
        raise UsageError(f"grant {found.name!r} may not read profile {profile[:70]!r}")
    variables = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://{address}{credentials_path(profile)}",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": found.token_file,
    }
    # The token file is mounted at the same path inside: the variable holds one path for both.
    mount = f"{found.token_file}:{found.token_file}:ro"
    if args.format == "docker":
        words = [f"--env={name}={value}" for name, value in variables.items()]
        words.append(f"--volume={mount}")
        sys.stdout.write(" ".join(shlex.quote(word) for word in words) + "\n")
    elif args.format == "compose":
        lines = ["environment:"]
        lines += [f"  {name}: {json.dumps(value)}" for name, value in variables.items()]
        lines += ["volumes:", f"  - {json.dumps(mount)}"]
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        sys.stdout.write("".join(f"{name}={value}\n" for name, value in variables.items()))
    return 0
