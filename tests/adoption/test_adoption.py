"""Adoption figures on a small organisation (see org.py for the activities)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from e2badges import (
    Activity,
    Change,
    Cohort,
    ConfigurationError,
    FrozenClock,
    InvalidQueryError,
    KeptGoing,
    PointRule,
    Rewards,
)

from .org import BADGES, KINDS, organisation

PARIS = ZoneInfo("Europe/Paris")
W48 = {"window": "week", "period": "2026-W48"}


class TestActivePeople:
    def test_active_people_in_the_week(self) -> None:
        """Active people are the distinct actors of the period, in local time."""
        report = organisation().adoption(**W48)
        # ann, bob, cy and eve (her 23:30 UTC view of 22 Nov is 23 Nov in Paris); dee's
        # post of 29 Nov 23:30 UTC is 30 Nov in Paris, the next week.
        assert report.active == 4
        assert (report.first_day, report.last_day) == (date(2026, 11, 23), date(2026, 11, 29))

    def test_every_day_of_the_period_is_listed(self) -> None:
        """Active people per day list each day of the period, with 0 for empty days."""
        report = organisation().adoption(**W48)
        assert report.daily == (
            ("2026-11-23", 3),  # ann, bob, eve
            ("2026-11-24", 1),  # ann
            ("2026-11-25", 2),  # bob, cy
            ("2026-11-26", 0),
            ("2026-11-27", 0),
            ("2026-11-28", 0),
            ("2026-11-29", 0),
        )
        assert report.weekly == (("2026-W48", 4),)
        assert report.monthly == (("2026-11", 4),)

    def test_weeks_cut_by_the_period_count_its_days_only(self) -> None:
        """A month lists the ISO weeks it touches, counted on its own days."""
        report = organisation().adoption(window="month", period="2026-11")
        # W48 is 23-29 Nov; W49 starts 30 Nov (dee); W44 holds 1 Nov (nobody).
        assert dict(report.weekly) == {
            "2026-W44": 0,
            "2026-W45": 0,
            "2026-W46": 0,
            "2026-W47": 2,  # ann, bob
            "2026-W48": 4,
            "2026-W49": 1,  # dee on 30 Nov
        }
        assert report.active == 5

    def test_time_zone_moves_activities_across_the_boundary(self) -> None:
        """In UTC, eve's view falls in W47 and dee's post in W48."""
        report = organisation(timezone="UTC").adoption(**W48)
        # ann, bob, cy, dee
        assert report.active == 4
        assert report.daily[0] == ("2026-11-23", 2)  # ann, bob
        assert report.daily[-1] == ("2026-11-29", 1)  # dee

    def test_empty_period(self) -> None:
        """A period without activity has zeros everywhere and no shares."""
        report = organisation().adoption(window="week", period="2026-W40")
        assert report.active == 0
        assert report.daily == tuple(
            ((date(2026, 9, 28) + timedelta(days=i)).isoformat(), 0) for i in range(7)
        )
        assert (report.contributors, report.readers) == (0, 0)
        assert (report.top1_share, report.top10_share) == (None, None)
        assert report.totals == Change("all", 0, 0)
        assert report.by_kind == ()
        assert report.cohorts == ()
        assert report.last_activity == {}
        assert report.adoption == 0.0

    def test_rolling_window(self) -> None:
        """A rolling window is the given local day and the days before it."""
        report = organisation().adoption(window="3d", period="2026-11-25")
        # 23-25 Nov: ann, bob, eve, cy; the 3 days before (20-22 Nov): nobody.
        assert report.active == 4
        assert report.totals == Change("all", 7, 0)

    def test_current_period_by_default(self) -> None:
        """Without a period, the period holding the clock's now is reported."""
        report = organisation().adoption(window="week")
        assert report.period == "2026-W49"
        assert report.active == 2  # dee (30 Nov), cy (1 Dec)
        assert report.as_of == datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _days(first: date, last: date) -> list[str]:
    """Return the labels of the local days from ``first`` to ``last``, inclusive."""
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _gappy() -> Rewards:
    """Return a Rewards (UTC) with activity in W43 and W45 of 2026 and the clock in W48."""
    rewards = Rewards(
        kinds=KINDS,
        clock=FrozenClock(datetime(2026, 11, 25, 9, tzinfo=UTC)),
        load_entrypoints=False,
    )
    rewards.record_many(
        [
            Activity(actor="cy", kind="post.created", at=datetime(2026, 10, 20, 9, tzinfo=UTC)),
            Activity(actor="ann", kind="post.created", at=datetime(2026, 11, 2, 9, tzinfo=UTC)),
            Activity(actor="bob", kind="post.created", at=datetime(2026, 11, 5, 9, tzinfo=UTC)),
        ]
    )
    return rewards


