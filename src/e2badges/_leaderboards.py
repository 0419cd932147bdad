"""Leaderboards: definitions, score formulas, windows and ranking styles (the pure parts).

Rows, standings, pages and entries are NamedTuples: immutable, and built on hot
paths (per board update, per query), where they cost a third of a frozen dataclass.

A :class:`Leaderboard` is a definition: a metric, a scope, the windows it is kept
for, a ranking style and an order.  The engine turns each activity into
*accumulators* per board, window period and subject (a person, or a team on a
teams board): the total, the number of counted activities and the time the
score was reached.  It keeps them in its state and emits each changed entry as a
:class:`BoardRow` with the absolute new score; stores only apply those rows and
answer queries over them.  Everything here is pure: no I/O, no clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ._badges import RESERVED_KINDS
from ._errors import ConfigurationError, InvalidQueryError
from ._frozen import EMPTY, FrozenDict
from ._limits import MAX_AT, MIN_AT, Flag, Real, Text, Whole, check_description
from ._models import Activity, LedgerEntry, check_identifier, check_kind
from ._periods import Window, days_back, parse_window, period_key
from ._rules import (
    SEP,
    PointRule,
    RuleContext,
    _Definition,
    frozen_options,
    options_without_sets,
)

if TYPE_CHECKING:
    from ._state import StateView

__all__ = [
    "WEEKDAYS",
    "AroundPage",
    "AverageMetric",
    "BoardPage",
    "BoardRow",
    "Boards",
    "Bucket",
    "CompiledBoard",
    "CountMetric",
    "EveryoneScope",
    "Leaderboard",
    "LeaderboardEntry",
    "PointsMetric",
    "RollingBucket",
    "ScoreFormula",
    "Standing",
    "SumMetric",
    "TeamScope",
    "TeamsScope",
    "around_start",
    "merge_rows",
    "percentile_of",
    "period_label",
    "rank_of",
    "ranked_page",
    "resolve_period",
    "week_label",
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Role = Literal["actor", "recipient"]

#: The time a team row with members but nothing credited was reached (members="active").
_UNCREDITED = MIN_AT.timestamp()

# -- definitions ------------------------------------------------------------------------


class PointsMetric(_Definition):
    """Score people by the points the point rules credit them in ``currency``.

    Every ledger line of an activity counts, whichever role it credits; a person
    whose lines of one activity add up to zero is not credited by it.
    """

    type: Literal["points"] = "points"
    currency: Text = "points"

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_identifier(value)


class _KindMetric(_Definition):
    kind: Text
    credit: Role = "actor"
    self_credit: Flag = False

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        return check_kind(value)


class CountMetric(_KindMetric):
    """Score people by the number of activities of ``kind`` credited to them.

    ``credit`` is ``"actor"`` (who did it) or ``"recipient"`` (who received it);
    an activity whose recipient is its actor credits the recipient only with
    ``self_credit=True``.
    """

    type: Literal["count"] = "count"


class SumMetric(_KindMetric):
    """Score people by the sum of the values of activities of ``kind`` (views received).

    Activities without a ``value`` are not counted.
    """

    type: Literal["sum"] = "sum"


class AverageMetric(_KindMetric):
    """Score people by the average value of activities of ``kind`` (highest rated).

    A person is ranked once at least ``min_count`` valued activities are credited
    to them.  With ``prior_weight`` C > 0 the score is the Bayesian average
    ``(C * prior_mean + sum) / (C + count)``: a few high values start near the
    prior and need many more to climb above a long record of slightly lower ones.
    ``C * prior_mean`` must be a finite float: a prior that overflows (which would
    make every score infinite) is refused.
    """

    type: Literal["average"] = "average"
    min_count: Whole = Field(default=1, ge=1)
    prior_mean: Real | None = Field(default=None, allow_inf_nan=False)
    prior_weight: Real = Field(default=0.0, ge=0, allow_inf_nan=False, validate_default=True)

    @field_validator("prior_weight")
    @classmethod
    def _prior(cls, value: float, info: ValidationInfo) -> float:
        mean = info.data.get("prior_mean")
        if value > 0 and mean is None:
            raise ValueError("needs a prior_mean")
        if mean is not None and value == 0:
            raise ValueError("must be greater than 0 when a prior_mean is given")
        if mean is not None and not math.isfinite(value * mean):
            # The prior's total C * m would be infinite, and so would every score.
            raise ValueError(
                f"{value!r} * prior_mean {mean!r} overflows a float: the prior's total "
                "C * m, and every score, would be infinite"
            )
        return value


class PluginMetric(_Definition):
    """A metric a plugin contributed (``e2badges_add_metrics``), by name.

    When the Rewards instance is built, the plugin's contribution for ``name``
    (a metric, or a function of ``options`` returning one) takes its place, and
    the board is checked again with it.  ``options`` are read-only, and refuse sets,
    as a plugin criterion's (:class:`~e2badges.criteria.Plugin`).
    """

    type: Literal["plugin"] = "plugin"
    name: Text
    # Read-only (a FrozenDict): the definition is frozen, and plugins are given these.
    options: Mapping[Text, Any] = Field(default=EMPTY)

    @model_validator(mode="before")
    @classmethod
    def _options_without_sets(cls, data: Any) -> Any:
        return options_without_sets(data, cls.__name__)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_identifier(value)

    @field_validator("options")
    @classmethod
    def _options(cls, value: Mapping[str, Any]) -> FrozenDict:
        return frozen_options(value)


Metric = Annotated[
    PointsMetric | CountMetric | SumMetric | AverageMetric | PluginMetric,
    Field(discriminator="type"),
]


class EveryoneScope(_Definition):
    """Rank every person the metric credits."""

    type: Literal["everyone"] = "everyone"


class TeamScope(_Definition):
    """Rank the people credited by activities of ``team`` (from ``Activity.teams``)."""

    type: Literal["team"] = "team"
    team: Text

    @field_validator("team")
    @classmethod
    def _team(cls, value: str) -> str:
        return check_identifier(value)


class TeamsScope(_Definition):
    """Rank teams against teams: a team's score is the sum over its members.

    An activity counts for every team in its ``Activity.teams`` (recorded without
    teams, its actor's teams at its ``at``, from their memberships).  With
    ``divide_by_size=True`` a team's total is divided by its size: the size
    given in ``team_sizes``, or else the number of distinct members counted in
    the window period being ranked.  ``members`` says who is counted:
    ``"credited"`` (the default), the people the board credited to the team;
    ``"active"``, the people with at least one activity naming the team, of any
    kind (grants and revocations aside), as :meth:`Rewards.adoption` counts a
    team's active people.  A team is ranked once the board credited it.
    """

    type: Literal["teams"] = "teams"
    divide_by_size: Flag = False
    team_sizes: dict[Text, Annotated[Whole, Field(ge=1)]] = Field(default_factory=dict)
    members: Literal["credited", "active"] = "credited"

    @field_validator("team_sizes")
    @classmethod
    def _sizes(cls, value: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        if value and not info.data.get("divide_by_size"):
            raise ValueError("are only used with divide_by_size=True")
        for team in value:
            check_identifier(team)
        # Read-only: the compiled board reads this very dict, so a change in place after
        # Rewards was built would change the scores it ranks.
        return FrozenDict(value) if value else EMPTY

    @field_validator("members")
    @classmethod
    def _members(cls, value: str, info: ValidationInfo) -> str:
        if value != "credited" and not info.data.get("divide_by_size"):
            raise ValueError(f"{value!r} is only used with divide_by_size=True")
        return value


Scope = Annotated[EveryoneScope | TeamScope | TeamsScope, Field(discriminator="type")]


class Leaderboard(_Definition):
    """A leaderboard definition: what is scored, over whom, when, and how ties rank.

    ``windows`` lists the windows the board is kept for (the first is the default
    for queries): ``"all"``, ``"day"``, ``"week"``, ``"month"``, ``"quarter"``,
    ``"year"`` (calendar periods in the Rewards time zone; weeks start on
    ``week_starts``) or a rolling ``"<N>d"``.  ``ranking`` is ``"competition"``
    (1, 2, 2, 4), ``"dense"`` (1, 2, 2, 3) or ``"ordinal"`` (1, 2, 3, 4);
    ``better`` is ``"higher"`` or ``"lower"``.  ``exclude_groups`` names groups of
    people (``rewards.people.set(user, groups=...)``) who are left out of the
    board as shown to others, as if they had opted out of it.
    """

    id: Text
    metric: Metric
    scope: Scope = Field(default_factory=EveryoneScope)
    windows: tuple[Text, ...] = ("all",)
    ranking: Literal["competition", "dense", "ordinal"] = "competition"
    better: Literal["higher", "lower"] = "higher"
    week_starts: Weekday = "monday"
    description: Text = ""
    exclude_groups: tuple[Text, ...] = ()

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return check_identifier(value)

    @field_validator("exclude_groups")
    @classmethod
    def _groups(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for group in value:
            check_identifier(group)
        if len(set(value)) != len(value):
            raise ValueError("names a group twice")
        return value

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return check_description(value)

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("list at least one window")
        names = [parse_window(w, field="windows").name for w in value]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"window {name!r} is listed twice")
        return tuple(names)

    @field_validator("scope")
    @classmethod
    def _scope(cls, value: Any, info: ValidationInfo) -> Any:
        if (
            isinstance(info.data.get("metric"), AverageMetric)
            and isinstance(value, TeamsScope)
            and value.divide_by_size
        ):
            raise ValueError("an average is already per activity; divide_by_size applies to totals")
        return value


# -- rows, standings, entries ------------------------------------------------------------


class BoardRow(NamedTuple):
    """One subject's entry on a board in one window period, as the engine computed it.

    ``score`` is None while the subject is not ranked (an average below its
    minimum count, or a team with active members but nothing credited on a
    ``TeamsScope(members="active")`` board).  Entries are listed by ascending
    ``sort_key`` (``-score`` on higher-is-better boards, ``score`` on
    lower-is-better ones), then ascending ``reached`` (epoch seconds: the latest
    ``at`` among the activities that make up the score), then ascending
    ``subject``: the fields come in that order, so ranked rows of one board
    compare as tuples in listing order.  ``total`` and ``count`` are the raw
    accumulators; ``members`` (teams boards divided by size only) the distinct
    members counted in the team in the period (see :class:`TeamsScope`).
    ``team`` marks team subjects, to which leaderboard opt-outs do not apply.
    """

    sort_key: float | None
    reached: float
    subject: str
    score: float | None
    total: float
    count: int  # type: ignore[assignment]  # the field shadows tuple.count(), unused here
    members: tuple[str, ...] = ()
    team: bool = False


class Standing(NamedTuple):
    """Where a ranked row stands among the *visible* ranked rows of its board.

    ``size`` counts the visible ranked rows (the row itself only if visible);
    the other counts are over the visible ranked rows of other subjects:
    ``before`` are listed before it, ``better``/``equal``/``worse`` have a
    strictly better, an equal and a strictly worse score, ``distinct_better``
    is the number of distinct strictly better scores.  ``hidden`` is true when
    the row's subject opted out of leaderboards (or is excluded from the board).
    """

    row: BoardRow
    size: int
    before: int
    better: int
    equal: int
    worse: int
    distinct_better: int
    hidden: bool = False


class BoardPage(NamedTuple):
    """Consecutive listed rows from position ``start``, in listing order.

    ``size`` is the number of listed rows on the board; ``better`` and
    ``distinct_better`` count, for ``rows[0]``, the listed rows with a strictly
    better score and the distinct strictly better scores (0 for an empty page).
    """

    start: int
    rows: list[BoardRow]
    size: int
    better: int = 0
    distinct_better: int = 0


class AroundPage(NamedTuple):
    """A subject's ranked row with the listed rows next to it, in listing order.

    ``rows[at]`` is the subject's row: listed, or (``hidden``: its person
    opted out) at the place it would have.  ``start`` is the number of listed
    rows before ``rows[0]`` (None when it was not asked for and every row has
    the same score); ``better`` and ``distinct_better`` count, for ``rows[0]``,
    the listed rows with a strictly better score and the distinct strictly
    better scores.
    """

    rows: list[BoardRow]
    at: int
    start: int | None
    better: int
    distinct_better: int
    hidden: bool = False


class LeaderboardEntry(NamedTuple):
    """One line of a leaderboard as shown: who, their score and their rank.

    ``user`` is the person, or on a teams board the team (also readable as
    ``team``).  ``display`` is the name to show for them, set when the Rewards
    instance has a :class:`~e2badges.DisplayPolicy` (None otherwise: show
    ``user``).
    """

    user: str
    score: float
    rank: int
    display: str | None = None

    @property
    def team(self) -> str:
        """Return the subject of the entry; the team on a teams board."""
        return self.user


# -- score formulas --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreFormula:
    """How a row's score follows from its accumulators; the engine's rule, shared.

    Stores that merge day rows into a rolling window (see :class:`RollingBucket`)
    compute the merged row with :func:`merge_rows`, which calls this formula;
    they never compute a score any other way.
    """

    average: bool = False
    min_count: int = 1
    prior_total: float = 0.0
    prior_weight: float = 0.0
    divide: bool = False
    sizes: tuple[tuple[str, int], ...] = ()
    lower_is_better: bool = False
    _size_map: dict[str, int] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_size_map", dict(self.sizes))

    def score(self, subject: str, total: float, count: int, members: int) -> float | None:
        """Return the score of accumulators ``total`` and ``count``, or None if unranked.

        A score is a float, never ``-0.0``: a zero is returned as ``0.0`` whatever its
        sign (SQLite and MariaDB keep no sign of zero, so every store keeps none).
        """
        # ``+ 0.0`` turns -0.0 into 0.0 and leaves every other float as it is.
        if self.average:
            if count < self.min_count:
                return None
            return (self.prior_total + total) / (self.prior_weight + count) + 0.0
        if self.divide:
            if not count:
                return None  # members seen, nothing credited (TeamsScope(members="active"))
            size = self._size_map.get(subject, members)
            return total / size + 0.0 if size else None
        # A float, as on every store (a SQL store keeps scores as DOUBLE): points add up to
        # a whole number, which stays exact as a float up to 2**53.
        return float(total) + 0.0

    def sort_key(self, score: float) -> float:
        """Return the value rows are listed by (ascending): ``-score`` when higher is better
        (``0.0 - score``, so a zero score's key is ``0.0``, not ``-0.0``)."""
        return score + 0.0 if self.lower_is_better else 0.0 - score

    def row(
        self,
        subject: str,
        total: float,
        count: int,
        reached: float,
        *,
        members: tuple[str, ...] = (),
        team: bool = False,
    ) -> BoardRow:
        """Return the row of a subject with these accumulators.

        Its score, sort key and total are never ``-0.0`` (see :meth:`score`).
        """
        score = self.score(subject, total, count, len(members))
        total += 0.0
        if score is None:
            return BoardRow(None, reached, subject, None, total, count, members, team)
        sort = score if self.lower_is_better else 0.0 - score
        return BoardRow(sort, reached, subject, score, total, count, members, team)


def formula_of(board: Leaderboard) -> ScoreFormula:
    """Return the score formula of a board definition."""
    metric = board.metric
    scope = board.scope
    divide = isinstance(scope, TeamsScope) and scope.divide_by_size
    sizes = tuple(sorted(scope.team_sizes.items())) if isinstance(scope, TeamsScope) else ()
    if isinstance(metric, AverageMetric):
        weight = metric.prior_weight
        return ScoreFormula(
            average=True,
            min_count=metric.min_count,
            prior_total=weight * (metric.prior_mean or 0.0),
            prior_weight=weight,
            lower_is_better=board.better == "lower",
        )
    return ScoreFormula(
        divide=divide,
        sizes=sizes,
        lower_is_better=board.better == "lower",
    )


@dataclass(frozen=True, slots=True)
class RollingBucket:
    """A rolling window to query: the rows of ``days`` merged per subject by ``formula``.

    A merged row has the summed ``total`` and ``count``, the latest ``reached``
    and the union of ``members`` of the subject's day rows (see
    :func:`merge_rows`).  ``days`` lists the days newest first, and a store merges
    a subject's day rows in that order, so that float totals add up to the same
    last bits on every store.
    """

    days: tuple[str, ...]
    formula: ScoreFormula


Bucket = str | RollingBucket


def merge_rows(subject: str, rows: Sequence[BoardRow], formula: ScoreFormula) -> BoardRow:
    """Return the rolling-window row of ``subject`` from its day rows (at least one).

    ``rows`` come in the order of the bucket's days (:attr:`RollingBucket.days`,
    newest day first), whatever order a store read them in: totals are added in
    the order given, and float sums added in another order may differ in the last
    bits, which can break a tie or make one.
    """
    total: float = 0
    count = 0
    reached = rows[0].reached
    members: set[str] = set()
    for row in rows:
        total += row.total
        count += row.count
        reached = max(reached, row.reached)
        if row.members:
            members.update(row.members)
    return formula.row(
        subject, total, count, reached, members=tuple(sorted(members)), team=rows[0].team
    )


# -- ranking styles ----------------------------------------------------------------------


def rank_of(style: str, standing: Standing) -> int:
    """Return the rank of a row under a ranking style, from its standing.

    competition: one plus the number with a strictly better score; dense: one
    plus the number of distinct strictly better scores; ordinal: the position
    in the listing.
    """
    if style == "competition":
        return standing.better + 1
    if style == "dense":
        return standing.distinct_better + 1
    return standing.before + 1


_new_tuple = tuple.__new__


def ranked_page(
    style: str, start: int, better: int, distinct_better: int, rows: Sequence[BoardRow]
) -> list[LeaderboardEntry]:
    """Return the entries of consecutive rows listed from position ``start``, ranked.

    ``better`` and ``distinct_better`` are those of ``rows[0]``.  Ranks are
    global: a tie that straddles a page boundary keeps its rank on both pages.
    """
    # A hot loop: rows are read by index (sort_key, reached, subject, score, ...) and
    # entries built with tuple.__new__, which skips NamedTuple's Python-level __new__.
    entry = LeaderboardEntry
    out: list[LeaderboardEntry] = []
    append = out.append
    if style == "ordinal":
        for position, row in enumerate(rows, start + 1):
            append(_new_tuple(entry, (row[2], row[3], position, None)))
        return out
    dense = style == "dense"
    rank = distinct_better + 1 if dense else better + 1
    previous = rows[0][0] if rows else None
    for position, row in enumerate(rows, start + 1):
        if row[0] != previous:
            # Rows are listed by sort key, so every row before this one is strictly better.
            rank = rank + 1 if dense else position
            previous = row[0]
        append(_new_tuple(entry, (row[2], row[3], rank, None)))
    return out


def around_start(position: int, n: int, size: int) -> tuple[int, int]:
    """Return ``(start, count)`` of the ``around`` window for a 0-based position.

    ``count`` is min(n, size); the window starts at ``position - n // 2`` and is
    shifted back inside the board at the top and the bottom, never cut short.
    """
    count = min(n, size)
    start = max(0, min(position - n // 2, size - count))
    return start, count


def percentile_of(worse: int, size: int) -> float:
    """Return 100 x (others strictly worse) / (size - 1); 100.0 on a one-person board."""
    if size <= 1:
        return 100.0
    return 100.0 * worse / (size - 1)


# -- windows and periods -----------------------------------------------------------------


def week_label(local: date, week_starts: int) -> str:
    """Return the label of the week holding ``local``; weeks start on weekday ``week_starts``.

    Monday weeks are ISO 8601 weeks (``2026-W48``); weeks that start on another
    day are labelled by their first day and the ISO duration of one week
    (``2026-11-22/P1W`` for the Sunday week holding 2026-11-25).
    """
    if week_starts == 0:
        return period_key("week", local)
    first = local - timedelta(days=(local.weekday() - week_starts) % 7)
    return f"{first.isoformat()}/P1W"


def period_label(window: Window, local: date, week_starts: int) -> str:
    """Return the label of the period of a calendar window (or ``all``) holding ``local``."""
    if window.kind == "week":
        return week_label(local, week_starts)
    return period_key(window.kind, local)


# ASCII digits, whole text (fullmatch): "2026\n" and non-ASCII digits are not labels.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
_OTHER_WEEK = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})/P1W")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")
_YEAR = re.compile(r"[0-9]{4}")
_EXAMPLES = {
    "all": "'all'",
    "day": "'2026-11-25'",
    "week": "'2026-W48'",
    "month": "'2026-11'",
    "quarter": "'2026-Q4'",
    "year": "'2026'",
    "rolling": "the last day, e.g. '2026-11-25'",
}


