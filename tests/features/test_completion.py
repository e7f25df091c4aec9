"""`credproc completion bash|zsh|fish`: each script loaded into the real shell, completing
real command lines: bash and zsh at a terminal (pexpect) where Tab runs the shell's own
completion machinery, bash's function also called with COMP_WORDS set, fish through
`complete -C`. Profile names come from the sandbox's AWS files, read at each Tab."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest
from support.sandbox import Sandbox
from support.tools import require

from credproc.config.syntax import COMMANDS

pytestmark = pytest.mark.integration

ROLE = "arn:aws:iam::123456789012:role/x"
DUMP = "\x18\x04"  # Ctrl-X Ctrl-D: bound to print the line being edited, then clear it


@pytest.fixture
def profiles(sandbox: Sandbox) -> Sandbox:
    sandbox.add_profile("dev", region="eu-west-1")
    sandbox.add_profile("dev-role", role_arn=ROLE, source_profile="base")
    return sandbox


class Terminal:
    """An interactive shell at a terminal: type a line, press Tab, read the line back."""

    def __init__(self, program: str, args: list[str], sandbox: Sandbox, setup: str) -> None:
        env = {**sandbox.env, "TERM": "dumb", "PS1": "$ "}
        self.shell = pexpect.spawn(
            program, args, env=env, cwd=str(sandbox.home), encoding="utf-8", timeout=20
        )
        self.shell.sendline(f"{setup}; echo set''up done")
        self.shell.expect_exact("setup done")

    def tab(self, text: str) -> str:
        """The line after typing ``text`` and one Tab."""
        self.shell.send(text + "\t" + DUMP)
        self.shell.expect(r"LINE<(.*?)>")
        return str(self.shell.match.group(1))

    def listing(self, text: str) -> str:
        """What the shell shows for ``text`` and two Tabs (the candidates, when several)."""
        self.shell.send(text + "\t\t" + DUMP)
        self.shell.expect(r"LINE<(.*?)>")
        return str(self.shell.before)

    def close(self) -> None:
        self.shell.sendline("exit")
        self.shell.expect(pexpect.EOF)
        self.shell.close()


@pytest.fixture
def bash(profiles: Sandbox) -> Iterator[Terminal]:
    setup = (
        "source <(credproc completion bash); "
        'bind -x \'"\\C-x\\C-d": printf "LINE<%s>\\n" "$READLINE_LINE"; READLINE_LINE=\''
    )
    terminal = Terminal(require("bash"), ["--norc", "--noprofile", "-i"], profiles, setup)
    yield terminal
    terminal.close()


ZSH_DUMP = (
    "dump() { print -r -- \"LINE<$BUFFER>\"; BUFFER=; }; zle -N dump; bindkey '^X^D' dump; "
    "autoload -Uz compinit"
)


def zsh_terminal(sandbox: Sandbox, load: str) -> Terminal:
    return Terminal(require("zsh"), ["-f", "-i"], sandbox, f"{ZSH_DUMP}; {load}")


@pytest.fixture
def zsh(profiles: Sandbox) -> Iterator[Terminal]:
    terminal = zsh_terminal(profiles, "compinit -u -D; source <(credproc completion zsh)")
    yield terminal
    terminal.close()


LINES = [
    # (typed, the line after Tab)
    ("credproc en", "credproc env "),
    ("credproc env --fo", "credproc env --format "),
    ("credproc env --format f", "credproc env --format fish "),
    ("credproc env --format=po", "credproc env --format=powershell "),
    ("credproc --profile dev-r", "credproc --profile dev-role "),
    ("credproc --profile=dev-r", "credproc --profile=dev-role "),
    (
        f"credproc --role-arn {ROLE} --source-profile b",
        f"credproc --role-arn {ROLE} --source-profile base ",
    ),
    ("credproc cache cl", "credproc cache clear "),
    ("credproc cache clear --al", "credproc cache clear --all "),
    ("credproc doctor dev-", "credproc doctor dev-role "),
    ("credproc --mfa-prompt ze", "credproc --mfa-prompt zenity "),
    ("credproc completion z", "credproc completion zsh "),
    ("credproc --cache-dir .aw", "credproc --cache-dir .aws/"),
    ("credproc --cache-dir=.aw", "credproc --cache-dir=.aws/"),
    ("credproc --policy @.aws/con", "credproc --policy @.aws/config "),
]


@pytest.mark.parametrize(("typed", "completed"), LINES)
def test_bash_completes_at_the_terminal(bash: Terminal, typed: str, completed: str) -> None:
    assert bash.tab(typed) == completed


@pytest.mark.parametrize(("typed", "completed"), LINES)
def test_zsh_completes_at_the_terminal(zsh: Terminal, typed: str, completed: str) -> None:
    assert zsh.tab(typed) == completed


def test_bash_and_zsh_complete_the_command_after_double_dash(bash: Terminal, zsh: Terminal) -> None:
    # The first word is a command from PATH; later ones are the command's own business.
    assert bash.tab("credproc exec --profile dev -- ech") == "credproc exec --profile dev -- echo "
    assert zsh.tab("credproc exec -- printen") == "credproc exec -- printenv "


def test_profile_names_are_read_at_each_tab(bash: Terminal, profiles: Sandbox) -> None:
    assert bash.tab("credproc --profile pro") == "credproc --profile pro"
    profiles.add_profile("prod-admin", role_arn=ROLE, source_profile="base")
    assert bash.tab("credproc --profile pro") == "credproc --profile prod-admin "


def test_a_broken_config_offers_no_profile_and_no_error(bash: Terminal, profiles: Sandbox) -> None:
    profiles.config.write_text("[profile dev\nnot an ini file\n")
    (profiles.home / ".aws" / "credentials").write_text("[keys-only]\naws_access_key_id = A\n")
    listing = bash.listing("credproc --profile ")
    assert "keys-only" in listing  # the credentials file still counts
    assert "dev-role" not in listing
    assert "error" not in listing.lower()


def test_bash_lists_the_candidates(bash: Terminal) -> None:
    # Every command, once, and nothing else: the lines between the prompt and its echo.
    listing = bash.listing("credproc ").replace("\r", "").split("\n")
    shown = " ".join(line for line in listing if not line.startswith("$ credproc")).split()
    assert sorted(shown) == sorted(COMMANDS), listing


def test_bash_function_with_comp_words(profiles: Sandbox) -> None:
    # COMP_WORDS as bash splits them (at = and :), and `complete -p`, without a terminal.
    script = """
