"""Adoption figures: who is active, who contributes, what changed, who kept going.

The store answers aggregate queries over its day, week and month activity
rollups (:meth:`Store.activity_totals`, :meth:`Store.cohort_weeks`,
:meth:`Store.active_in`, :meth:`Store.first_awards`); this module holds
the pure parts: period arithmetic, shares, the 90-9-1 split, cohorts, and the
frozen result, :class:`AdoptionReport`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ._badges import RESERVED_KINDS
from ._errors import ConfigurationError, InvalidQueryError
from ._leaderboards import LeaderboardEntry, _parse_label, resolve_period
from ._limits import MAX_COUNT, check_identifier, check_kind
from ._periods import Window, parse_window, period_key

if TYPE_CHECKING:
    from .storage.base import Store

__all__ = [
    "AdoptionReport",
    "Change",
    "Cohort",
    "KeptGoing",
    "period_days",
    "previous_days",
    "share_of_top",
    "week_add",
]


@dataclass(frozen=True, slots=True)
class Change:
    """A total in the period and in the period before (None for the ``all`` window)."""

    name: str
    current: int
    previous: int | None

    @property
    def delta(self) -> int | None:
        """Return ``current - previous`` (None without a previous period)."""
        return None if self.previous is None else self.current - self.previous

    @property
    def ratio(self) -> float | None:
        """Return the relative change (0.25 is +25 %); None when there was nothing before."""
        if not self.previous:
            return None
        return (self.current - self.previous) / self.previous


@dataclass(frozen=True, slots=True)
class Cohort:
    """People first active (ever) in ISO week ``week``, and how many were active each week after.

    ``active[i]`` counts those active in the i-th week from ``week`` (``active[0]``
    is ``size``), up to the period's last week (for the ``all`` window, the current
    week, or the last active one when later).
    """

    week: str
    size: int
    active: tuple[int, ...]

    @property
    def shares(self) -> tuple[float, ...]:
        """Return ``active`` as shares of ``size``."""
        return tuple(n / self.size for n in self.active)


@dataclass(frozen=True, slots=True)
class KeptGoing:
    """Of ``earned`` people whose first badge came in the period, ``active`` were active
    in the ISO week ``weeks`` weeks after it (only people for whom that week has begun
    are counted).  A person's first badge is their earliest award by its time, not the
    first recorded, and a revoked award counts.  In a team's report, ``earned`` counts
    only the people active in the team in the period, and ``active`` only activities
    naming the team."""

    weeks: int
    earned: int
    active: int

    @property
    def share(self) -> float | None:
        """Return ``active / earned`` (None when nobody is counted)."""
        return self.active / self.earned if self.earned else None


@dataclass(frozen=True, slots=True)
class AdoptionReport:
    """Adoption figures for one period (see :meth:`Rewards.adoption`).

    ``first_day``/``last_day`` bound the period (local days, inclusive).
    ``active`` counts distinct people active in it; ``daily``, ``weekly``,
    ``monthly`` count them per local day, ISO week and month of the period
    (every day, week and month of the period is listed, with 0 when nobody
    was active; weeks and months cut by the period count its days only; for
    the ``all`` window, from the first active day to today, or to the last
    active day when later, and nothing when nothing was recorded).
    ``adoption`` is ``active / seats``, clamped to 1.0; ``over_seats`` is
    how many more people were active than there are seats (0 when seats
    suffice).  ``contributors`` did at least one contributing activity,
    ``readers`` were active without contributing.  The 90-9-1 split covers
    ``population`` = the seats, or the active people when there are more (or
    no seats are set): ``silent`` did not contribute, ``occasional``
    contributed fewer than the ``heavy`` threshold, ``heavy`` at least that.
    ``top1_share`` and ``top10_share`` are the shares of all activities done by
    the most active 1 % and 10 % of active people (rounded up to whole people).
    ``totals``, ``by_kind`` and ``by_team`` are activity counts against the
    period before.  ``cohorts`` are the weekly cohorts first active in the
    period; ``kept_going`` follows the people whose first badge came in it
    (with ``team``, those of them active in the team in the period).
    ``last_activity`` maps each kind to the time of its latest activity up to
    the end of the period, and ``as_of`` (the earlier of now and the period's
    end) is the time ages are measured from (:meth:`age`).
    """

    window: str
    period: str
    team: str | None
    first_day: date | None
    last_day: date | None
    as_of: datetime
    active: int
    daily: tuple[tuple[str, int], ...]
    weekly: tuple[tuple[str, int], ...]
    monthly: tuple[tuple[str, int], ...]
    seats: int | None
    adoption: float | None
    over_seats: int
    contributors: int
    readers: int
    population: int
    silent: int
    occasional: int
    heavy: int
    heavy_threshold: int
    top1_share: float | None
    top10_share: float | None
    totals: Change
    by_kind: tuple[Change, ...]
    by_team: tuple[Change, ...]
    cohorts: tuple[Cohort, ...]
    kept_going: KeptGoing
    last_activity: Mapping[str, datetime]

    def age(self, kind: str) -> timedelta | None:
        """Return how long before ``as_of`` the latest activity of ``kind`` was (None: never)."""
        last = self.last_activity.get(kind)
        return None if last is None else self.as_of - last


# -- period arithmetic ------------------------------------------------------------------


def period_days(window: Window, label: str) -> tuple[date, date] | None:
    """Return the first and last local day of the period ``label`` (None for ``all``)."""
    if window.kind == "all":
        return None
    if window.kind == "rolling":
        last = date.fromisoformat(label)
        return last - timedelta(days=window.days - 1), last
    first = _parse_label(window.kind, label, 0)
    assert first is not None  # resolve_period checked it
    if window.kind == "day":
        return first, first
    if window.kind == "week":
        return first, first + timedelta(days=6)
    months = {"month": 1, "quarter": 3, "year": 12}[window.kind]
    year, month = divmod(first.month - 1 + months, 12)
    return first, date(first.year + year, month + 1, 1) - timedelta(days=1)


def previous_days(window: Window, first: date, last: date) -> tuple[date, date]:
    """Return the first and last day of the period before the one from ``first`` to ``last``."""
    if window.kind in ("rolling", "day", "week"):
        span = (last - first).days + 1
        return first - timedelta(days=span), first - timedelta(days=1)
    before = first - timedelta(days=1)
    found = period_days(window, period_key(window.kind, before))
    assert found is not None
    return found


def week_add(label: str, weeks: int) -> str:
    """Return the ISO week label ``weeks`` weeks after ``label``."""
    year, week = label.split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    return period_key("week", monday + timedelta(weeks=weeks))


def share_of_top(counts: Sequence[int], fraction: float) -> float | None:
    """Return the share of the total done by the top ``fraction`` of people (rounded up)."""
    total = sum(counts)
    if not counts or not total:
        return None
    top = max(1, math.ceil(len(counts) * fraction - 1e-9))
    return sum(sorted(counts, reverse=True)[:top]) / total


# -- the report -------------------------------------------------------------------------


def build_report(
    store: Store,
    *,
    window: str,
    period: str | date | datetime | None,
    team: str | None,
    now: datetime,
    tz: ZoneInfo,
    seats: int | None,
    contributing: Collection[str] | None,
    heavy: int,
    kept_weeks: int,
) -> AdoptionReport:
    """Compute an :class:`AdoptionReport` from the store's aggregate answers."""
    try:
        parsed = parse_window(window, subject="adoption", field="window")
    except ConfigurationError as exc:  # a query argument, not a definition
        raise InvalidQueryError("window", exc.reason, subject="adoption") from None
    today = now.astimezone(tz).date()
    label = resolve_period(parsed, period, today=today, tz=tz, week_starts=0, subject="adoption")
    bounds = period_days(parsed, label)
    start = stop = None
    previous: tuple[str, str] | None = None
    as_of = now
    if bounds is not None:
        first, last = bounds
        start, stop = first.isoformat(), last.isoformat()
        before = previous_days(parsed, first, last)
        previous = (before[0].isoformat(), before[1].isoformat())
        end = datetime.combine(last + timedelta(days=1), time(), tz)
        as_of = min(now, end)

    def totals(by: tuple[str, ...], **options: Any) -> list[tuple[Any, ...]]:
        return store.activity_totals(by=by, team=team, **options)

    # One query by person and kind gives the active people, their activities, the
    # contributors and the totals by kind; the rollups answer it by whole months.
    per_kind: dict[str, int] = {}
    per_actor: dict[str, int] = {}
    contributed: dict[str, int] = {}
    for actor, kind, _, n, _ in totals(("actor", "kind"), start=start, stop=stop):
        per_kind[kind] = per_kind.get(kind, 0) + n
        per_actor[actor] = per_actor.get(actor, 0) + n
        if contributing is None or kind in contributing:
            contributed[actor] = contributed.get(actor, 0) + n
    active = len(per_actor)
    all_count = sum(per_actor.values())
    per_person = list(per_actor.values())

    day_rows = totals(("day",), start=start, stop=stop)
    listed = bounds if bounds is not None else _all_span(day_rows, today)
    daily = _series(day_rows, listed, "day")
    weekly = _series(totals(("week",), start=start, stop=stop), listed, "week")
    monthly = _series(totals(("month",), start=start, stop=stop), listed, "month")

    contributors = len(contributed)
    heavy_count = sum(1 for n in contributed.values() if n >= heavy)
    population = max(seats or 0, active)

    def previous_rows(by: str) -> dict[str, int]:
        if previous is None:
            return {}
        return {row[0]: row[2] for row in totals((by,), start=previous[0], stop=previous[1])}

    def changes(now_rows: Mapping[str, int], before_rows: Mapping[str, int]) -> tuple[Change, ...]:
        names = sorted(set(now_rows) | set(before_rows))
        return tuple(
            Change(n, now_rows.get(n, 0), None if previous is None else before_rows.get(n, 0))
            for n in names
        )

    kinds_before = previous_rows("kind")
    previous_total = None if previous is None else sum(kinds_before.values())
    by_kind = changes(per_kind, kinds_before)
    teams_now = {row[0]: row[2] for row in totals(("team",), start=start, stop=stop)}
    by_team = changes(teams_now, previous_rows("team"))

    # Cohorts and "kept going" are counted by the store from its week rollup.
    period_weeks = [w for w, _ in weekly]
    cohorts = _cohorts(
        store.cohort_weeks(start=start, stop=stop, until=period_weeks[-1], team=team)
        if period_weeks
        else [],
        period_weeks,
    )
    targets = _kept_targets(
        store.first_awards(), tz, kept_weeks, start, stop, period_key("week", today)
    )
    if team is not None:
        # A team's report follows its own people only: those active in the team in
        # the period (an activity naming it), as every other figure of the report.
        targets = {user: week for user, week in targets.items() if user in per_actor}
    kept = KeptGoing(kept_weeks, len(targets), len(store.active_in(targets, team=team)))

    last_activity = {
        kind: datetime.fromtimestamp(epoch, tz)
        for kind, epoch in store.last_activity(stop=stop, team=team).items()
    }
    return AdoptionReport(
        window=parsed.name,
        period=label,
        team=team,
        first_day=None if bounds is None else bounds[0],
        last_day=None if bounds is None else bounds[1],
        as_of=as_of,
        active=active,
        daily=daily,
        weekly=weekly,
        monthly=monthly,
        seats=seats,
        adoption=None if not seats else min(1.0, active / seats),
        over_seats=0 if seats is None else max(0, active - seats),
        contributors=contributors,
        readers=active - contributors,
        population=population,
        silent=population - contributors,
        occasional=contributors - heavy_count,
        heavy=heavy_count,
        heavy_threshold=heavy,
        top1_share=share_of_top(per_person, 0.01),
        top10_share=share_of_top(per_person, 0.10),
        totals=Change("all", all_count, previous_total),
        by_kind=by_kind,
        by_team=by_team,
        cohorts=cohorts,
        kept_going=kept,
        last_activity=last_activity,
    )


