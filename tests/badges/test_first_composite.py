""" "First" badges (ties, late arrivals, teams) and all-of / any-of badges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from e2badges import Badge, Rewards, Tier, criteria

from .helpers import T0, act, awarded, held, revoked

ANSWER = "answer.created"


def first_rewards(scope: str = "everyone") -> Rewards:
    first = criteria.First(kind=ANSWER, scope=scope)  # type: ignore[arg-type]
    return Rewards(badges=[Badge(id="pioneer", criterion=first)])


class TestFirst:
    def test_first_in_organisation(self) -> None:
        """The first person to do it gets the badge; nobody after them does."""
        rewards = first_rewards()
        outcomes = rewards.record_many(
            [act(1, ANSWER, "ann"), act(2, ANSWER, "bob"), act(3, ANSWER, "ann")]
        )
        assert [awarded(o) for o in outcomes] == [[("ann", "pioneer", None)], [], []]
        assert outcomes[0].awards[0].rule == "first"

    def test_earlier_at_takes_over(self) -> None:
        """An activity recorded later with an earlier ``at`` takes the place: revoke, award."""
        rewards = first_rewards()
        rewards.record(act(1, ANSWER, "ann", at=T0))
        outcome = rewards.record(act(2, ANSWER, "bob", at=T0 - timedelta(hours=1)))
        assert revoked(outcome) == [("ann", "pioneer", None)]
        assert awarded(outcome) == [("bob", "pioneer", None)]
        revocation = outcome.revocations[0]
        assert (revocation.by, revocation.activity_id) == ("e2badges", "a2")
        assert held(rewards, "ann") == []
        assert [r.revoked for r in rewards.awards("ann")] == [True]

    def test_equal_at_smaller_id_wins(self) -> None:
        """At equal times the smaller activity id wins, whatever the recording order."""
        rewards = first_rewards()
        first = rewards.record(act("b", ANSWER, "bob", at=T0))
        second = rewards.record(act("a", ANSWER, "ann", at=T0))  # id "aa" < "ab"
        third = rewards.record(act("c", ANSWER, "cid", at=T0))
        assert awarded(first) == [("bob", "pioneer", None)]
        assert (awarded(second), revoked(second)) == (
            [("ann", "pioneer", None)],
            [("bob", "pioneer", None)],
        )
        assert (awarded(third), revoked(third)) == ([], [])

    def test_a_microsecond_decides_in_any_year(self) -> None:
        """One microsecond earlier wins over a smaller id up to year 2999 (times are
        compared exactly, not as float seconds, whose step is 1.9 µs from 2242)."""
        for year in (2026, 2241, 2990, 2999):
            rewards = first_rewards()
            at = T0.replace(year=year)
            rewards.record(act("z", ANSWER, "ann", at=at))
            outcome = rewards.record(act("a", ANSWER, "bob", at=at + timedelta(microseconds=1)))
            assert (outcome.awards, outcome.revocations) == ((), ()), year
            assert held(rewards, "ann") == [("pioneer", None)]

    def test_holder_earlier_again(self) -> None:
        """An even earlier activity of the holder keeps the place with them, no new award."""
        rewards = first_rewards()
        rewards.record(act(1, ANSWER, "ann", at=T0))
        outcome = rewards.record(act(2, ANSWER, "ann", at=T0 - timedelta(days=1)))
        assert (outcome.awards, outcome.revocations) == ((), ())
        assert len(rewards.awards("ann")) == 1

    def test_regained(self) -> None:
        """A person who lost the place gets it back with an even earlier activity."""
        rewards = first_rewards()
        rewards.record(act(1, ANSWER, "ann", at=T0))
        rewards.record(act(2, ANSWER, "bob", at=T0 - timedelta(days=1)))
        outcome = rewards.record(act(3, ANSWER, "ann", at=T0 - timedelta(days=2)))
        assert (awarded(outcome), revoked(outcome)) == (
            [("ann", "pioneer", None)],
            [("bob", "pioneer", None)],
        )
        assert [r.revoked for r in rewards.awards("ann")] == [True, False]

    def test_per_team(self) -> None:
        """With scope "team", each of the activity's teams has its own first."""
        rewards = first_rewards("team")
        one = rewards.record(act(1, ANSWER, "ann", teams=("red", "blue")))
        two = rewards.record(act(2, ANSWER, "bob", teams=("blue", "green")))
        assert [(w.user, w.team) for w in one.awards] == [("ann", "red"), ("ann", "blue")]
        assert [(w.user, w.team) for w in two.awards] == [("bob", "green")]
        early = rewards.record(act(3, ANSWER, "cid", teams=("blue",), at=T0 - timedelta(days=1)))
        assert [(r.user, r.team) for r in early.revocations] == [("ann", "blue")]
        assert [(w.user, w.team) for w in early.awards] == [("cid", "blue")]
        assert [w.team for w in rewards.badges("ann")] == ["red"]

    def test_team_scope_without_teams(self) -> None:
        """An activity without teams competes for no team's first."""
        rewards = first_rewards("team")
        assert rewards.record(act(1, ANSWER)).awards == ()


