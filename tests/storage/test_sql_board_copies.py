"""Board copies (``SQLAlchemyStore(board_copies=N)``): the same answers as the database.

A store with copies answers leaderboard reads from a copy of each board period in
its process, caught up from the board change log before each read (see
``e2badges.storage._sql_copies``).  These tests compare every read of such a store
with the same read of a store without copies over the same tables, after each of
the writes that change board rows, made by other stores (other processes, in
effect) and by the store itself; on PostgreSQL also with transactions that commit
in another order than they began, and with several processes recording at once.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sql_support import Database, fresh_database, open_database, process_context
from sql_workers import record_board_stream

from e2badges import ConfigurationError, FrozenClock, Rewards, StorageError
from e2badges._leaderboards import BoardRow
from e2badges.storage import _sql_copies
from e2badges.storage._sql_copies import BoardCopies, ChangeLog
from e2badges.storage.sqlalchemy import SQLAlchemyStore
from e2badges.testing.conformance import BOARD_RULES, BOARDS, T0, scored

COPY_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
]
USERS = [f"u{n}" for n in range(14)]
TEAMS = ("red", "blue", "green")


@pytest.fixture(params=COPY_BACKENDS)
def copy_db(
    request: pytest.FixtureRequest, tmp_path: Path, server_url: Callable[[str], str]
) -> Iterator[Database]:
    """A fresh database (unique table prefix) on SQLite and PostgreSQL, dropped afterwards."""
    yield from fresh_database(request.param, tmp_path, server_url)


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count how the copies catch up: whole loads and updates of some subjects."""
    calls: Counter[str] = Counter()
    for name in ("_load", "_update"):
        original = getattr(BoardCopies, name)

        def counted(*args: Any, _original: Any = original, _name: str = name) -> Any:
            calls[_name] += 1
            return _original(*args)

        monkeypatch.setattr(BoardCopies, name, counted)
    return calls


def rewards_over(store: SQLAlchemyStore) -> Rewards:
    return Rewards(store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))


def no_database_reads(store: SQLAlchemyStore) -> None:
    """Make ``store``'s board reads on the database fail: its answers must come from copies."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a board read went to the database")

    for name in ("size", "page", "standing", "around"):
        setattr(store._boards, name, refuse)


def periods(store: SQLAlchemyStore) -> list[tuple[str, str]]:
    """Return every (board, period) with rows (rolling windows are read from day rows)."""
    rows = store.tables.board_rows
    with store.engine.connect() as conn:
        found = conn.execute(
            sa.select(rows.c.board, rows.c.period).where(rows.c.tenant == store.tenant).distinct()
        ).all()
    return sorted((board, period) for board, period in found)


def subjects(store: SQLAlchemyStore) -> list[str]:
    rows = store.tables.board_rows
    with store.engine.connect() as conn:
        found = conn.execute(
            sa.select(rows.c.subject).where(rows.c.tenant == store.tenant).distinct()
        ).scalars()
        return sorted(found)


def assert_same_reads(plain: SQLAlchemyStore, copied: SQLAlchemyStore) -> int:
    """Assert that every board read of ``copied`` equals ``plain``'s; return how many."""
    compared = 0
    names = [*subjects(plain), "nobody"]
    for board, period in [*periods(plain), ("pts", "2031-01-01")]:
        size = plain.board_size(board, period)
        assert copied.board_size(board, period) == size, (board, period)
        for dense in (True, False):
            for start, stop in ((0, size + 2), (3, 8), (size - 1, size + 4)):
                if start < 0:
                    continue
                expected = plain.board_page(board, period, start, stop, dense=dense)
                assert copied.board_page(board, period, start, stop, dense=dense) == expected
            for subject in names:
                standing = plain.board_standing(board, period, subject, dense=dense)
                assert copied.board_standing(board, period, subject, dense=dense) == standing
                for before, after in ((2, 2), (0, 3)):
                    page = plain.board_around(board, period, subject, before, after, dense=dense)
                    found = copied.board_around(board, period, subject, before, after, dense=dense)
                    assert found == page, (board, period, subject, before, after, dense)
                compared += 1
    return compared


