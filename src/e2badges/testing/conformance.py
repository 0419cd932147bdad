"""The Store conformance suite, written once and run over every backend.

A store author subclasses :class:`StoreConformance` in a test module and
provides a ``make_store`` fixture: a function that returns a new, empty store
each time it is called (and may be called several times in one test, each call
returning a store over the *same* database, to check what persists)::

    import pytest
    from e2badges.testing.conformance import StoreConformance

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def make_store(self, tmp_path):
            return lambda: MyStore(tmp_path / "db")

Each test's docstring is a sentence of the Store contract.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from .. import (
    Activity,
    Award,
    Cap,
    ConflictingActivityError,
    FrozenClock,
    InvalidActivityError,
    LedgerEntry,
    LevelChange,
    Outcome,
    PointRule,
    Revocation,
    Rewards,
)
from .._rules import balance_key
from ..storage import EffectBatch, Store

__all__ = ["StoreConformance"]

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

RULES = (
    PointRule(id="comment", kind="comment.created", actor_points=2, caps=(Cap(amount=5),)),
    PointRule(id="upvote", kind="answer.upvoted", actor_points=1, recipient_points=10),
)


def act(n: int, actor: str = "ann", kind: str = "comment.created", **extra: object) -> Activity:
    """Return activity ``a<n>`` at T0 + n minutes."""
    return Activity(id=f"a{n}", actor=actor, kind=kind, at=T0 + timedelta(minutes=n), **extra)


class StoreConformance:
    """Behaviour every Store must show; subclass it and provide ``make_store``."""

    @pytest.fixture
    def store(self, make_store: Callable[[], Store]) -> Store:
        return make_store()

    @pytest.fixture
    def rewards(self, store: Store) -> Rewards:
        return Rewards(store, rules=RULES, clock=FrozenClock(T0))

    # -- recording ------------------------------------------------------------------

    def test_recorded_activity_is_returned(self, rewards: Rewards, store: Store) -> None:
        """After commit, a recorded activity is returned by get_activity, unchanged."""
        activity = act(1, attributes={"title": "héllo", "tags": ["a", "b"]}, value=2.5)
        rewards.record(activity)
        assert store.get_activity("a1") == activity

    def test_unknown_activity_is_none(self, store: Store) -> None:
        """get_activity and get_outcome return None for an id never recorded."""
        assert store.get_activity("nope") is None
        assert store.get_outcome("nope") is None

    def test_outcome_is_stored(self, rewards: Rewards, store: Store) -> None:
        """After commit, the outcome of a recorded activity is returned by get_outcome."""
        outcome = rewards.record(act(1, kind="answer.upvoted", recipient="bob"))
        assert store.get_outcome("a1") == outcome

    def test_duplicate_id_stored_once(self, rewards: Rewards, store: Store) -> None:
        """Recording an activity id twice stores it once and returns the first outcome."""
        first = rewards.record(act(1))
        again = rewards.record(act(1))
        assert again == first
        assert store.count_activities() == 1
        assert rewards.balance("ann") == 2

    def test_duplicate_in_one_batch(self, rewards: Rewards, store: Store) -> None:
        """An id repeated inside one batch is recorded once; both places get its outcome."""
        outcomes = rewards.record_many([act(1), act(2), act(1)])
        assert outcomes[0] == outcomes[2]
        assert store.count_activities() == 2
        assert rewards.balance("ann") == 4

    def test_conflicting_duplicate_refused(self, rewards: Rewards, store: Store) -> None:
        """An id recorded again with other content raises and stores nothing of its batch."""
        rewards.record(act(1))
        with pytest.raises(ConflictingActivityError) as info:
            rewards.record_many([act(2), act(1, actor="bob")])
        assert info.value.differing == ["actor"]
        assert store.get_activity("a2") is None
        assert rewards.balance("ann") == 2

    def test_invalid_batch_stores_nothing(self, rewards: Rewards, store: Store) -> None:
        """A batch with one invalid activity stores none of it."""
        with pytest.raises(InvalidActivityError):
            rewards.record_many([act(1), {"actor": "bob", "kind": "comment.created", "value": "x"}])
        assert store.count_activities() == 0
        assert rewards.balance("ann") == 0

    def test_failure_mid_batch_stores_nothing(self, store: Store) -> None:
        """An exception while effects are computed leaves the store as it was."""

        def explode(activity: Activity) -> float:
            if activity.id == "a3":
                raise RuntimeError("boom")
            return 1

        rewards = Rewards(
            store, rules=[PointRule(id="r", kind="comment.created", actor_points=explode)]
        )
        rewards.record(act(1))
        with pytest.raises(RuntimeError, match="boom"):
            rewards.record_many([act(2), act(3)])
        assert store.count_activities() == 1
        assert rewards.balance("ann") == 1
        assert [line.activity_id for line in store.ledger("ann")] == ["a1"]

    def test_at_filled_from_clock(self, store: Store) -> None:
        """An activity recorded without ``at`` is stored with the clock's time."""
        rewards = Rewards(store, rules=RULES, clock=FrozenClock(T0))
        rewards.record({"id": "x", "actor": "ann", "kind": "comment.created"})
        stored = store.get_activity("x")
        assert stored is not None
        assert stored.at == T0

    def test_retry_without_at_is_a_duplicate(self, store: Store) -> None:
        """Re-sending an id without ``at`` later is the same activity, not a conflict."""
        clock = FrozenClock(T0)
        rewards = Rewards(store, rules=RULES, clock=clock)
        first = rewards.record({"id": "x", "actor": "ann", "kind": "comment.created"})
        clock.advance(timedelta(hours=1))
        assert rewards.record({"id": "x", "actor": "ann", "kind": "comment.created"}) == first

    # -- state and ledger -----------------------------------------------------------

    def test_state_persists(self, rewards: Rewards, make_store: Callable[[], Store]) -> None:
        """Committed state is visible to another store over the same database."""
        rewards.record_many([act(1), act(2, kind="answer.upvoted", recipient="bob")])
        other = Rewards(make_store(), rules=RULES)
        assert other.balance("ann") == 3
        assert other.balance("bob") == 10

    def test_read_state_leaves_out_missing(self, store: Store) -> None:
        """read_state leaves out keys that have no value."""
        assert store.read_state(["no-such-key"]) == {}

    def test_ledger_in_recording_order(self, rewards: Rewards, store: Store) -> None:
        """A person's ledger lists lines oldest recorded first, across batches."""
        rewards.record_many([act(3), act(1)])
        rewards.record(act(2))
        assert [line.activity_id for line in store.ledger("ann")] == ["a3", "a1", "a2"]

    def test_ledger_limit(self, rewards: Rewards, store: Store) -> None:
        """ledger(limit=n) returns the n most recent lines, oldest first."""
        rewards.record_many([act(1), act(2), act(3)])
        assert [line.activity_id for line in store.ledger("ann", limit=2)] == ["a2", "a3"]
        assert store.ledger("ann", limit=0) == []
        assert store.ledger("nobody") == []

    def test_ledger_keeps_limited_lines(self, rewards: Rewards, store: Store) -> None:
        """Ledger lines stopped by a limit are stored with their amount and limit."""
        rewards.record_many([act(1), act(2), act(3)])
        lines = store.ledger("ann")
        assert [(line.amount, line.requested, line.limit) for line in lines] == [
            (2, 2, None),
            (2, 2, None),
            (1, 2, "cap:day"),
        ]

    def test_iter_activities_in_recording_order(self, rewards: Rewards, store: Store) -> None:
        """iter_activities yields the log in recording order."""
        rewards.record_many([act(2), act(1)])
        rewards.record(act(0))
        assert [a.id for a in store.iter_activities()] == ["a2", "a1", "a0"]

    # -- transactions ---------------------------------------------------------------

    def test_rolled_back_transaction_stores_nothing(self, store: Store) -> None:
        """A transaction left by an exception stores nothing, even after apply()."""
        activity = act(1)
        outcome = Outcome("a1", (_line("a1", "ann", 2),))

        def record_then_fail() -> None:
            with store.transaction() as tx:
                tx.claim([activity])
                tx.apply(EffectBatch([(activity, outcome)], {_BAL_ANN: 2}))
                raise RuntimeError("discard")

        with pytest.raises(RuntimeError, match="discard"):
            record_then_fail()
        assert store.get_activity("a1") is None
        assert store.get_outcome("a1") is None
        assert store.read_state([_BAL_ANN]) == {}
        assert store.ledger("ann") == []
        assert store.count_activities() == 0

    def test_failed_batch_frees_its_ids(self, store: Store) -> None:
        """Claiming records nothing by itself: rolled back, a batch's ids are free again."""
        fail = {"on": True}

        def points(activity: Activity) -> float:
            if fail["on"] and activity.id == "a2":
                raise RuntimeError("boom")
            return 3

        rewards = Rewards(
            store, rules=[PointRule(id="r", kind="comment.created", actor_points=points)]
        )
        with pytest.raises(RuntimeError, match="boom"):
            rewards.record_many([act(1), act(2)])
        fail["on"] = False
        outcomes = rewards.record_many([act(1), act(2)])
        assert [o.credited("ann") for o in outcomes] == [3, 3]
        assert store.count_activities() == 2
        assert rewards.balance("ann") == 6

    def test_concurrent_duplicates_recorded_once(self, store: Store) -> None:
        """A concurrent transaction claiming the same id waits, then sees it as recorded."""
        # 40 shared activities: users u0..u3, two days, 5 comments per user and day;
        # the cap of 5 points a day leaves 5 + 5 = 10 points per user, in any order.
        shared = [
            act(i, actor=f"u{i % 4}").model_copy(update={"at": T0 + timedelta(days=i // 4 % 2)})
            for i in range(40)
        ]
        rewards = Rewards(store, rules=RULES)
        errors: list[BaseException] = []

        def work(seed: int) -> None:
            order = list(shared)
            random.Random(seed).shuffle(order)
            try:
                for start in range(0, len(order), 10):
                    rewards.record_many(order[start : start + 10])
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert store.count_activities() == 40
        assert [rewards.balance(f"u{u}") for u in range(4)] == [10, 10, 10, 10]
        assert sum(len(store.ledger(f"u{u}")) for u in range(4)) == 40

    # -- state ----------------------------------------------------------------------

    def test_unlisted_key_loaded_on_first_read(self, rewards: Rewards, store: Store) -> None:
        """A key the view was not given is loaded from the committed state on first read."""
        rewards.record(act(1))
        with store.transaction() as tx:
            view = tx.view(set())
            assert view.get(_BAL_ANN) == 2
            assert view.get("no-such-key", None) is None

    def test_view_writes_need_apply(self, store: Store) -> None:
        """The view's writes are stored only by apply(), never by the view itself."""
        with store.transaction() as tx:
            tx.view({"k"}).set("k", 1)
            tx.apply(EffectBatch())
        assert store.read_state(["k"]) == {}

    def test_state_values_round_trip(self, store: Store) -> None:
        """State keeps each JSON-safe value and any key string exactly as applied."""
        values = {
            "int": 7,
            "float": 2.5,
            "negative": -3,
            "big": 2**53 + 1,
            "list": [1, "a", None, [2.0]],
            "dict": {"x": 1, "y": ["z"]},
            "text": "héllo 🦄",
            "emoji-key-🦄": True,
            "k\x1fwith\x1fseparators": 1,
            "A": 1,
            "a": 2,
            "a ": 3,
            "long-" + "x" * 400: 4,
            "long-" + "x" * 399 + "y": 5,
        }
        with store.transaction() as tx:
            tx.view(set(values))
            tx.apply(EffectBatch([], dict(values)))
        stored = store.read_state([*values, "absent"])
        assert stored == values
        assert [type(stored[k]) for k in ("int", "float", "big")] == [int, float, int]

    # -- what is stored -------------------------------------------------------------

    def test_outcome_round_trips_every_effect(self, store: Store) -> None:
        """get_outcome returns every ledger line, award, revocation and level change applied."""
        activity = act(1, recipient="bob")
        assert activity.at is not None
        later = activity.at.astimezone(timezone(timedelta(hours=-5))) + timedelta(seconds=1)
        outcome = Outcome(
            "a1",
            (
                _line("a1", "ann", 2),
                LedgerEntry("a1", "r", "bob", "karma", 0, 10, activity.at, "recipient", "cap:day"),
                LedgerEntry("a1", "r", "bob", "karma", 5, 5, activity.at, "recipient", None, True),
            ),
            (Award("ann", "regular", "gold", "2026-W10", later, "a1", "count"),),
            (Revocation("bob", "helper", None, None, activity.at, "a0", "carol", "spam"),),
            (LevelChange("ann", 0, 2, activity.at, "a1"),),
        )
        with store.transaction() as tx:
            tx.claim([activity])
            tx.apply(EffectBatch([(activity, outcome)], {}))
        stored = store.get_outcome("a1")
        assert stored == outcome
        assert stored is not None
        assert stored.awards[0].at.utcoffset() == timedelta(hours=-5)
        assert store.ledger("bob") == list(outcome.ledger[1:])

    def test_ids_compared_exactly(self, rewards: Rewards, store: Store) -> None:
        """Ids differing only in case, trailing spaces or accents are different activities."""
        ids = ["a", "A", "a ", "á", "a\u0301"]
        rewards.record_many(
            [Activity(id=i, actor="ann", kind="answer.upvoted", at=T0) for i in ids]
        )
        assert store.count_activities() == 5
        assert [a.id for a in store.iter_activities()] == ids

    def test_unicode_people(self, rewards: Rewards, store: Store) -> None:
        """Identifiers outside the Basic Multilingual Plane are stored and queried exactly."""
        rewards.record(act(1, actor="Zoë 🦄", kind="answer.upvoted", recipient="李"))
        assert rewards.balance("Zoë 🦄") == 1
        assert rewards.balance("李") == 10
        assert [line.user for line in store.ledger("李")] == ["李"]

    def test_long_log_in_order(self, rewards: Rewards, store: Store) -> None:
        """iter_activities yields a log of thousands of activities whole and in order."""
        batch = [act(n, actor=f"u{n % 50}") for n in range(2500)]
        rewards.record_many(batch)
        assert store.count_activities() == 2500
        assert [a.id for a in store.iter_activities()] == [a.id for a in batch]


_BAL_ANN = balance_key("ann", "points")


def _line(activity_id: str, user: str, amount: int) -> LedgerEntry:
    return LedgerEntry(activity_id, "comment", user, "points", amount, amount, T0, "actor")
