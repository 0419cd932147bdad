"""The board lock on MySQL/MariaDB: one row of ``{prefix}meta`` per tenant.

Opt-outs, board exclusions, erasures and ``delete_tenant()`` take a tenant's board
lock exclusively, and recording batches with board rows take it shared (see
``e2badges.storage._sql_boards``).  On MySQL/MariaDB the lock is the tenant's row
of ``meta``: these tests check that holding one tenant's lock holds up recording in
that tenant only, that the row is created on first use (outside the transaction
that locks it) and then excludes, and that a host's transaction on a fresh tenant
works at READ COMMITTED and at REPEATABLE READ.

A thread waiting for a lock is given about a second to show that it waits; one that
must not wait is given ten seconds to finish (InnoDB's lock wait timeout is 50).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sql_support import Database

from e2badges import (
    Activity,
    Badge,
    FrozenClock,
    Leaderboard,
    PointsMetric,
    Rewards,
    TransientStorageError,
    criteria,
)
from e2badges.storage._sql_boards import lock_row_name
from e2badges.storage._sql_schema import LAST_IDENTIFIER, OPT_OUT_BOUNDS
from e2badges.storage.sqlalchemy import SQLAlchemyStore
from e2badges.testing._threads import run_in_threads
from e2badges.testing.conformance import BOARD_RULES, BOARDS, T0, scored

WAITS = 1.0  # seconds a waiting thread is watched before the lock is released
FINISHES = 10.0  # seconds a thread that must not wait (or no longer waits) is given


class _Run(threading.Thread):
    """A daemon thread that keeps what its function returned or raised."""

    def __init__(self, function: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.function = function
        self.result: Any = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.result = self.function()
        except BaseException as exc:  # reported by finished(), in the test's thread
            self.error = exc

    def finished(self, timeout: float) -> bool:
        """Return whether the function returned within ``timeout``; re-raise what it raised."""
        self.join(timeout)
        if self.error is not None:
            raise self.error
        return not self.is_alive()


def _rewards(store: SQLAlchemyStore, tenant: str) -> Rewards:
    return Rewards(
        store, tenant=tenant, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0)
    )


def _lock_rows(store: SQLAlchemyStore) -> set[str]:
    """Return the names of the lock rows in the store's ``meta`` table."""
    meta = store.tables.meta
    with store.engine.connect() as conn:
        query = sa.select(meta.c.name).where(meta.c.name.like("board\\_lock:%"))
        return set(conn.execute(query).scalars())


def _take_turns(one: SQLAlchemyStore, two: SQLAlchemyStore, tenant: str) -> None:
    """Check that ``one`` takes ``tenant``'s board lock exclusively, that ``two`` (as
    another process) waits for it until ``one`` commits, and that the lock row then
    exists."""
    with one.engine.connect() as first, two.engine.connect() as second:
        holding = first.begin()
        one.for_tenant(tenant)._boards.lock_exclusively(first)
        second.begin()
        waiting = _Run(lambda: two.for_tenant(tenant)._boards.lock_exclusively(second))
        assert not waiting.finished(WAITS)
        holding.commit()
        assert waiting.finished(FINISHES)
        second.rollback()
    assert lock_row_name(tenant) in _lock_rows(one)


def _one_tenant_waits(
    other: Callable[[], Any], same: Callable[[], Any], release: Callable[[], None]
) -> tuple[Any, Any]:
    """While a tenant's board lock is held exclusively: check that ``other`` (work in
    another tenant) finishes, and that ``same`` (work in the locked tenant) waits until
    ``release()`` ends the lock; return what both returned."""
    elsewhere = _Run(other)
    assert elsewhere.finished(FINISHES)
    waiting = _Run(same)
    assert not waiting.finished(WAITS)
    release()
    assert waiting.finished(FINISHES)
    return elsewhere.result, waiting.result


