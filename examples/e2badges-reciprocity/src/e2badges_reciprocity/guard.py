"""ReciprocityGuard: refuse or zero-rate mutual-rating rings.

Two people who rate each other highly within a short time are more likely
trading favours than judging work.  The guard watches rating activities (an
actor rates a ``recipient`` with a ``value``): when A rates B at or above the
threshold, and B rated A at or above it within ``window`` of that time, the
rating that closes the ring is refused (``mode="refuse"``) or recorded with its
value set to 0 (``mode="zero"``).  The guard keeps the time of each pair's
latest high rating in its own e2badges state, so it works across processes
and survives restarts on a persistent store.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from datetime import timedelta
from typing import Literal

from e2badges import Activity, ActivityKind, ConfigurationError, PluginState, Refusal, hookimpl

__all__ = ["ReciprocityGuard"]

Mode = Literal["refuse", "zero"]


def _pair(rater: str, rated: str) -> str:
    # One person id per part, so that Rewards.erase_person finds both (see PluginState).
    return PluginState.key(rater, rated)


def _old_pair(rater: str, rated: str) -> str:
    # The key written before: still read, so a ring begun before the change is seen.
    # Erasure cannot find a person in it (see PluginState); it is no longer written.
    return json.dumps([rater, rated], ensure_ascii=False)


def _latest(state: PluginState, rater: str, rated: str) -> float | None:
    """Return the time of the latest high rating of ``rated`` by ``rater``, or None."""
    new = state.get(_pair(rater, rated))
    old = state.get(_old_pair(rater, rated))
    if new is None or old is None:
        return new if old is None else old
    return float(max(new, old))


class ReciprocityGuard:
    """Refuse (or zero-rate) the rating that closes a mutual high-rating ring.

    ``kinds`` are the rating activity kinds to watch; ``threshold`` the value
    from which a rating counts as high; ``window`` how close in time the two
    ratings must be; ``mode`` is ``"refuse"`` (the activity is refused with
    ActivityRefusedError) or ``"zero"`` (it is recorded with ``value`` 0 and
    ``attributes["reciprocity"]`` saying why).
    """

    name = "reciprocity"

    def __init__(
        self,
        *,
        kinds: Collection[str] = ("rating.given",),
        threshold: float = 4,
        window: timedelta = timedelta(days=7),
        mode: Mode = "refuse",
    ) -> None:
        subject = "ReciprocityGuard"
        if isinstance(kinds, str) or not kinds:
            raise ConfigurationError("kinds", "give a non-empty list of kinds", subject=subject)
        for kind in kinds:
            try:
                ActivityKind(name=kind)  # e2badges' own check of a kind
            except ConfigurationError as exc:
                raise ConfigurationError("kinds", exc.reason, subject=subject) from None
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise ConfigurationError("threshold", "must be a number", subject=subject)
        if not math.isfinite(threshold):
            raise ConfigurationError("threshold", "must be finite", subject=subject)
        if not isinstance(window, timedelta) or window <= timedelta(0):
            raise ConfigurationError("window", "must be a positive duration", subject=subject)
        if mode not in ("refuse", "zero"):
            raise ConfigurationError(
                "mode", f"must be 'refuse' or 'zero', not {mode!r}", subject=subject
            )
        self.kinds = frozenset(kinds)
        self.threshold = float(threshold)
        self.window = window
        self.mode: Mode = mode
        self._seconds = window.total_seconds()

    @hookimpl
    def e2badges_check_activity(
        self, activity: Activity, state: PluginState
    ) -> Activity | Refusal | None:
        """Refuse or zero-rate a high rating answering one received within the window."""
        if activity.kind not in self.kinds:
            return None
        actor, recipient, value = activity.actor, activity.recipient, activity.value
        if recipient is None or value is None or recipient == actor or value < self.threshold:
            return None
        assert activity.at is not None  # e2badges fills it before checking
        at = activity.at.timestamp()
        mine = _latest(state, actor, recipient)
        state.set(_pair(actor, recipient), at if mine is None else max(mine, at))
        theirs = _latest(state, recipient, actor)
        if theirs is None or abs(at - theirs) > self._seconds:
            return None
        reason = (
            f"{actor} and {recipient} rated each other {self.threshold:g} or more "
            f"within {self.window}"
        )
        if self.mode == "refuse":
            return Refusal(reason)
        attributes = {
            **activity.attributes,
            "reciprocity": {"ring_with": recipient, "value": value},
        }
        return activity.model_copy(update={"value": 0.0, "attributes": attributes})

    def __repr__(self) -> str:
        return (
            f"ReciprocityGuard(kinds={sorted(self.kinds)!r}, threshold={self.threshold:g}, "
            f"window={self.window!r}, mode={self.mode!r})"
        )
