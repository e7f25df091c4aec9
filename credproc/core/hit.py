"""The cache hit: read two small files, write the ready answer to stdout. The fence is here.

Every AWS command a client runs starts credproc once, so a hit is paid for thousands of times
a day; its goal is the interpreter's own start-up (``make bench`` measures it). ``credproc``
and ``python -m credproc`` enter ``credproc.__main__``, which asks ``serve`` first and hands
everything else to the CLI (``credproc.cli.main``). What a hit does, step by step:

1. **Find the record of this command line.** A run that resolved its options (flags, the
   ``CREDPROC_*`` variables, ``[profile NAME]``, the source-key index; for ``credproc wrap``,
   its command line and the values of its ``--key-env`` variables) recorded what the
   resolution read and what it gave (``core.index``): the environment variables it looked up
   (set or not, and their values), the identity of every file it read or looked for (device,
   inode, size, mtime and ctime in nanoseconds, or "absent"), the working directory if a
   relative path used it, and the result: the cache entry's path, its key and the refresh
   window. The record lives in credproc's cache dir, under the SHA-256 of the command line.
   Safe because resolution is a function of exactly those inputs: if none of them changed, it
   would give the same answer again, and a change to any of them (an edit of the config, even
   within the same second and at the same size, changes its ctime; a replaced file changes its
   inode) makes the record a miss. A file whose timestamps were too fresh to tell a later
   edit apart is never recorded (``core.index``).
2. **Read the entry** the record names, as the cache does (``core.private``): a real directory
   owned by this user that nobody else can write, a regular private file opened without
   following a symlink (nor blocking on a FIFO), a size cap.
3. **Check it.** Its first line states the format, the key, the expiry (POSIX seconds, this
   machine's clock, as the answer states it), the length of the rest and the rest's SHA-256:
   a truncated or garbled entry, or one renamed to another key, is a miss. The token must have
   more than the refresh window left, and no more than STS's longest lifetime.
4. **Print the answer**, the credential_process JSON written ready by the refresh, in one
   write.

Anything else (no record, a changed input, no entry, any doubt) returns None and the CLI runs
the whole algorithm, which tells a miss from an error and says why. So a hit never reports an
error, and a hit never prints what the CLI would not.

A warm ``env`` or ``exec`` is answered the same way by ``core.warm`` (``credproc.__main__``
asks it instead; ``serve`` here never answers their command lines).

The fence: the modules a hit may load are ``FENCE`` (a credential_process hit loads all but
``core.warm``), and only they may hold an import statement inside a function (``# noqa:
PLC0415``) or stand in for the standard library (``TYPE_CHECKING`` below); every other module
has its import statements at its top. ``tests/features/test_hot_path.py`` checks both, and
that a hit in every documented form imports nothing of ``BANNED_ON_HIT``: boto3 and its kin
cost more than a hit in all; the others each cost a good part of one (``re`` and ``enum`` come
with ``json``, ``typing`` with ``collections.abc`` users, OpenSSL with ``hashlib``).

Outside the fence, a few modules load others by name when a run first needs them
(``importlib.import_module``): the command that runs (``cli.commands``), the fetch step and
boto3 (``cli.refresh``), filelock (``core.lock``), logging (``core.log``), platformdirs
(``core.dirs``). Those are deferred imports too, by design; ``tests/unit/test_layout.py``
lists each with its reason (``LOADED_BY_NAME``) and follows them in its layer checks.
"""

from __future__ import annotations

import os
import sys
import time

from .private import read_private, sha256_hex, unseal, usable_dir

# typing's own flag, without importing typing; core.typed hands it to the modules that resolve.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

FENCE = (
    *("credproc", "credproc.__main__", "credproc.core", "credproc.core.hit"),
    *("credproc.core.private", "credproc.core.warm"),
)
BANNED_ON_HIT = (
    *("boto3", "botocore", "urllib3", "filelock", "s3transfer", "keyring", "platformdirs"),
    *("logging", "typing", "dataclasses", "inspect", "pathlib", "hashlib", "argparse"),
    *("configparser", "shlex", "json", "re", "enum", "datetime"),
    *("cryptography", "awscrt"),  # aws login sessions' DPoP proofs: for a refresh only
)

