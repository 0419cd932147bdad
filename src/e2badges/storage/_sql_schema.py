"""The SQL store's tables, as SQLAlchemy Core metadata with a configurable prefix.

Schema version 5 (``{prefix}`` is the table prefix, ``e2b_`` by default):

``{prefix}meta``
    ``name`` -> ``value``; the row ``schema_version`` holds the schema version; a row
    ``board_lock:<digest of a tenant>`` per tenant is that tenant's board lock on
    MySQL/MariaDB, its listing marker on PostgreSQL (see
    :mod:`e2badges.storage._sql_boards`); the rows ``board_changes_pruned`` and
    ``board_reset:<digest of a tenant>`` serve the board change log (version 5).
``{prefix}activities``
    one row per recorded activity id: ``id`` (primary key, the idempotency key),
    ``kind``, ``actor``, ``at_us`` (UTC microseconds since the epoch) and ``data``
    (the whole activity as JSON, see :mod:`e2badges.storage._codec`).  A row is
    inserted when a transaction claims the id.
``{prefix}log``
    the recording order: ``seq`` (increasing in recording order), ``activity_id``
    (unique) and ``outcome`` (JSON).  A row is inserted when the batch is applied,
    while the transaction holds its state locks, so ``seq`` orders conflicting
    transactions as they were evaluated.
``{prefix}ledger``
    one row per ledger line: ``seq``, ``user_id``, ``activity_id``, ``rule``,
    ``currency``, ``amount``, ``requested``, ``role``, ``limit_name``, ``bonus``,
    ``at_us``, ``at_offset`` (the line's UTC offset in seconds); index
    ``(user_id, seq)``.
``{prefix}awards``
    one row per award, in award order: ``seq``, ``user_id``, ``badge``, ``tier``,
    ``period``, ``team`` (the award's slot), ``award`` (JSON), ``revocation``
    (JSON, NULL while the award is held) and ``at_us`` (the award's time, UTC
    microseconds; version 4); index ``(user_id, seq, at_us)``, which finds a
    person's awards and gives everyone's earliest award time from the index alone.
``{prefix}outbox``
    notifications waiting for delivery to plugins, in outbox order: ``seq``,
    ``id`` (unique), ``hook``, ``payload`` and ``targets`` (JSON), the delivery
    record (``delivered``, ``failures``, ``errors`` as JSON), ``done``, and
    ``due_us`` (UTC microseconds: the end of a lease or the next retry; NULL when
    due at once); index ``(done, seq)``.
``{prefix}activity_days``, ``_weeks``, ``_months``, ``_firsts``, ``{prefix}stories``
    the activity rollups (per day, week and month), first days and stories: see
    :mod:`e2badges.storage._sql_adoption`.
``{prefix}state``
    the engine's opaque state: ``state_key`` (primary key) -> ``value`` (JSON, or
    NULL for a row that only exists to be locked).
``{prefix}board_rows``
    one row per board, period and subject (primary key ``(board, period,
    subject)``): the :class:`~e2badges.BoardRow` fields ``sort_key``,
    ``reached``, ``score``, ``total``, ``count``, ``members`` (JSON, NULL when
    empty) and ``team``, and ``listed`` (ranked and not hidden by an opt-out).
    Index ``(board, period, listed, sort_key, reached, subject, score, total,
    count, team)`` is the listing order; it holds every column of a page but
    ``members`` (version 2; version 1's ended at ``subject``), so a page of
    person rows is read from the index alone.  Index ``(subject)`` finds a
    person's rows when they opt out.
``{prefix}board_counts``
    the number ``n`` of listed rows per ``(board, period, level, sort_key)``:
    level 0 per exact sort key, levels 1 and 2 per band of sort keys (256 and 8
    bands per power of two, see :mod:`e2badges.storage._sql_boards`), so that a
    standing sums a few hundred rows whatever the board's size.
``{prefix}board_opt_outs``
    one row per person and board whose rows are not listed (primary key
    ``(user_id, board)``): ``board`` is ``""`` for a person who opted out of
    every leaderboard, else a board the person is excluded from.  On MySQL/MariaDB
    each tenant also has two bounding rows (:data:`OPT_OUT_BOUNDS`), which are no
    opt-out and no exclusion: see :mod:`e2badges.storage._sql_boards`.
``{prefix}board_changes``
    the board change log (version 5, see :mod:`e2badges.storage._sql_copies`): one
    row per transaction that changed board rows, on SQLite and PostgreSQL: ``seq``
    (``AUTOINCREMENT`` on SQLite, so never reused), ``txid`` (PostgreSQL: the writing
    transaction's ``txid_current()``; NULL elsewhere) and ``subjects`` (JSON: the
    subjects whose rows changed).  Indexes ``(seq)`` and ``(txid)`` after the tenant.
    Process-local copies of boards (``board_copies``) read it to catch up.
``{prefix}people``
    one row per person with a record (see :mod:`e2badges.storage._sql_people`):
    ``user_id`` (primary key), ``display_name`` (NULL when unknown) and
    ``data`` (JSON: groups, memberships, feed and display settings).

On SQLite, ``board_rows``, ``board_counts`` and the activity rollup tables are
``WITHOUT ROWID`` (version 2): their rows are small and always found by their
primary key or an index, so one B-tree clustered on the key serves them.

Tenants: every table but ``{prefix}meta`` starts with ``tenant`` (String(64), NOT
NULL), the leading column of its primary key, unique constraints and indexes (left
out above), so conflict targets, row locks and index ranges are per tenant.  The
surrogate ``seq`` keys alone are global (SQLite autoincrements one-column integer
keys only); every statement reads them together with the tenant.

On MySQL/MariaDB every table is utf8mb4 with a binary NO PAD collation, so
identifiers compare exactly (``"a"``, ``"A"`` and ``"a "`` are three ids).

Order is code point order on every database.  The columns whose order the store
relies on (see :func:`ordered`) are ``COLLATE "C"`` on PostgreSQL (version 3):
``board_rows.subject`` (ties of the listing order), ``state.state_key`` (state rows
are locked in key order) and every column of the activity rollups but ``tenant``;
their indexes are then in that order too.  Other text columns are compared for
equality only, which no deterministic collation changes (``tenant``'s distinct
values are found by ``>`` and ``MIN`` alike, then sorted in Python).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection, Dialect

from .._errors import ConfigurationError, SchemaVersionError, StorageError
from .._models import MAX_IDENTIFIER_LENGTH, MAX_KIND_LENGTH
from ._sql_adoption import CLUSTERED, AdoptionTables, adoption_tables
from ._tenant import MAX_TENANT_LENGTH

__all__ = [
    "LAST_IDENTIFIER",
    "OPT_OUT_BOUNDS",
    "SCHEMA_VERSION",
    "STATE_KEY_LENGTH",
    "Tables",
    "build_tables",
    "check_prefix",
    "create_schema",
    "mysql_table_options",
    "ordered",
    "read_version",
    "schema_lock",
]

#: The schema version this e2badges reads and writes.
SCHEMA_VERSION = 5
#: The columns after ``subject`` in the listing index of board rows since version 2:
#: every column a page returns except ``members`` (a team's, read by its key).
LISTING_EXTRA = ("score", "total", "count", "team")

#: The greatest identifier: no identifier sorts after it (in code point order, which
#: MySQL/MariaDB's binary collations follow).
LAST_IDENTIFIER = "\U0010ffff" * MAX_IDENTIFIER_LENGTH
#: MySQL/MariaDB: the ``(user_id, board)`` of the two rows of ``{prefix}board_opt_outs``
#: that bound each tenant's key range, below and above every person's rows (no
#: identifier is empty, none sorts after LAST_IDENTIFIER), so that the gap locks of a
#: tenant's locking reads stay inside its range (see _sql_boards).  They are no opt-out
#: and no exclusion: every read leaves them out, a tenant's deletion keeps them.
OPT_OUT_BOUNDS = (("", ""), (LAST_IDENTIFIER, LAST_IDENTIFIER))

#: Notification ids (``award:0:<activity id>``) are at most this many characters.
NOTIFICATION_ID_LENGTH = MAX_IDENTIFIER_LENGTH + 64

#: Stored state keys are at most this many characters (longer keys are hashed).
STATE_KEY_LENGTH = 255

#: MySQL/MariaDB: how long (seconds) a process waits for the schema lock of a prefix
#: that another process holds while it creates or migrates the tables.
SCHEMA_LOCK_WAIT = 60

# Table names are built from the prefix (and quoted): fullmatch, so that no trailing
# newline or anything else but [a-z0-9_] can reach a statement's text.
_PREFIX = re.compile(r"(?:[a-z][a-z0-9_]{0,23})?")


def ordered(length: int) -> String:
    """Return the type of a text column whose order the store relies on.

    Such a column is compared by code point on every database: on PostgreSQL it
    is ``COLLATE "C"`` (for UTF-8, byte order is code point order; schema version
    3), whatever the database's default collation, so that its indexes serve the
    store's ``ORDER BY`` and ranges in that order.  SQLite compares text with
    BINARY and MySQL/MariaDB tables have a binary collation (see
    :func:`mysql_table_options`) anyway.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


