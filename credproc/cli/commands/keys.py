"""``credproc keys add|list|remove|rotate``: an IAM user's long-term keys in the OS keyring.

The secret goes into the keyring and nowhere else. It is typed on the terminal without echo, or
read from the environment or the credentials file, never taken from the command line (where
``ps`` shows it). What is not secret (the key id, the IAM user's ARN, dates) goes to the index
beside the keyring (``config.keyindex``), which ``list`` reads and ``--source-keys`` uses.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping

from ...config import keyindex, validate
from ...config.awsconfig import credentials_path, read_sections
from ...config.credfile import remove_static_keys
from ...config.options import BY_DEST
from ...config.resolve import lock_timeout
from ...config.syntax import DEFAULT_VERIFY_TIMEOUT, MAX_VERIFY_TIMEOUT
from ...core.sourcekeys import SourceKeys, mask
from ...errors import ConfigError, CredprocError, UsageError
from ...keys import keystore
from ...keys.rotation import identity
from ...keys.rotation import rotate as rotate_key
from ...prompt.terminal import close, open_terminal, read_hidden
from .. import render

_ENV_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def run(args: argparse.Namespace) -> int:
    keystore.require()
    action = {"add": add, "list": listing, "remove": remove, "rotate": rotate}[args.action]
    return action(args)


# -- add --------------------------------------------------------------------------------------


def add(args: argparse.Namespace) -> int:
    name = _name(args.name)
    wait = _keyring_timeout(args, os.environ)
    region = validate.region("--region", args.region)
    if args.remove_from_file and not args.from_profile:
        raise UsageError("--remove-from-file needs --from-profile: it edits that profile")
    _refuse_overwrite(name, args.force, wait)  # before anyone types a secret
    keys = _read_keys(name, args, os.environ)
    with keyindex.index_lock(os.environ, wait):
        _refuse_overwrite(name, args.force, wait)
        user_arn = None
        if not args.no_verify:
            try:
                user_arn = identity(keys, None, region).arn
            except CredprocError as error:
                raise error.with_context("nothing was stored") from None
        keystore.store(name, keys, wait)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        keyindex.write_index(
            os.environ, name, keyindex.Indexed(name, keys.access_key_id, user_arn, now)
        )
    if args.remove_from_file:
        _remove_from_file(name, args.from_profile, keys)
    who = f" ({user_arn})" if user_arn else " (not verified)"
    sys.stdout.write(f"stored {name!r} in the OS keyring: {mask(keys.access_key_id)}{who}\n")
    return 0


def _remove_from_file(name: str, profile: str, keys: SourceKeys) -> None:
    path = credentials_path(os.environ)
    try:
        removed = remove_static_keys(path, profile, (keys.access_key_id, keys.secret_access_key))
    except CredprocError as error:
        raise error.with_context(
            f"stored {name!r} in the OS keyring, but left the credentials file as it was",
            lead=True,
        ) from None
    sys.stderr.write(
        f"credproc: removed the keys of [{profile}] from {removed.path}; the previous file is "
        f"{removed.backup} (private, but it still holds the secret: delete it once "
        f"credproc --source-keys {name} works)\n"
    )


def _refuse_overwrite(name: str, force: bool, wait: float) -> None:
    if force:
        return
    # The keyring decides: an index entry whose keys are gone from it guards nothing.
    if keystore.exists(name, wait):
        raise ConfigError(
            f"source keys named {name!r} already exist; add --force to replace them, or choose "
            "another NAME"
        )


def _read_keys(name: str, args: argparse.Namespace, environ: Mapping[str, str]) -> SourceKeys:
    if args.from_env:
        missing = [variable for variable in _ENV_KEYS if not environ.get(variable)]
        if missing:
            raise UsageError(f"--from-env: {' and '.join(missing)} not set")
        if environ.get("AWS_SESSION_TOKEN"):
            raise UsageError(
                "--from-env: AWS_SESSION_TOKEN is set, so these are temporary credentials; "
                "store an IAM user's long-term keys"
            )
        key_id, secret = (environ[variable] for variable in _ENV_KEYS)
    elif args.from_profile:
        key_id, secret = _from_profile(args.from_profile, environ)
    else:
        key_id, secret = _from_terminal(name)
    return SourceKeys(validate.access_key_id(key_id), validate.secret_access_key(secret))


def _from_profile(profile: str, environ: Mapping[str, str]) -> tuple[str, str]:
    path = credentials_path(environ)
    keys = read_sections(path).get(profile)
    if keys is None:
        raise ConfigError(f"--from-profile: there is no [{profile}] in {path}")
    if keys.get("aws_session_token"):
        raise UsageError(
            f"--from-profile: [{profile}] has an aws_session_token, so its keys are temporary; "
            "store an IAM user's long-term keys"
        )
    key_id, secret = (
        keys.get(k, "").strip() for k in ("aws_access_key_id", "aws_secret_access_key")
    )
    if not (key_id and secret):
        raise ConfigError(
            f"--from-profile: [{profile}] in {path} has no aws_access_key_id and "
            "aws_secret_access_key"
        )
    return key_id, secret


def _from_terminal(name: str) -> tuple[str, str]:
    terminal = open_terminal()
    if terminal is None:
        raise UsageError(
            "no terminal to ask for the keys on: run credproc keys add in a terminal, or use "
            "--from-env or --from-profile"
        )
    reader, writer = terminal
    try:
        writer.write(f"Access key id for {name!r}: ")
        writer.flush()
        key_id = reader.readline()
        secret = read_hidden(reader, writer, "Secret access key (not shown): ")
    finally:
        close(reader, writer)
    if not key_id.strip() or not secret.strip():
        raise UsageError("no key was entered")
    return key_id, secret


# -- list, remove, rotate ---------------------------------------------------------------------


def listing(args: argparse.Namespace) -> int:
    rows = [
        {
            "name": entry.name,
            "key_id": mask(entry.access_key_id),
            "user_arn": entry.user_arn or "-",
            "added": entry.added,
            "rotated": entry.rotated or "-",
        }
        for entry in keyindex.read_index(os.environ).values()
    ]
    columns = ["name", "key_id", "user_arn", "added", "rotated"]
    empty = "no source keys (add some with credproc keys add NAME)"
    sys.stdout.write(render.listing(rows, columns, as_json=args.json, empty=empty))
    return 0


def remove(args: argparse.Namespace) -> int:
    name = _name(args.name)
    wait = _keyring_timeout(args, os.environ)
    with keyindex.index_lock(os.environ, wait):
        entry = keyindex.read_index(os.environ).get(name)
        in_keyring = keystore.delete(name, wait)
        if entry is None and not in_keyring:
            raise ConfigError(f"no source keys named {name!r} (credproc keys list shows them)")
        if entry is not None:
            keyindex.write_index(os.environ, name, None)
    key = f" ({mask(entry.access_key_id)})" if entry is not None else ""
    sys.stdout.write(
        f"removed {name!r}{key} from the OS keyring; the key itself still exists in IAM\n"
    )
    return 0


def rotate(args: argparse.Namespace) -> int:
    name = _name(args.name)
    wait = _keyring_timeout(args, os.environ)
    region = validate.region("--region", args.region)
    verify_timeout = validate.seconds(
        "--verify-timeout", args.verify_timeout, DEFAULT_VERIFY_TIMEOUT, MAX_VERIFY_TIMEOUT
    )
    with keyindex.index_lock(os.environ, wait):
        rotated = rotate_key(name, os.environ, region, verify_timeout, wait)
    sys.stdout.write(
        f"rotated {name!r}: {mask(rotated.old)} -> {mask(rotated.new)} ({rotated.user_arn}); "
        "the old key is deleted in IAM\n"
    )
    return 0


def _name(value: str) -> str:
    return validate.key_name("NAME", value) or ""


def _keyring_timeout(args: argparse.Namespace, environ: Mapping[str, str]) -> float:
    """--lock-timeout (or CREDPROC_LOCK_TIMEOUT) bounds every wait: the index's lock and each
    keyring call, which may wait for an unlock prompt."""
    return lock_timeout(args.lock_timeout or environ.get(BY_DEST["lock_timeout"].env or ""))
