"""SQLAlchemyStore beyond the shared contract: URLs, drivers, schema, host transactions, errors."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sql_support import Database
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from e2badges import (
    Activity,
    Cap,
    ConfigurationError,
    ConflictingActivityError,
    DeliveryReport,
    FrozenClock,
    MissingDependencyError,
    PointRule,
    Rewards,
    SchemaVersionError,
    StorageError,
    TransientStorageError,
)
from e2badges.storage import Notification, store_from_url
from e2badges.storage import sqlalchemy as sqlalchemy_store
from e2badges.storage._sql_schema import NOTIFICATION_ID_LENGTH, SCHEMA_VERSION
from e2badges.storage.sqlalchemy import SQLAlchemyStore, schema_version
from e2badges.testing._common import BOARD_RULES, BOARDS, Keeper, scored
from e2badges.testing.conformance import note, put

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = (
    PointRule(id="comment", kind="comment.created", actor_points=2, caps=(Cap(amount=5),)),
    PointRule(id="upvote", kind="answer.upvoted", actor_points=1, recipient_points=10),
)


def act(n: int, actor: str = "ann", kind: str = "comment.created", **extra: Any) -> Activity:
    return Activity(id=f"a{n}", actor=actor, kind=kind, at=T0 + timedelta(minutes=n), **extra)


class Counter:
    """Count the statements sent to the database through an engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def during(self, fn: Any) -> int:
        """Return how many statements ``fn()`` sent."""
        before = len(self.statements)
        fn()
        return len(self.statements) - before


