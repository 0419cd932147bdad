"""Board definitions are validated when built; bad queries name the field."""

from __future__ import annotations

from typing import Any

import pytest

from e2badges import (
    AverageMetric,
    ConfigurationError,
    CountMetric,
    InvalidQueryError,
    Leaderboard,
    PointRule,
    PointsMetric,
    Rewards,
    TeamScope,
    TeamsScope,
    UnknownLeaderboardError,
)

from .helpers import SCORE, board, make


class TestLeaderboardDefinition:
    def test_defaults(self) -> None:
        """A board defaults to everyone, all time, competition ranking, higher is better."""
        b = Leaderboard(id="b", metric=PointsMetric())
        assert (b.scope.type, b.windows, b.ranking, b.better, b.week_starts) == (
            "everyone",
            ("all",),
            "competition",
            "higher",
            "monday",
        )

    def test_from_plain_data(self) -> None:
        """A board can be built from plain data (rules as data)."""
        b = Leaderboard.model_validate(
            {
                "id": "b",
                "metric": {"type": "count", "kind": "comment.created"},
                "scope": {"type": "team", "team": "red"},
                "windows": ["week", "30d"],
            }
        )
        assert isinstance(b.metric, CountMetric)
        assert isinstance(b.scope, TeamScope)
        assert b.windows == ("week", "30d")

    def test_frozen(self) -> None:
        """Definitions are immutable."""
        b = board()
        with pytest.raises(ValueError, match="frozen"):
            b.id = "other"  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"windows": ()}, "windows"),
            ({"windows": ("fortnight",)}, "windows"),
            ({"windows": ("week", "week")}, "windows"),
            ({"windows": ("0d",)}, "windows"),
            ({"ranking": "olympic"}, "ranking"),
            ({"better": "more"}, "better"),
            ({"week_starts": "sun"}, "week_starts"),
            ({"id": ""}, "id"),
            ({"id": "a\x00b"}, "id"),
            ({"unknown": 1}, "unknown"),
            ({"metric": {"type": "median", "kind": "x"}}, "metric"),
        ],
    )
    def test_invalid_board(self, options: dict[str, Any], field: str) -> None:
        """An invalid board raises ConfigurationError naming the field and the board."""
        options.setdefault("metric", PointsMetric())
        options.setdefault("id", "b")
        with pytest.raises(ConfigurationError) as info:
            Leaderboard(**options)
        assert info.value.field.startswith(field)

    @pytest.mark.parametrize(
        ("make_metric", "field"),
        [
            (lambda: CountMetric(kind="not a kind"), "kind"),
            (lambda: CountMetric(kind="x", credit="owner"), "credit"),
            (lambda: AverageMetric(kind="x", min_count=0), "min_count"),
            (lambda: AverageMetric(kind="x", prior_weight=5), "prior_weight"),
            (lambda: AverageMetric(kind="x", prior_mean=3), "prior_mean"),
            (
                lambda: AverageMetric(kind="x", prior_mean=float("nan"), prior_weight=1),
                "prior_mean",
            ),
            (lambda: AverageMetric(kind="x", prior_mean=3.0, prior_weight=1e308), "prior_weight"),
            (lambda: AverageMetric(kind="x", prior_mean=-1e308, prior_weight=2), "prior_weight"),
            (lambda: PointsMetric(currency=""), "currency"),
        ],
    )
    def test_invalid_metric(self, make_metric: Any, field: str) -> None:
        """An invalid metric raises ConfigurationError naming the field."""
        with pytest.raises(ConfigurationError) as info:
            make_metric()
        assert field in str(info.value)

    def test_team_sizes_need_divide(self) -> None:
        """team_sizes without divide_by_size is refused."""
        with pytest.raises(ConfigurationError, match="divide_by_size"):
            TeamsScope(team_sizes={"red": 3})

    def test_active_members_need_divide(self) -> None:
        """members="active" sizes a team: without divide_by_size it is refused."""
        with pytest.raises(ConfigurationError) as info:
            TeamsScope(members="active")
        assert info.value.field == "members"
        assert "divide_by_size" in info.value.reason

    @pytest.mark.parametrize("members", ["everyone", "", None, 3])
    def test_members_is_credited_or_active(self, members: Any) -> None:
        """members is "credited" or "active"."""
        with pytest.raises(ConfigurationError) as info:
            TeamsScope(divide_by_size=True, members=members)
        assert info.value.field == "members"

    def test_team_sizes_positive(self) -> None:
        """A team size is at least 1."""
        with pytest.raises(ConfigurationError, match="team_sizes"):
            TeamsScope(divide_by_size=True, team_sizes={"red": 0})

    def test_average_is_not_divided(self) -> None:
        """An average board of teams cannot be divided by team size."""
        with pytest.raises(ConfigurationError, match="divide_by_size"):
            Leaderboard(
                id="b",
                metric=AverageMetric(kind="post.rated"),
                scope=TeamsScope(divide_by_size=True),
            )


