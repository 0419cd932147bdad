"""Schema version 3: on PostgreSQL, the text columns whose order the store relies on
compare by code point (``COLLATE "C"``), whatever the database's default collation.

Those columns are ``board_rows.subject`` (the listing order breaks ties of score
and time by it), ``state.state_key`` (state rows are locked in key order) and
every column of the rollup tables ``activity_days``, ``activity_weeks``,
``activity_months`` and ``activity_firsts`` but ``tenant`` (written in key order,
grouped and sorted by their values).  Version 2 left them at the database's
default collation, so that in a database created with, say, an en-US collation,
tied board rows were listed ``_x, a, A, b, B`` instead of ``A, B, _x, a, b``.

One ``ALTER TABLE`` per table changes the collation of its columns; PostgreSQL
keeps the rows (a change of collation alone does not rewrite the table) and
rebuilds the indexes on those columns once, so that they serve the listing order
again.  SQLite and MySQL/MariaDB already compare these columns by code point
(BINARY; a binary collation): nothing changes there but the version row.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: The key columns every activity rollup has, with their lengths.
_ROLLUP_KEYS = {"actor": 256, "kind": 100, "team": 256}

#: The columns of each table (without the prefix) that version 3 collates, with their
#: lengths (their types are VARCHAR(length) before and after).
COLUMNS: dict[str, dict[str, int]] = {
    "state": {"state_key": 255},
    "board_rows": {"subject": 256},
    "activity_days": {"day": 10, **_ROLLUP_KEYS, "week": 8, "month": 7},
    "activity_weeks": {"week": 8, **_ROLLUP_KEYS},
    "activity_months": {"month": 7, **_ROLLUP_KEYS},
    "activity_firsts": {"team": 256, "actor": 256, "day": 10},
}


def _collate(table_prefix: str, collation: str) -> None:
    """Give the COLUMNS ``collation`` on PostgreSQL, one statement per table."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    quote = bind.dialect.identifier_preparer.quote
    # The text holds the checked prefix, quoted names and the constants above: no value.
    for table, columns in COLUMNS.items():
        changes = ", ".join(
            f'ALTER COLUMN {quote(name)} TYPE VARCHAR({length}) COLLATE "{collation}"'
            for name, length in columns.items()
        )
        op.execute(f"ALTER TABLE {quote(table_prefix + table)} {changes}")


def _version(table_prefix: str, version: int) -> None:
    meta = sa.table(f"{table_prefix}meta", sa.column("name"), sa.column("value"))
    op.execute(meta.update().where(meta.c.name == "schema_version").values(value=str(version)))


def upgrade(table_prefix: str) -> None:
    """Collate the ordered columns "C" on PostgreSQL, then write version 3."""
    _collate(table_prefix, "C")
    _version(table_prefix, 3)


def downgrade(table_prefix: str) -> None:
    """Give those columns the database's default collation again, then write version 2."""
    _collate(table_prefix, "default")
    _version(table_prefix, 2)
