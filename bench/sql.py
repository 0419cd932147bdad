"""Batched ingest through SQLAlchemyStore against raw inserts of the same rows.

For each database (SQLite file in WAL mode; PostgreSQL when it answers), the
script records the same activities with ``Rewards.record_many`` in batches, and
captures every row the store wrote (activities, log, ledger lines, state
upserts).  It then inserts exactly those rows, batch by batch, into identical
empty tables through the same driver: ``sqlite3`` ``executemany``; psycopg 3
``executemany`` and ``COPY`` (state rows, which are upserts, always go through
``executemany ... ON CONFLICT``).  Each figure is the median of ``--repeat``
runs, in activities per second; the ratio is library / raw.

    PYTHONPATH=src python bench/sql.py [--activities 20000] [--batch 1000]
        [--repeat 3] [--postgresql URL | --no-postgresql]

The store does more than the raw inserts (it validates, evaluates the rules,
encodes JSON, claims ids and locks state rows); the target is a ratio of at
least 0.30.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event, inspect

from e2badges import Activity, Cap, PointRule, Rewards
from e2badges.storage._sql_schema import build_tables
from e2badges.storage.sqlalchemy import SQLAlchemyStore

RULES = (
    PointRule(id="comment", kind="comment.created", actor_points=2, caps=(Cap(amount=10),)),
    PointRule(
        id="vote",
        kind="answer.upvoted",
        actor_points=1,
        recipient_points=3,
        caps=(Cap(amount=6, per="pair"), Cap(amount=30)),
    ),
    PointRule(
        id="answer",
        kind="answer.created",
        actor_points=5,
        once_per_object=True,
        first_time_bonus=20,
    ),
)
KINDS = ("comment.created", "answer.upvoted", "answer.created")
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TABLES = ("activities", "log", "ledger", "state")


def make_activities(count: int, users: int, seed: int = 1) -> list[Activity]:
    """Return ``count`` activities of three kinds over ``users`` people and 30 days."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        kind = KINDS[rng.randrange(3)]
        extra: dict[str, Any] = {}
        if kind == "answer.upvoted":
            extra["recipient"] = f"user-{rng.randrange(users)}"
        elif kind == "answer.created":
            extra["object"] = f"question-{rng.randrange(users * 3)}"
        at = T0 + timedelta(days=rng.randrange(30), seconds=rng.randrange(86_400))
        out.append(
            Activity(id=f"act-{n}", actor=f"user-{rng.randrange(users)}", kind=kind, at=at, **extra)
        )
    return out


