"""Levels (with badge gates) and the profile: totals, level, badges, progress."""

from __future__ import annotations

from datetime import timedelta

import pytest

from e2badges import (
    Badge,
    BadgeProgress,
    FrozenClock,
    Level,
    PointRule,
    Rewards,
    Tier,
    criteria,
)

from .helpers import T0, act

RULES = [
    PointRule(id="answer", kind="answer.created", actor_points=50),
    PointRule(id="flag", kind="answer.flagged", actor_points=-80),
    PointRule(id="upvote", kind="answer.upvoted", recipient_points=5, currency="karma"),
]
REGULAR = Badge(id="regular", criterion=criteria.Manual(), name="Regular")
LEVELS = [
    Level(id="newcomer", threshold=0),
    Level(id="member", threshold=100),
    Level(id="regular", threshold=200, badges=("regular",)),
    Level(id="expert", threshold=400),
]


def level_rewards(**options: object) -> Rewards:
    return Rewards(rules=RULES, badges=[REGULAR], levels=LEVELS, **options)  # type: ignore[arg-type]


class TestLevels:
    def test_level_up(self) -> None:
        """Crossing a threshold reports a level change from the old level to the new."""
        rewards = level_rewards()
        outcomes = rewards.record_many([act(i, "answer.created") for i in (1, 2, 3)])
        # 50 -> level 1 (threshold 0); 100 -> level 2; 150 -> still 2.
        assert [[(c.old, c.new) for c in o.level_changes] for o in outcomes] == [
            [(0, 1)],
            [(1, 2)],
            [],
        ]
        assert rewards.level("ann") == 2

    def test_first_level_reported_with_first_credit_or_gating_grant(self) -> None:
        """The first level (threshold 0) is reported once: with the first credit in the
        ladder's currency, or with a grant of a badge the ladder requires if that comes
        first; a credit in another currency reports nothing."""
        rewards = level_rewards()
        karma = rewards.record(act(1, "answer.upvoted", recipient="bob"))
        assert karma.level_changes == ()
        grant = rewards.grant("bob", "regular", by="lead", reason="helps everyone")
        assert [(c.user, c.old, c.new) for c in grant.level_changes] == [("bob", 0, 1)]
        credit = rewards.record(act(2, "answer.created", actor="bob"))
        assert credit.level_changes == ()
        first = rewards.record(act(3, "answer.created"))
        assert [(c.user, c.old, c.new) for c in first.level_changes] == [("ann", 0, 1)]

    def test_badge_gate(self) -> None:
        """A level needing a badge is reached only with it; higher rungs are not skipped."""
        rewards = level_rewards()
        rewards.record_many([act(i, "answer.created") for i in range(1, 11)])  # 500 points
        assert rewards.level("ann") == 2  # enough for "expert", but "regular" needs the badge
        outcome = rewards.grant("ann", "regular", by="lead", reason="every week since 2020")
        assert [(c.old, c.new) for c in outcome.level_changes] == [(2, 4)]
        assert rewards.level("ann") == 4

    def test_level_down(self) -> None:
        """A penalty, or revoking a required badge, brings the level down."""
        rewards = level_rewards()
        rewards.record_many([act(i, "answer.created") for i in range(1, 6)])  # 250
        rewards.grant("ann", "regular", by="lead", reason="x")
        assert rewards.level("ann") == 3
        outcome = rewards.revoke("ann", "regular", by="lead", reason="y")
        assert [(c.old, c.new) for c in outcome.level_changes] == [(3, 2)]
        flagged = rewards.record(act(9, "answer.flagged"))  # 250 - 80 = 170
        assert flagged.level_changes == ()
        flagged = rewards.record(act(10, "answer.flagged"))  # 90
        assert [(c.old, c.new) for c in flagged.level_changes] == [(2, 1)]

    def test_first_level_at_zero_is_kept_below_zero(self) -> None:
        """A first level with threshold 0 is held whatever the balance: a penalty first
        reports (0, 1), and a balance going up and down across 0 reports it only once."""
        rewards = level_rewards()
        flagged = rewards.record(act(1, "answer.flagged", actor="bob"))  # -80
        assert [(c.user, c.old, c.new) for c in flagged.level_changes] == [("bob", 0, 1)]
        assert (rewards.balance("bob"), rewards.level("bob")) == (-80, 1)
        kinds = ["answer.created", "answer.created", "answer.flagged"] * 3
        # -30, 20, -60, -10, 40, -40, 10, 60, -20: across 0 and back, again and again
        outcomes = rewards.record_many([act(n, k, actor="bob") for n, k in enumerate(kinds, 2)])
        assert [o.level_changes for o in outcomes] == [()] * len(kinds)
        assert (rewards.balance("bob"), rewards.level("bob")) == (-20, 1)
        status = rewards.profile("bob").level
        assert status is not None
        assert status.level is not None
        assert status.next is not None
        assert (status.number, status.level.id, status.next.id) == (1, "newcomer", "member")
        assert (status.current, status.target, status.missing) == (-20, 100, ())
        assert rewards.level("nobody") == 1

    def test_first_level_reported_with_credits_adding_up_to_zero(self) -> None:
        """Credits of one activity that add up to 0 (a reward and a fee of the same
        kind) are credits in the ladder's currency: the first level is reported with
        them, once."""
        rewards = Rewards(
            rules=[
                PointRule(id="accept", kind="answer.accepted", actor_points=2),
                PointRule(id="fee", kind="answer.accepted", actor_points=-2),
            ],
            badges=[REGULAR],
            levels=LEVELS,
        )
        first = rewards.record(act(1, "answer.accepted", actor="bob"))
        assert [line.amount for line in first.ledger] == [2, -2]
        assert [(c.user, c.old, c.new) for c in first.level_changes] == [("bob", 0, 1)]
        assert [s.kind for s in first.stories] == ["level"]
        again = rewards.record(act(2, "answer.accepted", actor="bob"))
        assert (again.level_changes, rewards.balance("bob"), rewards.level("bob")) == ((), 0, 1)

    def test_first_level_at_zero_with_a_badge_needs_only_the_badge(self) -> None:
        """A first level with threshold 0 that requires a badge is held by those holding
        the badge, whatever their balance, and by no one else."""
        levels = [Level(id="crew", threshold=0, badges=("regular",)), LEVELS[1]]
        rewards = Rewards(rules=RULES, badges=[REGULAR], levels=levels)
        flagged = rewards.record(act(1, "answer.flagged"))
        assert (flagged.level_changes, rewards.level("ann")) == ((), 0)
        granted = rewards.grant("ann", "regular", by="lead", reason="x")
        assert [(c.old, c.new) for c in granted.level_changes] == [(0, 1)]
        assert rewards.level("ann") == 1
        assert rewards.record(act(2, "answer.flagged")).level_changes == ()
        revoked = rewards.revoke("ann", "regular", by="lead", reason="y")
        assert [(c.old, c.new) for c in revoked.level_changes] == [(1, 0)]

    def test_first_level_above_zero_is_lost_below_it(self) -> None:
        """A first level with a threshold above 0 is lost when the balance falls below it."""
        levels = [Level(id="member", threshold=40), LEVELS[3]]
        rewards = Rewards(rules=RULES, levels=levels)
        outcomes = rewards.record_many(
            [act(1, "answer.created"), act(2, "answer.flagged"), act(3, "answer.created")]
        )
        assert [[(c.old, c.new) for c in o.level_changes] for o in outcomes] == [
            [(0, 1)],
            [(1, 0)],
            [],
        ]

    def test_other_currency_ignored(self) -> None:
        """Credits in another currency do not change levels."""
        rewards = level_rewards()
        outcome = rewards.record(act(1, "answer.upvoted", recipient="bob"))
        assert outcome.level_changes == ()

    def test_unknown_person(self) -> None:
        """Someone never seen stands on the rungs a zero balance reaches."""
        assert level_rewards().level("nobody") == 1

    def test_no_levels(self) -> None:
        """Without levels, everyone is at level 0 and no level changes are reported."""
        rewards = Rewards(rules=RULES)
        assert rewards.record(act(1, "answer.created")).level_changes == ()
        assert rewards.level("ann") == 0


