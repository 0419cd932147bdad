"""Helpers for the leaderboard tests: a points rule that credits an activity's value."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from e2badges import Activity, FrozenClock, Leaderboard, PointRule, PointsMetric, Rewards

# Monday 2026-11-23 10:00 UTC (ISO week 2026-W48).
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

# Credits the actor the activity's value, so a test can give anyone any score.
SCORE = PointRule(id="score", kind="score", actor_points=lambda a: a.value or 0)

_ids = count()


def board(board_id: str = "b", **options: Any) -> Leaderboard:
    """Return a points board (in the ``points`` currency) with ``options``."""
    options.setdefault("metric", PointsMetric())
    return Leaderboard(id=board_id, **options)


def make(
    *boards: Leaderboard,
    rules: Sequence[PointRule] = (SCORE,),
    clock: FrozenClock | None = None,
    timezone: str = "UTC",
    **options: Any,
) -> Rewards:
    """Return a Rewards on a fresh memory store with these boards."""
    return Rewards(
        rules=rules,
        leaderboards=boards,
        clock=clock or FrozenClock(T0),
        timezone=timezone,
        **options,
    )


def at(minutes: float) -> datetime:
    """Return T0 plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


def score(
    rewards: Rewards,
    table: Iterable[tuple[str, float, datetime | float]],
    *,
    kind: str = "score",
    **extra: Any,
) -> None:
    """Record one ``score`` activity per ``(user, points, at or minutes after T0)``."""
    activities = []
    for user, points, when in table:
        moment = when if isinstance(when, datetime) else at(when)
        activities.append(
            Activity(id=f"t{next(_ids)}", actor=user, kind=kind, value=points, at=moment, **extra)
        )
    rewards.record_many(activities)


def listing(entries: Iterable[Any]) -> list[tuple[str, float, int]]:
    """Return entries as (user, score, rank) tuples."""
    return [(e.user, e.score, e.rank) for e in entries]
