"""The store's own transactions on PostgreSQL and MySQL/MariaDB run at READ COMMITTED,
whatever engine it is given.

An engine the store creates for MySQL runs every connection at READ COMMITTED, and
PostgreSQL's default is READ COMMITTED.  An engine the store is given may run at
REPEATABLE READ (MySQL's default): the store then asks for READ COMMITTED at the start
of each transaction of its own.  At REPEATABLE READ, PostgreSQL fails a transaction
whose locked row another one changed since its snapshot (a serialization failure),
and so does MariaDB 11.6.2+ (error 1020, ``innodb_snapshot_isolation``, on by default
there; off by default, but settable, on the 10.11 CI server, and the tests turn it on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sql_support import Database

from e2badges import (
    ConfigurationError,
    FrozenClock,
    Rewards,
    StorageError,
    TransientStorageError,
)
from e2badges.storage.sqlalchemy import SQLAlchemyStore
from e2badges.testing._threads import run_in_threads
from e2badges.testing.conformance import BOARD_RULES, BOARDS, T0, scored

SET_READ_COMMITTED = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"


def _engine(db: Database, isolation: str) -> sa.Engine:
    """Return an engine of the caller's, at ``isolation``, with MariaDB's snapshot
    isolation on for each connection where the server has it."""
    engine = sa.create_engine(db.url, isolation_level=isolation)
    if db.backend != "mysql":
        return engine

    @sa.event.listens_for(engine, "connect")
    def snapshot_isolation(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SHOW VARIABLES LIKE 'innodb_snapshot_isolation'")
            if cursor.fetchall():  # MariaDB 10.6.18+; MySQL has no such setting
                cursor.execute("SET SESSION innodb_snapshot_isolation = ON")

    return engine


def _store(db: Database, engine: sa.Engine) -> SQLAlchemyStore:
    """Return a store on the caller's ``engine`` (closed at teardown)."""
    store = SQLAlchemyStore(engine, table_prefix=db.prefix)
    db.stores.append(store)
    return store


def _rewards(store: SQLAlchemyStore) -> Rewards:
    return Rewards(store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))


def _statements(engine: sa.Engine) -> list[str]:
    """Return the list that every statement ``engine`` sends from now on goes into."""
    sent: list[str] = []

    def seen(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    return sent


def test_concurrent_recording_on_a_repeatable_read_engine(server_db: Database) -> None:
    """Four threads record one person's activities at once through a store on a
    REPEATABLE READ engine (on MariaDB with snapshot isolation on): nothing fails and
    nothing is lost.  Before the store asked for READ COMMITTED, 174 of 240 such
    recordings failed with error 1020 on MariaDB, and 41 of 240 used up their five
    attempts on serialization failures on PostgreSQL."""
    engine = _engine(server_db, "REPEATABLE READ")
    try:
        store = _store(server_db, engine)
        rewards = _rewards(store)

        def record(worker: int) -> None:
            for n in range(25):
                rewards.record(scored(1000 * worker + n, "ann", 1))

        run_in_threads(record, range(4))
        assert rewards.balance("ann") == 100
        assert store.count_activities() == 100
        assert [(e.user, e.score) for e in rewards.leaderboard("pts").top(3)] == [("ann", 100)]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("isolation", "asked"), [("REPEATABLE READ", True), ("READ COMMITTED", False)]
)
def test_read_committed_asked_only_when_needed(
    server_db: Database, isolation: str, asked: bool
) -> None:
    """On a given engine not at READ COMMITTED, each transaction of the store's own
    starts by asking for it; on one at READ COMMITTED, and in a host's transaction (the
    host's level is the host's), nothing is asked."""
    engine = _engine(server_db, isolation)
    try:
        store = _store(server_db, engine)
        rewards = _rewards(store)
        sent = _statements(engine)
        rewards.record(scored(1, "ann", 2))
        assert (sent[0] == SET_READ_COMMITTED) is asked
        assert sent.count(SET_READ_COMMITTED) == int(asked)
        sent.clear()
        assert rewards.balance("ann") == 2  # a read of the store's own
        assert (sent[0] == SET_READ_COMMITTED) is asked
        sent.clear()
        with engine.connect() as conn, conn.begin():
            rewards.record(scored(2, "ann", 3), connection=conn)
        assert SET_READ_COMMITTED not in sent
        assert rewards.balance("ann") == 5
    finally:
        engine.dispose()


