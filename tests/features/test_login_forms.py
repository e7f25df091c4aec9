"""An aws login profile in every form a source takes, run in this process: `env`, `doctor`,
`cache list`, `console` and completion, for the identity's own credentials and for a role
assumed with them. (Processes: test_login_source.py, which also runs exec, exec --server and
the Python API.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.federation import FederationStandIn, running_federation
from support.login import PROFILE, ROLES, configure, session
from support.sandbox import Sandbox
from support.signinserver import SignInStandIn

from credproc.cli.completion import complete


@pytest.fixture
def federation(sandbox: Sandbox) -> Iterator[FederationStandIn]:
    with running_federation() as server:
        sandbox.env["CREDPROC_FEDERATION_URL"] = server.url
        yield server


def _exported(text: str) -> dict[str, str]:
    pairs = (
        line.removeprefix("export ").split("=", 1) for line in text.splitlines() if "=" in line
    )
    return {name: value.strip("'\"") for name, value in pairs}


@pytest.mark.parametrize("profile", [PROFILE, "admin"])
def test_env_gives_the_identity_or_its_role(
    sandbox: Sandbox, signin: SignInStandIn, profile: str
) -> None:
    identity = configure(sandbox, signin)
    result = sandbox.main("env", "--profile", profile)

    assert result.returncode == 0, result.stderr
    key = _exported(result.stdout)["AWS_ACCESS_KEY_ID"]
    if profile == PROFILE:
        assert key == session(sandbox, identity)["accessToken"]["accessKeyId"]
    else:
        assert sandbox.server.signers("AssumeRole") == [
            session(sandbox, identity)["accessToken"]["accessKeyId"]
        ]
        assert key != session(sandbox, identity)["accessToken"]["accessKeyId"]


def test_doctor_checks_the_session_and_gets_the_identity(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    identity = configure(sandbox, signin, seconds_left=120)
    result = sandbox.main("doctor", "--profile", PROFILE)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = {line.split(":", 1)[0][6:]: line for line in result.stdout.splitlines()}
    assert lines["options"].startswith("ok    options: the aws login identity")
    assert f"signs in as {identity}" in lines["login session"]
    assert "m left)" in lines["login file"]
    assert lines["login renewal"].startswith("ok")
    assert lines["role"].startswith("ok    role: got the aws login identity's credentials")
    assert lines["refresh window"].startswith("ok    refresh window: 300 s")
    assert signin.count("CreateOAuth2Token") == 1  # renewed, as any use would


def test_doctor_of_a_role_from_the_session(sandbox: Sandbox, signin: SignInStandIn) -> None:
    configure(sandbox, signin)
    result = sandbox.main("doctor", "--profile", "admin")

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok    chain: admin -> {PROFILE}" in result.stdout
    assert f"role {ROLES['admin']} from the aws login identity of profile 'console'" in (
        result.stdout
    )
    assert f"ok    role: assumed {ROLES['admin']}" in result.stdout


def test_doctor_without_a_session_names_the_sign_in(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    configure(sandbox, signin)
    sandbox.add_profile("nobody", login_session="arn:aws:iam::111111111111:user/nobody")
    result = sandbox.main("doctor", "--profile", "nobody")

    assert result.returncode == 4, result.stdout
    assert "FAIL  login file: no session in" in result.stdout
    assert "run credproc login --profile nobody" in result.stdout


def test_a_profile_that_has_no_session_says_how_to_sign_in(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    configure(sandbox, signin)
    sandbox.add_profile("nobody", login_session="arn:aws:iam::111111111111:user/nobody")
    result = sandbox.main("--profile", "nobody")

    assert result.returncode == 4 and result.stdout == ""
    assert result.stderr == (
        "credproc: error: profile 'nobody' has no aws login session (signed out, or never "
        "signed in): sign in: credproc login --profile nobody; no person can sign in from here "
        "(no BROWSER, no display, no terminal)\n"
    )
    assert signin.count("CreateOAuth2Token") == 0


@pytest.mark.parametrize(
    ("keys", "words"),
    [
        ({"login_session": "me"}, "is not the ARN of an IAM identity"),
        ({"login_session": " "}, "login_session is empty"),
        ({"login_session": "arn:aws:iam::111111111111:user/x", "region": "moon"}, "not a region"),
    ],
)
def test_a_malformed_login_profile_is_a_config_error(
    sandbox: Sandbox, keys: dict[str, str], words: str
) -> None:
    sandbox.add_profile("bad", **keys)
    result = sandbox.main("--profile", "bad")
    assert result.returncode == 3 and words in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--role-arn", ROLES["admin"]], "give --role-arn with --source-profile console"),
        (["--duration", "900"], "--duration (or its profile key) does not apply"),
        (["--mfa-serial", "arn:aws:iam::111111111111:mfa/me"], "--mfa-serial"),
        (["--refresh-window", "900"], "must be below 900 s"),
    ],
)
def test_options_that_would_be_ignored_are_refused(
    sandbox: Sandbox, signin: SignInStandIn, extra: list[str], words: str
) -> None:
    configure(sandbox, signin)
    result = sandbox.main("--profile", PROFILE, *extra)
    assert result.returncode == 2 and words in result.stderr, result.stderr
    assert signin.count("CreateOAuth2Token") == 0


def test_mfa_on_a_role_from_the_session_is_refused_before_any_call(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    configure(sandbox, signin, seconds_left=60)  # due: yet no renewal for a refused request
    result = sandbox.main("--profile", "admin", "--mfa-serial", "arn:aws:iam::111111111111:mfa/me")
    assert result.returncode == 3 and result.stdout == ""
    assert "gives temporary (aws login session) credentials" in result.stderr
    assert signin.count("CreateOAuth2Token") == 0 and sandbox.server.calls("AssumeRole") == 0


def test_console_signs_in_a_role_from_the_session(
    sandbox: Sandbox, signin: SignInStandIn, federation: FederationStandIn
) -> None:
    configure(sandbox, signin)
    result = sandbox.main("console", "--profile", "admin", "--print")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(federation.url + "?")
    [assumed] = sandbox.server.signers("AssumeRole")
    assert federation.session()["sessionId"] != assumed  # the role's session, not the identity's
    identity = sandbox.main("console", "--profile", PROFILE, "--print")
    assert identity.returncode == 2 and identity.stdout == ""
    assert "name a role with --role-arn and --source-profile console" in identity.stderr


def test_completion_offers_login_profiles(sandbox: Sandbox, signin: SignInStandIn) -> None:
    configure(sandbox, signin)
    words = [c.word for c in complete(["--profile", "co"], sandbox.env).words]
    assert words == [PROFILE]
    words = [c.word for c in complete(["--source-profile", "co"], sandbox.env).words]
    assert words == [PROFILE]
