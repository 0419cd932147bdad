"""Badge definitions: what earns a badge, its tiers, and how often it can be earned.

A :class:`Badge` has one criterion.  *Measured* criteria (:class:`Count`,
:class:`Sum`, :class:`Points`, :class:`Distinct`, :class:`Streak`,
:class:`Rolling`) produce a number per person; the badge is awarded when that
number reaches its ``threshold``, or each of its :class:`Tier` thresholds.  The
other criteria hold or not: :class:`First` (the earliest matching activity),
:class:`AllOf` / :class:`AnyOf` (other badges) and :class:`Manual` (granted by a
person).  Every definition is a frozen pydantic model, so badge sets can be
loaded from files: criteria are told apart by their ``type`` field.

The models check what they can see on their own; checks across badges (unknown
badge names, cycles, undeclared kinds and currencies) happen when the Rewards
instance is built.  Evaluation lives in :mod:`e2badges._criteria` and
:mod:`e2badges._awarding`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ._errors import ConfigurationError
from ._frozen import EMPTY, FrozenDict
from ._limits import Flag, Number, Text, Whole, check_description, check_name
from ._models import Activity, check_identifier, check_kind
from ._periods import MAX_ROLLING_DAYS
from ._rules import (
    FromPlainData,
    _config_error,
    _Definition,
    frozen_options,
    options_without_sets,
)

__all__ = [
    "GRANT_KIND",
    "MEASURED",
    "RESERVED_KINDS",
    "REVOKE_KIND",
    "SYSTEM_GRANTOR",
    "AllOf",
    "AnyOf",
    "Badge",
    "Count",
    "Criterion",
    "Distinct",
    "First",
    "Manual",
    "Points",
    "Rolling",
    "Streak",
    "Sum",
    "Tier",
]

GRANT_KIND = "e2badges.badge.granted"
"""The activity kind of a manual grant; always accepted."""
REVOKE_KIND = "e2badges.badge.revoked"
"""The activity kind of a manual revocation; always accepted."""
RESERVED_KINDS = frozenset({GRANT_KIND, REVOKE_KIND})
SYSTEM_GRANTOR = "e2badges"
"""The ``by`` of revocations the engine makes itself (a "first" place taken, a cascade)."""

Who = Literal["actor", "recipient"]
Predicate = Callable[[Activity], bool]
RepeatWindow = Literal["day", "week", "month", "quarter", "year"]


class _Criterion(FromPlainData):
    """Base of criteria: frozen, no unknown fields, errors name the criterion type."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _config_error(exc, f"{type(self).__name__} criterion") from None


def _check_kinds(value: str | tuple[str, ...]) -> str | tuple[str, ...]:
    kinds = (value,) if isinstance(value, str) else value
    if not kinds:
        raise ValueError("name at least one activity kind")
    for kind in kinds:
        check_kind(kind)
    if len(set(kinds)) != len(kinds):
        raise ValueError("names a kind twice")
    return value


class _ActivityCriterion(_Criterion):
    """A criterion over activities of ``kind`` (one kind or several), counted for ``who``.

    ``when`` filters the activities that count; ``who`` is ``"actor"`` (the
    default) or ``"recipient"`` (activities without a recipient then count for
    nobody).
    """

    kind: str | tuple[str, ...]
    when: Predicate | None = None
    who: Who = "actor"

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        # Before pydantic's conversion, which would decode bytes: a kind, or a list of them.
        if isinstance(value, list):
            value = tuple(value)
        if not isinstance(value, str | tuple):
            raise ValueError(
                f"must be an activity kind or a list of them, not {type(value).__name__}"
            )
        return _check_kinds(value)

    @property
    def kinds(self) -> tuple[str, ...]:
        """Return the activity kinds the criterion listens to."""
        return (self.kind,) if isinstance(self.kind, str) else self.kind


class Count(_ActivityCriterion):
    """The number of matching activities."""

    type: Literal["count"] = "count"


class Sum(_ActivityCriterion):
    """The sum of the ``value`` of matching activities (activities without one add nothing).

    The running sum is rounded to 9 decimal places, so decimal values add up as
    written.
    """

    type: Literal["sum"] = "sum"


class Points(_Criterion):
    """A person's balance in ``currency`` (or, on a repeatable badge, what they earned in it
    in the period), after the point rules of the activity being recorded."""

    type: Literal["points"] = "points"
    currency: Text = "points"

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_identifier(value)


