"""Badge criteria, compiled: pure evaluation over the StateView, with their state keys.

Each measured criterion of a badge becomes a :class:`Measure`.  For one matching
activity, :meth:`Measure.update` writes the criterion's state into the view and
returns the person's value before and after the activity; the awarding engine
awards every threshold crossed between the two.  Crossing (rather than
"at or above") makes an award a one-time event per threshold and keeps the
common case to one read and one write: the person's holdings are read only
when a threshold is crossed.

State keys (parts joined by ``SEP``; ``period`` is empty for a badge that does
not repeat):

- ``bm SEP badge SEP user SEP period``: the number of a count, sum, distinct or
  per-period points criterion;
- ``bd SEP badge SEP user SEP period SEP thing``: 1 once a distinct thing was seen;
- ``bs SEP badge SEP user``: a streak's runs of consecutive active periods,
  ``{"best": n, "runs": [[first, last], ...]}`` (period ordinals, sorted);
- ``bw SEP badge SEP user SEP day``: matching activities on a local day (its ordinal);
- ``bf SEP badge SEP team``: the holder of a "first" place, ``[at, activity id,
  user]`` (team empty for the whole organisation), ``at`` in whole microseconds
  since the epoch (float seconds from earlier versions, see ``_rules.time_us``);
- ``bh SEP badge SEP user``: a person's holdings of a badge, ``{slot: 1 | -1}``
  (see :func:`slot_label`): 1 held, -1 revoked by a person (not awarded again
  automatically); a slot without an entry is free;
- ``lvl SEP user``: a person's level as last reported.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from ._badges import Badge, Count, Distinct, First, Points, Rolling, Streak, Sum
from ._rules import SEP, RuleContext, balance_key

if TYPE_CHECKING:
    from ._state import StateView

__all__ = [
    "FirstMeasure",
    "Measure",
    "PointsMeasure",
    "badge_key",
    "best_streak",
    "compile_measure",
    "current_run",
    "level_key",
    "parse_slot",
    "period_index",
    "slot_label",
]


def badge_key(user: str, badge: str) -> str:
    """Return the state key of a person's holdings of a badge."""
    return f"bh{SEP}{badge}{SEP}{user}"


def level_key(user: str) -> str:
    """Return the state key of a person's last reported level."""
    return f"lvl{SEP}{user}"


def slot_label(tier: str | None, period: str | None, team: str | None) -> str:
    """Return the holdings entry of one (tier, period, team) of a badge."""
    return f"{tier or ''}{SEP}{period or ''}{SEP}{team or ''}"


def parse_slot(label: str) -> tuple[str | None, str | None, str | None]:
    """Return the (tier, period, team) of a holdings entry; empty parts are None."""
    tier, period, team = label.split(SEP)
    return tier or None, period or None, team or None


def period_index(local: date, period: str) -> int:
    """Return the ordinal of a local day, or of its ISO week (consecutive weeks differ by 1).

    ``date.toordinal()`` is 1 on Monday 0001-01-01, so ``(ordinal - 1) // 7``
    numbers ISO weeks (Monday to Sunday) consecutively, across week 52/53.
    """
    ordinal = local.toordinal()
    return ordinal if period == "day" else (ordinal - 1) // 7


def best_streak(runs: list[list[int]], grace: int) -> int:
    """Return the longest streak over sorted, separate runs, skipping at most ``grace`` periods.

    A streak is whole runs ``i..j`` whose gaps add up to at most ``grace``; its
    length counts active periods only.  (Starting inside a run only shortens it.)
    """
    best = length = gaps = 0
    start = 0
    for j, (first, last) in enumerate(runs):
        length += last - first + 1
        if j:
            gaps += first - runs[j - 1][1] - 1
        while gaps > grace:
            length -= runs[start][1] - runs[start][0] + 1
            gaps -= runs[start + 1][0] - runs[start][1] - 1
            start += 1
        best = max(best, length)
    return best


