"""Counts, sums, points totals and distinct things; tiers and repeatable badges."""

from __future__ import annotations

from datetime import timedelta

from e2badges import Activity, Badge, PointRule, Rewards, Tier, criteria

from .helpers import T0, act, awarded, held

COMMENT = "comment.created"
RATED = "post.rated"


def tiers(*pairs: tuple[str, float]) -> list[Tier]:
    return [Tier(id=name, threshold=threshold) for name, threshold in pairs]


class TestCount:
    def test_awarded_at_threshold(self) -> None:
        """A count badge is awarded by the activity that reaches the threshold, once."""
        rewards = Rewards(
            badges=[Badge(id="c3", criterion=criteria.Count(kind=COMMENT), threshold=3)]
        )
        outcomes = rewards.record_many([act(i) for i in range(1, 6)])
        assert [awarded(o) for o in outcomes] == [[], [], [("ann", "c3", None)], [], []]
        assert outcomes[2].awards[0].activity_id == "a3"
        assert outcomes[2].awards[0].rule == "count"

    def test_per_person(self) -> None:
        """Each person's activities count for that person only."""
        rewards = Rewards(
            badges=[Badge(id="c2", criterion=criteria.Count(kind=COMMENT), threshold=2)]
        )
        rewards.record_many([act(1), act(2, actor="bob"), act(3, actor="bob")])
        assert held(rewards, "ann") == []
        assert held(rewards, "bob") == [("c2", None)]

    def test_when_filters(self) -> None:
        """Only activities the predicate accepts count."""
        long = criteria.Count(kind=COMMENT, when=lambda a: len(a.attributes.get("text", "")) > 3)
        rewards = Rewards(badges=[Badge(id="long", criterion=long, threshold=2)])
        outcomes = rewards.record_many(
            [
                act(1, attributes={"text": "ok"}),
                act(2, attributes={"text": "a long one"}),
                act(3, attributes={"text": "no"}),
                act(4, attributes={"text": "another long one"}),
            ]
        )
        assert [bool(o.awards) for o in outcomes] == [False, False, False, True]

    def test_for_recipient(self) -> None:
        """With who="recipient", activities count for their recipient; without one, for nobody."""
        thanked = criteria.Count(kind="thanks.given", who="recipient")
        rewards = Rewards(badges=[Badge(id="thanked", criterion=thanked, threshold=2)])
        rewards.record_many(
            [
                act(1, "thanks.given", recipient="bob"),
                act(2, "thanks.given"),
                act(3, "thanks.given", actor="cid", recipient="bob"),
            ]
        )
        assert held(rewards, "bob") == [("thanked", None)]
        assert held(rewards, "ann") == []

    def test_several_kinds(self) -> None:
        """A criterion may listen to several kinds; each counts."""
        either = criteria.Count(kind=(COMMENT, "answer.created"))
        rewards = Rewards(badges=[Badge(id="both", criterion=either, threshold=2)])
        outcome = rewards.record_many([act(1), act(2, "answer.created")])[1]
        assert awarded(outcome) == [("ann", "both", None)]

    def test_unrelated_kind_costs_nothing(self) -> None:
        """An activity no rule or criterion listens to produces an empty outcome."""
        rewards = Rewards(
            badges=[Badge(id="c1", criterion=criteria.Count(kind=COMMENT), threshold=1)],
            accept_any_kind=True,
        )
        outcome = rewards.record(act(1, "page.viewed"))
        assert (outcome.ledger, outcome.awards, outcome.level_changes) == ((), (), ())


class TestTiers:
    def test_each_tier_once(self) -> None:
        """Each tier is awarded once, by the activity that reaches its threshold."""
        badge = Badge(
            id="commenter",
            criterion=criteria.Count(kind=COMMENT),
            tiers=tiers(("bronze", 1), ("silver", 3), ("gold", 5)),
        )
        rewards = Rewards(badges=[badge])
        outcomes = rewards.record_many([act(i) for i in range(1, 8)])
        assert [[w.tier for w in o.awards] for o in outcomes] == [
            ["bronze"],
            [],
            ["silver"],
            [],
            ["gold"],
            [],
            [],
        ]

    def test_jump_awards_every_tier_crossed(self) -> None:
        """A sum that jumps past several thresholds awards every tier crossed, in order."""
        badge = Badge(
            id="reader",
            criterion=criteria.Sum(kind="page.read"),
            tiers=tiers(("bronze", 10), ("silver", 100), ("gold", 1000)),
        )
        rewards = Rewards(badges=[badge])
        first, second = rewards.record_many(
            [act(1, "page.read", value=150), act(2, "page.read", value=900)]
        )
        # 150 crosses 10 and 100; 150 + 900 = 1050 crosses 1000.
        assert [w.tier for w in first.awards] == ["bronze", "silver"]
        assert [w.tier for w in second.awards] == ["gold"]


