"""MemoryStore: the reference implementation of the Store contract.

Everything lives in Python dicts and lists guarded by one lock; a transaction
holds the lock from claim to commit, so concurrent threads record one batch at a
time.  Nothing survives the process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .._engine import EffectBatch
from .._leaderboards import BoardPage, BoardRow, Bucket, RollingBucket, Standing, merge_rows
from .._models import Activity, LedgerEntry, Outcome
from .._state import StateView
from ._board_index import BoardIndex
from .base import Store, StoreTransaction

__all__ = ["MemoryStore"]


class _MemoryTransaction(StoreTransaction):
    __slots__ = ("_store",)

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

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
        if batch.boards:
            store._apply_boards(batch.boards)


class MemoryStore(Store):
    """Keep everything in process memory; the default store (``memory://``)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._activities: dict[str, tuple[Activity, Outcome]] = {}
        self._log: list[Activity] = []
        self._state: dict[str, Any] = {}
        self._ledgers: dict[str, list[LedgerEntry]] = {}
        self._boards: dict[tuple[str, str], BoardIndex] = {}
        # Rolling windows merged from day rows, built when first queried and then kept
        # up to date row by row; the least recently queried are dropped.
        self._rolling: OrderedDict[tuple[str, RollingBucket], tuple[BoardIndex, frozenset[str]]]
        self._rolling = OrderedDict()
        self._opted_out: set[str] = set()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MemoryStore:
        """Create a MemoryStore from ``memory://`` (the URL carries no options)."""
        return cls(**options)

    @contextmanager
    def transaction(self, **options: Any) -> Iterator[StoreTransaction]:
        if options:
            raise TypeError(f"MemoryStore.transaction() takes no options, got {sorted(options)}")
        with self._lock:
            # The transaction writes only in apply(), after the engine is done, so an
            # exception anywhere before it leaves the store untouched.
            yield _MemoryTransaction(self)

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

    # -- leaderboards ----------------------------------------------------------------

    ROLLING_KEPT = 16

    def _apply_boards(self, rows: dict[tuple[str, str, str], BoardRow]) -> None:
        hidden = self._opted_out
        groups: dict[tuple[str, str], list[BoardRow]] = {}
        for (board, period, _subject), row in rows.items():
            group = groups.get((board, period))
            if group is None:
                groups[(board, period)] = [row]
            else:
                group.append(row)
        indexes = self._boards
        for key, group in groups.items():
            index = indexes.get(key)
            if index is None:
                index = indexes[key] = BoardIndex()
            index.put_many(group, hidden)
        for (board, bucket), (index, days) in self._rolling.items():
            touched = {subject for (b, period, subject) in rows if b == board and period in days}
            for subject in touched:
                index.put(self._merged(board, bucket, subject), hidden)

    def _merged(self, board: str, bucket: RollingBucket, subject: str) -> BoardRow:
        day_rows: list[BoardRow] = []
        for day in bucket.days:
            index = self._boards.get((board, day))
            row = None if index is None else index.rows.get(subject)
            if row is not None:
                day_rows.append(row)
        return merge_rows(subject, day_rows, bucket.formula)

    def _index(self, board: str, bucket: Bucket) -> BoardIndex | None:
        if isinstance(bucket, str):
            return self._boards.get((board, bucket))
        key = (board, bucket)
        found = self._rolling.get(key)
        if found is not None:
            self._rolling.move_to_end(key)
            return found[0]
        subjects: dict[str, list[BoardRow]] = {}
        for day in bucket.days:
            day_index = self._boards.get((board, day))
            if day_index is not None:
                for subject, row in day_index.rows.items():
                    subjects.setdefault(subject, []).append(row)
        index = BoardIndex()
        formula = bucket.formula
        index.rows = {s: merge_rows(s, rows, formula) for s, rows in subjects.items()}
        index.rebuild(self._opted_out)
        self._rolling[key] = (index, frozenset(bucket.days))
        while len(self._rolling) > self.ROLLING_KEPT:
            self._rolling.popitem(last=False)
        return index

    def board_size(self, board: str, bucket: Bucket) -> int:
        with self._lock:
            index = self._index(board, bucket)
            return 0 if index is None else index.size()

    def board_page(
        self, board: str, bucket: Bucket, start: int, stop: int, *, dense: bool = True
    ) -> BoardPage:
        with self._lock:
            index = self._index(board, bucket)
            if index is None:
                return BoardPage(start, [], 0)
            return index.page(start, stop, dense)

    def board_version(self, board: str, bucket: Bucket, stop: int) -> Hashable | None:
        if isinstance(bucket, str):
            # Reading a settled token needs no lock; settling one (after a change) does.
            index = self._boards.get((board, bucket))
            if index is None:
                return 0
            token = index.settled(stop)
            if token is not None:
                return token
        with self._lock:
            index = self._index(board, bucket)
            return 0 if index is None else index.version(stop)

    def board_standing(
        self, board: str, bucket: Bucket, subject: str, *, dense: bool = True
    ) -> Standing | None:
        with self._lock:
            index = self._index(board, bucket)
            row = None if index is None else index.rows.get(subject)
            if index is None or row is None or row.sort_key is None:
                return None
            return index.standing(row, not index.visible(row, self._opted_out), dense)

    def set_board_opt_out(self, user: str, opted_out: bool) -> None:
        with self._lock:
            if opted_out == (user in self._opted_out):
                return
            indexes = [*self._boards.values(), *(found[0] for found in self._rolling.values())]
            if opted_out:
                self._opted_out.add(user)
                for index in indexes:
                    index.hide(user)
            else:
                self._opted_out.discard(user)
                for index in indexes:
                    index.show(user)

    def board_opt_out(self, user: str) -> bool:
        return user in self._opted_out

    def __repr__(self) -> str:
        return f"MemoryStore(activities={len(self._log)})"
