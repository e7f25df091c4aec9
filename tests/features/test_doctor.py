"""`credproc doctor`: one verdict per check, the first failure's exit status, no secrets."""

from __future__ import annotations

import re
import sys

import pytest
from support.assertions import assert_fails
from support.constants import BASE_KEY_ID, BASE_SECRET, ROLE
from support.sandbox import Result, Sandbox

LINE = re.compile(r"(ok  |warn|FAIL)  (?P<name>[a-z_ ]+): (?P<verdict>.+)")


def _verdicts(result: Result) -> dict[str, str]:
    """{check name: its whole line}, checking every line's shape on the way."""
    found: dict[str, str] = {}
    for line in result.stdout.splitlines():
        match = LINE.fullmatch(line)
        assert match, line
        found[match["name"]] = line
    assert BASE_KEY_ID not in result.stdout
    assert BASE_SECRET not in result.stdout
    return found


def _client_profile(sandbox: Sandbox, **keys: str) -> None:
    sandbox.add_profile("dev-role", role_arn=ROLE, source_profile="base")
    sandbox.add_profile("dev", credential_process="credproc --profile dev-role", **keys)


def test_a_healthy_setup_is_all_ok(sandbox: Sandbox) -> None:
    _client_profile(sandbox)
    sandbox.env["BROWSER"] = "true"  # a browser can start here: console's check is ok too

    result = sandbox.main("doctor", "--profile", "dev")

    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = _verdicts(result)
    assert list(verdicts) == [
        "profile",
        "credential_process",
        "options",
        "chain",
        "source",
        "role",
        "cache",
        "refresh window",
        "clock",
        "console",
    ]
    assert all(line.startswith("ok  ") for line in verdicts.values())
    assert "the default browser (BROWSER=true), in the browser's own context" in verdicts["console"]
    assert "dev -> dev-role -> base" in verdicts["chain"]
    assert "arn:aws:sts::123456789012:user/moto" in verdicts["source"]
    assert "not cached" in verdicts["role"]
    assert result.stderr == ""
    assert sandbox.server.calls("GetCallerIdentity") == 1
    assert sandbox.server.calls("AssumeRole") == 1
    assert list(sandbox.cache_dir.glob("*.json")) == []  # the role check bypasses the cache


def test_the_profile_as_the_first_word(sandbox: Sandbox) -> None:
    # `credproc doctor dev`: what people type first, the same as --profile dev.
    _client_profile(sandbox)
    positional = sandbox.main("doctor", "dev")
    flag = sandbox.main("doctor", "--profile", "dev")
    both = sandbox.main("doctor", "dev", "--profile", "dev")

    assert positional.returncode == 0, positional.stdout + positional.stderr
    assert list(_verdicts(positional))[:3] == ["profile", "credential_process", "options"]
    assert "'dev'" in _verdicts(positional)["profile"]
    for other in (flag, both):
        assert other.returncode == 0
        assert _verdicts(other).keys() == _verdicts(positional).keys()


def test_two_different_profiles_are_a_usage_error(sandbox: Sandbox) -> None:
    _client_profile(sandbox)
    result = sandbox.main("doctor", "dev", "--profile", "dev-role")

    assert_fails(result, 2, "doctor dev and --profile dev-role name two profiles")
    assert sandbox.server.calls() == 0
    missing = sandbox.main("doctor", "nowhere")
    assert missing.returncode == 3
    assert "nowhere" in _verdicts(missing)["profile"]


def test_role_options_without_a_profile(sandbox: Sandbox) -> None:
    result = sandbox.main("doctor", *sandbox.role_args())

    assert result.returncode == 0, result.stdout
    assert list(_verdicts(result))[:2] == ["options", "chain"]


def test_a_source_loop_fails_first_and_calls_no_sts(sandbox: Sandbox) -> None:
    sandbox.add_profile("dev-role", role_arn=ROLE, source_profile="back")
    sandbox.add_profile("back", credential_process="credproc --profile dev-role")
    sandbox.cache_dir.mkdir(mode=0o700)
    sandbox.cache_dir.chmod(0o777)  # a second failure, after the loop

    result = sandbox.main("doctor", "--profile", "dev-role")

    assert result.returncode == 7  # the loop's status: it came first
    verdicts = _verdicts(result)
    assert verdicts["chain"].startswith("FAIL  chain: dev-role -> back -> dev-role: ")
    assert verdicts["cache"].startswith("FAIL  cache: ")
    assert "source" not in verdicts
    assert "role" not in verdicts
    assert sandbox.server.calls() == 0


@pytest.mark.integration
def test_role_arn_beside_credential_process_without_a_source_fails(sandbox: Sandbox) -> None:
    _client_profile(sandbox, role_arn=ROLE)

    result = sandbox.main("doctor", "--profile", "dev")
    botocore = sandbox.run(["aws", "--profile", "dev", "sts", "get-caller-identity"])

    assert result.returncode == 3
    assert _verdicts(result)["profile"].startswith(
        "FAIL  profile: 'dev' sets role_arn without source_profile: botocore refuses"
    )
    assert botocore.returncode != 0  # what the verdict says botocore does


