"""Fixtures for the store tests: each SQL backend in turn, each test on fresh tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sql_support import SQL_BACKENDS, Database, open_database


@pytest.fixture(params=SQL_BACKENDS)
def sql_backend(request: pytest.FixtureRequest) -> str:
    """Each SQL backend in turn."""
    name: str = request.param
    return name


@pytest.fixture
def db(sql_backend: str, tmp_path: Path, server_url: Callable[[str], str]) -> Iterator[Database]:
    """A fresh database (unique table prefix) on each SQL backend, dropped afterwards."""
    database = open_database(sql_backend, tmp_path, server_url)
    yield database
    database.drop()


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
    database = open_database(request.param, tmp_path, server_url)
    yield database
    database.drop()


@pytest.fixture
def mysql_db(tmp_path: Path, server_url: Callable[[str], str]) -> Iterator[Database]:
    """A fresh MySQL/MariaDB database (unique table prefix), dropped afterwards."""
    database = open_database("mysql", tmp_path, server_url)
    yield database
    database.drop()
