"""The credproc benchmark: `python bench/run.py [--quick] [--skip-alternatives] [--warm-only]`.

Runs a local moto STS on loopback, builds an isolated AWS config under bench/.work/ and times
credproc against bare Python and the usual alternatives: a naive credential_process script, the
AWS CLI's own role_arn + source_profile support, and aws-export-credentials --cache-file. Prints
the tables and writes bench/RESULTS.md (bench/.work/RESULTS-quick.md with --quick).

Exits non-zero if a command fails or a correctness check does not hold: credproc making more
than one STS call under concurrency or any on a cache hit, or importing on a hit any module
credproc.core.hit bans there (the AWS SDK, json, re...).
The speed goals are reported, not enforced: one run on a noisy machine is no verdict.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from harness import (
    BenchError,
    Check,
    MotoServer,
    burst,
    hyperfine_medians,
    import_seconds,
    imported_modules,
    run_checked,
    slowest_imports,
    time_interleaved,
    time_once,
)
from serve_fetch import serve_fetches

from credproc.core.hit import BANNED_ON_HIT

BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work"
# "The venv" is whichever interpreter runs the bench: credproc, awscli and moto live beside it.
BINDIR = Path(sys.executable).parent
CREDPROC = BINDIR / "credproc"
AWS = BINDIR / "aws"

ACCOUNT = "123456789012"
# One role per tool, so that the server's count of AssumeRole calls says who made them.
CREDPROC_ROLE = f"arn:aws:iam::{ACCOUNT}:role/bench"
NAIVE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/bench-naive"
CLI_ROLE = f"arn:aws:iam::{ACCOUNT}:role/bench-cli"
AEC_ROLE = f"arn:aws:iam::{ACCOUNT}:role/bench-aec"
PROFILE_FORM = "credproc-role"
KEYS_NAME = "bench"  # the source keys of the --source-keys form, in the OS keyring
# The aws login form: a login_session profile whose session (a stand-in Sign-In's, as
# `aws login` leaves it) credproc serves from its cache.
LOGIN_FORM = "credproc-login"
LOGIN_IDENTITY = f"arn:aws:iam::{ACCOUNT}:user/bench"
LOGIN_HIT = "credproc --profile (aws login), cache hit"
# The SSO form: an IAM Identity Center role (an sso_session profile, as `credproc sso populate`
# writes one) whose session token a stand-in's sign-in left in ~/.aws/sso/cache.
SSO_FORM = "credproc-sso"
SSO_SESSION = "bench-sso"
SSO_HIT = "credproc --profile (SSO role), cache hit"
HIT_BUDGET = 1.5  # the goal: a hit, in every documented form, at most this many bare starts
# Warm commands (issue 27): env and exec through the fence, the first run after a config edit.
WARM_BUDGET = 1.5  # a warm env: bare starts; a warm exec -- true: bare start plus true
EDIT_BUDGET = 3.0  # the first run after an edit of the AWS config (index miss, token cached)
HIT_GOAL = 1.2  # where the hit stays, with the largest config too
ENV_FORMATS = ("sh", "fish", "powershell", "dotenv")
SIZE_BUDGET = 1.15  # and a --profile hit with the largest config at most this times an empty one
ENDPOINT_GOAL = 0.005  # seconds: an endpoint fetch from the cache, "a few milliseconds"

# aws-export-credentials 0.18.0 (2023) rebuilds botocore's ReadOnlyCredentials tuple with a
# fixed field count; botocore 1.37 added account_id and it fails with a TypeError. 1.36.26 is
# the last release before that, and new enough (>= 1.31.57) to honour AWS_ENDPOINT_URL.
AEC_REQUIREMENTS = ("aws-export-credentials==0.18.0", "boto3==1.36.26", "botocore==1.36.26")

SDK_PACKAGES = {"boto3", "botocore"}
IMPORTTIME = {"PYTHONPROFILEIMPORTTIME": "1"}  # `-X importtime` for a console script
# A client that ignored AWS_ENDPOINT_URL would send its request to this dead loopback port
# (and fail loudly) instead of out to AWS.
DEAD_PROXY = "http://127.0.0.1:9"


@dataclass(frozen=True)
class Settings:
    hot_runs: int
    endpoint_fetches: int
    serve_fetches: int
    e2e_runs: int
    cold_runs: int
    concurrency: tuple[int, ...]
    results: Path
    # Other profiles in the AWS config for the --profile hit: SSO-style blocks, as `sso
    # populate` writes one per account and role.
    config_sizes: tuple[int, ...]


FULL = Settings(
    hot_runs=40,
    endpoint_fetches=500,
    serve_fetches=1000,
    e2e_runs=15,
    cold_runs=10,
    concurrency=(1, 8, 32, 64),
    results=BENCH / "RESULTS.md",
    config_sizes=(0, 100, 1000, 5000),
)
QUICK = Settings(
    hot_runs=5,
    endpoint_fetches=50,
    serve_fetches=50,
    e2e_runs=3,
    cold_runs=3,
    concurrency=(1, 8),
    results=WORK / "RESULTS-quick.md",
    config_sizes=(0, 1000),
)


WRAP_FORM = "credproc wrap, cache hit"


def wrapped_script(bench: Bench) -> str:
    """The command of the wrap form: counts its runs, prints fixed credentials (no Expiration:
    credproc keeps them --max-age)."""
    answer = {"Version": 1, "AccessKeyId": "ASIABENCH", "SecretAccessKey": "s", "SessionToken": "t"}
    return (
        f"import json; open({str(bench.wrapped_runs)!r}, 'a').write('run\\n'); "
        f"print(json.dumps({answer!r}))"
    )


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def check_credentials(stdout: str) -> None:
    """credential_process output: one JSON object with Version 1 and all four fields."""
    try:
        data = json.loads(stdout)
    except ValueError:
        raise BenchError(f"not JSON: {stdout[:200]!r}") from None
    fields = ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")
    if not isinstance(data, dict) or data.get("Version") != 1 or not all(map(data.get, fields)):
        raise BenchError(f"not credential_process JSON: {stdout[:200]!r}")


def check_identity(role_arn: str | None) -> Check:
    """`aws sts get-caller-identity` output, showing a session of `role_arn` if one is given.

    moto answers with the role whose session the access key belongs to: this proves that the
    profile really used the provider it names.
    """

    def check(stdout: str) -> None:
        try:
            arn = json.loads(stdout)["Arn"]
        except (ValueError, KeyError):
            raise BenchError(f"not caller identity JSON: {stdout[:200]!r}") from None
        if role_arn is not None and f":assumed-role/{role_arn.rpartition('/')[2]}/" not in arn:
            raise BenchError(f"caller is {arn}, expected a session of {role_arn}")

    return check


def delete_files(directory: Path) -> Callable[[], None]:
    def clear() -> None:
        if directory.is_dir():
            for entry in directory.iterdir():
                entry.unlink()

    return clear


@dataclass(frozen=True)
class Tool:
    """One credentials provider under test: how to run it once and how to empty its cache."""

    name: str
    argv: list[str]
    role_arn: str
    profile: str  # the profile of the bench's AWS config that uses it
    clear_cache: Callable[[], None]
    check: Check


@dataclass(frozen=True)
class Workspace:
    """bench/.work/run: a fresh HOME, AWS config and caches, so that no user setting leaks in."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def config(self) -> Path:
        return self.home / ".aws" / "config"

    @property
    def credentials(self) -> Path:
        return self.home / ".aws" / "credentials"

    @property
    def credproc_cache(self) -> Path:
        return self.root / "credproc-cache"

    @property
    def cli_cache(self) -> Path:
        return self.home / ".aws" / "cli" / "cache"

    @property
    def aec_cache(self) -> Path:
        return self.root / "aws-export-credentials.json"

    def create(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.config.parent.mkdir(parents=True)
        self.credentials.touch()

    def env(self, endpoint: str) -> dict[str, str]:
        """The whole environment of every measured process: built, not inherited."""
        return {
            "PATH": os.pathsep.join([str(BINDIR), os.defpath]),
            "LANG": "C.UTF-8",
            "HOME": str(self.home),
            "AWS_CONFIG_FILE": str(self.config),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "CREDPROC_CACHE_DIR": str(self.credproc_cache),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": endpoint,
            "HTTP_PROXY": DEAD_PROXY,
            "HTTPS_PROXY": DEAD_PROXY,
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def tools(self, aec: Path | None) -> list[Tool]:
        """credproc first, then the alternatives; `aec` None means credproc alone."""
        credproc = Tool(
            name="credproc",
            argv=[str(CREDPROC), "--role-arn", CREDPROC_ROLE, "--source-profile", "base"],
            role_arn=CREDPROC_ROLE,
            profile="dev",
            clear_cache=delete_files(self.credproc_cache),
            check=check_credentials,
        )
        if aec is None:
            return [credproc]
        naive = Tool(
            name="naive script",
            argv=[sys.executable, str(BENCH / "naive_provider.py"), NAIVE_ROLE, "base"],
            role_arn=NAIVE_ROLE,
            profile="naive",
            clear_cache=lambda: None,
            check=check_credentials,
        )
        cli = Tool(
            name="aws CLI role_arn profile",
            argv=[str(AWS), "--profile", "cli-role", "sts", "get-caller-identity"],
            role_arn=CLI_ROLE,
            profile="cli-role",
            clear_cache=delete_files(self.cli_cache),
            check=check_identity(CLI_ROLE),
        )
        export = Tool(
            name="aws-export-credentials",
            argv=[
                str(aec),
                "--profile",
                "aec-source",
                "--json",
                "--cache-file",
                str(self.aec_cache),
            ],
            role_arn=AEC_ROLE,
            profile="aec",
            clear_cache=lambda: self.aec_cache.unlink(missing_ok=True),
            check=check_credentials,
        )
        return [credproc, naive, cli, export]

    def sized_config(self, count: int) -> Path:
        """The bench's config after `count` other profiles, each a five-line SSO-style block
        (the role's profile comes last: no reader finds it early)."""
        path = self.root / f"config-{count}"
        blocks = ["[sso-session corp]", "sso_start_url = https://corp.awsapps.com/start", ""]
        for i in range(count):
            blocks += [
                f"[profile account-{i:05d}-admin]",
                "sso_session = corp",
                f"sso_account_id = {100000000000 + i}",
                "sso_role_name = AdministratorAccess",
                "region = eu-west-1",
                "",
            ]
        path.write_text("\n".join(blocks) + "\n" + self.config.read_text())
        return path

    def write_config(self, tools: Sequence[Tool]) -> None:
        profiles: dict[str, dict[str, str]] = {
            # AWS's documented example key pair: moto accepts any keys.
            "base": {
                "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
                "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            },
            "cli-role": {"role_arn": CLI_ROLE, "source_profile": "base"},
            "aec-source": {"role_arn": AEC_ROLE, "source_profile": "base"},
            # credproc's options in a profile of their own: `credproc --profile credproc-role`
            # is the same request as the flags form (no region key: the flags give none).
            PROFILE_FORM: {"role_arn": CREDPROC_ROLE, "source_profile": "base"},
        }
        for tool in tools:
            profiles.setdefault(tool.profile, {"credential_process": shlex.join(tool.argv)})
        lines = []
        for name, keys in profiles.items():
            lines += [f"[profile {name}]"]
            lines += [] if name == PROFILE_FORM else ["region = us-east-1"]
            lines += [f"{key} = {value}" for key, value in keys.items()]
            lines.append("")
        self.config.write_text("\n".join(lines))


def ensure_aec_venv(venv: Path) -> Path:
    """aws-export-credentials in a venv of its own, built once and reused while the pins hold."""
    exe = venv / "bin" / "aws-export-credentials"
    stamp = venv / "bench-requirements.txt"
    wanted = "\n".join(AEC_REQUIREMENTS)
    if exe.exists() and stamp.exists() and stamp.read_text() == wanted:
        return exe
    progress(f"building {venv} with {' '.join(AEC_REQUIREMENTS)}")
    shutil.rmtree(venv, ignore_errors=True)
    run_checked([sys.executable, "-m", "venv", str(venv)], os.environ)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    run_checked([*pip, "--disable-pip-version-check", *AEC_REQUIREMENTS], os.environ)
    stamp.write_text(wanted)
    return exe


class Table:
    """A Markdown table with a title and notes; padded, so it reads well on a terminal too."""

    def __init__(self, title: str, headers: Sequence[str], notes: Sequence[str] = ()) -> None:
        self.title = title
        self.headers = list(headers)
        self.rows: list[list[str]] = []
        self.notes = list(notes)

    def add(self, *cells: str) -> None:
        self.rows.append(list(cells))

    def markdown(self) -> str:
        table = [self.headers, *self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(self.headers))]

        def line(cells: Sequence[str]) -> str:
            padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
            return "| " + " | ".join(padded) + " |"

        out = [f"## {self.title}", "", line(self.headers), line(["-" * w for w in widths])]
        out += [line(row) for row in self.rows]
        for note in self.notes:
            out += ["", note]
        return "\n".join(out)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x"


def verdict(hit: float, python: float) -> str:
    """The ratio of a hit to bare python, and whether it is within the budget."""
    return f"{ratio(hit, python)} ({'met' if hit <= HIT_BUDGET * python else 'MISSED'})"


def profile_form_name(count: int) -> str:
    suffix = f", {count:,} other profiles" if count else ""
    return f"credproc --profile, cache hit{suffix}"


def p99(samples: Sequence[float]) -> float:
    """The 99th percentile (with few samples, close to the slowest)."""
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def medians(times: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(samples) for name, samples in times.items()}


@dataclass
class Bench:
    """The measurements, in the order they must run: each leaves the caches as the next needs."""

    settings: Settings
    server: MotoServer
    workspace: Workspace
    tools: list[Tool]
    keys_env: dict[str, str] | None = None  # a running keyring's variables, if there is one
    signin: Any = None  # the Sign-In stand-in of the aws login form (tests/support)
    sso: Any = None  # the IAM Identity Center stand-in of the SSO form (tests/support)
    failures: list[str] = field(default_factory=list)
    hit: float = 0.0  # median seconds of a credproc cache hit, for the cold-path table
    fetch: float | None = None  # median seconds of an endpoint fetch, once measured
    served: float | None = None  # and of a credproc serve fetch
    hit_samples: list[float] = field(default_factory=list)  # every hit's seconds

    @property
    def env(self) -> dict[str, str]:
        return self.workspace.env(self.server.url)

    @property
    def credproc(self) -> Tool:
        return self.tools[0]

    def tool(self, name: str) -> Tool | None:
        return next((tool for tool in self.tools if tool.name == name), None)

    def fail(self, message: str) -> None:
        progress(f"CHECK FAILED: {message}")
        self.failures.append(message)

    def warm_up(self) -> None:
        """One cold run per tool fills its cache, and the server must count exactly one call.

        That also shows that the count works: a broken one would say 0.
        """
        progress("warm-up: one cold run per tool")
        self.server.reset()
        for tool in self.tools:
            tool.clear_cache()
            run_checked(tool.argv, self.env, tool.check)
            calls = self.server.assume_role_calls(tool.role_arn)
            if calls != 1:
                self.fail(f"{tool.name}: a cold run made {calls} AssumeRole calls, expected 1")

    def hit_forms(self) -> tuple[dict[str, list[str]], dict[str, dict[str, str]]]:
        """Every documented form of a credproc hit, with the variables each runs with: flags in
        both spellings, --source-keys, and --profile with configs of each size."""
        flags = self.credproc.argv
        forms = {
            "credproc, cache hit": flags,
            "credproc --flag=value, cache hit": [
                flags[0],
                f"--role-arn={CREDPROC_ROLE}",
                "--source-profile=base",
            ],
        }
        envs: dict[str, dict[str, str]] = {}
        if self.keys_env is not None:
            forms["credproc --source-keys, cache hit"] = [
                flags[0],
                "--role-arn",
                CREDPROC_ROLE,
                "--source-keys",
                KEYS_NAME,
            ]
        forms[WRAP_FORM] = [str(CREDPROC), "wrap", "--", sys.executable, "-c", wrapped_script(self)]
        if self.signin is not None:
            forms[LOGIN_HIT] = [str(CREDPROC), "--profile", LOGIN_FORM]
            envs[LOGIN_HIT] = dict(self.signin.env)
        if self.sso is not None:
            forms[SSO_HIT] = [str(CREDPROC), "--profile", SSO_FORM]
            envs[SSO_HIT] = dict(self.sso.env)
        for count in self.settings.config_sizes:
            name = profile_form_name(count)
            forms[name] = [str(CREDPROC), "--profile", PROFILE_FORM]
            if count:
                envs[name] = {"AWS_CONFIG_FILE": str(self.workspace.sized_config(count))}
        return forms, envs

    def check_wrapped_runs(self) -> None:
        """The wrap form's command ran once, in its warm-up: every timed run was a hit."""
        runs = len(self.wrapped_runs.read_text().splitlines())
        if runs != 1:
            self.fail(f"credproc wrap: its command ran {runs} times, expected 1 (no hit)")

    @property
    def wrapped_runs(self) -> Path:
        """Where the command of the wrap form counts its runs: one, the rest are hits."""
        return self.workspace.root / "wrapped-runs"

    def add_source_keys(self) -> None:
        """`credproc keys add` into the running keyring, and one cold --source-keys run."""
        assert self.keys_env is not None
        keys = {
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        }
        env = {**self.env, **self.keys_env}
        run_checked([str(CREDPROC), "keys", "add", KEYS_NAME, "--from-env"], {**env, **keys})
        argv = [str(CREDPROC), "--role-arn", CREDPROC_ROLE, "--source-keys", KEYS_NAME]
        run_checked(argv, env, check_credentials)

    def warm_login_form(self, forms: dict[str, list[str]], envs: dict[str, dict[str, str]]) -> int:
        """One run of the aws login form (its own entry: the identity's credentials), and the
        Sign-In calls so far: its hits must make none."""
        if self.signin is None:
            return 0
        run_checked(forms[LOGIN_HIT], {**self.env, **envs[LOGIN_HIT]}, check_credentials)
        return int(self.signin.count("CreateOAuth2Token"))

    def warm_sso_form(self, forms: dict[str, list[str]], envs: dict[str, dict[str, str]]) -> None:
        """The SSO role's cold run: its one GetRoleCredentials call; its hits make none."""
        if self.sso is not None:
            run_checked(forms[SSO_HIT], {**self.env, **envs[SSO_HIT]}, check_credentials)

    def check_stand_ins(self, renewals: int) -> None:
        """The aws login and SSO forms' hits called their stand-ins not once."""
        if self.signin is not None and self.signin.count("CreateOAuth2Token") != renewals:
            self.fail("the aws login form renewed its session during its cache hits")
        if self.sso is not None and (made := self.sso.count("GetRoleCredentials")) != 1:
            self.fail(f"the SSO form: {made} GetRoleCredentials calls, expected 1 (its cold run)")

    def login_notes(self, times: dict[str, float], python: float) -> list[str]:
        if self.signin is None:
            return ["No aws login form: the login extra (cryptography) is not installed."]
        return [
            "The aws login form serves a login_session profile's own credentials from the"
            f" cache: {verdict(times[LOGIN_HIT], python)}."
        ]

    def hot_path(self) -> Table:
        runs = self.settings.hot_runs
        progress(f"hot path: {runs} interleaved runs per command")
        naive, aec = self.tool("naive script"), self.tool("aws-export-credentials")
        if self.keys_env is not None:
            self.add_source_keys()
        forms, envs = self.hit_forms()
        commands = {"python -c pass": [sys.executable, "-c", "pass"], **forms}
        if aec is not None:
            commands["aws-export-credentials, cache hit"] = aec.argv
        if naive is not None:
            commands["naive script, STS every call"] = naive.argv
        cached = [tool for tool in (self.credproc, aec) if tool is not None]
        # The same entry as the flags.
        run_checked(forms[profile_form_name(0)], self.env, check_credentials)
        run_checked(forms[WRAP_FORM], self.env, check_credentials)  # the wrapped command's run
        renewals = self.warm_login_form(forms, envs)
        self.warm_sso_form(forms, envs)
        before = {tool.name: self.server.assume_role_calls(tool.role_arn) for tool in cached}

        samples = time_interleaved(commands, self.env, runs, envs=envs)
        self.hit_samples = samples["credproc, cache hit"]
        times = medians(samples)
        plain = {name: argv for name, argv in commands.items() if name not in envs}
        hyperfine = hyperfine_medians(plain, self.env, runs, self.workspace.root / "hyperfine.json")

        self.check_wrapped_runs()
        for tool in cached:
            made = self.server.assume_role_calls(tool.role_arn) - before[tool.name]
            if made:
                self.fail(f"{tool.name}: {made} AssumeRole calls during its cache hits, expected 0")
        self.check_stand_ins(renewals)
        python = times["python -c pass"]
        self.hit = times["credproc, cache hit"]
        smallest = times[profile_form_name(0)]
        largest = max(self.settings.config_sizes)
        biggest = times[profile_form_name(largest)]
        slowest = max(forms, key=lambda name: times[name])
        notes = [
            "`python -c pass` is the interpreter that runs credproc, in the same venv: both pay the"
            " same start-up, site-packages `.pth` files included.",
            f"Every credproc form runs the console script pip {version('pip')} installed, as"
            " pipx installs it: the SSO form an sso_session profile's role (its token from the"
            " IAM Identity Center stand-in, a sign-in's left in ~/.aws/sso/cache), the aws login"
            " form a login_session profile, the wrap form `credproc wrap -- python -c ...`.",
            f"Goal: every credproc hit form within {HIT_BUDGET}x bare python; the slowest,"
            f" {slowest}: {verdict(times[slowest], python)}.",
            f"Goal: a --profile hit with {largest:,} other profiles in the config within"
            f" {SIZE_BUDGET}x the same hit with none: {ratio(biggest, smallest)}"
            f" ({'met' if biggest <= SIZE_BUDGET * smallest else 'MISSED'}).",
            "The other profiles are SSO-style blocks of five lines (sso_session, sso_account_id,"
            " sso_role_name, region), before the role's own profile.",
        ]
        if self.keys_env is None:
            notes.append("No --source-keys form: no Secret Service (gnome-keyring) to hold keys.")
        notes += self.login_notes(times, python)
        if aec is not None:
            aec_hit = times["aws-export-credentials, cache hit"]
            notes.append(
                f"Goal: credproc hit >= 5x faster than aws-export-credentials hit:"
                f" {ratio(aec_hit, self.hit)} ({'met' if aec_hit >= 5 * self.hit else 'MISSED'}).",
            )
        headers = ["command", "median ms", "vs python", "vs credproc hit"]
        if hyperfine is not None:
            headers.append("hyperfine median ms")
            notes.append(
                "hyperfine made its own runs after the bench's: where the columns disagree, the"
                " machine's load changed in between."
            )
        table = Table(f"Hot path: one call, {runs} interleaved runs each", headers, notes)
        for name, median in times.items():
            cells = [name, ms(median), ratio(median, python), ratio(median, self.hit)]
            if hyperfine is not None:
                cells.append(ms(hyperfine[name]) if name in hyperfine else "-")
            table.add(*cells)
        return table

    def endpoint(self) -> Table:
        """`credproc exec --server`: fetches from its endpoint against the warm cache."""
        count = self.settings.endpoint_fetches
        fetches = self.endpoint_fetches()
        fetch, hit = statistics.median(fetches), self.hit
        goal = "met" if fetch <= ENDPOINT_GOAL else "MISSED"
        table = Table(
            "Endpoint: `credproc exec --server`, fetches from a warm cache",
            ["one fetch of the role's credentials", "runs", "median ms", "p99 ms"],
            [
                "A fetch is what an SDK's container provider sends: a GET of the endpoint's URL"
                " with the token, on a new loopback connection, answered from the cache by the"
                " credproc process that stays running; a credential_process hit starts a whole"
                " process. The fetches run one after another in the command.",
                f"Goal: a fetch within {ms(ENDPOINT_GOAL)} ms: {ms(fetch)} ({goal});"
                f" {ratio(hit, fetch)} faster than a credential_process hit.",
                "The serve row: `credproc serve` on loopback answering the same fetch for a"
                " grant, its token read from the grant's file for each fetch as the SDKs do.",
            ],
        )
        table.add("endpoint fetch, cache hit", str(count), ms(fetch), ms(p99(fetches)))
        # credproc serve: the same fetch with a grant's token file, from the server for
        # containers (bench/serve_fetch.py), on the profile form of the same request.
        progress(f"endpoint: {self.settings.serve_fetches} fetches from `credproc serve`")
        before = self.server.assume_role_calls(CREDPROC_ROLE)
        served_fetches = serve_fetches(
            self.credproc.argv[0], PROFILE_FORM, self.settings.serve_fetches, self.env
        )
        self.served = statistics.median(served_fetches)
        table.add(
            "serve fetch, cache hit",
            str(len(served_fetches)),
            ms(statistics.median(served_fetches)),
            ms(p99(served_fetches)),
        )
        made = self.server.assume_role_calls(CREDPROC_ROLE) - before
        if made:
            self.fail(f"serve: {made} AssumeRole calls while serving a warm cache, expected 0")
        table.add(
            "credproc credential_process, cache hit",
            str(len(self.hit_samples)),
            ms(hit),
            ms(p99(self.hit_samples)),
        )
        return table

    def endpoint_fetches(self) -> list[float]:
        """Seconds of each fetch from `credproc exec --server`'s endpoint, one after another."""
        count = self.settings.endpoint_fetches
        progress(f"endpoint: {count} fetches from `credproc exec --server`")
        before = self.server.assume_role_calls(CREDPROC_ROLE)
        fetcher = [sys.executable, str(BENCH / "endpoint_fetch.py"), str(count)]
        served = run_checked(
            [*self.credproc.argv[:1], "exec", "--server", *self.credproc.argv[1:], "--", *fetcher],
            self.env,
        )
        fetches: list[float] = json.loads(served.stdout)
        made = self.server.assume_role_calls(CREDPROC_ROLE) - before
        if made:
            self.fail(f"endpoint: {made} AssumeRole calls while serving a warm cache, expected 0")
        self.fetch = statistics.median(fetches)
        return fetches

    def warm_commands(self) -> Table:
        """env in each format, exec -- true and cache list on a warm cache, next to the hit,
        then the first run after an edit of the AWS config (the index misses; the entry is
        fresh). Every run through the installed console script."""
        runs = self.settings.hot_runs
        progress(f"warm commands: {runs} interleaved runs per command, then {runs} after edits")
        flags = self.credproc.argv[1:]
        true = shutil.which("true", path=self.env["PATH"]) or "/bin/true"
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "true": [true],
            "credproc, cache hit": self.credproc.argv,
            **{
                f"credproc env --format {name}": [str(CREDPROC), "env", "--format", name, *flags]
                for name in ENV_FORMATS
            },
            "credproc exec -- true": [str(CREDPROC), "exec", *flags, "--", "true"],
            "credproc cache list": [str(CREDPROC), "cache", "list"],
        }
        largest = max(self.settings.config_sizes)
        big = profile_form_name(largest)
        commands[big] = [str(CREDPROC), "--profile", PROFILE_FORM]
        envs = {big: {"AWS_CONFIG_FILE": str(self.workspace.sized_config(largest))}}
        time.sleep(0.06)  # older than what the index records (core.index), as a real config
        fenced = [name for name in commands if name.startswith(("credproc env", "credproc exec"))]
        for name in [*fenced, big]:  # the long way once, which records the command line
            run_checked(commands[name], {**self.env, **envs.get(name, {})})
        for name in ["credproc, cache hit", big, *fenced]:
            env = {**self.env, **envs.get(name, {}), **IMPORTTIME}
            profiled = run_checked(commands[name], env)
            modules = imported_modules(profiled.stderr)
            banned = [p for p in BANNED_ON_HIT if any(m.partition(".")[0] == p for m in modules)]
            if banned or "credproc.cli.main" in modules:
                self.fail(f"{name}: not answered through the fence ({', '.join(banned)})")
        before = self.server.assume_role_calls(CREDPROC_ROLE)
        times = medians(time_interleaved(commands, self.env, runs, envs=envs))
        edited, bare = self._after_edits(runs)
        made = self.server.assume_role_calls(CREDPROC_ROLE) - before
        if made:
            self.fail(f"warm commands: {made} AssumeRole calls on a warm cache, expected 0")
        python = times["python -c pass"]
        python_true = python + times["true"]
        big_time = times[big]
        slowest_env = max((n for n in times if n.startswith("credproc env")), key=times.__getitem__)
        exec_time = times["credproc exec -- true"]

        def met(value: float, goal: float) -> str:
            return "met" if value <= goal else "MISSED"

        table = Table(
            f"Warm commands: {runs} interleaved runs each, a warm cache",
            ["command", "median ms", "vs python", "vs credproc hit"],
            [
                f"Every credproc run is the console script pip {version('pip')} installed, as a"
                " client or a shell runs it; env and exec name the role by flags"
                " (`--role-arn ... --source-profile base`), and were run once the long way"
                " first. `vs python` for exec -- true is against `python -c pass` plus `true`.",
                f"The first run after an edit: {runs} rounds of appending a comment to the AWS"
                " config, waiting until the edit is older than what the index records, then"
                " `credproc --profile credproc-role` (the record of its command line no longer"
                " holds, the token is cached) and `python -c pass`, in turns.",
                f"Goal: a warm env (any format) within {WARM_BUDGET}x bare python; the slowest,"
                f" {slowest_env}: {ratio(times[slowest_env], python)}"
                f" ({met(times[slowest_env], WARM_BUDGET * python)}).",
                f"Goal: a warm exec -- true within {WARM_BUDGET}x bare python plus true:"
                f" {ratio(exec_time, python_true)} ({met(exec_time, WARM_BUDGET * python_true)}).",
                f"Goal: the first run after an edit within {EDIT_BUDGET}x bare python:"
                f" {ratio(edited, bare)} ({met(edited, EDIT_BUDGET * bare)}).",
                f"Goal: the hit within {HIT_GOAL}x bare python with {largest:,} other profiles"
                f" in the config too: {ratio(big_time, python)}"
                f" ({met(big_time, HIT_GOAL * python)}).",
            ],
        )
        hit = times["credproc, cache hit"]
        for name, median in times.items():
            base = python_true if name == "credproc exec -- true" else python
            table.add(name, ms(median), ratio(median, base), ratio(median, hit))
        table.add(
            "first run after an edit of the AWS config",
            ms(edited),
            ratio(edited, bare),
            ratio(edited, hit),
        )
        if self.fetch is not None:
            table.add(
                "endpoint fetch of credproc exec --server (in-process, no start-up)",
                ms(self.fetch),
                ratio(self.fetch, python),
                ratio(self.fetch, hit),
            )
        if self.served is not None:
            table.add(
                "endpoint fetch of credproc serve (a grant's token file, no start-up)",
                ms(self.served),
                ratio(self.served, python),
                ratio(self.served, hit),
            )
        return table

    def _after_edits(self, runs: int) -> tuple[float, float]:
        """Median seconds of the first run after each of ``runs`` edits of the AWS config, and
        of a bare python start in the same rounds."""
        argv = [str(CREDPROC), "--profile", PROFILE_FORM]
        config = self.workspace.config
        original = config.read_text()
        edited: list[float] = []
        bare: list[float] = []
        try:
            for i in range(runs + 1):
                with config.open("a") as file:
                    file.write(f"# edit {i}\n")
                # What the index may record must be older than 50 ms (core.index): a person's
                # edit is, and then this run records its resolution as a real one would.
                time.sleep(0.06)
                took = time_once(argv, self.env)
                start = time_once([sys.executable, "-c", "pass"], self.env)
                if i:  # the first round loads the files into the page cache
                    edited.append(took)
                    bare.append(start)
        finally:
            config.write_text(original)
        return statistics.median(edited), statistics.median(bare)

    def end_to_end(self) -> Table:
        runs = self.settings.e2e_runs
        progress(f"end to end: {runs} interleaved `aws sts get-caller-identity` runs per profile")
        providers: dict[str, tuple[str, str | None]] = {"base": ("static keys", None)}
        for tool in self.tools:
            providers[tool.profile] = (tool.name, tool.role_arn)
        commands = {p: [str(AWS), "--profile", p, "sts", "get-caller-identity"] for p in providers}
        checks = {profile: check_identity(role) for profile, (_, role) in providers.items()}
        times = medians(time_interleaved(commands, self.env, runs, checks))
        static = times["base"]
        table = Table(
            f"End to end: `aws --profile P sts get-caller-identity`, warm caches, {runs} runs each",
            ["profile", "credentials from", "median ms", "vs static keys"],
            [
                f"credproc (profile dev) / static keys: {ratio(times['dev'], static)}."
                " Each run is a whole AWS CLI process.",
            ],
        )
        for profile, (provider, _) in providers.items():
            table.add(profile, provider, ms(times[profile]), ratio(times[profile], static))
        return table

    def cold_path(self) -> Table:
        runs = self.settings.cold_runs
        progress(f"cold path: {runs} credproc refreshes")
        samples = []
        for _ in range(runs):
            self.credproc.clear_cache()
            samples.append(time_once(self.credproc.argv, self.env))
        self.credproc.clear_cache()
        profiled = run_checked(self.credproc.argv, {**self.env, **IMPORTTIME}, check_credentials)
        total = statistics.median(samples)
        sdk = import_seconds(profiled.stderr, SDK_PACKAGES)
        table = Table(
            f"Cold path: one credproc refresh (cache emptied first), {runs} runs",
            ["part", "ms"],
            [
                "The import share comes from one more run under `-X importtime`, which slows"
                " imports a little: treat the split as approximate. For scale: the Rust SDK"
                " gives a credential process 5 s in all.",
            ],
        )
        table.add("cold refresh, median wall time", ms(total))
        table.add("cold refresh, slowest run", ms(max(samples)))
        table.add("importing boto3 + botocore (and what they import)", ms(sdk))
        table.add(
            "the rest: interpreter, credproc, STS client, AssumeRole, cache write", ms(total - sdk)
        )
        table.add("for comparison: a cache hit", ms(self.hit))
        return table

    def hit_imports(self) -> Table:
        progress("imports on a cache hit")
        profiled = run_checked(self.credproc.argv, {**self.env, **IMPORTTIME}, check_credentials)
        modules = imported_modules(profiled.stderr)
        found = [p for p in BANNED_ON_HIT if any(m.partition(".")[0] == p for m in modules)]
        if found:
            self.fail(f"a credproc cache hit imports {', '.join(found)}")
        table = Table("Imports on a credproc cache hit (`-X importtime`)", ["what", "value"])
        table.add("modules imported, the interpreter's own included", str(len(modules)))
        table.add("import time, ms", ms(import_seconds(profiled.stderr)))
        table.add(
            "of the modules credproc.core.hit bans (BANNED_ON_HIT)",
            ", ".join(found) or "none imported",
        )
        slowest = slowest_imports(profiled.stderr, 5)
        table.add("slowest outermost imports, ms", ", ".join(f"{n} {ms(s)}" for n, s in slowest))
        return table

    def concurrency(self) -> Table:
        levels = self.settings.concurrency
        progress(f"concurrency: {', '.join(map(str, levels))} cold processes at once per tool")
        table = Table(
            "Concurrency: N cold processes started at once, AssumeRole calls counted at the server",
            ["tool", *(f"N={n}: calls (wall s)" for n in levels)],
            [
                "For each cell: the tool's cache emptied, the server reset, then N copies of the"
                " tool's command (for the AWS CLI: `aws --profile cli-role sts"
                " get-caller-identity`) spawned, held at a gate and released together. Wall time"
                " runs from the release to the last exit.",
                "A tool without a lock makes anywhere from 1 to N calls: as many as reach their"
                " cache check before the first one has written the cache. On 2 busy cores that"
                " depends on scheduling and varies from run to run; on a machine with a core per"
                " process it approaches N. credproc's 1 comes from its lock, whatever the timing.",
            ],
        )
        for tool in self.tools:
            cells = []
            for n in levels:
                self.server.reset()
                tool.clear_cache()
                wall = burst(tool.argv, self.env, n, tool.check)
                calls = self.server.assume_role_calls(tool.role_arn)
                cells.append(f"{calls} ({wall:.2f})")
                if tool is self.credproc and calls != 1:
                    self.fail(f"credproc: {n} processes at once made {calls} AssumeRole calls")
                if tool.name == "naive script" and calls != n:
                    self.fail(f"the server counted {calls} calls for {n} naive runs: count is off")
            table.add(tool.name, *cells)
        return table


def version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def environment_table(aec: Path | None, load: tuple[float, float]) -> Table:
    uname = platform.uname()
    hyperfine = shutil.which("hyperfine")
    table = Table("Machine and versions", ["what", "value"])
    table.add("machine (uname -srm)", f"{uname.system} {uname.release} {uname.machine}")
    table.add("CPU", cpu_model())
    table.add("cores (nproc)", str(len(os.sched_getaffinity(0))))
    # Taken before the bursts, which load the machine themselves.
    table.add("load average (1 min): start, before the bursts", f"{load[0]:.2f}, {load[1]:.2f}")
    table.add("Python", platform.python_version())
    for distribution in ("credproc", "pip", "boto3", "botocore", "awscli", "moto"):
        table.add(distribution, version(distribution))
    table.add("aws-export-credentials", "skipped" if aec is None else " ".join(AEC_REQUIREMENTS))
    if hyperfine is not None:
        table.add("hyperfine", run_checked([hyperfine, "--version"], os.environ).stdout.strip())
    else:
        table.add("hyperfine", "not installed")
    return table


def report(command: str, elapsed: float, tables: Sequence[Table], failures: Sequence[str]) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# credproc benchmark",
        "",
        f"`{command}`, {now}, {elapsed:.0f} s in all. These are the numbers of one run on a",
        "small shared machine, so they are noisy: compare the ratios more than the milliseconds.",
        "Every STS call goes to a local moto server on 127.0.0.1, so an STS call here costs",
        "loopback latency only; against real STS each one costs a network round trip more.",
        "",
    ]
    for table in tables:
        lines += [table.markdown(), ""]
    lines += ["## Checks", ""]
    lines += [f"- FAILED: {failure}" for failure in failures] or ["- all passed"]
    return "\n".join(lines) + "\n"


