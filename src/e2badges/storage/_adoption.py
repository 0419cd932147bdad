"""In-memory indexes for the stories feed and the adoption figures (the memory store's).

:class:`DayRollup` keeps, per local day, the number of activities and the latest
time per (actor, kind, team) (team ``""`` holds every activity), so adoption
queries read one row per person, kind and active day instead of the log.
:class:`StoryLog` keeps stories ordered by time for the feed.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from .._badges import RESERVED_KINDS
from .._erasure import erase_story
from .._models import Activity, Story
from .._people import Visibility, story_visible
from .._periods import period_key

__all__ = ["FIELDS", "DayRollup", "StoryLog", "utc_labels", "visible"]

FIELDS = ("day", "week", "month", "actor", "kind", "team")


def utc_labels(activity: Activity) -> tuple[str, str, str]:
    """Return the UTC day, ISO week and month labels of an activity (no labels given)."""
    assert activity.at is not None
    local = activity.at.astimezone(UTC).date()
    return period_key("day", local), period_key("week", local), period_key("month", local)


def visible(
    story: Story,
    viewer: str | None,
    privacy: Callable[[str], Visibility | None],
    rankings: bool = True,
) -> bool:
    """Return whether ``viewer`` may see ``story`` (the Store.feed contract)."""
    if not rankings and story.kind == "leader":
        return False
    return story_visible(story, viewer, privacy)


class StoryLog:
    """Stories sorted by (at, recording sequence), each id kept once."""

    __slots__ = ("_ids", "_keys", "_seq", "_stories")

    def __init__(self) -> None:
        self._seq = 0
        self._ids: set[str] = set()
        self._keys: list[tuple[float, int]] = []
        self._stories: list[Story] = []

    def add(self, story: Story) -> None:
        if story.id in self._ids:
            return
        self._ids.add(story.id)
        self._seq += 1
        key = (story.at.timestamp(), self._seq)
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
        privacy: Callable[[str], Visibility | None],
        rankings: bool = True,
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
            if visible(story, viewer, privacy, rankings):
                out.append(story)
        return out

    def naming(self, user: str) -> list[Story]:
        """Return the stories whose people include ``user``, oldest first."""
        return [story for story in self._stories if user in story.people]

    def erase(self, user: str, pseudonym: str) -> None:
        """Drop the stories naming ``user``; in the others, replace the id (erase_story)."""
        keys: list[tuple[float, int]] = []
        stories: list[Story] = []
        for key, story in zip(self._keys, self._stories, strict=True):
            kept = erase_story(story, user, pseudonym)
            if kept is not None:
                keys.append(key)
                stories.append(kept)
        self._keys = keys
        self._stories = stories
        self._ids = {story.id for story in stories}


class DayRollup:
    """Per local day and team: ``{(actor, kind): [activities, latest epoch]}``.

    Team ``""`` holds every activity.  Recording only appends to a pending list;
    the rows are folded in at the next query, so that the hot path pays one list
    append per activity.
    """

    __slots__ = ("_days", "_first", "_kinds", "_labels", "_pending", "_sorted")

    def __init__(self) -> None:
        self._days: dict[str, dict[str, dict[tuple[str, str], list[Any]]]] = {}
        self._labels: dict[str, tuple[str, str]] = {}
        self._sorted: list[str] = []
        self._pending: list[tuple[Activity, tuple[str, str, str]]] = []
        # Per team: each person's first day, and the kinds seen.
        self._first: dict[str, dict[str, str]] = {}
        self._kinds: dict[str, set[str]] = {}

    def add(self, activity: Activity, labels: tuple[str, str, str]) -> None:
        self._pending.append((activity, labels))

    def _fold(self) -> None:
        pending = self._pending
        self._pending = []
        days = self._days
        for activity, labels in pending:
            if activity.kind in RESERVED_KINDS:
                continue
            day = labels[0]
            teams = days.get(day)
            if teams is None:
                teams = days[day] = {"": {}}
                self._labels[day] = (labels[1], labels[2])
                bisect.insort(self._sorted, day)
            epoch = activity.at.timestamp()  # type: ignore[union-attr]  # filled by the facade
            key = (activity.actor, activity.kind)
            for team in ("", *activity.teams):
                firsts = self._first.get(team)
                if firsts is None:
                    firsts = self._first[team] = {}
                    self._kinds[team] = set()
                known = firsts.get(activity.actor)
                if known is None or day < known:
                    firsts[activity.actor] = day
                self._kinds[team].add(activity.kind)
                rows = teams.get(team)
                if rows is None:
                    rows = teams[team] = {}
                row = rows.get(key)
                if row is None:
                    rows[key] = [1, epoch]
                else:
                    row[0] += 1
                    row[1] = max(row[1], epoch)

    def rename(self, user: str, pseudonym: str) -> None:
        """Count what was counted for actor ``user`` for ``pseudonym`` (a new actor)."""
        if self._pending:
            self._fold()
        for teams in self._days.values():
            for rows in teams.values():
                for key in [k for k in rows if k[0] == user]:
                    rows[(pseudonym, key[1])] = rows.pop(key)
        for firsts in self._first.values():
            if user in firsts:
                firsts[pseudonym] = firsts.pop(user)

    def first_active(self, team: str | None) -> dict[str, str]:
        if self._pending:
            self._fold()
        return dict(self._first.get(team or "", {}))

    def last_activity(self, stop: str | None, team: str | None) -> dict[str, float]:
        if self._pending:
            self._fold()
        days = self._sorted
        hi = len(days) if stop is None else bisect.bisect_right(days, stop)
        left = set(self._kinds.get(team or "", ()))
        out: dict[str, float] = {}
        # Newest day first: every kind is usually found within a few days.
        for i in range(hi - 1, -1, -1):
            if not left:
                break
            found: dict[str, float] = {}
            for (_actor, kind), (_n, last) in self._days[days[i]].get(team or "", {}).items():
                if kind in left and last > found.get(kind, -math.inf):
                    found[kind] = last
            out.update(found)
            left.difference_update(found)
        return dict(sorted(out.items()))

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
        by_actor = "actor" in by  # then each group has one actor: no sets needed
        want = kinds if kinds is None or isinstance(kinds, set | frozenset) else set(kinds)
        # Positions in (day, week, month, actor, kind, team), in the order of ``by``.
        picks = [FIELDS.index(name) for name in by]
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for day in days[lo:hi]:
            week, month = self._labels[day]
            teams = self._days[day]
            if by_team:
                scan = [(t, r) for t, r in teams.items() if t and (team is None or t == team)]
            else:
                rows = teams.get(team or "")
                scan = [] if rows is None else [(team or "", rows)]
            for row_team, rows in scan:
                for (actor, kind), (n, last) in rows.items():
                    if want is not None and kind not in want:
                        continue
                    fields = (day, week, month, actor, kind, row_team)
                    group = tuple([fields[i] for i in picks])
                    acc = groups.get(group)
                    if acc is None:
                        groups[group] = [None if by_actor else {actor}, n, last]
                    else:
                        if not by_actor:
                            acc[0].add(actor)
                        acc[1] += n
                        acc[2] = max(acc[2], last)
        return [
            (*group, 1 if by_actor else len(acc[0]), acc[1], acc[2])
            for group, acc in sorted(groups.items())
        ]