def profile_rewards() -> tuple[Rewards, FrozenClock]:
    clock = FrozenClock(T0)
    badges = [
        Badge(
            id="answerer",
            criterion=criteria.Count(kind="answer.created"),
            tiers=[Tier(id="bronze", threshold=2), Tier(id="silver", threshold=5)],
        ),
        Badge(id="streaker", criterion=criteria.Streak(kind="answer.created"), threshold=5),
        Badge(
            id="weekly",
            criterion=criteria.Count(kind="answer.created"),
            threshold=3,
            repeat="week",
        ),
        Badge(id="burst", criterion=criteria.Rolling(kind="answer.created", days=2), threshold=4),
        Badge(id="rich", criterion=criteria.Points(), threshold=1000),
        Badge(id="liked", criterion=criteria.Points(currency="karma"), threshold=10),
        Badge(id="pioneer", criterion=criteria.First(kind="answer.created")),
        Badge(id="egg", criterion=criteria.Count(kind="answer.created"), threshold=99, secret=True),
        Badge(id="helper", criterion=criteria.Manual()),
        Badge(id="duo", criterion=criteria.AllOf(badges=("answerer", "liked", "helper"))),
    ]
    rewards = Rewards(rules=RULES, badges=badges, levels=LEVELS[:2], clock=clock)
    return rewards, clock


