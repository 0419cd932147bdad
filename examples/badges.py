"""A Q&A board's badges and levels, and what one person's profile shows.

Run:  python examples/badges.py
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from e2badges import Badge, FrozenClock, Level, PointRule, Rewards, Tier, criteria

START = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)  # a Monday

rewards = Rewards(
    rules=[
        PointRule(id="answer", kind="answer.created", actor_points=10),
        PointRule(id="accepted", kind="answer.accepted", recipient_points=25),
    ],
    badges=[
        Badge(
            id="answerer",
            name="Answerer",
            criterion=criteria.Count(kind="answer.created"),
            tiers=[
                Tier(id="bronze", threshold=1),
                Tier(id="silver", threshold=10),
                Tier(id="gold", threshold=50),
            ],
        ),
        Badge(
            id="regular",
            name="Regular",
            description="Answered on 5 days in a row (one day off allowed)",
            criterion=criteria.Streak(kind="answer.created", grace=1),
            threshold=5,
        ),
        Badge(
            id="helpful",
            name="Helpful",
            description="Answers accepted by 3 different people",
            criterion=criteria.Distinct(kind="answer.accepted", of="counterpart", who="recipient"),
            threshold=3,
        ),
        Badge(id="pioneer", name="Pioneer", criterion=criteria.First(kind="answer.created")),
        Badge(id="pillar", criterion=criteria.AllOf(badges=("regular", "helpful"))),
    ],
    levels=[
        Level(id="newcomer", name="Newcomer", threshold=0),
        Level(id="contributor", name="Contributor", threshold=50),
        Level(id="expert", name="Expert", threshold=200, badges=("regular",)),
    ],
    timezone="Europe/Berlin",
    clock=FrozenClock(START + timedelta(days=6)),
)

activities = [
    {"actor": "ann", "kind": "answer.created", "at": START + timedelta(days=day)}
    for day in (0, 1, 2, 4, 5)  # Thursday off: the grace bridges it
] + [
    {"actor": asker, "kind": "answer.accepted", "recipient": "ann", "at": START}
    for asker in ("bob", "cid")
]
for outcome in rewards.record_many(activities):
    for award in outcome.awards:
        tier = f" ({award.tier})" if award.tier else ""
        print(f"{award.at:%a %d %b}: {award.user} earned {award.badge}{tier}")
    for change in outcome.level_changes:
        print(f"{change.at:%a %d %b}: {change.user} reached level {change.new}")

profile = rewards.profile("ann")
print(f"\n{profile.user}: {profile.balances['points']} points")
if profile.level is not None and profile.level.level is not None:
    print(f"level {profile.level.number} ({profile.level.level.title})", end="")
    if profile.level.target is not None:
        print(f", {profile.level.target - profile.level.current} points to the next", end="")
    print()
for progress in profile.progress:
    tier = f" {progress.tier}" if progress.tier else ""
    print(f"  {progress.badge}{tier}: {progress.current:g} of {progress.target:g}")
