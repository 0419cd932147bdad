"""Badge and level definitions: what is accepted, and bad ones refused with the reason."""

from __future__ import annotations

import pytest

from e2badges import Badge, ConfigurationError, Level, PointRule, Rewards, Tier, criteria

COMMENT = PointRule(id="comment", kind="comment.created", actor_points=2)


def count_badge(badge_id: str = "commenter", **options: object) -> Badge:
    return Badge(id=badge_id, criterion=criteria.Count(kind="comment.created"), **options)  # type: ignore[arg-type]


class TestBadgeModel:
    def test_tiers_must_increase(self) -> None:
        """A tier list whose thresholds do not increase strictly is refused, naming both tiers."""
        with pytest.raises(ConfigurationError) as info:
            count_badge(tiers=[Tier(id="bronze", threshold=10), Tier(id="silver", threshold=10)])
        assert info.value.subject == "badge 'commenter'"
        assert info.value.field == "tiers"
        assert "'silver' (10) does not exceed tier 'bronze' (10)" in info.value.reason

    def test_negative_threshold(self) -> None:
        """A negative threshold is refused, naming the badge."""
        with pytest.raises(ConfigurationError, match=r"badge 'commenter': threshold: .*positive"):
            count_badge(threshold=-3)

    def test_negative_tier_threshold(self) -> None:
        """A tier with a threshold of zero or less is refused, naming the badge and the tier."""
        with pytest.raises(ConfigurationError) as info:
            count_badge(tiers=[Tier(id="bronze", threshold=0)])
        assert info.value.field == "tiers"
        assert "tier 'bronze'" in info.value.reason
        assert "positive" in info.value.reason

    def test_count_threshold_is_whole(self) -> None:
        """A count cannot reach 2.5: its threshold must be a whole number."""
        with pytest.raises(ConfigurationError, match="whole number"):
            count_badge(threshold=2.5)

    def test_count_threshold_is_an_int(self) -> None:
        """A whole number is an int, as everywhere in definitions: 5.0 is not taken for 5,
        for a badge's threshold or a tier's."""
        with pytest.raises(ConfigurationError, match=r"whole number \(an int\)") as info:
            count_badge(threshold=5.0)
        assert info.value.field == "threshold"
        with pytest.raises(ConfigurationError, match=r"whole number \(an int\)"):
            Badge(
                id="t",
                criterion=criteria.Count(kind="x.y"),
                tiers=(Tier(id="bronze", threshold=1), Tier(id="silver", threshold=5.0)),
            )
        assert count_badge(threshold=5).thresholds == (5,)

    def test_sum_threshold_may_be_fractional(self) -> None:
        """A sum of values may have a fractional threshold."""
        badge = Badge(id="s", criterion=criteria.Sum(kind="x.y"), threshold=2.5)
        assert badge.thresholds == (2.5,)

    def test_measured_needs_threshold(self) -> None:
        """A measured criterion without a threshold or tiers is refused."""
        with pytest.raises(ConfigurationError, match="needs a threshold or tiers"):
            count_badge()

    def test_threshold_and_tiers_exclusive(self) -> None:
        """A badge with both a threshold and tiers is refused."""
        with pytest.raises(ConfigurationError, match="not both"):
            count_badge(threshold=1, tiers=[Tier(id="bronze", threshold=2)])

    def test_unmeasured_takes_no_threshold(self) -> None:
        """A first, all-of, any-of or manual badge refuses a threshold."""
        with pytest.raises(ConfigurationError, match="first criterion takes no threshold"):
            Badge(id="f", criterion=criteria.First(kind="x.y"), threshold=1)

    def test_streak_cannot_repeat(self) -> None:
        """A streak badge cannot be repeatable."""
        with pytest.raises(ConfigurationError) as info:
            Badge(id="s", criterion=criteria.Streak(kind="x.y"), threshold=3, repeat="week")
        assert info.value.field == "repeat"

    def test_duplicate_tier_ids(self) -> None:
        """Two tiers with one id are refused."""
        with pytest.raises(ConfigurationError, match="two tiers are named 'gold'"):
            count_badge(tiers=[Tier(id="gold", threshold=1), Tier(id="gold", threshold=2)])

    def test_bad_kind_in_mapping(self) -> None:
        """A criterion given as a mapping is validated, the error naming its path."""
        with pytest.raises(ConfigurationError) as info:
            Badge(id="b", criterion={"type": "count", "kind": "not a kind"}, threshold=1)  # type: ignore[arg-type]
        assert (info.value.subject, info.value.field) == ("badge 'b'", "criterion.kind")

    def test_loaded_from_mapping(self) -> None:
        """A badge can be built from plain data, the criterion chosen by its type."""
        badge = Badge.model_validate(
            {
                "id": "regular",
                "criterion": {"type": "streak", "kind": "comment.created", "grace": 1},
                "tiers": [{"id": "bronze", "threshold": 3}, {"id": "gold", "threshold": 30}],
            }
        )
        assert isinstance(badge.criterion, criteria.Streak)
        assert badge.criterion.grace == 1
        assert badge.thresholds == (3, 30)

    def test_criterion_errors_name_it(self) -> None:
        """A bad criterion option is refused, naming the criterion type and the field."""
        with pytest.raises(ConfigurationError, match=r"Rolling criterion: days"):
            criteria.Rolling(kind="x.y", days=0)
        with pytest.raises(ConfigurationError, match=r"AllOf criterion: badges: .*at least one"):
            criteria.AllOf(badges=())


