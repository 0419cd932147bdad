"""Calendar and rolling windows: period boundaries, DST, ISO week 53, past periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from e2badges import FrozenClock, InvalidQueryError
from e2badges._leaderboards import period_start

from .helpers import T0, board, make, score


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def scores(view: object, **query: object) -> dict[str, float]:
    return {e.user: e.score for e in view.top(100, **query)}  # type: ignore[attr-defined]


class TestCalendarWindows:
    def test_week_boundaries(self) -> None:
        """An ISO week runs from Monday 00:00 to Sunday 24:00 local time."""
        rewards = make(board(windows=("week",)))
        score(
            rewards,
            [
                ("sun", 1, utc(2026, 11, 22, 23, 59)),  # Sunday: 2026-W47
                ("mon", 1, utc(2026, 11, 23, 0, 0)),  # Monday: 2026-W48
                ("end", 1, utc(2026, 11, 29, 23, 59)),  # Sunday: 2026-W48
                ("next", 1, utc(2026, 11, 30, 0, 0)),  # Monday: 2026-W49
            ],
        )
        view = rewards.leaderboard("b")
        assert scores(view, period="2026-W47") == {"sun": 1}
        assert scores(view, period="2026-W48") == {"mon": 1, "end": 1}
        assert scores(view, period="2026-W49") == {"next": 1}

    def test_default_period_is_the_current_one(self) -> None:
        """Without a period a query reads the period holding the clock's now."""
        clock = FrozenClock(utc(2026, 11, 15, 12))
        rewards = make(board(windows=("month", "all")), clock=clock)
        score(rewards, [("ann", 3, utc(2026, 10, 31, 23)), ("bob", 5, utc(2026, 11, 1, 0))])
        view = rewards.leaderboard("b")
        assert scores(view) == {"bob": 5}
        assert view.period() == "2026-11"
        clock.set(utc(2026, 12, 1, 0))
        assert scores(view) == {}
        assert view.period() == "2026-12"

    def test_past_periods_stay_queryable(self) -> None:
        """Any past period can be read by its label, a date in it or an aware datetime."""
        rewards = make(board(windows=("month",)))
        score(rewards, [("ann", 3, utc(2026, 10, 5, 9)), ("bob", 5, utc(2026, 11, 5, 9))])
        view = rewards.leaderboard("b")
        assert scores(view, period="2026-10") == {"ann": 3}
        assert scores(view, period=date(2026, 10, 31)) == {"ann": 3}
        assert scores(view, period=utc(2026, 11, 30, 23, 59)) == {"bob": 5}

    def test_every_window_of_a_board(self) -> None:
        """A board kept for several windows answers each; the first is the default."""
        rewards = make(board(windows=("day", "week", "month", "quarter", "year", "all")))
        score(
            rewards,
            [
                ("ann", 1, utc(2026, 11, 23, 10)),
                ("ann", 2, utc(2026, 11, 24, 10)),
                ("ann", 4, utc(2026, 10, 1, 10)),
                ("ann", 8, utc(2026, 6, 1, 10)),
                ("ann", 16, utc(2025, 6, 1, 10)),
            ],
        )
        view = rewards.leaderboard("b")
        # The clock is at 2026-11-23 10:00.
        assert view.score("ann") == 1
        assert view.score("ann", window="day", period="2026-11-24") == 2
        assert view.score("ann", window="week") == 1 + 2
        assert view.score("ann", window="month") == 1 + 2
        assert view.score("ann", window="quarter") == 1 + 2 + 4
        assert view.score("ann", window="year") == 1 + 2 + 4 + 8
        assert view.score("ann", window="all") == 1 + 2 + 4 + 8 + 16
        assert view.score("ann", window="year", period="2025") == 16

    def test_month_quarter_and_year_in_the_time_zone(self) -> None:
        """Calendar periods follow local time: 22:30 UTC on 31 March is April in Berlin."""
        rewards = make(
            board(windows=("month", "quarter", "year", "week")), timezone="Europe/Berlin"
        )
        score(
            rewards,
            [("ann", 1, utc(2026, 3, 31, 22, 30)), ("bob", 1, utc(2026, 12, 31, 23, 30))],
        )
        view = rewards.leaderboard("b")
        assert scores(view, window="month", period="2026-04") == {"ann": 1}
        assert scores(view, window="quarter", period="2026-Q2") == {"ann": 1}
        # 00:30 on 1 January 2027 in Berlin: year 2027, but still ISO week 2026-W53.
        assert scores(view, window="year", period="2027") == {"bob": 1}
        assert scores(view, window="week", period="2026-W53") == {"bob": 1}


