"""Alembic environment: migrate the connection and table prefix the caller passes in.

Run through :func:`e2badges.storage.sqlalchemy.upgrade` (or ``e2badges db
upgrade``), which passes ``connection`` and ``table_prefix`` in
``config.attributes`` and commits; there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
prefix: str = config.attributes["table_prefix"]

context.configure(
    connection=connection,
    version_table=f"{prefix}alembic_version",
    target_metadata=None,
)
with context.begin_transaction():
    context.run_migrations(table_prefix=prefix)
