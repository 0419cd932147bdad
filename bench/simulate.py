"""Time a simulated launch: 10,000 people over 180 days on the memory store.

Run from the repository root:

    PYTHONPATH=src python bench/simulate.py [--people 10000] [--days 180] [--runs 3]

Prints the median wall time of ``simulate()`` and of its parts, each beside a
baseline measured in the same run: a raw loop that folds the same activities
into plain dicts (per-person counts, weekly active sets, per-person point
sums), the least any report over them could cost.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from random import Random

from e2badges import FrozenClock, Rewards
from e2badges.simulate import Population, Simulation, default_rules, health_report, simulate
from e2badges.simulate._simulator import _events, _rng  # the run's parts, timed one by one


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    simulation = Simulation(
        population=Population(people=args.people, teams=args.teams), days=args.days
    )
    run = simulate(simulation, seed=args.seed)
    activities = list(run.rewards.store.iter_activities())
    records = [(a, run.rewards.store.get_outcome(a.id)) for a in activities]
    print(
        f"{args.people:,} people, {args.teams} teams, {args.days} days, seed {args.seed}: "
        f"{run.report.organisation.adopters:,} adopters, {len(activities):,} activities; "
        f"median of {args.runs} runs"
    )

    def raw() -> None:
        counts: dict[str, int] = defaultdict(int)
        weekly: dict[int, set[str]] = defaultdict(set)
        points: dict[str, int] = defaultdict(int)
        origin = simulation.start.timestamp()
        for activity, outcome in records:
            counts[activity.actor] += 1
            weekly[int((activity.at.timestamp() - origin) // 604_800)].add(activity.actor)
            for line in outcome.ledger:
                points[line.user] += line.amount

    def adoption() -> None:
        simulation.adoption.adoption_times(
            simulation.population, days=args.days, rng=Random(0), feedback=simulation.feedback
        )

    behaviour = simulation.behaviour
    multipliers = behaviour.multipliers(args.people, _rng(args.seed, "volume"))
    rates = behaviour.contribution_rates(run.tiers, multipliers)

    def events() -> None:
        _events(run.adoption, rates, behaviour.view_rate, args.days, _rng(args.seed, "events"))

    def record_only() -> None:
        rewards = Rewards(
            rules=default_rules(), kinds=simulation.behaviour.kinds, clock=FrozenClock()
        )
        day = 86_400
        batch: list = []
        current = None
        for activity in activities:
            key = int(activity.at.timestamp() // day)
            if key != current and batch:
                rewards.record_many(batch)
                batch = []
            current = key
            batch.append(activity)
        rewards.record_many(batch)

    def report() -> None:
        health_report(
            records, population=simulation.population, start=simulation.start, days=args.days
        )

    baseline = median_time(raw, args.runs)
    rows = [
        ("raw dict loop over the activities (baseline)", baseline),
        ("adoption model (Bass, step 0.25 day)", median_time(adoption, args.runs)),
        ("event generation (Poisson processes, sort)", median_time(events, args.runs)),
        ("record_many of the built activities", median_time(record_only, args.runs)),
        ("health report from the records", median_time(report, args.runs)),
        (
            "simulate(): everything",
            median_time(lambda: simulate(simulation, seed=args.seed), args.runs),
        ),
    ]
    for name, seconds in rows:
        print(f"  {name:<48} {seconds:8.3f} s   {seconds / baseline:7.1f}x baseline")


if __name__ == "__main__":
    main()
