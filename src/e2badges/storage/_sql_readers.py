"""One reading connection per thread for leaderboard reads on a SQLite file.

Taking a connection from SQLAlchemy's pool and giving it back costs about as much
as the indexed read of a top 10 on SQLite (some 9 µs of Python), and a leaderboard
read is one or two such reads.  :class:`Readers` keeps, for each thread, one driver
connection made by the engine (so its ``connect`` listeners run: WAL mode, the busy
timeout) and then detached from the pool, so that it takes no pool slot.

A reading connection runs SELECT statements only, in the driver's default mode,
which opens no transaction for them: each statement reads the last committed state,
as it would on a pooled connection.  A connection is not used in a process other
than the one that opened it (after ``fork`` the child opens its own and leaves the
inherited one alone, as SQLite asks), and it is dropped after a driver error.  A
thread's connection is closed when the thread ends (with its thread-local storage)
or when the store closes (a connection another thread opens meanwhile is closed at
once, and that thread reads through the pool).

:meth:`Readers.version` tells whether the database changed: SQLite's ``PRAGMA
data_version`` on this thread's reading connection changes whenever another
connection (in any process) commits, and a reading connection never writes.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import weakref
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool, QueuePool

__all__ = ["Readers", "readers_for"]


_SERIALS = itertools.count(1)
_DATA_VERSION = "PRAGMA data_version"


class _Held:
    """A thread's reading connection, the process that opened it and its serial number."""

    __slots__ = ("__weakref__", "cursor", "driver", "pid", "serial")

    def __init__(self, driver: Any, pid: int) -> None:
        self.driver = driver
        self.pid = pid
        self.serial = next(_SERIALS)  # never reused, unlike id() of a closed connection
        self.cursor: Any = None  # the data version's, kept (see Readers.version)


class Readers:
    """Per-thread driver connections for reads (see the module's text)."""

    def __init__(self, engine: Engine, *, autocommit: bool = False) -> None:
        self._engine = engine
        # PostgreSQL (board copies): the connections read outside transactions, as
        # SQLAlchemyStore._board_reading does, sending no BEGIN or ROLLBACK.
        self._autocommit = autocommit
        self._error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._local = threading.local()
        self._held: weakref.WeakSet[_Held] = weakref.WeakSet()
        # Connections inherited across fork: kept referenced, never used or closed.
        self._inherited: list[_Held] = []
        self._closed = False
        # Guards _held and _closed between threads: a connection opened while another
        # thread closes the readers is closed, not kept (see get and close).
        self._lock = threading.Lock()

    def get(self) -> Any | None:
        """Return this thread's reading connection, or None once the readers are closed."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None:
            if held.pid != os.getpid():
                self._inherited.append(held)
            elif held.driver is not None:
                return held.driver
            self._local.held = None
        if self._closed:
            return None
        fairy = self._engine.raw_connection()  # not under the lock: it may take a while
        fairy.detach()
        held = _Held(fairy.dbapi_connection, os.getpid())
        if self._autocommit:
            try:
                held.driver.autocommit = True
            except BaseException:
                _close(held)
                raise
            # psycopg warns about a connection collected open (a thread that ended):
            # close it then, in the process that opened it only (see _Held).
            weakref.finalize(held, _close_in, held.driver, held.pid)
        with self._lock:
            if not self._closed:
                self._held.add(held)
                self._local.held = held
                return held.driver
        # Closed meanwhile by another thread: this connection is closed too.
        _close(held)
        return None

    def version(self) -> tuple[int, int] | None:
        """Return a token of the committed state of the whole database, or None once closed.

        Equal tokens mean nothing was committed in between.  The token holds the
        serial number of this thread's reading connection, as the data versions of
        two connections are not comparable.
        """
        driver = self.get()
        if driver is None:
            return None
        held: _Held = self._local.held
        cursor = held.cursor
        if cursor is None:
            cursor = held.cursor = driver.cursor()
        try:
            cursor.execute(_DATA_VERSION)
            return held.serial, cursor.fetchall()[0][0]  # all: the statement is done
        except self._error as exc:  # wrapped as SQLAlchemy wraps driver errors
            raise DBAPIError.instance(_DATA_VERSION, (), exc, self._error) from exc

    def discard(self) -> None:
        """Close this thread's reading connection (after an error); the next read opens one."""
        held: _Held | None = getattr(self._local, "held", None)
        self._local.held = None
        if held is not None and held.pid == os.getpid():
            with self._lock:
                self._held.discard(held)
            _close(held)

    def close(self) -> None:
        """Close every thread's reading connection; later reads go through the pool."""
        with self._lock:
            self._closed = True
            held_now = list(self._held)
        pid = os.getpid()
        for held in held_now:
            if held.pid == pid:
                _close(held)


def _close_in(driver: Any, pid: int) -> None:
    """Close ``driver`` if this is process ``pid`` (a forked child leaves it to the parent)."""
    if os.getpid() == pid:
        with contextlib.suppress(Exception):  # best effort: the connection is gone anyway
            driver.close()


def _close(held: _Held) -> None:
    driver, held.driver, held.cursor = held.driver, None, None
    if driver is not None:
        with contextlib.suppress(Exception):  # best effort: the connection is gone anyway
            driver.close()


def readers_for(engine: Engine) -> Readers | None:
    """Return per-thread readers for ``engine``, or None where they do not apply.

    They apply to a SQLite database in a file whose engine pools connections per
    checkout (``QueuePool``, SQLAlchemy's default for files, or ``NullPool``): an
    in-memory database, or a pool that hands out one shared connection, must be
    read through that connection.
    """
    if engine.dialect.name != "sqlite":
        return None
    if not isinstance(engine.pool, QueuePool | NullPool):
        return None
    database = engine.url.database or ""
    if database in ("", ":memory:") or "memory" in str(engine.url.query.get("mode", "")):
        return None
    return Readers(engine)