def composite_rewards(*, extra: tuple[Badge, ...] = ()) -> Rewards:
    badges = [
        Badge(id="asker", criterion=criteria.Count(kind="question.asked"), threshold=1),
        Badge(
            id="answerer",
            criterion=criteria.Count(kind=ANSWER),
            tiers=[Tier(id="bronze", threshold=1), Tier(id="silver", threshold=2)],
        ),
        Badge(id="helper", criterion=criteria.Manual()),
        Badge(id="both", criterion=criteria.AllOf(badges=("asker", "answerer"))),
        Badge(id="either", criterion=criteria.AnyOf(badges=("asker", "helper"))),
        Badge(id="star", criterion=criteria.AllOf(badges=("both", "helper"))),
        *extra,
    ]
    return Rewards(badges=badges)


class TestComposite:
    def test_all_of(self) -> None:
        """An all-of badge is awarded by the activity that completes the set."""
        rewards = composite_rewards()
        first = rewards.record(act(1, ANSWER))
        second = rewards.record(act(2, "question.asked"))
        assert awarded(first) == [("ann", "answerer", "bronze")]
        assert awarded(second) == [
            ("ann", "asker", None),
            ("ann", "both", None),
            ("ann", "either", None),
        ]
        assert second.awards[1].rule == "all_of"

    def test_more_tiers_do_not_reaward(self) -> None:
        """Another tier of a required badge does not award the all-of badge again."""
        rewards = composite_rewards()
        rewards.record_many([act(1, ANSWER), act(2, "question.asked")])
        assert awarded(rewards.record(act(3, ANSWER))) == [("ann", "answerer", "silver")]

    def test_any_of(self) -> None:
        """An any-of badge is awarded by the first required badge earned, once."""
        rewards = composite_rewards()
        grant = rewards.grant("ann", "helper", by="lead", reason="mentoring")
        assert awarded(grant) == [("ann", "helper", None), ("ann", "either", None)]
        assert "either" not in [b for _, b, _ in awarded(rewards.record(act(1, "question.asked")))]

    def test_nested(self) -> None:
        """A composite badge can require composite badges."""
        rewards = composite_rewards()
        rewards.record_many([act(1, ANSWER), act(2, "question.asked")])
        outcome = rewards.grant("ann", "helper", by="lead", reason="mentoring")
        assert awarded(outcome) == [("ann", "helper", None), ("ann", "star", None)]


