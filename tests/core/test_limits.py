"""Input limits beyond Activity's own fields: definitions, amounts, labels, documented values.

The store-facing corpus is in e2badges.testing._hostile_conformance (run over every
store); these are the checks that need no store.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import e2badges
from e2badges import (
    Activity,
    Badge,
    ConfigurationError,
    FrozenClock,
    InvalidQueryError,
    Leaderboard,
    Level,
    PointRule,
    PointsMetric,
    Rewards,
    Tier,
    criteria,
)
from e2badges._limits import MAX_AMOUNT, MAX_DESCRIPTION_LENGTH, MAX_NAME_LENGTH

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DOCS = Path(__file__).parents[2] / "docs"


class TestIdentifierCharacters:
    @pytest.mark.parametrize(
        "value",
        ["👨\u200d👩\u200d👧", "a\u200cb", " a b ", "\ufeff", "\U000f0000", "x\u0301", "\u00a0"],
        ids=ascii,
    )
    def test_accepted(self, value: str) -> None:
        """Joiners, spaces, BOM, private-use and combining characters are kept as given."""
        assert Activity(actor=value, kind="k").actor == value

    @pytest.mark.parametrize(
        ("value", "what"),
        [
            ("a\u2029b", "line separator character U+2029"),
            ("a\u202ab", "bidirectional formatting character U+202A"),
            ("a\u2069", "bidirectional formatting character U+2069"),
            ("a\x85", "control character U+0085"),
            ("a\udc80", "surrogate character U+DC80"),
        ],
        ids=ascii,
    )
    def test_refused_by_code_point(self, value: str, what: str) -> None:
        """A refused character is named by its code point; the message holds no raw character."""
        with pytest.raises(e2badges.InvalidActivityError) as info:
            Activity(actor=value, kind="k")
        assert what in info.value.reason
        assert str(info.value).isascii()

    def test_str_subclass_kept_as_plain_str(self) -> None:
        """Attribute strings of a str subclass are kept as the plain string, not its __str__."""

        class Sneaky(str):
            def __str__(self) -> str:
                return "something else"

        class Stars(enum.IntEnum):
            FIVE = 5

        activity = Activity(actor="a", kind="k", attributes={"s": Sneaky("ok"), "n": Stars.FIVE})
        assert activity.attributes == {"s": "ok", "n": 5}
        assert [type(v) for v in activity.attributes.values()] == [str, int]


MANUAL = criteria.Manual()
LONG_NAME = "n" * (MAX_NAME_LENGTH + 1)
LONG_TEXT = "d" * (MAX_DESCRIPTION_LENGTH + 1)
TOO_MUCH = MAX_AMOUNT + 1
BOARD = {"id": "b", "metric": PointsMetric()}
RULE = {"id": "r", "kind": "k"}


class TestDefinitions:
    @pytest.mark.parametrize(
        ("build", "field"),
        [
            (lambda: Badge(id="b", name="two\nlines", criterion=MANUAL), "name"),
            (lambda: Badge(id="b", name=LONG_NAME, criterion=MANUAL), "name"),
            (lambda: Badge(id="b", description="nul\x00", criterion=MANUAL), "description"),
            (lambda: Badge(id="b", image="\x1b]8;;", criterion=MANUAL), "image"),
            (lambda: Tier(id="t", threshold=1, name="\u202eevil"), "name"),
            (lambda: Level(id="l", threshold=1, description=LONG_TEXT), "description"),
            (lambda: Leaderboard(**BOARD, description="\x00"), "description"),
            (lambda: PointRule(**RULE, actor_points=1, description="\ud800"), "description"),
            (lambda: PointRule(**RULE, actor_points=TOO_MUCH), "actor_points"),
            (lambda: PointRule(**RULE, recipient_points=-TOO_MUCH), "recipient_points"),
            (
                lambda: PointRule(**RULE, actor_points=1, first_time_bonus=TOO_MUCH),
                "first_time_bonus",
            ),
            (lambda: Leaderboard(**BOARD, windows=("7d\n",)), "windows"),
            (lambda: Leaderboard(**BOARD, windows=("\u0667d",)), "windows"),
        ],
    )
    def test_refused(self, build: Any, field: str) -> None:
        """Names, descriptions, amounts and windows beyond the limits raise ConfigurationError."""
        with pytest.raises(ConfigurationError) as info:
            build()
        assert info.value.field == field

    def test_multiline_description_and_amount_at_limit(self) -> None:
        """Descriptions may hold tabs and line breaks; an amount of exactly 2**53 is accepted."""
        badge = Badge(id="b", description="one\n\ttwo\r\n", criterion=criteria.Manual())
        rule = PointRule(id="r", kind="k", actor_points=MAX_AMOUNT, recipient_points=-MAX_AMOUNT)
        assert (badge.description, rule.actor_points) == ("one\n\ttwo\r\n", MAX_AMOUNT)


class TestPeriodLabels:
    @pytest.mark.parametrize(
        ("window", "period"),
        [
            ("day", "2026-03-02\n"),
            ("day", "٢٠٢٦-03-02"),
            ("week", "2026-W10\n"),
            ("month", "2026-03\n"),
            ("quarter", "2026-Q1\n"),
            ("year", "2026\n"),
            ("year", "٢٠٢٦"),
        ],
        ids=ascii,
    )
    def test_label_with_trailing_newline_or_foreign_digits_refused(
        self, window: str, period: str
    ) -> None:
        """A period label matches as a whole, in ASCII digits: a trailing newline is refused."""
        board = Leaderboard(
            id="b", metric=PointsMetric(), windows=("day", "week", "month", "quarter", "year")
        )
        rule = PointRule(id="r", kind="k", actor_points=1)
        rewards = Rewards(rules=[rule], leaderboards=[board], clock=FrozenClock(T0))
        with pytest.raises(InvalidQueryError) as info:
            rewards.leaderboard("b").top(3, window=window, period=period)
        assert info.value.field == "period"


class TestQueryArguments:
    @pytest.fixture
    def rewards(self) -> Rewards:
        board = Leaderboard(id="b", metric=PointsMetric())
        rule = PointRule(id="r", kind="k", actor_points=1)
        return Rewards(rules=[rule], leaderboards=[board], clock=FrozenClock(T0))

    def test_window_of_wrong_type(self, rewards: Rewards) -> None:
        """A window that is not a string is refused with an error naming ``window``."""
        with pytest.raises(InvalidQueryError) as query:
            rewards.leaderboard("b").top(3, window=["all"])  # type: ignore[arg-type]
        with pytest.raises(InvalidQueryError) as adoption:
            rewards.adoption(window=["month"])  # type: ignore[arg-type]
        assert (query.value.field, adoption.value.field) == ("window", "window")

    @pytest.mark.parametrize("limit", ["3", 2.5, True, -1])
    def test_explain_limit(self, rewards: Rewards, limit: Any) -> None:
        """explain() takes a whole number limit, 0 or more, like every query count."""
        with pytest.raises(InvalidQueryError) as info:
            rewards.explain("ann", limit=limit)
        assert info.value.field == "limit"


class TestDocumented:
    def test_api_table_matches_constants(self) -> None:
        """The limits table of the API reference states the exported values."""
        rows = re.findall(r"^\| `(MAX_\w+)` \| ([^|]+) \|", (DOCS / "api.md").read_text(), re.M)
        stated = {name: _number(value.strip()) for name, value in rows}
        assert stated == {name: getattr(e2badges, name) for name in stated}
        assert sorted(stated) == sorted(n for n in e2badges.__all__ if n.startswith("MAX_"))


def _number(text: str) -> int:
    """Return ``"16384"`` or ``"2**53"`` as a number."""
    base, _, exponent = text.partition("**")
    return int(base) ** int(exponent) if exponent else int(base)
