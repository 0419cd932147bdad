"""MemoryStore: the reference implementation of the Store contract.

Everything lives in Python dicts and lists guarded by one lock; a transaction
holds the lock from claim to commit, so concurrent threads record one batch at a
time.  Nothing survives the process.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .._engine import EffectBatch
from .._models import Activity, LedgerEntry, Outcome
from .._state import StateView
from .base import Store, StoreTransaction

__all__ = ["MemoryStore"]


class _MemoryTransaction(StoreTransaction):
    __slots__ = ("_pending", "_store")

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._pending: list[EffectBatch] = []

    def claim(self, activities: Sequence[Activity]) -> dict[str, tuple[Activity, Outcome]]:
        recorded = self._store._activities
        out: dict[str, tuple[Activity, Outcome]] = {}
        for activity in activities:
            found = recorded.get(activity.id)
            if found is not None:
                out[activity.id] = found
        return out

    def view(self, keys: Collection[str] | None = None) -> StateView:
        return StateView(self._store._state)

    def apply(self, batch: EffectBatch) -> None:
        # Kept until the transaction commits, so that an exception after apply()
        # still discards everything.
        self._pending.append(batch)

    def commit(self) -> None:
        for batch in self._pending:
            self._write(batch)

    def _write(self, batch: EffectBatch) -> None:
        store = self._store
        recorded = store._activities
        log = store._log
        ledgers = store._ledgers
        for activity, outcome in batch.recorded:
            recorded[activity.id] = (activity, outcome)
            log.append(activity)
            for line in outcome.ledger:
                lines = ledgers.get(line.user)
                if lines is None:
                    ledgers[line.user] = [line]
                else:
                    lines.append(line)
        store._state.update(batch.state)


class MemoryStore(Store):
    """Keep everything in process memory; the default store (``memory://``)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._activities: dict[str, tuple[Activity, Outcome]] = {}
        self._log: list[Activity] = []
        self._state: dict[str, Any] = {}
        self._ledgers: dict[str, list[LedgerEntry]] = {}

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MemoryStore:
        """Create a MemoryStore from ``memory://`` (the URL carries no options)."""
        return cls(**options)

    @contextmanager
    def transaction(self, **options: Any) -> Iterator[StoreTransaction]:
        if options:
            raise TypeError(f"MemoryStore.transaction() takes no options, got {sorted(options)}")
        with self._lock:
            # The transaction writes only on commit, so an exception anywhere in the
            # block leaves the store untouched.
            tx = _MemoryTransaction(self)
            yield tx
            tx.commit()

    def read_state(self, keys: Iterable[str]) -> dict[str, Any]:
        state = self._state
        return {key: state[key] for key in keys if key in state}

    def get_activity(self, activity_id: str) -> Activity | None:
        found = self._activities.get(activity_id)
        return None if found is None else found[0]

    def get_outcome(self, activity_id: str) -> Outcome | None:
        found = self._activities.get(activity_id)
        return None if found is None else found[1]

    def ledger(self, user: str, *, limit: int | None = None) -> list[LedgerEntry]:
        with self._lock:
            lines = self._ledgers.get(user, [])
            return list(lines if limit is None else lines[-limit:] if limit > 0 else [])

    def iter_activities(self) -> Iterator[Activity]:
        with self._lock:
            log = list(self._log)
        return iter(log)

    def count_activities(self) -> int:
        return len(self._log)

    def __repr__(self) -> str:
        return f"MemoryStore(activities={len(self._log)})"
