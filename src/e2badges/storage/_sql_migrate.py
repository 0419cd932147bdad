"""Run the Alembic migrations shipped in ``e2badges.storage.migrations``.

Imported only by :func:`e2badges.storage.sqlalchemy.upgrade`, so Alembic is
needed only to migrate (``pip install "e2badges[alembic]"``).  Revision ids are
the schema versions written with four digits (``0001``); each migration also
updates the ``schema_version`` row the store checks.  Alembic's own version
table is ``{prefix}alembic_version``, or ``alembic_version_e2badges`` with the
empty prefix (see :func:`version_table`); a database created by the store (which
has the version row but not Alembic's table) is stamped at its version first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, Table, column, inspect, select, table
from sqlalchemy.engine import Connection, Engine

from .._errors import (
    ConfigurationError,
    MissingDependencyError,
    SchemaVersionError,
    StorageError,
)
from ._sql_schema import SCHEMA_VERSION, build_tables, read_version, schema_lock

__all__ = ["revision_of", "run_upgrade", "version_table"]

SCRIPT_LOCATION = "e2badges.storage:migrations"
#: Alembic's default version table: with the empty prefix, the host app's own.
HOST_VERSION_TABLE = "alembic_version"
#: e2badges' version table with the empty prefix.  No prefix gives it (a prefix starts
#: with a letter, and the name does not end in ``alembic_version``), so it cannot be
#: the version table of e2badges tables under another prefix, nor the host's default.
EMPTY_PREFIX_VERSION_TABLE = "alembic_version_e2badges"


def version_table(prefix: str) -> str:
    """Return the name of Alembic's version table for the tables under ``prefix``."""
    return f"{prefix}alembic_version" if prefix else EMPTY_PREFIX_VERSION_TABLE


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
        attributes["version_table"] = own = version_table(prefix)
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
        stamped = inspect(conn).has_table(own)
        # An earlier release kept the empty prefix's revision in the host's table.
        adopted = not prefix and not stamped and _own_revision_in_host_table(conn, version)
        if version is not None and not stamped:
            command.stamp(config, revision_of(version))
        try:
            command.upgrade(config, revision)
        except CommandError as exc:
            raise StorageError(f"store: migration failed: {exc}") from exc
        if adopted:
            # Held only e2badges' revision, now in its own table: the host's table goes.
            Table(HOST_VERSION_TABLE, MetaData()).drop(conn)
        version = read_version(conn, tables)
        conn.commit()  # before the lock ends (see schema_lock)
    return 0 if version is None else version


def _own_revision_in_host_table(conn: Connection, version: int | None) -> bool:
    """Return whether ``alembic_version`` holds e2badges' revision and nothing else.

    That is the revision of the schema version of the e2badges tables with the empty
    prefix (``version``), as an earlier release wrote it there; anything else in the
    table (another revision, several rows, a version that does not match) is the host
    app's and is left alone.
    """
    if version is None or not inspect(conn).has_table(HOST_VERSION_TABLE):
        return False
    host = table(HOST_VERSION_TABLE, column("version_num"))
    found = conn.execute(select(host.c.version_num).limit(2)).scalars().all()
    return found == [revision_of(version)]
