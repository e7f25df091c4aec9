"""The hit's own formats (credproc.core.hit): a sealed file is read whole or not at all, an
index record reads back as written, and the hit finds the cache dir where the CLI puts it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from credproc.config.options import BY_DEST
from credproc.core.hit import (
    ABSENT,
    CACHE_DIR_VARIABLE,
    Record,
    cached_answer,
    current_identity,
    index_dir,
    records,
)
from credproc.core.private import seal, unseal

BODY = b'{"Version":1,"AccessKeyId":"ASIA"}\n{"format": 2}\n'


def test_a_sealed_file_reads_back_whole() -> None:
    assert unseal(seal("magic 1", ["a", "b"], BODY), "magic 1") == (["a", "b"], BODY)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda raw: raw[:-1],  # truncated
        lambda raw: raw + b" ",  # grown
        lambda raw: raw.replace(b"ASIA", b"ASIB"),  # garbled, same length
        lambda raw: raw.replace(b"magic 1", b"magic 2"),  # another format
        lambda raw: raw.split(b"\n", 1)[1],  # no header
        lambda raw: raw.replace(b"\n", b" ", 1),  # no end to the header
        lambda raw: b"",
    ],
)
def test_a_spoiled_sealed_file_is_refused(spoil: object) -> None:
    raw = seal("magic 1", ["a"], BODY)
    assert unseal(spoil(raw), "magic 1") is None  # type: ignore[operator]


def _record(**changes: object) -> Record:
    fields: dict[str, object] = {
        "key": "k" * 64,
        "window": 900,
        "entry_path": "/c/k.json",
        "cwd": "",
        "argv": ["--profile", "dev", "--tag", "a=line\nbreak", ""],
        "environment": {"HOME": "/h", "AWS_REGION": None, "EMPTY": ""},
        "files": {"/h/.aws/config": "1:2:3:4:5", "/h/keys.json": ABSENT},
    }
    fields.update(changes)
    return Record(**fields)  # type: ignore[arg-type]


def _body(*written: Record) -> bytes:
    return "".join(field + "\0" for r in written for field in r.fields()).encode()


def test_records_read_back_as_written() -> None:
    first, second = _record(), _record(cwd="/work", argv=[], files={})
    found = records(_body(first, second))
    assert [r.fields() for r in found] == [first.fields(), second.fields()]
    assert found[0].environment == {"HOME": "/h", "AWS_REGION": None, "EMPTY": ""}


@pytest.mark.parametrize("cut", [1, 10, 60])
def test_a_malformed_index_has_no_records(cut: int) -> None:
    assert records(_body(_record())[:-cut]) == []


def test_a_record_holds_only_while_its_inputs_do(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile dev]\n")
    record = _record(
        environment={"AWS_REGION": None, "HOME": "/h"},
        files={str(config): current_identity(str(config))},
    )
    assert record.still_holds({"HOME": "/h"})
    assert not record.still_holds({"HOME": "/h", "AWS_REGION": "eu-west-1"})
    assert not record.still_holds({})
    os.utime(config, ns=(0, 0))  # the ctime moves even as the mtime goes back
    assert not record.still_holds({"HOME": "/h"})


def test_the_hit_and_the_option_table_name_the_same_cache_dir_variable() -> None:
    assert BY_DEST["cache_dir"].env == CACHE_DIR_VARIABLE
    assert index_dir({CACHE_DIR_VARIABLE: "/somewhere"}) == "/somewhere"


def test_no_index_is_a_miss(tmp_path: Path) -> None:
    tmp_path.chmod(0o700)
    assert cached_answer(["--profile", "dev"], {CACHE_DIR_VARIABLE: str(tmp_path)}) is None
