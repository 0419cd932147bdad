"""The rules health report: adoption, activity, points, badges and leaderboard churn.

A report is computed from recorded activities and their outcomes, so it works
on a simulation run (which streams them in as it records) and on any store's
log (:meth:`HealthReport.from_rewards`).  Days are local calendar days of the
report's time zone counted from ``start``: day ``d`` begins at ``start``'s local
time of day on the ``d``-th local date after ``start``'s (``day_starts()``), so
across a daylight-saving change a day lasts 23 or 25 hours; weeks are blocks of 7
such days from ``start``, labelled with the ISO week of their first day (start on
a Monday at local midnight and days and weeks are the calendar ones).

Figures are frozen dataclasses whose floats are rounded to 6 decimal places,
so :meth:`HealthReport.to_json` is byte-identical for identical inputs.
"""

from __future__ import annotations

import heapq
import json
import math
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from .._errors import ConfigurationError
from .._limits import check_identifier
from .._models import Activity, Outcome
from .._periods import period_key, resolve_timezone
from ._population import Population, Roster

if TYPE_CHECKING:
    from .._rewards import Rewards

__all__ = [
    "BadgeShare",
    "Churn",
    "Figures",
    "HealthReport",
    "Inequality",
    "health_report",
]

REPORT_FORMAT = 1


def check_items(field: str, value: Any, *, subject: str, what: str, example: str) -> list[Any]:
    """Return the items of a list argument, refusing what only iterates like one.

    A lone string would be read as its characters, a mapping as its keys and a
    lone pydantic model (a rule) as its fields: each raises ConfigurationError
    naming ``field``.
    """
    if isinstance(value, str | bytes | Mapping | BaseModel) or not isinstance(value, Iterable):
        raise ConfigurationError(
            field,
            f"must be {what} (such as {example}), not {type(value).__name__}",
            subject=subject,
        )
    return list(value)


def check_badges(badges: Any, *, subject: str) -> tuple[str, ...]:
    """Return the ``badges`` argument of a report as a tuple of badge ids, else raise."""
    items = check_items(
        "badges", badges, subject=subject, what="a list of badge ids", example="['first-post']"
    )
    for badge in items:
        try:
            check_identifier(badge)
        except ValueError as exc:
            raise ConfigurationError(
                "badges", f"badge id {badge!r}: {exc}", subject=subject
            ) from None
    return tuple(items)


