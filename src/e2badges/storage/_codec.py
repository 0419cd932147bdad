"""Encode activities, outcomes and state values as JSON text, and back.

Shared by every store that keeps these in text columns or values.  Decoding
trusts its input (it was validated when recorded), so it skips validation.

Formats (compact JSON, UTF-8 kept as is):

- an activity: an object with ``id``, ``actor``, ``kind``, ``at`` (ISO 8601 with
  its UTC offset) and, when set, ``object``, ``recipient``, ``value``, ``teams``,
  ``attributes``;
- an outcome: ``{"id": activity id, "t": reference time, "l": ledger lines,
  "a": awards, "r": revocations, "c": level changes}``, each entry a list of
  fields, where ``at`` (and ``activity_id``) are ``null`` when they equal the
  outcome's reference time (and activity id); empty lists are left out.  Ledger
  lines are ``[rule, user, currency, amount, requested, role, limit, bonus, at,
  activity_id]``; the other entries list their dataclass fields in declaration
  order, so a field added at the end with a default is read back from rows
  written before it existed;
- a state value: the JSON of the value (finite numbers, strings, lists, objects).

Times in columns are ``(UTC microseconds since the epoch, UTC offset in
seconds)``: :func:`epoch_us`, :func:`utc_offset` and :func:`from_epoch_us`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

from .._frozen import EMPTY, freeze
from .._models import Activity, Award, LedgerEntry, LevelChange, Outcome, Revocation, Story

__all__ = [
    "decode_activity",
    "decode_outcome",
    "decode_value",
    "encode_activity",
    "encode_outcome",
    "encode_value",
    "epoch_us",
    "from_epoch_us",
    "utc_offset",
]

_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _compact_json() -> Callable[[Any], str]:
    """Return a function encoding a value as compact JSON (UTF-8 kept, no NaN or infinity).

    ``JSONEncoder.encode`` builds the C encoder anew on every call, which costs as
    much as encoding a small document; the one built here is kept (without the
    check for circular structures, which JSON-safe values cannot hold).  Where
    the C encoder is missing, or does not give what ``encode`` gives, ``encode``
    serves.
    """
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover  # CPython has it
        return encoder.encode
    join = "".join
    try:
        encode = make(
            None,
            encoder.default,
            json.encoder.encode_basestring,
            None,
            ":",
            ",",
            False,
            False,
            False,
        )
        sample = {"a": [1, 2.5, None, True, "é\n"], "b": {}}
        if join(encode(sample, 0)) != encoder.encode(sample):  # pragma: no cover
            return encoder.encode
    except Exception:  # pragma: no cover  # another C encoder signature
        return encoder.encode

    def dumps(value: Any) -> str:
        return join(encode(value, 0))

    return dumps


_dumps = _compact_json()
_loads = json.loads
_OFFSETS: dict[int, timezone] = {0: UTC}


def epoch_us(at: datetime) -> int:
    """Return an aware datetime as whole microseconds since the epoch (UTC)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def utc_offset(at: datetime) -> int:
    """Return the UTC offset of an aware datetime in seconds."""
    offset = at.utcoffset()
    return 0 if offset is None else offset.days * 86_400 + offset.seconds


def _zone(offset: int) -> timezone:
    tz = _OFFSETS.get(offset)
    if tz is None:
        tz = _OFFSETS[offset] = timezone(timedelta(seconds=offset))
    return tz


def from_epoch_us(us: int, offset: int = 0) -> datetime:
    """Return the datetime ``us`` microseconds after the epoch, at UTC offset ``offset``."""
    return (_EPOCH + timedelta(microseconds=us)).astimezone(_zone(offset))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def encode_activity(activity: Activity, at_text: str | None = None) -> str:
    """Return ``activity`` as JSON text (its ``at`` must be set).

    ``at_text`` is ``activity.at.isoformat()`` when the caller already has it.
    """
    at = activity.at
    assert at is not None  # the facade fills it before anything is stored
    doc: dict[str, Any] = {
        "id": activity.id,
        "actor": activity.actor,
        "kind": activity.kind,
        "at": at_text or at.isoformat(),
    }
    if activity.object is not None:
        doc["object"] = activity.object
    if activity.recipient is not None:
        doc["recipient"] = activity.recipient
    if activity.value is not None:
        doc["value"] = activity.value
    if activity.teams:
        doc["teams"] = activity.teams
    if activity.attributes:
        doc["attributes"] = activity.attributes
    return _dumps(doc)


def decode_activity(text: str) -> Activity:
    """Return the activity encoded by :func:`encode_activity`."""
    doc = _loads(text)
    return Activity.model_construct(
        id=doc["id"],
        actor=doc["actor"],
        kind=doc["kind"],
        object=doc.get("object"),
        recipient=doc.get("recipient"),
        value=doc.get("value"),
        at=_time(doc["at"]),
        teams=tuple(doc.get("teams", ())),
        attributes=freeze(doc["attributes"]) if "attributes" in doc else EMPTY,
    )


