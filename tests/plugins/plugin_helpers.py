"""Plugins and helpers shared by the plugin tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from e2badges import (
    Activity,
    Award,
    FrozenClock,
    LevelChange,
    Outcome,
    PointRule,
    Revocation,
    Rewards,
    hookimpl,
)
from e2badges._state import StateView

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

RULES = (
    PointRule(id="comment", kind="comment.created", actor_points=2),
    PointRule(
        id="rating",
        kind="rating.given",
        recipient_points=lambda a: a.value or 0,
    ),
)


def act(n: int, actor: str = "ann", kind: str = "comment.created", **extra: Any) -> Activity:
    """Return activity ``a<n>`` at T0 + n minutes."""
    return Activity(id=f"a{n}", actor=actor, kind=kind, at=T0 + timedelta(minutes=n), **extra)


def rewards_with(*plugins: object, clock: FrozenClock | None = None, **options: Any) -> Rewards:
    """Return a Rewards with the test rules and ``plugins`` (no installed plugins)."""
    options.setdefault("rules", RULES)
    return Rewards(
        clock=clock or FrozenClock(T0), plugins=plugins, load_entrypoints=False, **options
    )


class Recorder:
    """A notifier that keeps every call it receives as (hook, what, notification id)."""

    def __init__(self, name: str = "recorder", *, failing: bool = False) -> None:
        self.name = name
        self.failing = failing
        self.calls: list[tuple[str, Any, str]] = []

    def _got(self, hook: str, what: Any, notification_id: str) -> None:
        if self.failing:
            raise RuntimeError(f"{self.name} is down")
        self.calls.append((hook, what, notification_id))

    @hookimpl
    def e2badges_notify_outcome(
        self, activity: Activity, outcome: Outcome, notification_id: str
    ) -> None:
        self._got("outcome", (activity.id, outcome), notification_id)

    @hookimpl
    def e2badges_notify_award(self, award: Award, notification_id: str) -> None:
        self._got("award", award, notification_id)

    @hookimpl
    def e2badges_notify_revocation(self, revocation: Revocation, notification_id: str) -> None:
        self._got("revocation", revocation, notification_id)

    @hookimpl
    def e2badges_notify_level_change(self, change: LevelChange, notification_id: str) -> None:
        self._got("level", change, notification_id)

    @hookimpl
    def e2badges_notify_period_close(
        self, board: str, period: str, standings: Sequence[Mapping[str, Any]], notification_id: str
    ) -> None:
        self._got("period", (board, period, list(standings)), notification_id)

    def hooks(self) -> list[str]:
        """Return the hooks called, in order."""
        return [hook for hook, _what, _nid in self.calls]


def stub_badges(rewards: Rewards) -> None:
    """Make the engine award, revoke and change levels as activity attributes say.

    Badges are built on another branch; until they merge, this stands in for badge
    and level rules so that the notification hooks can be driven through record().
    ``attributes={"award": "helper"}`` awards badge ``helper`` to the actor,
    ``{"revoke": "helper"}`` revokes it, ``{"level": 2}`` moves the actor from
    level 1 to 2.
    """
    evaluate = rewards.engine.evaluate

    def with_badges(
        activity: Activity, view: StateView, boards: Any = None, *, now: Any = None
    ) -> Outcome:
        outcome = evaluate(activity, view, boards, now=now)
        attrs = activity.attributes
        at = activity.at
        assert at is not None
        awards = revocations = levels = ()
        if "award" in attrs:
            awards = (Award(activity.actor, attrs["award"], "gold", None, at, activity.id, "stub"),)
        if "revoke" in attrs:
            revocations = (
                Revocation(
                    activity.actor, attrs["revoke"], None, None, at, activity.id, "mod", "spam"
                ),
            )
        if "level" in attrs:
            levels = (
                LevelChange(activity.actor, attrs["level"] - 1, attrs["level"], at, activity.id),
            )
        return dataclasses.replace(
            outcome, awards=awards, revocations=revocations, level_changes=levels
        )

    rewards.engine.evaluate = with_badges  # type: ignore[method-assign]
