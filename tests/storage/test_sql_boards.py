"""Leaderboards in the SQL store: exact counts under concurrency, and the memory store's answers.

The SQL store ranks from per-score count rows (see ``e2badges.storage._sql_boards``);
these tests check those counts against a brute-force recount of the stored rows
after several processes updated one board at once, and check every standing and
page against the memory store's for random boards.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sql_support import Database, open_database, process_context
from sql_workers import record_board_stream

from e2badges import Activity, FrozenClock, Leaderboard, PointsMetric, Rewards
from e2badges._leaderboards import BoardRow
from e2badges.storage import MemoryStore, Store
from e2badges.storage._sql_boards import bands
from e2badges.storage.sqlalchemy import SQLAlchemyStore
from e2badges.testing.conformance import BOARD_RULES, BOARDS, T0

WORKERS = 4
PER_WORKER = 600
USERS = 60  # few people and few scores: many moves, ties and shared count rows
BATCH = 20


def recount(store: SQLAlchemyStore) -> tuple[dict[tuple[str, str], list[BoardRow]], set[str]]:
    """Return the listed rows of every board and period, by brute force, and the opt-outs."""
    t = store.tables
    c = t.board_rows.c
    with store.engine.connect() as conn:
        hidden = set(conn.execute(sa.select(t.board_opt_outs.c.user_id)).scalars())
        found = conn.execute(
            sa.select(
                c.board,
                c.period,
                c.sort_key,
                c.reached,
                c.subject,
                c.score,
                c.total,
                c.count,
                c.team,
            )
        ).all()
    listed: dict[tuple[str, str], list[BoardRow]] = {}
    for board, period, key, reached, subject, score, total, count, team in found:
        row = BoardRow(key, reached, subject, score, total, count, (), bool(team))
        if key is not None and (team or subject not in hidden):
            listed.setdefault((board, period), []).append(row)
    for rows in listed.values():
        rows.sort()
    return listed, hidden


def stored_counts(store: SQLAlchemyStore) -> dict[tuple[str, str, int, float], int]:
    """Return every count row as stored."""
    c = store.tables.board_counts.c
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(c.board, c.period, c.level, c.sort_key, c.n)).all()
    return {(b, p, level, k): n for b, p, level, k, n in rows}


def expected_counts(
    listed: dict[tuple[str, str], list[BoardRow]],
) -> dict[tuple[str, str, int, float], int]:
    """Return the count rows the listed rows call for: per key, and per band of keys."""
    out: dict[tuple[str, str, int, float], int] = {}
    for (board, period), rows in listed.items():
        for row in rows:
            key: float = row.sort_key  # type: ignore[assignment]  # listed rows are ranked
            fine, coarse = bands(key)
            for level, value in ((0, key), (1, fine), (2, coarse)):
                slot = (board, period, level, value)
                out[slot] = out.get(slot, 0) + 1
    return out


class TestConcurrentBoards:
    def test_counts_stay_exact(self, server_db: Database) -> None:
        """Several processes updating one board (and opting people out) leave count rows
        equal to a recount, and every standing equal to a brute-force one."""
        store = server_db.store()
        store.engine.dispose()
        context = process_context()
        with ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
            futures = [
                pool.submit(
                    record_board_stream,
                    server_db.url,
                    server_db.prefix,
                    worker=worker,
                    count=PER_WORKER,
                    users=USERS,
                    batch=BATCH,
                )
                for worker in range(WORKERS)
            ]
            assert sum(f.result() for f in futures) == WORKERS * PER_WORKER
        listed, hidden = recount(store)
        assert stored_counts(store) == expected_counts(listed)
        assert hidden  # the opt-outs did run
        # Every person's points on the all-time board equal the sum of their activities.
        reference = MemoryStore()
        memory = Rewards(reference, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))
        memory.record_many(list(store.iter_activities()))
        for user in hidden:
            reference.set_board_opt_out(user, True)
        assert_same_answers(reference, store, ("pts", "all"), [f"u{n}" for n in range(USERS)])
        for (board, period), rows in listed.items():
            for position, row in enumerate(rows):
                standing = store.board_standing(board, period, row.subject)
                assert standing is not None
                better = sum(1 for other in rows if other.sort_key < row.sort_key)  # type: ignore[operator]
                assert (standing.size, standing.before, standing.better) == (
                    len(rows),
                    position,
                    better,
                ), (board, period, row.subject)


def assert_same_answers(
    expected: Store, actual: Store, board_period: tuple[str, str], subjects: list[str]
) -> None:
    """Assert that two stores give the same size, pages and standings for one board."""
    board, period = board_period
    size = expected.board_size(board, period)
    assert actual.board_size(board, period) == size
    for subject in subjects:
        assert actual.board_standing(board, period, subject) == expected.board_standing(
            board, period, subject
        ), subject
    for start in range(size + 1):
        assert actual.board_page(board, period, start, start + 3) == expected.board_page(
            board, period, start, start + 3
        ), start
    for subject in subjects:
        for before, after in ((0, 0), (1, 1), (2, 3), (4, 0)):
            want = expected.board_around(board, period, subject, before, after)
            assert actual.board_around(board, period, subject, before, after) == want, subject
            # Without positions the page may leave out the start of a page of one score.
            got = actual.board_around(board, period, subject, before, after, position=False)
            if want is None or got is None:
                assert got == want, subject
                continue
            if got.start is None:
                assert len({row.sort_key for row in got.rows}) == 1, subject
                got = got._replace(start=want.start)
            assert got == want, subject


SCORES = st.sampled_from([0, 1, 2, 3, 7, 8, 255, 256, 257, 1023, 1024, 5000])


_EXAMPLES = itertools.count()


class TestMatchesMemoryStore:
    @pytest.fixture(
        params=[
            pytest.param("sqlite", id="sqlite"),
            pytest.param("postgresql", marks=pytest.mark.postgresql, id="postgresql"),
            pytest.param("mysql", marks=pytest.mark.mysql, id="mysql"),
        ]
    )
    def sql_store(
        self, request: pytest.FixtureRequest, tmp_path: Path, server_url: Callable[[str], str]
    ) -> Iterator[Callable[[], Store]]:
        """Return a factory of empty SQL stores: in-memory SQLite, or on a server one
        tenant of one prefix per example (PostgreSQL reads a standing in one statement,
        the others in two)."""
        if request.param == "sqlite":
            yield lambda: SQLAlchemyStore("sqlite://")
            return
        database = open_database(request.param, tmp_path, server_url)
        root = database.store()
        yield lambda: root.for_tenant(f"example-{next(_EXAMPLES)}")
        database.drop()

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        activities=st.lists(
            st.tuples(st.integers(0, 7), SCORES, st.integers(0, 3), st.integers(0, 1)),
            min_size=1,
            max_size=30,
        ),
        opted_out=st.sets(st.integers(0, 7), max_size=3),
    )
    def test_standings_and_pages(
        self,
        sql_store: Callable[[], Store],
        activities: list[tuple[int, int, int, int]],
        opted_out: set[int],
    ) -> None:
        """On random boards (ties, band edges, opt-outs, several days) the SQL store gives
        the memory store's sizes, pages and standings."""
        stores: list[Store] = [MemoryStore(), sql_store()]
        try:
            for store in stores:
                rewards = Rewards(
                    store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0)
                )
                # Minutes repeat, so rows tie on score and on time reached.
                rewards.record_many(
                    [
                        Activity(
                            id=f"s{n}",
                            actor=f"u{user}",
                            kind="score",
                            value=value,
                            at=T0 + timedelta(days=day, minutes=minute),
                        )
                        for n, (user, value, minute, day) in enumerate(activities)
                    ]
                )
                for user in opted_out:
                    store.set_board_opt_out(f"u{user}", True)
            subjects = [f"u{n}" for n in range(8)]
            for period in ("all", "2026-03-02", "2026-03-03"):
                assert_same_answers(stores[0], stores[1], ("pts", period), subjects)
        finally:
            for store in stores:
                store.close()

    def test_hidden_person_alone_in_their_bands(self, sql_store: Callable[[], Store]) -> None:
        """A hidden person whose score shares no band with a listed one (so their bands
        have no count rows) still stands where they would be listed, with exact counts."""
        stores: list[Store] = [MemoryStore(), sql_store()]
        scores = {"a": 3, "b": 40, "c": 700, "d": 9000, "e": 9000, "f": 120_000}
        try:
            for store in stores:
                rewards = Rewards(
                    store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0)
                )
                rewards.record_many(
                    [
                        Activity(id=f"s{user}", actor=user, kind="score", value=value, at=T0)
                        for user, value in scores.items()
                    ]
                )
                for user in ("c", "f", "a"):
                    store.set_board_opt_out(user, True)
            hidden = stores[1].board_standing("pts", "all", "c")
            assert hidden is not None
            assert hidden.hidden
            assert (hidden.better, hidden.size) == (2, 3)  # d and e; listed: b, d, e
            assert_same_answers(stores[0], stores[1], ("pts", "all"), sorted(scores))
        finally:
            for store in stores:
                store.close()


