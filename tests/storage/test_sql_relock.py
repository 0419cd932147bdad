"""PostgreSQL's state lock inserts and locks again the rows a committed transaction
deleted while the batch waited for them (see PostgresOps.lock_state).

The deletions are played by a connection that answers the lock statement with the
rows still present, as PostgreSQL answers a ``FOR UPDATE`` that waited for a
transaction which deleted some of them; the real race is in
test_sql_erasure_concurrency.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from e2badges import TransientStorageError
from e2badges.storage._sql_dialects import PostgresOps


class _Deleting:
    """Answers the n-th lock statement with the keys in ``present[n]`` (then none)."""

    def __init__(self, *present: set[str]) -> None:
        self.present = list(present)
        self.statements: list[tuple[str, list[str]]] = []

    def exec_driver_sql(self, sql: str, params: Mapping[str, Any]) -> Iterator[tuple[str, None]]:
        keys = list(params["keys"])
        self.statements.append(("lock" if sql == "LOCK" else "insert", keys))
        if sql != "LOCK":
            return iter(())
        present = self.present.pop(0) if self.present else set()
        return iter([(key, None) for key in keys if key in present])


def _ops() -> PostgresOps:
    ops = object.__new__(PostgresOps)
    ops.tenant = "t"
    ops.sql_insert_keys, ops.sql_lock = "INSERT", "LOCK"
    return ops


def test_all_found_is_one_insert_and_one_lock() -> None:
    """With no row deleted, the keys are inserted and locked once."""
    conn = _Deleting({"a", "b"})
    assert sorted(_ops().lock_state(conn, ["a", "b"])) == [("a", None), ("b", None)]  # type: ignore[arg-type]
    assert conn.statements == [("insert", ["a", "b"]), ("lock", ["a", "b"])]


def test_deleted_rows_are_inserted_and_locked_again_until_all_are() -> None:
    """Rows missing from the lock are inserted and locked again, only those, until every
    key is locked, also when the second round finds only some of them."""
    conn = _Deleting({"a"}, {"b"}, {"c"})
    rows = _ops().lock_state(conn, ["a", "b", "c"])  # type: ignore[arg-type]
    assert sorted(rows) == [("a", None), ("b", None), ("c", None)]
    assert conn.statements[2:] == [
        ("insert", ["b", "c"]),
        ("lock", ["b", "c"]),
        ("insert", ["c"]),
        ("lock", ["c"]),
    ]


def test_rows_deleted_again_and_again_make_the_batch_retried() -> None:
    """A row still missing after three more rounds raises TransientStorageError (the
    batch runs again) instead of going on with a row it did not lock."""
    conn = _Deleting({"a"})
    with pytest.raises(TransientStorageError):
        _ops().lock_state(conn, ["a", "b"])  # type: ignore[arg-type]
    assert len(conn.statements) == 8
