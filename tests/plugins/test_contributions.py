"""Contribution hooks: point rules, activity kinds, criterion kinds and metrics."""

from __future__ import annotations

from typing import Any

import pytest
from plugin_helpers import RULES, act, rewards_with
from pydantic import BaseModel

from e2badges import (
    ActivityKind,
    ConfigurationError,
    InvalidActivityError,
    PluginError,
    PointRule,
    Rewards,
    UnknownKindError,
    hookimpl,
)
from e2badges.hookspecs import RegisterCriterion, RegisterKind, RegisterMetric, RegisterRule


class Rules:
    """A plugin contributing the point rules it is given."""

    def __init__(self, name: str, *rules: PointRule) -> None:
        self.name = name
        self.rules = rules

    @hookimpl
    def e2badges_add_point_rules(self, register: RegisterRule) -> None:
        for rule in self.rules:
            register(rule)


class Kinds:
    """A plugin declaring the activity kinds it is given."""

    def __init__(self, name: str, *kinds: ActivityKind | str) -> None:
        self.name = name
        self.kinds = kinds

    @hookimpl
    def e2badges_add_activity_kinds(self, register: RegisterKind) -> None:
        for kind in self.kinds:
            register(kind)


class Named:
    """A plugin contributing criterion kinds and metrics by name."""

    def __init__(
        self,
        name: str,
        criteria: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.criteria = criteria or {}
        self.metrics = metrics or {}

    @hookimpl
    def e2badges_add_criterion_kinds(self, register: RegisterCriterion) -> None:
        for name, criterion in self.criteria.items():
            register(name, criterion)

    @hookimpl
    def e2badges_add_metrics(self, register: RegisterMetric) -> None:
        for name, metric in self.metrics.items():
            register(name, metric)


THANKS = PointRule(id="thanks", kind="thanks.sent", recipient_points=5)


@pytest.mark.hook("e2badges_add_point_rules")
class TestPointRules:
    def test_contributed_rule_credits(self) -> None:
        """A contributed rule credits like the application's own, and its kind is declared."""
        rewards = rewards_with(Rules("kudos", THANKS))
        rewards.record(act(1, kind="thanks.sent", recipient="bob"))
        assert rewards.balance("bob") == 5
        assert sorted(rewards.engine.rules) == ["comment", "rating", "thanks"]

    def test_rule_id_taken_by_application(self) -> None:
        """A plugin rule whose id the application already uses is refused, naming both."""
        clash = PointRule(id="comment", kind="comment.created", actor_points=100)
        with pytest.raises(ConfigurationError) as info:
            rewards_with(Rules("greedy", clash))
        assert str(info.value) == (
            "plugin 'greedy': id: rule id 'comment' is registered by plugin 'greedy' "
            "and already by the application"
        )

    def test_rule_id_taken_by_another_plugin(self) -> None:
        """A plugin rule whose id another plugin registered is refused, naming both plugins."""
        with pytest.raises(ConfigurationError) as info:
            rewards_with(Rules("first", THANKS), Rules("second", THANKS))
        assert "rule id 'thanks' is registered by plugin 'second'" in str(info.value)
        assert "already by plugin 'first'" in str(info.value)

    def test_not_a_rule(self) -> None:
        """Registering something other than a PointRule is refused, naming the plugin."""
        with pytest.raises(
            ConfigurationError, match="plugin 'odd': register: expected a PointRule"
        ):
            rewards_with(Rules("odd", {"id": "x"}))  # type: ignore[arg-type]

    def test_rule_on_undeclared_kind(self) -> None:
        """With declared kinds, a plugin rule on an undeclared kind names the rule and plugin."""
        with pytest.raises(ConfigurationError, match="rule 'thanks' of plugin 'kudos'"):
            rewards_with(Rules("kudos", THANKS), kinds=["comment.created", "rating.given"])

    def test_failing_contribution(self) -> None:
        """A contribution hook that raises fails the build with a PluginError naming the plugin."""

        class Broken:
            name = "broken"

            @hookimpl
            def e2badges_add_point_rules(self, register: RegisterRule) -> None:
                raise KeyError("config")

        with pytest.raises(PluginError, match="plugin 'broken', hook e2badges_add_point_rules"):
            rewards_with(Broken())


@pytest.mark.hook("e2badges_add_activity_kinds")
class TestActivityKinds:
    def test_contributed_kind_is_recordable(self) -> None:
        """A kind a plugin declares can be recorded, next to the kinds rules listen to."""
        rewards = rewards_with(Kinds("wiki", "page.viewed"))
        rewards.record(act(1, kind="page.viewed"))
        rewards.record(act(2))
        assert rewards.balance("ann") == 2
        assert set(rewards.engine.kinds) == {"comment.created", "rating.given", "page.viewed"}

    def test_contributed_kind_keeps_badge_and_board_kinds(self) -> None:
        """Without ``kinds=``, plugin kinds add to the kinds badges and boards listen to.

        A plugin declaring a kind made an application whose badges or boards
        listen to kinds no rule listens to fail to build (undeclared kind).
        """
        from e2badges import Badge, CountMetric, Leaderboard, criteria

        rewards = rewards_with(
            Kinds("wiki", "page.viewed"),
            rules=(),
            badges=[Badge(id="poster", threshold=1, criterion=criteria.Count(kind="post.created"))],
            leaderboards=[Leaderboard(id="edits", metric=CountMetric(kind="post.edited"))],
        )
        assert set(rewards.engine.kinds) == {"page.viewed", "post.created", "post.edited"}
        rewards.record(act(1, kind="post.created"))
        rewards.record(act(2, kind="post.edited"))
        rewards.record(act(3, kind="page.viewed"))
        assert [award.badge for award in rewards.badges("ann")] == ["poster"]
        assert rewards.leaderboard("edits").score("ann") == 1

    def test_contributed_payload_on_a_rule_kind(self) -> None:
        """Without ``kinds=``, a plugin's declaration of a kind a rule listens to is kept."""

        class Commented(BaseModel):
            text: str

        rewards = rewards_with(
            Kinds("comments", ActivityKind(name="comment.created", payload=Commented))
        )
        assert rewards.engine.kinds["comment.created"].payload is Commented
        with pytest.raises(InvalidActivityError, match=r"payload of kind 'comment\.created'"):
            rewards.record(act(1))

    def test_contributed_kind_with_declared_kinds(self) -> None:
        """Plugin kinds add to the kinds the application declares."""
        rewards = rewards_with(Kinds("wiki", "page.viewed"), kinds=["comment.created"], rules=())
        assert set(rewards.engine.kinds) == {"comment.created", "page.viewed"}
        with pytest.raises(UnknownKindError):
            rewards.record(act(1, kind="rating.given"))

    def test_payload_checked(self) -> None:
        """A contributed kind's payload model validates attributes."""

        class Viewed(BaseModel):
            seconds: int

        rewards = rewards_with(Kinds("wiki", ActivityKind(name="page.viewed", payload=Viewed)))
        with pytest.raises(InvalidActivityError, match=r"payload of kind 'page\.viewed'"):
            rewards.record(act(1, kind="page.viewed", attributes={"seconds": "long"}))

    def test_same_declaration_twice_accepted(self) -> None:
        """Two plugins declaring the same kind the same way is fine."""
        rewards = rewards_with(Kinds("a", "page.viewed"), Kinds("b", "page.viewed"))
        assert "page.viewed" in rewards.engine.kinds

    def test_different_declarations_refused(self) -> None:
        """Two different declarations of one kind are refused, naming both plugins."""
        with pytest.raises(ConfigurationError) as info:
            rewards_with(
                Kinds("a", ActivityKind(name="page.viewed", description="a view")),
                Kinds("b", "page.viewed"),
            )
        assert "declared differently by plugin 'b' and by plugin 'a'" in str(info.value)

    def test_declared_differently_by_the_application_refused(self) -> None:
        """A plugin declaring a kind the application declared differently is refused.

        The plugin's declaration was silently dropped (its payload never checked).
        """

        class Stars(BaseModel):
            stars: int

        with pytest.raises(ConfigurationError) as info:
            rewards_with(
                Kinds("kudos", "kudos.sent"),
                kinds=["comment.created", ActivityKind(name="kudos.sent", payload=Stars)],
                rules=(),
            )
        assert str(info.value) == (
            "plugin 'kudos': kinds: kind 'kudos.sent' is declared differently by "
            "plugin 'kudos' and by the application"
        )

    def test_declared_alike_by_the_application_accepted(self) -> None:
        """A plugin declaring a kind the application declared the same way is fine."""
        rewards = rewards_with(
            Kinds("wiki", "page.viewed", ActivityKind(name="page.edited", description="edit")),
            kinds=[
                ActivityKind(name="page.viewed"),
                ActivityKind(name="page.edited", description="edit"),
            ],
            rules=(),
        )
        assert set(rewards.engine.kinds) == {"page.viewed", "page.edited"}

    def test_not_a_kind(self) -> None:
        """Registering something other than a kind is refused, naming the plugin."""
        with pytest.raises(ConfigurationError, match="plugin 'odd': register: expected an"):
            rewards_with(Kinds("odd", 42))  # type: ignore[arg-type]


@pytest.mark.hook("e2badges_add_criterion_kinds")
class TestCriterionKinds:
    def test_listed(self) -> None:
        """Contributed criterion kinds are listed by name in ``rewards.plugins.criteria``."""

        def streak_of_kudos(state: object) -> bool:
            return True

        rewards = rewards_with(Named("kudos", criteria={"kudos_streak": streak_of_kudos}))
        assert rewards.plugins.criteria == {"kudos_streak": streak_of_kudos}

    def test_duplicate_refused(self) -> None:
        """A criterion kind name registered twice is refused, naming both plugins."""
        with pytest.raises(ConfigurationError) as info:
            rewards_with(Named("a", criteria={"streak": 1}), Named("b", criteria={"streak": 2}))
        assert "criterion kind 'streak' is registered by plugin 'b' and already by plugin 'a'" in (
            str(info.value)
        )

    def test_bad_name_refused(self) -> None:
        """A criterion kind name must be a valid identifier."""
        with pytest.raises(ConfigurationError, match="criterion kind name must not be empty"):
            rewards_with(Named("a", criteria={"": 1}))

    def test_used_by_a_badge(self) -> None:
        """A badge naming a contributed criterion kind is measured by it, with its options."""
        from e2badges import Badge, criteria

        def kudos(kind: str, minimum: float) -> criteria.Count:
            return criteria.Count(
                kind=kind, who="recipient", when=lambda a: (a.value or 0) >= minimum
            )

        rewards = rewards_with(
            Named("kudos", criteria={"kudos": kudos}),
            badges=[
                Badge(
                    id="appreciated",
                    criterion=criteria.Plugin(
                        name="kudos", options={"kind": "rating.given", "minimum": 4}
                    ),
                    threshold=2,
                )
            ],
        )
        outcomes = [
            rewards.record(act(n, actor=f"r{n}", kind="rating.given", recipient="ann", value=v))
            for n, v in enumerate([5, 2, 4])
        ]
        # Ratings 5 and 4 count (at least 4); the second of them earns the badge.
        assert [[a.badge for a in o.awards] for o in outcomes] == [[], [], ["appreciated"]]

    def test_ready_criterion_and_recheck(self) -> None:
        """A contributed ready criterion is used as is; the badge is checked again with it."""
        from e2badges import Badge, criteria

        plugin = Named("p", criteria={"comments": criteria.Count(kind="comment.created")})
        badge = Badge(id="talker", criterion=criteria.Plugin(name="comments"))  # no threshold
        with pytest.raises(ConfigurationError, match="needs a threshold or tiers"):
            rewards_with(plugin, badges=[badge])

    @pytest.mark.parametrize(
        "given",
        [
            PointRule(id="x", kind="a.x", actor_points=1),  # a model, but not a criterion
            "not a criterion",
        ],
        ids=["other-model", "text"],
    )
    def test_not_a_criterion_refused(self, given: object) -> None:
        """A contribution that is not a criterion, a pydantic model of another kind
        included, is refused naming ``criterion`` and the plugin's criterion."""
        from e2badges import Badge, criteria

        badge = Badge(id="b", criterion=criteria.Plugin(name="oops"), threshold=2)
        with pytest.raises(ConfigurationError) as info:
            rewards_with(Named("p", criteria={"oops": lambda: given}), badges=[badge])
        assert (info.value.field, info.value.subject) == ("criterion", "badge 'b'")
        assert info.value.reason.startswith("the plugin's criterion 'oops' gave ")
        assert info.value.reason.endswith(", not a criterion")

    def test_unknown_name_refused(self) -> None:
        """A badge naming a criterion kind no plugin contributed is refused, naming both."""
        from e2badges import Badge, criteria

        with pytest.raises(ConfigurationError) as info:
            rewards_with(badges=[Badge(id="b", criterion=criteria.Plugin(name="nope"))])
        assert info.value.subject == "badge 'b'"
        assert "no plugin contributed the criterion 'nope'" in info.value.reason


@pytest.mark.hook("e2badges_add_metrics")
class TestMetrics:
    def test_used_by_a_board(self) -> None:
        """A leaderboard naming a contributed metric ranks by it."""
        from e2badges import CountMetric, Leaderboard, PluginMetric

        plugin = Named(
            "helpful",
            metrics={"received": lambda kind: CountMetric(kind=kind, credit="recipient")},
        )
        rewards = rewards_with(
            plugin,
            leaderboards=[
                Leaderboard(
                    id="liked",
                    metric=PluginMetric(name="received", options={"kind": "rating.given"}),
                )
            ],
        )
        for n, person in enumerate(["bob", "ann", "bob"]):
            rewards.record(act(n, actor="x", kind="rating.given", recipient=person, value=1))
        assert [(e.user, e.score) for e in rewards.leaderboard("liked").top(5)] == [
            ("bob", 2),
            ("ann", 1),
        ]

    def test_not_a_metric_refused(self) -> None:
        """A contributed metric that gives something other than a metric is refused."""
        from e2badges import Leaderboard, PluginMetric

        with pytest.raises(ConfigurationError, match="not a metric"):
            rewards_with(
                Named("a", metrics={"m": lambda: 42}),
                leaderboards=[Leaderboard(id="x", metric=PluginMetric(name="m"))],
            )

    def test_listed(self) -> None:
        """Contributed metrics are listed by name in ``rewards.plugins.metrics``."""
        rewards = rewards_with(Named("a", metrics={"median_rating": "median"}))
        assert rewards.plugins.metrics == {"median_rating": "median"}

    def test_duplicate_refused(self) -> None:
        """A metric name registered twice is refused, naming both plugins."""
        with pytest.raises(ConfigurationError) as info:
            rewards_with(Named("a", metrics={"m": 1}), Named("b", metrics={"m": 2}))
        assert "metric 'm' is registered by plugin 'b' and already by plugin 'a'" in str(info.value)

    def test_without_plugins_empty(self) -> None:
        """Without plugins there are no contributed criteria or metrics."""
        rewards = Rewards(rules=RULES, load_entrypoints=False)
        assert (rewards.plugins.criteria, rewards.plugins.metrics) == ({}, {})
