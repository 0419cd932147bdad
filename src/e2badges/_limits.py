"""Input limits: every length, character set, depth and range e2badges accepts, in one place.

docs/input.md explains each choice.  The checks here are pure and raise
``ValueError`` (or :class:`FieldValueError`, which names a field deeper than the
one being validated) with a reason; the models and the facade turn that into
:class:`~e2badges.InvalidActivityError`, :class:`~e2badges.InvalidQueryError` or
:class:`~e2badges.ConfigurationError` naming the field, before anything is written.
:func:`check_count`, for the counts, limits and offsets of queries, raises
:class:`~e2badges.InvalidQueryError` itself: every query checks them the same way.

Nothing a person or a definition supplies is ever put into the text of a SQL
statement or a Redis command: stores pass values as bound parameters (see
docs/input.md).  These limits exist so that every store can keep every accepted
value exactly, and so that the error comes first, not from a database.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import BeforeValidator, TypeAdapter, ValidationError

from ._errors import InvalidQueryError
from ._frozen import EMPTY, FrozenDict, FrozenList

__all__ = [
    "MAX_AMOUNT",
    "MAX_AT",
    "MAX_ATTRIBUTES_BYTES",
    "MAX_ATTRIBUTES_DEPTH",
    "MAX_ATTRIBUTE_INT",
    "MAX_COUNT",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_IDENTIFIER_LENGTH",
    "MAX_KIND_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_STATE_BYTES",
    "MAX_STATE_DEPTH",
    "MAX_TEAMS",
    "MAX_VALUE",
    "MIN_AT",
    "MIN_ATTRIBUTE_INT",
    "Duration",
    "FieldValueError",
    "Flag",
    "Number",
    "Real",
    "Text",
    "Whole",
    "check_amount",
    "check_at",
    "check_at_input",
    "check_attributes",
    "check_aware",
    "check_count",
    "check_description",
    "check_duration",
    "check_identifier",
    "check_kind",
    "check_name",
    "check_state_key",
    "check_state_value",
    "check_value",
    "copy_state_value",
    "fixed_offset",
]

#: Identifiers (people, activity ids, objects, teams, rule/badge/board/level ids):
#: characters (code points), at least 1.  SQL columns are VARCHAR of this size.
MAX_IDENTIFIER_LENGTH = 256
#: Activity kinds: characters.
MAX_KIND_LENGTH = 100
#: Teams per activity.
MAX_TEAMS = 64
#: Attributes, as compact UTF-8 JSON: bytes.
MAX_ATTRIBUTES_BYTES = 16_384
#: Attributes: levels of containers (objects and lists), the attributes object being the first.
MAX_ATTRIBUTES_DEPTH = 8
#: Whole numbers inside attributes: signed 64-bit, what every JSON reader and SQL BIGINT holds.
MIN_ATTRIBUTE_INT = -(2**63)
MAX_ATTRIBUTE_INT = 2**63 - 1
#: ``Activity.value``: at most this in magnitude (2**53: whole numbers up to it are exact
#: as floats, so a value is never rounded on its way in).
MAX_VALUE = 2**53
#: Points credited by one ledger line (a rule's fixed or computed amount, a first-time
#: bonus): at most this in magnitude, so that ledger rows fit every store's BIGINT.
MAX_AMOUNT = 2**53
#: ``Activity.at``: from MIN_AT (included) to MAX_AT (excluded).  Outside, calendar
#: periods and rolling windows in any time zone would leave the dates Python can hold.
MIN_AT = datetime(1900, 1, 1, tzinfo=UTC)
MAX_AT = datetime(3000, 1, 1, tzinfo=UTC)
#: Counts, limits and offsets of queries (``top(n, offset)``, ``around(user, n)``, the
#: ``limit`` of ``explain()``, ``feed()`` and ``newcomers()``, ``close_periods(top=)``,
#: ``adoption(heavy=, kept_weeks=)``): at most 2**31 - 1.  Stores put them into LIMIT and
#: OFFSET, and the facade adds an offset to a count: a sum of two stays below 2**32,
#: inside SQLite's and PostgreSQL's signed 64-bit and MySQL's unsigned 64-bit LIMIT, and
#: a count fits a signed 32-bit integer, the smallest a store or a platform may use.
MAX_COUNT = 2**31 - 1
#: A plugin's state values (``PluginState.set``): levels of lists and dicts, the value
#: itself being the first.
MAX_STATE_DEPTH = 64
#: A plugin's state values: bytes as compact UTF-8 JSON (MySQL keeps a state value in a
#: MEDIUMTEXT, 16 MiB, and a batch of them must pass its max_allowed_packet).
MAX_STATE_BYTES = 1_048_576
#: Display names (badge, tier and level names): characters.
MAX_NAME_LENGTH = 256
#: Descriptions and image URLs of definitions: characters.
MAX_DESCRIPTION_LENGTH = 4_096

# A dotted name: letters, digits, '_' and '-', each segment starting with a letter.
_KIND = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z][A-Za-z0-9_-]*)*")
# Identifiers and names are one line of plain text: no control characters (C0, DEL,
# C1), no line or paragraph separators, no bidirectional embeddings, overrides or
# isolates (they reorder the text around them where an id is shown: a feed sentence
# could read backwards), and no lone surrogates (not encodable as UTF-8).
_NOT_IN_IDENTIFIER = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# Free text (attribute strings, descriptions) may hold tabs and line breaks and any
# other character except the rest of the control characters and lone surrogates.
# NUL is refused everywhere: PostgreSQL text cannot hold it.
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# What no store can keep in a plugin's state key: NUL (PostgreSQL text cannot hold it)
# and lone surrogates (not encodable as UTF-8); values' strings are JSON, where NUL is
# escaped, so only surrogates are refused there.
_NOT_IN_STATE_KEY = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class FieldValueError(ValueError):
    """A ValueError about a part of a field: ``field`` names it (``attributes.a.b[3]``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


_CATEGORY = {"Cc": "control", "Cs": "surrogate", "Zl": "line separator", "Zp": "line separator"}


def _bad_character(match: re.Match[str]) -> str:
    # The code point, never the character itself: an error message stays one clean line.
    char = match.group()
    what = _CATEGORY.get(unicodedata.category(char), "bidirectional formatting")
    return f"contains the {what} character U+{ord(char):04X} at position {match.start()}"


def check_identifier(value: str) -> str:
    """Return ``value`` if it is a valid identifier, else raise ValueError saying why."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type(value).__name__}")
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_IDENTIFIER_LENGTH:
        raise ValueError(f"is {len(value)} characters long; the limit is {MAX_IDENTIFIER_LENGTH}")
    bad = _NOT_IN_IDENTIFIER.search(value)
    if bad is not None:
        raise ValueError(
            f"{_bad_character(bad)}; identifiers are one line of text without "
            "control, bidirectional formatting or surrogate characters"
        )
    return value


def check_kind(value: str) -> str:
    """Return ``value`` if it is a valid dotted kind name, else raise ValueError."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type(value).__name__}")
    if len(value) > MAX_KIND_LENGTH:
        raise ValueError(f"is {len(value)} characters long; the limit is {MAX_KIND_LENGTH}")
    if not _KIND.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a dotted name such as 'comment.created' "
            "(letters, digits, '_' and '-', segments starting with a letter)"
        )
    return value


