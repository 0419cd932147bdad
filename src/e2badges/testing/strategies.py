"""Hypothesis strategies for e2badges: activities, streams of them, and rule sets.

Needs hypothesis (``pip install "e2badges[hypothesis]"``), as does the conformance
suite (which needs pytest too: ``pip install "e2badges[testing]"``); no other
e2badges module imports it.

- :func:`activities`: single activities valid for a Rewards configuration;
- :func:`activity_streams`: time-ordered lists of activities by a population
  over a period, with unique ids (or, on request, re-deliveries of some);
- :func:`point_rules`, :func:`caps` and :func:`rule_sets`: point rules with
  their limits, valid together (unique ids, shared caps defined alike);
- building blocks: :func:`identifiers`, :func:`kinds`, :func:`aware_datetimes`,
  :func:`populations`.

Every strategy draws only valid values, so a test can record what it draws and
check properties of the outcome.  An argument that would let a strategy draw an
invalid value (an invalid kind, team or currency given, a range reaching past
the limits of ``Activity.at``, ids that would be too long) raises ValueError
when the strategy is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .._errors import MissingDependencyError

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - exercised by a test that hides hypothesis
    raise MissingDependencyError("hypothesis", "hypothesis") from exc

from .._limits import (
    MAX_AT,
    MAX_IDENTIFIER_LENGTH,
    MAX_KIND_LENGTH,
    MIN_AT,
    check_attributes,
    check_identifier,
    check_kind,
)
from .._models import Activity, ActivityKind
from .._rules import Cap, PointRule

if TYPE_CHECKING:
    from .._rewards import Rewards

__all__ = [
    "DEFAULT_END",
    "DEFAULT_START",
    "WINDOWS",
    "activities",
    "activity_streams",
    "aware_datetimes",
    "caps",
    "identifiers",
    "kinds",
    "point_rules",
    "populations",
    "rule_sets",
]

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_END = datetime(2027, 1, 1, tzinfo=UTC)
WINDOWS = ("all", "day", "week", "month", "quarter", "year", "1d", "7d", "30d")
_DEFAULT_KINDS = ("comment.created", "post.created", "answer.upvoted")
_LOWER = "abcdefghijklmnopqrstuvwxyz"

Population = Mapping[str, Sequence[str]]
# Bidirectional embeddings, overrides and isolates: refused in identifiers.
_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _within_limits(attributes: dict[str, Any]) -> bool:
    try:
        check_attributes(attributes)
    except ValueError:
        return False
    return True


def identifiers(*, max_size: int = 12, unicode: bool = False) -> st.SearchStrategy[str]:
    """Return a strategy of valid identifiers (people, objects, activity ids, teams).

    By default short lowercase ASCII names; with ``unicode=True`` any text that
    e2badges accepts (no control, line separator, bidirectional formatting or
    surrogate characters: see docs/input.md), up to ``max_size``.
    """
    if max_size < 1 or max_size > MAX_IDENTIFIER_LENGTH:
        raise ValueError(f"max_size must be between 1 and {MAX_IDENTIFIER_LENGTH}")
    if unicode:
        alphabet = st.characters(
            exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters=_BIDI_CONTROLS
        )
        return st.text(alphabet, min_size=1, max_size=max_size).map(check_identifier)
    return _word(_LOWER + "0123456789_-", max_size - 1)


def _word(alphabet: str, tail: int) -> st.SearchStrategy[str]:
    """Return a lowercase letter followed by up to ``tail`` characters of ``alphabet``."""
    pairs = st.tuples(st.sampled_from(_LOWER), st.text(alphabet, max_size=tail))
    return pairs.map(lambda pair: pair[0] + pair[1])


# A kind of MAX_KIND_LENGTH characters holds at most this many segments (one letter each).
_MAX_SEGMENTS = (MAX_KIND_LENGTH + 1) // 2


def kinds(*, max_segments: int = 3) -> st.SearchStrategy[str]:
    """Return a strategy of valid dotted kind names such as ``comment.created``.

    Up to ``max_segments`` segments (1 to 50) of up to 8 characters each, and at
    most ``MAX_KIND_LENGTH`` (100) characters in all: the segments that would
    pass it are left out.
    """
    if max_segments < 1 or max_segments > _MAX_SEGMENTS:
        raise ValueError(f"max_segments must be between 1 and {_MAX_SEGMENTS}")
    segment = _word(_LOWER + "0123456789_", 7)
    return st.lists(segment, min_size=1, max_size=max_segments).map(_dotted)


def _dotted(segments: list[str]) -> str:
    """Join ``segments`` with dots, leaving out those past MAX_KIND_LENGTH characters."""
    name = segments[0]
    for segment in segments[1:]:
        if len(name) + 1 + len(segment) > MAX_KIND_LENGTH:
            break
        name = f"{name}.{segment}"
    return name


def _checked(argument: str, values: Sequence[str], check: Any) -> tuple[str, ...]:
    """Return ``values`` (kinds, currencies or teams given) if each passes ``check``."""
    if isinstance(values, str):
        raise ValueError(f"{argument} must be a list of names, not a string")
    for value in values:
        try:
            check(value)
        except ValueError as exc:
            reason = str(exc)
            if repr(value) not in reason:
                reason = f"{value!r} {reason}"
            raise ValueError(f"{argument}: {reason}") from None
    return tuple(values)


def _zones(timezones: Sequence[str]) -> tuple[ZoneInfo, ...]:
    """Return the ``timezones`` given as ZoneInfos, else raise ValueError naming them."""
    if isinstance(timezones, str):
        raise ValueError("timezones must be a list of IANA names, not a string")
    if not timezones:
        raise ValueError("timezones must not be empty")
    zones = []
    for name in timezones:
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"timezones: {name!r} is not a known IANA time zone") from None
    return tuple(zones)


def _check_population(population: Population) -> None:
    """Refuse, naming ``population``, a population from which invalid activities are drawn."""
    if not isinstance(population, Mapping):
        raise ValueError(
            f"population must map each person to their teams, not {type(population).__name__}"
        )
    if not population:
        raise ValueError("population must not be empty")
    for person, teams in population.items():
        try:
            check_identifier(person)
        except ValueError as exc:
            raise ValueError(f"population: person {person!r}: {exc}") from None
        _checked(f"population: teams of {person!r}", teams, check_identifier)


def aware_datetimes(
    *,
    start: datetime = DEFAULT_START,
    end: datetime = DEFAULT_END,
    timezones: Sequence[str] = ("UTC",),
) -> st.SearchStrategy[datetime]:
    """Return aware datetimes in ``[start, end)``, each expressed in one of ``timezones``.

    ``[start, end)`` must lie within the limits of ``Activity.at`` (1900 to 2999).
    """
    for name, bound in (("start", start), ("end", end)):
        if bound.tzinfo is None or bound.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware")
    if end <= start:
        raise ValueError("end must be after start")
    # What Activity.at (and every other time e2badges keeps) accepts: [MIN_AT, MAX_AT).
    if start < MIN_AT or end > MAX_AT:
        raise ValueError(
            f"start and end must lie from {MIN_AT:%Y-%m-%d} to {MAX_AT:%Y-%m-%d} UTC "
            "(the limits of Activity.at)"
        )
    zones = _zones(timezones)
    origin = start.astimezone(UTC)
    span = (end - start) // timedelta(microseconds=1)
    # An integer offset is cheaper to draw than st.datetimes and shrinks toward ``start``.
    offsets = st.integers(0, span - 1).map(lambda us: origin + timedelta(microseconds=us))
    if len(timezones) == 1 and timezones[0] == "UTC":
        return offsets
    return st.tuples(offsets, st.sampled_from(zones)).map(lambda pair: pair[0].astimezone(pair[1]))


def populations(
    *, min_size: int = 1, max_size: int = 8, teams: Sequence[str] = ("red", "blue", "green")
) -> st.SearchStrategy[dict[str, tuple[str, ...]]]:
    """Return mappings of person to their teams (none or one of ``teams``)."""
    teams = _checked("teams", teams, check_identifier)
    membership = st.one_of(st.just(()), st.sampled_from(tuple(teams)).map(lambda t: (t,)))
    return st.dictionaries(identifiers(), membership, min_size=min_size, max_size=max_size)


def _kind_names(rewards: Rewards | None, given: Sequence[str] | None) -> list[str]:
    if given is not None:
        if not given:
            raise ValueError("kinds must not be empty")
        return list(_checked("kinds", given, check_kind))
    if rewards is None:
        return list(_DEFAULT_KINDS)
    declared = list(rewards.engine.kinds)
    if not declared and not rewards.engine.accept_any_kind:
        raise ValueError("the Rewards instance declares no kinds, so no activity is valid for it")
    return declared or list(_DEFAULT_KINDS)


def _attributes(
    rewards: Rewards | None,
    names: Sequence[str],
    given: Mapping[str, st.SearchStrategy[dict[str, Any]]] | None,
) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """Return an attributes strategy per kind that has one: given, or built from its payload."""
    out: dict[str, st.SearchStrategy[dict[str, Any]]] = {}
    declared: Mapping[str, ActivityKind] = rewards.engine.kinds if rewards is not None else {}
    for name in names:
        if given is not None and name in given:
            out[name] = given[name]
            continue
        kind = declared.get(name)
        payload = kind.payload if kind is not None else None
        if payload is not None:
            dumped = st.builds(payload).map(lambda model: model.model_dump(mode="json"))
            # A payload's unbounded int may exceed what attributes hold (signed 64-bit).
            out[name] = dumped.filter(_within_limits)
    return out


def _values() -> st.SearchStrategy[float | None]:
    return st.one_of(st.none(), st.integers(-5, 100).map(float), st.floats(-1e6, 1e6))


@st.composite
def _activity(
    draw: st.DrawFn,
    *,
    names: list[str],
    attributes: dict[str, st.SearchStrategy[dict[str, Any]]],
    ids: st.SearchStrategy[str],
    actors: st.SearchStrategy[str],
    recipients: st.SearchStrategy[str | None],
    objects: st.SearchStrategy[str | None],
    values: st.SearchStrategy[float | None],
    times: st.SearchStrategy[datetime],
    teams: st.SearchStrategy[tuple[str, ...]],
) -> Activity:
    kind = draw(st.sampled_from(names))
    return Activity(
        id=draw(ids),
        actor=draw(actors),
        kind=kind,
        object=draw(objects),
        recipient=draw(recipients),
        value=draw(values),
        at=draw(times),
        teams=draw(teams),
        attributes=draw(attributes[kind]) if kind in attributes else {},
    )


def activities(
    rewards: Rewards | None = None,
    *,
    kinds: Sequence[str] | None = None,
    ids: st.SearchStrategy[str] | None = None,
    actors: st.SearchStrategy[str] | None = None,
    recipients: st.SearchStrategy[str | None] | None = None,
    objects: st.SearchStrategy[str | None] | None = None,
    values: st.SearchStrategy[float | None] | None = None,
    attributes: Mapping[str, st.SearchStrategy[dict[str, Any]]] | None = None,
    teams: st.SearchStrategy[tuple[str, ...]] | None = None,
    start: datetime = DEFAULT_START,
    end: datetime = DEFAULT_END,
    timezones: Sequence[str] = ("UTC",),
) -> st.SearchStrategy[Activity]:
    """Return a strategy of activities that ``rewards`` accepts.

    Kinds are ``kinds``, else the kinds ``rewards`` declares, else a few
    defaults.  A kind with a pydantic payload gets attributes built from it
    (``st.builds(payload)``) unless ``attributes`` gives a strategy for it.
    ``at`` is aware and in ``[start, end)``; ids are random hex strings unless
    ``ids`` is given.  Other fields have simple defaults; pass a strategy to
    narrow any of them.
    """
    names = _kind_names(rewards, kinds)
    who = actors if actors is not None else identifiers()
    return _activity(
        names=names,
        attributes=_attributes(rewards, names, attributes),
        ids=ids if ids is not None else st.uuids().map(lambda u: u.hex),
        actors=who,
        recipients=recipients if recipients is not None else st.one_of(st.none(), who),
        objects=objects if objects is not None else st.one_of(st.none(), identifiers()),
        values=values if values is not None else _values(),
        times=aware_datetimes(start=start, end=end, timezones=timezones),
        teams=teams if teams is not None else st.just(()),
    )


@st.composite
def _stream(
    draw: st.DrawFn,
    *,
    population: Population | None,
    names: list[str],
    attributes: dict[str, st.SearchStrategy[dict[str, Any]]],
    objects: st.SearchStrategy[str | None],
    values: st.SearchStrategy[float | None],
    times: st.SearchStrategy[datetime],
    sizes: tuple[int, int],
    duplicates: bool,
    id_prefix: str,
) -> list[Activity]:
    people: Population = population if population is not None else draw(populations())
    members = sorted(people)
    if not members:
        raise ValueError("the population is empty")
    member = st.sampled_from(members)
    # One list draw of plain tuples: cheaper to generate and to shrink than one draw per field.
    rows = draw(
        st.lists(
            st.tuples(times, member, st.sampled_from(names), st.none() | member, objects, values),
            min_size=sizes[0],
            max_size=sizes[1],
        )
    )
    rows.sort(key=lambda row: row[0])
    stream = [
        Activity(
            id=f"{id_prefix}{i}",
            at=at,
            actor=actor,
            kind=kind,
            recipient=recipient,
            object=obj,
            value=value,
            teams=tuple(people[actor]),
            attributes=draw(attributes[kind]) if kind in attributes else {},
        )
        for i, (at, actor, kind, recipient, obj, value) in enumerate(rows)
    ]
    if duplicates and stream:
        # Re-deliver some activities later in the stream: (original index, offset after it).
        again = draw(st.lists(st.integers(0, len(stream) - 1), max_size=len(stream)))
        for original in sorted(again, reverse=True):
            offset = draw(st.integers(1, len(stream) - original))
            stream.insert(original + offset, stream[original])
    return stream


def activity_streams(
    rewards: Rewards | None = None,
    *,
    population: Population | None = None,
    kinds: Sequence[str] | None = None,
    objects: st.SearchStrategy[str | None] | None = None,
    values: st.SearchStrategy[float | None] | None = None,
    attributes: Mapping[str, st.SearchStrategy[dict[str, Any]]] | None = None,
    start: datetime = DEFAULT_START,
    end: datetime = DEFAULT_END,
    timezones: Sequence[str] = ("UTC",),
    min_size: int = 0,
    max_size: int = 30,
    duplicates: bool = False,
    id_prefix: str = "s",
) -> st.SearchStrategy[list[Activity]]:
    """Return lists of activities by a population over ``[start, end)``, oldest first.

    ``population`` maps each person to their teams (drawn with
    :func:`populations` when not given); each activity's actor and recipient
    (when there is one) are members, and its teams are the actor's.  Ids are
    ``<id_prefix>0``, ``<id_prefix>1``, ... in time order.  With
    ``duplicates=True`` some activities are delivered again, unchanged, later in
    the list, as a retrying client would.
    """
    if min_size < 0 or max_size < min_size:
        raise ValueError("need 0 <= min_size <= max_size")
    try:
        # The longest id drawn: ``<id_prefix><max_size - 1>``.
        check_identifier(f"{id_prefix}{max(max_size - 1, 0)}")
    except ValueError as exc:
        raise ValueError(f"id_prefix: ids such as {id_prefix!r} + a number: {exc}") from None
    if population is not None:
        _check_population(population)
    names = _kind_names(rewards, kinds)
    return _stream(
        population=population,
        names=names,
        attributes=_attributes(rewards, names, attributes),
        objects=objects if objects is not None else st.one_of(st.none(), st.sampled_from("abcde")),
        values=values if values is not None else _values(),
        times=aware_datetimes(start=start, end=end, timezones=timezones),
        sizes=(min_size, max_size),
        duplicates=duplicates,
        id_prefix=id_prefix,
    )


def caps(
    *, windows: Sequence[str] = WINDOWS, max_amount: int = 30, name: str | None = None
) -> st.SearchStrategy[Cap]:
    """Return caps over ``windows``, per person, pair or object, of 0 to ``max_amount``."""
    if isinstance(max_amount, bool) or not isinstance(max_amount, int) or max_amount < 0:
        raise ValueError(f"max_amount must be an int of at least 0, got {max_amount!r}")
    if isinstance(windows, str):
        raise ValueError("windows must be a list of windows, not a string")
    if not windows:
        raise ValueError("windows must not be empty")
    for window in windows:
        try:
            Cap(amount=0, window=window)
        except ValueError as exc:
            raise ValueError(f"windows: {window!r}: {str(exc).splitlines()[0]}") from None
    return st.builds(
        Cap,
        amount=st.integers(0, max_amount),
        window=st.sampled_from(tuple(windows)),
        per=st.sampled_from(("person", "pair", "object")),
        name=st.just(name),
    )


def _rule_fields(
    names: tuple[str, ...], currencies: tuple[str, ...], penalties: bool, max_caps: int
) -> st.SearchStrategy[dict[str, Any]]:
    """Return the fields of a point rule but its id (built once: strategies are costly to make)."""
    names = _checked("kinds", names, check_kind)
    currencies = _checked("currencies", currencies, check_identifier)
    if not names or not currencies:
        raise ValueError("kinds and currencies must not be empty")
    amount = st.one_of(st.none(), st.integers(-5 if penalties else 0, 20))
    return st.fixed_dictionaries(
        {
            "kind": st.sampled_from(names),
            "actor_points": amount,
            "recipient_points": amount,
            "currency": st.sampled_from(currencies),
            "self_credit": st.booleans(),
            "caps": st.lists(caps(), max_size=max_caps, unique_by=lambda c: (c.window, c.per)),
            "once_per_object": st.booleans(),
            "cooldown": st.one_of(st.none(), st.integers(1, 3 * 24 * 60).map(_minutes)),
            "first_time_bonus": st.sampled_from((0, 0, 5)),
        }
    )


def _make_rule(rule_id: str, fields: dict[str, Any], shared: Cap | None) -> PointRule:
    if fields["actor_points"] is None and fields["recipient_points"] is None:
        fields["actor_points"] = 1
    if shared is not None:
        fields["caps"] = [*fields["caps"], shared]
    return PointRule(id=rule_id, **{**fields, "caps": tuple(fields["caps"])})


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def point_rules(
    *,
    kinds: Sequence[str] = _DEFAULT_KINDS,
    currencies: Sequence[str] = ("points",),
    rule_id: str = "r0",
    penalties: bool = False,
    max_caps: int = 2,
) -> st.SearchStrategy[PointRule]:
    """Return point rules on ``kinds``: amounts, caps, once-per-object, cooldowns, bonuses.

    Amounts are whole numbers from 0 to 20 (from -5 with ``penalties=True``) for
    the actor, the recipient or both (1 for the actor when neither was drawn).
    """
    try:
        check_identifier(rule_id)
    except ValueError as exc:
        raise ValueError(f"rule_id: {rule_id!r}: {exc}") from None
    fields = _rule_fields(tuple(kinds), tuple(currencies), penalties, max_caps)
    return fields.map(lambda drawn: _make_rule(rule_id, drawn, None))


@st.composite
def _rule_set(
    draw: st.DrawFn,
    fields: st.SearchStrategy[dict[str, Any]],
    sizes: tuple[int, int],
    shared: st.SearchStrategy[Cap] | None,
) -> tuple[PointRule, ...]:
    cap = draw(shared) if shared is not None else None
    drawn = draw(st.lists(st.tuples(fields, st.booleans()), min_size=sizes[0], max_size=sizes[1]))
    return tuple(
        _make_rule(f"r{i}", rule, cap if with_shared else None)
        for i, (rule, with_shared) in enumerate(drawn)
    )


def rule_sets(
    *,
    kinds: Sequence[str] = _DEFAULT_KINDS,
    currencies: Sequence[str] = ("points",),
    min_size: int = 0,
    max_size: int = 4,
    penalties: bool = False,
    max_caps: int = 2,
    shared_caps: bool = False,
) -> st.SearchStrategy[tuple[PointRule, ...]]:
    """Return tuples of point rules a Rewards instance accepts together.

    Rules are ``r0``, ``r1``, ...; with ``shared_caps=True`` some of them share a
    cap named ``shared`` (defined identically in each, as the engine requires).
    """
    if min_size < 0 or max_size < min_size:
        raise ValueError("need 0 <= min_size <= max_size")
    fields = _rule_fields(tuple(kinds), tuple(currencies), penalties, max_caps)
    shared = caps(name="shared") if shared_caps else None
    return _rule_set(fields, (min_size, max_size), shared)