class TestRewardsRefuses:
    def test_all_of_unknown_badge(self) -> None:
        """An all-of badge naming an unknown badge is refused when Rewards is built."""
        combo = Badge(id="combo", criterion=criteria.AllOf(badges=("commenter", "ghost")))
        with pytest.raises(ConfigurationError) as info:
            Rewards(rules=[COMMENT], badges=[count_badge(threshold=1), combo])
        assert info.value.subject == "badge 'combo'"
        assert info.value.reason == "names unknown badge 'ghost'"

    def test_cycle(self) -> None:
        """Composite badges that depend on each other in a cycle are refused."""
        a = Badge(id="a", criterion=criteria.AllOf(badges=("b",)))
        b = Badge(id="b", criterion=criteria.AnyOf(badges=("c", "x")))
        c = Badge(id="c", criterion=criteria.AllOf(badges=("a",)))
        x = count_badge("x", threshold=1)
        with pytest.raises(ConfigurationError) as info:
            Rewards(rules=[COMMENT], badges=[x, a, b, c])
        assert "cycle: 'a' -> 'b' -> 'c' -> 'a'" in info.value.reason

    def test_self_reference(self) -> None:
        """A composite badge that requires itself is a cycle."""
        me = Badge(id="me", criterion=criteria.AnyOf(badges=("me",)))
        with pytest.raises(ConfigurationError, match="cycle: 'me' -> 'me'"):
            Rewards(badges=[me])

    def test_duplicate_badge_id(self) -> None:
        """Two badges with one id are refused."""
        with pytest.raises(ConfigurationError, match="badge 'x': id: two badges share this id"):
            Rewards(rules=[COMMENT], badges=[count_badge("x", threshold=1)] * 2)

    def test_undeclared_kind(self) -> None:
        """A criterion on a kind the Rewards does not declare is refused."""
        with pytest.raises(ConfigurationError) as info:
            Rewards(rules=[COMMENT], kinds=["comment.created"], badges=[
                Badge(id="v", criterion=criteria.Count(kind="page.viewed"), threshold=1)
            ])  # fmt: skip
        assert (info.value.subject, info.value.field) == ("badge 'v'", "criterion.kind")

    def test_criterion_kinds_are_declared(self) -> None:
        """Without ``kinds``, the kinds badge criteria listen to may be recorded."""
        rewards = Rewards(
            badges=[Badge(id="v", criterion=criteria.Count(kind="page.viewed"), threshold=1)]
        )
        assert "page.viewed" in rewards.engine.kinds

    def test_unknown_currency(self) -> None:
        """A points criterion on a currency no rule credits is refused."""
        karma = Badge(id="k", criterion=criteria.Points(currency="karma"), threshold=10)
        with pytest.raises(ConfigurationError, match="no point rule credits currency 'karma'"):
            Rewards(rules=[COMMENT], badges=[karma])

    def test_not_a_badge(self) -> None:
        """Something other than a Badge in ``badges`` is refused."""
        with pytest.raises(ConfigurationError, match="expected Badge, got dict"):
            Rewards(badges=[{"id": "x"}])  # type: ignore[list-item]


class TestLevelDefinitions:
    def test_thresholds_increase(self) -> None:
        """Level thresholds must increase strictly."""
        with pytest.raises(ConfigurationError) as info:
            Rewards(
                rules=[COMMENT],
                levels=[Level(id="one", threshold=0), Level(id="two", threshold=0)],
            )
        assert info.value.subject == "level 'two'"
        assert "does not exceed 0" in info.value.reason

    def test_negative_threshold(self) -> None:
        """A negative level threshold is refused."""
        with pytest.raises(
            ConfigurationError, match=r"Level 'one': threshold: must not be negative, got -1"
        ):
            Level(id="one", threshold=-1)

    def test_unknown_badge(self) -> None:
        """A level requiring an unknown badge is refused."""
        with pytest.raises(ConfigurationError, match="level 'two': badges: names unknown badge"):
            Rewards(
                rules=[COMMENT],
                levels=[Level(id="one", threshold=0), Level(id="two", threshold=5, badges=("x",))],
            )

    def test_one_currency(self) -> None:
        """Every level of the ladder uses one currency."""
        karma = PointRule(id="k", kind="answer.upvoted", actor_points=1, currency="karma")
        with pytest.raises(ConfigurationError, match="every level uses one currency"):
            Rewards(
                rules=[COMMENT, karma],
                levels=[Level(id="a", threshold=0), Level(id="b", threshold=5, currency="karma")],
            )

    def test_uncredited_currency(self) -> None:
        """A ladder on a currency no rule credits is refused."""
        with pytest.raises(ConfigurationError, match="no point rule credits currency 'points'"):
            Rewards(levels=[Level(id="a", threshold=1)])