def _top(rewards: Rewards) -> list[tuple[str, float]]:
    return [(entry.user, entry.score) for entry in rewards.leaderboard("pts").top(10)]


@pytest.mark.mysql
class TestTenantIsolation:
    def test_exclusive_lock_holds_up_its_own_tenant_only(self, mysql_db: Database) -> None:
        """While tenant a's board lock is held exclusively, recording board rows in tenant b
        goes on, and recording board rows in tenant a waits until the lock is released."""
        store = mysql_db.store()
        in_a, in_b = _rewards(store, "a"), _rewards(store, "b")
        with store.engine.connect() as conn:
            holding = conn.begin()
            store.for_tenant("a")._boards.lock_exclusively(conn)
            other, same = _one_tenant_waits(
                lambda: in_b.record(scored(1, "bob", 5)),
                lambda: in_a.record(scored(2, "ann", 7)),
                holding.commit,
            )
        assert other.credited("bob") == 5
        assert same.credited("ann") == 7
        assert _top(in_a) == [("ann", 7)]
        assert _top(in_b) == [("bob", 5)]

    def test_delete_tenant_holds_up_no_other_tenant(self, mysql_db: Database) -> None:
        """A tenant's deletion, still uncommitted, does not hold up recording board rows in
        another tenant, and leaves that tenant's rows alone."""
        store = mysql_db.store()
        gone, kept = _rewards(store, "gone"), _rewards(store, "kept")
        gone.record(scored(1, "ann", 3))
        kept.record(scored(2, "bob", 4))
        deleting = threading.Event()
        release = threading.Event()
        deleters: set[int] = set()

        def delete() -> None:
            deleters.add(threading.get_ident())
            gone.store.delete_tenant()

        def pause(_conn: Any) -> None:
            # In the deleting thread only: after its statements, before its commit.
            if threading.get_ident() in deleters:
                deleting.set()
                release.wait(FINISHES)

        sa.event.listen(store.engine, "commit", pause)
        try:
            deleter = _Run(delete)
            assert deleting.wait(FINISHES)

            def commit() -> None:
                release.set()
                assert deleter.finished(FINISHES)

            _one_tenant_waits(
                lambda: kept.record(scored(3, "bob", 2)),
                lambda: gone.record(scored(4, "cy", 1)),
                commit,
            )
        finally:
            release.set()
            sa.event.remove(store.engine, "commit", pause)
        assert _top(kept) == [("bob", 6)]
        assert _top(gone) == [("cy", 1)]


#: InnoDB's lock wait, in seconds, for the sessions of a store that must not wait: a wait
#: fails at once (with max_attempts=1) instead of holding the test for 50 seconds.
SHORT_LOCK_WAIT = {"connect_args": {"init_command": "SET SESSION innodb_lock_wait_timeout = 2"}}


def _impatient(database: Database) -> SQLAlchemyStore:
    """Return a store whose lock waits fail after two seconds, without a retry."""
    return database.store(max_attempts=1, engine_options=SHORT_LOCK_WAIT)


