"""The hypothesis strategies draw only valid values, and find real properties of the engine."""

from __future__ import annotations

import importlib
import sys
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import find, given, settings, target
from hypothesis import strategies as st
from pydantic import BaseModel

from e2badges import (
    MAX_KIND_LENGTH,
    Activity,
    ActivityKind,
    FrozenClock,
    MissingDependencyError,
    PointRule,
    Rewards,
)
from e2badges._models import check_identifier, check_kind
from e2badges._periods import parse_window, period_key
from e2badges.testing import strategies as e2st

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)


class Rating(BaseModel):
    stars: int
    comment: str = ""


RATED = Rewards(
    kinds=["comment.created", ActivityKind(name="post.rated", payload=Rating)],
    clock=FrozenClock(START),
)


class TestBuildingBlocks:
    @given(e2st.identifiers(unicode=True, max_size=40))
    def test_unicode_identifiers_are_valid(self, value: str) -> None:
        """Unicode identifiers pass the identifier check."""
        assert check_identifier(value) == value

    @given(e2st.identifiers(), e2st.kinds())
    def test_identifiers_and_kinds_are_valid(self, ident: str, kind: str) -> None:
        """ASCII identifiers and dotted kinds pass their checks."""
        assert check_identifier(ident) == ident
        assert check_kind(kind) == kind

    @given(e2st.aware_datetimes(start=START, end=END, timezones=("UTC", "America/New_York")))
    def test_datetimes_are_aware_and_in_range(self, at: datetime) -> None:
        """Datetimes are aware and fall in [start, end)."""
        assert at.utcoffset() is not None
        assert START <= at < END

    def test_bad_bounds(self) -> None:
        """Naive or empty ranges are refused."""
        with pytest.raises(ValueError, match="start must be timezone-aware"):
            e2st.aware_datetimes(start=datetime(2026, 1, 1))
        with pytest.raises(ValueError, match="end must be after start"):
            e2st.aware_datetimes(start=END, end=START)

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (datetime(1800, 1, 1, tzinfo=UTC), datetime(1801, 1, 1, tzinfo=UTC)),
            (datetime(1899, 12, 31, 23, 59, 59, tzinfo=UTC), START),
            (START, datetime(3000, 1, 1, 0, 0, 1, tzinfo=UTC)),
        ],
    )
    def test_bounds_within_the_at_limits(self, start: datetime, end: datetime) -> None:
        """A range reaching past the limits of ``Activity.at`` is refused when the strategy is
        made (it drew times no activity may have)."""
        with pytest.raises(ValueError, match=r"the limits of Activity\.at"):
            e2st.aware_datetimes(start=start, end=end)
        with pytest.raises(ValueError, match=r"the limits of Activity\.at"):
            e2st.activities(start=start, end=end)

    @given(
        e2st.aware_datetimes(
            start=datetime(1900, 1, 1, tzinfo=UTC),
            end=datetime(3000, 1, 1, tzinfo=UTC),
            timezones=("UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"),
        )
    )
    def test_widest_range_gives_valid_times(self, at: datetime) -> None:
        """The widest range accepted draws only times an activity may have."""
        assert Activity(actor="ann", kind="a.b", at=at).at == at

    @settings(max_examples=300, derandomize=True, database=None)
    @given(e2st.kinds(max_segments=50))
    def test_long_kinds_stay_within_the_limit(self, kind: str) -> None:
        """Many segments never make a kind longer than MAX_KIND_LENGTH: segments past it are
        left out (12 segments of 8 characters were 107 characters, refused by Activity)."""
        target(float(len(kind)))  # steer toward the longest kinds
        assert len(kind) <= MAX_KIND_LENGTH
        assert check_kind(kind) == kind
        assert Activity(actor="ann", kind=kind).kind == kind

    def test_long_kinds_drawn(self) -> None:
        """Leaving segments out still draws kinds near the full length."""
        long = find(
            e2st.kinds(max_segments=50),
            lambda kind: len(kind) > 90,
            settings=settings(max_examples=1000, database=None, derandomize=True),
        )
        assert 90 < len(long) <= MAX_KIND_LENGTH

    @pytest.mark.parametrize("max_segments", [0, 51])
    def test_max_segments_bounded(self, max_segments: int) -> None:
        """A kind holds 1 to 50 segments (of one letter each at most): others are refused."""
        with pytest.raises(ValueError, match="max_segments must be between 1 and 50"):
            e2st.kinds(max_segments=max_segments)

    @pytest.mark.parametrize(
        ("make", "message"),
        [
            (lambda: e2st.activities(kinds=["Not a kind"]), "kinds: 'Not a kind' is not a dotted"),
            (lambda: e2st.activities(kinds="a.b"), "kinds must be a list of names"),
            (lambda: e2st.activity_streams(kinds=["a..b"]), "kinds: 'a..b'"),
            (lambda: e2st.point_rules(kinds=["x" * 101]), "kinds: .* is 101 characters long"),
            (lambda: e2st.rule_sets(currencies=[""]), "currencies: '' must not be empty"),
            (lambda: e2st.rule_sets(kinds=[]), "kinds and currencies must not be empty"),
            (lambda: e2st.populations(teams=["red", "x" * 257]), "teams: .* is 257 characters"),
            (
                lambda: e2st.activity_streams(id_prefix="s" * 254, max_size=101),
                "id_prefix: .* is 257 characters long",
            ),
            (lambda: e2st.activity_streams(id_prefix="\n"), "id_prefix: .*control"),
            (
                lambda: e2st.activity_streams(population={"ann": ("bad\nteam",)}),
                r"population: teams of 'ann': 'bad\\nteam' contains the control character",
            ),
            (
                lambda: e2st.activity_streams(population={"bad\nname": ()}),
                r"population: person 'bad\\nname': contains the control character",
            ),
            (lambda: e2st.activity_streams(population={}), "population must not be empty"),
            (lambda: e2st.caps(windows=["fortnight"]), "windows: 'fortnight': .*unknown window"),
            (lambda: e2st.caps(windows="day"), "windows must be a list of windows"),
            (lambda: e2st.caps(windows=[]), "windows must not be empty"),
            (lambda: e2st.caps(max_amount=-1), "max_amount must be an int of at least 0"),
            (lambda: e2st.point_rules(rule_id="bad\nid"), r"rule_id: 'bad\\nid': contains"),
            (
                lambda: e2st.aware_datetimes(timezones=["UTC", "Mars/Base"]),
                "timezones: 'Mars/Base' is not a known IANA time zone",
            ),
            (
                lambda: e2st.activities(timezones=["Mars/Base"]),
                "timezones: 'Mars/Base' is not a known IANA time zone",
            ),
            (lambda: e2st.aware_datetimes(timezones="UTC"), "timezones must be a list"),
        ],
    )
    def test_invalid_arguments_refused(self, make: Any, message: str) -> None:
        """Arguments that would make a strategy draw invalid values (or fail while drawing)
        are refused with ValueError when it is made."""
        with pytest.raises(ValueError, match=message):
            make()

    @given(e2st.activity_streams(id_prefix="s" * 254, max_size=10, min_size=10))
    def test_longest_id_prefix_accepted(self, stream: list[Activity]) -> None:
        """An id prefix leaving room for the largest index is accepted and its ids are valid."""
        assert [len(a.id) for a in stream][-1] == 255


