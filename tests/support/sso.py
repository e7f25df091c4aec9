"""An SSO setup in a sandbox: the stand-in's endpoints, an [sso-session] and SSO profiles,
the token file, and browsers that a login opens (one that counts and follows the sign-in
without a window, and a real headless Chromium)."""

from __future__ import annotations

import hashlib
import json
import stat
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from support.sandbox import Sandbox
from support.ssoserver import SsoStandIn

START_URL = "https://example.awsapps.com/start"
SESSION = "corp"
# The stand-in's accounts and roles (ssoserver.SsoStandIn.accounts): a profile for each.
PROFILES = {
    "dev-sso": ("111111111111", "Developer"),
    "read-sso": ("111111111111", "ReadOnly"),
    "prod-sso": ("222222222222", "ReadOnly"),
}
CHROMIUM = Path("/usr/bin/chromium")


def configure(sandbox: Sandbox, stand_in: SsoStandIn, session: str = SESSION) -> None:
    """Point the sandbox at the stand-in, with ``[sso-session corp]`` and the PROFILES."""
    sandbox.env.update(stand_in.env)
    with sandbox.config.open("a") as file:
        file.write(
            f"\n[sso-session {session}]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n"
            "sso_registration_scopes = sso:account:access\n"
        )
    for name, (account, role) in PROFILES.items():
        sandbox.add_profile(
            name,
            sso_session=session,
            sso_account_id=account,
            sso_role_name=role,
            region="eu-west-1",
        )


def token_path(sandbox: Sandbox, name: str = SESSION) -> Path:
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()
    return sandbox.home / ".aws" / "sso" / "cache" / f"{digest}.json"


def token(sandbox: Sandbox, name: str = SESSION) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(token_path(sandbox, name).read_text())
    return document


def age_token(sandbox: Sandbox, seconds_left: float, name: str = SESSION) -> None:
    """Make the token file say it expires in ``seconds_left`` (the server still takes it)."""
    moment = datetime.now(timezone.utc) + timedelta(seconds=seconds_left)
    document = token(sandbox, name)
    document["expiresAt"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    token_path(sandbox, name).write_text(json.dumps(document))


def is_private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


_COUNTING = """\
import sys, urllib.request
with open({count!r}, "a") as file:
    file.write(sys.argv[1] + "\\n")
if "/device" in sys.argv[1]:  # the device flow's page: the person confirms the code
    urllib.request.urlopen(urllib.request.Request({approve!r}, method="POST"), timeout=30)
else:  # the sign-in page: the stand-in approves and redirects to credproc's callback
    urllib.request.urlopen(sys.argv[1], timeout=60).read()
"""


def counting_browser(tmp_path: Path, stand_in: SsoStandIn) -> tuple[str, Path]:
    """A BROWSER that notes each URL it is opened with (one line each in the returned file)
    and does what a person would: follows the sign-in, or confirms the device code."""
    count = tmp_path / "browser-opened"
    count.touch()
    script = tmp_path / "browser.py"
    script.write_text(_COUNTING.format(count=str(count), approve=f"{stand_in.url}/_test/approve"))
    return f"{sys.executable} {script}", count


def chromium_browser(tmp_path: Path) -> tuple[str, Path]:
    """A BROWSER that is Debian's Chromium, headless, loading the page and following its
    redirects as a person's browser would; each URL is noted in the returned file."""
    count = tmp_path / "chromium-opened"
    count.touch()
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    script = tmp_path / "chromium.sh"
    flags = (
        "--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking "
        f"--disable-component-update --disable-sync --user-data-dir={profile}"
    )
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$1" >> {count}\n'
        f'exec {CHROMIUM} {flags} --dump-dom "$1" >/dev/null 2>&1\n'
    )
    script.chmod(0o755)
    return str(script), count


def opened(count: Path) -> list[str]:
    return [line for line in count.read_text().splitlines() if line]


def device_login(sandbox: Sandbox, stand_in: SsoStandIn, session: str = SESSION) -> None:
    """``credproc sso login --use-device-code``, the code approved at the stand-in as a person
    would: the session signed in for real."""
    login = sandbox.popen("sso", "login", "--sso-session", session, "--use-device-code")
    try:
        # The call is counted as it arrives, before its device code exists: approve once there
        # is one to approve (bounded), never a sleep and a hope.
        deadline = time.monotonic() + 30
        while not stand_in.approve():
            assert time.monotonic() < deadline, "no device code to approve"
            assert login.poll() is None, login.communicate()[1]
            time.sleep(0.02)
        _, stderr = login.communicate(timeout=60)
    finally:
        if login.poll() is None:
            login.kill()
            login.communicate()
    assert login.returncode == 0, stderr
