"""A cache hit's cost is paid on every AWS command: in every documented form it is answered by
the fenced hit (credproc.core.hit), a warm env (every format) and exec by credproc.core.warm,
and none imports anything of BANNED_ON_HIT; and only the fence may import lazily.

Import checks are deterministic where timings are not; the speed itself is measured by the
benchmark (make bench), not here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.constants import BIN, ROLE
from support.login import configure as sign_in
from support.sandbox import Result, Sandbox
from support.secretservice import SecretService
from support.signinserver import SignInStandIn
from support.sourcekeys import add, new_user
from support.sso import counting_browser
from support.ssoserver import SsoStandIn

import credproc
from credproc.config.syntax import ENV_FORMAT_ALIASES, ENV_FORMATS
from credproc.core.hit import BANNED_ON_HIT, FENCE

# The documented ways a client runs a cache hit: flags on the credential_process line (both
# spellings), --profile naming a profile that holds the options, and keys from the keyring.
FORMS = {
    "flags": ["--role-arn", ROLE, "--source-profile", "base"],
    "flags with =": [f"--role-arn={ROLE}", "--source-profile=base"],
    "profile": ["--profile", "dev-role"],
    "source keys": ["--role-arn", ROLE, "--source-keys", "dev"],
}
PROFILE_IMPORTS = {"PYTHONPROFILEIMPORTTIME": "1"}  # -X importtime, for the console script
PACKAGE = Path(credproc.__file__).parent


def _imported_modules(stderr: str) -> set[str]:
    """Module names from python -X importtime's report."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def _run(sandbox: Sandbox, argv: list[str]) -> Result:
    """The console script, as clients run it, reporting its imports."""
    return sandbox.run([str(BIN / "credproc"), *argv], env=PROFILE_IMPORTS)


# What each kind of hit loads of the fence: the package's face, the hit and its private files,
# and for env and exec core.warm too.
HIT_LOADS = sorted(set(FENCE) - {"credproc.core.warm"})
WARM_LOADS = sorted(FENCE)


def _assert_fenced(hit: Result, loads: list[str] = HIT_LOADS) -> None:
    loaded = _imported_modules(hit.stderr)
    assert "credproc.core.hit" in loaded  # the check sees credproc's own imports
    assert sorted(m for m in loaded if m.split(".")[0] == "credproc") == loads
    assert sorted(m for m in loaded if m.split(".")[0] in BANNED_ON_HIT) == []


@pytest.mark.integration
@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_cache_hit_loads_the_fence_and_nothing_banned(
    sandbox: Sandbox, form: str, request: pytest.FixtureRequest
) -> None:
    sandbox.add_profile("dev-role", role_arn=ROLE, source_profile="base")
    sandbox.add_profile("other", region="eu-west-1", s3="\n    max_concurrent_requests = 20")
    if form == "source keys":
        service: SecretService = request.getfixturevalue("secret_service")
        assert add(sandbox, "dev", new_user(sandbox.server)).returncode == 0
    sandbox.settle()
    cold = _run(sandbox, FORMS[form])
    if form == "source keys":
        service.lock()  # a hit asks the keyring nothing: it works with the keyring locked
    hit = _run(sandbox, FORMS[form])

    assert cold.returncode == 0 and hit.returncode == 0, cold.stderr + hit.stderr
    assert sandbox.server.calls("AssumeRole") == 1  # the second run really was a hit
    assert "boto3" in _imported_modules(cold.stderr)  # the check sees imports when they happen
    assert hit.json() == cold.json()
    assert hit.stdout == cold.stdout  # byte for byte what the full path printed
    _assert_fenced(hit)


@pytest.mark.integration
def test_python_m_credproc_hits_through_the_fence_too(sandbox: Sandbox) -> None:
    """``python -m credproc`` (the form configure writes without a script): runpy itself
    imports collections and functools, so only credproc's own modules are compared."""
    argv = [sys.executable, "-X", "importtime", "-m", "credproc", *FORMS["flags"]]
    sandbox.settle()
    assert sandbox.run(argv).returncode == 0
    hit = sandbox.run(argv)
    loaded = _imported_modules(hit.stderr)
    assert hit.returncode == 0 and sandbox.server.calls("AssumeRole") == 1
    assert "credproc.core.hit" in loaded  # __main__ runs as __main__, so it is not listed
    assert {m for m in loaded if m.split(".")[0] == "credproc"} <= set(FENCE)
    # runpy itself imports collections and functools: neither is banned, so nothing to allow.
    assert sorted(m for m in loaded if m.split(".")[0] in BANNED_ON_HIT) == []


def _fence_files() -> set[Path]:
    files = set()
    for module in FENCE:
        path = PACKAGE.parent.joinpath(*module.split("."))
        files.add(path / "__init__.py" if path.is_dir() else path.with_suffix(".py"))
    return files


