"""examples/aws-config, which the README tells people to copy from: botocore reads it, and
every profile in it that runs credproc resolves, as credproc would resolve it, with no
network call (a resolution is local by design)."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.configloader import raw_config_parse

from credproc.config.cmdline import WRAP, parse_line
from credproc.config.options import RawOptions
from credproc.config.resolve import resolve

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "aws-config"


def _sections() -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = raw_config_parse(str(EXAMPLE), parse_subsections=False)
    return sections


def _credproc_profiles() -> list[str]:
    return [
        name.removeprefix("profile ")
        for name, keys in _sections().items()
        if "credential_process" in keys
    ]


def test_botocore_reads_every_section() -> None:
    names = set(_sections())
    assert {"profile dev", "sso-session corp", "profile console", "profile saml"} <= names


@pytest.mark.parametrize("profile", _credproc_profiles())
def test_every_credproc_profile_resolves_locally(
    profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(EXAMPLE),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "CREDPROC_CACHE_DIR": str(tmp_path / "cache"),
    }
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    line = parse_line(_sections()[f"profile {profile}"]["credential_process"])
    assert line is not None and line.program == "credproc"
    if line.command == WRAP:
        assert line.wrapped[0] in ("aws", "saml2aws")  # its command, as written
        request = resolve(RawOptions(profile=profile), environ)
        assert request.wrap_command == line.wrapped
    else:
        request = resolve(line.options, environ)
        assert request.key  # a cache key: the resolution is whole