def _parse_day(text: str) -> date | None:
    if not _DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _parse_label(kind: str, text: str, week_starts: int) -> date | None:
    """Return the first local day of the period labelled ``text``, or None if invalid."""
    if kind in ("day", "rolling"):
        return _parse_day(text)
    if kind == "week" and week_starts == 0:
        match = _ISO_WEEK.fullmatch(text)
        if match is None:
            return None
        try:
            return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
        except ValueError:
            return None
    if kind == "week":
        match = _OTHER_WEEK.fullmatch(text)
        day = _parse_day(match.group(1)) if match else None
        return day if day is not None and day.weekday() == week_starts else None
    if kind == "month":
        match = _MONTH.fullmatch(text)
        if match is None or not 1 <= int(match.group(2)) <= 12:
            return None
        return date(int(match.group(1)), int(match.group(2)), 1)
    if kind == "quarter":
        match = _QUARTER.fullmatch(text)
        if match is None:
            return None
        return date(int(match.group(1)), 3 * int(match.group(2)) - 2, 1)
    if kind == "year":
        return date(int(text), 1, 1) if _YEAR.fullmatch(text) and int(text) > 0 else None
    return None


@lru_cache(maxsize=1024)
def period_start(kind: str, label: str) -> date | None:
    """Return the first local day of the calendar period labelled ``label``, or None.

    Week labels are read in either form (``2026-W48`` or ``2026-11-22/P1W``), so a
    label written before a board's ``week_starts`` changed still has its start.
    Labels of one window sort in time order within one form, not across forms:
    compare periods by their starts.
    """
    if kind == "week":
        match = _OTHER_WEEK.fullmatch(label)
        if match is not None:
            return _parse_day(match.group(1))
    return _parse_label(kind, label, 0)


