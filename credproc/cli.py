"""The command line: parse, resolve a request, run one command, print. The only printer.

Every failure becomes one line on stderr and a documented exit status (see ``errors``); in the
default mode stdout carries the credential_process JSON and nothing else.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from . import __version__
from .errors import ERROR_PREFIX, CredprocError, UsageError
from .log import quiet_until_warning
from .request import RawOptions, Request, resolve

TYPE_CHECKING = False  # typing's flag without importing typing: see records.py
if TYPE_CHECKING:
    from typing import NoReturn

COMMANDS = ("env", "exec", "cache", "configure", "doctor")
INTERRUPTED = 130  # the shell's code for death by SIGINT


class _Finished(Exception):
    """--help or --version has printed its text: main returns this status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting: errors stay one line, and
    main(argv) returns a status rather than ending the caller's process."""

    def __init__(self, prog: str | None = None, description: str | None = None) -> None:
        # Our own -h: argparse's default one looks its help text up through gettext on every
        # run, which imports locale and probes for translation files.
        super().__init__(
            prog=prog,
            description=description,
            formatter_class=_Formatter,
            allow_abbrev=False,
            add_help=False,
        )
        self.add_argument("-h", "--help", action="help", help="show this help and exit")

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise _Finished(status)


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter with the width found without shutil, which argparse would import
    (with zlib, bz2 and lzma) on every run, help or not: a cache hit cannot afford it."""

    def __init__(self, prog: str) -> None:
        try:
            width = os.get_terminal_size(sys.stderr.fileno()).columns - 2
        except (OSError, ValueError):
            width = 78
        super().__init__(prog, width=max(width, 40))


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        return _run(args_list)
    except _Finished as finished:
        return finished.status
    except CredprocError as error:
        return _fail(str(error), error.exit_code, debug)
    except KeyboardInterrupt:
        return _fail("interrupted", INTERRUPTED, debug=False)
    except Exception as error:  # noqa: BLE001 - a bug must still end in one line, not a trace
        return _fail(f"internal error: {type(error).__name__}: {error}", 1, debug)


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        import traceback  # noqa: PLC0415

        traceback.print_exc()
    sys.stderr.write(f"{ERROR_PREFIX}{_one_line(message)}\n")
    return code


def _one_line(message: str) -> str:
    """Escape what would break the line: argparse echoes arguments (newlines, \\x1e, U+2028)
    verbatim, and clients show stderr to a person or a log that splits on them."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)