class TestURLs:
    def test_url_selects_the_sql_store(self, db: Database) -> None:
        """store_from_url picks SQLAlchemyStore for sqlite, postgresql and mysql URLs."""
        store = store_from_url(db.url, table_prefix=db.prefix)
        try:
            assert isinstance(store, SQLAlchemyStore)
        finally:
            store.close()

    def test_url_without_driver_gets_the_supported_one(self, db: Database) -> None:
        """A URL without '+driver' uses pysqlite, psycopg (3) or pymysql."""
        bare = db.url.replace("+psycopg", "").replace("+pymysql", "")
        store = SQLAlchemyStore(bare, table_prefix=db.prefix)
        try:
            expected = {"sqlite": "pysqlite", "postgresql": "psycopg", "mysql": "pymysql"}
            assert store.engine.dialect.driver == expected[db.backend]
        finally:
            store.close()

    def test_mariadb_scheme_is_accepted(self) -> None:
        """store_from_url knows the mariadb scheme (it needs the mysql extra's driver)."""
        with pytest.raises(ConfigurationError, match="mysqldb"):
            store_from_url("mariadb+mysqldb://root@127.0.0.1/test")

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("postgresql+psycopg2://u@127.0.0.1/db", "psycopg 3"),
            ("postgresql+asyncpg://u@127.0.0.1/db", "postgresql\\+psycopg"),
            ("mysql+mysqldb://u@127.0.0.1/db", "mysql\\+pymysql"),
            ("oracle://u@127.0.0.1/db", "not a database the SQL store supports"),
            ("not a url", "url"),
        ],
    )
    def test_unsupported_url_refused(self, url: str, reason: str) -> None:
        """A database or driver the store does not support is refused before connecting."""
        with pytest.raises(ConfigurationError, match=reason):
            SQLAlchemyStore(url)

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("postgresql+psycopg://h:notaport/db", "not a valid database URL"),
            ("sqlite:////tmp/e2b\x00x.db", "U+0000"),
            ("postgresql+psycopg://u@127.0.0.1/db?application_name=a\x00b", "U+0000"),
            ("mysql+pymysql://u@127.0.0.1/db?charset=utf8", "charset='utf8'"),
            ("mysql+pymysql://u@127.0.0.1/db?charset=latin1", "charset='latin1'"),
            ("mariadb+pymysql://u@127.0.0.1/db?charset=utf8mb3", "use charset=utf8mb4"),
        ],
    )
    def test_malformed_url_refused(self, url: str, reason: str) -> None:
        """A URL that does not parse, holds NUL, or gives MySQL/MariaDB a charset that
        cannot hold every accepted character (utf8mb4 only) raises ConfigurationError
        naming ``url``, before connecting."""
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(url)
        assert info.value.field == "url"
        assert reason in info.value.reason

    @pytest.mark.mysql
    @pytest.mark.parametrize("charset", ["utf8mb4", "UTF8MB4"])
    def test_utf8mb4_charset_accepted(self, server_url: Any, charset: str) -> None:
        """charset=utf8mb4 (any case) is the one charset a MySQL/MariaDB URL may name; a
        4-byte character is kept as on every store."""
        database = Database("mysql", f"{server_url('mysql')}?charset={charset}")
        try:
            rewards = Rewards(database.store(), rules=RULES)
            rewards.record(Activity(id="u", actor="\U0001f984", kind="comment.created", at=T0))
            activity = rewards.activity("u")
            assert activity is not None
            assert activity.actor == "\U0001f984"
        finally:
            database.drop()

    @pytest.mark.parametrize(
        ("url", "says"),
        [
            ("sqlite:///{tmp}/r.db?cached_statements=abc", "invalid literal for int()"),
            ("mysql+pymysql://u:s3cret@127.0.0.1:1/db?connect_timeout=x", "int() with base 10"),
            ("mysql+pymysql://u:s3cret@127.0.0.1:1/db?bogus=1", "argument 'bogus'"),
            ("mysql+pymysql://u:s3cret@127.0.0.1:1/db?ssl_ca=/no/such/ca.pem", "No such file"),
        ],
    )
    def test_query_the_driver_refuses_names_url(self, tmp_path: Path, url: str, says: str) -> None:
        """A URL query parameter the driver refuses (an unknown one, a value of the wrong
        type, a file that is not there) raises ConfigurationError naming ``url`` with the
        driver's reason and without the password (it raised the driver's own TypeError,
        ValueError or OSError), and writes nothing."""
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(url.format(tmp=tmp_path))
        assert info.value.field == "url"
        assert says in info.value.reason
        assert "s3cret" not in str(info.value)
        assert list(tmp_path.iterdir()) == []

    def test_unparsable_url_error_shows_no_password(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A URL SQLAlchemy cannot parse raises ConfigurationError naming ``url`` without
        repeating the URL: SQLAlchemy before 2.0.41 quoted the whole string, password
        included, in its error, which the message passed on."""

        def old_make_url(url: str) -> sa.URL:
            # SQLAlchemy 2.0.25 to 2.0.40: ``_parse_url`` raised this.
            raise sa_exc.ArgumentError(f"Could not parse SQLAlchemy URL from string '{url}'")

        monkeypatch.setattr(sqlalchemy_store, "make_url", old_make_url)
        for url in (
            "postgresql+psycopg:://app:s3cret@db/x",
            "postgresql+psycopg://app:s3cret@db/x",
        ):
            with pytest.raises(ConfigurationError) as info:
                SQLAlchemyStore(url)
            assert info.value.field == "url"
            assert "s3cret" not in str(info.value)
            assert "dialect+driver://" in info.value.reason

    def test_psycopg2_reason_given_for_psycopg2_only(self) -> None:
        """The refusal of another PostgreSQL driver gives psycopg2's reason only to psycopg2."""
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore("postgresql+asyncpg://u@127.0.0.1/db")
        assert "psycopg2" not in str(info.value)

    @pytest.mark.parametrize(
        ("url", "module", "extra"),
        [
            ("postgresql+psycopg://u@127.0.0.1/db", "psycopg", "postgres"),
            ("mysql+pymysql://u@127.0.0.1/db", "pymysql", "mysql"),
        ],
    )
    def test_missing_driver_names_the_extra(
        self, monkeypatch: pytest.MonkeyPatch, url: str, module: str, extra: str
    ) -> None:
        """A missing driver raises MissingDependencyError naming the extra to install."""
        monkeypatch.setitem(sys.modules, module, None)
        with pytest.raises(MissingDependencyError, match=rf'pip install "e2badges\[{extra}\]"'):
            store_from_url(url)

    def test_import_loads_no_driver(self) -> None:
        """Importing e2badges (and even the SQL store module) imports no database driver."""
        code = (
            "import sys, e2badges, e2badges.storage;"
            "assert 'e2badges.storage.sqlalchemy' not in sys.modules;"
            "import e2badges.storage.sqlalchemy;"
            "print(sorted(m for m in ('psycopg', 'pymysql', 'sqlite3') if m in sys.modules))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "[]"

    @pytest.mark.postgresql
    def test_repr_masks_password(self, server_url: Any) -> None:
        """repr() shows the URL with the password masked."""
        url = server_url("postgresql").replace("postgres@", "postgres:s3cret@")
        database = Database("postgresql", url)
        try:
            store = database.store()
            assert "s3cret" not in repr(store)
            assert repr(store) == (
                f"SQLAlchemyStore({url.replace('s3cret', '***')!r}, tenant='default', "
                f"table_prefix={database.prefix!r})"
            )
        finally:
            database.drop()


class TestEngines:
    def test_given_engine_is_not_disposed(self, db: Database) -> None:
        """close() leaves a live Engine it was given undisposed and usable."""
        engine = sa.create_engine(db.url)
        disposed: list[object] = []
        event.listen(engine, "engine_disposed", disposed.append)
        try:
            store = SQLAlchemyStore(engine, table_prefix=db.prefix)
            Rewards(store, rules=RULES).record(act(1))
            store.close()
            assert disposed == []
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT 1")).scalar() == 1
        finally:
            engine.dispose()

    def test_own_engine_is_disposed(self, db: Database) -> None:
        """close() disposes the engine the store created from a URL."""
        store = db.store()
        disposed: list[object] = []
        event.listen(store.engine, "engine_disposed", disposed.append)
        store.close()
        assert len(disposed) == 1

    def test_engine_options_need_a_url(self, db: Database) -> None:
        """engine_options are refused with a live Engine (they could not apply)."""
        engine = sa.create_engine(db.url)
        try:
            with pytest.raises(ConfigurationError, match="engine_options"):
                SQLAlchemyStore(engine, engine_options={"echo": True})
        finally:
            engine.dispose()

    @pytest.mark.parametrize("prefix", ["E2B_", "1x_", "x-y", "a" * 25, "x y"])
    def test_bad_prefix_refused(self, prefix: str) -> None:
        """A table prefix other than lower-case letters, digits and '_' is refused."""
        with pytest.raises(ConfigurationError, match="table_prefix"):
            SQLAlchemyStore("sqlite://", table_prefix=prefix)

    @pytest.mark.parametrize("timeout", ["x", -1, -0.5, float("nan"), float("inf"), True, None])
    def test_bad_busy_timeout_refused(self, timeout: Any, tmp_path: Path) -> None:
        """busy_timeout must be a finite number of seconds, 0 or more."""
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout=timeout)
        assert info.value.field == "busy_timeout"
        assert not (tmp_path / "x.db").exists()

    @pytest.mark.parametrize("url", ["sqlite:///x.db?timeout=5", "sqlite://?timeout=5"])
    def test_sqlite_url_timeout_refused(self, url: str, tmp_path: Path) -> None:
        """A SQLite URL's timeout (the driver's wait for the write lock) is refused with
        ConfigurationError naming url and busy_timeout, before anything is created: the
        store's busy_timeout replaced it without a word (timeout=5 waited 30 seconds)."""
        url = url.replace("x.db", str(tmp_path / "x.db"))
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(url)
        assert info.value.field == "url"
        assert "timeout='5'" in info.value.reason
        assert "busy_timeout" in info.value.reason
        assert not (tmp_path / "x.db").exists()

    def test_busy_timeout_with_given_engine_refused(self, tmp_path: Path) -> None:
        """busy_timeout other than the default is refused with a live Engine, whose
        connections the store does not open (it was ignored: the engine waited sqlite3's
        5 seconds), before anything connects."""
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
        try:
            with pytest.raises(ConfigurationError) as info:
                SQLAlchemyStore(engine, busy_timeout=120)
            assert info.value.field == "busy_timeout"
            assert "timeout" in info.value.reason
        finally:
            engine.dispose()
        assert not (tmp_path / "x.db").exists()

    @pytest.mark.parametrize(
        "url", ["postgresql+psycopg://u@127.0.0.1/db", "mysql+pymysql://u@127.0.0.1/db"]
    )
    def test_busy_timeout_on_a_server_refused(self, url: str) -> None:
        """busy_timeout other than the default is refused on PostgreSQL and MySQL/MariaDB,
        where it did nothing (their lock waits are lock_timeout and
        innodb_lock_wait_timeout), before anything connects."""
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(url, busy_timeout=5)
        assert info.value.field == "busy_timeout"
        assert "SQLite" in info.value.reason

    @pytest.mark.parametrize("value", ["no", 0, None])
    def test_bad_create_schema_refused(self, value: Any, tmp_path: Path) -> None:
        """create_schema must be True or False ("no" was true, and created the tables)."""
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(f"sqlite:///{tmp_path / 'x.db'}", create_schema=value)
        assert info.value.field == "create_schema"
        assert not (tmp_path / "x.db").exists()

    @pytest.mark.parametrize(
        ("options", "reason"), [({"bogus": 1}, "'bogus'"), (5, "mapping"), (["echo"], "mapping")]
    )
    def test_bad_engine_options_refused(self, options: Any, reason: str) -> None:
        """engine_options must be a mapping of options create_engine() takes."""
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore("sqlite://", engine_options=options)
        assert info.value.field == "engine_options"
        assert reason in info.value.reason

    @pytest.mark.parametrize("attempts", [0, -1, 1.5, True])
    def test_bad_max_attempts_refused(self, attempts: Any) -> None:
        """max_attempts must be a whole number of at least 1."""
        with pytest.raises(ConfigurationError, match="max_attempts"):
            SQLAlchemyStore("sqlite://", max_attempts=attempts)

    def test_in_memory_sqlite(self) -> None:
        """sqlite:// is one in-memory database shared by the store's threads."""
        with store_from_url("sqlite://") as store:
            rewards = Rewards(store, rules=RULES)
            threads = [
                threading.Thread(target=rewards.record_many, args=([act(n), act(n + 1)],))
                for n in range(0, 20, 2)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert store.count_activities() == 20
            assert rewards.balance("ann") == 5


class TestConnectArgs:
    """engine_options' connect_args merge key by key with the store's own."""

    def test_busy_timeout_kept_beside_given_connect_args(self, tmp_path: Path) -> None:
        """connect_args given in engine_options reach the driver, and the store's own
        busy_timeout still applies to a SQLite file."""
        seen: list[dict[str, Any]] = []
        store = SQLAlchemyStore(
            f"sqlite:///{tmp_path / 'x.db'}",
            busy_timeout=60,
            engine_options={"connect_args": {"cached_statements": 7}},
        )
        with store:
            event.listen(store.engine, "do_connect", lambda *args: seen.append(dict(args[3])))
            store.engine.dispose()
            with store.engine.connect() as conn:
                waits = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
            assert waits == 60_000
            assert [(args["timeout"], args["cached_statements"]) for args in seen] == [(60, 7)]

    def test_in_memory_sqlite_stays_shared_between_threads(self) -> None:
        """sqlite:// with connect_args of its own is still one database every thread
        uses: a second thread's recording adds to the first's."""
        store = SQLAlchemyStore(
            "sqlite://", engine_options={"connect_args": {"cached_statements": 7}}
        )
        with store:
            rewards = Rewards(store, rules=RULES)
            rewards.record(act(1))
            thread = threading.Thread(target=rewards.record, args=(act(2),))
            thread.start()
            thread.join()
            assert rewards.balance("ann") == 4

    @pytest.mark.parametrize(
        ("url", "connect_args", "reason"),
        [
            ("sqlite://", {"check_same_thread": True}, "check_same_thread=True"),
            ("sqlite:///x.db", {"timeout": 10}, "busy_timeout"),
            ("sqlite://", {"timeout": 10}, "busy_timeout"),
            ("mysql+pymysql://u@127.0.0.1/db", {"charset": "latin1"}, "charset='latin1'"),
            (
                "mysql+pymysql://u@127.0.0.1/db?charset=utf8mb4",
                {"charset": "utf8"},
                "charset='utf8'",
            ),
            ("mariadb+pymysql://u@127.0.0.1/db", {"charset": None}, "charset=None"),
            ("sqlite://", ["timeout"], "mapping"),
        ],
    )
    def test_conflicting_connect_args_refused(
        self, url: str, connect_args: Any, reason: str, tmp_path: Path
    ) -> None:
        """connect_args that would undo what the store needs (check_same_thread=False
        for the in-memory database its threads share, a charset other than utf8mb4)
        or that set SQLite's timeout (busy_timeout's own) raise ConfigurationError
        naming engine_options, before anything connects."""
        url = url.replace("x.db", str(tmp_path / "x.db"))
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(url, engine_options={"connect_args": connect_args})
        assert info.value.field == "engine_options"
        assert reason in info.value.reason
        assert not (tmp_path / "x.db").exists()

    def test_same_check_same_thread_accepted(self) -> None:
        """check_same_thread=False, the store's own value, may be given again."""
        store = SQLAlchemyStore(
            "sqlite://", engine_options={"connect_args": {"check_same_thread": False}}
        )
        with store:
            Rewards(store, rules=RULES).record(act(1))
            assert store.count_activities() == 1

    @pytest.mark.mysql
    @pytest.mark.parametrize("charset", [None, "utf8mb4", "UTF8MB4"])
    def test_mysql_connect_args_merged(self, server_url: Any, charset: str | None) -> None:
        """On MySQL/MariaDB, connect_args of its own (with charset utf8mb4 or none)
        reach the driver and the connection's charset is utf8mb4: a 4-byte
        character is kept as on every store."""
        connect_args: dict[str, Any] = {"connect_timeout": 7}
        if charset is not None:
            connect_args["charset"] = charset
        database = Database("mysql", server_url("mysql"))
        try:
            store = database.store(engine_options={"connect_args": connect_args})
            with store.engine.connect() as conn:
                used = conn.exec_driver_sql("SELECT @@character_set_connection").scalar()
                driver: Any = conn.connection.dbapi_connection
                timeout = driver.connect_timeout
            assert (used, timeout) == ("utf8mb4", 7)
            rewards = Rewards(store, rules=RULES)
            rewards.record(Activity(id="u", actor="\U0001f984", kind="comment.created", at=T0))
            activity = rewards.activity("u")
            assert activity is not None
            assert activity.actor == "\U0001f984"
        finally:
            database.drop()


def _record_in_two_threads(store: SQLAlchemyStore) -> int:
    """Record one activity here and one in another thread; return ann's balance."""
    rewards = Rewards(store, rules=RULES)
    rewards.record(act(1))
    thread = threading.Thread(target=rewards.record, args=(act(2),))
    thread.start()
    thread.join()
    return rewards.balance("ann")


class TestInMemoryPool:
    """An in-memory SQLite database lives in its one connection: the store keeps it in a
    StaticPool that every thread shares, and refuses what would replace or recycle it."""

    @pytest.mark.parametrize(
        "url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?uri=true"]
    )
    @pytest.mark.parametrize(
        ("options", "named"),
        [
            ({"poolclass": sa.pool.QueuePool}, "poolclass=<class 'sqlalchemy.pool.impl.Queue"),
            ({"poolclass": sa.pool.NullPool}, "poolclass="),
            ({"poolclass": sa.pool.SingletonThreadPool}, "poolclass="),
            ({"pool": sa.pool.NullPool(lambda: sqlite3.connect(":memory:"))}, "pool="),
            ({"pool_recycle": 3600}, "pool_recycle=3600"),
            ({"pool_size": 3}, "pool_size=3"),
            ({"max_overflow": 2}, "max_overflow=2"),
            ({"pool_timeout": 5}, "pool_timeout=5"),
            ({"pool_use_lifo": True}, "pool_use_lifo=True"),
        ],
    )
    def test_pool_options_refused(
        self, monkeypatch: pytest.MonkeyPatch, url: str, options: dict[str, Any], named: str
    ) -> None:
        """engine_options that would replace the store's StaticPool (poolclass, pool), size
        it (pool_size, ...) or recycle its connection (pool_recycle) raise ConfigurationError
        naming engine_options, the option and the reason, before any engine is made: with
        them each connection would open a new, empty database."""

        def no_engine(*_args: Any, **_kwargs: Any) -> None:
            raise AssertionError("an engine was created")

        monkeypatch.setattr(sqlalchemy_store, "create_engine", no_engine)
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(url, engine_options=options)
        assert info.value.field == "engine_options"
        assert named in info.value.reason
        assert "in-memory SQLite database" in info.value.reason

    @pytest.mark.parametrize(
        "options",
        [
            {"poolclass": sa.pool.StaticPool},
            {"pool_recycle": -1},
            {"pool_pre_ping": True},
            {"pool_reset_on_return": "rollback"},
        ],
    )
    def test_options_that_keep_the_pool_accepted(self, options: dict[str, Any]) -> None:
        """The store's own poolclass (StaticPool), no recycling, and pool options that keep
        the one connection are accepted: every thread still sees one database."""
        with SQLAlchemyStore("sqlite://", engine_options=options) as store:
            assert isinstance(store.engine.pool, sa.pool.StaticPool)
            assert _record_in_two_threads(store) == 4

    @pytest.mark.parametrize(
        "url",
        [
            "sqlite:///file::memory:?uri=true",
            "sqlite:///file:e2b?mode=memory&uri=true",
            "sqlite:///file:e2b?mode=memory&cache=shared&uri=true",
        ],
    )
    def test_uri_memory_databases_are_shared(self, url: str) -> None:
        """An in-memory database named by a URI filename (file::memory:, mode=memory) is
        one database every thread of the store sees, as sqlite:// is: each connection of
        another pool would open a new, empty one."""
        with SQLAlchemyStore(url) as store:
            assert isinstance(store.engine.pool, sa.pool.StaticPool)
            assert _record_in_two_threads(store) == 4

    @pytest.mark.parametrize(
        "url",
        [
            "sqlite:///file:e2b?mode=memory&cache=shared",
            "sqlite:///file::memory:",
            "sqlite:///file:e2b?mode=memory&uri=false",
        ],
    )
    def test_uri_connect_arg_without_uri_in_the_url_refused(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str
    ) -> None:
        """connect_args uri=True for a file: URL without uri=true in its query raises
        ConfigurationError naming engine_options and uri=true, before any engine is made:
        SQLAlchemy would open a file named file:... in the working directory, not an
        in-memory database."""

        def no_engine(*_args: Any, **_kwargs: Any) -> None:
            raise AssertionError("an engine was created")

        monkeypatch.setattr(sqlalchemy_store, "create_engine", no_engine)
        monkeypatch.chdir(tmp_path)
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(url, engine_options={"connect_args": {"uri": True}})
        assert info.value.field == "engine_options"
        assert "uri=true in the URL" in info.value.reason
        assert list(tmp_path.iterdir()) == []

    def test_uri_connect_arg_with_uri_in_the_url_is_shared(self) -> None:
        """connect_args uri=True beside uri=true in the URL is an in-memory database kept
        in the store's StaticPool, one database every thread sees."""
        url = "sqlite:///file:e2b?mode=memory&cache=shared&uri=true"
        with SQLAlchemyStore(url, engine_options={"connect_args": {"uri": True}}) as store:
            assert isinstance(store.engine.pool, sa.pool.StaticPool)
            assert _record_in_two_threads(store) == 4

    @pytest.mark.parametrize("options", [{"poolclass": sa.pool.NullPool}, {"pool_recycle": 3600}])
    def test_uri_connect_arg_keeps_pool_refusals(self, options: dict[str, Any]) -> None:
        """An in-memory URI filename with connect_args uri=True has its pool kept as any
        in-memory database does: a pool option that would replace it is refused naming
        engine_options."""
        url = "sqlite:///file:e2b?mode=memory&uri=true"
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(url, engine_options={"connect_args": {"uri": True}, **options})
        assert info.value.field == "engine_options"
        assert "in-memory SQLite database" in info.value.reason

    @pytest.mark.parametrize(
        ("poolclass", "options"),
        [
            (sa.pool.QueuePool, {}),
            (sa.pool.NullPool, {}),
            (sa.pool.StaticPool, {"pool_recycle": 3600}),
        ],
    )
    def test_given_engine_without_one_connection_refused(
        self, poolclass: type[sa.pool.Pool], options: dict[str, Any]
    ) -> None:
        """A given Engine on an in-memory SQLite database whose pool may open a second
        connection (QueuePool, NullPool) or recycle its one (pool_recycle) is refused with
        ConfigurationError naming engine, before anything connects."""
        engine = sa.create_engine("sqlite://", poolclass=poolclass, **options)
        connects: list[object] = []
        event.listen(engine, "connect", lambda *args: connects.append(args))
        try:
            with pytest.raises(ConfigurationError) as info:
                SQLAlchemyStore(engine)
            assert info.value.field == "engine"
            assert "in-memory SQLite database" in info.value.reason
            assert connects == []
        finally:
            engine.dispose()


LATIN1 = {"options": "-c client_encoding=LATIN1"}
UTF8 = {"options": "-c client_encoding=UTF8"}


def _tables_under(url: str, prefix: str) -> list[str]:
    """Return the names of the tables under ``prefix`` in the database ``url`` names
    (PostgreSQL: read in client_encoding UTF8, which a SQL_ASCII database also takes)."""
    connect_args = UTF8 if url.startswith("postgresql") else {}
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            return [n for n in sa.inspect(conn).get_table_names() if n.startswith(prefix)]
    finally:
        engine.dispose()


@pytest.mark.postgresql
class TestPostgresEncoding:
    """Every PostgreSQL connection the store uses speaks UTF8 to a UTF8 database: in another
    client encoding psycopg cannot send (LATIN1: UnicodeEncodeError) or decode (SQL_ASCII:
    bytes) the ids and texts every store keeps."""

    @pytest.mark.parametrize(
        ("setting", "encoding"),
        [
            ({"engine_options": {"connect_args": LATIN1}}, "LATIN1"),
            ({"engine_options": {"connect_args": {"client_encoding": "SQL_ASCII"}}}, "SQL_ASCII"),
            ({"url_query": {"options": "-c client_encoding=WIN1252"}}, "WIN1252"),
            ({"environment": "EUC_JP"}, "EUC_JP"),
        ],
    )
    def test_other_client_encoding_refused(
        self,
        server_url: Callable[[str], str],
        monkeypatch: pytest.MonkeyPatch,
        setting: dict[str, Any],
        encoding: str,
    ) -> None:
        """A store whose connections would run in a client_encoding other than UTF8 (from
        engine_options' connect_args, the URL, or PGCLIENTENCODING) is refused with
        ConfigurationError naming client_encoding and its value, before any table is
        created."""
        url = sa.make_url(server_url("postgresql"))
        url = url.update_query_dict(setting.get("url_query", {}))
        if "environment" in setting:
            monkeypatch.setenv("PGCLIENTENCODING", setting["environment"])
        prefix = f"t{uuid.uuid4().hex[:10]}_"
        text = url.render_as_string(hide_password=False)
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(text, table_prefix=prefix, engine_options=setting.get("engine_options"))
        assert info.value.field == "url"
        assert f"client_encoding={encoding!r}" in info.value.reason
        monkeypatch.delenv("PGCLIENTENCODING", raising=False)
        assert _tables_under(text, prefix) == []

    def test_utf8_accepted(self, server_url: Callable[[str], str]) -> None:
        """client_encoding UTF8 given explicitly is the store's own: ids of any script are
        kept as given."""
        database = Database("postgresql", server_url("postgresql"))
        try:
            store = database.store(
                engine_options={"connect_args": {"options": "-c client_encoding=UTF8"}}
            )
            rewards = Rewards(store, rules=RULES)
            rewards.record(Activity(id="日本", actor="\U0001f984", kind="comment.created", at=T0))
            activity = rewards.activity("日本")
            assert activity is not None
            assert activity.actor == "\U0001f984"
        finally:
            database.drop()

    @pytest.mark.parametrize(
        ("connect_args", "encoding"),
        [(LATIN1, "LATIN1"), ({"client_encoding": "SQL_ASCII"}, "SQL_ASCII")],
    )
    def test_given_engine_with_other_client_encoding_refused(
        self, server_url: Callable[[str], str], connect_args: dict[str, str], encoding: str
    ) -> None:
        """A given Engine whose connections run in another client_encoding is refused with
        ConfigurationError naming engine and client_encoding, before any table is
        created: in SQL_ASCII too, where SQLAlchemy's first-connect setup would fail
        with a bare TypeError (the server's version read as bytes)."""
        url = server_url("postgresql")
        engine = sa.create_engine(url, connect_args=connect_args)
        prefix = f"t{uuid.uuid4().hex[:10]}_"
        try:
            with pytest.raises(ConfigurationError) as info:
                SQLAlchemyStore(engine, table_prefix=prefix)
            assert info.value.field == "engine"
            assert f"client_encoding={encoding!r}" in info.value.reason
        finally:
            engine.dispose()
        assert _tables_under(url, prefix) == []

    def test_given_engine_on_sql_ascii_database_refused(self, sql_ascii_url: str) -> None:
        """A given Engine on a database whose encoding is SQL_ASCII is refused with
        ConfigurationError naming engine, server_encoding and the reason, before any
        table is created, not with the TypeError SQLAlchemy's first-connect setup
        raises there."""
        engine = sa.create_engine(sql_ascii_url)
        try:
            with pytest.raises(ConfigurationError) as info:
                SQLAlchemyStore(engine, table_prefix="e2b_")
            assert info.value.field == "engine"
            assert "server_encoding='SQL_ASCII'" in info.value.reason
            assert "needs UTF8" in info.value.reason
        finally:
            engine.dispose()
        assert _tables_under(sql_ascii_url, "e2b_") == []

    def test_refusing_a_given_engine_leaves_it_as_it_came(
        self, server_url: Callable[[str], str]
    ) -> None:
        """The check a given Engine's first connection gets is the store's alone: once
        the store is refused, the engine opens connections for its owner as before."""
        engine = sa.create_engine(server_url("postgresql"), connect_args=LATIN1)
        try:
            with pytest.raises(ConfigurationError):
                SQLAlchemyStore(engine, table_prefix=f"t{uuid.uuid4().hex[:10]}_")
            with engine.connect() as conn:
                encoding = conn.exec_driver_sql("SHOW client_encoding").scalar()
            assert encoding == "LATIN1"
        finally:
            engine.dispose()

    def test_joined_connection_with_other_client_encoding_refused(
        self, server_url: Callable[[str], str]
    ) -> None:
        """A caller's connection in another client_encoding is refused with
        ConfigurationError naming connection, before the store writes in it."""
        db = Database("postgresql", server_url("postgresql"))
        _joined_connection_refused(db, {"connect_args": LATIN1}, "client_encoding='LATIN1'")

    def test_database_in_another_encoding_refused(self, latin1_url: str) -> None:
        """A database whose encoding is not UTF8 (LATIN1 cannot hold most scripts) is
        refused with ConfigurationError naming server_encoding, before any table is
        created."""
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore(latin1_url, table_prefix="e2b_")
        assert info.value.field == "url"
        assert "server_encoding='LATIN1'" in info.value.reason
        assert _tables_under(latin1_url, "e2b_") == []


@pytest.mark.mysql
class TestMySQLCharset:
    """A given MySQL/MariaDB Engine, and a caller's connection, must speak utf8mb4 as the
    store's own engine does (see TestConnectArgs)."""

    @pytest.mark.parametrize("charset", ["utf8", "latin1"])
    def test_given_engine_with_other_charset_refused(
        self, server_url: Callable[[str], str], charset: str
    ) -> None:
        """A given Engine whose connections use a charset other than utf8mb4 is refused
        with ConfigurationError naming engine and the charset, before any table is
        created (utf8 refused emoji in every id; latin1 failed in creating the tables)."""
        url = server_url("mysql")
        engine = sa.create_engine(sa.make_url(url).update_query_dict({"charset": charset}))
        prefix = f"t{uuid.uuid4().hex[:10]}_"
        try:
            with pytest.raises(ConfigurationError) as info:
                SQLAlchemyStore(engine, table_prefix=prefix)
            assert info.value.field == "engine"
            assert f"charset={charset!r}" in info.value.reason
        finally:
            engine.dispose()
        assert _tables_under(url, prefix) == []

    def test_joined_connection_with_other_charset_refused(
        self, server_url: Callable[[str], str]
    ) -> None:
        """A caller's connection whose charset is not utf8mb4 is refused with
        ConfigurationError naming connection, before the store writes in it."""
        db = Database("mysql", server_url("mysql"))
        url = sa.make_url(db.url).update_query_dict({"charset": "utf8"})
        _joined_connection_refused(db, {"url": url}, "charset='utf8'")


_TRANSLATE = {"schema_translate_map": {None: "other"}}


class TestSchemaTranslateMap:
    """The store's hot-path statements are text naming its tables without a schema, so a
    schema_translate_map (which moves only SQLAlchemy's Core statements) is refused."""

    def test_in_engine_options_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """engine_options' execution_options with a schema_translate_map raise
        ConfigurationError naming engine_options, before any engine is made (on
        PostgreSQL the tables went to the other schema, and recording failed)."""

        def no_engine(*_args: Any, **_kwargs: Any) -> None:
            raise AssertionError("an engine was created")

        monkeypatch.setattr(sqlalchemy_store, "create_engine", no_engine)
        with pytest.raises(ConfigurationError) as info:
            SQLAlchemyStore("sqlite://", engine_options={"execution_options": _TRANSLATE})
        assert info.value.field == "engine_options"
        assert "schema_translate_map" in info.value.reason

    def test_on_given_engine_refused(self, tmp_path: Path) -> None:
        """A given Engine with a schema_translate_map is refused with ConfigurationError
        naming engine, before anything connects."""
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}").execution_options(**_TRANSLATE)
        try:
            with pytest.raises(ConfigurationError) as info:
                SQLAlchemyStore(engine)
            assert info.value.field == "engine"
            assert "schema_translate_map" in info.value.reason
        finally:
            engine.dispose()
        assert not (tmp_path / "x.db").exists()

    def test_on_joined_connection_refused(self, tmp_path: Path) -> None:
        """A caller's connection with a schema_translate_map is refused with
        ConfigurationError naming connection, before the store writes in it."""
        url = f"sqlite:///{tmp_path / 'x.db'}"
        with SQLAlchemyStore(url) as store:
            rewards = Rewards(store, rules=RULES)
            host = sa.create_engine(url)
            try:
                with host.connect() as conn, conn.begin():
                    translated = conn.execution_options(**_TRANSLATE)
                    with pytest.raises(ConfigurationError) as info:
                        rewards.record(act(1), connection=translated)
                assert info.value.field == "connection"
                assert "schema_translate_map" in info.value.reason
            finally:
                host.dispose()
            assert rewards.activity("a1") is None


