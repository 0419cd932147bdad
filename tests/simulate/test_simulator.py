"""The simulator: seeded runs through a real Rewards instance."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import e2badges
from e2badges import (
    Activity,
    ConfigurationError,
    CountMetric,
    FrozenClock,
    Leaderboard,
    PointRule,
    Rewards,
    StoryOptions,
    SystemClock,
)
from e2badges.simulate import (
    Bass,
    HealthReport,
    Population,
    Simulation,
    SimulationRun,
    default_rules,
    simulate,
)
from e2badges.storage import MemoryStore

SMALL = Simulation(
    population=Population(people=300, teams=3, seats=400),
    adoption=Bass(p=0.01, q=0.2, step=0.5),
    days=42,
)


@pytest.fixture(scope="module")
def run() -> SimulationRun:
    return simulate(SMALL, seed=7)


class TestDeterminism:
    def test_same_seed_same_bytes(self, run: SimulationRun) -> None:
        """The same seed gives a byte-identical JSON report."""
        assert simulate(SMALL, seed=7).report.to_json() == run.report.to_json()

    def test_other_seed_other_run(self, run: SimulationRun) -> None:
        """Another seed gives another run."""
        assert simulate(SMALL, seed=8).report.to_json() != run.report.to_json()

    def test_global_random_untouched(self, run: SimulationRun) -> None:
        """A run neither reads nor moves the global random generator."""
        random.seed(1)
        expected = random.random()
        random.seed(1)
        simulate(SMALL, seed=3)
        assert random.random() == expected


class TestRecording:
    def test_every_activity_is_recorded(self, run: SimulationRun) -> None:
        """Every generated activity is in the Rewards store, each adopter's first a view."""
        store = run.rewards.store
        assert store.count_activities() == run.activities > 0
        first: dict[str, str] = {}
        for activity in store.iter_activities():
            first.setdefault(activity.actor, activity.kind)
        assert set(first.values()) == {"page.viewed"}
        assert len(first) == run.report.organisation.adopters

    def test_points_come_from_the_rules(self, run: SimulationRun) -> None:
        """The report's points total is the sum of the balances the Rewards instance holds."""
        ids = run.simulation.population.ids()
        total = sum(max(run.rewards.balance(person), 0) for person in ids)
        assert run.report.organisation.points.total == total > 0

    def test_clock_advanced(self, run: SimulationRun) -> None:
        """The run leaves the clock at its last activity."""
        last = max(a.at for a in run.rewards.store.iter_activities() if a.at is not None)
        assert run.rewards.clock.now() == last

    def test_adoption_matches_the_model(self, run: SimulationRun) -> None:
        """The report's adopters are exactly the people the model made adopt."""
        adopted = [t for t in run.adoption if t is not None]
        assert run.report.organisation.adopters == len(adopted)
        assert run.report.organisation.seats == 400

    def test_report_from_the_store_matches(self, run: SimulationRun) -> None:
        """Recomputing the report from the store's log gives the same figures."""
        again = HealthReport.from_rewards(
            run.rewards, population=SMALL.population, start=SMALL.start, days=SMALL.days
        )
        assert again.organisation == run.report.organisation
        assert again.teams == run.report.teams


class TestArguments:
    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"top": 2.5}, "top: must be an int, got 2.5"),
            ({"top": "3"}, "top: must be an int, got '3'"),
            ({"top": 0}, "top: must be at least 1"),
        ],
    )
    def test_refused_before_anything_is_recorded(
        self, options: dict[str, object], message: str
    ) -> None:
        """A bad ``top`` is refused naming it, before the run records anything."""
        store = MemoryStore()
        with pytest.raises(ConfigurationError, match=message) as info:
            simulate(SMALL, seed=1, store=store, **options)  # type: ignore[arg-type]
        assert info.value.subject == "simulate"
        assert store.count_activities() == 0

    def test_simulation_must_be_a_simulation(self) -> None:
        """Something other than a Simulation is refused, naming ``simulation``."""
        with pytest.raises(ConfigurationError, match="simulation: must be a Simulation"):
            simulate({"days": 7}, seed=1)  # type: ignore[arg-type]