def _all_span(rows: Sequence[tuple[Any, ...]], today: date) -> tuple[date, date] | None:
    """Return the local days the series of the ``all`` window list (None: no activity).

    From the first active day (the day totals ``rows``) to today, or to the last
    active day when an activity is dated after today.  The span is the data's own:
    ``Activity.at`` lies from 1900 to 2999, so at most about 401,000 days, 57,400
    weeks and 13,200 months (a stray activity dated 1900 in a report of 2026: 46,000
    days); no origin before the first activity is listed.
    """
    if not rows:
        return None
    labels = [row[0] for row in rows]
    return date.fromisoformat(min(labels)), max(today, date.fromisoformat(max(labels)))


def _series(
    rows: Sequence[tuple[Any, ...]], span: tuple[date, date] | None, kind: str
) -> tuple[tuple[str, int], ...]:
    """Return every ``kind`` label (day, week, month) touching the days ``span`` in
    order, with its count from ``rows`` (0 when it has none); nothing without a span."""
    if span is None:
        return ()
    counts = {row[0]: row[1] for row in rows}
    return tuple((label, counts.get(label, 0)) for label in _labels(kind, *span))


def _labels(kind: str, first: date, last: date) -> list[str]:
    """Return the labels of the days, ISO weeks or months touching ``first`` to ``last``."""
    if kind == "day":
        step = timedelta(days=1)
    elif kind == "week":
        step = timedelta(weeks=1)
        first -= timedelta(days=first.weekday())  # its Monday: one label per step
    else:
        first = first.replace(day=1)
        labels = []
        while first <= last:
            labels.append(period_key(kind, first))
            year, month = divmod(first.month, 12)  # the next month's first day
            first = date(first.year + year, month + 1, 1)
        return labels
    labels = []
    while first <= last:
        labels.append(period_key(kind, first))
        first += step
    return labels