# The local days an activity can fall on: its ``at`` lies in [MIN_AT, MAX_AT), and a
# time zone moves the local day by at most one either way.
FIRST_DAY = MIN_AT.date() - timedelta(days=1)
LAST_DAY = MAX_AT.date()


def _beyond_activities(window: Window, local: date, week_starts: int) -> bool:
    """Return True if the period of ``window`` holding (or, rolling, ending on) ``local``
    cannot hold an activity: it lies wholly outside FIRST_DAY to LAST_DAY.
    """
    if FIRST_DAY <= local <= LAST_DAY:
        return False
    if window.kind == "rolling":
        # The window ends on ``local``: it overlaps if it starts by LAST_DAY.
        return local < FIRST_DAY or local - timedelta(days=window.days - 1) > LAST_DAY
    edge = FIRST_DAY if local < FIRST_DAY else LAST_DAY
    if abs((local - edge).days) > 366:  # no calendar period is longer; and no overflow below
        return True
    return period_label(window, local, week_starts) != period_label(window, edge, week_starts)


def resolve_period(
    window: Window,
    period: str | date | None,
    *,
    today: date | None,
    tz: ZoneInfo,
    week_starts: int,
    subject: str,
    field: str = "period",
) -> str:
    """Return the period label to query: ``period`` checked, or the one holding ``today``.

    ``period`` is a label (``2026-W48``), a date or an aware datetime (the period
    that holds it).  For a rolling window the label is the window's last day.
    A period that cannot hold an activity (one wholly before 1899-12-31 or after
    3000-01-01, the local days of the ``at`` limits) is refused with
    :class:`~e2badges.InvalidQueryError` naming ``field``.
    """
    if window.kind == "all":
        if period is None or period == "all":
            return "all"
        raise InvalidQueryError(
            field, "the 'all' window has the single period 'all'", subject=subject
        )
    if period is None:
        assert today is not None
        local = today
    elif isinstance(period, datetime):
        if period.tzinfo is None or period.utcoffset() is None:
            raise InvalidQueryError(field, "datetime must be timezone-aware", subject=subject)
        try:
            local = period.astimezone(tz).date()
        except OverflowError:  # year 1 or 9999 moved past the ends of the calendar
            local = date.min if period.year == 1 else date.max
    elif isinstance(period, date):
        local = period
    elif isinstance(period, str):
        first = _parse_label(window.kind, period, week_starts)
        if first is None:
            hint = _EXAMPLES[window.kind]
            if window.kind == "week" and week_starts:
                hint = f"the first day of a week starting on {WEEKDAYS[week_starts]}, '<date>/P1W'"
            raise InvalidQueryError(
                field,
                f"{period!r} is not a {window.name} period; expected {hint}",
                subject=subject,
            )
        local = first
    else:
        raise InvalidQueryError(
            field,
            f"expected a label, a date or None, got {type(period).__name__}",
            subject=subject,
        )
    if _beyond_activities(window, local, week_starts):
        raise InvalidQueryError(
            field,
            f"{period!r} is outside the dates activities can have "
            f"(local days {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()})",
            subject=subject,
        )
    if window.kind == "rolling":
        return local.isoformat()
    return period_label(window, local, week_starts)


