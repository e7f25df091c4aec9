"""`credproc console`: the cached role session, turned into a console sign-in link by the
federation endpoint (a stand-in on loopback: no local implementation of it exists), opened in
the browser BROWSER names or printed. Named browsers, their contexts and real browsers are in
test_console_browsers.py."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.assertions import assert_fails
from support.browser import page_follower
from support.constants import MFA_SERIAL, ROLE
from support.federation import FederationStandIn, running_federation
from support.sandbox import Sandbox

from credproc.aws import federation

NOTE = "credproc: the sign-in link signs in whoever has it for 15 minutes: do not share it\n"


@pytest.fixture
def stand_in(sandbox: Sandbox) -> Iterator[FederationStandIn]:
    with running_federation() as server:
        sandbox.env["CREDPROC_FEDERATION_URL"] = server.url
        yield server


@pytest.fixture
def browser(sandbox: Sandbox, tmp_path: Path) -> Path:
    """A BROWSER that does what a browser does with the page it is given (reads the file, goes
    to the address in it) and records its arguments, then where that address sent it."""
    record = tmp_path / "browser-args"
    sandbox.env["BROWSER"] = str(page_follower(tmp_path / "browser", record))
    sandbox.env.pop("DISPLAY", None)
    return record


def _query(link: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))


def test_print_gives_a_login_link_for_the_cached_session(
    sandbox: Sandbox, stand_in: FederationStandIn
) -> None:
    cached = sandbox.main(*sandbox.role_args()).json()

    result = sandbox.main("console", *sandbox.role_args(), "--print")

    assert result.returncode == 0, result.stderr
    assert result.stderr == NOTE
    (link,) = result.stdout.splitlines()
    assert link.startswith(stand_in.url + "?")
    assert _query(link) == {
        "Action": "login",
        "Issuer": "credproc",
        "Destination": "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1",
        "SigninToken": "signin-token-1",
    }
    assert stand_in.session() == {
        "sessionId": cached["AccessKeyId"],
        "sessionKey": cached["SecretAccessKey"],
        "sessionToken": cached["SessionToken"],
    }
    request = stand_in.requests[0]
    assert request["method"] == "POST"  # the session never travels in a URL
    assert 900 <= int(request["SessionDuration"]) <= 3600
    assert sandbox.server.calls("AssumeRole") == 1  # one STS call for the CLI and the console


@pytest.mark.integration
def test_the_browser_gets_the_link_through_a_private_page_and_nothing_secret_reaches_stderr(
    sandbox: Sandbox, stand_in: FederationStandIn, browser: Path
) -> None:
    result = sandbox.credproc("console", *sandbox.role_args(), "--destination", "s3")

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == NOTE
    page, answer = browser.read_text().splitlines()
    assert page.startswith("file:///") and "SigninToken" not in page  # argv is world-readable
    assert not Path(urllib.parse.unquote(page[len("file://") :])).exists()  # removed once read
    status, logout = answer.split(" ", 1)
    assert status == "303"
    # The browser's own context may hold anyone's session: sign out, then in.
    assert logout.startswith(stand_in.url.replace("/federation", "/oauth?"))
    assert _query(logout)["Action"] == "logout"
    link = _query(logout)["redirect_uri"]
    assert _query(link)["Destination"] == (
        "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"
    )
    assert _query(link)["SigninToken"] == "signin-token-1"


@pytest.mark.integration
def test_the_link_stays_out_of_logs(
    sandbox: Sandbox, stand_in: FederationStandIn, browser: Path, tmp_path: Path
) -> None:
    log = tmp_path / "credproc.log"

    result = sandbox.credproc("console", *sandbox.role_args(), "-v", "--log-file", str(log))

    assert result.returncode == 0, result.stderr
    told = result.stderr + log.read_text()
    assert "signing out of the browser's own context first" in told
    assert "the console opened in the default browser" in told
    assert "signin-token" not in told
    assert "SigninToken" not in told
    assert "signin-token-1" in browser.read_text()  # the browser did get it


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://eu-west-1.console.aws.amazon.com/ec2/home#Instances:", None),
        ("cloudwatch", "https://us-east-2.console.aws.amazon.com/cloudwatch/home?region=us-east-2"),
    ],
)
def test_destinations(
    sandbox: Sandbox, stand_in: FederationStandIn, given: str, expected: str | None
) -> None:
    result = sandbox.main(
        "console", *sandbox.role_args(), "--region", "us-east-2", "--destination", given, "--print"
    )

    assert result.returncode == 0, result.stderr
    assert _query(result.stdout.strip())["Destination"] == (expected or given)


def test_the_console_region_leaves_the_sts_region_and_the_cached_token_alone(
    sandbox: Sandbox, stand_in: FederationStandIn
) -> None:
    sandbox.add_profile("dev", role_arn=ROLE, source_profile="base")
    cached = sandbox.main("--profile", "dev").json()

    result = sandbox.main("console", "--profile", "dev", "--region", "ap-southeast-2", "--print")

    assert result.returncode == 0, result.stderr
    assert _query(result.stdout.strip())["Destination"] == (
        "https://ap-southeast-2.console.aws.amazon.com/console/home?region=ap-southeast-2"
    )
    assert stand_in.session()["sessionId"] == cached["AccessKeyId"]
    assert sandbox.server.calls("AssumeRole") == 1  # the CLI's token, from its STS region


def test_the_console_duration_is_bounded_by_the_session_left(
    sandbox: Sandbox, stand_in: FederationStandIn
) -> None:
    args = [*sandbox.role_args(), "--duration", "7200", "--console-duration", "43200", "--print"]
    assert sandbox.main("console", *args).returncode == 0
    assert 7000 < int(stand_in.requests[0]["SessionDuration"]) <= 7200


@pytest.mark.integration
def test_a_chained_role_sends_no_session_duration(
    sandbox: Sandbox, stand_in: FederationStandIn
) -> None:
    hub = "arn:aws:iam::123456789012:role/hub"
    sandbox.add_profile(
        "hub", credential_process=f"credproc --role-arn {hub} --source-profile base"
    )

    result = sandbox.credproc(
        "console", "--role-arn", ROLE, "--source-profile", "hub", "--print", "-v"
    )

    assert result.returncode == 0, result.stderr
    assert "SessionDuration" not in stand_in.requests[0]
    assert "a chained role" in result.stderr


def test_an_mfa_session_alone_cannot_sign_in(sandbox: Sandbox, stand_in: FederationStandIn) -> None:
    result = sandbox.main(
        "console", "--source-profile", "base", "--mfa-serial", MFA_SERIAL, "--print"
    )

    assert_fails(result, 2, "MFA session alone", "--role-arn")
    assert sandbox.server.calls() == 0
    assert stand_in.requests == []


# As processes: credproc leaves the refused answer's socket to the garbage collector, which
# pytest (filterwarnings = error) would blame on whichever test runs next in-process.
@pytest.mark.integration
@pytest.mark.parametrize(("status", "code"), [(400, 4), (403, 4), (500, 5), (503, 5)])
def test_the_federation_endpoint_refusing_or_failing(
    sandbox: Sandbox, stand_in: FederationStandIn, status: int, code: int
) -> None:
    stand_in.status = status

    result = sandbox.credproc("console", *sandbox.role_args(), "--print")

    line = assert_fails(result, code, f"HTTP {status}", "127.0.0.1")
    cached = sandbox.credproc(*sandbox.role_args()).json()
    for secret in (cached["SecretAccessKey"], cached["SessionToken"]):
        assert secret not in line


def test_a_federation_endpoint_that_is_down(sandbox: Sandbox, stand_in: FederationStandIn) -> None:
    sandbox.env["CREDPROC_FEDERATION_URL"] = "http://127.0.0.1:9/federation"

    result = sandbox.main("console", *sandbox.role_args(), "--print")

    assert_fails(result, 5, "cannot reach the federation endpoint 127.0.0.1:9")


@pytest.mark.integration
def test_a_federation_endpoint_that_drips_its_answer_is_given_up_at_the_deadline(
    sandbox: Sandbox, stand_in: FederationStandIn
) -> None:
    sandbox.credproc(*sandbox.role_args())  # the role session, cached: only the link is slow
    stand_in.drip = 1  # each read well inside the timeout; the whole answer takes over 30 s

    started = time.monotonic()
    result = sandbox.credproc("console", *sandbox.role_args(), "--print")
    took = time.monotonic() - started

    deadline = federation.TIMEOUT_SECONDS
    assert_fails(result, 5, f"did not answer getSigninToken within {deadline} s")
    # Given up on mid-answer, at any machine's speed: the stand-in saw credproc hang up.
    assert took >= deadline, took
    assert stand_in.hung_up.wait(timeout=30)
    assert len(stand_in.requests) == 1


@pytest.mark.integration
def test_no_browser_is_exit_3_suggesting_print(
    sandbox: Sandbox, stand_in: FederationStandIn, tmp_path: Path
) -> None:
    sandbox.env["BROWSER"] = str(tmp_path / "no-such-browser")
    sandbox.env.pop("DISPLAY", None)

    result = sandbox.credproc("console", *sandbox.role_args())

    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith("credproc: error: no browser")
    assert "--print" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--console-duration", "60"],
        ["--console-duration", "soon"],
        ["--destination", "not a service"],
        ["--destination", "http://example.com/"],
        ["--region", "mars"],
        ["--isolate", "tabs"],
    ],
)
def test_bad_console_options_fail_before_any_call(
    sandbox: Sandbox, stand_in: FederationStandIn, args: list[str]
) -> None:
    result = sandbox.main("console", *sandbox.role_args(), *args, "--print")

    assert_fails(result, 2)
    assert sandbox.server.calls() == 0
    assert stand_in.requests == []


@pytest.mark.parametrize(
    ("partition", "endpoint", "console"),
    [
        ("aws", "https://signin.aws.amazon.com/federation", "console.aws.amazon.com"),
        (
            "aws-us-gov",
            "https://signin.amazonaws-us-gov.com/federation",
            "console.amazonaws-us-gov.com",
        ),
        ("aws-cn", "https://signin.amazonaws.cn/federation", "console.amazonaws.cn"),
    ],
)
def test_partitions(partition: str, endpoint: str, console: str) -> None:
    role = f"arn:{partition}:iam::123456789012:role/dev"
    assert federation.partition_of(role) == partition
    assert federation.federation_url(partition, {}) == endpoint
    home = federation.destination(None, partition, "region-1")
    assert home == f"https://region-1.{console}/console/home?region=region-1"
