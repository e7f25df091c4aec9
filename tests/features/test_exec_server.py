"""`credproc exec --server -- COMMAND`: the command's SDKs get the role from a local endpoint
that answers from credproc's cache and lock, and keeps answering after the token is due.

The command is a real boto3 program (tests/support/endpoint_child.py), the real aws CLI or
the real JS SDK v3; credproc and moto are real processes; STS calls are counted at moto."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.assertions import assert_warns
from support.constants import BASE_KEY_ID, BASE_SECRET, BIN, ROLE
from support.endpoint import Served
from support.sandbox import Sandbox
from support.tools import require, require_path

pytestmark = pytest.mark.integration

JS = Path(__file__).resolve().parents[1] / "js"
# In the parent's environment, each would win over the endpoint in the command's SDKs.
WINNERS = {
    "AWS_PROFILE": "dev",
    "AWS_DEFAULT_PROFILE": "dev",
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7OTHERS1",
    "AWS_SECRET_ACCESS_KEY": "not-the-role",
    "AWS_SESSION_TOKEN": "not-the-role",
    "AWS_CREDENTIAL_EXPIRATION": "2030-01-01T00:00:00Z",
    "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/web",
    "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/token",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/nonexistent/token",
}


def cached_key(sandbox: Sandbox, *extra: str) -> str:
    """The access key id credproc's cache holds for the role (a cache hit: no STS call)."""
    result = sandbox.credproc(*sandbox.role_args(ROLE, *extra))
    assert result.returncode == 0, result.stderr
    key: str = result.json()["AccessKeyId"]
    return key


def test_boto3_in_the_command_gets_the_role_and_a_due_token_is_replaced(sandbox: Sandbox) -> None:
    # 900 s tokens: botocore (which refreshes with 15 minutes left) asks the endpoint at every
    # call, so what the command uses is whatever the endpoint serves at that moment.
    args = sandbox.role_args(ROLE, "--duration", "900")
    with Served(sandbox, *args, env=WINNERS) as served:
        endpoint = served.endpoint
        first = served.ask("call")
        assert ":assumed-role/dev/" in first["arn"]
        assert first["key"] == cached_key(sandbox, "--duration", "900")
        assert sandbox.server.calls("AssumeRole") == 1

        sandbox.expire_entries(seconds_left=400)  # inside the refresh window (450 s for 900)
        second = served.ask("call")
        result = served.finish()

    assert second["key"] != first["key"]
    assert second["key"] == cached_key(sandbox, "--duration", "900")
    assert second["pid"] == first["pid"] == endpoint["pid"]  # the same command, never restarted
    assert sandbox.server.calls("AssumeRole") == 2
    assert result.returncode == 0
    assert result.stderr == ""

    assert endpoint["url"].startswith("http://127.0.0.1:")
    assert endpoint["url"].endswith("/credentials")
    assert len(endpoint["token"]) >= 43  # 32 random bytes, URL-safe base64
    variables = endpoint["variables"]
    assert sorted(set(WINNERS) & set(variables)) == []
    assert variables["AWS_REGION"] == variables["AWS_DEFAULT_REGION"] == "eu-west-1"


def test_each_run_gets_its_own_token_and_port(sandbox: Sandbox) -> None:
    with Served(sandbox, *sandbox.role_args()) as one, Served(sandbox, *sandbox.role_args()) as two:
        assert one.endpoint["token"] != two.endpoint["token"]
        assert one.endpoint["url"] != two.endpoint["url"]
        assert one.request([two.endpoint["token"]])[0] == 403
        assert one.finish().returncode == two.finish().returncode == 0


