"""SQLAlchemyStore: the Store contract on SQLite, PostgreSQL and MySQL/MariaDB.

The store is chosen by URL (``sqlite:///rewards.db``, ``postgresql+psycopg://...``,
``mysql+pymysql://...``) or given a live SQLAlchemy Engine.  Importing this
module imports SQLAlchemy but no database driver; a missing driver raises
MissingDependencyError naming the extra to install.  How data is laid out and
locked is described in docs/storage.md and in :mod:`._sql_schema` and
:mod:`._sql_dialects`.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import threading
import time
import urllib.parse
from collections.abc import (
    Callable,
    Collection,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    Insert,
    Select,
    Table,
    bindparam,
    create_engine,
    func,
    or_,
    select,
    update,
)
from sqlalchemy import event as sa_event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import Pool, SingletonThreadPool, StaticPool

from .._engine import EffectBatch
from .._errors import (
    ConfigurationError,
    MissingDependencyError,
    SchemaVersionError,
    StorageError,
    TransientStorageError,
)
from .._leaderboards import AroundPage, BoardPage, BoardRow, Bucket, RollingBucket, Standing
from .._limits import check_aware
from .._models import Activity, Award, AwardRecord, LedgerEntry, Outcome, Revocation, Story
from .._notifications import Notification, OutboxEntry
from .._people import Membership, Person, Visibility
from .._retry import retry_transient
from .._state import StateView
from . import _sql_adoption, _sql_people
from ._board_index import BoardIndex
from ._codec import (
    decode_activity,
    decode_outcome,
    decode_record,
    decode_value,
    encode_activity,
    encode_outcome,
    encode_record,
    encode_value,
    epoch_us,
    from_epoch_us,
    utc_offset,
)
from ._sql_boards import SQLBoards
from ._sql_copies import BoardCopies, BoardCopy
from ._sql_dialects import ActivityRow, LedgerRow, LogRow, SQLOps, StateRow, ops_for, storage_key
from ._sql_readers import Readers, readers_for
from ._sql_schema import (
    SCHEMA_VERSION,
    STATE_KEY_LENGTH,
    Tables,
    build_tables,
    check_prefix,
    create_schema,
    read_version,
    schema_lock,
)
from ._tenant import DEFAULT_TENANT, check_tenant
from .base import Store, StoreTransaction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["SQLAlchemyStore", "schema_version", "upgrade"]

# backend -> (the supported DBAPI driver, its module, the extra that installs it)
_DRIVERS: dict[str, tuple[str, str, str | None]] = {
    "sqlite": ("pysqlite", "sqlite3", None),
    "postgresql": ("psycopg", "psycopg", "postgres"),
    "mysql": ("pymysql", "pymysql", "mysql"),
    "mariadb": ("pymysql", "pymysql", "mysql"),
}

# SQLSTATEs (PostgreSQL) and error numbers (MySQL/MariaDB) that a retry may cure.
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
# 1020: MariaDB's snapshot isolation (REPEATABLE READ) refused a locking read of a row
# changed since the snapshot; the store's own transactions run at READ COMMITTED,
# where it cannot happen, but the rollback makes a retry safe if it does.
_TRANSIENT_MYSQL = frozenset({1020, 1205, 1213})

_PAGE = 1000
_ID_CHUNK = 500  # ids per IN list when claiming given notifications


def _check_url(url: URL) -> URL:
    backend = url.get_backend_name()
    known = _DRIVERS.get(backend)
    if known is None:
        raise ConfigurationError(
            "url",
            f"{backend!r} is not a database the SQL store supports "
            "(use sqlite, postgresql+psycopg or mysql+pymysql)",
            subject="SQLAlchemyStore",
        )
    driver = known[0]
    if "+" not in url.drivername:
        return url.set(drivername=f"{backend}+{driver}")
    if url.get_driver_name() != driver:
        raise ConfigurationError(
            "url",
            f"driver {url.get_driver_name()!r} is not supported for {backend}; "
            f"use {backend}+{driver}://"
            + (
                " (psycopg 3: psycopg2 upserts run one row per round trip)"
                if url.get_driver_name() == "psycopg2"
                else ""
            ),
            subject="SQLAlchemyStore",
        )
    return url


def _uri_flag(url: URL) -> bool:
    """Return whether a SQLite ``url`` asks for a URI filename (``?uri=true``)."""
    return str(url.query.get("uri", "")).lower() in ("true", "1")


def _is_memory_sqlite(url: URL) -> bool:
    """Return whether ``url`` names an in-memory SQLite database: none or ``:memory:``, or
    a URI filename (``uri=true``) of ``:memory:`` (``file::memory:``) or with
    ``mode=memory`` (``file:name?mode=memory``, shared cache or not).

    The URL alone decides: a driver ``uri`` flag in ``connect_args`` makes no URI
    filename of a URL without ``uri=true`` (see _check_uri_connect_arg)."""
    database = url.database or ""
    if database in ("", ":memory:"):
        return True
    if not _uri_flag(url):
        return False
    return database.startswith("file::memory:") or url.query.get("mode") == "memory"


# create_engine() options that would replace, size or recycle the one connection of an
# in-memory SQLite database, and the one value of each that the store's StaticPool keeps
# (None: no value keeps it).
_MEMORY_POOL_OPTIONS: dict[str, object] = {
    "poolclass": StaticPool,
    "pool": None,
    "pool_recycle": -1,
    "pool_size": None,
    "max_overflow": None,
    "pool_timeout": None,
    "pool_use_lifo": None,
}

_MEMORY_POOL_REASON = (
    "an in-memory SQLite database lives in its one connection, which the store keeps in "
    "a StaticPool shared by every thread; another pool, or that connection recycled, would "
    "open a new, empty database"
)


def _check_memory_pool_options(given: Mapping[str, Any]) -> None:
    """Refuse engine_options that would replace the StaticPool of an in-memory SQLite
    database (``poolclass`` other than StaticPool, ``pool``), size it (``pool_size``,
    ``max_overflow``, ``pool_timeout``, ``pool_use_lifo``: a StaticPool has one
    connection) or recycle its connection (``pool_recycle`` other than -1)."""
    for key, keeps in _MEMORY_POOL_OPTIONS.items():
        if key not in given:
            continue
        value = given[key]
        if keeps is StaticPool and isinstance(value, type) and issubclass(value, StaticPool):
            continue
        if keeps is not None and keeps is not StaticPool and value == keeps:
            continue
        raise ConfigurationError(
            "engine_options",
            f"{key}={value!r} is refused: {_MEMORY_POOL_REASON}; "
            "use a SQLite file for a pool of your own",
            subject="SQLAlchemyStore",
        )


def _check_uri_connect_arg(url: URL, engine_options: Mapping[str, Any] | None) -> None:
    """Refuse engine_options' ``connect_args`` ``uri=True`` on a SQLite URL whose
    database is a URI filename (``file:...``) without ``uri=true`` in its query.

    SQLAlchemy hands SQLite a URI filename only when the URL's query says
    ``uri=true``; otherwise it makes the database an absolute path, which the driver's
    ``uri`` flag does not turn back into a URI, and drops the URL's other query
    parameters (``mode``, ``cache``).  ``sqlite:///file:x?mode=memory`` with
    ``connect_args={"uri": True}`` is then a file named ``file:x`` in the working
    directory, not the in-memory database it reads as.  So the URL alone says what
    SQLite opens, and the store (which keeps an in-memory database in one shared
    connection) reads it from there.
    """
    connect_args = (engine_options or {}).get("connect_args")
    if not isinstance(connect_args, Mapping) or not connect_args.get("uri"):
        return
    database = url.database or ""
    if database.startswith("file:") and not _uri_flag(url):
        raise ConfigurationError(
            "engine_options",
            f"connect_args: uri={connect_args['uri']!r} does not make the URL's database "
            f"{database!r} a URI filename: SQLAlchemy passes it to SQLite as one only with "
            "uri=true in the URL's query, and otherwise opens a file of that name in the "
            "working directory, dropping the URL's other parameters (mode, cache); put "
            "uri=true in the URL (sqlite:///file:name?mode=memory&uri=true)",
            subject="SQLAlchemyStore",
        )


def _sqlite_file(url: URL) -> str | None:
    """Return the path of the file a SQLite URL opens (a plain path or a ``file:`` URI
    with ``?uri=true``), or None for another database or an in-memory one."""
    if url.get_backend_name() != "sqlite" or _is_memory_sqlite(url):
        return None
    database = url.database or ""
    if _uri_flag(url) and database.startswith("file:"):
        database = urllib.parse.unquote(urllib.parse.urlsplit(database).path)
        if database in ("", ":memory:"):
            return None
    return os.path.abspath(database)


def _read_only_sqlite(url: URL) -> URL:
    """Return ``url`` (a SQLite file) opening the file read-only, as a URI ``mode=ro``.

    A read (``e2badges db current``) must not leave a database file behind at a
    mistyped path, as opening it the usual way would: a missing file is refused.
    """
    if _uri_flag(url) and (url.database or "").startswith("file:"):
        # Already a URI filename (``sqlite:///file:...?uri=true``): read-only too.
        return url.update_query_dict({"mode": "ro"})
    path = os.path.abspath(url.database or "")
    if not os.path.isfile(path):
        raise ConfigurationError(
            "url",
            f"no SQLite database file at {path!r} (reading does not create one)",
            subject="SQLAlchemyStore",
        )
    uri = "file:" + urllib.parse.quote(path)
    return url.set(database=uri).update_query_dict({"mode": "ro", "uri": "true"})


#: busy_timeout's default, in seconds: the one value accepted where it cannot apply.
_BUSY_TIMEOUT = 30.0
#: The most board periods a store keeps a copy of (board_copies).
_MAX_BOARD_COPIES = 1000


def _busy_timeout_refused(busy_timeout: float, where: str) -> None:
    """Refuse a busy_timeout other than the default ``where`` it cannot apply (a given
    Engine, a server), as it would be ignored without a word."""
    if busy_timeout != _BUSY_TIMEOUT:
        raise ConfigurationError(
            "busy_timeout",
            f"{busy_timeout!r} seconds cannot apply {where}: busy_timeout is how long the "
            "connections of a SQLite engine the store creates wait for the write lock",
            subject="SQLAlchemyStore",
        )


def _check_busy_timeout(value: Any) -> float:
    """Return ``busy_timeout`` if it is a finite number of seconds, 0 or more."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (math.isfinite(value) and value >= 0)
    ):
        raise ConfigurationError(
            "busy_timeout",
            f"must be a finite number of seconds, 0 or more; got {value!r}",
            subject="SQLAlchemyStore",
        )
    return value


def _check_charset(
    charset: object, *, field: str, where: str = "", subject: str = "SQLAlchemyStore"
) -> None:
    """Refuse a MySQL/MariaDB charset other than utf8mb4 (``field`` names where it was
    given: ``url``, ``engine_options`` with ``where`` its place there, or ``engine`` and
    ``connection`` for PyMySQL's connection's own).

    ``utf8`` (``utf8mb3``) cannot hold 4-byte characters (emoji) and ``latin1`` far
    less, though every identifier and text e2badges accepts may hold them: the store
    would refuse (or the driver fail on) values the other stores keep.
    """
    if not isinstance(charset, str) or charset.lower() != "utf8mb4":
        raise ConfigurationError(
            field,
            f"{where}charset={charset!r} cannot hold every character e2badges accepts "
            "(emoji need 4 bytes in UTF-8); use charset=utf8mb4 or leave charset out",
            subject=subject,
        )