def check_name(value: str) -> str:
    """Return a display name (may be empty) if valid: one line, at most MAX_NAME_LENGTH."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type(value).__name__}")
    if len(value) > MAX_NAME_LENGTH:
        raise ValueError(f"is {len(value)} characters long; the limit is {MAX_NAME_LENGTH}")
    bad = _NOT_IN_IDENTIFIER.search(value)
    if bad is not None:
        raise ValueError(f"{_bad_character(bad)}; a name is one line of plain text")
    return value


def check_description(value: str) -> str:
    """Return free text (a description, a URL) if valid: at most MAX_DESCRIPTION_LENGTH."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type(value).__name__}")
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise ValueError(f"is {len(value)} characters long; the limit is {MAX_DESCRIPTION_LENGTH}")
    bad = _NOT_IN_TEXT.search(value)
    if bad is not None:
        raise ValueError(
            f"{_bad_character(bad)}; of the control characters, text may hold tab, CR and LF"
        )
    return value


def check_value(value: Any) -> Any:
    """Return ``Activity.value`` if it is None or a finite number within MAX_VALUE."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number (int or float), not {type(value).__name__}")
    # Ints are compared before any conversion: 10**400 cannot become a float.
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"is {value!r}; it must be a finite number")
    if abs(value) > MAX_VALUE:
        raise ValueError(f"is beyond ±2**53 ({MAX_VALUE}); larger numbers lose precision")
    return value


def check_amount(value: int) -> int:
    """Return a ledger amount if it is within ±MAX_AMOUNT, else raise ValueError."""
    if abs(value) > MAX_AMOUNT:
        raise ValueError(f"{value} is beyond ±2**53 ({MAX_AMOUNT}) points")
    return value


def check_count(field: str, value: Any, *, least: int = 0, subject: str | None = None) -> int:
    """Return a query's count, limit or offset if it is a whole number from ``least`` to MAX_COUNT.

    Else raise :class:`~e2badges.InvalidQueryError` naming ``field`` (and ``subject``).
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        reason = f"must be a whole number, {least} or more; got {value!r}"
        raise InvalidQueryError(field, reason, subject=subject)
    if value > MAX_COUNT:
        reason = f"is {value}; it must be at most 2**31 - 1 ({MAX_COUNT})"
        raise InvalidQueryError(field, reason, subject=subject)
    return value


