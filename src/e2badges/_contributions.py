"""Put plugins' criterion kinds and metrics in place of the names badges and boards use.

A plugin contributes, under a name, either a ready criterion (metric) or a
function of keyword options returning one.  A badge whose criterion is
``criteria.Plugin(name=..., options=...)`` (a board whose metric is
``PluginMetric(...)``) gets the contribution in its place when the Rewards
instance is built, and is checked again with it, so a plugin's criterion obeys
every rule a built-in one does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from ._badges import Badge, Plugin
from ._errors import ConfigurationError
from ._leaderboards import Leaderboard, PluginMetric

__all__ = ["resolve_badges", "resolve_boards"]


def _contribution(
    registry: Mapping[str, Any], name: str, options: Mapping[str, Any], what: str, subject: str
) -> Any:
    found = registry.get(name)
    if found is None:
        known = ", ".join(sorted(registry)) or "none"
        raise ConfigurationError(
            what,
            f"no plugin contributed the {what} {name!r} (contributed: {known})",
            subject=subject,
        )
    if isinstance(found, BaseModel):
        if options:
            raise ConfigurationError(what, f"the {what} {name!r} takes no options", subject=subject)
        return found
    try:
        return found(**options)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            what, f"the plugin's {what} {name!r} refused its options: {exc}", subject=subject
        ) from None


def _rebuilt(model: BaseModel, field: str, value: Any) -> Any:
    data = {name: getattr(model, name) for name in type(model).model_fields}
    data[field] = value
    return type(model)(**data)


def resolve_badges(badges: Sequence[Badge], criteria: Mapping[str, Any]) -> tuple[Badge, ...]:
    """Return ``badges`` with every plugin criterion replaced by its contribution."""
    out: list[Badge] = []
    for given in badges:
        badge = given
        criterion = getattr(badge, "criterion", None)
        if isinstance(criterion, Plugin):
            subject = f"badge {badge.id!r}"
            value = _contribution(criteria, criterion.name, criterion.options, "criterion", subject)
            if isinstance(value, Plugin) or not isinstance(value, BaseModel):
                raise ConfigurationError(
                    "criterion",
                    f"the plugin's criterion {criterion.name!r} gave {value!r}, not a criterion",
                    subject=subject,
                )
            badge = _rebuilt(badge, "criterion", value)
        out.append(badge)
    return tuple(out)


def resolve_boards(
    boards: Sequence[Leaderboard], metrics: Mapping[str, Any]
) -> tuple[Leaderboard, ...]:
    """Return ``boards`` with every plugin metric replaced by its contribution."""
    out: list[Leaderboard] = []
    for given in boards:
        board = given
        metric = getattr(board, "metric", None)
        if isinstance(metric, PluginMetric):
            subject = f"leaderboard {board.id!r}"
            value = _contribution(metrics, metric.name, metric.options, "metric", subject)
            if isinstance(value, PluginMetric) or not isinstance(value, BaseModel):
                raise ConfigurationError(
                    "metric",
                    f"the plugin's metric {metric.name!r} gave {value!r}, not a metric",
                    subject=subject,
                )
            board = _rebuilt(board, "metric", value)
        out.append(board)
    return tuple(out)
