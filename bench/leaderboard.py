"""Leaderboard latency on the memory store with 1,000,000 people, against raw baselines.

Run from the repository root:

    PYTHONPATH=src python bench/leaderboard.py [--people 1000000] [--reps 3000]

It records one activity per person onto an all-time points board, then times, one
call at a time (median of ``--reps`` calls):

- ``rank(user)`` against ``bisect.bisect_left`` over a sorted Python list of the same
  entries (``(sort_key, reached, user)`` tuples);
- ``top(10)`` against a slice ``entries[0:10]`` of that list;
- ``around(user, 11)`` against a bisect plus the slice of the 11 entries around it;
- one score update: ``record()`` of one activity that moves a person on the board
  (the whole path: validation, engine, store, index), and the index update alone,
  against one ``bisect.insort`` into the list.

Targets (issue 4): each query within 5x of its baseline; an update within 10x of one
insort.  Absolute times drift from run to run on this machine; the ratios are what
to compare.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import random
import resource
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from e2badges import Activity, FrozenClock, Leaderboard, PointRule, PointsMetric, Rewards
from e2badges.storage import BoardRow, MemoryStore

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def median_us(call: Callable[[], object], reps: int) -> float:
    """Return the median latency of ``call`` in microseconds, one timed call at a time."""
    times = []
    clock = time.perf_counter_ns
    for _ in range(reps):
        start = clock()
        call()
        times.append(clock() - start)
    return statistics.median(times) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    people = [f"user{i:07d}" for i in range(args.people)]

    store = MemoryStore()
    rewards = Rewards(
        store,
        rules=[PointRule(id="score", kind="score", actor_points=lambda a: a.value or 0)],
        leaderboards=[Leaderboard(id="pts", metric=PointsMetric())],
        clock=FrozenClock(T0 + timedelta(days=1)),
    )
    started = time.perf_counter()
    batch = 20_000
    for first in range(0, args.people, batch):
        rewards.record_many(
            Activity(
                id=f"a{i}",
                actor=people[i],
                kind="score",
                value=rng.randint(1, 100_000),
                at=T0 + timedelta(seconds=rng.randint(0, 3600)),
            )
            for i in range(first, min(first + batch, args.people))
        )
    built = time.perf_counter() - started
    view = rewards.leaderboard("pts")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"recorded {args.people:,} people in {built:.1f} s (batches of {batch:,});")
    print(f"peak memory {peak:,.0f} MB (activity log, ledger, state and the board)")

    # The raw baseline: the same entries in one sorted Python list.
    entries = sorted(
        (row.sort_key, row.reached, row.subject)
        for row in store._boards[("pts", "all")].rows.values()
    )
    probes = [entries[rng.randrange(len(entries))] for _ in range(args.reps)]
    users = [probe[2] for probe in probes]
    gc.collect()
    gc.disable()  # keep collector pauses out of single-call timings

    def cycle(items: list[object]) -> Callable[[], object]:
        it = iter(items * 3)
        return lambda: next(it)

    reps = args.reps
    results: list[tuple[str, float, float, float]] = []

    nxt = cycle(probes)
    base = median_us(lambda: bisect.bisect_left(entries, nxt()), reps)  # type: ignore[arg-type]
    nxu = cycle(users)
    ours = median_us(lambda: view.rank(nxu()), reps)  # type: ignore[arg-type]
    results.append(("rank(user)", ours, base, 5))

    base = median_us(lambda: entries[0:10], reps)
    ours = median_us(lambda: view.top(10), reps)
    results.append(("top(10)", ours, base, 5))

    def raw_around() -> object:
        i = bisect.bisect_left(entries, nxt())  # type: ignore[arg-type]
        start = max(0, min(i - 5, len(entries) - 11))
        return entries[start : start + 11]

    nxt = cycle(probes)
    base = median_us(raw_around, reps)
    nxu = cycle(users)
    ours = median_us(lambda: view.around(nxu(), 11), reps)  # type: ignore[arg-type]
    results.append(("around(user, 11)", ours, base, 5))

    # Updates: one insort into a list of the same size, against one record() that moves
    # a person, and against the index update alone.
    new_keys = iter([(-rng.randint(1, 100_000), float(i), f"new{i:07d}") for i in range(reps)])
    base_insort = median_us(lambda: bisect.insort(entries, next(new_keys)), reps)
    moves = iter(
        [
            Activity(
                id=f"m{i}",
                actor=users[i % len(users)],
                kind="score",
                value=rng.randint(1, 50),
                at=T0 + timedelta(hours=2, seconds=i),
            )
            for i in range(reps)
        ]
    )
    ours = median_us(lambda: rewards.record(next(moves)), reps)
    results.append(("record() moving one person", ours, base_insort, 10))

    index = store._boards[("pts", "all")]
    hidden: set[str] = set()
    rows = iter(
        [
            BoardRow(sort_key=-s, reached=1e9 + i, subject=u, score=s, total=s, count=2)
            for i, (u, s) in enumerate(
                (users[(i * 7) % len(users)], rng.randint(1, 100_000)) for i in range(reps)
            )
        ]
    )
    ours = median_us(lambda: index.put(next(rows), hidden), reps)
    results.append(("index update alone", ours, base_insort, 10))

    # Ingest: the same batches recorded with the board and without any board.
    def batches(tag: str) -> list[list[Activity]]:
        out = []
        for b in range(20):
            out.append(
                [
                    Activity(
                        id=f"{tag}{b}-{i}",
                        actor=users[(b * 1000 + i) % len(users)],
                        kind="score",
                        value=rng.randint(1, 50),
                        at=T0 + timedelta(hours=3, seconds=b * 1000 + i),
                    )
                    for i in range(1000)
                ]
            )
        return out

    plain = Rewards(
        MemoryStore(),
        rules=[PointRule(id="score", kind="score", actor_points=lambda a: a.value or 0)],
    )
    ingest: list[tuple[str, float]] = []
    for name, target in (("no board", plain), (f"one board, {args.people:,} people", rewards)):
        work = batches(name[:2])
        started = time.perf_counter()
        for chunk in work:
            target.record_many(chunk)
        ingest.append((name, (time.perf_counter() - started) / 20_000 * 1e6))
    gc.enable()

    print(f"\n{'operation':<28} {'e2badges':>10} {'baseline':>10} {'ratio':>7} {'target':>7}")
    for name, ours_us, base_us, target in results:
        ratio = ours_us / base_us
        flag = "ok" if ratio <= target else "MISSED"
        print(f"{name:<28} {ours_us:>8.2f}us {base_us:>8.2f}us {ratio:>6.1f}x {target:>5}x  {flag}")
    print("\nbaselines: bisect over a sorted list (rank), a slice (top), bisect + slice (around),")
    print("one bisect.insort into a list of the same size (updates); medians of single calls")
    print("\nrecord_many, 20 batches of 1,000 activities of existing people:")
    for name, per in ingest:
        print(f"  {name:<24} {per:>7.1f}us per activity")
    print(f"  the board costs {ingest[1][1] / ingest[0][1]:.2f}x recording without it")


if __name__ == "__main__":
    main()
