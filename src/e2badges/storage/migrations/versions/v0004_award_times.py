"""Schema version 4: each award row holds its time, and the index of a person's awards
holds it too, so that everyone's earliest award is read from the index alone.

``awards`` gains ``at_us`` (the award's ``at``, UTC microseconds since the epoch, as
``activities.at_us``), filled from each row's JSON, and the index
``ix_{prefix}awards_user`` becomes ``(tenant, user_id, seq, at_us)``.  Version 3
took a person's first award *recorded* (the lowest ``seq``) for their first
badge; the store now takes the earliest ``at``, which an award of an activity
recorded late (an import of history) may hold.

The upgrade reads and updates every award row once, by pages of ``_PAGE`` rows
(one ``UPDATE`` per page); on SQLite the table is then copied to make the column
NOT NULL.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Award rows read and updated per statement (a CASE of that many branches).
_PAGE = 500
#: The position of ``at`` in an award's JSON (its fields in declaration order: user,
#: badge, tier, period, at, ...; ``at`` is ISO 8601 text with its UTC offset).
_AT = 4
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_us(award: str) -> int:
    """Return the ``at`` of an award's JSON as whole microseconds since the epoch."""
    delta = datetime.fromisoformat(json.loads(award)[_AT]) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _fill(awards: sa.TableClause) -> None:
    """Set ``at_us`` of every award row from its JSON, page by page in ``seq`` order.

    One ``UPDATE ... SET at_us = CASE seq WHEN ... END`` per page (bound
    parameters): an ``executemany`` of one-row updates costs a round trip per row on
    MySQL/MariaDB (about 1 ms).  ``seq`` is the primary key on its own (unique across
    tenants).
    """
    bind = op.get_bind()
    page = (
        sa.select(awards.c.seq, awards.c.award)
        .where(awards.c.seq > sa.bindparam("after"))
        .order_by(awards.c.seq)
        .limit(_PAGE)
    )
    after = -1
    while rows := bind.execute(page, {"after": after}).all():
        times = {int(n): _epoch_us(text) for n, text in rows}
        bind.execute(
            sa.update(awards)
            .where(awards.c.seq.in_(list(times)))
            .values(at_us=sa.case(times, value=awards.c.seq))
        )
        after = rows[-1][0]


def _version(table_prefix: str, version: int) -> None:
    meta = sa.table(f"{table_prefix}meta", sa.column("name"), sa.column("value"))
    op.execute(meta.update().where(meta.c.name == "schema_version").values(value=str(version)))


def upgrade(table_prefix: str) -> None:
    """Add and fill ``awards.at_us``, index it with a person's awards, then write version 4."""
    p = table_prefix
    name = f"{p}awards"
    op.add_column(name, sa.Column("at_us", sa.BigInteger(), nullable=True))
    _fill(sa.table(name, *(sa.column(c) for c in ("seq", "award", "at_us"))))
    with op.batch_alter_table(name) as batch:
        batch.alter_column("at_us", existing_type=sa.BigInteger(), nullable=False)
        batch.drop_index(f"ix_{p}awards_user")
        batch.create_index(f"ix_{p}awards_user", ["tenant", "user_id", "seq", "at_us"])
    _version(p, 4)


def downgrade(table_prefix: str) -> None:
    """Drop ``awards.at_us`` and give the index version 3's columns, then write version 3."""
    p = table_prefix
    with op.batch_alter_table(f"{p}awards") as batch:
        batch.drop_index(f"ix_{p}awards_user")
        batch.create_index(f"ix_{p}awards_user", ["tenant", "user_id", "seq"])
        batch.drop_column("at_us")
    _version(p, 3)
