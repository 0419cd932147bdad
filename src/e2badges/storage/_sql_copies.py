"""Process-local copies of leaderboards, kept up to date from the board change log.

A leaderboard read on the database costs several index descents (see
:mod:`e2badges.storage._sql_boards`); the same read on an in-memory
:class:`~e2badges.storage._board_index.BoardIndex` is a bisection and a slice.
With ``SQLAlchemyStore(board_copies=N)`` the store keeps such an index for each
of the last ``N`` board periods it read (least recently read dropped first) and
answers ``size``, ``page``, ``standing`` and ``around`` from it, after making
sure that the copy holds everything committed before the read began, by any
process.

**The change log.**  Every transaction that changes board rows (a recording
batch, an opt-out or exclusion, an erasure, a tenant's deletion) also inserts one
row into ``{prefix}board_changes``, in the same transaction: the tenant, the
subjects whose rows changed, and a position in commit order.  So a copy catches
up by reading the rows of the changes committed since it last looked, never the
whole board.  The position is where the two databases differ:

- **SQLite** has one writer at a time, so ``seq`` (``AUTOINCREMENT``, never
  reused) is in commit order: a copy remembers the greatest ``seq`` it applied and
  reads those above it.  Whether anything at all was committed since is told,
  without a statement on the tables, by ``PRAGMA data_version`` on the reading
  connection (see :mod:`e2badges.storage._sql_readers`): an unchanged database
  costs a copy one pragma per read.
- **PostgreSQL** commits concurrent transactions in any order, so ``seq`` is not
  enough.  Each change row holds its transaction's ``txid_current()``, and a copy
  remembers the snapshot (``txid_current_snapshot()``) it was brought up to date
  with: the changes it has not applied are exactly those of transactions that
  snapshot does not see (``txid >= xmax``, or in progress then), all of them at or
  above its ``xmin``.  Each read sends one statement (the snapshot, the markers
  below and the changes at or above ``xmin``); when it finds changes, they and the
  rows they name are read again in one REPEATABLE READ transaction, so the copy
  moves from one committed state to another.

MySQL/MariaDB keep no change log (a copy could not be told what changed there
without the same snapshot bookkeeping, which InnoDB does not expose): the option
is refused on them.

**Markers.**  Two rows of ``{prefix}meta`` tell a copy to load its board whole
instead: ``board_changes_pruned`` (every change at a position below it may have
been deleted: the log keeps about the last :data:`KEEP` transactions, pruned by
the writer of every :data:`PRUNE_EVERY`-th in a transaction of the store's own,
which skips the pruning while another transaction prunes; on PostgreSQL only the
changes below the oldest transaction open on the server go, so the marker never
passes the ``xmin`` of a snapshot taken after it) and ``board_reset:<digest of
the tenant>``, a counter that an erasure and a tenant's deletion raise (an
erasure also deletes the change rows that name the erased person, so that their
id is nowhere in the tables).  A change row without subjects asks for a whole
load too.

Reads of a copy and its updates are serialised by the copy's own lock; the
copies of a tenant (shared by the store's views of it) by another one.  On SQLite
a copy keeps the data version it caught up at per reading connection (each thread
has its own), so threads taking turns do not each make the others catch up.  A
copy holds every row of its board period (about 475 bytes a row in CPython), so
``N`` bounds the memory a tenant's copies use.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, Self, TypeVar

from sqlalchemy import BigInteger, String, cast, delete, func, insert, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Dialect

from .._leaderboards import AroundPage, BoardPage, BoardRow, Standing
from ._board_index import BoardIndex
from ._codec import decode_value, encode_value
from ._sql_schema import Tables
from ._tenant import DEFAULT_TENANT

__all__ = [
    "KEEP",
    "PRUNE_EVERY",
    "BoardCopies",
    "BoardCopy",
    "ChangeLog",
    "board_row",
    "board_rows",
    "fetch",
    "reset_row_name",
]

#: The writer of every PRUNE_EVERY-th change row prunes the log ...
PRUNE_EVERY = 1000
#: ... to about the last KEEP change rows (of every tenant).
KEEP = 10_000
#: The ``{prefix}meta`` row below whose value every change may have been pruned.
PRUNED = "board_changes_pruned"
#: Subjects read per statement when a copy catches up.
_CHUNK = 1000
#: The columns of a board row a copy reads (a BoardRow's, then ``listed``).
_COLUMNS = ("sort_key", "reached", "subject", "score", "total", "count", "members", "team")

T = TypeVar("T")


def reset_row_name(tenant: str) -> str:
    """Return the name of the ``{prefix}meta`` row that counts ``tenant``'s resets."""
    return "board_reset:" + hashlib.sha256(tenant.encode()).hexdigest()[:40]