class TestSum:
    def test_values_add_up(self) -> None:
        """Values add up; activities without a value add nothing."""
        badge = Badge(id="hours", criterion=criteria.Sum(kind="time.logged"), threshold=7.5)
        rewards = Rewards(badges=[badge])
        outcomes = rewards.record_many(
            [
                act(1, "time.logged", value=2.5),
                act(2, "time.logged"),
                act(3, "time.logged", value=4.0),
                act(4, "time.logged", value=1.0),  # 2.5 + 4.0 + 1.0 = 7.5
            ]
        )
        assert [bool(o.awards) for o in outcomes] == [False, False, False, True]

    def test_decimal_values(self) -> None:
        """Decimal values add up as written: 0.7 + 0.1 + 0.1 + 0.1 reaches 1."""
        badge = Badge(id="one", criterion=criteria.Sum(kind="time.logged"), threshold=1)
        rewards = Rewards(badges=[badge])
        outcomes = rewards.record_many(
            [act(i, "time.logged", value=v) for i, v in enumerate([0.7, 0.1, 0.1, 0.1], start=1)]
        )
        assert [bool(o.awards) for o in outcomes] == [False, False, False, True]

    def test_falls_and_rises_once(self) -> None:
        """A sum that falls below the threshold and rises again is not awarded again."""
        badge = Badge(id="net", criterion=criteria.Sum(kind="vote.cast"), threshold=2)
        rewards = Rewards(badges=[badge])
        outcomes = rewards.record_many(
            [act(i, "vote.cast", value=v) for i, v in enumerate([1, 1, -1, 1, 5], start=1)]
        )
        # Running sums: 1, 2 (awarded), 1, 2, 7.
        assert [bool(o.awards) for o in outcomes] == [False, True, False, False, False]


class TestPoints:
    def test_balance_after_this_activity(self) -> None:
        """A points badge reads the balance including the credits of the activity recorded."""
        rule = PointRule(id="answer", kind="answer.created", actor_points=40)
        badge = Badge(id="centurion", criterion=criteria.Points(), threshold=100)
        rewards = Rewards(rules=[rule], badges=[badge])
        outcomes = rewards.record_many([act(i, "answer.created") for i in range(1, 4)])
        # 40, 80, 120: the third answer crosses 100.
        assert [bool(o.awards) for o in outcomes] == [False, False, True]
        assert outcomes[2].awards[0].rule == "points"

    def test_recipient_credits(self) -> None:
        """Points credited to a recipient count for the recipient's badges."""
        rule = PointRule(id="up", kind="answer.upvoted", recipient_points=10, currency="karma")
        badge = Badge(id="liked", criterion=criteria.Points(currency="karma"), threshold=20)
        rewards = Rewards(rules=[rule], badges=[badge])
        rewards.record_many([act(i, "answer.upvoted", recipient="bob") for i in (1, 2)])
        assert held(rewards, "bob") == [("liked", None)]

    def test_penalty_then_again(self) -> None:
        """Falling below the threshold and climbing back does not award the badge again."""
        rules = [
            PointRule(id="gain", kind="answer.created", actor_points=60),
            PointRule(id="loss", kind="answer.flagged", actor_points=-50),
        ]
        badge = Badge(id="centurion", criterion=criteria.Points(), threshold=100)
        rewards = Rewards(rules=rules, badges=[badge])
        outcomes = rewards.record_many(
            [
                act(1, "answer.created"),
                act(2, "answer.created"),  # 120: awarded
                act(3, "answer.flagged"),  # 70
                act(4, "answer.created"),  # 130: already held
            ]
        )
        assert [bool(o.awards) for o in outcomes] == [False, True, False, False]

    def test_repeatable_counts_period_earnings(self) -> None:
        """A repeatable points badge counts what was earned within the period."""
        rule = PointRule(id="answer", kind="answer.created", actor_points=30)
        badge = Badge(id="monthly", criterion=criteria.Points(), threshold=60, repeat="month")
        rewards = Rewards(rules=[rule], badges=[badge])
        outcomes = rewards.record_many(
            [
                act(1, "answer.created", day=0),  # January: 30
                act(2, "answer.created", day=30),  # February 4: 30 (balance 60)
                act(3, "answer.created", day=31),  # February: 60 -> awarded for 2026-02
            ]
        )
        assert [[(w.badge, w.period) for w in o.awards] for o in outcomes] == [
            [],
            [],
            [("monthly", "2026-02")],
        ]


