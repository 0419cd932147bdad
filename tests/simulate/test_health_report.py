"""The rules health report, computed from hand-made activities and outcomes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from e2badges import Activity, Award, ConfigurationError, LedgerEntry, Outcome, Revocation
from e2badges.simulate import BadgeShare, Churn, HealthReport, Inequality, health_report

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday: weeks 2026-W02 and 2026-W03
TEAMS = {"ann": "red", "bob": "red", "cy": "blue"}


def at(day: float) -> datetime:
    return START + timedelta(days=day)


def record(
    n: int,
    actor: str,
    day: float,
    *,
    points: int = 0,
    currency: str = "points",
    award: str | None = None,
    revoke: str | None = None,
) -> tuple[Activity, Outcome]:
    activity = Activity(id=f"a{n}", actor=actor, kind="post.created", at=at(day))
    ledger = ()
    if points:
        ledger = (LedgerEntry(f"a{n}", "r", actor, currency, points, points, at(day), "actor"),)
    awards = () if award is None else (Award(actor, award, None, None, at(day), f"a{n}", "c"),)
    revocations = ()
    if revoke is not None:
        revocations = (Revocation(actor, revoke, None, None, at(day), f"a{n}", "boss", "oops"),)
    return activity, Outcome(f"a{n}", ledger, awards, revocations)


RECORDS = [
    record(1, "ann", 0.4, points=10, award="first-post"),
    record(2, "bob", 3.5, points=30),
    record(3, "cy", 8.5, points=5),
    record(4, "ann", 9.5, points=5),  # ties cy's week-2 score, but later
    record(5, "bob", 8.2, award="first-post"),
    record(6, "bob", 10.0, revoke="first-post"),
    record(7, "cy", 11.0, points=7, currency="karma"),  # another currency: not counted
    record(8, "zed", 2.0, points=99),  # not in the population
    record(9, "ann", 14.0, points=99),  # after the end
]


@pytest.fixture(scope="module")
def report() -> HealthReport:
    return health_report(
        RECORDS, population=TEAMS, start=START, days=14, top=1, badges=["unseen"], seats=5
    )


class TestOrganisation:
    def test_adoption_curve(self, report: HealthReport) -> None:
        """Cumulative adopters at the end of each day: ann on day 0, bob day 3, cy day 8."""
        org = report.organisation
        assert org.adoption == (0, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3)
        assert (org.people, org.seats, org.adopters) == (3, 5, 3)
        assert org.adoption_share(4) == pytest.approx(2 / 3)

    def test_active_per_week(self, report: HealthReport) -> None:
        """Week 1 saw ann and bob; week 2 saw cy, ann and bob."""
        assert report.organisation.weeks == ("2026-W02", "2026-W03")
        assert report.organisation.active == (2, 3)

    def test_points_inequality(self, report: HealthReport) -> None:
        """Balances 15, 30 and 5: Gini 1/3; the top person (ceil of 1 % and 10 %) holds 60 %."""
        # sorted 5, 15, 30; sum (2i - n - 1) x_i = -2*5 + 0*15 + 2*30 = 50; 50 / (3 * 50) = 1/3
        assert report.organisation.points == Inequality(
            people=3, earners=3, total=50, gini=0.333333, top1_share=0.6, top10_share=0.6
        )

    def test_badge_shares(self, report: HealthReport) -> None:
        """bob's revoked award does not count; the median first day is the lower median."""
        assert report.organisation.badges == (
            BadgeShare("first-post", None, 1, 0.333333, 0, 0, (0.333333, 0.333333)),
            BadgeShare("unseen", None, 0, 0.0, None, None, (0.0, 0.0)),
        )

    def test_churn_of_the_weekly_board(self, report: HealthReport) -> None:
        """bob leads week 1; cy leads week 2, tied with ann at 5 but reaching it first."""
        weekly = report.organisation.churn[0]
        assert weekly == Churn(
            board="points/week",
            source="ledger",
            top=1,
            periods=("2026-W02", "2026-W03"),
            leaders=(("bob",), ("cy",)),
            entrants=(1, 1),
            changes=1,
            mean_entrants=1.0,
        )

    def test_churn_of_the_all_time_board(self, report: HealthReport) -> None:
        """bob leads the all-time board both weeks: no change."""
        total = report.organisation.churn[1]
        assert (total.board, total.leaders, total.entrants) == (
            "points/all",
            (("bob",), ("bob",)),
            (1, 0),
        )
        assert (total.changes, total.mean_entrants) == (0, 0.0)

    def test_outside_activities_counted(self, report: HealthReport) -> None:
        """Activities by people outside the population or outside the days are left out."""
        assert report.outside == 2