def check_aware(field: str, value: Any, *, subject: str | None = None) -> datetime:
    """Return ``value`` if it is a timezone-aware ``datetime``.

    Else raise :class:`~e2badges.InvalidQueryError` naming ``field`` (and
    ``subject``): a naive time would be read as local time by one store and fail
    to compare with the stored instants in another.
    """
    if not isinstance(value, datetime):
        reason = f"must be a timezone-aware datetime, not {type(value).__name__}"
        raise InvalidQueryError(field, reason, subject=subject)
    if value.utcoffset() is None:
        reason = f"is {value.isoformat()}; it must be timezone-aware"
        raise InvalidQueryError(field, reason, subject=subject)
    return value


def check_at_input(value: object) -> object:
    """Return a time as given (a ``datetime``, or None) or parsed from ISO 8601 text,
    else raise ValueError; to run before pydantic's own parsing.

    pydantic's lax parsing of a datetime field reads a number, or a string of digits,
    as a Unix time in UTC (a large one as milliseconds): a time with no time zone
    given, silently placed in UTC.  Only a ``datetime`` or an ISO 8601 string with a
    UTC offset (``2026-03-02T09:00:00+01:00``, ``...Z``) is a time here; a string
    without an offset is refused like a naive ``datetime``.  The range and the offset
    are checked by :func:`check_at` after.
    """
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        shown = ascii(value[:40]) + ("…" if len(value) > 40 else "")
        try:
            # RFC 3339 allows a lower-case z for UTC, which fromisoformat does not read.
            parsed = datetime.fromisoformat(value[:-1] + "Z" if value.endswith("z") else value)
        except ValueError:
            raise ValueError(
                f"{shown} is not an ISO 8601 date and time with a UTC offset"
            ) from None
        if parsed.utcoffset() is None:
            raise ValueError(f"{shown} has no UTC offset; it must be timezone-aware")
        return parsed
    raise ValueError(
        "must be a timezone-aware datetime or an ISO 8601 string with a UTC offset, "
        f"not {type(value).__name__}"
    )


def check_at(value: datetime) -> datetime:
    """Return an aware ``at`` if it lies in [MIN_AT, MAX_AT) with a UTC offset of whole
    seconds, else raise ValueError.

    A SQL store keeps the offset in whole seconds (as every time zone has it), so a
    fraction of a second would come back as another wall-clock time.
    """
    if not MIN_AT <= value < MAX_AT:
        raise ValueError(f"is {value.isoformat()}; it must be from 1900-01-01 to 2999-12-31 UTC")
    offset = value.utcoffset()
    if offset is not None and offset.microseconds:
        raise ValueError(
            f"is {value.isoformat()}; its UTC offset must be a whole number of seconds"
        )
    return value


_OFFSETS: dict[timedelta, timezone] = {timedelta(0): UTC}


def fixed_offset(at: datetime) -> datetime:
    """Return aware ``at`` with a fixed-offset ``datetime.timezone`` of its UTC offset.

    The same instant and wall-clock time, without its zone (``ZoneInfo``, a named
    ``timezone``): a SQL store keeps the offset only, so every store returns times
    this way (UTC itself for offset 0, as ``datetime.fromisoformat`` reads ``+00:00``).
    Wall-clock arithmetic on a returned time then gives the same result on every store.
    """
    offset = at.utcoffset()
    assert offset is not None  # checked aware before
    zone = _OFFSETS.get(offset)
    if zone is None:
        zone = _OFFSETS.setdefault(offset, timezone(offset))
    if at.tzinfo is zone and not at.fold:
        return at
    return at.replace(tzinfo=zone, fold=0)