CACHE_DIR_VARIABLE = "CREDPROC_CACHE_DIR"
ENTRY_MAGIC = "credproc-cache 2"
INDEX_MAGIC = "credproc-requests 2"
ENTRY_SUFFIX = ".json"
INDEX_SUFFIX = ".request"
MAX_ENTRY_BYTES = 64 * 1024  # a real entry is under 8 KiB; anything bigger is not ours
MAX_INDEX_BYTES = 256 * 1024
# STS's longest token (GetSessionToken, 36 h) plus clock noise: an entry that promises more from
# now was not written by credproc, and would pin a dead token until that far-off date.
LONGEST_TOKEN_SECONDS = 129600 + 60
ANSWER_START = b'{"Version":1,"AccessKeyId":"'  # the credential_process answer, compact
ABSENT = "-"  # a variable that is not set, a file that does not exist
# Commands answered through the fence by ``core.warm``; their records' command lines start
# with the command's name, so the default command's never meet them.
WARM_COMMANDS = ("env", "exec")


def serve(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Write the cached answer for this command line if it is a hit; False if it is not."""
    if argv[:1] and argv[0] in WARM_COMMANDS:
        return False  # core.warm's (credproc.__main__ asks it)
    answer = cached_answer(argv, environ)
    if answer is None or sys.stdout is None:
        return False
    try:
        # One write of the whole answer, well under a pipe's atomic size: all or nothing.
        sys.stdout.buffer.write(answer)
        sys.stdout.buffer.flush()
    except OSError:
        return False  # the CLI meets the same failure and reports it
    return True


def cached_answer(argv: Sequence[str], environ: Mapping[str, str]) -> bytes | None:
    found = lookup(argv, environ)
    return None if found is None else found[1]


def lookup(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[Record, bytes] | None:
    """The record of this command line whose inputs still hold, and its entry's answer, if
    that has more than the refresh window left."""
    directory = index_dir(environ)
    if directory is None or not usable_dir(directory):
        return None
    body = unseal(read_private(index_path(directory, argv), MAX_INDEX_BYTES), INDEX_MAGIC)
    if body is None:
        return None
    for record in records(body[1]):
        if record.argv == list(argv) and record.still_holds(environ):
            answer = fresh_answer(record.entry_path, record.key, record.window)
            return None if answer is None else (record, answer)
    return None


def fresh_answer(path: str, key: str, window: int) -> bytes | None:
    """The entry's answer if it is this key's and has more than ``window`` seconds left."""
    if not usable_dir(os.path.dirname(path)):
        return None
    sealed = unseal(read_private(path, MAX_ENTRY_BYTES), ENTRY_MAGIC)
    if sealed is None:
        return None
    fields, body = sealed
    if len(fields) != 2 or fields[0] != key or not fields[1].isdigit():
        return None
    left = int(fields[1]) - time.time()
    end = body.find(b"\n") + 1
    if not window < left <= LONGEST_TOKEN_SECONDS or not body.startswith(ANSWER_START):
        return None
    return body[:end]


# -- the cache dir and its files -------------------------------------------------------------


def index_dir(environ: Mapping[str, str]) -> str | None:
    """Where the index lives: CREDPROC_CACHE_DIR, else the platform's user cache dir (None
    where that takes platformdirs to find: no hit shortcut there)."""
    given = environ.get(CACHE_DIR_VARIABLE)
    if given:
        return os.path.expanduser(given)
    return known_dir(environ, "cache")


# Each user dir's place on macOS, and on Linux the XDG variable that moves it, with its default.
_PLACES = {
    "cache": ("~/Library/Caches", "XDG_CACHE_HOME", "~/.cache"),
    "config": ("~/Library/Application Support", "XDG_CONFIG_HOME", "~/.config"),
    "data": ("~/Library/Application Support", "XDG_DATA_HOME", "~/.local/share"),
}


def known_dir(environ: Mapping[str, str], kind: str) -> str | None:
    """platformdirs' user "cache", "config" or "data" dir for credproc, where its rule is short
    and fixed (Linux, macOS); None elsewhere. A test checks that both agree."""
    mac, variable, default = _PLACES[kind]
    if sys.platform == "darwin":
        return os.path.join(os.path.expanduser(mac), "credproc")
    if sys.platform.startswith("linux"):
        base = environ.get(variable, "").strip()
        if not os.path.isabs(base):  # the XDG spec: relative values are ignored
            base = os.path.expanduser(default)
        return os.path.join(base, "credproc")
    return None


def index_path(directory: str, argv: Sequence[str]) -> str:
    name = sha256_hex("\0".join(argv).encode("utf-8", "surrogateescape"))
    return os.path.join(directory, name + INDEX_SUFFIX)


# -- the index's records ---------------------------------------------------------------------


def file_identity(info: os.stat_result | None) -> str:
    """What tells one version of a file from another, or ABSENT."""
    if info is None:
        return ABSENT
    fields = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    return ":".join(map(str, fields))


def current_identity(path: str) -> str:
    try:
        return file_identity(os.stat(path))
    except FileNotFoundError:
        return ABSENT
    except OSError:
        return "unreadable"  # never equal to a recorded identity


class Record:
    """One resolution: its command line, what it read, what it gave. In the index, a record is
    a run of NUL-terminated fields (neither argv nor the environment can hold a NUL):
    ``key window entry_path cwd argc argv... envc (name value)... filec (path identity)...
    region output`` with a set variable's value after ``=``, an unset one as ``-``, cwd empty
    if unused; region the request's (``env`` and ``exec`` export it), empty if none; output
    ``env``'s format, empty for the other commands."""

    __slots__ = (
        *("argv", "cwd", "entry_path", "environment", "files", "key", "output", "region"),
        "window",
    )

    def __init__(
        self,
        *,
        key: str,
        window: int,
        entry_path: str,
        cwd: str,
        argv: list[str],
        environment: dict[str, str | None],
        files: dict[str, str],
        region: str = "",
        output: str = "",
    ) -> None:
        self.key, self.window, self.entry_path, self.cwd = key, window, entry_path, cwd
        self.argv, self.environment, self.files = argv, environment, files
        self.region, self.output = region, output

    def still_holds(self, environ: Mapping[str, str]) -> bool:
        """Whether every input the resolution read is as it was."""
        for name, value in self.environment.items():
            if environ.get(name) != value:
                return False
        if self.cwd and _cwd() != self.cwd:
            return False
        return all(current_identity(path) == ident for path, ident in self.files.items())

    def fields(self) -> list[str]:
        out = [self.key, str(self.window), self.entry_path, self.cwd, str(len(self.argv))]
        out += self.argv
        out.append(str(len(self.environment)))
        for name, value in self.environment.items():
            out += [name, ABSENT if value is None else "=" + value]
        out.append(str(len(self.files)))
        for path, identity in self.files.items():
            out += [path, identity]
        return [*out, self.region, self.output]


