"""Read-only JSON containers: what activity attributes, story data and payloads are kept as.

An :class:`~e2badges.Activity`, a :class:`~e2badges.Story` and a notification are
frozen, and the stores hand the same objects to every reader (the memory store keeps
them as they are).  A plain dict or list inside them could still be changed in place,
by the caller who recorded it or by anyone who read it back, and the change would
reach what the store keeps (on the memory store, not on the SQL stores, which keep a
serialised copy).  :func:`freeze` gives such values as :class:`FrozenDict` and
:class:`FrozenList`: subclasses of dict and list (so they compare equal to plain ones,
``json.dumps`` and ``isinstance(value, dict)`` work as before) whose every method
that would change them raises TypeError.  Their ``copy()`` (and ``dict(value)``,
``list(value)``, a slice) is a plain, changeable shallow copy; :func:`thaw` is a deep
one.
``copy.copy`` and ``copy.deepcopy`` return the value itself, as for a tuple.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

__all__ = ["EMPTY", "FrozenDict", "FrozenList", "freeze", "thaw"]


def _refuse(self: object, *args: object, **kwargs: object) -> NoReturn:
    name = "dict" if isinstance(self, dict) else "list"
    raise TypeError(
        f"this {name} is read-only: e2badges keeps it as recorded; "
        f"change a copy of it ({name}(value))"
    )


class FrozenDict(dict[str, Any]):
    """A dict that cannot be changed in place; its values are frozen too (see :func:`freeze`)."""

    __slots__ = ()

    __setitem__ = _refuse
    __delitem__ = _refuse
    __ior__ = _refuse
    clear = _refuse
    pop = _refuse
    popitem = _refuse
    setdefault = _refuse
    update = _refuse

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self

    def __reduce__(self) -> tuple[type[FrozenDict], tuple[dict[str, Any]]]:
        # dict's own pickling would fill the new object through __setitem__.
        return (FrozenDict, (dict(self),))


class FrozenList(list[Any]):
    """A list that cannot be changed in place; its items are frozen too (see :func:`freeze`)."""

    __slots__ = ()

    __setitem__ = _refuse
    __delitem__ = _refuse
    __iadd__ = _refuse
    __imul__ = _refuse
    append = _refuse
    extend = _refuse
    insert = _refuse
    pop = _refuse
    remove = _refuse
    clear = _refuse
    reverse = _refuse

    def sort(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self

    def __reduce__(self) -> tuple[type[FrozenList], tuple[list[Any]]]:
        return (FrozenList, (list(self),))


#: The empty attributes, data and payload, shared.
EMPTY = FrozenDict()


def freeze(value: Any) -> Any:
    """Return ``value`` with every dict and list (at any depth) read-only.

    Tuples become read-only lists, as a store reads them back as lists; another
    mapping becomes a read-only dict.  A
    :class:`FrozenDict` or :class:`FrozenList` is returned as it is (its content
    was frozen when it was made); other values (numbers, strings, None) too.
    """
    kind = type(value)
    if kind is FrozenDict or kind is FrozenList:
        return value
    if isinstance(value, dict):
        if not value:
            return EMPTY
        return FrozenDict({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return FrozenList([freeze(item) for item in value])
    if isinstance(value, Mapping):
        return freeze(dict(value))
    return value


def thaw(value: Any) -> Any:
    """Return a deep copy of ``value`` made of plain, changeable dicts and lists."""
    if isinstance(value, dict):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, list):
        return [thaw(item) for item in value]
    return value
