"""``credproc env`` and ``credproc exec`` on a warm cache, answered through the fence.

People run these in loops (``eval "$(credproc env --profile dev)"`` in a prompt hook,
``credproc exec --profile dev -- make`` in a Makefile), so a warm one should cost what the
credential_process hit costs. ``core.hit`` hands them here; they find their record and entry
as the hit does (``hit.lookup``: the same index, the same checks, see its docstring), then:

- ``env`` writes the variables in the format the long way recorded (the record holds the
  format and the region: both are what parsing and resolving that same command line gave);
- ``exec`` replaces itself with the command (``os.execvpe``), as the long way does: the parent's
  environment without ``AWS_PROFILE`` and ``AWS_DEFAULT_PROFILE``, plus the variables; the
  command after ``--`` or else ``$SHELL`` (else ``/bin/sh``). Its record is the command line
  before ``--``: the command itself changes nothing the resolution read.

Anything else returns False and the CLI runs the long way, which tells a miss from an error:
no record, ``exec --server`` (never recorded), a value ``.env`` readers could not all read
back, a command that cannot run (the long way reports it, exit 126 or 127), and any platform
but POSIX (Windows has no ``exec``, the long way runs the command as a child there, and its
text stdout ends lines in CR LF).

``lines`` is the one implementation of ``env``'s formats: ``cli.render`` uses it too, so the
long way and this one print the same bytes.
"""

from __future__ import annotations

import os
import sys

from .hit import lookup

TYPE_CHECKING = False  # typing's own flag, without importing typing (see core.hit)
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

# The child must use the role, not the profile its parent used to run credproc.
PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
DEFAULT_SHELL = "/bin/sh"
# The credential_process answer's members, in order, and the variables each becomes.
_ANSWER_MEMBERS = (
    ("AccessKeyId", "AWS_ACCESS_KEY_ID"),
    ("SecretAccessKey", "AWS_SECRET_ACCESS_KEY"),
    ("SessionToken", "AWS_SESSION_TOKEN"),
    ("Expiration", "AWS_CREDENTIAL_EXPIRATION"),
)
_ASCII_WORD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
_SH_SAFE = frozenset(_ASCII_WORD + "@%+=:,./-")  # what shlex.quote leaves bare
_DOTENV_PLAIN = frozenset(_ASCII_WORD + "/+=.:@,-")
# PowerShell ends a single-quoted string at any of these, not only at the ASCII quote.
_POWERSHELL_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")


def serve(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Answer ``env`` or ``exec`` (``argv[0]``) from the cache; False for the long way."""
    if os.name != "posix":
        return False  # see the module docstring
    if argv[0] == "exec":
        return _exec(argv, environ)
    found = lookup(argv, environ)
    if found is None or sys.stdout is None:
        return False
    record, answer = found
    variables = answer_variables(answer, record.region)
    text = None if variables is None else lines(variables, record.output)
    if text is None:
        return False
    try:
        # One write, as the long way's: its text is ASCII, the same bytes in any encoding.
        sys.stdout.buffer.write(text.encode("ascii"))
        sys.stdout.buffer.flush()
    except UnicodeEncodeError:
        return False  # not for a value credproc writes; the long way has the locale's say
    except OSError:
        return False  # the CLI meets the same failure and reports it
    return True


def _exec(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    split = argv.index("--") if "--" in argv else len(argv)
    found = lookup(argv[:split], environ)
    if found is None:
        return False
    record, answer = found
    variables = answer_variables(answer, record.region)
    if variables is None:
        return False
    child = {k: v for k, v in environ.items() if k not in PROFILE_VARIABLES}
    child.update(variables)
    command = list(argv[split + 1 :]) or [environ.get("SHELL") or DEFAULT_SHELL]
    try:
        os.execvpe(command[0], command, child)  # noqa: S606 - the user's own command
    except OSError:
        return False  # the long way says why, with the shell's exit status
    return False  # not reached: exec replaced this process


def answer_variables(answer: bytes, region: str) -> dict[str, str] | None:
    """The variables of ``Credentials.to_env`` (and the region's) from the ready answer, the
    compact credential_process JSON; None if it holds an escape (then the long way decodes)."""
    try:
        text = answer.decode("ascii")
    except UnicodeDecodeError:
        return None
    if "\\" in text or not text.startswith('{"Version":1,'):
        return None
    rest = text[len('{"Version":1,') :].rstrip("\n")
    variables: dict[str, str] = {}
    for position, (member, variable) in enumerate(_ANSWER_MEMBERS):
        start = f'"{member}":"'
        if not rest.startswith(start):
            return None
        end = rest.find('"', len(start))
        if end < 0:
            return None
        variables[variable] = rest[len(start) : end]
        rest = rest[end + 1 :]
        if rest[:1] != ("}" if position == len(_ANSWER_MEMBERS) - 1 else ","):
            return None
        rest = rest[1:]
    if rest:
        return None
    if region:
        variables["AWS_REGION"] = variables["AWS_DEFAULT_REGION"] = region
    return variables


def lines(variables: Mapping[str, str], shell_format: str) -> str | None:
    """The variables as lines of one of ``syntax.ENV_FORMATS`` for a shell or a .env file to
    read back verbatim; None if a value has no form every .env reader reads back unchanged."""
    out = []
    for key, value in variables.items():
        if shell_format == "sh":
            out.append(f"export {key}={_sh_quote(value)}\n")
        elif shell_format == "fish":
            # Inside fish's single quotes only backslash and the quote itself are special.
            quoted = value.replace("\\", "\\\\").replace("'", "\\'")
            out.append(f"set -gx {key} '{quoted}';\n")
        elif shell_format == "powershell":
            doubled = "".join(c + c if c in _POWERSHELL_QUOTES else c for c in value)
            out.append(f"$Env:{key} = '{doubled}'\n")
        elif shell_format == "dotenv":
            quoted_value = _dotenv_quote(value)
            if quoted_value is None:
                return None
            out.append(f"{key}={quoted_value}\n")
        else:
            return None
    return "".join(out)


def _sh_quote(value: str) -> str:
    """``shlex.quote``: bare if every character is safe, else single quotes."""
    if value and all(c in _SH_SAFE for c in value):
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _dotenv_quote(value: str) -> str | None:
    """A form that docker compose, python-dotenv and node's dotenv all read back unchanged.

    Bare or single-quoted values are literal to all three; in double quotes they agree only on
    ``\\n``. Their other escapes and their ``$`` expansion disagree, so a value that needs them
    has no form (None) rather than one some reader would change."""
    if all(c in _DOTENV_PLAIN for c in value):
        return value
    if not any(c in value for c in "'\\\n\r") and "${" not in value:
        return f"'{value}'"
    if not any(c in value for c in '"\\\r$'):
        return '"' + value.replace("\n", "\\n") + '"'
    return None
