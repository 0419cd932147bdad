"""Schema version 2: the listing index of board rows covers a page.

The index ``ix_{prefix}board_rows_listing`` gains the columns ``score``,
``total``, ``count`` and ``team`` after ``subject``, so that pages and the rows
around a person are read from the index alone (a team's ``members`` are read by
the row's key).

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


def _version(table_prefix: str, version: int) -> None:
    meta = sa.table(f"{table_prefix}meta", sa.column("name"), sa.column("value"))
    op.execute(meta.update().where(meta.c.name == "schema_version").values(value=str(version)))


def upgrade(table_prefix: str) -> None:
    """Rebuild the listing index with the columns of a page, then write version 2."""
    p = table_prefix
    op.drop_index(f"ix_{p}board_rows_listing", table_name=f"{p}board_rows")
    op.create_index(f"ix_{p}board_rows_listing", f"{p}board_rows", [*KEY, *EXTRA])
    _version(p, 2)


def downgrade(table_prefix: str) -> None:
    """Rebuild version 1's listing index, then write version 1."""
    p = table_prefix
    op.drop_index(f"ix_{p}board_rows_listing", table_name=f"{p}board_rows")
    op.create_index(f"ix_{p}board_rows_listing", f"{p}board_rows", KEY)
    _version(p, 1)