def batch(rng: random.Random, n: int, size: int) -> list[Any]:
    """Return ``size`` scored activities from ``n`` on, by random people on random days."""
    return [
        scored(
            n + k,
            rng.choice(USERS),
            rng.choice((1, 2, 3, 100, 255, 256, 257)),
            day=rng.randrange(2),
            teams=(rng.choice(TEAMS),),
        )
        for k in range(size)
    ]


class TestSameAnswers:
    @pytest.mark.parametrize("pruning", ["kept", "pruned"])
    def test_after_every_kind_of_change(
        self,
        copy_db: Database,
        spied: Counter[str],
        monkeypatch: pytest.MonkeyPatch,
        pruning: str,
    ) -> None:
        """After recording (by another store and by the store itself, in and out of a
        host's transaction, committed or rolled back), opt-outs, exclusions, an erasure,
        another tenant's changes and a tenant's deletion, every read from the copies
        equals the database's.  The copies catch up by the changed subjects, and load a
        board whole only when the log was pruned past them or a reset asks them to."""
        if pruning == "pruned":
            # Prune the log all the time: copies that fell behind load their boards whole.
            monkeypatch.setattr(_sql_copies, "PRUNE_EVERY", 2)
            monkeypatch.setattr(_sql_copies, "KEEP", 3)
        plain = copy_db.store()
        copied = copy_db.store(board_copies=8)
        no_database_reads(copied)
        writer, own = rewards_over(plain), rewards_over(copied)
        other = rewards_over(plain.for_tenant("other"))
        rng = random.Random(5)
        n = 0

        def record(rewards: Rewards, size: int) -> None:
            nonlocal n
            rewards.record_many(batch(rng, n, size))
            n += size

        record(writer, 30)
        assert_same_reads(plain, copied)
        loads = spied["_load"]
        for step in range(8):
            record(writer if step % 3 else own, rng.randrange(1, 12))
            assert_same_reads(plain, copied)
        if pruning == "kept":
            # Caught up by the changed subjects, never loaded again.
            assert spied["_load"] == loads
            assert spied["_update"] >= 8
        with plain.engine.connect() as conn:  # a host's transaction, rolled back
            writer.record(scored(900, "u1", 5000), connection=conn)
            conn.rollback()
        assert_same_reads(plain, copied)
        with plain.engine.begin() as conn:  # a host's transaction, committed
            writer.record(scored(901, "u2", 4000, teams=("red",)), connection=conn)
        assert_same_reads(plain, copied)
        plain.set_board_opt_out("u3", True)
        plain.set_board_exclusions("u4", ["pts"])
        assert_same_reads(plain, copied)
        record(writer, 5)
        plain.set_board_opt_out("u3", False)
        assert_same_reads(plain, copied)
        record(other, 20)  # another tenant: no change here
        assert_same_reads(plain, copied)
        writer.erase_person("u5")
        assert_same_reads(plain, copied)
        record(own, 6)
        assert_same_reads(plain, copied)
        plain.for_tenant("other").delete_tenant()
        record(writer, 4)
        assert_same_reads(plain, copied)
        plain.delete_tenant()
        assert plain.board_size("pts", "all") == 0
        assert_same_reads(plain, copied)
        record(writer, 8)
        assert assert_same_reads(plain, copied) > 0
        if pruning == "pruned":
            changes = plain.tables.board_changes
            assert changes is not None
            with plain.engine.connect() as conn:
                kept = conn.execute(sa.select(sa.func.count()).select_from(changes)).scalar()
            assert kept is not None
            assert kept <= 2 + 3  # pruned to the last few

    def test_copies_of_another_tenant(self, copy_db: Database) -> None:
        """A store for another tenant (for_tenant) keeps copies of its own tenant's boards."""
        plain = copy_db.store()
        copied = copy_db.store(board_copies=2).for_tenant("wiki")
        writer = rewards_over(plain.for_tenant("wiki"))
        rng = random.Random(2)
        writer.record_many(batch(rng, 0, 25))
        rewards_over(plain).record_many(batch(rng, 100, 25))
        assert copied.board_size("pts", "all") == plain.for_tenant("wiki").board_size("pts", "all")
        assert_same_reads(plain.for_tenant("wiki"), copied)

    def test_least_recently_read_copy_dropped(self, copy_db: Database) -> None:
        """A store keeps copies of the board periods it read last, board_copies at most."""
        plain = copy_db.store()
        copied = copy_db.store(board_copies=2)
        rewards_over(plain).record_many(batch(random.Random(1), 0, 20))
        for board, period in (("pts", "all"), ("pts", "2026-03-02"), ("pts", "2026-03-03")):
            copied.board_size(board, period)
        copies = copied._copies
        assert copies is not None
        assert list(copies._copies) == [("pts", "2026-03-02"), ("pts", "2026-03-03")]
        copied.board_size("pts", "2026-03-02")
        copied.board_size("pts", "all")
        assert list(copies._copies) == [("pts", "2026-03-02"), ("pts", "all")]
        assert_same_reads(plain, copied)


