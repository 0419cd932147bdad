"""Point rules and their limits.

A :class:`PointRule` listens to one activity kind and credits points in one
currency to the actor, the recipient, or both, subject to limits.  Definitions
are plain frozen pydantic models; evaluation (:meth:`CompiledRule.evaluate`) is
pure: it reads and writes an in-memory state view and returns ledger entries.

Limits are checked in this order, and the ledger line names the first that
stopped or reduced the credit:

1. ``self_credit``: when the rule credits the recipient and the actor *is* the
   recipient, neither side is credited (unless ``self_credit=True``);
2. ``once_per_object``: a person is credited by the rule at most once per object;
3. ``cooldown``: an identical action (same rule, person and object) credited less
   than ``cooldown`` before (or after) this one is not credited again; the
   ``COOLDOWN_KEPT`` (8) most recent credited times are kept (whole microseconds
   since the epoch, see :func:`time_us`), so an activity older than all of them is
   checked against those only;
4. caps: the amount credited by the rule (or by every rule sharing a named cap)
   per person, per actor-recipient pair or per object, within a window; a credit
   that would pass a cap is reduced to what is left of it.  A rolling window of N
   days holding the activity's day may end up to N - 1 days after it (when
   activities of later days were recorded first): every such window must stay
   within the cap.

``once_per_object`` and ``cooldown`` apply to every non-zero credit, whatever its
sign: a credited penalty stops a later penalty or positive credit of the rule to
that person (for that object, within that time) just as credited points do, and
the other way round.  A credit of 0 (an amount of 0, or one a limit stopped) marks
nothing.  Only positive credits count against caps; negative amounts (penalties)
pass through them.  A first-time bonus is credited, on a line of its own, the first
time the rule credits a person a positive amount.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ._errors import ConfigurationError
from ._frozen import FrozenDict, freeze
from ._limits import (
    MAX_AMOUNT,
    MAX_STATE_DEPTH,
    Duration,
    Flag,
    Text,
    Whole,
    _key_path,
    check_amount,
    check_description,
)
from ._models import Activity, LedgerEntry, check_identifier, check_kind
from ._periods import Window, days_around, parse_window, period_key

if TYPE_CHECKING:
    from ._state import StateView

__all__ = ["Amount", "Cap", "CompiledRule", "PointRule", "RuleContext", "epoch_us", "time_us"]

Amount = int | Callable[[Activity], float]
SEP = "\x1f"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_us(at: datetime) -> int:
    """Return an aware datetime as whole microseconds since the epoch: exact, unlike
    ``at.timestamp()``, a float whose step is 0.95 µs from 2106 and 1.9 µs from 2242."""
    return (at - _EPOCH) // _MICROSECOND


def time_us(value: float) -> int:
    """Return a time kept in state (a cooldown's credited time, a "first" place) as
    whole microseconds since the epoch.

    The engine keeps them as ints of microseconds.  Earlier versions kept
    ``at.timestamp()``, float seconds: those are read back exactly for times before
    2242 (where a float's step is under two microseconds), and to within their
    step after.
    """
    if isinstance(value, int):
        return value
    whole = math.floor(value)
    # value - whole is exact; rounding the fraction alone keeps the error under 0.5 µs.
    return whole * 1_000_000 + round((value - whole) * 1_000_000)


def _config_error(exc: ValidationError, subject: str) -> ConfigurationError:
    first = exc.errors(include_url=False)[0]
    loc = [str(p) for p in first["loc"]]
    reason = first["msg"].removeprefix("Value error, ")
    inner = first.get("ctx", {}).get("error")
    if isinstance(inner, ConfigurationError):
        # Raised by a nested definition (its subject set: a metric, a scope, a cap) or
        # by a validator of this one: name the field at fault, not the union's tag, and
        # give the reason once.
        given = first.get("input")
        if inner.subject is not None:
            if loc and isinstance(given, Mapping) and given.get("type") == loc[-1]:
                loc.pop()  # the tag of a union of definitions, not a field
            if inner.field != "definition":
                loc.append(inner.field)
        reason = inner.reason
    field = ".".join(loc) or "definition"
    return ConfigurationError(field, reason, subject=subject)


class FromPlainData(BaseModel):
    """Base of models whose constructor checks and names errors: built from plain data
    (a definition loaded from a file) they are checked and fail the same way.

    pydantic's ``model_validate`` and ``model_validate_json`` do not call ``__init__``:
    here a mapping goes through the constructor (every check, ``ConfigurationError``
    naming the field), and anything else is refused naming the definition.
    """

    @model_validator(mode="before")
    @classmethod
    def _no_sets(cls, data: Any) -> Any:
        # pydantic takes a set for a tuple, in its iteration order: the hash order of its
        # strings, which changes with PYTHONHASHSEED.  The same definition would give
        # another default window (a board's first), another cap order or another
        # milestone order in another process.
        if isinstance(data, Mapping):
            for name, value in data.items():
                if isinstance(value, AbstractSet):
                    reason = "a set has no order: give a list or tuple"
                    raise ConfigurationError(str(name), reason, subject=cls.__name__)
        return data

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> Self:
        """Return ``obj`` (a mapping of fields) as a checked instance of this class.

        pydantic's options (``strict``, ``context``, ``from_attributes``...) are refused
        with TypeError: a definition is always checked in full, by its constructor.
        """
        if options:
            names = ", ".join(sorted(options))
            raise TypeError(f"{cls.__name__}.model_validate() takes no options (got {names})")
        if isinstance(obj, cls):
            return super().model_validate(obj, **options)
        if not isinstance(obj, Mapping):
            reason = f"must be a mapping of field names to values, not {type(obj).__name__}"
            raise ConfigurationError("definition", reason, subject=cls.__name__)
        for key in obj:
            if not isinstance(key, str):
                reason = f"has a key that is not a field name: {key!r}"
                raise ConfigurationError("definition", reason, subject=cls.__name__)
        return cls(**obj)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **options: Any) -> Self:
        """Return the JSON object ``json_data`` as a checked instance of this class."""
        if options:
            names = ", ".join(sorted(options))
            raise TypeError(f"{cls.__name__}.model_validate_json() takes no options (got {names})")
        try:
            data = json.loads(json_data)
        except (ValueError, TypeError) as exc:
            reason = f"is not a JSON document: {exc}"
            raise ConfigurationError("definition", reason, subject=cls.__name__) from None
        return cls.model_validate(data)


def _check_part(value: Any, path: str, depth: int, subject: str) -> None:
    """Raise ConfigurationError naming the first set in ``value`` (at any depth of its
    dicts, lists and tuples), or a nesting deeper than ``MAX_STATE_DEPTH`` levels."""
    if isinstance(value, AbstractSet):
        raise ConfigurationError(path, "a set has no order: give a list or tuple", subject=subject)
    if not isinstance(value, Mapping | list | tuple):
        return
    if depth > MAX_STATE_DEPTH:
        # Also what a list that contains itself ends in, instead of a RecursionError.
        reason = f"is nested deeper than {MAX_STATE_DEPTH} levels of lists and dicts"
        raise ConfigurationError(path, reason, subject=subject)
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = _key_path(path, key) if isinstance(key, str) else f"{path}[{key!r}]"
            _check_part(item, where, depth + 1, subject)
    else:
        for i, item in enumerate(value):
            _check_part(item, f"{path}[{i}]", depth + 1, subject)


def options_without_sets(data: Any, subject: str) -> Any:
    """Return the fields of a plugin's criterion or metric if its ``options`` hold no set.

    A model validator's check (before pydantic's), as :meth:`FromPlainData._no_sets`
    but at any depth: a set's order changes with ``PYTHONHASHSEED``, and a plugin
    given one would measure differently in another process.  Raise
    :class:`ConfigurationError` naming the part (``options.kinds[1]``); and for
    options nested deeper than ``MAX_STATE_DEPTH`` levels (or containing
    themselves), which could be neither checked nor frozen.
    """
    if isinstance(data, Mapping):
        _check_part(data.get("options"), "options", 1, subject)
    return data


def frozen_options(value: Mapping[str, Any]) -> FrozenDict:
    """Return a plugin's criterion or metric options as a read-only copy.

    Made as :func:`~e2badges._frozen.freeze` makes a story's data: a dict whose dicts
    and lists, at any depth, raise TypeError on a change in place (a tuple becomes a
    read-only list); other values are kept as given.  The definition is frozen, and a
    plugin given its options cannot change it.
    """
    frozen: FrozenDict = freeze(value)
    return frozen


class _Definition(FromPlainData):
    """Base of rule definitions: frozen, no unknown fields, errors name the subject."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            name = data.get("id") or data.get("name")
            subject = type(self).__name__ if name is None else f"{type(self).__name__} {name!r}"
            raise _config_error(exc, subject) from None


class Cap(_Definition):
    """At most ``amount`` points credited within ``window``, per person, pair or object.

    ``window`` is ``"all"``, a calendar window (``"day"``, ``"week"``, ``"month"``,
    ``"quarter"``, ``"year"``) or a rolling window such as ``"7d"``.  ``per`` is
    ``"person"`` (the credited person), ``"pair"`` (the credited person and the
    other party of the activity) or ``"object"`` (the credited person and the
    activity's object; activities without an object are not limited by it).
    Rules that give their caps the same ``name`` share one budget.
    """

    amount: Whole = Field(ge=0)
    window: Text = "day"
    per: Literal["person", "pair", "object"] = "person"
    name: Text | None = None

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_window(value)
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else check_identifier(value)

    @property
    def label(self) -> str:
        """Return the limit name used in ledger lines, e.g. ``cap:day:pair``."""
        if self.name is not None:
            return f"cap:{self.name}"
        return "cap:" + self.window + ("" if self.per == "person" else f":{self.per}")


class PointRule(_Definition):
    """Credit points when an activity of ``kind`` happens.

    ``actor_points`` and ``recipient_points`` are each a whole number or a
    function of the activity (its result is rounded to a whole number); at least
    one must be given.  ``when`` filters the activities the rule applies to.
    """

    id: Text
    kind: Text
    actor_points: Amount | None = None
    recipient_points: Amount | None = None
    currency: Text = "points"
    when: Callable[[Activity], bool] | None = None
    self_credit: Flag = False
    caps: tuple[Cap, ...] = ()
    once_per_object: Flag = False
    cooldown: Duration | None = None
    first_time_bonus: Whole = Field(default=0, ge=0)
    description: Text = ""

    @field_validator("id", "currency")
    @classmethod
    def _ident(cls, value: str) -> str:
        return check_identifier(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return check_description(value)

    @field_validator("first_time_bonus")
    @classmethod
    def _bonus(cls, value: int) -> int:
        return check_amount(value)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        return check_kind(value)

    @field_validator("actor_points", "recipient_points", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        if value is None or callable(value):
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number or a function of the activity")
        return check_amount(value)

    @field_validator("cooldown")
    @classmethod
    def _cooldown(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be a positive duration")
        return value

    @model_validator(mode="after")
    def _shape(self) -> PointRule:
        if self.actor_points is None and self.recipient_points is None:
            raise ValueError("give actor_points, recipient_points or both")
        seen: set[tuple[str, str, str | None]] = set()
        for cap in self.caps:
            key = (cap.window, cap.per, cap.name)
            if key in seen:
                raise ValueError(f"two caps with window {cap.window!r} and per {cap.per!r}")
            seen.add(key)
        return self


class RuleContext:
    """Per-activity facts computed once and shared by every rule and criterion."""

    __slots__ = ("_days", "_now", "_periods", "_today", "_tz", "_us", "activity", "epoch", "local")

    def __init__(self, activity: Activity, tz: ZoneInfo, now: datetime | None = None) -> None:
        assert activity.at is not None  # the facade fills it before evaluation
        self.activity = activity
        self.local: date = activity.at.astimezone(tz).date()
        self.epoch: float = activity.at.timestamp()
        self._periods: dict[str, str] = {}
        self._days: dict[int, list[str]] = {}
        self._tz, self._now = tz, now
        self._today: date | None = None
        self._us: int | None = None

    @property
    def us(self) -> int:
        """Return the activity's time as whole microseconds since the epoch (exact, where
        ``epoch`` is a float); worked out on first use (cooldowns and "first" places)."""
        if self._us is None:
            self._us = epoch_us(self.activity.at)  # type: ignore[arg-type]  # filled
        return self._us

    @property
    def today(self) -> date | None:
        """Return the local day the activity is recorded on, when the caller said when
        (see Engine.evaluate); worked out on first use (only stories ask)."""
        if self._today is None and self._now is not None:
            self._today = self._now.astimezone(self._tz).date()
        return self._today

    def period(self, kind: str) -> str:
        """Return the label of this activity's calendar period of ``kind``."""
        label = self._periods.get(kind)
        if label is None:
            label = self._periods[kind] = period_key(kind, self.local)
        return label

    def around(self, count: int) -> list[str]:
        """Return the labels of the ``2 * count - 1`` local days from ``count - 1`` days
        before this activity's day to ``count - 1`` days after it, oldest first: the days
        of every ``count``-day window that holds this activity's day."""
        labels = self._days.get(count)
        if labels is None:
            labels = self._days[count] = days_around(self.local, count)
        return labels


def _round_amount(value: Any, rule: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(
            field, f"the amount function returned {value!r}, not a finite number", subject=rule
        )
    # Ints are compared as they are (10**400 cannot become a float); floats must be finite.
    if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_AMOUNT:
        raise ConfigurationError(
            field,
            f"the amount function returned {value!r}, not a finite number within "
            f"±2**53 ({MAX_AMOUNT})",
            subject=rule,
        )
    return round(value)


class _CompiledCap:
    """A cap's counters: what was credited under it per person (pair, object) and period.

    A calendar cap has one counter per period.  A rolling cap of N days has one per
    local day, and a credit on day d lies in the N windows ending on d to d + N - 1:
    it may use what is left in the fullest of them.  Those ending after d hold
    credits only when activities of later days were recorded before this one (it is
    late), but the check reads them all, as the Rolling criterion does.
    """

    __slots__ = ("budget", "days", "label", "own", "per", "prefix", "window")

    def __init__(self, cap: Cap, rule_id: str) -> None:
        self.window: Window = parse_window(cap.window)
        self.per = cap.per
        self.budget = cap.amount
        self.label = cap.label
        owner = (
            f"n{SEP}{cap.name}" if cap.name else f"r{SEP}{rule_id}{SEP}{cap.window}{SEP}{cap.per}"
        )
        self.prefix = f"cap{SEP}{owner}{SEP}"
        #: A rolling window's length in days (0 for a calendar window), and the index of
        #: the activity's own counter among the keys (the one a credit is added to).
        self.days = self.window.days if self.window.kind == "rolling" else 0
        self.own = max(self.days - 1, 0)

    def left(self, view: StateView, keys: list[str]) -> int:
        """Return what is left of the budget for a credit counted under ``keys[self.own]``."""
        days = self.days
        if not days:
            used: int = view.get(keys[0])
            return max(self.budget - used, 0)
        counts: list[int] = [view.get(key) for key in keys]
        window = fullest = sum(counts[:days])
        for i in range(days, len(counts)):
            window += counts[i] - counts[i - days]
            fullest = max(fullest, window)
        return max(self.budget - fullest, 0)

    def keys(self, ctx: RuleContext, user: str, other: str) -> list[str] | None:
        """Return the counter keys whose sums are this cap's usage, or None if it does not apply.

        A calendar cap has one key; a rolling cap of N days the 2N - 1 days around the
        activity's, oldest first (see :meth:`left`).
        """
        if self.per == "object":
            obj = ctx.activity.object
            if obj is None:
                return None
            base = f"{self.prefix}{user}{SEP}{obj}{SEP}"
        elif self.per == "pair":
            base = f"{self.prefix}{user}{SEP}{other}{SEP}"
        else:
            base = f"{self.prefix}{user}{SEP}"
        if self.days:
            return [base + day for day in ctx.around(self.days)]
        return [base + ctx.period(self.window.kind)]


#: How many credited times a cooldown keeps per rule, person and object.  Credited times
#: are at least the cooldown apart, so the eight kept span at least seven cooldowns: an
#: activity recorded late by less than that is checked exactly, at a cost of eight
#: numbers per key.  An older one is checked against the kept times only.
COOLDOWN_KEPT = 8


def _credited_times(value: Any) -> list[int]:
    """Return the sorted credited times kept under a cooldown key (a new list), in
    microseconds since the epoch.

    Earlier versions kept float seconds (see :func:`time_us`), and before that the
    last credited time alone, as a number: a state value written by them reads as a
    list of one.
    """
    if value is None:
        return []
    if isinstance(value, int | float):
        return [time_us(value)]
    return sorted(time_us(t) for t in value)


def _within(credited: list[int], at: int, cooldown: int) -> bool:
    """Return whether a credited time lies less than ``cooldown`` before or after ``at``."""
    i = bisect.bisect_left(credited, at)
    if i < len(credited) and credited[i] - at < cooldown:
        return True
    return i > 0 and at - credited[i - 1] < cooldown


def balance_key(user: str, currency: str) -> str:
    """Return the state key of a person's balance in a currency."""
    return f"bal{SEP}{currency}{SEP}{user}"


class CompiledRule:
    """A PointRule prepared for evaluation: keys precomputed, limits compiled."""

    __slots__ = ("caps", "cooldown", "currency", "definition", "id", "sides")

    def __init__(self, rule: PointRule) -> None:
        self.definition = rule
        self.id = rule.id
        self.currency = rule.currency
        self.caps = [_CompiledCap(cap, rule.id) for cap in rule.caps]
        # In whole microseconds, as the credited times (a timedelta holds no less).
        self.cooldown = rule.cooldown // _MICROSECOND if rule.cooldown else 0
        sides: list[tuple[Literal["actor", "recipient"], Amount]] = []
        if rule.actor_points is not None:
            sides.append(("actor", rule.actor_points))
        if rule.recipient_points is not None:
            sides.append(("recipient", rule.recipient_points))
        self.sides = tuple(sides)

    def _targets(self, a: Activity) -> list[tuple[Literal["actor", "recipient"], str, str, Amount]]:
        out: list[tuple[Literal["actor", "recipient"], str, str, Amount]] = []
        for role, amount in self.sides:
            if role == "actor":
                out.append((role, a.actor, a.recipient or "", amount))
            elif a.recipient is not None:
                out.append((role, a.recipient, a.actor, amount))
        return out

    def keys(self, ctx: RuleContext) -> list[str]:
        """Return every state key that :meth:`evaluate` may read for this activity."""
        a = ctx.activity
        rid = self.id
        obj = a.object or ""
        out: list[str] = []
        for _role, user, other, _amount in self._targets(a):
            out.append(balance_key(user, self.currency))
            if self.definition.once_per_object:
                out.append(f"once{SEP}{rid}{SEP}{user}{SEP}{obj}")
            if self.cooldown:
                out.append(f"cool{SEP}{rid}{SEP}{user}{SEP}{obj}")
            if self.definition.first_time_bonus:
                out.append(f"first{SEP}{rid}{SEP}{user}")
            for cap in self.caps:
                out.extend(cap.keys(ctx, user, other) or ())
        return out

    def matches(self, a: Activity) -> bool:
        """Return whether the rule applies to an activity of its kind."""
        when = self.definition.when
        return when is None or bool(when(a))

    def evaluate(self, ctx: RuleContext, view: StateView) -> list[LedgerEntry]:
        """Return the ledger lines for one matching activity, updating ``view``."""
        a = ctx.activity
        rule = self.definition
        at: datetime = a.at  # type: ignore[assignment]  # filled by the facade
        rid = self.id
        currency = self.currency
        obj = a.object
        lines: list[LedgerEntry] = []
        self_dealing = (
            not rule.self_credit
            and a.recipient is not None
            and a.recipient == a.actor
            and rule.recipient_points is not None
        )
        for role, user, other, amount in self._targets(a):
            requested = (
                amount
                if isinstance(amount, int)
                else _round_amount(amount(a), rid, f"{role}_points")
            )
            credit = requested
            limit: str | None = None
            if self_dealing:
                credit, limit = 0, "self_credit"
            once_key = cool_key = None
            if limit is None and rule.once_per_object and obj is not None:
                once_key = f"once{SEP}{rid}{SEP}{user}{SEP}{obj}"
                if view.get(once_key):
                    credit, limit = 0, "once_per_object"
            credited: list[int] = []
            if limit is None and self.cooldown:
                cool_key = f"cool{SEP}{rid}{SEP}{user}{SEP}{obj or ''}"
                credited = _credited_times(view.get(cool_key, None))
                if _within(credited, ctx.us, self.cooldown):
                    credit, limit = 0, "cooldown"
            cap_updates: list[str] = []
            if limit is None and credit > 0:
                credit, limit, cap_updates = self._capped(ctx, view, user, other, credit)
            if credit:
                # Only positive credits count against caps; once_per_object and the
                # cooldown mark every credit, a penalty as well as points.
                if credit > 0:
                    for key in cap_updates:
                        view.add(key, credit)
                if once_key is not None:
                    view.set(once_key, 1)
                if cool_key is not None:
                    bisect.insort(credited, ctx.us)
                    view.set(cool_key, credited[-COOLDOWN_KEPT:])
                view.add(balance_key(user, currency), credit)
            lines.append(LedgerEntry(a.id, rid, user, currency, credit, requested, at, role, limit))
            if credit > 0 and rule.first_time_bonus:
                first_key = f"first{SEP}{rid}{SEP}{user}"
                if not view.get(first_key):
                    view.set(first_key, 1)
                    lines.append(self._bonus(ctx, view, role, user, other))
        return lines

    def _capped(
        self, ctx: RuleContext, view: StateView, user: str, other: str, credit: int
    ) -> tuple[int, str | None, list[str]]:
        """Return a positive ``credit`` reduced to what the caps leave, the label of the
        cap that reduced it (None when none did), and the cap keys to count it under."""
        limit: str | None = None
        updates: list[str] = []
        for cap in self.caps:
            keys = cap.keys(ctx, user, other)
            if keys is None:
                continue
            left = cap.left(view, keys)
            if left < credit:
                credit, limit = left, cap.label
            updates.append(keys[cap.own])
        return credit, limit, updates

    def _bonus(
        self,
        ctx: RuleContext,
        view: StateView,
        role: Literal["actor", "recipient"],
        user: str,
        other: str,
    ) -> LedgerEntry:
        """Credit the first-time bonus, a credit of the rule: reduced to what its caps
        leave after the credit it comes with, and counted against them."""
        requested = self.definition.first_time_bonus
        bonus, limit, cap_updates = self._capped(ctx, view, user, other, requested)
        if bonus:
            for key in cap_updates:
                view.add(key, bonus)
            view.add(balance_key(user, self.currency), bonus)
        a = ctx.activity
        at: datetime = a.at  # type: ignore[assignment]  # filled by the facade
        return LedgerEntry(
            a.id, self.id, user, self.currency, bonus, requested, at, role, limit, True
        )