# -- the compiled board (engine side) ----------------------------------------------------


class CompiledBoard:
    """A Leaderboard prepared for evaluation: buckets, subjects and the formula."""

    __slots__ = (
        "calendar",
        "credit",
        "currency",
        "definition",
        "formula",
        "id",
        "kind",
        "metric",
        "prefix",
        "scope",
        "self_credit",
        "sizes",
        "team",
        "track_active",
        "track_members",
        "use_all",
        "use_days",
        "week_starts",
    )

    def __init__(self, board: Leaderboard) -> None:
        self.definition = board
        self.id = board.id
        self.prefix = f"lb{SEP}{board.id}{SEP}"
        self.formula = formula_of(board)
        metric = board.metric
        if isinstance(metric, PluginMetric):
            raise ConfigurationError(
                "metric",
                f"the plugin metric {metric.name!r} was not resolved (no plugin contributed it)",
                subject=f"leaderboard {board.id!r}",
            )
        self.metric = metric.type
        self.kind = None if isinstance(metric, PointsMetric) else metric.kind
        self.currency = metric.currency if isinstance(metric, PointsMetric) else None
        self.credit: Role = "actor" if isinstance(metric, PointsMetric) else metric.credit
        self.self_credit = not isinstance(metric, PointsMetric) and metric.self_credit
        scope = board.scope
        self.scope = scope.type
        self.team = scope.team if isinstance(scope, TeamScope) else None
        self.track_members = isinstance(scope, TeamsScope) and scope.divide_by_size
        # Members are the people active in the team, credited or not (see touch()).
        self.track_active = (
            isinstance(scope, TeamsScope) and scope.divide_by_size and scope.members == "active"
        )
        self.sizes: Mapping[str, int] = scope.team_sizes if isinstance(scope, TeamsScope) else {}
        self.week_starts = WEEKDAYS.index(board.week_starts)
        windows = [parse_window(w) for w in board.windows]
        self.use_all = any(w.kind == "all" for w in windows)
        # Rolling windows are merged from day rows at query time, so they keep day rows.
        self.use_days = any(w.kind in ("day", "rolling") for w in windows)
        self.calendar = tuple(w for w in windows if w.kind not in ("all", "day", "rolling"))

    def buckets(self, ctx: RuleContext) -> list[str]:
        """Return the period labels an activity in ``ctx`` counts for on this board."""
        out: list[str] = []
        if self.use_all:
            out.append("all")
        if self.use_days:
            out.append(ctx.period("day"))
        for window in self.calendar:
            if window.kind == "week" and self.week_starts:
                out.append(week_label(ctx.local, self.week_starts))
            else:
                out.append(ctx.period(window.kind))
        return out

    def subjects(self, activity: Activity, user: str) -> Sequence[str]:
        """Return the subjects a credit to ``user`` by ``activity`` goes to."""
        if self.scope == "everyone":
            return (user,)
        if self.scope == "team":
            return (user,) if self.team in activity.teams else ()
        return activity.teams

    def credited(self, activity: Activity) -> tuple[str, float] | None:
        """Return the person a kind metric credits for ``activity`` and the amount, or None."""
        if self.credit == "actor":
            user = activity.actor
        else:
            recipient = activity.recipient
            if recipient is None or (recipient == activity.actor and not self.self_credit):
                return None
            user = recipient
        if self.metric == "count":
            return user, 1
        value = activity.value
        if value is None:
            return None
        return user, value

    def keys(self, ctx: RuleContext, users: Sequence[str]) -> list[str]:
        """Return the state keys crediting ``users`` on this board may read."""
        out: list[str] = []
        buckets = self.buckets(ctx)
        for user in users:
            for subject in self.subjects(ctx.activity, user):
                out.extend(f"{self.prefix}{bucket}{SEP}{subject}" for bucket in buckets)
        return out

    def add(
        self,
        ctx: RuleContext,
        user: str,
        amount: float,
        view: StateView,
        sink: dict[tuple[str, str, str], BoardRow],
    ) -> None:
        """Credit ``amount`` to ``user`` on this board, writing state and the changed rows."""
        subjects = self.subjects(ctx.activity, user)
        if not subjects:
            return
        epoch = ctx.epoch
        formula = self.formula
        team = self.scope == "teams"
        track = self.track_members
        sizes = self.sizes
        prefix = self.prefix
        board_id = self.id
        member: str | None = user
        if self.track_active:
            # The member is whoever acted; grants and revocations are not activity.
            activity = ctx.activity
            member = None if activity.kind in RESERVED_KINDS else activity.actor
        for bucket in self.buckets(ctx):
            for subject in subjects:
                # Members are counted only for teams whose size is not configured.
                tracked = track and subject not in sizes
                key = f"{prefix}{bucket}{SEP}{subject}"
                old: Any = view.get(key, None)
                members: list[str]
                if old is None:
                    total: float = amount
                    count = 1
                    reached = epoch
                    members = [member] if tracked and member is not None else []
                else:
                    total = old[0] + amount
                    count = old[1] + 1
                    reached = old[2] if old[2] > epoch else epoch
                    members = old[3] if tracked and len(old) > 3 else []
                    if tracked and member is not None and member not in members:
                        # A new list: the old one may be the store's committed value.
                        members = sorted([*members, member])
                value: list[Any] = (
                    [total, count, reached, members] if tracked else [total, count, reached]
                )
                view.set(key, value)
                sink[(board_id, bucket, subject)] = formula.row(
                    subject, total, count, reached, members=tuple(members), team=team
                )

    def touch(
        self, ctx: RuleContext, view: StateView, sink: dict[tuple[str, str, str], BoardRow]
    ) -> None:
        """Count the actor as a member of the activity's teams (``members="active"`` only).

        A team's row with nothing credited yet (count 0) is kept unranked, so that
        its members are known when the board first credits it, and merged into
        rolling windows.  An actor already counted changes nothing.
        """
        activity = ctx.activity
        if not activity.teams or activity.kind in RESERVED_KINDS:
            return
        actor = activity.actor
        sizes = self.sizes
        prefix = self.prefix
        for bucket in self.buckets(ctx):
            for subject in activity.teams:
                if subject in sizes:
                    continue
                key = f"{prefix}{bucket}{SEP}{subject}"
                old: Any = view.get(key, None)
                # The time a score was reached is that of the credited activities only
                # (the latest): a member's activity moving it would make it depend on
                # which of their activities was recorded first.  A row with nothing
                # credited has the earliest time, which any credit passes.
                if old is None:
                    total: float = 0
                    count = 0
                    reached = _UNCREDITED
                    members = [actor]
                else:
                    members = old[3] if len(old) > 3 else []
                    if actor in members:
                        continue
                    total, count, reached = old[0], old[1], old[2]
                    members = sorted([*members, actor])
                view.set(key, [total, count, reached, members])
                sink[(self.id, bucket, subject)] = self.formula.row(
                    subject, total, count, reached, members=tuple(members), team=True
                )


