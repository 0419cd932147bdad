"""The in-memory leaderboard index: one sorted structure per board and window period.

Each :class:`BoardIndex` keeps every row of one board in one bucket in a dict,
and the *visible ranked* rows (a score, and not a person who opted out) in a
``SortedList`` of ``(sort_key, reached, subject)`` tuples: exactly the listing
order of the Store contract.  A second sorted list holds the distinct sort keys
(with a count of each), for dense ranks.  So a query is a few bisections and a
slice, O(log n), and a row update is a removal and an insertion, O(log n): no
query ever sorts the board.

``sortedcontainers.SortedList`` is a list of sublists of ~1,000 items with a
positional index; at 1,000,000 rows an insertion costs a few microseconds where
``bisect.insort`` into one flat list moves half a million pointers.
"""

from __future__ import annotations

from collections.abc import Container, Iterable

from sortedcontainers import SortedList

from .._leaderboards import BoardRow, Standing

__all__ = ["BoardIndex"]

_INF = float("inf")

Key = tuple[float, float, str]


def _key(row: BoardRow) -> Key:
    assert row.sort_key is not None
    return (row.sort_key, row.reached, row.subject)


class BoardIndex:
    """Rows of one board in one bucket; the visible ranked ones kept in listing order."""

    __slots__ = ("_counts", "_distinct", "_order", "rows")

    def __init__(self) -> None:
        self.rows: dict[str, BoardRow] = {}
        self._order: SortedList[Key] = SortedList()
        self._distinct: SortedList[float] = SortedList()
        self._counts: dict[float, int] = {}

    @staticmethod
    def visible(row: BoardRow, hidden: Container[str]) -> bool:
        """Return whether ``row`` is listed: ranked, and not a person who opted out."""
        return row.sort_key is not None and (row.team or row.subject not in hidden)

    # -- updates -------------------------------------------------------------------

    def put(self, row: BoardRow, hidden: Container[str]) -> None:
        """Store ``row`` as its subject's row, moving it in the listing."""
        old = self.rows.get(row.subject)
        self.rows[row.subject] = row
        was = old is not None and self.visible(old, hidden)
        now = self.visible(row, hidden)
        if was and now and old.sort_key == row.sort_key and old.reached == row.reached:  # type: ignore[union-attr]
            return
        if was:
            self._unlist(old)  # type: ignore[arg-type]
        if now:
            self._list(row)

    def put_many(self, rows: Iterable[BoardRow], hidden: Container[str]) -> None:
        """Store many rows; re-sorts the whole index when that is cheaper."""
        rows = list(rows)
        if len(rows) > 1000 and len(rows) * 4 > len(self.rows):
            for row in rows:
                self.rows[row.subject] = row
            self.rebuild(hidden)
            return
        for row in rows:
            self.put(row, hidden)

    def rebuild(self, hidden: Container[str]) -> None:
        """Rebuild the sorted structures from ``rows``."""
        visible = self.visible
        keys = [_key(row) for row in self.rows.values() if visible(row, hidden)]
        counts: dict[float, int] = {}
        for key in keys:
            counts[key[0]] = counts.get(key[0], 0) + 1
        self._order = SortedList(keys)
        self._counts = counts
        self._distinct = SortedList(counts)

    def hide(self, subject: str) -> None:
        """Take ``subject``'s row out of the listing (its person opted out)."""
        row = self.rows.get(subject)
        if row is not None and row.sort_key is not None and not row.team:
            self._unlist(row)

    def show(self, subject: str) -> None:
        """Put ``subject``'s row back into the listing (its person opted back in)."""
        row = self.rows.get(subject)
        if row is not None and row.sort_key is not None and not row.team:
            self._list(row)

    def _list(self, row: BoardRow) -> None:
        self._order.add(_key(row))
        sort = row.sort_key
        assert sort is not None
        count = self._counts.get(sort)
        if count is None:
            self._counts[sort] = 1
            self._distinct.add(sort)
        else:
            self._counts[sort] = count + 1

    def _unlist(self, row: BoardRow) -> None:
        self._order.remove(_key(row))
        sort = row.sort_key
        assert sort is not None
        count = self._counts[sort]
        if count == 1:
            del self._counts[sort]
            self._distinct.remove(sort)
        else:
            self._counts[sort] = count - 1

    # -- queries -------------------------------------------------------------------

    def size(self) -> int:
        """Return the number of listed rows."""
        return len(self._order)

    def page(self, start: int, stop: int) -> list[BoardRow]:
        """Return the listed rows at positions ``start`` to ``stop`` (exclusive)."""
        rows = self.rows
        return [rows[key[2]] for key in self._order[start:stop]]

    def standing(self, row: BoardRow, hidden: bool) -> Standing:
        """Return where ranked ``row`` stands among the listed rows of other subjects."""
        order = self._order
        sort = row.sort_key
        assert sort is not None
        before = order.bisect_left((sort, row.reached, row.subject))
        better = order.bisect_left((sort,))  # type: ignore[arg-type]  # a shorter tuple sorts first
        end = order.bisect_left((sort, _INF))  # type: ignore[arg-type]
        size = len(order)
        equal = end - better - (0 if hidden else 1)
        return Standing(
            row=row,
            size=size,
            before=before,
            better=better,
            equal=equal,
            worse=size - end,
            distinct_better=self._distinct.bisect_left(sort),
            hidden=hidden,
        )