# Identifiers are compared exactly; long JSON documents fit MEDIUMTEXT (16 MiB) on MySQL.
IDENT = String(MAX_IDENTIFIER_LENGTH)
ORDERED_IDENT = ordered(MAX_IDENTIFIER_LENGTH)
JSON_TEXT = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
SEQ = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only
TENANT = String(MAX_TENANT_LENGTH)


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is a valid table prefix, else raise ConfigurationError."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ConfigurationError(
            "table_prefix",
            f"{prefix!r} is not a table prefix: use lower-case letters, digits and '_', "
            "starting with a letter, at most 24 characters (or '' for none)",
            subject="SQLAlchemyStore",
        )
    return prefix


def mysql_table_options(dialect: Dialect | None) -> dict[str, Any]:
    """Return the table options that make MySQL/MariaDB compare strings exactly."""
    collation = "utf8mb4_nopad_bin"
    if dialect is not None and not getattr(dialect, "is_mariadb", False):
        version = getattr(dialect, "server_version_info", None) or (8, 0)
        collation = "utf8mb4_0900_bin" if version >= (8, 0) else "utf8mb4_bin"
    return {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": collation}


@dataclass(frozen=True, slots=True)
class Tables:
    """The store's tables for one prefix."""

    metadata: MetaData
    meta: Table
    activities: Table
    log: Table
    ledger: Table
    state: Table
    awards: Table
    outbox: Table
    board_rows: Table
    board_counts: Table
    board_opt_outs: Table
    adoption: AdoptionTables | None = None  # stories and the activity rollup (_sql_adoption)
    people: Table | None = None  # person records (_sql_people)
    board_changes: Table | None = None  # the board change log (_sql_copies)

    @property
    def all(self) -> tuple[Table, ...]:
        """Return every table, in creation order."""
        return (
            self.meta,
            self.activities,
            self.log,
            self.ledger,
            self.state,
            self.awards,
            self.outbox,
            self.board_rows,
            self.board_counts,
            self.board_opt_outs,
            *(
                (
                    self.adoption.days,
                    self.adoption.weeks,
                    self.adoption.months,
                    self.adoption.firsts,
                    self.adoption.stories,
                )
                if self.adoption
                else ()
            ),
            *((self.people,) if self.people is not None else ()),
            *((self.board_changes,) if self.board_changes is not None else ()),
        )


def build_tables(prefix: str = "e2b_", dialect: Dialect | None = None) -> Tables:
    """Return fresh metadata holding the schema's tables under ``prefix``.

    ``dialect`` (a connected one) picks the MySQL/MariaDB collation; other
    dialects ignore it.
    """
    p = check_prefix(prefix)
    options = mysql_table_options(dialect)
    metadata = MetaData()
    meta = Table(
        f"{p}meta",
        metadata,
        Column("name", String(64), primary_key=True),
        Column("value", String(255), nullable=False),
        **options,
    )
    activities = Table(
        f"{p}activities",
        metadata,
        Column("tenant", TENANT, primary_key=True),
        Column("id", IDENT, primary_key=True),
        Column("kind", String(MAX_KIND_LENGTH), nullable=False),
        Column("actor", IDENT, nullable=False),
        Column("at_us", BigInteger, nullable=False),
        Column("data", JSON_TEXT, nullable=False),
        **options,
    )
    log = Table(
        f"{p}log",
        metadata,
        Column("tenant", TENANT, nullable=False),
        Column("seq", SEQ, primary_key=True, autoincrement=True),
        Column("activity_id", IDENT, nullable=False),
        Column("outcome", JSON_TEXT, nullable=False),
        UniqueConstraint("tenant", "activity_id", name=f"uq_{p}log_activity"),
        Index(f"ix_{p}log_seq", "tenant", "seq"),
        **options,
    )
    ledger = Table(
        f"{p}ledger",
        metadata,
        Column("tenant", TENANT, nullable=False),
        Column("seq", SEQ, primary_key=True, autoincrement=True),
        Column("user_id", IDENT, nullable=False),
        Column("activity_id", IDENT, nullable=False),
        Column("rule", IDENT, nullable=False),
        Column("currency", IDENT, nullable=False),
        Column("amount", BigInteger, nullable=False),
        Column("requested", BigInteger, nullable=False),
        Column("role", String(16), nullable=False),
        Column("limit_name", String(MAX_IDENTIFIER_LENGTH + 16), nullable=True),
        Column("bonus", Boolean, nullable=False),
        Column("at_us", BigInteger, nullable=False),
        Column("at_offset", Integer, nullable=False),
        Index(f"ix_{p}ledger_user", "tenant", "user_id", "seq"),
        **options,
    )
    state = Table(
        f"{p}state",
        metadata,
        Column("tenant", TENANT, primary_key=True),
        Column("state_key", ordered(STATE_KEY_LENGTH), primary_key=True),
        Column("value", JSON_TEXT, nullable=True),
        **options,
    )
    awards = Table(
        f"{p}awards",
        metadata,
        Column("tenant", TENANT, nullable=False),
        Column("seq", SEQ, primary_key=True, autoincrement=True),
        Column("user_id", IDENT, nullable=False),
        Column("badge", IDENT, nullable=False),
        Column("tier", IDENT, nullable=True),
        Column("period", String(32), nullable=True),
        Column("team", IDENT, nullable=True),
        Column("award", JSON_TEXT, nullable=False),
        Column("revocation", JSON_TEXT, nullable=True),
        Column("at_us", BigInteger, nullable=False),  # version 4: the earliest award, indexed
        Index(f"ix_{p}awards_user", "tenant", "user_id", "seq", "at_us"),
        **options,
    )
    outbox = Table(
        f"{p}outbox",
        metadata,
        Column("tenant", TENANT, nullable=False),
        Column("seq", SEQ, primary_key=True, autoincrement=True),
        Column("id", String(NOTIFICATION_ID_LENGTH), nullable=False),
        Column("hook", String(100), nullable=False),
        Column("payload", JSON_TEXT, nullable=False),
        Column("targets", JSON_TEXT, nullable=False),
        Column("delivered", JSON_TEXT, nullable=False),
        Column("failures", JSON_TEXT, nullable=False),
        Column("errors", JSON_TEXT, nullable=False),
        Column("done", Boolean, nullable=False),
        Column("due_us", BigInteger, nullable=True),
        UniqueConstraint("tenant", "id", name=f"uq_{p}outbox_id"),
        Index(f"ix_{p}outbox_due", "tenant", "done", "seq"),
        **options,
    )
    board_rows = Table(
        f"{p}board_rows",
        metadata,
        Column("tenant", TENANT, primary_key=True),
        Column("board", IDENT, primary_key=True),
        Column("period", String(32), primary_key=True),
        Column("subject", ORDERED_IDENT, primary_key=True),
        Column("sort_key", Double, nullable=True),
        Column("reached", Double, nullable=False),
        Column("score", Double, nullable=True),
        Column("total", Double, nullable=False),
        Column("count", BigInteger, nullable=False),
        Column("members", JSON_TEXT, nullable=True),
        Column("team", Boolean, nullable=False),
        Column("listed", Boolean, nullable=False),
        Index(
            f"ix_{p}board_rows_listing",
            "tenant",
            "board",
            "period",
            "listed",
            "sort_key",
            "reached",
            "subject",
            # Covering: a page of person rows reads this index alone (see _sql_boards).
            *LISTING_EXTRA,
        ),
        Index(f"ix_{p}board_rows_subject", "tenant", "subject"),
        **options,
        **CLUSTERED,
    )
    board_counts = Table(
        f"{p}board_counts",
        metadata,
        Column("tenant", TENANT, primary_key=True),
        Column("board", IDENT, primary_key=True),
        Column("period", String(32), primary_key=True),
        Column("level", Integer, primary_key=True, autoincrement=False),
        Column("sort_key", Double, primary_key=True),
        Column("n", BigInteger, nullable=False),
        **options,
        **CLUSTERED,
    )
    board_opt_outs = Table(
        f"{p}board_opt_outs",
        metadata,
        Column("tenant", TENANT, primary_key=True),
        Column("user_id", IDENT, primary_key=True),
        Column("board", IDENT, primary_key=True),
        **options,
    )
    adoption = adoption_tables(metadata, p, options, JSON_TEXT, SEQ, tenant=TENANT, ordered=ordered)
    people = Table(
        f"{p}people",
        metadata,
        Column("tenant", TENANT, primary_key=True),
        Column("user_id", IDENT, primary_key=True),
        Column("display_name", IDENT, nullable=True),
        Column("data", JSON_TEXT, nullable=False),
        **options,
    )
    board_changes = Table(
        f"{p}board_changes",
        metadata,
        Column("tenant", TENANT, nullable=False),
        Column("seq", SEQ, primary_key=True, autoincrement=True),
        Column("txid", BigInteger, nullable=True),
        Column("subjects", JSON_TEXT, nullable=True),
        Index(f"ix_{p}board_changes_seq", "tenant", "seq"),
        Index(f"ix_{p}board_changes_txid", "tenant", "txid"),
        sqlite_autoincrement=True,  # a seq is never reused: readers go by it
        **options,
    )
    return Tables(
        metadata,
        meta,
        activities,
        log,
        ledger,
        state,
        awards,
        outbox,
        board_rows,
        board_counts,
        board_opt_outs,
        adoption,
        people,
        board_changes,
    )


def read_version(conn: Connection, tables: Tables) -> int | None:
    """Return the schema version stored in the database, or None if there is no schema.

    A version row that is not a version number (not an integer, or one below 1, the
    first schema version) is refused with SchemaVersionError (its ``found`` is the
    row's text).
    """
    if not inspect(conn).has_table(tables.meta.name):
        return None
    meta = tables.meta
    value = conn.execute(select(meta.c.value).where(meta.c.name == "schema_version")).scalar()
    if value is None:
        return None
    try:
        version = int(value)
    except ValueError:
        version = 0
    if version < 1:
        # Written by hand, or by something else than e2badges: no version to go by (no
        # migration starts below version 1; Alembic knows no revision there).
        raise SchemaVersionError(
            value,
            SCHEMA_VERSION,
            prefix=tables.meta.name.removesuffix("meta"),
            hint=f"set the schema_version row of {meta.name} to the version the tables "
            "are at, or use another table prefix",
        )
    return version


def create_schema(conn: Connection, tables: Tables) -> None:
    """Create every table at :data:`SCHEMA_VERSION` and write the version row."""
    tables.metadata.create_all(conn)
    conn.execute(tables.meta.insert().values(name="schema_version", value=str(SCHEMA_VERSION)))


@contextmanager
def schema_lock(conn: Connection, prefix: str) -> Iterator[None]:
    """Hold a lock that keeps two processes from creating or migrating one schema at once.

    PostgreSQL: a session advisory lock; MySQL/MariaDB: a named lock, waited for
    :data:`SCHEMA_LOCK_WAIT` seconds, then StorageError; SQLite: the write lock
    (``BEGIN IMMEDIATE``).  The block runs in a transaction begun once
    the lock is held, so that even at REPEATABLE READ it reads what the lock's
    previous holder committed (PostgreSQL takes a transaction's snapshot at its
    first statement: the lock's own, were the lock a transaction's).  The caller
    commits inside the block: the session locks are released on exit, so a commit
    after the block would let another process, once it has the lock, find no
    schema yet and create it again.
    """
    database = conn.engine.url.database or ""
    name = "e2badges:" + hashlib.sha256(f"{database}:{prefix}".encode()).hexdigest()[:40]
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), {"name": name})
        conn.commit()  # the lock is the session's; the block's transaction begins after it
        try:
            yield
        finally:
            conn.rollback()  # what the block left uncommitted (nothing, when it committed)
            conn.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": name})
            conn.commit()
    elif dialect in ("mysql", "mariadb"):
        wait = SCHEMA_LOCK_WAIT
        got = conn.execute(
            text("SELECT GET_LOCK(:name, :wait)"), {"name": name, "wait": wait}
        ).scalar()
        if got != 1:
            # A StorageError (the command line's one line), not a bare TimeoutError.
            raise StorageError(
                f"store: could not take the schema lock {name!r} (tables with prefix "
                f"{prefix!r}) within {wait} s: another process is creating or migrating "
                "them, or holds the lock; try again once it is done"
            )
        conn.commit()  # the block's transaction (and read view) begins after the lock
        try:
            yield
        finally:
            conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
    else:
        raw: Any = conn.connection.dbapi_connection
        if not raw.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield
