"""credproc's command line, declared once as data: the commands, the option table's options
each takes, and each one's own arguments.

Everything that reads or offers a credproc command line derives from this: the argparse
parsers (``parser``), the reader of the default command's ordinary lines (``cli.fastargs``), shell
completion (``cli.completion``), the reader of ``credential_process`` lines (``cmdline``) and
``cli.main``'s dispatch. A command is a module of ``credproc.cli.commands`` that does the work
(see the contract there); what it accepts is written here, so the grammar is known without
importing any command. Read on every run that resolves the default command's options (a hit,
``core.hit``, does not): plain records, no argparse.
"""

from __future__ import annotations

from .limits import CONSOLE_SECONDS
from .options import (
    BY_DEST,
    CACHE_DIR_OPTION,
    CONSOLE_OPTIONS,
    OPTIONS,
    OUTPUT_OPTIONS,
    PATH,
    PROFILE,
    ROLE_OPTIONS,
    SESSION,
    WRAP_REQUEST_OPTIONS,
    Option,
)

# env's output formats, the first the default; other names people type for them (bash and zsh
# read sh's lines as they are).
ENV_FORMATS = ("sh", "fish", "powershell", "dotenv")
ENV_FORMAT_ALIASES = {"bash": "sh", "zsh": "sh"}
# credproc serve: where it listens unless told, and serve env's formats, the first the default.
DEFAULT_SERVE_ADDRESS = "127.0.0.1:9911"
SERVE_ENV_FORMATS = ("env", "docker", "compose")
# The shells ``credproc completion`` has a script for.
SHELLS = ("bash", "zsh", "fish")
DEFAULT_CONSOLE_SECONDS = 3600
DEFAULT_CONSOLE_REGION = "us-east-1"
DEFAULT_VERIFY_TIMEOUT = 60.0  # IAM spreads a new key to STS within seconds, rarely more
MAX_VERIFY_TIMEOUT = 600.0
# How `sso populate` names the profiles it writes (config.populate).
DEFAULT_SSO_TEMPLATE = "{account_name}.{role_name}"
# Where the chosen action of a command with actions (``cache list``) is found in the arguments.
ACTION = "action"


class Argument:
    """A command's own argument, not in the option table: a flag, or a positional (no flags).

    A plain class, not a named tuple: this module is read on every run that resolves its
    options, and building a named tuple's class costs more than all the declarations below."""

    __slots__ = (
        "choices",
        "default",
        "dest",
        "exclusive",
        "flags",
        "help",
        "many",
        "metavar",
        "optional",
        "required",
        "section",
        "switch",
    )

    def __init__(
        self,
        dest: str,
        help: str,
        flags: tuple[str, ...] = (),  # the long flag last, as in the table
        *,
        metavar: str | None = None,
        switch: bool = False,  # takes no value
        choices: tuple[str, ...] = (),
        default: object = None,
        required: bool = False,
        optional: bool = False,  # a positional that may be left out
        exclusive: str = "",  # the arguments that share a non-empty name exclude each other
        section: str = "",  # its heading in --help; "" puts it with -h
        many: bool = False,  # a flag that may be repeated; a positional that takes 1 or more
    ) -> None:
        self.dest = dest
        self.help = help
        self.flags = flags
        self.metavar = metavar
        self.switch = switch
        self.choices = choices
        self.default = default
        self.required = required
        self.optional = optional
        self.exclusive = exclusive
        self.section = section
        self.many = many

    def help_text(self) -> str:
        return self.help

    def __repr__(self) -> str:
        return f"Argument({self.dest!r})"


# Every parser's own flags, and the default command's --version.
HELP = Argument("help", "show this help and exit", ("-h", "--help"), switch=True)
VERSION = Argument("version", "show the version", ("--version",), switch=True)