class TestAllTime:
    def test_every_day_from_the_first_active_one_to_today(self) -> None:
        """With window "all", every local day from the first active one to today is listed,
        with 0 for empty days."""
        report = organisation().adoption(window="all")
        days = _days(date(2026, 11, 16), date(2026, 12, 2))  # ann's first post; today
        assert [label for label, _ in report.daily] == days
        active = {
            "2026-11-16": 1,  # ann
            "2026-11-17": 1,  # bob
            "2026-11-23": 3,  # ann, bob, eve
            "2026-11-24": 1,  # ann
            "2026-11-25": 2,  # bob, cy
            "2026-11-30": 1,  # dee
            "2026-12-01": 1,  # cy
        }
        assert dict(report.daily) == {day: active.get(day, 0) for day in days}

    def test_every_week_and_month_to_the_current_one(self) -> None:
        """Weeks and months without activity are listed with 0, up to the current one."""
        report = _gappy().adoption(window="all")
        assert report.weekly == (
            ("2026-W43", 1),  # cy
            ("2026-W44", 0),
            ("2026-W45", 2),  # ann, bob
            ("2026-W46", 0),
            ("2026-W47", 0),
            ("2026-W48", 0),  # the clock's week
        )
        assert report.monthly == (("2026-10", 1), ("2026-11", 2))
        assert [label for label, _ in report.daily] == _days(date(2026, 10, 20), date(2026, 11, 25))

    def test_cohorts_run_to_the_current_week(self) -> None:
        """Each cohort's series runs to the current week, not to the last active one."""
        report = _gappy().adoption(window="all")
        assert report.cohorts == (
            Cohort("2026-W43", 1, (1, 0, 0, 0, 0, 0)),
            Cohort("2026-W45", 2, (2, 0, 0, 0)),
        )

    def test_activity_after_the_clock_extends_the_series(self) -> None:
        """An activity dated after now is listed: the series end at its period."""
        rewards = _gappy()
        rewards.record(
            Activity(actor="dee", kind="post.created", at=datetime(2026, 12, 9, 9, tzinfo=UTC))
        )
        report = rewards.adoption(window="all")
        assert report.daily[-1] == ("2026-12-09", 1)
        assert [label for label, _ in report.weekly][-3:] == ["2026-W48", "2026-W49", "2026-W50"]
        assert report.monthly[-1] == ("2026-12", 1)
        assert report.cohorts[-1] == Cohort("2026-W50", 1, (1,))

    def test_nothing_recorded_lists_nothing(self) -> None:
        """Without any activity there is no first active period: the series are empty."""
        report = Rewards(kinds=KINDS, load_entrypoints=False).adoption(window="all")
        assert (report.daily, report.weekly, report.monthly, report.cohorts) == ((), (), (), ())

    def test_series_start_at_the_first_active_period_however_early(self) -> None:
        """The series start at the first active period, even one more than a century
        back: their length is the span of the data, bounded by the earliest and latest
        activity times (1900-01-01 UTC, local 31 Dec 1899 west of UTC, to 2999)."""
        now = datetime(2999, 12, 31, 12, tzinfo=UTC)
        rewards = Rewards(
            kinds=KINDS,
            clock=FrozenClock(now),
            timezone="America/New_York",
            load_entrypoints=False,
        )
        rewards.record_many(
            [
                Activity(actor="ann", kind="post.created", at=datetime(1900, 1, 1, tzinfo=UTC)),
                Activity(actor="bob", kind="post.created", at=now),
            ]
        )
        report = rewards.adoption(window="all")
        first, today = date(1899, 12, 31), date(2999, 12, 31)  # local days (UTC-5)
        assert len(report.daily) == (today - first).days + 1
        assert (report.daily[0], report.daily[1], report.daily[-1]) == (
            ("1899-12-31", 1),
            ("1900-01-01", 0),
            ("2999-12-31", 1),
        )
        weeks = [label for label, _ in report.weekly]
        assert (weeks[0], weeks[-1]) == ("1899-W52", "3000-W01")  # Sun 31 Dec; Tue 31 Dec
        assert (
            len(weeks) == len(set(weeks)) == (date(2999, 12, 30) - date(1899, 12, 25)).days // 7 + 1
        )
        assert len(report.monthly) == 1 + 1100 * 12  # December 1899, then 1900 to 2999
        assert sum(n for _, n in report.weekly) == sum(n for _, n in report.monthly) == 2
        assert [(c.week, c.size, len(c.active)) for c in report.cohorts] == [
            ("1899-W52", 1, len(weeks)),
            ("3000-W01", 1, 1),
        ]