def test_the_aws_cli_in_the_command_gets_the_role_and_a_due_token_is_replaced(
    sandbox: Sandbox,
) -> None:
    identity = "aws sts get-caller-identity --query Arn --output text"
    script = f"{identity} && read go && {identity}"
    with Served(sandbox, *sandbox.role_args(), command=["sh", "-c", script]) as served:
        first = served.line()
        assert sandbox.server.calls("AssumeRole") == 1
        sandbox.expire_entries(seconds_left=600)  # due: less than the 900 s window left
        served.send("go")
        second = served.line()
        result = served.finish("")

    assert result.returncode == 0, result.stderr
    assert first.startswith("arn:aws:sts::123456789012:assumed-role/dev/")
    assert second == first
    assert sandbox.server.calls("AssumeRole") == 2  # the second aws run got a new token
    assert sandbox.server.calls("GetCallerIdentity") == 2


def test_the_js_sdk_in_the_command_gets_the_role(sandbox: Sandbox) -> None:
    require("node", "nodejs")
    require_path(JS / "node_modules", "npm ci --prefix tests/js")
    command = ["node", str(JS / "caller.js")]
    result = sandbox.credproc("exec", "--server", *sandbox.role_args(), "--", *command)

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["arn"].startswith("arn:aws:sts::123456789012:assumed-role/dev/")
    assert document["key"] == cached_key(sandbox)
    assert sandbox.server.calls("AssumeRole") == 1


def test_parallel_requests_for_a_due_token_make_one_sts_call(sandbox: Sandbox) -> None:
    with Served(sandbox, *sandbox.role_args()) as served:
        before = served.sdk_credentials()
        sandbox.expire_entries(seconds_left=600)
        sandbox.server.fault("AssumeRole", delay=1)  # the refresh is slow: the others queue
        with ThreadPoolExecutor(16) as pool:
            got = list(pool.map(lambda _: served.sdk_credentials(), range(16)))
        result = served.finish()

    assert {credentials.access_key for credentials in got} == {cached_key(sandbox)}
    assert got[0].access_key != before.access_key
    assert sandbox.server.calls("AssumeRole") == 2  # one at the start, one for all sixteen
    assert result.returncode == 0
    assert result.stderr == ""


def test_a_failed_refresh_serves_the_token_that_still_lives(sandbox: Sandbox) -> None:
    with Served(sandbox, *sandbox.role_args()) as served:
        before = served.sdk_credentials()
        sandbox.expire_entries(seconds_left=600)
        sandbox.server.fault("AssumeRole", status=503)
        during = [served.sdk_credentials() for _ in range(5)]
        outage = sandbox.server.calls("AssumeRole") - 1
        result = served.finish()

    assert {credentials.access_key for credentials in during} == {before.access_key}
    # One refresh's retries, not one round per request: the requests that follow a failed
    # refresh are served from the cache for a while (botocore asks at every call by now).
    assert outage == 3
    assert_warns(result, "serving the cached token")


def test_an_error_while_serving_goes_to_the_sdk_and_the_command_keeps_running(
    sandbox: Sandbox,
) -> None:
    with Served(sandbox, *sandbox.role_args()) as served:
        token = served.endpoint["token"]
        sandbox.expire_entries(seconds_left=30)  # too little left to serve during an outage
        sandbox.server.fault("AssumeRole", status=403, code="AccessDenied")
        refused = [served.request([token]) for _ in range(3)]  # as an SDK retries
        failed = served.ask("call fresh")  # as a new process would: its first token
        sandbox.server.clear_faults()
        recovered = served.ask("call fresh")
        result = served.finish()

    for status, body in refused:
        assert status == 500
        problem = json.loads(body)
        assert set(problem) == {"Code", "Message"}
        assert problem["Code"] == "AuthError"
        assert problem["Message"].startswith("STS denied AssumeRole")
        assert "\n" not in problem["Message"]
        assert "AccessKeyId" not in body
    assert "STS denied AssumeRole" in failed.get("error", ""), failed  # botocore says
    assert recovered["key"] == cached_key(sandbox)
    assert result.returncode == 0
    # Said once on credproc's stderr (the JS SDK shows the command only a status).
    assert_warns(result, "could not give the command credentials", "STS denied AssumeRole")


