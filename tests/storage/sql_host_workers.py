"""Code that test_sql_host_isolation runs in child processes (importable, so spawned too).

Several processes record on one board at once: some in transactions of the store's
own, some in a host app's transactions at REPEATABLE READ (each beginning with a read
of the host's own, which takes the transaction's snapshot before the store waits for
any lock), while one process opts people in and out and excludes them from a board,
and others grant and revoke a badge.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from e2badges import Activity, Badge, FrozenClock, Rewards, StorageError, criteria
from e2badges.storage.sqlalchemy import SQLAlchemyStore
from e2badges.testing.conformance import BOARD_RULES, BOARDS, T0

USERS = tuple(f"u{n}" for n in range(6))  # few people: their rows and counts are shared
TEAMS = ("red", "blue")
DAYS = 3  # new day rows keep appearing
HOST_BADGES = (Badge(id="helper", criterion=criteria.Manual()),)
#: The workers whose every transaction is a host's, at REPEATABLE READ.
HOSTS = (1, 3)
#: What a host app runs its transaction again after: the transaction is gone.
_AGAIN = (
    "Deadlock found",  # MySQL/MariaDB 1213
    "Lock wait timeout",  # 1205
    "Record has changed since last read",  # 1020, MariaDB's snapshot isolation
    "could not serialize access",  # PostgreSQL 40001
    "deadlock detected",  # PostgreSQL 40P01
)


def host_rewards(store: SQLAlchemyStore | object) -> Rewards:
    """Return the Rewards of these tests over ``store``."""
    return Rewards(
        store,  # type: ignore[arg-type]  # a Store
        rules=BOARD_RULES,
        leaderboards=BOARDS,
        badges=HOST_BADGES,
        clock=FrozenClock(T0),
        load_entrypoints=False,
    )


def batches(worker: int, count: int, size: int) -> list[list[Activity]]:
    """Return worker ``worker``'s ``count`` batches of ``size`` scored activities."""
    rng = random.Random(worker)
    return [
        [
            Activity(
                id=f"w{worker}-{b}-{j}",
                actor=rng.choice(USERS),
                kind="score",
                value=rng.randrange(1, 9),
                teams=(rng.choice(TEAMS),),
                at=T0 + timedelta(days=rng.randrange(DAYS), minutes=j),
            )
            for j in range(size)
        ]
        for b in range(count)
    ]


def _in_host_transaction(
    engine: sa.Engine, read: str | None, work: Callable[[sa.Connection], object]
) -> int:
    """Run ``work`` in a host transaction that first reads ``read``, if any; run it all
    again (as a host app must) when the database ended the transaction; return how many
    times it ran again."""
    for again in range(200):
        try:
            with engine.connect() as conn, conn.begin():
                if read is not None:
                    conn.exec_driver_sql(read).all()  # the host's own read: the snapshot
                work(conn)
            return again
        except StorageError as exc:
            if not any(cause in str(exc) for cause in _AGAIN):
                raise
            time.sleep(random.random() / 100)
    raise AssertionError("the host transaction failed 200 times")


def record_hosted(url: str, prefix: str, *, worker: int, count: int, size: int) -> int:
    """Record worker ``worker``'s batches; return how many transactions ran again.

    A worker of :data:`HOSTS` records each batch in a host transaction at REPEATABLE
    READ, every other one with a grant or a revocation of the badge in the same
    transaction; the first host reads first, the other does not (the store's own first
    read, of memberships, then takes the snapshot, before the batch waits for locks).
    Worker 0 opts a person out or in, or sets their exclusions, after each batch;
    worker 2 grants or revokes the badge after each.
    """
    rng = random.Random(100 + worker)
    store = SQLAlchemyStore(url, table_prefix=prefix, create_schema=False)
    rewards = host_rewards(store)
    host = None
    if worker in HOSTS:
        host = sa.create_engine(url, isolation_level="REPEATABLE READ", poolclass=NullPool)
    read = None
    if worker == HOSTS[0]:
        read = f"SELECT COUNT(*) FROM {store.tables.people.name}"  # type: ignore[union-attr]
    again = 0
    try:
        for n, batch in enumerate(batches(worker, count, size)):
            user = rng.choice(USERS)
            grant = rng.random() < 0.5
            if host is None:
                rewards.record_many(batch)
            else:
                badge = (f"h{worker}-{n}", user, grant) if n % 2 else None
                work = functools.partial(_hosted, rewards, batch, badge)
                again += _in_host_transaction(host, read, work)
            if worker == 0:
                change = rng.randrange(3)
                if change == 2:
                    store.set_board_exclusions(user, {"pts"} if rng.random() < 0.5 else set())
                else:
                    rewards.set_leaderboard_opt_out(user, change == 1)
            elif worker == 2:
                _badge(rewards, f"g{worker}-{n}", user, grant)
    finally:
        store.close()
        if host is not None:
            host.dispose()
    return again


def _hosted(
    rewards: Rewards,
    batch: list[Activity],
    badge: tuple[str, str, bool] | None,
    conn: sa.Connection,
) -> None:
    """Record ``batch`` in the host's transaction, then grant or revoke ``badge`` there."""
    rewards.record_many(batch, connection=conn)
    if badge is not None:
        _badge(rewards, *badge, connection=conn)


def _badge(rewards: Rewards, aid: str, user: str, grant: bool, **options: object) -> None:
    if grant:
        rewards.grant(user, "helper", by="boss", reason="good", id=aid, at=T0, **options)
    else:
        rewards.revoke(user, "helper", by="boss", reason="oops", id=aid, at=T0, **options)
