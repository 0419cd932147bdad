"""Time adoption() and feed() on a year of simulated activity, beside a raw baseline.

Run from the repository root:

    PYTHONPATH=src python bench/adoption.py [--store URL] [--people 10000] [--days 365]

The organisation (``e2badges.simulate``: 10,000 people in 20 teams by default,
a year of activity, badges and milestone stories) is recorded into the store
given by URL (``memory://`` by default; ``sqlite:///path`` or
``postgresql+psycopg://...`` for the SQL store).  Then each query is timed
(median of ``--runs``) beside the equivalent raw work measured in the same run:

- memory store: one plain loop over the activity log computing a period's
  figures (distinct active people per day, week and month, activities per
  person, per kind and per team), and a slice of a time-sorted story list;
- SQL store: the raw SQL a hand-written report would send over the
  activities table (``COUNT(DISTINCT actor)`` per UTC day, per kind and per
  person for the period), and the newest 20 stories by their index.

The periods are the last whole month of the simulation (the ``month`` and
``week`` rows are set against its baseline) and its last 365 days (the
``365d`` and calendar ``year`` rows are set against that baseline).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from e2badges import Badge, FrozenClock, Rewards, StoryOptions, criteria
from e2badges.simulate import Behaviour, Population, Simulation, default_rules, simulate
from e2badges.storage import MemoryStore


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build(url: str, people: int, teams: int, days: int, seed: int) -> tuple[Rewards, Simulation]:
    behaviour = Behaviour()
    simulation = Simulation(population=Population(people=people, teams=teams), days=days)
    rules = default_rules(behaviour)
    rewards = Rewards(
        url,
        rules=rules,
        kinds=[behaviour.view_kind, behaviour.post_kind, behaviour.comment_kind],
        badges=(
            Badge(id="first-post", criterion=criteria.Count(kind=behaviour.post_kind), threshold=1),
            Badge(
                id="regular",
                criterion=criteria.Streak(kind=behaviour.view_kind, period="week"),
                threshold=4,
            ),
        ),
        stories=StoryOptions(milestones=(behaviour.post_kind,)),
        seats=people,
        contributing=(behaviour.post_kind, behaviour.comment_kind),
        clock=FrozenClock(simulation.start),
        load_entrypoints=False,
    )
    simulate(simulation, seed=seed, rewards=rewards)
    return rewards, simulation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="memory://")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    rewards, simulation = build(args.store, args.people, args.teams, args.days, args.seed)
    store = rewards.store
    count = store.count_activities()
    end = simulation.start + timedelta(days=args.days - 1)
    # The last whole month, and the calendar year holding most of the simulation.
    month_end = (
        end if (end + timedelta(days=1)).day == 1 else end.replace(day=1) - timedelta(days=1)
    )
    month = month_end.strftime("%Y-%m")
    year = (end - timedelta(days=args.days // 2)).strftime("%Y")
    print(
        f"{args.store}: {args.people:,} people, {args.days} days, {count:,} activities "
        f"(built in {time.perf_counter() - started:.0f} s); median of {args.runs} runs"
    )

    # The periods' bounds in UTC (the simulation's time zone), for the baselines.
    first = datetime.fromisoformat(f"{month}-01").replace(tzinfo=UTC)
    after = (first + timedelta(days=32)).replace(day=1)
    year_after = datetime.combine(end.date() + timedelta(days=1), datetime.min.time(), UTC)
    spans = {"month": (first, after), "year": (year_after - timedelta(days=365), year_after)}

    if isinstance(store, MemoryStore):
        log = list(store.iter_activities())
        stories = sorted(
            (s for a in log for s in (store.get_outcome(a.id) or _none).stories),
            key=lambda s: s.at,
        )

        def raw_period(first: datetime, after: datetime) -> object:
            days: dict[str, set[str]] = defaultdict(set)
            weeks: dict[str, set[str]] = defaultdict(set)
            active: set[str] = set()
            people: dict[str, int] = defaultdict(int)
            kinds: dict[str, int] = defaultdict(int)
            teams: dict[str, int] = defaultdict(int)
            for a in log:
                at = a.at
                assert at is not None
                if first <= at < after:
                    day = at.date()
                    days[day.isoformat()].add(a.actor)
                    iso = day.isocalendar()
                    weeks[f"{iso.year}-W{iso.week:02d}"].add(a.actor)
                    active.add(a.actor)
                    people[a.actor] += 1
                    kinds[a.kind] += 1
                    for team in a.teams:
                        teams[team] += 1
            return days, weeks, active, sorted(people.values()), kinds, teams

        def raw_feed() -> object:
            return stories[-20:][::-1]

        baselines = {
            key: ("raw loop over the log", lambda span=span: raw_period(*span))
            for key, span in spans.items()
        }
        baselines["feed"] = ("list slice", raw_feed)
    else:
        engine = store.engine  # type: ignore[attr-defined]
        prefix = store.table_prefix  # type: ignore[attr-defined]
        day_us = 86_400_000_000

        def raw_period(first: datetime, after: datetime) -> object:
            lo, hi = int(first.timestamp() * 1e6), int(after.timestamp() * 1e6)
            with engine.connect() as conn:
                by_day = conn.execute(
                    text(
                        f"SELECT at_us / {day_us}, COUNT(DISTINCT actor) FROM {prefix}activities "
                        "WHERE at_us >= :lo AND at_us < :hi GROUP BY at_us / " + str(day_us)
                    ),
                    {"lo": lo, "hi": hi},
                ).all()
                by_kind = conn.execute(
                    text(
                        f"SELECT kind, COUNT(*), COUNT(DISTINCT actor) FROM {prefix}activities "
                        "WHERE at_us >= :lo AND at_us < :hi GROUP BY kind"
                    ),
                    {"lo": lo, "hi": hi},
                ).all()
                by_actor = conn.execute(
                    text(
                        f"SELECT actor, COUNT(*) FROM {prefix}activities "
                        "WHERE at_us >= :lo AND at_us < :hi GROUP BY actor"
                    ),
                    {"lo": lo, "hi": hi},
                ).all()
            return by_day, by_kind, by_actor

        def raw_feed() -> object:
            with engine.connect() as conn:
                return conn.execute(
                    text(
                        f"SELECT story FROM {prefix}stories WHERE tenant = :tenant "
                        "ORDER BY at_us DESC, seq DESC LIMIT 20"
                    ),
                    {"tenant": store.tenant},
                ).all()

        baselines = {
            key: ("raw SQL over activities", lambda span=span: raw_period(*span))
            for key, span in spans.items()
        }
        baselines["feed"] = ("raw SQL", raw_feed)

    team = f"team:{simulation.population.team_names()[0]}"
    rows = [
        (
            "adoption(window='month')",
            "month",
            lambda: rewards.adoption(window="month", period=month),
        ),
        (
            "adoption(window='week')",
            "month",
            lambda: rewards.adoption(window="week", period=month_end),
        ),
        ("adoption(window='365d')", "year", lambda: rewards.adoption(window="365d", period=end)),
        ("adoption(window='year')", "year", lambda: rewards.adoption(window="year", period=year)),
        ("feed(limit=20)", "feed", lambda: rewards.feed(limit=20)),
        ("feed(scope=team, limit=20)", "feed", lambda: rewards.feed(scope=team, limit=20)),
    ]
    measured = {key: median_time(fn, args.runs) for key, (_, fn) in baselines.items()}
    for key, (label, _) in baselines.items():
        print(f"  baseline for {key:<6} {label:<28} {measured[key] * 1e3:10.1f} ms")
    for label, key, fn in rows:
        took = median_time(fn, args.runs)
        print(f"  {label:<36} {took * 1e3:10.1f} ms   {took / measured[key]:7.2f}x baseline")
    report = rewards.adoption(window="month", period=month)
    print(
        f"  {month}: {report.active:,} active of {report.seats:,} seats, "
        f"{report.contributors:,} contributors, top 10 % did {report.top10_share or 0:.0%}"
    )
    rewards.close()


class _None:
    stories = ()


_none = _None()


if __name__ == "__main__":
    main()