def measure(settings: Settings, skip_alternatives: bool) -> tuple[list[Table], list[str]]:
    for exe in (CREDPROC, AWS):
        if not exe.exists():
            raise BenchError(f"no {exe}: run `pip install -e '.[test]'` for {sys.executable}")
    load_before = os.getloadavg()[0]
    aec = None if skip_alternatives else ensure_aec_venv(WORK / "venvs" / "aws-export-credentials")
    workspace = Workspace(WORK / "run")
    workspace.create()
    tools = workspace.tools(aec)
    workspace.write_config(tools)
    with (
        MotoServer(workspace.root / "moto.log") as server,
        keyring(workspace) as keys_env,
        signed_in(workspace) as signin,
        sso_signed_in(workspace) as sso,
    ):
        bench = Bench(settings, server, workspace, tools, keys_env, signin, sso)
        bench.warm_up()
        hot = bench.hot_path()
        endpoint = bench.endpoint()
        warm = bench.warm_commands()
        e2e = bench.end_to_end()
        cold = bench.cold_path()
        imports = bench.hit_imports()
        load = (load_before, os.getloadavg()[0])
        concurrency = bench.concurrency()
    tables = [environment_table(aec, load), hot, endpoint, warm, e2e, concurrency, cold, imports]
    return tables, bench.failures


