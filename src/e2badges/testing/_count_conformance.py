"""Conformance tests for the counts, limits and offsets of queries, mixed into the Store suite.

Every count a query takes (``top(n, offset)``, ``around(user, n)``, the ``limit``
of ``explain()``, ``feed()`` and ``newcomers()``, ``close_periods(top=...)``,
``adoption(heavy=..., kept_weeks=...)``) is accepted up to ``MAX_COUNT`` and
answers as a count covering everything does; one more is refused with
InvalidQueryError naming the argument, before the store is asked, and nothing
is written.  The store must hold the bound (and an offset plus a count within
it) in its LIMIT and OFFSET.

Mixed into :class:`~e2badges.testing.conformance.StoreConformance`; the
``store`` fixture comes from there.  The limits are those of docs/input.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from .. import (
    Activity,
    AdoptionReport,
    Badge,
    FrozenClock,
    InvalidQueryError,
    Rewards,
    criteria,
)
from .._limits import MAX_COUNT
from ..storage.base import Store
from ._common import BOARD_RULES, BOARDS, T0

__all__ = ["QueryCountConformance"]

BADGES = (Badge(id="first", criterion=criteria.Count(kind="score"), threshold=1),)
# More than any query below can return from the data of ``counted``.
EVERYTHING = 100

# (id, the argument named by the error, the query with that count).
Query = Callable[[Rewards, int], Any]
QUERIES: list[tuple[str, str, Query]] = [
    ("top-n", "n", lambda r, v: r.leaderboard("pts").top(v)),
    ("top-n-day", "n", lambda r, v: r.leaderboard("pts").top(v, window="day")),
    ("top-n-rolling", "n", lambda r, v: r.leaderboard("pts").top(v, window="3d")),
    ("top-offset", "offset", lambda r, v: r.leaderboard("pts").top(3, v)),
    ("top-n-past-offset", "n", lambda r, v: r.leaderboard("pts").top(v, 2)),
    ("top-viewer", "n", lambda r, v: r.leaderboard("pts").top(v, viewer="u0")),
    ("around", "n", lambda r, v: r.leaderboard("pts").around("u3", v)),
    ("around-viewer", "n", lambda r, v: r.leaderboard("pts").around("u3", v, viewer="u0")),
    ("explain", "limit", lambda r, v: r.explain("u1", limit=v)),
    ("feed", "limit", lambda r, v: r.feed(limit=v)),
    ("newcomers", "limit", lambda r, v: r.newcomers(limit=v)),
    ("adoption-heavy", "heavy", lambda r, v: _heavy(r.adoption(heavy=v))),
    ("adoption-kept-weeks", "kept_weeks", lambda r, v: _kept(r.adoption(kept_weeks=v))),
]


def _heavy(report: AdoptionReport) -> tuple[int, int]:
    """Return the report's heavy and occasional contributors (not the threshold asked for)."""
    return report.heavy, report.occasional


def _kept(report: AdoptionReport) -> tuple[int, int]:
    """Return the people looked at again and those active then (not the weeks asked for)."""
    return report.kept_going.earned, report.kept_going.active


class QueryCountConformance:
    """Counts, limits and offsets of queries: accepted up to MAX_COUNT on every store."""

    @pytest.fixture
    def counted(self, store: Store) -> Rewards:
        """Seven people with scores over two days, one of them out of leaderboards."""
        rewards = Rewards(
            store,
            rules=BOARD_RULES,
            badges=BADGES,
            leaderboards=BOARDS,
            clock=FrozenClock(T0 + timedelta(days=1)),
            load_entrypoints=False,
        )
        rewards.record_many(
            Activity(
                id=f"c{i}",
                actor=f"u{i % 7}",
                kind="score",
                value=i % 5 + 1,
                at=T0 + timedelta(days=i % 2, minutes=i),
            )
            for i in range(30)
        )
        rewards.set_leaderboard_opt_out("u0")
        return rewards

    @pytest.mark.parametrize(
        ("field", "query"), [q[1:] for q in QUERIES], ids=[q[0] for q in QUERIES]
    )
    def test_count_at_the_bound_accepted(self, counted: Rewards, field: str, query: Query) -> None:
        """A count of MAX_COUNT (2**31 - 1) answers as a count covering everything does."""
        assert query(counted, MAX_COUNT) == query(counted, EVERYTHING)

    @pytest.mark.parametrize(
        ("field", "query"), [q[1:] for q in QUERIES], ids=[q[0] for q in QUERIES]
    )
    @pytest.mark.parametrize(
        "count", [MAX_COUNT + 1, 2**63, 2**64], ids=["bound+1", "2**63", "2**64"]
    )
    def test_count_past_the_bound_refused(
        self, counted: Rewards, store: Store, field: str, query: Query, count: int
    ) -> None:
        """A count past MAX_COUNT is refused, naming the argument; nothing is written."""
        before = store.count_activities()
        with pytest.raises(InvalidQueryError) as info:
            query(counted, count)
        assert (info.value.field, store.count_activities()) == (field, before)
        assert "at most 2**31 - 1" in info.value.reason

    def test_offset_and_count_at_the_bound(self, counted: Rewards) -> None:
        """top(MAX_COUNT, MAX_COUNT) reads past the board's end (offset + n is 2**32 - 2): empty."""
        board = counted.leaderboard("pts")
        assert (board.top(MAX_COUNT, MAX_COUNT), board.top(MAX_COUNT, MAX_COUNT, window="3d")) == (
            [],
            [],
        )

    def test_close_periods_top_at_the_bound(self, counted: Rewards) -> None:
        """close_periods(top=MAX_COUNT) closes the period; top=MAX_COUNT + 1 is refused first."""
        with pytest.raises(InvalidQueryError) as info:
            counted.close_periods(top=MAX_COUNT + 1)
        # Nothing was closed by the refused call: the next one closes the period.
        closed = counted.close_periods(top=MAX_COUNT)
        assert (info.value.field, closed) == ("top", [("pts", "day", "2026-03-02")])