def current_run(runs: list[list[int]], grace: int, now: int) -> int:
    """Return the streak still alive in period ``now`` (0 if it is broken).

    The periods between the last active one and ``now`` count as missed (``now``
    itself is not over yet); the run ending at the last active period may skip
    what is left of ``grace`` after them.
    """
    if not runs:
        return 0
    gaps = max(0, now - runs[-1][1] - 1)
    if gaps > grace:
        return 0
    length = 0
    for j in range(len(runs) - 1, -1, -1):
        first, last = runs[j]
        if j < len(runs) - 1:
            gaps += runs[j + 1][0] - last - 1
            if gaps > grace:
                break
        length += last - first + 1
    return length


def _with_period(runs: list[list[int]], p: int) -> tuple[list[list[int]], int] | None:
    """Return ``runs`` with period ``p`` added and the index of the run holding it.

    Returns None if ``p`` is already in a run.  The result is a new list; runs
    that change are replaced, never changed in place, so the others are shared.
    """
    n = len(runs)
    if not n or runs[-1][1] < p:
        i = n  # the usual case: a period after every run so far
    else:
        lo, hi = 0, n
        while lo < hi:  # the first run that ends at or after p
            mid = (lo + hi) // 2
            if runs[mid][1] < p:
                lo = mid + 1
            else:
                hi = mid
        i = lo
        if runs[i][0] <= p:
            return None
    joins_left = i > 0 and runs[i - 1][1] == p - 1
    joins_right = i < n and runs[i][0] == p + 1
    out = list(runs)
    if joins_left and joins_right:
        out[i - 1] = [runs[i - 1][0], runs[i][1]]
        del out[i]
        return out, i - 1
    if joins_left:
        out[i - 1] = [runs[i - 1][0], p]
        return out, i - 1
    if joins_right:
        out[i] = [p, runs[i][1]]
    else:
        out.insert(i, [p, p])
    return out, i


class Measure:
    """A measured criterion of one badge, ready to evaluate."""

    __slots__ = ("actor", "badge", "highest", "kinds", "lowest", "prefix", "repeat", "when")

    first = False

    def __init__(self, badge: Badge) -> None:
        criterion = badge.criterion
        self.badge = badge.id
        thresholds = badge.thresholds or (0,)
        self.lowest = thresholds[0]
        self.highest = thresholds[-1]
        self.repeat = badge.repeat
        self.kinds: tuple[str, ...] = getattr(criterion, "kinds", ())
        self.when = getattr(criterion, "when", None)
        self.actor = getattr(criterion, "who", "actor") == "actor"
        self.prefix = f"bm{SEP}{badge.id}{SEP}"

    def number_key(self, user: str, period: str | None) -> str:
        """Return the key of the person's number in ``period`` (None: all time)."""
        return f"{self.prefix}{user}{SEP}{period or ''}"

    def update(
        self, ctx: RuleContext, view: StateView, user: str, period: str | None
    ) -> tuple[float, float] | None:
        """Count one matching activity for ``user``; return (before, after), or None."""
        key = self.number_key(user, period)
        old = view.get(key)
        view.set(key, old + 1)
        return old, old + 1

    def keys(self, ctx: RuleContext, user: str, period: str | None) -> list[str]:
        """Return the keys :meth:`update` may read."""
        return [self.number_key(user, period)]

    def value(self, view: StateView, user: str, period: str | None, now: date) -> float:
        """Return the person's current value (for progress) on local day ``now``."""
        value: float = view.get(self.number_key(user, period))
        return value

    def value_keys(self, user: str, period: str | None, now: date) -> list[str]:
        """Return the keys :meth:`value` reads."""
        return [self.number_key(user, period)]


class SumMeasure(Measure):
    """The sum of the values of matching activities."""

    __slots__ = ()

    def update(
        self, ctx: RuleContext, view: StateView, user: str, period: str | None
    ) -> tuple[float, float] | None:
        amount = ctx.activity.value
        if not amount:
            return None
        key = self.number_key(user, period)
        old = view.get(key)
        # Rounded so that decimal values add up as written (0.7 + 0.1 + 0.1 + 0.1 reaches 1).
        new = round(old + amount, 9)
        view.set(key, new)
        return old, new