def _run(argv: list[str]) -> int:
    if argv and argv[0] in COMMANDS:
        command, rest = argv[0], argv[1:]
    else:
        command, rest = "", argv
    parser = build_parser(command)
    if command == "exec":
        rest, child = _split_command(rest)
        args = parser.parse_args(rest)
        args.command_line = child
    else:
        args = parser.parse_args(rest)
    _setup_logging(args)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def _split_command(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" not in argv:
        if {"-h", "--help"} & set(argv):
            return argv, []  # argparse prints the help and exits
        raise UsageError("exec needs the command after --: credproc exec [options] -- COMMAND")
    split = argv.index("--")
    if split == len(argv) - 1:
        raise UsageError("exec needs a command after --")
    return argv[:split], argv[split + 1 :]


# -- parsers ------------------------------------------------------------------------------


def build_parser(command: str) -> argparse.ArgumentParser:
    prog = f"credproc {command}".strip()
    descriptions = {
        "": "Print credential_process JSON for an assumed role, cached until it nears expiry.",
        "env": "Print shell lines that export the role's credentials.",
        "exec": "Run a command with the role's credentials in its environment.",
        "cache": "List or clear cached tokens.",
        "configure": "Print (or append) a profile block that uses credproc.",
        "doctor": "Check a profile or role setup end to end, one verdict per line.",
    }
    parser = _Parser(prog=prog, description=descriptions[command])
    if command == "":
        parser.add_argument(
            "--version",
            action="version",
            version=f"credproc {__version__}",
            help="show the version",
        )
        parser.epilog = "commands: " + ", ".join(COMMANDS) + " (credproc COMMAND --help)"
    if command == "cache":
        actions = parser.add_subparsers(dest="action", required=True, parser_class=_Parser)
        listing = actions.add_parser("list", help="one row per cached token, no secrets")
        listing.add_argument("--json", action="store_true", help="print a JSON array")
        _add_general(listing, cache_only=True)
        listing.set_defaults(handler=cache_list)
        clearing = actions.add_parser("clear", help="remove cached tokens")
        clearing.add_argument("--all", action="store_true", help="remove every cached token")
        _add_role(clearing)
        _add_general(clearing, cache_only=True)
        clearing.set_defaults(handler=cache_clear)
        return parser
    _add_role(parser)
    _add_general(parser, cache_only=False)
    if command == "env":
        parser.add_argument(
            "--format",
            choices=("sh", "fish", "powershell", "dotenv"),
            default="sh",
            help="sh (also bash and zsh; the default), fish, powershell or dotenv",
        )
    if command == "configure":
        parser.add_argument("--name", required=True, help="the new profile's name")
        parser.add_argument("--write", action="store_true", help="append it to the config file")
        parser.add_argument("--force", action="store_true", help="replace an existing profile")
    handlers = {
        "": credential_process,
        "env": env,
        "exec": exec_,
        "configure": configure,
        "doctor": doctor,
    }
    parser.set_defaults(handler=handlers[command])
    return parser


def _add_role(parser: argparse.ArgumentParser) -> None:
    role = parser.add_argument_group("role options")
    add = role.add_argument
    add("--profile", help="take the options below from [profile NAME] in the AWS config")
    add("--role-arn", metavar="ARN", help="the role to assume")
    add("--source-profile", metavar="NAME", help="profile whose credentials call STS")
    add("--role-session-name", metavar="NAME", help="default: credproc-<your user name>")
    add("--duration", metavar="SECONDS", help="token lifetime, 900..43200 (default 3600)")
    add("--external-id", metavar="ID", help="ExternalId the role's trust policy demands")
    add("--source-identity", metavar="ID", help="SourceIdentity to set on the session")
    add("--policy", metavar="JSON_OR_@FILE", help="inline session policy")
    add(
        "--policy-arn",
        dest="policy_arns",
        action="append",
        default=[],
        metavar="ARN",
        help="managed session policy (repeat, at most 10)",
    )
    add(
        "--tag",
        dest="tags",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="session tag (repeat, at most 50)",
    )
    add(
        "--transitive-tag-key",
        dest="transitive_tag_keys",
        action="append",
        default=[],
        metavar="KEY",
        help="tag key to pass on to chained roles (repeat)",
    )
    add("--region", help="STS region (default: the source profile's or the environment's)")
    add("--mfa-serial", metavar="ARN_OR_SERIAL", help="MFA device: one code per MFA session")
    add("--mfa-token-command", metavar="CMD", help="command whose stdout is the 6-digit code")
    add(
        "--mfa-duration",
        metavar="SECONDS",
        help="MFA session lifetime, 900..129600 (default 43200)",
    )
    add(
        "--web-identity-token-file",
        metavar="PATH",
        help="OIDC token file: AssumeRoleWithWebIdentity",
    )


def _add_general(parser: argparse.ArgumentParser, *, cache_only: bool) -> None:
    general = parser.add_argument_group("general options")
    add = general.add_argument
    add("--cache-dir", metavar="PATH", help="default: the user cache dir; env CREDPROC_CACHE_DIR")
    if not cache_only:
        add("--no-cache", action="store_true", help="always call STS and write nothing")
        add(
            "--refresh-window",
            metavar="SECONDS",
            help="refresh when less than this remains (default 900); env CREDPROC_REFRESH_WINDOW",
        )
        add(
            "--lock-timeout",
            metavar="SECONDS",
            help="wait this long for another refresh (default 60); env CREDPROC_LOCK_TIMEOUT",
        )
    add("-v", "--verbose", action="store_true", help="say what happens, on stderr")
    add("--debug", action="store_true", help="more detail, and tracebacks on errors")
    add("--log-file", metavar="PATH", help="append diagnostics here; env CREDPROC_LOG_FILE")


def _setup_logging(args: argparse.Namespace) -> None:
    log_file = args.log_file or os.environ.get("CREDPROC_LOG_FILE")
    if not (args.verbose or args.debug or log_file):
        quiet_until_warning()
        return
    from .log import configure  # noqa: PLC0415 - imports logging

    configure(verbose=args.verbose, debug=args.debug, log_file=log_file)


# -- the request --------------------------------------------------------------------------


def request_from(args: argparse.Namespace) -> Request:
    """The request the command line describes, resolved as ``request.resolve`` does."""
    return resolve(flags_from(args), os.environ)


def flags_from(args: argparse.Namespace) -> RawOptions:
    """The role options as given on the command line (a command may lack some)."""
    given = {name: getattr(args, name, None) for name in RawOptions._fields}
    return RawOptions().updated(
        {
            name: tuple(value) if isinstance(value, list) else value
            for name, value in given.items()
            if value is not None
        }
    )


# -- the commands -------------------------------------------------------------------------


def credential_process(args: argparse.Namespace) -> int:
    from .provider import get_credentials  # noqa: PLC0415

    credentials = get_credentials(request_from(args))
    # One write of the whole document: nothing partial on stdout, whatever happens after.
    sys.stdout.write(credentials.to_process_json() + "\n")
    sys.stdout.flush()
    return 0


def env(args: argparse.Namespace) -> int:
    from .shell import render  # noqa: PLC0415

    sys.stdout.write(render(_role_environment(args), args.format))
    return 0


def exec_(args: argparse.Namespace) -> int:
    variables = _role_environment(args)
    child_env = {k: v for k, v in os.environ.items() if k not in _PROFILE_VARIABLES}
    child_env.update(variables)
    command: list[str] = args.command_line
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        # Become the command: signals reach it directly and its exit status is ours.
        try:
            os.execvpe(command[0], command, child_env)  # noqa: S606
        except OSError as error:
            return _fail(
                f"cannot run {command[0]!r}: {error.strerror}", _shell_status(error), False
            )
    import subprocess  # noqa: PLC0415

    try:
        return subprocess.call(command, env=child_env)
    except OSError as error:
        return _fail(f"cannot run {command[0]!r}: {error.strerror}", _shell_status(error), False)


def _shell_status(error: OSError) -> int:
    """What a shell returns for a command it cannot find (127) or cannot execute (126)."""
    return 127 if isinstance(error, FileNotFoundError) else 126


# The child must use the role, not the profile its parent used to run credproc.
_PROFILE_VARIABLES = frozenset({"AWS_PROFILE", "AWS_DEFAULT_PROFILE"})


def _role_environment(args: argparse.Namespace) -> dict[str, str]:
    from .awsconfig import region_for  # noqa: PLC0415
    from .provider import get_credentials  # noqa: PLC0415

    request = request_from(args)
    variables = get_credentials(request).to_env()
    region = region_for(request, os.environ)
    if region:
        variables["AWS_REGION"] = variables["AWS_DEFAULT_REGION"] = region
    return variables


def cache_list(args: argparse.Namespace) -> int:
    import json  # noqa: PLC0415

    from .cache import Cache  # noqa: PLC0415
    from .request import cache_dir_from  # noqa: PLC0415

    rows = [
        entry.summary() for entry in Cache(cache_dir_from(args.cache_dir, os.environ)).entries()
    ]
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not rows:
        sys.stdout.write("no cached tokens\n")
        return 0
    columns = ["role", "source", "session_name", "expires", "left", "state"]
    if any(row["sts_clock"] != "-" for row in rows):
        # EXPIRES is in this machine's clock and LEFT by STS's: say when the two differ.
        columns.append("sts_clock")
    table = [[c.upper().replace("_", " ") for c in columns]]
    table += [[str(row[c]) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        sys.stdout.write(
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() + "\n"
        )
    return 0


def cache_clear(args: argparse.Namespace) -> int:
    from .cache import Cache  # noqa: PLC0415
    from .request import cache_dir_from  # noqa: PLC0415

    if args.all:
        role_options = set(RawOptions._fields) - {"cache_dir"}
        if args.profile or any(getattr(args, n, None) for n in role_options):
            raise UsageError("cache clear takes --all or role options, not both")
        cache = Cache(cache_dir_from(args.cache_dir, os.environ))
        removed = sum(cache.remove(entry.key) for entry in list(cache.entries()))
    else:
        if not (args.role_arn or args.profile or args.mfa_serial):
            raise UsageError("cache clear needs --all, or the role options of the entry to clear")
        # The request's own cache dir: a profile may name one with credproc_cache_dir.
        request = request_from(args)
        assert request.cache_dir is not None  # noqa: S101 - cache clear has no --no-cache
        removed = int(Cache(request.cache_dir).remove(request.key))
    sys.stdout.write(f"removed {removed} cached token{'s' if removed != 1 else ''}\n")
    return 0


def configure(args: argparse.Namespace) -> int:
    from .awsconfig import check_source, config_path, config_section_name  # noqa: PLC0415
    from .configure import (  # noqa: PLC0415
        command_line,
        credproc_command,
        profile_block,
        write_profile,
    )

    if args.force and not args.write:
        raise UsageError("--force replaces a profile in the config file: it needs --write")
    flags = flags_from(args)
    request = resolve(flags, os.environ)  # the same validation as every other command
    if args.name in (flags.profile, request.source_profile):
        which = "--profile" if args.name == flags.profile else "the source profile"
        raise UsageError(f"--name {args.name!r} is also {which}: the profile would use itself")
    check_source(request, os.environ)
    line = command_line(credproc_command(os.environ), flags, request)
    block = profile_block(args.name, line, request.region)
    if args.write:
        written = write_profile(config_path(os.environ), args.name, block, force=args.force)
        sys.stderr.write(
            f"credproc: {'replaced' if written.replaced else 'added'} "
            f"[{config_section_name(args.name)}] in {written.path}"
            + (f"; the previous file is {written.backup}\n" if written.backup else "\n")
        )
    sys.stdout.write(block)
    return 0


def doctor(args: argparse.Namespace) -> int:
    from .doctor import diagnose  # noqa: PLC0415

    labels = {"ok": "ok", "warn": "warn", "fail": "FAIL"}
    status = 0
    for check in diagnose(flags_from(args), os.environ, _credproc_options):
        fix = f" \u2014 {check.fix}" if check.fix else ""
        sys.stdout.write(f"{labels[check.status]:<4}  {check.name}: {check.verdict}{fix}\n")
        sys.stdout.flush()  # each verdict as soon as it is known: the STS checks take a moment
        status = status or check.exit_code
    return status


def _credproc_options(words: list[str]) -> RawOptions:
    """The options of a credproc command line found in a profile, for doctor."""
    if words[:1] and words[0] in COMMANDS:
        raise UsageError(
            f"credential_process runs credproc {words[0]}, which prints no credential_process JSON"
        )
    if {"-h", "--help", "--version"} & set(words):
        raise UsageError("credential_process asks credproc for its help or version")
    return flags_from(build_parser("").parse_args(words))