def test_only_the_fence_imports_lazily() -> None:
    """Every module outside the fence imports at its top: no lazy-import exemption, and no
    stand-in for typing's TYPE_CHECKING."""
    fence = _fence_files()
    assert all(path.exists() for path in fence), fence
    lazy = {
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if path not in fence and "PLC0415" in path.read_text()
    }
    assert sorted(lazy) == []
    stand_ins = {
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if path not in fence and re.search(r"^TYPE_CHECKING = ", path.read_text(), re.M)
    }
    assert sorted(stand_ins) == []


@pytest.mark.integration
@pytest.mark.parametrize("profile", ["dev-sso", "chained"])
def test_an_sso_hit_loads_the_fence_and_nothing_banned(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path, profile: str
) -> None:
    """An SSO profile's role, and a role whose source is one: a hit like any other, never the
    token store, boto3 or filelock."""
    browser, _ = counting_browser(tmp_path, sso)
    sandbox.add_profile("chained", role_arn=ROLE, source_profile="dev-sso")
    sandbox.settle()
    cold = sandbox.run(
        ["setsid", str(BIN / "credproc"), "--profile", profile],
        env={"BROWSER": browser, **PROFILE_IMPORTS},
    )
    hit = _run(sandbox, ["--profile", profile])

    assert cold.returncode == 0 and hit.returncode == 0, cold.stderr + hit.stderr
    assert sso.count("GetRoleCredentials") == 1  # the second run really was a hit
    assert "credproc.aws.ssotoken" in _imported_modules(cold.stderr)
    assert hit.stdout == cold.stdout
    _assert_fenced(hit)


@pytest.mark.integration
def test_a_wrap_hit_loads_the_fence_and_nothing_banned(sandbox: Sandbox, tmp_path: Path) -> None:
    """``credproc wrap -- COMMAND``: the command runs once; the next run of the same line is a
    hit like any other, which runs nothing and loads nothing but the fence."""
    runs = tmp_path / "runs"
    answer = (
        '{"Version": 1, "AccessKeyId": "ASIAWRAPPED", "SecretAccessKey": "s", "SessionToken": "t"}'
    )
    script = f"open({str(runs)!r}, 'a').write('run\\n'); print({answer!r})"
    argv = ["wrap", "--key-env", "TOOL_PROFILE", "--", sys.executable, "-c", script]
    sandbox.settle()
    cold = _run(sandbox, argv)
    hit = _run(sandbox, argv)

    assert cold.returncode == 0 and hit.returncode == 0, cold.stderr + hit.stderr
    assert runs.read_text() == "run\n"  # the second run really was a hit
    assert "credproc.fetch.wrap" in _imported_modules(cold.stderr)
    assert hit.stdout == cold.stdout
    _assert_fenced(hit)


@pytest.mark.integration
@pytest.mark.parametrize("profile", ["console", "admin"])
def test_an_aws_login_hit_loads_the_fence_and_nothing_banned(
    sandbox: Sandbox, signin: SignInStandIn, profile: str
) -> None:
    """A login_session profile's own credentials, and a role whose source is one: a hit like
    any other, never the session file, boto3, filelock or cryptography. The session is due
    for renewal, so the cold run renews it (and imports the proofs' library)."""
    sign_in(sandbox, signin, seconds_left=120)
    sandbox.settle()
    cold = _run(sandbox, ["--profile", profile])
    hit = _run(sandbox, ["--profile", profile])

    assert cold.returncode == 0 and hit.returncode == 0, cold.stderr + hit.stderr
    assert signin.count("CreateOAuth2Token") == 1  # the second run really was a hit
    assert {"credproc.aws.logintoken", "cryptography"} <= _imported_modules(cold.stderr)
    assert hit.stdout == cold.stdout
    _assert_fenced(hit)


@pytest.mark.integration
@pytest.mark.parametrize("shell_format", [*ENV_FORMATS, *ENV_FORMAT_ALIASES])
def test_a_warm_env_loads_the_fence_and_prints_the_long_ways_bytes(
    sandbox: Sandbox, shell_format: str
) -> None:
    """Every format: the cold run, the warm one (through the fence) and the long way on a warm
    cache (the config edited, so the record no longer holds) print the same bytes."""
    argv = ["env", "--format", shell_format, *FORMS["profile"]]
    sandbox.add_profile("dev-role", role_arn=ROLE, source_profile="base")
    sandbox.settle()
    cold = _run(sandbox, argv)
    warm = _run(sandbox, argv)
    sandbox.add_profile("unrelated", region="us-east-2")  # an edit: the index misses
    long_way = _run(sandbox, argv)

    assert cold.returncode == warm.returncode == long_way.returncode == 0, cold.stderr
    assert sandbox.server.calls("AssumeRole") == 1  # one token for all three
    assert "AWS_REGION" in warm.stdout and "AWS_CREDENTIAL_EXPIRATION" in warm.stdout
    assert warm.stdout == cold.stdout == long_way.stdout
    assert "credproc.cli.main" in _imported_modules(long_way.stderr)
    _assert_fenced(warm, WARM_LOADS)