def encode_outcome(outcome: Outcome, at: datetime, at_text: str | None = None) -> str:
    """Return ``outcome`` as JSON text; ``at`` (the activity's time) is its reference time.

    ``at_text`` is ``at.isoformat()`` when the caller already has it.
    """
    aid = outcome.activity_id
    doc: dict[str, Any] = {"id": aid, "t": at_text or at.isoformat()}
    offset = at.utcoffset()

    def when(value: datetime) -> str | None:
        return None if value == at and value.utcoffset() == offset else value.isoformat()

    if outcome.ledger:
        # Inlined: ledger lines are most of what is encoded on the hot path.
        doc["l"] = [
            [
                e.rule,
                e.user,
                e.currency,
                e.amount,
                e.requested,
                e.role,
                e.limit,
                e.bonus,
                None if e.at is at else when(e.at),
                None if e.activity_id == aid else e.activity_id,
            ]
            for e in outcome.ledger
        ]
    if outcome.awards:
        doc["a"] = [_entry(w, at, offset, aid) for w in outcome.awards]
    if outcome.revocations:
        doc["r"] = [_entry(v, at, offset, aid) for v in outcome.revocations]
    if outcome.level_changes:
        doc["c"] = [_entry(c, at, offset, aid) for c in outcome.level_changes]
    if outcome.stories:
        doc["s"] = [_entry(s, at, offset, aid) for s in outcome.stories]
    return _dumps(doc)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _entry(item: Any, at: datetime, offset: Any, aid: str) -> list[Any]:
    """Return an award, revocation or level change as its fields in declaration order."""
    out: list[Any] = []
    for name in _names(type(item)):
        value = getattr(item, name)
        if name == "at":
            value = None if value == at and value.utcoffset() == offset else value.isoformat()
        elif name == "activity_id" and value == aid:
            value = None
        out.append(value)
    return out


def _decoded(cls: type[_T], values: list[Any], at: datetime, aid: str) -> _T:
    # Fields added later (with defaults, at the end) are absent from older rows.
    names = _names(cls)
    kwargs: dict[str, Any] = dict(zip(names, values, strict=False))
    kwargs["at"] = at if kwargs["at"] is None else _time(kwargs["at"])
    if kwargs["activity_id"] is None:
        kwargs["activity_id"] = aid
    return cls(**kwargs)


def decode_outcome(text: str) -> Outcome:
    """Return the outcome encoded by :func:`encode_outcome`."""
    doc = _loads(text)
    aid: str = doc["id"]
    at = _time(doc["t"])

    def when(value: str | None) -> datetime:
        return at if value is None else _time(value)

    ledger = tuple(
        LedgerEntry(
            aid if e[9] is None else e[9],
            e[0],
            e[1],
            e[2],
            e[3],
            e[4],
            when(e[8]),
            e[5],
            e[6],
            e[7],
        )
        for e in doc.get("l", ())
    )
    awards = tuple(_decoded(Award, e, at, aid) for e in doc.get("a", ()))
    revocations = tuple(_decoded(Revocation, e, at, aid) for e in doc.get("r", ()))
    changes = tuple(_decoded(LevelChange, e, at, aid) for e in doc.get("c", ()))
    stories = tuple(decode_story(_decoded(Story, e, at, aid)) for e in doc.get("s", ()))
    return Outcome(aid, ledger, awards, revocations, changes, stories)


def decode_story(story: Story) -> Story:
    """Return ``story`` with its JSON lists turned back into tuples."""
    return dataclasses.replace(
        story, people=tuple(story.people), teams=tuple(story.teams), names=tuple(story.names)
    )


def encode_record(item: Award | Revocation) -> str:
    """Return an award or a revocation as JSON text: its fields in declaration order."""
    values = [getattr(item, name) for name in _names(type(item))]
    return _dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])


def decode_record(cls: type[_T], text: str) -> _T:
    """Return the award or revocation encoded by :func:`encode_record`."""
    # Fields added later (with defaults, at the end) are absent from older rows.
    kwargs: dict[str, Any] = dict(zip(_names(cls), _loads(text), strict=False))
    kwargs["at"] = _time(kwargs["at"])
    return cls(**kwargs)


def encode_value(value: Any) -> str:
    """Return a state value as JSON text (numbers stay int or float)."""
    # Most state values are counters: str() is their JSON, 20 times faster than dumps.
    if type(value) is int:
        return str(value)
    return _dumps(value)


def decode_value(text: str) -> Any:
    """Return the state value encoded by :func:`encode_value`."""
    try:
        return int(text)  # the common case; JSON strings (quoted) and floats fall through
    except ValueError:
        return _loads(text)
