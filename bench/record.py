"""Throughput of record() and record_many() on the memory store, against a raw dict loop.

Run: python bench/record.py [--activities N] [--repeat R]

The ruleset has 10 point rules over 5 activity kinds (two rules per kind, with
daily, weekly, rolling and pair caps, once-per-object, a cooldown and a first-time
bonus).  The baseline is a plain Python loop over the same prebuilt activities that
dispatches by kind and accumulates the same per-person, per-currency sums in dicts,
with no limits: the least any implementation must do.  Both run in this process,
back to back, and the script prints medians and the ratio library / baseline.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from e2badges import Activity, Cap, PointRule, Rewards

KINDS = ["question.asked", "answer.posted", "comment.created", "answer.upvoted", "post.viewed"]

RULES = [
    PointRule(id="ask", kind="question.asked", actor_points=5, caps=(Cap(amount=50),)),
    PointRule(id="ask-karma", kind="question.asked", actor_points=1, currency="karma"),
    PointRule(
        id="answer",
        kind="answer.posted",
        actor_points=10,
        first_time_bonus=20,
        caps=(Cap(amount=200, window="week"),),
    ),
    PointRule(
        id="answer-karma",
        kind="answer.posted",
        actor_points=2,
        currency="karma",
        caps=(Cap(amount=40, window="7d"),),
    ),
    PointRule(id="comment", kind="comment.created", actor_points=2, caps=(Cap(amount=20),)),
    PointRule(
        id="comment-rep",
        kind="comment.created",
        recipient_points=1,
        currency="karma",
        cooldown=timedelta(minutes=5),
    ),
    PointRule(
        id="upvote",
        kind="answer.upvoted",
        actor_points=1,
        recipient_points=10,
        caps=(Cap(amount=30, per="pair"),),
    ),
    PointRule(
        id="upvote-once",
        kind="answer.upvoted",
        recipient_points=2,
        currency="karma",
        once_per_object=True,
    ),
    PointRule(
        id="view",
        kind="post.viewed",
        recipient_points=1,
        currency="views",
        caps=(Cap(amount=100, window="month", per="object"),),
    ),
    PointRule(id="view-points", kind="post.viewed", recipient_points=1, caps=(Cap(amount=25),)),
]


def make_activities(n: int, people: int, seed: int) -> list[Activity]:
    rnd = random.Random(seed)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        actor = f"u{rnd.randrange(people)}"
        recipient = f"u{rnd.randrange(people)}"
        out.append(
            Activity(
                id=f"a{i}",
                actor=actor,
                kind=rnd.choice(KINDS),
                recipient=recipient,
                object=f"p{rnd.randrange(people * 3)}",
                at=start + timedelta(seconds=i * 13),
            )
        )
    return out


def raw_loop(activities: list[Activity]) -> None:
    """Dispatch by kind and add each rule's fixed amounts into per-currency dicts."""
    by_kind: dict[str, list[tuple[str, int, int]]] = {}
    for rule in RULES:
        actor = rule.actor_points if isinstance(rule.actor_points, int) else 0
        recipient = rule.recipient_points if isinstance(rule.recipient_points, int) else 0
        by_kind.setdefault(rule.kind, []).append((rule.currency, actor, recipient))
    totals: dict[str, dict[str, int]] = {}
    for a in activities:
        for currency, actor_amount, recipient_amount in by_kind[a.kind]:
            book = totals.get(currency)
            if book is None:
                book = totals[currency] = {}
            if actor_amount:
                book[a.actor] = book.get(a.actor, 0) + actor_amount
            if recipient_amount and a.recipient is not None:
                book[a.recipient] = book.get(a.recipient, 0) + recipient_amount


def run_record_many(activities: list[Activity], batch: int = 1000) -> None:
    rewards = Rewards(rules=RULES)
    for i in range(0, len(activities), batch):
        rewards.record_many(activities[i : i + batch])


def run_record(activities: list[Activity]) -> None:
    rewards = Rewards(rules=RULES)
    for activity in activities:
        rewards.record(activity)


def rate(fn: Callable[[list[Activity]], None], activities: list[Activity], repeat: int) -> float:
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(activities)
        rates.append(len(activities) / (time.perf_counter() - t0))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    activities = make_activities(args.activities, args.people, seed=1)

    raw = rate(raw_loop, activities, args.repeat)
    many = rate(run_record_many, activities, args.repeat)
    one = rate(run_record, activities, args.repeat)
    print(f"activities: {args.activities:,}  people: {args.people:,}  rules: {len(RULES)}")
    print(f"raw dict loop        {raw:>12,.0f} activities/s")
    print(f"record_many (1,000)  {many:>12,.0f} activities/s  ratio {many / raw:7.2%}  (target 2%)")
    print(f"record()             {one:>12,.0f} activities/s  ratio {one / raw:7.2%}  (target 1%)")


if __name__ == "__main__":
    main()