class DistinctMeasure(Measure):
    """The number of distinct objects, local days or counterparts."""

    __slots__ = ("of", "seen")

    def __init__(self, badge: Badge) -> None:
        super().__init__(badge)
        assert isinstance(badge.criterion, Distinct)
        self.of = badge.criterion.of
        self.seen = f"bd{SEP}{badge.id}{SEP}"

    def _thing(self, ctx: RuleContext, user: str) -> str | None:
        a = ctx.activity
        if self.of == "object":
            return a.object
        if self.of == "day":
            return ctx.period("day")
        other = a.recipient if self.actor else a.actor
        return None if other == user else other

    def update(
        self, ctx: RuleContext, view: StateView, user: str, period: str | None
    ) -> tuple[float, float] | None:
        thing = self._thing(ctx, user)
        if thing is None:
            return None
        seen = f"{self.seen}{user}{SEP}{period or ''}{SEP}{thing}"
        if view.get(seen):
            return None
        view.set(seen, 1)
        key = self.number_key(user, period)
        old = view.get(key)
        view.set(key, old + 1)
        return old, old + 1

    def keys(self, ctx: RuleContext, user: str, period: str | None) -> list[str]:
        out = [self.number_key(user, period)]
        thing = self._thing(ctx, user)
        if thing is not None:
            out.append(f"{self.seen}{user}{SEP}{period or ''}{SEP}{thing}")
        return out


class StreakMeasure(Measure):
    """The longest streak of consecutive active days or ISO weeks, with grace."""

    __slots__ = ("grace", "key", "period")

    def __init__(self, badge: Badge) -> None:
        super().__init__(badge)
        assert isinstance(badge.criterion, Streak)
        self.period = badge.criterion.period
        self.grace = badge.criterion.grace
        self.key = f"bs{SEP}{badge.id}{SEP}"

    def update(
        self, ctx: RuleContext, view: StateView, user: str, period: str | None
    ) -> tuple[float, float] | None:
        key = self.key + user
        state = view.get(key, None)
        runs: list[list[int]] = state["runs"] if state else []
        old: int = state["best"] if state else 0
        added = _with_period(runs, period_index(ctx.local, self.period))
        if added is None:
            return None
        new_runs, at = added
        # Adding a period lengthens only the streaks through its run; such a streak bridges
        # at most ``grace`` gaps, so it lies within ``grace`` runs on either side.
        grace = self.grace
        best = max(old, best_streak(new_runs[max(0, at - grace) : at + grace + 1], grace))
        view.set(key, {"best": best, "runs": new_runs})
        return old, best

    def keys(self, ctx: RuleContext, user: str, period: str | None) -> list[str]:
        return [self.key + user]

    def value(self, view: StateView, user: str, period: str | None, now: date) -> float:
        state = view.get(self.key + user, None)
        if not state:
            return 0
        return current_run(state["runs"], self.grace, period_index(now, self.period))

    def best(self, view: StateView, user: str) -> int:
        """Return the person's longest streak so far."""
        state = view.get(self.key + user, None)
        return int(state["best"]) if state else 0

    def value_keys(self, user: str, period: str | None, now: date) -> list[str]:
        return [self.key + user]


