"""Taking a profile's keys out of credentials file text: only its two key lines go (with any
lines continuing them), whatever their spelling; anything the parser would read differently
is refused rather than written."""

from __future__ import annotations

from pathlib import Path

import pytest

from credproc.config.credfile import _without_keys, remove_static_keys, static_keys
from credproc.errors import ConfigError

KEY_ID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    ("section", "kept"),
    [
        (
            f"[a]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n",
            "[a]\n",
        ),
        (
            f"[a]\nregion = x\nAWS_ACCESS_KEY_ID={KEY_ID}\n# note\n"
            f"aws_secret_access_key:{SECRET}\n",
            "[a]\nregion = x\n# note\n",
        ),
        (  # a value continued on an indented line goes with its key
            f"[a]\naws_secret_access_key =\n    {SECRET}\nregion = x\n"
            f"aws_access_key_id = {KEY_ID}\n",
            "[a]\nregion = x\n",
        ),
        (  # keys of other tools that merely start alike stay
            "[a]\naws_access_key_id_old = x\nregion = y\n",
            "[a]\naws_access_key_id_old = x\nregion = y\n",
        ),
    ],
)
def test_only_the_key_lines_go(section: str, kept: str) -> None:
    assert _without_keys(section) == kept


def test_a_file_changed_since_the_keys_were_read_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text(f"[a]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = other\n")

    with pytest.raises(ConfigError, match="changed meanwhile"):
        remove_static_keys(str(path), "a", (KEY_ID, SECRET))
    assert list(tmp_path.iterdir()) == [path]  # no backup, no temp file


def test_static_keys_reads_both_or_nothing() -> None:
    assert static_keys(f"[a]\naws_access_key_id = {KEY_ID}\n", "a", "f") is None
    text = f"[a]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
    assert static_keys(text, "a", "f") == (KEY_ID, SECRET)
    assert static_keys(text, "b", "f") is None
