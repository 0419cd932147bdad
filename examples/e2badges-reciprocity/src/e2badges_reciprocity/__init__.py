"""e2badges-reciprocity: an example e2badges plugin package.

Two plugins, each found by e2badges through the ``e2badges`` entry-point group:

* ``reciprocity`` (:class:`ReciprocityGuard`) refuses or zero-rates the rating
  that closes a mutual high-rating ring;
* ``webhook`` (:class:`WebhookNotifier`) posts events as JSON to a URL.

Installed plugins are configured from the environment (see
:func:`guard_from_env` and :func:`webhook_from_env`) and stay inactive until
then; or pass configured instances to ``Rewards(plugins=[...])``, which replace
the installed ones of the same name.
"""

from __future__ import annotations

import math
import os
from datetime import timedelta

from e2badges import ActivityKind, ConfigurationError

from .guard import ReciprocityGuard
from .webhook import EVENTS, WebhookNotifier, idempotency_key

__all__ = [
    "EVENTS",
    "ReciprocityGuard",
    "WebhookNotifier",
    "guard_from_env",
    "idempotency_key",
    "webhook_from_env",
]

#: The most days a timedelta holds.
_MAX_DAYS = timedelta.max.days


def _refuse(name: str, reason: str) -> ConfigurationError:
    return ConfigurationError(name, reason, subject="environment")


def _env_number(name: str, default: float) -> float:
    """Return the finite number in variable ``name``, or ``default`` when it is unset."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _refuse(name, f"{raw!r} is not a number") from None
    if not math.isfinite(value):
        raise _refuse(name, f"{raw!r} is not a finite number")
    return value


def _env_days(name: str, default: float) -> timedelta:
    """Return the duration of the number of days in variable ``name`` (``default`` when
    unset): more than 0, at least a microsecond, and at most what a timedelta holds."""
    days = _env_number(name, default)
    if days <= 0:
        raise _refuse(name, f"{days:g} days: must be more than 0 days")
    if days > _MAX_DAYS:
        raise _refuse(name, f"{days:g} days: must be at most {_MAX_DAYS} days")
    window = timedelta(days=days)
    if not window:
        raise _refuse(name, f"{days:g} days: must be at least a microsecond")
    return window


def _env_kinds(name: str, default: str) -> list[str]:
    """Return the comma-separated activity kinds in variable ``name``, each checked as
    e2badges checks a kind (``ActivityKind``)."""
    kinds = [kind.strip() for kind in os.environ.get(name, default).split(",") if kind.strip()]
    if not kinds:
        raise _refuse(name, "give at least one kind, such as 'rating.given'")
    for kind in kinds:
        try:
            ActivityKind(name=kind)
        except ConfigurationError as exc:
            raise _refuse(name, exc.reason) from None
    return kinds


def guard_from_env() -> ReciprocityGuard | None:
    """Build the guard from ``E2BADGES_RECIPROCITY_*`` variables, or return None.

    ``E2BADGES_RECIPROCITY_MODE`` (``refuse`` or ``zero``) turns it on;
    ``..._KINDS`` (comma-separated activity kinds, default ``rating.given``),
    ``..._THRESHOLD`` (a finite number, default 4) and ``..._WINDOW_DAYS`` (a number
    of days above 0, default 7) tune it.  A value that is not one of those raises
    ConfigurationError naming the variable.
    """
    mode = os.environ.get("E2BADGES_RECIPROCITY_MODE")
    if not mode:
        return None
    return ReciprocityGuard(
        kinds=_env_kinds("E2BADGES_RECIPROCITY_KINDS", "rating.given"),
        threshold=_env_number("E2BADGES_RECIPROCITY_THRESHOLD", 4),
        window=_env_days("E2BADGES_RECIPROCITY_WINDOW_DAYS", 7),
        mode=mode,  # type: ignore[arg-type]  # the guard validates it
    )


def webhook_from_env() -> WebhookNotifier | None:
    """Build the notifier from ``E2BADGES_WEBHOOK_URL`` (and ``..._EVENTS``), or return None."""
    url = os.environ.get("E2BADGES_WEBHOOK_URL")
    if not url:
        return None
    events = os.environ.get("E2BADGES_WEBHOOK_EVENTS")
    if events is None:
        return WebhookNotifier(url)
    return WebhookNotifier(url, events=[e.strip() for e in events.split(",") if e.strip()])
