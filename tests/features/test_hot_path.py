"""A cache hit's cost is paid on every AWS command: in every documented form it must import
none of the modules credproc.core.lean bans from the hot path.

Import checks are deterministic where timings are not; the speed itself is measured by the
benchmark (make bench), not here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from support.constants import ROLE
from support.sandbox import Sandbox
from support.secretservice import SecretService
from support.sourcekeys import add, new_user
from support.sso import counting_browser
from support.ssoserver import SsoStandIn

from credproc.core.lean import BANNED_ON_HIT

pytestmark = pytest.mark.integration

# The documented ways a client runs a cache hit: flags on the credential_process line, and
# --profile naming a profile that holds the options.
FORMS = {
    "flags": ["--role-arn", ROLE, "--source-profile", "base"],
    "flags with =": [f"--role-arn={ROLE}", "--source-profile=base"],
    "profile": ["--profile", "dev-role"],
}


def _imported_modules(stderr: str) -> set[str]:
    """Module names from python -X importtime's report."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_cache_hit_imports_none_of_the_banned_modules(sandbox: Sandbox, form: str) -> None:
    sandbox.add_profile("dev-role", role_arn=ROLE, source_profile="base")
    sandbox.add_profile("other", region="eu-west-1", s3="\n    max_concurrent_requests = 20")
    argv = [sys.executable, "-X", "importtime", "-m", "credproc", *FORMS[form]]
    cold = sandbox.run(argv)
    hit = sandbox.run(argv)

    assert cold.returncode == 0 and hit.returncode == 0, cold.stderr
    assert sandbox.server.calls("AssumeRole") == 1  # the second run really was a hit
    assert "boto3" in _imported_modules(cold.stderr)  # the check sees imports when they happen
    loaded = _imported_modules(hit.stderr)
    assert "credproc.core.cache" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in BANNED_ON_HIT) == []
    assert "argparse" not in loaded  # ordinary command lines are read by credproc.cli.fastargs


def test_a_source_keys_hit_touches_no_keyring(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    """The keys' form: the cache key comes from the index beside the keyring, so a hit imports
    no keyring and asks it nothing; it works with the keyring locked."""
    assert add(sandbox, "dev", new_user(sandbox.server)).returncode == 0
    argv = [sys.executable, "-X", "importtime", "-m", "credproc"]
    argv += ["--role-arn", ROLE, "--source-keys", "dev"]
    cold = sandbox.run(argv)
    secret_service.lock()
    hit = sandbox.run(argv)

    assert cold.returncode == 0 and hit.returncode == 0, cold.stderr + hit.stderr
    assert sandbox.server.calls("AssumeRole") == 1
    assert "keyring" in _imported_modules(cold.stderr)  # the refresh did need it
    loaded = _imported_modules(hit.stderr)
    assert "credproc.config.keyindex" in loaded  # the index was read
    assert "credproc.keys.keyring" not in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in BANNED_ON_HIT) == []
    assert sorted(m for m in loaded if m.split(".")[0] in ("secretstorage", "jeepney")) == []
    assert "argparse" not in loaded


@pytest.mark.parametrize("profile", ["dev-sso", "chained"])
def test_an_sso_hit_imports_no_more_than_any_other(
    sandbox: Sandbox, sso: SsoStandIn, tmp_path: Path, profile: str
) -> None:
    """An SSO profile's role, and a role whose source is one: the hit reads the profile, its
    [sso-session] and the cache entry; never the token store, boto3 or filelock."""
    browser, _ = counting_browser(tmp_path, sso)
    sandbox.add_profile("chained", role_arn=ROLE, source_profile="dev-sso")
    argv = [sys.executable, "-X", "importtime", "-m", "credproc", "--profile", profile]
    cold = sandbox.run(["setsid", *argv], env={"BROWSER": browser})
    hit = sandbox.run(argv)

    assert cold.returncode == 0 and hit.returncode == 0, cold.stderr + hit.stderr
    assert sso.count("GetRoleCredentials") == 1  # the second run really was a hit
    assert "credproc.aws.ssotoken" in _imported_modules(cold.stderr)
    loaded = _imported_modules(hit.stderr)
    assert "credproc.config.sso" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in BANNED_ON_HIT) == []
    assert sorted(m for m in loaded if m.startswith(("credproc.aws", "credproc.fetch"))) == []
    assert "argparse" not in loaded
