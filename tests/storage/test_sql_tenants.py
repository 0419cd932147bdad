"""Tenants in the SQL store: a structural guard over every statement it sends.

The conformance suite checks that tenants are isolated by what the queries answer;
this test checks how: every statement the SQL store sends to the database during a
workload that calls every public query names the ``tenant`` column once per table
it reads or writes, and carries the tenant's name (``tenants()``, which reads every
tenant's name by design, is left out; ``delete_tenant()`` is in).  A statement that forgot the
filter trips it even where the random workloads of the isolation test would not.

Statements are captured at the driver (a sqlite3 trace callback, a psycopg cursor
factory, a PyMySQL cursor class), so the board reads the store runs on raw driver
cursors are seen as well as those that go through SQLAlchemy.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from typing import Any

import psycopg
import pymysql
import pytest
from sql_support import Database
from sqlalchemy import event

from e2badges import Activity, ConfigurationError
from e2badges.storage import store_from_url
from e2badges.storage.sqlalchemy import SQLAlchemyStore
from e2badges.testing._tenant_conformance import NOW, T0, _Tenant

TENANT = "guard-tenant.7"


def _capture(statements: list[str]) -> Any:
    """Return a ``connect`` listener that makes each new driver connection log its statements."""

    class PsycopgCursor(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            statements.append(f"{query} -- {params!r}")
            return super().execute(query, params, **kwargs)

        def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
            params_seq = list(params_seq)
            statements.append(f"{query} -- {params_seq!r}")
            super().executemany(query, params_seq, **kwargs)

    class PyMySQLCursor(pymysql.cursors.Cursor):
        # executemany folds INSERT rows into statements sent through execute().
        def execute(self, query: Any, args: Any = None) -> int:
            text = self.mogrify(query, args)
            statements.append(text if isinstance(text, str) else bytes(text).decode())
            return super().execute(query, args)

    def connect(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            # The trace shows each statement with its parameters filled in.
            dbapi_connection.set_trace_callback(statements.append)
        elif isinstance(dbapi_connection, psycopg.Connection):
            dbapi_connection.cursor_factory = PsycopgCursor
        else:
            dbapi_connection.cursorclass = PyMySQLCursor

    return connect


def _workload(store: SQLAlchemyStore) -> None:
    """Record, grant, revoke, opt out, set people, erase one, close periods, deliver, ask
    every query, and delete the tenant."""
    tenant = _Tenant(store, TENANT)
    people = ("ann", "bob", "cy")
    tenant.run(
        (
            "record",
            [
                (people[i % 3], kind, people[(i + 1) % 3], i, 60 * i, ["red", "blue"][: i % 3])
                for i, kind in enumerate(("comment.created", "answer.upvoted", "score") * 3)
            ],
        )
    )
    tenant.run(("again", 1))
    tenant.run(("grant", "ann"))
    tenant.run(("revoke", "ann"))
    tenant.run(("opt_out", "bob", True))
    tenant.run(("record", [("bob", "score", None, 5, 3000, ["red"])]))
    tenant.run(("opt_out", "bob", False))
    tenant.run(("person", "ann", "Ann", ["bosses"], ["red"]))
    tenant.run(("privacy", "bob", False))
    tenant.run(("record", [("ann", "comment.created", "bob", 1, 3100, [])]))
    tenant.answers()
    tenant.run(("erase", "cy"))
    tenant.answers()
    rewards = tenant.rewards
    assert rewards.people.resync() == 0
    rewards.close_periods()
    with store.engine.connect() as conn:  # joining the caller's transaction
        rewards.record(
            Activity(id="joined", actor="cy", kind="score", value=2, at=T0), connection=conn
        )
        conn.commit()
    view = rewards.store
    pending = view.claim_notifications(now=NOW, lease=timedelta(minutes=1), limit=5)
    claimed = view.claim_notifications(
        now=NOW + timedelta(hours=1),
        lease=timedelta(minutes=1),
        ids=[e.notification.id for e in pending],
    )
    assert claimed, "the workload left notifications to claim"
    first = claimed[0].notification.id
    view.mark_failed(first, "p", error="down")
    view.mark_delivered(first, "p")
    view.release_notification(first, done=False, retry_at=NOW)
    view.release_notification(first, done=True)
    assert view.get_notification(first) is not None
    assert view.read_state(["no such key"]) == {}
    view.delete_tenant()
    assert view.count_activities() == 0


class TestStatements:
    def test_every_statement_names_the_tenant(self, db: Database) -> None:
        """Each statement on the store's tables names ``tenant`` once per table it reads
        or writes, and carries the tenant's name."""
        store = db.store()
        statements: list[str] = []
        event.listen(store.engine, "connect", _capture(statements))
        store.engine.dispose()  # from here on, every connection logs its statements
        _workload(store)
        tables = re.compile(
            rf"\b(?:FROM|JOIN|INTO|UPDATE)\s+[`\"]?({re.escape(db.prefix)}\w+)", re.IGNORECASE
        )
        checked = 0
        for statement in statements:
            used = [t for t in tables.findall(statement) if t != f"{db.prefix}meta"]
            if not used:
                continue  # BEGIN, COMMIT, locks, the schema-version and lock rows
            checked += 1
            assert len(re.findall(r"\btenant\b", statement)) >= len(used), statement
            assert TENANT in statement, statement
        # Every table the store keeps (but the schema-version row) was read or written.
        touched = {t for s in statements for t in tables.findall(s)}
        expected = {t.name for t in store.tables.all} - {f"{db.prefix}meta"}
        assert expected <= touched
        assert checked > 50


class TestTenantOption:
    def test_store_from_url_takes_a_tenant(self, db: Database) -> None:
        """store_from_url passes ``tenant`` to the SQL store, which serves that tenant."""
        store = store_from_url(db.url, tenant="wiki", table_prefix=db.prefix)
        try:
            assert store.tenant == "wiki"
            assert "tenant='wiki'" in repr(store)
        finally:
            store.close()

    def test_bad_tenant_refused_before_connecting(self) -> None:
        """A bad tenant name is refused before any connection is made."""
        with pytest.raises(ConfigurationError, match="tenant"):
            SQLAlchemyStore("postgresql+psycopg://nobody@127.0.0.1:1/none", tenant="a b")

    def test_view_shares_the_engine(self, db: Database) -> None:
        """A view made by for_tenant uses the store's engine and leaves it undisposed when
        closed; the store that created the engine disposes it."""
        store = db.store()
        pool = store.engine.pool
        view = store.for_tenant("wiki")
        assert view.engine is store.engine
        view.close()
        assert store.engine.pool is pool
        assert view.count_activities() == store.count_activities() == 0
        store.close()
        assert store.engine.pool is not pool
