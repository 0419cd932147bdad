"""Recording in a host app's transaction at REPEATABLE READ (or SERIALIZABLE) is as exact as
at READ COMMITTED, or fails with the database's serialization error for the host to run
its transaction again.

In such a transaction a plain read reads the transaction's snapshot, which may be
older than the commits the store waited for: the host's first read took it (or the
store's own first read, of memberships, before it waited for another batch's locks).
The store computes board counts from the old board rows, ``listed`` from the
opt-outs, and marks revoked the award it finds, so those reads must see the latest
rows:

- MySQL/MariaDB: they are locking reads in the host's transaction (``FOR UPDATE``,
  ``LOCK IN SHARE MODE``), which read the latest committed rows at any level.
- PostgreSQL: a locking read still reads the snapshot there; instead a row changed
  since the snapshot fails the transaction (a serialization failure).  Board rows and
  awards change only with state rows the batch locks; opt-outs and exclusions rewrite
  the tenant's listing marker, which the batch locks.
- SQLite: one writer; a host transaction whose snapshot is stale cannot write.

Before the fix, on MariaDB, count rows drifted from a recount of the rows (and went
negative), a person who had opted out was written back as listed, and a revocation
was reported but the award stayed held; on PostgreSQL the opted-out person's new rows
were listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sql_host_workers import HOSTS, USERS, batches, host_rewards, record_hosted
from sql_support import Database, process_context
from sqlalchemy.pool import NullPool

from e2badges import Activity, Rewards, StorageError, TransientStorageError
from e2badges.storage import MemoryStore
from e2badges.storage._sql_boards import bands
from e2badges.storage.sqlalchemy import SQLAlchemyStore
from e2badges.testing.conformance import T0

LEVELS = ["REPEATABLE READ", "SERIALIZABLE"]


def listing_problems(store: SQLAlchemyStore) -> list[str]:
    """Return what is wrong with the store's board rows and counts, by brute force.

    Each row is listed exactly when it is ranked and neither an opt-out nor an exclusion
    from its board hides its person (team rows are always listed), and every count row
    equals the number of listed rows of its key or band.
    """
    t = store.tables
    c, o, n = t.board_rows.c, t.board_opt_outs.c, t.board_counts.c
    tenant = store.tenant
    with store.engine.connect() as conn:
        hidden: dict[str, set[str]] = {}
        for user, board in conn.execute(sa.select(o.user_id, o.board).where(o.tenant == tenant)):
            hidden.setdefault(user, set()).add(board)
        rows = conn.execute(
            sa.select(c.board, c.period, c.subject, c.sort_key, c.team, c.listed).where(
                c.tenant == tenant
            )
        ).all()
        stored = {
            (b, p, level, k): count
            for b, p, level, k, count in conn.execute(
                sa.select(n.board, n.period, n.level, n.sort_key, n.n).where(n.tenant == tenant)
            )
        }
    problems: list[str] = []
    expected: dict[tuple[str, str, int, float], int] = {}
    for board, period, subject, key, team, listed in rows:
        boards = hidden.get(subject, set())
        want = key is not None and (bool(team) or not ({"", board} & boards))
        if bool(listed) != want:
            problems.append(f"{board}/{period}/{subject}: listed {bool(listed)}, not {want}")
        if want:
            fine, coarse = bands(key)
            for level, value in ((0, key), (1, fine), (2, coarse)):
                slot = (board, period, level, value)
                expected[slot] = expected.get(slot, 0) + 1
    for slot in sorted(set(stored) | set(expected)):
        if stored.get(slot) != expected.get(slot):
            problems.append(f"count {slot}: {stored.get(slot)}, not {expected.get(slot)}")
    return problems


def _held(rewards: Rewards, user: str) -> list[tuple[str, bool]]:
    return [(r.award.badge, r.revocation is None) for r in rewards.awards(user)]


# -- one host transaction, one change committed after its snapshot ------------------------


@contextmanager
def host_engine(db: Database, isolation: str) -> Iterator[sa.Engine]:
    """Return a host app's engine at ``isolation`` (MariaDB: snapshot isolation off, its
    default before 11.6.2; see test_snapshot_isolation_fails_cleanly for on)."""
    engine = sa.create_engine(db.url, isolation_level=isolation, poolclass=NullPool)
    if db.backend == "mysql":

        @sa.event.listens_for(engine, "connect")
        def no_snapshot_isolation(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SHOW VARIABLES LIKE 'innodb_snapshot_isolation'")
                if cursor.fetchall():
                    cursor.execute("SET SESSION innodb_snapshot_isolation = OFF")

    try:
        yield engine
    finally:
        engine.dispose()


def host_read(conn: sa.Connection, store: SQLAlchemyStore) -> None:
    """Read as a host app does first in its transaction, taking its snapshot: a table no
    other transaction here writes (at SERIALIZABLE, InnoDB's plain reads lock)."""
    people = store.tables.people
    assert people is not None
    conn.execute(sa.select(sa.func.count()).select_from(people)).all()


def after_snapshot(
    engine: sa.Engine,
    store: SQLAlchemyStore,
    meanwhile: Callable[[], object],
    work: Callable[[sa.Connection], object],
) -> StorageError | None:
    """Run ``work`` in a host transaction whose snapshot predates ``meanwhile``, committed
    by another connection; return the StorageError that ended the transaction, if any."""
    with engine.connect() as conn:
        trans = conn.begin()
        host_read(conn, store)
        meanwhile()
        try:
            work(conn)
        except StorageError as exc:
            trans.rollback()
            return exc
        trans.commit()
    return None


def expect_exact_or_serialization_failure(db: Database, error: StorageError | None) -> bool:
    """Check the host transaction's end: on MySQL/MariaDB it committed (its reads were
    current); on PostgreSQL it failed with a serialization failure, not retried by the
    store (the host runs its transaction again).  Return whether it committed."""
    if db.backend == "mysql":
        assert error is None
        return True
    assert error is not None
    assert "could not serialize access" in str(error)
    assert not isinstance(error, TransientStorageError)
    return False


def _activity(n: int, user: str, value: int, day: int = 0) -> Activity:
    at = T0 + timedelta(days=day, minutes=n)
    return Activity(id=f"s{n}", actor=user, kind="score", value=value, at=at, teams=("red",))


@pytest.mark.parametrize("isolation", LEVELS)
def test_board_row_moved_since_the_snapshot(server_db: Database, isolation: str) -> None:
    """Another transaction moves ann's row after the host's snapshot: the host's batch
    moves the counts from ann's latest row (before, from the snapshot's: a count row of
    ann's old score was taken down, the right one left, bob ranked 3rd of 2)."""
    store = server_db.store()
    rewards = host_rewards(store)
    rewards.record_many([_activity(1, "ann", 10), _activity(2, "bob", 10)])
    with host_engine(server_db, isolation) as engine:
        error = after_snapshot(
            engine,
            store,
            lambda: rewards.record(_activity(3, "ann", 5)),
            lambda conn: rewards.record(_activity(4, "ann", 1), connection=conn),
        )
        if not expect_exact_or_serialization_failure(server_db, error):
            assert rewards.balance("ann") == 15
            assert listing_problems(store) == []
            with engine.begin() as conn:  # the host runs its transaction again
                rewards.record(_activity(4, "ann", 1), connection=conn)
    assert rewards.balance("ann") == 16
    assert listing_problems(store) == []
    board = rewards.leaderboard("pts")
    assert [(e.user, e.score, e.rank) for e in board.top(5)] == [("ann", 16, 1), ("bob", 10, 2)]
    assert (board.rank("bob"), board.size()) == (2, 2)


@pytest.mark.parametrize("isolation", LEVELS)
@pytest.mark.parametrize("rows", ["existing", "new"])
@pytest.mark.parametrize("change", ["opt-out", "opt-in", "exclusion", "inclusion"])
def test_listing_changed_since_the_snapshot(
    server_db: Database, isolation: str, rows: str, change: str
) -> None:
    """ann opts out (or back in, or is excluded from the points board, or included again)
    after the host's snapshot; the host then records for ann on a day she has no row for
    yet and on her all-time row, which exists or not: her rows are listed as her latest
    choice says.  Before, on MariaDB, the snapshot's choice was written (an opted-out
    person listed, a count taken down twice); on PostgreSQL it was on her new rows (a
    changed row fails the transaction, a new one did not)."""
    store = server_db.store()
    rewards = host_rewards(store)
    opt_out = rewards.set_leaderboard_opt_out
    exclude = store.set_board_exclusions
    before, meanwhile = {
        "opt-out": (None, lambda: opt_out("ann")),
        "opt-in": (lambda: opt_out("ann"), lambda: opt_out("ann", False)),
        "exclusion": (None, lambda: exclude("ann", {"pts"})),
        "inclusion": (lambda: exclude("ann", {"pts"}), lambda: exclude("ann", set())),
    }[change]
    if before is not None:
        before()
    earlier = [_activity(2, "bob", 3, day=1)]
    if rows == "existing":
        earlier.append(_activity(1, "ann", 10))
    rewards.record_many(earlier)
    assert listing_problems(store) == []
    host_batch = [_activity(3, "ann", 5, day=1), _activity(4, "ann", 2)]
    with host_engine(server_db, isolation) as engine:
        error = after_snapshot(
            engine,
            store,
            meanwhile,
            lambda conn: rewards.record_many(host_batch, connection=conn),
        )
        if not expect_exact_or_serialization_failure(server_db, error):
            assert listing_problems(store) == []
            with engine.begin() as conn:
                rewards.record_many(host_batch, connection=conn)
    ann = 7 + (10 if rows == "existing" else 0)
    assert rewards.balance("ann") == ann
    assert listing_problems(store) == []
    listed = change in ("opt-in", "inclusion")
    top = [(e.user, e.score) for e in rewards.leaderboard("pts").top(5)]
    assert top == ([("ann", ann), ("bob", 3)] if listed else [("bob", 3)])
    # The teams board lists teams, whoever opted out.
    teams = [(e.user, e.score) for e in rewards.leaderboard("teams").top(5)]
    assert teams == [("red", len(earlier) + 2)]


@pytest.mark.parametrize("isolation", LEVELS)
def test_award_granted_since_the_snapshot(server_db: Database, isolation: str) -> None:
    """The badge is granted after the host's snapshot, then revoked in the host's
    transaction: the award row is marked revoked (before, on MariaDB, the revocation was
    reported but the award row, not in the snapshot, stayed held)."""
    store = server_db.store()
    rewards = host_rewards(store)

    def revoke(conn: sa.Connection) -> None:
        outcome = rewards.revoke("ann", "helper", by="boss", reason="oops", at=T0, connection=conn)
        assert [(r.user, r.badge) for r in outcome.revocations] == [("ann", "helper")]

    with host_engine(server_db, isolation) as engine:
        error = after_snapshot(
            engine,
            store,
            lambda: rewards.grant("ann", "helper", by="boss", reason="good", at=T0),
            revoke,
        )
        if not expect_exact_or_serialization_failure(server_db, error):
            assert _held(rewards, "ann") == [("helper", True)]
            with engine.begin() as conn:
                revoke(conn)
    assert _held(rewards, "ann") == [("helper", False)]
    assert rewards.badges("ann") == []


@pytest.mark.parametrize("isolation", LEVELS)
def test_listing_changed_before_the_snapshot(server_db: Database, isolation: str) -> None:
    """A change of opt-outs committed before the host's snapshot is in it: the host's
    batch is recorded at once (PostgreSQL's listing marker fails only a transaction
    whose snapshot predates a change), and ann's new rows are hidden."""
    store = server_db.store()
    rewards = host_rewards(store)
    rewards.record(_activity(1, "bob", 3))
    rewards.set_leaderboard_opt_out("ann")
    with host_engine(server_db, isolation) as engine, engine.begin() as conn:
        host_read(conn, store)
        rewards.record_many(
            [_activity(2, "ann", 5), _activity(3, "ann", 1, day=1)], connection=conn
        )
    assert listing_problems(store) == []
    assert [(e.user, e.score) for e in rewards.leaderboard("pts").top(5)] == [("bob", 3)]


def test_statements_of_a_host_batch(server_db: Database) -> None:
    """In a host transaction at READ COMMITTED on PostgreSQL, a batch with people's board
    rows sends as many statements as before (the level comes with the board lock); at
    REPEATABLE READ it locks the tenant's listing marker too.  On MySQL/MariaDB the host's
    level is not asked: the batch creates its board rows (placeholders) before reading
    them with FOR UPDATE, one statement more."""
    store = server_db.store()
    rewards = host_rewards(store)
    rewards.record(_activity(1, "ann", 3))
    sent: list[str] = []

    def seen(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    marker = store.tables.meta.name
    for isolation, markers in (("READ COMMITTED", 0), ("REPEATABLE READ", 1)):
        with host_engine(server_db, isolation) as engine:
            sa.event.listen(engine, "before_cursor_execute", seen)
            with engine.begin() as conn:
                sent.clear()
                rewards.record(_activity(2 + markers, "ann", 1), connection=conn)
        reads = [s for s in sent if marker in s and "FOR SHARE" in s]
        assert len(reads) == (markers if server_db.backend == "postgresql" else 0)
        placeholders = [s for s in sent if "subject = subject" in s]
        assert len(placeholders) == int(server_db.backend == "mysql")
    assert listing_problems(store) == []


@pytest.mark.mysql
def test_snapshot_isolation_fails_cleanly(
    mysql_db: Database, server_has: Callable[[bool, str], None]
) -> None:
    """With MariaDB's snapshot isolation (on by default from 11.6.2) a locking read of a
    row changed since the snapshot fails the host's transaction (error 1020) instead of
    reading it: an opt-out after the snapshot ends the host's transaction, and nothing of
    it is stored; run again, it is exact."""
    store = mysql_db.store()
    rewards = host_rewards(store)
    rewards.record_many([_activity(1, "ann", 10), _activity(2, "bob", 3)])
    engine = sa.create_engine(mysql_db.url, isolation_level="REPEATABLE READ", poolclass=NullPool)

    @sa.event.listens_for(engine, "connect")
    def snapshot_isolation(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SHOW VARIABLES LIKE 'innodb_snapshot_isolation'")
            if cursor.fetchall():
                cursor.execute("SET SESSION innodb_snapshot_isolation = ON")

    try:
        with engine.connect() as conn:
            found = conn.exec_driver_sql("SHOW VARIABLES LIKE 'innodb_snapshot_isolation'")
            enabled = [value for _, value in found] == ["ON"]
            server_has(enabled, "innodb_snapshot_isolation (MariaDB 10.6.18+)")
        host_batch = [_activity(3, "ann", 5), _activity(4, "ann", 1, day=1)]
        error = after_snapshot(
            engine,
            store,
            lambda: rewards.set_leaderboard_opt_out("ann"),
            lambda conn: rewards.record_many(host_batch, connection=conn),
        )
        assert error is not None
        assert "1020" in str(error)
        assert rewards.balance("ann") == 10
        with engine.begin() as conn:
            rewards.record_many(host_batch, connection=conn)
    finally:
        engine.dispose()
    assert rewards.balance("ann") == 16
    assert listing_problems(store) == []
    assert [(e.user, e.score) for e in rewards.leaderboard("pts").top(5)] == [("bob", 3)]


def test_sqlite_host_with_a_stale_snapshot_cannot_write(tmp_path: Path) -> None:
    """SQLite has one writer: a host transaction that read before another connection
    committed cannot write at all (SQLite refuses to upgrade a stale read transaction),
    so the store never writes from a stale snapshot there; run again, it is exact.  (A
    host transaction of pysqlite's default begins only at its first write, after which
    it holds the write lock.)"""
    path = tmp_path / "host.db"
    store = SQLAlchemyStore(f"sqlite:///{path}")
    rewards = host_rewards(store)
    rewards.record_many([_activity(1, "ann", 10), _activity(2, "bob", 10)])
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)

    @sa.event.listens_for(engine, "connect")
    def autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def deferred_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    try:
        error = after_snapshot(
            engine,
            store,
            lambda: rewards.record(_activity(3, "ann", 5)),
            lambda conn: rewards.record(_activity(4, "ann", 1), connection=conn),
        )
        assert error is not None
        assert "locked" in str(error)
        with engine.begin() as conn:
            rewards.record(_activity(4, "ann", 1), connection=conn)
    finally:
        engine.dispose()
        store.close()
    store = SQLAlchemyStore(f"sqlite:///{path}")
    try:
        assert host_rewards(store).balance("ann") == 16
        assert listing_problems(store) == []
    finally:
        store.close()


# -- several processes ------------------------------------------------------------------

WORKERS = 4
COUNT = 50  # batches per worker
SIZE = 3


def test_processes_recording_in_host_transactions(server_db: Database) -> None:
    """Four processes record on one board at once, two of them in host transactions at
    REPEATABLE READ (with grants and revocations in the same transactions), while one
    opts people in and out and excludes them, and one grants and revokes the badge.
    Afterwards every row is listed as its person's latest choice says, every count row
    equals a recount, the balances are the sums of the activities, and the awards
    (revocations included) are those of one process recording the log in order.
    Before the fix, on MariaDB, count rows drifted in every run."""
    store = server_db.store()
    store.engine.dispose()
    context = process_context()
    with ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
        futures = [
            pool.submit(
                record_hosted,
                server_db.url,
                server_db.prefix,
                worker=worker,
                count=COUNT,
                size=SIZE,
            )
            for worker in range(WORKERS)
        ]
        for future in futures:
            future.result()
    activities = [a for w in range(WORKERS) for batch in batches(w, COUNT, SIZE) for a in batch]
    badge_changes = len(HOSTS) * (COUNT // 2) + COUNT  # the hosts' every other batch, worker 2's
    assert store.count_activities() == len(activities) + badge_changes
    assert listing_problems(store) == []
    rewards = host_rewards(store)
    balances = {user: sum(a.value for a in activities if a.actor == user) for user in USERS}
    assert {user: rewards.balance(user) for user in USERS} == balances
    rows = store.tables.board_rows.c
    with store.engine.connect() as conn:
        totals = dict(
            conn.execute(
                sa.select(rows.subject, rows.total).where(rows.board == "pts", rows.period == "all")
            ).all()
        )
    assert {user: int(total) for user, total in totals.items()} == balances
    # The awards are those of one process recording the log in its order.
    replay = host_rewards(MemoryStore())
    replay.record_many(list(store.iter_activities()))
    for user in USERS:
        assert rewards.awards(user) == replay.awards(user), user
    assert any(r.revocation is not None for user in USERS for r in rewards.awards(user))