class TestCatchingUp:
    def test_threads_reuse_their_data_versions(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """On a SQLite file, threads that take turns reading a copy while nothing is
        committed catch up once each, not at every read (each thread's connection has
        its own data version)."""
        db = open_database("sqlite", tmp_path, lambda name: "")
        try:
            plain = db.store()
            copied = db.store(board_copies=2)
            rewards_over(plain).record_many(batch(random.Random(6), 0, 20))
            caught: Counter[int] = Counter()
            original = BoardCopies._catch_up

            def counted(self: BoardCopies, *args: Any) -> None:
                caught[threading.get_ident()] += 1
                original(self, *args)

            monkeypatch.setattr(BoardCopies, "_catch_up", counted)
            turns = [threading.Event() for _ in range(40)]

            def reads(mine: range) -> None:
                for turn in mine:
                    turns[turn].wait()
                    copied.board_size("pts", "all")
                    if turn + 1 < len(turns):
                        turns[turn + 1].set()

            threads = [threading.Thread(target=reads, args=(range(k, 40, 2),)) for k in range(2)]
            for thread in threads:
                thread.start()
            turns[0].set()
            for thread in threads:
                thread.join()
            assert sorted(caught.values()) == [1, 1]
            rewards_over(plain).record_many(batch(random.Random(7), 100, 3))
            assert_same_reads(plain, copied)
        finally:
            db.drop()

    def test_views_of_a_tenant_share_its_copies(self, copy_db: Database) -> None:
        """Every view of a store for one tenant (for_tenant, Rewards(store, tenant=...))
        shares that tenant's copies: a board is loaded once, not per view."""
        store = copy_db.store(board_copies=2)
        assert store.for_tenant("wiki")._copies is store.for_tenant("wiki")._copies
        assert store.for_tenant("wiki")._copies is not store._copies
        assert store.for_tenant(store.tenant)._copies is store._copies
        first = Rewards(store, tenant="wiki", rules=BOARD_RULES, leaderboards=BOARDS)
        second = Rewards(store, tenant="wiki", rules=BOARD_RULES, leaderboards=BOARDS)
        assert first.store._copies is second.store._copies

    def test_no_pruning_in_a_hosts_transaction(
        self, copy_db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A batch in the host's transaction logs its change but leaves pruning to the
        store's own transactions (at REPEATABLE READ another transaction's pruning would
        fail the host's)."""
        monkeypatch.setattr(_sql_copies, "PRUNE_EVERY", 1)
        monkeypatch.setattr(_sql_copies, "KEEP", 0)
        pruned: list[int] = []
        original = ChangeLog._prune

        def counted(self: ChangeLog, conn: Any, upto: int) -> None:
            pruned.append(upto)
            original(self, conn, upto)

        monkeypatch.setattr(ChangeLog, "_prune", counted)
        plain = copy_db.store()
        writer = rewards_over(plain)
        with plain.engine.begin() as conn:
            writer.record(scored(1, "ann", 5), connection=conn)
        assert pruned == []
        writer.record(scored(2, "bob", 7))
        assert len(pruned) == 1


@pytest.mark.postgresql
class TestCommitOrder:
    def test_transaction_committed_after_a_later_one(
        self, server_url: Callable[[str], str], tmp_path: Path, spied: Counter[str]
    ) -> None:
        """On PostgreSQL a transaction that began first may commit last: a copy read between
        the two commits sees the later one's change, and the next read sees the first
        one's, caught up by subjects (not by a whole load)."""
        db = open_database("postgresql", tmp_path, server_url)
        try:
            plain = db.store()
            copied = db.store(board_copies=8)
            rewards_over(plain).record_many([scored(n, f"p{n}", n + 1) for n in range(10)])
            assert copied.board_size("pts", "all") == 10
            assert_same_reads(plain, copied)
            loads = spied["_load"]

            def row(subject: str, score: float) -> BoardRow:
                return BoardRow(-score, 1.0, subject, score, score, 1)  # best first

            first, second = plain.engine.connect(), plain.engine.connect()
            try:
                # Scores in other count bands than each other's: the two never wait.
                with first.begin():
                    plain._boards.apply(first, {("pts", "all", "ann"): row("ann", 3.0)})
                    with second.begin():
                        plain._boards.apply(second, {("pts", "all", "bob"): row("bob", 900.0)})
                    assert_same_reads(plain, copied)
                    bob = copied.board_standing("pts", "all", "bob")
                    assert bob is not None
                    assert bob.better == 0
                    assert copied.board_standing("pts", "all", "ann") is None
                assert_same_reads(plain, copied)
                ann = copied.board_standing("pts", "all", "ann")
                assert ann is not None
                assert ann.row.score == 3.0
            finally:
                first.close()
                second.close()
            changes = plain.tables.board_changes
            assert changes is not None
            with plain.engine.connect() as conn:
                txids = conn.execute(
                    sa.select(changes.c.subjects, changes.c.txid).order_by(changes.c.seq)
                ).all()
            # The first transaction's change has the lower txid, and committed last.
            assert [s for s, _ in txids[-2:]] == ['["ann"]', '["bob"]']
            assert txids[-2][1] < txids[-1][1]
            assert spied["_load"] == loads
            assert spied["_update"] >= 2
        finally:
            db.drop()

    def test_long_transaction_elsewhere_causes_no_reloads(
        self,
        server_url: Callable[[str], str],
        tmp_path: Path,
        spied: Counter[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """While another transaction (of anything, anywhere on the server) stays open, the
        log is pruned only below it: copies keep catching up by changes, never load their
        boards at every read, and read as the database does."""
        monkeypatch.setattr(_sql_copies, "PRUNE_EVERY", 2)
        monkeypatch.setattr(_sql_copies, "KEEP", 2)
        db = open_database("postgresql", tmp_path, server_url)
        try:
            plain = db.store()
            copied = db.store(board_copies=2)
            writer = rewards_over(plain)
            writer.record_many([scored(n, f"u{n}", n + 1) for n in range(10)])
            assert copied.board_size("pts", "all") == 10
            with plain.engine.connect() as side:
                side.exec_driver_sql("SELECT txid_current()")  # an open transaction, an xid
                loads = spied["_load"]
                for n in range(12):
                    writer.record(scored(100 + n, f"u{n % 10}", 1000 + n))
                    assert copied.board_size("pts", "all") == 10
                # Once at most: a prune may delete changes past the snapshot the copy
                # had before (older than the open transaction's, which other sessions
                # on the server move), never those of a later snapshot.
                assert spied["_load"] <= loads + 1
                loads = spied["_load"]
                for _ in range(5):
                    copied.board_size("pts", "all")  # nothing written: nothing to load
                assert spied["_load"] == loads
                assert assert_same_reads(plain, copied) > 0
                side.rollback()
        finally:
            db.drop()


class TestThreads:
    def test_threads_reading_while_another_records(self, copy_db: Database) -> None:
        """Four threads read one store's copies while a fifth records through another
        store: no read fails, and afterwards every read equals the database's."""
        plain = copy_db.store()
        copied = copy_db.store(board_copies=4)
        writer = rewards_over(plain)
        rng = random.Random(9)
        writer.record_many(batch(rng, 0, 20))
        done = threading.Event()
        errors: list[BaseException] = []

        def read(seed: int) -> None:
            local = random.Random(seed)
            try:
                while not done.is_set():
                    user = local.choice(USERS)
                    copied.board_around("pts", "all", user, 2, 2)
                    copied.board_standing("pts", "2026-03-02", user)
                    copied.board_page("pts", "all", 0, 5)
            except BaseException as exc:  # reported below
                errors.append(exc)

        readers = [threading.Thread(target=read, args=(n,)) for n in range(4)]
        for thread in readers:
            thread.start()
        try:
            for n in range(20, 140, 6):
                writer.record_many(batch(rng, n, 6))
        finally:
            done.set()
            for thread in readers:
                thread.join()
        assert errors == []
        assert assert_same_reads(plain, copied) > 0


@pytest.mark.postgresql
class TestLostConnection:
    def test_read_after_the_connection_was_lost(
        self, server_url: Callable[[str], str], tmp_path: Path
    ) -> None:
        """On PostgreSQL a thread's copies read on a connection of its own: when the
        server ends it, the read fails with StorageError and the next read opens a new
        one and answers as the database does."""
        db = open_database("postgresql", tmp_path, server_url)
        try:
            plain = db.store()
            copied = db.store(board_copies=2)
            writer = rewards_over(plain)
            writer.record_many(batch(random.Random(4), 0, 20))
            assert copied.board_size("pts", "all") == plain.board_size("pts", "all")
            readers = copied._copy_readers
            assert readers is not None
            pid = readers.get().info.backend_pid
            with plain.engine.connect() as conn:
                conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            writer.record_many(batch(random.Random(5), 20, 5))
            with pytest.raises(StorageError, match="reading a leaderboard"):
                copied.board_size("pts", "all")
            assert assert_same_reads(plain, copied) > 0
            assert readers.get().info.backend_pid != pid
        finally:
            db.drop()


@pytest.mark.postgresql
class TestProcesses:
    WORKERS = 3
    PER_WORKER = 240

    def test_copy_equals_the_database_after_concurrent_recording(
        self, server_url: Callable[[str], str], tmp_path: Path
    ) -> None:
        """While three processes record and opt people in and out at once, a store with
        copies reads the board over and over; afterwards its reads equal the database's."""
        db = open_database("postgresql", tmp_path, server_url)
        try:
            plain = db.store()
            copied = db.store(board_copies=4)
            plain.engine.dispose()
            with ProcessPoolExecutor(self.WORKERS, mp_context=process_context()) as pool:
                futures = [
                    pool.submit(
                        record_board_stream,
                        db.url,
                        db.prefix,
                        worker=worker,
                        count=self.PER_WORKER,
                        users=30,
                        batch=8,
                    )
                    for worker in range(self.WORKERS)
                ]
                reads = 0
                while not all(f.done() for f in futures):
                    copied.board_around("pts", "all", f"u{reads % 30}", 3, 3)
                    copied.board_page("pts", "2026-03-02", 0, 10)
                    reads += 1
                assert sum(f.result() for f in futures) == self.WORKERS * self.PER_WORKER
            assert reads > 0
            assert assert_same_reads(plain, copied) > 30
        finally:
            db.drop()


class TestOption:
    @pytest.mark.parametrize("value", [-1, 1.5, "2", True, None, 1001])
    def test_bad_values_refused(self, value: Any, tmp_path: Path) -> None:
        """board_copies must be a whole number from 0 to 1000; anything else is refused,
        naming the option, before the database is opened."""
        path = tmp_path / "db.sqlite"
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(f"sqlite:///{path}", board_copies=value)
        assert info.value.field == "board_copies"
        assert not path.exists()

    @pytest.mark.mysql
    def test_refused_on_mysql(self, server_url: Callable[[str], str]) -> None:
        """MySQL/MariaDB keep no board change log: board_copies is refused there, naming
        the option, before any table is created."""
        url = server_url("mysql")
        prefix = "t" + random.Random().randbytes(5).hex() + "_"
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(url, table_prefix=prefix, board_copies=1)
        assert info.value.field == "board_copies"
        assert "MySQL" in info.value.reason or "mysql" in info.value.reason
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                names = sa.inspect(conn).get_table_names()
        finally:
            engine.dispose()
        assert not [name for name in names if name.startswith(prefix)]

    def test_in_memory_sqlite(self) -> None:
        """An in-memory SQLite database (one shared connection, no data version to go by)
        keeps copies too, caught up at every read."""
        copied = SQLAlchemyStore("sqlite://", board_copies=2)
        try:
            plain = copied.for_tenant(copied.tenant)
            plain._copies = None  # the same database, read without copies
            no_database_reads(copied)
            rewards = rewards_over(copied)
            rng = random.Random(3)
            for n in range(0, 60, 20):
                rewards.record_many(batch(rng, n, 20))
                assert assert_same_reads(plain, copied) > 0
        finally:
            copied.close()
