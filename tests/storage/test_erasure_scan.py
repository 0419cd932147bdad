"""Erasure leaves the person nowhere: not in any column of any table, not in memory.

The conformance suite checks every public query; these tests look under the
queries: every text column of every table under the store's prefix (SQL), every
object the memory store holds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sql_support import Database
from sqlalchemy import MetaData, inspect, select

from e2badges import StorageError
from e2badges.storage import MemoryStore
from e2badges.testing._people_conformance import (
    ALICE,
    ALICE_NAME,
    OBJECT,
    SECRET,
    _organisation,
    _record_organisation,
)

TRACES = (ALICE, ALICE_NAME, SECRET, SECRET.upper(), OBJECT)


def _found(values: Iterator[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return (where, trace) for every value holding a trace."""
    return [(where, t) for where, text in values for t in TRACES if t in text]


def _table_texts(db: Database) -> Iterator[tuple[str, str]]:
    """Yield (table.column, text) for every text value of every table under the prefix."""
    store = db.store()
    with store.engine.connect() as conn:
        names = [n for n in inspect(conn).get_table_names() if n.startswith(db.prefix)]
        metadata = MetaData()
        metadata.reflect(conn, only=names)
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    if isinstance(value, str):
                        yield f"{table.name}.{column.name}", value


def _object_texts(root: object) -> Iterator[tuple[str, str]]:
    """Yield (path, text) for every string reachable from ``root`` (keys included)."""
    seen: dict[int, object] = {}  # kept alive, so that ids are not reused
    stack: list[tuple[str, Any]] = [("store", root)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            yield path, value
            continue
        if id(value) in seen or value is None or isinstance(value, int | float | bool):
            continue
        seen[id(value)] = value
        if isinstance(value, dict):
            for key, item in value.items():
                stack.append((f"{path}[key]", key))
                stack.append((f"{path}[{key!r}]", item))
        elif isinstance(value, list | tuple | set | frozenset):
            stack.extend((f"{path}[]", item) for item in value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            stack.extend(
                (f"{path}.{f.name}", getattr(value, f.name)) for f in dataclasses.fields(value)
            )
        elif hasattr(value, "model_dump"):
            stack.append((path, value.model_dump()))
        else:
            attributes = dict(getattr(value, "__dict__", {}))
            for cls in type(value).__mro__:
                for name in getattr(cls, "__slots__", ()):
                    if hasattr(value, name):
                        attributes[name] = getattr(value, name)
            if not attributes and hasattr(value, "__iter__"):
                attributes = {"items": list(value)}  # a SortedList and the like
            stack.extend((f"{path}.{name}", item) for name, item in attributes.items())


class TestErasureScan:
    def test_no_table_holds_a_trace(self, db: Database) -> None:
        """After erase_person, no text column of any of the store's tables holds the
        person's id, name, or the content of their activities."""
        rewards = _organisation(db.store())
        _record_organisation(rewards)
        before = {t for _, t in _found(_table_texts(db))}
        assert before >= {ALICE, ALICE_NAME, SECRET, OBJECT}
        rewards.erase_person(ALICE)
        assert _found(_table_texts(db)) == []

    def test_memory_holds_no_trace(self) -> None:
        """After erase_person, nothing the memory store holds names the person or holds
        their content."""
        store = MemoryStore()
        rewards = _organisation(store)
        _record_organisation(rewards)
        store.activity_totals(by=("actor",))  # fold the rollup's pending rows in
        assert {t for _, t in _found(_object_texts(store))} == set(TRACES)
        rewards.erase_person(ALICE)
        assert _found(_object_texts(store)) == []

    def test_failed_erasure_changes_nothing(self, db: Database) -> None:
        """An erasure that fails midway (its last table is gone) rolls everything back."""
        store = db.store()
        rewards = _organisation(store)
        _record_organisation(rewards)
        with store.engine.begin() as conn:
            store.tables.outbox.drop(conn)
        before = sorted(_table_texts(db))
        with pytest.raises(StorageError):
            rewards.erase_person(ALICE)
        assert sorted(_table_texts(db)) == before
