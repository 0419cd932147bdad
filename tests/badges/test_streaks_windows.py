"""Streaks of local days and ISO weeks (with grace), and rolling windows at their edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from e2badges import Activity, Badge, Rewards, Tier, criteria
from e2badges._criteria import best_streak, current_run

from .helpers import act, awarded

COMMENT = "comment.created"
BERLIN = ZoneInfo("Europe/Berlin")


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """Return a Berlin wall-clock time as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def streak_rewards(threshold: int, *, period: str = "day", grace: int = 0) -> Rewards:
    streak = criteria.Streak(kind=COMMENT, period=period, grace=grace)  # type: ignore[arg-type]
    badge = Badge(id="streak", criterion=streak, threshold=threshold)
    return Rewards(badges=[badge], timezone="Europe/Berlin")


def record_at(rewards: Rewards, *times: datetime) -> list[bool]:
    """Record one comment by ann at each time; return whether each was awarded the badge."""
    activities = [act(i, at=at) for i, at in enumerate(times, start=1)]
    return [bool(o.awards) for o in rewards.record_many(activities)]


class TestDailyStreak:
    def test_across_spring_forward(self) -> None:
        """Three local days in a row around the 23-hour day (2026-03-29) make a streak of 3."""
        # In UTC the second and third activities fall on the same day (21:30 and 22:30 on
        # 2026-03-29); in Berlin they are 23:30 on the 29th and 00:30 on the 30th.
        times = (
            berlin(2026, 3, 28, 23, 30),
            berlin(2026, 3, 29, 23, 30),
            berlin(2026, 3, 30, 0, 30),
        )
        assert times[1].astimezone(UTC).date() == times[2].astimezone(UTC).date()
        assert record_at(streak_rewards(3), *times) == [False, False, True]

    def test_across_fall_back(self) -> None:
        """Three local days in a row around the 25-hour day (2026-10-25) make a streak of 3."""
        times = (
            berlin(2026, 10, 24, 23, 30),
            berlin(2026, 10, 25, 23, 30),
            berlin(2026, 10, 26, 0, 30),
        )
        assert times[1].astimezone(UTC).date() == times[2].astimezone(UTC).date()
        assert record_at(streak_rewards(3), *times) == [False, False, True]

    def test_missed_day_breaks(self) -> None:
        """A missed local day breaks the streak, though in UTC no day was missed."""
        # 2026-03-30 00:30 in Berlin is 2026-03-29 22:30 UTC: local 27, 28, 30 miss the 29th.
        times = (berlin(2026, 3, 27, 12), berlin(2026, 3, 28, 12), berlin(2026, 3, 30, 0, 30))
        assert record_at(streak_rewards(3), *times) == [False, False, False]

    def test_grace_bridges_one_missed_day(self) -> None:
        """With a grace of 1 the missed 29th is bridged; it does not add to the length."""
        times = (berlin(2026, 3, 27, 12), berlin(2026, 3, 28, 12), berlin(2026, 3, 30, 0, 30))
        assert record_at(streak_rewards(3, grace=1), *times) == [False, False, True]
        # 27, 28, (29 missed), 30 is a streak of 3 active days, not 4.
        rewards = streak_rewards(4, grace=1)
        assert record_at(rewards, *times) == [False, False, False]

    def test_grace_is_per_streak(self) -> None:
        """A grace of 1 bridges one missed period per streak, not one per gap."""
        days = [1, 2, 4, 6]  # misses the 3rd and the 5th
        times = [berlin(2026, 3, d, 12) for d in days]
        assert record_at(streak_rewards(4, grace=1), *times) == [False, False, False, False]
        assert record_at(streak_rewards(4, grace=2), *times) == [False, False, False, True]

    def test_several_activities_a_day(self) -> None:
        """More activities on one day do not lengthen the streak."""
        times = (berlin(2026, 5, 4, 9), berlin(2026, 5, 4, 18), berlin(2026, 5, 5, 9))
        assert record_at(streak_rewards(3), *times) == [False, False, False]

    def test_late_activity_joins_runs(self) -> None:
        """An activity recorded late fills the gap between two runs and completes the streak."""
        times = (berlin(2026, 5, 4, 9), berlin(2026, 5, 6, 9), berlin(2026, 5, 5, 9))
        assert record_at(streak_rewards(3), *times) == [False, False, True]


