"""PostgreSQL: a person's record deleted by a committed erasure between the insert that
makes sure it exists and the lock that reads it is inserted and locked again, so the
change lands in a record (see _sql_people.update_person).

PostgreSQL's ``INSERT ... ON CONFLICT DO NOTHING`` locks no existing row, so another
connection may delete it in between: the test plays that connection from a hook on the
insert, deterministically; MySQL/MariaDB's upsert locks the row at once, and SQLite has
one writer, so neither can be raced there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sql_support import Database, open_database

from e2badges import Person, PrivacySettings

pytestmark = pytest.mark.postgresql


@pytest.fixture
def pg_db(tmp_path: Path, server_url: Callable[[str], str]) -> Iterator[Database]:
    database = open_database("postgresql", tmp_path, server_url)
    yield database
    database.drop()


def _settings(feed: bool) -> Callable[[Person | None], Person]:
    def change(old: Person | None) -> Person:
        settings = PrivacySettings(True, feed, None)
        if old is None:
            return Person("ann", None, (), (), settings)
        return dataclasses.replace(old, settings=settings)

    return change


def test_record_deleted_before_the_lock_is_written_again(pg_db: Database) -> None:
    """An erasure committing between the insert and the lock leaves the change in a
    record (a new one), never in no row."""
    store = pg_db.store()
    store.update_person("ann", _settings(True))
    deleter = sa.create_engine(pg_db.url, poolclass=sa.pool.NullPool)
    people = f"{pg_db.prefix}people"
    deleted: list[int] = []

    def delete_once(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not deleted and statement.startswith(f"INSERT INTO {people}"):
            with deleter.begin() as other:
                found = other.execute(sa.text(f"DELETE FROM {people} WHERE user_id = 'ann'"))
                deleted.append(found.rowcount)

    sa.event.listen(store.engine, "after_cursor_execute", delete_once)
    try:
        person = store.update_person("ann", _settings(False))
    finally:
        sa.event.remove(store.engine, "after_cursor_execute", delete_once)
        deleter.dispose()
    assert deleted == [1]
    assert person.settings.feed is False
    stored = store.get_people(["ann"])["ann"]
    assert stored.settings.feed is False
