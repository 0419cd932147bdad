"""The awarding engine: badges and levels for one activity, after its point rules.

Pure like the rest of the engine: it reads and writes state through the
:class:`~e2badges._state.StateView` and returns awards, revocations and level
changes.  For each activity it

1. applies a manual grant or revocation (activities of the reserved kinds
   ``e2badges.badge.granted`` / ``e2badges.badge.revoked``);
2. updates the measured criteria listening to the activity's kind, and awards
   every threshold (tier) crossed;
3. updates the points criteria of every currency the point rules just credited;
4. after each award or revocation, re-checks the all-of / any-of badges that
   depend on the badge, in cascade;
5. recomputes the level of everyone whose balance in the ladder's currency, or
   whose badges required by a level, changed;
6. returns each award slot's net change (``_net``): a slot awarded and revoked
   within the activity (a composite lost and earned again in cascade, or earned
   and lost again) changed nothing and is left out, so every revocation of an
   outcome takes back an award made before it.

A person holds at most one award per (badge, tier, period, team): the holdings
key says which are held, and which a person revoked (those are never awarded
again automatically, only by a new grant).  Revocations the engine makes itself
(a "first" place taken over, a cascade) free the slot, so it can be earned again.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from ._badges import (
    GRANT_KIND,
    RESERVED_KINDS,
    SYSTEM_GRANTOR,
    AllOf,
    AnyOf,
    Badge,
    Points,
)
from ._criteria import (
    FirstMeasure,
    Measure,
    PointsMeasure,
    StreakMeasure,
    badge_key,
    compile_measure,
    holds,
    level_key,
    parse_slot,
    slot_label,
)
from ._errors import ConfigurationError, InvalidActivityError, UnknownBadgeError
from ._leaderboards import period_start
from ._levels import Ladder, Level
from ._models import Activity, Award, AwardRecord, LedgerEntry, LevelChange, Revocation
from ._periods import period_key
from ._profile import BadgeProgress, Profile
from ._rules import PointRule, RuleContext, balance_key, time_us
from ._state import StateView

__all__ = ["BadgeEngine"]

_NO_SLOT = slot_label(None, None, None)


class _Info:
    """A badge prepared for evaluation."""

    __slots__ = (
        "badge",
        "composite",
        "dependents",
        "deps",
        "followed",
        "id",
        "level",
        "measure",
        "repeat",
        "rule",
        "thresholds",
        "tiers",
    )

    def __init__(self, badge: Badge) -> None:
        criterion = badge.criterion
        self.badge = badge
        self.id = badge.id
        self.tiers: tuple[str | None, ...] = tuple(tier.id for tier in badge.tiers) or (None,)
        self.thresholds: list[float] = list(badge.thresholds)
        self.repeat = badge.repeat
        self.rule: str = criterion.type
        self.composite: str | None = None
        self.deps: tuple[str, ...] = ()
        if isinstance(criterion, AllOf | AnyOf):
            self.composite = "all" if isinstance(criterion, AllOf) else "any"
            self.deps = criterion.badges
        self.measure = compile_measure(badge)
        self.dependents: list[_Info] = []
        self.level = False  # required by a level
        self.followed = False  # has dependents or is required by a level


class _Plan:
    """What evaluating one activity kind (or granting one badge) may read."""

    __slots__ = ("badges", "levels", "measures", "points")

    def __init__(
        self,
        measures: Sequence[Measure],
        points: Sequence[PointsMeasure],
        badges: Sequence[str],
        levels: bool,
    ) -> None:
        self.measures = tuple(measures)
        self.points = tuple(points)
        self.badges = tuple(badges)
        self.levels = levels


class _Acc:
    """What one activity produced so far."""

    __slots__ = ("activity", "at", "awards", "changes", "level_users", "revocations", "view")

    def __init__(self, activity: Activity, view: StateView) -> None:
        self.activity = activity
        self.at: datetime = activity.at  # type: ignore[assignment]  # filled by the facade
        self.view = view
        self.awards: list[Award] = []
        self.revocations: list[Revocation] = []
        self.changes: list[LevelChange] = []
        self.level_users: dict[str, None] = {}  # an ordered set


class BadgeEngine:
    """Compiled badges and levels, dispatched by activity kind and by credited currency."""

    def __init__(
        self,
        badges: Sequence[Badge],
        levels: Sequence[Level],
        *,
        rules: Iterable[PointRule],
        timezone: ZoneInfo,
    ) -> None:
        self.timezone = timezone
        credits: dict[str, set[str]] = {}
        currencies: dict[str, None] = {}
        for rule in rules:
            credits.setdefault(rule.kind, set()).add(rule.currency)
            currencies[rule.currency] = None
        self.currencies = tuple(currencies)

        self.badges: dict[str, _Info] = {}
        for badge in badges:
            if not isinstance(badge, Badge):
                raise ConfigurationError(
                    "badges", f"expected Badge, got {type(badge).__name__}", subject="Rewards"
                )
            if badge.id in self.badges:
                raise ConfigurationError(
                    "id", "two badges share this id", subject=f"badge {badge.id!r}"
                )
            self.badges[badge.id] = _Info(badge)
        self._check_composites()
        for info in self.badges.values():
            criterion = info.badge.criterion
            if isinstance(criterion, Points) and criterion.currency not in currencies:
                raise ConfigurationError(
                    "criterion.currency",
                    f"no point rule credits currency {criterion.currency!r}",
                    subject=f"badge {info.id!r}",
                )
            for dep in info.deps:
                self.badges[dep].dependents.append(info)

        self.ladder = (
            Ladder(levels, badges=self.badges.keys(), currencies=currencies) if levels else None
        )
        if self.ladder is not None:
            for badge_id in self.ladder.badges:
                self.badges[badge_id].level = True
        for info in self.badges.values():
            info.followed = bool(info.dependents) or info.level

        self._by_kind: dict[str, list[Measure]] = {}
        self._points: dict[str, list[PointsMeasure]] = {}
        for info in self.badges.values():
            measure = info.measure
            if isinstance(measure, PointsMeasure):
                self._points.setdefault(measure.currency, []).append(measure)
            elif measure is not None:
                for kind in measure.kinds:
                    self._by_kind.setdefault(kind, []).append(measure)
        watched = set(self._points)
        if self.ladder is not None:
            watched.add(self.ladder.currency)
        self._watched = frozenset(watched)
        crediting = {kind for kind, paid in credits.items() if paid & watched}
        self.listens: frozenset[str] = frozenset(self._by_kind) | crediting | RESERVED_KINDS
        """Activity kinds whose evaluation may award, revoke or change a level."""

        self._plans: dict[str, _Plan] = {}
        for kind in self.listens - RESERVED_KINDS:
            measures = self._by_kind.get(kind, [])
            paid = credits.get(kind, set())
            points = [m for currency in sorted(paid) for m in self._points.get(currency, ())]
            direct = [self.badges[m.badge] for m in [*measures, *points]]
            level = self.ladder is not None and self.ladder.currency in paid
            self._plans[kind] = self._plan(measures, points, direct, level)
        self._manual_plans = {
            badge_id: self._plan([], [], [info], False) for badge_id, info in self.badges.items()
        }

    @property
    def kinds(self) -> frozenset[str]:
        """Return the activity kinds the criteria listen to."""
        return frozenset(self._by_kind)

    def check_kinds(self, declared: Iterable[str]) -> None:
        """Raise ConfigurationError if a criterion listens to a kind not in ``declared``."""
        known = set(declared)
        for info in self.badges.values():
            for kind in getattr(info.measure, "kinds", ()):
                if kind not in known:
                    raise ConfigurationError(
                        "criterion.kind",
                        f"listens to undeclared activity kind {kind!r}",
                        subject=f"badge {info.id!r}",
                    )

    def _check_composites(self) -> None:
        for info in self.badges.values():
            for dep in info.deps:
                if dep not in self.badges:
                    raise ConfigurationError(
                        "criterion.badges",
                        f"names unknown badge {dep!r}",
                        subject=f"badge {info.id!r}",
                    )
        done: set[str] = set()
        for start in self.badges:
            # Depth-first search along "depends on"; a badge met again on the path is a cycle.
            path: list[str] = []
            on_path: set[str] = set()
            stack: list[tuple[str, int]] = [(start, 0)]
            while stack:
                badge_id, index = stack.pop()
                if index == 0:
                    if badge_id in done:
                        continue
                    path.append(badge_id)
                    on_path.add(badge_id)
                deps = self.badges[badge_id].deps
                if index < len(deps):
                    stack.append((badge_id, index + 1))
                    dep = deps[index]
                    if dep in on_path:
                        cycle = [*path[path.index(dep) :], dep]
                        raise ConfigurationError(
                            "criterion.badges",
                            "composite badges form a cycle: " + " -> ".join(repr(b) for b in cycle),
                            subject=f"badge {dep!r}",
                        )
                    stack.append((dep, 0))
                else:
                    path.pop()
                    on_path.discard(badge_id)
                    done.add(badge_id)

    def _plan(
        self,
        measures: Sequence[Measure],
        points: Sequence[PointsMeasure],
        direct: Sequence[_Info],
        level: bool,
    ) -> _Plan:
        reads: dict[str, None] = {}
        queue = list(direct)
        while queue:
            info = queue.pop(0)
            if info.id in reads:
                continue
            reads[info.id] = None
            level = level or info.level
            for dep in info.deps:
                reads.setdefault(dep, None)
            queue.extend(info.dependents)
        if level and self.ladder is not None:
            for badge_id in self.ladder.badges:
                reads.setdefault(badge_id, None)
        return _Plan(measures, points, list(reads), level)

    # -- validation and keys ---------------------------------------------------------

    def validate(self, activity: Activity) -> None:
        """Raise if a grant or revoke activity is malformed or names an unknown badge or tier."""
        grant = activity.kind == GRANT_KIND
        what = "granted" if grant else "revoked"
        if activity.recipient is None:
            raise InvalidActivityError("recipient", f"must name the person whose badge is {what}")
        attrs = activity.attributes
        allowed = ("badge", "tier", "reason") if grant else ("badge", "tier", "period", "reason")
        for name in attrs:
            if name not in allowed:
                raise InvalidActivityError(
                    f"attributes.{name}",
                    f"is not an attribute of kind {activity.kind!r} "
                    f"(allowed: {', '.join(allowed)})",
                )
        badge = attrs.get("badge")
        if not isinstance(badge, str):
            raise InvalidActivityError("attributes.badge", f"must name the badge {what}")
        info = self.badges.get(badge)
        if info is None:
            raise UnknownBadgeError(badge, known=list(self.badges), field="attributes.badge")
        tier = attrs.get("tier")
        tiers = [t for t in info.tiers if t is not None]
        if tier is not None and tier not in tiers:
            known = f"its tiers are {', '.join(tiers)}" if tiers else "it has no tiers"
            raise InvalidActivityError(
                "attributes.tier", f"badge {badge!r} has no tier {tier!r}; {known}"
            )
        if tier is None and tiers and grant:
            raise InvalidActivityError(
                "attributes.tier",
                f"badge {badge!r} has tiers ({', '.join(tiers)}); name the one to grant",
            )
        reason = attrs.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidActivityError("attributes.reason", f"must say why the badge is {what}")
        period = attrs.get("period")
        if period is not None:
            self._check_period(info, period)

    @staticmethod
    def _check_period(info: _Info, period: object) -> None:
        """Raise unless ``period`` is a label of the repeat window of the badge revoked."""
        if info.repeat is None:
            raise InvalidActivityError(
                "attributes.period",
                f"badge {info.id!r} does not repeat, so its awards have no period; "
                "leave period out",
            )
        example = period_key(info.repeat, date(2026, 11, 25))
        if not isinstance(period, str):
            raise InvalidActivityError(
                "attributes.period",
                f"must be a {info.repeat} label such as {example!r}, not {type(period).__name__}",
            )
        # Awards hold the canonical label (period_key); another spelling would match none.
        first = period_start(info.repeat, period)
        if first is None or period_key(info.repeat, first) != period:
            raise InvalidActivityError(
                "attributes.period",
                f"{period!r} is not a period of badge {info.id!r}, which repeats every "
                f"{info.repeat}; expected a label such as {example!r}",
            )

    def keys(self, ctx: RuleContext) -> list[str]:
        """Return the state keys evaluating the activity may read (a "first" place's previous
        holder is not known in advance and is loaded when read)."""
        a = ctx.activity
        users: tuple[str, ...]
        if a.kind in RESERVED_KINDS:
            badge = a.attributes.get("badge")
            info = self.badges.get(badge) if isinstance(badge, str) else None
            if info is None or a.recipient is None:
                return []
            plan = self._manual_plans[info.id]
            users = (a.recipient,)
        else:
            found = self._plans.get(a.kind)
            if found is None:
                return []
            plan = found
            users = (a.actor,) if a.recipient in (None, a.actor) else (a.actor, a.recipient)
        out: list[str] = []
        for m in plan.measures:
            user = a.actor if m.actor else a.recipient
            if user is not None:
                out.extend(m.keys(ctx, user, ctx.period(m.repeat) if m.repeat else None))
        for m in plan.points:
            period = ctx.period(m.repeat) if m.repeat else None
            for user in users:
                out.extend(m.keys(ctx, user, period))
        for user in users:
            out.extend(badge_key(user, badge_id) for badge_id in plan.badges)
            if plan.levels and self.ladder is not None:
                out.append(level_key(user))
                out.append(balance_key(user, self.ladder.currency))
        return out

    # -- evaluation ------------------------------------------------------------------

    def evaluate(
        self, ctx: RuleContext, view: StateView, ledger: Sequence[LedgerEntry]
    ) -> tuple[tuple[Award, ...], tuple[Revocation, ...], tuple[LevelChange, ...]]:
        """Return the awards, revocations and level changes of one activity (at most one
        award or revocation per slot)."""
        a = ctx.activity
        acc = _Acc(a, view)
        if a.kind in RESERVED_KINDS:
            self._manual(ctx, acc)
        for m in self._by_kind.get(a.kind, ()):
            when = m.when
            if when is not None and not when(a):
                continue
            user = a.actor if m.actor else a.recipient
            if user is None:
                continue
            if m.first:
                self._first(cast(FirstMeasure, m), ctx, user, acc)
                continue
            period = ctx.period(m.repeat) if m.repeat else None
            change = m.update(ctx, view, user, period)
            # Most updates cross nothing: below the lowest threshold, or past the highest.
            if change is not None and m.lowest <= change[1] and change[0] < m.highest:
                self._cross(acc, user, self.badges[m.badge], *change, period=period)
        if ledger and self._watched:
            deltas: dict[tuple[str, str], int] = {}
            for line in ledger:
                if line.amount and line.currency in self._watched:
                    pair = (line.user, line.currency)
                    deltas[pair] = deltas.get(pair, 0) + line.amount
            ladder = self.ladder
            for (user, currency), delta in deltas.items():
                for pm in self._points.get(currency, ()) if delta else ():
                    period = ctx.period(pm.repeat) if pm.repeat else None
                    old, new = pm.credit(view, user, period, delta)
                    if pm.lowest <= new and old < pm.highest:
                        self._cross(acc, user, self.badges[pm.badge], old, new, period=period)
                # Credits adding up to 0 are still credits: the first level is reported
                # with the first of them (see Engine._levels).
                if ladder is not None and currency == ladder.currency:
                    acc.level_users[user] = None
        if acc.level_users:
            self._levels(acc)
        if acc.awards and acc.revocations:
            return (*_net(acc.awards, acc.revocations), tuple(acc.changes))
        return tuple(acc.awards), tuple(acc.revocations), tuple(acc.changes)

    def _cross(
        self, acc: _Acc, user: str, info: _Info, old: float, new: float, *, period: str | None
    ) -> None:
        thresholds = info.thresholds
        low = bisect_right(thresholds, old)
        high = bisect_right(thresholds, new)
        for i in range(low, high):
            self._award(acc, user, info, info.rule, tier=info.tiers[i], period=period)

    def _award(
        self,
        acc: _Acc,
        user: str,
        info: _Info,
        rule: str,
        *,
        tier: str | None = None,
        period: str | None = None,
        team: str | None = None,
        grant: bool = False,
    ) -> None:
        view = acc.view
        key = badge_key(user, info.id)
        held: dict[str, int] | None = view.get(key, None)
        slot = slot_label(tier, period, team)
        if held:
            state = held.get(slot)
            if state == 1 or (state == -1 and not grant):
                return
            was_holding = holds(held)
            new = dict(held)  # never mutate a value read from the view: it may be live state
        else:
            was_holding = False
            new = {}
        new[slot] = 1
        view.set(key, new)
        a = acc.activity
        acc.awards.append(Award(user, info.id, tier, period, acc.at, a.id, rule, team))
        if not was_holding and info.followed:
            self._changed(acc, user, info, gained=True, by=SYSTEM_GRANTOR)

    def _revoke(
        self,
        acc: _Acc,
        user: str,
        info: _Info,
        *,
        by: str,
        reason: str,
        block: bool,
        tier: str | None = None,
        period: str | None = None,
        team: str | None = None,
    ) -> None:
        """Revoke ``user``'s held awards of a badge matching tier/period/team (None: any)."""
        view = acc.view
        key = badge_key(user, info.id)
        held: dict[str, int] | None = view.get(key, None)
        if not held:
            return
        new = dict(held)
        a = acc.activity
        for slot, state in held.items():
            if state != 1:
                continue
            s_tier, s_period, s_team = parse_slot(slot)
            if (
                (tier is not None and s_tier != tier)
                or (period is not None and s_period != period)
                or (team is not None and s_team != team)
            ):
                continue
            if block:
                new[slot] = -1
            else:
                del new[slot]
            acc.revocations.append(
                Revocation(user, info.id, s_tier, s_period, acc.at, a.id, by, reason, s_team)
            )
        if new == held:
            return
        view.set(key, new)
        if info.followed and not holds(new):
            self._changed(acc, user, info, gained=False, by=by)

    def _changed(self, acc: _Acc, user: str, info: _Info, *, gained: bool, by: str) -> None:
        """Re-check what depends on ``user`` holding ``info`` after they gained or lost it."""
        view = acc.view
        for dep in info.dependents:
            held = holds(view.get(badge_key(user, dep.id), None))
            if gained and not held and self._composite_holds(view, user, dep):
                self._award(acc, user, dep, dep.rule)
            elif not gained and held and not self._composite_holds(view, user, dep):
                self._revoke(
                    acc,
                    user,
                    dep,
                    by=by,
                    reason=f"required badge {info.id!r} was revoked",
                    block=False,
                )
        if info.level:
            acc.level_users[user] = None

    def _composite_holds(self, view: StateView, user: str, info: _Info) -> bool:
        held = (holds(view.get(badge_key(user, dep), None)) for dep in info.deps)
        return all(held) if info.composite == "all" else any(held)

    def _first(self, m: FirstMeasure, ctx: RuleContext, user: str, acc: _Acc) -> None:
        view = acc.view
        a = ctx.activity
        info = self.badges[m.badge]
        mine = (ctx.us, a.id)
        for team in m.scopes(ctx):
            key = m.holder_prefix + team
            holder = view.get(key, None)
            if holder is not None and (time_us(holder[0]), holder[1]) <= mine:
                continue
            view.set(key, [ctx.us, a.id, user])
            if holder is not None and holder[2] == user:
                continue  # an earlier activity of the holder: the place does not change hands
            if holder is not None:
                self._revoke(
                    acc,
                    holder[2],
                    info,
                    by=SYSTEM_GRANTOR,
                    reason=f"activity {a.id!r} happened earlier and takes the first place",
                    block=False,
                    team=team or None,
                )
            self._award(acc, user, info, info.rule, team=team or None)

    def _manual(self, ctx: RuleContext, acc: _Acc) -> None:
        a = ctx.activity
        attrs = a.attributes
        info = self.badges[attrs["badge"]]
        user: str = a.recipient  # type: ignore[assignment]  # checked by validate()
        if a.kind == GRANT_KIND:
            period = ctx.period(info.repeat) if info.repeat else None
            self._award(
                acc, user, info, "manual", tier=attrs.get("tier"), period=period, grant=True
            )
        else:
            self._revoke(
                acc,
                user,
                info,
                by=a.actor,
                reason=attrs["reason"],
                block=True,
                tier=attrs.get("tier"),
                period=attrs.get("period"),
            )

    def _levels(self, acc: _Acc) -> None:
        ladder = self.ladder
        assert ladder is not None
        view = acc.view
        a = acc.activity
        for user in acc.level_users:
            balance = view.get(balance_key(user, ladder.currency))
            new = ladder.number(balance, _holder(view, user))
            key = level_key(user)
            old = view.get(key)
            if new != old:
                view.set(key, new)
                acc.changes.append(LevelChange(user, old, new, acc.at, a.id))

    # -- queries ---------------------------------------------------------------------

    def level_keys(self, user: str) -> list[str]:
        """Return the keys :meth:`level` reads."""
        if self.ladder is None:
            return []
        return [balance_key(user, self.ladder.currency)] + [
            badge_key(user, badge_id) for badge_id in self.ladder.badges
        ]

    def level(self, user: str, view: StateView) -> int:
        """Return ``user``'s level (0 when there are no levels or none is reached)."""
        if self.ladder is None:
            return 0
        balance = view.get(balance_key(user, self.ladder.currency))
        return self.ladder.number(balance, _holder(view, user))

    def profile_keys(self, user: str, now: datetime) -> list[str]:
        """Return the keys :meth:`profile` reads."""
        local = now.astimezone(self.timezone).date()
        out = [balance_key(user, currency) for currency in self.currencies]
        for info in self.badges.values():
            out.append(badge_key(user, info.id))
            m = info.measure
            if m is not None and not m.first:
                period = period_key(info.repeat, local) if info.repeat else None
                out.extend(m.value_keys(user, period, local))
        return out

    def profile(
        self, user: str, view: StateView, history: Sequence[AwardRecord], now: datetime
    ) -> Profile:
        """Return ``user``'s profile from state read through ``view`` at time ``now``."""
        local = now.astimezone(self.timezone).date()
        balances = {currency: view.get(balance_key(user, currency)) for currency in self.currencies}
        status = None
        if self.ladder is not None:
            status = self.ladder.status(
                view.get(balance_key(user, self.ladder.currency)), _holder(view, user)
            )
        progress: list[BadgeProgress] = []
        # A secret badge shows its progress once earned: toward its next tier, or its
        # next period when repeatable.
        earned = {record.award.badge for record in history if record.revocation is None}
        for info in self.badges.values():
            if (info.badge.secret and info.id not in earned) or info.rule == "manual":
                continue
            held: dict[str, Any] = view.get(badge_key(user, info.id), None) or {}
            found = self._progress(info, user, held, view, local)
            if found is not None:
                progress.append(found)
        return Profile(
            user,
            balances,
            status,
            tuple(record.award for record in history if record.revocation is None),
            tuple(progress),
        )

    def _progress(
        self, info: _Info, user: str, held: dict[str, Any], view: StateView, local: Any
    ) -> BadgeProgress | None:
        if info.composite is not None:
            if _NO_SLOT in held:
                return None  # held, or revoked by a person
            have = [holds(view.get(badge_key(user, dep), None)) for dep in info.deps]
            if info.composite == "all":
                return BadgeProgress(info.id, None, sum(have), len(have))
            return BadgeProgress(info.id, None, int(any(have)), 1)
        m = info.measure
        assert m is not None
        if m.first:
            return None if held else BadgeProgress(info.id, None, 0, 1)
        period = period_key(info.repeat, local) if info.repeat else None
        for tier, threshold in zip(info.tiers, info.thresholds, strict=True):
            if slot_label(tier, period, None) in held:
                continue  # held, or revoked by a person: not something to work toward
            best = m.best(view, user) if isinstance(m, StreakMeasure) else None
            return BadgeProgress(
                info.id, tier, m.value(view, user, period, local), threshold, period, best
            )
        return None


