"""The soak's world: its roles, an isolated user's AWS config, and the ways callers reach them.

Every role has a credproc options profile (``soak-NAME``, for ``credproc --profile``) and a
client profile (``NAME``, whose ``credential_process`` runs credproc, for the ``aws`` CLI), and
the same options as flags: the three forms share one cache entry.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1] / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))  # the test server, the MFA token command, the health probe

from support.constants import BASE_KEY_ID, BASE_SECRET, BIN, MFA_SERIAL  # noqa: E402
from support.mfa import TokenCommand  # noqa: E402
from support.sso import counting_browser  # noqa: E402
from support.ssoserver import SsoStandIn  # noqa: E402

ACCOUNT = "123456789012"
REGION = "eu-west-1"
# The SSO role: a session signed in before the chaos, its role from the stand-in's portal.
SSO_SESSION, SSO_ROLE = "soak", "SoakOperator"
SSO_START_URL = "https://soak.awsapps.com/start"
CREDPROC = str(BIN / "credproc")
AWS = str(BIN / "aws")


@dataclass(frozen=True)
class Role:
    name: str
    keys: dict[str, str]  # profile keys of its credproc options profile

    @property
    def sso(self) -> bool:
        """An SSO role: its credentials come from the SSO stand-in's portal, not from STS."""
        return "credproc_sso_role_name" in self.keys

    @property
    def arn(self) -> str:
        """The role's ARN (an SSO role's as IAM Identity Center names the role it makes)."""
        if self.sso:
            return _arn(f"AWSReservedSSO_{self.keys['credproc_sso_role_name']}")
        return self.keys["role_arn"]

    @property
    def identity(self) -> str:
        """What STS's GetCallerIdentity answers with this role's credentials contains: moto's
        default user for keys it did not issue (the portal's; the soak checks their signers)."""
        return ":user/moto" if self.sso else f":assumed-role/{self.arn.rpartition('/')[2]}/"

    @property
    def flags(self) -> list[str]:
        """The same options as command-line flags."""
        flag = {
            "role_arn": "--role-arn",
            "source_profile": "--source-profile",
            "duration_seconds": "--duration",
            "credproc_refresh_window": "--refresh-window",
            "mfa_serial": "--mfa-serial",
            "credproc_mfa_token_command": "--mfa-token-command",
            "region": "--region",
            "sso_session": "--sso-session",
            "credproc_sso_account_id": "--sso-account-id",
            "credproc_sso_role_name": "--sso-role-name",
        }
        return [word for key, value in self.keys.items() for word in (flag[key], value)]

    def api_options(self) -> dict[str, Any]:
        """The same options as credproc.session() keywords."""
        name = {
            "source_profile": "source_profile",
            "duration_seconds": "duration",
            "credproc_refresh_window": "refresh_window",
            "mfa_serial": "mfa_serial",
            "credproc_mfa_token_command": "mfa_token_command",
            "region": "region",
            "sso_session": "sso_session",
            "credproc_sso_account_id": "sso_account_id",
            "credproc_sso_role_name": "sso_role_name",
        }
        options: dict[str, Any] = {} if self.sso else {"role_arn": self.arn}
        for key, value in self.keys.items():
            if key in name:
                numeric = key in ("duration_seconds", "credproc_refresh_window")
                options[name[key]] = int(value) if numeric else value
        return options


def _arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def roles(token_command: str) -> list[Role]:
    """A plain role; one chained through another credproc profile; one behind MFA with a token
    command; one due every few seconds (refreshed when under 895 s of a 900 s token are left).
    The chained and MFA roles have 900 s tokens too, so their paths refresh often as well."""
    short = {"duration_seconds": "900"}
    return [
        Role("plain", {"role_arn": _arn("soak-plain"), "source_profile": "base"}),
        Role(
            "chained",
            {
                "role_arn": _arn("soak-chained"),
                "source_profile": "hub",
                **short,
                "credproc_refresh_window": "850",
            },
        ),
        Role(
            "mfa",
            {
                "role_arn": _arn("soak-mfa"),
                "source_profile": "base",
                "mfa_serial": MFA_SERIAL,
                "credproc_mfa_token_command": token_command,
                **short,
                "credproc_refresh_window": "870",
            },
        ),
        Role(
            "sso",
            {
                "sso_session": SSO_SESSION,
                "credproc_sso_account_id": ACCOUNT,
                "credproc_sso_role_name": SSO_ROLE,
                "credproc_refresh_window": "870",
                "region": REGION,  # no source profile to take it from
            },
        ),
        Role(
            "due",
            {
                "role_arn": _arn("soak-due"),
                "source_profile": "base",
                **short,
                "credproc_refresh_window": "895",
            },
        ),
    ]


HUB_ROLE = _arn("soak-hub")


@dataclass(frozen=True)
class World:
    root: Path
    env: dict[str, str]
    roles: list[Role]
    token_command: TokenCommand
    browser_opened: Path  # a line for each sign-in page a login opened

    @property
    def cache_dir(self) -> Path:
        return Path(self.env["CREDPROC_CACHE_DIR"])

    def role(self, name: str) -> Role:
        return next(role for role in self.roles if role.name == name)


def build(root: Path, endpoint: str, sso: SsoStandIn) -> World:
    """An isolated user under ``root`` whose profiles reach the STS at ``endpoint``, and IAM
    Identity Center at the stand-in ``sso`` (whose sign-in page a BROWSER script follows, as
    a person would, should a process need a login)."""
    home = root / "home"
    (home / ".aws").mkdir(parents=True)
    token_command = TokenCommand(root)
    world_roles = roles(str(token_command))
    browser, browser_opened = counting_browser(root, sso)
    env = {
        # A clean login, plus the isolation: nothing of the machine's own AWS setup leaks in.
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "XDG_CACHE_HOME": str(home / ".cache"),
        "CREDPROC_CACHE_DIR": str(root / "cache"),
        "BROWSER": browser,
        **sso.env,
    }
    region = {"region": REGION}
    sections = [
        (
            f"sso-session {SSO_SESSION}",
            {"sso_start_url": SSO_START_URL, "sso_region": REGION},
        ),
        (
            "profile base",
            {"aws_access_key_id": BASE_KEY_ID, "aws_secret_access_key": BASE_SECRET, **region},
        ),
        (
            "profile hub",
            {
                "credential_process": f"credproc --role-arn {HUB_ROLE} --source-profile base",
                **region,
            },
        ),
    ]
    for role in world_roles:
        # The options profile has no region of its own: the source's applies, as with flags.
        sections.append((f"profile soak-{role.name}", role.keys))
        process = f"credproc --profile soak-{role.name}"
        sections.append((f"profile {role.name}", {"credential_process": process, **region}))
    (home / ".aws" / "config").write_text(
        "".join(
            f"[{header}]\n" + "".join(f"{key} = {value}\n" for key, value in keys.items()) + "\n"
            for header, keys in sections
        )
    )
    return World(root, env, world_roles, token_command, browser_opened)


# How a caller reaches a role. Each is a real path a user takes; the judge knows what each
# prints.
PATHS = ("credproc", "credproc --profile", "env", "aws")


def argv(path: str, role: Role) -> list[str]:
    if path == "credproc":
        return [CREDPROC, *role.flags]
    if path == "credproc --profile":
        return [CREDPROC, "--profile", f"soak-{role.name}"]
    if path == "env":
        return [CREDPROC, "env", "--profile", f"soak-{role.name}"]
    if path == "aws":
        return [AWS, "--profile", role.name, "sts", "get-caller-identity", "--output", "json"]
    raise ValueError(path)
