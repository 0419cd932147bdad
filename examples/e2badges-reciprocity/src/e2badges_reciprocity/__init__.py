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

import os
from datetime import timedelta

from e2badges import ConfigurationError

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


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(name, f"{raw!r} is not a number", subject="environment") from None


def guard_from_env() -> ReciprocityGuard | None:
    """Build the guard from ``E2BADGES_RECIPROCITY_*`` variables, or return None.

    ``E2BADGES_RECIPROCITY_MODE`` (``refuse`` or ``zero``) turns it on;
    ``..._KINDS`` (comma-separated, default ``rating.given``),
    ``..._THRESHOLD`` (default 4) and ``..._WINDOW_DAYS`` (default 7) tune it.
    """
    mode = os.environ.get("E2BADGES_RECIPROCITY_MODE")
    if not mode:
        return None
    kinds = os.environ.get("E2BADGES_RECIPROCITY_KINDS", "rating.given")
    return ReciprocityGuard(
        kinds=[kind.strip() for kind in kinds.split(",") if kind.strip()],
        threshold=_env_number("E2BADGES_RECIPROCITY_THRESHOLD", 4),
        window=timedelta(days=_env_number("E2BADGES_RECIPROCITY_WINDOW_DAYS", 7)),
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
