"""Leaderboards in the SQL store: board rows, per-score counts and opt-outs.

Rows of ``EffectBatch.boards`` replace ``{prefix}board_rows`` rows keyed by
``(board, period, subject)``; the listing index ``(board, period, listed,
sort_key, reached, subject)`` serves pages, in code point order of ``subject`` on
every database (on PostgreSQL the column is ``COLLATE "C"``, schema version 3).
``{prefix}board_counts`` holds the number of *listed* rows per sort key (level 0)
and per band of sort keys (levels 1 and 2), so that a standing never counts rows
one by one:

- ``better`` (listed rows with a strictly better score) is the sum of the level-2
  bands below the key's level-2 band, the level-1 bands from there to the key's
  level-1 band, and the level-0 keys from there to the key: a few hundred
  count rows at most, whatever the board's size;
- ``before`` adds the listed rows with the same key that come first (an indexed
  count over the tie only, made only for ordinal ranks, which need it);
- a page that does not start at the top finds the key at its start position by
  walking the same levels, then reads from that key with an offset within the tie;
- the rows around a subject's row (``around``) are read from the row itself: the
  listing index backwards from its ``(sort_key, reached, subject)`` and forwards,
  in one statement with the count rows of the keys just before it and its own
  counts, so that the first row's counts follow without counting the tie.

Bands are scale-free: a band is the largest value ``m / 2**b * 2**e`` (``b`` = 3
bits of mantissa for level 2, 8 for level 1) not above the key, so there are 8
(level 2) and 256 (level 1) bands per power of two.

Counts change by deltas computed from each row's old and new state: the old row
is read in the batch, under the state-row lock the engine's board key already
took (one subject's row on one board and period is written only by the
transaction holding that lock), and the deltas are upserted in one sorted order
(``n = n + delta``), so concurrent writers of one board keep exact counts and
never wait for each other in a cycle.  The old rows and the opt-outs must be read
as last committed: in a caller's transaction, whose snapshot may predate them
(REPEATABLE READ), those reads lock on MySQL/MariaDB, and PostgreSQL fails the
transaction instead (see :meth:`SQLBoards.apply`).  An opt-out (or a board
exclusion, or an erasure) changes ``listed`` on a person's rows and their counts;
it takes a board lock exclusively, which every recording batch with board rows
takes shared: one per table prefix and tenant (PostgreSQL: an advisory lock;
MySQL/MariaDB: a row of ``{prefix}meta``, see :meth:`SQLBoards._lock`; SQLite has
one writer anyway).

Every table here leads its keys with ``tenant``, and every statement filters on
the tenant the statements are bound to (the first parameter of each raw statement).

**Bounding rows** (MySQL/MariaDB).  At REPEATABLE READ, a host transaction's locking
read of opt-outs (see :meth:`SQLBoards.apply`) locks the gap before the first key
past each person's rows, and when that key is another tenant's (or the table's end)
the gap runs into the other tenant's key range: its opt-outs, exclusions and
erasures, which insert there, waited for the host's commit.  So each tenant has two
rows of ``{prefix}board_opt_outs`` that no person's rows sort outside of,
``OPT_OUT_BOUNDS``: ``("", "")`` below (no id is empty) and the greatest identifier
twice above.  Every key a tenant's locking read finds or locks the gap before then
lies between the two, and another tenant's inserts never do.  They are created with
the tenant's lock row (when a store opens, or by the tenant's first lock), and, for a
tenant whose lock row came before them, by its first batch in a host's transaction;
no read returns them, and a tenant's deletion keeps them, as it keeps the lock row.
"""

from __future__ import annotations

import copy
import hashlib
import math
import operator
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any, Self

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Dialect

from .._erasure import erase_row
from .._errors import StorageError
from .._leaderboards import AroundPage, BoardPage, BoardRow, RollingBucket, Standing, merge_rows
from ._board_index import BoardIndex
from ._codec import decode_value, encode_value
from ._sql_copies import ChangeLog, board_row, board_rows, fetch
from ._sql_schema import LAST_IDENTIFIER, OPT_OUT_BOUNDS, Tables
from ._tenant import DEFAULT_TENANT

__all__ = ["SQLBoards", "bands", "chunks", "lock_row_name"]

_CHUNK = 300  # keys per IN list
_ROW_COLS = ("sort_key", "reached", "subject", "score", "total", "count", "members", "team")
_UPSERT_COLS = ("board", "period", "subject", *_ROW_COLS[:2], *_ROW_COLS[3:], "listed")
# Each statement's parameters start with the tenant (raw statements) or bind it by name.

CountKey = tuple[str, str, int, float]
# Above every sort key (scores are finite): the open end of the last band.
_TOP = sys.float_info.max


def bands(key: float) -> tuple[float, float]:
    """Return the level-1 and level-2 bands of a sort key (the largest band value <= key)."""
    mantissa, exponent = math.frexp(key)
    return (
        math.ldexp(math.floor(mantissa * 512) / 512, exponent),
        math.ldexp(math.floor(mantissa * 16) / 16, exponent),
    )


def _add(deltas: dict[CountKey, int], board: str, period: str, key: float, n: int) -> None:
    fine, coarse = bands(key)
    for level, value in ((0, key), (1, fine), (2, coarse)):
        k = (board, period, level, float(value))
        deltas[k] = deltas.get(k, 0) + n