@pytest.mark.mysql
class TestHostTransactionOfAnotherTenant:
    """While a host's transaction that recorded in tenant b is open (uncommitted), the
    writes of tenants sorting before and after b do not wait for it, at READ
    COMMITTED or at REPEATABLE READ (MariaDB's default): their statements read and lock
    their own tenant's index ranges only.  The stores of the other tenants give up a
    lock wait after two seconds, so a wait fails the test with a lock wait timeout."""

    @pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ"])
    def test_delete_tenant_waits_for_no_other_tenant(
        self, mysql_db: Database, isolation: str
    ) -> None:
        """delete_tenant() of tenants a and c deletes through each table's tenant index:
        it neither reads nor locks tenant b's rows, its uncommitted ones included (a full
        table scan waited for them), and leaves b's rows alone."""
        store = _impatient(mysql_db)
        tenants = {name: _rewards(store, name) for name in ("a", "b", "c")}
        for rewards in tenants.values():
            rewards.record_many([scored(n, f"u{n % 7}", n) for n in range(50)])
        host = sa.create_engine(mysql_db.url, isolation_level=isolation)
        try:
            with host.connect() as conn, conn.begin():
                tenants["b"].record(scored(100, "u1", 5), connection=conn)
                tenants["a"].store.delete_tenant()
                tenants["c"].store.delete_tenant()
        finally:
            host.dispose()
        assert store.tenants() == ["b"]
        assert tenants["b"].balance("u1") == sum(range(1, 50, 7)) + 5

    @pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ"])
    @pytest.mark.parametrize("bounds", ["kept", "missing"])
    def test_privacy_writes_wait_for_no_other_tenant(
        self, mysql_db: Database, isolation: str, bounds: str
    ) -> None:
        """Opt-outs, board exclusions, erasures and a tenant's deletion in tenants a and c,
        and the first opt-out of a fresh tenant sorting between b and c, go on while tenant
        b's host transaction holds its batch's locks: at REPEATABLE READ the batch's
        locking read of b's opt-outs locks the gaps around the keys it reads, and each
        tenant's two bounding rows of board_opt_outs keep those gaps inside b's key range
        (they waited for b's commit).  With ``bounds`` missing (a database from before
        them: lock rows, no bounding rows), b's batch creates its own first."""
        store = _impatient(mysql_db)
        excluding = (
            *BOARDS,
            Leaderboard(id="staff", metric=PointsMetric(), exclude_groups=("boss",)),
        )
        tenants = {
            name: Rewards(
                store, tenant=name, rules=BOARD_RULES, leaderboards=excluding, clock=FrozenClock(T0)
            )
            for name in ("a", "b", "c", "bb")
        }
        for name in ("a", "b", "c"):
            tenants[name].record_many([scored(n, f"u{n % 5}", n + 1) for n in range(20)])
        if bounds == "missing":
            opt_outs = store.tables.board_opt_outs
            with store.engine.begin() as conn:
                conn.execute(sa.delete(opt_outs))
        host = sa.create_engine(mysql_db.url, isolation_level=isolation)
        try:
            with host.connect() as conn, conn.begin():
                conn.execute(sa.select(store.tables.meta.c.name)).all()  # the host's snapshot
                # A person with rows, two without (below and above every other id).
                hosted = [scored(100, "u1", 5), scored(101, "0", 1), scored(102, "zz", 1)]
                tenants["b"].record_many(hosted, connection=conn)
                for name in ("a", "c"):
                    rewards = tenants[name]
                    rewards.set_leaderboard_opt_out("u2")
                    rewards.set_leaderboard_opt_out("zzz")  # above every id of a and of b
                    rewards.people.set("u3", groups=["boss"])  # excluded from "staff"
                    rewards.erase_person("u0")
                tenants["bb"].set_leaderboard_opt_out("ann")
                tenants["c"].store.delete_tenant()
        finally:
            host.dispose()
        assert store.tenants() == ["a", "b", "bb"]
        top = [entry.user for entry in tenants["a"].leaderboard("pts").top(10)]
        assert "u2" not in top
        assert "u0" not in top
        assert {"u1", "u3", "u4"} <= set(top)
        assert "u3" not in [entry.user for entry in tenants["a"].leaderboard("staff").top(10)]
        assert tenants["b"].balance("u1") == sum(n + 1 for n in range(1, 20, 5)) + 5
        assert tenants["bb"].store.board_opt_out("ann")

    @pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ"])
    def test_edges_of_neighbouring_tenants_wait_at_repeatable_read(
        self, mysql_db: Database, isolation: str
    ) -> None:
        """What storage.md documents, and does not fix: at REPEATABLE READ, tenant b's host
        transaction holds up, until it commits, the neighbouring tenants' writes at the
        edges of their key ranges.  b recorded an activity id sorting after all of b's
        ids and one sorting before them (reading a new id back locks the gaps of the
        log's activity-id index around it, up to the next tenant's ids), and revoked
        the badge of b's only awarded person (reading the award locks the gaps of the
        award index around the person's awards); so tenant a's recording of an id
        sorting after all of a's and its award to a person sorting after all of a's
        awarded people wait, as do tenant c's, before all of c's.  At READ COMMITTED no
        gap is locked and nothing waits."""
        store = _impatient(mysql_db)
        manual = Badge(id="manual", criterion=criteria.Manual())
        tenants = {
            name: Rewards(store, tenant=name, rules=BOARD_RULES, badges=[manual])
            for name in ("a", "b", "c")
        }
        # Each tenant's log ids are "g-m" and "m" (and b's new ones), its awarded person "m".
        for rewards in tenants.values():
            rewards.record(_activity("m"))
            rewards.grant("m", "manual", by="boss", reason="test", id="g-m")
        waited: dict[str, bool] = {}

        def attempt(label: str, work: Callable[[], Any]) -> None:
            try:
                work()
            except TransientStorageError as exc:
                waited[label] = "Lock wait timeout" in str(exc)
            else:
                waited[label] = False

        host = sa.create_engine(mysql_db.url, isolation_level=isolation)
        try:
            with host.connect() as conn, conn.begin():
                b = tenants["b"]
                b.record(_activity("zz"), connection=conn)  # after b's ids
                b.record(_activity("a0"), connection=conn)  # before b's ids
                b.revoke("m", "manual", by="boss", reason="test", id="h", connection=conn)
                a, c = tenants["a"], tenants["c"]
                attempt("a records zz", lambda: a.record(_activity("zz")))
                attempt("c records a1", lambda: c.record(_activity("a1")))
                # Logged between a's (c's) own ids: only the award is at the edge.
                attempt("a awards z", lambda: a.grant("z", "manual", by="x", reason="t", id="h"))
                attempt("c awards 0", lambda: c.grant("0", "manual", by="x", reason="t", id="h"))
        finally:
            host.dispose()
        assert waited == dict.fromkeys(waited, isolation == "REPEATABLE READ")
        assert len(waited) == 4