def measure_warm(settings: Settings) -> tuple[list[Table], list[str]]:
    """The warm commands' part of the bench alone (``--warm-only``): the endpoints' fetches
    (`exec --server`'s and `serve`'s) for their rows, then the warm commands."""
    if not CREDPROC.exists():
        raise BenchError(f"no {CREDPROC}: run `pip install -e '.[test]'` for {sys.executable}")
    load = os.getloadavg()[0]
    workspace = Workspace(WORK / "run")
    workspace.create()
    tools = workspace.tools(None)
    workspace.write_config(tools)
    with MotoServer(workspace.root / "moto.log") as server:
        bench = Bench(settings, server, workspace, tools)
        bench.warm_up()
        bench.endpoint_fetches()
        served = serve_fetches(str(CREDPROC), PROFILE_FORM, settings.serve_fetches, bench.env)
        bench.served = statistics.median(served)
        warm = bench.warm_commands()
    return [environment_table(None, (load, os.getloadavg()[0])), warm], bench.failures


def replace_section(document: str, table: Table) -> str:
    """``document`` with ``table``'s section (from its title to the next) in place of the one
    of the same name, or before the checks if it has none."""
    heading = f"## {table.title.split(':')[0]}:"
    lines = document.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        start = end = next(i for i, line in enumerate(lines) if line == "## Checks")
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
    return "\n".join([*lines[:start], table.markdown(), "", *lines[end:]]) + "\n"


