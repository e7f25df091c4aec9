"""core.typed's NamedTuple: at run time the class typing.NamedTuple would build, without
importing typing or evaluating an annotation."""

from __future__ import annotations

import subprocess
import sys
import typing

import pytest

from credproc.config.options import Option
from credproc.core.credentials import Credentials
from credproc.core.request import Request
from credproc.core.typed import NamedTuple


class Point(NamedTuple):
    """A point."""

    x: int
    y: int
    label: str = "origin"

    def moved(self, by: int) -> Point:
        return self._replace(x=self.x + by)


class TypingPoint(typing.NamedTuple):
    x: int
    y: int
    label: str = "origin"


def test_it_builds_what_typing_builds() -> None:
    point = Point(1, 2)
    twin = TypingPoint(1, 2)
    assert tuple(point) == tuple(twin) == (1, 2, "origin")
    assert isinstance(point, tuple)
    assert Point._fields == TypingPoint._fields
    assert Point._field_defaults == TypingPoint._field_defaults
    assert repr(point) == "Point(x=1, y=2, label='origin')"
    assert point.moved(2) == (3, 2, "origin")
    assert Point.__doc__ == "A point."
    assert Point.__module__ == __name__
    assert Point.__annotations__ == {"x": "int", "y": "int", "label": "str"}


def test_a_field_without_a_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="without a default follows one with one"):

        class Bad(NamedTuple):
            a: int = 0
            b: int  # type: ignore[misc]  # the mistake under test


def test_namedtuples_own_names_cannot_be_overwritten() -> None:
    with pytest.raises(AttributeError, match="_replace"):

        class Bad(NamedTuple):
            a: int

            def _replace(self) -> None: ...  # type: ignore[misc]  # the mistake under test


def test_the_package_records_are_tuples_of_their_annotations() -> None:
    for record in (Request, Credentials, Option):
        assert issubclass(record, tuple)
        assert record._fields == tuple(record.__annotations__)


@pytest.mark.integration
def test_resolving_modules_load_without_typing() -> None:
    code = (
        "import sys, credproc.config.resolve, credproc.cli.commands.process;"
        " print('typing' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
