"""Manual grants and revocations: recorded as activities, idempotent, validated up front."""

from __future__ import annotations

from datetime import timedelta

import pytest

from e2badges import (
    GRANT_KIND,
    REVOKE_KIND,
    Activity,
    Badge,
    InvalidActivityError,
    PointRule,
    Rewards,
    Tier,
    UnknownBadgeError,
    criteria,
)

from .helpers import T0, act, awarded, held, revoked

BADGES = [
    Badge(id="helper", criterion=criteria.Manual(), name="Helpful"),
    Badge(id="star", criterion=criteria.Manual(), repeat="month"),
    Badge(
        id="commenter",
        criterion=criteria.Count(kind="comment.created"),
        tiers=[Tier(id="bronze", threshold=1), Tier(id="silver", threshold=3)],
    ),
]


@pytest.fixture
def rewards() -> Rewards:
    return Rewards(
        rules=[PointRule(id="c", kind="comment.created", actor_points=1)],
        badges=BADGES,
        kinds=["comment.created"],
    )


class TestGrant:
    def test_grant_is_an_activity(self, rewards: Rewards) -> None:
        """A grant is recorded as a reserved-kind activity: grantor as actor, user as recipient."""
        outcome = rewards.grant("ann", "helper", by="lead", reason="mentoring", id="g1", at=T0)
        assert awarded(outcome) == [("ann", "helper", None)]
        assert outcome.awards[0].rule == "manual"
        assert outcome.awards[0].activity_id == "g1"
        stored = rewards.activity("g1")
        assert stored is not None
        assert (stored.kind, stored.actor, stored.recipient) == (GRANT_KIND, "lead", "ann")
        assert stored.attributes == {"badge": "helper", "reason": "mentoring"}

    def test_idempotent_by_id(self, rewards: Rewards) -> None:
        """Granting again with the same id changes nothing and returns the first outcome."""
        first = rewards.grant("ann", "helper", by="lead", reason="mentoring", id="g1")
        assert rewards.grant("ann", "helper", by="lead", reason="mentoring", id="g1") == first
        assert len(rewards.awards("ann")) == 1

    def test_granting_held_badge_is_noop(self, rewards: Rewards) -> None:
        """Granting a badge the person holds awards nothing."""
        rewards.grant("ann", "helper", by="lead", reason="mentoring")
        assert rewards.grant("ann", "helper", by="boss", reason="again").awards == ()

    def test_grant_tier(self, rewards: Rewards) -> None:
        """A tier of a measured badge can be granted; reaching it later awards nothing more."""
        rewards.grant("ann", "commenter", tier="silver", by="lead", reason="migrated")
        outcomes = rewards.record_many([act(i) for i in (1, 2, 3)])
        assert [awarded(o) for o in outcomes] == [[("ann", "commenter", "bronze")], [], []]

    def test_repeatable_grant_per_period(self, rewards: Rewards) -> None:
        """A repeatable manual badge is granted once per period ("star of the month")."""
        jan = rewards.grant("ann", "star", by="lead", reason="launch", at=T0)
        again = rewards.grant("ann", "star", by="lead", reason="again", at=T0 + timedelta(days=1))
        feb = rewards.grant("ann", "star", by="lead", reason="demo", at=T0 + timedelta(days=31))
        assert [w.period for w in (*jan.awards, *again.awards, *feb.awards)] == [
            "2026-01",
            "2026-02",
        ]

    def test_recorded_directly(self, rewards: Rewards) -> None:
        """A grant activity recorded with record() works though the kind is not declared."""
        grant = Activity(
            actor="lead",
            kind=GRANT_KIND,
            recipient="bob",
            at=T0,
            attributes={"badge": "helper", "reason": "imported"},
        )
        assert awarded(rewards.record(grant)) == [("bob", "helper", None)]


