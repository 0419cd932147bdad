"""One Rewards object and one store shared by many threads, as in a threaded web server.

Eight threads record a workload in which every shared activity is sent twice, by
two threads, in batches and one by one, while other threads read leaderboards,
profiles, balances, the feed and adoption figures, and toggle opt-outs.  The
result must be exactly that of one thread recording everything once: the same
balances, the same awards (no badge tier twice), the same leaderboard, and no
reader may fail.  Caps are calendar-day caps whose budgets are multiples of
their rules' amounts (see ``sql_workers.RULES``), so totals do not depend on the
order of recording.  The other tests aim at one race each; every test here runs
with the interpreter switching threads as often as it can.
"""

from __future__ import annotations

import functools
import random
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sql_support import Database, open_database
from sql_workers import RULES, T0, activities_for, stream_for

from e2badges import (
    Activity,
    Badge,
    DeliveryPolicy,
    FrozenClock,
    Leaderboard,
    Level,
    PointsMetric,
    Rewards,
    Tier,
    criteria,
    hookimpl,
)
from e2badges._engine import EffectBatch
from e2badges._erasure import ERASED_ERROR
from e2badges._rules import SEP
from e2badges.storage import MemoryStore, Store
from e2badges.storage.sqlalchemy import SQLAlchemyStore
from e2badges.testing._threads import run_in_threads

WRITERS = 8
READERS = 4
SHARED = 1_000  # each sent twice, by two different writers
DISTINCT = 800  # split between the writers
USERS = 120
DAYS = 3

BADGES = (
    Badge(
        id="commenter",
        criterion=criteria.Count(kind="comment.created"),
        tiers=[Tier(id="bronze", threshold=2), Tier(id="silver", threshold=8)],
    ),
    Badge(id="answerer", criterion=criteria.Count(kind="answer.created"), threshold=3),
)
LEVELS = (
    Level(id="new", threshold=0),
    Level(id="member", threshold=30),
    Level(id="regular", threshold=90),
)
BOARDS = (Leaderboard(id="points", metric=PointsMetric(), windows=("all", "week")),)
USER_IDS = [f"u{n}" for n in range(USERS)]


@pytest.fixture(autouse=True)
def frequent_switches() -> Iterator[None]:
    """Switch threads as often as possible, so that a race has every chance to show."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@functools.cache
def workload() -> tuple[list[Activity], list[list[Activity]]]:
    """Return the shared activities and each writer's distinct ones."""
    return activities_for(shared=SHARED, distinct=DISTINCT, workers=WRITERS, users=USERS, days=DAYS)


def make_rewards(store: Store | str, *plugins: object) -> Rewards:
    """Return the Rewards every test here records with (no entry-point plugins)."""
    return Rewards(
        store,
        plugins=plugins,
        rules=RULES,
        badges=BADGES,
        levels=LEVELS,
        leaderboards=BOARDS,
        clock=FrozenClock(T0 + timedelta(days=DAYS)),
        load_entrypoints=False,
    )


def summary(rewards: Rewards) -> tuple[object, ...]:
    """Return what does not depend on the order of recording: balances, levels, awards
    (who, which badge and tier, how many times), the board's scores and ranks, and the
    number of ledger lines and activities."""
    balances = {u: rewards.balance(u) for u in USER_IDS}
    levels = {u: rewards.level(u) for u in USER_IDS}
    awards = Counter((u, r.award.badge, r.award.tier) for u in USER_IDS for r in rewards.awards(u))
    board = rewards.leaderboard("points")
    top = {(e.user, e.score, e.rank) for e in board.top(USERS + 10)}
    ledger = sum(len(rewards.explain(u)) for u in USER_IDS)
    return balances, levels, awards, top, ledger, rewards.store.count_activities()