class TestActivities:
    @given(e2st.activities(RATED, start=START, end=END))
    def test_valid_for_the_configuration(self, activity: Activity) -> None:
        """Activities use the declared kinds, match their payload, and validate."""
        assert activity.kind in {"comment.created", "post.rated"}
        RATED.engine.validate(activity)
        if activity.kind == "post.rated":
            assert set(activity.attributes) == {"stars", "comment"}
        assert activity.at is not None
        assert START <= activity.at < END

    @given(e2st.activities(kinds=["a.b"], actors=st.just("ann"), values=st.just(None)))
    def test_narrowed_fields(self, activity: Activity) -> None:
        """Given strategies narrow the fields they name."""
        assert (activity.kind, activity.actor, activity.value) == ("a.b", "ann", None)

    def test_rewards_without_kinds(self) -> None:
        """A Rewards instance that accepts nothing has no valid activities."""
        with pytest.raises(ValueError, match="declares no kinds"):
            e2st.activities(Rewards())


class TestStreams:
    @given(e2st.activity_streams(RATED, start=START, end=END, max_size=20))
    def test_ordered_unique_and_recordable(self, stream: list[Activity]) -> None:
        """Streams are in time order with unique ids, and record in full."""
        times = [a.at for a in stream]
        assert times == sorted(times)  # type: ignore[type-var]
        assert len({a.id for a in stream}) == len(stream)
        rewards = Rewards(kinds=RATED.engine.kinds.values(), clock=FrozenClock(START))
        rewards.record_many(stream)
        assert rewards.store.count_activities() == len(stream)

    @given(e2st.activity_streams(population={"ann": ("red",), "bob": ()}, kinds=["x.y"]))
    def test_population_members_and_teams(self, stream: list[Activity]) -> None:
        """Actors and recipients come from the population; teams are the actor's."""
        teams = {"ann": ("red",), "bob": ()}
        for activity in stream:
            assert activity.teams == teams[activity.actor]
            assert activity.recipient in (None, "ann", "bob")

    @given(
        e2st.rule_sets(kinds=["x.y"], min_size=1),
        e2st.activity_streams(kinds=["x.y"], duplicates=True, min_size=1, max_size=15),
    )
    def test_redelivery_changes_nothing(
        self, rules: tuple[PointRule, ...], stream: list[Activity]
    ) -> None:
        """Recording a stream with re-deliveries gives the balances of each activity once."""
        once: dict[str, Activity] = {a.id: a for a in stream}
        retried = Rewards(rules=rules, clock=FrozenClock(START))
        clean = Rewards(rules=rules, clock=FrozenClock(START))
        retried.record_many(stream)
        clean.record_many(list(once.values()))
        people = {a.actor for a in stream} | {a.recipient for a in stream if a.recipient}
        assert {p: retried.balance(p) for p in people} == {p: clean.balance(p) for p in people}
        assert retried.store.count_activities() == len(once)


