"""``sso populate``'s part of the AWS config: a block of generated profiles that credproc owns.

The block is marked by two comment lines naming the ``sso-session`` it was made from::

    # BEGIN credproc sso populate, sso-session corp: generated, each run rewrites this block
    [profile Prod.Admin]
    ...
    # END credproc sso populate, sso-session corp

A run replaces only what lies between the markers of its session (or appends a new block), so
every byte outside stays as it was: the user's own profiles, comments, other sessions' blocks.
Assignments that are gone are removed from the block (pruning, the default); with
``prune=False`` the block keeps them. A profile name the user already has (in the config or the
credentials file) is left to the user: that assignment is skipped, with a warning, rather than
shadowing or duplicating their profile (a section twice makes botocore refuse the whole file).

Profile names come from a template of ``TEMPLATE_FIELDS``, made safe for ``[profile NAME]``.
An account name with letters that have no ASCII form ("日本 アカウント") keeps its identity
through the account id: appended to what remains, or in its place when nothing does. Two
assignments given one name (two accounts with the same name) are told apart by their account
id. This module computes the new text; ``rewrite`` writes it.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from ..errors import ConfigError, UsageError
from .awsconfig import Sections, parse_sections, profile_of_header, section_name
from .rewrite import appended
from .syntax import DEFAULT_SSO_TEMPLATE

DEFAULT_TEMPLATE = DEFAULT_SSO_TEMPLATE
TEMPLATE_FIELDS = ("account_id", "account_name", "role_name", "sso_session", "email")
_BEGIN = "# BEGIN credproc sso populate, sso-session {session}"
_END = "# END credproc sso populate, sso-session {session}"
_BEGIN_NOTE = ": generated, each run rewrites this block"
# What botocore reads back from [profile NAME] (awsconfig.PROFILE_NAME): anything else becomes -.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.@+=,:/-]+")
_AROUND_DOT = re.compile(r"-*\.-*")  # "Team (EU).Admin" is Team-EU.Admin, not Team-EU-.Admin
_MAX_NAME = 128


class Assignment(NamedTuple):
    """One account and role the login can reach (ListAccounts, ListAccountRoles)."""

    account_id: str
    account_name: str
    role_name: str
    email: str = ""


class Change(NamedTuple):
    text: str  # the whole new config file
    added: list[str]
    removed: list[str]  # pruned: assignments that are gone
    updated: list[str]  # same name, other keys
    unchanged: list[str]


def check_template(template: str) -> None:
    """UsageError unless the template is text with ``{field}`` from TEMPLATE_FIELDS only (no
    attribute, index, conversion or format spec: a name is plain text)."""
    fields = ", ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        raise UsageError(f"--template {template!r} has an unmatched brace; use {fields}") from None
    used = [field for _, field, _, _ in parts if field is not None]
    for _, field, spec, conversion in parts:
        if field is not None and (field not in TEMPLATE_FIELDS or spec or conversion):
            raise UsageError(f"--template {template!r}: {{{field}}} is not one of {fields}")
    if not used:
        raise UsageError(f"--template {template!r} uses no field; use some of {fields}")


def safe_name(text: str) -> str:
    """``text`` as a profile name every client reads back: accents dropped, other characters
    (spaces, quotes, brackets) as -, none next to a dot, no - or . at either end, at most 128
    characters."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    name = _AROUND_DOT.sub(".", _UNSAFE.sub("-", plain))
    return name.strip("-.")[:_MAX_NAME].strip("-.")


def account_label(name: str, account_id: str) -> str:
    """The account's name for a profile name: as it is if ``safe_name`` keeps every letter of
    it; else what it keeps, with the account id appended (the id alone if it keeps nothing),
    so that which account it is never gets lost."""
    lost = any(c.isalnum() and not c.isascii() for c in unicodedata.normalize("NFKD", name))
    if not lost:
        return name
    kept = safe_name(name)
    return f"{kept}-{account_id}" if kept else account_id