@contextlib.contextmanager
def keyring(workspace: Workspace) -> Iterator[dict[str, str] | None]:
    """A Secret Service (gnome-keyring on a private D-Bus, as the tests run it) for the
    --source-keys form, if the machine has one; its variables, else None."""
    if not (shutil.which("dbus-daemon") and shutil.which("gnome-keyring-daemon")):
        yield None
        return
    sys.path.insert(0, str(BENCH.parent / "tests"))
    from support.secretservice import running_secret_service  # noqa: PLC0415 - on sys.path now

    with running_secret_service(workspace.home, workspace.root / "secret-service") as service:
        yield dict(service.env)


@contextlib.contextmanager
def signed_in(workspace: Workspace) -> Iterator[Any]:
    """A Sign-In stand-in (the tests') and a session of it as `aws login` leaves one, for the
    aws login form's profile; None if the login extra (cryptography) is missing."""
    if importlib.util.find_spec("cryptography") is None:
        yield None
        return
    sys.path.insert(0, str(BENCH.parent / "tests"))
    from support.signinserver import running_signin  # noqa: PLC0415 - on sys.path now

    with running_signin() as stand_in:
        stand_in.identity = LOGIN_IDENTITY
        identity, document = stand_in.session_document()
        name = hashlib.sha256(identity.encode()).hexdigest()
        path = workspace.home / ".aws" / "login" / "cache" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(json.dumps(document))
        with workspace.config.open("a") as config:
            config.write(f"\n[profile {LOGIN_FORM}]\nlogin_session = {identity}\n")
        yield stand_in