class TestRewardsWithBoards:
    def test_duplicate_ids(self) -> None:
        """Two boards with one id are refused when the Rewards instance is built."""
        with pytest.raises(ConfigurationError, match="share this id"):
            make(board(), board())

    def test_not_a_board(self) -> None:
        """Something that is not a Leaderboard is refused."""
        with pytest.raises(ConfigurationError, match="leaderboards"):
            Rewards(rules=[SCORE], leaderboards=[{"id": "b"}])  # type: ignore[list-item]

    def test_currency_nobody_credits(self) -> None:
        """A points board in a currency no rule credits is refused (a typo, surely)."""
        with pytest.raises(ConfigurationError) as info:
            make(board(metric=PointsMetric(currency="karma")))
        assert info.value.field == "metric.currency"
        assert "karma" in str(info.value)

    def test_undeclared_kind(self) -> None:
        """A board counting a kind that is not declared is refused."""
        with pytest.raises(ConfigurationError, match="undeclared activity kind"):
            make(board(metric=CountMetric(kind="x.y")), kinds=["score"])

    def test_board_kinds_are_declared(self) -> None:
        """Without ``kinds``, the kinds the boards count are declared too."""
        rewards = Rewards(leaderboards=[board(metric=CountMetric(kind="x.y"))])
        assert "x.y" in rewards.engine.kinds

    def test_any_kind(self) -> None:
        """With accept_any_kind=True a board may count any kind."""
        rewards = make(board(metric=CountMetric(kind="x.y")), kinds=[], accept_any_kind=True)
        rewards.record({"actor": "ann", "kind": "x.y"})
        assert rewards.leaderboard("b").score("ann") == 1

    def test_unknown_board(self) -> None:
        """Asking for a board that is not defined raises UnknownLeaderboardError naming it."""
        rewards = make(board("comments"))
        with pytest.raises(UnknownLeaderboardError) as info:
            rewards.leaderboard("coments")
        assert "coments" in str(info.value)
        assert "comments" in str(info.value)
        assert isinstance(info.value, LookupError)


class TestQueryArguments:
    @pytest.mark.parametrize(
        ("call", "field"),
        [
            (lambda v: v.top(-1), "n"),
            (lambda v: v.top(10, -1), "offset"),
            (lambda v: v.top(1.5), "n"),
            (lambda v: v.top(True), "n"),
            (lambda v: v.around("ann", -1), "n"),
            (lambda v: v.rank(None), "user"),
            (lambda v: v.rank(""), "user"),
            (lambda v: v.top(viewer=7), "viewer"),
        ],
    )
    def test_bad_arguments(self, call: Any, field: str) -> None:
        """A bad query argument raises InvalidQueryError naming it."""
        view = make(board()).leaderboard("b")
        with pytest.raises(InvalidQueryError) as info:
            call(view)
        assert info.value.field == field

    def test_rules_and_boards_together(self) -> None:
        """Boards sit beside point rules without changing what the rules credit."""
        rule = PointRule(id="r", kind="comment.created", actor_points=3)
        rewards = Rewards(
            rules=[rule], leaderboards=[board(metric=CountMetric(kind="comment.created"))]
        )
        outcome = rewards.record({"actor": "ann", "kind": "comment.created"})
        assert outcome.credited("ann") == 3
        assert rewards.balance("ann") == 3
        assert rewards.leaderboard("b").score("ann") == 1
