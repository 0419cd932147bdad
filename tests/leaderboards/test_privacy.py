"""Leaderboard opt-out: left out of every board shown to others, still answered privately."""

from __future__ import annotations

import pytest

from e2badges import InvalidQueryError, Rewards

from .helpers import board, listing, make, score
from .test_ranking import TABLE


def rewards_with(ranking: str = "competition", **options: object) -> Rewards:
    rewards = make(board(ranking=ranking, **options))
    score(rewards, TABLE)
    return rewards


# The shared table: ann 50, cat 40, dan 40, bob 40, eve 30, fay 10 (in listing order).


class TestOptOut:
    def test_left_out_and_ranks_close_up(self) -> None:
        """An opted-out person is left out of the public board; the others' ranks close up."""
        rewards = rewards_with()
        rewards.set_leaderboard_opt_out("cat")
        view = rewards.leaderboard("b")
        assert listing(view.top()) == [
            ("ann", 50, 1),
            ("dan", 40, 2),
            ("bob", 40, 2),
            ("eve", 30, 4),
            ("fay", 10, 5),
        ]
        assert view.size() == 5
        assert view.percentile("eve") == 25.0  # fay is worse: 1 of 4

    def test_public_queries_do_not_answer_for_them(self) -> None:
        """Asked publicly, an opted-out person has no rank, score, percentile or neighbours."""
        rewards = rewards_with()
        rewards.set_leaderboard_opt_out("cat")
        view = rewards.leaderboard("b")
        assert view.rank("cat") is None
        assert view.score("cat") is None
        assert view.percentile("cat") is None
        assert view.around("cat", 3) == []
        assert view.rank("cat", viewer="ann") is None

    def test_private_answers(self) -> None:
        """Asked with viewer=themselves, an opted-out person is answered in their place."""
        rewards = rewards_with()
        rewards.set_leaderboard_opt_out("cat")
        view = rewards.leaderboard("b")
        assert view.rank("cat", viewer="cat") == 2
        assert view.score("cat", viewer="cat") == 40
        assert view.percentile("cat", viewer="cat") == 40.0  # eve and fay: 2 of 5
        assert view.size(viewer="cat") == 6
        assert [e.user for e in view.around("cat", 3, viewer="cat")] == ["ann", "cat", "dan"]
        assert listing(view.top(viewer="cat")) == [
            ("ann", 50, 1),
            ("cat", 40, 2),
            ("dan", 40, 2),
            ("bob", 40, 2),
            ("eve", 30, 5),
            ("fay", 10, 6),
        ]

    def test_others_seen_by_an_opted_out_viewer(self) -> None:
        """The board shown to an opted-out person ranks the others with them put back in."""
        rewards = rewards_with()
        rewards.set_leaderboard_opt_out("ann")
        view = rewards.leaderboard("b")
        assert view.rank("eve") == 4
        assert view.rank("eve", viewer="ann") == 5
        assert view.percentile("cat", viewer="ann") == 40.0
        # In ann's board eve is at position 4: the 3 around her start at 3.
        assert [e.user for e in view.around("eve", 3, viewer="ann")] == ["bob", "eve", "fay"]
        assert [e.user for e in view.around("eve", 3)] == ["bob", "eve", "fay"]

    def test_other_opted_out_people_stay_hidden(self) -> None:
        """An opted-out viewer sees themselves, not the others who opted out."""
        rewards = rewards_with()
        rewards.set_leaderboard_opt_out("cat")
        rewards.set_leaderboard_opt_out("fay")
        view = rewards.leaderboard("b")
        assert [e.user for e in view.top(viewer="cat")] == ["ann", "cat", "dan", "bob", "eve"]
        assert view.rank("fay", viewer="cat") is None

    @pytest.mark.parametrize(
        ("hidden", "public", "private"),
        [
            # ann's 50 is the only one: putting her back adds a distinct better score.
            (
                "ann",
                [("cat", 1), ("dan", 1), ("bob", 1), ("eve", 2), ("fay", 3)],
                [("ann", 1), ("cat", 2), ("dan", 2), ("bob", 2), ("eve", 3), ("fay", 4)],
            ),
            # cat's 40 is shared: putting her back adds no distinct score.
            (
                "cat",
                [("ann", 1), ("dan", 2), ("bob", 2), ("eve", 3), ("fay", 4)],
                [("ann", 1), ("cat", 2), ("dan", 2), ("bob", 2), ("eve", 3), ("fay", 4)],
            ),
        ],
    )
    def test_dense_ranks_in_the_private_board(
        self, hidden: str, public: list[tuple[str, int]], private: list[tuple[str, int]]
    ) -> None:
        """Dense ranks count the viewer's score as distinct only when nobody else has it."""
        rewards = rewards_with("dense")
        rewards.set_leaderboard_opt_out(hidden)
        view = rewards.leaderboard("b")
        assert [(e.user, e.rank) for e in view.top()] == public
        assert [(e.user, e.rank) for e in view.top(viewer=hidden)] == private
        assert [(u, view.rank(u, viewer=hidden)) for u, _ in private] == private

    def test_private_pages_around_the_viewer(self) -> None:
        """Pages of the private board put the viewer back at their position."""
        rewards = rewards_with("ordinal")
        rewards.set_leaderboard_opt_out("cat")
        view = rewards.leaderboard("b")
        pages = [listing(view.top(2, offset, viewer="cat")) for offset in (0, 1, 2, 4)]
        assert pages == [
            [("ann", 50, 1), ("cat", 40, 2)],
            [("cat", 40, 2), ("dan", 40, 3)],
            [("dan", 40, 3), ("bob", 40, 4)],
            [("eve", 30, 5), ("fay", 10, 6)],
        ]

    def test_opting_back_in(self) -> None:
        """Opting back in lists the person again, with what they scored meanwhile."""
        rewards = rewards_with()
        rewards.set_leaderboard_opt_out("fay")
        score(rewards, [("fay", 45, 9)])
        assert rewards.leaderboard("b").rank("fay") is None
        rewards.set_leaderboard_opt_out("fay", False)
        assert rewards.leaderboard_opt_out("fay") is False
        assert rewards.leaderboard("b").rank("fay") == 1  # 10 + 45 = 55

    def test_applies_to_every_board_and_window(self) -> None:
        """An opt-out hides the person on every board and window, rolling ones included."""
        rewards = make(board("one", windows=("all", "7d")), board("two", windows=("week",)))
        score(rewards, [("ann", 3, 0), ("bob", 2, 1)])
        assert rewards.leaderboard("one").rank("ann", window="7d") == 1  # builds the window
        rewards.set_leaderboard_opt_out("ann")
        for board_id, window in (("one", "all"), ("one", "7d"), ("two", "week")):
            view = rewards.leaderboard(board_id)
            assert [e.user for e in view.top(window=window)] == ["bob"]
            assert view.rank("ann", window=window, viewer="ann") == 1

    def test_opt_out_is_stored(self) -> None:
        """The opt-out is kept by the store, for every Rewards over it."""
        rewards = rewards_with()
        rewards.set_leaderboard_opt_out("cat")
        again = Rewards(rewards.store, rules=rewards.engine.rules.values(), leaderboards=[board()])
        assert again.leaderboard_opt_out("cat") is True
        assert again.leaderboard("b").rank("cat") is None

    @pytest.mark.parametrize(("user", "flag"), [("", True), (3, True), ("ann", "yes")])
    def test_bad_arguments(self, user: object, flag: object) -> None:
        """A bad user id or a flag that is not a bool is refused."""
        rewards = rewards_with()
        with pytest.raises(InvalidQueryError):
            rewards.set_leaderboard_opt_out(user, flag)  # type: ignore[arg-type]