class TestSeats:
    def test_adoption_against_seats(self) -> None:
        """Adoption is active people over the organisation's seats."""
        report = organisation().adoption(**W48)
        assert (report.seats, report.adoption, report.over_seats) == (10, 0.4, 0)

    def test_adoption_of_a_team(self) -> None:
        """A team's adoption counts its activities against its own seats."""
        report = organisation().adoption(**W48, team="red")
        assert (report.active, report.seats, report.adoption) == (1, 2, 0.5)
        assert report.totals == Change("all", 3, 1)

    def test_more_active_people_than_seats_clamps(self) -> None:
        """With fewer seats than active people, adoption is 1.0 and the excess is reported."""
        report = organisation(seats=3).adoption(**W48)
        assert (report.adoption, report.over_seats) == (1.0, 1)
        # The split then covers the 4 active people.
        assert (report.population, report.silent) == (4, 2)

    def test_without_seats(self) -> None:
        """Without seats, adoption is None and the split covers the active people."""
        report = organisation(seats=None).adoption(**W48)
        assert (report.adoption, report.population, report.silent) == (None, 4, 2)

    @pytest.mark.parametrize("seats", [0, -1, 2.5, True])
    def test_bad_seats(self, seats: object) -> None:
        """Seats must be whole numbers of at least 1."""
        with pytest.raises(ConfigurationError, match="seats"):
            organisation(seats=seats)

    def test_bad_team_seats(self) -> None:
        """Team seats must be whole numbers of at least 1, naming the team."""
        with pytest.raises(ConfigurationError, match="'red'"):
            organisation(team_seats={"red": 0})

    def test_undeclared_contributing_kind(self) -> None:
        """With ``kinds=`` given, a contributing kind must be declared, as a rule's must."""
        with pytest.raises(ConfigurationError) as info:
            organisation(contributing=("post.created", "post.creatd"))
        assert (info.value.field, info.value.subject) == ("contributing", "Rewards")
        assert info.value.reason == "undeclared activity kind 'post.creatd'"
        # Grants and revocations never count in the figures: naming them is a mistake too.
        with pytest.raises(ConfigurationError) as info:
            organisation(contributing=("e2badges.badge.granted",))
        assert info.value.field == "contributing"
        # Without declared kinds (or accepting any), any well-formed kind is taken.
        rewards = Rewards(contributing=("post.creatd",), accept_any_kind=True)
        assert rewards.contributing == frozenset({"post.creatd"})
        assert Rewards(contributing=("post.creatd",)).contributing == {"post.creatd"}

    @pytest.mark.parametrize("kind", ["e2badges.badge.granted", "e2badges.badge.revoked"])
    @pytest.mark.parametrize(
        "options",
        [
            {"kinds": ["post.created"]},
            {"rules": [PointRule(id="p", kind="post.created", actor_points=1)]},
            {"accept_any_kind": True},
        ],
        ids=["kinds", "kinds-from-rules", "accept-any-kind"],
    )
    def test_grant_kinds_never_contribute(self, kind: str, options: dict[str, Any]) -> None:
        """``contributing`` naming the kinds grant() and revoke() record is refused
        whatever the kind settings: they never count in the figures."""
        with pytest.raises(ConfigurationError) as info:
            Rewards(contributing=("post.created", kind), **options)
        assert (info.value.field, info.value.subject) == ("contributing", "Rewards")
        assert repr(kind) in info.value.reason
        assert "grant() and revoke()" in info.value.reason