class TestCascade:
    def test_revocation_cascades(self) -> None:
        """Revoking a required badge revokes the all-of badges that depended on it, in cascade."""
        rewards = composite_rewards()
        rewards.record_many([act(1, ANSWER), act(2, "question.asked")])
        rewards.grant("ann", "helper", by="lead", reason="mentoring")
        outcome = rewards.revoke("ann", "asker", by="mod", reason="spam questions")
        # "either" still holds through "helper"; "both" fails, and "star" needs "both".
        assert revoked(outcome) == [
            ("ann", "asker", None),
            ("ann", "both", None),
            ("ann", "star", None),
        ]
        assert {r.by for r in outcome.revocations} == {"mod"}
        assert outcome.revocations[1].reason == "required badge 'asker' was revoked"
        assert held(rewards, "ann") == [("answerer", "bronze"), ("either", None), ("helper", None)]

    def test_any_of_revoked_with_last(self) -> None:
        """An any-of badge is revoked when the last badge it could rest on is revoked."""
        rewards = composite_rewards()
        rewards.record(act(1, "question.asked"))
        rewards.grant("ann", "helper", by="lead", reason="mentoring")
        assert revoked(rewards.revoke("ann", "helper", by="lead", reason="oops")) == [
            ("ann", "helper", None)
        ]
        outcome = rewards.revoke("ann", "asker", by="mod", reason="spam")
        assert revoked(outcome) == [("ann", "asker", None), ("ann", "either", None)]

    def test_tier_revocation_keeps_badge(self) -> None:
        """Revoking one tier keeps a composite whose requirement still holds by another tier."""
        rewards = composite_rewards()
        rewards.record_many([act(1, ANSWER), act(2, ANSWER), act(3, "question.asked")])
        outcome = rewards.revoke("ann", "answerer", tier="bronze", by="mod", reason="dup")
        assert revoked(outcome) == [("ann", "answerer", "bronze")]

    def test_cascaded_badge_comes_back(self) -> None:
        """A badge revoked in cascade is awarded again when its requirements hold again."""
        rewards = composite_rewards()
        rewards.record_many([act(1, ANSWER), act(2, "question.asked")])
        rewards.revoke("ann", "asker", by="mod", reason="mistake")
        outcome = rewards.grant("ann", "asker", by="mod", reason="restored")
        assert awarded(outcome) == [
            ("ann", "asker", None),
            ("ann", "both", None),
            ("ann", "either", None),
        ]
        assert [(r.award.badge, r.revoked) for r in rewards.awards("ann")] == [
            ("answerer", False),
            ("asker", True),
            ("both", True),
            ("either", True),
            ("asker", False),
            ("both", False),
            ("either", False),
        ]

    def test_revoked_composite_stays_revoked(self) -> None:
        """A composite badge a person revoked is not awarded again when its requirements
        change."""
        rewards = composite_rewards()
        rewards.record_many([act(1, ANSWER), act(2, "question.asked")])
        rewards.revoke("ann", "both", by="mod", reason="gaming")
        rewards.revoke("ann", "asker", by="mod", reason="check")
        outcome = rewards.grant("ann", "asker", by="mod", reason="restored")
        assert awarded(outcome) == [("ann", "asker", None), ("ann", "either", None)]


def first_or_helped(
    composite: type[criteria.AllOf | criteria.AnyOf], first_declared: bool
) -> Rewards:
    """Return a Rewards whose ``known`` is ``composite`` of the first answer and an answer
    received, the two declared in either order."""
    first = Badge(id="first", criterion=criteria.First(kind=ANSWER))
    helped = Badge(id="helped", criterion=criteria.Count(kind=ANSWER, who="recipient"), threshold=1)
    known = Badge(id="known", criterion=composite(badges=("first", "helped")))
    return Rewards(badges=[first, helped, known] if first_declared else [helped, first, known])


class TestNetChange:
    """One activity that takes one requirement of a composite away and gives another."""

    @pytest.mark.parametrize("first_declared", [True, False])
    def test_any_of_still_held_is_not_revoked(self, first_declared: bool) -> None:
        """An any-of badge lost and earned again in cascade keeps its award: the outcome
        neither revokes nor awards it."""
        rewards = first_or_helped(criteria.AnyOf, first_declared)
        rewards.record(act(1, ANSWER, "ann", at=T0))
        outcome = rewards.record(act(2, ANSWER, "bob", at=T0 - timedelta(hours=1), recipient="ann"))
        assert revoked(outcome) == [("ann", "first", None)]
        assert sorted(awarded(outcome)) == [
            ("ann", "helped", None),
            ("bob", "first", None),
            ("bob", "known", None),
        ]
        assert [(r.award.badge, r.award.activity_id, r.revoked) for r in rewards.awards("ann")] == [
            ("first", "a1", True),
            ("known", "a1", False),
            ("helped", "a2", False),
        ]

    @pytest.mark.parametrize("first_declared", [True, False])
    def test_all_of_completed_and_broken_is_not_awarded(self, first_declared: bool) -> None:
        """An all-of badge earned and lost again within one activity is neither awarded nor
        revoked."""
        rewards = first_or_helped(criteria.AllOf, first_declared)
        rewards.record(act(1, ANSWER, "ann", at=T0))
        outcome = rewards.record(act(2, ANSWER, "bob", at=T0 - timedelta(hours=1), recipient="ann"))
        assert revoked(outcome) == [("ann", "first", None)]
        assert sorted(awarded(outcome)) == [("ann", "helped", None), ("bob", "first", None)]
        assert held(rewards, "ann") == [("helped", None)]