class TestWeeklyStreak:
    def test_week_53(self) -> None:
        """2026-W52, 2026-W53 and 2027-W01 are three consecutive ISO weeks."""
        times = (berlin(2026, 12, 21, 12), berlin(2026, 12, 28, 12), berlin(2027, 1, 4, 12))
        assert [t.isocalendar()[:2] for t in times] == [(2026, 52), (2026, 53), (2027, 1)]
        assert record_at(streak_rewards(3, period="week"), *times) == [False, False, True]

    def test_skipping_week_53_breaks(self) -> None:
        """Going from 2026-W52 to 2027-W01 misses week 53."""
        times = (berlin(2026, 12, 14, 12), berlin(2026, 12, 21, 12), berlin(2027, 1, 4, 12))
        assert record_at(streak_rewards(3, period="week"), *times) == [False, False, False]
        rewards = streak_rewards(3, period="week", grace=1)
        assert record_at(rewards, *times) == [False, False, True]

    def test_sunday_then_monday(self) -> None:
        """Sunday 2027-01-03 (2026-W53) and Monday 2027-01-04 (2027-W01) are two weeks."""
        times = (berlin(2027, 1, 3, 23, 30), berlin(2027, 1, 4, 0, 30))
        assert record_at(streak_rewards(2, period="week"), *times) == [False, True]

    def test_local_week_boundary(self) -> None:
        """Weeks turn at local midnight: Sunday 23:30 in Berlin is the Sunday's week."""
        # 2026-03-08 23:30 CET is 22:30 UTC, Sunday; 2026-03-09 00:30 CET is 23:30 UTC Sunday.
        times = (berlin(2026, 3, 8, 23, 30), berlin(2026, 3, 9, 0, 30))
        assert record_at(streak_rewards(2, period="week"), *times) == [False, True]


class TestStreakArithmetic:
    def test_best_streak(self) -> None:
        """The best streak joins whole runs while their gaps fit in the grace."""
        runs = [[1, 3], [5, 5], [8, 9]]  # gaps of 1 (day 4) and 2 (days 6, 7)
        assert best_streak(runs, 0) == 3
        assert best_streak(runs, 1) == 4  # 1-3 and 5
        assert best_streak(runs, 2) == 4  # 1-3 and 5 (gap 1), or 5 and 8-9 (gap 2): 4 and 3
        assert best_streak(runs, 3) == 6  # all: 3 + 1 + 2 active days, gaps 1 + 2

    def test_current_run(self) -> None:
        """The current run is alive while missed periods, up to today, fit in the grace."""
        runs = [[1, 3], [5, 6]]
        assert current_run(runs, 0, 7) == 2  # yesterday was active; today is not over
        assert current_run(runs, 0, 8) == 0  # day 7 missed
        assert current_run(runs, 1, 7) == 5  # 1-3, (4), 5-6
        assert current_run(runs, 1, 8) == 2  # day 7 uses the grace: 4 cannot be bridged too
        assert current_run([], 3, 8) == 0


class TestRolling:
    def rewards(self, days: int = 7, threshold: int = 3) -> Rewards:
        window = criteria.Rolling(kind=COMMENT, days=days)
        return Rewards(
            badges=[Badge(id="burst", criterion=window, threshold=threshold)],
            timezone="Europe/Berlin",
        )

    def test_inside_the_window(self) -> None:
        """Activities on local days 1, 4 and 7 are within one 7-day window."""
        times = [berlin(2026, 6, d, 12) for d in (1, 4, 7)]
        assert record_at(self.rewards(), *times) == [False, False, True]

    def test_one_day_too_far(self) -> None:
        """Days 1, 4 and 8 span 8 days: no 7-day window holds all three."""
        times = [berlin(2026, 6, d, 12) for d in (1, 4, 8)]
        assert record_at(self.rewards(), *times) == [False, False, False]

    def test_edges_are_local_days(self) -> None:
        """The window runs from local midnight: 00:10 on day 1 and 23:50 on day 7 are inside."""
        times = (berlin(2026, 6, 1, 0, 10), berlin(2026, 6, 4, 12), berlin(2026, 6, 7, 23, 50))
        assert record_at(self.rewards(), *times) == [False, False, True]
        times = (berlin(2026, 5, 31, 23, 50), berlin(2026, 6, 4, 12), berlin(2026, 6, 7, 0, 10))
        assert record_at(self.rewards(), *times) == [False, False, False]

    def test_late_arrival_completes_window(self) -> None:
        """An activity recorded late completes a window that ends after its own day."""
        times = [berlin(2026, 6, d, 12) for d in (5, 8, 2)]  # the window 2..8 holds all three
        assert record_at(self.rewards(), *times) == [False, False, True]

    def test_same_day(self) -> None:
        """A one-day window counts activities of one local day."""
        times = [berlin(2026, 6, 1, 9), berlin(2026, 6, 1, 23), berlin(2026, 6, 2, 1)]
        assert record_at(self.rewards(days=1, threshold=2), *times) == [False, True, False]

    def test_tiers_by_window(self) -> None:
        """Tiers compare against the busiest window: awarded when it reaches each threshold."""
        window = criteria.Rolling(kind=COMMENT, days=2)
        badge = Badge(
            id="burst",
            criterion=window,
            tiers=[Tier(id="bronze", threshold=2), Tier(id="silver", threshold=3)],
        )
        rewards = Rewards(badges=[badge])
        base = datetime(2026, 6, 1, 12, tzinfo=UTC)
        activities = [
            Activity(id=f"w{i}", actor="ann", kind=COMMENT, at=base + timedelta(days=d))
            for i, d in enumerate([0, 3, 4, 4])
        ]
        # Day 0: 1; day 3: 1; day 4: windows 3-4 hold 2 (bronze), then 3 (silver).
        assert [awarded(o) for o in rewards.record_many(activities)] == [
            [],
            [],
            [("ann", "burst", "bronze")],
            [("ann", "burst", "silver")],
        ]