class TestRewardsChoice:
    def test_given_rewards_is_used(self) -> None:
        """A given Rewards instance records the run and its FrozenClock is advanced."""
        clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
        store = MemoryStore()
        rewards = Rewards(store, rules=default_rules(), kinds=SMALL.behaviour.kinds, clock=clock)
        run = simulate(SMALL, seed=1, rewards=rewards)
        assert run.rewards is rewards
        assert store.count_activities() == run.activities
        assert clock.now() > SMALL.start

    def test_store_url_and_rules(self) -> None:
        """A store URL and rules build a new Rewards instance with those rules."""
        rules = [PointRule(id="view", kind="page.viewed", actor_points=1)]
        run = simulate(SMALL, seed=1, store="memory://", rules=rules)
        assert list(run.rewards.engine.rules) == ["view"]
        # One point per view: the points total is the number of views by people in the run.
        views = sum(1 for a in run.rewards.store.iter_activities() if a.kind == "page.viewed")
        assert run.report.organisation.points.total == views

    def test_rewards_and_store_refused(self) -> None:
        """Giving both a Rewards instance and a store is refused."""
        rewards = Rewards(accept_any_kind=True, clock=FrozenClock())
        with pytest.raises(ConfigurationError, match="rewards: give a Rewards instance, or"):
            simulate(SMALL, seed=1, rewards=rewards, store="memory://")

    def test_wall_clock_refused(self) -> None:
        """A Rewards instance on the wall clock is refused: the run must move its clock."""
        rewards = Rewards(accept_any_kind=True, clock=SystemClock())
        with pytest.raises(ConfigurationError, match=r"clock: .* must be a FrozenClock"):
            simulate(SMALL, seed=1, rewards=rewards)

    def test_missing_kind_refused(self) -> None:
        """A Rewards instance that does not accept a kind the behaviour records is refused."""
        rewards = Rewards(kinds=["page.viewed"], clock=FrozenClock())
        with pytest.raises(ConfigurationError, match=r"does not accept kind 'post\.created'"):
            simulate(SMALL, seed=1, rewards=rewards)

    def test_seed_must_be_an_int(self) -> None:
        """A seed that is not an int is refused."""
        with pytest.raises(ConfigurationError, match="seed: must be an int"):
            simulate(SMALL, seed="7")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            # A lone string was read as its characters: badges 'f', 'i', 'r', ...
            ({"badges": "first-post"}, "badges: must be a list of badge ids .* not str"),
            ({"badges": {"first-post": 1}}, "badges: must be a list of badge ids .* not dict"),
            ({"badges": [1]}, "badges: badge id 1: must be a string"),
            ({"badges": [""]}, "badges: badge id '': must not be empty"),
            # A lone rule iterated as its fields (AttributeError).
            (
                {"rules": PointRule(id="p", kind="post.created", actor_points=1)},
                "rules: must be a list of PointRules .* not PointRule",
            ),
            ({"rules": "post"}, "rules: must be a list of PointRules .* not str"),
            ({"rules": ["post"]}, "rules: expected PointRule, got str"),
        ],
    )
    def test_list_arguments_checked(self, options: dict[str, object], message: str) -> None:
        """``badges`` and ``rules`` must be lists (a string, a mapping or one rule is refused,
        naming the argument), before anything runs."""
        with pytest.raises(ConfigurationError, match=message) as info:
            simulate(SMALL, seed=1, **options)  # type: ignore[arg-type]
        assert (info.value.field, info.value.subject) == (next(iter(options)), "simulate")

    def test_badges_listed(self) -> None:
        """The badges given are listed in the report, earned or not, by their whole ids."""
        small = Simulation(population=Population(people=20), days=7)
        run = simulate(small, seed=1, badges=("first-post", "never"))
        assert {"first-post", "never"} <= {b.badge for b in run.report.organisation.badges}


