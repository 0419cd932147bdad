"""Properties: every query agrees with a brute-force sort of all scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from e2badges import FrozenClock

from .helpers import board, make, score

USERS = ["ann", "bob", "cat", "dan", "eve", "fay", "gus"]
users = st.sampled_from(USERS)
# (user, points, minute): small ranges so that ties in score and in time are common.
activities = st.lists(st.tuples(users, st.integers(-1, 2), st.integers(0, 3)), max_size=20)
rankings = st.sampled_from(["competition", "dense", "ordinal"])
orders = st.sampled_from(["higher", "lower"])


def brute_force(acts: list[tuple[str, int, int]], better: str) -> dict[str, tuple[int, float]]:
    """Return user -> (score, reached minute) from scratch: nonzero credits only."""
    totals: dict[str, tuple[int, float]] = {}
    for user, points, minute in acts:
        if points:
            total, reached = totals.get(user, (0, -1.0))
            totals[user] = (total + points, max(reached, minute))
    return totals


def expected_board(
    totals: dict[str, tuple[int, float]], shown: set[str], ranking: str, better: str
) -> list[tuple[str, int, int]]:
    """Sort everything and rank it by the definitions of the issue, naively."""

    def key(user: str) -> float:
        return -totals[user][0] if better == "higher" else totals[user][0]

    order = sorted(shown, key=lambda u: (key(u), totals[u][1], u))
    out = []
    for position, user in enumerate(order):
        better_ones = [v for v in order if key(v) < key(user)]
        if ranking == "competition":
            rank = 1 + len(better_ones)
        elif ranking == "dense":
            rank = 1 + len({key(v) for v in better_ones})
        else:
            rank = position + 1
        out.append((user, totals[user][0], rank))
    return out


def around_naive(board_list: list[str], user: str, n: int) -> list[str]:
    """The around window by shifting one step at a time (a different formulation)."""
    size = len(board_list)
    count = min(n, size)
    start = board_list.index(user) - n // 2
    while start + count > size:
        start -= 1
    while start < 0:
        start += 1
    return board_list[start : start + count]


def check_board(
    *,
    first: list[tuple[str, int, int]],
    second: list[tuple[str, int, int]],
    ranking: str,
    better: str,
    hidden_before: set[str],
    hidden_after: set[str],
    viewer: str | None,
    data: st.DataObject,
) -> None:
    """Record two batches around opt-outs, then check every query against brute force."""
    rewards = make(board(ranking=ranking, better=better))
    for user in hidden_before:
        rewards.set_leaderboard_opt_out(user)
    score(rewards, first)
    for user in hidden_after:
        rewards.set_leaderboard_opt_out(user)
    score(rewards, second)
    hidden = hidden_before | hidden_after
    totals = brute_force(first + second, better)
    shown = {u for u in totals if u not in hidden or u == viewer}
    expected = expected_board(totals, shown, ranking, better)
    view = rewards.leaderboard("b")

    def entries(result: list[object]) -> list[tuple[str, float, int]]:
        return [(e.user, e.score, e.rank) for e in result]  # type: ignore[attr-defined]

    assert entries(view.top(len(expected) + 1, viewer=viewer)) == expected
    assert view.size(viewer=viewer) == len(expected)
    offset = data.draw(st.integers(0, len(expected) + 1), label="offset")
    n = data.draw(st.integers(0, len(expected) + 1), label="n")
    assert entries(view.top(n, offset, viewer=viewer)) == expected[offset : offset + n]
    names = [user for user, _, _ in expected]
    by_user = {user: (points, rank) for user, points, rank in expected}
    for user in USERS:
        if user not in by_user:
            assert view.rank(user, viewer=viewer) is None
            assert view.score(user, viewer=viewer) is None
            assert view.percentile(user, viewer=viewer) is None
            assert view.around(user, n, viewer=viewer) == []
            continue
        points, rank = by_user[user]
        assert view.rank(user, viewer=viewer) == rank
        assert view.score(user, viewer=viewer) == points
        mine = points if better == "lower" else -points
        worse = sum(
            1
            for other, p, _ in expected
            if other != user and (p if better == "lower" else -p) > mine
        )
        percentile = 100.0 if len(expected) == 1 else 100.0 * worse / (len(expected) - 1)
        assert view.percentile(user, viewer=viewer) == percentile
        around = view.around(user, n, viewer=viewer)
        assert [e.user for e in around] == around_naive(names, user, n)
        assert all((e.score, e.rank) == by_user[e.user] for e in around)


class TestAgainstBruteForce:
    @given(
        first=activities,
        second=activities,
        ranking=rankings,
        better=orders,
        hidden_before=st.sets(users, max_size=2),
        hidden_after=st.sets(users, max_size=2),
        viewer=st.none() | users,
        data=st.data(),
    )
    def test_public_board(
        self,
        *,
        first: list[tuple[str, int, int]],
        second: list[tuple[str, int, int]],
        ranking: str,
        better: str,
        hidden_before: set[str],
        hidden_after: set[str],
        viewer: str | None,
        data: st.DataObject,
    ) -> None:
        """top, rank, score, around and percentile agree with a brute-force sort,
        in every style and order, with opt-outs, seen by anyone."""
        check_board(
            first=first,
            second=second,
            ranking=ranking,
            better=better,
            hidden_before=hidden_before,
            hidden_after=hidden_after,
            viewer=viewer,
            data=data,
        )

    @given(
        first=activities.filter(bool),
        second=activities,
        ranking=rankings,
        better=orders,
        others=st.sets(users, max_size=2),
        data=st.data(),
    )
    def test_private_board(
        self,
        *,
        first: list[tuple[str, int, int]],
        second: list[tuple[str, int, int]],
        ranking: str,
        better: str,
        others: set[str],
        data: st.DataObject,
    ) -> None:
        """The board shown to a person who opted out agrees with a brute-force sort
        of the listed people and them."""
        viewer = first[0][0]
        check_board(
            first=first,
            second=second,
            ranking=ranking,
            better=better,
            hidden_before=others,
            hidden_after={viewer},
            viewer=viewer,
            data=data,
        )


class TestRollingAgainstBruteForce:
    @given(
        first=st.lists(st.tuples(users, st.integers(-2, 4), st.integers(0, 9)), max_size=20),
        second=st.lists(st.tuples(users, st.integers(-2, 4), st.integers(0, 9)), max_size=20),
        today=st.integers(0, 11),
        days=st.integers(1, 4),
        ranking=rankings,
        better=orders,
    )
    def test_rolling_window(
        self,
        *,
        first: list[tuple[str, int, int]],
        second: list[tuple[str, int, int]],
        today: int,
        days: int,
        ranking: str,
        better: str,
    ) -> None:
        """A rolling window ranks the sums over its days, before and after more activities."""
        start = datetime(2026, 11, 1, 12, tzinfo=UTC)
        clock = FrozenClock(start + timedelta(days=today))
        rewards = make(board(ranking=ranking, better=better, windows=(f"{days}d",)), clock=clock)

        def timeline(
            acts: list[tuple[str, int, int]], offset: int
        ) -> list[tuple[str, int, datetime]]:
            # Day d at 12:00 plus one minute per activity, so every activity has its own time.
            return [
                (u, p, start + timedelta(days=d, minutes=offset + i))
                for i, (u, p, d) in enumerate(acts)
            ]

        def expected(
            one: list[tuple[str, int, int]], two: list[tuple[str, int, int]]
        ) -> list[tuple[str, int, int]]:
            # The same times in minutes after the start, for the days inside the window.
            inside = [
                (u, p, d * 1440 + i)
                for i, (u, p, d) in enumerate(one + two)
                if today - days < d <= today
            ]
            totals = brute_force(inside, better)
            return expected_board(totals, set(totals), ranking, better)

        view = rewards.leaderboard("b")
        score(rewards, timeline(first, 0))
        assert [(e.user, e.score, e.rank) for e in view.top(20)] == expected(first, [])
        # The window is built now; the next batch updates it row by row.
        score(rewards, timeline(second, len(first)))
        assert [(e.user, e.score, e.rank) for e in view.top(20)] == expected(first, second)
