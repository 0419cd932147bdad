"""Conformance tests for hostile input, mixed into the Store conformance suite.

A corpus of hostile values (SQL and Redis metacharacters, markup, Unicode
oddities, limit-length and far-too-long strings, control characters, lone
surrogates, bytes, deeply nested attributes, huge and non-finite numbers,
far-off times) is recorded against the store.  Each value is either refused
with an error naming the field, and nothing of its batch is written, or stored
and returned exactly (equal, same types, same JSON text).  After the corpus the
store is intact: earlier data is still there and new data can be written.

Mixed into :class:`~e2badges.testing.conformance.StoreConformance`; the
``store`` and ``make_store`` fixtures come from there.  The limits are those of
docs/input.md.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from .. import (
    Activity,
    AverageMetric,
    Badge,
    ConfigurationError,
    FrozenClock,
    InvalidActivityError,
    InvalidPersonError,
    InvalidQueryError,
    Leaderboard,
    Membership,
    PointRule,
    PointsMetric,
    Rewards,
    SumMetric,
    TeamsScope,
    criteria,
)
from .._limits import (
    MAX_AMOUNT,
    MAX_AT,
    MAX_ATTRIBUTE_INT,
    MAX_ATTRIBUTES_BYTES,
    MAX_ATTRIBUTES_DEPTH,
    MAX_IDENTIFIER_LENGTH,
    MAX_KIND_LENGTH,
    MAX_VALUE,
    MIN_AT,
    MIN_ATTRIBUTE_INT,
)
from ..storage.base import Store
from ._common import T0

__all__ = ["HostileInputConformance", "accepted_identifiers", "refused_identifiers"]

US = timedelta(microseconds=1)
BADGE_NAME = "<b>First</b> post & \"quotes\" 'too'"
RULES = (PointRule(id="post", kind="post.created", actor_points=1, recipient_points=2),)
REDIS_COMMAND = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*1\r\n$8\r\nFLUSHALL\r\n"


def accepted_identifiers(prefix: str = "e2b_") -> list[str]:
    """Return hostile identifiers that must be stored and returned exactly.

    ``prefix`` is the store's table prefix, so that the SQL injections name
    its real tables.
    """
    long = MAX_IDENTIFIER_LENGTH
    return [
        # SQL metacharacters: quotes, comments, statement ends, placeholders of every driver.
        f"'; DROP TABLE {prefix}activities; --",
        f'"; DROP TABLE {prefix}ledger; --',
        "' OR '1'='1",
        '" OR 1=1 --',
        "a' || 'b",
        "x\\'; SELECT 1; --",
        "\\",
        "\\\\'\\\"",
        "%s",
        "%(id)s",
        "%%",
        "?",
        ":name",
        "$1",
        "`backticks`",
        "*/ /* -- #",
        "_%",
        # Redis metacharacters that fit on one line (CR and LF are refused).
        "*3 $3 DEL key",
        "{hash-tag}:key",
        "FLUSHALL",
        # Markup: stored as data, never escaped or interpreted.
        "<script>alert(1)</script>",
        "&amp; &lt;b&gt;",
        # Unicode.
        "Zoë 🦄",
        "李小龍",
        "مرحبا بالعالم",
        "e\u0301",
        "a\u200bb",
        "👨\u200d👩\u200d👧",
        "\ufeffbom",
        "\U0010ffff",
        "\ufffe",
        # Spaces are kept and compared exactly.
        " padded ",
        "\u00a0",
        # At the length limit, in 1-, 2- and 4-byte UTF-8 characters.
        "x" * (long - 1),
        "y" * long,
        "é" * long,
        "🦄" * long,
    ]


def refused_identifiers() -> list[tuple[object, str]]:
    """Return ``(value, reason fragment)`` pairs that every identifier field refuses."""
    long = MAX_IDENTIFIER_LENGTH
    return [
        ("", "must not be empty"),
        ("z" * (long + 1), f"limit is {long}"),
        ("m" * 1_000_000, f"limit is {long}"),
        ("a\x00b", "U+0000"),
        ("ann\r\n*1\r\n$8\r\nFLUSHALL\r\n", "U+000D"),
        ("line\nbreak", "U+000A"),
        ("tab\tbed", "U+0009"),
        ("\x1b[31mred", "U+001B"),
        ("del\x7f", "U+007F"),
        ("c1\x85", "U+0085"),
        ("a\u2028b", "U+2028"),
        ("evil\u202etxt.exe", "U+202E"),
        ("iso\u2066late", "U+2066"),
        ("\ud800", "U+D800"),
        ("lone \udfff", "U+DFFF"),
        (b"ann", "valid string"),
        (b"\xff\xfe\xfd", "valid string"),
        (42, "valid string"),
    ]


def _identifier_fields(value: object) -> Iterator[tuple[dict[str, object], str]]:
    """Yield activity fields with ``value`` in each identifier field, and the field named."""
    base: dict[str, object] = {"actor": "ann", "kind": "post.created", "at": T0}
    for name in ("id", "actor", "object", "recipient"):
        yield {**base, name: value}, name
    yield {**base, "teams": ("red", value)}, "teams[1]"


def _nested(depth: int, leaf: object = 1) -> dict[str, Any]:
    """Return attributes whose containers (objects and lists, alternating) are ``depth`` deep."""
    node: Any = leaf
    for level in range(depth - 1, 0, -1):
        node = {"d": node} if level % 2 else [node]
    return {"top": node} if depth > 1 else {"top": leaf}


def _sized(size: int) -> dict[str, Any]:
    """Return attributes exactly ``size`` bytes long as compact JSON."""
    overhead = len(json.dumps({"s": ""}, separators=(",", ":")))
    return {"s": "é" + "x" * (size - overhead - 2)}


def _json(value: Any) -> str:
    """Return JSON text that tells 1 from 1.0, -0.0 from 0.0 and keeps key order."""
    return json.dumps(value, ensure_ascii=True, allow_nan=False)


ACCEPTED_ATTRIBUTES: list[dict[str, Any]] = [
    {
        "sql": "'; DROP TABLE e2b_activities; --",
        "redis": REDIS_COMMAND,
        "lines": "one\ntwo\r\nthree\ttab",
        "markup": "<script>alert(1)</script> &amp;",
        "bidi": "\u202eevil\u202c and \u2066iso\u2069",
        "unicode": "🦄 e\u0301 \u200b \U0010ffff \ufffe",
        "quotes": "\\\\'\"%s?:x$1",
        "json": '{"a": [1, 2]}',
    },
    {
        "max": MAX_ATTRIBUTE_INT,
        "min": MIN_ATTRIBUTE_INT,
        "neg_zero": -0.0,
        "tiny": 5e-324,
        "huge": 1.7976931348623157e308,
        "one": 1,
        "one_float": 1.0,
        "third": 1 / 3,
        "yes": True,
        "no": False,
        "nothing": None,
    },
    {"": "empty key", "a.b": 1, "[0]": 2, "'; DROP": 3, "🦄": 4, " ": 5},
    _nested(MAX_ATTRIBUTES_DEPTH),
    _nested(MAX_ATTRIBUTES_DEPTH - 1, {}),
    _sized(MAX_ATTRIBUTES_BYTES),
    {"list": [1, "two", 3.0, None, [], {}], "empty": {}},
]


def _deep(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    top = node
    for _ in range(depth - 1):
        node["d"] = {}
        node = node["d"]
    return top


def _deep_list(depth: int) -> dict[str, Any]:
    node: list[Any] = []
    top = node
    for _ in range(depth - 2):
        inner: list[Any] = []
        node.append(inner)
        node = inner
    return {"l": top}


def _cycle() -> dict[str, Any]:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    return loop


# The ninth container of ``_nested``: attributes, top, then d and [0] in turn.
_NINTH = "attributes.top.d[0].d[0].d[0].d"


def refused_attributes() -> list[tuple[dict[Any, Any], str, str]]:
    """Return ``(attributes, field named, reason fragment)`` that Activity refuses."""
    return [
        (_nested(MAX_ATTRIBUTES_DEPTH + 1), _NINTH, "nested deeper than 8"),
        (_nested(MAX_ATTRIBUTES_DEPTH, {}), _NINTH, "nested deeper than 8"),
        (_deep(10_000), "attributes" + ".d" * 8, "nested deeper"),
        (_deep_list(10_000), "attributes.l" + "[0]" * 7, "nested deeper"),
        (_cycle(), "attributes" + ".self" * 8, "nested deeper"),
        ({"n": 2**63}, "attributes.n", "signed 64-bit"),
        ({"n": MIN_ATTRIBUTE_INT - 1}, "attributes.n", "signed 64-bit"),
        ({"n": 2**64}, "attributes.n", "signed 64-bit"),
        ({"n": [10**400]}, "attributes.n[0]", "signed 64-bit"),
        ({"n": 10**5000}, "attributes.n", "signed 64-bit"),
        ({"f": float("inf")}, "attributes.f", "finite"),
        ({"f": -float("inf")}, "attributes.f", "finite"),
        ({"f": float("nan")}, "attributes.f", "finite"),
        ({"s": "nul\x00"}, "attributes.s", "U+0000"),
        ({"s": "\x1b[2J"}, "attributes.s", "U+001B"),
        ({"s": "lone \ud800"}, "attributes.s", "U+D800"),
        ({"a b": {"x": "\x07"}}, 'attributes["a b"].x', "U+0007"),
        ({"nul\x00key": 1}, "attributes", "U+0000"),
        ({"\udfff": 1}, "attributes", "U+DFFF"),
        ({"line\nkey": 1}, "attributes", "U+000A"),
        ({b"bytes": 1}, "attributes", "type bytes"),
        ({1: "int key"}, "attributes", "type int"),
        ({"b": b"\xff\xfe"}, "attributes.b", "is a bytes"),
        ({"set": {1, 2}}, "attributes.set", "is a set"),
        ({"dec": Decimal("1.5")}, "attributes.dec", "is a Decimal"),
        ({"when": T0}, "attributes.when", "is a datetime"),
        (_sized(MAX_ATTRIBUTES_BYTES + 1), "attributes", f"limit is {MAX_ATTRIBUTES_BYTES}"),
        ({"big": "m" * 1_000_000}, "attributes", f"limit is {MAX_ATTRIBUTES_BYTES}"),
    ]


ACCEPTED_VALUES: list[float] = [0, -0.0, 0.1, 5e-324, 1 / 3, MAX_VALUE, -MAX_VALUE, 1e15 + 0.5]
REFUSED_VALUES: list[tuple[object, str]] = [
    (MAX_VALUE + 1, "2**53"),
    (-MAX_VALUE - 1, "2**53"),
    (2**64, "2**53"),
    (10**400, "2**53"),
    (1.7976931348623157e308, "2**53"),
    (float("inf"), "finite"),
    (float("nan"), "finite"),
    ("3", "not str"),
    (b"3", "not bytes"),
    (True, "not bool"),
    (Decimal("1"), "not Decimal"),
]
ACCEPTED_TIMES: list[datetime] = [
    MIN_AT,
    MIN_AT.astimezone(timezone(timedelta(hours=14))),
    MAX_AT - US,
    (MAX_AT - US).astimezone(timezone(timedelta(hours=-12))),
    datetime(2026, 3, 2, 9, 0, 0, 5, tzinfo=timezone(timedelta(seconds=-37))),
]
REFUSED_TIMES: list[object] = [
    datetime(2026, 1, 1, tzinfo=timezone(timedelta(seconds=1, microseconds=7))),
    MIN_AT - US,
    MAX_AT,
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))),
    datetime(2026, 3, 2, 9, 0),
    # Not read as Unix times in UTC (pydantic's lax parsing), nor as a naive time.
    0,
    1767600000,
    1767600000000,
    1.5e9,
    "1767600000",
    "2026-03-02T09:00:00",
    "2999-12-31T23:59:59.999999-01:00",
]
# Updates of Activity.model_copy, each refused, and the field the error names.
COPY_UPDATES: list[tuple[dict[str, Any], str]] = [
    ({"actor": "a\x00b"}, "actor"),
    ({"actor": "x" * (MAX_IDENTIFIER_LENGTH + 44)}, "actor"),
    ({"actor": "a\ud800"}, "actor"),
    ({"id": b"c2"}, "id"),
    ({"value": float("nan")}, "value"),
    ({"value": MAX_VALUE * 2}, "value"),
    ({"at": datetime(2026, 3, 2, 12)}, "at"),
    ({"at": MAX_AT}, "at"),
    ({"attributes": {"k": b"\xff"}}, "attributes.k"),
    ({"attributes": {"k": "\ud800"}}, "attributes.k"),
    ({"teams": ("t", "t")}, "teams"),
    ({"teams": {"t", "u"}}, "teams"),  # a set has no order
    ({"kind": "post created"}, "kind"),
]


class _SettableClock:
    """A custom clock whose now() is whatever the test set, valid or not."""

    at: object = T0

    def now(self) -> datetime:
        return self.at  # type: ignore[return-value]


ACCEPTED_KINDS = ["a", "A.b-c_d", "k" * MAX_KIND_LENGTH, "x." * 49 + "yz"]
REFUSED_KINDS: list[object] = [
    "",
    "k" * (MAX_KIND_LENGTH + 1),
    "post.created\n",
    "post.created'; DROP TABLE e2b_activities; --",
    "post..created",
    "é.created",
    "post.1created",
    "post created",
    "post.created\x00",
    b"post.created",
]


class HostileInputConformance:
    """The hostile-input sentences of the Store contract: refused, or stored exactly."""

    @pytest.fixture
    def hostile(self, store: Store) -> Rewards:
        return Rewards(
            store,
            rules=RULES,
            badges=[
                Badge(
                    id="first-post",
                    name=BADGE_NAME,
                    criterion=criteria.Count(kind="post.created"),
                    threshold=1,
                ),
                Badge(id="helper", criterion=criteria.Manual()),
            ],
            leaderboards=[Leaderboard(id="points", metric=PointsMetric())],
            clock=FrozenClock(T0),
        )

    @staticmethod
    def _written(store: Store, rewards: Rewards) -> tuple[int, int, int]:
        """Return what a refusal must leave unchanged: activities, ann's ledger and balance."""
        return store.count_activities(), len(store.ledger("ann")), rewards.balance("ann")

    def test_hostile_identifiers_stored_exactly(self, hostile: Rewards, store: Store) -> None:
        """Hostile identifiers are stored and returned exactly wherever they appear.

        The id, actor, object, a team and an attribute key and value of each
        activity are the hostile string: the activity, the person's balance,
        ledger, awards, leaderboard entry and the feed story about them carry it
        unchanged, and the story's text holds it verbatim (never escaped).
        """
        corpus = accepted_identifiers(getattr(store, "table_prefix", "e2b_"))
        assert len(set(corpus)) == len(corpus)
        activities = [
            Activity(
                id=x,
                actor=x,
                kind="post.created",
                object=x,
                recipient=("to " + x)[:MAX_IDENTIFIER_LENGTH],
                teams=(x,),
                attributes={x: x},
                at=T0 + timedelta(minutes=n),
            )
            for n, x in enumerate(corpus)
        ]
        hostile.record_many(activities)
        assert store.count_activities() == len(corpus)
        board = hostile.leaderboard("points")
        stories = {story.people[0]: story for story in hostile.feed(limit=1000)}
        for x, activity in zip(corpus, activities, strict=True):
            stored = store.get_activity(x)
            assert stored == activity, x
            assert stored is not None
            assert (stored.id, stored.actor, stored.object, stored.teams) == (x, x, x, (x,)), x
            assert _json(stored.attributes) == _json({x: x}), x
            assert hostile.balance(x) == 1, x
            assert hostile.balance(activity.recipient or "") == 2, x
            assert [(line.user, line.activity_id) for line in store.ledger(x)] == [(x, x)], x
            assert [(a.user, a.badge, a.activity_id) for a in hostile.badges(x)] == [
                (x, "first-post", x)
            ], x
            entry = board.entry(x)
            assert entry is not None
            assert (entry.user, entry.score) == (x, 1), x
            story = stories[x]
            assert story.people == (x,), x
            assert story.text == f"{x} earned {BADGE_NAME}", x
            assert story.teams == (x,), x
            assert [s.id for s in hostile.feed(scope=f"team:{x}")] == [story.id], x

    def test_hostile_identifiers_refused_nothing_written(
        self, hostile: Rewards, store: Store
    ) -> None:
        """Each refused identifier raises InvalidActivityError naming the field; nothing is written.

        Every identifier field (id, actor, object, recipient, a team) is tried
        with every refused value, alone and in a batch after a valid activity.
        """
        hostile.record(Activity(id="ok", actor="ann", kind="post.created", at=T0))
        before = self._written(store, hostile)
        for value, reason in refused_identifiers():
            for fields, name in _identifier_fields(value):
                with pytest.raises(InvalidActivityError) as info:
                    hostile.record(fields)
                assert (info.value.field, reason in info.value.reason) == (name, True), fields
                good = {"id": "batch", "actor": "ann", "kind": "post.created", "at": T0}
                with pytest.raises(InvalidActivityError):
                    hostile.record_many([good, fields])
        assert self._written(store, hostile) == before
        assert store.get_activity("batch") is None

    def test_hostile_kinds(self, store: Store) -> None:
        """Kinds at the limit are stored exactly; any other kind is refused, naming ``kind``."""
        rewards = Rewards(store, accept_any_kind=True, clock=FrozenClock(T0))
        for n, kind in enumerate(ACCEPTED_KINDS):
            rewards.record(Activity(id=f"k{n}", actor="ann", kind=kind, at=T0))
            stored = store.get_activity(f"k{n}")
            assert stored is not None
            assert stored.kind == kind
        for bad in REFUSED_KINDS:
            with pytest.raises(InvalidActivityError) as info:
                rewards.record({"actor": "ann", "kind": bad, "at": T0})
            assert info.value.field == "kind", bad
        assert store.count_activities() == len(ACCEPTED_KINDS)

    def test_hostile_attributes_stored_exactly(self, hostile: Rewards, store: Store) -> None:
        """Attributes within the limits come back with the same JSON text: types, signs, order.

        The corpus holds SQL and Redis commands, markup, bidirectional and
        zero-width characters, the largest and smallest 64-bit whole numbers,
        -0.0, the smallest and largest floats, nesting and size at the limit.
        """
        for n, attributes in enumerate(ACCEPTED_ATTRIBUTES):
            hostile.record(
                Activity(id=f"x{n}", actor="ann", kind="post.created", attributes=attributes)
            )
            stored = store.get_activity(f"x{n}")
            assert stored is not None
            assert _json(stored.attributes) == _json(attributes), n
        assert store.count_activities() == len(ACCEPTED_ATTRIBUTES)

    def test_attribute_tuples_become_lists(self, hostile: Rewards, store: Store) -> None:
        """Tuples in attributes are kept as lists: the stored activity equals the recorded one."""
        activity = Activity(
            id="t", actor="ann", kind="post.created", at=T0, attributes={"t": (1, (2,))}
        )
        assert activity.attributes == {"t": [1, [2]]}
        hostile.record(activity)
        assert store.get_activity("t") == activity

    def test_hostile_attributes_refused_nothing_written(
        self, hostile: Rewards, store: Store
    ) -> None:
        """Each refused attribute raises InvalidActivityError naming the part and the reason."""
        hostile.record(Activity(id="ok", actor="ann", kind="post.created", at=T0))
        before = self._written(store, hostile)
        for attributes, field, reason in refused_attributes():
            fields = {"actor": "ann", "kind": "post.created", "attributes": attributes}
            with pytest.raises(InvalidActivityError) as info:
                hostile.record(fields)
            assert info.value.field == field, (field, info.value)
            assert reason in info.value.reason, (reason, info.value)
        assert self._written(store, hostile) == before

    def test_hostile_numbers_and_times(self, store: Store) -> None:
        """Values and times within the limits are stored exactly; others are refused.

        A value of ±2**53 credited as points reaches the ledger and the balance
        exactly; an amount beyond ±2**53 is refused before anything is written.
        """
        rewards = Rewards(
            store,
            rules=[PointRule(id="v", kind="rated", actor_points=lambda a: a.value or 0)],
            leaderboards=[Leaderboard(id="b", metric=PointsMetric(), windows=("all", "week"))],
            clock=FrozenClock(T0),
        )
        for n, value in enumerate(ACCEPTED_VALUES):
            rewards.record(Activity(id=f"v{n}", actor=f"p{n}", kind="rated", value=value, at=T0))
            stored = store.get_activity(f"v{n}")
            assert stored is not None
            assert stored.value is not None
            assert (stored.value, math.copysign(1, stored.value)) == (
                value,
                math.copysign(1, value),
            )
            assert rewards.balance(f"p{n}") == round(value)
        assert [line.amount for line in store.ledger(f"p{ACCEPTED_VALUES.index(MAX_VALUE)}")] == [
            MAX_AMOUNT
        ]
        for n, at in enumerate(ACCEPTED_TIMES):
            rewards.record(Activity(id=f"t{n}", actor="ann", kind="rated", value=1, at=at))
            stored = store.get_activity(f"t{n}")
            assert stored is not None
            assert stored.at is not None
            assert (stored.at, stored.at.utcoffset()) == (at, at.utcoffset())
        # Plain data gives a time as ISO 8601 text with a UTC offset, kept with it.
        rewards.record(
            {"id": "iso", "actor": "ann", "kind": "rated", "at": "2026-03-02T09:00:00.5-03:30"}
        )
        iso = store.get_activity("iso")
        assert iso is not None
        assert iso.at is not None
        assert (iso.at, iso.at.utcoffset()) == (
            datetime(2026, 3, 2, 12, 30, 0, 500_000, tzinfo=UTC),
            -timedelta(hours=3, minutes=30),
        )
        before = (store.count_activities(), rewards.balance("ann"))
        for bad, reason in REFUSED_VALUES:
            with pytest.raises(InvalidActivityError) as info:
                rewards.record({"actor": "ann", "kind": "rated", "value": bad, "at": T0})
            assert (info.value.field, reason in info.value.reason) == ("value", True), bad
        for bad_at in REFUSED_TIMES:
            with pytest.raises(InvalidActivityError) as info:
                rewards.record({"actor": "ann", "kind": "rated", "value": 1, "at": bad_at})
            assert info.value.field == "at", bad_at
        too_much = Rewards(
            store, rules=[PointRule(id="x", kind="rated", actor_points=lambda a: MAX_AMOUNT + 1)]
        )
        with pytest.raises(ConfigurationError, match=r"2\*\*53"):
            too_much.record({"actor": "ann", "kind": "rated", "at": T0})
        assert (store.count_activities(), rewards.balance("ann")) == before

    def test_extreme_board_scores_are_finite(self, store: Store) -> None:
        """Leaderboard scores are finite on every store: sums, team shares and averages
        of values at ±2**53, and averages with the largest priors accepted (C * m up to
        the largest float), are stored and ranked alike in calendar and rolling windows.
        A prior whose C * m overflows a float (every score infinite) is refused with
        ConfigurationError naming prior_weight, before anything is recorded."""
        top = sys.float_info.max
        for weight, mean in ((1e308, 3.0), (2.0, -1e308), (top, 1.5), (1.5, top)):
            with pytest.raises(ConfigurationError, match="overflows a float") as info:
                AverageMetric(kind="rated", prior_mean=mean, prior_weight=weight)
            assert info.value.field == "prior_weight"
        priors = {"high": (1.0, top), "low": (1.0, -top), "heavy": (top, 1.0)}
        windows = ("all", "week", "3d")
        boards = [
            Leaderboard(id="sum", metric=SumMetric(kind="rated"), windows=windows),
            Leaderboard(
                id="share",
                metric=SumMetric(kind="rated"),
                scope=TeamsScope(divide_by_size=True),
                windows=windows,
            ),
            *(
                Leaderboard(
                    id=name,
                    metric=AverageMetric(kind="rated", prior_mean=mean, prior_weight=weight),
                    better="lower" if name == "low" else "higher",
                    windows=windows,
                )
                for name, (weight, mean) in priors.items()
            ),
        ]
        rewards = Rewards(
            store, kinds=["rated"], leaderboards=boards, clock=FrozenClock(T0 + timedelta(days=1))
        )
        values: dict[str, list[float]] = {
            "ann": [MAX_VALUE, MAX_VALUE],
            "bob": [-MAX_VALUE],
            "cy": [5e-324, 1 / 3],
        }
        rewards.record_many(
            [
                Activity(
                    id=f"{user}{n}",
                    actor=user,
                    kind="rated",
                    value=value,
                    teams=(user,),
                    at=T0 + timedelta(days=n, hours=1),
                )
                for user, found in values.items()
                for n, value in enumerate(found)
            ]
        )
        totals = {user: sum(reversed(found)) for user, found in values.items()}
        expected = {
            "sum": totals,
            "share": totals,
            **{
                name: {
                    user: (weight * mean + totals[user]) / (weight + len(values[user]))
                    for user in values
                }
                for name, (weight, mean) in priors.items()
            },
        }
        for board in boards:
            view = rewards.leaderboard(board.id)
            for window in ("all", "week", "3d"):
                scores = {e.user: e.score for e in view.top(10, window=window)}
                assert scores == expected[board.id], (board.id, window)
                assert all(math.isfinite(score) for score in scores.values())
                assert view.score("ann", window=window) == expected[board.id]["ann"]

    def test_activity_copies_validated(self, hostile: Rewards, store: Store) -> None:
        """``model_copy(update=...)`` validates: a refused value names its field (the copy
        is never made, so no store sees it); a valid copy is stored exactly.

        pydantic's own ``model_copy`` skips validation, so without this each store
        would do what its database does with the value.
        """
        base = Activity(id="c", actor="ann", kind="post.created", at=T0)
        for update, field in COPY_UPDATES:
            with pytest.raises(InvalidActivityError) as info:
                base.model_copy(update=update)
            assert info.value.field == field, update
        copy = base.model_copy(update={"actor": "bob", "attributes": {"t": (1, "\u202e")}})
        hostile.record(copy)
        assert store.get_activity("c") == copy
        assert copy.attributes == {"t": [1, "\u202e"]}

    def test_clock_times_held_to_at_limits(self, store: Store) -> None:
        """An activity without ``at`` takes the clock's now, held to the limits of ``at``.

        Times within the limits are stored exactly (offset included); a clock
        whose now() is outside them (or naive, or with a sub-second offset)
        raises ConfigurationError naming the clock, and nothing is written.
        """
        clock = _SettableClock()
        rewards = Rewards(store, rules=RULES, clock=clock)
        for n, at in enumerate(ACCEPTED_TIMES):
            clock.at = at
            rewards.record({"id": f"t{n}", "actor": "ann", "kind": "post.created"})
            stored = store.get_activity(f"t{n}")
            assert stored is not None
            assert stored.at is not None
            assert (stored.at, stored.at.utcoffset()) == (at, at.utcoffset())
        before = (store.count_activities(), rewards.balance("ann"))
        for bad in REFUSED_TIMES:
            clock.at = bad
            with pytest.raises(ConfigurationError) as info:
                rewards.record_many(
                    [
                        {"id": "given", "actor": "ann", "kind": "post.created", "at": T0},
                        {"id": "now", "actor": "ann", "kind": "post.created"},
                    ]
                )
            assert (info.value.subject, info.value.field) == ("Rewards", "clock"), bad
        assert (store.count_activities(), rewards.balance("ann")) == before

    def test_membership_times_held_to_at_limits(self, hostile: Rewards, store: Store) -> None:
        """Team membership times are held to the limits of ``Activity.at``.

        Times within them are stored and returned exactly (offset included), so
        an activity is credited to the same teams on every store; others raise
        InvalidPersonError naming ``joined``, ``left`` or ``at``, and nothing is
        written.
        """
        people = hostile.people
        for n, at in enumerate(ACCEPTED_TIMES):
            people.set(f"p{n}", teams=[Membership("red", joined=at)])
            assert people.get(f"p{n}").memberships == (Membership("red", joined=at),)
            [stored] = people.get(f"p{n}").memberships
            assert stored.joined is not None
            assert stored.joined.utcoffset() == at.utcoffset(), at
        people.join_team("ann", "red", at=T0)
        before = people.get("ann")
        for bad in REFUSED_TIMES:
            for membership, field in (
                (Membership("blue", joined=bad), "joined"),  # type: ignore[arg-type]
                (Membership("blue", joined=None, left=bad), "left"),  # type: ignore[arg-type]
            ):
                with pytest.raises(InvalidPersonError) as info:
                    people.set("ann", teams=[membership])
                assert info.value.field == field, bad
            with pytest.raises(InvalidPersonError) as info:
                people.join_team("ann", "blue", at=bad)  # type: ignore[arg-type]
            assert info.value.field == "at", bad
            with pytest.raises(InvalidPersonError) as info:
                people.leave_team("ann", "red", at=bad)  # type: ignore[arg-type]
            assert info.value.field == "at", bad
        assert people.get("ann") == before
        hostile.record(Activity(id="m", actor="ann", kind="post.created", at=T0 + US))
        stored_activity = store.get_activity("m")
        assert stored_activity is not None
        assert stored_activity.teams == ("red",)

    def test_hostile_queries(self, hostile: Rewards, store: Store) -> None:
        """Queries naming hostile identifiers find nothing; invalid ones raise InvalidQueryError."""
        hostile.record(Activity(id="ok", actor="ann", kind="post.created", at=T0))
        before = self._written(store, hostile)
        board = hostile.leaderboard("points")
        for x in accepted_identifiers(getattr(store, "table_prefix", "e2b_")):
            assert hostile.balance(x) == 0
            assert hostile.balance("ann", x) == 0
            assert hostile.explain(x) == []
            assert hostile.activity(x) is None
            assert hostile.outcome(x) is None
            assert hostile.awards(x) == []
            assert hostile.level(x) == 0
            assert hostile.profile(x).user == x
            assert board.rank(x) is None
            assert hostile.feed(scope=f"team:{x}") == []
            assert hostile.leaderboard_opt_out(x) is False
            assert store.read_state([x]) == {}
        queries: list[tuple[str, Callable[..., object]]] = [
            ("user", hostile.balance),
            ("currency", lambda v: hostile.balance("ann", v)),
            ("user", hostile.explain),
            ("activity_id", hostile.activity),
            ("activity_id", hostile.outcome),
            ("user", hostile.awards),
            ("user", hostile.badges),
            ("user", hostile.level),
            ("user", hostile.profile),
            ("user", board.rank),
            ("viewer", lambda v: board.top(3, viewer=v)),
            ("board", hostile.leaderboard),
            ("scope", lambda v: hostile.feed(scope=f"team:{v!s}")),
            ("viewer", lambda v: hostile.feed(viewer=v)),
            ("user", hostile.set_leaderboard_opt_out),
        ]
        for value, _reason in refused_identifiers():
            for field, query in queries:
                if field == "scope" and not isinstance(value, str):
                    continue
                with pytest.raises(InvalidQueryError) as info:
                    query(value)
                assert info.value.field == field, (field, value)
        assert self._written(store, hostile) == before

    def test_periods_beyond_the_calendar(self, store: Store) -> None:
        """A period that cannot hold an activity (outside 1899-12-31 to 3000-01-01, the local
        days of the ``at`` limits) is refused with InvalidQueryError naming ``period`` (or
        ``week``), down to the ends of Python's calendar; periods at the limits are answered.
        """
        rewards = Rewards(
            store,
            rules=RULES,
            leaderboards=[Leaderboard(id="p", metric=PointsMetric(), windows=("week", "7d"))],
            clock=FrozenClock(T0),
        )
        rewards.record(Activity(id="ok", actor="ann", kind="post.created", at=T0))
        before = self._written(store, rewards)
        board = rewards.leaderboard("p")
        east, west = timezone(timedelta(hours=5)), timezone(timedelta(hours=-5))
        far: list[tuple[str, Callable[[], object]]] = [
            ("period", lambda: board.rank("ann", window="7d", period=date(1, 1, 1))),
            ("period", lambda: board.top(10, window="7d", period="0001-01-03")),
            ("period", lambda: board.top(10, window="7d", period=date(1899, 12, 30))),
            (
                "period",
                lambda: board.score("ann", window="week", period=datetime(1, 1, 1, tzinfo=east)),
            ),
            (
                "period",
                lambda: board.size(window="week", period=datetime(9999, 12, 31, 23, tzinfo=west)),
            ),
            ("period", lambda: board.size(window="week", period="3000-W02")),
            ("period", lambda: rewards.adoption(window="week", period=date(1, 1, 1))),
            ("period", lambda: rewards.adoption(window="month", period=date(9999, 12, 31))),
            ("period", lambda: rewards.adoption(window="year", period="9999")),
            ("period", lambda: rewards.adoption(window="day", period="0001-01-01")),
            ("period", lambda: rewards.adoption(window="year", period="1898")),
            ("week", lambda: rewards.newcomers(week=date(1, 1, 1))),
            ("week", lambda: rewards.newcomers(week=date(9999, 12, 31))),
        ]
        for field, query in far:
            with pytest.raises(InvalidQueryError) as info:
                query()
            assert info.value.field == field
            assert "outside the dates activities can have" in info.value.reason
        for day in (date(1899, 12, 31), date(3000, 1, 1)):
            assert board.top(10, window="7d", period=day) == []
            assert board.rank("ann", window="week", period=day) is None
            assert rewards.adoption(window="year", period=day).active == 0
            assert rewards.newcomers(week=day) == []
        assert board.size(window="7d", period="3000-01-07") == 0
        assert self._written(store, rewards) == before

    def test_revoke_period_checked_against_the_badge(self, store: Store) -> None:
        """A revocation's period must be a label of the badge's ``repeat`` window, in the
        form its awards hold; a period on a badge that does not repeat is refused.  Either
        way InvalidActivityError names ``attributes.period`` and nothing is written.
        """
        rewards = Rewards(
            store,
            rules=RULES,
            badges=[
                Badge(id="weekly", criterion=criteria.Manual(), repeat="week"),
                Badge(id="once", criterion=criteria.Manual()),
            ],
            clock=FrozenClock(T0),
        )
        rewards.grant("ann", "weekly", by="lead", reason="good week", at=T0)
        rewards.grant("ann", "once", by="lead", reason="well done", at=T0)
        before = self._written(store, rewards), len(rewards.awards("ann"))
        refused: list[tuple[str, object, str]] = [
            ("weekly", "junk", "repeats every week"),
            ("weekly", "2026-w10", "repeats every week"),
            ("weekly", "2026-10", "repeats every week"),
            ("weekly", "2026-W10\n", "repeats every week"),
            ("weekly", 10, "not int"),
            ("weekly", "", "repeats every week"),
            ("once", "2026-W10", "does not repeat"),
        ]
        for badge, period, reason in refused:
            with pytest.raises(InvalidActivityError) as info:
                rewards.revoke("ann", badge, by="mod", reason="x", period=period)  # type: ignore[arg-type]
            assert info.value.field == "attributes.period"
            assert reason in info.value.reason
        assert (self._written(store, rewards), len(rewards.awards("ann"))) == before
        week = rewards.awards("ann")[0].award.period
        assert week == "2026-W10"
        outcome = rewards.revoke("ann", "weekly", by="mod", reason="x", period=week)
        assert [r.period for r in outcome.revocations] == [week]

    def test_grant_reason_stored_exactly(self, hostile: Rewards, store: Store) -> None:
        """A grant's and a revocation's grantor and reason are stored exactly."""
        by = "'; DELETE FROM e2b_awards; --"
        hostile.grant("ann", "helper", by=by, reason=REDIS_COMMAND + "<i>thanks</i>")
        hostile.revoke("ann", "helper", by=by, reason="\u202eoops\u202c \\ %s ?")
        [record] = hostile.awards("ann")
        assert record.revocation is not None
        assert (record.revocation.by, record.revocation.reason) == (by, "\u202eoops\u202c \\ %s ?")
        grant = store.get_activity(record.award.activity_id)
        assert grant is not None
        assert grant.actor == by
        assert grant.attributes["reason"] == REDIS_COMMAND + "<i>thanks</i>"

    def test_story_text_is_data(self, hostile: Rewards, store: Store) -> None:
        """Story text and data hold names and ids verbatim: never escaped, never markup."""
        user = "<script>alert(1)</script>"
        hostile.record(Activity(id="s", actor=user, kind="post.created", at=T0))
        [story] = store.feed(limit=10)
        assert story.people == (user,)
        assert story.text == f"{user} earned {BADGE_NAME}"
        assert "&lt;" not in story.text
        assert story.data["name"] == BADGE_NAME
        assert hostile.feed() == [story]

    def test_store_intact_after_hostile_corpus(
        self, hostile: Rewards, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """After the whole corpus, earlier data is intact and the store still records."""
        hostile.record(Activity(id="before", actor="ann", kind="post.created", at=T0))
        prefix = getattr(store, "table_prefix", "e2b_")
        corpus = accepted_identifiers(prefix)
        hostile.record_many(
            [Activity(id=x, actor=x, kind="post.created", teams=(x,), at=T0) for x in corpus]
        )
        for value, _ in refused_identifiers():
            for fields, _name in _identifier_fields(value):
                with pytest.raises(InvalidActivityError):
                    hostile.record(fields)
        for attributes, _field, _reason in refused_attributes():
            with pytest.raises(InvalidActivityError):
                hostile.record({"actor": "ann", "kind": "post.created", "attributes": attributes})
        again = Rewards(make_store(), rules=RULES, clock=FrozenClock(T0))
        assert again.store.count_activities() == len(corpus) + 1
        assert again.balance("ann") == 1
        assert again.activity("before") == store.get_activity("before")
        again.record(Activity(id="after", actor="ann", kind="post.created", at=T0))
        assert again.balance("ann") == 2
        assert [a.id for a in again.store.iter_activities()] == ["before", *corpus, "after"]
