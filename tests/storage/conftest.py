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