# connect_args the store sets itself, which engine_options may repeat but not change:
# key -> why the store needs its value.
_OWN_CONNECT_ARGS = {
    "check_same_thread": "the one connection of an in-memory SQLite database is the "
    "database, shared by every thread",
}


def _merge_connect_args(own: Mapping[str, Any], given: object, *, backend: str) -> dict[str, Any]:
    """Return the store's own ``connect_args`` with engine_options' added key by key.

    A given key may not change one the store needs (``check_same_thread=False`` for
    in-memory SQLite), SQLite's ``timeout`` is ``busy_timeout``'s to set, and a MySQL
    charset must be utf8mb4 (given there, it wins over the URL's): each is refused
    with ConfigurationError naming ``engine_options``.
    """
    if not isinstance(given, Mapping):
        raise ConfigurationError(
            "engine_options",
            "connect_args must be a mapping of the driver's connect() arguments, "
            f"not {type(given).__name__}",
            subject="SQLAlchemyStore",
        )
    if backend == "sqlite" and "timeout" in given:
        raise ConfigurationError(
            "engine_options",
            f"connect_args: timeout={given['timeout']!r} is how long SQLite waits for its "
            "write lock, which the store's busy_timeout option sets; give busy_timeout instead",
            subject="SQLAlchemyStore",
        )
    for key, value in own.items():
        if key in given and given[key] != value:
            raise ConfigurationError(
                "engine_options",
                f"connect_args: {key}={given[key]!r} would replace the store's "
                f"{key}={value!r}: {_OWN_CONNECT_ARGS.get(key, 'the store needs it')}",
                subject="SQLAlchemyStore",
            )
    if backend in ("mysql", "mariadb") and "charset" in given:
        _check_charset(given["charset"], field="engine_options", where="connect_args: ")
    return {**own, **given}


def _schema_translate_refused(options: Mapping[str, Any], field: str, subject: str) -> None:
    """Refuse execution ``options`` that translate schema names (``schema_translate_map``):
    it moves SQLAlchemy's Core statements (the tables' creation among them) but not the
    store's statements sent as text, which name its tables without a schema."""
    if options.get("schema_translate_map"):
        raise ConfigurationError(
            field,
            "has a schema_translate_map, which moves only some of the store's statements "
            "(the rest are sent as text naming the tables without a schema); choose the "
            "schema with the connection's search path (PostgreSQL: connect_args "
            "options='-c search_path=...') or the database in the URL (MySQL/MariaDB)",
            subject=subject,
        )


def _check_utf8(driver: Any, *, field: str, subject: str = "SQLAlchemyStore") -> None:
    """Refuse a PostgreSQL connection (psycopg's, ``driver``) whose client_encoding or
    database (server_encoding) is not UTF8, with ConfigurationError naming ``field``.

    In another client encoding psycopg encodes and decodes text in it: LATIN1 or
    WIN1252 cannot send most scripts (UnicodeEncodeError), SQL_ASCII returns bytes;
    a database in another encoding refuses (or, SQL_ASCII, mismeasures) what it
    cannot hold: the store would refuse or misread values the other stores keep.
    Reads what the server reported when the connection opened: no round trip.
    """
    info = driver.info
    for setting in ("server_encoding", "client_encoding"):
        value = info.parameter_status(setting)
        if value != "UTF8":
            source = (
                "set by the URL's or connect_args' options or client_encoding, "
                "PGCLIENTENCODING, or the role's or database's settings"
                if setting == "client_encoding"
                else "the database's encoding, chosen when it was created"
            )
            raise ConfigurationError(
                field,
                f"the PostgreSQL connection has {setting}={value!r} ({source}); the store "
                "needs UTF8 to keep every character e2badges accepts",
                subject=subject,
            )


