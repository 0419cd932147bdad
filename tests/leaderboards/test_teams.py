"""Scopes: one team, and teams against teams with size normalisation."""

from __future__ import annotations

from datetime import UTC, datetime

from e2badges import Activity, Badge, CountMetric, Leaderboard, PointsMetric, TeamScope, TeamsScope
from e2badges.criteria import Manual

from .helpers import at, board, make


def act(n: int, actor: str, *teams: str, day: int | None = None) -> Activity:
    moment = at(n) if day is None else datetime(2026, 11, day, 9, n, tzinfo=UTC)
    return Activity(id=f"a{n}", actor=actor, kind="comment.created", at=moment, teams=teams)


COUNT = CountMetric(kind="comment.created")

# Comments: ann (red) 3, bob (red) 1, cat (blue) 2, dan (blue, green) 1, eve (no team) 4.
ACTIVITIES = [
    act(1, "ann", "red"),
    act(2, "ann", "red"),
    act(3, "ann", "red"),
    act(4, "bob", "red"),
    act(5, "cat", "blue"),
    act(6, "cat", "blue"),
    act(7, "dan", "blue", "green"),
    act(8, "eve"),
    act(9, "eve"),
    act(10, "eve"),
    act(11, "eve"),
]


def top(rewards: object, **query: object) -> list[tuple[str, float, int]]:
    view = rewards.leaderboard("b")  # type: ignore[attr-defined]
    return [(e.user, e.score, e.rank) for e in view.top(100, **query)]


class TestTeamScope:
    def test_only_the_teams_activities_count(self) -> None:
        """A one-team board ranks the people credited by activities of that team."""
        rewards = make(Leaderboard(id="b", metric=COUNT, scope=TeamScope(team="blue")))
        rewards.record_many(ACTIVITIES)
        assert top(rewards) == [("cat", 2, 1), ("dan", 1, 2)]


class TestTeamsScope:
    def test_team_score_is_the_sum_over_members(self) -> None:
        """A team's score is the sum over its members; an activity counts for each of its teams."""
        rewards = make(Leaderboard(id="b", metric=COUNT, scope=TeamsScope()))
        rewards.record_many(ACTIVITIES)
        # red: 3 + 1 = 4 (reached at minute 4); blue: 2 + 1 = 3; green: 1.
        assert top(rewards) == [("red", 4, 1), ("blue", 3, 2), ("green", 1, 3)]
        assert rewards.leaderboard("b").entry("red").team == "red"  # type: ignore[union-attr]

    def test_divided_by_members_seen(self) -> None:
        """divide_by_size divides by the distinct members credited in the period."""
        rewards = make(Leaderboard(id="b", metric=COUNT, scope=TeamsScope(divide_by_size=True)))
        rewards.record_many(ACTIVITIES)
        # red: 4 / 2 members = 2.0; blue: 3 / 2 = 1.5; green: 1 / 1 = 1.0.
        assert top(rewards) == [("red", 2.0, 1), ("blue", 1.5, 2), ("green", 1.0, 3)]

    def test_divided_by_configured_sizes(self) -> None:
        """Configured team sizes take the place of the members seen; others use members seen."""
        scope = TeamsScope(divide_by_size=True, team_sizes={"red": 8, "blue": 2})
        rewards = make(Leaderboard(id="b", metric=COUNT, scope=scope))
        rewards.record_many(ACTIVITIES)
        # red: 4 / 8 = 0.5; blue: 3 / 2 = 1.5; green (not configured): 1 / 1 = 1.0.
        assert top(rewards) == [("blue", 1.5, 1), ("green", 1.0, 2), ("red", 0.5, 3)]

    def test_members_seen_per_period(self) -> None:
        """Members seen are counted per window period: a week counts that week's members."""
        scope = TeamsScope(divide_by_size=True)
        rewards = make(board(metric=COUNT, scope=scope, windows=("week", "all")))
        rewards.record_many(
            [
                act(1, "ann", "red", day=16),
                act(2, "bob", "red", day=23),
                act(3, "bob", "red", day=23),
            ]
        )
        # Week 2026-W48 (23rd): bob only, 2 / 1; all time: 3 / 2 members.
        assert top(rewards) == [("red", 2.0, 1)]
        assert top(rewards, window="all") == [("red", 1.5, 1)]
        assert top(rewards, period="2026-W47") == [("red", 1.0, 1)]

    def test_rolling_window_counts_members_over_its_days(self) -> None:
        """In a rolling window a team's members are those seen on any of its days."""
        scope = TeamsScope(divide_by_size=True)
        rewards = make(board(metric=COUNT, scope=scope, windows=("7d",)))
        rewards.record_many(
            [
                act(1, "ann", "red", day=20),
                act(2, "bob", "red", day=21),
                act(3, "bob", "red", day=22),
                act(4, "cat", "blue", day=22),
            ]
        )
        # red: 3 comments by 2 members over the days = 1.5; blue: 1 / 1.
        assert top(rewards) == [("red", 1.5, 1), ("blue", 1.0, 2)]
        rewards.record(act(5, "cat", "red", day=23))
        # red: 4 by 3 members, still ahead of blue.
        assert top(rewards) == [("red", 4 / 3, 1), ("blue", 1.0, 2)]

    def test_opt_outs_do_not_hide_teams(self) -> None:
        """A member's leaderboard opt-out hides the person, not their team."""
        rewards = make(Leaderboard(id="b", metric=COUNT, scope=TeamsScope()))
        rewards.record_many(ACTIVITIES)
        for user in ("ann", "bob", "red"):
            rewards.set_leaderboard_opt_out(user)
        assert top(rewards)[0] == ("red", 4, 1)


