"""What people and privacy cost: team history on the record path, export and erasure.

1. ``record()`` of one activity whose actor has team memberships (Rewards looks
   them up in the recording transaction and fills the activity's teams), against
   ``record()`` of the same activity carrying those teams itself (no look-up), in
   the same run: the ratio is what team history costs; and the look-up alone.
   Memory store and a SQLite file (and PostgreSQL with ``--postgresql URL``).
2. ``export_person()`` and ``erase_person()`` of one person in a store of
   ``--activities`` activities by ``--people`` people, against the baseline of
   one raw ``LIKE`` scan of the JSON columns they search (activities, log,
   state, stories, outbox) through the bare driver: erasure is a scan of the
   store, by design (see docs/privacy.md).

    PYTHONPATH=src python bench/people.py [--activities 20000] [--people 1000]
        [--repeat 5] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect

from e2badges import (
    Activity,
    Badge,
    Cap,
    FrozenClock,
    Leaderboard,
    PointRule,
    PointsMetric,
    Rewards,
    StoryOptions,
    TeamsScope,
    criteria,
)
from e2badges.storage import Store
from e2badges.storage.sqlalchemy import SQLAlchemyStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = (
    PointRule(id="post", kind="post.created", actor_points=10, caps=(Cap(amount=100),)),
    PointRule(id="like", kind="post.liked", actor_points=1, recipient_points=2),
)
BADGES = (Badge(id="writer", criterion=criteria.Count(kind="post.created"), threshold=5),)
BOARDS = (
    Leaderboard(id="points", metric=PointsMetric(), windows=("all", "week")),
    Leaderboard(id="teams", metric=PointsMetric(), scope=TeamsScope()),
)


def make(store: Store | str) -> Rewards:
    return Rewards(
        store,
        rules=RULES,
        badges=BADGES,
        leaderboards=BOARDS,
        stories=StoryOptions(leaders=("points",)),
        clock=FrozenClock(T0 + timedelta(days=400)),
        load_entrypoints=False,
    )


def median_us(fn: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def activity(n: int, people: int) -> Activity:
    actor = f"u{n % people}"
    at = T0 + timedelta(minutes=n)
    if n % 3:
        return Activity(id=f"a{n}", actor=actor, kind="post.created", at=at, attributes={"n": n})
    other = f"u{(n * 7) % people}"
    return Activity(id=f"a{n}", actor=actor, kind="post.liked", recipient=other, at=at)


def team_history(store_factory: Callable[[], Store], reps: int) -> tuple[float, float]:
    """Return the median record() time (µs) of activities whose teams Rewards fills from
    memberships, and of the same activities carrying those teams themselves (no look-up)."""
    out = []
    for lookup in (True, False):
        rewards = make(store_factory())
        for i in range(50):
            rewards.people.join_team(f"u{i}", f"team{i % 5}", at=T0 - timedelta(days=1))
        counter = iter(range(10**9))

        def next_activity(c: Any = counter, given: bool = not lookup) -> Activity:
            a = activity(next(c), 50)
            if given:  # the same teams the look-up finds
                a = a.model_copy(update={"teams": (f"team{int(a.actor[1:]) % 5}",)})
            return a

        rewards.record_many(next_activity() for _ in range(200))  # warm up

        def one(r: Rewards = rewards, make_one: Any = next_activity) -> None:
            r.record(make_one())

        out.append(median_us(one, reps))
        if isinstance(rewards.store, SQLAlchemyStore) and rewards.store.table_prefix.startswith(
            "pp"
        ):
            drop(rewards.store)
        else:
            rewards.store.close()
    return out[0], out[1]


def lookup_us(store: Store, reps: int) -> float:
    """Return the median time (µs) of one memberships look-up in a recording transaction."""
    with store.transaction() as tx:
        return median_us(lambda: tx.memberships({"u1", "u2"}), reps)


def raw_scan(store: SQLAlchemyStore, needle: str) -> Callable[[], None]:
    """Return a function running one raw LIKE scan of the searched JSON columns."""
    t = store.tables
    assert t.adoption is not None
    q = store.engine.dialect.identifier_preparer.quote
    mark = "?" if store.engine.dialect.name == "sqlite" else "%s"
    columns = [
        (t.activities.name, "data"),
        (t.log.name, "outcome"),
        (t.state.name, "value"),
        (t.adoption.stories.name, "story"),
        (t.outbox.name, "payload"),
    ]
    sql = " UNION ALL ".join(
        f"SELECT count(*) FROM {q(name)} WHERE {q(col)} LIKE {mark}" for name, col in columns
    )
    params = tuple(f"%{needle}%" for _ in columns)

    def run() -> None:
        raw: Any = store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql, params)
            cursor.fetchall()
            cursor.close()
        finally:
            raw.close()

    return run


def export_and_erase(url: str, activities: int, people: int, reps: int) -> None:
    prefix = f"pp{uuid.uuid4().hex[:8]}_"
    store = SQLAlchemyStore(url, table_prefix=prefix)
    try:
        rewards = make(store)
        for start in range(0, activities, 1000):
            stop = min(activities, start + 1000)
            rewards.record_many(activity(n, people) for n in range(start, stop))
        scan = median_us(raw_scan(store, "u7"), reps)
        export = median_us(lambda: rewards.export_person("u7"), reps)
        victims = iter(range(people))
        erase = median_us(lambda: rewards.erase_person(f"u{next(victims)}"), reps)
        name = store.engine.dialect.name
        print(f"{name}: {activities:,} activities, {people:,} people")
        print(f"  raw LIKE scan of the JSON columns   {scan / 1000:9.1f} ms")
        print(
            f"  export_person()                     {export / 1000:9.1f} ms  {export / scan:5.1f}x"
        )
        print(f"  erase_person()                      {erase / 1000:9.1f} ms  {erase / scan:5.1f}x")
    finally:
        drop(store)


def drop(store: SQLAlchemyStore) -> None:
    """Drop the tables of a store made for the bench, and close it."""
    with store.engine.begin() as conn:
        quote = conn.dialect.identifier_preparer.quote
        for name in inspect(conn).get_table_names():
            if name.startswith(store.table_prefix):
                conn.exec_driver_sql(f"DROP TABLE {quote(name)}")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--activities", type=int, default=20_000)
    parser.add_argument("--people", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgresql", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        n = [0]

        def sqlite_store() -> Store:
            n[0] += 1
            return SQLAlchemyStore(f"sqlite:///{Path(tmp) / f'people{n[0]}.db'}")

        factories: list[tuple[str, Callable[[], Store]]] = [
            ("memory", lambda: make("memory://").store),
            ("sqlite", sqlite_store),
        ]
        if args.postgresql:
            url = args.postgresql
            factories.append(
                (
                    "postgresql",
                    lambda: SQLAlchemyStore(url, table_prefix=f"pp{uuid.uuid4().hex[:8]}_"),
                )
            )
        print(
            "record() of one activity: teams filled from memberships, against the same "
            "teams given (medians of 300 calls)"
        )
        for name, factory in factories:
            lookup = lookup_us(factory(), 2000)
            print(f"  {name:<10} the memberships look-up alone: {lookup:8.1f} µs (2,000 calls)")
            with_lookup, without = team_history(factory, 300)
            print(
                f"  {name:<10} filled {with_lookup:8.1f} µs, "
                f"given {without:8.1f} µs, ratio {with_lookup / without:5.2f}"
            )
        export_and_erase(
            f"sqlite:///{Path(tmp) / 'erase.db'}", args.activities, args.people, args.repeat
        )
        if args.postgresql:
            export_and_erase(args.postgresql, args.activities, args.people, args.repeat)


if __name__ == "__main__":
    main()
