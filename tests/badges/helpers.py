"""Small builders shared by the badge tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from e2badges import Activity, Award, Outcome, Rewards

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday, ISO week 2026-W02


def act(
    n: int | str,
    kind: str = "comment.created",
    actor: str = "ann",
    *,
    at: datetime | None = None,
    day: float | None = None,
    **extra: Any,
) -> Activity:
    """Return activity ``a<n>`` at ``at``, or ``day`` days after T0, or T0 + n minutes."""
    if at is None:
        offset = timedelta(days=day) if day is not None else timedelta(minutes=int(n))
        at = T0 + offset
    return Activity(id=f"a{n}", actor=actor, kind=kind, at=at, **extra)


def awarded(outcomes: Outcome | Iterable[Outcome]) -> list[tuple[str, str, str | None]]:
    """Return (user, badge, tier) of every award in the outcomes, in order."""
    if isinstance(outcomes, Outcome):
        outcomes = [outcomes]
    return [(w.user, w.badge, w.tier) for o in outcomes for w in o.awards]


def revoked(outcomes: Outcome | Iterable[Outcome]) -> list[tuple[str, str, str | None]]:
    """Return (user, badge, tier) of every revocation in the outcomes, in order."""
    if isinstance(outcomes, Outcome):
        outcomes = [outcomes]
    return [(r.user, r.badge, r.tier) for o in outcomes for r in o.revocations]


def held(rewards: Rewards, user: str) -> list[tuple[str, str | None]]:
    """Return (badge, tier) of the awards ``user`` holds, in award order."""
    return [(w.badge, w.tier) for w in rewards.badges(user)]


def slots(awards: Iterable[Award]) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """Return the (user, badge, tier, period, team) slot of each award."""
    return [(w.user, w.badge, w.tier, w.period, w.team) for w in awards]
