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

import logging
import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import column, delete, inspect, select, table
from sqlalchemy.engine import Connection, Engine

from .._errors import (
    ConfigurationError,
    MissingDependencyError,
    SchemaVersionError,
    StorageError,
)
from ._sql_schema import SCHEMA_VERSION, Tables, build_tables, read_version, schema_lock

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

__all__ = ["check_revision", "check_target", "revision_of", "run_upgrade", "version_table"]

SCRIPT_LOCATION = "e2badges.storage:migrations"
logger = logging.getLogger("e2badges.storage")
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


# Alembic's relative revisions: ``[branch@][revision]+n`` or ``-n`` (``head-1``,
# ``base+1``, ``0003-2``; without a revision, relative to the database's).  The
# same pattern as alembic.script.revision, matched the same way (from the start).
_RELATIVE = re.compile(r"(?:(.+?)@)?(\w+)?((?:\+|-)\d+)")


def _target_version(script: ScriptDirectory, revision: str, current: int | None) -> int | None:
    """Return the schema version ``revision`` names, resolved through ``script`` as
    ``alembic upgrade`` resolves it (``current`` is the database's version, for a
    relative revision without a base), or None when it names no single version, which
    Alembic then reports."""
    match = _RELATIVE.match(revision)
    if match is None:
        return _version_of(script, revision)
    branch, symbol, steps = match.groups()
    if symbol is None:
        start = 0 if current is None else current
    else:
        start_version = _version_of(script, symbol if branch is None else f"{branch}@{symbol}")
        if start_version is None:
            return None
        start = start_version
    # The migrations form one line from base: walk it ``steps`` revisions from ``start``.
    line = [0, *(int(rev.revision) for rev in reversed(list(script.walk_revisions())))]
    if start not in line:
        return None
    index = line.index(start) + int(steps)
    if not 0 <= index < len(line):
        # Alembic fails there with an AssertionError from deep inside it.
        where = f"past the newest schema version {line[-1]}" if index > 0 else "before base"
        raise ConfigurationError(
            "revision", f"is {revision!r}: {where}", subject="e2badges db upgrade"
        )
    return line[index]


def _version_of(script: ScriptDirectory, revision: str) -> int | None:
    """Return the schema version of an absolute revision (``head``, ``base``, ``0002``),
    or None when Alembic cannot resolve it to one."""
    from alembic.script.revision import RevisionError  # noqa: PLC0415  # optional extra
    from alembic.util import CommandError  # noqa: PLC0415  # same

    try:
        found = script.get_revisions(revision)
    except (CommandError, RevisionError):
        return None
    if not found:
        return 0  # base
    if len(found) != 1 or found[0] is None:
        return None
    return int(found[0].revision)


def check_revision(revision: object) -> str:
    """Return ``revision`` if it is a non-empty str naming a revision Alembic resolves,
    else raise ConfigurationError naming ``revision`` with the forms accepted.

    Runs before anything connects, on the shipped migrations alone: ``head``,
    ``heads``, ``base``, a revision id (``0001`` to the newest), or a relative form
    whose base resolves (``head-1``, ``0001+2``) or, without a base, that moves
    (``+1``; how far it may go depends on the database's version, checked later).
    """
    forms = (
        f"use head, base, 0001 to {revision_of(SCHEMA_VERSION)} "
        "or a relative form (+1, head-1, 0001+2)"
    )
    if not isinstance(revision, str) or not revision:
        raise ConfigurationError(
            "revision",
            f"must be a non-empty str, not {revision!r}; {forms}",
            subject="e2badges db upgrade",
        )
    try:
        from alembic.config import Config  # noqa: PLC0415  # alembic is an optional extra
        from alembic.script import ScriptDirectory  # noqa: PLC0415  # same
    except ImportError as exc:  # pragma: no cover - the dev extra installs alembic
        raise MissingDependencyError("alembic", "alembic") from exc
    script = _script(Config, ScriptDirectory)
    # The whole text: Alembic itself ignores what follows a relative form (``+1x``).
    match = _RELATIVE.fullmatch(revision)
    try:
        if match is None:
            known = _version_of(script, revision) is not None
        elif match.group(2) is None:
            known = int(match.group(3)) != 0  # Alembic fails on +0 without a base
        else:
            branch, symbol = match.group(1, 2)
            known = (
                _version_of(script, symbol if branch is None else f"{branch}@{symbol}") is not None
            )
    except AssertionError:  # Alembic asserts on some malformed ids ('@')
        known = False
    if not known:
        raise ConfigurationError(
            "revision", f"unknown revision {revision!r}; {forms}", subject="e2badges db upgrade"
        )
    return revision