@functools.cache
def single_thread_summary() -> tuple[object, ...]:
    """Return the summary of one thread recording the whole workload once."""
    rewards = make_rewards(MemoryStore())
    common, own = workload()
    rewards.record_many(common + [a for part in own for a in part])
    return summary(rewards)


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite-file"),
        pytest.param("sqlite-memory", id="sqlite-memory"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ]
)
def shared_store(
    request: pytest.FixtureRequest, tmp_path: Path, server_url: Callable[[str], str]
) -> Iterator[Store]:
    """One store on each backend, shared by the threads of a test."""
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "sqlite-memory":
        store = SQLAlchemyStore("sqlite://")  # one connection, used under the store's lock
        try:
            yield store
        finally:
            store.close()
        return
    database: Database = open_database(request.param, tmp_path, server_url)
    try:
        yield database.store()
    finally:
        database.drop()


def reader(rewards: Rewards, stop: threading.Event, seed: int) -> None:
    """Read everything a web page would until ``stop`` is set; raise what a read raised."""
    rng = random.Random(seed)
    board = rewards.leaderboard("points")
    while not stop.is_set():
        user = rng.choice(USER_IDS)
        board.top(10)
        board.top(5, 5, window="week", period=T0.date())
        board.rank(user)
        board.around(user, 5)
        board.percentile(user)
        board.size()
        rewards.balance(user)
        rewards.level(user)
        rewards.profile(user)
        rewards.badges(user)
        rewards.explain(user, limit=3)
        rewards.feed(limit=10)
        rewards.adoption(window="week", period=T0)
        # Opting out and back in leaves the board as it was.
        other = rng.choice(USER_IDS)
        rewards.set_leaderboard_opt_out(other, True)
        board.top(10, viewer=other)
        rewards.set_leaderboard_opt_out(other, False)


class Heard:
    """A plugin that notes, under a lock of its own, what its hooks are told."""

    name = "heard"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.checked: list[str] = []
        self.notified: list[str] = []

    @hookimpl
    def e2badges_check_activity(self, activity: Activity) -> None:
        with self.lock:
            self.checked.append(activity.id)

    @hookimpl
    def e2badges_notify_outcome(self, activity: Activity) -> None:
        with self.lock:
            self.notified.append(activity.id)


class TestSharedRewards:
    def test_same_result_as_one_thread(self, shared_store: Store) -> None:
        """Eight threads recording duplicates through one Rewards, while four threads
        read and toggle opt-outs, store exactly what one thread recording once does;
        the plugin hooks, called from every thread, hear of each activity once."""
        heard = Heard()
        rewards = make_rewards(shared_store, heard)
        common, own = workload()
        stop = threading.Event()

        def work(n: int) -> None:
            stream = stream_for(n, common, own[n], WRITERS)
            rng = random.Random(n)
            at = 0
            while at < len(stream):
                size = rng.choice((1, 7, 40))
                part = stream[at : at + size]
                if size == 1:
                    rewards.record(part[0])
                else:
                    rewards.record_many(part)
                at += size

        # The readers stop when the last writer has ended (whether it failed or not).
        writers_done = threading.Barrier(WRITERS, action=stop.set)

        def thread(n: int) -> None:
            if n >= WRITERS:
                reader(rewards, stop, seed=n)
                return
            try:
                work(n)
            finally:
                writers_done.wait()

        run_in_threads(thread, range(WRITERS + READERS))
        assert summary(rewards) == single_thread_summary()
        recorded = {a.id for a in common} | {a.id for part in own for a in part}
        assert Counter(heard.notified) == Counter(recorded)  # each once
        assert set(heard.checked) == recorded
        assert rewards.delivery_errors == deque()


class TestStoreReads:
    def test_read_state_sees_one_committed_batch(self, shared_store: Store) -> None:
        """read_state() of keys that every batch writes together returns the values of one
        batch, never some keys of one batch and some of another (no torn read)."""
        keys = [f"k{n}" for n in range(200)]
        reads = [0]  # reads done, by both readers
        written = [0]  # the last batch committed
        stop = threading.Event()

        def work(n: int) -> None:
            if n == 0:
                try:
                    # Until the readers have read often enough while batches committed.
                    while reads[0] < 400 and written[0] < 5_000:
                        i = written[0] + 1
                        with shared_store.transaction() as tx:
                            tx.view(keys)
                            tx.apply(EffectBatch(state=dict.fromkeys(keys, i)))
                        written[0] = i
                finally:
                    stop.set()
                return
            while not stop.is_set():
                values = set(shared_store.read_state(keys).values())
                assert len(values) <= 1, f"torn read: {sorted(values)}"
                reads[0] += 1

        run_in_threads(work, range(3))
        assert shared_store.read_state(keys) == dict.fromkeys(keys, written[0])


