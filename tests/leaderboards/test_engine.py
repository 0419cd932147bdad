"""The engine's side of boards: rows as effects, state keys, and the memory index."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from e2badges import Activity, CountMetric, TeamsScope
from e2badges._state import StateView
from e2badges.storage import BoardRow, MemoryStore

from .helpers import T0, board, make, score


class TestBoardRowsAsEffects:
    def test_rows_carry_absolute_values(self) -> None:
        """The engine emits each changed entry with its absolute score, accumulators and the
        time it was reached, keyed by (board, period, subject)."""
        rewards = make(board(windows=("all", "week")))
        sink: dict[tuple[str, str, str], BoardRow] = {}
        view = StateView({})
        for minutes, value in ((5, 3), (1, 4)):
            activity = Activity(
                id=f"a{minutes}",
                actor="ann",
                kind="score",
                value=value,
                at=T0 + timedelta(minutes=minutes),
            )
            rewards.engine.evaluate(activity, view, sink)
        reached = (T0 + timedelta(minutes=5)).timestamp()
        expected = BoardRow(sort_key=-7, reached=reached, subject="ann", score=7, total=7, count=2)
        assert sink == {("b", "all", "ann"): expected, ("b", "2026-W48", "ann"): expected}

    def test_lower_is_better_sort_key(self) -> None:
        """On a lower-is-better board the sort key is the score itself."""
        rewards = make(board(better="lower"))
        sink: dict[tuple[str, str, str], BoardRow] = {}
        activity = Activity(id="a", actor="ann", kind="score", value=3, at=T0)
        rewards.engine.evaluate(activity, StateView({}), sink)
        assert sink[("b", "all", "ann")].sort_key == 3

    def test_keys_cover_what_evaluation_reads(self) -> None:
        """Engine.keys lists every board state key that evaluating an activity reads."""
        boards = [
            board("pts", windows=("all", "week", "7d")),
            board("teams", metric=CountMetric(kind="score"), scope=TeamsScope(divide_by_size=True)),
            board("got", metric=CountMetric(kind="score", credit="recipient")),
        ]
        rewards = make(*boards)
        read: list[str] = []

        def loader(keys: Iterable[str]) -> Mapping[str, Any]:
            read.extend(keys)
            return {}

        activity = Activity(
            id="a",
            actor="ann",
            kind="score",
            value=2,
            recipient="bob",
            teams=("red", "blue"),
            at=T0,
        )
        rewards.engine.evaluate(activity, StateView({}, loader))
        board_keys = [key for key in read if key.startswith("lb\x1f")]
        assert len(board_keys) == 3 + 2 + 1  # pts: all, day, week; teams: 2; got: bob
        assert set(board_keys) <= set(rewards.engine.keys(activity))


class TestMemoryIndex:
    def test_large_batch_then_updates(self) -> None:
        """A batch large enough to re-sort the index, then single updates, list correctly."""
        store = MemoryStore()
        rewards = make(board(ranking="ordinal"), store=store)
        score(rewards, [(f"u{i:04d}", i % 97 + 1, i % 13) for i in range(1500)])
        score(rewards, [("u0001", 500, 20), ("u0002", -5, 21), ("new", 96, 0)])
        totals = {f"u{i:04d}": (i % 97 + 1, i % 13) for i in range(1500)}
        totals["u0001"] = (2 + 500, 20)
        totals["u0002"] = (3 - 5, 21)
        totals["new"] = (96, 0)
        expected = sorted(totals, key=lambda u: (-totals[u][0], totals[u][1], u))
        view = rewards.leaderboard("b")
        assert [e.user for e in view.top(2000)] == expected
        assert view.rank("u0002") == expected.index("u0002") + 1

    def test_head_version_and_cached_pages(self) -> None:
        """Changes below the head keep the head's version; a change in it renews it, and
        top() serves the new page."""
        store = MemoryStore()
        rewards = make(board(), store=store)
        # 1,200 people scoring 1,200 down to 1: more than the 1,000 rows of the head.
        score(rewards, [(f"u{i:04d}", 1200 - i, 0) for i in range(1200)])
        view = rewards.leaderboard("b")
        first = [e.user for e in view.top(10)]
        token = store.board_version("b", "all", 10)
        score(rewards, [("u1100", 1, 1)])  # 100 + 1: still far below the head
        assert store.board_version("b", "all", 10) == token
        assert [e.user for e in view.top(10)] == first
        score(rewards, [("u1199", 5000, 2)])  # 1 + 5000: the new leader
        assert store.board_version("b", "all", 10) != token
        assert [e.user for e in view.top(3)] == ["u1199", "u0000", "u0001"]
        assert [e.user for e in view.top(10)] == ["u1199", *first[:9]]

    def test_last_row_of_the_head_leaving_renews_the_head(self) -> None:
        """The row at the head's last position (999) opting out, or moving below the
        head, renews the head's version: a cached page ending there is read again, and
        never lists a person who opted out."""
        rewards = make(board())
        score(rewards, [(f"u{i:04d}", 1001 - i, 0) for i in range(1001)])
        view = rewards.leaderboard("b")
        assert [e.user for e in view.top(3, offset=997)] == ["u0997", "u0998", "u0999"]
        rewards.set_leaderboard_opt_out("u0999")
        assert [e.user for e in view.top(3, offset=997)] == ["u0997", "u0998", "u1000"]
        assert "u0999" not in [e.user for e in view.top(1000)]
        rewards.set_leaderboard_opt_out("u0999", False)
        assert view.top(1000)[-1].user == "u0999"
        score(rewards, [("u0999", -5, 1)])  # 2 - 5: last on the board
        assert [e.user for e in view.top(2, offset=998)] == ["u0998", "u1000"]

    def test_page_inside_a_long_tie(self) -> None:
        """A page that starts deep inside a long tie counts the rows better than the tie."""
        rewards = make(board(ranking="competition"))
        # Two leaders, then 40 people tied at 5: each tied person is ranked 3.
        score(rewards, [("a", 9, 0), ("b", 8, 0)] + [(f"t{i:02d}", 5, 1) for i in range(40)])
        view = rewards.leaderboard("b")
        assert [(e.user, e.rank) for e in view.top(3, 30)] == [
            ("t28", 3),
            ("t29", 3),
            ("t30", 3),
        ]
        assert [(e.user, e.rank) for e in view.top(2, 10)] == [("t08", 3), ("t09", 3)]

    def test_standings_across_sublists(self) -> None:
        """Standings are exact on a board large enough to span many sorted sublists,
        with ties that cross their boundaries, after bulk loading and single updates."""
        from e2badges.storage._board_index import BoardIndex

        index = BoardIndex()
        hidden = {"p00013", "p04000"}
        rows = {}
        for i in range(6000):
            score = (i * 7919) % 40  # 40 scores: ties of ~150 people each
            subject = f"p{i:05d}"
            rows[subject] = BoardRow(-score, float(i % 5), subject, score, score, 1)
        index.put_many(rows.values(), hidden)
        for i in range(0, 6000, 37):  # moves that split sublists unevenly
            subject = f"p{i:05d}"
            score = (i * 31) % 40
            rows[subject] = BoardRow(-score, 10.0 + i, subject, score, score, 2)
            index.put(rows[subject], hidden)
        listed = sorted(row for row in rows.values() if row.subject not in hidden)
        assert index.page(0, 10_000).rows == listed
        # The expected counts from one plain sorted list, by the standard bisect module.
        keys = [row.sort_key for row in listed]
        distinct = sorted(set(keys))
        for row in rows.values():
            standing = index.standing(row, row.subject in hidden)
            mine = 0 if row.subject in hidden else 1
            lower, upper = bisect_left(keys, row.sort_key), bisect_right(keys, row.sort_key)
            assert standing.before == bisect_left(listed, row)
            assert standing.better == lower
            assert standing.equal == upper - lower - mine
            assert standing.worse == len(keys) - upper
            assert standing.distinct_better == bisect_left(distinct, row.sort_key)
        for start in range(1, len(listed)):
            length = 1500 if start % 97 == 0 else 3  # long pages cross sublists
            page = index.page(start, start + length)
            assert page.rows == listed[start : start + length]
            first = page.rows[0].sort_key
            assert (page.better, page.distinct_better) == (
                bisect_left(keys, first),
                bisect_left(distinct, first),
            )
        # The rows around every row (hidden ones too), near and across sublist ends, and
        # windows longer than a sublist.
        for n, row in enumerate(rows.values()):
            hidden_row = row.subject in hidden
            before, after = ((5, 5), (0, 3), (1200, 2), (3, 1500), (40, 0))[n % 5]
            near = index.around(row, hidden_row, before, after)
            at = bisect_left(listed, row)
            begin = max(0, at - before)
            rest = at if hidden_row else at + 1
            assert near.rows == [*listed[begin:at], row, *listed[rest : rest + after]]
            assert (near.at, near.start, near.hidden) == (at - begin, begin, hidden_row)
            head = near.rows[0].sort_key
            assert (near.better, near.distinct_better) == (
                bisect_left(keys, head),
                bisect_left(distinct, head),
            )
