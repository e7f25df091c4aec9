"""Hostile input, generated: every bad value fails locally, in one line, before any STS call.

Two layers, both in-process: hypothesis on the validators, checking what they accept against
STS's documented limits written out here independently of credproc's own patterns; and
hypothesis on whole command lines through ``cli.main``. The tables of bad command lines run as
real subprocesses are in test_bad_input.py.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support.constants import ROLE
from support.sandbox import Sandbox

from credproc.cli import main as cli
from credproc.config.options import RawOptions
from credproc.config.resolve import build
from credproc.core.request import Request
from credproc.errors import ConfigError, UsageError

# Documented exit codes (errors.py); 1 means an internal error, which bad input must never cause.
DOCUMENTED_EXITS = {0, 2, 3, 4, 5, 6, 7, 8}


# -- the validators against STS's documented limits ------------------------------------------

# Written from the STS and IAM API references, not from credproc's patterns: ASCII-only \w.
_ASCII_WORD = "A-Za-z0-9_"
STS_ROLE_ARN = re.compile(
    rf"arn:aws(-[a-z]+)*:iam::[0-9]{{12}}:role(/[\x21-\x7e]+)*/[{_ASCII_WORD}+=,.@-]{{1,64}}"
)
STS_SESSION_NAME = re.compile(rf"[{_ASCII_WORD}+=,.@-]{{2,64}}")
STS_EXTERNAL_ID = re.compile(rf"[{_ASCII_WORD}+=,.@:/-]{{2,1224}}")
STS_POLICY_ARN = re.compile(r"arn:aws(-[a-z]+)*:iam::([0-9]{12}|aws):policy/[\x21-\x7e]+")
STS_MFA_SERIAL = re.compile(rf"[{_ASCII_WORD}+=/:,.@-]{{9,256}}")


def _sts_tag_text(text: str) -> bool:
    """STS's tag pattern [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]."""
    return all(unicodedata.category(c)[0] in "LZN" or c in "_.:/=+-@" for c in text)


def check_valid_assume_role(request: Request) -> None:
    """Everything STS documents about an AssumeRole request, checked independently."""
    assert request.role_arn is not None
    assert STS_ROLE_ARN.fullmatch(request.role_arn), request.role_arn
    assert 20 <= len(request.role_arn) <= 2048
    assert STS_SESSION_NAME.fullmatch(request.role_session_name)
    assert 900 <= request.duration <= 43200
    assert 900 <= request.mfa_duration <= 129600
    assert 0 <= request.refresh_window < request.duration
    assert 0 < request.lock_timeout <= 3600
    if request.external_id is not None:
        assert STS_EXTERNAL_ID.fullmatch(request.external_id)
    if request.source_identity is not None:
        assert STS_SESSION_NAME.fullmatch(request.source_identity)
    if request.policy is not None:
        assert len(request.policy) <= 2048
        document = json.loads(request.policy, parse_constant=_no_constants)
        assert isinstance(document, dict)
    assert len(request.policy_arns) <= 10
    for arn in request.policy_arns:
        assert STS_POLICY_ARN.fullmatch(arn)
        assert 20 <= len(arn) <= 2048
    assert len(request.tags) <= 50
    keys = [key.lower() for key, _ in request.tags]
    assert len(set(keys)) == len(keys)
    for key, value in request.tags:
        assert 1 <= len(key) <= 128
        assert len(value) <= 256
        assert _sts_tag_text(key)
        assert _sts_tag_text(value)
    assert len(request.transitive_tag_keys) <= 50
    assert {k.lower() for k in request.transitive_tag_keys} <= set(keys)
    if request.mfa_serial is not None:
        assert STS_MFA_SERIAL.fullmatch(request.mfa_serial)
    if request.region is not None:
        assert re.fullmatch(r"[a-z]{2,}(-[a-z0-9]+)+", request.region)


def _no_constants(name: str) -> object:
    raise AssertionError(f"{name} is not JSON")


