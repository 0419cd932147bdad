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
    Badge,
    Cap,
    ConflictingActivityError,
    FrozenClock,
    InvalidActivityError,
    Level,
    PointRule,
    Rewards,
    Tier,
    criteria,
)
from ..storage import Store

__all__ = ["StoreConformance"]

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

RULES = (
    PointRule(id="comment", kind="comment.created", actor_points=2, caps=(Cap(amount=5),)),
    PointRule(id="upvote", kind="answer.upvoted", actor_points=1, recipient_points=10),
)


BADGES = (
    Badge(
        id="commenter",
        criterion=criteria.Count(kind="comment.created"),
        tiers=(Tier(id="bronze", threshold=1), Tier(id="silver", threshold=2)),
    ),
    Badge(id="helper", criterion=criteria.Manual(), repeat="month"),
    Badge(id="pioneer", criterion=criteria.First(kind="answer.upvoted", scope="team")),
    Badge(id="regular", criterion=criteria.Streak(kind="comment.created"), threshold=3),
    Badge(id="both", criterion=criteria.AllOf(badges=("commenter", "helper"))),
)
LEVELS = (Level(id="one", threshold=1), Level(id="two", threshold=4))


def act(
    n: int,
    actor: str = "ann",
    kind: str = "comment.created",
    *,
    at: datetime | None = None,
    **extra: object,
) -> Activity:
    """Return activity ``a<n>`` at ``at``, by default T0 + n minutes."""
    when = at if at is not None else T0 + timedelta(minutes=n)
    return Activity(id=f"a{n}", actor=actor, kind=kind, at=when, **extra)


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

    # -- awards ---------------------------------------------------------------------

    @pytest.fixture
    def badged(self, store: Store) -> Rewards:
        return Rewards(store, rules=RULES, badges=BADGES, levels=LEVELS, clock=FrozenClock(T0))

    def test_awards_in_award_order(self, badged: Rewards, store: Store) -> None:
        """awards(user) lists awards in recording order, then outcome order, across batches."""
        outcomes = badged.record_many([act(1), act(2)])
        outcomes.append(badged.grant("ann", "helper", by="lead", reason="help", id="g"))
        expected = [award for outcome in outcomes for award in outcome.awards]
        assert [award.badge for award in expected] == ["commenter", "commenter", "helper", "both"]
        assert [record.award for record in store.awards("ann")] == expected
        assert all(record.revocation is None for record in store.awards("ann"))

    def test_awards_of_unknown_user(self, store: Store) -> None:
        """An unknown user has no awards."""
        assert store.awards("nobody") == []

    def test_award_fields_stored(self, badged: Rewards, store: Store) -> None:
        """An award is returned with every field as the engine made it (tier, period, team)."""
        upvote = act(1, kind="answer.upvoted", recipient="bob", teams=("red",))
        grant = badged.grant("ann", "helper", by="lead", reason="help", id="g", at=T0)
        outcome = badged.record(upvote)
        assert [r.award for r in store.awards("ann")] == [*grant.awards, *outcome.awards]
        assert store.awards("ann")[0].award.period == "2026-03"
        assert store.awards("ann")[1].award.team == "red"

    def test_revocation_marks_award(self, badged: Rewards, store: Store) -> None:
        """A revoked award is kept, paired with the revocation that took it back."""
        badged.record_many([act(1), act(2)])
        outcome = badged.revoke("ann", "commenter", tier="bronze", by="mod", reason="spam")
        [revocation] = outcome.revocations
        records = store.awards("ann")
        assert [(r.award.tier, r.revocation) for r in records] == [
            ("bronze", revocation),
            ("silver", None),
        ]

    def test_revocation_marks_unrevoked_award(self, badged: Rewards, store: Store) -> None:
        """A revocation marks the award of its user, badge, tier, period and team not yet
        revoked."""
        badged.grant("ann", "helper", by="lead", reason="a", id="g1", at=T0)
        first = badged.revoke("ann", "helper", by="mod", reason="b", id="r1", at=T0)
        badged.grant("ann", "helper", by="lead", reason="c", id="g2", at=T0)
        second = badged.revoke("ann", "helper", by="mod", reason="d", id="r2", at=T0)
        records = store.awards("ann")
        assert [(r.award.activity_id, r.revocation) for r in records] == [
            ("g1", first.revocations[0]),
            ("g2", second.revocations[0]),
        ]

    def test_awards_persist(self, badged: Rewards, make_store: Callable[[], Store]) -> None:
        """Awards and revocations are visible to another store over the same database."""
        badged.record_many([act(1), act(2, kind="answer.upvoted", recipient="bob", teams=("t",))])
        badged.revoke("ann", "pioneer", by="mod", reason="x")
        other = make_store()
        assert [(r.award.badge, r.revoked) for r in other.awards("ann")] == [
            ("commenter", False),
            ("pioneer", True),
        ]

    def test_outcome_with_awards_stored(self, badged: Rewards, store: Store) -> None:
        """get_outcome returns awards, revocations and level changes as recorded."""
        leveled = badged.record(act(1))  # 2 points: level one
        assert leveled.level_changes
        assert store.get_outcome("a1") == leveled
        badged.record(act(2))
        outcome = badged.revoke("ann", "commenter", by="mod", reason="x", id="r")
        assert outcome.revocations
        assert store.get_outcome("r") == outcome

    def test_failure_stores_no_awards(self, store: Store) -> None:
        """An exception while effects are computed stores none of the batch's awards."""

        def explode(activity: Activity) -> bool:
            if activity.id == "a2":
                raise RuntimeError("boom")
            return True

        count = criteria.Count(kind="comment.created", when=explode)
        rewards = Rewards(store, badges=[Badge(id="c", criterion=count, threshold=1)])
        with pytest.raises(RuntimeError, match="boom"):
            rewards.record_many([act(1), act(2)])
        assert store.awards("ann") == []

    def test_state_values_persist(self, badged: Rewards, make_store: Callable[[], Store]) -> None:
        """State values that are lists and mappings persist (a streak's runs, holdings)."""
        days = [T0 + timedelta(days=n) for n in range(3)]
        badged.record_many([act(1, at=days[0]), act(2, at=days[1])])
        other = Rewards(make_store(), rules=RULES, badges=BADGES, levels=LEVELS)
        outcome = other.record(act(3, at=days[2]))
        # Day 3 of the streak; and commenter's tiers, already held, are not awarded again.
        assert [(w.badge, w.tier) for w in outcome.awards] == [("regular", None)]
