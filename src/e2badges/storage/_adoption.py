"""In-memory indexes for the stories feed and the adoption figures (the memory store's).

:class:`DayRollup` keeps, per local day, the number of activities and the latest
time per (actor, kind, team) (team ``""`` holds every activity), so adoption
queries read one row per person, kind and active day instead of the log.
:class:`StoryLog` keeps stories ordered by time for the feed.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Container, Sequence
from datetime import UTC, datetime
from typing import Any

from .._badges import RESERVED_KINDS
from .._models import Activity, Story
from .._periods import period_key

__all__ = ["FIELDS", "DayRollup", "StoryLog", "utc_labels", "visible"]

FIELDS = ("day", "week", "month", "actor", "kind", "team")


def utc_labels(activity: Activity) -> tuple[str, str, str]:
    """Return the UTC day, ISO week and month labels of an activity (no labels given)."""
    assert activity.at is not None
    local = activity.at.astimezone(UTC).date()
    return period_key("day", local), period_key("week", local), period_key("month", local)


def visible(story: Story, viewer: str | None, hidden: Container[str]) -> bool:
    """Return whether ``viewer`` may see ``story`` (the Store.feed contract)."""
    if viewer is not None and viewer in story.people:
        return True
    if story.private:
        return False
    return not any(person in hidden for person in story.people)


class StoryLog:
    """Stories sorted by (at, recording sequence), each id kept once."""

    __slots__ = ("_ids", "_keys", "_stories")

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._keys: list[tuple[float, int]] = []
        self._stories: list[Story] = []

    def add(self, story: Story) -> None:
        if story.id in self._ids:
            return
        self._ids.add(story.id)
        key = (story.at.timestamp(), len(self._ids))
        # Stories mostly arrive in time order: the insertion point is the end.
        at = bisect.bisect_right(self._keys, key)
        self._keys.insert(at, key)
        self._stories.insert(at, story)

    def feed(
        self,
        *,
        team: str | None,
        since: datetime | None,
        limit: int,
        viewer: str | None,
        hidden: Container[str],
    ) -> list[Story]:
        out: list[Story] = []
        floor = None if since is None else since.timestamp()
        keys = self._keys
        for i in range(len(keys) - 1, -1, -1):
            if len(out) >= limit or (floor is not None and keys[i][0] < floor):
                break
            story = self._stories[i]
            if team is not None and team not in story.teams:
                continue
            if visible(story, viewer, hidden):
                out.append(story)
        return out


class DayRollup:
    """Per local day: ``{(actor, kind, team): [activities, latest epoch]}``.

    Recording only appends to a pending list; the rows are folded in at the
    next query, so that the hot path pays one list append per activity.
    """

    __slots__ = ("_days", "_labels", "_pending", "_sorted")

    def __init__(self) -> None:
        self._days: dict[str, dict[tuple[str, str, str], list[Any]]] = {}
        self._labels: dict[str, tuple[str, str]] = {}
        self._sorted: list[str] = []
        self._pending: list[tuple[Activity, tuple[str, str, str]]] = []

    def add(self, activity: Activity, labels: tuple[str, str, str]) -> None:
        self._pending.append((activity, labels))

    def _fold(self) -> None:
        pending = self._pending
        self._pending = []
        for activity, labels in pending:
            if activity.kind not in RESERVED_KINDS:
                self._add(activity, labels)

    def _add(self, activity: Activity, labels: tuple[str, str, str]) -> None:
        day = labels[0]
        rows = self._days.get(day)
        if rows is None:
            rows = self._days[day] = {}
            self._labels[day] = (labels[1], labels[2])
            bisect.insort(self._sorted, day)
        assert activity.at is not None
        epoch = activity.at.timestamp()
        actor = activity.actor
        kind = activity.kind
        for team in ("", *activity.teams):
            key = (actor, kind, team)
            row = rows.get(key)
            if row is None:
                rows[key] = [1, epoch]
            else:
                row[0] += 1
                row[1] = max(row[1], epoch)

    def totals(
        self,
        *,
        by: Sequence[str],
        start: str | None,
        stop: str | None,
        team: str | None,
        kinds: Collection[str] | None,
    ) -> list[tuple[Any, ...]]:
        for name in by:
            if name not in FIELDS:
                raise ValueError(f"cannot group by {name!r}; use {', '.join(FIELDS)}")
        if self._pending:
            self._fold()
        days = self._sorted
        lo = 0 if start is None else bisect.bisect_left(days, start)
        hi = len(days) if stop is None else bisect.bisect_right(days, stop)
        by_team = "team" in by
        want = kinds if kinds is None or isinstance(kinds, set | frozenset) else set(kinds)
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for day in days[lo:hi]:
            week, month = self._labels[day]
            values = {"day": day, "week": week, "month": month}
            for (actor, kind, row_team), (n, last) in self._days[day].items():
                if by_team:
                    if not row_team or (team is not None and row_team != team):
                        continue
                elif row_team != (team or ""):
                    continue
                if want is not None and kind not in want:
                    continue
                values["actor"] = actor
                values["kind"] = kind
                values["team"] = row_team
                group = tuple(values[name] for name in by)
                acc = groups.get(group)
                if acc is None:
                    groups[group] = [{actor}, n, last]
                else:
                    acc[0].add(actor)
                    acc[1] += n
                    acc[2] = max(acc[2], last)
        return [(*group, len(acc[0]), acc[1], acc[2]) for group, acc in sorted(groups.items())]
