"""Notifications: what the outbox holds between a commit and its delivery.

A :class:`Notification` is written in the same transaction as the effects it
tells about, and delivered to plugins after the commit.  Stores keep them (the
outbox) and the per-plugin delivery record; they never interpret the payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._frozen import freeze

__all__ = ["Notification", "OutboxEntry", "outcome_notification_id"]


@dataclass(frozen=True, slots=True)
class Notification:
    """One event to deliver to the plugins that implement a notification hook.

    ``id`` is stable and unique (``award:0:<activity id>``): a store keeps the
    first notification with an id.  ``hook`` names the hookspec to call
    (``e2badges_notify_award``); ``payload`` holds its JSON-safe arguments, as a
    read-only copy of the mapping given (its dicts and lists raise TypeError on a
    change in place; hooks are given changeable copies);
    ``targets`` names the plugins it is addressed to, in call order: the
    plugins that implemented the hook when it was written.
    """

    id: str
    hook: str
    payload: Mapping[str, Any]
    targets: tuple[str, ...]

    def __post_init__(self) -> None:
        # A copy, read-only: the memory store keeps this very object and returns it.
        object.__setattr__(self, "payload", freeze(self.payload))


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A notification as the outbox holds it, with its delivery record.

    ``delivered`` names the plugins it was delivered to; ``failures`` counts the
    failed attempts per plugin and ``errors`` keeps each plugin's last error;
    ``done`` is true once no more delivery is due.
    """

    notification: Notification
    delivered: frozenset[str] = frozenset()
    failures: Mapping[str, int] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    done: bool = False


def outcome_notification_id(activity_id: str) -> str:
    """Return the id of the ``e2badges_notify_outcome`` notification of an activity."""
    return f"recorded:{activity_id}"