class Distinct(_ActivityCriterion):
    """The number of distinct objects, local days or counterparts in matching activities.

    ``of="counterpart"`` counts the other party: the recipient when counting for
    the actor, the actor when counting for the recipient; activities without one,
    or where both are the same person, do not count.
    """

    type: Literal["distinct"] = "distinct"
    of: Literal["object", "day", "counterpart"] = "object"


class Streak(_ActivityCriterion):
    """The longest run of consecutive local days or ISO weeks with a matching activity.

    A run may skip up to ``grace`` periods in all; skipped periods bridge the gap
    but do not add to the run's length.
    """

    type: Literal["streak"] = "streak"
    period: Literal["day", "week"] = "day"
    grace: Whole = Field(default=0, ge=0, le=MAX_ROLLING_DAYS)


class Rolling(_ActivityCriterion):
    """The most matching activities within ``days`` consecutive local days.

    Rolling windows are made of whole local days, as everywhere in e2badges: a
    window of 7 days is a local day and the 6 days before it.
    """

    type: Literal["rolling"] = "rolling"
    days: Whole = Field(ge=1, le=MAX_ROLLING_DAYS)


class First(_ActivityCriterion):
    """The first person to do something, in the whole organisation or in each team.

    The earliest ``at`` wins; equal times go to the smaller activity id.  An
    activity recorded later with an earlier time takes the place over: the
    previous holder's award is revoked (by ``"e2badges"``) and the badge is
    awarded to the new holder.  With ``scope="team"`` each of the activity's
    teams has its own first; the award names the team.
    """

    type: Literal["first"] = "first"
    scope: Literal["everyone", "team"] = "everyone"


