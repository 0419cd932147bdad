"""Activity validation: every field's rules, and the error each bad input raises."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from e2badges import Activity, ActivityKind, ConfigurationError, InvalidActivityError, Story
from e2badges._frozen import freeze
from e2badges._models import MAX_ATTRIBUTES_BYTES, MAX_IDENTIFIER_LENGTH, same_value
from e2badges.storage import Notification

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make(**fields: object) -> Activity:
    base: dict[str, object] = {"actor": "ann", "kind": "comment.created", "at": AT}
    base.update(fields)
    return Activity(**base)


class TestActivityFields:
    def test_minimal_activity_gets_an_id(self) -> None:
        """An activity without an id gets a fresh random one."""
        a, b = make(), make()
        assert a.id
        assert b.id
        assert a.id != b.id

    def test_all_fields_kept(self) -> None:
        """Every given field is kept as given."""
        a = make(
            id="x1",
            object="post-7",
            recipient="bob",
            value=4.5,
            teams=("sales", "emea"),
            attributes={"title": "Héllo", "n": [1, 2.5, None, True], "nested": {"k": "v"}},
        )
        assert (a.id, a.object, a.recipient, a.value, a.teams) == (
            "x1",
            "post-7",
            "bob",
            4.5,
            ("sales", "emea"),
        )
        assert a.attributes["nested"] == {"k": "v"}

    def test_frozen(self) -> None:
        """An activity cannot be changed after it is made."""
        a = make()
        with pytest.raises(Exception, match="frozen"):
            a.actor = "bob"  # type: ignore[misc]

    def test_at_keeps_its_offset(self) -> None:
        """An aware datetime in any offset is accepted as the same instant."""
        at = datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1)))
        assert make(at=at).at == AT

    def test_at_may_be_absent(self) -> None:
        """``at`` may be left out; the Rewards clock fills it when recorded."""
        assert Activity(actor="ann", kind="x").at is None


class TestActivityRefusals:
    @pytest.mark.parametrize(
        ("fields", "field", "reason"),
        [
            ({"at": datetime(2026, 3, 2, 9, 0)}, "at", "timezone"),
            ({"value": float("nan")}, "value", "finite"),
            ({"value": float("inf")}, "value", "finite"),
            ({"value": "lots"}, "value", "number"),
            ({"value": True}, "value", "not bool"),
            ({"actor": ""}, "actor", "empty"),
            ({"actor": "a" * (MAX_IDENTIFIER_LENGTH + 1)}, "actor", "limit is 256"),
            ({"actor": "ann\x00"}, "actor", "U+0000"),
            ({"actor": b"ann"}, "actor", "valid string"),
            ({"recipient": "bob\n"}, "recipient", "U+000A"),
            ({"object": "\ud800"}, "object", "U+D800"),
            ({"id": "a\x1fb"}, "id", "U+001F"),
            ({"kind": "Comment created"}, "kind", "dotted name"),
            ({"kind": "comment..created"}, "kind", "dotted name"),
            ({"kind": "1comment"}, "kind", "dotted name"),
            ({"kind": "c" * 101}, "kind", "limit is 100"),
            ({"teams": ("a", "a")}, "teams", "twice"),
            ({"teams": ("ok", "")}, "teams[1]", "empty"),
            ({"teams": {"sales", "emea"}}, "teams", "a set has no order: give a list or tuple"),
            ({"teams": frozenset({"sales"})}, "teams", "a set has no order"),
            ({"teams": {"sales": 1}.keys()}, "teams", "a set has no order"),
            ({"teams": {"sales": 1}}, "teams", "list or tuple of team names, not dict"),
            ({"teams": "sales"}, "teams", "list or tuple of team names, not str"),
            ({"teams": (t for t in ["sales"])}, "teams", "not generator"),
            ({"teams": None}, "teams", "not NoneType"),
            ({"attributes": {"x": float("nan")}}, "attributes.x", "finite"),
            ({"attributes": {"x": object()}}, "attributes.x", "is a object; use strings"),
            ({"attributes": {"x": b"bytes"}}, "attributes.x", "is a bytes; use strings"),
            ({"attributes": {"x": "\x07bell"}}, "attributes.x", "U+0007"),
            ({"attributes": {"x": "y" * MAX_ATTRIBUTES_BYTES}}, "attributes", "bytes as JSON"),
            ({"colour": "red"}, "colour", "Extra inputs"),
        ],
    )
    def test_bad_field_names_field_and_reason(
        self, fields: dict[str, object], field: str, reason: str
    ) -> None:
        """Each bad field raises InvalidActivityError naming the field and the reason."""
        with pytest.raises(InvalidActivityError) as info:
            make(**fields)
        assert info.value.field == field
        assert reason in info.value.reason
        assert str(info.value).startswith(f"{field}: ")

    @pytest.mark.parametrize(
        ("at", "reason"),
        [
            (0, "not int"),
            (1767600000, "not int"),
            (1767600000000, "not int"),
            (1.5e9, "not float"),
            (True, "not bool"),
            ("1767600000", "'1767600000' is not an ISO 8601 date and time"),
            ("2026-03-02T09:00:00", "has no UTC offset"),
            ("2026-03-02", "has no UTC offset"),
            ("yesterday", "not an ISO 8601"),
            (b"2026-03-02T09:00:00Z", "not bytes"),
            (datetime(2026, 3, 2).date(), "not date"),
        ],
    )
    def test_at_must_be_an_aware_time(self, at: object, reason: str) -> None:
        """``at`` is a timezone-aware datetime or an ISO 8601 string with a UTC offset: a
        number or a string of digits is not read as a Unix time in UTC (pydantic's lax
        parsing did), in the constructor, through a mapping or a copy."""
        with pytest.raises(InvalidActivityError) as info:
            make(at=at)
        assert (info.value.field, reason in info.value.reason) == ("at", True)
        with pytest.raises(InvalidActivityError) as info:
            Activity.coerce({"actor": "ann", "kind": "comment.created", "at": at})
        assert info.value.field == "at"
        with pytest.raises(InvalidActivityError) as info:
            make().model_copy(update={"at": at})
        assert info.value.field == "at"

    @pytest.mark.parametrize(
        "text",
        [
            "2026-03-02T10:00:00+01:00",
            "2026-03-02T09:00:00Z",
            "2026-03-02 09:00:00+00:00",
            "2026-03-02t09:00:00z",  # RFC 3339 allows lower case
        ],
    )
    def test_at_from_iso_text_with_an_offset(self, text: str) -> None:
        """An ISO 8601 string with a UTC offset (plain data, JSON) is read as that time,
        keeping the offset."""
        at = Activity.coerce({"actor": "ann", "kind": "comment.created", "at": text}).at
        assert at == AT
        assert at is not None
        assert at.utcoffset() == datetime.fromisoformat(text.upper()).utcoffset()

    def test_deep_nesting_refused(self) -> None:
        """Attributes nested deeper than eight levels are refused."""
        deep: dict[str, object] = {"leaf": 1}
        for _ in range(9):
            deep = {"d": deep}
        with pytest.raises(InvalidActivityError, match="nested deeper"):
            make(attributes=deep)

    def test_invalid_activity_error_is_a_value_error(self) -> None:
        """InvalidActivityError can be caught as ValueError."""
        with pytest.raises(ValueError, match="timezone"):
            make(at=datetime(2026, 1, 1))

    def test_coerce_refuses_non_mapping(self) -> None:
        """Activity.coerce refuses something that is neither an Activity nor a mapping."""
        with pytest.raises(InvalidActivityError, match="expected an Activity or a mapping"):
            Activity.coerce(42)  # type: ignore[arg-type]


class TestActivityCopies:
    @pytest.mark.parametrize(
        ("update", "field", "reason"),
        [
            ({"actor": "a\x00b"}, "actor", "U+0000"),
            ({"actor": "x" * 300}, "actor", "limit is 256"),
            ({"actor": "a\ud800"}, "actor", "U+D800"),
            ({"value": float("nan")}, "value", "finite"),
            ({"at": datetime(2026, 3, 2, 12)}, "at", "timezone"),
            ({"at": datetime(3000, 1, 1, tzinfo=UTC)}, "at", "2999-12-31"),
            ({"attributes": {"k": b"\xff"}}, "attributes.k", "is a bytes"),
            ({"teams": ("a", "a")}, "teams", "twice"),
            ({"teams": {"a", "b"}}, "teams", "a set has no order"),
            ({"colour": "red"}, "colour", "Extra inputs"),
        ],
    )
    def test_model_copy_validates_update(
        self, update: dict[str, object], field: str, reason: str
    ) -> None:
        """model_copy(update=...) validates its changes: InvalidActivityError names the field."""
        with pytest.raises(InvalidActivityError) as info:
            make(id="a1").model_copy(update=update)
        assert (info.value.field, reason in info.value.reason) == (field, True)

    def test_model_copy_keeps_the_rest(self) -> None:
        """A valid update changes only its fields; tuples in attributes become lists, as built."""
        original = make(id="a1", attributes={"n": 1})
        copy = original.model_copy(update={"actor": "bob", "attributes": {"t": (1, 2)}})
        assert copy == make(id="a1", actor="bob", attributes={"t": [1, 2]})
        assert copy.model_fields_set == original.model_fields_set | {"actor", "attributes"}
        assert original.model_copy() == original
        assert original.model_copy(deep=True) == original


def _changes(value: Any) -> list[Callable[[], object]]:
    """Return every in-place change of a dict or a list (one call each)."""
    if isinstance(value, dict):
        return [
            lambda: value.__setitem__("k", 1),
            lambda: value.__delitem__(next(iter(value))),
            lambda: value.update(k=1),
            lambda: value.setdefault("k", 1),
            lambda: value.pop(next(iter(value))),
            value.popitem,
            value.clear,
            lambda: value.__ior__({"k": 1}),
        ]
    return [
        lambda: value.__setitem__(0, 1),
        lambda: value.__setitem__(slice(None), []),
        lambda: value.__delitem__(0),
        lambda: value.append(1),
        lambda: value.extend([1]),
        lambda: value.insert(0, 1),
        value.pop,
        lambda: value.remove(value[0]),
        value.clear,
        value.reverse,
        value.sort,
        lambda: value.__iadd__([1]),
        lambda: value.__imul__(2),
    ]


class TestReadOnlyAttributes:
    ATTRIBUTES: ClassVar[dict[str, Any]] = {"tags": ["a", "b"], "meta": {"links": [1, 2]}}

    @pytest.mark.parametrize("part", ["attributes", "tags", "meta", "links"])
    def test_no_change_in_place(self, part: str) -> None:
        """An activity's attributes, and every dict and list in them, refuse any change in
        place with TypeError (the activity is frozen; stores keep this very object)."""
        a = make(attributes=self.ATTRIBUTES)
        value = {
            "attributes": a.attributes,
            "tags": a.attributes["tags"],
            "meta": a.attributes["meta"],
            "links": a.attributes["meta"]["links"],
        }[part]
        for change in _changes(value):
            with pytest.raises(TypeError, match="read-only"):
                change()
        assert a.attributes == self.ATTRIBUTES

    def test_a_copy_of_what_was_given(self) -> None:
        """Changing the dict an activity was made from changes nothing in the activity."""
        given = copy.deepcopy(self.ATTRIBUTES)
        a = make(attributes=given)
        given["tags"].append("c")
        given["meta"]["links"].clear()
        given["new"] = 1
        assert a.attributes == self.ATTRIBUTES

    def test_read_like_plain_json(self) -> None:
        """Read-only attributes are dicts and lists: equal to plain ones, serialised by
        json and pydantic as plain ones; their copy() and dict()/list() are changeable."""
        a = make(attributes=self.ATTRIBUTES)
        assert a.attributes == self.ATTRIBUTES
        assert isinstance(a.attributes, dict)
        assert isinstance(a.attributes["tags"], list)
        assert json.loads(json.dumps(a.attributes)) == self.ATTRIBUTES
        dumped = a.model_dump()["attributes"]
        assert (type(dumped), type(dumped["tags"])) == (dict, list)
        assert Activity.model_validate_json(a.model_dump_json()) == a
        mine = dict(a.attributes)
        mine["k"] = 1
        tags = list(a.attributes["tags"])
        tags.append("c")
        assert a.attributes.copy() | {"k": 1} == mine
        assert a.attributes == self.ATTRIBUTES

    def test_pickled_and_copied_stay_read_only(self) -> None:
        """A pickled, copied or deep-copied activity is equal and its attributes still
        read-only."""
        a = make(attributes=self.ATTRIBUTES)
        for other in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
            assert other == a
            with pytest.raises(TypeError):
                other.attributes["tags"].append("c")
        copied = a.model_copy(update={"attributes": {"t": [1]}})
        with pytest.raises(TypeError):
            copied.attributes["t"].append(2)

    def test_story_data_and_payload_read_only(self) -> None:
        """A story's data and a notification's payload are read-only copies of the mapping
        given, at every depth."""
        given: dict[str, Any] = {"standings": [{"user": "ann"}]}
        story = Story("s1", "badge", ("ann",), "t", given, AT, "a1")
        note = Notification("n1", "h", given, ("p",))
        given["standings"].append({"user": "bob"})
        for value in (story.data, note.payload):
            assert value == {"standings": [{"user": "ann"}]}
            with pytest.raises(TypeError):
                value["standings"][0]["user"] = "bob"
        assert dataclasses.replace(story, text="u").data == story.data


class TestSameValue:
    @pytest.mark.parametrize(
        ("first", "second", "same"),
        [
            (True, 1, False),
            (1, 1.0, False),
            (0.0, -0.0, False),
            (-0.0, -0.0, True),
            (1.5, 1.5, True),
            (None, 0, False),
            ("1", 1, False),
            ([1, [True]], [1, [1]], False),
            ([1, 2], [1, 2, 3], False),
            ({"a": 1, "b": [2.0]}, {"b": [2.0], "a": 1}, True),
            ({"a": 1}, {"a": 1, "b": 1}, False),
            ({"a": {"b": 0.0}}, {"a": {"b": -0.0}}, False),
            (("t1", "t2"), ("t1", "t2"), True),
            (freeze({"a": [1]}), {"a": [1]}, True),
            (freeze({"a": [1]}), {"a": [1.0]}, False),
            (freeze([1]), (1,), False),
        ],
    )
    def test_same_type_and_value(self, first: object, second: object, same: bool) -> None:
        """Values are the same when they have one type and are equal, all the way down;
        the keys of a dict may come in any order."""
        assert same_value(first, second) is same
        assert same_value(second, first) is same


class TestActivityKind:
    def test_kind_with_payload(self) -> None:
        """A kind may carry a pydantic model for its attributes."""

        class Rated(BaseModel):
            stars: int

        kind = ActivityKind(name="post.rated", payload=Rated)
        assert kind.payload is Rated

    def test_bad_kind_name(self) -> None:
        """A kind name that is not a dotted name raises ConfigurationError."""
        with pytest.raises(ConfigurationError, match="dotted name"):
            ActivityKind(name="not a kind")
