"""Schema version 5: the board change log.

Adds ``{prefix}board_changes`` (see :mod:`e2badges.storage._sql_copies`): one row
per transaction that changes board rows (on SQLite and PostgreSQL), which the
process-local copies of boards (``SQLAlchemyStore(board_copies=...)``) read to
catch up with other processes' writes.  The table starts empty: a copy loads a
board whole the first time, then reads the changes after that.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from e2badges.storage._sql_schema import mysql_table_options

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The types as version 5 has them (written out: later versions may change the schema's).
JSON_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TENANT = sa.String(64)


def _version(table_prefix: str, version: int) -> None:
    meta = sa.table(f"{table_prefix}meta", sa.column("name"), sa.column("value"))
    op.execute(meta.update().where(meta.c.name == "schema_version").values(value=str(version)))


def upgrade(table_prefix: str) -> None:
    """Create the board change log, then write version 5."""
    p = table_prefix
    op.create_table(
        f"{p}board_changes",
        sa.Column("tenant", TENANT, nullable=False),
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.Column("subjects", JSON_TEXT, nullable=True),
        sa.Index(f"ix_{p}board_changes_seq", "tenant", "seq"),
        sa.Index(f"ix_{p}board_changes_txid", "tenant", "txid"),
        sqlite_autoincrement=True,
        **mysql_table_options(op.get_bind().dialect),
    )
    _version(p, 5)


def downgrade(table_prefix: str) -> None:
    """Drop the board change log and its marker rows, then write version 4."""
    p = table_prefix
    op.drop_table(f"{p}board_changes")
    meta = sa.table(f"{p}meta", sa.column("name"), sa.column("value"))
    op.execute(
        meta.delete().where(
            sa.or_(
                meta.c.name == "board_changes_pruned",
                meta.c.name.startswith("board_reset:", autoescape=True),
            )
        )
    )
    _version(p, 4)