class TestContributors:
    def test_contributors_and_readers(self) -> None:
        """Contributors did a contributing kind; readers were active without one."""
        report = organisation().adoption(**W48)
        assert (report.contributors, report.readers) == (2, 2)  # ann, cy / bob, eve

    def test_split_with_thresholds(self) -> None:
        """The 90-9-1 split: silent, occasional (below ``heavy``), heavy."""
        report = organisation().adoption(**W48, heavy=3)
        # ann made 3 contributions (heavy), cy 1 (occasional); 10 seats - 2 = 8 silent.
        assert (report.silent, report.occasional, report.heavy) == (8, 1, 1)
        report = organisation().adoption(**W48, heavy=4)
        assert (report.silent, report.occasional, report.heavy) == (8, 2, 0)

    def test_every_kind_contributes_by_default(self) -> None:
        """Without ``contributing``, every active person is a contributor."""
        report = organisation(contributing=None).adoption(**W48)
        assert (report.contributors, report.readers) == (4, 0)

    def test_top_shares(self) -> None:
        """The top 1 % and 10 % of active people, rounded up, and their share of activity."""
        report = organisation().adoption(**W48)
        # ann 3, bob 2, cy 1, eve 1: the top person (ceil(4 x 1 %) = ceil(4 x 10 %) = 1) did 3/7.
        assert report.top1_share == pytest.approx(3 / 7)
        assert report.top10_share == pytest.approx(3 / 7)

    def test_bad_threshold(self) -> None:
        """``heavy`` must be at least 1."""
        with pytest.raises(InvalidQueryError, match="heavy"):
            organisation().adoption(**W48, heavy=0)

    @pytest.mark.parametrize("window", ["fortnight", "0d", "9999d", 7, ["week"]])
    def test_bad_window(self, window: object) -> None:
        """A bad ``window`` is a query argument: InvalidQueryError naming it."""
        with pytest.raises(InvalidQueryError) as info:
            organisation().adoption(window=window)  # type: ignore[arg-type]
        assert (info.value.field, info.value.subject) == ("window", "adoption")


class TestTotals:
    def test_totals_against_the_previous_period(self) -> None:
        """Totals by kind and by team come with the previous period's."""
        report = organisation().adoption(**W48)
        assert report.totals == Change("all", 7, 2)
        assert report.by_kind == (
            Change("comment.created", 2, 0),
            Change("post.created", 2, 1),
            Change("post.viewed", 3, 1),
        )
        assert report.by_team == (Change("blue", 3, 1), Change("red", 3, 1))
        assert report.totals.delta == 5
        assert report.by_kind[1].ratio == 1.0
        assert report.by_kind[0].ratio is None

    def test_previous_month_has_its_own_length(self) -> None:
        """The period before a month is the whole previous calendar month."""
        report = organisation().adoption(window="month", period="2026-12")
        assert report.totals == Change("all", 1, 10)  # cy on 1 Dec; all of November

    def test_all_time_has_no_previous(self) -> None:
        """The ``all`` window has no previous period."""
        report = organisation().adoption(window="all")
        assert report.totals == Change("all", 11, None)
        assert report.totals.delta is None