class TestReadsUseIndexes:
    def test_no_board_read_scans_a_table(self) -> None:
        """Every statement of a leaderboard read reads the board tables through an index
        (SQLite's plan: a SEARCH, never a SCAN of a board table)."""
        store = SQLAlchemyStore("sqlite://")
        try:
            rewards = Rewards(store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))
            rewards.record_many(
                [
                    Activity(id=f"s{n}", actor=f"u{n}", kind="score", value=n % 4, at=T0)
                    for n in range(1, 30)
                ]
            )
            boards = store._boards
            t = store.tenant  # the first parameter of each statement
            at = {"t": t, "b": "pts", "p": "all", "s": "u5", "k": -1.0, "r": 0.0}
            at["fine"] = at["coarse"] = -1.0
            statements: list[tuple[str, object]] = [
                (boards.sql_row, (t, "pts", "all", "u5")),
                (boards._limited(boards.sql_head, 10), (t, "pts", "all")),
                (boards._limited(boards.sql_top, 10), (t, "pts", "all", t, "pts", "all")),
                (boards._limited(boards.sql_from, 10, 3), (t, "pts", "all", -1.0)),
                (boards.sql_size, (t, "pts", "all")),
                (boards.sql_level_all, (t, "pts", "all", 2)),
                (boards.sql_level_from, (t, "pts", "all", 1, -2.0, -1.0)),
                (boards.sql_distinct, (t, "pts", "all", -1.0)),
            ]
            for dense in (False, True):
                for position in (False, True):
                    for before, after, sized in ((0, 0, True), (5, 5, False), (0, 9, False)):
                        statements.append(
                            (boards._statement(dense, position, before, after, sized), at)
                        )
            tables = (store.tables.board_rows.name, store.tables.board_counts.name)
            with store.engine.connect() as conn:
                for sql, params in statements:
                    plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()  # type: ignore[arg-type]
                    steps = [step[3] for step in plan]
                    assert steps, sql
                    scans = [s for s in steps if s.startswith("SCAN") and s.split()[1] in tables]
                    assert scans == [], (sql, steps)
                    assert any(s.startswith("SEARCH") for s in steps), (sql, steps)
        finally:
            store.close()