class TestRuleSets:
    @given(
        e2st.rule_sets(shared_caps=True, max_size=3),
        e2st.activity_streams(max_size=25, timezones=("UTC", "Asia/Kolkata")),
        st.sampled_from(["UTC", "Europe/Paris"]),
    )
    def test_caps_hold_and_balances_add_up(
        self, rules: tuple[PointRule, ...], stream: list[Activity], timezone: str
    ) -> None:
        """Drawn rule sets build; no cap or once-per-object limit is passed; balances add up."""
        rewards = Rewards(
            rules=rules, clock=FrozenClock(START), timezone=timezone, accept_any_kind=True
        )
        outcomes = rewards.record_many(stream)
        tz = ZoneInfo(timezone)
        by_id = {a.id: a for a in stream}
        budget = {
            cap.name or f"{r.id}/{cap.window}/{cap.per}": cap for r in rules for cap in r.caps
        }
        # Positive, non-bonus credits per calendar period, and per local day for rolling caps.
        periods: dict[tuple[str, ...], int] = defaultdict(int)
        daily: dict[tuple[str, ...], dict[date, int]] = defaultdict(lambda: defaultdict(int))
        totals: dict[tuple[str, str], int] = defaultdict(int)
        once: dict[tuple[str, str, str], int] = defaultdict(int)
        for outcome in outcomes:
            activity = by_id[outcome.activity_id]
            assert activity.at is not None
            local = activity.at.astimezone(tz).date()
            for line in outcome.ledger:
                totals[line.user, line.currency] += line.amount
                if line.bonus or line.amount <= 0:
                    continue
                rule = rewards.engine.rules[line.rule]
                if rule.once_per_object and activity.object is not None:
                    once[rule.id, line.user, activity.object] += 1
                other = (activity.recipient or "") if line.role == "actor" else activity.actor
                for cap in rule.caps:
                    if cap.per == "object" and activity.object is None:
                        continue  # a cap per object does not limit activities without one
                    owner = cap.name or f"{rule.id}/{cap.window}/{cap.per}"
                    part = {"person": "", "pair": other, "object": activity.object or ""}[cap.per]
                    window = parse_window(cap.window)
                    if window.kind == "rolling":
                        daily[owner, line.user, part][local] += line.amount
                    else:
                        periods[owner, line.user, part, period_key(window.kind, local)] += (
                            line.amount
                        )
        for key, spent in periods.items():
            assert spent <= budget[key[0]].amount, key
        for key, days in daily.items():
            width = parse_window(budget[key[0]].window).days
            for day in days:
                # The rolling window of a day is that day and the width - 1 days before it.
                spent = sum(days.get(day - timedelta(days=back), 0) for back in range(width))
                assert spent <= budget[key[0]].amount, key
        for (user, currency), total in totals.items():
            assert rewards.balance(user, currency) == total
        assert all(count == 1 for count in once.values())


class TestWithoutHypothesis:
    def test_missing_hypothesis_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Importing the strategies without hypothesis raises, naming the extra to install."""
        monkeypatch.setitem(sys.modules, "hypothesis", None)
        monkeypatch.delitem(sys.modules, "e2badges.testing.strategies")
        with pytest.raises(MissingDependencyError, match=r'pip install "e2badges\[hypothesis\]"'):
            importlib.import_module("e2badges.testing.strategies")