class TestDaylightSaving:
    def test_spring_forward_day_is_23_hours(self) -> None:
        """In Berlin, 29 March 2026 runs from 23:00 UTC on the 28th to 22:00 UTC."""
        rewards = make(board(windows=("day",)), timezone="Europe/Berlin")
        score(
            rewards,
            [
                ("a", 1, utc(2026, 3, 28, 22, 59)),  # 23:59 CET on the 28th
                ("b", 1, utc(2026, 3, 28, 23, 0)),  # 00:00 CET on the 29th
                ("c", 1, utc(2026, 3, 29, 21, 59)),  # 23:59 CEST on the 29th
                ("d", 1, utc(2026, 3, 29, 22, 0)),  # 00:00 CEST on the 30th
            ],
        )
        view = rewards.leaderboard("b")
        assert scores(view, period="2026-03-28") == {"a": 1}
        assert scores(view, period="2026-03-29") == {"b": 1, "c": 1}
        assert scores(view, period="2026-03-30") == {"d": 1}

    def test_fall_back_day_is_25_hours(self) -> None:
        """In Berlin, 25 October 2026 runs from 22:00 UTC on the 24th to 23:00 UTC."""
        rewards = make(board(windows=("day", "week")), timezone="Europe/Berlin")
        score(
            rewards,
            [
                ("a", 1, utc(2026, 10, 24, 21, 59)),  # 23:59 CEST on the 24th
                ("b", 1, utc(2026, 10, 24, 22, 0)),  # 00:00 CEST on the 25th
                ("c", 1, utc(2026, 10, 25, 22, 59)),  # 23:59 CET on the 25th
                ("d", 1, utc(2026, 10, 25, 23, 0)),  # 00:00 CET on Monday the 26th
            ],
        )
        view = rewards.leaderboard("b")
        assert scores(view, period="2026-10-25") == {"b": 1, "c": 1}
        assert scores(view, window="week", period="2026-W43") == {"a": 1, "b": 1, "c": 1}
        assert scores(view, window="week", period="2026-W44") == {"d": 1}

    def test_current_day_by_the_clock_across_the_change(self) -> None:
        """The current period follows the clock across a DST change, to the minute."""
        clock = FrozenClock(utc(2026, 3, 29, 21, 59))
        rewards = make(board(windows=("day",)), clock=clock, timezone="Europe/Berlin")
        view = rewards.leaderboard("b")
        assert view.period() == "2026-03-29"
        clock.advance(timedelta(minutes=1))
        assert view.period() == "2026-03-30"
        clock.set(utc(2026, 10, 25, 22, 59))
        assert view.period() == "2026-10-25"
        clock.advance(timedelta(minutes=1))
        assert view.period() == "2026-10-26"
        clock.set(utc(2026, 10, 24, 21, 59))  # a clock set back is followed too
        assert view.period() == "2026-10-24"


class TestIsoWeek53:
    def test_week_53_of_2026(self) -> None:
        """2026 has an ISO week 53: Monday 28 December 2026 to Sunday 3 January 2027."""
        rewards = make(board(windows=("week", "year")))
        score(
            rewards,
            [
                ("dec", 1, utc(2026, 12, 28, 0, 0)),
                ("jan", 1, utc(2027, 1, 3, 23, 59)),
                ("w01", 1, utc(2027, 1, 4, 0, 0)),
            ],
        )
        view = rewards.leaderboard("b")
        assert scores(view, period="2026-W53") == {"dec": 1, "jan": 1}
        assert scores(view, period="2027-W01") == {"w01": 1}
        assert scores(view, window="year", period="2027") == {"jan": 1, "w01": 1}
        assert scores(view, period=date(2027, 1, 2)) == {"dec": 1, "jan": 1}

    def test_no_week_53_in_2027(self) -> None:
        """A week 53 in a year of 52 ISO weeks is refused, naming the period."""
        view = make(board(windows=("week",))).leaderboard("b")
        with pytest.raises(InvalidQueryError) as info:
            view.top(period="2027-W53")
        assert info.value.field == "period"


