"""The endpoint of `credproc exec --server` under attack: its token and the credentials it
serves reach no command line, log, error or other user; other local users, who can connect
to any loopback port, get nothing without the token and cannot read it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support.endpoint import Served
from support.leaks import Secrets, all_argv
from support.processes import wait_for_calls
from support.sandbox import Sandbox
from support.tools import require

pytestmark = pytest.mark.integration

NOBODY = 65534


def test_no_secret_in_argv_logs_errors_or_answers_to_strangers(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    secrets = Secrets()
    log = tmp_path / "credproc.core.log"
    loud = ["-v", "--debug", "--log-file", str(log)]
    with Served(sandbox, *sandbox.role_args(), *loud) as served:
        token = served.endpoint["token"]
        secrets.learn_secret(token)
        status, body = served.request([token])
        assert status == 200
        secrets.learn(json.loads(body))
        secrets.capture("argv while serving", all_argv())

        # A refresh in the endpoint, slowed down: every secret is loaded while argv is read.
        sandbox.expire_entries(seconds_left=600)
        sandbox.server.fault("AssumeRole", delay=2)
        served.send("call fresh")
        wait_for_calls(sandbox, "AssumeRole", 2)
        secrets.capture("argv during a refresh for the endpoint", all_argv())
        assert "key" in served.answer()
        secrets.learn(json.loads(served.request([token])[1]))

        # Refusals, a failed refresh, an STS refusal: every answer that is not credentials.
        for headers in ([], ["wrong"], [token[:-1]], [token, token]):
            secrets.capture(f"a refusal of {headers!r}", str(served.request(headers)))
        secrets.capture("another method", str(served.request([token], method="POST")))
        sandbox.expire_entries(seconds_left=30)
        sandbox.server.fault("AssumeRole", status=403, code="AccessDenied")
        secrets.capture("an STS refusal", str(served.request([token])))
        secrets.capture("what botocore told the command", str(served.ask("call fresh")))
        result = served.finish()

    secrets.capture("credproc's stderr", result.stderr)
    secrets.capture("the log file", log.read_text())
    assert "endpoint: " in log.read_text()  # the log did record the requests
    assert "Authorization" not in log.read_text() + result.stderr
    secrets.assert_none_leaked()


def test_another_local_user_gets_nothing(sandbox: Sandbox) -> None:
    if os.geteuid() != 0:
        pytest.skip("acting as another local user needs root")
    bash = require("bash")
    with Served(sandbox, *sandbox.role_args()) as served:
        endpoint = served.endpoint
        url = urlsplit(endpoint["url"])

        def as_nobody(script: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [bash, "-c", script],
                user=NOBODY,
                group=NOBODY,
                extra_groups=[],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                cwd="/",
                env={"PATH": "/usr/bin:/bin"},
            )

        # The token lives in the command's environment: readable by its user and root only.
        environments = [f"/proc/{pid}/environ" for pid in (endpoint["pid"], served.pid)]
        read = as_nobody(" ; ".join(f"cat {path}" for path in environments))
        # Any local user can connect: without the token there is nothing to get.
        request = f"GET {url.path} HTTP/1.0\\r\\nHost: {url.netloc}\\r\\n\\r\\n"
        connect = as_nobody(
            f'exec 3<>/dev/tcp/{url.hostname}/{url.port}; printf "{request}" >&3; cat <&3'
        )
        arguments = as_nobody(f"cat /proc/{endpoint['pid']}/cmdline /proc/{served.pid}/cmdline")
        result = served.finish()

    assert read.stdout == ""
    assert read.stderr.count("Permission denied") == 2
    assert connect.stdout.startswith("HTTP/1.0 401 ")
    assert "AccessKeyId" not in connect.stdout
    assert "exec" in arguments.stdout  # their command lines are public, and hold no token
    assert endpoint["token"] not in arguments.stdout
    assert result.returncode == 0
