"""Levels: a ladder of thresholds on one currency, optionally gated by badges.

A person's level is the number of rungs they stand on, counted from the bottom:
level ``n`` needs the balance of level ``n``'s threshold *and* every badge that
level ``n`` or any level below it requires.  Rungs are not skipped: someone
with enough points for level 4 who lacks the badge level 3 requires is at
level 2.  Level 0 means no level yet.  A first level with threshold 0 asks for
no balance at all: it is held whatever the balance, even a negative one (after
penalties), by everyone who holds the badges it requires.  Because balances can
fall (penalties) and badges can be revoked, levels can go down as well as up.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from pydantic import field_validator

from ._errors import ConfigurationError
from ._limits import Text, check_description, check_name
from ._models import check_identifier
from ._rules import _Definition

__all__ = ["Ladder", "Level", "LevelStatus"]


class Level(_Definition):
    """One rung of the level ladder: reach ``threshold`` in ``currency`` and hold ``badges``."""

    id: Text
    threshold: int
    name: Text = ""
    description: Text = ""
    image: Text | None = None
    currency: Text = "points"
    badges: tuple[Text, ...] = ()

    @field_validator("id", "currency")
    @classmethod
    def _ident(cls, value: str) -> str:
        return check_identifier(value)

    @field_validator("name")
    @classmethod
    def _display_name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("description", "image")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else check_description(value)

    @field_validator("threshold", mode="before")
    @classmethod
    def _threshold(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, got {value!r}")
        if value < 0:
            raise ValueError(f"must not be negative, got {value}")
        return value

    @field_validator("badges")
    @classmethod
    def _badges(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for badge in value:
            check_identifier(badge)
        if len(set(value)) != len(value):
            raise ValueError("names a badge twice")
        return value

    @property
    def title(self) -> str:
        """Return the name to show: ``name``, or the id when it has none."""
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class LevelStatus:
    """Where a person stands on the ladder and what the next level needs.

    ``number`` is the level (0: none yet) and ``level`` its definition;
    ``next`` is the next level (None at the top), ``current`` the balance in the
    ladder's currency, ``target`` the next level's threshold and ``missing`` the
    badges the next level needs that the person does not hold.
    """

    number: int
    level: Level | None
    next: Level | None
    current: int
    target: int | None
    missing: tuple[str, ...] = ()


class Ladder:
    """The compiled level ladder: thresholds for bisection, badge gates in order."""

    __slots__ = ("badges", "currency", "gates", "levels", "thresholds")

    def __init__(
        self, levels: Sequence[Level], *, badges: Collection[str], currencies: Collection[str]
    ) -> None:
        if not levels:
            raise ValueError("a ladder needs at least one level")
        self.levels = tuple(levels)
        for level in self.levels:
            if not isinstance(level, Level):
                raise ConfigurationError(
                    "levels", f"expected Level, got {type(level).__name__}", subject="Rewards"
                )
        first = self.levels[0]
        self.currency = first.currency
        seen: set[str] = set()
        previous: Level | None = None
        for level in self.levels:
            subject = f"level {level.id!r}"
            if level.id in seen:
                raise ConfigurationError("id", "two levels share this id", subject=subject)
            seen.add(level.id)
            if level.currency != self.currency:
                raise ConfigurationError(
                    "currency",
                    f"every level uses one currency; level {first.id!r} uses "
                    f"{self.currency!r}, this one {level.currency!r}",
                    subject=subject,
                )
            if previous is not None and level.threshold <= previous.threshold:
                raise ConfigurationError(
                    "threshold",
                    f"thresholds must increase strictly: {level.threshold} does not exceed "
                    f"{previous.threshold}, the threshold of level {previous.id!r}",
                    subject=subject,
                )
            for badge in level.badges:
                if badge not in badges:
                    raise ConfigurationError(
                        "badges", f"names unknown badge {badge!r}", subject=subject
                    )
            previous = level
        if self.currency not in currencies:
            raise ConfigurationError(
                "currency",
                f"no point rule credits currency {self.currency!r}",
                subject=f"level {first.id!r}",
            )
        self.thresholds = [level.threshold for level in self.levels]
        self.gates = [(i, level.badges) for i, level in enumerate(self.levels) if level.badges]
        self.badges = frozenset(b for level in self.levels for b in level.badges)

    def number(self, balance: float, holds: Callable[[str], bool]) -> int:
        """Return the level of someone with ``balance`` who holds the badges ``holds`` accepts."""
        reached = bisect_right(self.thresholds, balance)
        if not reached and not self.thresholds[0]:
            # A first level with threshold 0 needs no balance: a negative one keeps it too.
            reached = 1
        for index, needs in self.gates:
            if index >= reached:
                break
            for badge in needs:
                if not holds(badge):
                    return index
        return reached

    def status(self, balance: int, holds: Callable[[str], bool]) -> LevelStatus:
        """Return the level of someone and what they need for the next one."""
        number = self.number(balance, holds)
        level = self.levels[number - 1] if number else None
        if number == len(self.levels):
            return LevelStatus(number, level, None, balance, None)
        following = self.levels[number]
        # Levels up to ``number`` are all met, so only the next level's own badges can be missing.
        missing = tuple(badge for badge in following.badges if not holds(badge))
        return LevelStatus(number, level, following, balance, following.threshold, missing)
