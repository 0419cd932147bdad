"""The recording path's read of team memberships, split into IN lists on MySQL/MariaDB.

One IN list of 16,000 long ids passed MariaDB's default max_allowed_packet (16 MiB)
and the batch failed ("server has gone away"); the read now sends lists of at most
``_IN_LIST`` ids.  The tests shrink that size so that a few people make several lists.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sql_support import Database

from e2badges import Activity, FrozenClock, PointRule, Rewards
from e2badges.storage import _sql_people
from e2badges.testing.conformance import T0

RULES = [PointRule(id="p", kind="post", actor_points=1)]


@pytest.mark.mysql
def test_memberships_read_in_lists(mysql_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten people read three at a time: four IN lists, and every membership found."""
    monkeypatch.setattr(_sql_people, "_IN_LIST", 3)
    store = mysql_db.store()
    rewards = Rewards(store, rules=RULES, clock=FrozenClock(T0))
    people = [f"u{n}" for n in range(10)]
    for n, user in enumerate(people):
        if n % 2:
            rewards.people.set(user, teams=[f"team{n % 3}"])
    lists: list[str] = []

    def seen(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        if "user_id IN" in statement:
            lists.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", seen)
    with store.engine.connect() as conn:
        found = store._memberships.read(conn, people)
    assert len(lists) == 4
    assert all(statement.count("%s") <= 1 + 3 for statement in lists)
    assert sorted(found) == people[1::2]
    assert {user: [m.team for m in found[user]] for user in found} == {
        user: [f"team{n % 3}"] for n, user in enumerate(people) if n % 2
    }
    lists.clear()
    rewards.record_many(
        [Activity(id=f"a{n}", actor=user, kind="post", at=T0) for n, user in enumerate(people)]
    )
    assert len(lists) == 4
    assert [rewards.balance(user) for user in people] == [1] * 10