class ChangeLog:
    """The statements of the board change log over one set of tables on one dialect."""

    #: The tenant of every statement; set by :meth:`bound`.
    tenant = DEFAULT_TENANT

    def __init__(self, tables: Tables, dialect: Dialect, prefix: str) -> None:
        self.dialect = name = dialect.name
        table = tables.board_changes
        assert table is not None
        self.table = table
        self.meta = tables.meta
        #: Whether this database keeps the log (SQLite and PostgreSQL).
        self.enabled = name in ("sqlite", "postgresql")
        self.dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
        self._lock_key = int(
            hashlib.sha256(f"e2badges-prune:{prefix}".encode()).hexdigest()[:15], 16
        )
        #: The ``{prefix}meta`` row counting this tenant's resets.
        self.reset_name = reset_row_name(self.tenant)
        q = dialect.identifier_preparer.quote
        changes, meta, rows = q(table.name), q(tables.meta.name), q(tables.board_rows.name)
        columns = ", ".join(q(c) for c in (*_COLUMNS, "listed"))
        if name == "postgresql":
            # The changes of transactions a snapshot (xmin, xmax, xip) does not see.
            unseen = (
                f"FROM {changes} WHERE tenant = %(tenant)s AND txid >= %(after)s "
                "AND (txid >= %(xmax)s OR txid = ANY(%(xip)s::bigint[]))"
            )
            # One statement, one snapshot: the snapshot, both markers, how many unseen.
            self.sql_check = (
                "SELECT txid_current_snapshot()::text, "
                f"(SELECT value FROM {meta} WHERE name = %(pruned)s), "
                f"(SELECT value FROM {meta} WHERE name = %(reset)s), "
                f"(SELECT count(*) {unseen})"
            )
            self.sql_changes = f"SELECT subjects {unseen}"
            where = "tenant = %(tenant)s AND board = %(board)s AND period = %(period)s"
            self.sql_all = f"SELECT {columns} FROM {rows} WHERE {where}"
            # The subjects compare in the column's collation, so that an index with the
            # subject (the primary key's) can serve the ANY (in the default collation
            # it is only a filter over the whole board period).
            self.sql_some = f'{self.sql_all} AND subject = ANY(%(subjects)s::text[] COLLATE "C")'
            self.begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        else:
            self.sql_markers = f"SELECT name, value FROM {meta} WHERE name IN (?, ?)"
            self.sql_last = f"SELECT max(seq) FROM {changes}"
            self.sql_changes = f"SELECT subjects FROM {changes} WHERE tenant = ? AND seq >= ?"
            where = "tenant = ? AND board = ? AND period = ?"
            self.sql_all = f"SELECT {columns} FROM {rows} WHERE {where}"
            self.sql_some = f"{self.sql_all} AND subject IN (SELECT value FROM json_each(?))"
            self.begin = "BEGIN"

    def bound(self, tenant: str) -> Self:
        """Return these statements bound to ``tenant`` (a shallow copy)."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.tenant = tenant
        other.reset_name = reset_row_name(tenant)
        return other

    # -- writing (in the writer's transaction) -------------------------------------------

    def log(self, conn: Connection, subjects: Iterable[str] | None, *, prune: bool = True) -> None:
        """Note that the rows of ``subjects`` changed (None: any row may have).

        Without ``prune`` (a host's transaction, which may run at REPEATABLE READ, where
        another transaction's pruning would fail it) the log is left to the next
        writer of the store's own."""
        if not self.enabled:
            return
        t = self.table
        listed = None if subjects is None else encode_value(sorted(set(subjects)))
        if self.dialect == "postgresql":
            query = insert(t).values(tenant=self.tenant, txid=func.txid_current(), subjects=listed)
            seq = int(conn.execute(query.returning(t.c.seq)).scalar_one())
        else:
            key = conn.execute(insert(t).values(tenant=self.tenant, subjects=listed))
            seq = int(key.inserted_primary_key[0])  # type: ignore[index]  # one row inserted
        if prune and seq % PRUNE_EVERY == 0 and seq > KEEP:
            self._prune(conn, seq - KEEP)

    def _prune(self, conn: Connection, upto: int) -> None:
        """Delete the change rows up to ``upto`` (``seq``) and raise the pruned marker past
        them.  On PostgreSQL a transaction prunes only if no other one is pruning (a
        transaction-level advisory lock, tried, never waited for), so no writer waits on
        another's pruning; and only the rows of transactions that every snapshot taken
        from now on sees (below the current snapshot's ``xmin``), so that the marker
        never passes a later snapshot's ``xmin``: while an old transaction stays open
        (anywhere in the cluster) the log grows instead, and copies keep catching up
        by changes rather than loading their boards at every read."""
        t = self.table
        if self.dialect == "postgresql":
            got = conn.execute(select(func.pg_try_advisory_xact_lock(self._lock_key))).scalar()
            if not got:
                return
            seen = func.txid_snapshot_xmin(func.txid_current_snapshot())
            gone = conn.execute(
                delete(t).where(t.c.seq <= upto, t.c.txid < seen).returning(t.c.txid)
            ).scalars()
            top = max((int(x) for x in gone), default=None)
        else:
            top = conn.execute(select(func.max(t.c.seq)).where(t.c.seq <= upto)).scalar()
            conn.execute(delete(t).where(t.c.seq <= upto))
        if top is not None:
            self._raise_pruned(conn, int(top) + 1)

    def _raise_pruned(self, conn: Connection, value: int) -> None:
        meta = self.meta
        upsert = pg_insert(meta) if self.dialect == "postgresql" else sqlite_insert(meta)
        upsert = upsert.values(name=PRUNED, value=str(value))
        conn.execute(
            upsert.on_conflict_do_update(
                index_elements=["name"],
                set_={"value": upsert.excluded.value},
                where=cast(meta.c.value, BigInteger) < cast(upsert.excluded.value, BigInteger),
            )
        )

    def reset(self, conn: Connection) -> None:
        """Tell every copy of this tenant's boards to load them whole (an erasure or the
        tenant's deletion changed rows the log does not name)."""
        if not self.enabled:
            return
        meta = self.meta
        upsert = pg_insert(meta) if self.dialect == "postgresql" else sqlite_insert(meta)
        upsert = upsert.values(name=self.reset_name, value="1")
        conn.execute(
            upsert.on_conflict_do_update(
                index_elements=["name"],
                set_={"value": cast(cast(meta.c.value, BigInteger) + 1, String(255))},
            )
        )

    def scrub(self, conn: Connection, user: str) -> None:
        """Delete this tenant's change rows that name ``user`` (an erasure), then reset."""
        if not self.enabled:
            return
        t = self.table
        conn.execute(
            delete(t).where(
                t.c.tenant == self.tenant,
                t.c.subjects.contains(encode_value(user), autoescape=True),
            )
        )
        self.reset(conn)


class _Snapshot(NamedTuple):
    """What a copy has applied: every change of a transaction this snapshot sees (one
    below ``xmax`` and not in progress, ``xip``, when the snapshot was taken)."""

    xmin: int
    xmax: int
    xip: frozenset[int]

    @classmethod
    def parse(cls, text: str) -> _Snapshot:
        """Return the snapshot of PostgreSQL's ``txid_snapshot`` text (``xmin:xmax:xip,...``)."""
        xmin, xmax, xip = text.split(":")
        return cls(int(xmin), int(xmax), frozenset(int(x) for x in xip.split(",") if x))

    @classmethod
    def after(cls, last: int) -> _Snapshot:
        """Return the snapshot of a SQLite log whose last change applied is ``last``."""
        return cls(last + 1, last + 1, frozenset())


class _Check(NamedTuple):
    """One look at the log: its snapshot, the markers, and how many changes of the tenant
    the copy's snapshot does not see."""

    snapshot: _Snapshot
    pruned: int
    reset: str | None
    unseen: int


class BoardCopy:
    """One board period's copy: its index, the subjects not listed, what it applied."""

    __slots__ = ("hidden", "index", "lock", "reset", "snapshot", "tokens")

    def __init__(self) -> None:
        self.index = BoardIndex()
        self.hidden: set[str] = set()
        self.snapshot: _Snapshot | None = None  # None: to be loaded whole
        self.reset: str | None = None
        # SQLite: per reading connection (serial), the data version at which the copy
        # last caught up; a copy only moves forward, so each stays good until it changes.
        self.tokens: dict[Any, Any] = {}
        self.lock = threading.Lock()

    def forget(self) -> None:
        self.snapshot = None
        self.tokens.clear()

    # -- reads (under the lock) -----------------------------------------------------------

    def size(self) -> int:
        return self.index.size()

    def page(self, start: int, stop: int, dense: bool) -> BoardPage:
        return self.index.page(start, stop, dense)

    def standing(self, subject: str, dense: bool) -> Standing | None:
        index = self.index
        row = index.rows.get(subject)
        if row is None or row.sort_key is None:
            return None
        return index.standing(row, not index.visible(row, self.hidden), dense)

    def around(self, subject: str, before: int, after: int, dense: bool) -> AroundPage | None:
        index = self.index
        row = index.rows.get(subject)
        if row is None or row.sort_key is None:
            return None
        return index.around(row, not index.visible(row, self.hidden), before, after, dense)


class BoardCopies:
    """The copies of one store (one tenant) of the last ``size`` board periods it read."""

    def __init__(self, log: ChangeLog, size: int) -> None:
        self._log = log
        self._size = size
        self._copies: OrderedDict[tuple[str, str], BoardCopy] = OrderedDict()
        self._lock = threading.Lock()

    def read(
        self, driver: Any, board: str, period: str, token: Any, query: Callable[[BoardCopy], T]
    ) -> T:
        """Bring the copy of ``(board, period)`` up to date on the driver connection
        ``driver`` and return ``query(copy)``, both under the copy's lock.

        ``token`` (SQLite: the reading connection's serial number and data version, or
        None) tells that nothing was committed since the copy last caught up at the
        same token on that connection.
        """
        key = (board, period)
        with self._lock:
            copy = self._copies.get(key)
            if copy is None:
                copy = self._copies[key] = BoardCopy()
                while len(self._copies) > self._size:
                    self._copies.popitem(last=False)
            else:
                self._copies.move_to_end(key)
        with copy.lock:
            if token is None or copy.tokens.get(token[0]) != token[1]:
                try:
                    self._catch_up(copy, driver, board, period)
                except BaseException:
                    copy.forget()  # half applied, perhaps: loaded whole next time
                    raise
                if token is not None:
                    if len(copy.tokens) > 64:  # connections of threads long gone
                        copy.tokens.clear()
                    copy.tokens[token[0]] = token[1]
            return query(copy)

    def drop(self) -> None:
        """Forget every copy (the store closes)."""
        with self._lock:
            self._copies.clear()

    # -- catching up ---------------------------------------------------------------------

    def _catch_up(self, copy: BoardCopy, driver: Any, board: str, period: str) -> None:
        log = self._log
        seen = copy.snapshot
        if log.dialect == "postgresql" and seen is not None:
            # The usual case, in one statement outside any transaction: nothing new.
            check = self._check(driver, seen)
            if not check.unseen and not self._stale(copy, check):
                copy.snapshot = check.snapshot
                return
        began = not getattr(driver, "in_transaction", False) if log.dialect == "sqlite" else True
        if began:
            self._run(driver, log.begin)
        try:
            self._apply(copy, driver, board, period)
        except BaseException:
            if began:
                self._run(driver, "ROLLBACK")
            raise
        if began:
            self._run(driver, "COMMIT")

    @staticmethod
    def _stale(copy: BoardCopy, check: _Check) -> bool:
        """Return whether the markers of ``check`` ask ``copy`` to load its board whole."""
        seen = copy.snapshot
        return seen is None or check.reset != copy.reset or check.pruned > seen.xmin

    def _apply(self, copy: BoardCopy, driver: Any, board: str, period: str) -> None:
        """Bring ``copy`` up to date in one snapshot (the caller's transaction)."""
        seen = copy.snapshot
        check = self._check(driver, seen)
        whole = self._stale(copy, check)
        subjects: set[str] = set()
        if not whole and check.unseen:
            assert seen is not None
            for listed in self._changes(driver, seen):
                if listed is None:
                    whole = True
                    break
                subjects.update(decode_value(listed))
        if whole or len(subjects) > len(copy.index.rows) // 2 + _CHUNK:
            self._load(copy, driver, board, period)
        elif subjects:
            self._update(copy, driver, board, period, sorted(subjects))
        copy.snapshot = check.snapshot
        copy.reset = check.reset

    def _check(self, driver: Any, seen: _Snapshot | None) -> _Check:
        """Read the log's snapshot, its markers and how many of this tenant's changes
        ``seen`` does not see (None: the copy is loaded whole, none are counted)."""
        log = self._log
        reset = log.reset_name
        if log.dialect == "postgresql":
            params = self._unseen(seen)
            params.update(pruned=PRUNED, reset=reset)
            ((text, pruned, reset_value, unseen),) = self._run(driver, log.sql_check, params)
            return _Check(_Snapshot.parse(text), int(pruned or 0), reset_value, int(unseen))
        markers = dict(self._run(driver, log.sql_markers, (PRUNED, reset)))
        last = int(self._run(driver, log.sql_last, ())[0][0] or 0)
        return _Check(
            _Snapshot.after(last),
            int(markers.get(PRUNED) or 0),
            markers.get(reset),
            0 if seen is None else max(0, last + 1 - seen.xmin),
        )

    def _changes(self, driver: Any, seen: _Snapshot) -> list[str | None]:
        """Return the subjects (JSON, or None: any) of this tenant's changes ``seen`` does
        not see."""
        log = self._log
        if log.dialect == "postgresql":
            found = self._run(driver, log.sql_changes, self._unseen(seen))
        else:
            found = self._run(driver, log.sql_changes, (log.tenant, seen.xmin))
        return [listed for (listed,) in found]

    def _unseen(self, seen: _Snapshot | None) -> dict[str, Any]:
        """Return the parameters that select the changes ``seen`` does not see (PostgreSQL;
        None: a position no transaction reaches, so none)."""
        if seen is None:
            return {"tenant": self._log.tenant, "after": 2**62, "xmax": 2**62, "xip": []}
        return {
            "tenant": self._log.tenant,
            "after": seen.xmin,
            "xmax": seen.xmax,
            "xip": list(seen.xip),
        }

    def _load(self, copy: BoardCopy, driver: Any, board: str, period: str) -> None:
        """Read the whole board period into a new index (swapped in once read)."""
        log = self._log
        found = self._run(driver, log.sql_all, self._params(board, period))
        rows = board_rows(found)
        # Column 8 is ``listed``: a person's row that is not is hidden (opted out).
        hidden = {
            row.subject for row, got in zip(rows, found, strict=True) if not got[8] and not row.team
        }
        index = BoardIndex()
        index.rows = {row.subject: row for row in rows}
        index.rebuild(hidden)
        copy.index, copy.hidden = index, hidden

    def _update(
        self, copy: BoardCopy, driver: Any, board: str, period: str, subjects: list[str]
    ) -> None:
        """Read the rows of ``subjects`` again and put them into the copy."""
        log = self._log
        index, hidden = copy.index, copy.hidden
        for start in range(0, len(subjects), _CHUNK):
            chunk = subjects[start : start + _CHUNK]
            params = self._params(board, period)
            if log.dialect == "postgresql":
                params = {**params, "subjects": chunk}
            else:
                params = (*params, encode_value(chunk))
            found = {r[2]: r for r in self._run(driver, log.sql_some, params)}
            for subject in chunk:
                index.remove(subject, hidden)
                hidden.discard(subject)
                got = found.get(subject)
                if got is None:
                    continue
                row = board_row(got)
                if not got[8] and not row.team:
                    hidden.add(subject)
                index.put(row, hidden)

    def _params(self, board: str, period: str) -> Any:
        tenant = self._log.tenant
        if self._log.dialect == "postgresql":
            return {"tenant": tenant, "board": board, "period": period}
        return (tenant, board, period)

    def _run(self, driver: Any, sql: str, params: Any = None) -> list[Any]:
        return fetch(driver, sql, params, self._log.dbapi_error)


def fetch(driver: Any, sql: str, params: Any, error: type[Exception]) -> list[Any]:
    """Run ``sql`` on a cursor of the driver connection ``driver``; return its rows (none
    for a statement without any: BEGIN, COMMIT).

    Board reads are a few small statements per query; SQLAlchemy's result machinery
    would cost more than the database does.  Driver errors (``error``, the driver's
    base class) are wrapped as SQLAlchemy wraps them, so the store reports them the
    same way.
    """
    cursor = driver.cursor()
    try:
        if params is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description is not None else []
    except error as exc:
        raise sa_exc.DBAPIError.instance(sql, params, exc, error) from exc
    finally:
        cursor.close()


def board_rows(found: Iterable[Any]) -> list[BoardRow]:
    """Return the BoardRows of fetched rows (their first 8 columns are those of a BoardRow)."""
    new = tuple.__new__  # skips NamedTuple's Python-level __new__ on this hot path
    return [
        new(
            BoardRow,
            (
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                int(r[5]),
                tuple(decode_value(r[6])) if r[6] else (),
                bool(r[7]),
            ),
        )
        for r in found
    ]


def board_row(found: Any) -> BoardRow:
    """Return the BoardRow of a fetched row (its first 8 columns are those of a BoardRow)."""
    members = found[6]
    return BoardRow(
        found[0],
        found[1],
        found[2],
        found[3],
        found[4],
        int(found[5]),
        tuple(decode_value(members)) if members else (),
        bool(found[7]),
    )