def batches(items: list[Activity], size: int) -> list[list[Activity]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# -- the library --------------------------------------------------------------------------


def run_library(url: str, activities: list[Activity], size: int) -> tuple[float, list[Any]]:
    """Record ``activities`` on a fresh store; return (seconds, rows written per batch)."""
    prefix = f"b{uuid.uuid4().hex[:8]}_"
    store = SQLAlchemyStore(url, table_prefix=prefix)
    captured: list[dict[str, list[tuple[Any, ...]]]] = []
    try:
        rewards = Rewards(store, rules=RULES)
        parts = batches(activities, size)
        start = time.perf_counter()
        for part in parts:
            rewards.record_many(part)
        elapsed = time.perf_counter() - start
        # Second, untimed pass over a fresh prefix to capture the rows written.
        captured = capture_rows(url, parts)
    finally:
        drop(store.engine, prefix)
        store.close()
    return elapsed, captured


def capture_rows(url: str, parts: list[list[Activity]]) -> list[dict[str, list[tuple[Any, ...]]]]:
    """Record ``parts`` on another fresh store and return each batch's written rows."""
    prefix = f"c{uuid.uuid4().hex[:8]}_"
    store = SQLAlchemyStore(url, table_prefix=prefix)
    current: dict[str, list[tuple[Any, ...]]] = {}
    names = {f"{prefix}{t}": t for t in TABLES}

    def seen(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
        words = statement.split()
        table = names.get(words[2].strip('"`'), "") if words[0] == "INSERT" else ""
        if not table or (table == "state" and "value" not in statement):
            return  # only the rows the store keeps (not the lock placeholders)
        if isinstance(params, dict):  # PostgreSQL: whole columns as arrays
            columns = list(params.values())
            rows = list(zip(*columns, strict=True))
        else:
            rows = [tuple(p) for p in params]
        current.setdefault(table, []).extend(rows)

    event.listen(store.engine, "before_cursor_execute", seen)
    out = []
    try:
        rewards = Rewards(store, rules=RULES)
        for part in parts:
            current = {}
            rewards.record_many(part)
            out.append(current)
    finally:
        drop(store.engine, prefix)
        store.close()
    return out


def drop(engine: Any, prefix: str) -> None:
    with engine.begin() as conn:
        metadata = MetaData()
        metadata.reflect(
            conn, only=[n for n in inspect(conn).get_table_names() if n.startswith(prefix)]
        )
        metadata.drop_all(conn)


# -- raw baselines ------------------------------------------------------------------------

COLUMNS = {
    "activities": ("id", "kind", "actor", "at_us", "data"),
    "log": ("activity_id", "outcome"),
    "ledger": (
        "user_id",
        "activity_id",
        "rule",
        "currency",
        "amount",
        "requested",
        "role",
        "limit_name",
        "bonus",
        "at_us",
        "at_offset",
    ),
    "state": ("state_key", "value"),
}


def fresh_tables(url: str) -> tuple[str, Callable[[], None]]:
    """Create the store's tables under a new prefix; return it and a function to drop them."""
    prefix = f"r{uuid.uuid4().hex[:8]}_"
    engine = create_engine(url)
    with engine.begin() as conn:
        build_tables(prefix, conn.dialect).metadata.create_all(conn)

    def cleanup() -> None:
        drop(engine, prefix)
        engine.dispose()

    return prefix, cleanup


def raw_sqlite(path: Path, prefix: str, rows: list[dict[str, list[tuple[Any, ...]]]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    sql = {}
    for table, cols in COLUMNS.items():
        marks = ", ".join("?" * len(cols))
        sql[table] = f"INSERT INTO {prefix}{table} ({', '.join(cols)}) VALUES ({marks})"
    sql["state"] += " ON CONFLICT (state_key) DO UPDATE SET value = excluded.value"
    start = time.perf_counter()
    for batch in rows:
        conn.execute("BEGIN IMMEDIATE")
        for table in TABLES:
            if batch.get(table):
                conn.executemany(sql[table], batch[table])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def raw_postgres(
    url: str, prefix: str, rows: list[dict[str, list[tuple[Any, ...]]]], *, copy: bool
) -> float:
    import psycopg  # noqa: PLC0415  # only when PostgreSQL is benchmarked

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    sql = {}
    for table, cols in COLUMNS.items():
        marks = ", ".join(["%s"] * len(cols))
        sql[table] = f"INSERT INTO {prefix}{table} ({', '.join(cols)}) VALUES ({marks})"
    sql["state"] += " ON CONFLICT (state_key) DO UPDATE SET value = excluded.value"
    start = time.perf_counter()
    with conn.cursor() as cur:
        for batch in rows:
            for table in TABLES:
                data = batch.get(table)
                if not data:
                    continue
                if copy and table != "state":
                    cols = ", ".join(COLUMNS[table])
                    with cur.copy(f"COPY {prefix}{table} ({cols}) FROM STDIN") as out:
                        for row in data:
                            out.write_row(row)
                else:
                    cur.executemany(sql[table], data)
            conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


# -- main ---------------------------------------------------------------------------------


def report(name: str, count: int, library: list[float], raws: dict[str, list[float]]) -> None:
    lib = count / statistics.median(library)
    print(f"{name}: record_many {lib:,.0f} activities/s (median of {len(library)})")
    for label, times in raws.items():
        raw = count / statistics.median(times)
        print(f"{name}: raw {label} {raw:,.0f} activities/s; library/raw = {lib / raw:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activities", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--postgresql",
        default=os.environ.get(
            "E2BADGES_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--no-postgresql", action="store_true")
    args = parser.parse_args()
    activities = make_activities(args.activities, args.users)
    rows_per = None
    print(
        f"{args.activities:,} activities, {args.users:,} people, batches of {args.batch:,}, "
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite:///{path}"
        library, raw = [], []
        for _ in range(args.repeat):
            elapsed, rows = run_library(url, activities, args.batch)
            library.append(elapsed)
            prefix, cleanup = fresh_tables(url)
            try:
                raw.append(raw_sqlite(path, prefix, rows))
            finally:
                cleanup()
            rows_per = rows
        report("SQLite (file, WAL)", args.activities, library, {"sqlite3 executemany": raw})

    if rows_per is not None:
        counts = {t: sum(len(b.get(t, ())) for b in rows_per) for t in TABLES}
        print("rows written: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))

    if not args.no_postgresql:
        try:
            create_engine(args.postgresql).connect().close()
        except Exception as exc:  # the server is optional for this script
            print(f"PostgreSQL skipped: {type(exc).__name__}: {exc}".splitlines()[0])
            return 0
        library, many, copied = [], [], []
        for _ in range(args.repeat):
            elapsed, rows = run_library(args.postgresql, activities, args.batch)
            library.append(elapsed)
            for target, copy in ((many, False), (copied, True)):
                prefix, cleanup = fresh_tables(args.postgresql)
                try:
                    target.append(raw_postgres(args.postgresql, prefix, rows, copy=copy))
                finally:
                    cleanup()
        report(
            "PostgreSQL",
            args.activities,
            library,
            {"psycopg executemany": many, "psycopg COPY": copied},
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
