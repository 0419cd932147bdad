"""Metrics: points in a currency, count, sum and average (with the Bayesian option)."""

from __future__ import annotations

import pytest

from e2badges import (
    Activity,
    AverageMetric,
    Cap,
    CountMetric,
    Leaderboard,
    PointRule,
    PointsMetric,
    SumMetric,
)

from .helpers import at, make


def scores(rewards: object, board_id: str = "b") -> dict[str, float]:
    view = rewards.leaderboard(board_id)  # type: ignore[attr-defined]
    return {e.user: e.score for e in view.top(100)}


def act(n: int, actor: str, kind: str, **extra: object) -> Activity:
    return Activity(id=f"a{n}", actor=actor, kind=kind, at=at(n), **extra)  # type: ignore[arg-type]


class TestPointsMetric:
    RULES = (
        PointRule(id="comment", kind="comment.created", actor_points=2, caps=(Cap(amount=5),)),
        PointRule(id="upvote", kind="answer.upvoted", actor_points=1, recipient_points=10),
        PointRule(id="karma", kind="answer.upvoted", recipient_points=1, currency="karma"),
    )

    def test_points_credited_by_the_rules(self) -> None:
        """A points board scores what the rules credit, after limits, to actor and recipient."""
        rewards = make(Leaderboard(id="b", metric=PointsMetric()), rules=self.RULES)
        rewards.record_many(
            [
                act(1, "ann", "comment.created"),
                act(2, "ann", "comment.created"),
                act(3, "ann", "comment.created"),  # capped at 5 a day: credits 1
                act(4, "bob", "answer.upvoted", recipient="ann"),
            ]
        )
        # ann: 2 + 2 + 1 + 10 = 15; bob: 1.
        assert scores(rewards) == {"ann": 15, "bob": 1}

    def test_other_currencies_do_not_count(self) -> None:
        """A board in one currency ignores the others."""
        rewards = make(Leaderboard(id="b", metric=PointsMetric(currency="karma")), rules=self.RULES)
        rewards.record_many(
            [act(1, "ann", "comment.created"), act(2, "bob", "answer.upvoted", recipient="ann")]
        )
        assert scores(rewards) == {"ann": 1}

    def test_first_time_bonus_counts(self) -> None:
        """Bonus lines are points like any other."""
        rule = PointRule(id="r", kind="comment.created", actor_points=1, first_time_bonus=5)
        rewards = make(Leaderboard(id="b", metric=PointsMetric()), rules=[rule])
        rewards.record_many([act(1, "ann", "comment.created"), act(2, "ann", "comment.created")])
        assert scores(rewards) == {"ann": 1 + 5 + 1}


class TestCountMetric:
    def test_actor_count(self) -> None:
        """A count board counts the activities of its kind done by each person."""
        rewards = make(Leaderboard(id="b", metric=CountMetric(kind="comment.created")))
        rewards.record_many(
            [
                act(1, "ann", "comment.created"),
                act(2, "ann", "comment.created"),
                act(3, "bob", "comment.created"),
            ]
        )
        assert scores(rewards) == {"ann": 2, "bob": 1}

    def test_recipient_count(self) -> None:
        """credit='recipient' counts what people received; self-credit is left out by default."""
        metric = CountMetric(kind="answer.accepted", credit="recipient")
        rewards = make(Leaderboard(id="b", metric=metric))
        rewards.record_many(
            [
                act(1, "ann", "answer.accepted", recipient="bob"),
                act(2, "cat", "answer.accepted", recipient="bob"),
                act(3, "bob", "answer.accepted", recipient="bob"),  # self: not counted
                act(4, "bob", "answer.accepted"),  # no recipient: not counted
            ]
        )
        assert scores(rewards) == {"bob": 2}

    def test_self_credit_allowed(self) -> None:
        """With self_credit=True a person's own activity counts for them as recipient."""
        metric = CountMetric(kind="answer.accepted", credit="recipient", self_credit=True)
        rewards = make(Leaderboard(id="b", metric=metric))
        rewards.record(act(1, "bob", "answer.accepted", recipient="bob"))
        assert scores(rewards) == {"bob": 1}


class TestSumMetric:
    def test_sum_of_values(self) -> None:
        """A sum board adds the values of its kind; activities without a value do not count."""
        metric = SumMetric(kind="post.viewed", credit="recipient")
        rewards = make(Leaderboard(id="b", metric=metric))
        rewards.record_many(
            [
                act(1, "x", "post.viewed", recipient="ann", value=10),
                act(2, "y", "post.viewed", recipient="ann", value=2.5),
                act(3, "z", "post.viewed", recipient="bob", value=7),
                act(4, "z", "post.viewed", recipient="cat"),  # no value
            ]
        )
        assert scores(rewards) == {"ann": 12.5, "bob": 7.0}


class TestAverageMetric:
    def rated(self, metric: AverageMetric, ratings: dict[str, list[float]]) -> dict[str, float]:
        rewards = make(Leaderboard(id="b", metric=metric))
        n = 0
        for user, values in ratings.items():
            for value in values:
                n += 1
                rewards.record(act(n, f"rater{n}", "post.rated", recipient=user, value=value))
        return scores(rewards)

    def test_minimum_count(self) -> None:
        """People are ranked by average once they have min_count values."""
        metric = AverageMetric(kind="post.rated", credit="recipient", min_count=3)
        assert self.rated(metric, {"ann": [5, 4, 3], "bob": [5, 5]}) == {"ann": 4.0}

    def test_plain_average_lets_two_fives_win(self) -> None:
        """Without a prior, two 5s beat two hundred 4.8s."""
        metric = AverageMetric(kind="post.rated", credit="recipient", min_count=2)
        result = self.rated(metric, {"new": [5, 5], "old": [4.8] * 200})
        assert result["new"] == 5.0
        assert result["old"] == pytest.approx(4.8)
        assert result["new"] > result["old"]

    def test_bayesian_average(self) -> None:
        """With a prior, (C x mean + sum) / (C + count): two 5s do not beat 200 x 4.8."""
        metric = AverageMetric(
            kind="post.rated", credit="recipient", min_count=2, prior_mean=3, prior_weight=10
        )
        result = self.rated(metric, {"new": [5, 5], "old": [4.8] * 200})
        # new: (30 + 10) / 12 = 3.333...; old: (30 + 960) / 210 = 4.714...
        assert result["new"] == pytest.approx(40 / 12)
        assert result["old"] == pytest.approx(990 / 210)

    def test_bayesian_ranking(self) -> None:
        """The Bayesian board lists the long record of 4.8s first."""
        metric = AverageMetric(kind="post.rated", credit="recipient", prior_mean=3, prior_weight=10)
        rewards = make(Leaderboard(id="b", metric=metric))
        rewards.record_many(
            [act(i, f"r{i}", "post.rated", recipient="old", value=4.8) for i in range(200)]
            + [act(200 + i, f"s{i}", "post.rated", recipient="new", value=5) for i in range(2)]
        )
        assert [e.user for e in rewards.leaderboard("b").top()] == ["old", "new"]