def _net(
    awards: Sequence[Award], revocations: Sequence[Revocation]
) -> tuple[tuple[Award, ...], tuple[Revocation, ...]]:
    """Return what one activity changed in each award slot, from every award and revocation
    its evaluation made.

    A slot (user, badge, tier, period, team) is awarded only when not held and revoked
    only when held, so its awards and revocations alternate, and their numbers differ by
    at most one.  Equal numbers change nothing: a badge lost and earned again (a
    composite whose one requirement is taken away and another gained, in cascade) is
    still the award held before, and one earned and lost again (declared in the other
    order) was never held after the activity; both are left out.  Otherwise the slot's
    first award (it was not held before) or first revocation (of the award held before)
    is kept, in place.  So an outcome never awards and revokes the same slot, and every
    revocation takes back an award made before the activity.
    """
    net: dict[tuple[str, str, str | None, str | None, str | None], int] = {}
    for w in awards:
        slot = (w.user, w.badge, w.tier, w.period, w.team)
        net[slot] = net.get(slot, 0) + 1
    for r in revocations:
        slot = (r.user, r.badge, r.tier, r.period, r.team)
        net[slot] = net.get(slot, 0) - 1
    kept_awards: list[Award] = []
    for w in awards:
        slot = (w.user, w.badge, w.tier, w.period, w.team)
        if net[slot] == 1:
            kept_awards.append(w)
            net[slot] = 0  # the first only
    kept_revocations: list[Revocation] = []
    for r in revocations:
        slot = (r.user, r.badge, r.tier, r.period, r.team)
        if net[slot] == -1:
            kept_revocations.append(r)
            net[slot] = 0
    return tuple(kept_awards), tuple(kept_revocations)


def _holder(view: StateView, user: str) -> Callable[[str], bool]:
    """Return a function telling whether ``user`` holds a badge, read through ``view``."""

    def holder(badge: str) -> bool:
        return holds(view.get(badge_key(user, badge), None))

    return holder
