"""``credproc sso populate``: a profile in the AWS config for every account and role an SSO
session reaches, in a block credproc owns (config.populate), each going through credproc.

A generated profile names its session with botocore's ``sso_session`` and its role with
credproc's own keys (``credproc_sso_account_id``, ``credproc_sso_role_name``), and runs
``credproc --profile NAME``. botocore's SSO provider, which comes before ``credential_process``
in its chain, needs botocore's ``sso_account_id`` and ``sso_role_name``: without them it leaves
the profile to credproc, so ``aws --profile NAME``, boto3 and every SDK get the role from
credproc's cache (one GetRoleCredentials per role lifetime, whatever the number of processes)
and the session's token is refreshed under credproc's lock. ``credproc exec --profile NAME``,
``credproc sso login --profile NAME`` and ``aws sso login --profile NAME`` work on it too.

The block is written only when it changes, like ``configure --write``: a private backup (the
newest few are kept), then an atomic replace keeping the file's mode. ``--dry-run`` prints the
change as a unified diff; ``--check`` too, and its exit status says whether there is one
(``CHANGES_PENDING``), for scripts.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys

from ....aws import portal
from ....config import populate, rewrite
from ....config.awsconfig import config_path, credentials_profiles, profile_of_header
from ....config.options import BY_DEST
from ....config.validate import choice, region
from ....core.log import logger
from ....core.request import SSO_LOGINS
from ....errors import UsageError
from ....fetch.sso import Need, login_command, with_access_token
from ..configure import credproc_command, joined
from .target import chosen_lock_timeout, chosen_session

# --check's exit status when the config would change: apart from every error's (errors.py).
CHANGES_PENDING = 9


def run(args: argparse.Namespace) -> int:
    populate.check_template(args.template)  # a typo costs no sign-in
    profiles_region = region("--region", args.region) if args.region else None
    session = chosen_session(args)
    if session.name is None:
        raise UsageError(
            f"profile {args.profile!r} signs in with its own sso_start_url (a legacy setup); "
            "populate needs an [sso-session NAME] section for the profiles to name"
        )
    path = config_path(os.environ)
    rewrite.read_for_rewrite(path)  # unreadable: fail before any sign-in
    option = BY_DEST["sso_login"]
    login = choice(option.flag, args.sso_login or os.environ.get(option.env or ""), SSO_LOGINS)
    need = Need(chosen_lock_timeout(args), login, login_command(args.profile, session))
    found = with_access_token(
        session, need, lambda token: portal.assignments(session.region, token)
    )
    # Read now, not before: a sign-in may have taken minutes, and the file may have changed.
    original = rewrite.read_for_rewrite(path)
    outside = populate.outside_sections(original.text, session.name, original.path)
    taken = {profile_of_header(header) or "" for header in outside}
    taken |= set(credentials_profiles(os.environ)) | {"default"}
    named, skipped = populate.name_profiles(found, args.template, session.name, taken)
    command = credproc_command(os.environ)
    profiles = {
        name: {
            "sso_session": session.name,
            "credproc_sso_account_id": assignment.account_id,
            "credproc_sso_role_name": assignment.role_name,
            "region": profiles_region or session.region,
            "credential_process": joined([*command, "--profile", name]),
        }
        for name, assignment in named.items()
    }
    change = populate.apply(
        original.text, session.name, profiles, original.path, prune=not args.no_prune
    )
    for name, assignment in skipped:
        logger().warning(
            "not generating profile %s (%s in account %s): you have a profile of that name; "
            "name them otherwise with --template",
            name,
            assignment.role_name,
            assignment.account_id,
        )
    if args.dry_run or args.check:
        _print_diff(original.text, change.text, original.path)
        if change.text == original.text:
            sys.stderr.write(f"credproc: {path} needs no change\n")
            return 0
        return CHANGES_PENDING if args.check else 0
    backup = rewrite.replace(original, change.text) if change.text != original.text else None
    counts = [
        f"{len(change.added)} added",
        f"{len(change.updated)} updated",
        f"{len(change.removed)} removed",
        f"{len(change.unchanged)} unchanged",
    ]
    sys.stderr.write(
        f"credproc: {len(change.added + change.updated + change.unchanged)} profiles for "
        f"sso-session {session.name} in {path}: "
        f"{', '.join(counts)}" + (f"; {_kept(backup)}\n" if backup else "\n")
    )
    return 0


def _kept(backup: str) -> str:
    """Where the previous file is, and that only the newest backups stay."""
    folder = os.path.dirname(backup)
    return (
        f"the previous file is {backup} (the newest {rewrite.KEEP_BACKUPS} backups are kept "
        f"in {folder})"
    )


def _print_diff(before: str, after: str, path: str) -> None:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=path,
        tofile=f"{path} (after sso populate)",
    )
    for line in lines:
        sys.stdout.write(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