@pytest.mark.postgresql
def test_postgresql_settles_on_generic_plans(
    tmp_path: Path, server_url: Callable[[str], str]
) -> None:
    """Every board read is a statement PostgreSQL runs on a generic plan after a few
    calls, instead of planning it again at every call (row limits in the text).

    The board is big enough that a generic plan with a parameter limit (which
    expects a tenth of the rows) would cost more than planning each call.
    """
    database = open_database("postgresql", tmp_path, server_url)
    try:
        store = database.store()
        rewards = Rewards(store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))
        rewards.record_many(
            [
                Activity(id=f"s{n}", actor=f"u{n}", kind="score", value=n % 97, at=T0)
                for n in range(1, 3001)
            ]
        )
        with store.engine.begin() as conn:  # statistics, as autovacuum would gather them
            for table in (store.tables.board_rows, store.tables.board_counts):
                conn.exec_driver_sql(f"ANALYZE {table.name}")
        boards = store._boards
        fairy = store.engine.raw_connection()  # one connection: prepared statements are its own
        try:
            driver = fairy.dbapi_connection
            driver.autocommit = True  # type: ignore[union-attr]
            for n in range(20):
                user = f"u{n + 1}"
                boards.page(driver, "pts", "all", 0, 10, dense=False)
                boards.page(driver, "pts", "all", 0, 10, dense=False, sized=False)
                boards.page(driver, "pts", "all", 20, 30, dense=True)
                boards.standing(driver, "pts", "all", user, dense=True)
                boards.around(
                    driver, "pts", "all", user, before=5, after=5, dense=False, position=False
                )
                boards.size(driver, "pts", "all")
            cursor = driver.cursor()
            cursor.execute(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE strpos(statement, %s) > 0 OR strpos(statement, %s) > 0",
                (store.tables.board_rows.name, store.tables.board_counts.name),
            )
            plans = cursor.fetchall()
        finally:
            fairy.close()
        # The pages, the later page's counts by level and distinct keys, the size, the
        # standing and the rows around one: every statement the reads above ran.
        assert len(plans) >= 9
        for statement, generic, custom in plans:
            assert generic > 0, (statement, custom)
    finally:
        database.drop()


@pytest.mark.mysql
def test_around_row_moving_between_statements_reads_one_snapshot(
    mysql_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On MySQL/MariaDB, where around() reads the person's row and then the rows next
    to it in two statements, commits that move the row between them on every try do
    not mix two states: the person appears once, and the answer is the one a read
    after the commits gives."""
    store = mysql_db.store()
    rewards = Rewards(store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))
    rewards.record_many([scored(n, f"u{n}", 10 * n) for n in range(1, 8)] + [scored(8, "h", 35)])
    other = Rewards(mysql_db.store(), rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))
    boards = store._boards
    fetch = boards._fetch
    moves = itertools.count(9)

    def move_after_row_read(driver: object, sql: str, params: object) -> list[object]:
        found = fetch(driver, sql, params)
        if sql == boards.sql_row:
            # h climbs past the next person after each read of its row.
            other.record(scored(next(moves), "h", 10))
        return found

    monkeypatch.setattr(boards, "_fetch", move_after_row_read)
    during = store.board_around("pts", "all", "h", 2, 2)
    monkeypatch.undo()
    assert during is not None
    subjects = [row.subject for row in during.rows]
    assert subjects.count("h") == 1
    assert next(moves) == 11  # both tries of two statements saw the row move
    assert during == store.board_around("pts", "all", "h", 2, 2)
    assert [(row.subject, row.score) for row in during.rows] == [
        ("u7", 70),
        ("u6", 60),
        ("h", 55),
        ("u5", 50),
        ("u4", 40),
    ]


def scored(n: int, actor: str, value: float) -> Activity:
    """Return a ``score`` activity ``m<n>`` worth ``value``, n minutes after T0."""
    return Activity(
        id=f"m{n}", actor=actor, kind="score", value=value, at=T0 + timedelta(minutes=n)
    )


# User ids a collation other than C orders otherwise: by code point, upper case comes
# before "_", "_" before lower case, and "é" (U+00E9) after every ASCII letter.
TIED = ["a", "B", "b", "A", "_x", "é", "f"]
BY_CODE_POINT = ["A", "B", "_x", "a", "b", "f", "é"]
# Kinds start with a letter: en-US puts them in the order a, A, b, B, f, z, Z.
KINDS = ["a.x", "B.x", "b.x", "A.x", "Z.x", "z.x", "f.x"]


@pytest.mark.postgresql
class TestCodePointOrderOnPostgresql:
    def test_ties_are_listed_by_code_point(self, collated_url: str) -> None:
        """On a PostgreSQL database whose default collation is not C (ICU en-US), rows
        that tie on score and time reached are listed by user id in code point order,
        as the memory store lists them: the top, ranks, the rows around one, pages and
        standings (en-US put them in the order _x, a, A, b, B, é, f; rank("B") was 5)."""
        database = Database("postgresql", collated_url)
        stores: list[Store] = [MemoryStore(), database.store()]
        board = Leaderboard(id="tied", metric=PointsMetric(), ranking="ordinal")
        try:
            views = []
            for store in stores:
                rewards = Rewards(
                    store, rules=BOARD_RULES, leaderboards=[board], clock=FrozenClock(T0)
                )
                rewards.record_many(
                    [
                        Activity(id=f"s-{user}", actor=user, kind="score", value=10, at=T0)
                        for user in TIED
                    ]
                )
                views.append(rewards.leaderboard("tied"))
            memory, sql = views
            assert [e.user for e in memory.top(10)] == BY_CODE_POINT
            assert [(e.user, e.rank) for e in sql.top(10)] == [
                (e.user, e.rank) for e in memory.top(10)
            ]
            assert sql.rank("B") == memory.rank("B") == 2
            for user in TIED:
                assert [e.user for e in sql.around(user, 2)] == [
                    e.user for e in memory.around(user, 2)
                ], user
            assert_same_answers(stores[0], stores[1], ("tied", "all"), TIED)
        finally:
            stores[0].close()
            database.drop()

    def test_activity_totals_are_sorted_by_code_point(self, collated_url: str) -> None:
        """On a PostgreSQL database whose default collation is not C, activity totals
        grouped by actor, kind or team are sorted by code point, as the memory store
        sorts them."""
        database = Database("postgresql", collated_url)
        stores: list[Store] = [MemoryStore(), database.store()]
        try:
            for store in stores:
                Rewards(store, kinds=KINDS, clock=FrozenClock(T0)).record_many(
                    [
                        Activity(
                            id=f"s-{user}",
                            actor=user,
                            kind=kind,
                            teams=(f"t{user}",),
                            at=T0,
                        )
                        for user, kind in zip(TIED, KINDS, strict=True)
                    ]
                )
            memory, sql = stores
            for by in (("actor",), ("kind",), ("team",), ("day", "actor")):
                want = memory.activity_totals(by=by)
                assert [row[len(by) - 1] for row in want][:1] == [
                    {"actor": "A", "kind": "A.x", "team": "tA"}[by[-1]]
                ], by
                assert sql.activity_totals(by=by) == want, by
        finally:
            stores[0].close()
            database.drop()

    def test_listing_index_serves_the_listing_order(self, collated_url: str) -> None:
        """On a PostgreSQL database whose default collation is not C, the listing index
        still gives the listing order: a page reads it in order with no Sort, and the
        rows around one read it backwards and forwards from the row, sorted only once
        they are merged with the row and the counts (planned with sorts disabled, so
        a Sort shows where the index could not give the order)."""
        database = Database("postgresql", collated_url)
        store = database.store()
        try:
            rewards = Rewards(store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))
            rewards.record_many(
                [
                    Activity(id=f"s-{user}", actor=user, kind="score", value=n % 3, at=T0)
                    for n, user in enumerate(TIED)
                ]
            )
            boards, t = store._boards, store.tenant
            at = {"t": t, "b": "pts", "p": "all", "s": "B"}
            pages: list[tuple[str, object]] = [
                (boards._limited(boards.sql_head, 3), (t, "pts", "all")),
                (boards._limited(boards.sql_top, 3), (t, "pts", "all", t, "pts", "all")),
                (boards._limited(boards.sql_from, 3, 1), (t, "pts", "all", 1.0)),
            ]
            listing = f"ix_{database.prefix}board_rows_listing"
            with store.engine.begin() as conn:
                for setting in ("enable_sort", "enable_seqscan", "enable_bitmapscan"):
                    conn.exec_driver_sql(f"SET LOCAL {setting} = off")

                def plan(sql: str, params: object) -> dict[str, Any]:
                    found = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", params)  # type: ignore[arg-type]
                    top: dict[str, Any] = found.scalar_one()[0]["Plan"]
                    return top

                for sql, params in pages:
                    nodes = list(_nodes(plan(sql, params)))
                    assert [n for n in nodes if n["Node Type"].endswith("Sort")] == [], sql
                    assert any(n.get("Index Name") == listing for n in nodes), sql
                for dense, position in itertools.product((False, True), repeat=2):
                    top = plan(boards._statement(dense, position, 2, 2), at)
                    assert top["Node Type"] == "Sort"  # the merged rows, a few
                    below = [n for p in top["Plans"] for n in _nodes(p)]
                    assert [n for n in below if n["Node Type"].endswith("Sort")] == []
                    directions = {
                        n["Scan Direction"] for n in below if n.get("Index Name") == listing
                    }
                    assert directions == {"Backward", "Forward"}
        finally:
            database.drop()


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield a PostgreSQL plan node (EXPLAIN's JSON) and every node below it."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)
