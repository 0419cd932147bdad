"""What the conformance modules share: the time they start from, the board setup, and
the skip of the tests about the outbox for a store that keeps none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .. import (
    Activity,
    CountMetric,
    Leaderboard,
    PointRule,
    PointsMetric,
    TeamsScope,
    hookimpl,
)
from ..storage.base import Store

__all__ = ["BOARDS", "BOARD_RULES", "NO_OUTBOX", "T0", "Keeper", "needs_outbox", "scored"]

#: Monday 2026-03-02 09:00 UTC (ISO week 2026-W10), when the tests' clocks stand.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Leaderboards: a rule crediting an activity's value, a points board kept all time, per
# day and over 3 rolling days, and a teams board counting comments.
BOARD_RULES = (PointRule(id="score", kind="score", actor_points=lambda a: a.value or 0),)
BOARDS = (
    Leaderboard(id="pts", metric=PointsMetric(), windows=("all", "day", "3d")),
    Leaderboard(id="teams", metric=CountMetric(kind="score"), scope=TeamsScope()),
)


def scored(n: int, actor: str, value: float, day: int = 0, **extra: object) -> Activity:
    """Return a ``score`` activity ``s<n>`` worth ``value``, n minutes into day ``day``."""
    when = T0 + timedelta(days=day, minutes=n)
    return Activity(id=f"s{n}", actor=actor, kind="score", value=value, at=when, **extra)


class Keeper:
    """A plugin that keeps, in order, the ids of the outcome notifications delivered to
    it and ``board:period`` of each closed period."""

    name = "keeper"

    def __init__(self) -> None:
        self.received: list[str] = []

    @hookimpl
    def e2badges_notify_outcome(self, notification_id: str) -> None:
        self.received.append(notification_id)

    @hookimpl
    def e2badges_notify_period_close(self, board: str, period: str) -> None:
        self.received.append(f"{board}:{period}")


#: Why a test about the outbox is skipped for a store that keeps none.
NO_OUTBOX = "the store keeps no outbox (keeps_outbox is false)"


def needs_outbox(store: Store) -> None:
    """Skip the running test, saying why, if ``store`` keeps no outbox.

    For the tests about notifications: the outbox is optional (``keeps_outbox``),
    and Rewards refuses notification plugins over a store without one.  The other
    tests run over such a store without notification plugins.
    """
    if not store.keeps_outbox:
        pytest.skip(NO_OUTBOX)
