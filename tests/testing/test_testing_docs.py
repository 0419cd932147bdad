"""The examples in docs/testing.md pass when run as a project's tests."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.pool import NullPool

import e2badges
from e2badges.storage.sqlalchemy import SQLAlchemyStore

pytest_plugins = ["pytester"]

DOC = Path(__file__).parents[2] / "docs" / "testing.md"


def _examples() -> list[tuple[str, str]]:
    """Return the Python examples of the page: (the file its first line names, code)."""
    return re.findall(r"^```python\n# (\S+)\n(.*?)^```", DOC.read_text(), flags=re.M | re.S)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgresql, id="postgresql"),
        pytest.param("mysql", marks=pytest.mark.mysql, id="mysql"),
    ]
)
def kept_url(
    request: pytest.FixtureRequest, tmp_path: Path, server_url: Callable[[str], str]
) -> Iterator[str]:
    """The URL of a database whose data outlives a pytest session: a SQLite file, or a
    scratch database of its own on a server (the default table prefix), dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kept.db'}"
        return
    url = make_url(server_url(request.param))
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"e2b_docs_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
    finally:
        admin.dispose()


class TestTestingDocs:
    def test_examples_pass(
        self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Each Python example, written to the file its first line names, passes."""
        blocks = _examples()
        assert [name for name, _ in blocks] == [
            "conftest.py",
            "test_rules.py",
            "test_properties.py",
        ]
        for name, code in blocks:
            (pytester.path / name).write_text(code)
        # Fewer examples than hypothesis's default 100 keep this test fast; the code is the docs'.
        with (pytester.path / "conftest.py").open("a") as conftest:
            conftest.write("\nfrom hypothesis import settings\n")
            conftest.write("settings.register_profile('docs', max_examples=20, deadline=None)\n")
            conftest.write("settings.load_profile('docs')\n")
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        # In a subprocess: the examples' module names (test_rules, ...) are also this suite's.
        result = pytester.runpytest_subprocess(
            "-p", "e2badges.testing.pytest_plugin", "-p", "no:cacheprovider", "-p", "hypothesis"
        )
        result.assert_outcomes(passed=4)

    def test_rules_example_passes_twice_on_one_database(
        self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, kept_url: str
    ) -> None:
        """The plugin's example (conftest.py and test_rules.py) passes twice in a row
        with --e2badges-store-url naming one database that keeps its data (a SQLite file,
        PostgreSQL, MariaDB): each test starts empty, and nothing is left behind."""
        for name, code in _examples()[:2]:
            (pytester.path / name).write_text(code)
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        src = str(Path(e2badges.__file__).parents[1])
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
        args = ("-p", "e2badges.testing.pytest_plugin", "-p", "no:cacheprovider")
        for _ in range(2):
            result = pytester.runpytest_subprocess(*args, "--e2badges-store-url", kept_url)
            result.assert_outcomes(passed=3)
        with SQLAlchemyStore(kept_url) as store:
            assert store.tenants() == []