def _script(config_class: Any, script_class: Any) -> ScriptDirectory:
    """Return the ScriptDirectory of the shipped migrations (Alembic's classes given, as
    imported by the caller that checked Alembic is installed)."""
    config = config_class()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    script: ScriptDirectory = script_class.from_config(config)
    return script


def check_target(revision: str, version: int | None, prefix: str) -> int | None:
    """Return the schema version an upgrade to ``revision`` (checked by
    :func:`check_revision`) reaches from the database's ``version`` (None: no tables),
    or None when it names no single version (Alembic then reports it).

    Raises SchemaVersionError for a database newer than this release, and
    ConfigurationError naming ``revision`` for one past the newest version, before
    base, or below ``version`` (an upgrade never goes down).  Reads no database:
    :func:`run_upgrade` calls it under the schema lock, and ``upgrade()`` before
    opening a SQLite file to write, so that a refusal leaves the file as it was.
    """
    from alembic.config import Config  # noqa: PLC0415  # alembic is an optional extra
    from alembic.script import ScriptDirectory  # noqa: PLC0415  # same

    if version is not None and version > SCHEMA_VERSION:
        raise SchemaVersionError(
            version,
            SCHEMA_VERSION,
            prefix=prefix,
            hint="upgrade e2badges before migrating this database",
        )
    target = _target_version(_script(Config, ScriptDirectory), revision, version)
    if version is not None and target is not None and target < version:
        raise ConfigurationError(
            "revision",
            f"is {revision!r} (schema version {target}), below the database's version "
            f"{version}: db upgrade never goes down",
            subject="e2badges db upgrade",
        )
    return target


def run_upgrade(engine: Engine, prefix: str, revision: str = "head") -> int | None:
    """Migrate the tables under ``prefix`` to ``revision``; return the schema version,
    or None when there are no tables (``base`` on a database without them, which is
    left untouched)."""
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
        target = check_target(revision, version, prefix)
        if version is None and target == 0:
            # Up to base from no tables: nothing to do, and nothing is written (not
            # even Alembic's version table).
            return None
        stamped = inspect(conn).has_table(own)
        if version is None and stamped:
            # Alembic's table outlived the tables it versions (dropped by hand): the
            # upgrade starts from base again, or would do nothing.
            _forget_stale_revision(conn, tables, own)
        # An earlier release kept the empty prefix's revision in the host's table: it is
        # left there (it may as well be the host's own), and the operator told.
        if not prefix and not stamped and _own_revision_in_host_table(conn, version):
            logger.warning(
                "%s holds the revision %s of the e2badges tables without a prefix, as "
                "earlier releases did; e2badges now keeps it in %s and "
                "leaves %s alone: drop it if your application does not use Alembic",
                HOST_VERSION_TABLE,
                revision_of(version or 0),
                own,
                HOST_VERSION_TABLE,
            )
        try:
            if version is not None and not stamped:
                command.stamp(config, revision_of(version))
            command.upgrade(config, revision)
        except CommandError as exc:
            # One line for the command line, as every other refusal (not a traceback).
            raise StorageError(f"store: migration failed: {exc}") from exc
        version = read_version(conn, tables)
        conn.commit()  # before the lock ends (see schema_lock)
    return version


def _forget_stale_revision(conn: Connection, tables: Tables, own: str) -> None:
    """Empty Alembic's version table ``own`` when no table it versions is left.

    Called when the tables under the prefix have no schema version but ``own``
    exists: left behind when the tables were dropped (storage.md lists the tables,
    not ``own``), it names a revision whose tables are gone, and Alembic, going by
    it, would create nothing.  Emptied only when none of the prefix's e2badges tables
    exists; with some of them there (but no ``schema_version`` row), what they hold
    is unknown, so StorageError names ``own`` and nothing changes.
    """
    versions = table(own, column("version_num"))
    revisions = conn.execute(select(versions.c.version_num)).scalars().all()
    if not revisions:
        return  # base: Alembic starts from there anyway
    inspector = inspect(conn)
    left = [t.name for t in tables.all if inspector.has_table(t.name)]
    if left:
        raise StorageError(
            f"store: {own} records revision {', '.join(revisions)}, but "
            f"{tables.meta.name} holds no schema_version row while {len(left)} e2badges "
            f"table(s) exist ({', '.join(left)}); drop those tables and {own} to start "
            "afresh, or restore the schema_version row"
        )
    logger.warning(
        "%s records revision %s, but none of its tables exists: emptied, the schema is "
        "created afresh",
        own,
        ", ".join(revisions),
    )
    conn.execute(delete(versions))


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
