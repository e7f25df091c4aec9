"""lean.NamedTuple behaves as typing.NamedTuple does, for what credproc uses of it."""

from __future__ import annotations

import typing

import pytest

from credproc.core.lean import NamedTuple


class Light(NamedTuple):
    name: str
    size: int = 1
    tags: tuple[str, ...] = ()

    def label(self) -> str:
        return f"{self.name}:{self.size}"


class Typed(typing.NamedTuple):
    name: str
    size: int = 1
    tags: tuple[str, ...] = ()


def test_the_same_fields_defaults_and_methods() -> None:
    light, typed = Light("a"), Typed("a")

    assert tuple(light) == tuple(typed) == ("a", 1, ())
    assert Light._fields == Typed._fields
    assert Light._field_defaults == Typed._field_defaults
    assert light._replace(size=3) == Light("a", 3, ())
    assert isinstance(light._replace(size=3), Light)
    assert Light._make(["b", 2, ("x",)]).label() == "b:2"
    assert light._asdict() == typed._asdict()
    assert repr(light) == "Light(name='a', size=1, tags=())"
    assert not hasattr(light, "__dict__")  # slots, as typing's
    with pytest.raises(AttributeError):
        light.name = "b"  # type: ignore[misc]


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="without a default follows"):

        class Broken(NamedTuple):
            first: int = 0
            second: int  # type: ignore[misc]
