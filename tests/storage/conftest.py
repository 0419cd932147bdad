"""Fixtures for the store tests: each SQL backend in turn, each test on fresh tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sql_support import SQL_BACKENDS, Database, fresh_database
from sqlalchemy import Connection, create_engine, make_url
from sqlalchemy.pool import NullPool


@pytest.fixture(params=SQL_BACKENDS)
def sql_backend(request: pytest.FixtureRequest) -> str:
    """Each SQL backend in turn."""
    name: str = request.param
    return name


@pytest.fixture
def db(sql_backend: str, tmp_path: Path, server_url: Callable[[str], str]) -> Iterator[Database]:
    """A fresh database (unique table prefix) on each SQL backend, dropped afterwards."""
    yield from fresh_database(sql_backend, tmp_path, server_url)


@pytest.fixture(
    params=[
        pytest.param("postgresql", marks=pytest.mark.postgresql, id="postgresql"),
        pytest.param("mysql", marks=pytest.mark.mysql, id="mysql"),
    ]
)
def server_db(
    request: pytest.FixtureRequest, tmp_path: Path, server_url: Callable[[str], str]
) -> Iterator[Database]:
    """A fresh database (unique table prefix) on each server in turn, dropped afterwards."""
    yield from fresh_database(request.param, tmp_path, server_url)


@pytest.fixture
def mysql_db(tmp_path: Path, server_url: Callable[[str], str]) -> Iterator[Database]:
    """A fresh MySQL/MariaDB database (unique table prefix), dropped afterwards."""
    yield from fresh_database("mysql", tmp_path, server_url)


def _scratch_database(
    backend: str,
    server_url: Callable[[str], str],
    kind: str,
    options: str = "",
    check: Callable[[Connection], None] | None = None,
) -> Iterator[str]:
    """Yield the URL of a scratch database of its own on ``backend``'s server, created
    with ``options`` (after ``check``, which may skip the test), dropped afterwards."""
    url = make_url(server_url(backend))
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"e2b_{kind}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            if check is not None:
                check(conn)
            conn.exec_driver_sql(f"CREATE DATABASE {name}{options}")
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                force = " WITH (FORCE)" if backend == "postgresql" else ""
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}{force}")
    finally:
        admin.dispose()


@pytest.fixture
def collated_url(
    server_url: Callable[[str], str], server_has: Callable[[bool, str], None]
) -> Iterator[str]:
    """The URL of a scratch PostgreSQL database whose default collation is ICU's en-US
    (not C: ``_x, a, A, b, B`` instead of ``A, B, _x, a, b``), dropped afterwards."""

    def has_icu(conn: Connection) -> None:
        icu = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_collation WHERE collprovider = 'i' "
            "AND collname = 'en-US-x-icu'"
        ).scalar()
        version = conn.dialect.server_version_info or (0,)
        server_has(bool(icu) and version >= (15,), "ICU database locales (PostgreSQL 15+)")

    yield from _scratch_database(
        "postgresql",
        server_url,
        "coll",
        " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8' "
        "ENCODING 'UTF8'",
        has_icu,
    )


@pytest.fixture
def own_database(
    sql_backend: str, tmp_path: Path, server_url: Callable[[str], str]
) -> Iterator[str]:
    """The URL of a database of its own on each SQL backend, dropped afterwards: for
    tables without a prefix (``table_prefix=""``), which would meet other tests' tables
    in the shared server database."""
    if sql_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'own.db'}"
        return
    charset = " CHARACTER SET utf8mb4" if sql_backend == "mysql" else ""
    yield from _scratch_database(sql_backend, server_url, "own", charset)


def _database_in(encoding: str, server_url: Callable[[str], str]) -> Iterator[str]:
    """Yield the URL of a scratch PostgreSQL database in ``encoding`` (locale C, which
    takes any encoding), dropped afterwards."""
    yield from _scratch_database(
        "postgresql",
        server_url,
        encoding.lower(),
        f" TEMPLATE template0 ENCODING '{encoding}' LOCALE 'C'",
    )


@pytest.fixture
def latin1_url(server_url: Callable[[str], str]) -> Iterator[str]:
    """The URL of a scratch PostgreSQL database whose encoding is LATIN1 (not UTF8),
    dropped afterwards."""
    yield from _database_in("LATIN1", server_url)


@pytest.fixture
def sql_ascii_url(server_url: Callable[[str], str]) -> Iterator[str]:
    """The URL of a scratch PostgreSQL database whose encoding is SQL_ASCII (bytes, no
    encoding at all: psycopg returns its text as bytes), dropped afterwards."""
    yield from _database_in("SQL_ASCII", server_url)
