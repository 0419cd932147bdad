"""The SQL store's hot-path statements, one class per dialect.

Each method sends a bounded number of statements whatever the number of rows:
PostgreSQL takes whole columns as arrays (``unnest``), MySQL/MariaDB and SQLite
take ``executemany`` (PyMySQL folds an ``INSERT ... VALUES`` executemany into
multi-row statements of up to ~1 MB; sqlite3 runs it in C, without round trips).

Every statement filters on the store's tenant (bound as a parameter) or writes it:
``tenant`` leads every key, so conflict targets and row locks include it.

Locking (see docs/storage.md):

- **PostgreSQL**: insert the missing state rows (``ON CONFLICT DO NOTHING``, in
  sorted key order), then ``SELECT ... ORDER BY key FOR UPDATE``: every state row
  a batch reads is locked, existing or new, in one global order.
- **MySQL/MariaDB**: ``INSERT ... ON DUPLICATE KEY UPDATE key = key`` in sorted
  order locks new and existing rows exclusively; a ``SELECT ... FOR UPDATE``
  then reads their latest committed values.
- **SQLite**: one writer at a time (``BEGIN IMMEDIATE``); reads need no locks.

Statement text is built once, in ``__init__``, from the quoted names of the
schema's tables and columns (under the checked prefix) and constants; every value
is a bound parameter.  tests/storage/test_sql_injection.py enforces it for the
whole storage package (see docs/input.md).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Self

from sqlalchemy import Index, Table, UniqueConstraint, delete
from sqlalchemy.engine import Connection, Dialect

from .._errors import TransientStorageError
from ._codec import encode_value
from ._sql_adoption import RollupWrites
from ._sql_schema import OPT_OUT_BOUNDS, STATE_KEY_LENGTH, Tables
from ._tenant import DEFAULT_TENANT

__all__ = [
    "ActivityRow",
    "LedgerRow",
    "LogRow",
    "SQLOps",
    "StateRow",
    "ops_for",
    "storage_key",
    "tenant_index",
]

# Rows lead with the tenant (the first column of every table), written in place by
# their makers: the dialects fed by executemany pass them on as they are.
# (tenant, id, kind, actor, at_us, data)
ActivityRow = tuple[str, str, str, str, int, str]
# (tenant, user_id, activity_id, rule, currency, amount, requested, role, limit_name,
#  bonus, at_us, at_offset)
LedgerRow = tuple[str, str, str, str, str, int, int, str, str | None, bool, int, int]
# (tenant, activity_id, outcome)
LogRow = tuple[str, str, str]
# (tenant, state_key, value)
StateRow = tuple[str, str, str]

_HASHED_HEAD = STATE_KEY_LENGTH - 65
# How many times PostgresOps.lock_state inserts and locks again the rows that concurrent
# transactions deleted while it waited for them, before the batch is run again.
_RELOCKS = 3


def storage_key(key: str) -> str:
    """Return the column value for a state key: itself, or a head and a digest if too long.

    Engine keys are opaque and may exceed what a primary key can index; a long key
    is stored as its first characters, ``\\x1e`` (which identifiers cannot hold)
    and its SHA-256, so distinct keys stay distinct.
    """
    if len(key) <= STATE_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{key[:_HASHED_HEAD]}\x1e{digest}"


class SQLOps:
    """Statements for one dialect over one set of tables."""

    #: Whether state rows must be locked explicitly (False: the database has one writer).
    row_locks = True

    #: The tenant bound as a parameter of every statement and written in every row
    #: inserted; set by :meth:`bound`, never part of a statement's text.
    tenant = DEFAULT_TENANT

    def __init__(self, tables: Tables, dialect: Dialect) -> None:
        q = dialect.identifier_preparer.quote
        self.tables = tables
        self.t_activities = q(tables.activities.name)
        self.t_log = q(tables.log.name)
        self.t_ledger = q(tables.ledger.name)
        self.t_state = q(tables.state.name)
        self.q = q
        adoption = tables.adoption
        self.rollups = None if adoption is None else RollupWrites(adoption, dialect)

    def bound(self, tenant: str) -> Self:
        """Return these statements bound to ``tenant`` (a copy: the text is shared)."""
        other = copy.copy(self)
        other.tenant = tenant
        if self.rollups is not None:
            other.rollups = self.rollups.bound(tenant)
        return other

    #: Whether the store's own transactions ask for READ COMMITTED themselves (see
    #: read_committed): set when the store finds its engine's connections at another
    #: level.
    read_committed_per_transaction = False

    def read_committed(self, conn: Connection) -> None:
        """Make the transaction ``conn`` is about to begin run at READ COMMITTED, if the
        engine's connections run at another level (the first statement of a
        transaction of the store's own, for its writes and its reads).

        At READ COMMITTED a locking read sees the latest committed row and a plain
        read locks nothing.  At REPEATABLE READ, PostgreSQL fails a transaction whose
        locked row another one changed since its snapshot (a serialization failure),
        MariaDB 11.6.2+ does too (error 1020, ``innodb_snapshot_isolation``) and
        MySQL's gap locks deadlock concurrent upserts: retries that concurrent
        recordings for one person can use up.  At SERIALIZABLE, InnoDB makes every
        plain read a locking one, and leaderboard reads deadlock with the writers.
        """
        if self.read_committed_per_transaction:
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")

    #: Whether a read in the caller's transaction must be a locking one to see the latest
    #: committed rows (MySQL/MariaDB): InnoDB's plain reads read the transaction's
    #: snapshot at REPEATABLE READ, its default, and the caller's level is the caller's.
    #: The store's own transactions run at READ COMMITTED, where plain reads see the
    #: latest rows.  See _SQLTransaction and SQLBoards.apply.
    locks_to_read_latest = False
    #: The index hint of that locking read of a person's awards (MySQL/MariaDB).
    awards_hint = ""

    #: The statements that begin a read-only transaction whose reads all see one
    #: snapshot of the database (see snapshot); none where a read needs none.
    sql_snapshot: tuple[str, ...] = ()

    def snapshot(self, conn: Connection) -> None:
        """Begin, on ``conn`` (just taken from the pool, nothing run on it), a read-only
        transaction whose reads all see the database as of its first: at REPEATABLE READ,
        whatever the engine's level.  Nothing on SQLite (see
        ``SQLAlchemyStore.iter_activities``)."""
        for statement in self.sql_snapshot:
            conn.exec_driver_sql(statement)

    def begin(self, conn: Connection, *, joined: bool) -> None:
        """Prepare a transaction the store just began (or joined) for writing: a
        transaction of the store's own runs at READ COMMITTED (see read_committed)."""
        if not joined:
            self.read_committed(conn)

    def claim(self, conn: Connection, rows: Sequence[ActivityRow]) -> Sequence[str]:
        """Insert activity rows whose id is new (sorted by id); return ids that may exist."""
        raise NotImplementedError

    def recorded(self, conn: Connection, ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """Return ``(id, data, outcome)`` of the committed activities among ``ids``."""
        raise NotImplementedError

    def lock_state(
        self, conn: Connection, keys: Sequence[str], *, create: bool = True
    ) -> list[tuple[str, str | None]]:
        """Lock the state rows of ``keys`` (sorted stored keys); return ``(key, value)`` rows.

        With ``create`` (a recording batch) missing rows are inserted first, so that
        they are locked too; without it (an erasure) only existing rows are locked.
        """
        raise NotImplementedError

    def insert_log(self, conn: Connection, rows: Sequence[LogRow]) -> None:
        """Append ``(tenant, activity_id, outcome)`` rows to the log, in order."""
        raise NotImplementedError

    def insert_ledger(self, conn: Connection, rows: Sequence[LedgerRow]) -> None:
        """Append ledger rows, in order."""
        raise NotImplementedError

    def upsert_state(self, conn: Connection, rows: Sequence[StateRow]) -> None:
        """Set ``(tenant, key, value)`` state rows, inserting missing ones."""
        raise NotImplementedError

    def delete_tenant(self, conn: Connection) -> None:
        """Delete the tenant's rows from every table but ``meta``, one statement each
        (MySQL/MariaDB: through an index the tenant leads, keeping the tenant's
        bounding rows of opt-outs)."""
        for table in self.tables.all:
            if table is not self.tables.meta:
                conn.execute(delete(table).where(table.c.tenant == self.tenant))

    def _cols(self, *names: str) -> str:
        return ", ".join(self.q(n) for n in names)


_LEDGER_COLS = (
    "user_id",
    "activity_id",
    "rule",
    "currency",
    "amount",
    "requested",
    "role",
    "limit_name",
    "bonus",
    "at_us",
    "at_offset",
)
_ACTIVITY_COLS = ("id", "kind", "actor", "at_us", "data")


class PostgresOps(SQLOps):
    """PostgreSQL through psycopg 3: whole columns as arrays, one statement per step.

    Arrays go in binary format (``%(name)b``): psycopg builds text array literals
    with a regular expression per element, 30 times slower.
    """

    # The first statement of the transaction: it sets the level of the transaction
    # (psycopg has begun it); the snapshot is taken at the first query.
    sql_snapshot = ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",)

    def __init__(self, tables: Tables, dialect: Dialect) -> None:
        super().__init__(tables, dialect)
        a, lg, ld, st = self.t_activities, self.t_log, self.t_ledger, self.t_state
        self.sql_claim = (
            f"INSERT INTO {a} (tenant, {self._cols(*_ACTIVITY_COLS)}) "
            "SELECT %(tenant)s::text, * FROM unnest(%(id)b::text[], %(kind)b::text[], "
            "%(actor)b::text[], %(at)b::bigint[], %(data)b::text[]) "
            "ON CONFLICT (tenant, id) DO NOTHING RETURNING id"
        )
        self.sql_recorded = (
            f"SELECT a.id, a.data, l.outcome FROM {a} a "
            f"JOIN {lg} l ON l.tenant = a.tenant AND l.activity_id = a.id "
            "WHERE a.tenant = %(tenant)s AND a.id = ANY(%(ids)b::text[])"
        )
        self.sql_insert_keys = (
            f"INSERT INTO {st} (tenant, state_key) "
            "SELECT %(tenant)s::text, unnest(%(keys)b::text[]) "
            "ON CONFLICT (tenant, state_key) DO NOTHING"
        )
        self.sql_lock = (
            f"SELECT state_key, value FROM {st} "
            "WHERE tenant = %(tenant)s AND state_key = ANY(%(keys)b::text[]) "
            'ORDER BY state_key COLLATE "C" FOR UPDATE'
        )
        self.sql_log = (
            f"INSERT INTO {lg} (tenant, activity_id, outcome) "
            "SELECT %(tenant)s::text, i, o FROM unnest(%(ids)b::text[], %(outcomes)b::text[]) "
            "WITH ORDINALITY AS t(i, o, n) ORDER BY n"
        )
        self.sql_ledger = (
            f"INSERT INTO {ld} (tenant, {self._cols(*_LEDGER_COLS)}) "
            "SELECT %(tenant)s::text, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11 FROM unnest("
            "%(c1)b::text[], %(c2)b::text[], %(c3)b::text[], %(c4)b::text[], %(c5)b::bigint[], "
            "%(c6)b::bigint[], %(c7)b::text[], %(c8)b::text[], %(c9)b::boolean[], "
            "%(c10)b::bigint[], %(c11)b::integer[]) "
            "WITH ORDINALITY AS t(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, n) ORDER BY n"
        )
        self.sql_state = (
            f"INSERT INTO {st} (tenant, state_key, value) "
            "SELECT %(tenant)s::text, k, v FROM unnest(%(keys)b::text[], %(values)b::text[]) "
            "AS t(k, v) ON CONFLICT (tenant, state_key) DO UPDATE SET value = EXCLUDED.value"
        )

    def claim(self, conn: Connection, rows: Sequence[ActivityRow]) -> Sequence[str]:
        _, ids, kinds, actors, ats, data = (list(col) for col in zip(*rows, strict=True))
        params = {
            "tenant": self.tenant,
            "id": ids,
            "kind": kinds,
            "actor": actors,
            "at": ats,
            "data": data,
        }
        inserted = {row[0] for row in conn.exec_driver_sql(self.sql_claim, params)}
        return [i for i in ids if i not in inserted]

    def recorded(self, conn: Connection, ids: Sequence[str]) -> list[tuple[str, str, str]]:
        params = {"tenant": self.tenant, "ids": list(ids)}
        result = conn.exec_driver_sql(self.sql_recorded, params)
        return [(r[0], r[1], r[2]) for r in result]

    def lock_state(
        self, conn: Connection, keys: Sequence[str], *, create: bool = True
    ) -> list[tuple[str, str | None]]:
        params = {"tenant": self.tenant, "keys": list(keys)}
        if not create:
            return [(r[0], r[1]) for r in conn.exec_driver_sql(self.sql_lock, params)]
        conn.exec_driver_sql(self.sql_insert_keys, params)
        rows = [(r[0], r[1]) for r in conn.exec_driver_sql(self.sql_lock, params)]
        for _ in range(_RELOCKS):
            if len(rows) == len(keys):
                return rows
            # A row the insert found committed, then deleted by a transaction this one
            # waited for (an erasure renames keys, a tenant's deletion removes them):
            # FOR UPDATE skips it and locks nothing, so the batch would go on unlocked
            # and lose a concurrent batch's update.  Insert it again, and lock it.
            found = {key for key, _ in rows}
            params["keys"] = [key for key in params["keys"] if key not in found]
            conn.exec_driver_sql(self.sql_insert_keys, params)
            rows.extend((r[0], r[1]) for r in conn.exec_driver_sql(self.sql_lock, params))
        if len(rows) != len(keys):
            raise TransientStorageError(
                "store: locking state rows failed: rows were deleted while they were locked"
            )
        return rows

    def insert_log(self, conn: Connection, rows: Sequence[LogRow]) -> None:
        _, ids, outcomes = (list(col) for col in zip(*rows, strict=True))
        params = {"tenant": self.tenant, "ids": ids, "outcomes": outcomes}
        conn.exec_driver_sql(self.sql_log, params)

    def insert_ledger(self, conn: Connection, rows: Sequence[LedgerRow]) -> None:
        cols = [list(col) for col in zip(*rows, strict=True)]
        params: dict[str, Any] = {"tenant": self.tenant}
        params.update((f"c{i}", col) for i, col in enumerate(cols[1:], 1))
        conn.exec_driver_sql(self.sql_ledger, params)

    def upsert_state(self, conn: Connection, rows: Sequence[StateRow]) -> None:
        _, keys, values = (list(col) for col in zip(*rows, strict=True))
        params = {"tenant": self.tenant, "keys": keys, "values": values}
        conn.exec_driver_sql(self.sql_state, params)


class _ValuesOps(SQLOps):
    """Dialects fed by ``executemany`` of ``INSERT ... VALUES``."""

    mark = "%s"

    def _values(self, n: int) -> str:
        return "(" + ", ".join([self.mark] * n) + ")"

    def __init__(self, tables: Tables, dialect: Dialect) -> None:
        super().__init__(tables, dialect)
        self.sql_log = (
            f"INSERT INTO {self.t_log} (tenant, {self._cols('activity_id', 'outcome')}) VALUES "
            + (self._values(3))
        )
        self.sql_ledger = (
            f"INSERT INTO {self.t_ledger} (tenant, {self._cols(*_LEDGER_COLS)}) VALUES "
            + self._values(len(_LEDGER_COLS) + 1)
        )

    def insert_log(self, conn: Connection, rows: Sequence[LogRow]) -> None:
        conn.exec_driver_sql(self.sql_log, rows)

    def insert_ledger(self, conn: Connection, rows: Sequence[LedgerRow]) -> None:
        conn.exec_driver_sql(self.sql_ledger, rows)


class MySQLOps(_ValuesOps):
    """MySQL and MariaDB through PyMySQL."""

    # IN lists are split so that no statement nears max_allowed_packet.
    chunk = 5000
    locks_to_read_latest = True
    # SET TRANSACTION sets the level of the next transaction (none is open: COMMIT ends
    # one a pool check began, if any); InnoDB takes the snapshot at once.
    sql_snapshot = (
        "COMMIT",
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
    )

    def __init__(self, tables: Tables, dialect: Dialect) -> None:
        super().__init__(tables, dialect)
        a, lg, st = self.t_activities, self.t_log, self.t_state
        key = self.q("state_key")
        self.sql_claim = (
            f"INSERT INTO {a} (tenant, {self._cols(*_ACTIVITY_COLS)}) VALUES {self._values(6)} "
            "ON DUPLICATE KEY UPDATE id = id"
        )
        # The batch's ids by the activities' primary key, then each one's log row by the
        # log's unique activity_id index, in that order (STRAIGHT_JOIN): for all but the
        # shortest IN lists the optimizer would walk the log's (tenant, seq) index
        # instead, and this locking read would lock (and wait for) every log row of the
        # tenant, other transactions' uncommitted ones too.
        self.sql_recorded = (
            f"SELECT a.id, a.data, l.outcome FROM {a} a FORCE INDEX (PRIMARY) "
            f"STRAIGHT_JOIN {lg} l FORCE INDEX ({self.q(_log_by_activity(tables))}) "
            "ON l.tenant = a.tenant AND l.activity_id = a.id "
            "WHERE a.tenant = %s AND a.id IN ({}) LOCK IN SHARE MODE"
        )
        self.sql_insert_keys = (
            f"INSERT INTO {st} (tenant, {key}) VALUES (%s, %s) "
            f"ON DUPLICATE KEY UPDATE {key} = {key}"
        )
        # FORCE INDEX: on a small table the optimizer may scan it instead, locking
        # (and waiting for) rows of other transactions, which deadlocks.
        self.sql_lock = (
            f"SELECT {key}, value FROM {st} FORCE INDEX (PRIMARY) "
            f"WHERE tenant = %s AND {key} IN ({{}}) FOR UPDATE"
        )
        self.sql_state = (
            f"INSERT INTO {st} (tenant, {key}, value) VALUES (%s, %s, %s) "
            "ON DUPLICATE KEY UPDATE value = VALUES(value)"
        )
        # A tenant's rows are deleted through an index that the tenant leads: InnoDB
        # scans (and locks, waiting for other tenants' uncommitted rows) a whole table
        # when it finds that cheaper, as it may when tenants are of a size.  The multi-
        # table form of DELETE is the one that takes an index hint.
        # The bounding rows of opt-outs (see _sql_boards) are kept, as the lock row is.
        self.sql_delete_tenant = [
            f"DELETE {self.q(t.name)} FROM {self.q(t.name)} "
            f"FORCE INDEX ({tenant_index(t, self.q)}) WHERE tenant = %s"
            + (_NOT_BOUNDS if t is tables.board_opt_outs else "")
            for t in tables.all
            if t is not tables.meta
        ]
        # The awards of one person, newest first, by their index: read with FOR UPDATE in
        # the caller's transaction (see _SQLTransaction._apply_awards), it must not scan
        # the primary key instead (ORDER BY seq), locking other people's awards.
        (awards_by_user,) = tables.awards.indexes
        self.awards_hint = f"FORCE INDEX ({self.q(str(awards_by_user.name))})"

    def delete_tenant(self, conn: Connection) -> None:
        bounds = tuple(value for row in OPT_OUT_BOUNDS for value in row)
        for sql in self.sql_delete_tenant:
            params = (self.tenant, *bounds) if sql.endswith(_NOT_BOUNDS) else (self.tenant,)
            conn.exec_driver_sql(sql, params)

    def _select_in(self, conn: Connection, sql: str, values: Sequence[str]) -> list[Any]:
        """Run ``sql`` (the tenant, then an IN list) over ``values``, a chunk at a time."""
        out: list[Any] = []
        for start in range(0, len(values), self.chunk):
            part = list(values[start : start + self.chunk])
            params = (self.tenant, *part)
            out.extend(conn.exec_driver_sql(sql.format(", ".join(["%s"] * len(part))), params))
        return out

    def claim(self, conn: Connection, rows: Sequence[ActivityRow]) -> Sequence[str]:
        conn.exec_driver_sql(self.sql_claim, rows)
        # Affected-row counts cannot tell an insert from a duplicate here (the
        # driver reports found rows), so every id is a candidate.
        return [row[1] for row in rows]

    def recorded(self, conn: Connection, ids: Sequence[str]) -> list[tuple[str, str, str]]:
        return [(r[0], r[1], r[2]) for r in self._select_in(conn, self.sql_recorded, ids)]

    def lock_state(
        self, conn: Connection, keys: Sequence[str], *, create: bool = True
    ) -> list[tuple[str, str | None]]:
        if create:
            conn.exec_driver_sql(self.sql_insert_keys, [(self.tenant, k) for k in keys])
        return [(r[0], r[1]) for r in self._select_in(conn, self.sql_lock, keys)]

    def upsert_state(self, conn: Connection, rows: Sequence[StateRow]) -> None:
        conn.exec_driver_sql(self.sql_state, rows)


class SQLiteOps(_ValuesOps):
    """SQLite through the standard library's sqlite3: one writer, ``BEGIN IMMEDIATE``."""

    mark = "?"
    row_locks = False

    def __init__(self, tables: Tables, dialect: Dialect) -> None:
        super().__init__(tables, dialect)
        a, lg, st = self.t_activities, self.t_log, self.t_state
        self.sql_claim = (
            f"INSERT INTO {a} (tenant, {self._cols(*_ACTIVITY_COLS)}) VALUES {self._values(6)} "
            "ON CONFLICT (tenant, id) DO NOTHING"
        )
        self.sql_recorded = (
            f"SELECT a.id, a.data, l.outcome FROM {a} a "
            f"JOIN {lg} l ON l.tenant = a.tenant AND l.activity_id = a.id "
            "WHERE a.tenant = ? AND a.id IN (SELECT value FROM json_each(?))"
        )
        self.sql_read = (
            f"SELECT state_key, value FROM {st} "
            "WHERE tenant = ? AND state_key IN (SELECT value FROM json_each(?))"
        )
        self.sql_state = (
            f"INSERT INTO {st} (tenant, state_key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (tenant, state_key) DO UPDATE SET value = excluded.value"
        )

    def begin(self, conn: Connection, *, joined: bool) -> None:
        raw: Any = conn.connection.dbapi_connection
        if raw.in_transaction and not joined:
            # The store's own transaction, already begun by the engine: SQLAlchemy's
            # recipe for pysqlite (driver autocommit, and BEGIN on the engine's "begin"
            # event) sends a deferred BEGIN, in which nothing has run yet.  A deferred
            # transaction takes the write lock at its first write, and fails at once,
            # without waiting, if another writer holds it; end it and begin again.
            conn.exec_driver_sql("COMMIT")
        if not raw.in_transaction:
            # Take the write lock now: a deferred transaction that reads first and
            # writes later fails with SQLITE_BUSY instead of waiting its turn.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    def claim(self, conn: Connection, rows: Sequence[ActivityRow]) -> Sequence[str]:
        result = conn.exec_driver_sql(self.sql_claim, rows)
        if result.rowcount == len(rows):
            return []
        return [row[1] for row in rows]

    def recorded(self, conn: Connection, ids: Sequence[str]) -> list[tuple[str, str, str]]:
        result = conn.exec_driver_sql(self.sql_recorded, (self.tenant, _json_list(ids)))
        return [(r[0], r[1], r[2]) for r in result]

    def lock_state(
        self, conn: Connection, keys: Sequence[str], *, create: bool = True
    ) -> list[tuple[str, str | None]]:
        result = conn.exec_driver_sql(self.sql_read, (self.tenant, _json_list(keys)))
        return [(r[0], r[1]) for r in result]

    def upsert_state(self, conn: Connection, rows: Sequence[StateRow]) -> None:
        conn.exec_driver_sql(self.sql_state, rows)


# The condition that leaves out a tenant's bounding rows of opt-outs (OPT_OUT_BOUNDS).
_NOT_BOUNDS = " AND NOT ((user_id = %s AND board = %s) OR (user_id = %s AND board = %s))"


def tenant_index(table: Table, quote: Callable[[str], str]) -> str:
    """Return the (quoted) name of an index of ``table`` that ``tenant`` leads, for an
    index hint: ``PRIMARY`` when the primary key does, else the shortest such index or
    unique constraint (by name among equals).  Every table but ``meta`` has one."""
    if next(iter(table.primary_key.columns)).name == "tenant":
        return "PRIMARY"
    found = [
        (len(index.columns), str(index.name))
        for index in (*table.indexes, *table.constraints)
        if isinstance(index, Index | UniqueConstraint)
        and index.name is not None
        and next(iter(index.columns)).name == "tenant"
    ]
    if not found:
        raise ValueError(f"{table.name} has no index that tenant leads")
    return quote(min(found)[1])


def _log_by_activity(tables: Tables) -> str:
    """Return the name of the log's unique ``(tenant, activity_id)`` index."""
    (name,) = (
        str(c.name)
        for c in tables.log.constraints
        if isinstance(c, UniqueConstraint)
        and [col.name for col in c.columns] == ["tenant", "activity_id"]
    )
    return name


def _json_list(values: Sequence[str]) -> str:
    return encode_value(list(values))


def ops_for(tables: Tables, dialect: Dialect) -> SQLOps:
    """Return the statements for ``dialect`` (bound to the default tenant: see ``bound``)."""
    if dialect.name == "postgresql":
        return PostgresOps(tables, dialect)
    if dialect.name in ("mysql", "mariadb"):
        return MySQLOps(tables, dialect)
    return SQLiteOps(tables, dialect)
