"""Leaderboard reads on a SQLite file: one reading connection per thread, outside the pool.

See ``e2badges.storage._sql_readers``.  These tests check what the readers promise:
no pool checkout per read, every read seeing the last commit, one connection per
thread, a fresh connection after a driver error and in a forked child, and none
left open by ``close()``.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.pool import StaticPool

from e2badges import FrozenClock, Rewards, StorageError
from e2badges.storage._sql_readers import readers_for
from e2badges.storage.sqlalchemy import SQLAlchemyStore
from e2badges.testing.conformance import BOARD_RULES, BOARDS, T0, scored


def _rewards(store: SQLAlchemyStore) -> Rewards:
    return Rewards(store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLAlchemyStore]:
    found = SQLAlchemyStore(f"sqlite:///{tmp_path / 'r.db'}")
    yield found
    found.close()


def _checkouts(store: SQLAlchemyStore) -> list[int]:
    seen: list[int] = []
    event.listen(store.engine.pool, "checkout", lambda *_: seen.append(1))
    return seen


def test_board_reads_take_no_pool_connection_after_the_first(store: SQLAlchemyStore) -> None:
    rewards = _rewards(store)
    rewards.record_many([scored(1, "ann", 5), scored(2, "bob", 3)])
    view = rewards.leaderboard("pts")
    assert [e.user for e in view.top(10)] == ["ann", "bob"]  # opens this thread's reader
    checkouts = _checkouts(store)
    for _ in range(5):
        assert view.rank("bob") == 2
        assert [e.user for e in view.around("bob", 3)] == ["ann", "bob"]
        assert view.size() == 2
    assert checkouts == []


def test_each_read_sees_the_last_commit(store: SQLAlchemyStore) -> None:
    rewards = _rewards(store)
    view = rewards.leaderboard("pts")
    rewards.record(scored(1, "ann", 5))
    assert view.rank("ann") == 1
    rewards.record(scored(2, "bob", 9))
    assert view.rank("ann") == 2
    # A commit made by another store (another process would do the same) is seen too.
    other = SQLAlchemyStore(store.engine.url.render_as_string(hide_password=False))
    try:
        _rewards(other).record(scored(3, "cy", 20))
    finally:
        other.close()
    assert [e.user for e in view.top(3)] == ["cy", "bob", "ann"]


def test_one_reading_connection_per_thread(store: SQLAlchemyStore) -> None:
    rewards = _rewards(store)
    rewards.record(scored(1, "ann", 5))
    readers = store._readers
    assert readers is not None
    pairs: dict[int, tuple[Any, Any]] = {}

    def read(index: int) -> None:
        rewards.leaderboard("pts").rank("ann")
        first = readers.get()
        rewards.leaderboard("pts").top(3)
        pairs[index] = (first, readers.get())

    threads = [threading.Thread(target=read, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(pairs) == [0, 1, 2]
    # The same connection within a thread, another one in each thread.
    assert all(first is second for first, second in pairs.values())
    assert len({id(first) for first, _ in pairs.values()}) == 3


def test_close_closes_every_reading_connection(store: SQLAlchemyStore) -> None:
    rewards = _rewards(store)
    rewards.record(scored(1, "ann", 5))
    readers = store._readers
    assert readers is not None
    opened, closed = threading.Event(), threading.Event()
    outcome: list[str] = []

    def read() -> None:
        rewards.leaderboard("pts").rank("ann")
        driver = readers.get()
        opened.set()
        closed.wait(10)
        try:
            driver.execute("SELECT 1")
        except sqlite3.ProgrammingError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=read)
    worker.start()
    assert opened.wait(10)
    rewards.leaderboard("pts").rank("ann")
    mine = readers.get()
    store.close()
    closed.set()
    worker.join()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        mine.execute("SELECT 1")
    assert len(outcome) == 1
    assert "closed" in outcome[0]  # the other thread's connection, closed by close()
    # A store used after close() reads through the pool again, opening no reader.
    assert readers.get() is None
    assert rewards.leaderboard("pts").rank("ann") == 1


def test_a_driver_error_drops_the_reading_connection(store: SQLAlchemyStore) -> None:
    rewards = _rewards(store)
    rewards.record(scored(1, "ann", 5))
    view = rewards.leaderboard("pts")
    assert view.rank("ann") == 1
    readers = store._readers
    assert readers is not None
    first = readers.get()
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE {store.table_prefix}board_rows RENAME TO hidden_rows")
    with pytest.raises(StorageError, match="reading a leaderboard"):
        view.rank("ann")
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE hidden_rows RENAME TO {store.table_prefix}board_rows")
    assert view.rank("ann") == 1
    assert readers.get() is not first


def _rank_in_child(store: SQLAlchemyStore, out: Any) -> None:
    readers = store._readers
    assert readers is not None
    inherited = readers._local.held.driver
    rank = _rewards(store).leaderboard("pts").rank("ann")
    out.send((rank, readers.get() is not inherited))


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)
def test_a_forked_child_opens_its_own_reading_connection(store: SQLAlchemyStore) -> None:
    rewards = _rewards(store)
    rewards.record(scored(1, "ann", 5))
    view = rewards.leaderboard("pts")
    assert view.rank("ann") == 1  # the parent's reader exists before the fork
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_rank_in_child, args=(store, send))
    child.start()
    got = receive.recv()
    child.join()
    assert child.exitcode == 0
    assert got == (1, True)
    rewards.record(scored(2, "bob", 9))
    assert view.rank("ann") == 2  # the parent's connection still works


def test_readers_apply_only_to_a_sqlite_file(tmp_path: Path) -> None:
    assert readers_for(create_engine(f"sqlite:///{tmp_path / 'f.db'}")) is not None
    assert readers_for(create_engine("sqlite://")) is None
    assert readers_for(create_engine("sqlite:///:memory:")) is None
    shared = create_engine(f"sqlite:///{tmp_path / 'g.db'}", poolclass=StaticPool)
    assert readers_for(shared) is None
    memory = SQLAlchemyStore("sqlite://")
    try:
        assert memory._readers is None
        rewards = _rewards(memory)
        rewards.record(scored(1, "ann", 5))
        assert rewards.leaderboard("pts").rank("ann") == 1
    finally:
        memory.close()


def test_a_standing_reads_one_snapshot(store: SQLAlchemyStore) -> None:
    """A commit landing between the two statements of an around() (the person's row,
    then the rows next to it and the counts) does not mix two states: the answer is
    the one from before the commit, and the next read sees the commit."""
    rewards = _rewards(store)
    rewards.record_many([scored(1, "ann", 5), scored(2, "bob", 3), scored(3, "cy", 1)])
    before = store.board_around("pts", "all", "bob", 1, 1)
    assert before is not None
    assert [row.subject for row in before.rows] == ["ann", "bob", "cy"]
    other = SQLAlchemyStore(store.engine.url.render_as_string(hide_password=False))
    readers = store._readers
    assert readers is not None
    driver = readers.get()
    fired: list[str] = []

    def commit_between(statement: str) -> None:
        # The second statement reads the listing index next to the row's key.
        if not fired and "listed = TRUE" in statement and "UNION ALL" in statement:
            fired.append(statement)
            _rewards(other).record(scored(4, "bob", 10))  # bob now leads

    driver.set_trace_callback(commit_between)
    try:
        during = store.board_around("pts", "all", "bob", 1, 1)
    finally:
        driver.set_trace_callback(None)
        other.close()
    assert fired
    assert during == before
    after = store.board_around("pts", "all", "bob", 1, 1)
    assert after is not None
    assert [row.subject for row in after.rows] == ["bob", "ann"]
    assert (after.start, after.better) == (0, 0)


def test_top_pages_are_cached_until_anything_commits(store: SQLAlchemyStore) -> None:
    """top() asks the database only for the data version while nothing was committed,
    and reads the page again after any commit: this store's, another store's (as
    another process's would be), an opt-out."""
    rewards = _rewards(store)
    rewards.record_many([scored(1, "ann", 5), scored(2, "bob", 3)])
    view = rewards.leaderboard("pts")
    assert [e.user for e in view.top(10)] == ["ann", "bob"]
    readers = store._readers
    assert readers is not None
    statements: list[str] = []
    readers.get().set_trace_callback(statements.append)
    assert [e.user for e in view.top(10)] == ["ann", "bob"]
    assert statements == ["PRAGMA data_version"]  # the page came from the cache
    rewards.record(scored(3, "cy", 4))
    assert [e.user for e in view.top(10)] == ["ann", "cy", "bob"]
    other = SQLAlchemyStore(store.engine.url.render_as_string(hide_password=False))
    try:
        _rewards(other).record(scored(4, "dee", 9))
    finally:
        other.close()
    assert [e.user for e in view.top(10)] == ["dee", "ann", "cy", "bob"]
    rewards.set_leaderboard_opt_out("ann", True)
    assert [e.user for e in view.top(10)] == ["dee", "cy", "bob"]
    assert any("board_rows" in s for s in statements)  # each change read the page again


def test_data_versions_of_two_threads_differ(store: SQLAlchemyStore) -> None:
    """Each thread's token names its own reading connection (their data versions are
    not comparable), and stays the same while nothing is committed."""
    rewards = _rewards(store)
    rewards.record(scored(1, "ann", 5))
    mine = store.board_version("pts", "all", 10)
    assert mine is not None
    assert store.board_version("pts", "all", 10) == mine
    found: list[object] = []
    worker = threading.Thread(target=lambda: found.append(store.board_version("pts", "all", 10)))
    worker.start()
    worker.join()
    assert found[0] is not None
    assert found[0] != mine
    rewards.record(scored(2, "bob", 3))
    assert store.board_version("pts", "all", 10) != mine


def test_a_failed_data_version_drops_the_reading_connection(store: SQLAlchemyStore) -> None:
    """A driver error while reading the data version is a StorageError, and the next
    read opens a new reading connection."""
    rewards = _rewards(store)
    rewards.record(scored(1, "ann", 5))
    view = rewards.leaderboard("pts")
    assert [e.user for e in view.top(3)] == ["ann"]
    readers = store._readers
    assert readers is not None
    broken = readers.get()
    broken.close()  # under the store's feet
    with pytest.raises(StorageError, match="reading a leaderboard"):
        view.top(3)
    assert [e.user for e in view.top(3)] == ["ann"]
    assert readers.get() is not broken


def test_close_while_a_thread_opens_its_reader(store: SQLAlchemyStore) -> None:
    """close() while another thread is opening its reading connection leaves none open:
    that thread gets None (it reads through the pool), and its connection is closed."""
    readers = readers_for(store.engine)
    assert readers is not None
    connecting, closed = threading.Event(), threading.Event()
    opened: list[Any] = []

    def on_checkout(driver: Any, _record: Any, _proxy: Any) -> None:
        # In the reading thread, past the check that the readers are open: close them now.
        opened.append(driver)
        connecting.set()
        assert closed.wait(10)

    event.listen(store.engine.pool, "checkout", on_checkout)
    got: list[Any] = []
    reader = threading.Thread(target=lambda: got.append(readers.get()))
    reader.start()
    assert connecting.wait(10)
    readers.close()
    closed.set()
    reader.join()
    assert got == [None]
    assert len(opened) == 1
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].execute("SELECT 1")


def test_threads_taking_turns_keep_their_cached_pages(store: SQLAlchemyStore) -> None:
    """Threads reading the same top page in turn each read it from the database once
    while nothing is committed: one thread's token (of its own reading connection) does
    not push another's cached page out."""
    rewards = _rewards(store)
    rewards.record_many([scored(1, "ann", 5), scored(2, "bob", 3)])
    view = rewards.leaderboard("pts")
    reads: list[int] = []
    board_page = store.board_page

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return board_page(*args, **kwargs)

    store.board_page = counted  # type: ignore[method-assign]
    turns = [threading.Event() for _ in range(6)]
    pages: list[list[str]] = []

    def read(first: int) -> None:
        for turn in range(first, 6, 2):
            assert turns[turn].wait(10)
            pages.append([e.user for e in view.top(10)])
            if turn + 1 < 6:
                turns[turn + 1].set()

    threads = [threading.Thread(target=read, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    turns[0].set()
    for thread in threads:
        thread.join()
    assert pages == [["ann", "bob"]] * 6
    assert len(reads) == 2  # once per thread
