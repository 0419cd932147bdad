"""Activity, activity kinds, ledger entries and outcomes.

Inputs (``Activity``, ``ActivityKind``) are frozen pydantic models that refuse
unknown fields.  Outputs (``LedgerEntry``, ``Outcome``) are frozen slotted
dataclasses: they are built on the hot path, from already-validated data.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)

from ._errors import ConfigurationError, InvalidActivityError
from ._frozen import EMPTY, FrozenDict, FrozenList, freeze
from ._limits import (
    MAX_ATTRIBUTES_BYTES,
    MAX_ATTRIBUTES_DEPTH,
    MAX_IDENTIFIER_LENGTH,
    MAX_KIND_LENGTH,
    MAX_TEAMS,
    FieldValueError,
    Text,
    check_at,
    check_at_input,
    check_attributes,
    check_identifier,
    check_kind,
    check_value,
    fixed_offset,
)

__all__ = [
    "MAX_ATTRIBUTES_BYTES",
    "MAX_ATTRIBUTES_DEPTH",
    "MAX_IDENTIFIER_LENGTH",
    "MAX_KIND_LENGTH",
    "MAX_TEAMS",
    "Activity",
    "ActivityKind",
    "Award",
    "AwardRecord",
    "LedgerEntry",
    "LevelChange",
    "Outcome",
    "Revocation",
    "Story",
    "check_identifier",
    "check_kind",
    "differing_fields",
    "same_instant",
    "same_value",
    "trusted_copy",
]


def _activity_error(exc: ValidationError) -> InvalidActivityError:
    first = exc.errors(include_url=False)[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, FieldValueError):
        # A part of a field (``attributes.a.b[3]``) named by the check itself.
        return InvalidActivityError(cause.field, cause.reason)
    field = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
    ).lstrip(".")
    field = field or "activity"
    reason = first["msg"]
    if reason.startswith("Value error, "):
        reason = reason[len("Value error, ") :]
    return InvalidActivityError(field, reason)


class Activity(BaseModel):
    """One thing a person did: the unit that e2badges records.

    ``id`` is the idempotency key (a random one is generated when absent);
    ``at`` is a timezone-aware datetime (or ISO 8601 text with a UTC offset; a
    number is not a time), kept at its UTC offset as a fixed-offset
    ``datetime.timezone`` (as every store returns it), and defaults to the Rewards
    clock's now when absent.
    Construction raises :class:`InvalidActivityError` naming the field.
    The limits on every field are on the Input limits page (docs/input.md);
    attributes are kept as JSON types (a tuple becomes a list), so that what a
    store returns equals what was recorded.  They are a copy of what was given,
    and read-only: a dict (and lists and dicts in it) that compares, serialises
    and reads like a plain one, but raises TypeError on any change in place, as
    the activity is frozen and stores hand the same object to every reader
    (``dict(activity.attributes)`` is a changeable copy).

    :meth:`model_copy` validates the fields it changes as the constructor does.
    pydantic's ``model_construct()`` is its explicit way to skip validation: an
    activity built with it is recorded as it is, so build activities from
    untrusted data with the constructor (or :meth:`coerce`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    # StrictStr: bytes are refused, not decoded.
    id: StrictStr = Field(default_factory=lambda: uuid.uuid4().hex)
    actor: StrictStr
    kind: StrictStr
    object: StrictStr | None = None
    recipient: StrictStr | None = None
    value: float | None = None
    at: AwareDatetime | None = None
    teams: tuple[StrictStr, ...] = ()
    # Read-only (a FrozenDict; see the class docstring): the store keeps this very object.
    attributes: Mapping[str, Any] = Field(default=EMPTY)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _activity_error(exc) from None

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Return a copy of the activity with the fields in ``update`` changed.

        Unlike pydantic's own ``model_copy``, the result is validated as the
        constructor validates: an invalid or unknown field in ``update`` raises
        :class:`InvalidActivityError` naming it.  Validation makes fresh copies of
        the attributes, so a copy with ``update`` never shares them with the original.
        """
        if not update:
            return super().model_copy(deep=deep)
        copy = type(self)(**{**self.__dict__, **update})
        # As pydantic's model_copy: the fields set are the original's and the updated ones.
        object.__setattr__(copy, "__pydantic_fields_set__", self.model_fields_set | update.keys())
        return copy

    @field_validator("id", "actor", "object", "recipient")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        return None if value is None else check_identifier(value)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        return check_kind(value)

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, value: Any) -> Any:
        return check_value(value)

    @field_validator("at", mode="before")
    @classmethod
    def _at_input(cls, value: Any) -> Any:
        # Before pydantic's lax parsing, which reads a number as a Unix time in UTC.
        return check_at_input(value)

    @field_validator("at")
    @classmethod
    def _at(cls, value: datetime | None) -> datetime | None:
        # Kept as every store returns it: at its UTC offset, without its zone.
        return None if value is None else fixed_offset(check_at(value))

    @field_validator("teams", mode="before")
    @classmethod
    def _teams_input(cls, value: Any) -> Any:
        # A set's order is its hash order, which changes with PYTHONHASHSEED: the same
        # activity sent again by another process would conflict with the stored one.
        if isinstance(value, Set):
            raise ValueError("a set has no order: give a list or tuple")
        if not isinstance(value, list | tuple):
            raise ValueError(f"must be a list or tuple of team names, not {type(value).__name__}")
        return value

    @field_validator("teams")
    @classmethod
    def _teams(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > MAX_TEAMS:
            raise ValueError(f"has {len(value)} teams; the limit is {MAX_TEAMS}")
        for i, team in enumerate(value):
            try:
                check_identifier(team)
            except ValueError as exc:
                raise FieldValueError(f"teams[{i}]", str(exc)) from None
        if len(set(value)) != len(value):
            raise ValueError("names a team twice")
        return value

    @field_validator("attributes", mode="wrap")
    @classmethod
    def _attributes(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> FrozenDict:
        # Instead of pydantic's own validation, which would turn bytes keys into strings
        # and make a plain dict again.
        if not isinstance(value, Mapping):
            raise ValueError(f"must be a dict, not {type(value).__name__}")
        return check_attributes(value)

    @classmethod
    def coerce(cls, data: Activity | Mapping[str, Any]) -> Activity:
        """Return ``data`` as an Activity, validating a mapping."""
        if isinstance(data, Activity):
            return data
        if not isinstance(data, Mapping):
            raise InvalidActivityError(
                "activity", f"expected an Activity or a mapping, got {type(data).__name__}"
            )
        return cls(**data)


def trusted_copy(activity: Activity, **changes: Any) -> Activity:
    """Return ``activity`` with ``changes``, unvalidated: only for values e2badges guarantees.

    For the library's own copies on the recording path (the clock's checked now, the
    teams of stored memberships, an erasure's pseudonym), where the constructor's
    validation would cost time and find nothing.
    """
    return BaseModel.model_copy(activity, update=changes)


def differing_fields(stored: Activity, incoming: Activity) -> list[str]:
    """Name the fields in which ``incoming`` differs from ``stored``.

    Values are compared as they are kept (see :func:`same_value`): ``True``, ``1``
    and ``1.0`` differ, as do ``0.0`` and ``-0.0``.  An ``incoming.at`` of None
    means "now" and matches any stored time; empty ``incoming.teams`` mean "the
    actor's teams" (Rewards fills them from the people's memberships) and match any
    stored teams.
    """
    skipped = ("id", "at") if incoming.teams else ("id", "at", "teams")
    names = [name for name in Activity.model_fields if name not in skipped]
    out = [name for name in names if not same_value(getattr(stored, name), getattr(incoming, name))]
    if incoming.at is not None and not same_instant(stored.at, incoming.at):
        out.append("at")
    return out


# A read-only dict or list is the same value as a plain one with the same content.
_PLAIN: dict[type, type] = {FrozenDict: dict, FrozenList: list}


def same_value(first: Any, second: Any) -> bool:
    """Return whether two field values are the same: of one type and equal, recursively.

    ``==`` is not enough: ``True == 1 == 1.0`` and ``0.0 == -0.0``, while a store keeps
    (and a ``when`` or an amount function sees) each as it is.  The keys of two dicts
    may come in any order; a read-only dict or list (see ``e2badges._frozen``) is the
    same as a plain one.  (Floats are finite: an Activity refuses NaN.)
    """
    kind = _PLAIN.get(type(first), type(first))
    if kind is not _PLAIN.get(type(second), type(second)):
        return False
    if isinstance(first, float):
        return first == second and math.copysign(1.0, first) == math.copysign(1.0, second)
    if isinstance(first, list | tuple):
        return len(first) == len(second) and all(map(same_value, first, second))
    if isinstance(first, dict):
        return first.keys() == second.keys() and all(
            same_value(value, second[key]) for key, value in first.items()
        )
    return bool(first == second)


def same_instant(first: datetime | None, second: datetime | None) -> bool:
    """Return whether two aware datetimes (or two Nones) are the same instant.

    ``==`` is not enough: across time zones it is False for a time in a DST fold or
    gap (PEP 495), so the same instant read back from a store with a fixed UTC
    offset would differ from the one sent with its ``ZoneInfo``.
    """
    if first is None or second is None:
        return first is second
    return first.astimezone(UTC) == second.astimezone(UTC)


class ActivityKind(BaseModel):
    """A declared activity kind, with an optional pydantic model for its attributes."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: Text
    payload: type[BaseModel] | None = None
    description: Text = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_kind(value)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            err = _activity_error(exc)
            raise ConfigurationError(err.field, err.reason, subject="ActivityKind") from None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One line of a person's ledger: what a rule credited, or why it credited less.

    ``requested`` is what the rule asked for; ``amount`` is what was credited after
    limits; ``limit`` names the limit that reduced or stopped it (``None`` when the
    whole amount was credited).  ``bonus`` marks a first-time bonus line.
    """

    activity_id: str
    rule: str
    user: str
    currency: str
    amount: int
    requested: int
    at: datetime
    role: Literal["actor", "recipient"]
    limit: str | None = None
    bonus: bool = False


@dataclass(frozen=True, slots=True)
class Award:
    """A badge (tier) awarded to a person.

    ``tier`` is None for a badge without tiers; ``period`` is the calendar period
    label of a repeatable badge, None for a badge awarded once.  ``activity_id`` is
    the activity that earned it (for a manual grant, the grant's own activity);
    ``rule`` names what produced it (the badge's criterion type, or ``manual``).
    ``team`` is the team of a badge earned within one team (a team-scoped
    ``first``), else None.  A person holds at most one award per (badge, tier,
    period, team) at a time.
    """

    user: str
    badge: str
    tier: str | None
    period: str | None
    at: datetime
    activity_id: str
    rule: str
    team: str | None = None


@dataclass(frozen=True, slots=True)
class Revocation:
    """A badge (tier) taken back from a person, by whom and why.

    It takes back the person's award of the same badge, tier, period and team.
    ``activity_id`` is the activity that caused it (a revoke activity, or the
    activity that took a "first" place away); ``by`` is the grantor, or
    ``"e2badges"`` for a revocation the engine made itself.
    """

    user: str
    badge: str
    tier: str | None
    period: str | None
    at: datetime
    activity_id: str
    by: str
    reason: str
    team: str | None = None


@dataclass(frozen=True, slots=True)
class AwardRecord:
    """One award in a person's history, with the revocation that took it back, if any."""

    award: Award
    revocation: Revocation | None = None

    @property
    def revoked(self) -> bool:
        """Return whether the award was taken back."""
        return self.revocation is not None


@dataclass(frozen=True, slots=True)
class LevelChange:
    """A person's level moved from ``old`` to ``new`` (level numbers; 0 is no level)."""

    user: str
    old: int
    new: int
    at: datetime
    activity_id: str


@dataclass(frozen=True, slots=True)
class Story:
    """Something worth telling colleagues: an entry of the stories feed.

    ``id`` is derived from the event (the same event never makes two stories);
    ``kind`` is ``badge``, ``streak``, ``level``, ``leader``, ``personal_best``
    or ``milestone``; ``people`` are the people involved (empty for an
    organisation-wide milestone); ``text`` is a short plain-text sentence (never
    markup: escape it where you show it); ``data`` holds the structured facts
    (badge, tier, level, board, score, count, ...), as a read-only copy of the
    mapping given (its dicts and lists raise TypeError on a change in place).
    ``teams`` are the teams the story belongs to (those of the activity that made
    it); ``private`` stories
    (a secret badge) are shown only to the people involved.  ``names`` are the
    display names of ``people``, in order, filled (and ``text`` told with them)
    by ``Rewards.feed`` when a :class:`~e2badges.DisplayPolicy` is set; empty
    otherwise.
    """

    id: str
    kind: str
    people: tuple[str, ...]
    text: str
    data: Mapping[str, Any]
    at: datetime
    activity_id: str
    teams: tuple[str, ...] = ()
    private: bool = False
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A copy, read-only: the stores hand the same story to every reader.
        object.__setattr__(self, "data", freeze(self.data))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What recording one activity produced: ledger lines, awards, level changes, stories."""

    activity_id: str
    ledger: tuple[LedgerEntry, ...] = ()
    awards: tuple[Award, ...] = ()
    revocations: tuple[Revocation, ...] = ()
    level_changes: tuple[LevelChange, ...] = ()
    stories: tuple[Story, ...] = ()

    def credited(self, user: str, currency: str = "points") -> int:
        """Return the amount credited to ``user`` in ``currency`` by this activity."""
        return sum(e.amount for e in self.ledger if e.user == user and e.currency == currency)
