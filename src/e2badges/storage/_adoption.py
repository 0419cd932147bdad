"""In-memory indexes for the stories feed and the adoption figures (the memory store's).

:class:`Rollup` keeps, per local day, ISO week and month, the number of
activities and the latest time per (actor, kind, team) (team ``""`` holds every
activity), so adoption queries read one row per person, kind and active period
instead of the log.  :func:`plan` picks, for a range of days, the coarsest rows
that cover it exactly (both stores use it).  :class:`StoryLog` keeps stories
ordered by time for the feed.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from .._badges import RESERVED_KINDS
from .._erasure import erase_story
from .._errors import InvalidQueryError
from .._models import Activity, Revocation, Story
from .._people import Visibility, story_visible
from .._periods import period_key
from ._codec import epoch_us

__all__ = [
    "FIELDS",
    "LEVELS",
    "Rollup",
    "Source",
    "StoryLog",
    "award_slot",
    "plan",
    "story_slot",
    "unknown_story",
    "utc_labels",
    "visible",
]

FIELDS = ("day", "week", "month", "actor", "kind", "team")
LEVELS = ("day", "week", "month")
_AWARD_STORIES = frozenset({"badge", "streak"})


def utc_labels(activity: Activity) -> tuple[str, str, str]:
    """Return the UTC day, ISO week and month labels of an activity (no labels given)."""
    assert activity.at is not None
    local = activity.at.astimezone(UTC).date()
    return period_key("day", local), period_key("week", local), period_key("month", local)


def unknown_story(story_id: str) -> InvalidQueryError:
    """Return the error of a feed ``before`` that names no kept story."""
    return InvalidQueryError(
        "before",
        f"no story {story_id!r} is kept (never told, or erased with its person); "
        "start again from the newest page",
        subject="feed",
    )


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


def _slot(user: str, badge: object, tier: object, period: object, team: object) -> str:
    parts = (user, badge, tier, period, team)
    text = "\x1f".join("\x00" if part is None else str(part) for part in parts)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def story_slot(story: Story) -> str | None:
    """Return the award slot a badge or streak story tells of (None for other stories).

    The slot digests the person and the story data's badge, tier, period and team:
    a revocation of that slot withdraws the story (the Store.apply contract).
    """
    if story.kind not in _AWARD_STORIES or len(story.people) != 1:
        return None
    data = story.data
    if "badge" not in data:
        return None
    return _slot(
        story.people[0], data["badge"], data.get("tier"), data.get("period"), data.get("team")
    )


def award_slot(revocation: Revocation) -> str:
    """Return the award slot ``revocation`` takes back (see :func:`story_slot`)."""
    r = revocation
    return _slot(r.user, r.badge, r.tier, r.period, r.team)


# -- which rollup rows answer a range of days --------------------------------------------


class Source(NamedTuple):
    """Rows of one rollup ``level`` with labels from ``lo`` to ``hi`` (None: open).

    ``month`` is the month label of every row of a ``week`` source that lies in
    one month (None when the week source may span months: it is then not used to
    group by month).
    """

    level: str
    lo: str | None
    hi: str | None
    month: str | None = None


def _days(lo: date | None, hi: date | None) -> Source:
    return Source(
        "day", None if lo is None else lo.isoformat(), None if hi is None else hi.isoformat()
    )


def _weeks(lo: date | None, hi: date | None, month: str | None) -> list[Source]:
    """Cover ``lo`` to ``hi`` with whole ISO weeks, and days at the cut ends."""
    first = None if lo is None else lo + timedelta(days=(7 - lo.weekday()) % 7)  # a Monday
    last = None if hi is None else hi - timedelta(days=(hi.weekday() + 1) % 7)  # a Sunday
    if first is not None and last is not None and first > last:
        return [_days(lo, hi)]
    out: list[Source] = []
    if lo is not None and first is not None and lo < first:
        out.append(_days(lo, first - timedelta(days=1)))
    out.append(
        Source(
            "week",
            None if first is None else period_key("week", first),
            None if last is None else period_key("week", last),
            month,
        )
    )
    if hi is not None and last is not None and last < hi:
        out.append(_days(last + timedelta(days=1), hi))
    return out


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def plan(by: Sequence[str], start: str | None, stop: str | None) -> list[Source]:
    """Return the rollup rows that hold exactly the activities of days ``start`` to ``stop``.

    Grouping by day reads day rows; by week, whole weeks and the days of cut
    weeks; otherwise whole months, then whole weeks inside the cut months, then
    days.  Week and month labels are those of the day labels (ISO week, month),
    as the engine gives them.
    """
    out: list[Source] = []
    for source in _plan(by, start, stop):
        last = out[-1] if out else None
        if last is not None and last.level == source.level == "day":
            out[-1] = Source("day", last.lo, source.hi)  # two pieces of days side by side
        else:
            out.append(source)
    return out


def _plan(by: Sequence[str], start: str | None, stop: str | None) -> list[Source]:
    lo = None if start is None else date.fromisoformat(start)
    hi = None if stop is None else date.fromisoformat(stop)
    if "day" in by or ("week" in by and "month" in by) or (lo and hi and lo > hi):
        return [Source("day", start, stop)]
    if "week" in by:
        return _weeks(lo, hi, None)
    first = None if lo is None else (lo if lo.day == 1 else _next_month(lo))
    end = None if hi is None else _next_month(hi)  # the day after the last whole month
    if hi is not None and end is not None and end - timedelta(days=1) != hi:
        end = _month_start(hi)
    if lo is not None and hi is not None and first is not None and end is not None and first >= end:
        # No whole month: the days lie in one month or two.
        cut = _next_month(lo)
        if hi < cut:
            return _weeks(lo, hi, period_key("month", lo))
        return [
            *_weeks(lo, cut - timedelta(days=1), period_key("month", lo)),
            *_weeks(cut, hi, period_key("month", hi)),
        ]
    out: list[Source] = []
    if lo is not None and first is not None and lo < first:
        out.extend(_weeks(lo, first - timedelta(days=1), period_key("month", lo)))
    out.append(
        Source(
            "month",
            None if first is None else period_key("month", first),
            None if end is None else period_key("month", end - timedelta(days=1)),
        )
    )
    if hi is not None and end is not None and end <= hi:
        out.extend(_weeks(end, hi, period_key("month", hi)))
    return out


# -- the stories feed ---------------------------------------------------------------------


class StoryLog:
    """Stories sorted by (at, recording sequence), each id kept once; withdrawn ids hidden."""

    __slots__ = ("_ids", "_keys", "_seq", "_slots", "_stories", "_withdrawn")

    def __init__(self) -> None:
        self._seq = 0
        self._ids: dict[str, tuple[int, int]] = {}  # id -> its sort key
        self._keys: list[tuple[int, int]] = []
        self._stories: list[Story] = []
        # Award slot -> ids of the stories told of it that are not withdrawn.
        self._slots: dict[str, list[str]] = {}
        self._withdrawn: set[str] = set()

    def add(self, story: Story) -> None:
        if story.id in self._ids:
            return
        self._seq += 1
        key = (epoch_us(story.at), self._seq)  # as the SQL stores' at_us: exact
        self._ids[story.id] = key
        # Stories mostly arrive in time order: the insertion point is the end.
        at = bisect.bisect_right(self._keys, key)
        self._keys.insert(at, key)
        self._stories.insert(at, story)
        slot = story_slot(story)
        if slot is not None:
            self._slots.setdefault(slot, []).append(story.id)

    def withdraw(self, revocation: Revocation) -> None:
        """Hide the stories told of the award slot ``revocation`` takes back."""
        ids = self._slots.pop(award_slot(revocation), None)
        if ids:
            self._withdrawn.update(ids)

    def feed(
        self,
        *,
        team: str | None,
        since: datetime | None,
        limit: int,
        viewer: str | None,
        privacy: Callable[[str], Visibility | None],
        rankings: bool = True,
        before: str | None = None,
    ) -> list[Story]:
        out: list[Story] = []
        floor = None if since is None else epoch_us(since)
        keys = self._keys
        withdrawn = self._withdrawn
        start = len(keys)
        if before is not None:
            start = bisect.bisect_left(keys, self.position(before))
        for i in range(start - 1, -1, -1):
            if len(out) >= limit or (floor is not None and keys[i][0] < floor):
                break
            story = self._stories[i]
            if team is not None and team not in story.teams:
                continue
            if story.id not in withdrawn and visible(story, viewer, privacy, rankings):
                out.append(story)
        return out

    def position(self, story_id: str) -> tuple[int, int]:
        """Return the sort key of the kept story ``story_id`` (the ``before`` of the feed)."""
        key = self._ids.get(story_id)
        if key is None:
            raise unknown_story(story_id)
        return key

    def naming(self, user: str) -> list[Story]:
        """Return the stories whose people include ``user``, oldest first."""
        return [story for story in self._stories if user in story.people]

    def erase(self, user: str, pseudonym: str) -> None:
        """Drop the stories naming ``user``; in the others, replace the id (erase_story)."""
        keys: list[tuple[int, int]] = []
        stories: list[Story] = []
        for key, story in zip(self._keys, self._stories, strict=True):
            kept = erase_story(story, user, pseudonym)
            if kept is not None:
                keys.append(key)
                stories.append(kept)
        self._keys = keys
        self._stories = stories
        # The dropped stories' ids go with them, as the SQL stores delete their rows: a
        # new person with the same id may be told the same event again (a personal
        # best's id is its board, period and person). A re-sent erased activity tells
        # nothing: its stored outcome is returned before any story is added.
        ids_kept = {story.id for story in stories}
        self._ids = {story.id: key for key, story in zip(keys, stories, strict=True)}
        self._withdrawn &= ids_kept
        self._slots = {
            slot: [i for i in ids if i in ids_kept]
            for slot, ids in self._slots.items()
            if any(i in ids_kept for i in ids)
        }


# -- the activity rollup ------------------------------------------------------------------

_Rows = dict[tuple[str, str], list[Any]]


class _Level:
    """One rollup level: per label and team, ``{(actor, kind): [activities, latest epoch]}``."""

    __slots__ = ("labels", "rows")

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, _Rows]] = {}
        self.labels: list[str] = []  # sorted

    def teams(self, label: str) -> dict[str, _Rows]:
        teams = self.rows.get(label)
        if teams is None:
            teams = self.rows[label] = {"": {}}
            bisect.insort(self.labels, label)
        return teams

    def span(self, lo: str | None, hi: str | None) -> list[str]:
        labels = self.labels
        a = 0 if lo is None else bisect.bisect_left(labels, lo)
        b = len(labels) if hi is None else bisect.bisect_right(labels, hi)
        return labels[a:b]


class Rollup:
    """Per local day, ISO week and month: activity counts and latest times per person and kind.

    Team ``""`` holds every activity.  Recording only appends to a pending list;
    the rows are folded in at the next query, so that the hot path pays one list
    append per activity.
    """

    __slots__ = ("_first", "_kinds", "_labels", "_levels", "_pending")

    def __init__(self) -> None:
        self._levels = {level: _Level() for level in LEVELS}
        self._labels: dict[str, tuple[str, str]] = {}  # day -> (week, month)
        self._pending: list[tuple[Activity, tuple[str, str, str]]] = []
        # Per team: each person's first day, and the kinds seen.
        self._first: dict[str, dict[str, str]] = {}
        self._kinds: dict[str, set[str]] = {}

    def add(self, activity: Activity, labels: tuple[str, str, str]) -> None:
        self._pending.append((activity, labels))

    def _fold(self) -> None:
        pending = self._pending
        self._pending = []
        days, weeks, months = (self._levels[level] for level in LEVELS)
        for activity, labels in pending:
            if activity.kind in RESERVED_KINDS:
                continue
            day, week, month = labels
            if day not in self._labels:
                self._labels[day] = (week, month)
            epoch = activity.at.timestamp()  # type: ignore[union-attr]  # filled by the facade
            key = (activity.actor, activity.kind)
            at_day, at_week, at_month = days.teams(day), weeks.teams(week), months.teams(month)
            for team in ("", *activity.teams):
                firsts = self._first.get(team)
                if firsts is None:
                    firsts = self._first[team] = {}
                    self._kinds[team] = set()
                known = firsts.get(activity.actor)
                if known is None or day < known:
                    firsts[activity.actor] = day
                self._kinds[team].add(activity.kind)
                for teams in (at_day, at_week, at_month):
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
        for level in self._levels.values():
            for teams in level.rows.values():
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

    def cohort_weeks(
        self, start: str | None, stop: str | None, until: str, team: str | None
    ) -> list[tuple[str, str, int]]:
        if self._pending:
            self._fold()
        firsts = {
            actor: day
            for actor, day in self._first.get(team or "", {}).items()
            if (start is None or day >= start) and (stop is None or day <= stop)
        }
        if not firsts:
            return []
        level = self._levels["week"]
        counts: dict[tuple[str, str], int] = {}
        lowest = min(self._labels[day][0] for day in firsts.values())
        for week in level.span(lowest, until):
            seen: set[str] = set()
            for actor, _kind in level.rows[week].get(team or "", {}):
                if actor in seen:
                    continue
                seen.add(actor)
                first = firsts.get(actor)
                if first is not None:
                    counts[first, week] = counts.get((first, week), 0) + 1
        return [(first, week, n) for (first, week), n in sorted(counts.items())]

    def active_in(self, weeks: Mapping[str, str], team: str | None) -> set[str]:
        if self._pending:
            self._fold()
        kinds = self._kinds.get(team or "", ())
        rows_of = self._levels["week"].rows
        out: set[str] = set()
        for user, week in weeks.items():
            rows = rows_of.get(week, {}).get(team or "")
            if rows and any((user, kind) in rows for kind in kinds):
                out.add(user)
        return out

    def last_activity(self, stop: str | None, team: str | None) -> dict[str, float]:
        if self._pending:
            self._fold()
        level = self._levels["day"]
        days = level.span(None, stop)
        left = set(self._kinds.get(team or "", ()))
        out: dict[str, float] = {}
        # Newest day first: every kind is usually found within a few days.
        for day in reversed(days):
            if not left:
                break
            found: dict[str, float] = {}
            for (_actor, kind), (_n, last) in level.rows[day].get(team or "", {}).items():
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
        by_team = "team" in by
        by_actor = "actor" in by  # then each group has one actor: no sets needed
        want = kinds if kinds is None or isinstance(kinds, set | frozenset) else set(kinds)
        # Positions in (day, week, month, actor, kind, team), in the order of ``by``.
        picks = [FIELDS.index(name) for name in by]
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for source in plan(by, start, stop):
            level = self._levels[source.level]
            for label in level.span(source.lo, source.hi):
                day: str | None
                week: str | None
                month: str | None
                if source.level == "day":
                    day = label
                    week, month = self._labels[label]
                elif source.level == "week":
                    day, week, month = None, label, source.month
                else:
                    day, week, month = None, None, label
                teams = level.rows[label]
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
