"""Properties of recording that hold for every stream of activities."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from e2badges import Activity, Cap, PointRule, Rewards

START = datetime(2026, 3, 1, tzinfo=UTC)
PEOPLE = ["ann", "bob", "carl", "dora"]
KINDS = ["comment.created", "answer.upvoted", "post.viewed"]

ORDER_FREE_RULES = [
    PointRule(id="c", kind="comment.created", actor_points=2),
    PointRule(id="up", kind="answer.upvoted", actor_points=1, recipient_points=10),
    PointRule(
        id="view",
        kind="post.viewed",
        recipient_points=lambda a: a.value or 0,
        currency="views",
        self_credit=True,
    ),
]
LIMITED_RULES = [
    PointRule(
        id="c",
        kind="comment.created",
        actor_points=5,
        first_time_bonus=3,
        caps=(Cap(amount=12), Cap(amount=30, window="7d")),
    ),
    PointRule(
        id="up",
        kind="answer.upvoted",
        actor_points=1,
        recipient_points=10,
        once_per_object=True,
        caps=(Cap(amount=20, per="pair", window="week"),),
    ),
    PointRule(
        id="view",
        kind="post.viewed",
        recipient_points=1,
        cooldown=timedelta(hours=1),
        caps=(Cap(amount=3, per="object", window="month"),),
    ),
]
# Rules with caps, some with a first-time bonus (a credit of its rule, under its caps),
# and each rule's caps as (days, amount): calendar days, or any run of rolling days.
CAPPED_RULES = [
    PointRule(
        id="c",
        kind="comment.created",
        actor_points=lambda a: a.value or 0,
        caps=(Cap(amount=40), Cap(amount=45, window="3d"), Cap(amount=60, window="7d")),
    ),
    PointRule(
        id="b",
        kind="comment.created",
        actor_points=lambda a: int(a.value or 0) // 2,
        first_time_bonus=30,
        caps=(Cap(amount=25), Cap(amount=50, window="3d")),
    ),
    PointRule(
        id="u",
        kind="answer.upvoted",
        actor_points=1,
        recipient_points=lambda a: a.value or 0,
        first_time_bonus=20,
        caps=(Cap(amount=30, window="7d"),),
    ),
]
CAPS = {"c": ((1, 40), (3, 45), (7, 60)), "b": ((1, 25), (3, 50)), "u": ((7, 30),)}


@st.composite
def activities(draw: st.DrawFn) -> Activity:
    return Activity(
        id=f"a{draw(st.integers(0, 10_000))}",
        actor=draw(st.sampled_from(PEOPLE)),
        kind=draw(st.sampled_from(KINDS)),
        recipient=draw(st.none() | st.sampled_from(PEOPLE)),
        object=draw(st.none() | st.sampled_from(["p1", "p2", "p3"])),
        value=draw(st.integers(0, 50)),
        at=START + timedelta(minutes=draw(st.integers(0, 60 * 24 * 20))),
    )


streams = st.lists(activities(), max_size=40, unique_by=lambda a: a.id)


def state(r: Rewards) -> tuple[dict[tuple[str, str], int], dict[str, list[object]]]:
    balances = {(p, c): r.balance(p, c) for p in PEOPLE for c in ("points", "views")}
    ledgers = {p: r.explain(p) for p in PEOPLE}
    return balances, ledgers  # type: ignore[return-value]


class TestLedgerProperties:
    @given(streams)
    def test_balance_is_sum_of_ledger(self, stream: list[Activity]) -> None:
        """Every balance equals the sum of that person's ledger lines in its currency."""
        r = Rewards(rules=LIMITED_RULES)
        r.record_many(stream)
        sums: dict[tuple[str, str], int] = defaultdict(int)
        for person in PEOPLE:
            for line in r.explain(person):
                sums[person, line.currency] += line.amount
        for person in PEOPLE:
            assert r.balance(person) == sums[person, "points"]

    @given(streams)
    def test_caps_hold_in_any_recording_order(self, stream: list[Activity]) -> None:
        """Whatever order activities are recorded in (late ones included), what a capped
        rule credits, first-time bonuses included, stays within each of its caps (for
        rule ``c``: 40 a day, 45 in any 3 days, 60 in any 7); replaying the log gives the
        same ledgers."""
        r = Rewards(rules=CAPPED_RULES)
        r.record_many([a for a in stream if a.kind != "post.viewed"])
        replay = Rewards(rules=CAPPED_RULES)
        replay.record_many(list(r.store.iter_activities()))
        for person in PEOPLE:
            lines = r.explain(person)
            assert replay.explain(person) == lines
            by_day: dict[tuple[str, int], int] = defaultdict(int)
            for line in lines:
                by_day[line.rule, line.at.date().toordinal()] += line.amount
            for rule, caps in CAPS.items():
                days_credited = {day for (of, day) in by_day if of == rule}
                for days, cap in caps:
                    for start in {day - i for day in days_credited for i in range(days)}:
                        window = range(start, start + days)
                        assert sum(by_day.get((rule, day), 0) for day in window) <= cap

    @given(streams)
    def test_duplicates_change_nothing(self, stream: list[Activity]) -> None:
        """A stream recorded twice, or with duplicates interleaved, leaves the state of once."""
        once = Rewards(rules=LIMITED_RULES)
        once.record_many(stream)

        twice = Rewards(rules=LIMITED_RULES)
        twice.record_many(stream)
        twice.record_many(stream)

        interleaved = Rewards(rules=LIMITED_RULES)
        for activity in stream:
            interleaved.record(activity)
            interleaved.record(stream[0])
            interleaved.record(activity)

        assert state(twice) == state(once)
        assert state(interleaved) == state(once)

    @given(streams, st.randoms(use_true_random=False))
    def test_order_free_rules_commute(self, stream: list[Activity], rnd: random.Random) -> None:
        """Without order-dependent limits, a permuted stream gives the same balances."""
        shuffled = list(stream)
        rnd.shuffle(shuffled)
        a = Rewards(rules=ORDER_FREE_RULES)
        a.record_many(stream)
        b = Rewards(rules=ORDER_FREE_RULES)
        for activity in shuffled:
            b.record(activity)
        assert state(a)[0] == state(b)[0]
