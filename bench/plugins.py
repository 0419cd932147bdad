"""What plugins cost on the recording hot path.

Records 20,000 activities (batches of 1,000, 2,000 people, one point rule) with
record_many() on the memory store: without plugins, with a check plugin that lets
everything pass, and with a notifier (outbox written and delivered after each commit,
or only written, left for deliver_pending()).  The cases run in 7 rounds, in a
shuffled order each round, so that the machine's drift hits them alike; prints each
case's median rate and the median of its per-round ratios against a raw dict loop
and against recording without plugins.

    PYTHONPATH=src python bench/plugins.py
    PYTHONPATH=src python bench/plugins.py --against /path/to/other/checkout

``--against`` also times recording without plugins on another checkout's
``src/e2badges`` (copied under another package name, so both run in this process)
and prints the per-round ratio: the cost of the plugin machinery when no plugin is
loaded.
"""

from __future__ import annotations

import argparse
import importlib
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import e2badges
from e2badges import Activity, DeliveryPolicy, hookimpl

N = 20_000
BATCH = 1_000
PEOPLE = 2_000
ROUNDS = 7
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Pass:
    name = "pass"

    @hookimpl
    def e2badges_check_activity(self, activity: Activity) -> None:
        return None


class Quiet:
    name = "quiet"

    @hookimpl
    def e2badges_notify_outcome(self, notification_id: str) -> None:
        return None


def recording(package: ModuleType, **options: Any) -> Callable[[], None]:
    """Return a run that records N activities with ``package``'s Rewards on a new store."""
    rules = [package.PointRule(id="comment", kind="comment.created", actor_points=2)]
    data = [
        package.Activity(
            id=f"a{i}", actor=f"u{i % PEOPLE}", kind="comment.created", at=T0 + timedelta(seconds=i)
        )
        for i in range(N)
    ]
    storage = importlib.import_module(f"{package.__name__}.storage")

    def run() -> None:
        rewards = package.Rewards(storage.MemoryStore(), rules=rules, **options)
        for i in range(0, N, BATCH):
            rewards.record_many(data[i : i + BATCH])

    return run


def raw() -> Callable[[], None]:
    """Return the baseline: one dict update per activity."""
    actors = [f"u{i % PEOPLE}" for i in range(N)]

    def run() -> None:
        totals: dict[str, int] = {}
        for actor in actors:
            totals[actor] = totals.get(actor, 0) + 2

    return run


def other_checkout(path: Path) -> ModuleType:
    """Import ``path/src/e2badges`` as package ``e2badges_other``."""
    target = Path(tempfile.mkdtemp()) / "e2badges_other"
    shutil.copytree(path / "src" / "e2badges", target)
    sys.path.insert(0, str(target.parent))
    return importlib.import_module("e2badges_other")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", type=Path, help="another checkout to compare against")
    args = parser.parse_args()

    cases: list[tuple[str, Callable[[], None]]] = [
        ("raw dict loop", raw()),
        ("record_many, no plugins", recording(e2badges, load_entrypoints=False)),
        (
            "+ check plugin (passes all)",
            recording(e2badges, plugins=[Pass()], load_entrypoints=False),
        ),
        (
            "+ notifier, outbox only (inline=False)",
            recording(
                e2badges,
                plugins=[Quiet()],
                load_entrypoints=False,
                delivery=DeliveryPolicy(inline=False),
            ),
        ),
        (
            "+ notifier, delivered after commit",
            recording(e2badges, plugins=[Quiet()], load_entrypoints=False),
        ),
    ]
    if args.against is not None:
        cases.append(("no plugins, --against checkout", recording(other_checkout(args.against))))

    times: dict[str, list[float]] = {name: [] for name, _ in cases}
    shuffle = random.Random(6).shuffle
    for _ in range(ROUNDS):
        # A new order each round, so that no case always runs after the same one.
        order = list(cases)
        shuffle(order)
        for name, run in order:
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)

    base, plain = times["raw dict loop"], times["record_many, no plugins"]
    print(f"{N} activities, batches of {BATCH}, {ROUNDS} interleaved rounds; medians")
    print(f"{'case':40} {'k act/s':>9} {'x raw':>8} {'x no plugins':>13}")
    for name, seconds in times.items():
        rate = N / statistics.median(seconds) / 1e3
        x_raw = statistics.median(s / b for s, b in zip(seconds, base, strict=True))
        x_plain = statistics.median(s / p for s, p in zip(seconds, plain, strict=True))
        print(f"{name:40} {rate:9.1f} {x_raw:8.1f} {x_plain:13.2f}")


if __name__ == "__main__":
    main()