class SQLBoards:
    """Board statements over one set of tables on one dialect."""

    #: The tenant of every statement (the first parameter of each raw one, or bound by
    #: name); set by :meth:`bound`, never part of a statement's text.
    tenant = DEFAULT_TENANT

    def __init__(self, tables: Tables, dialect: Dialect, prefix: str) -> None:
        self.tables = tables
        self._prefix = prefix
        self._lock_params: dict[str, Any] | None = None
        #: Whether the board lock is a row of ``{prefix}meta`` (MySQL/MariaDB), and each
        #: tenant's opt-outs are bounded by OPT_OUT_BOUNDS.
        self.lock_rows = False
        #: The tenants whose bounding rows were found committed (shared by the bound
        #: copies: see bound_range).
        self._bounded: set[str] = set()
        self.dialect = name = dialect.name
        #: The board change log, which every change of board rows writes to (see _sql_copies).
        self.changes = ChangeLog(tables, dialect, prefix)
        self._dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
        self._quote = q = dialect.identifier_preparer.quote
        rows, counts = q(tables.board_rows.name), q(tables.board_counts.name)
        mark = "?" if name == "sqlite" else "%s"

        def sql(text: str) -> str:
            return text.replace("?", mark)

        cols = ", ".join(q(c) for c in _ROW_COLS)
        # The columns of a row read by the listing index, which holds them all but
        # members (schema version 2): a team's members are read by the row's key, so
        # a page of person rows is read from the index alone.
        key_of = " AND ".join(f"m.{c} = {rows}.{c}" for c in ("tenant", "board", "period"))
        indexed = cols.replace(
            q("members"),
            f"CASE WHEN {rows}.team THEN (SELECT m.members FROM {rows} m WHERE {key_of} "
            f"AND m.subject = {rows}.subject) END AS members",
        )
        where = "tenant = ? AND board = ? AND period = ?"
        listed = f"{where} AND listed = TRUE"
        order = "ORDER BY sort_key, reached, subject"
        self.sql_row = sql(f"SELECT {cols}, listed FROM {rows} WHERE {where} AND subject = ?")
        size = f"SELECT COALESCE(SUM(n), 0) FROM {counts} WHERE {where} AND level = 2"
        # The first page carries the board's size in each row: one round trip.
        # Row limits and offsets are written into the text of a statement (see _limited).
        self.sql_top = sql(f"SELECT {indexed}, ({size}) FROM {rows} WHERE {listed} {order} LIMIT ")
        self.sql_from = sql(
            f"SELECT {indexed} FROM {rows} WHERE {listed} AND sort_key >= ? {order} LIMIT "
        )
        self.sql_size = sql(size)
        self.sql_level_all = sql(
            f"SELECT sort_key, n FROM {counts} WHERE {where} AND level = ? ORDER BY sort_key"
        )
        self.sql_level_from = sql(
            f"SELECT sort_key, n FROM {counts} WHERE {where} AND level = ? AND sort_key >= ? "
            "AND sort_key < ? ORDER BY sort_key"
        )
        # Distinct better keys: the level-0 count rows below the key, counted in the primary
        # key alone (no count row is left at 0: _move deletes it in the same transaction).
        self.sql_distinct = sql(
            f"SELECT COUNT(*) FROM {counts} WHERE {where} AND level = 0 AND sort_key < ?"
        )
        # The first rows alone.
        self.sql_head = sql(f"SELECT {indexed} FROM {rows} WHERE {listed} {order} LIMIT ")
        self._limits: dict[tuple[str, int, int], str] = {}
        # Standings and the rows around one: named parameters, built on first use (see
        # _statement).
        self._named: dict[tuple[bool, bool, int, int, bool], str] = {}
        #: Whether a standing or the rows around one are read by one statement that
        #: finds the row itself (PostgreSQL, where a round trip costs more than the
        #: statement's extra work), else by two: the row, then the rest.
        self.one_statement = name == "postgresql"
        #: Whether the two statements run in one read transaction (SQLite, where a
        #: BEGIN costs no round trip), so the second needs not read the row again.
        self.snapshot = name == "sqlite"
        self._rowvalues = name == "postgresql" or (
            name == "sqlite" and (dialect.server_version_info or (0,)) >= (3, 15)
        )
        # The templates of _statement, per (dense, position, sized, with the rows around):
        # named parameters, and %d where the row limits go.
        self._templates: dict[tuple[bool, bool, bool, bool], str] = {}
        where_n = "tenant = :t AND board = :b AND period = :p"
        listed_n = f"{where_n} AND listed = TRUE"
        part = f"SELECT COALESCE(SUM(n), 0) FROM {counts} WHERE {where_n}"
        better = (
            f"({part} AND level = 2 AND sort_key < :coarse) + "
            f"({part} AND level = 1 AND sort_key >= :coarse AND sort_key < :fine) + "
            f"({part} AND level = 0 AND sort_key >= :fine AND sort_key < :k)"
        )
        near_cols = f"{cols}, listed"
        key = ("sort_key", "reached", "subject")
        at = (":k", ":r", ":s")
        near = f"SELECT {indexed}, listed FROM {rows} WHERE {listed_n} AND "
        down = "ORDER BY sort_key DESC, reached DESC, subject DESC"
        blank = ", ".join(["NULL"] * 8)  # the columns of a row after its sort key
        zeros = "0, 0, 0, 0, 0"
        mine = (
            f"SELECT 0 AS part, {near_cols}, 0 AS n1, 0 AS n2, 0 AS n3, 0 AS n4, 0 AS n5 "
            f"FROM {rows} WHERE {where_n} AND subject = :s "
        )
        around = (
            f"UNION ALL SELECT 1, x.*, {zeros} FROM ({near}"
            f"{self._past('<', key, at)} {down} LIMIT %d) x "
            f"UNION ALL SELECT 2, y.*, {zeros} FROM ({near}"
            f"{self._past('>', key, at)} ORDER BY sort_key, reached, subject "
            "LIMIT %d) y "
            f"UNION ALL SELECT 3, z.sort_key, {blank}, z.n, 0, 0, 0, 0 FROM "
            f"(SELECT sort_key, n FROM {counts} WHERE {where_n} AND level = 0 "
            "AND sort_key <= :k AND n > 0 ORDER BY sort_key DESC LIMIT %d) z "
        )
        # SQLite reads the row first (see _near_in_snapshot), so its statement needs no
        # "mine" part and no listed column: each result row is the part and the eight
        # columns of a row, the counts in the numeric ones (see _Read), 9 values instead
        # of 15 (fetching the values cost SQLite about a quarter of the statement).
        bare = f"SELECT {indexed} FROM {rows} WHERE {listed_n} AND "
        slim_around = (
            f"SELECT 1, x.* FROM ({bare}{self._past('<', key, at)} {down} LIMIT %d) x "
            f"UNION ALL SELECT 2, y.* FROM ({bare}{self._past('>', key, at)} "
            "ORDER BY sort_key, reached, subject LIMIT %d) y "
            "UNION ALL SELECT 3, z.sort_key, NULL, NULL, NULL, NULL, z.n, NULL, NULL FROM "
            f"(SELECT sort_key, n FROM {counts} WHERE {where_n} AND level = 0 "
            "AND sort_key <= :k AND n > 0 ORDER BY sort_key DESC LIMIT %d) z UNION ALL "
        )
        slim: dict[tuple[bool, bool, bool, bool], str] = {}
        for dense in (False, True):
            distinct = (
                f"(SELECT COUNT(*) FROM {counts} WHERE {where_n} AND level = 0 AND sort_key < :k)"
                if dense
                else "0"
            )
            for position in (False, True):
                tie = (
                    f"(SELECT COUNT(*) FROM {rows} WHERE {listed_n} AND sort_key = :k "
                    f"AND {self._past('<', ('reached', 'subject'), (':r', ':s'))})"
                    if position
                    else "0"
                )
                for sized in (False, True):
                    same, size_n = (
                        (f"({part} AND level = 0 AND sort_key = :k)", f"({part} AND level = 2)")
                        if sized
                        else ("0", "0")
                    )
                    tally = (
                        f"UNION ALL SELECT 4, NULL, {blank}, {better}, {distinct}, {tie}, "
                        f"{same}, {size_n}"
                    )
                    counted = (
                        f"SELECT 4, {better}, {distinct}, NULL, {tie}, {same}, {size_n}, NULL, NULL"
                    )
                    slim[dense, position, sized, False] = counted
                    slim[dense, position, sized, True] = slim_around + counted
                    self._templates[dense, position, sized, False] = mine + tally
                    # Rows in listing order (subject by code point: BINARY, a binary
                    # collation, COLLATE "C"); on SQLite, sorted after (merging the sorted
                    # parts cost SQLite more than the rest).
                    order_all = "" if name == "sqlite" else " ORDER BY 1, 2, 3, 4"
                    self._templates[dense, position, sized, True] = (
                        mine + around + tally + order_all
                    )
        if self.one_statement:
            # PostgreSQL: one statement, so one round trip and one snapshot (see _near).
            # The row's key and time come from the row itself, and its bands from the
            # count rows: the greatest level-2 band key at or below the key (a band
            # boundary at or below the key's own band), then the greatest level-1 key
            # from there (a fine band boundary at or below the key's own).  The sums
            # over [coarse, fine) and [fine, key) then still cover each listed row
            # below the key exactly once, whether or not the row's own bands have
            # count rows (they have none when the row is hidden and alone in them).
            head = (
                f"WITH me AS MATERIALIZED (SELECT {near_cols} FROM {rows} WHERE {where_n} "
                "AND subject = :s AND sort_key IS NOT NULL), "
                "c2 AS MATERIALIZED (SELECT COALESCE((SELECT MAX(sort_key) FROM "
                f"{counts} WHERE {where_n} AND level = 2 AND sort_key <= me.sort_key), "
                "me.sort_key) AS coarse, me.sort_key AS k FROM me), "
                "c1 AS MATERIALIZED (SELECT GREATEST(c2.coarse, COALESCE((SELECT "
                f"MAX(sort_key) FROM {counts} WHERE {where_n} AND level = 1 "
                "AND sort_key <= c2.k), c2.coarse)) AS fine, c2.coarse AS coarse FROM c2) "
                "SELECT 0 AS part, me.*, 0 AS n1, 0 AS n2, 0 AS n3, 0 AS n4, 0 AS n5 FROM me "
            )
            derived = {
                "k": "(SELECT sort_key FROM me)",
                "r": "(SELECT reached FROM me)",
                "fine": "(SELECT fine FROM c1)",
                "coarse": "(SELECT coarse FROM c1)",
            }
            for shape, template in list(self._templates.items()):
                if shape[3]:
                    rest = re.sub(
                        r":(k|r|fine|coarse)\b",
                        lambda m: derived[m.group(1)],
                        template[len(mine) :],
                    )
                    self._templates[shape] = head + rest
        elif self.snapshot:
            self._templates = slim
        # In the caller's transaction (see apply): MySQL/MariaDB's placeholder rows, and
        # PostgreSQL's listing marker; empty where unused.
        self.sql_placeholders = ""
        self.sql_lock_shared_level = ""
        self.sql_marker_read = self.sql_marker_create = self.sql_marker_touch = ""
        self._marker_params: dict[str, Any] | None = None
        ucols = ", ".join(q(c) for c in _UPSERT_COLS)
        kept = [c for c in _UPSERT_COLS if c not in ("board", "period", "subject")]
        ucols = f"tenant, {ucols}"
        if name == "postgresql":
            types = (
                "text",
                "text",
                "text",
                "float8",
                "float8",
                "float8",
                "float8",
                "bigint",
                "text",
                "boolean",
                "boolean",
            )
            arrays = ", ".join(f"%(c{i})b::{t}[]" for i, t in enumerate(types))
            sets = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in kept)
            self.sql_upsert_rows = (
                f"INSERT INTO {rows} ({ucols}) SELECT %(tenant)s::text, * FROM unnest({arrays}) "
                f"ON CONFLICT (tenant, board, period, subject) DO UPDATE SET {sets}"
            )
            self.sql_upsert_counts = (
                f"INSERT INTO {counts} (tenant, board, period, level, sort_key, n) "
                "SELECT %(tenant)s::text, b, p, l, k, n FROM unnest(%(c0)b::text[], "
                "%(c1)b::text[], %(c2)b::int[], %(c3)b::float8[], %(c4)b::bigint[]) "
                "WITH ORDINALITY AS t(b, p, l, k, n, o) ORDER BY o "
                "ON CONFLICT (tenant, board, period, level, sort_key) "
                f"DO UPDATE SET n = {counts}.n + EXCLUDED.n"
            )
            self.sql_old = (
                f"SELECT r.board, r.period, r.subject, r.sort_key, r.listed FROM {rows} r "
                "JOIN unnest(%(b)b::text[], %(p)b::text[], %(s)b::text[]) AS k(b, p, s) "
                "ON r.tenant = %(tenant)s AND r.board = k.b AND r.period = k.p "
                "AND r.subject = k.s"
            )
            # One lock per table prefix and tenant, its key a parameter (see bound()).
            self._lock_params = {"lock": _lock_key(prefix, self.tenant)}
            self.sql_lock_shared = "SELECT pg_advisory_xact_lock_shared(%(lock)s)"
            self.sql_lock = "SELECT pg_advisory_xact_lock(%(lock)s)"
            # The tenant's listing marker: a row of meta (named as MySQL's lock row) that
            # every change of the tenant's opt-outs and exclusions rewrites, so that a
            # caller's REPEATABLE READ or SERIALIZABLE transaction that took its snapshot
            # before such a change fails to lock it (see _lock_in_snapshot).
            meta = q(tables.meta.name)
            self._marker_params = {"marker": lock_row_name(self.tenant)}
            self.sql_lock_shared_level = (
                "SELECT pg_advisory_xact_lock_shared(%(lock)s), "
                "current_setting('transaction_isolation')"
            )
            self.sql_marker_read = f"SELECT value FROM {meta} WHERE name = %(marker)s FOR SHARE"
            insert_marker = f"INSERT INTO {meta} (name, value) VALUES (%(marker)s, '') "
            self.sql_marker_create = f"{insert_marker}ON CONFLICT (name) DO NOTHING"
            self.sql_marker_touch = (
                f"{insert_marker}ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
            )
        else:
            values = "(" + ", ".join([mark] * (len(_UPSERT_COLS) + 1)) + ")"
            if name == "sqlite":
                sets = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in kept)
                conflict = "ON CONFLICT (tenant, board, period, subject) DO UPDATE SET "
                count_conflict = (
                    "ON CONFLICT (tenant, board, period, level, sort_key) DO UPDATE SET "
                )
                self.sql_upsert_counts = (
                    f"INSERT INTO {counts} (tenant, board, period, level, sort_key, n) "
                    f"VALUES (?, ?, ?, ?, ?, ?) {count_conflict} n = n + excluded.n"
                )
                self.sql_lock_shared = self.sql_lock = ""
            else:
                sets = ", ".join(f"{q(c)} = VALUES({q(c)})" for c in kept)
                conflict = "ON DUPLICATE KEY UPDATE "
                self.sql_upsert_counts = (
                    f"INSERT INTO {counts} (tenant, board, period, level, sort_key, n) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE n = n + VALUES(n)"
                )
                # One row of meta per tenant (see lock_row_name), its name a parameter
                # (see bound()): an opt-out holds up recording in its own tenant only.
                meta = q(tables.meta.name)
                locked = f"SELECT value FROM {meta} WHERE name = %(lock)s"
                self.lock_rows = True
                self._lock_params = {"lock": lock_row_name(self.tenant)}
                self.sql_lock_shared = f"{locked} LOCK IN SHARE MODE"
                self.sql_lock = f"{locked} FOR UPDATE"
                # A batch's board rows, created if missing (a placeholder, unranked and
                # unlisted, which the batch's upsert replaces) and locked, before their
                # old values are read with FOR UPDATE in the caller's transaction (see
                # apply).  Placeholders only in VALUES: PyMySQL folds such an executemany
                # into multi-row statements (with constants there, one round trip a row).
                self.sql_placeholders = (
                    f"INSERT INTO {rows} (tenant, board, period, subject, reached, total, "
                    f"{q('count')}, team, listed) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON DUPLICATE KEY UPDATE subject = subject"
                )
            self.sql_upsert_rows = f"INSERT INTO {rows} ({ucols}) VALUES {values} {conflict}{sets}"

    def bound(self, tenant: str) -> Self:
        """Return these statements bound to ``tenant`` (a copy: the text is shared)."""
        other = copy.copy(self)
        other.tenant = tenant
        other.changes = self.changes.bound(tenant)
        if self._lock_params is not None:
            # Tenants of one prefix never wait for each other's opt-outs.
            lock = lock_row_name(tenant) if self.lock_rows else _lock_key(self._prefix, tenant)
            other._lock_params = {"lock": lock}
        if self._marker_params is not None:
            other._marker_params = {"marker": lock_row_name(tenant)}
        return other

    def _lock(self, conn: Connection, sql: str) -> bool:
        """Take the board lock ``sql`` names (shared or exclusive), if the database needs one.

        On MySQL/MariaDB the lock is the tenant's row of ``{prefix}meta``, read with
        ``LOCK IN SHARE MODE`` or ``FOR UPDATE``.  A locking read of a missing row
        takes no lock at READ COMMITTED (two exclusive lockers would both go on), so
        when the read finds no row (a tenant's first lock, unless the store created
        it: see :meth:`create_lock_row`) the row is inserted in this same transaction
        and read again.  The insert holds the new row exclusively until the
        transaction ends, so every other locker of the tenant waits for it; two
        transactions that both found no row may deadlock once (InnoDB picks one,
        which a store-owned transaction retries).  Nothing here uses a second
        connection, so a caller's transaction and a one-connection pool work alike.
        Return whether this call inserted the row (and the tenant's bounding rows,
        see create_lock_row).
        """
        if not sql:
            return False
        params = self._lock_params
        if not self.lock_rows or params is None:
            conn.exec_driver_sql(sql, params)
            return False
        if conn.exec_driver_sql(sql, params).first() is not None:
            return False
        self.create_lock_row(conn)
        if conn.exec_driver_sql(sql, params).first() is None:
            name = params["lock"]
            raise StorageError(
                f"store: the board lock row {name!r} of {self.tables.meta.name} "
                "is missing after it was inserted"
            )
        return True

    def create_lock_row(self, conn: Connection) -> None:
        """Insert this tenant's board lock row and its bounding rows of opt-outs on
        MySQL/MariaDB, those missing (see :meth:`_lock` and the module's docstring);
        rows another transaction inserted first are kept.  On the other databases,
        nothing."""
        if self.lock_rows and self._lock_params is not None:
            meta = self.tables.meta
            row = {"name": self._lock_params["lock"], "value": ""}
            conn.execute(insert(meta).prefix_with("IGNORE").values(row))
            self._insert_bounds(conn)

    def _insert_bounds(self, conn: Connection) -> None:
        o = self.tables.board_opt_outs
        rows = [{"tenant": self.tenant, "user_id": u, "board": b} for u, b in OPT_OUT_BOUNDS]
        conn.execute(insert(o).prefix_with("IGNORE"), rows)

    def remember_bounded(self) -> None:
        """Note that this tenant's bounding rows are committed (the store's own
        transaction that created them committed): bound_range looks no more."""
        if self.lock_rows:
            self._bounded.add(self.tenant)

    def bound_range(self, conn: Connection, *, created: bool) -> None:
        """Make sure this tenant's bounding rows of opt-outs exist (MySQL/MariaDB), before
        a locking read of its opt-outs in a caller's transaction.

        A plain read (no lock) looks for them; those missing (a tenant whose lock row
        came before them) are inserted in the caller's transaction (``INSERT IGNORE``:
        rows committed since its snapshot are kept).  Once found, and not inserted
        by this transaction (``created``: the lock row was, with them, by this
        batch), they are remembered as committed and not looked for again.  (Rows
        this look inserted and a later batch of the same caller's transaction found
        are remembered too; should that transaction roll back, the tenant goes
        without them until the store is opened again: its gap locks may then hold
        up other tenants, as before there were bounding rows, nothing worse.)
        """
        tenant = self.tenant
        if not self.lock_rows or tenant in self._bounded:
            return
        o = self.tables.board_opt_outs
        keys = [and_(o.c.user_id == u, o.c.board == b) for u, b in OPT_OUT_BOUNDS]
        query = select(o.c.user_id, o.c.board).where(o.c.tenant == tenant, or_(*keys))
        found = {(user, board) for user, board in conn.execute(query)}
        if len(found) < len(OPT_OUT_BOUNDS):
            self._insert_bounds(conn)
        elif not created:
            self._bounded.add(tenant)

    def is_bound(self, user: str, board: str) -> bool:
        """Return whether ``(user, board)`` is a bounding row, no opt-out (MySQL/MariaDB)."""
        return self.lock_rows and (user, board) in OPT_OUT_BOUNDS

    # -- writing -------------------------------------------------------------------

    def apply(
        self,
        conn: Connection,
        batch: dict[tuple[str, str, str], BoardRow],
        *,
        joined: bool = False,
    ) -> None:
        """Store a batch's board rows and move their counts (one statement per step).

        The counts move from the old rows and the opt-outs, which must be the latest
        committed ones.  In the store's own transactions (READ COMMITTED) plain reads
        see them.  In the caller's transaction (``joined``), at the caller's level:

        - MySQL/MariaDB: a plain read reads the transaction's snapshot at REPEATABLE
          READ, which may predate the commits this batch waited for, so the old rows
          are read with ``FOR UPDATE`` (each created first if missing, as a
          placeholder: a locking read of a missing key would lock the gap before it at
          REPEATABLE READ, and two batches inserting into one gap deadlock) and the
          opt-outs with ``LOCK IN SHARE MODE`` (after making sure the tenant's
          bounding rows exist, which keep its gap locks inside the tenant's key range:
          see bound_range).  Every row read so is one that nobody else changes while
          this batch holds its state rows and the board lock.
        - PostgreSQL: a locking read cannot see rows committed after the snapshot;
          at REPEATABLE READ and SERIALIZABLE it fails instead on a row changed since.
          The old rows are safe so (each changes only with its board state key, which
          the batch locked, or under the exclusive board lock, see below), but an
          opt-out may add a row, which no read sees; see _lock_in_snapshot.
        """
        people = sorted({row.subject for row in batch.values() if not row.team})
        latest = joined and self.lock_rows  # MySQL/MariaDB in the caller's transaction
        if joined and self._marker_params is not None:
            self._lock_in_snapshot(conn, listing=bool(people))
        else:
            created = self._lock(conn, self.sql_lock_shared)
            if latest and people:
                # Before the locking read of opt-outs, whose gap locks they bound.
                self.bound_range(conn, created=created)
        keys = list(batch)
        old: dict[tuple[str, str, str], tuple[float | None, bool]] = {}
        if self.dialect == "postgresql":
            # One join on the primary key (an IN list may be read off the listing index,
            # which covers the columns, before the table has statistics).
            columns = [list(col) for col in zip(*keys, strict=True)]
            found = conn.exec_driver_sql(
                self.sql_old,
                {"tenant": self.tenant, "b": columns[0], "p": columns[1], "s": columns[2]},
            )
            for board, period, subject, sort_key, was in found:
                old[(board, period, subject)] = (sort_key, bool(was))
        else:
            if latest:
                tenant = self.tenant
                # Unranked, unlisted: what a missing row is taken for below.
                rows = [(tenant, b, p, s, 0.0, 0.0, 0, False, False) for b, p, s in sorted(keys)]
                conn.exec_driver_sql(self.sql_placeholders, rows)
            board_rows = self.tables.board_rows
            c = board_rows.c
            groups: dict[tuple[str, str], list[str]] = {}
            for board, period, subject in keys:
                groups.setdefault((board, period), []).append(subject)
            # Equality on the board and period and IN on the subject: the primary key.
            for (board, period), subjects in groups.items():
                for chunk in chunks(subjects):
                    query = select(c.subject, c.sort_key, c.listed).where(
                        c.tenant == self.tenant,
                        c.board == board,
                        c.period == period,
                        c.subject.in_(chunk),
                    )
                    if latest:
                        # By the primary key: on a small table the optimizer may read the
                        # listing index (which covers these columns) instead, locking the
                        # rows of other batches in its range, which deadlocks.
                        query = query.with_hint(board_rows, "FORCE INDEX (PRIMARY)")
                        query = query.with_for_update()
                    for subject, sort_key, was in conn.execute(query):
                        old[(board, period, subject)] = (sort_key, bool(was))
        hidden = self._hidden(conn, people, lock=latest) if people else {}
        deltas: dict[CountKey, int] = {}
        params: list[tuple[Any, ...]] = []
        for key in sorted(keys):
            row = batch[key]
            board, period, subject = key
            listed = row.sort_key is not None and (row.team or not _hides(hidden, subject, board))
            was, listed_before = old.get(key, (None, False))
            if not (listed and listed_before and was == row.sort_key):
                if listed_before and was is not None:
                    _add(deltas, board, period, was, -1)
                if listed and row.sort_key is not None:
                    _add(deltas, board, period, row.sort_key, 1)
            params.append(
                (
                    board,
                    period,
                    subject,
                    None if row.sort_key is None else float(row.sort_key),
                    float(row.reached),
                    None if row.score is None else float(row.score),
                    float(row.total),
                    int(row.count),
                    encode_value(list(row.members)) if row.members else None,
                    row.team,
                    listed,
                )
            )
        self._execute(conn, self.sql_upsert_rows, params)
        self._move(conn, deltas)
        self.changes.log(conn, (subject for _, _, subject in keys), prune=not joined)

    def _execute(self, conn: Connection, sql: str, params: list[tuple[Any, ...]]) -> None:
        if not params:
            return
        tenant = self.tenant
        if self.dialect == "postgresql":
            columns = zip(*params, strict=True)
            named: dict[str, Any] = {f"c{i}": list(col) for i, col in enumerate(columns)}
            named["tenant"] = tenant
            conn.exec_driver_sql(sql, named)
        else:
            conn.exec_driver_sql(sql, [(tenant, *row) for row in params])

    def _move(self, conn: Connection, deltas: dict[CountKey, int]) -> None:
        """Upsert count deltas in sorted order, then drop the count rows that reached 0."""
        changed = sorted((k, n) for k, n in deltas.items() if n)
        if not changed:
            return
        self._execute(conn, self.sql_upsert_counts, [(*k, n) for k, n in changed])
        emptied: dict[tuple[str, str, int], list[float]] = {}
        for (board, period, level, key), n in changed:
            if n < 0:
                emptied.setdefault((board, period, level), []).append(key)
        t = self.tables.board_counts
        c = t.c
        for (board, period, level), keys in emptied.items():
            for chunk in chunks(keys):
                conn.execute(
                    delete(t).where(
                        c.tenant == self.tenant,
                        c.board == board,
                        c.period == period,
                        c.level == level,
                        c.sort_key.in_(chunk),
                        c.n == 0,
                    )
                )

    def _hidden(
        self, conn: Connection, people: Sequence[str], *, lock: bool = False
    ) -> dict[str, set[str]]:
        """Return, per person with any, the boards their rows are hidden on ("": every board).

        With ``lock``, a locking read (shared), which sees the latest committed rows on
        MySQL/MariaDB; only a holder of the exclusive board lock changes them.  At
        REPEATABLE READ it also locks the gaps around the keys it reads, which the
        tenant's bounding rows keep inside its key range (see bound_range), and it
        reads the primary key, forced: a whole-table scan would lock every tenant's rows.
        """
        t = self.tables.board_opt_outs
        out: dict[str, set[str]] = {}
        for chunk in chunks(people):
            query = select(t.c.user_id, t.c.board).where(
                t.c.tenant == self.tenant, t.c.user_id.in_(chunk)
            )
            if lock:
                query = query.with_hint(t, "FORCE INDEX (PRIMARY)").with_for_update(read=True)
            for user, board in conn.execute(query):
                if not self.is_bound(user, board):
                    out.setdefault(user, set()).add(board)
        return out

    def _relist(self, conn: Connection, user: str) -> None:
        """List or unlist ``user``'s rows as their opt-out and exclusions say; move counts."""
        hidden = self._hidden(conn, [user])
        t = self.tables.board_rows
        c = t.c
        mine = (
            c.tenant == self.tenant,
            c.subject == user,
            c.team.is_(False),
            c.sort_key.is_not(None),
        )
        deltas: dict[CountKey, int] = {}
        flips: dict[bool, set[str]] = {True: set(), False: set()}
        for board, period, sort_key, listed in conn.execute(
            select(c.board, c.period, c.sort_key, c.listed).where(*mine)
        ):
            wanted = not _hides(hidden, user, board)
            if bool(listed) != wanted:
                _add(deltas, board, period, sort_key, 1 if wanted else -1)
                flips[wanted].add(board)
        for wanted, boards in flips.items():
            for chunk in chunks(sorted(boards)):
                conn.execute(
                    t.update()
                    .where(*mine, c.listed.is_(not wanted), c.board.in_(chunk))
                    .values(listed=wanted)
                )
        self._move(conn, deltas)
        if flips[True] or flips[False]:
            self.changes.log(conn, [user])

    def lock_exclusively(self, conn: Connection) -> None:
        """Take the board lock exclusively (as an opt-out does), until the transaction ends.

        Recording batches with board rows in this tenant wait for it (they take it
        shared); those of other tenants do not.  The caller changes the listing (a
        tenant's deletion does): on PostgreSQL the tenant's listing marker is rewritten.
        """
        self._lock(conn, self.sql_lock)
        self._touch(conn)

    def _lock_in_snapshot(self, conn: Connection, *, listing: bool) -> None:
        """Take the board lock shared in the caller's transaction (PostgreSQL) and, at
        REPEATABLE READ or SERIALIZABLE when the batch has rows of people, make sure no
        opt-out or exclusion changed since the transaction's snapshot.

        At those levels every read sees the snapshot, locking ones too: an opt-out
        committed after it is not seen, and a new row of the person would be listed.
        Each change of opt-outs or exclusions rewrites the tenant's listing marker
        (see _touch) while it holds the board lock exclusively, so once this batch
        holds it shared, locking the marker (``FOR SHARE``) fails with a serialization
        failure if one committed after the snapshot; the caller runs its transaction
        again.  A marker the snapshot does not hold is inserted (``ON CONFLICT DO
        NOTHING``), which fails the same way if one was committed after the snapshot.
        The level comes with the lock: no round trip at READ COMMITTED.
        """
        lock = self._lock_params
        level = conn.exec_driver_sql(self.sql_lock_shared_level, lock).one()[1]
        if not listing or level in ("read committed", "read uncommitted"):
            return
        marker = self._marker_params
        if conn.exec_driver_sql(self.sql_marker_read, marker).first() is None:
            conn.exec_driver_sql(self.sql_marker_create, marker)

    def _touch(self, conn: Connection) -> None:
        """Rewrite the tenant's listing marker, under the exclusive board lock (PostgreSQL:
        see _lock_in_snapshot); nothing on the other databases."""
        if self.sql_marker_touch:
            conn.exec_driver_sql(self.sql_marker_touch, self._marker_params)

    def set_opt_out(self, conn: Connection, user: str, opted_out: bool) -> None:
        """Record an opt-out (or its end) and list or unlist the person's rows."""
        self._lock(conn, self.sql_lock)
        if self.opted_out(conn, user) == opted_out:
            return
        self._touch(conn)
        o = self.tables.board_opt_outs
        if opted_out:
            conn.execute(o.insert().values(tenant=self.tenant, user_id=user, board=""))
        else:
            mine = (o.c.tenant == self.tenant, o.c.user_id == user, o.c.board == "")
            conn.execute(delete(o).where(*mine))
        self._relist(conn, user)

    def opted_out(self, conn: Connection, user: str) -> bool:
        """Return whether ``user`` opted out."""
        t = self.tables.board_opt_outs
        query = select(t.c.user_id).where(
            t.c.tenant == self.tenant, t.c.user_id == user, t.c.board == ""
        )
        return conn.execute(query).first() is not None

    def set_exclusions(self, conn: Connection, user: str, boards: Iterable[str]) -> None:
        """Record the boards ``user`` is excluded from and list or unlist their rows."""
        self._lock(conn, self.sql_lock)
        new = set(boards)
        old = self.exclusions(conn, user)
        if new == old:
            return
        self._touch(conn)
        o = self.tables.board_opt_outs
        tenant = self.tenant
        for chunk in chunks(sorted(old - new)):
            conn.execute(
                delete(o).where(o.c.tenant == tenant, o.c.user_id == user, o.c.board.in_(chunk))
            )
        # A person of the greatest id cannot be excluded from a board of that id on
        # MySQL/MariaDB: that row is the tenant's upper bounding row.
        added = sorted(b for b in new - old if not self.is_bound(user, b))
        if added:
            rows = [{"tenant": tenant, "user_id": user, "board": board} for board in added]
            conn.execute(insert(o), rows)
        self._relist(conn, user)

    def exclusions(self, conn: Connection, user: str) -> frozenset[str]:
        """Return the boards ``user`` is excluded from."""
        t = self.tables.board_opt_outs
        query = select(t.c.board).where(
            t.c.tenant == self.tenant, t.c.user_id == user, t.c.board != ""
        )
        return frozenset(b for b in conn.execute(query).scalars() if not self.is_bound(user, b))

    def hidden(self, conn: Connection, board: str, user: str) -> bool:
        """Return whether ``user``'s rows on ``board`` are not listed."""
        t = self.tables.board_opt_outs
        query = select(t.c.board).where(
            t.c.tenant == self.tenant, t.c.user_id == user, t.c.board.in_(("", board))
        )
        return any(not self.is_bound(user, b) for b in conn.execute(query).scalars())

    def holds_opt_outs(self, conn: Connection) -> bool:
        """Return whether this tenant has an opt-out or exclusion (a row of
        ``{prefix}board_opt_outs`` but its bounding rows): an index seek."""
        t = self.tables.board_opt_outs
        mine = [t.c.tenant == self.tenant]
        if self.lock_rows:
            mine += [or_(t.c.user_id != user, t.c.board != board) for user, board in OPT_OUT_BOUNDS]
        return conn.execute(select(t.c.user_id).where(*mine).limit(1)).first() is not None

    def erase(self, conn: Connection, user: str, pseudonym: str) -> bool:
        """Give ``user``'s rows to ``pseudonym``, unlisted, and rename them in team members;
        return whether ``user`` had rows of their own.

        The pseudonym's opt-out is :meth:`opt_out_erased`'s, once the caller knows
        whether anything became the pseudonym's.
        """
        self._lock(conn, self.sql_lock)
        self._touch(conn)
        tenant = self.tenant
        o = self.tables.board_opt_outs
        theirs = [o.c.tenant == tenant, o.c.user_id == user]
        if self.is_bound(user, LAST_IDENTIFIER):  # the greatest id: keep the bounding row
            theirs.append(o.c.board != LAST_IDENTIFIER)
        conn.execute(delete(o).where(*theirs))
        t = self.tables.board_rows
        c = t.c
        mine = (c.tenant == tenant, c.subject == user, c.team.is_(False))
        rows = conn.execute(select(c.board, c.period, c.sort_key, c.listed).where(*mine)).all()
        if rows:
            deltas: dict[CountKey, int] = {}
            for board, period, sort_key, listed in rows:
                if listed and sort_key is not None:
                    _add(deltas, board, period, sort_key, -1)
            conn.execute(update(t).where(*mine).values(subject=pseudonym, listed=False))
            self._move(conn, deltas)
        teams = select(c.board, c.period, c.subject, c.members).where(
            c.tenant == tenant,
            c.team.is_(True),
            c.members.contains(encode_value(user), autoescape=True),
        )
        renamed = False
        for board, period, subject, members in conn.execute(teams).all():
            old = BoardRow(None, 0, subject, None, 0, 0, tuple(decode_value(members)), True)
            new = erase_row(old, user, pseudonym)
            if new is not old:
                conn.execute(
                    update(t)
                    .where(
                        c.tenant == tenant,
                        c.board == board,
                        c.period == period,
                        c.subject == subject,
                    )
                    .values(members=encode_value(list(new.members)))
                )
                renamed = True
        if rows or renamed:
            # The rows changed subject: every copy loads them whole, and no change row
            # names the erased person any longer.
            self.changes.scrub(conn, user)
        return bool(rows)

    def opt_out_erased(self, conn: Connection, pseudonym: str) -> None:
        """Opt ``pseudonym`` out, under the board lock :meth:`erase` took: the erased
        person's rows stay unlisted, and no call-out (newcomers) names the pseudonym.
        (Run again after a commit a lost connection hid, the erasure finds it there.)"""
        if not self.opted_out(conn, pseudonym):
            o = self.tables.board_opt_outs
            conn.execute(insert(o).values(tenant=self.tenant, user_id=pseudonym, board=""))

    # -- reading one period ----------------------------------------------------------

    def _fetch(self, driver: Any, sql: str, params: tuple[Any, ...] | dict[str, Any]) -> list[Any]:
        """Run a read on a cursor of the driver connection ``driver``; return its rows."""
        return fetch(driver, sql, params, self._dbapi_error)

    def _limited(self, text: str, limit: int, offset: int = 0) -> str:
        """Return ``text`` (which ends in ``LIMIT``) with the row limit and offset written in.

        Not passed as parameters: PostgreSQL's generic plan of a statement with a
        parameter limit expects a tenth of the table, so it never settles on it and
        plans the statement again at every call (which cost more than running it).
        """
        key = (text, limit, offset)
        found = self._limits.get(key)
        if found is None:
            if len(self._limits) >= 128:
                self._limits.clear()
            tail = f" OFFSET {int(offset)}" if offset else ""
            found = self._limits[key] = f"{text}{int(limit)}{tail}"
        return found

    def size(self, driver: Any, board: str, period: str) -> int:
        """Return the number of listed rows."""
        return int(self._fetch(driver, self.sql_size, (self.tenant, board, period))[0][0] or 0)

    def page(
        self,
        driver: Any,
        board: str,
        period: str,
        start: int,
        stop: int,
        *,
        dense: bool,
        sized: bool = True,
    ) -> BoardPage:
        """Return the listed rows at positions ``start`` to ``stop``."""
        if stop <= start:
            return BoardPage(start, [], self.size(driver, board, period) if sized else 0)
        if not start:
            bp = (self.tenant, board, period)
            if not sized:
                # The leading rows alone: one read of the listing index from its start.
                head = self._limited(self.sql_head, stop)
                # tuple.__new__ skips NamedTuple's Python-level __new__ (a hot path).
                return tuple.__new__(
                    BoardPage, (0, board_rows(self._fetch(driver, head, bp)), 0, 0, 0)
                )
            found = self._fetch(driver, self._limited(self.sql_top, stop), (*bp, *bp))
            if not found:
                return BoardPage(0, [], 0)
            return BoardPage(0, board_rows(found), int(found[0][8]))
        located = self._locate(driver, board, period, start)
        if located is None:
            return self.page(driver, board, period, start, stop, dense=dense)
        key, better, size = located
        if key is None:
            return BoardPage(start, [], size)
        sql = self._limited(self.sql_from, stop - start, start - better)
        rows = self._fetch(driver, sql, (self.tenant, board, period, key))
        distinct = self._distinct(driver, board, period, key) if dense else 0
        return BoardPage(start, board_rows(rows), size, better, distinct)

    def _locate(
        self, driver: Any, board: str, period: str, position: int
    ) -> tuple[float | None, int, int] | None:
        """Return the sort key of the listed row at ``position``, the listed rows before
        its tie and the number of listed rows.

        The key is None past the end; None instead of the triple means the counts moved
        between two statements (a concurrent commit), and the caller falls back.
        """
        bp = (self.tenant, board, period)
        levels = self._fetch(driver, self.sql_level_all, (*bp, 2))
        size = sum(int(n) for _, n in levels)
        if position >= size:
            return None, 0, size
        seen = 0
        found: float | None = None
        end = _TOP
        for level in (2, 1, 0):
            if level < 2:
                # Only the bands (or keys) inside the band found one level up.
                levels = self._fetch(driver, self.sql_level_from, (*bp, level, found, end))
            found = None
            for i, (key, n) in enumerate(levels):
                if seen + n > position:
                    found = key
                    end = levels[i + 1][0] if i + 1 < len(levels) else _TOP
                    break
                seen += int(n)
            if found is None:
                return None
        return found, seen, size

    def _distinct(self, driver: Any, board: str, period: str, key: float) -> int:
        params = (self.tenant, board, period, key)
        return int(self._fetch(driver, self.sql_distinct, params)[0][0] or 0)

    def standing(
        self,
        driver: Any,
        board: str,
        period: str,
        subject: str,
        *,
        dense: bool,
        position: bool = True,
    ) -> Standing | None:
        """Return where ``subject``'s ranked row stands among the listed rows of others."""
        near = self._near(
            driver,
            board,
            period,
            subject,
            before=0,
            after=0,
            dense=dense,
            position=position,
            sized=True,
        )
        if near is None:
            return None
        found, _, _, _, (better, distinct, tie, same, size) = near
        hidden = not found[8]
        return Standing(
            row=board_row(found),
            size=size,
            before=better + tie if position else 0,
            better=better,
            equal=same if hidden else same - 1,
            worse=size - better - same,
            distinct_better=distinct,
            hidden=hidden,
        )

    def around(
        self,
        driver: Any,
        board: str,
        period: str,
        subject: str,
        *,
        before: int,
        after: int,
        dense: bool,
        position: bool,
    ) -> AroundPage | None:
        """Return ``subject``'s ranked row with up to ``before`` and ``after`` listed rows
        next to it (see Store.board_around)."""
        before, after = max(before, 0), max(after, 0)
        near = self._near(
            driver,
            board,
            period,
            subject,
            before=before,
            after=after,
            dense=dense,
            position=position,
        )
        if near is None:
            return None
        found, lead, trail, keys, (better, distinct, tie, _, _) = near
        row = board_row(found)
        key: float = row.sort_key  # type: ignore[assignment]  # a ranked row has a sort key
        hidden = not found[8]
        rows = [*board_rows(lead), row, *board_rows(trail)] if lead or trail else [row]
        head: float = rows[0].sort_key  # type: ignore[assignment]  # listed rows are ranked
        # Keys from the first row's up to (not including) the subject's: all in `keys`,
        # which holds the before + 1 greatest keys up to the subject's.
        passed = [n for k, n in keys.items() if head <= k < key]
        first_better = better - sum(passed)
        first_distinct = distinct - len(passed) if dense else 0
        start: int | None
        if len(lead) < before:
            start = 0  # the page reaches the top of the board
        elif position:
            start = better + tie - len(lead)
        else:
            # The first key's listed rows end inside the page, or the board ends with it:
            # the page holds the last of them.
            shown = sum(1 for r in rows if r.sort_key == head) - (hidden and head == key)
            ends = rows[-1].sort_key != head or len(trail) < after
            start = first_better + keys.get(head, 0) - shown if ends else None
        return AroundPage(rows, len(lead), start, first_better, first_distinct, hidden)

    def _near(
        self,
        driver: Any,
        board: str,
        period: str,
        subject: str,
        *,
        before: int,
        after: int,
        dense: bool,
        position: bool,
        sized: bool = False,
    ) -> tuple[Any, list[Any], list[Any], dict[float, int], tuple[int, ...]] | None:
        """Return what the statement of :meth:`_statement` reads around ``subject``'s row.

        That is the subject's row (its columns, then ``listed``), the rows before it
        and after it (in listing order), the count rows of the ``before + 1``
        greatest keys up to its key, and the counts ``better, distinct_better,
        tie, same, size`` (those not asked for are 0); None if it has no ranked
        row.  With :attr:`one_statement`, one statement reads it all.  Else two:
        the row (whose key gives the others' parameters), then the rest.  With
        :attr:`snapshot` both run in one read transaction; else the second reads
        the row again, and if a concurrent commit moved it in between, both run
        again (twice at most, then the last answer stands).
        """
        sql = self._statement(dense, position, before, after, sized)
        bps: dict[str, Any] = {"t": self.tenant, "b": board, "p": period, "s": subject}
        if self.one_statement:
            read = _Read(self._fetch(driver, sql, bps))
            return None if read.me is None else read.result(read.me)
        if self.snapshot:
            return self._near_in_snapshot(driver, sql, bps)
        for _ in range(2):
            first = self._fetch(driver, self.sql_row, (self.tenant, board, period, subject))
            if not first or first[0][0] is None:
                return None
            found = first[0]
            read = _Read(self._fetch(driver, sql, _keyed(bps, found)))
            me = read.me
            if me is not None and me[:3] == found[:3] and me[8] == found[8]:
                return read.result(found)
        # Commits moved the row between the two statements twice: the rows next to the
        # row as first read may hold its new row too.  Read both in one snapshot.
        return self._near_in_snapshot(driver, sql, bps)

    def _near_in_snapshot(
        self, driver: Any, sql: str, bps: dict[str, Any]
    ) -> tuple[Any, list[Any], list[Any], dict[float, int], tuple[int, ...]] | None:
        """Run :meth:`_near`'s two statements in one read transaction.

        On SQLite, always: a ``BEGIN`` costs no round trip there.  Inside a transaction
        the driver connection already holds (a read inside a write on the same
        connection), they run in that one.  On MySQL/MariaDB, after commits moved the
        row between the two statements twice: the reading connection (a pooled one,
        outside any write) ends the transaction its reads began and starts a read-only
        one at REPEATABLE READ WITH CONSISTENT SNAPSHOT, whose reads all see one state
        (three more round trips, on that rare path only).  One cursor runs them all;
        driver errors are wrapped as :meth:`_fetch` wraps them.
        """
        sqlite = self.dialect == "sqlite"
        began = not driver.in_transaction if sqlite else True
        cursor = driver.cursor()
        statement: str = ""
        try:
            if began:
                for statement in _SNAPSHOT_BEGIN[sqlite]:
                    cursor.execute(statement)
            statement = self.sql_row
            cursor.execute(statement, (bps["t"], bps["b"], bps["p"], bps["s"]))
            first = cursor.fetchall()
            if not first or first[0][0] is None:
                return None
            found = first[0]
            statement = sql
            cursor.execute(statement, _keyed(bps, found))
            read = _Read(cursor.fetchall(), slim=sqlite)
        except self._dbapi_error as exc:
            raise sa_exc.DBAPIError.instance(statement, bps, exc, self._dbapi_error) from exc
        finally:
            try:
                if began:
                    cursor.execute("COMMIT")
            finally:
                cursor.close()
        if sqlite:
            # Unordered (see _statement): SQLite's order of numbers and of text (BINARY,
            # UTF-8 bytes) is Python's.
            read.lead.sort(key=_LISTING)
            read.trail.sort(key=_LISTING)
        return read.result(found)

    def _statement(
        self, dense: bool, position: bool, before: int, after: int, sized: bool = False
    ) -> str:
        """Return the statement that reads around one row and counts what is asked for.

        Its parts: the row itself (not on SQLite, which reads it first in the same
        read transaction; on PostgreSQL found by the subject in a ``WITH`` part, which
        also gives the key's bands); up to ``before`` listed rows before it (the listing
        index read backwards from the row's key) and ``after`` after it; the count
        rows of the ``before + 1`` greatest keys up to its key; and one row of
        counts: ``better`` (count rows of the bands and keys below the row's),
        ``distinct`` (dense), ``tie`` (ordinal: the listed rows of its key before
        it), ``same`` and ``size`` (sized).  On PostgreSQL a standing has the same
        shape, rows left out by limits of 0, on purpose: PostgreSQL settles on the
        generic plan of this shape after a few calls (index reads, no planning per
        call), while it kept re-planning a statement of the row and counts alone,
        which cost more than running it.  Row limits are written into the text,
        not passed as parameters: with a parameter the generic plan would expect a
        tenth of the table.
        """
        name = (dense, position, before, after, sized)
        found = self._named.get(name)
        if found is not None:
            return found
        if len(self._named) >= 64:
            self._named.clear()
        with_rows = self.dialect == "postgresql" or bool(before or after)
        template = self._templates[dense, position, sized, with_rows]
        # The row limits are the only thing filled in after __init__: numbers, by %d.
        text = template % (before, after, before + 1) if with_rows else template
        return self._named.setdefault(name, self._params(text))

    def _params(self, text: str) -> str:
        """Return ``text`` with its ``:name`` parameters in the driver's style."""
        if self.dialect == "sqlite":
            return text
        return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", text)

    def _past(self, op: str, columns: tuple[str, ...], marks: tuple[str, ...]) -> str:
        """Return the condition that ``columns`` come before (``<``) or after (``>``) ``marks``.

        A row-value comparison where the database reads it as a range of the listing
        index (PostgreSQL, SQLite 3.15+); else the same condition expanded, which
        MySQL/MariaDB read as ranges of the index.
        """
        if self._rowvalues:
            return f"({', '.join(columns)}) {op} ({', '.join(marks)})"
        terms = []
        for i, column in enumerate(columns):
            equal = [f"{c} = {m}" for c, m in zip(columns[:i], marks[:i], strict=True)]
            terms.append("(" + " AND ".join([*equal, f"{column} {op} {marks[i]}"]) + ")")
        return "(" + " OR ".join(terms) + ")"

    # -- rolling windows ---------------------------------------------------------------

    def rolling(self, conn: Connection, board: str, bucket: RollingBucket) -> BoardIndex:
        """Return an index of the rolling window: each subject's day rows merged.

        A subject's day rows are merged in the order of ``bucket.days`` (newest day
        first), as the memory store merges them, whatever order the database returns
        them in: float totals added in another order may differ in the last bits.
        """
        t = self.tables.board_rows
        c = t.c
        query = select(*(c[name] for name in _ROW_COLS), c.period).where(
            c.tenant == self.tenant, c.board == board, c.period.in_(bucket.days)
        )
        position = {day: i for i, day in enumerate(bucket.days)}
        by_subject: dict[str, list[tuple[int, BoardRow]]] = {}
        for found in conn.execute(query):
            row = board_row(found)
            by_subject.setdefault(row.subject, []).append((position[found[8]], row))
        index = BoardIndex()
        formula = bucket.formula
        index.rows = {
            s: merge_rows(s, [row for _, row in sorted(rows, key=operator.itemgetter(0))], formula)
            for s, rows in by_subject.items()
        }
        people = sorted(s for s, row in index.rows.items() if not row.team)
        hidden = self._hidden(conn, people) if people else {}
        index.rebuild({user for user in hidden if _hides(hidden, user, board)})
        return index