class Boards:
    """The compiled boards of a Rewards instance, dispatched by kind and by currency."""

    __slots__ = ("_active", "_by_currency", "_by_kind", "boards")

    def __init__(self, boards: Iterable[Leaderboard], rules: Iterable[PointRule]) -> None:
        currencies = {rule.currency for rule in rules}
        self.boards: dict[str, CompiledBoard] = {}
        for board in boards:
            if not isinstance(board, Leaderboard):
                raise ConfigurationError(
                    "leaderboards",
                    f"expected Leaderboard, got {type(board).__name__}",
                    subject="Rewards",
                )
            if board.id in self.boards:
                raise ConfigurationError(
                    "id", "two leaderboards share this id", subject=f"leaderboard {board.id!r}"
                )
            metric = board.metric
            if isinstance(metric, PointsMetric) and metric.currency not in currencies:
                raise ConfigurationError(
                    "metric.currency",
                    f"no point rule credits currency {metric.currency!r}",
                    subject=f"leaderboard {board.id!r}",
                )
            self.boards[board.id] = CompiledBoard(board)
        # Boards on a kind are dispatched by kind; points boards by the currency credited.
        self._by_kind: dict[str, list[CompiledBoard]] = {}
        self._by_currency: dict[str, list[CompiledBoard]] = {}
        for compiled in self.boards.values():
            if compiled.kind is not None:
                self._by_kind.setdefault(compiled.kind, []).append(compiled)
            elif compiled.currency is not None:
                self._by_currency.setdefault(compiled.currency, []).append(compiled)
        # Teams boards sized by active members: every activity naming a team counts.
        self._active = [b for b in self.boards.values() if b.track_active]

    def kinds(self) -> list[str]:
        """Return the activity kinds the boards count."""
        return list(self._by_kind)

    def check_kinds(self, declared: Container[str]) -> None:
        """Raise ConfigurationError for a board counting a kind not in ``declared``."""
        for kind, boards in self._by_kind.items():
            if kind not in declared:
                raise ConfigurationError(
                    "metric.kind",
                    f"counts undeclared activity kind {kind!r}",
                    subject=f"leaderboard {boards[0].id!r}",
                )

    def listens(self, kind: str) -> bool:
        """Return whether a board counts (or, sized by active members, sees) ``kind``."""
        return kind in self._by_kind or (bool(self._active) and kind not in RESERVED_KINDS)

    def keys(self, ctx: RuleContext, currencies: Iterable[str]) -> list[str]:
        """Return the state keys crediting boards for ``ctx`` may read.

        ``currencies`` are those the rules of the activity's kind credit.
        """
        activity = ctx.activity
        out: list[str] = []
        for board in self._by_kind.get(activity.kind, ()):
            credited = board.credited(activity)
            if credited is not None:
                out.extend(board.keys(ctx, (credited[0],)))
        if self._by_currency:
            # A points board may credit whoever the rules of this kind credit.
            users = [activity.actor] + ([activity.recipient] if activity.recipient else [])
            for currency in currencies:
                for board in self._by_currency.get(currency, ()):
                    out.extend(board.keys(ctx, users))
        if self._active and activity.kind not in RESERVED_KINDS:
            for board in self._active:
                out.extend(board.keys(ctx, (activity.actor,)))
        return out

    def credit(
        self,
        ctx: RuleContext,
        ledger: Sequence[LedgerEntry],
        view: StateView,
        sink: dict[tuple[str, str, str], BoardRow],
    ) -> None:
        """Credit the boards for an evaluated activity, writing state and changed rows."""
        for board in self._by_kind.get(ctx.activity.kind, ()):
            credited = board.credited(ctx.activity)
            if credited is not None:
                board.add(ctx, credited[0], credited[1], view, sink)
        if ledger and self._by_currency:
            net: dict[tuple[str, str], int] = {}
            for line in ledger:
                if line.amount:
                    key = (line.user, line.currency)
                    net[key] = net.get(key, 0) + line.amount
            for (user, currency), amount in net.items():
                if amount:
                    for board in self._by_currency.get(currency, ()):
                        board.add(ctx, user, amount, view, sink)
        for board in self._active:
            board.touch(ctx, view, sink)


def rolling_days(window: Window, last: str) -> tuple[str, ...]:
    """Return the day labels of a rolling window ending on the day labelled ``last``."""
    return tuple(days_back(date.fromisoformat(last), window.days))