class TestRetention:
    def test_weekly_cohorts(self) -> None:
        """A cohort is the people first active in a week, followed week by week."""
        report = organisation().adoption(window="month", period="2026-11")
        # W47: ann, bob (ann active again in W48, bob too; neither in W49);
        # W48: cy, eve (cy active in W49); W49: dee (30 Nov, in November).
        assert report.cohorts == (
            Cohort("2026-W47", 2, (2, 2, 0)),
            Cohort("2026-W48", 2, (2, 1)),
            Cohort("2026-W49", 1, (1,)),
        )
        assert report.cohorts[1].shares == (1.0, 0.5)

    def test_kept_going(self) -> None:
        """Of those whose first badge came in the period, the share active N weeks later."""
        rewards = organisation()
        # cy's first badge: 25 Nov (W48); active in W49 (1 Dec).
        assert rewards.adoption(**W48, kept_weeks=1).kept_going == KeptGoing(1, 1, 1)
        # Two weeks later is W50, which has not begun: too early to tell.
        assert rewards.adoption(**W48, kept_weeks=2).kept_going == KeptGoing(2, 0, 0)
        # ann's first badge: 16 Nov (W47); active in W48.
        report = rewards.adoption(window="week", period="2026-W47", kept_weeks=1)
        assert report.kept_going == KeptGoing(1, 1, 1)
        assert report.kept_going.share == 1.0

    def test_kept_going_of_a_team(self) -> None:
        """A team's report follows only the people active in the team in the period."""
        rewards = organisation()

        def kept(team: str, week: str) -> KeptGoing:
            report = rewards.adoption(window="week", period=week, team=team, kept_weeks=1)
            return report.kept_going

        # W48: cy's first badge (blue, active in blue in W49); nobody of red earned one.
        assert kept("blue", "2026-W48") == KeptGoing(1, 1, 1)
        assert kept("red", "2026-W48") == KeptGoing(1, 0, 0)
        # W47: ann's first badge (red, active in red in W48); nobody of blue earned one.
        assert kept("red", "2026-W47") == KeptGoing(1, 1, 1)
        assert kept("blue", "2026-W47") == KeptGoing(1, 0, 0)

    def test_kept_going_of_each_team_adds_up(self) -> None:
        """Two teams' first badges: each team's report counts its own person, 1 of 1."""
        at = datetime(2026, 11, 23, 9, tzinfo=UTC)  # Monday of W48
        rewards = Rewards(
            kinds=KINDS,
            badges=BADGES,
            team_seats={"red": 5, "blue": 5},
            clock=FrozenClock(at + timedelta(days=17)),
            load_entrypoints=False,
        )
        for week in (0, 1):
            rewards.record_many(
                Activity(actor=actor, kind="post.created", at=at + timedelta(weeks=week), teams=t)
                for actor, t in (("ann", ("red",)), ("bob", ("blue",)))
            )
        assert rewards.adoption(**W48, kept_weeks=1).kept_going == KeptGoing(1, 2, 2)
        for team in ("red", "blue"):
            report = rewards.adoption(**W48, team=team, kept_weeks=1)
            assert report.kept_going == KeptGoing(1, 1, 1)


class TestCurrency:
    def test_time_since_last_activity_of_each_kind(self) -> None:
        """Ages are measured from the end of a past period to the latest activity in it."""
        report = organisation().adoption(**W48)
        assert report.as_of == datetime(2026, 11, 30, 0, 0, tzinfo=PARIS)
        assert report.last_activity["post.created"] == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        # 23 Nov 10:00 UTC to 29 Nov 23:00 UTC
        assert report.age("post.created") == timedelta(days=6, hours=13)
        assert report.age("comment.created") == timedelta(days=4, hours=10)
        assert report.age("badge.unknown") is None


class TestNewcomers:
    def test_newcomers_this_week(self) -> None:
        """Newcomers are the people first active in the week, most active first."""
        rewards = organisation()
        entries = rewards.newcomers(week="2026-W48")
        assert [(e.user, e.score, e.rank) for e in entries] == [("cy", 1, 1), ("eve", 1, 1)]

    def test_opted_out_newcomers_are_left_out(self) -> None:
        """A person who opted out of leaderboards is not named among newcomers."""
        rewards = organisation()
        rewards.set_leaderboard_opt_out("eve")
        assert [e.user for e in rewards.newcomers(week="2026-W48")] == ["cy"]

    def test_opted_out_people_still_count_in_figures(self) -> None:
        """Adoption figures name nobody, so opted-out people still count in them."""
        rewards = organisation()
        rewards.set_leaderboard_opt_out("eve")
        assert rewards.adoption(**W48).active == 4
