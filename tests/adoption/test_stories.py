"""Stories: what each event tells, once, newest first, and who may see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from e2badges import (
    Activity,
    Badge,
    ConfigurationError,
    CountMetric,
    FrozenClock,
    InvalidQueryError,
    Leaderboard,
    Level,
    PointRule,
    PointsMetric,
    Rewards,
    StoryOptions,
    SumMetric,
    Tier,
    criteria,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday of 2026-W48


def make(**options: Any) -> Rewards:
    clock = options.pop("clock", FrozenClock(T0))
    stories = options.pop(
        "stories",
        StoryOptions(
            leaders=("posts",),
            personal_bests=("posts",),
            milestones=("post.created",),
            milestone_counts=(2, 3),
        ),
    )
    return Rewards(
        rules=(PointRule(id="post", kind="post.created", actor_points=10),),
        kinds=("post.created", "comment.created"),
        badges=(
            Badge(
                id="writer",
                name="Writer",
                criterion=criteria.Count(kind="post.created"),
                tiers=(
                    Tier(id="bronze", threshold=1, name="Bronze"),
                    Tier(id="silver", threshold=3),
                ),
            ),
            Badge(
                id="owl",
                criterion=criteria.Count(kind="comment.created"),
                threshold=1,
                secret=True,
            ),
            Badge(
                id="daily",
                criterion=criteria.Streak(kind="comment.created"),
                threshold=2,
            ),
        ),
        levels=(Level(id="rookie", threshold=10, name="Rookie"), Level(id="pro", threshold=30)),
        leaderboards=(
            Leaderboard(id="posts", metric=CountMetric(kind="post.created"), windows=("week",)),
        ),
        stories=stories,
        clock=clock,
        load_entrypoints=False,
        **options,
    )


def post(n: int, actor: str, hours: float = 0, **extra: Any) -> Activity:
    return Activity(
        id=f"p{n}", actor=actor, kind="post.created", at=T0 + timedelta(hours=hours), **extra
    )


def comment(n: int, actor: str, hours: float = 0) -> Activity:
    return Activity(id=f"c{n}", actor=actor, kind="comment.created", at=T0 + timedelta(hours=hours))


def kinds(stories: list[Any]) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.kind, s.people) for s in stories]


class TestKindsOfStory:
    def test_first_post_tells_badge_level_leader_and_no_milestone(self) -> None:
        """A first post earns the bronze tier, level 1 and the lead of the board."""
        rewards = make()
        outcome = rewards.record(post(1, "ann"))
        assert kinds(list(outcome.stories)) == [
            ("badge", ("ann",)),
            ("level", ("ann",)),
            ("leader", ("ann",)),
        ]
        badge, level, leader = outcome.stories
        assert badge.text == "ann earned Writer (Bronze)"
        assert badge.data["tier"] == "bronze"
        assert level.text == "ann reached level 1: Rookie"
        assert level.data == {"level": 1, "previous": 0, "name": "Rookie"}
        assert leader.text == "ann now leads posts (2026-W48)"
        assert leader.data == {"board": "posts", "period": "2026-W48", "subject": "ann", "score": 1}

    def test_new_leader(self) -> None:
        """Passing the leader tells a leader story naming the new leader only (the one passed
        may be someone others must not see on that board); ties tell none."""
        rewards = make()
        rewards.record(post(1, "ann"))
        # bob ties ann (1 post each): ann reached it first and stays ahead.
        tie = rewards.record(post(2, "bob", 1))
        assert "leader" not in [s.kind for s in tie.stories]
        rewards.record(post(3, "bob", 2))
        story = rewards.feed(limit=10)
        leader = next(s for s in story if s.kind == "leader")
        assert (leader.people, leader.data["score"]) == (("bob",), 2)
        assert "ann" not in repr(leader)

    @pytest.mark.parametrize("actor_points", [4, 12])
    def test_one_activity_passing_the_leader_with_two_people_tells_only_the_new_leader(
        self, actor_points: int
    ) -> None:
        """An activity that lifts two people past the leader tells one leader story: of the
        one ahead of the other after it (never one for a person who did not lead)."""
        rewards = Rewards(
            rules=(
                PointRule(
                    id="rate", kind="post.rated", actor_points=actor_points, recipient_points=8
                ),
                PointRule(id="post", kind="post.created", actor_points=3),
            ),
            kinds=("post.rated", "post.created"),
            leaderboards=(Leaderboard(id="pts", metric=PointsMetric(), windows=("week",)),),
            stories=StoryOptions(leaders=("pts",)),
            clock=FrozenClock(T0),
            load_entrypoints=False,
        )
        rewards.record(post(1, "cy"))
        rated = Activity(
            id="r1", actor="ann", recipient="bob", kind="post.rated", at=T0 + timedelta(hours=1)
        )
        outcome = rewards.record(rated)
        [first] = rewards.leaderboard("pts").top(1, window="week")
        assert [s.people for s in outcome.stories if s.kind == "leader"] == [(first.user,)]

    def test_milestones(self) -> None:
        """The configured counts of a kind are told once, organisation-wide and per team."""
        rewards = make()
        rewards.record(post(1, "ann", teams=("red",)))
        rewards.record(post(2, "bob", 1, teams=("red",)))
        stories = [s for s in rewards.feed(limit=50) if s.kind == "milestone"]
        # The 2nd post in red and overall (at the same time: the last told first).
        assert [(s.text, s.people, s.teams) for s in stories] == [
            ("The 2nd post.created activity in red", (), ("red",)),
            ("The 2nd post.created activity", (), ()),
        ]
        rewards.record(post(3, "cy", 2))
        milestones = [s for s in rewards.feed(limit=50) if s.kind == "milestone"]
        assert milestones[0].data == {"kind": "post.created", "count": 3, "team": None}
        rewards.record(post(4, "cy", 3))  # the 4th is not a configured count
        assert len([s for s in rewards.feed(limit=50) if s.kind == "milestone"]) == 3

    def test_streak(self) -> None:
        """A streak badge tells a streak story with its length."""
        rewards = make()
        rewards.record(comment(1, "ann"))
        outcome = rewards.record(comment(2, "ann", 24))
        streak = next(s for s in outcome.stories if s.kind == "streak")
        assert streak.text == "ann reached a 2-day streak: daily"
        assert (streak.data["length"], streak.data["unit"]) == (2, "day")

    def test_personal_best(self) -> None:
        """Beating one's best of an earlier week is told once in the week."""
        rewards = make()
        rewards.record_many([post(1, "ann"), post(2, "ann", 1)])  # W48: 2 posts
        week = 24 * 7
        rewards.record_many([post(3, "ann", week), post(4, "ann", week + 1)])  # W49: 2, a tie
        assert not [s for s in rewards.feed(limit=50) if s.kind == "personal_best"]
        rewards.record(post(5, "ann", week + 2))  # W49: 3 posts beats 2
        rewards.record(post(6, "ann", week + 3))  # 4 posts: the week's record was told
        bests = [s for s in rewards.feed(limit=50) if s.kind == "personal_best"]
        assert [(s.data["score"], s.data["previous"], s.data["period"]) for s in bests] == [
            (3, 2, "2026-W49")
        ]

    @pytest.mark.parametrize(
        ("values", "shown"),
        [
            ((1_234_567,), "1,234,567"),
            ((1_000_000,), "1,000,000"),
            ((3.14159,), "3.14"),
            ((12_345.5,), "12,345.5"),
        ],
    )
    def test_personal_best_text_shows_the_score_in_full(
        self, values: tuple[float, ...], shown: str
    ) -> None:
        """A personal best's text writes its score as people read numbers: whole ones in
        full with thousands separators (never ``1.23457e+06``), others to two decimals."""
        rewards = Rewards(
            kinds=("page.viewed",),
            leaderboards=(
                Leaderboard(
                    id="views",
                    metric=SumMetric(kind="page.viewed", credit="recipient"),
                    windows=("week",),
                    description="Views",
                ),
            ),
            stories=StoryOptions(personal_bests=("views",)),
            clock=FrozenClock(T0 + timedelta(days=7)),
            load_entrypoints=False,
        )

        def viewed(n: int, value: float, days: int) -> Activity:
            return Activity(
                id=f"v{n}",
                actor="bob",
                recipient="ann",
                kind="page.viewed",
                value=value,
                at=T0 + timedelta(days=days),
            )

        rewards.record(viewed(0, 1, 0))
        outcomes = rewards.record_many([viewed(n, v, 7) for n, v in enumerate(values, 1)])
        [best] = [s for o in outcomes for s in o.stories if s.kind == "personal_best"]
        assert best.text == f"ann set a personal best on Views: {shown} (2026-W49)"
        assert best.data["score"] == sum(values)

    def test_late_activity_tells_no_leader_story_for_a_past_period(self) -> None:
        """An activity recorded after its week is over takes the lead of that week
        silently; one recorded late within the current week is told."""
        week = 24 * 7
        rewards = make(clock=FrozenClock(T0 + timedelta(hours=week + 48)))  # W49
        rewards.record(post(1, "ann", week))  # W49
        late = rewards.record(post(2, "bob", 1))  # W48, recorded in W49
        assert [s.kind for s in late.stories if s.kind == "leader"] == []
        key = "st\x1fld\x1fposts\x1f2026-W48"
        assert rewards.store.read_state([key])[key][2] == "bob"
        rewards.record(post(3, "cy", week + 1))
        now = rewards.record(post(4, "cy", week - 1 + 24 * 6))  # W49's Sunday, after cy's first
        assert [s.text for s in now.stories if s.kind == "leader"] == [
            "cy now leads posts (2026-W49)"
        ]

    def test_late_period_beating_a_later_best_is_not_told(self) -> None:
        """A late activity whose week beats the best of a later week tells no personal best
        (it beat no earlier week); the best it set is the one later weeks must beat."""
        rewards = make()
        week = 24 * 7
        bests: list[tuple[str, float, str, float]] = []

        def record(n: int, hours: float) -> None:
            for story in rewards.record(post(n, "ann", hours)).stories:
                if story.kind == "personal_best":
                    data = story.data
                    bests.append(
                        (data["period"], data["score"], data["previous_period"], data["previous"])
                    )

        record(1, 0)  # W48: 1
        record(2, week)
        record(3, week + 1)  # W49: 2 beats 1
        record(4, 2)
        record(5, 3)  # W48, recorded late: 3 beats W49's 2
        record(6, 2 * week)
        record(7, 2 * week + 1)
        record(8, 2 * week + 2)  # W50: 3, a tie with W48
        record(9, 2 * week + 3)  # W50: 4 beats W48's 3
        assert bests == [("2026-W49", 2, "2026-W48", 1), ("2026-W50", 4, "2026-W48", 3)]

    def test_no_personal_best_for_a_period_already_over(self) -> None:
        """Activities of weeks already over when recorded tell no personal best, whatever
        they pass, as for leads; the best they set is the one the current week must beat."""
        week = 24 * 7
        rewards = make(clock=FrozenClock(T0 + timedelta(hours=3 * week)))  # in W51
        past = [post(1, "ann")]  # W48: 1
        past += [post(n, "ann", 2 * week + n) for n in (2, 3, 4)]  # W50: 3
        past += [post(n, "ann", week + n) for n in range(5, 10)]  # W49, late: 5
        outcomes = [rewards.record(activity) for activity in past]
        assert [s for o in outcomes for s in o.stories if s.kind == "personal_best"] == []
        now = rewards.record_many([post(n, "ann", 3 * week + n) for n in range(10, 16)])
        told = [s.data for o in now for s in o.stories if s.kind == "personal_best"]
        assert [(d["period"], d["score"], d["previous_period"]) for d in told] == [
            ("2026-W51", 6, "2026-W49")
        ]

    def test_personal_best_told_once_after_a_late_best(self) -> None:
        """A week whose personal best was told, then passed by a late activity of an earlier
        week, tells no second story when it passes that again."""
        rewards = make()
        week = 24 * 7
        rewards.record(post(1, "ann"))  # W48: 1
        told = rewards.record_many([post(2, "ann", week), post(3, "ann", week + 1)])
        assert [s.data["score"] for s in told[1].stories if s.kind == "personal_best"] == [2]
        rewards.record_many([post(4, "ann", 1), post(5, "ann", 2)])  # W48, late: 3
        again = rewards.record_many([post(6, "ann", week + 2), post(7, "ann", week + 3)])
        assert [s.kind for o in again for s in o.stories if s.kind == "personal_best"] == []
        assert rewards.leaderboard("posts").score("ann", period="2026-W49") == 4

    def test_nothing_configured_tells_only_awards(self) -> None:
        """Without story options, only badges, streaks and levels are told."""
        rewards = make(stories=None)
        outcome = rewards.record(post(1, "ann"))
        assert [s.kind for s in outcome.stories] == ["badge", "level"]

    def test_unknown_board(self) -> None:
        """Story options naming an unknown board fail when Rewards is built."""
        with pytest.raises(ConfigurationError, match="'nope'"):
            make(stories=StoryOptions(leaders=("nope",)))

    def test_undeclared_milestone_kind(self) -> None:
        """With ``kinds=`` given, a milestone kind must be declared, as a rule's must."""
        with pytest.raises(ConfigurationError) as info:
            make(stories=StoryOptions(milestones=("post.creatd",)))
        assert (info.value.field, info.value.subject) == ("milestones", "StoryOptions")
        assert info.value.reason == "counts undeclared activity kind 'post.creatd'"
        # Grants are counted like any activity, as a rule may listen to them.
        granted = make(stories=StoryOptions(milestones=("e2badges.badge.granted",)))
        assert granted.engine.stories.listens("e2badges.badge.granted")
        # Accepting any kind, any well-formed kind is taken.
        make(stories=StoryOptions(milestones=("post.creatd",)), accept_any_kind=True)


