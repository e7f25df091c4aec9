"""The index of resolved requests: what a resolution read and gave, so a cache hit can skip it.

Resolving ``credproc ARGS`` (flags, ``CREDPROC_*`` variables, ``[profile NAME]``, the source-key
index, a policy file) reads the environment and a few files and costs a hit more than the rest
of it, growing with the AWS config. Its result is a function of what it read, so a run records
that here, and ``core.hit`` answers the next run of the same command line from the record while
every input is unchanged (see its docstring for the steps and why each is safe):

- ``recording(environ)``: resolution runs on a view of the environment that notes every variable
  it looks up, set or not; the readers of files call ``note_file`` with what they opened (or
  found absent), and a relative path calls ``note_cwd``;
- ``remember(argv, reads, request)``: after a run that printed its credentials, the record goes
  into ``<cache dir>/<sha256 of argv>.request`` (0600, written whole), newest first, beside the
  command line's other recent records (another shell's environment, say).

Not recorded, so every such run resolves afresh: a run that read the whole environment, or a
secret variable (the record holds values), or a file whose timestamps are too recent to tell a
later edit apart from this version (a file system that keeps whole seconds, or a write in the
same kernel tick as the read).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping, Sequence

from .files import atomic_write
from .hit import (
    ENTRY_SUFFIX,
    INDEX_MAGIC,
    MAX_INDEX_BYTES,
    Record,
    file_identity,
    fresh_answer,
    index_dir,
    index_path,
    records,
)
from .private import read_private, ready_dir, seal, unseal
from .request import Request

MAX_RECORDS = 8  # per command line
# Never written to a record: resolution does not read them, and if it ever did, no index.
SECRET_VARIABLES = frozenset(
    {
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    }
)
# How old a file's newest timestamp must be when it is read, so that a later edit gets another
# one: a kernel tick is a few milliseconds; a file system that keeps whole seconds (ext3, HFS+;
# FAT's are two) shows timestamps without a fraction.
SETTLED_NS = 50_000_000
SETTLED_WHOLE_SECONDS_NS = 3_000_000_000
_ACTIVE: list[Reads] = []


class Reads(Mapping[str, str]):
    """The environment as resolution sees it, and a note of everything resolution read."""

    def __init__(self, environ: Mapping[str, str], always: Sequence[str]) -> None:
        self._environ = environ
        self._started = time.time_ns()
        # HOME: os.path.expanduser reads it without asking this mapping.
        self.environment: dict[str, str | None] = {n: environ.get(n) for n in ("HOME", *always)}
        self.files: dict[str, str] = {}
        self.cwd = ""
        self.indexable = True

    def __getitem__(self, name: str) -> str:
        value = self._environ.get(name)
        self.environment[name] = value
        if name in SECRET_VARIABLES:
            self.indexable = False
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        self.indexable = False  # the whole environment: no record could say what mattered
        return iter(self._environ)

    def __len__(self) -> int:
        self.indexable = False
        return len(self._environ)

    def file(self, path: str, info: os.stat_result | None) -> None:
        if not os.path.isabs(path):
            self.note_cwd()
        self.files[path] = file_identity(info)
        if info is None:
            return
        newest = max(info.st_mtime_ns, info.st_ctime_ns)
        whole = not (info.st_mtime_ns % 10**9 or info.st_ctime_ns % 10**9)
        if newest > self._started - (SETTLED_WHOLE_SECONDS_NS if whole else SETTLED_NS):
            self.indexable = False

    def note_cwd(self) -> None:
        try:
            self.cwd = os.getcwd()
        except OSError:
            self.indexable = False


@contextlib.contextmanager
def recording(environ: Mapping[str, str], always: Sequence[str] = ()) -> Iterator[Reads]:
    """Resolve on the mapping this yields; ``always``: variables read elsewhere that change
    what the run does (so a record must hold them too)."""
    reads = Reads(environ, always)
    _ACTIVE.append(reads)
    try:
        yield reads
    finally:
        _ACTIVE.remove(reads)


def note_file(path: str, info: os.stat_result | None) -> None:
    """A reader of a file resolution depends on: this version of it (None: it is absent)."""
    for reads in _ACTIVE:
        reads.file(path, info)


def note_cwd() -> None:
    """A relative path was made absolute: the working directory is an input."""
    for reads in _ACTIVE:
        reads.note_cwd()


def answer_now(reads: Reads, request: Request) -> bytes | None:
    """What a hit prints for this resolution once ``remember`` has recorded it: the entry's
    ready answer, if it has more than the refresh window left; None if the resolution cannot be
    recorded or the entry is not fresh. A run that resolves answers with it without loading the
    provider (the cache, the lock, datetime): the first run after an edit of the config."""
    if not reads.indexable or request.cache_dir is None:
        return None
    return fresh_answer(
        _entry_path(request.cache_dir, request.key), request.key, request.refresh_window
    )


def _entry_path(cache_dir: str, key: str) -> str:
    return os.path.abspath(os.path.join(cache_dir, key + ENTRY_SUFFIX))


def remember(argv: Sequence[str], reads: Reads, request: Request, output: str = "") -> None:
    """Record a resolution that gave ``request``, if it can be trusted later (``output``:
    ``env``'s format). Best effort: the index only saves time, so it is skipped, silently,
    wherever it cannot be written."""
    if not reads.indexable or request.cache_dir is None:
        return
    directory = index_dir(os.environ)
    if directory is None:
        return
    if not os.path.isabs(request.cache_dir):
        reads.note_cwd()
    new = Record(
        key=request.key,
        window=request.refresh_window,
        entry_path=_entry_path(request.cache_dir, request.key),
        cwd=reads.cwd,
        argv=list(argv),
        environment=reads.environment,
        files=reads.files,
        region=request.region or "",
        output=output,
    )
    path = index_path(directory, argv)
    with contextlib.suppress(OSError):
        if ready_dir(directory) is not None:
            return
        sealed = unseal(read_private(path, MAX_INDEX_BYTES), INDEX_MAGIC)
        kept = [new] + [
            record
            for record in (records(sealed[1]) if sealed is not None else [])
            if record.fields()[3:] != new.fields()[3:]  # the same inputs: the new one wins
        ]
        body = "".join(field + "\0" for record in kept[:MAX_RECORDS] for field in record.fields())
        sealed_body = seal(INDEX_MAGIC, [], body.encode("utf-8", "surrogateescape"))
        # No fsync: after a crash the hit finds a whole record or none (the seal), and a
        # missing record costs one resolution. An fsync would cost the run more than that.
        atomic_write(path, sealed_body, durable=False)