@contextlib.contextmanager
def sso_signed_in(workspace: Workspace) -> Iterator[Any]:
    """The IAM Identity Center stand-in (the tests') and a session of it as a sign-in leaves
    one: its access token in ~/.aws/sso/cache, an [sso-session] and the SSO form's profile."""
    sys.path.insert(0, str(BENCH.parent / "tests"))
    from support.ssoserver import running_sso  # noqa: PLC0415 - on sys.path now

    with running_sso() as stand_in:
        access = f"bench-{os.urandom(16).hex()}"
        expires = time.time() + stand_in.token_seconds
        with stand_in.lock:  # what the stand-in's token exchange records for a sign-in
            stand_in.access_tokens[access] = expires
        document = {
            "startUrl": "https://bench.awsapps.com/start",
            "region": "eu-west-1",
            "accessToken": access,
            "expiresAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
        }
        name = hashlib.sha1(SSO_SESSION.encode(), usedforsecurity=False).hexdigest()
        path = workspace.home / ".aws" / "sso" / "cache" / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(json.dumps(document))
        account = stand_in.accounts[0]
        with workspace.config.open("a") as config:
            config.write(
                f"\n[sso-session {SSO_SESSION}]\nsso_start_url = {document['startUrl']}\n"
                f"sso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n"
                f"\n[profile {SSO_FORM}]\nsso_session = {SSO_SESSION}\n"
                f"sso_account_id = {account.account_id}\nsso_role_name = {account.roles[0]}\n"
                "region = eu-west-1\n"
            )
        yield stand_in