def _check_postgres_connections(engine: Engine) -> None:
    """Check every connection the store's own engine opens with _check_utf8 (field
    ``url``): a connection in another encoding is closed and refused."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        try:
            _check_utf8(dbapi_connection, field="url")
        except ConfigurationError:
            dbapi_connection.close()
            raise

    # First: SQLAlchemy's own first-connect setup reads the server's version as text,
    # which SQL_ASCII returns as bytes.
    sa_event.listen(engine, "connect", on_connect, insert=True)


@contextmanager
def _checking_first_connect(engine: Engine) -> Iterator[None]:
    """While open, check each new connection that a given PostgreSQL ``engine`` opens in
    this thread with _check_utf8 (field ``engine``), before SQLAlchemy's own connect
    listeners run.

    An engine that has not connected yet initialises its dialect on its first
    connection, in a ``connect`` listener that reads the server's version as text:
    under SQL_ASCII (the database's or the client's) psycopg returns it as bytes and
    SQLAlchemy fails with a bare TypeError before the store sees the connection.  A
    listener inserted ahead of SQLAlchemy's reads what the server reported on the raw
    driver connection instead, and closes a refused connection; the dialect stays
    uninitialised, as it was.  Catching the TypeError and checking then
    would need a second raw connection, which only the pool's private creator opens.
    The listener is removed on leaving, so the caller's engine is left as it came,
    and it ignores other threads, whose connections are the caller's business.  A
    connection already in the engine's pool opens nothing: the store checks it once
    checked out (see SQLAlchemyStore._check_encoding).
    """
    opener = threading.get_ident()

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if threading.get_ident() != opener:
            return
        try:
            _check_utf8(dbapi_connection, field="engine")
        except ConfigurationError:
            dbapi_connection.close()  # SQLAlchemy before 2.1 leaves it open
            raise

    sa_event.listen(engine, "connect", on_connect, insert=True)
    try:
        yield
    finally:
        sa_event.remove(engine, "connect", on_connect)


def _make_engine(
    url: str | URL,
    *,
    busy_timeout: float,
    engine_options: Mapping[str, Any] | None,
    read_only: bool = False,
) -> Engine:
    """Create an engine for a store URL, with the options each database needs
    (``busy_timeout`` already checked).

    ``read_only`` opens a SQLite file read-only, neither creating it nor switching it
    to WAL mode; a missing file is refused with ConfigurationError naming ``url``.
    """
    if engine_options is not None and not isinstance(engine_options, Mapping):
        raise ConfigurationError(
            "engine_options",
            f"must be a mapping of create_engine() options, not {type(engine_options).__name__}",
            subject="SQLAlchemyStore",
        )
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError:
        # Not SQLAlchemy's message: before 2.0.41 it quoted the URL, password and all.
        raise ConfigurationError(
            "url",
            "is not a database URL SQLAlchemy can parse "
            "(dialect+driver://user:password@host:port/database)",
            subject="SQLAlchemyStore",
        ) from None
    except (ValueError, TypeError) as exc:
        # SQLAlchemy raises ValueError for a port that is not a number, TypeError for
        # what is neither a string nor a URL.
        raise ConfigurationError(
            "url", f"is not a valid database URL: {exc}", subject="SQLAlchemyStore"
        ) from None
    parts = (parsed.username, parsed.password, parsed.host, parsed.database, *parsed.query)
    values = [
        v
        for value in parsed.query.values()
        for v in ((value,) if isinstance(value, str) else value)
    ]
    if any(part is not None and "\x00" in str(part) for part in (*parts, *values)):
        raise ConfigurationError(
            "url", "contains the character U+0000 (NUL)", subject="SQLAlchemyStore"
        )
    parsed = _check_url(parsed)
    backend = parsed.get_backend_name()
    options: dict[str, Any] = {}
    sqlite_file = False
    if backend != "sqlite":
        _busy_timeout_refused(
            busy_timeout,
            "on PostgreSQL or MySQL/MariaDB (their lock waits are lock_timeout and "
            "innodb_lock_wait_timeout, server settings)",
        )
    elif "timeout" in parsed.query:
        # pysqlite reads timeout from the URL, and connect_args' timeout (busy_timeout)
        # replaced it without a word.
        raise ConfigurationError(
            "url",
            f"timeout={parsed.query['timeout']!r} is how long SQLite waits for its write "
            "lock, which the store's busy_timeout option sets; give busy_timeout instead",
            subject="SQLAlchemyStore",
        )
    if backend == "sqlite":
        _check_uri_connect_arg(parsed, engine_options)
        if _is_memory_sqlite(parsed):
            # One shared connection: each new connection to :memory: is a new database.
            _check_memory_pool_options(engine_options or {})
            options["poolclass"] = StaticPool
            options["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout}
        elif read_only:
            parsed = _read_only_sqlite(parsed)
            options["connect_args"] = {"timeout": busy_timeout}
        else:
            sqlite_file = True
            options["connect_args"] = {"timeout": busy_timeout}
    elif backend in ("mysql", "mariadb"):
        # Locking reads see the latest rows at any level; READ COMMITTED avoids
        # the gap locks of REPEATABLE READ, which deadlock concurrent upserts.
        options["isolation_level"] = "READ COMMITTED"
        if "charset" in parsed.query:
            _check_charset(parsed.query["charset"], field="url")
        else:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    given = dict(engine_options or {})
    execution = given.get("execution_options")
    if isinstance(execution, Mapping):
        _schema_translate_refused(execution, "engine_options", "SQLAlchemyStore")
    if "connect_args" in given:
        given["connect_args"] = _merge_connect_args(
            options.get("connect_args", {}), given["connect_args"], backend=backend
        )
    options.update(given)
    module, extra = _DRIVERS[backend][1:]
    try:
        engine = create_engine(parsed, **options)
    except ImportError as exc:
        if extra is None:
            raise
        raise MissingDependencyError(module, extra) from exc
    except (TypeError, sa_exc.ArgumentError) as exc:
        # An option create_engine() or the driver does not take (engine_options).
        raise ConfigurationError("engine_options", str(exc), subject="SQLAlchemyStore") from None
    except ValueError as exc:
        # A URL query value SQLAlchemy converts for the driver (``?timeout=abc``).
        raise ConfigurationError(
            "url", f"a query parameter has a wrong value: {exc}", subject="SQLAlchemyStore"
        ) from None
    _driver_refusals(engine)
    if backend == "sqlite":
        _configure_sqlite(engine, wal=sqlite_file, busy_timeout=busy_timeout)
    elif backend == "postgresql":
        _check_postgres_connections(engine)
    if not isinstance(engine.pool, StaticPool):
        _one_process_per_connection(engine)
    return engine


def _driver_refusals(engine: Engine) -> None:
    """Turn the driver refusing its connect() arguments into ConfigurationError naming url.

    The URL's query parameters (and engine_options' ``connect_args``) are passed to
    the driver's connect() as they are; a driver that does not take one (PyMySQL's
    ``?bogus=1``), cannot convert it (``?connect_timeout=x``) or cannot open a file it
    names (``?ssl_ca=...``) raises its own TypeError, ValueError or OSError, not a
    DBAPI error.  That message never holds the password (the URL is not in it).

    The engine's dialect connects through its ``connect()`` once every ``do_connect``
    listener has passed: wrapping that method (of this engine's dialect alone) leaves
    such listeners (one that fetches a token as the password) working as before.
    """
    dialect = engine.dialect
    driver_connect = dialect.connect

    def connect(*cargs: Any, **cparams: Any) -> Any:
        try:
            return driver_connect(*cargs, **cparams)
        except (TypeError, ValueError, OSError) as exc:
            raise ConfigurationError(
                "url",
                f"the {dialect.driver} driver refused its connection arguments (the URL's "
                f"query parameters and any connect_args): {type(exc).__name__}: {exc}",
                subject="SQLAlchemyStore",
            ) from exc

    setattr(dialect, "connect", connect)  # noqa: B010  # mypy refuses assigning to a method


def _one_process_per_connection(engine: Engine) -> None:
    """Keep each process on pooled connections it opened (SQLAlchemy's recipe for fork).

    A process forked after the store opened (gunicorn ``--preload``, Celery's prefork
    pool, ``multiprocessing``) inherits the pool and the parent's open connections in
    it; using one would share its socket (or SQLite file handle) with the parent.  A
    connection checked out in another process than the one that opened it is dropped
    without being closed (closing it would end the parent's session too) and the pool
    opens a new one.  The one connection of an in-memory SQLite database (a
    StaticPool) is the database itself, and stays.
    """

    def on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info["e2b_pid"] = os.getpid()

    def on_checkout(_dbapi_connection: Any, record: Any, proxy: Any) -> None:
        opener = record.info.get("e2b_pid")
        if opener is not None and opener != os.getpid():
            # Forget the parent's connection rather than close it, then reconnect.
            record.dbapi_connection = proxy.dbapi_connection = None
            raise sa_exc.DisconnectionError(
                f"connection opened by process {opener}, checked out in {os.getpid()}"
            )

    sa_event.listen(engine, "connect", on_connect)
    sa_event.listen(engine, "checkout", on_checkout)


def _configure_sqlite(engine: Engine, *, wal: bool, busy_timeout: float) -> None:
    locked: type[Exception] = engine.dialect.loaded_dbapi.OperationalError

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                # WAL lets readers go on while the one writer writes; NORMAL
                # syncs at checkpoints (a power cut may lose the last commits,
                # never corrupts the file).
                _wal(cursor, busy_timeout, locked)
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    sa_event.listen(engine, "connect", on_connect)


def _wal(cursor: Any, busy_timeout: float, locked: type[Exception]) -> None:
    """Switch a SQLite file to WAL mode, waiting up to ``busy_timeout`` for its lock.

    The switch takes the file's lock, and SQLite answers "database is locked" at once,
    without its busy wait, while another connection holds it: several processes
    opening a fresh file together failed (4 rounds in 15 of eight processes).  A file
    already in WAL mode needs no lock.
    """
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except locked as exc:  # sqlite3.OperationalError
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _check_engine(engine: Engine) -> None:
    backend = engine.dialect.name
    known = _DRIVERS.get(backend)
    if known is None or engine.dialect.driver != known[0]:
        raise ConfigurationError(
            "engine",
            f"{backend}+{engine.dialect.driver} is not supported "
            "(use sqlite, postgresql+psycopg or mysql+pymysql)",
            subject="SQLAlchemyStore",
        )
    _schema_translate_refused(engine.get_execution_options(), "engine", "SQLAlchemyStore")
    if backend == "sqlite" and _is_memory_sqlite(engine.url):
        pool: Any = engine.pool
        if not isinstance(pool, StaticPool | SingletonThreadPool):
            problem = f"has a {type(pool).__name__}, which may open a second connection"
        elif getattr(pool, "_recycle", -1) > -1:
            problem = f"recycles its connection (pool_recycle={pool._recycle!r})"
        else:
            return
        raise ConfigurationError(
            "engine",
            f"{problem}: an in-memory SQLite database lives in its one connection, and a "
            "new connection opens a new, empty database; create the engine with "
            "poolclass=StaticPool (and no pool_recycle), or give the store the URL",
            subject="SQLAlchemyStore",
        )


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        if getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
            return True
        args = getattr(orig, "args", ())
        if args and args[0] in _TRANSIENT_MYSQL:
            return True
        if isinstance(exc, sa_exc.OperationalError) and "database is locked" in str(orig):
            return True
    return False


_T = TypeVar("_T")


@contextmanager
def _storage_errors(action: str, *, retryable: bool = False) -> Iterator[None]:
    """Wrap SQLAlchemy and driver errors once in StorageError (transient ones marked)."""
    try:
        yield
    except sa_exc.SQLAlchemyError as exc:
        raise _storage_error(action, exc, retryable=retryable) from exc


def _storage_error(
    action: str, exc: sa_exc.SQLAlchemyError, *, retryable: bool = False
) -> StorageError:
    message = f"store: {action} failed: {exc.__class__.__name__}: {exc}".split("\n")[0]
    if retryable and _transient(exc):
        return TransientStorageError(message)
    return StorageError(message)


def _autocommits(conn: Connection) -> bool:
    """Return whether ``conn`` runs in autocommit mode, outside any transaction.

    SQLAlchemy's ``isolation_level="AUTOCOMMIT"`` (on the connection or its engine)
    puts the driver in autocommit mode: psycopg's ``autocommit``, PyMySQL's
    ``get_autocommit()``, and on SQLite a driver ``isolation_level`` of None (or
    Python 3.12's ``autocommit=True``).  SQLAlchemy's recipe for pysqlite also runs
    the driver that way but sends ``BEGIN`` when a transaction begins: a connection
    in such a transaction is not in autocommit mode.  Nothing here asks the server.
    """
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return True
    driver: Any = conn.connection.dbapi_connection
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return bool(driver.autocommit)
    if dialect in ("mysql", "mariadb"):
        return bool(driver.get_autocommit())
    driver_autocommit = driver.isolation_level is None or getattr(driver, "autocommit", -1) is True
    return driver_autocommit and not driver.in_transaction


def _asyncio_refused(connection: object) -> ConfigurationError:
    """Return the refusal of an asyncio session or connection given as ``connection=``.

    The store's calls are synchronous, and an asyncio object's methods return
    coroutines; its ``run_sync()`` hands a function the synchronous Session or
    Connection underneath, in the same transaction, which the store then joins.
    """
    name = type(connection).__name__
    return ConfigurationError(
        "connection",
        f"is an asyncio {name}, whose calls must be awaited, and the store's calls are "
        "synchronous: call the store inside run_sync() of the AsyncSession (or "
        "AsyncConnection), which passes the synchronous Session (or Connection) of the "
        "same transaction, e.g. "
        "await session.run_sync(lambda sync: rewards.record(activity, connection=sync))",
        subject="SQLAlchemyStore.transaction",
    )


def _family(dialect: str) -> str:
    """Return the family of a SQLAlchemy dialect name: ``"mysql"`` for ``"mariadb"``.

    SQLAlchemy names the dialect after the URL (``mariadb+pymysql://`` or
    ``mysql+pymysql://``), not after the server: both reach the same MariaDB or
    MySQL database and speak to it alike.
    """
    return "mysql" if dialect == "mariadb" else dialect


def _shared_driver(pool: Pool) -> Any | None:
    """Return the driver connection that a pool of one shared connection hands out, or
    None if it has not opened it yet, without checking it out.

    Checking it out would not do: when a connection goes back to its pool, SQLAlchemy
    rolls back whatever transaction is open on it, and this one is everybody's.  A
    StaticPool keeps its one connection's record as ``connection`` (made on first use);
    a SingletonThreadPool keeps one per thread.
    """
    if isinstance(pool, StaticPool):
        record = pool.__dict__.get("connection")
    else:
        current = getattr(getattr(pool, "_conn", None), "current", None)
        record = None if current is None else current()
    return None if record is None else record.dbapi_connection


@contextmanager
def _savepoint(nested: Any) -> Iterator[None]:
    """Run the block in ``nested``, a savepoint just begun in the caller's transaction:
    released when the block ends, rolled back when it raises.

    If rolling back fails, the block's own error goes through, not the rollback's:
    InnoDB ends the whole transaction on a deadlock or a snapshot conflict (error
    1020), savepoints included, and the caller must see that error ("Deadlock
    found"), not "SAVEPOINT does not exist".
    """
    try:
        yield
    except BaseException:
        with suppress(sa_exc.DBAPIError):
            nested.rollback()
        raise
    nested.commit()


class _PeriodReading:
    """The context of :meth:`SQLAlchemyStore._period_reading`: a class, as a generator
    context manager costs a tenth of a top-10 read on SQLite."""

    __slots__ = ("_pooled", "_store")

    def __init__(self, store: SQLAlchemyStore) -> None:
        self._store = store
        self._pooled: AbstractContextManager[Connection] | None = None

    def __enter__(self) -> Any:
        readers = self._store._readers
        if readers is not None:
            try:
                driver = readers.get()
            except sa_exc.SQLAlchemyError as exc:
                raise _storage_error("reading a leaderboard", exc) from exc
            if driver is not None:
                return driver
        pooled = self._store._board_reading()
        conn = pooled.__enter__()
        self._pooled = pooled
        try:
            return conn.connection.dbapi_connection
        except BaseException as exc:  # the with block never starts: release the connection
            pooled.__exit__(type(exc), exc, exc.__traceback__)
            raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        # Never suppresses an exception (_board_reading's context does not either).
        if self._pooled is not None:
            self._pooled.__exit__(kind, exc, tb)
            return
        if isinstance(exc, sa_exc.SQLAlchemyError):
            readers = self._store._readers
            if readers is not None:
                readers.discard()
            raise _storage_error("reading a leaderboard", exc) from exc


class _SQLTransaction(StoreTransaction):
    __slots__ = (
        "_at_text",
        "_boards",
        "_claimed",
        "_conn",
        "_latest",
        "_ops",
        "_people",
        "_sort",
        "commits",
    )

    wants_keys = True

    def __init__(
        self,
        ops: SQLOps,
        boards: SQLBoards,
        conn: Connection,
        *,
        people: _sql_people.MembershipReads,
        commits: bool = True,
    ) -> None:
        self._ops = ops
        self._boards = boards
        self._people = people
        self._conn = conn
        # False when joining the caller's transaction, which commits (or not) later.
        self.commits = commits
        # Whether the reads that the writes are computed from must lock to see the latest
        # committed rows: in the caller's transaction on MySQL/MariaDB, whose level may be
        # REPEATABLE READ (InnoDB's default), where a plain read reads the transaction's
        # snapshot, which may predate the locks this one waited for.  The store's own
        # transactions run at READ COMMITTED, where plain reads see the latest rows.
        self._latest = not commits and ops.locks_to_read_latest
        # Row locks are taken in sorted key order, so that two transactions never
        # wait for each other in a cycle; a database with one writer needs no order.
        self._sort = ops.row_locks
        self._at_text: dict[str, str] = {}
        # The activities as claimed (submitted), so that apply() finds those a check
        # plugin replaced: a replaced one is another object.
        self._claimed: dict[str, Activity] = {}

    def claim(self, activities: Sequence[Activity]) -> dict[str, tuple[Activity, Outcome]]:
        unique: dict[str, Activity] = {}
        for activity in activities:
            unique.setdefault(activity.id, activity)
        if not unique:
            return {}
        # Sorted, so that two transactions claiming overlapping ids wait in one
        # order instead of deadlocking.
        at_text = self._at_text
        tenant = self._ops.tenant
        rows: list[ActivityRow] = []
        self._claimed.update(unique)
        for aid in sorted(unique):
            a = unique[aid]
            at: datetime = a.at  # type: ignore[assignment]  # the facade fills it
            text = at_text[aid] = at.isoformat()
            rows.append((tenant, aid, a.kind, a.actor, epoch_us(at), encode_activity(a, text)))
        candidates = self._ops.claim(self._conn, rows)
        if not candidates:
            return {}
        return {
            aid: (decode_activity(data), decode_outcome(outcome))
            for aid, data, outcome in self._ops.recorded(self._conn, candidates)
        }

    def memberships(self, users: Collection[str]) -> dict[str, tuple[Membership, ...]]:
        return self._people.read(self._conn, users)

    def _load(self, keys: Iterable[str]) -> dict[str, Any]:
        stored: dict[str, str] = {}
        for key in keys:
            stored[key if len(key) <= STATE_KEY_LENGTH else storage_key(key)] = key
        if not stored:
            return {}
        rows = self._ops.lock_state(self._conn, sorted(stored) if self._sort else list(stored))
        return {stored[k]: decode_value(v) for k, v in rows if v is not None}

    def view(self, keys: Collection[str] | None = None) -> StateView:
        view = StateView({}, self._load)
        if keys:
            view.preload(self._load(keys), keys)
        return view

    def apply(self, batch: EffectBatch) -> None:
        ops, conn = self._ops, self._conn
        tenant = ops.tenant
        if batch.recorded:
            claimed = self._claimed
            replaced = [a for a, _ in batch.recorded if a is not claimed.get(a.id)]
            if replaced:
                self._replace_activities(replaced)
            log: list[LogRow] = []
            ledger: list[LedgerRow] = []
            at_text = self._at_text
            for activity, outcome in batch.recorded:
                at: datetime = activity.at  # type: ignore[assignment]  # filled by the facade
                text = encode_outcome(outcome, at, at_text.get(activity.id))
                log.append((tenant, activity.id, text))
                if not outcome.ledger:
                    continue
                us, offset = epoch_us(at), utc_offset(at)
                for e in outcome.ledger:
                    same = e.at is at
                    ledger.append(
                        (
                            tenant,
                            e.user,
                            e.activity_id,
                            e.rule,
                            e.currency,
                            e.amount,
                            e.requested,
                            e.role,
                            e.limit,
                            e.bonus,
                            us if same else epoch_us(e.at),
                            offset if same else utc_offset(e.at),
                        )
                    )
            ops.insert_log(conn, log)
            if ledger:
                ops.insert_ledger(conn, ledger)
        if any(outcome.awards or outcome.revocations for _, outcome in batch.recorded):
            self._apply_awards(batch)
        if batch.notifications:
            self._apply_notifications(batch)
        if batch.recorded and ops.tables.adoption is not None and ops.rollups is not None:
            _sql_adoption.apply_adoption(
                conn, ops.tables.adoption, batch, _insert_ignoring_duplicates, ops.rollups
            )
        if batch.state:
            limit = STATE_KEY_LENGTH
            rows: list[StateRow] = [
                (tenant, k if len(k) <= limit else storage_key(k), encode_value(v))
                for k, v in batch.state.items()
            ]
            if self._sort:
                rows.sort()
            ops.upsert_state(conn, rows)
        if batch.boards:
            self._boards.apply(conn, batch.boards, joined=not self.commits)

    def _replace_activities(self, activities: Sequence[Activity]) -> None:
        """Store the activities a check plugin replaced instead of their claimed rows.

        claim() stored each activity as submitted, before the checks ran; the
        effects were computed from the replacement, which is what the log keeps
        (as the memory store does).  The submitted fields stay in the batch's state
        (see Plugins.submitted), so that a retry of the submitted one is recognised.
        """
        t = self._ops.tables.activities
        at_text = self._at_text
        rows = []
        for a in sorted(activities, key=lambda a: a.id):
            at: datetime = a.at  # type: ignore[assignment]  # the facade fills it
            text = at_text[a.id] = at.isoformat()
            rows.append(
                {
                    "key_tenant": self._ops.tenant,
                    "key_id": a.id,
                    "kind": a.kind,
                    "actor": a.actor,
                    "at_us": epoch_us(at),
                    "data": encode_activity(a, text),
                }
            )
        statement = (
            update(t)
            .where(t.c.tenant == bindparam("key_tenant"), t.c.id == bindparam("key_id"))
            .values(
                kind=bindparam("kind"),
                actor=bindparam("actor"),
                at_us=bindparam("at_us"),
                data=bindparam("data"),
            )
        )
        self._conn.execute(statement, rows)

    def _apply_notifications(self, batch: EffectBatch) -> None:
        t = self._ops.tables.outbox
        tenant = self._ops.tenant
        rows = [
            {
                "tenant": tenant,
                "id": n.id,
                "hook": n.hook,
                "payload": encode_value(dict(n.payload)),
                "targets": encode_value(list(n.targets)),
                "delivered": "[]",
                "failures": "{}",
                "errors": "{}",
                "done": False,
                "due_us": None,
            }
            for n in batch.notifications
        ]
        # A notification whose id the outbox already holds is left as it was.
        self._conn.execute(_insert_ignoring_duplicates(t, self._conn.dialect.name), rows)

    def _apply_awards(self, batch: EffectBatch) -> None:
        # Awards are few next to ledger lines: plain Core statements serve every dialect.
        # Pending inserts are flushed before a revocation, which may take back an
        # award of an earlier activity of this very batch.
        conn, t = self._conn, self._ops.tables.awards
        tenant = self._ops.tenant
        pending: list[dict[str, Any]] = []

        def flush() -> None:
            if pending:
                conn.execute(t.insert(), pending)
                pending.clear()

        for _activity, outcome in batch.recorded:
            pending.extend(
                {
                    "tenant": tenant,
                    "user_id": w.user,
                    "badge": w.badge,
                    "tier": w.tier,
                    "period": w.period,
                    "team": w.team,
                    "award": encode_record(w),
                    "revocation": None,
                    "at_us": epoch_us(w.at),
                }
                for w in outcome.awards
            )
            for r in outcome.revocations:
                flush()
                slot = [
                    t.c.tenant == tenant,
                    t.c.user_id == r.user,
                    t.c.badge == r.badge,
                    t.c.revocation.is_(None),
                ]
                for column, value in (
                    (t.c.tier, r.tier),
                    (t.c.period, r.period),
                    (t.c.team, r.team),
                ):
                    slot.append(column.is_(None) if value is None else column == value)
                query = select(t.c.seq).where(*slot).order_by(t.c.seq.desc()).limit(1)
                if self._latest:
                    # The batch holds the badge's state rows, so no other batch changes
                    # these award rows meanwhile; the lock makes the read see their latest.
                    query = query.with_hint(t, self._ops.awards_hint).with_for_update()
                seq = conn.execute(query).scalar()
                if seq is not None:
                    conn.execute(
                        t.update()
                        .where(t.c.tenant == tenant, t.c.seq == seq)
                        .values(revocation=encode_record(r))
                    )
        flush()


def _log_pages(
    query: Select[Any], reading: Callable[[], AbstractContextManager[Connection]]
) -> Iterator[Activity]:
    """Yield the activities of ``query`` (the log's ``seq`` and activity data, in ``seq``
    order, ``_PAGE`` rows at most), a page at a time, each page read on ``reading()``'s
    connection: the rows after the last ``seq`` read."""
    seq = query.selected_columns[0]
    last = None
    while True:
        page = query if last is None else query.where(seq > last)
        with reading() as conn:
            rows = conn.execute(page).all()
        for _seq, data in rows:
            yield decode_activity(data)
        if len(rows) < _PAGE:
            return
        last = rows[-1][0]


def _insert_ignoring_duplicates(table: Table, dialect: str) -> Insert:
    # The unique key of the outbox and of the stories is (tenant, id).
    if dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing(index_elements=["tenant", "id"])
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing(index_elements=["tenant", "id"])
    # MySQL/MariaDB: a no-op update of a duplicate, not INSERT IGNORE, which would also
    # turn "data too long" into a warning and store the value cut (a payload over
    # MEDIUMTEXT's 16 MiB, where max_allowed_packet lets it through: broken JSON).
    upsert = mysql_insert(table)
    return upsert.on_duplicate_key_update(id=upsert.inserted.id)


def _outbox_entry(row: Any) -> OutboxEntry:
    notification = Notification(
        row.id, row.hook, decode_value(row.payload), tuple(decode_value(row.targets))
    )
    return OutboxEntry(
        notification,
        frozenset(decode_value(row.delivered)),
        decode_value(row.failures),
        decode_value(row.errors),
        bool(row.done),
    )


class SQLAlchemyStore(Store):
    """Keep everything in a SQL database through SQLAlchemy 2 (SQLite, PostgreSQL, MySQL).

    ``url_or_engine`` is a database URL (``sqlite:///rewards.db``,
    ``postgresql+psycopg://user:password@host/db``, ``mysql+pymysql://...``; a
    URL without a driver gets the supported one) or a live Engine, which the
    store uses but never disposes.  Tables are named ``table_prefix`` + name.
    With ``create_schema`` (the default) a database without the store's tables
    gets them at the current schema version; a database at another version is
    refused with SchemaVersionError (``e2badges db upgrade`` migrates it).
    ``max_attempts`` bounds how often Rewards runs a batch that hit a deadlock
    or a serialization failure; ``busy_timeout`` is how long a SQLite writer
    waits for the write lock, in seconds (on a SQLite engine the store creates:
    another value than the default is refused elsewhere).  ``engine_options`` go
    to ``create_engine`` when the store creates the engine.

    Options that would undo the store's own settings are refused with
    ConfigurationError before any table is created (docs/storage.md lists them):
    another pool for an in-memory SQLite database, a SQLite URL's ``timeout``, a
    ``schema_translate_map``, a PostgreSQL connection that is not UTF8 throughout,
    a MySQL/MariaDB charset other than utf8mb4, SQLite ``connect_args`` ``uri=True``
    for a ``file:`` URL without ``uri=true`` (SQLAlchemy makes a URI filename from the
    URL's query only: that is a file named ``file:...``, never in memory).

    A given Engine's encoding (PostgreSQL, checked before SQLAlchemy's first-connect
    setup, which SQL_ASCII would fail with a TypeError) or charset (MySQL/MariaDB) is
    checked on the connection the store opens first, not on every later one: the
    engine's connections come from one URL and one set of connect args, so they speak
    alike; a ``connect`` listener of the caller's that changes the encoding per
    connection is the caller's to keep consistent.  Whether a given Engine is on an
    in-memory SQLite database is read from its URL alone: its ``connect_args`` are
    not reachable (they live in the pool's private creator), and need not be, as the
    URL decides what SQLite opens.

    ``board_copies`` (0, the default: none) is how many board periods the store
    keeps a copy of in this process's memory, per tenant, the ones it read last: their
    leaderboard reads (size, pages, ranks, the rows around a person) are then
    answered from the copy, which each read first brings up to date with what any
    process committed, through the board change log (SQLite and PostgreSQL; see
    docs/storage.md for what a copy costs).

    ``tenant`` names the tenant the store serves (``"default"`` when omitted):
    every statement reads and writes that tenant's rows only.
    :meth:`for_tenant` returns a store over the same engine and tables bound to
    another tenant; such a view owns nothing (closing it releases nothing), so
    close the store that created the engine last.
    """

    def __init__(
        self,
        url_or_engine: str | URL | Engine,
        *,
        tenant: str = DEFAULT_TENANT,
        table_prefix: str = "e2b_",
        create_schema: bool = True,
        max_attempts: int = 5,
        busy_timeout: float = _BUSY_TIMEOUT,
        engine_options: Mapping[str, Any] | None = None,
        board_copies: int = 0,
    ) -> None:
        self._tenant = check_tenant(tenant, subject="SQLAlchemyStore")
        if (
            isinstance(board_copies, bool)
            or not isinstance(board_copies, int)
            or not 0 <= board_copies <= _MAX_BOARD_COPIES
        ):
            raise ConfigurationError(
                "board_copies",
                f"must be a whole number from 0 to {_MAX_BOARD_COPIES}, got {board_copies!r}",
                subject="SQLAlchemyStore",
            )
        self.table_prefix = check_prefix(table_prefix)
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ConfigurationError(
                "max_attempts", "must be a whole number of at least 1", subject="SQLAlchemyStore"
            )
        self.max_attempts = max_attempts
        _check_busy_timeout(busy_timeout)
        if not isinstance(create_schema, bool):
            raise ConfigurationError(
                "create_schema", "must be True or False", subject="SQLAlchemyStore"
            )
        if isinstance(url_or_engine, Engine):
            _check_engine(url_or_engine)
            _busy_timeout_refused(
                busy_timeout,
                "to a live Engine, whose connections the store does not open (give the "
                "engine connect_args={'timeout': seconds})",
            )
            if engine_options:
                raise ConfigurationError(
                    "engine_options",
                    "apply only when the store creates the engine from a URL",
                    subject="SQLAlchemyStore",
                )
            self.engine = url_or_engine
            self._owns_engine = False
        else:
            self.engine = _make_engine(
                url_or_engine, busy_timeout=busy_timeout, engine_options=engine_options
            )
            self._owns_engine = True
        self._dialect = self.engine.dialect.name
        if board_copies and self._dialect not in ("sqlite", "postgresql"):
            if self._owns_engine:
                self.engine.dispose()
            raise ConfigurationError(
                "board_copies",
                "needs the board change log, which SQLite and PostgreSQL keep and "
                f"{self._dialect} does not: leave it 0 there",
                subject="SQLAlchemyStore",
            )
        memory = self._dialect == "sqlite" and _is_memory_sqlite(self.engine.url)
        # An in-memory SQLite database is one shared connection: one user at a time.
        self._lock: AbstractContextManager[Any] = threading.RLock() if memory else nullcontext()
        # A pool of one connection that the host's transactions share (see _check_shared).
        self._shared = self._dialect == "sqlite" and isinstance(
            self.engine.pool, StaticPool | SingletonThreadPool
        )
        try:
            self.tables, other_level = self._open(create_schema)
            # Statement text is built once, from the schema; the tenant is bound as a
            # parameter.
            ops = ops_for(self.tables, self.engine.dialect)
            ops.read_committed_per_transaction = other_level
            self._ops = ops.bound(self._tenant)
            boards = SQLBoards(self.tables, self.engine.dialect, self.table_prefix)
            self._boards = boards.bound(self._tenant)
            if boards.lock_rows:
                # MySQL/MariaDB: this tenant's board lock row, so that the first recording
                # batches of several processes do not each insert it (see SQLBoards._lock).
                with _storage_errors("creating the board lock row"), self.engine.begin() as conn:
                    self._boards.create_lock_row(conn)
                self._boards.remember_bounded()  # committed, with the tenant's bounding rows
        except BaseException:
            if self._owns_engine:
                self.engine.dispose()
            raise
        memberships = _sql_people.MembershipReads(self.tables, self.engine.dialect)
        self._memberships = memberships.bound(self._tenant)
        # SQLite file: leaderboard reads on a connection per thread (see _sql_readers).
        self._readers = readers_for(self.engine)
        self._owns_readers = True
        self.board_copies = board_copies
        # One set of copies per tenant, shared by every view of this store (for_tenant).
        self._copy_sets: dict[str, BoardCopies] = {}
        self._copy_sets_lock = threading.Lock()
        self._copies = self._copies_of(self._boards) if board_copies else None
        # PostgreSQL with copies: each thread's copy reads on a connection of its own
        # in autocommit mode (see _from_copy), as a SQLite file's reads do.
        self._copy_readers = (
            Readers(self.engine, autocommit=True)
            if board_copies and self._dialect == "postgresql"
            else None
        )

    def _check_transactions(self, conn: Connection) -> bool:
        """Refuse an engine whose connections run in autocommit mode (PostgreSQL,
        MySQL/MariaDB); return whether they run at another level than READ COMMITTED.

        An engine the store creates runs MySQL at READ COMMITTED, and PostgreSQL's
        default is READ COMMITTED; a given engine, or a server whose default is
        another level, may not (see SQLOps.read_committed).  In autocommit mode
        (``isolation_level="AUTOCOMMIT"``, or the driver's ``autocommit``) a
        transaction begins nothing: every statement would commit by itself, and
        the row locks that keep concurrent recordings exact would end with it.
        """
        if _autocommits(conn):
            raise ConfigurationError(
                "engine",
                "runs its connections in autocommit mode, where a batch would not be "
                "one transaction; give the store an engine with transactions, e.g. "
                'engine.execution_options(isolation_level="READ COMMITTED")',
                subject="SQLAlchemyStore",
            )
        other = conn.get_isolation_level() != "READ COMMITTED"
        conn.rollback()  # the level was read in a transaction: end it
        return other

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SQLAlchemyStore:
        """Create a store from a URL (the factory ``store_from_url`` calls)."""
        return cls(url, **options)

    @property
    def tenant(self) -> str:
        """Return the tenant this store serves."""
        return self._tenant

    def for_tenant(self, tenant: str) -> SQLAlchemyStore:
        """Return a store over the same engine and tables that serves ``tenant``.

        The new store (of this store's class, made without calling ``__init__``)
        shares the engine, the tables and their prefix, ``max_attempts`` and, for
        an in-memory SQLite database, the lock around its one connection.  It
        creates nothing, so its ``close()`` releases nothing; it must not be used
        after the store that created the engine is closed.
        """
        tenant = check_tenant(tenant, subject="SQLAlchemyStore.for_tenant")
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._owns_engine = False
        view._owns_readers = False
        view._tenant = tenant
        view._ops = self._ops.bound(tenant)
        view._boards = self._boards.bound(tenant)
        view._memberships = self._memberships.bound(tenant)
        if self._copies is not None:
            view._copies = self._copies_of(view._boards)
        return view

    def _copies_of(self, boards: SQLBoards) -> BoardCopies:
        """Return the copies of ``boards``'s tenant, shared by every view of this store."""
        with self._copy_sets_lock:
            found = self._copy_sets.get(boards.tenant)
            if found is None:
                found = self._copy_sets[boards.tenant] = BoardCopies(
                    boards.changes, self.board_copies
                )
            return found

    def _open(self, create: bool) -> tuple[Tables, bool]:
        """Check the engine and the schema (creating it if asked and missing); return the
        tables and whether the engine's connections run at another level than READ
        COMMITTED (see _check_transactions, which refuses autocommit before anything is
        written).

        Without ``create``, a SQLite path with no file is refused before connecting,
        which would leave an empty file there (a mistyped path).
        """
        path = None if create else _sqlite_file(self.engine.url)
        if path is not None and not os.path.exists(path):
            raise SchemaVersionError(
                None, SCHEMA_VERSION, prefix=self.table_prefix, hint=self._hint(None)
            )
        action = "opening the database"
        given_postgres = not self._owns_engine and self._dialect == "postgresql"
        first = _checking_first_connect(self.engine) if given_postgres else nullcontext()
        with _storage_errors(action), self._lock, first, self._connect(action) as conn:
            if not self._owns_engine:
                self._check_encoding(conn, field="engine")
            other_level = self._dialect != "sqlite" and self._check_transactions(conn)
            tables = build_tables(self.table_prefix, conn.dialect)
            version = read_version(conn, tables)
            if version is None and create:
                with schema_lock(conn, self.table_prefix):
                    version = read_version(conn, tables)
                    if version is None:
                        create_schema(conn, tables)
                        version = SCHEMA_VERSION
                    conn.commit()  # before the lock ends (see schema_lock)
        if version != SCHEMA_VERSION:
            raise SchemaVersionError(
                version, SCHEMA_VERSION, prefix=self.table_prefix, hint=self._hint(version)
            )
        return tables, other_level

    def _connect(self, action: str) -> Connection:
        """Return a new connection of the engine; on a pool of one shared connection,
        first refuse to take it while the caller's transaction is open on it (see
        _check_shared).  Called with the store's lock held."""
        if self._shared:
            self._check_shared(action)
        return self.engine.connect()

    def _check_shared(self, action: str) -> None:
        """Refuse to take the one connection of the engine's pool while a transaction the
        store did not begin is open on it (the caller's, begun outside the store).

        The store's own transaction would commit that transaction's work with its own
        (or SQLite would refuse its BEGIN), and any use of the connection ends with a
        rollback, by SQLAlchemy, of whatever is open on it: the caller's work would be
        gone, and the caller would go on, and commit, in a transaction of its own
        statements since.  Called with the store's lock held, before the store checks
        the connection out; it asks the driver, not the database.
        """
        driver = _shared_driver(self.engine.pool)
        if driver is not None and driver.in_transaction:
            raise StorageError(
                f"store: {action} refused: the engine's pool has one connection, shared "
                "with the caller (an in-memory SQLite database), and a transaction the "
                "store did not begin is open on it; taking the connection would end that "
                "transaction. Commit or roll it back first (record in it with connection=)"
            )

    def _hint(self, version: int | None) -> str:
        url = self.engine.url.render_as_string(hide_password=True)
        command = f"e2badges db upgrade --url '{url}' --prefix '{self.table_prefix}'"
        if version is None:
            return f"run `{command}` or create the store with create_schema=True"
        if version > SCHEMA_VERSION:
            return "upgrade e2badges, or use a database or table prefix this version created"
        return f'run `{command}` (needs "e2badges[alembic]")'

    # -- recording ---------------------------------------------------------------------

    @contextmanager
    def transaction(
        self, *, connection: Connection | Session | None = None, **options: Any
    ) -> Iterator[StoreTransaction]:
        """Return a context manager around one atomic recording transaction.

        Without ``connection`` the store begins and commits its own transaction.
        With a Connection or an ORM Session, the work joins the caller's
        transaction inside a savepoint: nothing is committed until the caller
        commits, and a failure leaves the caller's own work untouched, unless the
        database itself ended the whole transaction (InnoDB does on a deadlock or an
        error 1020; see _savepoint).  A connection in autocommit mode, or a Session
        bound to one, is refused with ConfigurationError before anything is written.
        """
        if options:
            raise TypeError(f"unknown transaction options: {', '.join(sorted(options))}")
        if connection is None:
            with (
                _storage_errors("recording", retryable=True),
                self._lock,
                self._connect("recording") as conn,
                conn.begin(),
            ):
                self._ops.begin(conn, joined=False)
                yield _SQLTransaction(self._ops, self._boards, conn, people=self._memberships)
            return
        with _storage_errors("recording in the caller's transaction"):
            conn = self._joined_connection(connection)
            self._check_joined(conn)
            self._ops.begin(conn, joined=True)
            # The savepoint is the Connection's, also under a Session: a Session's
            # begin_nested() after its connection() was taken sends no SAVEPOINT
            # (SQLAlchemy sends it when the Session next asks for its connection), so
            # rolling it back rolled nothing back.  Begun after the dialect's begin:
            # SQLite takes its write lock (BEGIN IMMEDIATE) before any savepoint.
            with _savepoint(conn.begin_nested()):
                yield _SQLTransaction(
                    self._ops, self._boards, conn, people=self._memberships, commits=False
                )

    @staticmethod
    def _joined_connection(connection: Connection | Session) -> Connection:
        """Return the Connection of the caller's transaction: ``connection`` itself, or the
        Session's (which begins the Session's transaction if it has none)."""
        if isinstance(connection, Connection):
            return connection
        if inspect.iscoroutinefunction(getattr(type(connection), "run_sync", None)):
            raise _asyncio_refused(connection)  # AsyncSession, AsyncConnection
        # Looked up on the type: AsyncConnection's ``connection`` raises when read.
        if not callable(getattr(type(connection), "connection", None)) or not hasattr(
            connection, "begin_nested"
        ):
            raise ConfigurationError(
                "connection",
                f"expected a SQLAlchemy Connection or Session, got {type(connection).__name__}",
                subject="SQLAlchemyStore.transaction",
            )
        conn = connection.connection()
        if inspect.isawaitable(conn):  # an asyncio session of another shape
            if inspect.iscoroutine(conn):
                conn.close()  # never awaited: no "never awaited" warning either
            raise _asyncio_refused(connection)
        if not isinstance(conn, Connection):
            raise ConfigurationError(
                "connection",
                f"is a {type(connection).__name__} whose connection() returned a "
                f"{type(conn).__name__}, not a SQLAlchemy Connection",
                subject="SQLAlchemyStore.transaction",
            )
        return conn

    def _check_encoding(
        self, conn: Connection, *, field: str, subject: str = "SQLAlchemyStore"
    ) -> None:
        """Refuse a connection (of a given engine, or the caller's) that does not speak
        UTF-8 in full: PostgreSQL's client and server encodings must be UTF8 (see
        _check_utf8), PyMySQL's charset utf8mb4 (see _check_charset), as on the engines
        the store creates.  Reads the driver's state: no round trip."""
        driver: Any = conn.connection.dbapi_connection
        if self._dialect == "postgresql":
            _check_utf8(driver, field=field, subject=subject)
        elif self._dialect in ("mysql", "mariadb"):
            where = "the connection's " if field == "connection" else "its connections' "
            _check_charset(driver.charset, field=field, where=where, subject=subject)

    def _check_joined(self, conn: Connection) -> None:
        """Refuse a caller's connection on another database, or in autocommit mode.

        In autocommit mode the caller's "transaction" is none: each of the store's
        statements would commit by itself (a refused batch's claims stay, MariaDB
        then finds no savepoint to release), or, on SQLite, the store's own ``BEGIN
        IMMEDIATE`` would stay open and be rolled back, reward and all, when the
        connection goes back to its pool.  Checked before anything is written, from
        the driver's own state (no round trip).  A connection made from a
        ``mysql://`` URL joins a store on ``mariadb://`` and the reverse (see _family).
        """
        if _family(conn.dialect.name) != _family(self._dialect):
            raise ConfigurationError(
                "connection",
                f"is a {conn.dialect.name} connection; this store is on {self._dialect}",
                subject="SQLAlchemyStore.transaction",
            )
        _schema_translate_refused(
            conn.get_execution_options(), "connection", "SQLAlchemyStore.transaction"
        )
        self._check_encoding(conn, field="connection", subject="SQLAlchemyStore.transaction")
        if _autocommits(conn):
            raise ConfigurationError(
                "connection",
                "runs in autocommit mode, where the store's work would not be part of the "
                "caller's transaction (nothing to roll back, or to commit); pass a "
                'connection in a transaction (without isolation_level="AUTOCOMMIT")',
                subject="SQLAlchemyStore.transaction",
            )

    # -- queries -----------------------------------------------------------------------

    @contextmanager
    def _reading(self, action: str) -> Iterator[Connection]:
        with _storage_errors(action), self._lock, self._connect(action) as conn:
            self._ops.read_committed(conn)
            yield conn

    @contextmanager
    def _board_reading(self) -> Iterator[Connection]:
        """Return a connection for leaderboard reads, outside any transaction.

        A board read is a few statements, each consistent by itself (as under READ
        COMMITTED), so on PostgreSQL it runs in autocommit mode: psycopg then sends
        no BEGIN before it and no ROLLBACK when the pool takes the connection back,
        two round trips that would cost as much as the read.  (SQLite and pymysql
        begin no transaction, or none that costs a round trip, for a read.)
        """
        # One context manager, not _reading's two: these reads are a hot path.
        try:
            with self._lock, self._connect("reading a leaderboard") as conn:
                if self._dialect != "postgresql":
                    self._ops.read_committed(conn)  # MySQL/MariaDB (SQLite: never)
                    yield conn
                    return
                driver = conn.connection.dbapi_connection
                was = driver.autocommit  # type: ignore[union-attr]
                driver.autocommit = True  # type: ignore[union-attr]
                try:
                    yield conn
                finally:
                    try:
                        driver.autocommit = was  # type: ignore[union-attr]
                    except self.engine.dialect.loaded_dbapi.Error:
                        conn.invalidate()  # a broken connection: the pool replaces it
        except sa_exc.SQLAlchemyError as exc:
            raise _storage_error("reading a leaderboard", exc) from exc

    def _period_reading(self) -> _PeriodReading:
        """Return a driver connection for the reads of one board period (see SQLBoards).

        On a SQLite file it is this thread's reading connection (see _sql_readers),
        dropped after an error; elsewhere the driver connection of
        :meth:`_board_reading`.
        """
        return _PeriodReading(self)

    def read_state(self, keys: Iterable[str]) -> dict[str, Any]:
        stored = {storage_key(k): k for k in keys}
        if not stored:
            return {}
        t = self.tables.state
        out: dict[str, Any] = {}
        with self._reading("reading state") as conn:
            query = select(t.c.state_key, t.c.value).where(
                t.c.tenant == self._tenant, t.c.state_key.in_(list(stored))
            )
            for key, value in conn.execute(query):
                if value is not None:
                    out[stored[key]] = decode_value(value)
        return out

    def get_activity(self, activity_id: str) -> Activity | None:
        t = self.tables.activities
        with self._reading("reading an activity") as conn:
            query = select(t.c.data).where(t.c.tenant == self._tenant, t.c.id == activity_id)
            data = conn.execute(query).scalar()
        return None if data is None else decode_activity(data)

    def get_outcome(self, activity_id: str) -> Outcome | None:
        t = self.tables.log
        with self._reading("reading an outcome") as conn:
            query = select(t.c.outcome).where(
                t.c.tenant == self._tenant, t.c.activity_id == activity_id
            )
            data = conn.execute(query).scalar()
        return None if data is None else decode_outcome(data)

    def ledger(self, user: str, *, limit: int | None = None) -> list[LedgerEntry]:
        if limit is not None and limit <= 0:
            return []
        t = self.tables.ledger
        c = t.c
        query = select(
            c.activity_id,
            c.rule,
            c.user_id,
            c.currency,
            c.amount,
            c.requested,
            c.at_us,
            c.at_offset,
            c.role,
            c.limit_name,
            c.bonus,
        ).where(c.tenant == self._tenant, c.user_id == user)
        if limit is None:
            query = query.order_by(c.seq)
        else:
            query = query.order_by(c.seq.desc()).limit(limit)
        with self._reading("reading a ledger") as conn:
            rows = list(conn.execute(query).all())
        if limit is not None:
            rows.reverse()
        return [
            LedgerEntry(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                from_epoch_us(r[6], r[7]),
                r[8],
                r[9],
                bool(r[10]),
            )
            for r in rows
        ]

    def awards(self, user: str) -> list[AwardRecord]:
        t = self.tables.awards
        query = (
            select(t.c.award, t.c.revocation)
            .where(t.c.tenant == self._tenant, t.c.user_id == user)
            .order_by(t.c.seq)
        )
        with self._reading("reading awards") as conn:
            rows = conn.execute(query).all()
        return [
            AwardRecord(
                decode_record(Award, award),
                None if revocation is None else decode_record(Revocation, revocation),
            )
            for award, revocation in rows
        ]

    # -- the outbox ----------------------------------------------------------------------

    keeps_outbox = True

    def claim_notifications(
        self,
        *,
        now: datetime,
        lease: timedelta,
        ids: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[OutboxEntry]:
        check_aware("now", now, subject="claim_notifications")
        t = self.tables.outbox
        # now + lease in a zone would add by wall clock (fold ignored): add to the instant.
        now_us, until_us = epoch_us(now), epoch_us(now.astimezone(UTC) + lease)
        mine = t.c.tenant == self._tenant
        due = select(t).where(
            mine, t.c.done.is_(False), or_(t.c.due_us.is_(None), t.c.due_us <= now_us)
        )
        wanted = None if ids is None else sorted(set(ids))
        chunks = (
            [None]
            if wanted is None
            else [wanted[i : i + _ID_CHUNK] for i in range(0, len(wanted), _ID_CHUNK)]
        )

        def claim(conn: Connection) -> list[Any]:
            found: list[Any] = []
            for chunk in chunks:
                query = due if chunk is None else due.where(t.c.id.in_(chunk))
                query = query.order_by(t.c.seq)
                if limit is not None:
                    query = query.limit(limit)
                # Two workers never lease one notification: the second skips locked rows.
                found.extend(conn.execute(query.with_for_update(skip_locked=True)).all())
            # The chunks of ids come in id order: the oldest ``limit`` may be in any of
            # them.  Rows found and not leased stay due (their locks end with the claim).
            found.sort(key=lambda row: row.seq)
            claimed = found if limit is None else found[:limit]
            for i in range(0, len(claimed), _ID_CHUNK):
                seqs = [row.seq for row in claimed[i : i + _ID_CHUNK]]
                conn.execute(t.update().where(mine, t.c.seq.in_(seqs)).values(due_us=until_us))
            return claimed

        claimed = self._retried_write("claiming notifications", claim)
        return [_outbox_entry(row) for row in claimed]

    def _locked_row(self, conn: Connection, notification_id: str) -> Any:
        t = self.tables.outbox
        query = select(t).where(t.c.tenant == self._tenant, t.c.id == notification_id)
        row = conn.execute(query.with_for_update()).first()
        if row is None:
            raise LookupError(f"no notification {notification_id!r} in the outbox")
        return row

    def mark_delivered(self, notification_id: str, plugin: str) -> None:
        t = self.tables.outbox

        def deliver(conn: Connection) -> None:
            row = self._locked_row(conn, notification_id)
            delivered = decode_value(row.delivered)
            if plugin not in delivered:
                delivered.append(plugin)
                conn.execute(
                    t.update()
                    .where(t.c.tenant == self._tenant, t.c.seq == row.seq)
                    .values(delivered=encode_value(delivered))
                )

        self._retried_write("recording a delivery", deliver)

    def mark_failed(self, notification_id: str, plugin: str, *, error: str) -> int:
        t = self.tables.outbox

        def fail(conn: Connection) -> int:
            row = self._locked_row(conn, notification_id)
            failures, errors = decode_value(row.failures), decode_value(row.errors)
            failures[plugin] = failures.get(plugin, 0) + 1
            errors[plugin] = error
            conn.execute(
                t.update()
                .where(t.c.tenant == self._tenant, t.c.seq == row.seq)
                .values(failures=encode_value(failures), errors=encode_value(errors))
            )
            count: int = failures[plugin]
            return count

        return self._retried_write("recording a failed delivery", fail)

    def release_notification(
        self, notification_id: str, *, done: bool, retry_at: datetime | None = None
    ) -> None:
        if retry_at is not None:
            check_aware("retry_at", retry_at, subject="release_notification")
        t = self.tables.outbox

        def release(conn: Connection) -> None:
            row = self._locked_row(conn, notification_id)
            if done:
                values: dict[str, Any] = {"done": True, "due_us": None}
            elif row.done:
                return
            else:
                values = {"due_us": None if retry_at is None else epoch_us(retry_at)}
            mine = (t.c.tenant == self._tenant, t.c.seq == row.seq)
            conn.execute(t.update().where(*mine).values(**values))

        self._retried_write("releasing a notification", release)

    def get_notification(self, notification_id: str) -> OutboxEntry | None:
        t = self.tables.outbox
        with self._reading("reading a notification") as conn:
            query = select(t).where(t.c.tenant == self._tenant, t.c.id == notification_id)
            row = conn.execute(query).first()
        return None if row is None else _outbox_entry(row)

    # -- stories and adoption figures (queries in _sql_adoption) -----------------------

    def feed(
        self,
        *,
        team: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
        viewer: str | None = None,
        rankings: bool = True,
        before: str | None = None,
    ) -> list[Story]:
        assert self.tables.adoption is not None

        def read(query: Any) -> Sequence[Any]:
            with self._reading("reading the feed") as conn:
                return conn.execute(query).all()

        return _sql_adoption.feed(
            read,
            self.tables.adoption,
            self._tenant,
            team=team,
            since=since,
            limit=limit,
            viewer=viewer,
            privacy=self._visibility,
            rankings=rankings,
            before=before,
        )

    def _visibility(self, users: Collection[str]) -> dict[str, Visibility]:
        with self._reading("reading privacy settings") as conn:
            return _sql_people.visibility(conn, self.tables, self._tenant, users)

    def activity_totals(
        self,
        *,
        by: Sequence[str],
        start: str | None = None,
        stop: str | None = None,
        team: str | None = None,
        kinds: Collection[str] | None = None,
    ) -> list[tuple[Any, ...]]:
        assert self.tables.adoption is not None
        with self._reading("reading activity totals") as conn:
            return _sql_adoption.activity_totals(
                conn,
                self.tables.adoption,
                self._tenant,
                by=by,
                start=start,
                stop=stop,
                team=team,
                kinds=kinds,
            )

    def first_active(self, *, team: str | None = None) -> dict[str, str]:
        assert self.tables.adoption is not None
        with self._reading("reading first activity") as conn:
            return _sql_adoption.first_active(conn, self.tables.adoption, self._tenant, team)

    def cohort_weeks(
        self,
        *,
        start: str | None = None,
        stop: str | None = None,
        until: str,
        team: str | None = None,
    ) -> list[tuple[str, str, int]]:
        assert self.tables.adoption is not None
        with self._reading("reading weekly cohorts") as conn:
            return _sql_adoption.cohort_weeks(
                conn,
                self.tables.adoption,
                self._tenant,
                start=start,
                stop=stop,
                until=until,
                team=team,
            )

    def active_in(self, weeks: Mapping[str, str], *, team: str | None = None) -> set[str]:
        assert self.tables.adoption is not None
        with self._reading("reading active weeks") as conn:
            return _sql_adoption.active_in(
                conn, self.tables.adoption, weeks, team, tenant=self._tenant
            )

    def first_awards(self) -> dict[str, float]:
        with self._reading("reading first awards") as conn:
            return _sql_adoption.first_awards(conn, self.tables.awards, self._tenant)

    def iter_activities(self) -> Iterator[Activity]:
        """Yield the log in recording order, a page of rows at a time, as of one moment.

        A batch takes its ``seq`` values when it is applied and commits later, so on
        PostgreSQL and MySQL/MariaDB a batch may commit after one with higher ``seq``
        values did: pages read in separate transactions (``seq`` greater than the
        last one read) would skip it for good, and yet yield the batches evaluated
        after it.  There every page is read in one read-only REPEATABLE READ
        transaction (one snapshot, taken at the first page), held until the last page
        is read or the iteration is closed.  SQLite has one writer, so ``seq`` order is
        commit order and the committed log is always a prefix of it: each page is read
        in a transaction of its own (a long read transaction would keep a WAL file
        from being checkpointed, or block writers in rollback-journal mode).
        """
        log, activities = self.tables.log, self.tables.activities
        query = (
            select(log.c.seq, activities.c.data)
            .join_from(
                log,
                activities,
                (activities.c.tenant == log.c.tenant) & (activities.c.id == log.c.activity_id),
            )
            .where(log.c.tenant == self._tenant)
            .order_by(log.c.seq)
            .limit(_PAGE)
        )
        action = "reading the activity log"
        if self._dialect == "sqlite":
            yield from _log_pages(query, lambda: self._reading(action))
            return
        with _storage_errors(action), self._lock, self._connect(action) as conn:
            self._ops.snapshot(conn)
            yield from _log_pages(query, lambda: nullcontext(conn))

    def count_activities(self) -> int:
        with self._reading("counting activities") as conn:
            log = self.tables.log
            query = select(func.count()).select_from(log).where(log.c.tenant == self._tenant)
            count = conn.execute(query).scalar()
        return int(count or 0)

    # -- leaderboards --------------------------------------------------------------------

    def _from_copy(self, board: str, period: str, query: Callable[[BoardCopy], _T]) -> _T:
        """Return ``query(copy)`` of the up-to-date copy of a board period (board_copies).

        The copy catches up on this thread's reading connection: on a SQLite file the
        one of _sql_readers (whose data version tells whether anything was committed
        since), on PostgreSQL one of its own, kept in autocommit mode outside the pool
        (taking a pooled connection and switching it to autocommit and back cost a
        quarter of the read); either is dropped after an error.  Elsewhere (in-memory
        SQLite, or once the readers are closed) the copy catches up on a pooled
        connection at every read.
        """
        copies = self._copies
        assert copies is not None
        sqlite = self._copy_readers is None
        readers = self._readers if sqlite else self._copy_readers
        if readers is not None:
            try:
                driver = readers.get()
                if driver is not None:
                    token = readers.version() if sqlite else None
                    return copies.read(driver, board, period, token, query)
            except sa_exc.SQLAlchemyError as exc:
                readers.discard()
                raise _storage_error("reading a leaderboard", exc) from exc
        with _PeriodReading(self) as driver:
            return copies.read(driver, board, period, None, query)

    def board_size(self, board: str, bucket: Bucket) -> int:
        if isinstance(bucket, RollingBucket):
            with self._board_reading() as conn:
                return self._boards.rolling(conn, board, bucket).size()
        if self._copies is not None:
            return self._from_copy(board, bucket, lambda copy: copy.size())
        with self._period_reading() as driver:
            return self._boards.size(driver, board, bucket)

    def board_version(self, board: str, bucket: Bucket, stop: int) -> Hashable | None:
        """Return a token of the whole database on a SQLite file, else None.

        On a SQLite file (see _sql_readers) the token changes whenever anything is
        committed, by any connection in any process, so a cached page is used only
        while the database holds exactly what it held when the page was read.  On
        other databases there is no such cheap token: None (no page is cached).
        """
        readers = self._readers
        if readers is None or isinstance(bucket, RollingBucket):
            return None
        try:
            return readers.version()
        except sa_exc.SQLAlchemyError as exc:
            readers.discard()
            raise _storage_error("reading a leaderboard", exc) from exc

    def board_page(
        self,
        board: str,
        bucket: Bucket,
        start: int,
        stop: int,
        *,
        dense: bool = True,
        sized: bool = True,
    ) -> BoardPage:
        if isinstance(bucket, RollingBucket):
            with self._board_reading() as conn:
                return self._boards.rolling(conn, board, bucket).page(start, stop, dense)
        if self._copies is not None:
            return self._from_copy(board, bucket, lambda copy: copy.page(start, stop, dense))
        with _PeriodReading(self) as driver:
            return self._boards.page(driver, board, bucket, start, stop, dense=dense, sized=sized)

    def board_standing(
        self,
        board: str,
        bucket: Bucket,
        subject: str,
        *,
        dense: bool = True,
        position: bool = True,
    ) -> Standing | None:
        if not isinstance(bucket, RollingBucket):
            if self._copies is not None:
                return self._from_copy(board, bucket, lambda copy: copy.standing(subject, dense))
            with self._period_reading() as driver:
                return self._boards.standing(
                    driver, board, bucket, subject, dense=dense, position=position
                )
        found = self._rolling_row(board, bucket, subject)
        if found is None:
            return None
        index, row, hidden = found
        return index.standing(row, hidden, dense)

    def board_around(
        self,
        board: str,
        bucket: Bucket,
        subject: str,
        before: int,
        after: int,
        *,
        dense: bool = True,
        position: bool = True,
    ) -> AroundPage | None:
        if not isinstance(bucket, RollingBucket):
            if self._copies is not None:
                return self._from_copy(
                    board, bucket, lambda copy: copy.around(subject, before, after, dense)
                )
            with self._period_reading() as driver:
                return self._boards.around(
                    driver,
                    board,
                    bucket,
                    subject,
                    before=before,
                    after=after,
                    dense=dense,
                    position=position,
                )
        found = self._rolling_row(board, bucket, subject)
        if found is None:
            return None
        index, row, hidden = found
        return index.around(row, hidden, before, after, dense)

    def _rolling_row(
        self, board: str, bucket: RollingBucket, subject: str
    ) -> tuple[BoardIndex, BoardRow, bool] | None:
        """Return a rolling window's index, ``subject``'s ranked row in it and whether
        the row is hidden; None if the subject has no ranked row there."""
        with self._board_reading() as conn:
            index = self._boards.rolling(conn, board, bucket)
            row = index.rows.get(subject)
            if row is None or row.sort_key is None:
                return None
            return index, row, not row.team and self._boards.hidden(conn, board, subject)

    def set_board_opt_out(self, user: str, opted_out: bool) -> None:
        self._retried_write(
            "recording a leaderboard opt-out",
            lambda conn: self._boards.set_opt_out(conn, user, opted_out),
        )

    def board_opt_out(self, user: str) -> bool:
        with self._board_reading() as conn:
            return self._boards.opted_out(conn, user)

    def set_board_exclusions(self, user: str, boards: Collection[str]) -> None:
        self._retried_write(
            "recording board exclusions",
            lambda conn: self._boards.set_exclusions(conn, user, boards),
        )

    def board_exclusions(self, user: str) -> frozenset[str]:
        with self._reading("reading board exclusions") as conn:
            return self._boards.exclusions(conn, user)

    def board_hidden(self, board: str, user: str) -> bool:
        with self._reading("reading a leaderboard opt-out") as conn:
            return self._boards.hidden(conn, board, user)

    # -- people (statements in _sql_people) ------------------------------------------------

    def update_person(self, user: str, change: Callable[[Person | None], Person]) -> Person:
        return self._update_person(user, change)

    def update_person_and_exclusions(
        self,
        user: str,
        change: Callable[[Person | None], Person],
        exclusions: Callable[[Person], Collection[str]],
    ) -> Person:
        return self._update_person(user, change, exclusions=exclusions)

    def update_person_and_opt_out(
        self, user: str, change: Callable[[Person | None], Person], opted_out: bool
    ) -> Person:
        return self._update_person(user, change, opted_out=opted_out)

    def _update_person(
        self,
        user: str,
        change: Callable[[Person | None], Person],
        *,
        exclusions: Callable[[Person], Collection[str]] | None = None,
        opted_out: bool | None = None,
    ) -> Person:
        def update(conn: Connection) -> Person:
            person = _sql_people.update_person(conn, self.tables, self._tenant, user, change)
            # The person's row stays locked: the exclusions are the new record's, and
            # the opt-out is set with it.
            if exclusions is not None:
                self._boards.set_exclusions(conn, user, exclusions(person))
            if opted_out is not None:
                self._boards.set_opt_out(conn, user, opted_out)
                settings = dataclasses.replace(person.settings, leaderboards=not opted_out)
                person = dataclasses.replace(person, settings=settings)
            return person

        return self._retried_write("updating a person", update)

    def _retried_write(self, action: str, body: Callable[[Connection], _T]) -> _T:
        """Return ``body(conn)`` run in a write transaction of its own.

        A deadlock or serialization failure rolls everything back, and ``body`` runs
        again in a new transaction (see retry_transient), up to ``max_attempts`` times
        in all.
        """

        def attempt() -> _T:
            with (
                _storage_errors(action, retryable=True),
                self._lock,
                self._connect(action) as conn,
                conn.begin(),
            ):
                self._ops.begin(conn, joined=False)
                return body(conn)

        return retry_transient(attempt, self.max_attempts)

    def get_people(self, users: Collection[str]) -> dict[str, Person]:
        with self._reading("reading people") as conn:
            return _sql_people.get_people(conn, self.tables, self._tenant, users)

    def iter_people(self) -> Iterator[Person]:
        with self._reading("reading people") as conn:
            return iter(_sql_people.iter_people(conn, self.tables, self._tenant))

    def memberships(self, users: Collection[str]) -> dict[str, tuple[Membership, ...]]:
        with self._reading("reading team memberships") as conn:
            return _sql_people.memberships(conn, self.tables, self._tenant, users)

    def person_activities(self, user: str) -> list[Activity]:
        with self._reading("reading a person's activities") as conn:
            return _sql_people.person_activities(conn, self.tables, self._tenant, user)

    def person_stories(self, user: str) -> list[Story]:
        with self._reading("reading a person's stories") as conn:
            return _sql_people.person_stories(conn, self.tables, self._tenant, user)

    def notifications_about(self, user: str, *, ids: Collection[str] = ()) -> list[OutboxEntry]:
        with self._reading("reading a person's notifications") as conn:
            rows = _sql_people.notification_rows(conn, self.tables, self._tenant, user, ids)
        return [_outbox_entry(row) for row in rows]

    def erase_person(
        self,
        user: str,
        pseudonym: str,
        *,
        payload_fields: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        """Erase ``user`` in a transaction of its own, retried as the store's other writes.

        A deadlock or a lost connection rolls everything back and the erasure runs again
        with the same pseudonym (see _retried_write).  Running it again after a commit
        that a lost connection hid is harmless: nothing names ``user`` any more, and the
        pseudonym's opt-out is already there.
        """

        def erase(conn: Connection) -> None:
            # Locks in a recording batch's order, so that the two wait for each other
            # instead of deadlocking: the state rows naming the person (sorted, by
            # key), then the board lock, which batches take shared once they hold
            # their state rows (see _SQLTransaction.apply).  Nothing erasure writes
            # after that is held by a batch recording for other people.
            ops = self._ops

            def lock(keys: Sequence[str]) -> list[tuple[str, str | None]]:
                return ops.lock_state(conn, keys, create=False)

            state = _sql_people.lock_state(conn, self.tables, self._tenant, user, lock)
            had_rows = self._boards.erase(conn, user, pseudonym)
            erased = _sql_people.erase(
                conn,
                self.tables,
                self._tenant,
                user,
                pseudonym,
                state=state,
                payload_fields=payload_fields or {},
            )
            if erased or had_rows:
                # Someone never recorded leaves nothing to the pseudonym: nothing written.
                self._boards.opt_out_erased(conn, pseudonym)

        self._retried_write("erasing a person", erase)

    # -- tenants -----------------------------------------------------------------------

    def _tenant_tables(self) -> list[Table]:
        """Return every table that holds tenants' rows: all but ``meta``."""
        return [t for t in self.tables.all if t is not self.tables.meta]

    def tenants(self) -> list[str]:
        """Return the tenants with a row in any of the store's tables, sorted.

        Each table's distinct tenants are read by a loose index scan (see
        ``_distinct_tenants``), never by scanning the table; they are sorted
        in Python, by code point, whatever the database's collation.  On
        MySQL/MariaDB a tenant found in ``board_opt_outs`` alone is listed only if it
        has a row there but its bounding rows (an index seek; see _sql_boards).
        """
        found: set[str] = set()
        bounded: set[str] = set()  # MySQL/MariaDB: tenants with bounding rows of opt-outs
        opt_outs = self.tables.board_opt_outs
        with self._reading("listing the tenants") as conn:
            for table in self._tenant_tables():
                names = conn.execute(_distinct_tenants(table, self._dialect)).scalars()
                (bounded if table is opt_outs and self._boards.lock_rows else found).update(names)
            # A tenant found only there may hold its bounding rows alone (they are no
            # opt-out): one index seek each for those, usually none.
            for tenant in sorted(bounded - found):
                if self._boards.bound(tenant).holds_opt_outs(conn):
                    found.add(tenant)
        return sorted(found)

    def delete_tenant(self) -> None:
        """Delete this tenant's rows from every table but ``meta``, in one transaction.

        The board lock is taken exclusively first, so recording batches with board
        rows in this tenant wait for the deletion to commit (those of other tenants
        do not).  On MySQL/MariaDB that lock is a row of ``meta``, which is kept, as
        are the tenant's bounding rows of opt-outs, and each statement reads the
        tenant's index range only (see SQLOps.delete_tenant).  A deadlock or
        serialization failure rolls everything back and the deletion runs again, up
        to ``max_attempts`` times in all.
        """

        def delete_all(conn: Connection) -> None:
            self._boards.lock_exclusively(conn)
            self._ops.delete_tenant(conn)
            self._boards.changes.reset(conn)  # copies of the tenant's boards load them again

        self._retried_write("deleting a tenant", delete_all)

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Dispose the engine if the store created it; a given engine is left alone.

        A store made by :meth:`for_tenant` created no engine: closing it does nothing.
        """
        if self._owns_readers and self._readers is not None:
            self._readers.close()
        if self._owns_readers and self._copy_readers is not None:
            self._copy_readers.close()
        if self._owns_readers:
            with self._copy_sets_lock:
                for copies in self._copy_sets.values():
                    copies.drop()
                self._copy_sets.clear()
        if self._owns_engine:
            self.engine.dispose()

    def __repr__(self) -> str:
        url = self.engine.url.render_as_string(hide_password=True)
        return (
            f"SQLAlchemyStore({url!r}, tenant={self._tenant!r}, table_prefix={self.table_prefix!r})"
        )


def _distinct_tenants(table: Table, dialect: str) -> Select[Any]:
    """Return a statement that reads the distinct tenants of ``table`` off an index.

    A loose index scan: the smallest tenant, then repeatedly the smallest one
    above the last, each a seek in an index that ``tenant`` leads (every table
    but ``meta`` has one), so the cost grows with the number of tenants, not of
    rows.  On SQLite and PostgreSQL, a recursive common table expression::

        WITH RECURSIVE walk(x) AS (
            SELECT MIN(tenant) FROM t
            UNION ALL
            SELECT (SELECT MIN(tenant) FROM t WHERE tenant > walk.x) FROM walk
            WHERE walk.x IS NOT NULL)
        SELECT x FROM walk WHERE x IS NOT NULL

    MariaDB runs that too, but reads the whole index at each step (it does not
    seek on ``walk.x``); its optimizer does the loose index scan itself for
    ``SELECT DISTINCT tenant`` ("Using index for group-by"), which it gets.
    """
    tenant = table.c.tenant
    if dialect in ("mysql", "mariadb"):
        return select(tenant).distinct()
    walk = select(func.min(tenant).label("x")).cte("walk", recursive=True)
    above = select(func.min(tenant)).where(tenant > walk.c.x).scalar_subquery()
    walk = walk.union_all(select(above).where(walk.c.x.is_not(None)))
    return select(walk.c.x).where(walk.c.x.is_not(None))


def _engine_for(
    url_or_engine: str | URL | Engine, *, read_only: bool = False
) -> tuple[Engine, bool]:
    if isinstance(url_or_engine, Engine):
        _check_engine(url_or_engine)
        return url_or_engine, False
    engine = _make_engine(
        url_or_engine, busy_timeout=_BUSY_TIMEOUT, engine_options=None, read_only=read_only
    )
    return engine, True


def upgrade(
    url_or_engine: str | URL | Engine, *, table_prefix: str = "e2b_", revision: str = "head"
) -> int | None:
    """Create or migrate the store's tables to ``revision`` and return the schema version.

    Runs the Alembic migrations shipped in ``e2badges.storage.migrations``
    (needs ``e2badges[alembic]``).  A database created by the store itself (with
    ``create_schema=True``) is recognised and migrated from its version.  Returns
    None, as :func:`schema_version` does, when there are no tables: ``base`` on a
    database without them, where no table is created (a SQLite file is opened as a
    store opens it).  A ``revision`` that is not a non-empty str naming a revision
    Alembic resolves is refused with ConfigurationError naming ``revision``, before
    anything connects.

    A SQLite file is opened to write only when there is something to write: at a
    path with no file, ``base`` returns None and a revision past the newest version
    (or before base) is refused, without creating the file; an existing file (given
    by URL) is read read-only first, so that a refused revision (below its version
    too) and ``base`` without the tables leave it as it was, byte for byte.
    """
    from ._sql_migrate import (  # noqa: PLC0415  # alembic, an extra
        check_revision,
        check_target,
        run_upgrade,
    )

    check_prefix(table_prefix)
    check_revision(revision)
    engine, owned = _engine_for(url_or_engine)
    try:
        with _storage_errors("upgrading the schema"):
            path = _sqlite_file(engine.url)
            missing = path is not None and not os.path.exists(path)
            if missing or (owned and path is not None and os.path.isfile(path)):
                version = None
                if not missing:
                    version = schema_version(url_or_engine, table_prefix=table_prefix)
                if check_target(revision, version, table_prefix) == 0 and version is None:
                    return None  # base without the tables: nothing to write
            return run_upgrade(engine, table_prefix, revision)
    finally:
        if owned:
            engine.dispose()


def schema_version(url_or_engine: str | URL | Engine, *, table_prefix: str = "e2b_") -> int | None:
    """Return the schema version of the store's tables in a database, or None if absent.

    Only reads: a SQLite file is opened read-only, and a missing one is refused with
    ConfigurationError naming ``url`` rather than created (naming ``engine`` for an
    engine given on a path with no file, which connecting it would create).
    """
    check_prefix(table_prefix)
    engine, owned = _engine_for(url_or_engine, read_only=True)
    path = None if owned else _sqlite_file(engine.url)
    if path is not None and not os.path.isfile(path):
        raise ConfigurationError(
            "engine",
            f"no SQLite database file at {path!r} (reading does not create one)",
            subject="SQLAlchemyStore",
        )
    try:
        with _storage_errors("reading the schema version"), engine.connect() as conn:
            return read_version(conn, build_tables(table_prefix, conn.dialect))
    finally:
        if owned:
            engine.dispose()
