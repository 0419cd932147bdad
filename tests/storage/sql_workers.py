"""Code that the multi-process store tests run in child processes (spawned, so importable)."""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from e2badges import Activity, Cap, PointRule, Rewards
from e2badges.storage.sqlalchemy import SQLAlchemyStore

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

# Every budget is a multiple of its rule's amount and every window a calendar day,
# so each person's total is the same in any recording order (see the test module).
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


def make_activities(prefix: str, count: int, seed: int, *, users: int = 300) -> list[Activity]:
    """Return ``count`` activities ``<prefix><n>`` over ``users`` people and five days."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        kind = KINDS[rng.randrange(3)]
        actor = f"u{rng.randrange(users)}"
        extra: dict[str, Any] = {}
        if kind == "answer.upvoted":
            extra["recipient"] = f"u{rng.randrange(users)}"
        if kind == "answer.created":
            extra["object"] = f"q{rng.randrange(users * 2)}"
        at = T0 + timedelta(days=rng.randrange(5), minutes=rng.randrange(600))
        out.append(Activity(id=f"{prefix}{n}", actor=actor, kind=kind, at=at, **extra))
    return out


def record_stream(
    url: str,
    prefix: str,
    *,
    worker: int,
    shared: int,
    distinct: int,
    workers: int,
    batch: int,
) -> int:
    """Record the shared activities twice and this worker's share of the distinct ones.

    Returns the number of activities sent.
    """
    common = make_activities("s", shared, seed=1)
    mine = make_activities(f"d{worker}-", distinct // workers, seed=100 + worker)
    stream = common + common + mine
    random.Random(worker).shuffle(stream)
    store = SQLAlchemyStore(url, table_prefix=prefix, create_schema=False)
    try:
        rewards = Rewards(store, rules=RULES)
        for start in range(0, len(stream), batch):
            rewards.record_many(stream[start : start + batch])
    finally:
        store.close()
    return len(stream)


def record_until_killed(url: str, prefix: str, activities: list[Activity], ready: Any) -> None:
    """Record ``activities``; stop for good before the ledger insert, once ``ready`` is set."""
    store = SQLAlchemyStore(url, table_prefix=prefix, create_schema=False)
    ledger = store.tables.ledger.name

    def pause(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if ledger in statement and statement.lstrip().upper().startswith("INSERT"):
            ready.set()
            time.sleep(120)  # the parent kills this process meanwhile

    event.listen(store.engine, "before_cursor_execute", pause)
    Rewards(store, rules=RULES).record_many(activities)
    os._exit(3)  # not reached when the parent kills the process in time
