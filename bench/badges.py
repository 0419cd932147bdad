"""What badges and levels cost on the record path, against a raw dict loop.

Run:  PYTHONPATH=src python bench/badges.py [--events N] [--repeat R]

Records the same stream (people commenting, answering and viewing pages over 60
days) through MemoryStore with record_many in batches of 1,000, under:

- ``points``: two point rules, no badges;
- ``badges``: the same rules, 10 badges of every measured kind, a "first", an
  all-of, and a level ladder;
- ``idle badges``: the rules and 50 badges that listen to kinds never recorded
  (dispatch by kind: they should cost nothing).

Prints the median rate of each and its ratio to a raw dict loop (one dict update
per event) measured in the same run, and the ratio of each setup to ``points``.
Times are CPU times of this process (``time.process_time``), so other work on the
machine disturbs them less; runs go round robin.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from e2badges import Activity, Badge, Level, PointRule, Rewards, Tier, criteria
from e2badges.storage import MemoryStore

KINDS = ("comment.created", "answer.created", "page.viewed")
RULES = [
    PointRule(id="comment", kind="comment.created", actor_points=2),
    PointRule(id="answer", kind="answer.created", actor_points=10),
]
TIERS = [
    Tier(id="bronze", threshold=5),
    Tier(id="silver", threshold=25),
    Tier(id="gold", threshold=100),
]
BADGES = [
    Badge(id="commenter", criterion=criteria.Count(kind="comment.created"), tiers=TIERS),
    Badge(id="reader", criterion=criteria.Sum(kind="page.viewed"), threshold=500),
    Badge(id="wide", criterion=criteria.Distinct(kind="page.viewed"), threshold=50),
    Badge(id="days", criterion=criteria.Distinct(kind=KINDS[:2], of="day"), threshold=20),
    Badge(id="streak", criterion=criteria.Streak(kind=KINDS[:2], grace=1), threshold=7),
    Badge(id="burst", criterion=criteria.Rolling(kind="answer.created", days=7), threshold=5),
    Badge(id="weekly", criterion=criteria.Count(kind="answer.created"), threshold=3, repeat="week"),
    Badge(id="rich", criterion=criteria.Points(), threshold=500),
    Badge(id="pioneer", criterion=criteria.First(kind="answer.created")),
    Badge(id="pillar", criterion=criteria.AllOf(badges=("commenter", "rich"))),
]
LEVELS = [Level(id=f"l{i}", threshold=t) for i, t in enumerate((0, 50, 200, 1000))]
IDLE = [
    Badge(id=f"idle{i}", criterion=criteria.Count(kind=f"other.kind{i}"), threshold=3)
    for i in range(50)
]


def stream(events: int, people: int, seed: int = 7) -> list[Activity]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    out = []
    for i in range(events):
        kind = rng.choices(KINDS, weights=(5, 2, 10))[0]
        out.append(
            Activity(
                id=f"e{i}",
                actor=f"u{rng.randrange(people)}",
                kind=kind,
                object=f"p{rng.randrange(1000)}",
                value=1.0 if kind == "page.viewed" else None,
                at=start + timedelta(seconds=i * 60 * 24 * 60 * 60 // events),
            )
        )
    return out


def raw_loop(activities: Sequence[Activity]) -> None:
    totals: dict[str, int] = {}
    for a in activities:
        totals[a.actor] = totals.get(a.actor, 0) + 1


def record(setup: Callable[[], Rewards], activities: Sequence[Activity]) -> None:
    rewards = setup()
    for i in range(0, len(activities), 1000):
        rewards.record_many(activities[i : i + 1000])


def median_rates(runs: dict[str, Callable[[], None]], events: int, repeat: int) -> dict[str, float]:
    """Time every run ``repeat`` times, round robin (so drift hits all alike); median rates."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            began = time.process_time()
            run()
            times[name].append(time.process_time() - began)
    return {name: events / statistics.median(spent) for name, spent in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    activities = stream(args.events, args.people)
    kinds = [*KINDS, *{b.criterion.kind for b in IDLE}]  # type: ignore[union-attr]
    setups: dict[str, Callable[[], Rewards]] = {
        "points": lambda: Rewards(MemoryStore(), rules=RULES, kinds=kinds),
        "badges": lambda: Rewards(
            MemoryStore(), rules=RULES, badges=BADGES, levels=LEVELS, kinds=kinds
        ),
        "idle badges": lambda: Rewards(MemoryStore(), rules=RULES, badges=IDLE, kinds=kinds),
    }
    runs: dict[str, Callable[[], None]] = {"raw dict loop": lambda: raw_loop(activities)}
    for name, setup in setups.items():
        runs[name] = lambda s=setup: record(s, activities)  # type: ignore[misc]
    rates = median_rates(runs, args.events, args.repeat)
    baseline = rates.pop("raw dict loop")
    print(f"{args.events:,} events, {args.people:,} people, median of {args.repeat}")
    print(f"{'raw dict loop':>14}: {baseline:>12,.0f} events/s")
    for name, rate in rates.items():
        print(
            f"{name:>14}: {rate:>12,.0f} events/s   raw/this {baseline / rate:6.1f}x"
            f"   this/points {rate / rates['points']:5.2f}"
        )


if __name__ == "__main__":
    main()