def _terminate(signum: int, frame: FrameType | None) -> NoReturn:
    # SIGTERM (a CI timeout, `kill`) ends Python without unwinding: make it a SystemExit so
    # that the finally blocks stop the moto server and any burst still running.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark credproc against the alternatives.")
    parser.add_argument("--quick", action="store_true", help="few runs, N <= 8: a smoke test")
    parser.add_argument(
        "--skip-alternatives",
        action="store_true",
        help="measure credproc alone (against python and static keys): no extra venv to build",
    )
    parser.add_argument(
        "--warm-only",
        action="store_true",
        help="measure the warm commands alone and put their table into the results file",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    signal.signal(signal.SIGTERM, _terminate)
    started = time.perf_counter()
    try:
        if args.warm_only:
            tables, failures = measure_warm(settings)
        else:
            tables, failures = measure(settings, args.skip_alternatives)
    except (BenchError, subprocess.TimeoutExpired, OSError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    command = shlex.join(["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)])
    text = report(command, time.perf_counter() - started, tables, failures)
    print(text)
    if args.warm_only and settings.results.exists():
        # One table from its own run, named as such, into the last full run's results.
        warm = tables[-1]
        machine = {row[0]: row[1] for row in tables[0].rows}
        load = machine["load average (1 min): start, before the bursts"].split(", ")
        warm.notes.insert(
            0,
            f"From `{command}`, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, a run of"
            f" its own (load average {load[0]} at its start, {load[1]} at its end;"
            f" Python {machine['Python']}, pip {machine['pip']}).",
        )
        if failures:
            warm.notes.append("Checks: " + "; ".join(f"FAILED: {f}" for f in failures))
        text = replace_section(settings.results.read_text(), warm)
    settings.results.write_text(text)
    progress(f"wrote {settings.results}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
