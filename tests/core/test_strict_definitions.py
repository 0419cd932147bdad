"""Definition fields take each option as the type it is: nothing is converted.

pydantic's lax mode would take 1 or "yes" for a bool, "5", 5.0 or True for a whole
number, a number of seconds for a duration, and bytes for a string; every definition
refuses them with ConfigurationError naming the field, as PointRule.actor_points,
Level.threshold and DeliveryPolicy do (a duration may be a timedelta or an ISO 8601
duration such as "PT10M").
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from e2badges import (
    ActivityKind,
    AverageMetric,
    Badge,
    Cap,
    ConfigurationError,
    CountMetric,
    Leaderboard,
    Level,
    PluginMetric,
    PointRule,
    PointsMetric,
    StoryOptions,
    SumMetric,
    TeamScope,
    TeamsScope,
    Tier,
    criteria,
)

RULE = {"id": "p", "kind": "a.b", "actor_points": 1}
BADGE = {"id": "b", "criterion": criteria.Count(kind="a.b"), "threshold": 3}
BOARD = {"id": "board", "metric": PointsMetric()}
AVERAGE = {"kind": "a.b", "prior_mean": 3.0, "prior_weight": 2.0}
BOOL = "must be True or False"
WHOLE = "must be a whole number"
NUMBER = "must be a number"
TEXT = "must be a string, not bytes"
DURATION = "must be a timedelta"

CASES: list[tuple[type[Any], dict[str, Any], str, Any, str]] = [
    # PointRule and Cap
    (PointRule, RULE, "self_credit", "yes", BOOL),
    (PointRule, RULE, "self_credit", 1, BOOL),
    (PointRule, RULE, "once_per_object", 1, BOOL),
    (PointRule, RULE, "once_per_object", "no", BOOL),
    (PointRule, RULE, "cooldown", 3600, DURATION),
    (PointRule, RULE, "cooldown", 1.5, DURATION),
    (PointRule, RULE, "cooldown", "3600", DURATION),
    (PointRule, RULE, "cooldown", "1:00:00", DURATION),
    (PointRule, RULE, "cooldown", "PT1X", "is not an ISO 8601 duration"),
    (PointRule, RULE, "first_time_bonus", "5", WHOLE),
    (PointRule, RULE, "first_time_bonus", 5.0, WHOLE),
    (PointRule, RULE, "first_time_bonus", True, WHOLE),
    (PointRule, RULE, "id", b"p", TEXT),
    (PointRule, RULE, "kind", b"a.b", TEXT),
    (PointRule, RULE, "currency", b"karma", TEXT),
    (PointRule, RULE, "description", b"x", TEXT),
    (Cap, {}, "amount", "5", WHOLE),
    (Cap, {}, "amount", 5.0, WHOLE),
    (Cap, {}, "amount", True, WHOLE),
    (Cap, {"amount": 5}, "window", b"day", TEXT),
    (Cap, {"amount": 5}, "name", b"rep", TEXT),
    # Badges, tiers and criteria
    (Badge, BADGE, "threshold", "3", NUMBER),
    (Badge, BADGE, "threshold", True, NUMBER),
    (Badge, BADGE, "secret", "yes", BOOL),
    (Badge, BADGE, "secret", 0, BOOL),
    (Badge, BADGE, "id", b"b", TEXT),
    (Badge, BADGE, "name", b"B", TEXT),
    (Badge, BADGE, "image", b"https://x", TEXT),
    (Tier, {"id": "t"}, "threshold", "1", NUMBER),
    (Tier, {"id": "t"}, "threshold", True, NUMBER),
    (Tier, {"threshold": 1}, "id", b"t", TEXT),
    (criteria.Count, {}, "kind", b"a.b", "must be an activity kind or a list of them"),
    (criteria.Count, {}, "kind", (b"a.b",), "must be a string, not bytes"),
    (criteria.Rolling, {"kind": "a.b"}, "days", "7", WHOLE),
    (criteria.Rolling, {"kind": "a.b"}, "days", 7.0, WHOLE),
    (criteria.Streak, {"kind": "a.b"}, "grace", True, WHOLE),
    (criteria.Streak, {"kind": "a.b"}, "grace", "1", WHOLE),
    (criteria.Points, {}, "currency", b"points", TEXT),
    (criteria.Plugin, {"options": {}}, "name", b"x", TEXT),
    # Levels
    (Level, {"id": "l", "threshold": 10}, "currency", b"points", TEXT),
    (Level, {"threshold": 10}, "id", b"l", TEXT),
    # Leaderboards: metrics, scopes and boards
    (CountMetric, {"kind": "a.b"}, "self_credit", "yes", BOOL),
    (SumMetric, {"kind": "a.b"}, "self_credit", 1, BOOL),
    (SumMetric, {}, "kind", b"a.b", TEXT),
    (AverageMetric, {"kind": "a.b"}, "min_count", "3", WHOLE),
    (AverageMetric, {"kind": "a.b"}, "min_count", 3.0, WHOLE),
    (AverageMetric, AVERAGE, "prior_mean", "3.5", NUMBER),
    (AverageMetric, AVERAGE, "prior_mean", True, NUMBER),
    (AverageMetric, AVERAGE, "prior_weight", "2", NUMBER),
    (AverageMetric, AVERAGE, "prior_weight", True, NUMBER),
    (PointsMetric, {}, "currency", b"points", TEXT),
    (TeamScope, {}, "team", b"red", TEXT),
    (TeamsScope, {}, "divide_by_size", "yes", BOOL),
    (TeamsScope, {}, "divide_by_size", 1, BOOL),
    (Leaderboard, BOARD, "id", b"board", TEXT),
    (Leaderboard, BOARD, "description", b"x", TEXT),
    # Stories and declared kinds
    (StoryOptions, {}, "team_milestones", "no", BOOL),
    (StoryOptions, {}, "team_milestones", 0, BOOL),
    (ActivityKind, {}, "name", b"a.b", TEXT),
]


@pytest.mark.parametrize(
    ("model", "base", "field", "value", "reason"),
    CASES,
    ids=[f"{m.__name__}.{f}={v!r}" for m, _, f, v, _ in CASES],
)
def test_wrong_type_refused(
    model: type[Any], base: dict[str, Any], field: str, value: Any, reason: str
) -> None:
    """A value of the wrong type is refused naming the field, never converted."""
    with pytest.raises(ConfigurationError) as info:
        model(**{**base, field: value})
    assert info.value.field == field
    assert info.value.reason.startswith(reason), info.value.reason


@pytest.mark.parametrize(
    ("model", "data", "field", "reason"),
    [
        (TeamsScope, {"divide_by_size": True, "team_sizes": {"red": "5"}}, "team_sizes.red", WHOLE),
        (
            TeamsScope,
            {"divide_by_size": True, "team_sizes": {"red": True}},
            "team_sizes.red",
            WHOLE,
        ),
        (StoryOptions, {"milestone_counts": [100, 1000.0]}, "milestone_counts.1", WHOLE),
        (StoryOptions, {"leaders": [b"board"]}, "leaders.0", TEXT),
        (StoryOptions, {"milestones": ["a.b", b"c.d"]}, "milestones.1", TEXT),
        (Leaderboard, {**BOARD, "windows": ["all", b"week"]}, "windows.1", TEXT),
        (Leaderboard, {**BOARD, "exclude_groups": [b"managers"]}, "exclude_groups.0", TEXT),
        (Level, {"id": "l", "threshold": 1, "badges": [b"b"]}, "badges.0", TEXT),
        (criteria.AllOf, {"badges": ["a", b"b"]}, "badges.1", TEXT),
        (PointRule, {**RULE, "caps": [{"amount": "5"}]}, "caps.0.amount", WHOLE),
    ],
)
def test_wrong_type_in_a_collection_refused(
    model: type[Any], data: dict[str, Any], field: str, reason: str
) -> None:
    """An item of a list or a mapping of the wrong type is refused naming its place."""
    with pytest.raises(ConfigurationError) as info:
        model(**data)
    assert info.value.field == field
    assert info.value.reason.startswith(reason), info.value.reason


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"metric": {"type": "count", "kind": "1x"}}, "metric.kind", "'1x' is not a dotted name"),
        (
            {"metric": {"type": "average", "kind": "x", "min_count": 0}},
            "metric.min_count",
            "Input should be greater than or equal to 1",
        ),
        ({"metric": {"type": "points", "currency": ""}}, "metric.currency", "must not be empty"),
        (
            {"scope": {"type": "teams", "divide_by_size": True, "team_sizes": {"a": 0}}},
            "scope.team_sizes.a",
            "Input should be greater than or equal to 1",
        ),
        ({"windows": ["0d"]}, "windows", "unknown window '0d'"),
    ],
)
def test_nested_definition_error_names_the_field(
    data: dict[str, Any], field: str, reason: str
) -> None:
    """A bad field of a board's metric or scope, given as plain data, is named by its
    path (``metric.kind``), not by the union's tag (``metric.count``), and its reason is
    given once."""
    with pytest.raises(ConfigurationError) as info:
        Leaderboard.model_validate({"id": "b", "metric": {"type": "points"}, **data})
    assert info.value.field == field
    assert info.value.reason.startswith(reason), info.value.reason
    assert str(info.value) == f"Leaderboard 'b': {field}: {info.value.reason}"


def test_right_types_kept() -> None:
    """Values of the right type are taken as they are; lists become tuples, and an int
    is a float where a float is asked for (an average's prior)."""
    rule = PointRule(
        **RULE,
        self_credit=True,
        once_per_object=True,
        cooldown=timedelta(hours=1),
        first_time_bonus=5,
        caps=[Cap(amount=5)],
    )
    assert (rule.self_credit, rule.cooldown, rule.first_time_bonus) == (
        True,
        timedelta(hours=1),
        5,
    )
    assert Badge(**{**BADGE, "threshold": 3, "secret": True}).threshold == 3
    assert Badge(id="s", criterion=criteria.Sum(kind="a.b"), threshold=2.5).threshold == 2.5
    metric = AverageMetric(kind="a.b", prior_mean=3, prior_weight=2)
    assert (metric.prior_mean, metric.prior_weight) == (3.0, 2.0)
    assert criteria.Count(kind=["a.b", "c.d"]).kind == ("a.b", "c.d")
    options = StoryOptions(milestone_counts=[10, 20], team_milestones=False)
    assert options.milestone_counts == (10, 20)


def test_durations_from_json() -> None:
    """JSON holds no duration: a cooldown is read from an ISO 8601 duration, as
    model_dump_json writes it (so a rule written to JSON loads again), never from a
    number of seconds, which could be mistaken for minutes."""
    rule = PointRule(**RULE, cooldown=timedelta(minutes=90))
    text = rule.model_dump_json()
    assert '"cooldown":"PT1H30M"' in text
    assert PointRule.model_validate_json(text) == rule
    assert PointRule.model_validate({**RULE, "cooldown": "P1D"}).cooldown == timedelta(days=1)
    for cooldown in ("3600", "3600.0", '"3600"'):
        text = f'{{"id": "p", "kind": "a.b", "actor_points": 1, "cooldown": {cooldown}}}'
        with pytest.raises(ConfigurationError) as info:
            PointRule.model_validate_json(text)
        assert (info.value.field, info.value.reason.startswith(DURATION)) == ("cooldown", True)


def test_subject_named_once() -> None:
    """A definition without an id is named by its type alone (not "Cap 'Cap'")."""
    with pytest.raises(ConfigurationError) as info:
        Cap(amount="5")
    assert str(info.value) == "Cap: amount: must be a whole number, got '5'"


class TestNoSets:
    """A set has no order (its iteration order is the hash order of its strings, which
    changes with PYTHONHASHSEED), so a definition refuses one where it takes a list or
    tuple: the same definition gives the same results in every process."""

    @pytest.mark.parametrize(
        ("make", "field"),
        [
            (lambda: Leaderboard(id="b", metric=PointsMetric(), windows={"day", "all"}), "windows"),
            (
                lambda: Leaderboard(id="b", metric=PointsMetric(), exclude_groups=frozenset({"m"})),
                "exclude_groups",
            ),
            (lambda: Leaderboard(id="b", metric={"type": "count", "kind": {"a.b"}}), "metric.kind"),
            (
                lambda: Badge(id="x", criterion={"type": "all_of", "badges": {"a"}}),
                "criterion.badges",
            ),
            (lambda: Level(id="l", threshold=1, badges={"a", "b"}), "badges"),
            (lambda: PointRule(id="r", kind="a.b", actor_points=1, caps={Cap(amount=1)}), "caps"),
            (lambda: StoryOptions(milestone_counts={100, 1000}), "milestone_counts"),
            (lambda: criteria.Plugin(name="p", options={"kinds": {"a.b"}}), "options.kinds"),
            (
                lambda: Badge(
                    id="x",
                    threshold=1,
                    criterion={"type": "plugin", "name": "p", "options": {"a": {"b": {1}}}},
                ),
                "criterion.options.a.b",
            ),
            (lambda: PluginMetric(name="p", options={"k": [1, frozenset({2})]}), "options.k[1]"),
            (
                lambda: Leaderboard(
                    id="b",
                    metric={"type": "plugin", "name": "p", "options": {"k": ({"a"},)}},
                ),
                "metric.options.k[0]",
            ),
        ],
    )
    def test_set_refused(self, make: Any, field: str) -> None:
        """A set where a list or tuple is expected raises ConfigurationError naming the field."""
        with pytest.raises(ConfigurationError) as caught:
            make()
        assert (caught.value.field, caught.value.reason) == (
            field,
            "a set has no order: give a list or tuple",
        )

    def test_plugin_options_read_only(self) -> None:
        """A plugin criterion's or metric's options are a read-only copy of the mapping
        given (a tuple in them becomes a list): equal to a plain dict, serialised as
        one, read back from JSON or a pickle alike, and refusing a change in place."""
        given: dict[str, Any] = {"kinds": ("a.b",), "at_least": {"n": [1]}}
        plain = {"kinds": ["a.b"], "at_least": {"n": [1]}}
        badge = Badge(id="x", threshold=1, criterion=criteria.Plugin(name="p", options=given))
        board = Leaderboard(id="b", metric=PluginMetric(name="p", options=given))
        given["at_least"]["n"].append(2)
        changes: list[Callable[[Any], object]] = [
            lambda options: options["at_least"]["n"].append(2),
            lambda options: options["kinds"].insert(0, "c.d"),
            lambda options: options.update(kinds=[]),
        ]
        for definition, field in ((badge, "criterion"), (board, "metric")):
            options = getattr(definition, field).options
            assert isinstance(options, dict)
            assert options == plain
            assert definition.model_dump()[field]["options"] == plain
            assert type(definition).model_validate_json(definition.model_dump_json()) == definition
            assert pickle.loads(pickle.dumps(definition)) == definition
            for change in changes:
                with pytest.raises(TypeError, match="read-only"):
                    change(options)
            assert options == plain
        assert criteria.Plugin(name="p").options == {}

    def test_plugin_options_nested_too_deep_refused(self) -> None:
        """Plugin options nested deeper than 64 levels of lists and dicts (the options
        the first), or containing themselves, raise ConfigurationError naming the
        option, not a RecursionError; 64 levels are kept."""
        deep: Any = 1
        for _ in range(63):
            deep = [deep]
        assert criteria.Plugin(name="p", options={"d": deep}).options == {"d": deep}
        looped: list[Any] = []
        looped.append(looped)
        for options in ({"d": [deep]}, {"d": looped}):
            with pytest.raises(ConfigurationError) as caught:
                criteria.Plugin(name="p", options=options)
            assert caught.value.field.startswith("options.d[0]")
            assert caught.value.reason == "is nested deeper than 64 levels of lists and dicts"

    def test_team_sizes_read_only(self) -> None:
        """A teams board's team_sizes cannot be changed in place once the scope is made
        (the compiled board reads them): a change after Rewards was built would change
        the scores."""
        sizes = {"red": 2}
        scope = TeamsScope(divide_by_size=True, team_sizes=sizes)
        sizes["red"] = 5
        assert scope.team_sizes == {"red": 2}
        with pytest.raises(TypeError):
            scope.team_sizes["red"] = 5  # type: ignore[index]