class TestSimulation:
    def test_weeks_follow_the_time_zone(self) -> None:
        """Weeks are labelled in the simulation's time zone."""
        start = datetime(2026, 1, 5, tzinfo=UTC) - timedelta(hours=1)  # Monday 00:00 in Paris
        simulation = Simulation(
            population=Population(people=20), days=14, start=start, timezone="Europe/Paris"
        )
        report = simulate(simulation, seed=1).report
        assert (report.timezone, report.organisation.weeks) == (
            "Europe/Paris",
            ("2026-W02", "2026-W03"),
        )

    def test_each_local_day_is_recorded_before_it_is_over(self) -> None:
        """Each local day is one batch, recorded at its last activity: no activity is late,
        so every local day with posts tells who took the lead of a daily board."""
        simulation = Simulation(  # UTC days are Auckland's 13:00 to 13:00
            population=Population(people=300, teams=3, seats=400),
            adoption=Bass(p=0.05, q=0.2, step=0.5),
            days=14,
            timezone="Pacific/Auckland",
        )
        rewards = Rewards(
            rules=default_rules(),
            kinds=simulation.behaviour.kinds,
            leaderboards=(
                Leaderboard(id="daily", metric=CountMetric(kind="post.created"), windows=("day",)),
            ),
            stories=StoryOptions(leaders=("daily",)),
            timezone="Pacific/Auckland",
            clock=FrozenClock(simulation.start),
            load_entrypoints=False,
        )
        run = simulate(simulation, seed=1, rewards=rewards)
        zone = ZoneInfo("Pacific/Auckland")
        days = {
            a.at.astimezone(zone).date().isoformat()
            for a in run.rewards.store.iter_activities()
            if a.kind == "post.created" and a.at is not None
        }
        told = {s.data["period"] for s in run.rewards.feed(limit=1000) if s.kind == "leader"}
        assert len(days) > 5
        assert told == days

    def test_activity_times_at_a_fixed_offset(self) -> None:
        """A simulation started in a zone (Europe/Paris, across the March DST change)
        records its activities at each one's UTC offset (+01:00, then +02:00), as a
        fixed-offset ``datetime.timezone``, as every store returns activity times."""
        paris = ZoneInfo("Europe/Paris")
        simulation = Simulation(
            population=Population(people=300, teams=3, seats=400),
            adoption=Bass(p=0.05, q=0.2, step=0.5),
            days=42,
            start=datetime(2026, 3, 2, tzinfo=paris),
            timezone="Europe/Paris",
        )
        run = simulate(simulation, seed=1)
        times = [a.at for a in run.rewards.store.iter_activities() if a.at is not None]
        offsets = {(type(t.tzinfo), t.utcoffset()) for t in times}
        assert offsets == {(timezone, timedelta(hours=1)), (timezone, timedelta(hours=2))}

    @pytest.mark.parametrize(
        ("timezone", "reason"),
        [
            ("Mars/Olympus", "unknown IANA time zone 'Mars/Olympus'"),
            ("Europe", "unknown IANA time zone 'Europe'"),
            (UTC, "not timezone"),
            (5, "not int"),
        ],
    )
    def test_bad_time_zone(self, timezone: object, reason: str) -> None:
        """A time zone that is not a known IANA name or a ZoneInfo with a key is
        refused, naming the field once."""
        with pytest.raises(ConfigurationError) as info:
            Simulation(timezone=timezone)
        assert (info.value.subject, info.value.field) == ("Simulation", "timezone")
        assert info.value.reason.startswith(("unknown", "must be"))
        assert reason in info.value.reason

    def test_time_zone_as_a_zoneinfo(self) -> None:
        """A ZoneInfo is taken by its key, kept as the name (the model stays plain data)."""
        assert Simulation(timezone=ZoneInfo("Asia/Kolkata")).timezone == "Asia/Kolkata"

    def test_population_errors(self) -> None:
        """Fewer seats than people, or more teams than people, are refused."""
        with pytest.raises(ConfigurationError, match="Population: seats: 9 seats is fewer"):
            Population(people=10, seats=9)
        with pytest.raises(ConfigurationError, match="Population: teams: 11 teams for 10"):
            Population(people=10, teams=11)

    @pytest.mark.parametrize(
        ("options", "field", "match"),
        [
            ({"start": datetime(2999, 6, 7, tzinfo=UTC), "days": 400}, "days", "before 3000"),
            ({"start": datetime(2999, 12, 31, 1, tzinfo=UTC), "days": 1}, "days", "before 3000"),
            ({"start": datetime(1899, 12, 31, tzinfo=UTC)}, "start", "from 1900-01-01"),
            (
                {"start": datetime(2026, 1, 5, tzinfo=timezone(timedelta(microseconds=500)))},
                "start",
                "whole number of seconds",
            ),
            ({"start": 1767571200}, "start", "not int"),
            ({"start": "1767571200"}, "start", "not an ISO 8601 date and time"),
            ({"start": "2026-01-05T00:00:00"}, "start", "has no UTC offset"),
        ],
    )
    def test_times_held_to_at_limits(
        self, options: dict[str, object], field: str, match: str
    ) -> None:
        """A start, or a start plus days, outside the limits of Activity.at is refused.

        The simulator records activities without validating each, so the
        configuration is held to the limits before anything runs.
        """
        with pytest.raises(ConfigurationError, match=match) as info:
            Simulation(population=Population(people=20), **options)  # type: ignore[arg-type]
        assert (info.value.subject, info.value.field) == ("Simulation", field)

    def test_start_from_iso_text(self) -> None:
        """A start given as ISO 8601 text with a UTC offset (a configuration file) is read."""
        start = Simulation(start="2026-01-05T01:00:00+01:00").start  # type: ignore[arg-type]
        assert start == datetime(2026, 1, 5, tzinfo=UTC)

    def test_prefix_and_index_within_identifier_limit(self) -> None:
        """A prefix that with the widest index makes ids longer than 256 characters is refused."""
        with pytest.raises(ConfigurationError, match="ids would be 257 characters") as info:
            Population(people=30, teams=2, prefix="p" * 255)
        assert (info.value.subject, info.value.field) == ("Population", "prefix")
        assert max(map(len, Population(people=10, prefix="p" * 255).ids())) == 256

    def test_seed_digits_bounded(self) -> None:
        """A seed so long that the ids made from it would pass the limit is refused."""
        with pytest.raises(ConfigurationError, match="seed: has 301 digits"):
            simulate(SMALL, seed=10**300)

    def test_run_at_the_limits_stores_valid_activities(self) -> None:
        """A run up to the last day before 3000 with ids of 256 characters stores only
        activities that pass validation (the simulator skips it, the configuration does not)."""
        simulation = Simulation(
            population=Population(people=10, prefix="p" * 255),
            adoption=Bass(p=0.2, q=0.2, step=0.5),
            start=datetime(2999, 12, 25, tzinfo=UTC),
            days=7,
        )
        run = simulate(simulation, seed=1)
        stored = list(run.rewards.store.iter_activities())
        assert stored
        assert max(len(a.actor) for a in stored) == 256
        for activity in stored:
            assert Activity(**activity.model_dump()) == activity

    def test_population_names(self) -> None:
        """People are named in order and split into contiguous teams of near-equal size."""
        population = Population(people=5, teams=("red", "blue"))
        assert population.ids() == ("u0", "u1", "u2", "u3", "u4")
        assert population.team_of() == (0, 0, 0, 1, 1)
        assert Population(people=12, teams=3).team_names() == ("team-01", "team-02", "team-03")


