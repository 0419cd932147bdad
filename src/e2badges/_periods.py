"""Windows and calendar periods, computed in one configured IANA time zone.

A *window* is one of:

- ``"all"``: all time; its single period is ``"all"``;
- ``"day"``, ``"week"``, ``"month"``, ``"quarter"``, ``"year"``: calendar periods in
  the configured time zone, labelled ``2026-11-25``, ``2026-W48`` (ISO 8601 week,
  Monday first), ``2026-11``, ``2026-Q4`` and ``2026``;
- ``"<N>d"`` (``"7d"``, ``"30d"``): a rolling window of the local day of the
  activity and the N - 1 local days before it.

Rolling windows are made of day periods, so every rolling total is a sum of day
totals: the window always ends at the end of the current local day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._errors import ConfigurationError

__all__ = [
    "CALENDAR_WINDOWS",
    "Window",
    "day_key",
    "days_around",
    "days_back",
    "parse_window",
    "period_key",
    "resolve_timezone",
    "timezone_name",
    "zone_of",
]

CALENDAR_WINDOWS = ("day", "week", "month", "quarter", "year")
_ROLLING = re.compile(r"([1-9][0-9]{0,3})d")
MAX_ROLLING_DAYS = 3660


@dataclass(frozen=True, slots=True)
class Window:
    """A parsed window: ``kind`` is ``all``, a calendar name, or ``rolling``."""

    kind: str
    days: int = 0

    @property
    def name(self) -> str:
        """Return the window as written in a definition."""
        return f"{self.days}d" if self.kind == "rolling" else self.kind


def parse_window(text: str, *, subject: str | None = None, field: str = "window") -> Window:
    """Parse a window name, raising ConfigurationError naming ``field`` if invalid."""
    if not isinstance(text, str):  # checked before the cache, which cannot hash a list
        raise ConfigurationError(
            field, f"must be a window name, not a {type(text).__name__}", subject=subject
        )
    return _parse_window(text, subject, field)


@lru_cache(maxsize=256)
def _parse_window(text: str, subject: str | None, field: str) -> Window:
    if text == "all" or text in CALENDAR_WINDOWS:
        return Window(text)
    match = _ROLLING.fullmatch(text)
    if match is None:
        raise ConfigurationError(
            field,
            f"unknown window {text!r}; use 'all', one of {', '.join(CALENDAR_WINDOWS)}, "
            "or a rolling window such as '7d'",
            subject=subject,
        )
    days = int(match.group(1))
    if days > MAX_ROLLING_DAYS:
        raise ConfigurationError(
            field, f"a rolling window is at most {MAX_ROLLING_DAYS} days", subject=subject
        )
    return Window("rolling", days)


def timezone_name(value: object) -> str:
    """Return the IANA name of a time zone given by its name or as a ZoneInfo.

    Raise ValueError saying why for a ZoneInfo without a key (read with
    ``ZoneInfo.from_file``: nothing names it), another tzinfo (a fixed offset has
    no calendar of DST changes) or anything else.
    """
    if isinstance(value, ZoneInfo):
        if value.key is None:
            raise ValueError(
                "is a ZoneInfo without a key (read with ZoneInfo.from_file), which names "
                "no IANA time zone; give its name, such as 'Europe/Berlin'"
            )
        return value.key
    if isinstance(value, str):
        return value
    expected = "must be an IANA time zone name (a str such as 'Europe/Berlin') or a ZoneInfo"
    if isinstance(value, tzinfo):
        raise ValueError(
            f"{expected}, not {type(value).__name__}: a fixed offset or another tzinfo "
            "names no IANA time zone (for UTC, give 'UTC')"
        )
    raise ValueError(f"{expected}, not {type(value).__name__}")


def zone_of(value: object) -> ZoneInfo:
    """Return the ZoneInfo of a time zone given by its IANA name or as a ZoneInfo with
    a key, else raise ValueError saying why."""
    name = timezone_name(value)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a directory of zones ("Europe"), a name too long for a file name.
        shown = repr(name) if len(name) <= 60 else repr(name[:60]) + "…"
        raise ValueError(f"unknown IANA time zone {shown}") from None


def resolve_timezone(value: object, *, subject: str = "Rewards") -> ZoneInfo:
    """Return the ZoneInfo of a time zone given by its IANA name or as a ZoneInfo with
    a key, or raise ConfigurationError naming ``timezone``."""
    try:
        return zone_of(value)
    except ValueError as exc:
        raise ConfigurationError("timezone", str(exc), subject=subject) from None


def day_key(local: date) -> str:
    """Return the day period label of a local date."""
    return local.isoformat()


def period_key(kind: str, local: date) -> str:
    """Return the label of the calendar period of ``kind`` that holds ``local``."""
    if kind == "day":
        return local.isoformat()
    if kind == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return f"{local.year}-{local.month:02d}"
    if kind == "quarter":
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    if kind == "year":
        return str(local.year)
    if kind == "all":
        return "all"
    raise ValueError(f"not a calendar window: {kind!r}")


def days_back(local: date, days: int) -> list[str]:
    """Return the day labels of ``local`` and the ``days - 1`` days before it."""
    return [(local - timedelta(days=i)).isoformat() for i in range(days)]


def days_around(local: date, days: int) -> list[str]:
    """Return the day labels from ``days - 1`` days before ``local`` to ``days - 1`` after it.

    Oldest first: the days of every window of ``days`` days that holds ``local``.
    """
    return [(local + timedelta(days=i)).isoformat() for i in range(1 - days, days)]


def local_date(at: datetime, tz: ZoneInfo) -> date:
    """Return the local calendar date of an aware datetime in ``tz``."""
    return at.astimezone(tz).date()