def test_store_made_engine_asks_nothing(server_db: Database) -> None:
    """An engine the store creates runs at READ COMMITTED on every connection (MySQL: the
    store sets it; PostgreSQL: the server's default): its transactions send no extra
    statement."""
    store = server_db.store()
    with store.engine.connect() as conn:
        assert conn.get_isolation_level() == "READ COMMITTED"
    sent = _statements(store.engine)
    _rewards(store).record(scored(1, "ann", 2))
    assert sent
    assert SET_READ_COMMITTED not in sent


@pytest.mark.mysql
def test_host_transaction_conflict_names_its_cause(
    mysql_db: Database, server_has: Callable[[bool, str], None]
) -> None:
    """In a host's REPEATABLE READ transaction with snapshot isolation, recording for a
    person whose rows another transaction changed since the host's snapshot fails with
    error 1020, and InnoDB ends the host's whole transaction, savepoint included: the
    StorageError names the conflict (not the savepoint its rollback could not find), is
    not retried, and nothing of it is stored."""
    store = mysql_db.store()
    rewards = _rewards(store)
    rewards.record(scored(1, "ann", 1))
    host = _engine(mysql_db, "REPEATABLE READ")
    try:
        with host.connect() as conn:
            enabled = conn.exec_driver_sql("SELECT @@innodb_snapshot_isolation").scalar()
            server_has(enabled == 1, "innodb_snapshot_isolation (MariaDB 10.6.18+)")
            conn.rollback()
            trans = conn.begin()
            conn.exec_driver_sql(f"SELECT COUNT(*) FROM {store.tables.state.name}").all()
            rewards.record(scored(2, "ann", 1))  # another process, after the snapshot
            with pytest.raises(StorageError, match="1020") as info:
                rewards.record(scored(3, "ann", 1), connection=conn)
            assert not isinstance(info.value, TransientStorageError)
            assert "SAVEPOINT" not in str(info.value)
            assert conn.exec_driver_sql("SELECT @@in_transaction").scalar() == 0
            trans.rollback()
    finally:
        host.dispose()
    assert rewards.balance("ann") == 2
    assert rewards.activity("s3") is None


@pytest.mark.parametrize(
    "options",
    [{"isolation_level": "AUTOCOMMIT"}, {"connect_args": {"autocommit": True}}],
    ids=["isolation_level", "driver"],
)
def test_autocommit_engines_refused(server_db: Database, options: dict[str, Any]) -> None:
    """An engine whose connections run in autocommit mode (where a batch would not be one
    transaction, nor its row locks held) is refused before anything is written; the same
    engine with READ COMMITTED asked of it works."""
    engine = sa.create_engine(server_db.url, **options)
    try:
        with pytest.raises(ConfigurationError, match="engine: runs its connections in autocommit"):
            SQLAlchemyStore(engine, table_prefix=server_db.prefix)
        names = sa.inspect(engine).get_table_names()
        assert [n for n in names if n.startswith(server_db.prefix)] == []
        store = _store(server_db, engine.execution_options(isolation_level="READ COMMITTED"))
        rewards = _rewards(store)
        rewards.record_many([scored(1, "ann", 2), scored(2, "ann", 3)])
        assert rewards.balance("ann") == 5
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_serializable_reads_do_not_wait_for_writers(mysql_db: Database) -> None:
    """On a SERIALIZABLE engine InnoDB turns every plain read of a transaction into a
    locking one: the store's reads run at READ COMMITTED, so a leaderboard or balance
    read does not wait for a writer's row locks (it failed after the lock wait timeout,
    or deadlocked with writers, before)."""
    engine = sa.create_engine(mysql_db.url, isolation_level="SERIALIZABLE")

    @sa.event.listens_for(engine, "connect")
    def short_waits(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")

    try:
        store = _store(mysql_db, engine)
        rewards = _rewards(store)
        rewards.record_many([scored(1, "ann", 3), scored(2, "bob", 5)])
        board = rewards.leaderboard("pts")
        with engine.connect() as writer, writer.begin():
            writer.exec_driver_sql(f"SELECT * FROM {store.tables.board_rows.name} FOR UPDATE").all()
            writer.exec_driver_sql(f"SELECT * FROM {store.tables.state.name} FOR UPDATE").all()
            assert [(e.user, e.score) for e in board.top(10)] == [("bob", 5), ("ann", 3)]
            assert board.rank("ann") == 2
            assert [e.user for e in board.around("ann", 3)] == ["bob", "ann"]
            assert rewards.balance("ann") == 3
    finally:
        engine.dispose()
