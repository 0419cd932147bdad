"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None
SCHEMA_VERSION = int(revision)


def upgrade(table_prefix: str) -> None:
    """Migrate to this schema version and update the version row."""
    ${upgrades if upgrades else "pass"}
    meta = sa.table(f"{table_prefix}meta", sa.column("name"), sa.column("value"))
    op.execute(
        meta.update()
        .where(meta.c.name == "schema_version")
        .values(value=str(SCHEMA_VERSION))
    )


def downgrade(table_prefix: str) -> None:
    """Return to the previous schema version."""
    ${downgrades if downgrades else "pass"}