def _activity(activity_id: str) -> Activity:
    """Return a ``score`` activity of ``activity_id`` by "u", worth 1."""
    return Activity(id=activity_id, actor="u", kind="score", value=1, at=T0)


def test_row_names_fit_for_any_tenant() -> None:
    """A lock row's name fits the 64 characters of ``meta.name``, even for a tenant of
    64 characters, and differs between tenants."""
    long = "t" * 64
    assert len(lock_row_name(long)) <= 64
    assert lock_row_name(long) != lock_row_name("t" * 63)


@pytest.mark.mysql
class TestLockRows:
    def test_first_use_creates_the_row(self, mysql_db: Database) -> None:
        """A store creates its own tenant's lock row; recording board rows in another
        tenant creates that tenant's, one per tenant; the rows list no tenant, and outlive
        a tenant's deletion, after which recording still works."""
        store = mysql_db.store()
        own = lock_row_name(store.tenant)
        assert _lock_rows(store) == {own}
        first, second = _rewards(store, "first"), _rewards(store, "second.2")
        first.record(scored(1, "ann", 3))
        assert _lock_rows(store) == {own, lock_row_name("first")}
        second.record(scored(2, "bob", 4))
        both = {own, lock_row_name("first"), lock_row_name("second.2")}
        assert _lock_rows(store) == both
        assert store.tenants() == ["first", "second.2"]
        first.store.delete_tenant()
        assert store.tenants() == ["second.2"]
        assert _lock_rows(store) == both
        first.record(scored(3, "cy", 2))
        assert _top(first) == [("cy", 2)]

    @pytest.mark.parametrize("sql_backend", [pytest.param("mysql", marks=pytest.mark.mysql)])
    def test_rewards_from_a_url_opens_the_store_for_its_tenant(self, own_database: str) -> None:
        """Rewards(url, tenant=...) opens the store for that tenant: the tenant's lock row
        is created when it opens (not first in a transaction, maybe the host's), and no
        row of the default tenant, which it does not serve."""
        with Rewards(own_database, tenant="wiki", rules=BOARD_RULES, leaderboards=BOARDS) as wiki:
            assert isinstance(wiki.store, SQLAlchemyStore)
            assert wiki.store.tenant == "wiki"
            assert _lock_rows(wiki.store) == {lock_row_name("wiki")}
            assert wiki.record(scored(1, "ann", 3)).credited("ann") == 3

    def test_first_locks_of_a_fresh_tenant_at_once(self, mysql_db: Database) -> None:
        """Six stores (as six processes) lock a fresh tenant's boards for the first time at
        once, one of them to opt a person out: each finds no row, and however their
        inserts of it interleave, every batch is recorded exactly once and the opted-out
        person is off the board."""
        stores = [mysql_db.store() for _ in range(6)]
        start = threading.Barrier(len(stores))

        def first_lock(i: int) -> None:
            rewards = _rewards(stores[i], "fresh")
            start.wait(FINISHES)
            if i == 0:
                rewards.set_leaderboard_opt_out("u0")
            rewards.record_many([scored(10 * i + k, f"u{i}", 1) for k in range(3)])

        run_in_threads(first_lock, range(len(stores)))
        rewards = _rewards(stores[0], "fresh")
        assert _top(rewards) == [(f"u{i}", 3) for i in range(1, 6)]
        assert [rewards.balance(f"u{i}") for i in range(6)] == [3] * 6
        assert lock_row_name("fresh") in _lock_rows(stores[0])

    def test_one_connection_pool(self, mysql_db: Database) -> None:
        """The first lock of a tenant needs no second connection: on a pool of one
        connection, recording board rows in fresh tenants works, by the store's own
        transaction and in a host's transaction on the pool's one connection."""
        one = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 2}
        store = mysql_db.store(engine_options=one)
        own = _rewards(store, "solo")
        assert own.record(scored(1, "ann", 3)).credited("ann") == 3
        hosted = _rewards(store, "hosted")
        with store.engine.connect() as conn, conn.begin():
            assert hosted.record(scored(2, "bob", 4), connection=conn).credited("bob") == 4
        assert _top(own) == [("ann", 3)]
        assert _top(hosted) == [("bob", 4)]
        assert {lock_row_name("solo"), lock_row_name("hosted")} <= _lock_rows(store)

    def test_two_exclusive_lockers_of_a_fresh_tenant_take_turns(self, mysql_db: Database) -> None:
        """Two stores (as two processes) taking the board lock of a tenant that has no lock
        row yet: the first creates it and holds it, the second waits for its commit."""
        one, two = mysql_db.store(), mysql_db.store()
        _take_turns(one, two, "fresh")

    def test_missing_row_is_created_again(self, mysql_db: Database) -> None:
        """A lock row deleted after this process first used it is created again by the next
        lock (the locking read of a missing row locks nothing), and then excludes."""
        one, two = mysql_db.store(), mysql_db.store()
        _rewards(one, "again").record(scored(1, "ann", 3))
        meta = one.tables.meta
        with one.engine.begin() as conn:
            conn.execute(sa.delete(meta).where(meta.c.name == lock_row_name("again")))
        assert lock_row_name("again") not in _lock_rows(one)
        _take_turns(one, two, "again")


