"""Schema version 1: meta, activities, log, ledger, state, awards, outbox, boards,
activity_days, activity_weeks, activity_months,
activity_firsts, stories and people.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from e2badges.storage._sql_schema import mysql_table_options

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

IDENT = sa.String(256)
JSON_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TENANT = sa.String(64)


def upgrade(table_prefix: str) -> None:
    """Create the tables of schema version 1 and its version row."""
    p = table_prefix
    options = mysql_table_options(op.get_bind().dialect)
    meta = op.create_table(
        f"{p}meta",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
        **options,
    )
    op.create_table(
        f"{p}activities",
        sa.Column("tenant", TENANT, primary_key=True),
        sa.Column("id", IDENT, primary_key=True),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("actor", IDENT, nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("data", JSON_TEXT, nullable=False),
        **options,
    )
    op.create_table(
        f"{p}log",
        sa.Column("tenant", TENANT, nullable=False),
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("activity_id", IDENT, nullable=False),
        sa.Column("outcome", JSON_TEXT, nullable=False),
        sa.UniqueConstraint("tenant", "activity_id", name=f"uq_{p}log_activity"),
        **options,
    )
    op.create_index(f"ix_{p}log_seq", f"{p}log", ["tenant", "seq"])
    op.create_table(
        f"{p}ledger",
        sa.Column("tenant", TENANT, nullable=False),
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("user_id", IDENT, nullable=False),
        sa.Column("activity_id", IDENT, nullable=False),
        sa.Column("rule", IDENT, nullable=False),
        sa.Column("currency", IDENT, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("requested", sa.BigInteger, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("limit_name", sa.String(272), nullable=True),
        sa.Column("bonus", sa.Boolean, nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("at_offset", sa.Integer, nullable=False),
        **options,
    )
    op.create_index(f"ix_{p}ledger_user", f"{p}ledger", ["tenant", "user_id", "seq"])
    op.create_table(
        f"{p}state",
        sa.Column("tenant", TENANT, primary_key=True),
        sa.Column("state_key", sa.String(255), primary_key=True),
        sa.Column("value", JSON_TEXT, nullable=True),
        **options,
    )
    op.create_table(
        f"{p}awards",
        sa.Column("tenant", TENANT, nullable=False),
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("user_id", IDENT, nullable=False),
        sa.Column("badge", IDENT, nullable=False),
        sa.Column("tier", IDENT, nullable=True),
        sa.Column("period", sa.String(32), nullable=True),
        sa.Column("team", IDENT, nullable=True),
        sa.Column("award", JSON_TEXT, nullable=False),
        sa.Column("revocation", JSON_TEXT, nullable=True),
        **options,
    )
    op.create_index(f"ix_{p}awards_user", f"{p}awards", ["tenant", "user_id", "seq"])
    op.create_table(
        f"{p}outbox",
        sa.Column("tenant", TENANT, nullable=False),
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(320), nullable=False),
        sa.Column("hook", sa.String(100), nullable=False),
        sa.Column("payload", JSON_TEXT, nullable=False),
        sa.Column("targets", JSON_TEXT, nullable=False),
        sa.Column("delivered", JSON_TEXT, nullable=False),
        sa.Column("failures", JSON_TEXT, nullable=False),
        sa.Column("errors", JSON_TEXT, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("due_us", sa.BigInteger, nullable=True),
        sa.UniqueConstraint("tenant", "id", name=f"uq_{p}outbox_id"),
        **options,
    )
    op.create_index(f"ix_{p}outbox_due", f"{p}outbox", ["tenant", "done", "seq"])
    op.create_table(
        f"{p}board_rows",
        sa.Column("tenant", TENANT, primary_key=True),
        sa.Column("board", IDENT, primary_key=True),
        sa.Column("period", sa.String(32), primary_key=True),
        sa.Column("subject", IDENT, primary_key=True),
        sa.Column("sort_key", sa.Double, nullable=True),
        sa.Column("reached", sa.Double, nullable=False),
        sa.Column("score", sa.Double, nullable=True),
        sa.Column("total", sa.Double, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("members", JSON_TEXT, nullable=True),
        sa.Column("team", sa.Boolean, nullable=False),
        sa.Column("listed", sa.Boolean, nullable=False),
        **options,
    )
    op.create_index(
        f"ix_{p}board_rows_listing",
        f"{p}board_rows",
        ["tenant", "board", "period", "listed", "sort_key", "reached", "subject"],
    )
    op.create_index(f"ix_{p}board_rows_subject", f"{p}board_rows", ["tenant", "subject"])
    op.create_table(
        f"{p}board_counts",
        sa.Column("tenant", TENANT, primary_key=True),
        sa.Column("board", IDENT, primary_key=True),
        sa.Column("period", sa.String(32), primary_key=True),
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("sort_key", sa.Double, primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
        **options,
    )
    op.create_table(
        f"{p}board_opt_outs",
        sa.Column("tenant", TENANT, primary_key=True),
        sa.Column("user_id", IDENT, primary_key=True),
        sa.Column("board", IDENT, primary_key=True),
        **options,
    )
    op.create_table(
        f"{p}activity_days",
        sa.Column("tenant", TENANT, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("actor", IDENT, nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("team", IDENT, nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("last_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "day", "actor", "kind", "team", name=f"pk_{p}activity_days"
        ),
        **options,
    )
    for level, width in (("week", 8), ("month", 7)):
        op.create_table(
            f"{p}activity_{level}s",
            sa.Column("tenant", TENANT, nullable=False),
            sa.Column(level, sa.String(width), nullable=False),
            sa.Column("actor", IDENT, nullable=False),
            sa.Column("kind", sa.String(100), nullable=False),
            sa.Column("team", IDENT, nullable=False),
            sa.Column("n", sa.BigInteger, nullable=False),
            sa.Column("last_us", sa.BigInteger, nullable=False),
            sa.PrimaryKeyConstraint(
                "tenant", level, "actor", "kind", "team", name=f"pk_{p}activity_{level}s"
            ),
            **options,
        )
    op.create_table(
        f"{p}activity_firsts",
        sa.Column("tenant", TENANT, nullable=False),
        sa.Column("team", IDENT, nullable=False),
        sa.Column("actor", IDENT, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "team", "actor", name=f"pk_{p}activity_firsts"),
        **options,
    )
    op.create_index(f"ix_{p}activity_firsts_day", f"{p}activity_firsts", ["tenant", "team", "day"])
    op.create_table(
        f"{p}stories",
        sa.Column("tenant", TENANT, nullable=False),
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("story", JSON_TEXT, nullable=False),
        sa.Column("slot", sa.String(40), nullable=True),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
        sa.UniqueConstraint("tenant", "id", name=f"uq_{p}stories_id"),
        **options,
    )
    op.create_index(f"ix_{p}stories_at", f"{p}stories", ["tenant", "at_us", "seq"])
    op.create_table(
        f"{p}people",
        sa.Column("tenant", TENANT, primary_key=True),
        sa.Column("user_id", IDENT, primary_key=True),
        sa.Column("display_name", IDENT, nullable=True),
        sa.Column("data", JSON_TEXT, nullable=False),
        **options,
    )
    op.create_index(f"ix_{p}stories_slot", f"{p}stories", ["tenant", "slot"])
    op.bulk_insert(meta, [{"name": "schema_version", "value": "1"}])


def downgrade(table_prefix: str) -> None:
    """Drop every table of schema version 1."""
    for name in (
        "people",
        "board_opt_outs",
        "board_counts",
        "board_rows",
        "stories",
        "activity_firsts",
        "activity_months",
        "activity_weeks",
        "activity_days",
        "outbox",
        "awards",
        "state",
        "ledger",
        "log",
        "activities",
        "meta",
    ):
        op.drop_table(f"{table_prefix}{name}")
