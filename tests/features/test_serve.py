"""`credproc serve`: a container gets the profiles its grant names, and nothing else.

The container is real at the network level: a network namespace of the test's own, joined to
another (the "host", where credproc serve and moto run) by a veth pair, reaching the server at
169.254.170.2 (support/netns.py). Inside it run boto3, the aws CLI and the JS SDK v3, with
only AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE; STS calls
are counted at moto."""

from __future__ import annotations

import io
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from support.constants import BIN, MFA_SERIAL, OTHER_ROLE, ROLE
from support.netns import Lab
from support.sandbox import Sandbox
from support.serving import (
    PORT,
    Server,
    client,
    container_env,
    grant,
    in_container,
    serving_dev,
)
from support.tools import require, require_path

pytestmark = pytest.mark.integration

JS = Path(__file__).resolve().parents[1] / "js"
# 900 s tokens, refreshed with 855 s left: each lives 45 s as "fresh", so one refresh falls
# inside a soak of SOAK seconds that starts just after the first fetch, and a second cannot
# (it would come 90 s after the first fetch).
SHORT = ("--duration", "900", "--refresh-window", "855")
SOAK = 60.0
CONTAINERS = 20


@pytest.fixture
def lab() -> Iterator[Lab]:
    with Lab() as made:
        yield made


def profiles(sandbox: Sandbox) -> None:
    sandbox.add_profile("dev", role_arn=ROLE, source_profile="base", region="eu-west-1")
    sandbox.add_profile("other", role_arn=OTHER_ROLE, source_profile="base", region="eu-west-1")


def test_boto3_the_aws_cli_and_the_js_sdk_in_a_container_get_the_granted_profile(
    lab: Lab, sandbox: Sandbox, tmp_path: Path
) -> None:
    profiles(sandbox)
    dev_token = grant(sandbox, "dev")
    other_token = grant(sandbox, "other", "--name", "ci", "--out", str(tmp_path / "ci.token"))
    home = tmp_path / "container"
    home.mkdir()
    with lab.sts_server() as sts:
        sandbox.env["AWS_ENDPOINT_URL"] = sts.url
        with Server(lab, sandbox) as server:
            env = container_env(sts, home, "dev", dev_token)
            boto3 = in_container(lab, env, "identity")
            aws = lab.run(
                lab.container,
                ["aws", "sts", "get-caller-identity", "--query", "Arn", "--output", "text"],
                env,
            )
            require("node", "nodejs")
            require_path(JS / "node_modules", "npm ci --prefix tests/js")
            node = lab.run(lab.container, ["node", str(JS / "caller.js")], env)

            assert ":assumed-role/dev/" in str(boto3.get("arn")), (boto3, server.log)
            assert aws.returncode == 0, aws.stderr
            assert aws.stdout.strip() == boto3["arn"]
            assert node.returncode == 0, node.stderr
            assert json.loads(node.stdout) == {"arn": boto3["arn"], "key": boto3["key"]}
            assert sts.roles_assumed() == {ROLE: 1}  # three clients, one STS call
            signers = set(sts.signers("GetCallerIdentity"))
            assert signers == {boto3["key"]}  # each signed with the dev role's token

            # Another profile's grant, no token, a wrong one: the protocol's refusals.
            refusals = {
                "other grant": container_env(sts, home, "dev", other_token),
                "no token": container_env(sts, home, "dev", None),
            }
            wrong = tmp_path / "wrong.token"
            wrong.write_text("not-a-token")
            refusals["wrong token"] = container_env(sts, home, "dev", wrong)
            answers = {why: in_container(lab, e, "fetch") for why, e in refusals.items()}
            assert answers["other grant"]["status"] == 403
            assert answers["no token"]["status"] == 401
            assert answers["wrong token"]["status"] == 403
            for answer in answers.values():
                assert set(answer["body"]) == {"Code", "Message"}
            refused = in_container(lab, refusals["other grant"], "identity")
            assert "error" in refused
            granted = in_container(lab, container_env(sts, home, "other", other_token), "fetch")
            assert granted["status"] == 200
            # A name in Host (DNS rebinding: a page's own name, resolved to this machine).
            rebound = in_container(lab, env, "fetch", "evil.example:9911")
            assert (rebound["status"], rebound["body"]["Code"]) == (403, "HostNotAllowed")

            # Revoked: refused at its next fetch, no restart. A container may still hold the
            # token (its mount keeps the removed file), so it is sent again.
            held = tmp_path / "held.token"
            held.write_text(dev_token.read_text())
            assert sandbox.credproc("serve", "revoke", "dev").returncode == 0
            assert not dev_token.exists()
            revoked = in_container(lab, container_env(sts, home, "dev", held), "fetch")
            assert revoked["status"] == 403
            assert sts.roles_assumed() == {ROLE: 1, OTHER_ROLE: 1}
            assert server.stop(signal.SIGINT) == 0

    log = server.log
    assert "refused: unknown or revoked token" in log
    assert "refused: no token" in log
    assert " GET /credentials/dev 200 dev " in log
    assert other_token.read_text() not in log
    assert granted["body"]["SecretAccessKey"] not in log
    assert granted["body"]["Token"] not in log
    assert " GET /credentials/dev 403 bad-host " in log
    assert held.read_text() not in log