def _cohorts(
    rows: Sequence[tuple[str, str, int]], period_weeks: Sequence[str]
) -> tuple[Cohort, ...]:
    """Return the weekly cohorts from the store's (first day, week, people) rows.

    ``period_weeks`` are the report's weeks, consecutive and in order: a cohort's
    series runs from its own week to the last of them.
    """
    counts: dict[tuple[str, str], int] = {}
    for first, week, n in rows:
        cohort = period_key("week", date.fromisoformat(first))
        counts[cohort, week] = counts.get((cohort, week), 0) + n
    out: list[Cohort] = []
    for i, week in enumerate(period_weeks):
        size = counts.get((week, week), 0)  # everyone is active in their first week
        if size:
            later = tuple(counts.get((week, label), 0) for label in period_weeks[i:])
            out.append(Cohort(week, size, later))
    return tuple(out)


def _kept_targets(  # noqa: PLR0917  # a private helper of build_report, called once
    first_awards: Mapping[str, float],
    tz: ZoneInfo,
    weeks: int,
    start: str | None,
    stop: str | None,
    this_week: str,
) -> dict[str, str]:
    """Return, per person whose first badge came from ``start`` to ``stop``, the week to look at.

    People for whom that week (``weeks`` after the award's) has not begun are left out.
    """
    out: dict[str, str] = {}
    for user, epoch in first_awards.items():
        local = datetime.fromtimestamp(epoch, tz).date()
        day = local.isoformat()
        if (start is not None and day < start) or (stop is not None and day > stop):
            continue
        try:
            target = week_add(period_key("week", local), weeks)
        except OverflowError:
            continue  # a week after the last date Python holds: far too early to tell
        if target <= this_week:  # else too early to tell
            out[user] = target
    return out