class TestProfile:
    def test_profile(self) -> None:
        """The profile has totals, level, badges held and progress toward the rest."""
        rewards, clock = profile_rewards()
        rewards.record_many(
            [
                act(1, "answer.created", day=0),  # Mon 2026-01-05
                act(2, "answer.created", day=1),
                act(3, "answer.created", day=2),  # Wed: 3 days in a row
                act(4, "answer.upvoted", actor="bob", recipient="ann", day=2),
            ]
        )
        clock.set(T0 + timedelta(days=3))  # Thursday: the streak is alive (today not over)
        profile = rewards.profile("ann")
        assert profile.user == "ann"
        assert profile.balances == {"points": 150, "karma": 5}
        assert profile.level is not None
        assert (profile.level.number, profile.level.current, profile.level.target) == (2, 150, None)
        assert [(w.badge, w.tier, w.at) for w in profile.badges] == [
            ("pioneer", None, T0),
            ("answerer", "bronze", T0 + timedelta(days=1)),
            ("weekly", None, T0 + timedelta(days=2)),
        ]
        assert list(profile.progress) == [
            BadgeProgress("answerer", "silver", 3, 5),
            BadgeProgress("streaker", None, 3, 5, best=3),
            # "weekly" is held for 2026-W02, this week: nothing to show
            BadgeProgress("burst", None, 1, 4),  # the 2 days ending today: Wednesday's answer
            BadgeProgress("rich", None, 150, 1000),
            BadgeProgress("liked", None, 5, 10),
            BadgeProgress("duo", None, 1, 3),
        ]

    def test_new_person(self) -> None:
        """Someone never seen has zero totals, the first level, and progress from zero."""
        rewards, _ = profile_rewards()
        profile = rewards.profile("nobody")
        assert profile.balances == {"points": 0, "karma": 0}
        assert profile.badges == ()
        assert profile.level is not None
        assert (profile.level.number, profile.level.target) == (1, 100)
        assert [(p.badge, p.current, p.target) for p in profile.progress] == [
            ("answerer", 0, 2),
            ("streaker", 0, 5),
            ("weekly", 0, 3),
            ("burst", 0, 4),
            ("rich", 0, 1000),
            ("liked", 0, 10),
            ("pioneer", 0, 1),
            ("duo", 0, 3),
        ]

    def test_streak_run_broken(self) -> None:
        """A streak whose last active day is before yesterday shows a current run of 0."""
        rewards, clock = profile_rewards()
        rewards.record_many([act(i, "answer.created", day=i) for i in (0, 1, 2)])
        clock.set(T0 + timedelta(days=4))  # day 3 missed
        [streak] = [p for p in rewards.profile("ann").progress if p.badge == "streaker"]
        assert (streak.current, streak.best, streak.target) == (0, 3, 5)

    def test_repeatable_shows_current_period(self) -> None:
        """A repeatable badge shows progress in the current period."""
        rewards, clock = profile_rewards()
        rewards.record_many([act(i, "answer.created", day=i) for i in (0, 1, 2, 7)])
        clock.set(T0 + timedelta(days=8))  # Tuesday of 2026-W03
        [weekly] = [p for p in rewards.profile("ann").progress if p.badge == "weekly"]
        assert (weekly.current, weekly.target, weekly.period) == (1, 3, "2026-W03")

    def test_level_missing_badges(self) -> None:
        """The level status names the badges the next level still needs."""
        rewards = level_rewards()
        rewards.record_many([act(i, "answer.created") for i in range(1, 6)])  # 250
        status = rewards.profile("ann").level
        assert status is not None
        assert status.level is not None
        assert status.next is not None
        assert (status.number, status.level.id, status.next.id) == (2, "member", "regular")
        assert (status.current, status.target, status.missing) == (250, 200, ("regular",))

    @pytest.mark.parametrize("secret", [True, False])
    def test_secret_hidden_until_earned(self, secret: bool) -> None:
        """A secret badge is left out of progress but listed once earned."""
        badge = Badge(
            id="egg", criterion=criteria.Count(kind="answer.created"), threshold=2, secret=secret
        )
        rewards = Rewards(badges=[badge])
        rewards.record(act(1, "answer.created"))
        assert [p.badge for p in rewards.profile("ann").progress] == ([] if secret else ["egg"])
        rewards.record(act(2, "answer.created"))
        assert [w.badge for w in rewards.profile("ann").badges] == ["egg"]

    def test_secret_progress_shown_once_earned(self) -> None:
        """Once a secret badge is earned, the profile shows progress toward its next tier,
        and for a repeatable one toward the current period; before, neither."""
        tiered = Badge(
            id="hidden",
            criterion=criteria.Count(kind="answer.created"),
            secret=True,
            tiers=[Tier(id="bronze", threshold=2), Tier(id="silver", threshold=5)],
        )
        weekly = Badge(
            id="weekly",
            criterion=criteria.Count(kind="answer.created"),
            threshold=2,
            repeat="week",
            secret=True,
        )
        clock = FrozenClock(T0)
        rewards = Rewards(badges=[tiered, weekly], clock=clock)
        rewards.record(act(1, "answer.created"))
        assert rewards.profile("ann").progress == ()
        rewards.record(act(2, "answer.created"))
        clock.advance(timedelta(days=7))
        shown = [(p.badge, p.tier, p.current, p.target) for p in rewards.profile("ann").progress]
        assert shown == [("hidden", "silver", 2, 5), ("weekly", None, 0, 2)]
