"""Call-outs: ready-made leaderboards enabled by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from e2badges import CALLOUTS, Activity, ConfigurationError, FrozenClock, Rewards

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def make(*names: str, **options: object) -> Rewards:
    return Rewards(clock=FrozenClock(T0), load_entrypoints=False, callouts=names, **options)  # type: ignore[arg-type]


def act(n: int, actor: str, kind: str, **extra: object) -> Activity:
    return Activity(id=f"a{n}", actor=actor, kind=kind, at=T0 + timedelta(minutes=n), **extra)  # type: ignore[arg-type]


class TestCallouts:
    def test_every_callout_builds(self) -> None:
        """Every named call-out is a leaderboard of the same id."""
        rewards = make(*CALLOUTS)
        for name in CALLOUTS:
            assert rewards.leaderboard(name).id == name

    def test_most_posts(self) -> None:
        """most_posts counts each person's posts."""
        rewards = make("most_posts")
        rewards.record_many(
            [
                act(1, "ann", "post.created"),
                act(2, "bob", "post.created"),
                act(3, "bob", "post.created"),
            ]
        )
        assert [(e.user, e.score) for e in rewards.leaderboard("most_posts").top(5)] == [
            ("bob", 2),
            ("ann", 1),
        ]

    def test_most_views_received_credits_the_recipient(self) -> None:
        """most_views_received credits the author a view is recorded for."""
        rewards = make("most_views_received")
        rewards.record_many(
            [
                act(1, "bob", "post.viewed", recipient="ann"),
                act(2, "cy", "post.viewed", recipient="ann"),
            ]
        )
        assert [(e.user, e.score) for e in rewards.leaderboard("most_views_received").top(5)] == [
            ("ann", 2)
        ]

    def test_most_valued_needs_three_ratings(self) -> None:
        """most_valued ranks from three ratings, by the Bayesian average with 5 ratings of 3."""
        rewards = make("most_valued")
        ratings = [act(i, f"r{i}", "post.rated", recipient="ann", value=5) for i in range(2)]
        rewards.record_many(ratings)
        assert rewards.leaderboard("most_valued").top(5) == []
        rewards.record(act(3, "r3", "post.rated", recipient="ann", value=5))
        # (5 x 3 + 3 x 5) / (5 + 3) = 30 / 8
        assert [(e.user, e.score) for e in rewards.leaderboard("most_valued").top(5)] == [
            ("ann", 3.75)
        ]

    def test_most_active_team(self) -> None:
        """most_active_team ranks teams by posts per member."""
        rewards = make("most_active_team")
        rewards.record_many(
            [
                act(1, "ann", "post.created", teams=("red",)),
                act(2, "ann", "post.created", teams=("red",)),
                act(3, "bob", "post.created", teams=("blue",)),
                act(4, "cy", "post.created", teams=("blue",)),
                act(5, "cy", "post.created", teams=("blue",)),
            ]
        )
        # red: 2 posts / 1 member; blue: 3 posts / 2 members
        assert [(e.team, e.score) for e in rewards.leaderboard("most_active_team").top(5)] == [
            ("red", 2),
            ("blue", 1.5),
        ]

    def test_most_active_team_divides_by_active_members(self) -> None:
        """most_active_team divides a team's posts by its active members (any activity
        naming the team in the period), the team's ``active`` of adoption(team=...)."""
        kinds = ["post.created", "comment.created", "post.viewed"]
        rewards = make("most_active_team", kinds=kinds)
        red = [act(i, "ann", "post.created", teams=("red",)) for i in range(4)]
        red += [act(4, "bob", "comment.created", teams=("red",))]
        red += [act(5, "cy", "post.viewed", teams=("red",))]
        blue = [act(6 + i, "dan", "post.created", teams=("blue",)) for i in range(3)]
        rewards.record_many([*red, *blue])
        # red: 4 posts / ann, bob and cy; blue: 3 posts / dan.
        board = rewards.leaderboard("most_active_team")
        assert [(e.team, e.score) for e in board.top(5, window="week")] == [
            ("blue", 3.0),
            ("red", 4 / 3),
        ]
        assert rewards.adoption(window="week", team="red").active == 3

    def test_kinds_are_configurable(self) -> None:
        """callout_kinds maps a role to another activity kind."""
        rewards = make("most_posts", callout_kinds={"post": "article.published"})
        rewards.record(act(1, "ann", "article.published"))
        assert [e.user for e in rewards.leaderboard("most_posts").top(5)] == ["ann"]

    def test_unknown_callout(self) -> None:
        """An unknown call-out name fails when Rewards is built, listing the known ones."""
        with pytest.raises(ConfigurationError, match="most_posts"):
            make("most_likes")

    def test_unknown_role(self) -> None:
        """An unknown role in callout_kinds fails when Rewards is built."""
        with pytest.raises(ConfigurationError, match="'like'"):
            make("most_posts", callout_kinds={"like": "x.y"})


class TestCalloutKinds:
    def test_undeclared_callout_kind_named(self) -> None:
        """With ``kinds=`` given, every kind in ``callout_kinds`` must be declared, whether
        or not a call-out counting it is enabled, and the error names callout_kinds."""
        for callouts in ([], ["most_posts"], ["most_comments"]):
            with pytest.raises(ConfigurationError) as info:
                Rewards(
                    kinds=["post.created", "comment.created", "page.viewed", "post.valued"],
                    callouts=callouts,
                    callout_kinds={"post": "post.creatd"},
                )
            assert (info.value.field, info.value.subject) == ("callout_kinds", "Rewards")
            assert info.value.reason == "undeclared activity kind 'post.creatd' (role 'post')"
        # Declared, or without declared kinds, it is taken.
        Rewards(kinds=["post.new"], callout_kinds={"post": "post.new"})
        Rewards(callouts=["most_posts"], callout_kinds={"post": "post.new"})