source <(credproc completion bash)
ask() { COMP_LINE=$1; COMP_POINT=${#1}; shift; COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _credproc
        printf '%s,' "${COMPREPLY[@]}"; echo; }
ask 'credproc --profile d' credproc --profile d
ask 'credproc env --format=' credproc env --format =
ask 'credproc --role-arn arn:aws:iam::1:role/x --source-profile ' \\
    credproc --role-arn arn : aws : iam :: 1 : role/x --source-profile ''
ask 'credproc cache ' credproc cache ''
complete -p credproc
"""
    result = profiles.run([require("bash"), "--norc", "--noprofile", "-c", script])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "dev,dev-role,",
        "sh,fish,powershell,dotenv,bash,zsh,",
        "base,dev,dev-role,",
        "list,clear,",
        "complete -F _credproc credproc",
    ]
    assert result.stderr == ""


def test_zsh_lists_candidates_with_descriptions(zsh: Terminal) -> None:
    listing = zsh.listing("credproc ")
    assert "env" in listing
    assert "-- Print shell lines that export the role's credentials." in listing
    listing = zsh.listing("credproc --pro")
    assert "--profile" in listing


def test_zsh_autoloads_it_from_fpath(profiles: Sandbox, tmp_path: Path) -> None:
    functions = tmp_path / "zfunc"
    functions.mkdir()
    script = profiles.credproc("completion", "zsh")
    assert script.returncode == 0
    (functions / "_credproc").write_text(script.stdout)
    load = f"fpath=({functions} $fpath); compinit -u -D"
    terminal = zsh_terminal(profiles, load)
    try:
        assert (
            terminal.tab("credproc --source-profile dev-") == "credproc --source-profile dev-role "
        )
    finally:
        terminal.close()


def fish_complete(sandbox: Sandbox, line: str) -> list[str]:
    script = sandbox.home / "credproc.fish"
    if not script.exists():
        script.write_text(sandbox.credproc("completion", "fish").stdout)
    fish = require("fish")
    command = f"source {script}; complete -C {pexpect_quote(line)}"
    result = sandbox.run([fish, "--no-config", "-c", command])
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


def pexpect_quote(text: str) -> str:
    """``text`` as one fish word: single quotes, with \\ and ' escaped."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("credproc env --format f", ["fish"]),
        ("credproc env --format=", [f"--format={f}" for f in ("sh", "fish", "powershell")]),
        ("credproc --profile dev", ["dev", "dev-role"]),
        ("credproc --source-profile=b", ["--source-profile=base"]),
        (
            "credproc cache ",
            ["clear\tremove cached tokens", "list\tone row per cached token, no secrets"],
        ),
        ("credproc --cache-dir .aw", [".aws/"]),
        ("credproc --policy @.aws/con", ["@.aws/config"]),
    ],
)
def test_fish_completes(profiles: Sandbox, line: str, expected: list[str]) -> None:
    found = [item.rstrip("\t") for item in fish_complete(profiles, line)]
    assert [item for item in expected if item not in found] == []


def test_fish_shows_commands_and_flags_with_their_help(profiles: Sandbox) -> None:
    found = fish_complete(profiles, "credproc ")
    commands = [item for item in found if not item.startswith("-")]
    assert sorted(commands) == sorted(f"{name}\t{c.summary}" for name, c in COMMANDS.items())
    flags = dict(item.split("\t", 1) for item in fish_complete(profiles, "credproc env --"))
    assert flags["--format"].startswith("sh (the default")
    assert flags["--profile"] == "take the options below from [profile NAME] in the AWS config"


def test_fish_completes_the_command_after_double_dash(profiles: Sandbox) -> None:
    found = fish_complete(profiles, "credproc exec -- printen")
    assert any(item.split("\t")[0] == "printenv" for item in found), found