class TestSchema:
    def test_created_on_first_use(self, db: Database) -> None:
        """A database without the tables gets them, at the current schema version."""
        if db.backend == "sqlite":
            # schema_version() only reads: it refuses a path with no file.
            sqlite3.connect(sa.make_url(db.url).database or "").close()
        assert schema_version(db.url, table_prefix=db.prefix) is None
        db.store()
        assert schema_version(db.url, table_prefix=db.prefix) == SCHEMA_VERSION

    def test_missing_schema_refused_without_create(self, db: Database) -> None:
        """With create_schema=False a database without the tables is refused, saying what to run."""
        with pytest.raises(SchemaVersionError, match="e2badges db upgrade") as info:
            db.store(create_schema=False)
        assert info.value.found is None

    @pytest.mark.parametrize("given", ["url", "engine"])
    def test_missing_sqlite_file_refused_without_create(self, tmp_path: Path, given: str) -> None:
        """With create_schema=False a SQLite path with no file (a typo) is refused as a
        database without the tables is, saying what to run, and no empty file is left
        there (connecting created one)."""
        url = f"sqlite:///{tmp_path / 'typo.db'}"
        engine = sa.create_engine(url) if given == "engine" else None
        try:
            with pytest.raises(SchemaVersionError, match="e2badges db upgrade") as info:
                SQLAlchemyStore(engine or url, create_schema=False)
        finally:
            if engine is not None:
                engine.dispose()
        assert info.value.found is None
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize(("version", "says"), [(999, "newer"), (SCHEMA_VERSION - 1, "older")])
    def test_other_version_refused(self, db: Database, version: int, says: str) -> None:
        """A database at a schema version this e2badges does not know is refused."""
        store = db.store()
        with store.engine.begin() as conn:
            meta = store.tables.meta
            conn.execute(meta.update().values(value=str(version)))
        with pytest.raises(SchemaVersionError, match=says) as info:
            db.store()
        assert (info.value.found, info.value.known) == (version, SCHEMA_VERSION)

    @pytest.mark.parametrize("value", ["3a", "0", "-1"])
    def test_unreadable_version_refused(self, db: Database, value: str) -> None:
        """A schema_version row that is not a version number (not a number, or a number
        below 1, the first version) is refused with SchemaVersionError naming the row and
        its text (found), by the store and by schema_version()."""
        store = db.store()
        with store.engine.begin() as conn:
            conn.execute(store.tables.meta.update().values(value=value))
        says = f"the schema_version row .* holds '{value}', not a version number"
        with pytest.raises(SchemaVersionError, match=says) as info:
            db.store()
        assert (info.value.found, info.value.known) == (value, SCHEMA_VERSION)
        assert f"{db.prefix}meta" in str(info.value)
        with pytest.raises(SchemaVersionError, match=says):
            schema_version(db.url, table_prefix=db.prefix)

    def test_prefixes_are_independent(self, db: Database) -> None:
        """Two prefixes in one database are two stores that share nothing."""
        first = db.store()
        other_prefix = db.prefix + "b_"
        second = db.store(table_prefix=other_prefix)
        try:
            Rewards(first, rules=RULES).record(act(1))
            assert second.count_activities() == 0
            assert Rewards(second, rules=RULES).balance("ann") == 0
        finally:
            Database(db.backend, db.url, prefix=other_prefix).drop()