def _key_path(path: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}"
    shown = key if len(key) <= 40 else key[:40] + "…"
    # ASCII JSON: a hostile key cannot put control characters into an error message.
    return f"{path}[{json.dumps(shown)}]"


def _number_copy(value: float, path: str) -> float:
    """Return a number (bool aside) as its plain int or float if every store keeps it
    exactly (a whole number within 64 bits, a finite float), or raise FieldValueError."""
    if isinstance(value, int):
        if not MIN_ATTRIBUTE_INT <= value <= MAX_ATTRIBUTE_INT:
            raise FieldValueError(
                path, "is a whole number outside the signed 64-bit range (-2**63 to 2**63 - 1)"
            )
        return int.__int__(value)
    if not math.isfinite(value):
        raise FieldValueError(path, f"is {value!r}; numbers must be finite")
    return float.__float__(value)


def _json_copy(value: Any, depth: int, path: str) -> Any:
    """Return ``value`` as plain JSON types (tuples become lists), or raise FieldValueError."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        bad = _NOT_IN_TEXT.search(value)
        if bad is not None:
            raise FieldValueError(
                path, f"{_bad_character(bad)}; text may hold tab, CR and LF, no other control"
            )
        return str.__str__(value)  # a str subclass's own __str__ is not trusted
    if isinstance(value, int | float):
        return _number_copy(value, path)
    if isinstance(value, list | tuple | dict):
        if depth >= MAX_ATTRIBUTES_DEPTH:
            raise FieldValueError(
                path, f"is nested deeper than {MAX_ATTRIBUTES_DEPTH} levels of objects and lists"
            )
        if isinstance(value, dict):
            return _object_copy(value, depth + 1, path)
        return FrozenList(
            [_json_copy(item, depth + 1, f"{path}[{i}]") for i, item in enumerate(value)]
        )
    raise FieldValueError(
        path,
        f"is a {type(value).__name__}; use strings, numbers, booleans, None, lists and dicts",
    )


def _object_copy(value: Mapping[Any, Any], depth: int, path: str) -> FrozenDict:
    if not value:
        return EMPTY
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise FieldValueError(path, f"has a key of type {type(key).__name__}; keys are strings")
        bad = _NOT_IN_IDENTIFIER.search(key)
        if bad is not None:
            raise FieldValueError(path, f"has a key that {_bad_character(bad)}")
        out[str.__str__(key)] = _json_copy(item, depth, _key_path(path, key))
    return FrozenDict(out)


def check_attributes(value: Mapping[str, Any]) -> FrozenDict:
    """Return attributes as read-only JSON types if they are within the limits.

    The result is a copy whose dicts and lists cannot be changed in place (see
    ``e2badges._frozen``): changing what was given changes nothing kept, and nothing
    kept can be changed.  Raise :class:`FieldValueError` naming the offending part
    (``attributes.a[2]``) or ValueError for the whole (its size).
    """
    if not value:
        return EMPTY
    copy = _object_copy(value, 1, "attributes")
    size = len(_dumps(copy).encode())
    if size > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"are {size} bytes as JSON; the limit is {MAX_ATTRIBUTES_BYTES} bytes")
    return copy


def check_state_key(key: str) -> str:
    """Return a plugin's state key if every store can keep it, else raise ValueError."""
    if not isinstance(key, str):
        raise ValueError(f"must be a str, not {type(key).__name__}")
    bad = _NOT_IN_STATE_KEY.search(key)
    if bad is not None:
        raise ValueError(f"{_bad_character(bad)}, which a database cannot store in a key")
    return str.__str__(key)