def _keyed(bps: dict[str, Any], found: Any) -> dict[str, Any]:
    """Return the parameters of the second statement of a standing: ``bps`` (tenant,
    board, period, subject) and the subject's row ``found``: its key, time, bands."""
    fine, coarse = bands(found[0])
    return {**bps, "k": found[0], "r": found[1], "fine": fine, "coarse": coarse}


class _Read:
    """The result rows of a :meth:`SQLBoards._statement`, split by part.

    Each result row holds its part (0: the subject's row, 1 and 2: the rows before
    and after it, 3: a count row, 4: the counts), then a row's columns.  Wide
    (PostgreSQL, MySQL): the row's 8 columns, ``listed``, then 5 numbers, which a
    count row and the counts use.  ``slim`` (SQLite, no part 0): the row's 8
    columns alone; a count row has its key first and its count in the ``count``
    column, the counts sit in the numeric columns (``sort_key``, ``reached``,
    ``score``, ``total``, ``count``).
    """

    __slots__ = ("counts", "keys", "lead", "me", "trail")

    def __init__(self, found: Iterable[Any], slim: bool = False) -> None:
        self.me: Any = None
        self.lead: list[Any] = []
        self.trail: list[Any] = []
        self.keys: dict[float, int] = {}
        self.counts: tuple[int, ...] = (0, 0, 0, 0, 0)
        n, counted = (6, _SLIM_COUNTS) if slim else (10, _WIDE_COUNTS)
        for got in found:
            part = got[0]
            if part == 1:
                self.lead.append(got[1:])
            elif part == 2:
                self.trail.append(got[1:])
            elif part == 3:
                self.keys[got[1]] = int(got[n])
            elif part == 0:
                self.me = got[1:]
            else:
                self.counts = tuple(int(v) for v in counted(got))

    def result(
        self, row: Any
    ) -> tuple[Any, list[Any], list[Any], dict[float, int], tuple[int, ...]]:
        return row, self.lead, self.trail, self.keys, self.counts


