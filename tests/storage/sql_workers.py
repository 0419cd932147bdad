"""Code that the multi-process store tests run in child processes (spawned, so importable)."""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from e2badges import (
    Activity,
    Cap,
    FrozenClock,
    Leaderboard,
    PointRule,
    PointsMetric,
    Rewards,
    hookimpl,
)
from e2badges.storage.sqlalchemy import SQLAlchemyStore
from e2badges.testing.conformance import BOARD_RULES, BOARDS, scored

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
        caps=(Cap(amount=6, per="pair"), Cap(amount=12)),
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

#: Streams built by a parent process before it forks its workers.
PREPARED: dict[int, list[Activity]] = {}


def make_activities(
    prefix: str,
    count: int,
    seed: int,
    *,
    users: int = 300,
    days: int = 5,
) -> list[Activity]:
    """Return activities ``<prefix><n>`` (n < ``count``) over ``users`` people and ``days`` days.

    A person upvotes one of their three neighbours (``u<n+1>`` to ``u<n+3>``), so
    that pair caps come into play.
    """
    rng = random.Random(seed)
    out = []
    for n in range(count):
        kind = KINDS[rng.randrange(3)]
        actor = rng.randrange(users)
        neighbour = (actor + 1 + rng.randrange(3)) % users
        question = rng.randrange(users * 2)
        at = T0 + timedelta(days=rng.randrange(days), minutes=rng.randrange(600))
        extra: dict[str, Any] = {}
        if kind == "answer.upvoted":
            extra["recipient"] = f"u{neighbour}"
        elif kind == "answer.created":
            extra["object"] = f"q{question}"
        out.append(Activity(id=f"{prefix}{n}", actor=f"u{actor}", kind=kind, at=at, **extra))
    return out


def activities_for(
    *, shared: int, distinct: int, workers: int, users: int, days: int
) -> tuple[list[Activity], list[list[Activity]]]:
    """Return the shared activities and each worker's own distinct ones."""
    common = make_activities("s", shared, seed=1, users=users, days=days)
    own = [
        make_activities(f"d{w}-", distinct // workers, seed=100 + w, users=users, days=days)
        for w in range(workers)
    ]
    return common, own


def stream_for(
    worker: int, common: list[Activity], own: list[Activity], workers: int
) -> list[Activity]:
    """Return what worker ``worker`` sends: its copies of shared activities and its own.

    Every shared activity is sent twice, by two different workers; each worker
    also sends activities nobody else sends.  The order is shuffled per worker.
    """
    mine = [a for n, a in enumerate(common) if worker in _senders(n, workers)] + own
    random.Random(worker).shuffle(mine)
    return mine


def _senders(n: int, workers: int) -> tuple[int, int]:
    first = n % workers
    return first, (first + 1 + (n // workers) % (workers - 1)) % workers


def record_stream(
    url: str,
    prefix: str,
    *,
    worker: int,
    shared: int,
    distinct: int,
    workers: int,
    users: int,
    days: int,
    batch: int,
) -> int:
    """Record worker ``worker``'s stream (see :func:`stream_for`) in batches; return its length.

    A forked worker finds its stream in :data:`PREPARED`, built by the parent.
    """
    stream = PREPARED.get(worker)
    if stream is None:
        common, own = activities_for(
            shared=shared, distinct=distinct, workers=workers, users=users, days=days
        )
        stream = stream_for(worker, common, own[worker], workers)
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


class DyingNotifier:
    """A notifier whose process is killed (SIGKILL) the moment it is told anything."""

    name = "notifier"

    @hookimpl
    def e2badges_notify_outcome(self, activity: Activity, notification_id: str) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


def record_then_die_delivering(url: str, prefix: str, activities: list[Activity]) -> None:
    """Record ``activities`` (committed), then get killed while delivering the notifications."""
    store = SQLAlchemyStore(url, table_prefix=prefix, create_schema=False)
    Rewards(store, rules=RULES, plugins=[DyingNotifier()], load_entrypoints=False).record_many(
        activities
    )
    os._exit(3)  # not reached: the notifier kills the process


def record_board_stream(
    url: str, prefix: str, *, worker: int, count: int, users: int, batch: int
) -> int:
    """Record ``count`` scored activities by ``users`` people on the test boards, in batches.

    Worker 0 also opts people in and out between its batches, so opt-outs and
    board updates of the same people run at the same time.
    """
    rng = random.Random(worker)
    stream = [
        scored(
            worker * count + n,
            f"u{rng.randrange(users)}",
            rng.choice((1, 2, 3, 100, 255, 256, 257)),
            day=rng.randrange(2),
        )
        for n in range(count)
    ]
    store = SQLAlchemyStore(url, table_prefix=prefix, create_schema=False)
    try:
        rewards = Rewards(store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))
        for start in range(0, len(stream), batch):
            rewards.record_many(stream[start : start + batch])
            if worker == 0:
                store.set_board_opt_out(f"u{rng.randrange(users)}", rng.random() < 0.6)
    finally:
        store.close()
    return len(stream)


#: The people recorded for while others are erased (test_sql_erasure_concurrency), and
#: the activities of a recording worker's ``n``-th batch for them.
RECORDED = tuple(f"rec-{n:02d}" for n in range(40))
ERASURE_RULES = (PointRule(id="score", kind="score", actor_points=1),)
ERASURE_BOARDS = (Leaderboard(id="points", metric=PointsMetric()),)


def erasure_rewards(store: SQLAlchemyStore) -> Rewards:
    """Return the Rewards of the erasure tests: points and a board of them."""
    return Rewards(
        store,
        rules=ERASURE_RULES,
        leaderboards=ERASURE_BOARDS,
        clock=FrozenClock(T0),
    )


def erasure_batch(worker: int, n: int) -> list[Activity]:
    """Return worker ``worker``'s ``n``-th batch: four activities of people in RECORDED."""
    return [
        Activity(
            id=f"w{worker}-{n}-{j}",
            actor=RECORDED[(worker * 7 + n * 4 + j) % len(RECORDED)],
            kind="score",
        )
        for j in range(4)
    ]


def record_until_stopped(url: str, prefix: str, worker: int, started: Any, stop: Any) -> int:
    """Record worker ``worker``'s batches until ``stop`` is set; return how many it recorded.

    ``started`` is set once the first batch is committed.
    """
    store = SQLAlchemyStore(url, table_prefix=prefix, create_schema=False)
    try:
        rewards = erasure_rewards(store)
        n = 0
        while not stop.is_set():
            rewards.record_many(erasure_batch(worker, n))
            n += 1
            started.set()
    finally:
        store.close()
    return n
