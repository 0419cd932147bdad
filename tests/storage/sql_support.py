"""Helpers for the store tests: the backend matrix and per-test databases.

A plain module (not a conftest) so that test modules and worker processes can import it.
"""

from __future__ import annotations

import functools
import multiprocessing
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.pool import NullPool

from e2badges.storage.sqlalchemy import SQLAlchemyStore

SQL_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
]
ALL_BACKENDS = [pytest.param("memory", id="memory"), *SQL_BACKENDS]


@dataclass
class Database:
    """One test's database: a URL and a table prefix no other test uses."""

    backend: str
    url: str
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}_")
    stores: list[SQLAlchemyStore] = field(default_factory=list)

    def store(self, **options: Any) -> SQLAlchemyStore:
        """Return a new store over this database and prefix (closed at teardown)."""
        options.setdefault("table_prefix", self.prefix)
        store = SQLAlchemyStore(self.url, **options)
        self.stores.append(store)
        return store

    def drop(self) -> None:
        """Close the stores and drop every table under this test's prefix."""
        for store in self.stores:
            store.close()
        if self.backend == "sqlite":
            return  # the file lives in the test's own temporary directory
        engine = _engine(self.url)
        with engine.begin() as conn:
            names = [n for n in inspect(conn).get_table_names() if n.startswith(self.prefix)]
            if names:
                quote = conn.dialect.identifier_preparer.quote
                conn.exec_driver_sql("DROP TABLE " + ", ".join(quote(n) for n in names))


@functools.cache
def _engine(url: str) -> Engine:
    """Return one engine per server URL for the tests' own housekeeping."""
    return create_engine(url, poolclass=NullPool)


def open_database(backend: str, tmp_path: Path, server_url: Callable[[str], str]) -> Database:
    """Return a fresh Database for ``backend`` (a file for SQLite, a server otherwise)."""
    if backend == "sqlite":
        return Database(backend, f"sqlite:///{tmp_path / 'rewards.db'}")
    return Database(backend, server_url(backend))


def fresh_database(
    backend: str, tmp_path: Path, server_url: Callable[[str], str]
) -> Iterator[Database]:
    """Yield a fresh Database for ``backend`` (see open_database), dropped afterwards: the
    body of the tests' database fixtures."""
    database = open_database(backend, tmp_path, server_url)
    yield database
    database.drop()


def process_context() -> BaseContext:
    """Return the context worker processes start in: fork where there is one (fast,
    and the workers inherit the test's imports), else spawn."""
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)
