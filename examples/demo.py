"""A small team's simulated month on a wiki, then points, a profile and a ledger.

Run: python examples/demo.py [STORE_URL]   (default: sqlite:///e2badges-demo.db)
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta

from e2badges import Activity, Badge, Cap, FrozenClock, Level, PointRule, Rewards, Tier, criteria

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


BADGES = [
    Badge(
        id="author",
        name="Author",
        criterion=criteria.Count(kind="page.created"),
        tiers=[
            Tier(id="bronze", threshold=3),
            Tier(id="silver", threshold=10),
            Tier(id="gold", threshold=25),
        ],
    ),
    Badge(
        id="appreciated",
        name="Appreciated",
        description="Pages liked by 3 different people",
        criterion=criteria.Distinct(kind="page.liked", of="counterpart", who="recipient"),
        threshold=3,
    ),
    Badge(
        id="regular",
        name="Regular",
        description="Active 5 days in a row",
        criterion=criteria.Streak(kind="page.edited", grace=1),
        threshold=5,
    ),
    Badge(
        id="pioneer",
        name="Pioneer",
        description="Wrote the wiki's first page",
        criterion=criteria.First(kind="page.created"),
    ),
]
LEVELS = [
    Level(id="newcomer", name="Newcomer", threshold=0),
    Level(id="contributor", name="Contributor", threshold=100),
    Level(id="pillar", name="Pillar", threshold=400, badges=("regular",)),
]
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def simulate_month(rewards: Rewards, seed: int = 7) -> int:
    rnd = random.Random(seed)
    start = START
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
    batch = [a.model_copy(update={"id": f"demo-{n}"}) for n, a in enumerate(batch)]
    rewards.record_many(batch)
    return len(batch)


def main() -> None:
    # The embedded store: a SQLite file.  Activity ids are fixed, so running the demo
    # again records nothing twice and prints the same figures.
    url = sys.argv[1] if len(sys.argv) > 1 else "sqlite:///e2badges-demo.db"
    clock = FrozenClock(START + timedelta(days=30))
    with Rewards(
        url, rules=RULES, badges=BADGES, levels=LEVELS, clock=clock, timezone="Europe/Berlin"
    ) as rewards:
        count = simulate_month(rewards)
        print(f"Recorded {count} activities of a team of {len(TEAM)} over 30 days ({url}).\n")
        print("Points")
        for person in sorted(TEAM, key=lambda p: -rewards.balance(p)):
            held = ", ".join(
                a.badge + (f" ({a.tier})" if a.tier else "") for a in rewards.badges(person)
            )
            print(f"  {person:<8}{rewards.balance(person):>6}  {held}")

        profile = rewards.profile("chloe")
        print("\nProfile: chloe")
        level = profile.level
        if level is not None:
            name = level.level.name if level.level else "no level yet"
            nxt = (
                f", {level.target - level.current} points to {level.next.name}"
                if (level.next and level.target is not None)
                else ""
            )
            print(f"  level {level.number} {name}{nxt}")
        for award in profile.badges:
            tier = f" ({award.tier})" if award.tier else ""
            print(f"  earned {award.badge}{tier} on {award.at.astimezone(rewards.timezone):%d %b}")
        for step in profile.progress:
            tier = f" {step.tier}" if step.tier else ""
            print(f"  next: {step.badge}{tier}: {step.current:g} of {step.target:g}")

        print("\nLedger: chloe, last 8 lines")
        for line in rewards.explain("chloe", limit=8):
            why = (
                f"  ({line.limit})" if line.limit else "  (first-time bonus)" if line.bonus else ""
            )
            when = line.at.astimezone(rewards.timezone)
            print(f"  {when:%a %d %b %H:%M}  {line.rule:<8}{line.amount:>+4} {line.currency}{why}")


if __name__ == "__main__":
    main()
