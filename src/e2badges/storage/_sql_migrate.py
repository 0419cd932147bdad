"""Run the Alembic migrations shipped in ``e2badges.storage.migrations``.

Imported only by :func:`e2badges.storage.sqlalchemy.upgrade`, so Alembic is
needed only to migrate (``pip install "e2badges[alembic]"``).  Revision ids are
the schema versions written with four digits (``0001``); each migration also
updates the ``schema_version`` row the store checks.  Alembic's own version
table is ``{prefix}alembic_version``; a database created by the store (which
has the version row but not Alembic's table) is stamped at its version first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from .._errors import (
    ConfigurationError,
    MissingDependencyError,
    SchemaVersionError,
    StorageError,
)
from ._sql_schema import SCHEMA_VERSION, build_tables, read_version, schema_lock

__all__ = ["revision_of", "run_upgrade"]

SCRIPT_LOCATION = "e2badges.storage:migrations"


def revision_of(version: int) -> str:
    """Return the Alembic revision id of a schema version."""
    return f"{version:04d}"


def _target_version(revision: str) -> int | None:
    """Return the schema version ``revision`` names (``head``, ``base`` or a revision id
    such as ``0002``), or None for another form, which Alembic resolves."""
    if revision == "head":
        return SCHEMA_VERSION
    if revision == "base":
        return 0
    return int(revision) if revision.isdigit() else None


def run_upgrade(engine: Engine, prefix: str, revision: str = "head") -> int:
    """Migrate the tables under ``prefix`` to ``revision``; return the schema version."""
    try:
        from alembic import command  # noqa: PLC0415  # alembic is an optional extra
        from alembic.config import Config  # noqa: PLC0415  # same
        from alembic.util import CommandError  # noqa: PLC0415  # same
    except ImportError as exc:  # pragma: no cover - the dev extra installs alembic
        raise MissingDependencyError("alembic", "alembic") from exc

    with engine.connect() as conn, schema_lock(conn, prefix):
        config = Config()
        config.set_main_option("script_location", SCRIPT_LOCATION)
        attributes: dict[str, Any] = config.attributes
        attributes["connection"] = conn
        attributes["table_prefix"] = prefix
        tables = build_tables(prefix, conn.dialect)
        version = read_version(conn, tables)
        if version is not None and version > SCHEMA_VERSION:
            raise SchemaVersionError(
                version,
                SCHEMA_VERSION,
                prefix=prefix,
                hint="upgrade e2badges before migrating this database",
            )
        target = _target_version(revision)
        if version is not None and target is not None and target < version:
            raise ConfigurationError(
                "revision",
                f"is {revision!r} (schema version {target}), below the database's version "
                f"{version}: db upgrade never goes down",
                subject="e2badges db upgrade",
            )
        if version is not None and not inspect(conn).has_table(f"{prefix}alembic_version"):
            command.stamp(config, revision_of(version))
        try:
            command.upgrade(config, revision)
        except CommandError as exc:
            raise StorageError(f"store: migration failed: {exc}") from exc
        version = read_version(conn, tables)
        conn.commit()  # before the lock ends (see schema_lock)
    return 0 if version is None else version