class TestUniqueness:
    def test_recording_again_tells_nothing_new(self) -> None:
        """Recording the same activity again makes no second story."""
        rewards = make()
        rewards.record(post(1, "ann"))
        rewards.record(post(1, "ann"))
        stories = rewards.feed(limit=50)
        assert len(stories) == 3
        assert len({s.id for s in stories}) == 3

    def test_ids_are_stable(self) -> None:
        """The same event gets the same story id in another instance."""
        first = make().record(post(1, "ann")).stories
        second = make().record(post(1, "ann")).stories
        assert [s.id for s in first] == [s.id for s in second]

    def test_team_firsts_of_one_activity_tell_one_story_per_team(self) -> None:
        """A team-scoped "first" won in two teams by one activity tells two stories."""
        rewards = Rewards(
            kinds=("post.created",),
            badges=(
                Badge(
                    id="pioneer",
                    criterion=criteria.First(kind="post.created", scope="team"),
                ),
            ),
            clock=FrozenClock(T0),
            load_entrypoints=False,
        )
        outcome = rewards.record(
            Activity(id="p1", actor="ann", kind="post.created", at=T0, teams=("red", "blue"))
        )
        assert sorted(s.data["team"] for s in outcome.stories) == ["blue", "red"]
        assert len({s.id for s in outcome.stories}) == 2
        assert len(rewards.feed(limit=10)) == 2


