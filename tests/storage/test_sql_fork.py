"""A store opened before ``fork`` (gunicorn ``--preload``, Celery's prefork pool,
``multiprocessing``) keeps each process on connections of its own.

A connection pool copied into a child holds the parent's open connections; a child
that used one would share its socket with the parent, and their statements and
answers would interleave.  On PostgreSQL four forked workers recording for one person
failed 30-38 of their 200 recordings each, and killed the parent's connection.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest
import sqlalchemy as sa
from sql_support import Database

from e2badges import Activity, FrozenClock, PointRule, Rewards
from e2badges.storage.sqlalchemy import SQLAlchemyStore
from e2badges.testing.conformance import T0

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)

RULES = (PointRule(id="p", kind="x", actor_points=1),)
CHILDREN, EACH = 3, 40


def _rewards(store: SQLAlchemyStore) -> Rewards:
    return Rewards(store, rules=RULES, clock=FrozenClock(T0))


def _act(name: str) -> Activity:
    return Activity(id=name, actor="ann", kind="x", at=T0)


def _record_in_child(rewards: Rewards, child: int, out: Any) -> None:
    """Record and read back EACH times; send the errors seen (as text)."""
    errors = []
    for n in range(EACH):
        try:
            rewards.record(_act(f"c{child}-{n}"))
            rewards.balance("ann")
        except Exception as exc:  # the test reports every failure, not the first
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
    out.send(errors)


def test_forked_children_use_connections_of_their_own(db: Database) -> None:
    """Children forked after the store opened and used its pool record exactly, and the
    parent's pooled connections still work afterwards."""
    store = db.store()
    rewards = _rewards(store)
    rewards.record(_act("parent-1"))
    assert rewards.balance("ann") == 1  # the pool now holds a connection of the parent
    context = multiprocessing.get_context("fork")
    pipes, children = [], []
    for child in range(CHILDREN):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_record_in_child, args=(rewards, child, send))
        process.start()
        pipes.append(receive)
        children.append(process)
    # A child stuck on a connection it shares with its parent would hang the test.
    errors = [pipe.recv() if pipe.poll(60) else ["no answer in 60 s"] for pipe in pipes]
    for process in children:
        process.join(10)
        if process.exitcode is None:
            process.kill()
            process.join()
    assert [process.exitcode for process in children] == [0] * CHILDREN
    assert errors == [[]] * CHILDREN
    assert rewards.balance("ann") == 1 + CHILDREN * EACH
    rewards.record(_act("parent-2"))
    assert rewards.balance("ann") == 2 + CHILDREN * EACH


def test_a_given_engine_gets_no_pool_listeners(db: Database) -> None:
    """An engine the caller passes in is theirs: the store adds nothing to its pool
    (a host that forks follows SQLAlchemy's recipe for its own engine)."""
    engine = sa.create_engine(db.url)
    try:
        before = (len(engine.pool.dispatch.connect), len(engine.pool.dispatch.checkout))
        store = SQLAlchemyStore(engine, table_prefix=db.prefix)
        db.stores.append(store)
        _rewards(store).record(_act("a"))
        after = (len(engine.pool.dispatch.connect), len(engine.pool.dispatch.checkout))
        assert after == before
    finally:
        engine.dispose()
