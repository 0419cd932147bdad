"""Injectable clocks: the only place e2badges asks what time it is."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from ._errors import ConfigurationError

__all__ = ["Clock", "FrozenClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` that returns a timezone-aware datetime."""

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
        self._now = _aware(at if at is not None else datetime(2026, 1, 5, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        """Return the time the clock is set to."""
        with self._lock:
            return self._now

    def set(self, at: datetime) -> None:
        """Set the clock to ``at`` (timezone-aware)."""
        at = _aware(at)
        with self._lock:
            self._now = at

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        if delta < timedelta(0):
            raise ConfigurationError("delta", "a clock cannot move backwards", subject="clock")
        with self._lock:
            self._now += delta
            return self._now

    def __repr__(self) -> str:
        return f"FrozenClock({self._now.isoformat()!r})"


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ConfigurationError("at", "datetime must be timezone-aware", subject="clock")
    return at