def newcomers(
    store: Store,
    *,
    week: str | date | datetime | None,
    team: str | None,
    limit: int,
    now: datetime,
    tz: ZoneInfo,
) -> list[LeaderboardEntry]:
    """Return the people first active in ``week``, by their activities that week."""
    parsed = parse_window("week")
    today = now.astimezone(tz).date()
    label = resolve_period(
        parsed, week, today=today, tz=tz, week_starts=0, subject="newcomers", field="week"
    )
    bounds = period_days(parsed, label)
    assert bounds is not None
    first: dict[str, str] = {}
    counts: dict[str, int] = {}
    for actor, week_label, _, n, _ in store.activity_totals(
        by=("actor", "week"), stop=bounds[1].isoformat(), team=team
    ):
        if actor not in first:
            first[actor] = week_label  # rows come sorted by actor, then week
        if week_label == label:
            counts[actor] = n
    scored = sorted(
        (
            (n, actor)
            for actor, n in counts.items()
            if first[actor] == label and not store.board_opt_out(actor)
        ),
        key=lambda item: (-item[0], item[1]),
    )
    out: list[LeaderboardEntry] = []
    for i, (n, actor) in enumerate(scored[:limit]):
        rank = out[-1].rank if out and out[-1].score == n else i + 1
        out.append(LeaderboardEntry(actor, n, rank))
    return out


