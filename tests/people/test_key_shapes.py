"""The registry of state-key shapes that erasure relies on (``e2badges._erasure.KEY_SHAPES``).

Erasure finds a person in a state key only at the parts the key's shape names. A
scenario here exercises every rule option, badge criterion, level, story option,
board, period closing, check hook and plugin state, with ids that say what they
are (``u-...`` for people, ``o-...`` for objects, ``t-...`` for teams); then every
stored key must have a known shape, with the people exactly where it says.  A new
kind of key, or a person in a part the registry does not name, fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from e2badges import (
    Activity,
    Badge,
    Cap,
    CountMetric,
    FrozenClock,
    Leaderboard,
    Level,
    PluginState,
    PointRule,
    PointsMetric,
    Rewards,
    StoryOptions,
    TeamScope,
    TeamsScope,
    Tier,
    criteria,
    hookimpl,
)
from e2badges._erasure import (
    KEY_SHAPES,
    KeyShape,
    erase_key,
    erase_payload,
    erase_value,
    head_names,
    key_shape,
    partners,
    payload_mentions,
)
from e2badges.storage import MemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PEOPLE = ("u-ann", "u-bob", "u-cat")
TEAMS = ("t-red", "t-blue")
SEP = "\x1f"


class Tidy:
    """A check hook replacing content (kept as submitted) and keeping state per pair."""

    name = "tidy"

    @hookimpl
    def e2badges_check_activity(self, activity: Activity, state: PluginState) -> Activity | None:
        if activity.recipient is not None:
            state.set(PluginState.key(activity.actor, activity.recipient), 1)
        if "title" not in activity.attributes:
            return None
        title = str(activity.attributes["title"]).upper()
        return activity.model_copy(update={"attributes": {"title": title}})


def _rewards(store: MemoryStore) -> Rewards:
    day_cap = Cap(window="day", amount=100)
    return Rewards(
        store,
        rules=(
            PointRule(
                id="post",
                kind="post.created",
                actor_points=10,
                once_per_object=True,
                cooldown=timedelta(minutes=1),
                first_time_bonus=5,
                caps=(day_cap, Cap(window="7d", amount=500, per="object")),
            ),
            PointRule(
                id="thanks",
                kind="thanks.sent",
                actor_points=1,
                recipient_points=5,
                caps=(
                    Cap(window="week", amount=50, per="pair"),
                    Cap(window="day", amount=30, name="thanks-daily"),
                    Cap(window="day", amount=30, per="pair", name="thanks-pair"),
                    Cap(window="day", amount=30, per="object", name="thanks-object"),
                ),
            ),
        ),
        badges=(
            Badge(id="b-count", criterion=criteria.Count(kind="post.created"), threshold=2),
            Badge(
                id="b-sum",
                criterion=criteria.Sum(kind="post.created"),
                tiers=(Tier(id="bronze", threshold=1), Tier(id="silver", threshold=50)),
            ),
            Badge(id="b-objects", criterion=criteria.Distinct(kind="post.created"), threshold=2),
            Badge(
                id="b-days",
                criterion=criteria.Distinct(kind="post.created", of="day"),
                threshold=2,
            ),
            Badge(
                id="b-thanked",
                criterion=criteria.Distinct(kind="thanks.sent", of="counterpart"),
                threshold=1,
            ),
            Badge(id="b-streak", criterion=criteria.Streak(kind="post.created"), threshold=2),
            Badge(
                id="b-rolling", criterion=criteria.Rolling(kind="post.created", days=3), threshold=2
            ),
            Badge(id="b-points", criterion=criteria.Points(), threshold=20, repeat="week"),
            Badge(id="b-rich", criterion=criteria.Points(), threshold=20),
            Badge(id="b-first", criterion=criteria.First(kind="post.created")),
            Badge(id="b-team-first", criterion=criteria.First(kind="post.created", scope="team")),
            Badge(id="b-manual", criterion=criteria.Manual()),
            Badge(id="b-all", criterion=criteria.AllOf(badges=("b-count", "b-manual"))),
            Badge(
                id="b-weekly",
                criterion=criteria.Count(kind="thanks.sent", who="recipient"),
                threshold=1,
                repeat="week",
            ),
        ),
        levels=(
            Level(id="l-one", threshold=10),
            Level(id="l-two", threshold=30, badges=("b-count",)),
        ),
        leaderboards=(
            Leaderboard(
                id="points", metric=PointsMetric(), windows=("week", "all", "day", "month", "7d")
            ),
            Leaderboard(
                id="teams",
                metric=CountMetric(kind="post.created"),
                scope=TeamsScope(divide_by_size=True),
                windows=("all", "week"),
            ),
            Leaderboard(
                id="red",
                metric=CountMetric(kind="thanks.sent", credit="recipient"),
                scope=TeamScope(team="t-red"),
            ),
        ),
        stories=StoryOptions(
            leaders=("points", "teams"),
            personal_bests=("points",),
            milestones=("post.created",),
            milestone_counts=(1, 2),
        ),
        plugins=(Tidy(),),
        load_entrypoints=False,
        clock=FrozenClock(T0 + 10 * DAY),
    )


def _record(rewards: Rewards) -> None:
    activities: list[Activity] = []
    n = 0
    for day in range(3):
        for who, team in (("u-ann", "t-red"), ("u-bob", "t-blue"), ("u-cat", "t-red")):
            n += 1
            activities.append(
                Activity(
                    id=f"a-{n}",
                    actor=who,
                    kind="post.created",
                    object=f"o-{n % 4}",
                    value=3,
                    teams=(team,),
                    attributes={"title": "hello"},
                    at=T0 + day * DAY + timedelta(minutes=n),
                )
            )
    for n, (actor, recipient) in enumerate((("u-ann", "u-bob"), ("u-bob", "u-cat")), 100):
        activities.append(
            Activity(
                id=f"a-{n}",
                actor=actor,
                kind="thanks.sent",
                recipient=recipient,
                object=f"o-{n}",
                teams=("t-red",),
                at=T0 + DAY,
            )
        )
    rewards.record_many(activities)
    rewards.grant("u-bob", "b-manual", by="u-cat", reason="helps", at=T0 + DAY)
    rewards.close_periods()


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    """Return every state key and value the scenario leaves."""
    store = MemoryStore()
    _record(_rewards(store))
    return dict(store._state)  # the memory store's state, read whole on purpose


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    return []


class TestKeyShapes:
    def test_every_key_has_a_known_shape(self, state: dict[str, Any]) -> None:
        """Every state key the engine writes is of a family in KEY_SHAPES."""
        unknown = sorted(k.replace(SEP, "|") for k in state if key_shape(k) is None)
        assert unknown == []

    def test_every_shape_is_exercised(self, state: dict[str, Any]) -> None:
        """The scenario writes a key of every shape (so it checks them all)."""
        used = {key_shape(k) for k in state}
        missing = [s for s in KEY_SHAPES if s not in used]
        assert missing == []

    def test_people_are_where_the_shapes_say(self, state: dict[str, Any]) -> None:
        """In every key, a part holds a person id exactly at the positions its shape names
        for people (or for a counterpart, or any part of a plugin's key); the same in
        values."""
        for key, value in state.items():
            shape = key_shape(key)
            assert shape is not None
            parts = key.split(SEP)
            allowed = _person_positions(shape, len(parts))
            at = {i for i, part in enumerate(parts) if part in PEOPLE}
            assert at <= allowed, key.replace(SEP, "|")
            for i in shape.people:
                assert parts[i] in PEOPLE + TEAMS, key.replace(SEP, "|")
            in_value = [s for s in _strings(value) if s in PEOPLE]
            if shape.opaque:
                continue
            declared = [
                s
                for i in shape.values
                if isinstance(value, list) and i < len(value)
                for s in _strings(value[i])
                if s in PEOPLE
            ]
            assert sorted(in_value) == sorted(declared), (key.replace(SEP, "|"), value)


def _person_positions(shape: KeyShape, length: int) -> set[int]:
    out = {*shape.people, *shape.either}
    if shape.rest is not None:
        out.update(range(shape.rest, length))
    return out


class TestEraseKey:
    @pytest.mark.parametrize(
        ("key", "expected"),
        [
            ("bw|busy|bob|739621", "bw|busy|bob|739621"),  # a day number
            ("bm|yearly|bob|2026", "bm|yearly|bob|2026"),  # a period
            ("bh|17|bob", "bh|17|bob"),  # a badge id
            ("sub|17", "sub|17"),  # an activity id
            ("closed|17|week|2026-W10", "closed|17|week|2026-W10"),
            ("st|ld|17|all", "st|ld|17|all"),
            ("bal|points|17", "bal|points|P"),
            ("bh|17|17", "bh|17|P"),
            ("lvl|17", "lvl|P"),
            ("cap|r|post|day|pair|bob|17|2026-03-02", "cap|r|post|day|pair|bob|P|2026-03-02"),
            ("cap|r|post|day|object|bob|17|2026-03-02", "cap|r|post|day|object|bob|17|2026-03-02"),
            ("cap|r|post|day|object|17|o-1|17", "cap|r|post|day|object|P|S|17"),
            ("once|post|17|o-1", "once|post|P|S"),
            ("once|post|bob|o-1", "once|post|bob|o-1"),
            ("bd|b|bob||17", "bd|b|bob||P"),  # bob is a partner: a counterpart
            ("bd|b|dan||17", "bd|b|dan||17"),  # dan is not: an object
            ("cap|n|x|bob|17|2026", "cap|n|x|bob|P|2026"),
            ("cap|n|x|dan|17|2026", "cap|n|x|dan|17|2026"),
            ("plg|p|17|bob|17", "plg|p|P|bob|P"),
            ("plg|17|bob", "plg|17|bob"),  # the plugin's name
            ("new|17|x|17", "new|P|x|P"),  # an unknown family: every part, as a last resort
        ],
    )
    def test_only_person_parts_are_replaced(self, key: str, expected: str) -> None:
        """erase_key replaces the id only at the parts the key's shape names for people
        (objects of the person's keys become stand-ins)."""
        got = erase_key(key.replace("|", SEP), "17", "P", {"o-1": "S"}, partners=["bob"])
        assert got.replace(SEP, "|") == expected

    @pytest.mark.parametrize(
        ("head", "names"),
        [
            ("cap|r|17|day|object|bob|https://wiki/pa", False),  # the rule id, bob's key
            ("cap|r|post|day|object|17|https://wiki/pa", True),  # their own key
            ("cap|r|post|day|object|bob|17", False),  # 17 is cut short: not compared
            ("cap|r|post|day|pair|bob|17|2026-0", True),  # the other of a pair
            ("bd|b|bob||17", False),  # its last part, cut short, is not compared
            ("cap|n|x|bob|17|2026-0", True),  # bob is a partner: the other party
            ("cap|n|x|dan|17|2026-0", False),  # dan is not: an object
            ("plg|p|x|17|y", True),  # a plugin key: any complete part after its name
            ("new|x|17", True),  # an unknown family: any part, as a last resort
        ],
    )
    def test_heads_of_long_keys(self, head: str, names: bool) -> None:
        """head_names tells whether the first characters of a long key (last part cut
        short) name the id, at the complete parts where people sit."""
        assert head_names(head.replace("|", SEP), "17", partners=["bob"]) is names

    def test_values(self) -> None:
        """erase_value replaces the id only at the value positions the shape names."""
        assert erase_value(f"bf{SEP}b{SEP}", [1.0, "17", "17"], "17", "P") == [1.0, "17", "P"]
        assert erase_value(f"st{SEP}ld{SEP}b{SEP}2026", [1, 2, "17"], "17", "P") == [1, 2, "P"]
        members = [1, 1, 1.0, ["17", "bob"]]
        key = f"lb{SEP}b{SEP}all{SEP}t-red"
        assert erase_value(key, members, "17", "P") == [1, 1, 1.0, ["P", "bob"]]
        held = {f"{SEP}17{SEP}": 1}
        assert erase_value(f"bh{SEP}17{SEP}bob", held, "17", "P") is held
        assert erase_value(f"plg{SEP}p{SEP}x", {"17": ["17"]}, "17", "P") == {"P": ["P"]}


class TestPayloads:
    def test_only_person_fields(self) -> None:
        """erase_payload and payload_mentions look at person fields only, at any depth."""
        award = {"user": "bob", "badge": "17", "activity_id": "17", "period": "17"}
        assert erase_payload(award, "17", "P") is award
        assert not payload_mentions(award, "17")
        closing = {"board": "17", "standings": [{"user": "17", "rank": 1}, {"user": "bob"}]}
        assert payload_mentions(closing, "17")
        assert erase_payload(closing, "17", "P")["standings"][0] == {"user": "P", "rank": 1}
        assert erase_payload({"by": "17", "people": ["17", "x"]}, "17", "P") == {
            "by": "P",
            "people": ["P", "x"],
        }

    def test_partners(self) -> None:
        """partners gives the other parties of a person's activities."""
        acts = [
            Activity(id="1", actor="17", kind="k", recipient="bob", at=T0),
            Activity(id="2", actor="cat", kind="k", recipient="17", at=T0),
            Activity(id="3", actor="dan", kind="k", recipient="eve", at=T0),
            Activity(id="4", actor="17", kind="k", recipient="17", at=T0),
        ]
        assert partners(acts, "17") == {"bob", "cat"}