class Command:
    """A command (or an action of one: ``cache list``) and everything it accepts; a plain
    class for the reason ``Argument`` is."""

    __slots__ = (
        "actions",
        "arguments",
        "epilog",
        "name",
        "options",
        "summary",
        "takes_command",
        "usage",
    )

    def __init__(
        self,
        name: str,  # "" for the default command
        summary: str,  # the first line of its --help
        options: tuple[Option, ...] = (),  # from the table, in the table's order
        arguments: tuple[Argument, ...] = (),
        *,
        actions: tuple[Command, ...] = (),  # the first word after the command picks one
        takes_command: bool = False,  # a command line follows "--"
        usage: str | None = None,  # --help's usage line, where argparse's own would mislead
        epilog: str | None = None,
    ) -> None:
        self.name = name
        self.summary = summary
        self.options = options
        self.arguments = arguments
        self.actions = actions
        self.takes_command = takes_command
        self.usage = usage
        self.epilog = epilog

    def __repr__(self) -> str:
        return f"Command({self.name!r})"

    def flags(self) -> tuple[Option | Argument, ...]:
        """Everything that starts with a dash here: -h (and the default command's --version),
        the table's options, the command's own flags."""
        own = (HELP, VERSION) if self.name == "" else (HELP,)
        return (*own, *self.options, *(a for a in self.arguments if a.flags))

    def positionals(self) -> tuple[Argument, ...]:
        return tuple(argument for argument in self.arguments if not argument.flags)

    def action(self, name: str) -> Command | None:
        return next((action for action in self.actions if action.name == name), None)


_JSON = Argument("json", "print a JSON array", ("--json",), switch=True)
# The session a `credproc sso` action works on: a profile's, or an [sso-session NAME].
_SSO_SESSION = (
    Argument(
        "profile",
        "the session of this profile (its sso_session, or a legacy one)",
        ("--profile",),
        metavar=PROFILE,
        exclusive="session",
    ),
    Argument(
        "sso_session",
        "the [sso-session NAME] section",
        ("--sso-session",),
        metavar=SESSION,
        exclusive="session",
    ),
)
_KEYS_GENERAL = (BY_DEST["lock_timeout"], *OUTPUT_OPTIONS)
_KEY_NAME = Argument("name", "a name from credproc keys list", metavar="NAME")
# credproc serve: the options every profile it serves is resolved with (over the profile's
# own keys, as flags are), and what a grant is named by.
SERVER_OPTION_DESTS = (
    "duration",
    "mfa_prompt",
    "sso_login",
    "login",
    "cache_dir",
    "refresh_window",
    "lock_timeout",
)
_SERVE_OPTIONS = (*(BY_DEST[dest] for dest in SERVER_OPTION_DESTS), *OUTPUT_OPTIONS)
_GRANT_NAME = Argument("grant", "a name from credproc serve list", metavar="GRANT")

# The default command: `credproc [options]`, what credential_process runs.
DEFAULT = Command(
    "",
    "Print credential_process JSON for an assumed role, cached until it nears expiry.",
    OPTIONS,
)