class TestAcrossProcesses:
    def test_hash_seed_does_not_matter(self) -> None:
        """Two processes with different string-hash seeds write byte-identical reports."""
        code = (
            "import sys\n"
            "from e2badges.simulate import Bass, Population, Simulation, simulate\n"
            "s = Simulation(population=Population(people=300, teams=3, seats=400), "
            "adoption=Bass(p=0.01, q=0.2, step=0.5), days=42)\n"
            "sys.stdout.write(simulate(s, seed=7).report.to_json())\n"
        )
        src = str(Path(e2badges.__file__).parents[1])
        outputs = []
        for hash_seed in ("1", "2"):
            env = {**os.environ, "PYTHONPATH": src, "PYTHONHASHSEED": hash_seed}
            done = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, check=True
            )
            outputs.append(hashlib.sha256(done.stdout).hexdigest())
        assert outputs[0] == outputs[1]
        assert simulate(SMALL, seed=7).report.to_json().encode() == done.stdout


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(
    scope="module",
    params=[datetime(2026, 3, 23, tzinfo=BERLIN), datetime(2026, 10, 19, tzinfo=BERLIN)],
    ids=["spring", "autumn"],
)
def dst_run(request: pytest.FixtureRequest) -> SimulationRun:
    """A 14-day run from a Monday at local midnight across a daylight-saving change."""
    simulation = Simulation(
        population=Population(people=300, teams=3),
        adoption=Bass(p=0.05, q=0.3),
        days=14,
        start=request.param,
        timezone="Europe/Berlin",
    )
    return simulate(simulation, seed=1)