# Values that sit on or near the limits, mixed with arbitrary text: the shrinker then finds the
# smallest value on the wrong side of any limit.
_anything = st.text(max_size=80)
_unicode_word = st.text(
    alphabet=st.characters(categories=["L", "N", "Pc", "Pd", "Po", "Zs"]), min_size=1, max_size=70
)
_ints = st.integers(min_value=-10, max_value=200_000).map(str)
_roles = st.one_of(
    st.sampled_from(
        [ROLE, "arn:aws-cn:iam::123456789012:role/a/b/c", "arn:aws:iam::123456789012:user/u"]
    ),
    st.builds(
        "arn:{}:iam::{}:role/{}{}".format,
        st.sampled_from(["aws", "aws-us-gov", "aws:x", "AWS"]),
        st.one_of(st.from_regex(r"[0-9]{12}", fullmatch=True), st.text(max_size=13)),
        st.sampled_from(["", "path/", "a b/", "é/"]),
        st.one_of(st.from_regex(r"[\w+=,.@-]{1,66}", fullmatch=True), _unicode_word),
    ),
    _anything,
)
_names = st.one_of(st.none(), st.from_regex(r"[\w+=,.@-]{1,66}", fullmatch=True), _unicode_word)
_json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)
_policies = st.one_of(
    st.none(),
    _json_values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.dictionaries(st.text(max_size=5), st.text(max_size=500), max_size=6).map(json.dumps),
    _anything.filter(lambda text: not text.startswith("@")),  # @ reads a file: not this test's
)
_tags = st.lists(
    st.one_of(
        st.builds("{}={}".format, _unicode_word, st.text(max_size=260)),
        st.from_regex(r"[\w .:/=+@-]{1,130}=[\w .:/=+@-]{0,258}", fullmatch=True),
        _anything,
    ),
    max_size=52,
)
# Hostile values for each option...
_HOSTILE: dict[str, st.SearchStrategy[object]] = {
    "role_arn": _roles,
    "role_session_name": _names,
    "duration": st.one_of(_ints, _anything),
    "external_id": st.from_regex(r"[\w+=,.@:/-]{1,1230}", fullmatch=True),
    "source_identity": _names,
    "policy": _policies,
    "policy_arns": st.lists(
        st.one_of(st.sampled_from(["arn:aws:iam::aws:policy/ReadOnly", ROLE]), _anything),
        max_size=11,
    ),
    "tags": _tags,
    "transitive_tag_keys": st.lists(st.one_of(st.just("k"), _unicode_word), max_size=3),
    "region": st.one_of(st.sampled_from(["us-gov-west-1", "eu-west-1 "]), _anything),
    "refresh_window": st.one_of(_ints, _anything),
    "lock_timeout": st.one_of(st.floats().map(str), _anything),
    "mfa_serial": _anything,
    "mfa_duration": _ints,
}
# ...and ordinary ones, so that a good share of requests is accepted and checked.
_ORDINARY: dict[str, st.SearchStrategy[object]] = {
    "role_arn": st.from_regex(
        r"arn:aws:iam::[0-9]{12}:role/([a-z]{1,5}/){0,2}[A-Za-z0-9_+=,.@-]{1,64}", fullmatch=True
    ),
    "role_session_name": st.none() | st.from_regex(r"[A-Za-z0-9_+=,.@-]{2,64}", fullmatch=True),
    "duration": st.none() | st.integers(900, 43200).map(str),
    "external_id": st.none() | st.from_regex(r"[A-Za-z0-9_+=,.@:/-]{2,40}", fullmatch=True),
    "source_identity": st.none() | st.from_regex(r"[A-Za-z0-9_+=,.@-]{2,64}", fullmatch=True),
    "policy": st.none() | st.just('{"Version": "2012-10-17", "Statement": []}'),
    "policy_arns": st.lists(st.just("arn:aws:iam::aws:policy/ReadOnlyAccess"), max_size=10),
    "tags": st.lists(st.sampled_from(["team=core", "env=dev", "cost:centre=42"]), unique=True),
    "transitive_tag_keys": st.just([]),
    "region": st.none() | st.just("eu-west-1"),
    "refresh_window": st.none() | st.integers(0, 899).map(str),
    "lock_timeout": st.none() | st.floats(0.1, 3600).map(str),
    "mfa_serial": st.none() | st.just("arn:aws:iam::123456789012:mfa/me"),
    "mfa_duration": st.none() | st.integers(900, 129600).map(str),
}


@st.composite
def _raw_options(draw: st.DrawFn) -> RawOptions:
    """Up to three hostile options among ordinary ones."""
    hostile = draw(st.sets(st.sampled_from(sorted(_HOSTILE)), max_size=3))
    values = {
        name: draw(_HOSTILE[name] if name in hostile else _ORDINARY[name]) for name in _HOSTILE
    }
    return RawOptions(values)