class RollingMeasure(Measure):
    """The most matching activities within ``days`` consecutive local days.

    An activity on day ``d`` belongs to the windows ending on ``d`` to
    ``d + days - 1``; all of them are checked, so an activity recorded late (with
    an earlier time) still completes a window that later activities began.
    """

    __slots__ = ("day_prefix", "days")

    def __init__(self, badge: Badge) -> None:
        super().__init__(badge)
        assert isinstance(badge.criterion, Rolling)
        self.days = badge.criterion.days
        self.day_prefix = f"bw{SEP}{badge.id}{SEP}"

    def update(
        self, ctx: RuleContext, view: StateView, user: str, period: str | None
    ) -> tuple[float, float] | None:
        day = ctx.local.toordinal()
        base = f"{self.day_prefix}{user}{SEP}"
        view.add(f"{base}{day}", 1)
        days = self.days
        counts = [view.get(f"{base}{d}") for d in range(day - days + 1, day + days)]
        window = sum(counts[:days])
        best = window
        for i in range(days, len(counts)):
            window += counts[i] - counts[i - days]
            best = max(best, window)
        # Every window holding day d grew by one, so the best before was one less.
        return best - 1, best

    def keys(self, ctx: RuleContext, user: str, period: str | None) -> list[str]:
        day = ctx.local.toordinal()
        base = f"{self.day_prefix}{user}{SEP}"
        return [f"{base}{d}" for d in range(day - self.days + 1, day + self.days)]

    def value(self, view: StateView, user: str, period: str | None, now: date) -> float:
        total: float = sum(view.get(key) for key in self.value_keys(user, period, now))
        return total

    def value_keys(self, user: str, period: str | None, now: date) -> list[str]:
        day = now.toordinal()
        base = f"{self.day_prefix}{user}{SEP}"
        return [f"{base}{d}" for d in range(day - self.days + 1, day + 1)]


class PointsMeasure(Measure):
    """A balance in one currency, or what was earned in it within a period."""

    __slots__ = ("currency",)

    def __init__(self, badge: Badge) -> None:
        super().__init__(badge)
        assert isinstance(badge.criterion, Points)
        self.currency = badge.criterion.currency

    def credit(
        self, view: StateView, user: str, period: str | None, delta: int
    ) -> tuple[float, float]:
        """Account ``delta`` credited to ``user`` by this activity; return (before, after)."""
        if period is None:
            # The balance already includes this activity's credits.
            new: float = view.get(balance_key(user, self.currency))
            return new - delta, new
        key = self.number_key(user, period)
        old = view.get(key)
        view.set(key, old + delta)
        return old, old + delta

    def _key(self, user: str, period: str | None) -> str:
        return balance_key(user, self.currency) if period is None else self.number_key(user, period)

    def keys(self, ctx: RuleContext, user: str, period: str | None) -> list[str]:
        return [self._key(user, period)]

    def value(self, view: StateView, user: str, period: str | None, now: date) -> float:
        value: float = view.get(self._key(user, period))
        return value

    def value_keys(self, user: str, period: str | None, now: date) -> list[str]:
        return [self._key(user, period)]


class FirstMeasure(Measure):
    """The holder of a "first" place: the earliest (at, activity id) that matched."""

    __slots__ = ("holder_prefix", "team")

    first = True

    def __init__(self, badge: Badge) -> None:
        super().__init__(badge)
        assert isinstance(badge.criterion, First)
        self.team = badge.criterion.scope == "team"
        self.holder_prefix = f"bf{SEP}{badge.id}{SEP}"

    def scopes(self, ctx: RuleContext) -> tuple[str, ...]:
        """Return the places an activity competes for: its teams, or the organisation ("")."""
        return ctx.activity.teams if self.team else ("",)

    def keys(self, ctx: RuleContext, user: str, period: str | None) -> list[str]:
        return [self.holder_prefix + team for team in self.scopes(ctx)]


def compile_measure(badge: Badge) -> Measure | None:
    """Return the compiled measure of a badge, or None for a badge that is not measured."""
    criterion = badge.criterion
    if isinstance(criterion, Count):
        return Measure(badge)
    if isinstance(criterion, Sum):
        return SumMeasure(badge)
    if isinstance(criterion, Distinct):
        return DistinctMeasure(badge)
    if isinstance(criterion, Streak):
        return StreakMeasure(badge)
    if isinstance(criterion, Rolling):
        return RollingMeasure(badge)
    if isinstance(criterion, Points):
        return PointsMeasure(badge)
    if isinstance(criterion, First):
        return FirstMeasure(badge)
    return None


def holds(held: dict[str, Any] | None) -> bool:
    """Return whether a holdings value has at least one award held."""
    if not held:
        return False
    return any(state == 1 for state in held.values())