class TestRevoke:
    def test_revocation_kept_in_history(self, rewards: Rewards) -> None:
        """A revoked award stays in the history, marked revoked, with grantor and reason."""
        rewards.grant("ann", "helper", by="lead", reason="mentoring")
        outcome = rewards.revoke("ann", "helper", by="mod", reason="left the team", id="r1")
        assert revoked(outcome) == [("ann", "helper", None)]
        [record] = rewards.awards("ann")
        assert record.revoked
        assert record.revocation is not None
        assert (record.revocation.by, record.revocation.reason) == ("mod", "left the team")
        assert record.revocation.activity_id == "r1"
        assert rewards.badges("ann") == []
        stored = rewards.activity("r1")
        assert stored is not None
        assert stored.kind == REVOKE_KIND

    def test_revoking_nothing_is_noop(self, rewards: Rewards) -> None:
        """Revoking a badge the person does not hold revokes nothing."""
        assert rewards.revoke("ann", "helper", by="mod", reason="x").revocations == ()

    def test_revoked_not_reawarded_automatically(self, rewards: Rewards) -> None:
        """A revoked measured badge is not awarded again by later activities."""
        rewards.record(act(1))
        rewards.revoke("ann", "commenter", tier="bronze", by="mod", reason="spam")
        outcomes = rewards.record_many([act(2), act(3)])
        assert [awarded(o) for o in outcomes] == [[], [("ann", "commenter", "silver")]]

    def test_regrant_after_revoke(self, rewards: Rewards) -> None:
        """A new grant awards a revoked badge again; the history keeps both awards."""
        rewards.grant("ann", "helper", by="lead", reason="mentoring")
        rewards.revoke("ann", "helper", by="mod", reason="mistake")
        outcome = rewards.grant("ann", "helper", by="mod", reason="restored")
        assert awarded(outcome) == [("ann", "helper", None)]
        assert [r.revoked for r in rewards.awards("ann")] == [True, False]

    def test_revoke_every_tier(self, rewards: Rewards) -> None:
        """Without a tier, every held tier of the badge is revoked."""
        rewards.record_many([act(i) for i in (1, 2, 3)])
        outcome = rewards.revoke("ann", "commenter", by="mod", reason="spam")
        assert revoked(outcome) == [("ann", "commenter", "bronze"), ("ann", "commenter", "silver")]

    def test_revoke_one_period(self, rewards: Rewards) -> None:
        """With a period, only that period's award of a repeatable badge is revoked."""
        rewards.grant("ann", "star", by="lead", reason="a", at=T0)
        rewards.grant("ann", "star", by="lead", reason="b", at=T0 + timedelta(days=31))
        outcome = rewards.revoke("ann", "star", period="2026-01", by="mod", reason="c")
        assert [r.period for r in outcome.revocations] == ["2026-01"]
        assert held(rewards, "ann") == [("star", None)]
        assert [w.period for w in rewards.badges("ann")] == ["2026-02"]


class TestManualValidation:
    def test_unknown_badge(self, rewards: Rewards) -> None:
        """Granting an unknown badge raises UnknownBadgeError and records nothing."""
        with pytest.raises(UnknownBadgeError) as info:
            rewards.grant("ann", "ghost", by="lead", reason="x")
        assert info.value.field == "attributes.badge"
        assert "unknown badge 'ghost'" in str(info.value)
        assert rewards.store.count_activities() == 0

    def test_tier_required(self, rewards: Rewards) -> None:
        """Granting a tiered badge without a tier is refused, naming the tiers."""
        with pytest.raises(InvalidActivityError, match=r"has tiers \(bronze, silver\)"):
            rewards.grant("ann", "commenter", by="lead", reason="x")

    def test_unknown_tier(self, rewards: Rewards) -> None:
        """Naming a tier the badge does not have is refused."""
        with pytest.raises(InvalidActivityError, match="no tier 'gold'"):
            rewards.revoke("ann", "commenter", tier="gold", by="lead", reason="x")
        with pytest.raises(InvalidActivityError, match="it has no tiers"):
            rewards.grant("ann", "helper", tier="gold", by="lead", reason="x")

    def test_reason_required(self, rewards: Rewards) -> None:
        """A grant or revocation needs a reason."""
        with pytest.raises(InvalidActivityError) as info:
            rewards.grant("ann", "helper", by="lead", reason=" ")
        assert info.value.field == "attributes.reason"

    def test_batch_with_bad_grant_stores_nothing(self, rewards: Rewards) -> None:
        """A batch holding a malformed grant stores nothing of the batch."""
        bad = Activity(actor="lead", kind=GRANT_KIND, attributes={"badge": "helper"})
        with pytest.raises(InvalidActivityError, match="recipient"):
            rewards.record_many([act(1), bad])
        assert rewards.store.count_activities() == 0

    def test_unknown_attribute(self, rewards: Rewards) -> None:
        """A grant activity with an attribute it does not take is refused."""
        grant = Activity(
            actor="lead",
            kind=GRANT_KIND,
            recipient="ann",
            attributes={"badge": "helper", "reason": "x", "period": "2026-01"},
        )
        with pytest.raises(InvalidActivityError) as info:
            rewards.record(grant)
        assert info.value.field == "attributes.period"
