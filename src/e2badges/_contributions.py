"""Put plugins' criterion kinds and metrics in place of the names badges and boards use.

A plugin contributes, under a name, either a ready criterion (metric) or a
function of keyword options returning one.  A badge whose criterion is
``criteria.Plugin(name=..., options=...)`` (a board whose metric is
``PluginMetric(...)``) gets the contribution in its place when the Rewards
instance is built, and is checked again with it, so a plugin's criterion obeys
every rule a built-in one does.  A function is called with the options as keyword
arguments: its own dict of them, whose values are the definition's read-only
ones (a list or dict in them raises TypeError on a change in place), so a plugin
cannot change the definition it was named by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, get_args

from pydantic import BaseModel

from ._badges import Badge, Criterion, Plugin
from ._errors import ConfigurationError
from ._leaderboards import Leaderboard, Metric, PluginMetric

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


def _resolve(
    definitions: Sequence[Any],
    *,
    field: str,
    placeholder: type[BaseModel],
    union: Any,
    registry: Mapping[str, Any],
    what: str,
    owner: str,
) -> tuple[Any, ...]:
    """Return ``definitions`` with each ``placeholder`` in ``field`` replaced and rechecked."""
    # The classes a contribution may be: the members of the field's union but the
    # placeholder (a PointRule or another model is refused like any other value).
    accepted = tuple(c for c in get_args(get_args(union)[0]) if c is not placeholder)
    out: list[Any] = []
    for definition in definitions:
        named = getattr(definition, field, None)
        if not isinstance(named, placeholder):
            out.append(definition)
            continue
        subject = f"{owner} {definition.id!r}"
        name: str = getattr(named, "name")  # noqa: B009  # both placeholders have a name
        options: Mapping[str, Any] = getattr(named, "options")  # noqa: B009  # and options
        value = _contribution(registry, name, options, what, subject)
        if not isinstance(value, accepted):
            raise ConfigurationError(
                what, f"the plugin's {what} {name!r} gave {value!r}, not a {what}", subject=subject
            )
        out.append(_rebuilt(definition, field, value))
    return tuple(out)


def resolve_badges(badges: Sequence[Badge], criteria: Mapping[str, Any]) -> tuple[Badge, ...]:
    """Return ``badges`` with every plugin criterion replaced by its contribution."""
    return _resolve(
        badges,
        field="criterion",
        placeholder=Plugin,
        union=Criterion,
        registry=criteria,
        what="criterion",
        owner="badge",
    )


def resolve_boards(
    boards: Sequence[Leaderboard], metrics: Mapping[str, Any]
) -> tuple[Leaderboard, ...]:
    """Return ``boards`` with every plugin metric replaced by its contribution."""
    return _resolve(
        boards,
        field="metric",
        placeholder=PluginMetric,
        union=Metric,
        registry=metrics,
        what="metric",
        owner="leaderboard",
    )
