"""`credproc serve grant|list|revoke|env`, and every bad start of `credproc serve`: one line on
stderr, exit 2 or 3, nothing on stdout, nothing listening. credproc runs in-process."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from support.constants import ROLE
from support.sandbox import Sandbox


@pytest.fixture
def box(sandbox: Sandbox) -> Sandbox:
    sandbox.add_profile("dev", role_arn=ROLE, source_profile="base")
    sandbox.add_profile("prod", role_arn=ROLE.replace("dev", "prod"), source_profile="base")
    return sandbox


def _token_file(box: Sandbox, *args: str) -> Path:
    result = box.main("serve", "grant", *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    return Path(lines[0])


def test_grant_list_env_and_revoke(box: Sandbox, tmp_path: Path) -> None:
    dev = _token_file(box, "dev")
    both = _token_file(box, "dev", "prod", "--name", "ci", "--out", str(tmp_path / "ci.token"))
    assert dev.name == "dev.token"
    assert both == tmp_path / "ci.token"

    listed = box.main("serve", "list", "--json").json_list()
    assert [(row["name"], row["profiles"]) for row in listed] == [
        ("dev", "dev"),
        ("ci", "dev,prod"),
    ]
    assert dev.read_text() not in box.main("serve", "list").stdout
    assert box.main("serve", "list").stdout.startswith("NAME  PROFILES")

    env = box.main("serve", "env", "ci", "--address", "169.254.170.2:9911", "--profile", "prod")
    assert env.returncode == 0, env.stderr
    assert env.stdout == (
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.2:9911/credentials/prod\n"
        f"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE={both}\n"
    )
    docker = box.main("serve", "env", "dev", "--format", "docker").stdout
    assert shlex.split(docker) == [
        "--env=AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9911/credentials/dev",
        f"--env=AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE={dev}",
        f"--volume={dev}:{dev}:ro",
    ]
    compose = box.main("serve", "env", "dev", "--format", "compose").stdout
    assert compose.splitlines() == [
        "environment:",
        '  AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:9911/credentials/dev"',
        f'  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: "{dev}"',
        "volumes:",
        f'  - "{dev}:{dev}:ro"',
    ]

    revoked = box.main("serve", "revoke", "dev")
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked 'dev'" in revoked.stdout
    assert not dev.exists()
    assert [row["name"] for row in box.main("serve", "list", "--json").json_list()] == ["ci"]
    grants_file = box.home / ".config" / "credproc" / "serve" / "grants.json"
    assert both.read_text() not in grants_file.read_text()


def _fails(box: Sandbox, code: int, *args: str, text: str) -> None:
    result = box.main(*args)
    assert result.returncode == code, (args, result.stderr)
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("credproc: error: ")
    assert text in result.stderr


@pytest.mark.parametrize(
    ("code", "args", "text"),
    [
        (2, ["serve", "--listen", "nonsense"], "is not ADDRESS:PORT"),
        (2, ["serve", "--listen", "localhost:9911"], "is not ADDRESS:PORT"),
        (2, ["serve", "--listen", "8.8.8.8:9911"], "--allow-public"),
        (2, ["serve", "--listen", "0.0.0.0:9911"], "every address"),
        (2, ["serve", "--listen", "127.0.0.1:99999"], "1..65535"),
        (2, ["serve", "--duration", "12"], "--duration"),
        (2, ["serve", "--listen", "127.0.0.1:1", "grant", "dev"], "--listen is the server's"),
        (2, ["serve", "--duration", "900", "grant", "dev"], "--duration is the server's"),
        (2, ["serve", "grant", "team/dev"], "name it with --name"),
        (3, ["serve", "grant", "missing"], "'missing' is not in"),
        (2, ["serve", "grant", "dev", "--name", "a/b"], "grant name"),
        (2, ["serve", "grant"], "the following arguments are required"),
        (2, ["serve", "revoke", "nope"], "no grant named"),
        (2, ["serve", "env", "nope"], "no grant named"),
        (2, ["serve", "env", "dev", "--format", "xml"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_or_3(
    box: Sandbox, code: int, args: list[str], text: str
) -> None:
    _token_file(box, "dev")
    _fails(box, code, *args, text=text)


def test_env_refuses_an_address_the_sdks_refuse_and_a_profile_not_granted(box: Sandbox) -> None:
    _token_file(box, "dev")
    _fails(box, 2, "serve", "env", "dev", "--address", "172.17.0.1:9911", text="plain http")
    _fails(box, 2, "serve", "env", "dev", "--profile", "prod", text="may not read")


def test_a_broken_grants_file_or_a_granted_profile_gone_stops_the_start(box: Sandbox) -> None:
    _token_file(box, "dev")
    grants_file = box.home / ".config" / "credproc" / "serve" / "grants.json"
    good = grants_file.read_text()
    grants_file.write_text("{not json")
    _fails(box, 3, "serve", "--listen", "127.0.0.1:1", text="not a credproc grants file")
    _fails(box, 3, "serve", "list", text="not a credproc grants file")
    document = json.loads(good)
    document["grants"][0]["profiles"] = ["gone"]
    grants_file.write_text(json.dumps(document))
    _fails(box, 3, "serve", "--listen", "127.0.0.1:1", text="'gone' is not in")
