"""A week of a Q&A board: a weekly points board, a rolling 30-day count, a teams board.

Run from the repository root:

    PYTHONPATH=src python examples/leaderboard.py
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from e2badges import (
    Activity,
    CountMetric,
    FrozenClock,
    Leaderboard,
    PointRule,
    PointsMetric,
    Rewards,
    TeamsScope,
)

PEOPLE = {
    "ann": "support",
    "bob": "support",
    "cat": "sales",
    "dan": "sales",
    "eve": "dev",
    "fay": "dev",
    "gus": "dev",
}


def main() -> None:
    clock = FrozenClock(datetime(2026, 11, 27, 17, 0, tzinfo=UTC))
    rewards = Rewards(
        rules=[
            PointRule(id="answer", kind="answer.created", actor_points=5),
            PointRule(id="upvote", kind="answer.upvoted", recipient_points=10),
        ],
        leaderboards=[
            Leaderboard(id="points", metric=PointsMetric(), windows=("week", "all")),
            Leaderboard(id="answers", metric=CountMetric(kind="answer.created"), windows=("30d",)),
            Leaderboard(
                id="teams",
                metric=CountMetric(kind="answer.created"),
                scope=TeamsScope(divide_by_size=True, team_sizes={"support": 2, "sales": 2}),
                windows=("week",),
            ),
        ],
        clock=clock,
        timezone="Europe/Berlin",
    )
    rng = random.Random(7)
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    for n in range(200):
        actor = rng.choice(list(PEOPLE))
        at = monday + timedelta(minutes=rng.randint(0, 4 * 24 * 60))
        if rng.random() < 0.6:
            rewards.record(
                Activity(actor=actor, kind="answer.created", at=at, teams=(PEOPLE[actor],))
            )
        else:
            author = rng.choice([p for p in PEOPLE if p != actor])
            rewards.record(
                Activity(
                    actor=actor,
                    kind="answer.upvoted",
                    recipient=author,
                    at=at,
                    object=f"answer-{n}",
                )
            )
    rewards.set_leaderboard_opt_out("gus")

    points = rewards.leaderboard("points")
    print(f"Points, week {points.period()}:")
    for entry in points.top(5):
        print(f"  {entry.rank}. {entry.user:<4} {entry.score}")
    print(f"gus (opted out) sees himself at rank {points.rank('gus', viewer='gus')}")
    print(f"eve beats {points.percentile('eve'):.0f}% of the others")
    print("Around dan:", [(e.rank, e.user) for e in points.around("dan", 3)])
    print(
        "Answers, last 30 days:", [(e.user, e.score) for e in rewards.leaderboard("answers").top(3)]
    )
    print(
        "Answers per member this week:",
        [(e.team, round(e.score, 1)) for e in rewards.leaderboard("teams").top()],
    )


if __name__ == "__main__":
    main()