def _state_copy(value: Any, depth: int, path: str) -> Any:
    """Return ``value`` as plain JSON types, or raise FieldValueError naming its part.

    What every store keeps exactly: JSON's types (a str, int or float subclass is
    copied as its plain value, equal to it), finite floats, whole numbers within 64
    bits, text encodable as UTF-8, str keys.  A tuple is refused rather than turned
    into a list: a SQL store would read it back as a list, unequal to the tuple.
    """
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        bad = _SURROGATE.search(value)
        if bad is not None:
            raise FieldValueError(path, f"{_bad_character(bad)}; text must be valid UTF-8")
        return str.__str__(value)
    if isinstance(value, int | float):
        return _number_copy(value, path)
    if isinstance(value, list | dict):
        if depth >= MAX_STATE_DEPTH:
            raise FieldValueError(
                path, f"is nested deeper than {MAX_STATE_DEPTH} levels of lists and dicts"
            )
        if isinstance(value, list):
            return [_state_copy(item, depth + 1, f"{path}[{i}]") for i, item in enumerate(value)]
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise FieldValueError(
                    path, f"has a key of type {type(key).__name__}; keys are strings"
                )
            bad = _SURROGATE.search(key)
            if bad is not None:
                raise FieldValueError(path, f"has a key that {_bad_character(bad)}")
            out[str.__str__(key)] = _state_copy(item, depth + 1, _key_path(path, key))
        return out
    if isinstance(value, tuple):
        raise FieldValueError(path, "is a tuple, which a store reads back as a list; use a list")
    raise FieldValueError(
        path,
        f"is a {type(value).__name__}; use strings, numbers, booleans, None, lists and dicts",
    )


def check_state_value(value: Any) -> Any:
    """Return a plugin's state value as plain JSON types if every store keeps it exactly.

    The value is a copy: changing what was set afterwards does not change what is
    stored.  Raise :class:`FieldValueError` naming the offending part (``value.a[2]``).
    """
    kind = type(value)
    if value is None or kind is bool:
        return value
    if kind is int and MIN_ATTRIBUTE_INT <= value <= MAX_ATTRIBUTE_INT:
        return value  # the common case: a counter
    copy = _state_copy(value, 0, "value")
    size = len(_dumps(copy).encode())
    if size > MAX_STATE_BYTES:
        raise FieldValueError(
            "value", f"is {size} bytes as JSON; the limit is {MAX_STATE_BYTES} bytes"
        )
    return copy


def copy_state_value(value: Any) -> Any:
    """Return a copy of a stored state value, so that changing it changes nothing stored."""
    if isinstance(value, list):
        return [copy_state_value(item) for item in value]
    if isinstance(value, dict):
        return {key: copy_state_value(item) for key, item in value.items()}
    return value


# -- strict definition fields ---------------------------------------------------------
# Definitions (rules, badges, levels, boards, story options) take each option as the type
# it is: these checks run before pydantic's own conversion, which would take 1 or "yes"
# for a bool, "5", 5.0 or True for a whole number, a number of seconds for a duration,
# and bytes for a string.  A ValueError becomes the ConfigurationError naming the field.

#: Parses an ISO 8601 duration (``PT5M``) given for a definition's duration.
_DURATION: TypeAdapter[timedelta] = TypeAdapter(timedelta)


def _flag(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError(f"must be True or False, got {value!r}")
    return value


def _whole(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a whole number, got {value!r}")
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, got {value!r}")
    return value


def check_duration(value: Any) -> Any:
    """Return ``value`` as a timedelta: a timedelta, or an ISO 8601 duration (``PT5M``)."""
    # An ISO 8601 duration ("PT5M") is what model_dump_json writes for a timedelta, so
    # a definition written to JSON loads again; a number of seconds is refused.
    if isinstance(value, str) and value.startswith("P"):
        try:
            value = _DURATION.validate_python(value)
        except ValidationError:
            raise ValueError(f"is not an ISO 8601 duration: {value!r}") from None
    if not isinstance(value, timedelta):
        raise ValueError(f"must be a timedelta or an ISO 8601 duration, got {value!r}")
    return value


def _text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type(value).__name__}")
    return value


#: A definition's flag: ``True`` or ``False`` only.
Flag = Annotated[bool, BeforeValidator(_flag)]
#: A definition's whole number: an ``int``, not a ``bool``, a float or a string.
Whole = Annotated[int, BeforeValidator(_whole)]
#: A definition's number kept as given: an ``int`` or a ``float``, not a ``bool`` or a string.
Number = Annotated[int | float, BeforeValidator(_number)]
#: A definition's float: an ``int`` or a ``float`` (an int becomes a float), not a
#: ``bool`` or a string.
Real = Annotated[float, BeforeValidator(_number)]
#: A definition's duration: a ``timedelta`` or an ISO 8601 duration (``"PT1H"``), not a
#: number of seconds or another string.
Duration = Annotated[timedelta, BeforeValidator(check_duration)]
#: A definition's string: a ``str``, not ``bytes``.
Text = Annotated[str, BeforeValidator(_text)]
