"""The in-memory leaderboard index: one sorted structure per board and window period.

Each :class:`BoardIndex` keeps every row of one board in one bucket in a dict,
and the *visible ranked* rows (a score, and not a person who opted out) in a
``SortedList`` of the rows themselves: a BoardRow is a tuple that starts with
``(sort_key, reached, subject)``, so tuple order is the listing order of the
Store contract (subjects are unique, so the other fields are never compared),
and a page is one slice.
A second sorted list holds the distinct sort keys (with a count of each), for
dense ranks.  So a query is a few bisections and a
slice, O(log n), and a row update is a removal and an insertion, O(log n): no
query ever sorts the board.

``sortedcontainers.SortedList`` is a list of sublists of ~1,000 items with a
positional index; at 1,000,000 rows an insertion costs a few microseconds where
``bisect.insort`` into one flat list moves half a million pointers.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Container, Iterable
from itertools import count
from typing import Any

from sortedcontainers import SortedList

from .._leaderboards import AroundPage, BoardPage, BoardRow, Standing

__all__ = ["BoardIndex"]

_INF = float("inf")
# Sorts after every real key (scores are finite): "the head is the whole board".
_END = (_INF, _INF, "")
# Version tokens are unique across indexes, so a rebuilt index never repeats one.
_TOKENS = count(1)


class BoardIndex:
    """Rows of one board in one bucket; the visible ranked ones kept in listing order."""

    __slots__ = ("_bound", "_counts", "_distinct", "_head", "_order", "_version", "rows")

    #: Pages ending within the first HEAD positions get a version token of their own
    #: that only changes when one of those positions does (see :meth:`version`).
    HEAD = 1000

    def __init__(self) -> None:
        self.rows: dict[str, BoardRow] = {}
        self._order: SortedList[BoardRow] = SortedList()
        self._distinct: SortedList[float] = SortedList()
        self._counts: dict[float, int] = {}
        self._version = next(_TOKENS)
        self._head = self._version
        self._bound: tuple[float | None, float, str] | None = None

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
        if was and now and old == row:
            return
        # A row that keeps its place (same key and time reached) while its count or
        # total changed is replaced too: the listing holds the rows themselves.
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
        keys = [row for row in self.rows.values() if visible(row, hidden)]
        counts: dict[float, int] = {}
        for key in keys:
            sort: float = key[0]  # type: ignore[assignment]  # listed rows have a sort key
            counts[sort] = counts.get(sort, 0) + 1
        self._order = SortedList(keys)
        self._counts = counts
        self._distinct = SortedList(counts)
        self._version = self._head = next(_TOKENS)
        self._bound = None

    def remove(self, subject: str, hidden: Container[str]) -> None:
        """Forget ``subject``'s row, if any (``hidden`` as when it was stored)."""
        row = self.rows.pop(subject, None)
        if row is not None and self.visible(row, hidden):
            self._unlist(row)

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

    def _changed(self, key: BoardRow) -> None:
        self._version = token = next(_TOKENS)
        bound = self._bound
        # The head ends at its last row's listing key (sort key, time, subject): compare
        # those of the changed row, so that row itself counts as in the head.
        if bound is None or key[:3] <= bound:
            # The change lands within the head: its rows (or their order) changed.
            self._head = token
            self._bound = None

    def _list(self, row: BoardRow) -> None:
        self._order.add(row)
        self._changed(row)
        sort = row.sort_key
        assert sort is not None
        count = self._counts.get(sort)
        if count is None:
            self._counts[sort] = 1
            self._distinct.add(sort)
        else:
            self._counts[sort] = count + 1

    def _unlist(self, row: BoardRow) -> None:
        self._order.remove(row)
        self._changed(row)
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

    def settled(self, stop: int) -> int | None:
        """Return the version token for ``stop`` if it can be read without a change, else None."""
        if stop > self.HEAD:
            return self._version
        return self._head if self._bound is not None else None

    def version(self, stop: int) -> int:
        """Return a token that changes whenever a listed row at a position below ``stop`` does."""
        if stop > self.HEAD:
            return self._version
        if self._bound is None:
            order = self._order
            self._bound = order[self.HEAD - 1][:3] if len(order) >= self.HEAD else _END
        return self._head

    def page(self, start: int, stop: int, dense: bool = True) -> BoardPage:
        """Return the listed rows at positions ``start`` to ``stop`` (exclusive)."""
        order = self._order
        size = len(order)
        if start >= size or stop <= start:
            return BoardPage(start, [], size)
        if not start:
            return BoardPage(0, order[0:stop], size)
        # Find rows[0] in its sublist: the rows usually come from that sublist in one
        # slice, and where the tie of rows[0] begins usually lies in it too.
        sorted_list: Any = order
        pos, idx = sorted_list._pos(start)
        sublist = sorted_list._lists[pos]
        end = idx + stop - start
        rows: list[BoardRow] = sublist[idx:end] if end <= len(sublist) else order[start:stop]
        sort: float = rows[0][0]  # type: ignore[assignment]  # listed rows have a sort key
        first = bisect_left(sublist, (sort,), 0, idx)
        # Else (rows[0] first in a later sublist) the tie may begin in an earlier one.
        better = (
            start - (idx - first) if first or not pos else order.bisect_left((sort,))  # type: ignore[arg-type]
        )
        return BoardPage(
            start, rows, size, better, self._distinct.bisect_left(sort) if dense else 0
        )

    def _positions(self, sort: float, reached: float, subject: str) -> tuple[int, int]:
        """Return the positions before which ``(sort, reached, subject)`` and ``(sort,)`` go.

        One descent serves both: where a tie begins is almost always in the same
        sublist of the SortedList as the row, so its position follows from the row's
        (the SortedList internals used here are those of sortedcontainers 2.x).
        """
        order: Any = self._order
        key = (sort, reached, subject)
        maxes = order._maxes
        if not maxes:
            return 0, 0
        pos = bisect_left(maxes, key)
        if pos == len(maxes):
            pos -= 1
            idx = len(order._lists[pos])
        else:
            idx = bisect_left(order._lists[pos], key)
        first = bisect_left(order._lists[pos], (sort,), 0, idx)
        before: int = order._loc(pos, idx)
        if first or not pos:
            return before, before - (idx - first)
        # The tie may begin in an earlier sublist.
        return before, order.bisect_left((sort,))

    def standing(self, row: BoardRow, hidden: bool, dense: bool = True) -> Standing:
        """Return where ranked ``row`` stands among the listed rows of other subjects.

        ``hidden`` tells that ``row`` itself is not listed.
        """
        order = self._order
        sort = row.sort_key
        assert sort is not None
        # The 3-tuple sorts just before the subject's own row, if listed.
        before, better = self._positions(sort, row.reached, row.subject)
        same = self._counts.get(sort, 0)
        size = len(order)
        return Standing(
            row=row,
            size=size,
            before=before,
            better=better,
            equal=same if hidden else same - 1,
            worse=size - better - same,
            distinct_better=self._distinct.bisect_left(sort) if dense else 0,
            hidden=hidden,
        )

    def around(
        self, row: BoardRow, hidden: bool, before: int, after: int, dense: bool = True
    ) -> AroundPage:
        """Return ranked ``row`` with up to ``before`` and ``after`` listed rows next to it.

        ``hidden`` tells that ``row`` itself is not listed.  One descent finds the row
        (as :meth:`_positions`); the rows next to it are sliced from its sublist when
        they all lie there (usually: a sublist holds about 1,000 rows), which costs a
        tenth of two slices of the SortedList.
        """
        order: Any = self._order
        sort = row.sort_key
        assert sort is not None
        before, after = max(before, 0), max(after, 0)
        maxes = order._maxes
        if not maxes:
            return AroundPage([row], 0, 0, 0, 0, hidden)
        key = (sort, row.reached, row.subject)
        pos = bisect_left(maxes, key)
        if pos == len(maxes):
            pos -= 1
            sub = order._lists[pos]
            idx = len(sub)
        else:
            sub = order._lists[pos]
            idx = bisect_left(sub, key)
        tie = bisect_left(sub, (sort,), 0, idx)
        at: int = order._loc(pos, idx)
        # The tie may begin in an earlier sublist when it begins this one.
        better = at - (idx - tie) if tie or not pos else order.bisect_left((sort,))
        first = max(0, at - before)
        low = idx - (at - first)  # the first row's index in ``sub``, if it is there
        rest = idx if hidden else idx + 1  # the row after the subject's in ``sub``
        if low >= 0 and rest + after <= len(sub):
            rows = [*sub[low:idx], row, *sub[rest : rest + after]]
        else:
            skip = at if hidden else at + 1
            rows = [*order[first:at], row, *order[skip : skip + after]]
        head: float = rows[0][0]  # listed rows have a sort key
        if head != sort:
            if low > 0:
                start = bisect_left(sub, (head,), 0, low)
                better = first - (low - start) if start or not pos else order.bisect_left((head,))
            else:
                better = order.bisect_left((head,))
        return AroundPage(
            rows,
            at - first,
            first,
            better,
            self._distinct.bisect_left(head) if dense else 0,
            hidden,
        )
