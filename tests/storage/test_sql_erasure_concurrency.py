"""Erasing people while other processes record for other people.

The documentation asks only that recording for the erased person has stopped
(docs/privacy.md, "Stop sending first"): recordings for everyone else go on, and
every erasure must succeed beside them.  Two processes record for the people of
``sql_workers.RECORDED``, on a leaderboard, while the test erases other people, one
by one.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime

import sqlalchemy as sa
from sql_support import Database, process_context
from sql_workers import RECORDED, erasure_batch, erasure_rewards, record_until_stopped
from sqlalchemy import event

from e2badges import Activity, Cap, PointRule, Rewards, TransientStorageError
from e2badges.storage.sqlalchemy import SQLAlchemyStore

WORKERS = 2
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
ERASED = tuple(f"gone-{n:02d}" for n in range(30))


class TestErasureWhileRecording:
    def test_every_erasure_succeeds_and_balances_stay_exact(self, server_db: Database) -> None:
        """Each erasure succeeds while others are recorded for; their balances are exact."""
        store = server_db.store()
        rewards = erasure_rewards(store)
        # Erasure keeps activity ids: these name nobody.
        seed = [
            Activity(id=f"seed-{n}", actor=u, kind="score") for n, u in enumerate(RECORDED + ERASED)
        ]
        rewards.record_many(seed)
        # Forked workers start at once; the parent holds no open connection when it forks.
        store.engine.dispose()
        context = process_context()
        failed: list[str] = []
        with context.Manager() as manager, ProcessPoolExecutor(WORKERS, context) as pool:
            started = [manager.Event() for _ in range(WORKERS)]
            stop = manager.Event()
            futures = [
                pool.submit(
                    record_until_stopped,
                    server_db.url,
                    server_db.prefix,
                    worker,
                    started[worker],
                    stop,
                )
                for worker in range(WORKERS)
            ]
            try:
                for event in started:
                    assert event.wait(60), "a recording worker did not start"
                for user in ERASED:
                    try:
                        rewards.erase_person(user)
                    except TransientStorageError as exc:
                        failed.append(f"{user}: {exc}")
            finally:
                stop.set()
            batches = [future.result() for future in futures]

        assert failed == [], f"{len(failed)} of {len(ERASED)} erasures failed: {failed[0]}"
        expected = Counter(RECORDED)
        for worker, n in enumerate(batches):
            expected.update(a.actor for i in range(n) for a in erasure_batch(worker, i))
        assert {u: rewards.balance(u) for u in RECORDED} == dict(expected)
        for user in ERASED:
            assert rewards.balance(user) == 0
            assert rewards.export_person(user)["activities"] == []
        assert self.naming(store, "gone-") == []

    @staticmethod
    def naming(store: SQLAlchemyStore, text: str) -> list[str]:
        """Return ``table.column`` of every text value of the store's tables holding ``text``."""
        found: list[str] = []
        with store.engine.connect() as conn:
            for table in store.tables.all:
                for row in conn.execute(sa.select(table)).mappings():
                    found.extend(
                        f"{table.name}.{column}"
                        for column, value in row.items()
                        if isinstance(value, str) and text in value
                    )
        return found


class TestRecordingForTheErasedPerson:
    def test_batches_that_waited_on_erased_rows_still_lock_them(self, server_db: Database) -> None:
        """Batches for a person that wait on state rows an erasure holds find them gone
        when it commits (renamed to the pseudonym): they still lock the rows they write,
        so no update is lost and no cap is passed (balance = the ledger's sum, capped)."""
        rules = [PointRule(id="post", kind="post.created", actor_points=5, caps=(Cap(amount=20),))]
        store = server_db.store()
        Rewards(store, rules=rules).record_many(
            [Activity(id=f"pre-{n}", actor="ann", kind="post.created", at=T0) for n in range(2)]
        )
        eraser = server_db.store()
        holding, release = threading.Event(), threading.Event()

        def hold(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            # The board lock comes right after the erasure locked the person's state rows:
            # hold there until the recording batches wait on those rows.
            text = statement.lower()
            if "pg_advisory_xact_lock" in text or ("for update" in text and "meta" in text):
                holding.set()
                release.wait(60)

        event.listen(eraser.engine, "before_cursor_execute", hold)
        recorders = [Rewards(server_db.store(), rules=rules) for _ in range(4)]
        for rewards in recorders:
            rewards.balance("ann")  # the store's connection is made before the race

        def record(worker: int) -> None:
            assert holding.wait(30)
            for n in range(2):
                recorders[worker].record(
                    Activity(id=f"w{worker}-{n}", actor="ann", kind="post.created", at=T0)
                )

        with ThreadPoolExecutor(5) as pool:
            erased = pool.submit(Rewards(eraser, rules=rules).erase_person, "ann")
            recorded = [pool.submit(record, worker) for worker in range(4)]
            try:
                assert holding.wait(30)
                waiting = self.lock_waits(store, server_db.prefix, at_least=4)
            finally:
                release.set()
            erased.result(60)
            for future in recorded:
                future.result(60)
        # Each of the four batches waited on the erased rows (not a pass by timing).
        assert waiting >= 4
        ledger = store.tables.ledger
        with store.engine.connect() as conn:
            sums = dict(
                conn.execute(
                    sa.select(ledger.c.user_id, sa.func.sum(ledger.c.amount)).group_by(
                        ledger.c.user_id
                    )
                ).all()
            )
        rewards = Rewards(store, rules=rules)
        assert sums["ann"] == 20  # eight posts after the erasure, capped at 20 a day
        assert {user: rewards.balance(user) for user in sums} == {
            user: int(total) for user, total in sums.items()
        }

    @staticmethod
    def lock_waits(store: SQLAlchemyStore, prefix: str, *, at_least: int) -> int:
        """Return how many statements on ``prefix``'s state table are stuck on a lock, once
        ``at_least`` are (or after 30 s): PostgreSQL's lock waits; on MySQL/MariaDB the
        statements in progress (InnoDB lists some of its waits as running)."""
        if store.engine.dialect.name == "postgresql":
            query = "SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        else:
            query = "SELECT info FROM information_schema.processlist WHERE state = 'Update'"
        table = f"{prefix}state"
        deadline = time.monotonic() + 30
        with store.engine.connect() as conn:
            while True:
                texts = conn.exec_driver_sql(query).scalars().all()
                conn.rollback()
                found = sum(1 for text in texts if text and table in text)
                if found >= at_least or time.monotonic() > deadline:
                    return found
                time.sleep(0.05)
