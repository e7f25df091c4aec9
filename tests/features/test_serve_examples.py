"""The examples for `credproc serve` say what `credproc serve env` says: the devcontainer, the
compose file and the systemd unit point at the address and token file a grant really has."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # PyYAML, with moto[server]: no stubs
from support.constants import ROLE
from support.sandbox import Sandbox

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ADDRESS = "169.254.170.2:9911"


def _granted(sandbox: Sandbox) -> dict[str, str]:
    sandbox.add_profile("dev", role_arn=ROLE, source_profile="base")
    assert sandbox.main("serve", "grant", "dev").returncode == 0
    env = sandbox.main("serve", "env", "dev", "--address", ADDRESS)
    assert env.returncode == 0, env.stderr
    return dict(line.split("=", 1) for line in env.stdout.splitlines())


def test_the_devcontainer_mounts_the_grants_token_file_and_names_its_url(sandbox: Sandbox) -> None:
    variables = _granted(sandbox)
    document = json.loads((EXAMPLES / "devcontainer" / "devcontainer.json").read_text())
    env = document["containerEnv"]
    assert (
        env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == variables["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
    )
    (mount,) = document["mounts"]
    items = mount.split(",")
    fields = dict(item.split("=", 1) for item in items if "=" in item)
    assert fields["target"] == env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
    source = fields["source"].replace("${localEnv:HOME}", str(sandbox.home))
    assert source == variables["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]
    assert fields["type"] == "bind"
    assert "readonly" in items


def test_the_compose_file_has_serve_envs_lines(sandbox: Sandbox) -> None:
    _granted(sandbox)
    printed = sandbox.main("serve", "env", "dev", "--address", ADDRESS, "--format", "compose")
    expected = yaml.safe_load(printed.stdout)
    text = (EXAMPLES / "compose.yaml").read_text().replace("${HOME}", str(sandbox.home))
    service = yaml.safe_load(text)["services"]["app"]
    environment = {k: v for k, v in service["environment"].items() if k != "AWS_REGION"}
    assert environment == expected["environment"]
    assert service["volumes"] == expected["volumes"]


def test_the_systemd_unit_serves_on_169_254_170_2_and_reloads_on_hup() -> None:
    lines = (EXAMPLES / "credproc-serve.service").read_text().splitlines()
    keys = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    start = shlex.split(keys["ExecStart"])
    assert start[0].endswith("/credproc")
    assert start[1:] == ["serve", "--listen", ADDRESS, "--listen", "127.0.0.1:9911"]
    assert keys["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert keys["KillSignal"] == "SIGTERM"
