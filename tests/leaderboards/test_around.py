"""around(user, n), percentile(user) and users with no score."""

from __future__ import annotations

import pytest

from e2badges import LeaderboardView

from .helpers import board, make, score
from .test_ranking import rewards_with


@pytest.fixture
def view() -> LeaderboardView:
    """The shared table, competition ranking: ann, cat, dan, bob, eve, fay."""
    return rewards_with("competition").leaderboard("b")


def users(entries: list[object]) -> list[str]:
    return [e.user for e in entries]  # type: ignore[attr-defined]


class TestAround:
    def test_centred_for_odd_n(self, view: LeaderboardView) -> None:
        """With odd n the user is in the middle: dan is at 2, so 3 entries start at 1."""
        assert users(view.around("dan", 3)) == ["cat", "dan", "bob"]

    def test_even_n_puts_the_user_at_n_over_2(self, view: LeaderboardView) -> None:
        """With even n the entries start at position - n // 2: dan (2) at index 2 of 4."""
        assert users(view.around("dan", 4)) == ["ann", "cat", "dan", "bob"]
        # bob is at 3: starts at 3 - 2 = 1.
        assert users(view.around("bob", 2)) == ["dan", "bob"]

    def test_shifted_down_at_the_top(self, view: LeaderboardView) -> None:
        """At the top the window is shifted back inside the board, never cut short."""
        # ann at 0: 0 - 2 = -2, shifted to 0.
        assert users(view.around("ann", 5)) == ["ann", "cat", "dan", "bob", "eve"]

    def test_shifted_up_at_the_bottom(self, view: LeaderboardView) -> None:
        """At the bottom the window is shifted back inside the board, never cut short."""
        # fay at 5: 5 - 1 = 4, but 3 entries must fit in 6: start 3.
        assert users(view.around("fay", 3)) == ["bob", "eve", "fay"]
        assert users(view.around("fay", 4)) == ["dan", "bob", "eve", "fay"]

    def test_n_larger_than_the_board(self, view: LeaderboardView) -> None:
        """min(n, size) entries: the whole board when n is larger."""
        assert users(view.around("eve", 50)) == ["ann", "cat", "dan", "bob", "eve", "fay"]

    def test_entries_carry_global_ranks(self, view: LeaderboardView) -> None:
        """Entries around a user carry their ranks on the whole board."""
        assert [(e.user, e.rank) for e in view.around("bob", 3)] == [
            ("dan", 2),
            ("bob", 2),
            ("eve", 5),
        ]

    def test_zero_n(self, view: LeaderboardView) -> None:
        """around(user, 0) is empty."""
        assert view.around("dan", 0) == []


class TestPercentile:
    def test_ties_share_one_percentile(self, view: LeaderboardView) -> None:
        """100 x (others strictly worse) / (size - 1): the three 40s share 40.0."""
        # Others strictly worse than 40: eve and fay, 2 of 5.
        assert {u: view.percentile(u) for u in ("ann", "cat", "dan", "bob", "eve", "fay")} == {
            "ann": 100.0,
            "cat": 40.0,
            "dan": 40.0,
            "bob": 40.0,
            "eve": 20.0,
            "fay": 0.0,
        }

    def test_lower_is_better(self) -> None:
        """On a lower-is-better board the lowest score beats everyone."""
        view = rewards_with("competition", better="lower").leaderboard("b")
        assert view.percentile("fay") == 100.0
        assert view.percentile("ann") == 0.0
        assert view.percentile("bob") == 20.0  # ann is worse: 1 of 5

    def test_one_person_board(self) -> None:
        """A one-person board puts that person at 100.0."""
        rewards = make(board())
        score(rewards, [("ann", 3, 0)])
        assert rewards.leaderboard("b").percentile("ann") == 100.0

    def test_everyone_tied(self) -> None:
        """When everyone is tied nobody is strictly worse: 0.0 for all."""
        rewards = make(board())
        score(rewards, [("ann", 3, 0), ("bob", 3, 1)])
        assert rewards.leaderboard("b").percentile("bob") == 0.0


class TestNoScore:
    def test_unknown_user(self, view: LeaderboardView) -> None:
        """A user with no score has rank, score and percentile None and an empty around."""
        assert view.rank("zoe") is None
        assert view.score("zoe") is None
        assert view.percentile("zoe") is None
        assert view.entry("zoe") is None
        assert view.around("zoe", 5) == []

    def test_zero_is_a_score(self) -> None:
        """A score of 0 is a score: it is ranked."""
        rewards = make(board())
        # ann: +5 then -5 = 0; bob: -2.
        score(rewards, [("ann", 5, 0), ("ann", -5, 1), ("bob", -2, 2)])
        view = rewards.leaderboard("b")
        assert view.score("ann") == 0
        assert view.rank("ann") == 1
        assert [(e.user, e.score) for e in view.top()] == [("ann", 0), ("bob", -2)]

    def test_activity_crediting_nothing_gives_no_score(self) -> None:
        """An activity that credits a person nothing does not put them on a points board."""
        rewards = make(board())
        score(rewards, [("ann", 0, 0)])
        assert rewards.leaderboard("b").score("ann") is None
        assert rewards.leaderboard("b").size() == 0