VIEW = "post.viewed"
ACTIVE = TeamsScope(divide_by_size=True, members="active")


def view(n: int, actor: str, *teams: str, day: int | None = None) -> Activity:
    return act(n, actor, *teams, day=day).model_copy(update={"kind": VIEW})


def active_board(**options: object) -> object:
    return make(
        Leaderboard(id="b", metric=COUNT, scope=ACTIVE, **options),  # type: ignore[arg-type]
        kinds=("score", "comment.created", VIEW),
    )


class TestActiveMembers:
    def test_divided_by_members_with_any_activity(self) -> None:
        """members="active" divides by the people with any activity naming the team."""
        rewards = active_board()
        rewards.record_many([*ACTIVITIES, view(12, "fay", "red"), view(13, "ann", "red")])
        # red: 4 comments / ann, bob and fay (who only viewed) = 4/3; blue: 3 / 2; green 1 / 1.
        assert top(rewards) == [("blue", 1.5, 1), ("red", 4 / 3, 2), ("green", 1.0, 3)]

    def test_members_seen_before_the_team_is_credited(self) -> None:
        """A team with members but nothing credited is not ranked, and its members count
        once it is credited, whatever the order activities come in."""
        rewards = active_board()
        rewards.record_many([view(1, "fay", "red"), view(2, "gus", "red")])
        assert top(rewards) == []
        assert rewards.leaderboard("b").size() == 0  # type: ignore[attr-defined]
        rewards.record(act(3, "ann", "red"))
        assert top(rewards) == [("red", 1 / 3, 1)]
        rewards.record(view(4, "ann", "red"))  # ann is counted once
        assert top(rewards) == [("red", 1 / 3, 1)]

    def test_tie_order_does_not_depend_on_recording_order(self) -> None:
        """A member's activities do not move the time a team reached its score (only
        credited ones do), so which of them is recorded first changes nothing."""
        listings = []
        for bob_first in (3, 10):
            rewards = active_board()
            bob_second = 13 - bob_first
            rewards.record_many(
                [act(1, "ann", "red"), act(2, "cat", "blue"), view(5, "dan", "blue")]
            )
            rewards.record(view(bob_first, "bob", "red"))
            rewards.record(view(bob_second, "bob", "red"))
            listings.append(top(rewards))
        # red: 1 comment / ann and bob, reached at minute 1; blue: 1 / cat and dan, at 2.
        assert listings[0] == listings[1] == [("red", 0.5, 1), ("blue", 0.5, 1)]

    def test_members_per_period(self) -> None:
        """Active members are counted per window period, as the credited ones are."""
        rewards = active_board(windows=("week", "all"))
        rewards.record_many(
            [
                view(1, "fay", "red", day=16),
                act(2, "ann", "red", day=16),
                act(3, "bob", "red", day=23),
                view(4, "cat", "red", day=23),
            ]
        )
        # Week 2026-W48 (23rd): bob and cat, 1 / 2; W47: ann and fay, 1 / 2; all: 2 / 4.
        assert top(rewards) == [("red", 0.5, 1)]
        assert top(rewards, period="2026-W47") == [("red", 0.5, 1)]
        assert top(rewards, window="all") == [("red", 0.5, 1)]

    def test_rolling_window_counts_members_of_days_without_credits(self) -> None:
        """In a rolling window, members active on a day with nothing credited count too."""
        rewards = active_board(windows=("7d",))
        rewards.record_many(
            [view(1, "fay", "red", day=20), act(2, "ann", "red", day=22), view(3, "gus", "red")]
        )
        # 20 to 23 November: 1 comment by ann; ann, fay and gus were active.
        assert top(rewards) == [("red", 1 / 3, 1)]

    def test_configured_sizes_still_win(self) -> None:
        """team_sizes take the place of the members counted, as with credited members."""
        scope = TeamsScope(divide_by_size=True, members="active", team_sizes={"red": 8})
        rewards = make(
            Leaderboard(id="b", metric=COUNT, scope=scope), kinds=("score", "comment.created", VIEW)
        )
        extra = [view(12, "fay", "red"), view(13, "hal", "blue"), view(14, "ivy", "blue")]
        rewards.record_many([*ACTIVITIES, *extra])
        # red: 4 / 8; blue: 3 / cat, dan, hal and ivy; green: 1 / 1.
        assert top(rewards) == [("green", 1.0, 1), ("blue", 0.75, 2), ("red", 0.5, 3)]

    def test_grants_are_not_activity(self) -> None:
        """A grant names no active member (adoption figures leave grants out too)."""
        rewards = make(
            Leaderboard(id="b", metric=PointsMetric(), scope=ACTIVE),
            badges=(Badge(id="thanks", criterion=Manual()),),
        )
        rewards.record(Activity(actor="ann", kind="score", value=6, at=at(1), teams=("red",)))
        rewards.grant("bob", "thanks", by="boss", reason="help", at=at(2))
        assert top(rewards) == [("red", 6.0, 1)]

    def test_default_is_unchanged(self) -> None:
        """Without members="active", views do not make a team larger."""
        rewards = make(
            Leaderboard(id="b", metric=COUNT, scope=TeamsScope(divide_by_size=True)),
            kinds=("score", "comment.created", VIEW),
        )
        rewards.record_many([*ACTIVITIES, view(12, "fay", "red")])
        assert top(rewards) == [("red", 2.0, 1), ("blue", 1.5, 2), ("green", 1.0, 3)]