def test_twenty_containers_through_one_refresh_make_one_sts_call_per_role(
    lab: Lab, sandbox: Sandbox, tmp_path: Path
) -> None:
    profiles(sandbox)
    tokens = {"dev": grant(sandbox, "dev"), "other": grant(sandbox, "other")}
    home = tmp_path / "container"
    home.mkdir()
    with lab.sts_server() as sts:
        sandbox.env["AWS_ENDPOINT_URL"] = sts.url
        with Server(lab, sandbox, *SHORT):
            envs = [
                container_env(sts, home, name, tokens[name])
                for name in ("dev", "other")
                for _ in range(CONTAINERS // 2)
            ]
            for env in envs[:: CONTAINERS // 2]:  # the first token of each role
                assert in_container(lab, env, "fetch")["status"] == 200
            assert sts.roles_assumed() == {ROLE: 1, OTHER_ROLE: 1}
            soakers = [lab.popen(lab.container, client("soak", str(SOAK), "0.2"), e) for e in envs]
            results = []
            for soaker in soakers:
                out, err = soaker.communicate(timeout=SOAK + 120)
                assert soaker.returncode == 0, err
                results.append(json.loads(out))
            counts = sts.roles_assumed()

    total = sum(result["fetches"] for result in results)
    print(f"soak: {CONTAINERS} containers, {total} fetches in {SOAK:g} s, AssumeRole {counts}")
    assert sum(result["failures"] for result in results) == 0, [r["errors"] for r in results]
    assert all(result["fetches"] > 0 for result in results)
    # Exactly one refresh per role inside the soak: each container saw the first token and
    # the refreshed one, and moto one more AssumeRole per role.
    assert counts == {ROLE: 2, OTHER_ROLE: 2}
    for result in results:
        assert len(result["keys"]) == 2, result
    dev_keys = {key for result in results[: CONTAINERS // 2] for key in result["keys"]}
    other_keys = {key for result in results[CONTAINERS // 2 :] for key in result["keys"]}
    assert len(dev_keys) == len(other_keys) == 2
    assert not dev_keys & other_keys


def test_a_server_killed_and_restarted_serves_the_clients_next_fetch(
    lab: Lab, sandbox: Sandbox, tmp_path: Path
) -> None:
    profiles(sandbox)
    token = grant(sandbox, "dev")
    home = tmp_path / "container"
    home.mkdir()
    with lab.sts_server() as sts:
        sandbox.env["AWS_ENDPOINT_URL"] = sts.url
        with Server(lab, sandbox) as server:
            env = container_env(sts, home, "dev", token)
            watcher = lab.popen(lab.container, client("watch", "0.2"), env)
            assert watcher.stdout is not None
            try:
                first = json.loads(watcher.stdout.readline())
                assert first["ok"], first
                server.process.kill()
                server.process.wait(60)
                while json.loads(watcher.stdout.readline())["ok"]:
                    pass  # until a fetch meets the dead server
                server.restart()
                while not (after := json.loads(watcher.stdout.readline()))["ok"]:
                    pass
            finally:
                watcher.kill()
                watcher.communicate(timeout=60)
            assert server.stop() == 0
        assert sts.roles_assumed() == {ROLE: 1}

    assert after["key"] == first["key"]  # the cache outlived the server


def test_sighup_reads_the_grants_again_and_health_tells_nothing_secret(
    lab: Lab, sandbox: Sandbox, tmp_path: Path
) -> None:
    profiles(sandbox)
    home = tmp_path / "container"
    home.mkdir()
    with lab.sts_server() as sts:
        sandbox.env["AWS_ENDPOINT_URL"] = sts.url
        with Server(lab, sandbox) as server:
            assert "0 grant(s)" in server.log
            token = grant(sandbox, "dev")  # made while it runs: read at the next request
            env = container_env(sts, home, "dev", token)
            assert in_container(lab, env, "fetch")["status"] == 200
            server.process.send_signal(signal.SIGHUP)
            assert "grants read again: 1" in server.wait_for("grants read again")
            health = {
                **env,
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://169.254.170.2:{PORT}/health",
            }
            answer = in_container(
                lab, {**health, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": ""}, "fetch"
            )
            assert answer["status"] == 200
            assert answer["body"] == {"status": "ok", "service": "credproc serve"}
            assert server.stop() == 0


def test_an_address_not_on_this_host_is_one_line_and_exit_3(lab: Lab, sandbox: Sandbox) -> None:
    # In the container's namespace, 169.254.170.2 is the other end's address, not its own.
    argv = [str(BIN / "credproc"), "serve", "--listen", f"169.254.170.2:{PORT}"]
    done = lab.run(lab.container, argv, sandbox.env)
    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr == (
        f"credproc: error: cannot listen on 169.254.170.2:{PORT}: Cannot assign requested "
        "address (is the address on an interface here?)\n"
    )


def test_an_mfa_code_is_asked_once_at_the_host_for_every_waiting_container(
    lab: Lab, sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.add_profile(
        "mfa", role_arn=ROLE, source_profile="base", mfa_serial=MFA_SERIAL, region="eu-west-1"
    )
    token = grant(sandbox, "mfa")
    home = tmp_path / "container"
    home.mkdir()
    prompt = f"credproc: MFA code for {MFA_SERIAL}: "
    with lab.sts_server() as sts:
        sandbox.env["AWS_ENDPOINT_URL"] = sts.url
        argv = lab.command(lab.host, ["credproc", "serve", "--listen", f"169.254.170.2:{PORT}"])
        # The server on a terminal of its own (pexpect's), as a person at the host runs it.
        server = pexpect.spawn(
            argv[0], argv[1:], env=sandbox.env, cwd=str(sandbox.home), encoding="utf-8", timeout=60
        )
        transcript = io.StringIO()
        server.logfile_read = transcript
        try:
            server.expect("listening on")
            env = container_env(sts, home, "mfa", token)
            fetchers = [lab.popen(lab.container, client("fetch"), env) for _ in range(5)]
            server.expect_exact(prompt)
            server.sendline("123456")
            answers = []
            for fetcher in fetchers:
                out, err = fetcher.communicate(timeout=60)
                assert fetcher.returncode == 0, err
                answers.append(json.loads(out))
            server.expect(" GET /credentials/mfa 200 mfa ")
            server.kill(signal.SIGTERM)
            server.expect(pexpect.EOF)
        finally:
            server.close(force=True)
        codes = [request["TokenCode"] for request in sts.requests("GetSessionToken")]
        assert sts.roles_assumed() == {ROLE: 1}

    assert [answer["status"] for answer in answers] == [200] * 5
    assert len({answer["body"]["AccessKeyId"] for answer in answers}) == 1
    assert codes == ["123456"]  # one code, typed once, for every container
    assert transcript.getvalue().count(prompt) == 1  # asked once, at the host


def test_a_token_is_refreshed_ahead_with_no_container_asking(
    lab: Lab, sandbox: Sandbox, tmp_path: Path
) -> None:
    # Fresh for 3 s: then due, and the server refreshes it on its own.
    ahead = ("--duration", "900", "--refresh-window", "897", "-v")
    with serving_dev(lab, sandbox, tmp_path, *ahead) as (sts, server, env):
        first = in_container(lab, env, "fetch")
        server.wait_for("new token from STS")  # the first fetch's
        server.wait_for("new token from STS")  # nobody asked for this one
        refreshed = sts.roles_assumed()[ROLE]
        issued = list(sts.issued())
        assert server.stop() == 0

    assert refreshed >= 2
    assert first["body"]["AccessKeyId"] == issued[0]
    assert len(issued) >= 2  # a second token, with no fetch after the first
