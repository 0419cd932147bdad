"""What a person sees of themselves: totals, level, badges, and progress toward the rest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ._levels import LevelStatus
from ._models import Award

__all__ = ["BadgeProgress", "Profile"]


@dataclass(frozen=True, slots=True)
class BadgeProgress:
    """How far a person is toward a badge, or its next tier, that they have not earned.

    ``current`` is their value and ``target`` the threshold ("7 of 10 comments to
    bronze"); for a streak ``current`` is the run still alive today and ``best``
    the longest run so far.  ``period`` is the current period of a repeatable
    badge.  For an all-of badge ``current`` counts the required badges held; for
    "first" and any-of badges it is 0 of 1.
    """

    badge: str
    tier: str | None
    current: float
    target: float
    period: str | None = None
    best: int | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """A person's totals, level, badges held, and progress toward the badges not yet earned.

    ``balances`` has every currency the rules credit (0 when never credited);
    ``level`` is None when no levels are defined; ``badges`` lists the awards
    the person holds, in award order; ``progress`` covers every badge that is
    not manual and not earned (or, for a tiered badge, its next tier; for a
    repeatable one, the current period), in definition order; a secret badge
    only once the person holds an award of it.
    """

    user: str
    balances: Mapping[str, int]
    level: LevelStatus | None
    badges: tuple[Award, ...]
    progress: tuple[BadgeProgress, ...]