@settings(max_examples=400, deadline=None)
@given(raw=_raw_options())
def test_validators_accept_only_valid_assume_role_requests(raw: RawOptions) -> None:
    try:
        request = build(raw, {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
    except (UsageError, ConfigError) as error:
        event(type(error).__name__)
        message = str(error)
        assert message
        assert "\n" not in message
        return
    event("accepted")
    check_valid_assume_role(request)


@settings(max_examples=300, deadline=None)
@given(values=st.fixed_dictionaries(_ORDINARY))
def test_valid_values_are_accepted_as_given(values: dict[str, object]) -> None:
    """The other side: a validator that refused everything would pass the test above."""
    if values["mfa_serial"] is None:
        values = {**values, "mfa_duration": None}  # it needs a device: not a single value
    request = build(RawOptions(values), {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"})

    check_valid_assume_role(request)
    assert request.role_arn == values["role_arn"]
    for name in ("external_id", "source_identity", "region", "mfa_serial"):
        assert getattr(request, name) == values[name]
    if values["duration"] is not None:
        assert request.duration == int(str(values["duration"]))
    assert request.policy_arns == tuple(values["policy_arns"])  # type: ignore[arg-type]
    assert [f"{k}={v}" for k, v in request.tags] == values["tags"]


# -- whole command lines through cli.main ------------------------------------------------------

_SAFE_COMMANDS = ["echo 123456", "false", "echo not-a-code"]


@pytest.fixture
def in_process(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """cli.main in this process, seeing exactly the sandbox's environment."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "CREDPROC_")):
            monkeypatch.delenv(name)
    for name, value in sandbox.env.items():
        monkeypatch.setenv(name, value)
    sandbox.add_profile("dev", role_arn=ROLE, source_profile="base")
    sandbox.add_profile("loop", role_arn=ROLE, source_profile="loop")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    return scratch


def _argv(scratch: Path) -> st.SearchStrategy[list[str]]:
    """Command lines from credproc's own vocabulary, with paths kept inside ``scratch`` and
    commands that are harmless: this runs in the test process, as root."""
    paths = st.sampled_from([str(scratch / "a"), str(scratch / "b" / "c"), str(scratch)])
    valued = {
        "--role-arn": _roles,
        "--profile": st.sampled_from(["dev", "base", "loop", "nope", ""]),
        "--source-profile": st.sampled_from(["base", "dev", "nope", ""]),
        "--role-session-name": _names.map(lambda v: v or ""),
        "--duration": _ints,
        "--external-id": _anything,
        "--source-identity": _anything,
        "--policy": _policies.map(lambda v: v or "{}"),
        "--policy-arn": _anything,
        "--tag": _anything,
        "--transitive-tag-key": _anything,
        "--region": st.sampled_from(["eu-west-1", "nowhere", ""]),
        "--mfa-serial": st.sampled_from(["arn:aws:iam::123456789012:mfa/me", "x"]),
        "--mfa-token-command": st.sampled_from(_SAFE_COMMANDS),
        "--mfa-duration": _ints,
        "--web-identity-token-file": paths,
        "--cache-dir": paths,
        "--refresh-window": _ints,
        "--lock-timeout": st.sampled_from(["1", "0", "-1", "x", "inf"]),
        "--log-file": paths,
        "--format": st.sampled_from(["sh", "fish", "dotenv", "xml"]),
        "--name": st.sampled_from(["new", "dev", "base", "", "two words"]),
    }
    flags = ["--no-cache", "-v", "--debug", "--json", "--all", "--help", "--version", "--"]
    flags += ["--write", "--force"]
    option = st.one_of(
        st.sampled_from(sorted(valued)).flatmap(
            lambda name: valued[name].map(lambda value: [name, value])
        ),
        st.sampled_from(flags).map(lambda flag: [flag]),
        _anything.map(lambda word: [word]),
    )
    head = st.sampled_from(
        [[], ["env"], ["cache", "list"], ["cache", "clear"], ["cache"], ["configure"], ["doctor"]]
    )
    body = st.lists(option, max_size=8).map(lambda parts: [w for part in parts for w in part])

    def without_terminal_prompt(argv: list[str]) -> list[str]:
        # The MFA prompt opens /dev/tty, which a developer's pytest may have: never ask there.
        return [*argv, "--mfa-token-command", "echo 123456"] if "--mfa-serial" in argv else argv

    return st.tuples(head, body).map(lambda hb: without_terminal_prompt(hb[0] + hb[1]))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_main_never_raises_and_prints_nothing_on_failure(
    in_process: Path, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    argv = data.draw(_argv(in_process))
    assert not argv or argv[0] != "exec"  # exec would replace the test process
    capsys.readouterr()

    code = cli.main(argv)

    out, err = capsys.readouterr()
    event(f"exit {code}")
    assert code in DOCUMENTED_EXITS, (argv, err)
    if code == 0:
        credential_process = argv[:1] not in (["env"], ["cache"], ["configure"], ["doctor"])
        if credential_process and "--help" not in argv and "--version" not in argv:
            assert json.loads(out)["Version"] == 1
        return
    if argv[:1] == ["doctor"]:  # its report of verdicts is its output, pass or fail
        return
    assert out == ""
    error_lines = [line for line in err.splitlines() if line.startswith("credproc: error: ")]
    assert len(error_lines) == 1, err
    if "--debug" not in argv:
        assert err.endswith(error_lines[0] + "\n")


def test_main_twice_in_one_process_warns_on_each_runs_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # others can write: every run warns that it will not use it
    for flags in (["-v"], [], ["--debug"], []):
        assert cli.main(["cache", "list", "--cache-dir", str(shared), *flags]) == 0
        out, err = capsys.readouterr()
        assert out == "no cached tokens\n"
        assert err.count("not using the cache dir") == 1, (flags, err)