def check_count(field: str, value: Any, *, subject: str) -> int:
    """Return ``value`` if it is an int (not a bool) of at least 1, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(field, f"must be an int, got {value!r}", subject=subject)
    if value < 1:
        raise ConfigurationError(field, "must be at least 1", subject=subject)
    return value


def check_top(top: Any, *, subject: str) -> int:
    """Return the ``top`` argument of a report (an int of at least 1), else raise."""
    return check_count("top", top, subject=subject)


def day_starts(start: datetime, days: int, tz: ZoneInfo) -> list[datetime]:
    """Return when each of ``days`` local days from ``start`` begins, and when the last ends.

    Day ``d`` begins at ``start``'s local time of day (in ``tz``) on the ``d``-th
    local date after ``start``'s, so a day across a daylight-saving change lasts 23
    or 25 hours; a wall time the change skips is read with the offset before it (an
    hour later) and a repeated one as its first occurrence.  The ``days + 1`` times
    are in UTC, in increasing order.
    """
    first = start.astimezone(UTC)
    wall = start.astimezone(tz).replace(tzinfo=None)
    return [first] + [
        (wall + timedelta(days=d)).replace(tzinfo=tz).astimezone(UTC) for d in range(1, days + 1)
    ]


def _r(value: float) -> float:
    """Round to 6 places; adding 0.0 turns -0.0 into 0.0 so JSON never shows ``-0.0``."""
    return round(value, 6) + 0.0


@dataclass(frozen=True, slots=True)
class Inequality:
    """How points are spread over a group's people (negative balances count as 0).

    ``gini`` is 0 when everyone holds the same and tends to 1 when one person
    holds everything; ``top1_share`` and ``top10_share`` are the shares of all
    points held by the ceil(1 %) and ceil(10 %) of people with the most.
    """

    people: int
    earners: int
    total: int
    gini: float
    top1_share: float
    top10_share: float


@dataclass(frozen=True, slots=True)
class BadgeShare:
    """Who earned a badge (tier) and when.

    ``people`` hold it at the end (revoked awards do not count); ``share`` is
    ``people`` over the group's people; ``first_day`` and ``median_day`` are the
    day of the first award and the day by which half of those who ever earned it
    had it (the lower median); ``cumulative`` is the share holding it at the end
    of each week.
    """

    badge: str
    tier: str | None
    people: int
    share: float
    first_day: int | None
    median_day: int | None
    cumulative: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Churn:
    """How often a board's top changes from one week to the next.

    ``board`` is ``points/week`` (points earned within each week) or
    ``points/all`` (balances at the end of each week); ``source`` says where
    the tops come from (``ledger``: computed from ledger lines with the
    leaderboard tie rule: higher score, then who reached it first, then id).
    ``leaders[i]`` is the top of ``periods[i]``; ``entrants[i]`` counts its people
    who were not in the previous top (for the first period: all of them);
    ``changes`` counts the periods whose top differs, as a set, from the
    previous one; ``mean_entrants`` is the mean of ``entrants / top`` from the
    second period on.
    """

    board: str
    source: str
    top: int
    periods: tuple[str, ...]
    leaders: tuple[tuple[str, ...], ...]
    entrants: tuple[int, ...]
    changes: int
    mean_entrants: float


@dataclass(frozen=True, slots=True)
class Figures:
    """The health figures of one group: the organisation or one team.

    ``adoption[d]`` is the number of people whose first activity came before
    the end of day ``d - 1`` (so ``adoption[0]`` is 0 and the last entry counts
    the whole run); ``active[w]`` is the number of people with an activity in
    week ``weeks[w]``.
    """

    name: str
    people: int
    seats: int
    adopters: int
    adoption: tuple[int, ...]
    weeks: tuple[str, ...]
    active: tuple[int, ...]
    points: Inequality
    badges: tuple[BadgeShare, ...]
    churn: tuple[Churn, ...]

    def adoption_share(self, day: int) -> float:
        """Return the share of people who had adopted by ``day`` (0 to ``days``).

        Raises ConfigurationError naming ``day`` for anything but an int in that range.
        """
        days = len(self.adoption) - 1
        if isinstance(day, bool) or not isinstance(day, int):
            raise ConfigurationError("day", f"must be an int, got {day!r}", subject="report")
        if not 0 <= day <= days:
            raise ConfigurationError("day", f"must be between 0 and {days}", subject="report")
        return self.adoption[day] / self.people


@dataclass(frozen=True, slots=True)
class HealthReport:
    """A rules health report: the organisation's figures and each team's.

    ``outside`` counts the activities left out because their actor is not in
    the population or they fall outside ``[start, start + days)``.
    """

    start: datetime
    days: int
    timezone: str
    currency: str
    top: int
    seed: int | None
    outside: int
    organisation: Figures
    teams: tuple[Figures, ...]

    def team(self, name: str) -> Figures:
        """Return the figures of the team called ``name``."""
        for figures in self.teams:
            if figures.name == name:
                return figures
        raise ConfigurationError("team", f"no team called {name!r} in the report", subject="report")

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-safe dicts, lists, strings and numbers."""
        out = _jsonable(self)
        out["format"] = REPORT_FORMAT
        return out  # type: ignore[no-any-return]

    def to_json(self) -> str:
        """Return the report as JSON: sorted keys, 2-space indent, floats to 6 places."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, allow_nan=False) + "\n"

    def plot(self, path: str | Path | None = None) -> bytes:
        """Draw the report as a PNG, write it to ``path`` if given, and return its bytes.

        Needs matplotlib (``pip install "e2badges[matplotlib]"``).
        """
        from ._charts import plot_report  # noqa: PLC0415  # matplotlib is an optional extra

        return plot_report(self, path)

    @classmethod
    def from_rewards(
        cls,
        rewards: Rewards,
        *,
        population: Population | Mapping[str, str],
        start: datetime,
        days: int,
        seats: int | None = None,
        currency: str = "points",
        top: int = 10,
        badges: Sequence[str] = (),
    ) -> HealthReport:
        """Compute the report from everything a Rewards instance's store has recorded.

        Reads the store's log and each activity's stored outcome, so on a
        database store it makes a query per activity.
        """
        store = rewards.store
        records = (
            (activity, store.get_outcome(activity.id) or Outcome(activity.id))
            for activity in store.iter_activities()
        )
        return health_report(
            records,
            population=population,
            start=start,
            days=days,
            seats=seats,
            timezone=rewards.timezone.key,
            currency=currency,
            top=top,
            badges=badges,
        )


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def health_report(
    records: Iterable[tuple[Activity, Outcome]],
    *,
    population: Population | Mapping[str, str] | Roster,
    start: datetime,
    days: int,
    seats: int | None = None,
    timezone: str | ZoneInfo = "UTC",
    currency: str = "points",
    top: int = 10,
    badges: Sequence[str] = (),
    seed: int | None = None,
) -> HealthReport:
    """Compute a health report from recorded activities and their outcomes.

    ``population`` is a Population or a mapping of each person to their team;
    ``badges`` is a list of badge ids to report even if nobody earned them (badges
    that were awarded are reported anyway).  Records may come in any order.
    """
    if not isinstance(start, datetime):
        raise ConfigurationError(
            "start", f"must be a datetime, got {type(start).__name__}", subject="health report"
        )
    if start.tzinfo is None or start.utcoffset() is None:
        raise ConfigurationError("start", "must be timezone-aware", subject="health report")
    check_count("days", days, subject="health report")
    check_top(top, subject="health report")
    badges = check_badges(badges, subject="health report")
    roster = Roster.coerce(population, seats=seats)
    tz = resolve_timezone(timezone, subject="health report")
    builder = _Builder(roster, start, days, currency, tz)
    for activity, outcome in records:
        builder.add(activity, outcome)
    return builder.report(tz, top=top, badges=badges, seed=seed)


class _Builder:
    """Accumulate per-person facts in one pass over the records."""

    def __init__(
        self, roster: Roster, start: datetime, days: int, currency: str, tz: ZoneInfo
    ) -> None:
        self.roster = roster
        self.start = start
        self.starts = day_starts(start, days, tz)
        self.days = days
        self.weeks = math.ceil(days / 7)
        self.currency = currency
        self.index = {person: i for i, person in enumerate(roster.ids)}
        self.first_day: list[int | None] = [None] * len(roster.ids)
        self.active: list[set[int]] = [set() for _ in range(self.weeks)]
        # Per week, per person: [points earned, when the score last changed (epoch), changed].
        self.weekly: list[dict[int, list[Any]]] = [{} for _ in range(self.weeks)]
        # Per (badge, tier): (epoch, -change, day, person) of each award (+1) and revocation (-1).
        self.raw: dict[tuple[str, str | None], list[tuple[float, int, int, int]]] = {}
        self.events: dict[tuple[str, str | None], list[tuple[int, int, int]]] = {}
        self.outside = 0

    def _day(self, at: datetime | None) -> int | None:
        if at is None:
            return None
        day = bisect_right(self.starts, at) - 1
        return day if 0 <= day < self.days else None

    def add(self, activity: Activity, outcome: Outcome) -> None:
        day = self._day(activity.at)
        person = self.index.get(activity.actor)
        if day is None or person is None:
            self.outside += 1
        else:
            first = self.first_day[person]
            if first is None or day < first:
                self.first_day[person] = day
            self.active[day // 7].add(person)
        index = self.index
        currency = self.currency
        for line in outcome.ledger:
            if line.currency != currency:
                continue
            credited = index.get(line.user)
            line_day = self._day(line.at)
            if credited is None or line_day is None:
                continue
            week = self.weekly[line_day // 7]
            epoch = line.at.timestamp()
            entry = week.get(credited)
            if entry is None:
                week[credited] = [line.amount, epoch, line.amount != 0]
            elif line.amount:
                entry[0] += line.amount
                entry[1] = max(entry[1], epoch) if entry[2] else epoch
                entry[2] = True
        for award in outcome.awards:
            self._badge(award.badge, award.tier, award.user, award.at, +1)
        for revocation in outcome.revocations:
            self._badge(revocation.badge, revocation.tier, revocation.user, revocation.at, -1)

    def _badge(self, badge: str, tier: str | None, user: str, at: datetime, change: int) -> None:
        person = self.index.get(user)
        day = self._day(at)
        if person is not None and day is not None:
            # Replayed in time order (awards before revocations at one instant) by _holdings.
            self.raw.setdefault((badge, tier), []).append((at.timestamp(), -change, day, person))

    def _holdings(self) -> dict[tuple[str, str | None], list[tuple[int, int, int]]]:
        """Return, per badge (tier), the (day, person, +1 or -1) moments holding starts or stops."""
        out: dict[tuple[str, str | None], list[tuple[int, int, int]]] = {}
        for key, raw in self.raw.items():
            held: dict[int, int] = {}
            events = out[key] = []
            for _epoch, negated, day, person in sorted(raw):
                before = held.get(person, 0)
                after = held[person] = max(before - negated, 0)
                if (before == 0) != (after == 0):
                    events.append((day, person, +1 if after else -1))
        return out

    # -- figures ----------------------------------------------------------------------

    def report(
        self, tz: ZoneInfo, *, top: int, badges: Sequence[str], seed: int | None
    ) -> HealthReport:
        roster = self.roster
        labels = tuple(
            period_key("week", self.starts[7 * w].astimezone(tz).date()) for w in range(self.weeks)
        )
        balances = [0] * len(roster.ids)
        for week in self.weekly:
            for person, entry in week.items():
                balances[person] += entry[0]
        self.events = self._holdings()
        keys = set(self.events)
        keys.update((badge, None) for badge in badges if not any(k[0] == badge for k in keys))
        ordered_keys = sorted(keys, key=lambda k: (k[0], "" if k[1] is None else k[1]))
        facts = _Facts(self, labels, balances, ordered_keys, top)
        everyone = list(range(len(roster.ids)))
        organisation = facts.figures("organisation", everyone, roster.seats)
        members: list[list[int]] = [[] for _ in roster.teams]
        for person, team in enumerate(roster.team_of):
            members[team].append(person)
        teams = tuple(
            facts.figures(name, people, len(people))
            for name, people in zip(roster.teams, members, strict=True)
        )
        return HealthReport(
            start=self.start,
            days=self.days,
            timezone=tz.key,
            currency=self.currency,
            top=top,
            seed=seed,
            outside=self.outside,
            organisation=organisation,
            teams=teams,
        )


class _Facts:
    """Turn a builder's per-person facts into the figures of any group of people."""

    def __init__(
        self,
        builder: _Builder,
        labels: tuple[str, ...],
        balances: list[int],
        badge_keys: list[tuple[str, str | None]],
        top: int,
    ) -> None:
        self.b = builder
        self.labels = labels
        self.balances = balances
        self.badge_keys = badge_keys
        self.top = top

    def figures(self, name: str, members: list[int], seats: int) -> Figures:
        b = self.b
        group = set(members)
        whole = len(members) == len(b.roster.ids)
        per_day = [0] * b.days
        for person in members:
            day = b.first_day[person]
            if day is not None:
                per_day[day] += 1
        adoption = [0]
        for count in per_day:
            adoption.append(adoption[-1] + count)
        active = tuple(
            len(week) if whole else sum(1 for p in week if p in group) for week in b.active
        )
        weekly = (
            b.weekly if whole else [{p: e for p, e in w.items() if p in group} for w in b.weekly]
        )
        return Figures(
            name=name,
            people=len(members),
            seats=seats,
            adopters=adoption[-1],
            adoption=tuple(adoption),
            weeks=self.labels,
            active=active,
            points=_inequality([self.balances[p] for p in members]),
            badges=tuple(self._badge(key, group, whole) for key in self.badge_keys),
            churn=(
                self._churn("points/week", weekly, False),
                self._churn("points/all", weekly, True),
            ),
        )

    def _badge(self, key: tuple[str, str | None], group: set[int], whole: bool) -> BadgeShare:
        b = self.b
        people = len(group)
        events = sorted(e for e in b.events.get(key, ()) if whole or e[1] in group)
        firsts: dict[int, int] = {}
        cumulative: list[float] = []
        holding = 0
        i = 0
        for week in range(b.weeks):
            end = min(7 * (week + 1), b.days)
            while i < len(events) and events[i][0] < end:
                day, person, change = events[i]
                holding += change
                if change > 0:
                    firsts.setdefault(person, day)
                i += 1
            cumulative.append(_r(holding / people))
        days = sorted(firsts.values())
        return BadgeShare(
            badge=key[0],
            tier=key[1],
            people=holding,
            share=_r(holding / people),
            first_day=days[0] if days else None,
            median_day=days[(len(days) - 1) // 2] if days else None,
            cumulative=tuple(cumulative),
        )

    def _churn(self, board: str, weekly: list[dict[int, list[Any]]], cumulative: bool) -> Churn:
        ids = self.b.roster.ids
        top = self.top
        scores: dict[int, list[Any]] = {}
        leaders: list[tuple[str, ...]] = []
        entrants: list[int] = []
        changes = 0
        previous: set[int] = set()
        for week in weekly:
            if cumulative:
                for person, (points, reached, changed) in week.items():
                    entry = scores.get(person)
                    if entry is None:
                        scores[person] = [points, reached]
                    elif changed:
                        entry[0] += points
                        entry[1] = reached
                board_scores = scores
            else:
                board_scores = week
            # Leaderboard order: higher score, then who reached it first, then id.
            best = heapq.nsmallest(
                top, board_scores.items(), key=lambda item: (-item[1][0], item[1][1], item[0])
            )
            current = {person for person, _ in best}
            leaders.append(tuple(ids[person] for person, _ in best))
            entrants.append(len(current - previous))
            if leaders[:-1] and current != previous:
                changes += 1
            previous = current
        later = entrants[1:]
        mean = sum(later) / (top * len(later)) if later else 0.0
        return Churn(
            board=board,
            source="ledger",
            top=top,
            periods=self.labels,
            leaders=tuple(leaders),
            entrants=tuple(entrants),
            changes=changes,
            mean_entrants=_r(mean),
        )


def _inequality(balances: list[int]) -> Inequality:
    values = sorted(max(v, 0) for v in balances)
    n = len(values)
    total = sum(values)
    if total == 0:
        return Inequality(n, 0, 0, 0.0, 0.0, 0.0)
    # Gini = sum_i (2i - n - 1) x_i / (n * total), i = 1..n over ascending x.
    weighted = sum((2 * i - n - 1) * x for i, x in enumerate(values, start=1))

    def share(fraction: float) -> float:
        k = math.ceil(n * fraction)
        return _r(sum(values[n - k :]) / total)

    return Inequality(
        people=n,
        earners=sum(1 for x in values if x > 0),
        total=total,
        gini=_r(weighted / (n * total)),
        top1_share=share(0.01),
        top10_share=share(0.10),
    )