def name_profiles(
    assignments: Iterable[Assignment], template: str, session: str, taken: Iterable[str]
) -> tuple[dict[str, Assignment], list[tuple[str, Assignment]]]:
    """Each assignment's profile name, and the assignments skipped because the user already
    has a profile of that name (``taken``). Names the template gives twice get the account id
    appended; UsageError if that does not tell them apart."""
    wanted: dict[str, list[Assignment]] = {}
    for assignment in sorted(set(assignments)):
        fields = {**assignment._asdict(), "sso_session": session}
        fields["account_name"] = account_label(assignment.account_name, assignment.account_id)
        name = safe_name(template.format_map(fields)) or safe_name(
            f"{assignment.account_id}.{assignment.role_name}"
        )
        wanted.setdefault(name, []).append(assignment)
    named: dict[str, Assignment] = {}
    for name, group in wanted.items():
        for assignment in group:
            unique = name if len(group) == 1 else f"{name}-{assignment.account_id}"
            if unique in named or (len(group) > 1 and unique in wanted):
                raise UsageError(
                    f"--template {template!r} gives more than one role the name {unique!r}; "
                    "add {role_name} or {account_id} to it"
                )
            named[unique] = assignment
    user = set(taken)
    skipped = [(name, assignment) for name, assignment in named.items() if name in user]
    return {n: a for n, a in sorted(named.items()) if n not in user}, skipped


def find_block(text: str, session: str) -> tuple[int, int] | None:
    """The session's block as (start, end) character offsets, END line included; None if the
    file has none. ConfigError if its markers are broken (one missing, or given twice)."""
    begin, end = _BEGIN.format(session=session), _END.format(session=session)
    starts: list[int] = []
    ends: list[int] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n").rstrip()
        if stripped == begin or stripped.startswith(begin + ":"):
            starts.append(offset)
        elif stripped == end:
            ends.append(offset + len(line))
        offset += len(line)
    if not starts and not ends:
        return None
    if len(starts) != 1 or len(ends) != 1 or ends[0] <= starts[0]:
        raise ConfigError(
            f"the config's markers of the sso populate block for sso-session {session!r} are "
            "broken (a BEGIN or END line missing, repeated or out of order); fix them by hand"
        )
    return starts[0], ends[0]


def outside_sections(text: str, session: str, path: str) -> Sections:
    """The sections of the file that are not in the session's block: the user's own."""
    span = find_block(text, session)
    rest = text if span is None else text[: span[0]] + text[span[1] :]
    return parse_sections(rest, path)


def render_block(session: str, profiles: Mapping[str, Mapping[str, str]]) -> str:
    """The block: the markers around one section per profile, by name, a blank line between."""
    sections = []
    for name in sorted(profiles):
        keys = "".join(f"{key} = {_value(value)}\n" for key, value in profiles[name].items())
        sections.append(f"[{section_name(name)}]\n{keys}")
    begin = _BEGIN.format(session=session) + _BEGIN_NOTE
    return "\n".join([begin, "\n".join(sections).rstrip("\n"), _END.format(session=session)]) + (
        "\n"
    )


def apply(
    text: str,
    session: str,
    profiles: Mapping[str, Mapping[str, str]],
    path: str,
    *,
    prune: bool = True,
) -> Change:
    """The file with the session's block holding ``profiles`` (and, without ``prune``, the
    profiles it held that are not among them). With no profile at all the block goes away."""
    span = find_block(text, session)
    old = _block_profiles(text[span[0] : span[1]], path) if span is not None else {}
    new: dict[str, Mapping[str, str]] = dict(profiles)
    if not prune:
        # Kept as they were, unless the user has since made a profile of the same name.
        user = {profile_of_header(header) for header in outside_sections(text, session, path)}
        new = {**{n: keys for n, keys in old.items() if n not in user}, **new}
    block = render_block(session, new) if new else ""
    if span is None:
        updated = appended(text, block) if block else text
    else:
        newline = "\r\n" if "\r\n" in text else "\n"
        updated = text[: span[0]] + block.replace("\n", newline) + text[span[1] :]
    _check(text, updated, session, new, path)
    return Change(
        updated,
        added=sorted(set(new) - set(old)),
        removed=sorted(set(old) - set(new)),
        updated=sorted(n for n in set(new) & set(old) if dict(new[n]) != dict(old[n])),
        unchanged=sorted(n for n in set(new) & set(old) if dict(new[n]) == dict(old[n])),
    )


def _block_profiles(block: str, path: str) -> dict[str, Mapping[str, str]]:
    found: dict[str, Mapping[str, str]] = {}
    for header, keys in parse_sections(block, path).items():
        name = profile_of_header(header)
        if name is not None:
            found[name] = keys
    return found


def _value(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ConfigError("a generated profile's value holds a line break")
    return value


def _check(
    before: str, after: str, session: str, profiles: Mapping[str, Mapping[str, str]], path: str
) -> None:
    """Parse the new file as the clients will: the user's sections must read back unchanged,
    and the block's exactly as generated. Guards against a marker or header misread."""
    expected = {
        **outside_sections(before, session, path),
        **{section_name(name): dict(keys) for name, keys in profiles.items()},
    }
    if parse_sections(after, path) != expected:
        raise ConfigError(f"cannot place the generated profiles in {path} safely; check the file")