class TestDistinct:
    def test_objects(self) -> None:
        """Distinct objects: the same object twice counts once; no object counts nothing."""
        badge = Badge(id="wide", criterion=criteria.Distinct(kind=COMMENT), threshold=3)
        rewards = Rewards(badges=[badge])
        outcomes = rewards.record_many(
            [
                act(1, object="p1"),
                act(2, object="p1"),
                act(3),
                act(4, object="p2"),
                act(5, object="p3"),
            ]
        )
        assert [bool(o.awards) for o in outcomes] == [False, False, False, False, True]

    def test_local_days(self) -> None:
        """Distinct days are local days in the configured time zone."""
        badge = Badge(id="days", criterion=criteria.Distinct(kind=COMMENT, of="day"), threshold=2)
        rewards = Rewards(badges=[badge], timezone="America/New_York")
        # 2026-01-06 03:00 UTC is still 2026-01-05 (22:00) in New York: the same local day.
        late = act(2, at=T0.replace(hour=0) + timedelta(days=1, hours=3))
        next_day = act(3, at=T0 + timedelta(days=1))
        outcomes = rewards.record_many([act(1), late, next_day])
        assert [bool(o.awards) for o in outcomes] == [False, False, True]

    def test_counterparts(self) -> None:
        """Distinct counterparts: "rated by 3 different people", self-ratings left out."""
        rated_by = criteria.Distinct(kind=RATED, of="counterpart", who="recipient")
        rewards = Rewards(badges=[Badge(id="liked", criterion=rated_by, threshold=3)])
        outcomes = rewards.record_many(
            [
                act(1, RATED, actor="bob", recipient="ann"),
                act(2, RATED, actor="bob", recipient="ann"),
                act(3, RATED, actor="ann", recipient="ann"),
                act(4, RATED, actor="cid", recipient="ann"),
                act(5, RATED, actor="dee", recipient="ann"),
            ]
        )
        assert [awarded(o) for o in outcomes][-1] == [("ann", "liked", None)]
        assert not any(o.awards for o in outcomes[:-1])


class TestRepeatable:
    def test_once_per_week(self) -> None:
        """A weekly badge is awarded at most once per ISO week, again the week after."""
        badge = Badge(
            id="busy-week", criterion=criteria.Count(kind=COMMENT), threshold=2, repeat="week"
        )
        rewards = Rewards(badges=[badge])
        outcomes = rewards.record_many(
            [
                act(1, day=0),  # Monday 2026-01-05, W02
                act(2, day=1),  # W02: 2 -> awarded
                act(3, day=2),  # W02: 3
                act(4, day=6),  # Sunday, still W02: 4
                act(5, day=7),  # Monday, W03: 1
                act(6, day=8),  # W03: 2 -> awarded
            ]
        )
        assert [[w.period for w in o.awards] for o in outcomes] == [
            [],
            ["2026-W02"],
            [],
            [],
            [],
            ["2026-W03"],
        ]

    def test_repeatable_tiers(self) -> None:
        """Tiers of a repeatable badge are awarded once per tier and period."""
        badge = Badge(
            id="daily",
            criterion=criteria.Count(kind=COMMENT),
            tiers=tiers(("bronze", 1), ("silver", 2)),
            repeat="day",
        )
        rewards = Rewards(badges=[badge])
        rewards.record_many([act(1, day=0), act(2, day=0.1), act(3, day=1), act(4, day=1.1)])
        assert [(w.tier, w.period) for w in rewards.badges("ann")] == [
            ("bronze", "2026-01-05"),
            ("silver", "2026-01-05"),
            ("bronze", "2026-01-06"),
            ("silver", "2026-01-06"),
        ]

    def test_distinct_per_period(self) -> None:
        """A repeatable distinct badge counts distinct things within each period."""
        badge = Badge(
            id="explorer",
            criterion=criteria.Distinct(kind="page.viewed"),
            threshold=2,
            repeat="month",
        )
        rewards = Rewards(badges=[badge])
        rewards.record_many(
            [
                act(1, "page.viewed", object="p1", day=0),
                act(2, "page.viewed", object="p2", day=1),  # January: p1, p2
                act(3, "page.viewed", object="p1", day=31),
                act(4, "page.viewed", object="p1", day=32),  # February: p1 only
            ]
        )
        assert [w.period for w in rewards.badges("ann")] == ["2026-01"]


def test_activity_with_earlier_time_counts() -> None:
    """Counting does not depend on the order of ``at``: a late arrival counts the same."""
    badge = Badge(id="c2", criterion=criteria.Count(kind=COMMENT), threshold=2)
    rewards = Rewards(badges=[badge])
    outcomes = rewards.record_many(
        [Activity(id="x", actor="ann", kind=COMMENT, at=T0), act(9, at=T0 - timedelta(days=9))]
    )
    assert awarded(outcomes[1]) == [("ann", "c2", None)]
