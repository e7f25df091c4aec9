"""A profile's ``aws login`` lines in the AWS config: what ``credproc login`` writes there.

As ``aws login`` does, the profile gets ``login_session = <the console identity's ARN>`` (the
line replaced if it has one, else added after the section's last key) and ``region = REGION``
when it has no region yet; a profile the config does not have becomes a new section at the
end. Every other byte stays as it was: comments, blank lines, other keys and other sections,
the file's line endings. Both texts are parsed as botocore parses them, and the new one must
read back as the old one with exactly those keys changed. ``rewrite`` writes the result.

A profile that already gets credentials another way (keys, a role, SSO, a web identity token,
a credential_process) is refused, as ``aws login`` refuses it: botocore would go on using
those, and the sign-in would change nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import ConfigError
from .awsconfig import parse_sections, profile_of_header, section_name, section_spans
from .rewrite import appended

LOGIN_SESSION = "login_session"
# The keys that give a profile credentials of another kind, in the order botocore's provider
# chain would pick them, with the name aws login gives each.
OTHER_CREDENTIALS = (
    ("web_identity_token_file", "web identity"),
    ("sso_role_name", "SSO"),
    ("sso_account_id", "SSO"),
    ("aws_access_key_id", "access key"),
    ("role_arn", "assume role"),
    ("credential_process", "credential process"),
)


def other_credentials(keys: Mapping[str, str]) -> str | None:
    """The kind of credentials the profile's keys already give, if any but a login session."""
    return next((kind for key, kind in OTHER_CREDENTIALS if key in keys), None)


def with_login_session(text: str, path: str, profile: str, session: str, region: str | None) -> str:
    """``text`` with the profile signed in to ``session`` (and given ``region`` if it has no
    region); ConfigError if that cannot be done leaving everything else as it was."""
    if "\n" in session or "\r" in session or not session.strip():
        raise ConfigError(f"the sign-in named no usable login session ({session!r})")
    old = parse_sections(text, path)
    header = section_name(profile)
    spans = [span for span in section_spans(text) if profile_of_header(span[0]) == profile]
    newline = "\r\n" if "\r\n" in text else "\n"
    if len(spans) > 1:
        raise ConfigError(
            f"profile {profile!r} appears {len(spans)} times in {path}; fix it by hand"
        )
    added = {LOGIN_SESSION: session}
    if spans:
        found, start, end = spans[0]
        if region and "region" not in old.get(found, {}):
            added["region"] = region
        updated = text[:start] + _set_keys(text[start:end], added, newline) + text[end:]
        expected_header = found
    else:
        lines = [f"[{header}]", f"{LOGIN_SESSION} = {session}"]
        if region:
            lines.append(f"region = {region}")
            added["region"] = region
        updated = appended(text, "\n".join(lines) + "\n")
        expected_header = header
    expected = {name: dict(keys) for name, keys in old.items()}
    expected.setdefault(expected_header, {}).update(added)
    if parse_sections(updated, path) != expected:
        raise ConfigError(
            f"cannot set {LOGIN_SESSION} in [{header}] of {path} safely; add "
            f"'{LOGIN_SESSION} = {session}' to it by hand"
        )
    return updated


def _set_keys(section: str, keys: Mapping[str, str], newline: str) -> str:
    """The section's text with each key's line replaced (its continuation lines dropped), or
    added after the last line when it has none."""
    out: list[str] = []
    missing = dict(keys)
    dropping = False
    for line in section.splitlines(keepends=True):
        if dropping and line[:1] in (" ", "\t") and line.strip():
            continue  # the replaced value went on over this line
        dropping = False
        name = _key_of(line)
        if name in missing:
            ending = line[len(line.rstrip("\r\n")) :] or newline
            out.append(f"{name} = {missing.pop(name)}{ending}")
            dropping = True
            continue
        out.append(line)
    if missing:
        if out and not out[-1].endswith(("\n", "\r")):
            out[-1] += newline  # the file's last line had no line ending
        out.extend(f"{name} = {value}{newline}" for name, value in missing.items())
    return "".join(out)


def _key_of(line: str) -> str | None:
    """The key a ``key = value`` line sets (configparser's rule: lower-cased), else None."""
    if line[:1] in (" ", "\t", "[", "#", ";") or not line.strip():
        return None
    positions = [i for i in (line.find("="), line.find(":")) if i > 0]
    return line[: min(positions)].strip().lower() if positions else None