@pytest.mark.integration
@pytest.mark.parametrize("double_dash", [True, False], ids=["command", "shell"])
def test_a_warm_exec_loads_the_fence_and_gives_the_long_ways_environment(
    sandbox: Sandbox, double_dash: bool
) -> None:
    """The command gets the same environment, byte for byte and in the same order, and its
    exit status is credproc's: the warm run replaces itself as the long way does."""
    script = "env; exit 7"
    tail = ["--", "sh", "-c", script] if double_dash else []
    argv = ["exec", *FORMS["flags"], *tail]
    parent = {"AWS_PROFILE": "dev", "AWS_DEFAULT_PROFILE": "dev", "SHELL": "/bin/sh"}
    sandbox.settle()
    cold = _exec(sandbox, argv, parent, double_dash, script)
    warm = _exec(sandbox, argv, parent, double_dash, script)
    sandbox.add_profile("unrelated", region="us-east-2")  # an edit: the index misses
    long_way = _exec(sandbox, argv, parent, double_dash, script)

    assert cold.returncode == warm.returncode == long_way.returncode == 7, cold.stderr
    assert sandbox.server.calls("AssumeRole") == 1
    assert "AWS_SESSION_TOKEN=" in warm.stdout and "AWS_PROFILE=" not in warm.stdout
    assert warm.stdout == cold.stdout == long_way.stdout
    assert "credproc.cli.main" in _imported_modules(long_way.stderr)
    _assert_fenced(warm, WARM_LOADS)


def _exec(
    sandbox: Sandbox, argv: list[str], parent: dict[str, str], double_dash: bool, script: str
) -> Result:
    """exec as a client runs it; without a command the shell reads the script from stdin."""
    env = {**PROFILE_IMPORTS, **parent}
    if double_dash:
        return sandbox.run([str(BIN / "credproc"), *argv], env=env)
    child = sandbox.popen(*argv, env=env, stdin=subprocess.PIPE)
    stdout, stderr = child.communicate(script + "\n", timeout=60)
    return Result(child.returncode, stdout, stderr)


@pytest.mark.integration
@pytest.mark.parametrize(
    "argv",
    [
        ["env", "-v", *FORMS["flags"]],
        ["exec", "--server", *FORMS["flags"], "--", "true"],
        ["exec", *FORMS["flags"], "--", "no-such-command-xyz"],
    ],
    ids=["verbose", "server", "cannot run"],
)
def test_what_must_go_the_long_way_does(sandbox: Sandbox, argv: list[str]) -> None:
    sandbox.settle()
    for _ in range(2):
        result = _run(sandbox, argv)
        assert "credproc.cli.main" in _imported_modules(result.stderr)
    assert sandbox.server.calls("AssumeRole") == 1
    if argv[-1] == "no-such-command-xyz":
        assert result.returncode == 127
        assert "credproc: error: cannot run 'no-such-command-xyz'" in result.stderr


# What the first run after an edit of the config (the index misses, the entry is fresh) no
# longer loads: it resolves, and answers from the entry as the hit would (docs/performance.md).
NOT_AFTER_AN_EDIT = ("typing", "argparse", "configparser", "threading", "datetime", "logging")


@pytest.mark.integration
def test_the_first_run_after_an_edit_resolves_and_answers_as_the_hit_would(
    sandbox: Sandbox,
) -> None:
    """Its bytes are the hit's, without the provider, typing, argparse and the rest; the run
    after it is a hit again."""
    sandbox.add_profile("dev-role", role_arn=ROLE, source_profile="base")
    sandbox.settle()
    cold = _run(sandbox, FORMS["profile"])
    sandbox.add_profile("unrelated", region="us-east-2")  # an edit: the index misses
    sandbox.settle()
    edited = _run(sandbox, FORMS["profile"])
    hit = _run(sandbox, FORMS["profile"])

    assert cold.returncode == edited.returncode == hit.returncode == 0, edited.stderr
    assert sandbox.server.calls("AssumeRole") == 1
    assert edited.stdout == cold.stdout == hit.stdout
    loaded = _imported_modules(edited.stderr)
    assert "credproc.config.resolve" in loaded  # it did resolve
    assert "credproc.core.provider" not in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in NOT_AFTER_AN_EDIT) == []
    _assert_fenced(hit)
