"""The commands, by name: each a module imported only when run, so that adding commands never
slows the default one (a cache hit). Every module has ``add_arguments(parser)`` and
``run(args) -> int``; only ``cli`` calls them.
"""

from __future__ import annotations

from typing import NamedTuple


class Command(NamedTuple):
    module: str  # credproc.cli.commands.<module>
    summary: str  # the first line of its --help
    takes_command: bool = False  # a command line follows "--"


# The default command: `credproc [options]`, what credential_process runs.
DEFAULT = Command(
    "process", "Print credential_process JSON for an assumed role, cached until it nears expiry."
)
COMMANDS = {
    "env": Command("env", "Print shell lines that export the role's credentials."),
    "exec": Command(
        "exec",
        "Run a command with the role's credentials (no command: your $SHELL; --server: from a "
        "local endpoint that keeps them fresh).",
        True,
    ),
    "cache": Command("cache", "List or clear cached tokens."),
    "configure": Command("configure", "Print (or append) a profile block that uses credproc."),
    "doctor": Command("doctor", "Check a profile or role setup end to end, one verdict per line."),
    "console": Command("console", "Open the AWS console as the role, from the cached session."),
    "keys": Command("keys", "Keep IAM users' long-term keys in the OS keyring (--source-keys)."),
    # The words after "--" are the command line being completed.
    "completion": Command(
        "completion", "Print a shell completion script: bash, zsh or fish.", True
    ),
}
