"""Failures in the middle of a batch leave nothing behind; the retried batch is exact."""

from __future__ import annotations

import multiprocessing
import os
import signal
from typing import Any

from sql_support import Database
from sql_workers import RULES, make_activities, record_until_killed
from sqlalchemy import event

from e2badges import Rewards
from e2badges.storage import MemoryStore, Store

EARLIER = make_activities("e", 200, seed=7, users=20)
BATCH = make_activities("b", 300, seed=8, users=20)
USERS = [f"u{n}" for n in range(20)]


class Injected(Exception):
    """The failure the tests inject between statements."""


def snapshot(store: Store, rewards: Rewards) -> dict[str, Any]:
    """Return everything observable about the people and activities of these tests."""
    keys = sorted({key for a in EARLIER + BATCH for key in rewards.engine.keys(a)})
    return {
        "count": store.count_activities(),
        "log": [a.id for a in store.iter_activities()],
        "outcomes": [store.get_outcome(a.id) for a in BATCH[::10]],
        "ledgers": {user: store.ledger(user) for user in USERS},
        "state": store.read_state(keys),
    }


def reference() -> tuple[Rewards, list[Any]]:
    """Return the memory store's result of EARLIER then BATCH, and BATCH's outcomes."""
    rewards = Rewards(MemoryStore(), rules=RULES)
    rewards.record_many(EARLIER)
    return rewards, rewards.record_many(BATCH)


class TestInjectedFailure:
    def test_exception_between_statements_leaves_nothing(self, db: Database) -> None:
        """An exception before any statement of a batch undoes it; the retry is exact."""
        store = db.store()
        rewards = Rewards(store, rules=RULES)
        rewards.record_many(EARLIER)
        before = snapshot(store, rewards)
        countdown = {"left": 0}

        def inject(_conn: Any, _cursor: Any, _statement: str, *_args: Any) -> None:
            countdown["left"] -= 1
            if countdown["left"] == 0:
                raise Injected

        event.listen(store.engine, "before_cursor_execute", inject)
        failed: list[int] = []
        for n in range(1, 20):
            countdown["left"] = n
            try:
                outcomes = rewards.record_many(BATCH)
            except Injected:
                failed.append(n)
                countdown["left"] = 0  # no injection while looking
                assert snapshot(store, rewards) == before
                continue
            break
        event.remove(store.engine, "before_cursor_execute", inject)
        # Claim, state (lock and read), log, ledger, state upsert: at least five.
        assert len(failed) >= 5
        assert failed == list(range(1, len(failed) + 1))
        expected_rewards, expected = reference()
        assert outcomes == expected
        assert snapshot(store, rewards) == snapshot(expected_rewards.store, expected_rewards)


class TestKilledProcess:
    def test_killed_mid_batch_leaves_nothing(self, db: Database) -> None:
        """A process killed between statements of a batch leaves nothing; the retry is exact."""
        store = db.store()
        rewards = Rewards(store, rules=RULES)
        rewards.record_many(EARLIER)
        before = snapshot(store, rewards)
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        child = context.Process(
            target=record_until_killed, args=(db.url, db.prefix, BATCH, ready), daemon=True
        )
        child.start()
        try:
            assert ready.wait(60), "the child never reached the ledger insert"
            os.kill(child.pid or 0, signal.SIGKILL)
            child.join(30)
            assert child.exitcode == -signal.SIGKILL
        finally:
            if child.is_alive():  # pragma: no cover - only when an assertion above failed
                child.kill()
                child.join()
        assert snapshot(store, rewards) == before
        outcomes = rewards.record_many(BATCH)
        expected_rewards, expected = reference()
        assert outcomes == expected
        assert snapshot(store, rewards) == snapshot(expected_rewards.store, expected_rewards)


class TestKilledBeforeDelivery:
    def test_killed_after_commit_delivers_on_deliver_pending(self, db: Database) -> None:
        """A process killed after its commit, while delivering, loses no notification: another
        process delivers each one on deliver_pending(), once."""
        from datetime import UTC, datetime, timedelta

        from sql_workers import record_then_die_delivering

        from e2badges import FrozenClock, hookimpl

        store = db.store()
        batch = BATCH[:20]
        context = multiprocessing.get_context("spawn")
        child = context.Process(
            target=record_then_die_delivering, args=(db.url, db.prefix, batch), daemon=True
        )
        child.start()
        child.join(60)
        assert child.exitcode == -signal.SIGKILL
        assert store.count_activities() == 20  # committed before the process died

        class Notifier:
            name = "notifier"  # the plugin the notifications are addressed to

            def __init__(self) -> None:
                self.received: list[str] = []

            @hookimpl
            def e2badges_notify_outcome(self, activity: Any, notification_id: str) -> None:
                self.received.append(activity.id)

        notifier = Notifier()
        # After the dead process's lease (5 minutes by default) has run out.
        later = FrozenClock(datetime.now(UTC) + timedelta(hours=1))
        survivor = Rewards(
            store, rules=RULES, plugins=[notifier], load_entrypoints=False, clock=later
        )
        report = survivor.deliver_pending()
        assert (report.delivered, report.failures) == (20, ())
        assert sorted(notifier.received) == sorted(a.id for a in batch)
        assert survivor.deliver_pending().delivered == 0
        assert len(notifier.received) == 20