def lock_row_name(tenant: str) -> str:
    """Return the name of the ``{prefix}meta`` row that is ``tenant``'s board lock (MySQL).

    A digest of the tenant, so that it fits the 64 characters of ``name`` (51 here)
    for any tenant; the table's prefix is already in the table's name.
    """
    return "board_lock:" + hashlib.sha256(tenant.encode()).hexdigest()[:40]


def _lock_key(prefix: str, tenant: str) -> int:
    """Return the PostgreSQL advisory lock key of the boards of one prefix and tenant."""
    name = f"e2badges-boards:{prefix}:{tenant}"
    return abs(int(hashlib.sha256(name.encode()).hexdigest()[:15], 16))


def _hides(hidden: dict[str, set[str]], user: str, board: str) -> bool:
    """Return whether ``hidden`` (see ``SQLBoards._hidden``) hides ``user`` on ``board``."""
    boards = hidden.get(user)
    return boards is not None and ("" in boards or board in boards)


#: What begins :meth:`SQLBoards._near_in_snapshot`'s read transaction, by whether on SQLite.
_SNAPSHOT_BEGIN = {
    True: ("BEGIN",),
    False: (
        "COMMIT",
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
    ),
}
#: The listing order of a fetched row: its sort key, time reached, subject.
_LISTING = operator.itemgetter(0, 1, 2)
#: The counts (better, distinct, tie, same, size) in a result row of _Read's layouts.
_WIDE_COUNTS = operator.itemgetter(10, 11, 12, 13, 14)
_SLIM_COUNTS = operator.itemgetter(1, 2, 4, 5, 6)


def chunks(values: Iterable[Any]) -> list[list[Any]]:
    """Return ``values`` in lists of at most 300 (one IN list each)."""
    items = list(values)
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
