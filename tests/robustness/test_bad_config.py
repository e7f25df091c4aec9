"""A config or credentials file botocore cannot read is a configuration error (exit 3) that
names the file, never an internal one, for every form of the command; doctor reports it as a
FAIL with the fix and carries on with the checks that do not need the file."""

from __future__ import annotations

import pytest
from support.assertions import assert_fails
from support.constants import ROLE
from support.sandbox import Sandbox

GOOD = f"[profile dev-role]\nrole_arn = {ROLE}\nsource_profile = base\n"
# name: (text appended to the file, with {section} a header of that file; the words the
# error line holds besides the file's path)
BROKEN = {
    "section twice": ("\n[{section}]\na = 1\n\n[{section}]\nb = 2\n", ("already exists",)),
    "key twice": ("\n[{section}]\nregion = a\nregion = b\n", ("already exists",)),
    "no section header": ("", ("no section headers",)),  # see _write
    "line without a delimiter": ("\n[{section}]\njust some words\n", ("line",)),
    "indented list": (
        "\n[{section}]\ncredproc_policy_arn =\n    arn:aws:iam::aws:policy/A\n",
        ("without '='",),
    ),
}


def _write(sandbox: Sandbox, which: str, broken: str) -> str:
    """Break one of the two files; returns its path."""
    addition, _ = BROKEN[broken]
    if which == "config":
        path, section = sandbox.config, "profile other"
    else:
        path, section = sandbox.home / ".aws" / "credentials", "other"
    text = path.read_text() if path.exists() else ""
    if broken == "no section header":
        text = "region = eu-west-1\n" + text
    path.write_text(text + addition.format(section=section))
    return str(path)


FORMS = {
    "flags": ["--role-arn", ROLE, "--source-profile", "base"],
    "profile": ["--profile", "dev-role"],
}


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("which", ["config", "credentials"])
@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_a_broken_file_is_a_config_error(
    sandbox: Sandbox, form: str, which: str, broken: str
) -> None:
    sandbox.write_config(sandbox.config.read_text() + GOOD)
    path = _write(sandbox, which, broken)

    result = sandbox.main(*FORMS[form])

    assert_fails(result, 3, path, *BROKEN[broken][1])
    assert sandbox.server.calls() == 0


@pytest.mark.parametrize("which", ["config", "credentials"])
def test_doctor_reports_a_broken_file_and_goes_on(sandbox: Sandbox, which: str) -> None:
    path = _write(sandbox, which, "section twice")

    result = sandbox.main("doctor", "--role-arn", ROLE, "--source-profile", "base")

    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    failed = [line for line in lines if line.startswith("FAIL")]
    assert failed and path in failed[0] and "already exists" in failed[0]
    assert "fix that line by hand" in failed[0]
    assert any(line.startswith("ok    cache:") for line in lines)  # the checks went on
    assert any(line.startswith("ok    refresh window:") for line in lines)
