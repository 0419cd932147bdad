"""Injectable clocks: the only place e2badges asks what time it is."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from ._errors import ConfigurationError
from ._limits import check_at, fixed_offset

__all__ = ["Clock", "FrozenClock", "SystemClock", "checked_now"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` that returns a timezone-aware datetime.

    The time must be one an activity may have (see ``Activity.at`` in docs/input.md):
    from 1900 to 2999, with a UTC offset of whole seconds.
    """

    def now(self) -> datetime:
        """Return the current time, timezone-aware."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FrozenClock:
    """A clock that only moves when told to; for tests and simulations.

    Thread-safe: ``set`` and ``advance`` may be called from any thread.
    """

    def __init__(self, at: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = _valid(at if at is not None else datetime(2026, 1, 5, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        """Return the time the clock is set to."""
        with self._lock:
            return self._now

    def set(self, at: datetime) -> None:
        """Set the clock to ``at`` (timezone-aware, within the limits of ``Activity.at``)."""
        at = _valid(at)
        with self._lock:
            self._now = at

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` of elapsed time and return the new time.

        The time keeps its zone; across a DST change the local time moves by the
        same elapsed time (30 minutes after 02:50 before Berlin's autumn change is
        02:20 after it).

        Raises ConfigurationError, leaving the clock where it was, if the new time
        would be past the limits of ``Activity.at``.
        """
        if not isinstance(delta, timedelta):
            reason = f"must be a timedelta, not {type(delta).__name__}"
            raise ConfigurationError("delta", reason, subject="clock")
        if delta < timedelta(0):
            raise ConfigurationError("delta", "a clock cannot move backwards", subject="clock")
        with self._lock:
            try:
                # By elapsed time: in a zone, adding to the local time would skip or
                # repeat the hour of a DST change.
                moved = check_at((self._now.astimezone(UTC) + delta).astimezone(self._now.tzinfo))
            except (ValueError, OverflowError):
                reason = f"moves the clock past 2999-12-31 UTC (from {self._now.isoformat()})"
                raise ConfigurationError("delta", reason, subject="clock") from None
            self._now = moved
            return moved

    def __repr__(self) -> str:
        return f"FrozenClock({self._now.isoformat()!r})"


def checked_now(clock: Clock, *, subject: str = "Rewards") -> datetime:
    """Return ``clock.now()`` if it is a valid ``Activity.at``.

    Else raise :class:`~e2badges.ConfigurationError` naming ``clock``: the time is
    stored as the time of activities recorded without one (and of memberships),
    so it is held to the same limits.
    """
    now = clock.now()
    try:
        return fixed_offset(_check(now))
    except ValueError as exc:
        raise ConfigurationError("clock", f"now() {exc}", subject=subject) from None


def _check(at: object) -> datetime:
    """Return ``at`` if it is a valid ``Activity.at``, else raise ValueError saying why."""
    if not isinstance(at, datetime):
        raise ValueError(f"must be a datetime, not {type(at).__name__}")
    if at.utcoffset() is None:
        raise ValueError(f"is {at.isoformat()}; it must be timezone-aware")
    return check_at(at)


def _valid(at: object) -> datetime:
    try:
        return _check(at)
    except ValueError as exc:
        raise ConfigurationError("at", str(exc), subject="clock") from None