class TestWeekStart:
    def test_sunday_weeks(self) -> None:
        """Weeks starting on Sunday run Sunday to Saturday and are labelled by their first day."""
        rewards = make(board(windows=("week",), week_starts="sunday"))
        score(
            rewards,
            [
                ("sat", 1, utc(2026, 11, 21, 23, 59)),
                ("sun", 1, utc(2026, 11, 22, 0, 0)),
                ("sat2", 1, utc(2026, 11, 28, 23, 59)),
                ("sun2", 1, utc(2026, 11, 29, 0, 0)),
            ],
        )
        view = rewards.leaderboard("b")
        assert view.period() == "2026-11-22/P1W"  # the clock is at Monday 23 November
        assert scores(view) == {"sun": 1, "sat2": 1}
        assert scores(view, period="2026-11-15/P1W") == {"sat": 1}
        assert scores(view, period=date(2026, 12, 1)) == {"sun2": 1}

    def test_week_label_must_start_on_the_first_weekday(self) -> None:
        """A week label whose day is not the board's first weekday is refused."""
        view = make(board(windows=("week",), week_starts="sunday")).leaderboard("b")
        for label in ("2026-11-23/P1W", "2026-W48"):
            with pytest.raises(InvalidQueryError, match="sunday"):
                view.top(period=label)


class TestRollingWindows:
    def test_last_n_days_relative_to_the_clock(self) -> None:
        """A rolling 7d window is the clock's local day and the six days before it."""
        clock = FrozenClock(T0)  # Monday 2026-11-23 10:00 UTC
        rewards = make(board(windows=("7d",)), clock=clock)
        score(
            rewards,
            [
                ("old", 1, utc(2026, 11, 16, 23, 59)),  # 7 days before: out
                ("ann", 2, utc(2026, 11, 17, 0, 0)),  # 6 days before: in
                ("ann", 3, utc(2026, 11, 23, 9, 0)),
                ("bob", 4, utc(2026, 11, 20, 9, 0)),
            ],
        )
        view = rewards.leaderboard("b")
        assert scores(view) == {"ann": 5, "bob": 4}
        clock.set(utc(2026, 11, 24, 0, 0))  # the 17th drops out
        assert scores(view) == {"ann": 3, "bob": 4}
        assert view.period() == "2026-11-24"

    def test_period_is_the_last_day(self) -> None:
        """A rolling window's period is its last day: the N days up to it are read."""
        rewards = make(board(windows=("3d",)))
        score(
            rewards,
            [
                ("ann", 1, utc(2026, 11, 1, 9)),
                ("ann", 2, utc(2026, 11, 3, 9)),
                ("ann", 4, utc(2026, 11, 4, 9)),
            ],
        )
        view = rewards.leaderboard("b")
        assert view.score("ann", period="2026-11-03") == 1 + 2
        assert view.score("ann", period="2026-11-05") == 2 + 4
        assert view.score("ann", period=date(2026, 11, 7)) is None

    def test_updates_after_a_query(self) -> None:
        """A rolling window already queried follows later activities, new days included."""
        rewards = make(board(windows=("7d",), ranking="ordinal"))
        score(rewards, [("ann", 5, utc(2026, 11, 20, 9)), ("bob", 3, utc(2026, 11, 21, 9))])
        view = rewards.leaderboard("b")
        assert [e.user for e in view.top()] == ["ann", "bob"]
        score(rewards, [("bob", 3, utc(2026, 11, 22, 9)), ("cat", 1, utc(2026, 11, 23, 8))])
        assert [(e.user, e.score) for e in view.top()] == [("bob", 6), ("ann", 5), ("cat", 1)]

    def test_reached_is_the_latest_in_the_window(self) -> None:
        """In a rolling window a score was reached at the latest activity inside it."""
        rewards = make(board(windows=("7d",), ranking="ordinal"))
        # ann: 2 + 2 reached on the 22nd; bob: 4 on the 21st: bob leads the tie.
        score(
            rewards,
            [
                ("ann", 2, utc(2026, 11, 18, 9)),
                ("ann", 2, utc(2026, 11, 22, 9)),
                ("bob", 4, utc(2026, 11, 21, 9)),
            ],
        )
        assert [e.user for e in rewards.leaderboard("b").top()] == ["bob", "ann"]

    def test_local_days_in_the_time_zone(self) -> None:
        """Rolling windows are made of local days of the configured time zone."""
        clock = FrozenClock(utc(2026, 11, 23, 10))
        rewards = make(board(windows=("1d",)), clock=clock, timezone="Europe/Berlin")
        # 23:30 UTC on the 22nd is already the 23rd in Berlin.
        score(rewards, [("ann", 1, utc(2026, 11, 22, 23, 30)), ("bob", 1, utc(2026, 11, 22, 22))])
        assert scores(rewards.leaderboard("b")) == {"ann": 1}