class TestTeams:
    def test_red_team(self, report: HealthReport) -> None:
        """Red (ann, bob): balances 15 and 30 give Gini 1/6; ann holds the badge."""
        red = report.team("red")
        assert red.adoption[-1] == 2
        assert red.active == (2, 2)
        # sorted 15, 30: (-1 * 15 + 1 * 30) / (2 * 45) = 1/6
        assert red.points.gini == 0.166667
        assert red.badges[0].share == 0.5
        assert red.churn[0].leaders == (("bob",), ("ann",))

    def test_blue_team(self, report: HealthReport) -> None:
        """Blue (cy) had an empty board in week 1, so week 2's top is a change."""
        blue = report.team("blue")
        assert (blue.people, blue.seats, blue.active) == (1, 1, (0, 1))
        assert blue.points.gini == 0.0
        assert blue.churn[0].leaders == ((), ("cy",))
        assert (blue.churn[0].entrants, blue.churn[0].changes) == ((0, 1), 1)

    def test_unknown_team(self, report: HealthReport) -> None:
        """Asking for a team not in the report raises, naming it."""
        with pytest.raises(ConfigurationError, match="no team called 'green'"):
            report.team("green")


class TestJson:
    def test_sorted_and_rounded(self, report: HealthReport) -> None:
        """The JSON has sorted keys, 6-place floats, a format number and a final newline."""
        text = report.to_json()
        data = json.loads(text)
        assert text.endswith("}\n")
        assert json.dumps(data, sort_keys=True, indent=2) + "\n" == text
        assert data["format"] == 1
        assert data["organisation"]["points"]["gini"] == 0.333333
        assert data["start"] == "2026-01-05T00:00:00+00:00"

    def test_same_records_same_bytes(self) -> None:
        """The same records in another order give byte-identical JSON."""
        first = health_report(RECORDS, population=TEAMS, start=START, days=14)
        again = health_report(reversed(RECORDS), population=TEAMS, start=START, days=14)
        assert again.to_json() == first.to_json()


class TestRanking:
    def test_equal_times_break_ties_by_id(self) -> None:
        """Equal scores reached at the same time rank by person id."""
        records = [record(1, "cy", 1.0, points=5), record(2, "bob", 1.0, points=5)]
        report = health_report(records, population=TEAMS, start=START, days=7, top=2)
        assert report.organisation.churn[0].leaders == (("bob", "cy"),)