COMMANDS: dict[str, Command] = {
    command.name: command
    for command in (
        Command(
            "env",
            "Print shell lines that export the role's credentials.",
            OPTIONS,
            (
                Argument(
                    "format",
                    "sh (the default; bash and zsh are names for it), fish, powershell or dotenv",
                    ("--format",),
                    choices=(*ENV_FORMATS, *ENV_FORMAT_ALIASES),
                    default=ENV_FORMATS[0],
                ),
            ),
        ),
        Command(
            "exec",
            "Run a command with the role's credentials (no command: your $SHELL; --server: "
            "from a local endpoint that keeps them fresh).",
            OPTIONS,
            (
                Argument(
                    "server",
                    "serve the credentials to the command from a local endpoint that keeps "
                    "them fresh, for a command that outlives a token (a long job, a shell)",
                    ("--server",),
                    switch=True,
                ),
            ),
            takes_command=True,
            usage="%(prog)s [options] [--server] [-- COMMAND [ARG ...]]",
            epilog="Runs COMMAND with the role's credentials in its environment. With no "
            "command (nothing after --, or no --), starts your $SHELL (else /bin/sh) with them; "
            "exit it to drop them.",
        ),
        Command(
            "cache",
            "List or clear cached tokens.",
            actions=(
                Command(
                    "list",
                    "one row per cached token, no secrets",
                    (*CACHE_DIR_OPTION, *OUTPUT_OPTIONS),
                    (_JSON,),
                ),
                Command(
                    "clear",
                    "remove cached tokens",
                    (*ROLE_OPTIONS, *CACHE_DIR_OPTION, *OUTPUT_OPTIONS),
                    (Argument("all", "remove every cached token", ("--all",), switch=True),),
                ),
            ),
        ),
        Command(
            "configure",
            "Print (or append) a profile block that uses credproc.",
            OPTIONS,
            (
                Argument("name", "the new profile's name", ("--name",), required=True),
                Argument("write", "append it to the config file", ("--write",), switch=True),
                Argument("force", "replace an existing profile", ("--force",), switch=True),
            ),
        ),
        Command(
            "doctor",
            "Check a profile or role setup end to end, one verdict per line.",
            (*OPTIONS, *CONSOLE_OPTIONS),  # the console's: doctor says what it would open
            # What people type first: `credproc doctor dev`.
            (Argument("profile_name", "the same as --profile", metavar=PROFILE, optional=True),),
        ),
        Command(
            "console",
            "Open the AWS console as the role, from the cached session.",
            # --region is the console's own here (below): the role session is the one
            # credential_process gets for the profile, in its STS region, so the two share one
            # cached token.
            (*(option for option in OPTIONS if option.dest != "region"), *CONSOLE_OPTIONS),
            (
                Argument(
                    "destination",
                    "a service (s3, ec2, cloudwatch...) or a https:// console URL (default: home)",
                    ("--destination",),
                    metavar="SERVICE_OR_URL",
                    section="console options",
                ),
                Argument(
                    "print_url",
                    "print the sign-in link on stdout instead of opening a browser",
                    ("--print",),
                    switch=True,
                    section="console options",
                ),
                Argument(
                    "console_duration",
                    f"how long the console session lasts, {CONSOLE_SECONDS[0]}.."
                    f"{CONSOLE_SECONDS[1]} (default {DEFAULT_CONSOLE_SECONDS}; at most what "
                    "the role session has left)",
                    ("--console-duration",),
                    metavar="SECONDS",
                    section="console options",
                ),
                Argument(
                    "region",
                    "the console's region, and the destination's (default: the profile's "
                    f"region, else {DEFAULT_CONSOLE_REGION}); the role session stays in the "
                    "profile's STS region",
                    ("--region",),
                    metavar="REGION",
                    section="console options",
                ),
            ),
        ),
        Command(
            "keys",
            "Keep IAM users' long-term keys in the OS keyring (--source-keys).",
            actions=(
                Command(
                    "add",
                    "store an IAM user's access key in the OS keyring",
                    (BY_DEST["region"], *_KEYS_GENERAL),
                    (
                        Argument("name", "the name for --source-keys NAME", metavar="NAME"),
                        Argument(
                            "from_env",
                            "read AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                            ("--from-env",),
                            switch=True,
                            exclusive="source",
                        ),
                        Argument(
                            "from_profile",
                            "read PROFILE's keys from the credentials file",
                            ("--from-profile",),
                            metavar=PROFILE,
                            exclusive="source",
                        ),
                        Argument(
                            "remove_from_file",
                            "with --from-profile: then delete them there (a private backup "
                            "is kept)",
                            ("--remove-from-file",),
                            switch=True,
                        ),
                        Argument(
                            "no_verify",
                            "skip STS GetCallerIdentity",
                            ("--no-verify",),
                            switch=True,
                        ),
                        Argument(
                            "force",
                            "replace the keys stored as NAME",
                            ("--force",),
                            switch=True,
                        ),
                    ),
                ),
                Command(
                    "list",
                    "names and masked key ids, never a secret",
                    OUTPUT_OPTIONS,
                    (_JSON,),
                ),
                Command(
                    "remove",
                    "delete NAME from the OS keyring (not from IAM)",
                    _KEYS_GENERAL,
                    (_KEY_NAME,),
                ),
                Command(
                    "rotate",
                    "a new key in IAM for NAME, the old one deleted",
                    (BY_DEST["region"], *_KEYS_GENERAL),
                    (
                        _KEY_NAME,
                        Argument(
                            "verify_timeout",
                            "wait this long for STS to accept the new key (default "
                            f"{DEFAULT_VERIFY_TIMEOUT:g})",
                            ("--verify-timeout",),
                            metavar="SECONDS",
                        ),
                    ),
                ),
            ),
        ),
        Command(
            "sso",
            "Sign in to IAM Identity Center (SSO) sessions.",
            actions=(
                Command(
                    "login",
                    "sign in to an SSO session: in the browser (PKCE), or with a device code",
                    (BY_DEST["lock_timeout"], *OUTPUT_OPTIONS),
                    (
                        *_SSO_SESSION,
                        Argument(
                            "use_device_code",
                            "sign in with a code to confirm in any browser (the default where "
                            "no browser opens here)",
                            ("--use-device-code",),
                            switch=True,
                        ),
                        Argument(
                            "no_browser",
                            "print the URL to open instead of opening it",
                            ("--no-browser",),
                            switch=True,
                        ),
                    ),
                ),
                Command(
                    "logout",
                    "sign out of an SSO session: the portal's Logout, its token and its roles' "
                    "cached credentials removed",
                    (*CACHE_DIR_OPTION, BY_DEST["lock_timeout"], *OUTPUT_OPTIONS),
                    _SSO_SESSION,
                ),
                Command(
                    "populate",
                    "write a profile for every account and role the session reaches into the "
                    "AWS config, in a block credproc owns (assignments that are gone are "
                    "removed)",
                    (BY_DEST["sso_login"], BY_DEST["lock_timeout"], *OUTPUT_OPTIONS),
                    (
                        *_SSO_SESSION,
                        Argument(
                            "template",
                            "how profiles are named, from {account_id}, {account_name}, "
                            "{role_name}, {sso_session} and {email}, made safe for a profile "
                            "name (default {account_name}.{role_name})",
                            ("--template",),
                            metavar="TEMPLATE",
                            default=DEFAULT_SSO_TEMPLATE,
                        ),
                        Argument(
                            "region",
                            "the region line of each profile (default: the session's sso_region)",
                            ("--region",),
                            metavar="REGION",
                        ),
                        Argument(
                            "no_prune",
                            "keep the profiles of assignments that are gone (by default they "
                            "are removed)",
                            ("--no-prune",),
                            switch=True,
                        ),
                        Argument(
                            "dry_run",
                            "print the change as a diff; write nothing",
                            ("--dry-run",),
                            switch=True,
                        ),
                        Argument(
                            "check",
                            "as --dry-run, and exit 9 if the config would change (0 if not): "
                            "for scripts",
                            ("--check",),
                            switch=True,
                        ),
                    ),
                ),
            ),
        ),
        Command(
            "wrap",
            "Run another credential process once per token lifetime and cache what it prints.",
            (*WRAP_REQUEST_OPTIONS, *OUTPUT_OPTIONS),
            takes_command=True,
            usage="%(prog)s [options] -- COMMAND [ARG ...]",
            epilog="Runs COMMAND (no shell; your terminal, stdin and stderr passed through) when "
            "no cached answer lives past the refresh window, checks that it printed "
            "credential_process JSON, caches it and prints it. --profile only enters the cache "
            "key. Write it as a profile's credential_process; credproc env, exec and console "
            "--profile read that line and share the cache.",
        ),
        Command(
            "login",
            "Sign in with your AWS console credentials (aws login): a login_session profile "
            "whose credentials renew silently for up to 12 hours.",
            (BY_DEST["lock_timeout"], *OUTPUT_OPTIONS),
            (
                Argument(
                    "profile",
                    "the profile to sign in (created if it does not exist; default: "
                    "AWS_PROFILE, else default)",
                    ("--profile",),
                    metavar=PROFILE,
                ),
                Argument("profile_name", "the same as --profile", metavar=PROFILE, optional=True),
                Argument(
                    "region",
                    "the Sign-In service's region, written to a profile that has none "
                    "(default: the profile's region, else AWS_REGION, else asked)",
                    ("--region",),
                    metavar="REGION",
                ),
                Argument(
                    "remote",
                    "sign in on another device: print a link to open anywhere, then paste the "
                    "code it shows (for SSH, or where no browser opens here)",
                    ("--remote",),
                    switch=True,
                ),
            ),
        ),
        Command(
            "logout",
            "Remove an aws login session and credproc's cached roles built on it.",
            (*CACHE_DIR_OPTION, BY_DEST["lock_timeout"], *OUTPUT_OPTIONS),
            (
                Argument(
                    "profile",
                    "the profile's session (default: AWS_PROFILE, else default)",
                    ("--profile",),
                    metavar=PROFILE,
                    exclusive="which",
                ),
                Argument(
                    "all",
                    "every aws login session on this machine",
                    ("--all",),
                    switch=True,
                    exclusive="which",
                ),
            ),
        ),
        Command(
            "serve",
            "Serve credentials to containers: each reads only the profiles its grant names "
            "(with no action: run the server).",
            _SERVE_OPTIONS,
            (
                Argument(
                    "listen",
                    f"listen on this IP address and port (default {DEFAULT_SERVE_ADDRESS}); "
                    "repeat for more; a public address needs --allow-public",
                    ("--listen",),
                    metavar="ADDRESS:PORT",
                    many=True,
                ),
                Argument(
                    "allow_public",
                    "let --listen take a public address, or every address (0.0.0.0, ::)",
                    ("--allow-public",),
                    switch=True,
                ),
            ),
            actions=(
                Command(
                    "grant",
                    "a token that may read these profiles and nothing else, written to a 0600 "
                    "file (its path is printed)",
                    OUTPUT_OPTIONS,
                    (
                        Argument(
                            "profiles", "the profiles it may read", metavar=PROFILE, many=True
                        ),
                        Argument(
                            "name",
                            "the grant's name (default: the profiles' names joined by +)",
                            ("--name",),
                            metavar="NAME",
                        ),
                        Argument(
                            "out",
                            "write the token to this new file (default: one in credproc's dir)",
                            ("--out",),
                            metavar=PATH,
                        ),
                    ),
                ),
                Command("list", "one row per grant, no token", OUTPUT_OPTIONS, (_JSON,)),
                Command(
                    "revoke",
                    "remove a grant and its token file; a running server refuses it at once",
                    OUTPUT_OPTIONS,
                    (_GRANT_NAME,),
                ),
                Command(
                    "env",
                    "print the container's variables for a grant: NAME=value lines, docker "
                    "run flags or compose lines",
                    OUTPUT_OPTIONS,
                    (
                        _GRANT_NAME,
                        Argument(
                            "address",
                            "the address containers reach the server at (default "
                            f"{DEFAULT_SERVE_ADDRESS}; 169.254.170.2:PORT from a container)",
                            ("--address",),
                            metavar="ADDRESS:PORT",
                        ),
                        Argument(
                            "profile",
                            "which of the grant's profiles (default: its first)",
                            ("--profile",),
                            metavar=PROFILE,
                        ),
                        Argument(
                            "format",
                            "env (NAME=value, the default), docker (run flags) or compose",
                            ("--format",),
                            choices=SERVE_ENV_FORMATS,
                            default=SERVE_ENV_FORMATS[0],
                        ),
                    ),
                ),
            ),
        ),
        # The words after "--" are the command line being completed.
        Command(
            "completion",
            "Print a shell completion script: bash, zsh or fish.",
            OUTPUT_OPTIONS,  # --debug shows why a completion fails
            (Argument("shell", "the shell to complete in", choices=SHELLS),),
            takes_command=True,
            usage="%(prog)s [-h] {bash,zsh,fish}",
            epilog="Prints the script; where to put it is in its first lines. At each Tab it "
            "runs credproc completion SHELL -- WORD... for the candidates.",
        ),
    )
}


def command(name: str) -> Command:
    """``credproc NAME``'s declaration ("" for the default command)."""
    return COMMANDS[name] if name else DEFAULT