class TestErasureWhileReading:
    def test_read_state_sees_a_person_before_or_after_erasure(self, shared_store: Store) -> None:
        """read_state() of a person's keys while the person is erased returns all of them
        (before) or none (after), never some: erasure is one transaction for readers too."""
        people = [f"p{n}" for n in range(6)]
        keys = {p: [f"test{SEP}{p}{SEP}{n}" for n in range(150)] for p in people}
        # Interleaved with others' keys, so that an erasure goes over its keys one by one.
        state = {}
        for n in range(150):
            for p in people:
                state[keys[p][n]] = n
            state[f"test{SEP}other{SEP}{n}"] = n
        with shared_store.transaction() as tx:
            tx.view(list(state))
            tx.apply(EffectBatch(state=state))
        erasing = [people[0]]
        stop = threading.Event()

        def work(n: int) -> None:
            if n == 0:
                try:
                    for person in people:
                        erasing[0] = person
                        shared_store.erase_person(person, f"{person}-erased")
                finally:
                    stop.set()
                return
            while not stop.is_set():
                person = erasing[0]
                found = len(shared_store.read_state(keys[person]))
                assert found in (0, 150), f"{found} of {person}'s 150 keys read"

        run_in_threads(work, range(3))
        assert all(shared_store.read_state(keys[p]) == {} for p in people)

    def test_reads_of_people_being_erased_do_not_fail(self, shared_store: Store) -> None:
        """Balances, levels and profiles read while those people are erased answer (the
        person's figures or none), never fail part-way."""
        rewards = make_rewards(shared_store)
        common, _own = workload()
        rewards.record_many(common[:600])
        victims = USER_IDS[:12]
        erasing = [victims[0]]  # the person being erased now, whom the readers read
        stop = threading.Event()

        def work(n: int) -> None:
            if n == 0:
                try:
                    for user in victims:
                        erasing[0] = user
                        rewards.erase_person(user)
                finally:
                    stop.set()
                return
            while not stop.is_set():
                user = erasing[0]
                rewards.balance(user)
                rewards.level(user)
                rewards.profile(user)

        run_in_threads(work, range(4))
        assert all(rewards.balance(u) == 0 for u in victims)
        assert all(rewards.awards(u) == [] for u in victims)


class Failing:
    """A notifier that fails on every activity (its failures fill delivery_errors)."""

    name = "failing"

    @hookimpl
    def e2badges_notify_outcome(self, activity: Activity) -> None:
        raise RuntimeError(f"cannot notify about {activity.actor}")


class TestDeliveryErrorsWhileErasing:
    def test_erasure_while_notifiers_fail(self) -> None:
        """Erasing people while other threads' deliveries fail (appending to
        delivery_errors) neither fails nor leaves an erased person's name in a kept
        failure."""
        rewards = Rewards(
            MemoryStore(),
            rules=RULES,
            plugins=[Failing()],
            load_entrypoints=False,
            delivery=DeliveryPolicy(attempts=1),
        )
        victims = [f"v{n}" for n in range(30)]
        rewards.record_many(
            Activity(id=f"v-{user}", actor=user, kind="comment.created", at=T0) for user in victims
        )
        stop = threading.Event()

        def work(n: int) -> None:
            if n == 0:
                try:
                    for user in victims:
                        rewards.erase_person(user)
                finally:
                    stop.set()
                return
            # Fewer failures in all than delivery_errors keeps, so the victims' stay in it.
            for i in range(20):
                if stop.is_set():
                    break
                actor = f"w{n}"
                rewards.record(
                    Activity(id=f"{actor}-{i}", actor=actor, kind="comment.created", at=T0)
                )

        run_in_threads(work, range(4))
        errors = list(rewards.delivery_errors)
        assert len([f for f in errors if f.error == ERASED_ERROR]) == len(victims)
        assert not [f for f in errors if any(f"about {v}" in f.error for v in victims)]