def check_seats(seats: Any, team_seats: Any) -> tuple[int | None, dict[str, int]]:
    """Validate the seats options of Rewards; return them as (seats, team seats)."""
    if seats is not None and (
        isinstance(seats, bool) or not isinstance(seats, int) or not 1 <= seats <= MAX_COUNT
    ):
        raise ConfigurationError(
            "seats",
            f"must be a whole number from 1 to {MAX_COUNT:,}, got {seats!r}",
            subject="Rewards",
        )
    if team_seats is not None and not isinstance(team_seats, Mapping):
        raise ConfigurationError(
            "team_seats",
            f"must be a mapping of team ids to seats, not {type(team_seats).__name__}",
            subject="Rewards",
        )
    out: dict[str, int] = {}
    for team, n in dict(team_seats or {}).items():
        try:
            check_identifier(team)
        except ValueError as exc:
            raise ConfigurationError(
                "team_seats", f"team id {team!r}: {exc}", subject="Rewards"
            ) from None
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_COUNT:
            raise ConfigurationError(
                "team_seats",
                f"team {team!r}: must be a whole number from 1 to {MAX_COUNT:,}, got {n!r}",
                subject="Rewards",
            )
        out[team] = n
    return seats, out


def check_contributing(contributing: Any) -> frozenset[str] | None:
    """Validate the ``contributing`` option of Rewards: None, or a collection of kinds."""
    if contributing is None:
        return None
    if isinstance(contributing, str | bytes) or not isinstance(contributing, Iterable):
        # A lone string would be read as a set of characters: no kind would count.
        raise ConfigurationError(
            "contributing",
            f"must be a collection of activity kinds (such as ['post.created']), "
            f"not {type(contributing).__name__}",
            subject="Rewards",
        )
    kinds: set[str] = set()
    for kind in contributing:
        try:
            kinds.add(check_kind(kind))
        except ValueError as exc:
            raise ConfigurationError("contributing", str(exc), subject="Rewards") from None
        if kind in RESERVED_KINDS:
            # Whatever the kind settings: no activity of these kinds is ever counted.
            raise ConfigurationError(
                "contributing",
                f"{kind!r} is recorded by grant() and revoke(), which are not activity "
                "and never count in adoption figures",
                subject="Rewards",
            )
    return frozenset(kinds)


def check_contributing_kinds(contributing: Iterable[str], declared: Container[str]) -> None:
    """Raise ConfigurationError naming ``contributing`` for a kind not in ``declared``.

    Called when ``kinds=`` is given, as rules, badges and boards are checked.
    """
    for kind in sorted(contributing):
        if kind not in declared:
            raise ConfigurationError(
                "contributing", f"undeclared activity kind {kind!r}", subject="Rewards"
            )