AUTHORIZATION_CASES = {
    "missing": (None, 401),
    "empty": ([""], 401),
    "blank": (["   "], 401),
    "wrong": (["wrong"], 403),
    "token with more": (["{token}x"], 403),
    "a prefix of the token": (["{token_prefix}"], 403),
    "bearer": (["Bearer {token}"], 403),
    "twice": (["{token}", "{token}"], 403),
}


def test_requests_without_exactly_the_token_get_no_credentials(sandbox: Sandbox) -> None:
    with Served(sandbox, *sandbox.role_args()) as served:
        token = served.endpoint["token"]
        answers = {}
        for name, (headers, _) in AUTHORIZATION_CASES.items():
            given = [h.format(token=token, token_prefix=token[:-1]) for h in headers or []]
            answers[name] = served.request(given if headers is not None else None)
        wrong_use = {
            "POST": served.request([token], method="POST"),
            "PUT": served.request([token], method="PUT"),
            "DELETE": served.request([token], method="DELETE"),
            "HEAD": served.request([token], method="HEAD"),
            "another path": served.request([token], path="/"),
            "a query": served.request([token], path="/credentials?role=admin"),
            "a longer path": served.request([token], path="/credentials/admin"),
        }
        status, body = served.request([token])
        result = served.finish()

    for name, (_, expected) in AUTHORIZATION_CASES.items():
        assert answers[name][0] == expected, name
        assert "AccessKeyId" not in answers[name][1], name
    assert {name: answer[0] for name, answer in wrong_use.items()} == {
        "POST": 405,
        "PUT": 405,
        "DELETE": 405,
        "HEAD": 405,
        "another path": 404,
        "a query": 404,
        "a longer path": 404,
    }
    assert all("AccessKeyId" not in answer[1] for answer in wrong_use.values())
    assert status == 200
    document = json.loads(body)
    assert list(document) == ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"]
    assert document["AccessKeyId"] == cached_key(sandbox)
    assert sandbox.server.calls("AssumeRole") == 1
    assert result.returncode == 0
    assert result.stderr == ""


def test_a_default_profile_with_credentials_is_named_before_the_command_runs(
    sandbox: Sandbox,
) -> None:
    (sandbox.home / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {BASE_KEY_ID}\naws_secret_access_key = {BASE_SECRET}\n"
    )
    code = "import boto3; print(boto3.Session().client('sts').get_caller_identity()['Arn'])"
    result = sandbox.credproc(
        "exec", "--server", *sandbox.role_args(), "--", str(BIN / "python"), "-c", code
    )

    line = assert_warns(result, "[default] profile has aws_access_key_id", "credentials")
    assert "move them to a named profile" in line
    # The warning is true: a bare session in the command took [default]'s keys, not the role.
    assert "assumed-role" not in result.stdout
    assert BASE_SECRET not in result.stderr


def test_a_proxy_never_sees_the_endpoint(sandbox: Sandbox) -> None:
    # A dead proxy: anything sent through it fails. Warm the cache without it first, since
    # credproc's own STS calls go through a proxy like any client's.
    cached_key(sandbox)
    dead = {"HTTP_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}
    with Served(sandbox, *sandbox.role_args(), env={**dead, "NO_PROXY": "example.com"}) as served:
        variables = served.endpoint["variables"]
        called = served.ask("call")
        result = served.finish()

    assert variables["NO_PROXY"] == "example.com,127.0.0.1"
    assert variables["no_proxy"] == "127.0.0.1"
    assert called["key"] == cached_key(sandbox)
    assert result.returncode == 0, result.stderr


def test_with_server_credproc_stays_the_parent(sandbox: Sandbox) -> None:
    plain = sandbox.popen("exec", *sandbox.role_args(), "--", "sh", "-c", "echo $$")
    served = sandbox.popen("exec", "--server", *sandbox.role_args(), "--", "sh", "-c", "echo $PPID")

    assert int(plain.communicate(timeout=60)[0]) == plain.pid  # it became the command
    assert int(served.communicate(timeout=60)[0]) == served.pid  # it runs the command
