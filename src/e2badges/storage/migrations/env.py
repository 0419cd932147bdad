"""Alembic environment: migrate the connection and table prefix the caller passes in.

Run through :func:`e2badges.storage.sqlalchemy.upgrade` (or ``e2badges db
upgrade``), which passes ``connection``, ``table_prefix`` and ``version_table``
(``{prefix}alembic_version``, or ``alembic_version_e2badges`` with the empty
prefix, never the host app's ``alembic_version``) in ``config.attributes`` and
commits; there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
prefix: str = config.attributes["table_prefix"]

context.configure(
    connection=connection,
    version_table=config.attributes["version_table"],
    target_metadata=None,
)
with context.begin_transaction():
    context.run_migrations(table_prefix=prefix)