def _posts(db: Database) -> sa.Table:
    return sa.Table(
        f"{db.prefix}posts",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("body", sa.String(100)),
    )


@pytest.fixture
def host(db: Database) -> Iterator[tuple[sa.Engine, sa.Table, Rewards]]:
    """The host app's engine and posts table, and Rewards on a store in the same database."""
    engine = sa.create_engine(db.url)
    posts = _posts(db)
    posts.metadata.create_all(engine)
    try:
        yield engine, posts, Rewards(db.store(), rules=RULES)
    finally:
        engine.dispose()


class TestHostTransactions:
    def test_rolled_back_host_transaction_leaves_no_reward(
        self, host: tuple[sa.Engine, sa.Table, Rewards]
    ) -> None:
        """A reward recorded in the host's transaction is gone when the host rolls back."""
        engine, posts, rewards = host
        with engine.connect() as conn:
            trans = conn.begin()
            conn.execute(posts.insert().values(id=1, body="hello"))
            outcome = rewards.record(act(1), connection=conn)
            assert outcome.credited("ann") == 2
            trans.rollback()
        assert rewards.store.count_activities() == 0
        assert rewards.activity("a1") is None
        assert rewards.balance("ann") == 0
        assert rewards.explain("ann") == []

    def test_committed_host_transaction_keeps_both(
        self, host: tuple[sa.Engine, sa.Table, Rewards]
    ) -> None:
        """The post and its reward commit together, and not before the host commits."""
        engine, posts, rewards = host
        with engine.connect() as conn:
            with conn.begin():
                conn.execute(posts.insert().values(id=1, body="hello"))
                rewards.record(act(1), connection=conn)
                assert rewards.balance("ann") == 0  # another connection does not see it yet
            assert conn.execute(sa.select(sa.func.count()).select_from(posts)).scalar() == 1
        assert rewards.balance("ann") == 2
        assert [line.activity_id for line in rewards.explain("ann")] == ["a1"]

    def test_reward_first_in_host_transaction(
        self, host: tuple[sa.Engine, sa.Table, Rewards]
    ) -> None:
        """A reward recorded before any host statement still rolls back with the host."""
        engine, posts, rewards = host
        with engine.connect() as conn:
            trans = conn.begin()
            rewards.record(act(1), connection=conn)
            conn.execute(posts.insert().values(id=1, body="hello"))
            trans.rollback()
        assert rewards.balance("ann") == 0
        assert rewards.store.count_activities() == 0

    def test_session_joins_too(self, host: tuple[sa.Engine, sa.Table, Rewards]) -> None:
        """An ORM Session works as the connection: rollback drops, commit keeps the reward."""
        engine, posts, rewards = host
        with Session(engine) as session:
            session.execute(posts.insert().values(id=1, body="draft"))
            rewards.record(act(1), connection=session)
            session.rollback()
        assert rewards.balance("ann") == 0
        with Session(engine) as session:
            session.execute(posts.insert().values(id=2, body="post"))
            rewards.record(act(2), connection=session)
            session.commit()
        assert rewards.balance("ann") == 2
        assert rewards.activity("a1") is None

    def test_failed_record_keeps_host_work(self, host: tuple[sa.Engine, sa.Table, Rewards]) -> None:
        """A refused batch in the host's transaction stores none of itself; the host's stays."""
        engine, posts, rewards = host
        rewards.record(act(1))
        with engine.connect() as conn:
            with conn.begin():
                conn.execute(posts.insert().values(id=1, body="hello"))
                with pytest.raises(ConflictingActivityError):
                    rewards.record_many([act(2), act(1, actor="bob")], connection=conn)
            assert conn.execute(sa.select(posts.c.body)).scalars().all() == ["hello"]
        assert rewards.activity("a2") is None
        assert rewards.balance("ann") == 2

    def test_refused_batch_in_session_stores_nothing(
        self, host: tuple[sa.Engine, sa.Table, Rewards]
    ) -> None:
        """A refused batch in an ORM Session's transaction rolls back to its savepoint: when
        the host commits, none of the batch is stored (the id it claimed can be recorded
        for someone else), the host's work is, and the Session goes on working."""
        engine, posts, rewards = host
        rewards.record(act(1))
        with Session(engine) as session:
            session.execute(posts.insert().values(id=1, body="hello"))
            with pytest.raises(ConflictingActivityError):
                rewards.record_many([act(2), act(1, actor="bob")], connection=session)
            session.execute(posts.insert().values(id=2, body="again"))
            rewards.record(act(3), connection=session)
            session.commit()
        with engine.connect() as conn:
            assert conn.execute(sa.select(posts.c.body).order_by(posts.c.id)).scalars().all() == [
                "hello",
                "again",
            ]
        assert rewards.activity("a2") is None
        assert rewards.balance("ann") == 4
        assert rewards.record(act(2, actor="bob")).credited("bob") == 2
        assert rewards.record(act(2, actor="bob")).credited("bob") == 2  # a retry: the same
        activity = rewards.activity("a2")
        assert activity is not None
        assert activity.actor == "bob"

    def test_refused_batch_in_session_savepoint(
        self, host: tuple[sa.Engine, sa.Table, Rewards]
    ) -> None:
        """In a Session whose host opened a savepoint of its own, a refused batch rolls back
        to the store's savepoint only: the host's savepoint and its work stay."""
        engine, posts, rewards = host
        rewards.record(act(1))
        with Session(engine) as session:
            session.execute(posts.insert().values(id=1, body="outer"))
            with session.begin_nested():
                session.execute(posts.insert().values(id=2, body="inner"))
                with pytest.raises(ConflictingActivityError):
                    rewards.record_many([act(2), act(1, actor="bob")], connection=session)
                rewards.record(act(3), connection=session)
            session.commit()
        with engine.connect() as conn:
            assert conn.execute(sa.select(posts.c.id).order_by(posts.c.id)).scalars().all() == [
                1,
                2,
            ]
        assert rewards.activity("a2") is None
        assert [line.activity_id for line in rewards.explain("ann")] == ["a1", "a3"]

    @pytest.mark.parametrize("how", ["connection", "engine", "session"])
    def test_autocommit_connection_refused(
        self, db: Database, host: tuple[sa.Engine, sa.Table, Rewards], how: str
    ) -> None:
        """A caller's connection in autocommit mode (isolation_level="AUTOCOMMIT" on the
        connection or on its engine, or a Session bound to one) is refused with a
        ConfigurationError naming connection, before anything is written: there the
        store's work would not be part of the caller's transaction."""
        engine, _posts, rewards = host
        autocommit = sa.create_engine(db.url, isolation_level="AUTOCOMMIT")
        rewards.record(act(9, actor="zed"))
        try:
            with (
                engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                if how == "connection"
                else autocommit.connect()
            ) as conn:
                host_connection: sa.Connection | Session = (
                    Session(bind=conn) if how == "session" else conn
                )
                for batch in ([act(1)], [act(2), act(9, actor="ann")]):
                    with pytest.raises(ConfigurationError, match="connection: runs in autocommit"):
                        rewards.record_many(batch, connection=host_connection)
                if db.backend == "sqlite":  # no BEGIN IMMEDIATE left open
                    assert not conn.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]
                conn.commit()
        finally:
            autocommit.dispose()
        assert rewards.store.count_activities() == 1
        assert rewards.activity("a2") is None
        assert rewards.balance("ann") == 0

    def test_sqlite_recipe_host_transaction_joins(self, tmp_path: Path) -> None:
        """A host connection on an engine set up with SQLAlchemy's recipe for pysqlite
        transactions (driver autocommit, BEGIN sent on the engine's "begin" event) is in
        a transaction once begun: the store joins it, and it rolls back with the host."""
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'recipe.db'}")

        @event.listens_for(engine, "connect")
        def autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def deferred_begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN")

        try:
            with SQLAlchemyStore(engine) as store:
                rewards = Rewards(store, rules=RULES)
                with engine.connect() as conn:
                    trans = conn.begin()
                    rewards.record(act(1), connection=conn)
                    trans.rollback()
                with engine.connect() as conn, conn.begin():
                    rewards.record(act(2), connection=conn)
                assert [line.activity_id for line in rewards.explain("ann")] == ["a2"]
        finally:
            engine.dispose()

    @pytest.mark.parametrize("pool", ["static", "singleton-thread"])
    def test_in_memory_host_transaction_is_left_open(self, pool: str) -> None:
        """On an engine of one shared connection (in-memory SQLite: the store's StaticPool,
        SQLAlchemy's default SingletonThreadPool), a read or a write transaction of the
        store's own while the host's transaction is open on that connection is refused
        with a StorageError, before the store takes the connection: taking it would end
        the host's transaction (a read rolled it back, and a write committed it).  The
        host's transaction goes on, and commits everything."""
        store = SQLAlchemyStore("sqlite://") if pool == "static" else None
        engine = store.engine if store is not None else sa.create_engine("sqlite://")
        store = store or SQLAlchemyStore(engine)
        assert type(engine.pool).__name__ == (
            "StaticPool" if pool == "static" else "SingletonThreadPool"
        )
        posts = sa.Table("posts", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
        posts.metadata.create_all(engine)
        rewards = Rewards(store, rules=RULES)
        try:
            with engine.begin() as conn:
                conn.execute(posts.insert().values(id=1))
                rewards.record(act(1), connection=conn)
                refusals = {
                    "reading state": lambda: rewards.balance("ann"),
                    "reading a ledger": lambda: rewards.explain("ann"),
                    "reading a leaderboard": lambda: store.board_opt_out("ann"),
                    "recording": lambda: rewards.record(act(2)),
                    "updating a person": lambda: rewards.people.set("ann", display_name="A"),
                }
                for action, use in refusals.items():
                    with pytest.raises(StorageError, match=f"{action} refused: .* one connection"):
                        use()
                conn.execute(posts.insert().values(id=2))
            with engine.connect() as conn:
                assert conn.execute(sa.select(posts.c.id)).scalars().all() == [1, 2]
            assert rewards.balance("ann") == 2
            assert rewards.activity("a2") is None
            assert rewards.record(act(2)).credited("ann") == 2  # no transaction open: as before
        finally:
            store.close()
            engine.dispose()

    @pytest.mark.mysql
    @pytest.mark.parametrize(
        ("store_scheme", "host_scheme"), [("mariadb", "mysql"), ("mysql", "mariadb")]
    )
    def test_mysql_and_mariadb_urls_join_alike(
        self, server_url: Callable[[str], str], store_scheme: str, host_scheme: str
    ) -> None:
        """A store on a mariadb:// URL joins a host connection made from a mysql:// URL to
        the same database, and the reverse: SQLAlchemy names the dialect after the URL,
        not the server, and both reach the same tables."""
        url = sa.make_url(server_url("mysql"))
        database = Database(
            "mysql", url.set(drivername=f"{store_scheme}+pymysql").render_as_string(False)
        )
        host = sa.create_engine(url.set(drivername=f"{host_scheme}+pymysql"))
        try:
            rewards = Rewards(database.store(), rules=RULES)
            with host.connect() as conn:
                assert conn.dialect.name == host_scheme
                trans = conn.begin()
                assert rewards.record(act(1), connection=conn).credited("ann") == 2
                trans.rollback()
                with conn.begin():
                    rewards.record(act(2), connection=conn)
            assert [line.activity_id for line in rewards.explain("ann")] == ["a2"]
        finally:
            host.dispose()
            database.drop()

    def test_asyncio_session_refused(
        self, db: Database, host: tuple[sa.Engine, sa.Table, Rewards]
    ) -> None:
        """An asyncio AsyncSession or async_scoped_session as connection= (and on
        PostgreSQL, whose psycopg has an async driver, an AsyncConnection) is refused with
        a ConfigurationError naming connection and run_sync(), before anything is written
        (it failed with "'coroutine' object has no attribute 'dialect'").  Needs
        SQLAlchemy's asyncio extension, which needs greenlet."""
        pytest.importorskip(
            "greenlet", reason="SQLAlchemy's asyncio extension needs greenlet (sqlalchemy[asyncio])"
        )
        from sqlalchemy.ext import asyncio as asyncio_ext

        _engine, _posts, rewards = host
        given: list[Any] = [
            asyncio_ext.AsyncSession(),
            asyncio_ext.async_scoped_session(asyncio_ext.async_sessionmaker(), scopefunc=id),
        ]
        async_engine = None
        if db.backend == "postgresql":
            async_engine = asyncio_ext.create_async_engine(db.url)
            given.append(asyncio_ext.AsyncConnection(async_engine))  # not connected yet
        try:
            for connection in given:
                with pytest.raises(
                    ConfigurationError, match=r"connection: is an asyncio .*run_sync"
                ):
                    rewards.record(act(1), connection=connection)
        finally:
            if async_engine is not None:
                async_engine.sync_engine.dispose()
        assert rewards.store.count_activities() == 0

    def test_asyncio_shapes_refused(self, host: tuple[sa.Engine, sa.Table, Rewards]) -> None:
        """An object shaped as SQLAlchemy's asyncio session or connection (an async
        run_sync(), or a connection() that returns a coroutine) is refused with a
        ConfigurationError naming connection and run_sync(); the coroutine is closed,
        not left unawaited."""
        _engine, _posts, rewards = host

        class WithRunSync:
            async def run_sync(self, function: Callable[..., Any]) -> Any:
                return function(self)

            def begin_nested(self) -> None:
                raise AssertionError("never called")

        class ReturningCoroutines:
            async def connection(self) -> None:
                raise AssertionError("never awaited")

            def begin_nested(self) -> None:
                raise AssertionError("never called")

        for given in (WithRunSync(), ReturningCoroutines()):
            with pytest.raises(ConfigurationError, match=r"connection: is an asyncio .*run_sync"):
                rewards.record(act(1), connection=given)  # type: ignore[arg-type]
        assert rewards.store.count_activities() == 0

    def test_open_host_transaction_holds_up_no_batch_about_others(
        self, server_db: Database
    ) -> None:
        """A host transaction that recorded one activity and stays open does not hold up a
        batch of 60 other people's activities, some of them recorded before (read back):
        the batch's locking reads go by the keys of its own rows, not a scan of the log
        (on MariaDB the read-back once walked the log's ``(tenant, seq)`` index and waited
        for the host's uncommitted log row, failing with a lock wait timeout)."""
        # A lock wait ends after a second and is not retried: a regression fails fast.
        setting = (
            {"init_command": "SET SESSION innodb_lock_wait_timeout = 1"}
            if server_db.backend == "mysql"
            else {"options": "-c lock_timeout=1000"}
        )
        store = server_db.store(max_attempts=1, engine_options={"connect_args": setting})
        rewards = Rewards(store, rules=RULES)
        before = [act(n, actor=f"u{n}") for n in range(100, 110)]
        rewards.record_many(before)
        # At READ COMMITTED: at REPEATABLE READ (MariaDB's default) the host's read-back
        # also locks the log's gap next to its new id until it commits, and a batch with
        # an id in that gap waits (docs/storage.md).
        engine = sa.create_engine(server_db.url, isolation_level="READ COMMITTED")
        try:
            with engine.connect() as conn:
                trans = conn.begin()
                rewards.record(act(1, actor="zed"), connection=conn)
                others = [act(n, actor=f"u{n}") for n in range(110, 160)]
                outcomes = rewards.record_many(before + others)
                assert [
                    o.credited(f"u{n}") for n, o in zip(range(100, 160), outcomes, strict=True)
                ] == [2] * 60
                trans.commit()
        finally:
            engine.dispose()
        assert rewards.store.count_activities() == 61  # the 10 recorded before, once
        assert [rewards.balance(f"u{n}") for n in range(100, 160)] == [2] * 60
        assert rewards.balance("zed") == 2

    def test_read_back_locks_no_row_of_another_batch(self, server_db: Database) -> None:
        """A batch's locking read-back of its ids locks the rows of those ids only, on
        tables of a few rows too: another transaction's uncommitted claim of an id
        between them (an activity row and its log row) holds it up not at all.
        (On MariaDB the read-back once joined the tables as the optimizer chose, which
        on small tables meant reading every row of one of them with LOCK IN SHARE
        MODE: it waited for another batch's claimed rows while that batch waited for
        its own, a deadlock that four threads recording the same ids met now and then.)"""
        # A lock wait ends after a second and is not retried: a regression fails fast.
        setting = (
            {"init_command": "SET SESSION innodb_lock_wait_timeout = 1"}
            if server_db.backend == "mysql"
            else {"options": "-c lock_timeout=1000"}
        )
        store = server_db.store(max_attempts=1, engine_options={"connect_args": setting})
        rewards = Rewards(store, rules=RULES)
        rewards.record_many([act(n, actor=f"u{n}") for n in (2, 4, 6, 8)])
        engine = sa.create_engine(server_db.url, isolation_level="READ COMMITTED")
        try:
            with engine.connect() as conn:
                trans = conn.begin()
                rewards.record(act(5, actor="u5"), connection=conn)  # a5 claimed, open
                batch = [act(n, actor=f"u{n}") for n in (1, 2, 3, 4, 6, 7, 8, 9)]
                outcomes = rewards.record_many(batch)
                assert [o.credited(a.actor) for a, o in zip(batch, outcomes, strict=True)] == [
                    2
                ] * 8
                trans.commit()
        finally:
            engine.dispose()
        assert rewards.store.count_activities() == 9
        assert [rewards.balance(f"u{n}") for n in range(1, 10)] == [2] * 9

    def test_log_read_while_a_host_transaction_commits_late(
        self, server_db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """iter_activities() yields the log as of one moment, also when a recording that
        took its place in the log earlier commits while the log is read: every activity
        committed when the reading began, in recording order, and neither the late one
        nor one recorded after it that was evaluated after it.  (Read a page at a time
        in separate transactions, the log skipped W for good and yielded Y, whose cap W
        had used up: a history that never happened.)"""
        monkeypatch.setattr(sqlalchemy_store, "_PAGE", 5)  # several pages of a small log
        store = server_db.store()
        rewards = Rewards(store, rules=RULES)
        # At READ COMMITTED, so that the others do not wait for W (see the test above).
        engine = sa.create_engine(server_db.url, isolation_level="READ COMMITTED")
        try:
            with engine.connect() as conn:
                trans = conn.begin()
                rewards.record(act(1), connection=conn)  # W: ann's comment, 2 of her 5 a day
                others = [act(n, actor=f"u{n}") for n in range(10, 22)]
                rewards.record_many(others)
                log = store.iter_activities()
                first_page = [next(log) for _ in range(5)]
                trans.commit()
        finally:
            engine.dispose()
        rewards.record_many([act(2), act(3)])  # Y: after W, ann's cap cuts her third comment
        assert rewards.balance("ann") == 5  # 2 + 2 + 1: the cap counted W
        assert [a.id for a in first_page + list(log)] == [a.id for a in others]
        assert [a.id for a in store.iter_activities()] == [
            "a1",
            *(a.id for a in others),
            "a2",
            "a3",
        ]

    def test_not_a_connection_refused(self, host: tuple[sa.Engine, sa.Table, Rewards]) -> None:
        """connection= must be a SQLAlchemy Connection or Session."""
        _engine, _posts, rewards = host
        with pytest.raises(ConfigurationError, match="Connection or Session"):
            rewards.record(act(1), connection="not a connection")
        with pytest.raises(TypeError, match="unknown transaction options: timeout"):
            rewards.record(act(1), timeout=3)


class TestLog:
    def test_iteration_closed_early_gives_its_connection_back(
        self, db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An iteration of the log stopped early (closed, or dropped) ends its read
        transaction and gives its connection back to the pool; one read to the end does
        too."""
        monkeypatch.setattr(sqlalchemy_store, "_PAGE", 2)
        store = db.store()
        rewards = Rewards(store, rules=RULES)
        rewards.record_many([act(n, actor=f"u{n}") for n in range(5)])
        pool = store.engine.pool
        assert isinstance(pool, sa.QueuePool)
        log = store.iter_activities()
        assert next(log).id == "a0"
        log.close()  # type: ignore[attr-defined]  # a generator
        assert pool.checkedout() == 0
        log = store.iter_activities()
        next(log)
        del log
        assert pool.checkedout() == 0
        assert [a.id for a in store.iter_activities()] == [f"a{n}" for n in range(5)]
        assert pool.checkedout() == 0


class TestRoundTrips:
    def test_statements_per_batch_do_not_grow(self, db: Database) -> None:
        """A batch sends the same few statements for 10 or 300 activities, not one per row."""
        store = db.store()
        rewards = Rewards(store, rules=RULES)
        counter = Counter(store.engine)

        def batch(start: int, size: int) -> list[Activity]:
            return [
                act(n, actor=f"u{n % 7}", kind="answer.upvoted", recipient=f"u{n % 5}")
                for n in range(start, start + size)
            ]

        small = counter.during(lambda: rewards.record_many(batch(0, 10)))
        large = counter.during(lambda: rewards.record_many(batch(1000, 300)))
        again = counter.during(lambda: rewards.record_many(batch(1000, 300)))
        assert small == large
        # the actors' team memberships, claim (+ a look-up of ids already recorded),
        # lock-and-read state (one or two), log, ledger, state, SQLite's BEGIN
        # IMMEDIATE, and the adoption rollups (day, week, month, first days: one
        # statement on PostgreSQL, one each elsewhere): at most 9 on PostgreSQL, 13
        # elsewhere.
        assert large <= (9 if db.backend == "postgresql" else 13)
        assert again <= 4  # only duplicates: memberships, claim, look-up (and BEGIN)


class TestErrors:
    def test_driver_errors_wrapped_once(self, db: Database) -> None:
        """A database failure raises StorageError caused by SQLAlchemy's error, wrapped once."""
        store = db.store()
        rewards = Rewards(store, rules=RULES)
        with store.engine.begin() as conn:
            store.tables.ledger.drop(conn)
        with pytest.raises(StorageError) as info:
            rewards.record(act(1))
        assert isinstance(info.value.__cause__, sa_exc.DBAPIError)
        assert not isinstance(info.value, TransientStorageError)
        assert store.count_activities() == 0
        with pytest.raises(StorageError) as again:
            store.ledger("ann")
        assert isinstance(again.value.__cause__, sa_exc.DBAPIError)

    def test_outbox_value_too_long_is_refused_not_cut(self, server_db: Database) -> None:
        """A notification value too long for its column raises StorageError and stores
        nothing, on every server: MySQL/MariaDB do not store it cut (``INSERT IGNORE``
        would, with a warning), as a payload over MEDIUMTEXT's 16 MiB would be, where
        ``max_allowed_packet`` lets it through.  A repeated id is still left as it was."""
        store = server_db.store()
        long_id = "n" * (NOTIFICATION_ID_LENGTH + 1)
        with pytest.raises(StorageError):
            put(store, Notification(long_id, "e2badges_notify_outcome", {}, ("p",)))
        assert store.claim_notifications(now=T0, lease=timedelta(minutes=1)) == []
        put(store, note(1, payload={"v": "first"}), note(1, payload={"v": "second"}))
        put(store, note(1, payload={"v": "third"}))
        entry = store.get_notification("n1")
        assert entry is not None
        assert entry.notification.payload == {"v": "first"}

    def test_transient_failures_retried(self, db: Database) -> None:
        """A deadlock in the store's own transaction is retried; the batch is stored once."""
        store = db.store(max_attempts=3)
        rewards = Rewards(store, rules=RULES)
        failures = _fail_log_inserts(store, times=2)
        outcomes = rewards.record_many([act(1), act(2), act(3)])
        assert failures == []  # both injected deadlocks were used up
        assert [o.credited("ann") for o in outcomes] == [2, 2, 1]
        assert store.count_activities() == 3
        assert rewards.balance("ann") == 5

    def test_snapshot_conflicts_retried(self, db: Database) -> None:
        """MariaDB's error 1020 (a row changed since the snapshot) in the store's own
        transaction is retried like a deadlock; the batch is stored once."""
        store = db.store(max_attempts=2)
        rewards = Rewards(store, rules=RULES)
        log = store.tables.log.name
        failures = _fail_statements(store, log, "INSERT", times=1, error=_FakeSnapshotConflict)
        assert rewards.record(act(1)).credited("ann") == 2
        assert failures == []
        assert store.count_activities() == 1

    def test_retries_are_bounded(self, db: Database) -> None:
        """After max_attempts transient failures the error goes through and nothing is stored."""
        store = db.store(max_attempts=2)
        rewards = Rewards(store, rules=RULES)
        _fail_log_inserts(store, times=5)
        with pytest.raises(TransientStorageError, match="deadlock"):
            rewards.record(act(1))
        assert store.count_activities() == 0
        assert rewards.balance("ann") == 0

    def test_period_closes_retried(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        """A deadlock while closing periods is retried after a random pause, as a recording
        batch is: the period is closed, and its final standings told, once."""
        slept: list[float] = []
        monkeypatch.setattr("e2badges._retry.time.sleep", slept.append)
        store = db.store(max_attempts=3)
        clock = FrozenClock(T0)
        keeper = Keeper()
        rewards = Rewards(
            store,
            rules=BOARD_RULES,
            leaderboards=BOARDS,
            plugins=[keeper],
            clock=clock,
            load_entrypoints=False,
        )
        rewards.record(scored(1, "ann", 5))
        clock.advance(timedelta(days=1))
        failures = _fail_statements(store, store.tables.outbox.name, "INSERT", times=2)
        assert rewards.close_periods() == [("pts", "day", "2026-03-02")]
        assert (failures, len(slept)) == ([], 2)
        assert keeper.received == ["recorded:s1", "pts:2026-03-02"]
        assert rewards.close_periods() == []
        assert rewards.deliver_pending() == DeliveryReport()

    def test_person_updates_and_deletions_back_off(
        self, db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A deadlock in a person's update or a tenant's deletion is retried after a random
        pause, as a recording batch is; the change is then stored once."""
        slept: list[float] = []
        monkeypatch.setattr("e2badges._retry.time.sleep", slept.append)
        store = db.store(max_attempts=3)
        rewards = Rewards(store, rules=RULES)
        rewards.record(act(1))
        failures = _fail_statements(store, store.tables.people.name, "UPDATE", times=2)
        rewards.people.set("ann", display_name="Ann")
        assert failures == []
        assert len(slept) == 2
        assert rewards.people.get("ann").display_name == "Ann"
        failures = _fail_statements(store, store.tables.ledger.name, "DELETE", times=1)
        store.delete_tenant()
        assert failures == []
        assert len(slept) == 3
        assert store.tenants() == []

    def test_opt_outs_and_outbox_writes_back_off(
        self, db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A deadlock in an opt-out, a board exclusion or the outbox's bookkeeping (a
        claim, a delivery, a failure, a release) is retried after a random pause, as a
        recording batch is; the change is then stored once."""
        slept: list[float] = []
        monkeypatch.setattr("e2badges._retry.time.sleep", slept.append)
        store = db.store(max_attempts=3)
        opt_outs, outbox = store.tables.board_opt_outs.name, store.tables.outbox.name
        failures = _fail_statements(store, opt_outs, "INSERT", times=2)
        store.set_board_opt_out("ann", True)
        assert (failures, len(slept), store.board_opt_out("ann")) == ([], 2, True)
        failures = _fail_statements(store, opt_outs, "INSERT", times=1)
        store.set_board_exclusions("bob", ["pts"])
        assert (failures, len(slept), store.board_exclusions("bob")) == ([], 3, {"pts"})
        put(store, note(1))
        failures = _fail_statements(store, outbox, "UPDATE", times=1)
        claimed = store.claim_notifications(now=T0, lease=timedelta(minutes=1))
        assert ([e.notification.id for e in claimed], failures, len(slept)) == (["n1"], [], 4)
        delivered = _fail_statements(store, outbox, "UPDATE", times=1)
        store.mark_delivered("n1", "p")
        failed = _fail_statements(store, outbox, "UPDATE", times=1)
        assert store.mark_failed("n1", "q", error="down") == 1
        released = _fail_statements(store, outbox, "UPDATE", times=1)
        store.release_notification("n1", done=True)
        assert (delivered, failed, released, len(slept)) == ([], [], [], 7)
        entry = store.get_notification("n1")
        assert entry is not None
        assert (entry.delivered, dict(entry.failures), entry.done) == ({"p"}, {"q": 1}, True)

    def test_erasures_retried_by_the_store(
        self, db: Database, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The store retries an erasure itself, as its other write transactions: after a
        deadlock, and after a lost connection that hid a successful commit (the second
        run, with the same pseudonym, finds nothing left to change)."""
        slept: list[float] = []
        monkeypatch.setattr("e2badges._retry.time.sleep", slept.append)
        store = db.store(max_attempts=3)
        rewards = Rewards(store, rules=RULES)
        rewards.record_many([act(1), act(2, actor="bob")])
        failures = _fail_statements(store, store.tables.ledger.name, "UPDATE", times=1)
        store.erase_person("ann", "erased-1")
        assert (failures, len(slept)) == ([], 1)
        hidden = _lose_connection_after_commit(store, monkeypatch, times=1)
        store.erase_person("bob", "erased-2")
        assert (hidden, len(slept)) == ([], 2)
        assert (rewards.balance("ann"), rewards.balance("bob")) == (0, 0)
        assert (rewards.balance("erased-1"), rewards.balance("erased-2")) == (2, 2)
        assert store.board_opt_out("erased-2")

    def test_host_transaction_not_retried(self, db: Database) -> None:
        """In the caller's transaction a deadlock is a plain StorageError: the caller decides."""
        store = db.store(max_attempts=3)
        rewards = Rewards(store, rules=RULES)
        failures = _fail_log_inserts(store, times=1)
        with store.engine.connect() as conn, conn.begin():
            with pytest.raises(StorageError) as info:
                rewards.record(act(1), connection=conn)
            assert not isinstance(info.value, TransientStorageError)
        assert failures == []

    def test_sqlite_writer_waits_for_the_lock(self, tmp_path: Path) -> None:
        """A SQLite writer waits for another process's write lock, up to busy_timeout."""
        url = f"sqlite:///{tmp_path / 'busy.db'}"
        with SQLAlchemyStore(url) as store, SQLAlchemyStore(url) as other:
            rewards = Rewards(store, rules=RULES)
            with other.engine.connect() as conn:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                timer = threading.Timer(0.3, conn.rollback)
                timer.start()
                rewards.record(act(1))  # blocks until the timer releases the lock
                timer.join()
            assert rewards.balance("ann") == 2

    def test_sqlite_recipe_engine_takes_the_write_lock_first(self, tmp_path: Path) -> None:
        """On an engine set up with SQLAlchemy's recipe for pysqlite transactions (driver
        autocommit, a deferred BEGIN on the engine's "begin" event), the store's own
        transaction still takes the write lock first: it waits for another writer, who
        commits meanwhile, instead of failing at its first write on a stale snapshot."""
        path = tmp_path / "recipe.db"
        engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 5})

        @event.listens_for(engine, "connect")
        def autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            dbapi_connection.execute("PRAGMA journal_mode=WAL")

        @event.listens_for(engine, "begin")
        def deferred_begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN")

        try:
            with SQLAlchemyStore(engine, max_attempts=1) as store:
                rewards = Rewards(store, rules=RULES)
                rewards.record(act(1))
                other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                try:
                    other.execute("BEGIN IMMEDIATE")
                    other.execute(f"DELETE FROM {store.tables.meta.name} WHERE name = 'x'")
                    timer = threading.Timer(0.3, other.execute, ("COMMIT",))
                    timer.start()
                    try:
                        rewards.record(act(2))  # waits for the lock, then writes
                    finally:
                        timer.join()
                finally:
                    other.close()
                assert rewards.balance("ann") == 4
        finally:
            engine.dispose()

    def test_sqlite_wal_switch_waits_for_the_lock(self, tmp_path: Path) -> None:
        """Opening a file that is not in WAL mode yet, while another connection writes to
        it, waits for its lock (up to busy_timeout) to switch it to WAL, instead of
        failing at once with "database is locked" (as processes opening a fresh file
        together did)."""
        path = tmp_path / "fresh.db"
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            other.execute("CREATE TABLE host (a)")
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO host VALUES (1)")
            timer = threading.Timer(0.3, other.execute, ("COMMIT",))
            timer.start()
            try:
                store = SQLAlchemyStore(f"sqlite:///{path}", busy_timeout=5)
            finally:
                timer.join()
        finally:
            other.close()
        with store:
            Rewards(store, rules=RULES).record(act(1))
            with store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert Rewards(store, rules=RULES).balance("ann") == 2

    def test_sqlite_wal_switch_gives_up_after_busy_timeout(self, tmp_path: Path) -> None:
        """A lock held past busy_timeout still fails the store's opening, as a
        StorageError naming the lock."""
        path = tmp_path / "held.db"
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("CREATE TABLE host (a)")
            other.execute("BEGIN EXCLUSIVE")
            with pytest.raises(StorageError, match="locked"):
                SQLAlchemyStore(f"sqlite:///{path}", busy_timeout=0.2)
        finally:
            other.close()

    def test_sqlite_busy_is_transient(self, tmp_path: Path) -> None:
        """A SQLite writer still locked out after busy_timeout gets TransientStorageError."""
        url = f"sqlite:///{tmp_path / 'busy.db'}"
        with (
            SQLAlchemyStore(url, busy_timeout=0.05, max_attempts=2) as store,
            SQLAlchemyStore(url) as other,
        ):
            with other.engine.connect() as conn:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                with pytest.raises(TransientStorageError, match="locked"):
                    Rewards(store, rules=RULES).record(act(1))
                conn.rollback()
            assert store.count_activities() == 0


class _FakeDeadlock(Exception):
    """Looks like a driver's deadlock error to the store (PostgreSQL's SQLSTATE 40P01)."""

    sqlstate = "40P01"

    def __init__(self) -> None:
        super().__init__("deadlock detected (injected)")
        self.args = (1213, "deadlock detected (injected)")


def _fail_log_inserts(store: SQLAlchemyStore, *, times: int) -> list[int]:
    """Make the next ``times`` log inserts fail as deadlocks; return the list of those left."""
    return _fail_statements(store, store.tables.log.name, "INSERT", times=times)


def _lose_connection_after_commit(
    store: SQLAlchemyStore, monkeypatch: pytest.MonkeyPatch, *, times: int
) -> list[int]:
    """Make the next ``times`` commits of the store's engine succeed, then fail as a lost
    connection would (the commit hidden from the store); return the list of those left."""
    left = list(range(times))
    dialect = store.engine.dialect
    commit = dialect.do_commit

    def commit_then_fail(dbapi_connection: Any) -> None:
        commit(dbapi_connection)
        if left:
            left.pop()
            lost = Exception("server closed the connection unexpectedly (injected)")
            raise sa_exc.OperationalError("COMMIT", None, lost, connection_invalidated=True)

    monkeypatch.setattr(dialect, "do_commit", commit_then_fail)
    return left


class _FakeSnapshotConflict(Exception):
    """Looks like MariaDB's error 1020 to the store: snapshot isolation refused a locking
    read of a row changed since the snapshot."""

    sqlstate = "HY000"

    def __init__(self) -> None:
        super().__init__("Record has changed since last read (injected)")
        self.args = (1020, "Record has changed since last read (injected)")


def _fail_statements(
    store: SQLAlchemyStore,
    table: str,
    verb: str,
    *,
    times: int,
    error: Callable[[], Exception] = _FakeDeadlock,
) -> list[int]:
    """Make the next ``times`` statements that start with ``verb`` and name ``table`` fail
    with ``error()`` (a deadlock); return the list of those left."""
    left = list(range(times))

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if left and table in statement and statement.lstrip().upper().startswith(verb):
            left.pop()
            raise sa_exc.OperationalError(statement, None, error())

    event.listen(store.engine, "before_cursor_execute", fail)
    return left


def _joined_connection_refused(db: Database, host: dict[str, Any], reason: str) -> None:
    """Assert that recording in a caller's connection of an engine made with ``host``
    (``url``, else the database's, and ``create_engine`` options) is refused with
    ConfigurationError naming connection and ``reason``, and writes nothing."""
    rewards = Rewards(db.store(), rules=RULES)
    options = dict(host)
    engine = sa.create_engine(options.pop("url", db.url), **options)
    try:
        with engine.connect() as conn:
            with pytest.raises(ConfigurationError) as info:
                rewards.record(act(1), connection=conn)
            assert info.value.field == "connection"
            assert reason in info.value.reason
            conn.rollback()
        assert rewards.activity("a1") is None
    finally:
        engine.dispose()
        db.drop()
