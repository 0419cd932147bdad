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

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from .. import (
    Activity,
    Cap,
    ConflictingActivityError,
    FrozenClock,
    InvalidActivityError,
    PointRule,
    Rewards,
)
from ..storage import Store

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
