"""What ``typing`` gives at run time, without importing ``typing``: its flag and NamedTuple.

Every run that resolves (the first after an edit of the config, a miss) loads a dozen modules
whose records are ``typing.NamedTuple`` classes; importing ``typing`` for them (and the checks
it makes of each string annotation: a ``compile`` each) cost such a run 13 M instructions, a
third of a bare interpreter's start, and the annotations as much again. Here ``NamedTuple`` is
``typing``'s to mypy and, at run time, the same ``collections.namedtuple`` class built from the
annotations' names without evaluating them. ``TYPE_CHECKING`` is the fence's flag
(``core.hit``), which mypy treats as typing's.
"""

from __future__ import annotations

import collections

from .hit import TYPE_CHECKING

__all__ = ["TYPE_CHECKING", "NamedTuple"]  # re-exported, typing's to mypy

if TYPE_CHECKING:
    from typing import NamedTuple
else:
    # What a class body may hold that is not a field or a method of the tuple (typing's lists).
    _SPECIAL = frozenset(
        {"__module__", "__qualname__", "__annotations__", "__doc__", "__orig_bases__"}
    )
    _PROHIBITED = frozenset(
        {"__new__", "__init__", "__slots__", "__getnewargs__", "_fields", "_field_defaults"}
        | {"_make", "_replace", "_asdict", "_source"}
    )

    class _NamedTupleMeta(type):
        def __new__(mcs, typename, bases, namespace):  # noqa: ANN001, ANN204
            fields = namespace.get("__annotations__", {})
            defaults = [name for name in fields if name in namespace]
            if defaults and list(fields)[-len(defaults) :] != defaults:
                raise TypeError(f"{typename}: a field without a default follows one with one")
            cls = collections.namedtuple(
                typename,
                list(fields),
                defaults=[namespace[name] for name in defaults],
                module=namespace["__module__"],
            )
            cls.__annotations__ = dict(fields)  # the strings, as written, as typing keeps them
            if "__doc__" in namespace:
                cls.__doc__ = namespace["__doc__"]
            for key, value in namespace.items():
                if key in _PROHIBITED:
                    raise AttributeError(f"{typename}: cannot overwrite NamedTuple's {key}")
                if key not in _SPECIAL and key not in fields:
                    setattr(cls, key, value)
            return cls

    _BASE = type.__new__(_NamedTupleMeta, "NamedTuple", (), {})

    class _Declaration:
        """``class X(NamedTuple)`` names this; the class is built by the metaclass above."""

        def __mro_entries__(self, bases):  # noqa: ANN001, ANN204
            return (_BASE,)

    NamedTuple = _Declaration()
