"""Schema version 2: the listing index of board rows covers a page; on SQLite, the
board and rollup tables are clustered on their primary keys.

The index ``ix_{prefix}board_rows_listing`` gains the columns ``score``,
``total``, ``count`` and ``team`` after ``subject``, so that pages and the rows
around a person are read from the index alone (a team's ``members`` are read by
the row's key).  On SQLite the tables ``board_rows``, ``board_counts``,
``activity_days``, ``activity_weeks``, ``activity_months`` and
``activity_firsts`` are rebuilt ``WITHOUT ROWID`` (their rows are small and
always found by their primary key or an index: one B-tree instead of two).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KEY = ["tenant", "board", "period", "listed", "sort_key", "reached", "subject"]
EXTRA = ["score", "total", "count", "team"]
CLUSTERED = (
    "board_rows",
    "board_counts",
    "activity_days",
    "activity_weeks",
    "activity_months",
    "activity_firsts",
)


def _rebuild_sqlite(table_prefix: str, *, with_rowid: bool) -> None:
    """Rebuild the CLUSTERED tables on SQLite with or without a rowid (rows copied)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in CLUSTERED:
        with op.batch_alter_table(
            f"{table_prefix}{name}",
            recreate="always",
            table_kwargs={"sqlite_with_rowid": with_rowid},
        ):
            pass


def _version(table_prefix: str, version: int) -> None:
    meta = sa.table(f"{table_prefix}meta", sa.column("name"), sa.column("value"))
    op.execute(meta.update().where(meta.c.name == "schema_version").values(value=str(version)))


def upgrade(table_prefix: str) -> None:
    """Rebuild the listing index with the columns of a page (and on SQLite the clustered
    tables), then write version 2."""
    p = table_prefix
    op.drop_index(f"ix_{p}board_rows_listing", table_name=f"{p}board_rows")
    op.create_index(f"ix_{p}board_rows_listing", f"{p}board_rows", [*KEY, *EXTRA])
    _rebuild_sqlite(p, with_rowid=False)
    _version(p, 2)


def downgrade(table_prefix: str) -> None:
    """Rebuild version 1's listing index, then write version 1."""
    p = table_prefix
    _rebuild_sqlite(p, with_rowid=True)
    op.drop_index(f"ix_{p}board_rows_listing", table_name=f"{p}board_rows")
    op.create_index(f"ix_{p}board_rows_listing", f"{p}board_rows", KEY)
    _version(p, 1)
