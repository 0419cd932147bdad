"""Alembic migrations of the SQL store and the ``e2badges db`` command line."""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sql_support import Database
from sql_workers import RULES, T0

import e2badges
from e2badges import (
    Activity,
    Award,
    Badge,
    ConfigurationError,
    FrozenClock,
    Leaderboard,
    PointsMetric,
    Rewards,
    SchemaVersionError,
    StorageError,
    TransientStorageError,
    criteria,
)
from e2badges.cli import main
from e2badges.storage import _sql_schema
from e2badges.storage._codec import encode_record, epoch_us
from e2badges.storage._sql_migrate import revision_of
from e2badges.storage._sql_schema import SCHEMA_VERSION, build_tables, schema_lock
from e2badges.storage.migrations.versions.v0002_covering_listing import CLUSTERED
from e2badges.storage.migrations.versions.v0003_code_point_order import COLUMNS
from e2badges.storage.sqlalchemy import SQLAlchemyStore, schema_version, upgrade
from e2badges.testing.conformance import BOARD_RULES, BOARDS, scored


def _shape(conn: sa.Connection, prefix: str) -> dict[str, Any]:
    """Describe the tables under ``prefix`` (names without it): columns, keys, indexes."""
    inspector = sa.inspect(conn)
    out: dict[str, Any] = {}
    for name in sorted(inspector.get_table_names()):
        if not name.startswith(prefix) or name == f"{prefix}alembic_version":
            continue
        short = name[len(prefix) :]
        out[short] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)
            ],
            "pk": inspector.get_pk_constraint(name)["constrained_columns"],
            "indexes": sorted(
                (i["name"].replace(prefix, "<p>"), tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(name)
                if i["name"] is not None
            ),
            "unique": sorted(
                (u["name"].replace(prefix, "<p>"), tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(name)
                if u["name"] is not None
            ),
        }
    return out


def _change_log(conn: sa.Connection, prefix: str) -> sa.Table:
    """Return the board change log (version 5), which the current store writes: the
    tests that write rows as an older version holds them create it for the store, then
    drop it again."""
    table = build_tables(prefix, conn.dialect).board_changes
    assert table is not None
    return table


def _without_rowid(conn: sa.Connection, prefix: str) -> set[str]:
    """Return the tables under ``prefix`` that SQLite stores WITHOUT ROWID."""
    found = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all()
    return {
        name[len(prefix) :]
        for name, sql in found
        if name.startswith(prefix) and "WITHOUT ROWID" in sql.upper()
    }


class TestMigrations:
    def test_upgrade_equals_create_all(self, db: Database) -> None:
        """An empty database upgraded to head has exactly the tables create_all makes."""
        assert upgrade(db.url, table_prefix=db.prefix) == SCHEMA_VERSION == 5
        created = Database(db.backend, db.url)
        engine = sa.create_engine(db.url)
        try:
            with engine.begin() as conn:
                tables = build_tables(created.prefix, conn.dialect)
                tables.metadata.create_all(conn)
                assert _shape(conn, db.prefix) == _shape(conn, created.prefix)
                if db.backend == "sqlite":
                    assert _without_rowid(conn, db.prefix) == set(CLUSTERED)
                    assert _without_rowid(conn, created.prefix) == set(CLUSTERED)
                migrated = build_tables(db.prefix, conn.dialect)
                context = MigrationContext.configure(
                    conn,
                    opts={
                        "compare_type": True,
                        "include_name": lambda name, kind, _parents: (
                            kind != "table"
                            or (name.startswith(db.prefix) and not name.endswith("alembic_version"))
                        ),
                    },
                )
                assert compare_metadata(context, migrated.metadata) == []
        finally:
            engine.dispose()
            created.drop()

    def test_upgraded_database_is_used_as_is(self, db: Database) -> None:
        """A store opens an upgraded database without creating anything, and records."""
        upgrade(db.url, table_prefix=db.prefix)
        store = db.store(create_schema=False)
        rewards = Rewards(store, rules=RULES)
        rewards.record(Activity(id="x", actor="ann", kind="comment.created", at=T0))
        assert rewards.balance("ann") == 2

    def test_store_created_database_is_stamped(self, db: Database) -> None:
        """upgrade() recognises tables the store created and records their Alembic revision."""
        store = db.store()
        Rewards(store, rules=RULES).record(Activity(id="x", actor="ann", kind="comment.created"))
        assert upgrade(db.url, table_prefix=db.prefix) == 5
        with store.engine.connect() as conn:
            version_table = sa.table(f"{db.prefix}alembic_version", sa.column("version_num"))
            assert conn.execute(sa.select(version_table.c.version_num)).scalars().all() == ["0005"]
        assert store.count_activities() == 1

    def test_upgrade_never_goes_down(self, db: Database) -> None:
        """Asking upgrade() for a revision below the database's version is refused,
        naming the revision, and changes nothing."""
        store = db.store()
        Rewards(store, rules=RULES).record(Activity(id="x", actor="ann", kind="comment.created"))
        # Alembic's relative forms too (head-1, base+1, 0003-2, -1 from the database's
        # revision): they were taken, changed nothing and reported the version.
        below = ("0001", "0002", "0004", "base", "head-1", "base+1", "0003-2", "0002-1", "-1")
        for revision in below:
            with pytest.raises(ConfigurationError, match="never goes down") as info:
                upgrade(db.url, table_prefix=db.prefix, revision=revision)
            assert info.value.field == "revision"
        assert schema_version(db.url, table_prefix=db.prefix) == SCHEMA_VERSION
        assert upgrade(db.url, table_prefix=db.prefix, revision=f"{SCHEMA_VERSION:04d}") == 5
        for revision in ("head", "heads", "head-0", "0004+1", "base+5"):
            assert upgrade(db.url, table_prefix=db.prefix, revision=revision) == 5
        assert store.count_activities() == 1

    def test_relative_revisions_go_up(self, db: Database) -> None:
        """Relative revisions that name a version above the database's upgrade to it."""
        assert upgrade(db.url, table_prefix=db.prefix, revision="base+1") == 1
        assert upgrade(db.url, table_prefix=db.prefix, revision="+1") == 2
        assert upgrade(db.url, table_prefix=db.prefix, revision="head-3") == 2
        assert upgrade(db.url, table_prefix=db.prefix, revision="0002+1") == 3
        assert upgrade(db.url, table_prefix=db.prefix, revision="head-2") == 3
        assert upgrade(db.url, table_prefix=db.prefix, revision="+1") == 4
        assert upgrade(db.url, table_prefix=db.prefix, revision="head-1") == 4
        assert upgrade(db.url, table_prefix=db.prefix, revision="+1") == 5

    @pytest.mark.parametrize("revision", ["head+1", "+1", "0002+5", "base-1"])
    def test_relative_revision_out_of_range(self, db: Database, revision: str) -> None:
        """A relative revision past the newest version (or before base) is refused with
        ConfigurationError naming revision, not Alembic's bare AssertionError."""
        assert upgrade(db.url, table_prefix=db.prefix) == SCHEMA_VERSION
        with pytest.raises(ConfigurationError) as info:
            upgrade(db.url, table_prefix=db.prefix, revision=revision)
        assert info.value.field == "revision"
        assert schema_version(db.url, table_prefix=db.prefix) == SCHEMA_VERSION

    @pytest.mark.parametrize(
        "revision",
        [
            *("", " ", "HEAD", " head", "bogus", "3", "0099", "00"),
            *("+0", "-0", "x+1", "+1x", "@", 3, None),
        ],
    )
    def test_unknown_revision_refused_up_front(self, tmp_path: Path, revision: Any) -> None:
        """A revision that is not a non-empty str naming one Alembic can resolve (head,
        heads, base, 0001 to the newest, or a relative form that moves) raises
        ConfigurationError naming ``revision`` with the forms accepted, before anything
        connects: no SQLite file is created."""
        path = tmp_path / "never.db"
        with pytest.raises(ConfigurationError) as info:
            upgrade(f"sqlite:///{path}", revision=revision)
        assert info.value.field == "revision"
        assert info.value.subject == "e2badges db upgrade"
        assert f"{revision!r}" in info.value.reason
        assert f"head, base, 0001 to {SCHEMA_VERSION:04d}" in info.value.reason
        assert not path.exists()

    def test_version_1_is_upgraded_with_its_data(self, db: Database) -> None:
        """A database at version 1 is refused by the store, then upgraded to the current
        version keeping its rows: the listing index gains the columns of a page, and the
        boards read the same."""
        assert upgrade(db.url, table_prefix=db.prefix, revision="0001") == 1
        with pytest.raises(SchemaVersionError, match="older"):
            db.store(create_schema=False)
        # Write rows as version 1 holds them: the current store writes the same rows.
        engine = sa.create_engine(db.url)
        try:
            with engine.begin() as conn:
                if db.backend == "sqlite":
                    assert _without_rowid(conn, db.prefix) == set()  # version 1: rowid tables
                conn.execute(
                    sa.table(f"{db.prefix}meta", sa.column("name"), sa.column("value"))
                    .update()
                    .values(value=str(SCHEMA_VERSION))
                )
                _change_log(conn, db.prefix).create(conn)
            store = SQLAlchemyStore(engine, table_prefix=db.prefix, create_schema=False)
            rewards = Rewards(store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))
            rewards.record_many([scored(1, "ann", 5), scored(2, "bob", 9), scored(3, "cy", 5)])
            totals = store.activity_totals(by=("day", "actor"))
            firsts = store.first_active()
            assert len(totals) == 3
            with engine.begin() as conn:
                conn.execute(
                    sa.table(f"{db.prefix}meta", sa.column("name"), sa.column("value"))
                    .update()
                    .values(value="1")
                )
                _change_log(conn, db.prefix).drop(conn)
            store.close()
        finally:
            engine.dispose()
        assert upgrade(db.url, table_prefix=db.prefix) == SCHEMA_VERSION
        store = db.store(create_schema=False)
        rewards = Rewards(store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))
        view = rewards.leaderboard("pts")
        assert [(e.user, e.rank) for e in view.top(3)] == [("bob", 1), ("ann", 2), ("cy", 2)]
        assert [e.user for e in view.around("cy", 3)] == ["bob", "ann", "cy"]
        with store.engine.connect() as conn:
            listing = {
                i["name"]: tuple(i["column_names"])
                for i in sa.inspect(conn).get_indexes(f"{db.prefix}board_rows")
            }[f"ix_{db.prefix}board_rows_listing"]
        assert listing[-5:] == ("subject", "score", "total", "count", "team")
        assert store.activity_totals(by=("day", "actor")) == totals
        assert store.first_active() == firsts
        if db.backend == "sqlite":
            with store.engine.connect() as conn:
                assert _without_rowid(conn, db.prefix) == set(CLUSTERED)

    @pytest.mark.parametrize("start", ["0001", "0002", "0003", "0004"])
    def test_every_tenant_kept_by_db_upgrade(
        self, db: Database, capsys: pytest.CaptureFixture[str], start: str
    ) -> None:
        """`e2badges db upgrade` from each older version keeps every tenant's rows apart
        (one upgrade per prefix serves every tenant): balances, awards with their
        times, boards and activity counts read the same per tenant afterwards, and a
        second `db upgrade` changes nothing."""
        argv = ["db", "upgrade", "--url", db.url, "--prefix", db.prefix]
        assert main([*argv, f"--revision={start}"]) == 0
        badges = [Badge(id="first", criterion=criteria.Count(kind="score"), threshold=1)]
        meta = sa.table(f"{db.prefix}meta", sa.column("name"), sa.column("value"))
        people = {"acme": ["ann", "bob"], "globex": ["ann", "cy", "dee"]}
        engine = sa.create_engine(db.url)
        before: dict[str, Any] = {}

        def tenant_rewards(store: SQLAlchemyStore, tenant: str) -> Rewards:
            return Rewards(
                store.for_tenant(tenant),
                rules=BOARD_RULES,
                badges=badges,
                leaderboards=BOARDS,
                clock=FrozenClock(T0),
            )

        try:
            # Rows as the older version holds them: the current store writes the same
            # rows, but for awards.at_us (version 4), which is dropped on the way back.
            with engine.begin() as conn:
                conn.execute(meta.update().values(value=str(SCHEMA_VERSION)))
                if start != "0004":
                    conn.exec_driver_sql(f"ALTER TABLE {db.prefix}awards ADD COLUMN at_us BIGINT")
                _change_log(conn, db.prefix).create(conn)
            store = SQLAlchemyStore(engine, table_prefix=db.prefix, create_schema=False)
            for tenant, users in people.items():
                rewards = tenant_rewards(store, tenant)
                rewards.record_many([scored(n, u, 3 + n, day=n) for n, u in enumerate(users, 1)])
                before[tenant] = _tenant_view(rewards)
            store.close()
            with engine.begin() as conn:
                if start != "0004":
                    conn.exec_driver_sql(f"ALTER TABLE {db.prefix}awards DROP COLUMN at_us")
                _change_log(conn, db.prefix).drop(conn)
                conn.execute(meta.update().values(value=str(int(start))))
        finally:
            engine.dispose()
        assert before["acme"]["balances"] == {"ann": 4, "bob": 5}
        assert before["globex"]["balances"] == {"ann": 4, "cy": 5, "dee": 6}
        assert len(before["globex"]["first_awards"]) == 3
        capsys.readouterr()
        for _ in range(2):
            assert main(argv) == 0
            assert capsys.readouterr().out == (
                f"schema version {SCHEMA_VERSION} (tables with prefix {db.prefix!r})\n"
            )
            store = db.store(create_schema=False)
            for tenant in people:
                rewards = tenant_rewards(store, tenant)
                assert _tenant_view(rewards) == before[tenant]
            store.close()

    @pytest.mark.postgresql
    def test_version_2_is_upgraded_to_code_point_order(self, collated_url: str) -> None:
        """On PostgreSQL, in a database whose default collation is not C (ICU en-US), a
        database at version 2 is refused by the store, then upgraded to 3 keeping its
        rows: the ordered columns (COLUMNS of migration 0003) collate "C", nothing else
        does, and tied board rows and activity totals come in code point order."""
        db = Database("postgresql", collated_url)
        tied = ["a", "B", "b", "A", "_x", "é", "f"]
        board = Leaderboard(id="tied", metric=PointsMetric(), ranking="ordinal")
        meta = sa.table(f"{db.prefix}meta", sa.column("name"), sa.column("value"))
        collated = sa.text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_name LIKE :tables AND collation_name = 'C'"
        ).bindparams(tables=f"{db.prefix}%")
        engine = sa.create_engine(db.url)
        try:
            assert upgrade(db.url, table_prefix=db.prefix, revision="0002") == 2
            with pytest.raises(SchemaVersionError, match="older"):
                db.store(create_schema=False)
            # Write rows as version 2 holds them: the current store writes the same rows.
            with engine.begin() as conn:
                assert conn.execute(collated).all() == []
                conn.execute(meta.update().values(value=str(SCHEMA_VERSION)))
                _change_log(conn, db.prefix).create(conn)
            store = SQLAlchemyStore(engine, table_prefix=db.prefix, create_schema=False)
            rewards = Rewards(store, rules=BOARD_RULES, leaderboards=[board], clock=FrozenClock(T0))
            rewards.record_many(
                [Activity(id=f"s-{u}", actor=u, kind="score", value=10, at=T0) for u in tied]
            )
            # Version 2 lists the tie in the database's order.
            assert [e.user for e in rewards.leaderboard("tied").top(3)] == ["_x", "a", "A"]
            with engine.begin() as conn:
                conn.execute(meta.update().values(value="2"))
                _change_log(conn, db.prefix).drop(conn)
            store.close()
        finally:
            engine.dispose()
        try:
            assert upgrade(db.url, table_prefix=db.prefix) == SCHEMA_VERSION == 5
            store = db.store(create_schema=False)
            with store.engine.connect() as conn:
                found = {(t[len(db.prefix) :], c) for t, c in conn.execute(collated)}
            assert found == {(t, c) for t, columns in COLUMNS.items() for c in columns}
            rewards = Rewards(store, rules=BOARD_RULES, leaderboards=[board], clock=FrozenClock(T0))
            view = rewards.leaderboard("tied")
            by_code_point = ["A", "B", "_x", "a", "b", "f", "é"]
            assert [(e.user, e.rank) for e in view.top(10)] == [
                (u, n) for n, u in enumerate(by_code_point, 1)
            ]
            assert [e.user for e in view.around("_x", 3)] == ["B", "_x", "a"]
            assert [row[0] for row in store.activity_totals(by=("actor",))] == by_code_point
            assert store.count_activities() == len(tied)
        finally:
            db.drop()

    def test_version_3_is_upgraded_with_award_times(self, db: Database) -> None:
        """A database at version 3 is refused by the store, then upgraded to 4 keeping
        its awards: each row gets its award's time (at_us), the index of a person's
        awards holds it, and first_awards gives each person's earliest award, not the
        first recorded (an award of a late activity, recorded second, came first)."""
        assert upgrade(db.url, table_prefix=db.prefix, revision="0003") == 3
        with pytest.raises(SchemaVersionError, match="older"):
            db.store(create_schema=False)
        paris = timezone(timedelta(hours=1))
        awards = [  # in recording order; times before the epoch and with offsets too
            Award("ann", "poster", None, None, T0 + timedelta(days=30), "live", "count"),
            Award("ann", "commenter", None, None, T0.astimezone(paris), "old", "count"),
            Award("bob", "poster", None, None, datetime(1900, 1, 1, tzinfo=UTC), "b", "count"),
            Award("cy", "poster", None, None, T0 + timedelta(microseconds=7), "c", "count"),
        ]
        # Award rows as version 3 holds them (no at_us), over more than a page of the fill.
        version_3 = sa.table(
            f"{db.prefix}awards",
            *(sa.column(c) for c in ("tenant", "user_id", "badge", "award", "revocation")),
        )
        filler = Award("zed", "poster", None, None, T0 + timedelta(days=9), "z", "count")
        rows = [*awards, *[filler] * 1_500]
        engine = sa.create_engine(db.url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    version_3.insert(),
                    [
                        {"tenant": "default", "user_id": a.user, "badge": a.badge}
                        | {"award": encode_record(a), "revocation": None}
                        for a in rows
                    ],
                )
        finally:
            engine.dispose()
        assert upgrade(db.url, table_prefix=db.prefix) == SCHEMA_VERSION == 5
        store = db.store(create_schema=False)
        assert store.first_awards() == {
            "ann": T0.timestamp(),
            "bob": datetime(1900, 1, 1, tzinfo=UTC).timestamp(),
            "cy": (T0 + timedelta(microseconds=7)).timestamp(),
            "zed": filler.at.timestamp(),
        }
        assert [r.award for r in store.awards("ann")] == awards[:2]
        t = store.tables.awards
        with store.engine.connect() as conn:
            stored = conn.execute(sa.select(t.c.award, t.c.at_us).order_by(t.c.seq)).all()
            index = {
                i["name"]: tuple(i["column_names"]) for i in sa.inspect(conn).get_indexes(t.name)
            }[f"ix_{db.prefix}awards_user"]
        assert [at_us for _, at_us in stored] == [epoch_us(a.at) for a in rows]
        assert index == ("tenant", "user_id", "seq", "at_us")

    def test_upgrade_refuses_a_newer_database(self, db: Database) -> None:
        """upgrade() leaves a database at a schema version newer than it knows alone."""
        store = db.store()
        with store.engine.begin() as conn:
            conn.execute(store.tables.meta.update().values(value="7"))
        with pytest.raises(SchemaVersionError, match="newer"):
            upgrade(db.url, table_prefix=db.prefix)
        assert schema_version(db.url, table_prefix=db.prefix) == 7

    def test_upgrade_takes_an_engine(self, db: Database) -> None:
        """upgrade() migrates through a live Engine and leaves it undisposed."""
        engine = sa.create_engine(db.url)
        try:
            assert upgrade(engine, table_prefix=db.prefix) == 5
            assert SQLAlchemyStore(engine, table_prefix=db.prefix, create_schema=False)
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT 1")).scalar() == 1
        finally:
            engine.dispose()

    @pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ"])
    def test_schema_committed_before_its_lock_ends(
        self, server_db: Database, isolation: str
    ) -> None:
        """A store creating the schema commits it before its schema lock ends: a second
        store that takes the lock while the first one's COMMIT is on its way finds the
        schema, instead of creating it again (on MySQL/MariaDB, whose named lock outlives
        no transaction, it failed with a duplicate schema_version row).  The second reads
        the version again in a new transaction under the lock, so it finds the schema at
        REPEATABLE READ too."""
        engine = sa.create_engine(server_db.url)
        committing = threading.Event()

        @sa.event.listens_for(engine, "commit")
        def slow_commit(_conn: sa.Connection) -> None:
            if not committing.is_set():
                committing.set()
                time.sleep(0.5)  # the COMMIT of the schema, slow to reach the server

        opened: list[str] = []

        second_engine = sa.create_engine(server_db.url, isolation_level=isolation)

        def second() -> None:
            committing.wait(10)
            server_db.stores.append(SQLAlchemyStore(second_engine, table_prefix=server_db.prefix))
            opened.append("second")

        other = threading.Thread(target=second)
        other.start()
        try:
            server_db.stores.append(SQLAlchemyStore(engine, table_prefix=server_db.prefix))
        finally:
            other.join(10)
            engine.dispose()
            second_engine.dispose()
        assert opened == ["second"]
        assert schema_version(server_db.url, table_prefix=server_db.prefix) == SCHEMA_VERSION

    @pytest.mark.mysql
    def test_schema_lock_timeout_is_a_storage_error(
        self,
        mysql_db: Database,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """On MySQL/MariaDB, a store opening (or `db upgrade`) while another process holds
        the prefix's schema lock past the wait raises StorageError naming the lock and
        the prefix (the command line: one line, exit status 1), not a bare TimeoutError;
        nothing is created."""
        monkeypatch.setattr(_sql_schema, "SCHEMA_LOCK_WAIT", 1)
        engine = sa.create_engine(mysql_db.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as other, schema_lock(other, mysql_db.prefix):
                with pytest.raises(StorageError, match="schema lock") as info:
                    mysql_db.store()
                assert not isinstance(info.value, TransientStorageError)
                assert repr(mysql_db.prefix) in str(info.value)
                argv = ["db", "upgrade", "--url", mysql_db.url, "--prefix", mysql_db.prefix]
                assert main(argv) == 1
                captured = capsys.readouterr()
                assert captured.out == ""
                assert captured.err.startswith("e2badges: store: ")
                assert "schema lock" in captured.err
                assert captured.err.count("\n") == 1
        finally:
            engine.dispose()
        assert schema_version(mysql_db.url, table_prefix=mysql_db.prefix) is None


class TestCommandLine:
    def test_db_upgrade_then_current(
        self, db: Database, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`e2badges db upgrade` creates the tables; `e2badges db current` prints the version."""
        if db.backend == "sqlite":
            sqlite3.connect(sa.make_url(db.url).database or "").close()  # an empty database
        assert main(["db", "current", "--url", db.url, "--prefix", db.prefix]) == 0
        assert capsys.readouterr().out == "none\n"
        assert main(["db", "upgrade", "--url", db.url, "--prefix", db.prefix]) == 0
        assert capsys.readouterr().out == f"schema version 5 (tables with prefix {db.prefix!r})\n"
        assert main(["db", "current", "--url", db.url, "--prefix", db.prefix]) == 0
        assert capsys.readouterr().out == "5\n"

    def test_current_creates_no_sqlite_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`db current` only reads: at a path with no SQLite file (a typo) it exits 1 naming
        url and the path, and leaves no file behind; the Python function refuses it too."""
        path = tmp_path / "typo.db"
        assert main(["db", "current", "--url", f"sqlite:///{path}"]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == (
            f"e2badges: SQLAlchemyStore: url: no SQLite database file at {str(path)!r} "
            "(reading does not create one)\n"
        )
        with pytest.raises(ConfigurationError) as info:
            schema_version(f"sqlite:///{path}")
        assert info.value.field == "url"
        assert main(["db", "current", "--url", f"sqlite:///file:{path}?uri=true"]) == 1
        assert "unable to open database file" in capsys.readouterr().err
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize("uri", [False, True], ids=["path", "file-uri"])
    def test_schema_version_of_an_engine_creates_no_sqlite_file(
        self, tmp_path: Path, uri: bool
    ) -> None:
        """schema_version() given an engine on a SQLite path with no file raises
        ConfigurationError naming engine and the path, as for a URL, and creates no
        file (connecting the engine did); on an existing file it reads the version."""
        path = tmp_path / "typo.db"
        url = f"sqlite:///file:{path}?uri=true" if uri else f"sqlite:///{path}"
        engine = sa.create_engine(url)
        try:
            with pytest.raises(ConfigurationError) as info:
                schema_version(engine)
            assert info.value.field == "engine"
            assert f"no SQLite database file at {str(path)!r}" in info.value.reason
            assert list(tmp_path.iterdir()) == []
            SQLAlchemyStore(f"sqlite:///{path}").close()
            assert schema_version(engine) == SCHEMA_VERSION
        finally:
            engine.dispose()

    def test_current_with_uri_flag_on_a_plain_path(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`?uri=true` on a plain path (not a `file:` URI) reads that file read-only, as
        the store opens it, and a missing one is refused: no stray file is made."""
        path = tmp_path / "made.db"
        SQLAlchemyStore(f"sqlite:///{path}").close()
        assert schema_version(f"sqlite:///{path}?uri=true") == SCHEMA_VERSION
        missing = tmp_path / "typo.db"
        assert main(["db", "current", "--url", f"sqlite:///{missing}?uri=true"]) == 1
        assert "no SQLite database file" in capsys.readouterr().err
        assert sorted(
            p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))
        ) == ["made.db"]

    def test_current_writes_nothing_to_a_sqlite_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`db current` opens a SQLite file read-only: one in rollback-journal mode stays so
        (opening it as a store switches it to WAL mode), byte for byte."""
        path = tmp_path / "plain.db"
        sqlite3.connect(path).close()
        before = path.read_bytes()
        assert main(["db", "current", "--url", f"sqlite:///{path}"]) == 0
        assert capsys.readouterr().out == "none\n"
        assert path.read_bytes() == before
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)

    def test_upgrade_to_base_reports_none(
        self, db: Database, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`db upgrade --revision base` on a database without the tables changes nothing
        and reports the version as `db current` does: none (it said "schema version 0",
        and wrote Alembic's version table)."""
        if db.backend == "sqlite":
            sqlite3.connect(sa.make_url(db.url).database or "").close()  # an empty database
        argv = ["--url", db.url, "--prefix", db.prefix]
        assert main(["db", "upgrade", *argv, "--revision", "base"]) == 0
        assert (
            capsys.readouterr().out == f"schema version none (tables with prefix {db.prefix!r})\n"
        )
        assert main(["db", "current", *argv]) == 0
        assert capsys.readouterr().out == "none\n"
        assert upgrade(db.url, table_prefix=db.prefix, revision="base") is None
        engine = sa.create_engine(db.url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                names = sa.inspect(conn).get_table_names()
        finally:
            engine.dispose()
        assert [name for name in names if name.startswith(db.prefix)] == []

    @pytest.mark.parametrize("revision", ["base", "head+1", "-1", "+6", "0005+1", "base-1"])
    @pytest.mark.parametrize("uri", [False, True], ids=["path", "file-uri"])
    def test_upgrade_with_nothing_to_do_creates_no_sqlite_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], revision: str, uri: bool
    ) -> None:
        """`db upgrade` at a path with no SQLite file leaves no file behind when it has
        nothing to do (`--revision base`: exit 0, version none) or refuses the revision
        (past the newest version, before base: exit 1 naming revision); upgrade() does
        the same, and so does one given an engine (a SQLite file was created on connect)."""
        path = tmp_path / "typo.db"
        url = f"sqlite:///file:{path}?uri=true" if uri else f"sqlite:///{path}"
        code = main(["db", "upgrade", "--url", url, f"--revision={revision}"])
        captured = capsys.readouterr()
        if revision == "base":
            assert (code, captured.out, captured.err) == (
                0,
                "schema version none (tables with prefix 'e2b_')\n",
                "",
            )
            assert upgrade(url, revision=revision) is None
            engine = sa.create_engine(url)
            try:
                assert upgrade(engine, revision=revision) is None
            finally:
                engine.dispose()
        else:
            assert (code, captured.out) == (1, "")
            assert captured.err.startswith("e2badges: e2badges db upgrade: revision: ")
            with pytest.raises(ConfigurationError) as info:
                upgrade(url, revision=revision)
            assert info.value.field == "revision"
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize("revision", ["0001", "base", "-1", "head+1"])
    def test_refused_upgrade_writes_nothing_to_a_sqlite_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], revision: str
    ) -> None:
        """A refused `db upgrade` (a revision below the database's version, or past the
        newest) leaves a SQLite file as it was, byte for byte: one in rollback-journal
        mode is not switched to WAL mode (as opening it to write does) and no -wal or
        -shm file is left; `--revision base` on a file without the tables too."""
        path = tmp_path / "kept.db"
        assert upgrade(f"sqlite:///{path}", revision="0002") == 2
        empty = tmp_path / "empty.db"
        sqlite3.connect(empty).close()
        for name in (path, empty):
            with sqlite3.connect(name) as conn:
                assert conn.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)
            conn.close()
        before = {p: p.read_bytes() for p in (path, empty)}
        assert main(["db", "upgrade", "--url", f"sqlite:///{path}", f"--revision={revision}"]) == 1
        assert capsys.readouterr().err.startswith("e2badges: e2badges db upgrade: revision: ")
        assert main(["db", "upgrade", "--url", f"sqlite:///{empty}", "--revision=base"]) == 0
        assert {p: p.read_bytes() for p in (path, empty)} == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db", "kept.db"]
        for name in (path, empty):
            with sqlite3.connect(name) as conn:
                assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            conn.close()

    def test_upgrade_after_the_tables_were_dropped(
        self, db: Database, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`db upgrade` after every e2badges table was dropped but Alembic's version table
        was left (storage.md lists the tables, not it) creates the schema afresh: a store
        then opens without creating anything, and records."""
        argv = ["--url", db.url, "--prefix", db.prefix]
        assert main(["db", "upgrade", *argv]) == 0
        _drop(db.url, [t.name for t in build_tables(db.prefix).all])
        assert _version_rows(db.url)[f"{db.prefix}alembic_version"] == [revision_of(SCHEMA_VERSION)]
        assert schema_version(db.url, table_prefix=db.prefix) is None
        capsys.readouterr()
        assert main(["db", "upgrade", *argv]) == 0
        assert capsys.readouterr().out == (
            f"schema version {SCHEMA_VERSION} (tables with prefix {db.prefix!r})\n"
        )
        rewards = Rewards(db.store(create_schema=False), rules=RULES)
        rewards.record(Activity(id="x", actor="ann", kind="comment.created", at=T0))
        assert rewards.balance("ann") == 2
        assert _version_rows(db.url)[f"{db.prefix}alembic_version"] == [revision_of(SCHEMA_VERSION)]

    def test_stale_version_table_beside_some_tables_exits_1(
        self, db: Database, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With Alembic's version table left and some e2badges tables too, but no
        schema_version row, `db upgrade` exits 1 with one line naming the version table,
        and changes nothing."""
        argv = ["--url", db.url, "--prefix", db.prefix]
        assert main(["db", "upgrade", *argv]) == 0
        meta = build_tables(db.prefix).meta.name
        _drop(db.url, [meta])
        capsys.readouterr()
        assert main(["db", "upgrade", *argv]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.count("\n") == 1
        assert captured.err.startswith("e2badges: store: ")
        assert f"{db.prefix}alembic_version" in captured.err
        assert _version_rows(db.url)[f"{db.prefix}alembic_version"] == [revision_of(SCHEMA_VERSION)]
        assert schema_version(db.url, table_prefix=db.prefix) is None

    def test_url_from_the_environment(
        self, db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without --url the command reads E2BADGES_DATABASE_URL."""
        monkeypatch.setenv("E2BADGES_DATABASE_URL", db.url)
        assert main(["db", "upgrade", "--prefix", db.prefix]) == 0
        assert "schema version 5" in capsys.readouterr().out

    def test_no_url_is_a_usage_error(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without --url or the variable the command exits 2 and says what is missing."""
        monkeypatch.delenv("E2BADGES_DATABASE_URL", raising=False)
        with pytest.raises(SystemExit) as info:
            main(["db", "upgrade"])
        assert info.value.code == 2
        assert "give --url or set E2BADGES_DATABASE_URL" in capsys.readouterr().err

    @pytest.mark.parametrize("action", ["current", "upgrade"])
    @pytest.mark.parametrize(
        "url", ["postgresql+psycopg://h:notaport/db", "mysql+pymysql://u@h/db?charset=latin1"]
    )
    def test_malformed_url_exits_1(
        self, capsys: pytest.CaptureFixture[str], action: str, url: str
    ) -> None:
        """A malformed URL exits 1 with the one-line `e2badges: ...` message naming url."""
        assert main(["db", action, "--url", url]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("e2badges: SQLAlchemyStore: url: ")
        assert captured.err.count("\n") == 1

    @pytest.mark.parametrize("value", ["3a", "0", "-1"])
    @pytest.mark.parametrize("action", ["current", "upgrade"])
    def test_unreadable_version_exits_1(
        self, db: Database, capsys: pytest.CaptureFixture[str], action: str, value: str
    ) -> None:
        """A schema_version row that is not a version number (not a number, or below 1)
        exits 1 with one line on stderr naming the row, as an unknown version does, and
        changes nothing (no Alembic table either)."""
        store = db.store()
        with store.engine.begin() as conn:
            conn.execute(store.tables.meta.update().values(value=value))
        assert main(["db", action, "--url", db.url, "--prefix", db.prefix]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert err.startswith("e2badges: store: the schema_version row (tables with prefix")
        assert f"holds '{value}', not a version number" in err
        meta = store.tables.meta
        with store.engine.connect() as conn:
            version = sa.select(meta.c.value).where(meta.c.name == "schema_version")
            assert conn.execute(version).scalar() == value
            assert not sa.inspect(conn).has_table(f"{db.prefix}alembic_version")

    @pytest.mark.parametrize("revision", ["0002", "head-1", "base+1", "0003-2"])
    def test_revision_below_the_database_exits_1(
        self, db: Database, capsys: pytest.CaptureFixture[str], revision: str
    ) -> None:
        """`db upgrade --revision` below the database's version, in any of Alembic's forms,
        exits 1 naming `revision`, and leaves the version as it was."""
        assert main(["db", "upgrade", "--url", db.url, "--prefix", db.prefix]) == 0
        capsys.readouterr()
        argv = ["db", "upgrade", "--url", db.url, "--prefix", db.prefix, f"--revision={revision}"]
        assert main(argv) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("e2badges: e2badges db upgrade: revision: ")
        assert "never goes down" in captured.err
        assert schema_version(db.url, table_prefix=db.prefix) == SCHEMA_VERSION

    @pytest.mark.parametrize("revision", ["", "bogus", "+0"])
    def test_unknown_revision_exits_1(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], revision: str
    ) -> None:
        """`db upgrade --revision` with an empty or unknown revision exits 1 with one line
        on stderr naming `revision` (no traceback), and creates nothing."""
        path = tmp_path / "never.db"
        assert main(["db", "upgrade", "--url", f"sqlite:///{path}", "--revision", revision]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("e2badges: e2badges db upgrade: revision: ")
        assert captured.err.count("\n") == 1
        assert not path.exists()

    def test_stamp_error_exits_1(
        self, db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An Alembic error while stamping a database the store created (before its first
        migration) exits 1 with the one-line `e2badges: ...` message, as one while
        upgrading does, not a traceback."""
        from alembic import command
        from alembic.util import CommandError

        db.store()

        def fail(*_args: Any, **_kwargs: Any) -> None:
            raise CommandError("no stamping today")

        monkeypatch.setattr(command, "stamp", fail)
        assert main(["db", "upgrade", "--url", db.url, "--prefix", db.prefix]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == "e2badges: store: migration failed: no stamping today\n"

    @pytest.mark.parametrize(("argv", "missing"), [([], "command"), (["db"], "command")])
    def test_missing_command_named(
        self, capsys: pytest.CaptureFixture[str], argv: list[str], missing: str
    ) -> None:
        """Without a command the usage error (exit 2) names what is missing as the usage
        line shows it, not argparse's internal names (it said "required: group", then
        "action")."""
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert err.endswith(f"error: the following arguments are required: {missing}\n")
        assert f" {missing} ..." in err.splitlines()[0]

    def test_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`e2badges --version` prints the installed version and exits 0."""
        with pytest.raises(SystemExit) as info:
            main(["--version"])
        assert info.value.code == 0
        assert capsys.readouterr().out == f"e2badges {e2badges.__version__}\n"

    @pytest.mark.parametrize("action", ["current", "upgrade"])
    def test_table_prefix_option(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], action: str
    ) -> None:
        """`--table-prefix` (the Python option's name, which errors name) is `--prefix`:
        a prefix that is not one exits 1 naming table_prefix and creates nothing."""
        path = tmp_path / "p.db"
        url = f"sqlite:///{path}"
        assert main(["db", "upgrade", "--url", url, "--table-prefix", "ab_"]) == 0
        assert capsys.readouterr().out == "schema version 5 (tables with prefix 'ab_')\n"
        assert main(["db", "current", "--url", url, "--table-prefix", "ab_"]) == 0
        assert capsys.readouterr().out == "5\n"
        missing = tmp_path / "none.db"
        for option in ("--prefix", "--table-prefix"):
            argv = ["db", action, "--url", f"sqlite:///{missing}", option, "Bad-"]
            assert main(argv) == 1
            captured = capsys.readouterr()
            assert captured.out == ""
            assert captured.err.startswith("e2badges: SQLAlchemyStore: table_prefix: 'Bad-' ")
            assert captured.err.count("\n") == 1
        assert not missing.exists()

    def test_python_m_and_the_script_alike(self, tmp_path: Path) -> None:
        """`python -m e2badges` runs the same command line: exit 0 with the result on
        stdout, exit 1 with one `e2badges: …` line on stderr (no traceback), exit 2 with
        usage for a usage error."""
        path = tmp_path / "r.db"
        env = {**os.environ, "PYTHONPATH": str(Path(e2badges.__file__).parents[1])}
        env.pop("E2BADGES_DATABASE_URL", None)

        def run(*argv: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "e2badges", *argv],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )

        done = run("db", "upgrade", "--url", f"sqlite:///{path}", "--revision", "base")
        assert (done.returncode, done.stdout, done.stderr) == (
            0,
            "schema version none (tables with prefix 'e2b_')\n",
            "",
        )
        assert not path.exists()
        done = run("db", "upgrade", "--url", "mysql+pymysql://u:s3cret@127.0.0.1:1/db?bogus=1")
        assert (done.returncode, done.stdout) == (1, "")
        assert done.stderr.startswith("e2badges: SQLAlchemyStore: url: ")
        assert done.stderr.count("\n") == 1
        assert "s3cret" not in done.stderr
        done = run("db", "current")
        assert done.returncode == 2
        assert "give --url or set E2BADGES_DATABASE_URL" in done.stderr

    @pytest.mark.parametrize("action", ["current", "upgrade"])
    @pytest.mark.parametrize(
        "case",
        [
            ("postgresql://app:s3cret@127.0.0.1/db", "psycopg", "postgres"),
            ("mariadb://app:s3cret@127.0.0.1/db", "pymysql", "mysql"),
        ],
        ids=["postgres", "mysql"],
    )
    def test_missing_driver_names_the_extra(
        self,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        action: str,
        case: tuple[str, str, str],
    ) -> None:
        """Without the driver, `e2badges db` exits 1 with one line naming the extra to
        install, and not the password."""
        url, module, extra = case
        monkeypatch.setitem(sys.modules, module, None)
        assert main(["db", action, "--url", url]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == (
            f"e2badges: {module} is not installed; install it with: "
            f'pip install "e2badges[{extra}]"\n'
        )

    def test_error_exits_1(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A refused URL exits 1 with the reason on stderr."""
        assert main(["db", "upgrade", "--url", "postgresql+psycopg2://u@127.0.0.1/db"]) == 1
        assert "psycopg 3" in capsys.readouterr().err


def _tenant_view(rewards: Rewards) -> dict[str, Any]:
    """What one tenant's people see: balances, awards (with times), the board, totals."""
    store = rewards.store
    users = sorted({row[1] for row in store.activity_totals(by=("day", "actor"))})
    return {
        "balances": {u: rewards.balance(u) for u in users},
        "awards": {u: [(r.award.badge, r.award.at) for r in rewards.awards(u)] for u in users},
        "first_awards": store.first_awards(),
        "board": [(e.user, e.rank, e.score) for e in rewards.leaderboard("pts").top(10)],
        "activities": store.count_activities(),
    }


def _version_rows(url: str) -> dict[str, list[str]]:
    """Return the rows of every Alembic version table in the database at ``url``."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            names = [n for n in sa.inspect(conn).get_table_names() if "alembic" in n]
            return {
                name: sorted(
                    conn.execute(sa.select(sa.table(name, sa.column("version_num")).c.version_num))
                    .scalars()
                    .all()
                )
                for name in names
            }
    finally:
        engine.dispose()


def _host_alembic(url: str, *revisions: str) -> None:
    """Give the database at ``url`` the host app's Alembic table holding ``revisions``, as
    Alembic creates it (as an earlier e2badges release did with the empty prefix)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            host = sa.Table(
                "alembic_version",
                sa.MetaData(),
                sa.Column("version_num", sa.String(32), primary_key=True),
            )
            host.create(conn)
            for revision in revisions:
                conn.execute(host.insert().values(version_num=revision))
    finally:
        engine.dispose()


def _upgrade(how: str, url: str, capsys: pytest.CaptureFixture[str], revision: str = "head") -> int:
    """Upgrade the empty prefix's tables by the command line or the Python call."""
    if how == "cli":
        argv = ["db", "upgrade", "--url", url, "--prefix", "", "--revision", revision]
        assert main(argv) == 0, capsys.readouterr().err
        found = re.fullmatch(
            r"schema version (\d+) \(tables with prefix ''\)\n", capsys.readouterr().out
        )
        assert found is not None
        return int(found[1])
    return upgrade(url, table_prefix="", revision=revision)


@pytest.mark.parametrize("how", ["cli", "python"])
class TestEmptyPrefix:
    """With table_prefix="", Alembic's version table is alembic_version_e2badges, never the
    host app's alembic_version (Alembic's default)."""

    def test_own_version_table(
        self, own_database: str, how: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A fresh database gets alembic_version_e2badges and no alembic_version, so the
        host's own Alembic later starts from its own base."""
        assert _upgrade(how, own_database, capsys, revision="0002") == 2
        assert _version_rows(own_database) == {"alembic_version_e2badges": ["0002"]}
        assert _upgrade(how, own_database, capsys) == SCHEMA_VERSION
        assert _version_rows(own_database) == {"alembic_version_e2badges": ["0005"]}
        store = SQLAlchemyStore(own_database, table_prefix="", create_schema=False)
        try:
            Rewards(store, rules=RULES).record(
                Activity(id="x", actor="ann", kind="comment.created", at=T0)
            )
            assert store.count_activities() == 1
        finally:
            store.close()

    def test_host_alembic_table_left_alone(
        self, own_database: str, how: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """In a host database managed by Alembic (its own revision in alembic_version),
        the upgrade succeeds, step by step, and leaves the host's revision alone."""
        _host_alembic(own_database, "1a2b3c4d5e6f")
        assert _upgrade(how, own_database, capsys, revision="0001") == 1
        assert _upgrade(how, own_database, capsys) == SCHEMA_VERSION
        assert _version_rows(own_database) == {
            "alembic_version": ["1a2b3c4d5e6f"],
            "alembic_version_e2badges": ["0005"],
        }

    def test_store_created_tables_stamped_apart_from_host(
        self, own_database: str, how: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Tables the store created under the empty prefix are stamped in e2badges' own
        table, whatever the host's alembic_version holds: a revision id of e2badges' own
        form that is not the version of the tables (0002 at version 5), or several."""
        SQLAlchemyStore(own_database, table_prefix="").close()
        _host_alembic(own_database, "0002", "0003")
        assert _upgrade(how, own_database, capsys) == SCHEMA_VERSION
        assert _version_rows(own_database) == {
            "alembic_version": ["0002", "0003"],
            "alembic_version_e2badges": ["0005"],
        }

    def test_earlier_release_revision_left_to_the_host(
        self,
        own_database: str,
        how: str,
        capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A database an earlier release upgraded with the empty prefix (its revision alone
        in alembic_version, at the version of its tables) is migrated from its tables'
        version, recorded in alembic_version_e2badges; alembic_version is neither written
        nor dropped (the host's own revisions may be numbered alike), and a warning says
        it may be dropped."""
        assert upgrade(own_database, table_prefix="", revision="0002") == 2
        engine = sa.create_engine(own_database, poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as conn:
                sa.Table("alembic_version_e2badges", sa.MetaData()).drop(conn)
        finally:
            engine.dispose()
        _host_alembic(own_database, "0002")
        with caplog.at_level(logging.WARNING, logger="e2badges.storage"):
            assert _upgrade(how, own_database, capsys) == SCHEMA_VERSION
        assert _version_rows(own_database) == {
            "alembic_version": ["0002"],
            "alembic_version_e2badges": ["0005"],
        }
        assert "drop it if your application does not use Alembic" in caplog.text
        assert schema_version(own_database, table_prefix="") == SCHEMA_VERSION


def _drop(url: str, names: list[str]) -> None:
    """Drop the tables ``names`` (those that exist) from the database at ``url``."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            present = set(sa.inspect(conn).get_table_names())
            quote = conn.dialect.identifier_preparer.quote
            for name in names:
                if name in present:
                    conn.exec_driver_sql(f"DROP TABLE {quote(name)}")
    finally:
        engine.dispose()
