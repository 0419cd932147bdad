"""Eight processes recording at once lose nothing, count nothing twice and pass no cap.

Every cap in ``sql_workers.RULES`` is a calendar-day cap whose budget is a multiple
of its rule's amount, so no credit is ever cut short and each person's total is
the same in any recording order: a person's daily total under a cap is
min(budget, what was asked), and under a person cap over pair caps it is
min(person budget, sum over pairs of min(pair budget, asked)).  Balances can
therefore be compared exactly with one process recording the same activities.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import sqlalchemy as sa
from sql_support import Database
from sql_workers import PREPARED, RULES, activities_for, record_stream, stream_for

from e2badges import Activity, Rewards
from e2badges._rules import SEP, balance_key
from e2badges.storage import MemoryStore
from e2badges.storage.sqlalchemy import SQLAlchemyStore

WORKERS = 8
SHARED = 20_000  # each sent twice, by two different workers
DISTINCT = 20_000  # split between the workers
BATCH = 200
USERS = 1_000
DAYS = 2
BUDGETS = {("comment", "person"): 10, ("vote", "pair"): 6, ("vote", "person"): 12}


@functools.cache
def workload() -> tuple[list[Activity], list[list[Activity]]]:
    """Return the shared activities and each worker's distinct ones."""
    return activities_for(shared=SHARED, distinct=DISTINCT, workers=WORKERS, users=USERS, days=DAYS)


@functools.cache
def single_process_result() -> tuple[dict[str, int], int]:
    """Return every person's balance and the number of ledger lines, from one process."""
    rewards = Rewards(MemoryStore(), rules=RULES)
    common, own = workload()
    outcomes = rewards.record_many(common + [a for part in own for a in part])
    users = [f"u{n}" for n in range(USERS)]
    return {u: rewards.balance(u) for u in users}, sum(len(o.ledger) for o in outcomes)


class TestEightProcesses:
    def test_same_result_as_one_process(self, server_db: Database) -> None:
        """Shared activities sent twice by 8 processes are stored once; balances are exact."""
        store = server_db.store()
        # Forked workers start at once and inherit their streams; the parent holds no
        # open connection when it forks (spawned workers would build the streams).
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        if method == "fork":
            common, own = workload()
            for worker in range(WORKERS):
                PREPARED[worker] = stream_for(worker, common, own[worker], WORKERS)
        store.engine.dispose()
        context = multiprocessing.get_context(method)
        try:
            sent = self._run(context, server_db)
        finally:
            PREPARED.clear()
        assert sum(sent) == 2 * SHARED + DISTINCT
        self.check(store)

    def _run(self, context: multiprocessing.context.BaseContext, server_db: Database) -> list[int]:
        with ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
            futures = [
                pool.submit(
                    record_stream,
                    server_db.url,
                    server_db.prefix,
                    worker=worker,
                    shared=SHARED,
                    distinct=DISTINCT,
                    workers=WORKERS,
                    users=USERS,
                    days=DAYS,
                    batch=BATCH,
                )
                for worker in range(WORKERS)
            ]
            return [future.result() for future in futures]

    def check(self, store: SQLAlchemyStore) -> None:
        balances, ledger_lines = single_process_result()
        assert store.count_activities() == SHARED + DISTINCT
        keys = {balance_key(user, "points"): user for user in balances}
        stored = store.read_state(keys)
        assert {keys[key]: value for key, value in stored.items()} == {
            user: value for user, value in balances.items() if value
        }

        t = store.tables
        with store.engine.connect() as conn:
            lines = conn.execute(
                sa.select(
                    t.ledger.c.user_id,
                    t.ledger.c.rule,
                    t.ledger.c.role,
                    t.ledger.c.amount,
                    t.ledger.c.bonus,
                    t.ledger.c.at_us,
                )
            ).all()
            caps = conn.execute(
                sa.select(t.state.c.state_key, t.state.c.value).where(
                    t.state.c.state_key.like(f"cap{SEP}%")
                )
            ).all()
        # Each activity's lines are stored once.
        assert len(lines) == ledger_lines
        # Every person's ledger adds up to their balance.
        totals: dict[str, int] = defaultdict(int)
        for user, _rule, _role, amount, _bonus, _at in lines:
            totals[user] += amount
        assert {u: v for u, v in totals.items() if v} == {u: v for u, v in balances.items() if v}
        # No person cap is passed, judged from the ledger (per rule, role, person and
        # UTC day; the rules' time zone is UTC), and the caps did bind ...
        daily: dict[tuple[str, str, str, str], int] = defaultdict(int)
        for user, rule, role, amount, bonus, at_us in lines:
            if not bonus:
                day = datetime.fromtimestamp(at_us / 1e6, UTC).date().isoformat()
                daily[rule, role, user, day] += amount
        highest: dict[tuple[str, str], int] = defaultdict(int)
        for (rule, role, _user, _day), amount in daily.items():
            highest[rule, role] = max(highest[rule, role], amount)
        assert highest["comment", "actor"] == BUDGETS["comment", "person"]
        assert highest["vote", "recipient"] == BUDGETS["vote", "person"]
        assert highest["vote", "actor"] <= BUDGETS["vote", "person"]
        # ... and no cap counter, person or pair, is over its budget; pair caps bound too.
        full = 0
        for key, value in caps:
            if value is None:
                continue  # a row that was only locked
            parts = key.split(SEP)
            budget = BUDGETS[parts[2], parts[4]]
            assert int(value) <= budget, key
            full += parts[4] == "pair" and int(value) == budget
        assert full > 0