def test_role_arn_with_a_source_shadows_credential_process(sandbox: Sandbox) -> None:
    _client_profile(sandbox, role_arn=ROLE, source_profile="base")

    result = sandbox.main("doctor", "--profile", "dev")

    assert result.returncode == 0
    assert _verdicts(result)["profile"].startswith(
        "warn  profile: botocore uses role_arn of 'dev' and never runs its credential_process"
    )


def test_an_executable_not_on_path_fails(sandbox: Sandbox) -> None:
    sandbox.add_profile("dev", credential_process="credproc-nowhere --profile x")

    result = sandbox.main("doctor", "--profile", "dev")

    assert result.returncode == 3
    line = _verdicts(result)["credential_process"]
    assert line.startswith("FAIL  credential_process: credential_process runs 'credproc-nowhere'")
    assert line.endswith("\u2014 give the absolute path (credproc configure prints one)")


def test_a_credential_process_that_is_not_credproc(sandbox: Sandbox) -> None:
    sandbox.add_profile("dev", credential_process="/bin/echo {}")

    result = sandbox.main("doctor", "--profile", "dev")

    assert result.returncode == 0
    verdicts = _verdicts(result)
    assert verdicts["credential_process"].startswith("warn  credential_process: runs /bin/echo")
    assert list(verdicts) == ["profile", "credential_process"]


def test_refused_source_credentials_fail_with_the_auth_status(sandbox: Sandbox) -> None:
    sandbox.server.fault("GetCallerIdentity", status=403, code="InvalidClientTokenId")

    result = sandbox.main("doctor", *sandbox.role_args())

    assert result.returncode == 4
    verdicts = _verdicts(result)
    assert verdicts["source"].startswith("FAIL  source: GetCallerIdentity failed: the source")
    assert "renew the source credentials" in verdicts["source"]
    assert "role" not in verdicts
    assert "clock" not in verdicts
    assert sandbox.server.calls("AssumeRole") == 0


@pytest.mark.parametrize(
    ("skew", "status", "verdict"),
    [
        (120, 0, r"warn  clock: this machine is (\d+) s behind STS; credproc corrects .*"),
        (-3600, 4, r"FAIL  clock: this machine is (\d+) s ahead of STS: AWS refuses .*"),
    ],
)
def test_the_clock_against_stss_date_header(
    sandbox: Sandbox, skew: int, status: int, verdict: str
) -> None:
    sandbox.server.skew(skew)

    result = sandbox.main("doctor", *sandbox.role_args())

    assert result.returncode == status
    match = re.fullmatch(verdict, _verdicts(result)["clock"])
    assert match, result.stdout
    assert abs(int(match[1]) - abs(skew)) <= 2  # the Date header counts whole seconds


def test_a_short_refresh_window_is_a_warning(sandbox: Sandbox) -> None:
    result = sandbox.main("doctor", *sandbox.role_args(), "--refresh-window", "120")

    assert result.returncode == 0
    line = _verdicts(result)["refresh window"]
    assert line.startswith("warn  refresh window: 120 s is shorter than the clients' own")
    assert "and the JS SDK with 5" in line
    assert line.endswith("\u2014 --refresh-window 900")


@pytest.mark.parametrize(
    ("mode", "start"),
    [(0o755, "warn  cache: "), (0o770, "FAIL  cache: ")],
)
def test_the_cache_dirs_mode(sandbox: Sandbox, mode: int, start: str) -> None:
    sandbox.cache_dir.mkdir()
    sandbox.cache_dir.chmod(mode)

    result = sandbox.main("doctor", *sandbox.role_args())

    assert result.returncode == (3 if start.startswith("FAIL") else 0)
    assert _verdicts(result)["cache"].startswith(start + str(sandbox.cache_dir))


def test_bad_options_fail_before_any_sts_call(sandbox: Sandbox) -> None:
    result = sandbox.main("doctor", *sandbox.role_args(), "--duration", "60")

    assert result.returncode == 2
    assert _verdicts(result) == {
        "options": "FAIL  options: --duration 60 is out of range (900..43200 seconds)"
    }
    assert sandbox.server.calls() == 0


def test_a_python_dash_m_line_is_credproc_too(sandbox: Sandbox) -> None:
    sandbox.add_profile("dev-role", role_arn=ROLE, source_profile="base")
    sandbox.add_profile(
        "dev", credential_process=f"{sys.executable} -m credproc --profile dev-role"
    )

    result = sandbox.main("doctor", "--profile", "dev")

    assert result.returncode == 0, result.stdout
    assert _verdicts(result)["credential_process"] == (
        f"ok    credential_process: runs credproc ({sys.executable})"
    )


def test_a_web_identity_source_is_its_token_file(sandbox: Sandbox) -> None:
    token = sandbox.home / "token"
    token.write_text("header.payload.signature")

    result = sandbox.main("doctor", "--role-arn", ROLE, "--web-identity-token-file", str(token))

    assert result.returncode == 0, result.stdout
    verdicts = _verdicts(result)
    assert verdicts["source"] == f"ok    source: a 24-character web identity token in {token}"
    assert "header.payload" not in result.stdout
    assert verdicts["role"].startswith(f"ok    role: assumed {ROLE}")
    assert sandbox.server.calls("AssumeRoleWithWebIdentity") == 1
