"""WebhookNotifier: post e2badges events as JSON to a URL (standard library only).

Each event is one ``POST`` with a JSON body ``{"event": ..., "id": ...,
"data": {...}}`` and an ``Idempotency-Key`` header holding the same ``id``,
percent-encoded (:func:`idempotency_key`): e2badges delivers at least once (a
crash between the POST and the record of its delivery sends it again), so a
receiver that keeps the ids it has seen processes each event once.  A response
other than 2xx, a timeout or a refused connection raises, and e2badges retries
the delivery later.

An id holds an activity's id, which may be any text (docs/input.md), while an
HTTP header carries only bytes, read as Latin-1: so the header holds the id's
UTF-8 bytes with each space, ``%`` and byte outside ASCII written ``%XX``.  An
id of printable ASCII without ``%`` is sent as it is (``recorded:post-1``);
``recorded:post-€1`` is sent as ``recorded:post-%E2%82%AC1``.
``urllib.parse.unquote(key)`` (or any URL decoder) gives back the ``id`` of the
body.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from e2badges import (
    Activity,
    Award,
    ConfigurationError,
    LevelChange,
    Outcome,
    Revocation,
    hookimpl,
)

__all__ = ["EVENTS", "WebhookNotifier", "idempotency_key"]

#: Every event the notifier can post, by the name it posts it under.
EVENTS = frozenset(
    {
        "activity.recorded",
        "badge.awarded",
        "badge.revoked",
        "level.changed",
        "leaderboard.period_closed",
    }
)


# Printable ASCII but "%": sent as it is in the header.
_KEY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%")


def idempotency_key(notification_id: str) -> str:
    """Return the ``Idempotency-Key`` header of a notification: its id, percent-encoded.

    The UTF-8 bytes of the id, with each space, ``%`` and byte outside ASCII
    written ``%XX``, so the header is plain ASCII whatever the id holds: a character
    outside Latin-1 cannot be sent in a header at all, one inside it would reach a
    UTF-8 reader as another character, and spaces at the end of a header are
    dropped.  Different ids give different keys; ``urllib.parse.unquote`` undoes it.
    """
    return urllib.parse.quote(notification_id, safe=_KEY_SAFE)


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _fields(event: Any) -> dict[str, Any]:
    return dataclasses.asdict(event)


class WebhookNotifier:
    """Post the chosen ``events`` to ``url`` as JSON.

    ``timeout`` bounds each request in seconds; ``headers`` are added to every
    request (an authorisation token, say).
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        events: Collection[str] = EVENTS,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        subject = "WebhookNotifier"
        parsed = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigurationError("url", f"{url!r} is not an http(s) URL", subject=subject)
        unknown = set(events) - EVENTS
        if isinstance(events, str) or unknown:
            raise ConfigurationError(
                "events",
                f"unknown events {sorted(unknown)!r}; choose from {sorted(EVENTS)!r}",
                subject=subject,
            )
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigurationError("timeout", "must be a positive number", subject=subject)
        self.url = url
        self.events = frozenset(events)
        self.timeout = float(timeout)
        self.headers = dict(headers or {})

    def post(self, event: str, notification_id: str, data: Mapping[str, Any]) -> None:
        """Post one event; raise when the receiver does not answer 2xx."""
        body = json.dumps(
            {"event": event, "id": notification_id, "data": data},
            ensure_ascii=False,
            separators=(",", ":"),
            default=_json_default,
        ).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": idempotency_key(notification_id),
                "User-Agent": "e2badges-reciprocity",
                **self.headers,
            },
        )
        # urlopen raises HTTPError for 4xx and 5xx answers and URLError when unreachable;
        # either way e2badges records the failure and retries later.
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the connection open
            raise

    @hookimpl
    def e2badges_notify_outcome(
        self, activity: Activity, outcome: Outcome, notification_id: str
    ) -> None:
        """Post ``activity.recorded`` with the activity and its outcome."""
        if "activity.recorded" in self.events:
            # Python-mode dump: times are written by _json_default, like the outcome's.
            data = {"activity": activity.model_dump(), "outcome": _fields(outcome)}
            self.post("activity.recorded", notification_id, data)

    @hookimpl
    def e2badges_notify_award(self, award: Award, notification_id: str) -> None:
        """Post ``badge.awarded``."""
        if "badge.awarded" in self.events:
            self.post("badge.awarded", notification_id, _fields(award))

    @hookimpl
    def e2badges_notify_revocation(self, revocation: Revocation, notification_id: str) -> None:
        """Post ``badge.revoked``."""
        if "badge.revoked" in self.events:
            self.post("badge.revoked", notification_id, _fields(revocation))

    @hookimpl
    def e2badges_notify_level_change(self, change: LevelChange, notification_id: str) -> None:
        """Post ``level.changed``."""
        if "level.changed" in self.events:
            self.post("level.changed", notification_id, _fields(change))

    @hookimpl
    def e2badges_notify_period_close(
        self,
        board: str,
        period: str,
        standings: Sequence[Mapping[str, Any]],
        notification_id: str,
    ) -> None:
        """Post ``leaderboard.period_closed`` with the final standings."""
        if "leaderboard.period_closed" in self.events:
            data = {"board": board, "period": period, "standings": list(standings)}
            self.post("leaderboard.period_closed", notification_id, data)

    def __repr__(self) -> str:
        # The URL may carry credentials or a token; show only the host it goes to.
        parsed = urllib.parse.urlsplit(self.url)
        port = f":{parsed.port}" if parsed.port else ""
        return f"WebhookNotifier('{parsed.scheme}://{parsed.hostname}{port}/...')"