def _bounds(store: SQLAlchemyStore) -> dict[str, set[tuple[str, str]]]:
    """Return, per tenant, the bounding rows of ``board_opt_outs`` found in the table."""
    o = store.tables.board_opt_outs.c
    out: dict[str, set[tuple[str, str]]] = {}
    with store.engine.connect() as conn:
        for tenant, user, board in conn.execute(sa.select(o.tenant, o.user_id, o.board)):
            if (user, board) in OPT_OUT_BOUNDS:
                out.setdefault(tenant, set()).add((user, board))
    return out


@pytest.mark.mysql
class TestBoundingRows:
    def test_created_with_the_lock_row_and_listed_nowhere(self, mysql_db: Database) -> None:
        """A store creates its tenant's two bounding rows when it opens, and a tenant's
        first lock creates that tenant's; they list no tenant and outlive a tenant's
        deletion, after which the tenant is not listed."""
        store = mysql_db.store(tenant="lonely")
        both = set(OPT_OUT_BOUNDS)
        assert _bounds(store) == {"lonely": both}
        assert store.tenants() == []
        first = _rewards(store, "first")
        first.record(scored(1, "ann", 3))
        assert _bounds(store) == {"lonely": both, "first": both}
        assert store.tenants() == ["first"]
        first.set_leaderboard_opt_out("ann")
        first.store.delete_tenant()
        assert store.tenants() == []
        assert _bounds(store) == {"lonely": both, "first": both}

    def test_never_read_as_an_opt_out(self, mysql_db: Database) -> None:
        """A person whose id is the greatest identifier (the upper bounding row's) is
        listed, neither opted out nor excluded, can opt out and back in, and be erased;
        the bounding rows stay."""
        store = mysql_db.store()
        staff = Leaderboard(id=LAST_IDENTIFIER, metric=PointsMetric(), exclude_groups=("x",))
        rewards = Rewards(
            store, rules=BOARD_RULES, leaderboards=(*BOARDS, staff), clock=FrozenClock(T0)
        )
        last = LAST_IDENTIFIER
        rewards.record_many([scored(1, last, 5), scored(2, "ann", 3)])
        assert _top(rewards) == [(last, 5), ("ann", 3)]
        assert [e.user for e in rewards.leaderboard(last).top(5)] == [last, "ann"]
        assert not store.board_opt_out(last)
        assert store.board_exclusions(last) == frozenset()
        assert rewards.export_person(last)["person"]["board_exclusions"] == []
        rewards.set_leaderboard_opt_out(last)
        assert _top(rewards) == [("ann", 3)]
        rewards.set_leaderboard_opt_out(last, False)
        assert _top(rewards) == [(last, 5), ("ann", 3)]
        rewards.erase_person(last)
        assert [user for user, _score in _top(rewards)] == ["ann"]
        assert _bounds(store) == {store.tenant: set(OPT_OUT_BOUNDS)}


@pytest.mark.mysql
class TestHostTransaction:
    @pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ"])
    def test_fresh_tenant_in_a_host_transaction(self, mysql_db: Database, isolation: str) -> None:
        """Recording board rows of a fresh tenant in a host's transaction works at either
        level (the host's snapshot taken before): the lock row is inserted in the host's
        transaction, so rolling the host back leaves neither a reward nor the row, and a
        committed one leaves both."""
        store = mysql_db.store()
        rewards = _rewards(store, "hosted")
        host = sa.create_engine(mysql_db.url, isolation_level=isolation)
        try:
            with host.connect() as conn:
                trans = conn.begin()
                conn.execute(sa.select(store.tables.meta.c.name)).all()  # the host's snapshot
                outcome = rewards.record(scored(1, "ann", 4), connection=conn)
                assert outcome.credited("ann") == 4
                trans.rollback()
                assert lock_row_name("hosted") not in _lock_rows(store)
                trans = conn.begin()
                rewards.record(scored(2, "bob", 6), connection=conn)
                trans.commit()
        finally:
            host.dispose()
        assert rewards.balance("ann") == 0
        assert rewards.activity("s1") is None
        assert _top(rewards) == [("bob", 6)]
        assert lock_row_name("hosted") in _lock_rows(store)
