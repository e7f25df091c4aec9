"""`credproc configure`: the block it prints works in real clients; --write changes one profile."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from support.constants import BIN, ROLE
from support.sandbox import Sandbox

from credproc.cli.commands.configure import write_profile
from credproc.errors import ConfigError

BLOCK = "[profile dev]\ncredential_process = credproc --role-arn X\n"


def _configure(sandbox: Sandbox, *args: str, env: dict[str, str] | None = None) -> list[str]:
    result = sandbox.main("configure", "--name", "dev", *args, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "[profile dev]"
    assert lines[1].startswith("credential_process = ")
    return lines


@pytest.mark.integration
def test_printed_block_works_in_the_aws_cli(sandbox: Sandbox) -> None:
    args = [*sandbox.role_args(), "--region", "eu-west-1", "--external-id", "partner-42"]
    lines = _configure(sandbox, *args, "--tag", "team=pay ments", "--duration", "1800")
    with sandbox.config.open("a") as config:
        config.write("\n" + "\n".join(lines) + "\n")

    result = sandbox.run(["aws", "--profile", "dev", "sts", "get-caller-identity"])

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Arn"].startswith(
        "arn:aws:sts::123456789012:assumed-role/dev/"
    )
    assert lines[2] == "region = eu-west-1"
    sent = sandbox.server.requests("AssumeRole")
    assert len(sent) == 1
    assert sent[0]["ExternalId"] == "partner-42"
    assert sent[0]["DurationSeconds"] == "1800"
    assert sent[0]["Tags.member.1.Value"] == "pay ments"  # quoted for shlex, kept whole


@pytest.mark.integration
def test_bare_name_only_when_path_finds_this_credproc(sandbox: Sandbox) -> None:
    on_path = _configure(sandbox, *sandbox.role_args())
    elsewhere = _configure(sandbox, *sandbox.role_args(), env={"PATH": "/usr/bin:/bin"})

    assert shlex.split(on_path[1].split(" = ", 1)[1])[0] == "credproc"
    command = shlex.split(elsewhere[1].split(" = ", 1)[1])
    assert command[0] == str(BIN / "credproc")
    # A client whose PATH lacks the venv still runs it.
    sandbox.add_profile("dev", credential_process=shlex.join(command), region="eu-west-1")
    result = sandbox.run(
        [str(BIN / "aws"), "--profile", "dev", "sts", "get-caller-identity"],
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr


def test_relative_paths_become_absolute(sandbox: Sandbox) -> None:
    (sandbox.home / "token").write_text("a-token")
    lines = _configure(sandbox, "--role-arn", ROLE, "--web-identity-token-file", "token")
    with_cache = _configure(sandbox, *sandbox.role_args(), "--cache-dir", "~/tokens")

    assert f"--web-identity-token-file {sandbox.home / 'token'}" in lines[1]
    assert f"--cache-dir {sandbox.home / 'tokens'}" in with_cache[1]


@pytest.mark.integration
def test_write_appends_after_a_private_backup_and_keeps_the_mode(sandbox: Sandbox) -> None:
    sandbox.config.chmod(0o640)
    before = sandbox.config.read_bytes()

    result = sandbox.credproc("configure", "--name", "dev", *sandbox.role_args(), "--write")

    assert result.returncode == 0, result.stderr
    after = sandbox.config.read_bytes()
    assert after == before + b"\n" + result.stdout.encode()
    assert sandbox.config.stat().st_mode & 0o777 == 0o640
    (backup,) = sandbox.config.parent.glob("config.*.bak")
    assert backup.read_bytes() == before
    assert backup.stat().st_mode & 0o777 == 0o600
    assert result.stderr == (
        f"credproc: added [profile dev] in {sandbox.config}; the previous file is {backup}\n"
    )
    assert sandbox.run(["aws", "--profile", "dev", "configure", "list"]).returncode == 0


def test_write_respects_aws_config_file_and_creates_it(sandbox: Sandbox) -> None:
    other = sandbox.home / "elsewhere" / "config"
    before = sandbox.config.read_bytes()

    result = sandbox.main(
        "configure",
        "--name",
        "dev",
        "--role-arn",
        ROLE,
        "--write",
        env={"AWS_CONFIG_FILE": str(other)},
    )

    assert result.returncode == 0, result.stderr
    assert other.read_text() == result.stdout
    assert other.stat().st_mode & 0o777 == 0o600
    assert list(other.parent.glob("*.bak")) == []  # there was nothing to back up
    assert sandbox.config.read_bytes() == before


def test_an_existing_profile_is_refused_without_force(sandbox: Sandbox) -> None:
    sandbox.add_profile("dev", region="us-east-1")
    before = sandbox.config.read_bytes()

    result = sandbox.main("configure", "--name", "dev", *sandbox.role_args(), "--write")

    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr == (
        f"credproc: error: profile 'dev' already exists in {sandbox.config}; "
        "add --force to replace it, or choose another --name\n"
    )
    assert sandbox.config.read_bytes() == before
    assert list(sandbox.config.parent.glob("*.bak")) == []


@pytest.mark.integration
def test_force_replaces_that_profile_and_nothing_else(sandbox: Sandbox) -> None:
    head = sandbox.config.read_text() + "# dev is ours\n"
    old = "[profile dev]\nregion = us-east-1\n# a comment inside dev\nrole_arn = x\n"
    tail = "\n# about prod\n[profile prod]\nregion = eu-west-1\n"
    sandbox.config.write_text(head + old + tail)

    result = sandbox.credproc(
        "configure",
        "--name",
        "dev",
        *sandbox.role_args(),
        "--region",
        "eu-west-1",
        "--write",
        "--force",
    )

    assert result.returncode == 0, result.stderr
    assert sandbox.config.read_text() == head + result.stdout + tail
    assert result.stderr.startswith("credproc: replaced [profile dev] in ")
    identity = sandbox.run(["aws", "--profile", "dev", "sts", "get-caller-identity"])
    assert identity.returncode == 0, identity.stderr
    assert sandbox.server.calls("AssumeRole") == 1


def test_a_symlinked_config_is_written_through(sandbox: Sandbox) -> None:
    target = sandbox.home / "dotfiles-config"
    sandbox.config.rename(target)
    sandbox.config.symlink_to(target)

    result = sandbox.main("configure", "--name", "dev", *sandbox.role_args(), "--write")

    assert result.returncode == 0, result.stderr
    assert sandbox.config.is_symlink()
    assert target.read_text().endswith(result.stdout)
    assert len(list(sandbox.home.glob("dotfiles-config.*.bak"))) == 1


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["--role-arn", "nope"], 2, "--role-arn is not an ARN"),
        (["--role-arn", ROLE, "--source-profile", "missing"], 3, "source profile 'missing'"),
        (["--role-arn", ROLE, "--force"], 2, "--force replaces a profile"),
        (["--role-arn", ROLE, "--source-profile", "dev"], 2, "--name 'dev' is also the source"),
        (["--profile", "dev"], 2, "--name 'dev' is also --profile"),
        (
            [
                "--role-arn",
                ROLE,
                "--mfa-serial",
                "arn:aws:iam::123456789012:mfa/me",
                "--mfa-token-command",
                "a\nb",
            ],
            2,
            "a line break",
        ),
        (
            [
                "--role-arn",
                ROLE,
                "--mfa-serial",
                "arn:aws:iam::123456789012:mfa/me",
                "--mfa-token-command",
                "op x #1",
            ],
            2,
            "read as a comment",
        ),
    ],
)
def test_bad_options_write_nothing(
    sandbox: Sandbox, args: list[str], status: int, message: str
) -> None:
    sandbox.add_profile("dev", role_arn=ROLE, source_profile="base")
    before = sandbox.config.read_bytes()

    write = [] if "--force" in args else ["--write"]
    result = sandbox.main("configure", "--name", "dev", *args, *write)

    assert result.returncode == status
    assert result.stdout == ""
    assert result.stderr.startswith("credproc: error: ")
    assert message in result.stderr
    assert sandbox.config.read_bytes() == before
    assert sandbox.server.calls() == 0


@pytest.mark.parametrize("name", ["", "has space", "x]y", "a\nb"])
def test_bad_profile_names(sandbox: Sandbox, name: str) -> None:
    result = sandbox.main("configure", "--name", name, "--role-arn", ROLE)

    assert result.returncode == 2
    assert result.stderr.startswith("credproc: error: --name ")


# -- write_profile on awkward files -------------------------------------------------------


def test_replaces_a_header_botocore_reads_as_the_same_profile(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = x\n\n[profile   dev]\nregion = y\n\n[sso-session s]\n")

    write_profile(config, "dev", BLOCK, force=True)

    assert config.read_text() == f"[default]\nregion = x\n\n{BLOCK}\n[sso-session s]\n"


def test_keeps_crlf_line_ends_and_ends_an_unterminated_last_line(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_bytes(b"[default]\r\nregion = x")

    write_profile(config, "dev", BLOCK, force=False)

    assert (
        config.read_bytes()
        == b"[default]\r\nregion = x\r\n\r\n" + BLOCK.replace("\n", "\r\n").encode()
    )


def test_the_default_profile(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile default]\nregion = x\n[profile b]\n")

    written = write_profile(config, "default", "[default]\nregion = y\n", force=True)

    assert written.replaced
    assert config.read_text() == "[default]\nregion = y\n[profile b]\n"


def test_a_profile_given_twice_is_left_to_a_human(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile dev]\n[profile  dev]\n")

    with pytest.raises(ConfigError, match="appears 2 times"):
        write_profile(config, "dev", BLOCK, force=True)


def test_a_file_clients_cannot_parse_is_not_touched(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("region = before any section\n")

    with pytest.raises(ConfigError, match="cannot parse"):
        write_profile(config, "dev", BLOCK, force=False)
    assert config.read_text() == "region = before any section\n"
    assert [path.name for path in tmp_path.iterdir()] == ["config"]
