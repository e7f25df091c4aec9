"""An aws login session as a source, through credproc's processes: the identity's own
credentials (``credproc --profile`` of a ``login_session`` profile) and roles assumed with
them, the session renewed once under credproc's lock, shared with botocore and the aws CLI both
ways. Every count is taken at the servers (the Sign-In stand-in, moto's STS)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from support.assertions import assert_fails
from support.constants import BIN
from support.endpoint import Served
from support.login import PROFILE, ROLES, age_session, configure, session, session_path
from support.processes import wait_all
from support.sandbox import Sandbox
from support.signinserver import SignInStandIn

pytestmark = pytest.mark.integration


def test_the_identity_itself_then_a_hit(sandbox: Sandbox, signin: SignInStandIn) -> None:
    identity = configure(sandbox, signin)
    first = sandbox.credproc("--profile", PROFILE)
    second = sandbox.credproc("--profile", PROFILE)

    assert first.returncode == 0, first.stderr
    assert first.stderr == "" and second.stdout == first.stdout
    assert first.json()["AccessKeyId"] == session(sandbox, identity)["accessToken"]["accessKeyId"]
    assert signin.count("CreateOAuth2Token") == 0  # 15 minutes left: nothing to renew


def test_a_session_near_its_end_is_renewed_once_and_written_privately(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    identity = configure(sandbox, signin, seconds_left=120)
    before = session(sandbox, identity)
    result = sandbox.credproc("--profile", PROFILE)

    assert result.returncode == 0, result.stderr
    after = session(sandbox, identity)
    assert after["refreshToken"] != before["refreshToken"]
    assert result.json()["AccessKeyId"] == after["accessToken"]["accessKeyId"]
    assert signin.issued_keys[result.json()["AccessKeyId"]] == identity
    assert list(after) == list(before) and after["dpopKey"] == before["dpopKey"]
    assert stat.S_IMODE(session_path(sandbox, identity).stat().st_mode) == 0o600
    assert signin.count("CreateOAuth2Token:refresh_token") == 1
    assert signin.count("BadProof") == 0


def test_a_role_from_the_session(sandbox: Sandbox, signin: SignInStandIn) -> None:
    identity = configure(sandbox, signin)
    runs = [sandbox.credproc("--profile", "admin") for _ in range(3)]
    direct = sandbox.credproc("--profile", PROFILE)

    assert all(run.returncode == 0 for run in runs), runs[0].stderr
    [signer] = sandbox.server.signers("AssumeRole")
    assert signin.issued_keys[signer] == identity  # signed with the identity's credentials
    assert direct.json()["AccessKeyId"] == signer  # cached under the identity's own key
    rows = {
        row["role"]: row["source"]
        for row in sandbox.credproc("cache", "list", "--json").json_list()
    }
    assert rows == {ROLES["admin"]: PROFILE, f"aws login {identity}": "aws login session"}


def test_thirty_processes_on_three_roles_make_one_refresh(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    identity = configure(sandbox, signin, seconds_left=60)
    before = session(sandbox, identity)["refreshToken"]
    processes = [
        sandbox.popen("--profile", name, start_new_session=True)
        for _ in range(10)
        for name in ROLES
    ]
    results = wait_all(processes, timeout=180)

    failed = [r.stderr for r in results if r.returncode]
    assert not failed, failed[0]
    assert signin.count("CreateOAuth2Token") == 1
    assert len(sandbox.server.signers("AssumeRole")) == 3  # one per role
    assert session(sandbox, identity)["refreshToken"] != before
    assert signin.count("BadProof") == 0


def test_the_aws_cli_and_boto3_through_credential_process(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    identity = configure(sandbox, signin, seconds_left=120)
    sandbox.add_profile(
        "admin-cp", credential_process=f"{BIN / 'credproc'} --profile admin", region="eu-west-1"
    )
    cli = sandbox.run([str(BIN / "aws"), "sts", "get-caller-identity", "--profile", "admin-cp"])
    code = (
        "import boto3\n"
        "print(boto3.Session(profile_name='admin-cp').get_credentials()"
        ".get_frozen_credentials().access_key)\n"
    )
    boto = sandbox.run([str(BIN / "python"), "-c", code])

    assert cli.returncode == 0, cli.stderr
    assert boto.returncode == 0, boto.stderr
    [assumed] = sandbox.server.signers("AssumeRole")
    assert signin.issued_keys[assumed] == identity
    [called] = sandbox.server.signers("GetCallerIdentity")
    assert called == boto.stdout.strip()  # the role's token, from credproc's cache both times
    assert signin.count("CreateOAuth2Token") == 1


def test_botocore_and_the_aws_cli_use_the_session_credproc_renewed(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    """The file credproc wrote is the CLI's: the aws CLI (botocore's LoginProvider, which
    renews it itself at 5 minutes left) signs with it, and renews it again through it."""
    identity = configure(sandbox, signin, seconds_left=120)
    assert sandbox.credproc("--profile", PROFILE).returncode == 0  # credproc renews it
    ours = session(sandbox, identity)["accessToken"]["accessKeyId"]
    cli = sandbox.run([str(BIN / "aws"), "sts", "get-caller-identity", "--profile", PROFILE])
    assert cli.returncode == 0, cli.stderr
    assert sandbox.server.signers("GetCallerIdentity") == [ours]

    age_session(sandbox, identity, 120)
    cli = sandbox.run([str(BIN / "aws"), "sts", "get-caller-identity", "--profile", PROFILE])
    assert cli.returncode == 0, cli.stderr
    assert signin.count("CreateOAuth2Token:refresh_token") == 2  # credproc's, then botocore's
    theirs = session(sandbox, identity)["accessToken"]["accessKeyId"]
    assert sandbox.server.signers("GetCallerIdentity")[-1] == theirs != ours
    # and credproc takes what botocore wrote
    sandbox.expire_entries(0)
    result = sandbox.credproc("--profile", PROFILE)
    assert result.returncode == 0, result.stderr
    assert result.json()["AccessKeyId"] == theirs
    assert signin.count("CreateOAuth2Token") == 2


def test_exec_and_the_python_api_take_a_login_profile(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    identity = configure(sandbox, signin)
    ran = sandbox.credproc(
        "exec", "--profile", PROFILE, "--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID"
    )
    code = (
        "import credproc\n"
        "print(credproc.session(profile='admin').get_credentials()"
        ".get_frozen_credentials().access_key)\n"
    )
    api = sandbox.run([str(BIN / "python"), "-c", code])

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == session(sandbox, identity)["accessToken"]["accessKeyId"]
    assert api.returncode == 0, api.stderr
    [signer] = sandbox.server.signers("AssumeRole")
    assert signin.issued_keys[signer] == identity and api.stdout.strip() != signer


def test_exec_server_serves_a_role_from_the_session_and_renews_it(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    identity = configure(sandbox, signin)
    # 900 s tokens: botocore in the command asks the endpoint at every call.
    with Served(sandbox, "--profile", "admin", "--duration", "900") as served:
        first = served.ask("call")
        age_session(sandbox, identity, 60)  # the session is due, and the role's token too
        sandbox.expire_entries(seconds_left=120)
        second = served.ask("call")
        result = served.finish()

    assert result.returncode == 0, result.stderr
    assert ":assumed-role/admin/" in first["arn"] and second["key"] != first["key"]
    assert signin.count("CreateOAuth2Token:refresh_token") == 1
    signers = sandbox.server.signers("AssumeRole")
    assert len(signers) == 2 and all(signin.issued_keys[key] == identity for key in signers)


def test_without_the_login_extra_a_hit_works_and_a_renewal_says_what_to_install(
    sandbox: Sandbox, signin: SignInStandIn, tmp_path: Path
) -> None:
    """cryptography made unimportable (a package of that name that refuses to load, first on
    the path): a session that needs no renewal is served, one that does fails in one line."""
    shadow = tmp_path / "no-cryptography" / "cryptography"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('the login extra is not installed')\n")
    without = {"PYTHONPATH": str(shadow.parent)}
    identity = configure(sandbox, signin)

    served = sandbox.credproc("--profile", PROFILE, env=without)
    assert served.returncode == 0, served.stderr
    age_session(sandbox, identity, 60)
    sandbox.expire_entries(seconds_left=60)
    failed = sandbox.credproc("--profile", PROFILE, env=without)
    assert_fails(failed, 3, "pip install 'credproc[login]'")
    assert signin.count("CreateOAuth2Token") == 0


def test_a_session_file_at_0644_is_used_said_once_and_renewed_at_0600(
    sandbox: Sandbox, signin: SignInStandIn
) -> None:
    """As botocore reads it, and as credproc reads an SSO token file: a session file of the
    user's at 0644 (an older CLI keeps the mode it finds) is used; the chmod is said once a
    process, and by doctor; the next renewal writes it 0600."""
    identity = configure(sandbox, signin)
    path = session_path(sandbox, identity)
    path.chmod(0o644)

    served = sandbox.credproc("--profile", PROFILE)
    assert served.returncode == 0, served.stderr
    assert served.json()["AccessKeyId"] == session(sandbox, identity)["accessToken"]["accessKeyId"]
    (line,) = served.stderr.splitlines()
    assert f"chmod 600 {path}" in line and "mode 644" in line
    doctor = sandbox.credproc("doctor", "--profile", PROFILE)
    (warned,) = [row for row in doctor.stdout.splitlines() if "login file mode" in row]
    assert warned.startswith("warn") and f"chmod 600 {path}" in doctor.stdout

    age_session(sandbox, identity, 120)  # rewritten in place, as an older CLI does: still 0644
    sandbox.expire_entries(0)
    renewed = sandbox.credproc("--profile", PROFILE)
    assert renewed.returncode == 0, renewed.stderr
    assert len(renewed.stderr.splitlines()) == 1  # read twice (before and under the lock)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signin.count("CreateOAuth2Token:refresh_token") == 1
    after = sandbox.credproc("doctor", "--profile", PROFILE)
    assert "login file mode" not in after.stdout and "chmod" not in after.stdout


@pytest.mark.parametrize("how", [["--profile", PROFILE], ["--all"]])
def test_logout_removes_a_session_file_at_0644(
    sandbox: Sandbox, signin: SignInStandIn, how: list[str]
) -> None:
    identity = configure(sandbox, signin)
    path = session_path(sandbox, identity)
    path.chmod(0o644)
    result = sandbox.credproc("logout", *how)
    assert result.returncode == 0, result.stderr
    assert not path.exists() and "chmod" not in result.stderr  # no advice about a file it removed


@pytest.mark.parametrize("login", ["never", "auto"])  # auto: nobody to ask (no terminal)
def test_a_role_outlives_its_ended_session_while_its_token_lives(
    sandbox: Sandbox, signin: SignInStandIn, login: str
) -> None:
    """The session has ended and no sign-in can happen: the role's cached token, inside its
    refresh window but alive, is served with a line naming the sign-in, as in an outage;
    once too little of it is left, exit 4."""
    identity = configure(sandbox, signin)
    first = sandbox.credproc("--profile", "admin")
    assert first.returncode == 0, first.stderr
    role_key = first.json()["AccessKeyId"]
    signin.revoke()  # the renewal will say TOKEN_EXPIRED
    age_session(sandbox, identity, 30)
    sandbox.expire_entries(30)  # the identity's own credentials: too little left to serve
    sandbox.expire_entries(600, role_key)  # the role's: inside its 15 minutes, alive
    argv = ["setsid", str(BIN / "credproc"), "--profile", "admin", "--login", login]

    served = sandbox.run(argv)
    assert served.returncode == 0, served.stderr
    assert served.json()["AccessKeyId"] == role_key
    (line,) = served.stderr.splitlines()
    assert "TOKEN_EXPIRED" in line and "credproc login --profile console" in line
    assert "serving the cached token, valid for 9 more minutes" in line
    assert len(sandbox.server.signers("AssumeRole")) == 1  # no new role session
    assert signin.count("CreateOAuth2Token:refresh_token") == 1
    assert signin.count("Authorize") == 0

    sandbox.expire_entries(30, role_key)
    failed = sandbox.run(argv)
    assert_fails(failed, 4, "TOKEN_EXPIRED", "credproc login --profile console")
    assert "serving" not in failed.stderr