def records(body: bytes) -> list[Record]:
    """The index's records, or none at all if any is malformed."""
    words = body.decode("utf-8", "surrogateescape").split("\0")
    if words.pop() != "":  # every field ends with a NUL
        return []
    found: list[Record] = []
    position = 0

    def take(count: int) -> list[str]:
        nonlocal position
        if count < 0 or position + count > len(words):
            raise ValueError("short record")
        position += count
        return words[position - count : position]

    def number() -> int:
        word = take(1)[0]
        if not word.isdigit():
            raise ValueError("not a count")
        return int(word)

    try:
        while position < len(words):
            key, window, entry_path, cwd = take(4)
            if not window.isdigit():
                return []
            argv = take(number())
            environment: dict[str, str | None] = {}
            for _ in range(number()):
                name, value = take(2)
                environment[name] = None if value == ABSENT else value[1:]
            pairs = take(2 * number())
            files = dict(zip(pairs[::2], pairs[1::2], strict=True))
            region, output = take(2)
            found.append(
                Record(
                    key=key,
                    window=int(window),
                    entry_path=entry_path,
                    cwd=cwd,
                    argv=argv,
                    environment=environment,
                    files=files,
                    region=region,
                    output=output,
                )
            )
    except ValueError:
        return []
    return found


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return ""