def _check_badge_list(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise ValueError("name at least one badge")
    for badge in value:
        check_identifier(badge)
    if len(set(value)) != len(value):
        raise ValueError("names a badge twice")
    return value


class AllOf(_Criterion):
    """Holds while the person holds every one of ``badges`` (any tier, any period)."""

    type: Literal["all_of"] = "all_of"
    badges: tuple[Text, ...]

    @field_validator("badges")
    @classmethod
    def _badges(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_badge_list(value)


class AnyOf(_Criterion):
    """Holds while the person holds at least one of ``badges`` (any tier, any period)."""

    type: Literal["any_of"] = "any_of"
    badges: tuple[Text, ...]

    @field_validator("badges")
    @classmethod
    def _badges(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_badge_list(value)


class Manual(_Criterion):
    """Only granted by a person, with ``Rewards.grant``."""

    type: Literal["manual"] = "manual"


class Plugin(_Criterion):
    """A criterion kind a plugin contributed (``e2badges_add_criterion_kinds``), by name.

    When the Rewards instance is built, the plugin's contribution for ``name``
    (a criterion, or a function of ``options`` returning one) takes its place,
    and the badge is checked again with it.  ``options`` are a read-only copy of
    the mapping given: a dict (and dicts and lists in it; a tuple becomes a list)
    that compares, serialises and reads like a plain one but raises TypeError on
    any change in place; ``dict(criterion.options)`` is a changeable copy.  A set
    in them, at any depth, is refused.
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


Criterion = Annotated[
    Count | Sum | Points | Distinct | Streak | Rolling | First | AllOf | AnyOf | Manual | Plugin,
    Field(discriminator="type"),
]

MEASURED = (Count, Sum, Points, Distinct, Streak, Rolling)
"""Criteria that produce a number and take a threshold or tiers."""
_WHOLE = (Count, Points, Distinct, Streak, Rolling)
_REPEATABLE = (Count, Sum, Points, Distinct, Manual)


class Tier(_Definition):
    """One level of a badge (bronze, silver, gold), reached at its own ``threshold``."""

    id: Text
    threshold: Number
    name: Text = ""
    description: Text = ""
    image: Text | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return check_identifier(value)

    @field_validator("name")
    @classmethod
    def _display_name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("description", "image")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else check_description(value)

    @property
    def title(self) -> str:
        """Return the name to show: ``name``, or the id when it has none."""
        return self.name or self.id


class Badge(_Definition):
    """A badge: a criterion and, for a measured criterion, a threshold or tiers.

    ``repeat`` makes the badge repeatable once per calendar period (``"week"``:
    "answered 5 questions this week", every week); the criterion is then measured
    within the period.  A ``secret`` badge is left out of progress until earned.
    ``image`` is an optional URL.
    """

    id: Text
    criterion: Criterion
    name: Text = ""
    description: Text = ""
    image: Text | None = None
    threshold: Number | None = None
    tiers: tuple[Tier, ...] = ()
    repeat: RepeatWindow | None = None
    secret: Flag = False

    def __init__(self, /, **data: Any) -> None:
        try:
            BaseModel.__init__(self, **data)
        except ValidationError as exc:
            raise _shape_error(exc, f"badge {data.get('id')!r}") from None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return check_identifier(value)

    @field_validator("name")
    @classmethod
    def _display_name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("description", "image")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else check_description(value)

    @model_validator(mode="after")
    def _shape(self) -> Badge:
        criterion = self.criterion
        ctype = criterion.type
        if isinstance(criterion, Plugin):
            return self  # checked again once the plugin's criterion takes its place
        if isinstance(criterion, MEASURED):
            if self.threshold is None and not self.tiers:
                raise ValueError(f"threshold: a {ctype} criterion needs a threshold or tiers")
            if self.threshold is not None and self.tiers:
                raise ValueError("threshold: give a threshold or tiers, not both")
        elif self.threshold is not None or self.tiers:
            field = "threshold" if self.threshold is not None else "tiers"
            raise ValueError(f"{field}: a {ctype} criterion takes no threshold or tiers")
        whole = isinstance(criterion, _WHOLE)
        if self.threshold is not None:
            _check_threshold(self.threshold, whole, ctype, "threshold: the threshold")
        seen: set[str] = set()
        previous: Tier | None = None
        for tier in self.tiers:
            if tier.id in seen:
                raise ValueError(f"tiers: two tiers are named {tier.id!r}")
            seen.add(tier.id)
            _check_threshold(tier.threshold, whole, ctype, f"tiers: tier {tier.id!r}'s threshold")
            if previous is not None and tier.threshold <= previous.threshold:
                raise ValueError(
                    "tiers: thresholds must increase strictly, but tier "
                    f"{tier.id!r} ({tier.threshold}) does not exceed tier "
                    f"{previous.id!r} ({previous.threshold})"
                )
            previous = tier
        if self.repeat is not None and not isinstance(criterion, _REPEATABLE):
            raise ValueError(
                f"repeat: a {ctype} badge cannot repeat; repeatable badges use a count, sum, "
                "points, distinct or manual criterion"
            )
        return self

    @property
    def title(self) -> str:
        """Return the name to show: ``name``, or the id when it has none."""
        return self.name or self.id

    @property
    def thresholds(self) -> tuple[int | float, ...]:
        """Return the thresholds in order: the tiers', or the single threshold."""
        if self.tiers:
            return tuple(tier.threshold for tier in self.tiers)
        return () if self.threshold is None else (self.threshold,)


_SHAPE_FIELDS = ("threshold", "tiers", "repeat")
_CRITERION_TAGS = frozenset(
    c.model_fields["type"].default
    for c in (Count, Sum, Points, Distinct, Streak, Rolling, First, AllOf, AnyOf, Manual, Plugin)
)


def _shape_error(exc: ValidationError, subject: str) -> ConfigurationError:
    """Convert a validation error, taking the field of a whole-badge check from its message."""
    first = exc.errors(include_url=False)[0]
    inner = first.get("ctx", {}).get("error")
    if isinstance(inner, ConfigurationError):
        # A nested definition given as a mapping raised its own error: name the path to it.
        # The criterion's type tag in the location is pydantic's, not a field of the badge.
        path = [str(part) for part in first["loc"] if part not in _CRITERION_TAGS]
        return ConfigurationError(".".join([*path, inner.field]), inner.reason, subject=subject)
    error = _config_error(exc, subject)
    if not first["loc"]:
        field, sep, reason = error.reason.partition(": ")
        if sep and field in _SHAPE_FIELDS:
            return ConfigurationError(field, reason, subject=subject)
    return error


def _check_threshold(value: int | float, whole: bool, ctype: str, what: str) -> None:
    if isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if value <= 0:
        raise ValueError(f"{what} must be positive, got {value}")
    if whole and not isinstance(value, int):
        # An int, as every whole number of a definition is: 5.0 is not taken for 5.
        raise ValueError(
            f"{what} must be a whole number (an int) for a {ctype} criterion, got {value!r}"
        )
