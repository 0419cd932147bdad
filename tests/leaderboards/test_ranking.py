"""Ranking styles, order and ties, by hand-computed tables."""

from __future__ import annotations

import pytest

from e2badges import Rewards

from .helpers import board, listing, make, score

# The shared table (minutes after T0 is when the score was reached):
#
#   user  score  reached
#   ann   50     1
#   bob   40     3        (20 at minute 0, 20 at minute 3: the latest counts)
#   cat   40     2
#   dan   40     2        (same score and time as cat: user id decides)
#   eve   30     5
#   fay   10     6
TABLE = [
    ("ann", 50, 1),
    ("bob", 20, 3),  # recorded first, though later than bob's other activity
    ("bob", 20, 0),
    ("cat", 40, 2),
    ("dan", 40, 2),
    ("eve", 30, 5),
    ("fay", 10, 6),
]

HIGHER = ["ann", "cat", "dan", "bob", "eve", "fay"]
LOWER = ["fay", "eve", "cat", "dan", "bob", "ann"]
SCORES = {"ann": 50, "bob": 40, "cat": 40, "dan": 40, "eve": 30, "fay": 10}


def rewards_with(ranking: str, better: str = "higher") -> Rewards:
    rewards = make(board(ranking=ranking, better=better))
    score(rewards, TABLE)
    return rewards


class TestRankingStyles:
    @pytest.mark.parametrize(
        ("ranking", "ranks"),
        [
            ("competition", [1, 2, 2, 2, 5, 6]),
            ("dense", [1, 2, 2, 2, 3, 4]),
            ("ordinal", [1, 2, 3, 4, 5, 6]),
        ],
    )
    def test_higher_is_better(self, ranking: str, ranks: list[int]) -> None:
        """Best score first; equal scores by who reached them first, then by user id."""
        rewards = rewards_with(ranking)
        top = rewards.leaderboard("b").top(10)
        assert listing(top) == [(u, SCORES[u], r) for u, r in zip(HIGHER, ranks, strict=True)]

    @pytest.mark.parametrize(
        ("ranking", "ranks"),
        [
            # fay 10, eve 30, then the three 40s, then ann 50.
            ("competition", [1, 2, 3, 3, 3, 6]),
            ("dense", [1, 2, 3, 3, 3, 4]),
            ("ordinal", [1, 2, 3, 4, 5, 6]),
        ],
    )
    def test_lower_is_better(self, ranking: str, ranks: list[int]) -> None:
        """On a lower-is-better board the lowest leads; the tie order is not reversed."""
        rewards = rewards_with(ranking, better="lower")
        top = rewards.leaderboard("b").top(10)
        assert listing(top) == [(u, SCORES[u], r) for u, r in zip(LOWER, ranks, strict=True)]

    @pytest.mark.parametrize(
        ("ranking", "expected"),
        [
            ("competition", {"ann": 1, "bob": 2, "cat": 2, "dan": 2, "eve": 5, "fay": 6}),
            ("dense", {"ann": 1, "bob": 2, "cat": 2, "dan": 2, "eve": 3, "fay": 4}),
            ("ordinal", {"ann": 1, "cat": 2, "dan": 3, "bob": 4, "eve": 5, "fay": 6}),
        ],
    )
    def test_rank_matches_listing(self, ranking: str, expected: dict[str, int]) -> None:
        """rank(user) is the rank the user has in the listing."""
        view = rewards_with(ranking).leaderboard("b")
        assert {user: view.rank(user) for user in SCORES} == expected

    def test_score_and_entry(self) -> None:
        """score(user) is the user's score; entry(user) carries user, score and rank."""
        view = rewards_with("competition").leaderboard("b")
        assert view.score("bob") == 40
        entry = view.entry("bob")
        assert entry is not None
        assert (entry.user, entry.score, entry.rank) == ("bob", 40, 2)

    def test_reached_is_order_independent(self) -> None:
        """The time a score was reached is the latest ``at`` among its activities,
        whatever order they were recorded in."""
        forward = make(board(ranking="ordinal"))
        score(forward, [("bob", 20, 0), ("bob", 20, 3), ("cat", 40, 2)])
        backward = make(board(ranking="ordinal"))
        score(backward, [("bob", 20, 3), ("cat", 40, 2), ("bob", 20, 0)])
        # bob reached 40 at minute 3, cat at minute 2: cat is listed first either way.
        expected = [("cat", 40, 1), ("bob", 40, 2)]
        assert listing(forward.leaderboard("b").top()) == expected
        assert listing(backward.leaderboard("b").top()) == expected

    def test_tie_broken_by_user_id(self) -> None:
        """Equal scores reached at the same moment are listed by user id ascending."""
        rewards = make(board(ranking="ordinal"))
        score(rewards, [("zed", 5, 1), ("amy", 5, 1), ("kim", 5, 1)])
        assert [e.user for e in rewards.leaderboard("b").top()] == ["amy", "kim", "zed"]


class TestPaging:
    @pytest.mark.parametrize(
        ("ranking", "pages"),
        [
            (
                "competition",
                [
                    [("ann", 50, 1), ("cat", 40, 2)],
                    [("dan", 40, 2), ("bob", 40, 2)],
                    [("eve", 30, 5), ("fay", 10, 6)],
                ],
            ),
            (
                "dense",
                [
                    [("ann", 50, 1), ("cat", 40, 2)],
                    [("dan", 40, 2), ("bob", 40, 2)],
                    [("eve", 30, 3), ("fay", 10, 4)],
                ],
            ),
            (
                "ordinal",
                [
                    [("ann", 50, 1), ("cat", 40, 2)],
                    [("dan", 40, 3), ("bob", 40, 4)],
                    [("eve", 30, 5), ("fay", 10, 6)],
                ],
            ),
        ],
    )
    def test_ties_keep_their_rank_across_pages(
        self, ranking: str, pages: list[list[tuple[str, int, int]]]
    ) -> None:
        """Ranks are global: a tie that straddles a page keeps its rank on both pages."""
        view = rewards_with(ranking).leaderboard("b")
        assert [listing(view.top(2, offset)) for offset in (0, 2, 4)] == pages

    def test_page_starting_inside_a_tie(self) -> None:
        """A page that starts in the middle of a tie ranks it by the whole board."""
        view = rewards_with("dense").leaderboard("b")
        # Offset 3 is bob, the third of the 40s; eve's 30 is the third distinct score.
        assert listing(view.top(2, 3)) == [("bob", 40, 2), ("eve", 30, 3)]

    def test_past_the_end(self) -> None:
        """A page past the end is empty and a page across the end is cut at it."""
        view = rewards_with("competition").leaderboard("b")
        assert view.top(10, 6) == []
        assert listing(view.top(10, 5)) == [("fay", 10, 6)]
        assert view.top(0) == []

    def test_size(self) -> None:
        """size() is the number of ranked entries."""
        assert rewards_with("competition").leaderboard("b").size() == 6

    def test_empty_board(self) -> None:
        """A board nobody scored on is empty, with size 0."""
        view = make(board()).leaderboard("b")
        assert view.top() == []
        assert view.size() == 0