class TestValidation:
    def test_naive_start(self) -> None:
        """A naive start is refused, naming the field."""
        with pytest.raises(ConfigurationError, match="start: must be timezone-aware"):
            health_report([], population=TEAMS, start=datetime(2026, 1, 5), days=7)

    def test_too_few_seats(self) -> None:
        """Fewer seats than people is refused."""
        with pytest.raises(ConfigurationError, match="seats: must be at least"):
            health_report([], population=TEAMS, start=START, days=7, seats=2)

    def test_empty_population(self) -> None:
        """An empty population is refused."""
        with pytest.raises(ConfigurationError, match="population: is empty"):
            health_report([], population={}, start=START, days=7)

    @pytest.mark.parametrize("badges", ["unseen", b"unseen", {"unseen": 1}, 5, [None]])
    def test_badges_must_be_a_list_of_ids(self, badges: object) -> None:
        """``badges`` is a list of badge ids: a lone string is not read as its characters."""
        with pytest.raises(ConfigurationError, match="badges: ") as info:
            health_report(RECORDS, population=TEAMS, start=START, days=14, badges=badges)  # type: ignore[arg-type]
        assert (info.value.field, info.value.subject) == ("badges", "health report")

    def test_timezone_as_a_zoneinfo(self) -> None:
        """A ZoneInfo is taken by its key: the same report as with its name."""
        by_zone = health_report(
            RECORDS, population=TEAMS, start=START, days=14, timezone=ZoneInfo("Asia/Tokyo")
        )
        by_name = health_report(
            RECORDS, population=TEAMS, start=START, days=14, timezone="Asia/Tokyo"
        )
        assert by_zone == by_name
        assert by_zone.timezone == "Asia/Tokyo"

    @pytest.mark.parametrize(
        ("timezone", "reason"),
        [("Mars/Olympus", "unknown IANA time zone"), (UTC, "not timezone"), (5, "not int")],
    )
    def test_bad_timezone(self, timezone: object, reason: str) -> None:
        """A time zone that is not a known IANA name or a ZoneInfo with a key is refused,
        naming ``timezone`` of the health report."""
        with pytest.raises(ConfigurationError) as info:
            health_report([], population=TEAMS, start=START, days=7, timezone=timezone)  # type: ignore[arg-type]
        assert (info.value.field, info.value.subject) == ("timezone", "health report")
        assert reason in info.value.reason

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"days": 2.5}, "days: must be an int, got 2.5"),
            ({"days": "7"}, "days: must be an int, got '7'"),
            ({"days": True}, "days: must be an int, got True"),
            ({"days": 0}, "days: must be at least 1"),
            ({"top": 2.5}, "top: must be an int, got 2.5"),
            ({"top": "3"}, "top: must be an int, got '3'"),
            ({"top": 0}, "top: must be at least 1"),
            ({"start": "2026-01-05"}, "start: must be a datetime, got str"),
        ],
    )
    def test_numbers_must_be_ints(self, options: dict[str, object], message: str) -> None:
        """``days`` and ``top`` are whole numbers of at least 1 and ``start`` a datetime:
        anything else is refused naming the field, not a bare TypeError later."""
        arguments: dict[str, object] = {"start": START, "days": 14, **options}
        with pytest.raises(ConfigurationError, match=message) as info:
            health_report(RECORDS, population=TEAMS, **arguments)  # type: ignore[arg-type]
        assert info.value.subject == "health report"

    @pytest.mark.parametrize(
        ("day", "message"),
        [
            (-1, "day: must be between 0 and 14"),
            (15, "day: must be between 0 and 14"),
            (1.5, "day: must be an int, got 1.5"),
            (True, "day: must be an int, got True"),
        ],
    )
    def test_adoption_share_day_checked(self, day: object, message: str) -> None:
        """adoption_share() refuses a day outside 0..days (-1 read the last day) or not
        an int, naming ``day``."""
        figures = health_report(RECORDS, population=TEAMS, start=START, days=14).organisation
        with pytest.raises(ConfigurationError, match=message):
            figures.adoption_share(day)  # type: ignore[arg-type]


class TestLocalDays:
    @pytest.mark.parametrize(
        "start", [datetime(2026, 3, 23), datetime(2026, 10, 19)], ids=["spring", "autumn"]
    )
    def test_days_are_local_calendar_days(self, start: datetime) -> None:
        """Across a daylight-saving change each activity is counted on its local date
        (a 23- or 25-hour day), and the last hour of the run is not left out."""
        berlin = ZoneInfo("Europe/Berlin")
        # Person p<d> first acts at 00:30 local on day d; p13 acts again at 23:30 on day 13.
        moments = [(f"p{day}", start + timedelta(days=day, minutes=30)) for day in range(14)]
        moments.append(("p13", start + timedelta(days=13, hours=23, minutes=30)))
        records = [
            (
                Activity(
                    id=f"a{n}", actor=actor, kind="post.created", at=moment.replace(tzinfo=berlin)
                ),
                Outcome(f"a{n}"),
            )
            for n, (actor, moment) in enumerate(moments)
        ]
        report = health_report(
            records,
            population={f"p{day}": "red" for day in range(14)},
            start=start.replace(tzinfo=berlin),
            days=14,
            timezone="Europe/Berlin",
        )
        assert report.outside == 0
        assert list(report.organisation.adoption) == list(range(15))