class TestLocalDays:
    """A run's days are local calendar days of its time zone, in the simulator and in
    its report alike, across daylight-saving changes."""

    def test_report_counts_every_activity(self, dst_run: SimulationRun) -> None:
        """The run's own report leaves out no activity and counts every adopter."""
        adopters = sum(1 for day in dst_run.adoption if day is not None)
        assert dst_run.report.outside == 0
        assert dst_run.report.organisation.adopters == adopters

    def test_times_run_forward_and_exist(self, dst_run: SimulationRun) -> None:
        """Activities in event order never go back in time, and each is at a local time
        that exists (the same wall clock after a round trip through UTC)."""
        activities = sorted(
            dst_run.rewards.store.iter_activities(), key=lambda a: int(a.id.split("-")[1])
        )
        # In UTC: datetimes of one zone compare by wall clock, fold ignored.
        times = [activity.at.astimezone(UTC) for activity in activities if activity.at]
        assert times == sorted(times)
        for moment in times:
            local = moment.astimezone(BERLIN)
            assert local.astimezone(UTC).astimezone(BERLIN).replace(tzinfo=None) == (
                local.replace(tzinfo=None)
            )

    def test_adoption_day_is_the_local_day(self, dst_run: SimulationRun) -> None:
        """Each adopter's first activity falls on the local date of their adoption day,
        and the report counts them as adopted by the end of that day."""
        start = dst_run.simulation.start.astimezone(BERLIN).date()
        first: dict[str, datetime] = {}
        for activity in dst_run.rewards.store.iter_activities():
            assert activity.at is not None
            if activity.actor not in first or activity.at < first[activity.actor]:
                first[activity.actor] = activity.at
        ids = dst_run.simulation.population.ids()
        by_day = [0] * (dst_run.simulation.days + 1)
        for person, adopted in enumerate(dst_run.adoption):
            if adopted is None:
                continue
            local_day = (first[ids[person]].astimezone(BERLIN).date() - start).days
            assert local_day == int(adopted)
            by_day[local_day + 1] += 1
        cumulative = [sum(by_day[: d + 1]) for d in range(len(by_day))]
        assert list(dst_run.report.organisation.adoption) == cumulative
