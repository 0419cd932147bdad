"""A small team's simulated month on a wiki, then points, a profile and a ledger.

Run: python examples/demo.py [STORE_URL]
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta

from e2badges import Activity, Cap, PointRule, Rewards

TEAM = ["ana", "ben", "chloe", "dev", "emil", "fatou", "goran", "hana"]
# How active each person is: a few heavy contributors, several occasional, one lurker.
ACTIVITY = {"ana": 9, "ben": 5, "chloe": 3, "dev": 2, "emil": 2, "fatou": 1, "goran": 1, "hana": 0}

RULES = [
    PointRule(
        id="page",
        kind="page.created",
        actor_points=10,
        first_time_bonus=15,
        description="Write a page",
    ),
    PointRule(
        id="edit",
        kind="page.edited",
        actor_points=2,
        cooldown=timedelta(minutes=30),
        caps=(Cap(amount=20),),
        description="Improve a page (20 a day at most)",
    ),
    PointRule(
        id="comment",
        kind="comment.created",
        actor_points=1,
        recipient_points=1,
        caps=(Cap(amount=10),),
        description="Discuss a page",
    ),
    PointRule(
        id="like",
        kind="page.liked",
        recipient_points=5,
        once_per_object=True,
        caps=(Cap(amount=15, per="pair", window="week"),),
        description="Your page is liked (once per person and page)",
    ),
]


def simulate_month(rewards: Rewards, seed: int = 7) -> int:
    rnd = random.Random(seed)
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    pages: list[tuple[str, str]] = []
    batch = []
    for day in range(30):
        for person, weight in ACTIVITY.items():
            for _ in range(rnd.randint(0, weight)):
                at = start + timedelta(days=day, minutes=rnd.randrange(9 * 60))
                choice = rnd.random()
                if choice < 0.2 or not pages:
                    page = f"page-{len(pages) + 1}"
                    pages.append((page, person))
                    batch.append(Activity(actor=person, kind="page.created", object=page, at=at))
                    continue
                page, author = rnd.choice(pages)
                kind = (
                    "page.edited"
                    if choice < 0.5
                    else "comment.created"
                    if choice < 0.8
                    else "page.liked"
                )
                batch.append(
                    Activity(actor=person, kind=kind, object=page, recipient=author, at=at)
                )
    batch.sort(key=lambda a: a.at or start)
    rewards.record_many(batch)
    return len(batch)


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "memory://"
    with Rewards(url, rules=RULES, timezone="Europe/Berlin") as rewards:
        count = simulate_month(rewards)
        print(f"Recorded {count} activities of a team of {len(TEAM)} over 30 days ({url}).\n")
        print("Points")
        for person in sorted(TEAM, key=lambda p: -rewards.balance(p)):
            print(f"  {person:<8}{rewards.balance(person):>6}")
        print("\nProfile: chloe")
        lines = rewards.explain("chloe")
        earned = sum(line.amount for line in lines)
        limited = [line for line in lines if line.limit]
        print(
            f"  balance {rewards.balance('chloe')} from {len(lines)} ledger lines "
            f"({earned} credited, {len(limited)} stopped or reduced by a limit)"
        )
        by_rule: dict[str, int] = {}
        for line in lines:
            by_rule[line.rule] = by_rule.get(line.rule, 0) + line.amount
        for rule in RULES:
            print(f"  {rule.description:<48}{by_rule.get(rule.id, 0):>5}")
        print("\nLedger: chloe, last 8 lines")
        for line in rewards.explain("chloe", limit=8):
            why = (
                f"  ({line.limit})" if line.limit else "  (first-time bonus)" if line.bonus else ""
            )
            print(
                f"  {line.at:%a %d %b %H:%M}  {line.rule:<8}{line.amount:>+4} {line.currency}{why}"
            )


if __name__ == "__main__":
    main()