class TestFeed:
    def test_newest_first(self) -> None:
        """Stories come newest first, by time, whatever the recording order."""
        rewards = make(stories=None)
        rewards.record(post(1, "ann", 5))
        rewards.record(post(2, "bob", 1))  # recorded later, happened earlier
        rewards.record(post(3, "cy", 9))
        feed = rewards.feed(limit=50)
        assert [s.at for s in feed] == sorted((s.at for s in feed), reverse=True)
        assert [s.people[0] for s in feed if s.kind == "badge"] == ["cy", "ann", "bob"]

    def test_limit_and_since(self) -> None:
        """``limit`` caps the stories; ``since`` keeps those at or after it."""
        rewards = make(stories=None)
        for i in range(3):
            rewards.record(post(i, f"u{i}", i))
        assert len(rewards.feed(limit=2)) == 2
        since = rewards.feed(since=T0 + timedelta(hours=1), limit=50)
        assert {s.people[0] for s in since} == {"u1", "u2"}

    def test_team_scope(self) -> None:
        """A team's feed holds the stories of activities naming the team."""
        rewards = make(stories=None)
        rewards.record(post(1, "ann", teams=("red",)))
        rewards.record(post(2, "bob", 1, teams=("blue",)))
        assert {s.people for s in rewards.feed(scope="team:red")} == {("ann",)}

    def test_secret_badges_shown_only_to_their_holder(self) -> None:
        """A secret badge's story is private: only the person who earned it sees it."""
        rewards = make(stories=None)
        rewards.record(comment(1, "ann"))
        assert [s.data["badge"] for s in rewards.feed()] == []
        assert [s.data["badge"] for s in rewards.feed(viewer="bob")] == []
        mine = rewards.feed(viewer="ann")
        assert [(s.data["badge"], s.private) for s in mine] == [("owl", True)]

    def test_feed_opted_out_people_left_out(self) -> None:
        """Stories naming a person who opted out of the feed are shown to that person only."""
        rewards = make(stories=None)
        rewards.record(post(1, "ann"))
        rewards.record(post(2, "bob", 1))
        rewards.people.settings("ann", feed=False)
        assert {s.people for s in rewards.feed()} == {("bob",)}
        assert {s.people for s in rewards.feed(viewer="ann")} == {("ann",), ("bob",)}
        rewards.people.settings("ann", feed=True)
        assert {s.people for s in rewards.feed()} == {("ann",), ("bob",)}

    def test_board_opt_out_hides_board_stories_only(self) -> None:
        """A leaderboard opt-out hides the person's leader and personal-best stories from
        others, not their badge and level stories."""
        rewards = make()
        rewards.record(post(1, "ann"))
        rewards.set_leaderboard_opt_out("ann")
        assert kinds(rewards.feed()) == [("level", ("ann",)), ("badge", ("ann",))]
        assert ("leader", ("ann",)) in kinds(rewards.feed(viewer="ann"))
        rewards.set_leaderboard_opt_out("ann", False)
        assert ("leader", ("ann",)) in kinds(rewards.feed())

    def test_pages_by_the_last_story_shown(self) -> None:
        """``feed(before=id)`` continues after the story ``id``: pages of a feed that grows
        between them list every story once."""
        rewards = make()
        for n, actor in enumerate(("ann", "bob", "cy"), 1):
            rewards.record(post(n, actor, n))
        whole = [s.id for s in rewards.feed(limit=100)]
        first = rewards.feed(limit=4)
        rewards.record(post(9, "dan", 9))  # told between the pages: on top, not in page two
        rest = rewards.feed(limit=100, before=first[-1].id)
        assert [s.id for s in first + rest] == whole

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"scope": "red"}, "scope"),
            ({"scope": 5}, "scope"),
            ({"scope": "team:"}, "scope"),  # the team's name, checked as an id
            ({"scope": "team:red\x00"}, "scope"),
            ({"limit": 0}, "limit"),
            ({"limit": "5"}, "limit"),
            ({"since": datetime(2026, 1, 1)}, "since"),  # the error under test
            ({"since": "2026-01-01T00:00:00+00:00"}, "since"),
            ({"viewer": ""}, "viewer"),
            ({"viewer": 5}, "viewer"),
            ({"viewer": "ann\r\n"}, "viewer"),
            ({"before": ""}, "before"),
            ({"before": 5}, "before"),
            ({"before": "badge-\x00"}, "before"),
            ({"before": "badge-0123456789abcdef0123"}, "before"),  # no such story
        ],
    )
    def test_bad_queries(self, options: dict[str, Any], field: str) -> None:
        """Bad feed arguments raise InvalidQueryError naming the query (``feed``) and the
        argument, in its fields and its message, whichever check refused them."""
        with pytest.raises(InvalidQueryError) as info:
            make().feed(**options)
        assert (info.value.subject, info.value.field) == ("feed", field)
        assert str(info.value).startswith(f"feed: {field}: ")