class TestQueryErrors:
    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"window": "month"}, "window"),
            ({"window": "week", "period": "2026-11"}, "period"),
            ({"window": "week", "period": 2026}, "period"),
            ({"window": "week", "period": datetime(2026, 11, 5)}, "period"),
            ({"window": "all", "period": "2026"}, "period"),
        ],
    )
    def test_bad_window_or_period(self, query: dict[str, object], field: str) -> None:
        """A window the board lacks or a period not of its window is refused, naming it."""
        view = make(board(windows=("week", "all"))).leaderboard("b")
        with pytest.raises(InvalidQueryError) as info:
            view.top(**query)  # type: ignore[arg-type]
        assert info.value.field == field

    @pytest.mark.parametrize(
        ("window", "label"),
        [
            ("day", "2026-02-30"),
            ("day", "20261105"),
            ("month", "2026-13"),
            ("quarter", "2026-Q5"),
            ("year", "26"),
            ("3d", "2026-W48"),
        ],
    )
    def test_malformed_labels(self, window: str, label: str) -> None:
        """Malformed or impossible period labels are refused."""
        view = make(board(windows=(window,))).leaderboard("b")
        with pytest.raises(InvalidQueryError, match="period"):
            view.size(period=label)


class TestPeriodStart:
    @pytest.mark.parametrize(
        ("kind", "label", "start"),
        [
            ("day", "2026-11-25", date(2026, 11, 25)),
            ("week", "2026-W48", date(2026, 11, 23)),
            ("week", "2026-W53", date(2026, 12, 28)),
            ("week", "2026-11-22/P1W", date(2026, 11, 22)),
            ("month", "2026-11", date(2026, 11, 1)),
            ("quarter", "2026-Q4", date(2026, 10, 1)),
            ("year", "2026", date(2026, 1, 1)),
        ],
    )
    def test_first_day_of_each_label(self, kind: str, label: str, start: date) -> None:
        """period_start gives the first local day of a period from its label, in both
        week forms (ISO weeks start on Monday)."""
        assert period_start(kind, label) == start

    @pytest.mark.parametrize(
        ("kind", "label"),
        [("week", "2026-W54"), ("month", "2026-13"), ("day", "2026-02-30"), ("week", "x/P1W")],
    )
    def test_no_start_for_a_label_that_names_no_period(self, kind: str, label: str) -> None:
        """A label that names no period has no start (None)."""
        assert period_start(kind, label) is None

    def test_orders_week_labels_across_forms(self) -> None:
        """Week labels of the two forms compare by their starts, not as text."""
        iso, other = "2026-W01", "2026-01-04/P1W"  # from 2025-12-29 and from 2026-01-04
        assert other < iso  # as text, the later week sorts first
        assert period_start("week", iso) < period_start("week", other)  # type: ignore[operator]
