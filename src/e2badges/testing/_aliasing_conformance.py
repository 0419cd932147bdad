"""Conformance: what a caller holds is not what a store keeps.

A caller may change, in place, the dicts and lists of what it recorded or read back
(an activity's attributes, a story's data, a notification's payload, a list of
ledger lines, a leaderboard page), and a plugin those of the options it is given
(a plugin criterion's or metric's).  The SQL stores keep serialised copies, so such a
change never reaches them; a store that keeps objects (the memory store) must not let
it through either, or the same program gives other answers on another store.  Each
test changes everything it can reach in place (a change refused with TypeError is
fine: e2badges gives attributes, data and payloads as read-only dicts and lists) and
then checks that every later read, by the same store and by another over the same
storage, is unchanged; definitions, frozen, refuse such a change.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from .. import (
    Activity,
    Badge,
    CountMetric,
    FrozenClock,
    Leaderboard,
    PluginMetric,
    PluginState,
    PointRule,
    PointsMetric,
    Rewards,
    criteria,
    hookimpl,
)
from .._hooktypes import plugin_state_prefix
from ..storage import EffectBatch, Notification, Store
from ._common import T0, needs_outbox

__all__ = ["AliasingConformance", "meddle"]

TITLE = "héllo"


def meddle(value: Any) -> None:
    """Change ``value`` and every dict and list in it, in place, every way there is.

    A change refused with TypeError (a read-only dict or list) is skipped: the point
    is what reaches the store, not how it is stopped.
    """
    if isinstance(value, dict):
        for item in list(value.values()):
            meddle(item)
        first = next(iter(value), None)
        changes: list[Callable[[], object]] = [
            lambda: value.__setitem__("meddled", True),
            lambda: value.update(more=1),
            lambda: value.setdefault("other", 2),
        ]
        if first is not None:
            changes[:0] = [lambda: value.__setitem__(first, "meddled"), lambda: value.pop(first)]
        changes.append(value.clear)
    elif isinstance(value, list):
        for item in list(value):
            meddle(item)
        changes = [
            lambda: value.append("meddled"),
            value.reverse,
            lambda: value.insert(0, "meddled"),
            lambda: value.__setitem__(slice(None), [0]),
            value.clear,
        ]
    else:
        return
    for change in changes:
        with contextlib.suppress(TypeError):
            change()


def _post(n: int, actor: str = "ann") -> Activity:
    """Return post ``p<n>``, made afresh each call (attributes with a nested dict and list)."""
    return Activity(
        id=f"p{n}",
        actor=actor,
        kind="post.created",
        at=T0 + timedelta(minutes=n),
        attributes={"title": TITLE, "tags": ["a", "b"], "meta": {"words": 3, "links": [1]}},
    )


RULES = (PointRule(id="post", kind="post.created", actor_points=1),)
BADGES = (Badge(id="author", criterion=criteria.Count(kind="post.created"), threshold=1),)
BOARDS = (Leaderboard(id="pts", metric=PointsMetric()),)


class _Keep:
    """A check plugin keeping a list and a dict in its state."""

    name = "keep"

    @hookimpl
    def e2badges_check_activity(self, activity: Activity, state: PluginState) -> None:
        seen = state.get("seen", [])
        state.set("seen", [*seen, {"id": activity.id, "tags": ["x"]}])


def _options() -> dict[str, Any]:
    """Return plugin options with a nested list and dict, made afresh each call."""
    return {"kinds": ["post.created"], "at_least": {"words": 3}}


def _plugin_badge() -> Badge:
    return Badge(
        id="wordy", threshold=1, criterion=criteria.Plugin(name="wordy", options=_options())
    )


def _plugin_board() -> Leaderboard:
    return Leaderboard(id="wordy", metric=PluginMetric(name="wordy", options=_options()))


class _Meddling:
    """Contributes a criterion kind and a metric whose functions change, in place, every
    dict and list of the options they are given before reading them."""

    name = "meddling"

    @hookimpl
    def e2badges_add_criterion_kinds(self, register: Callable[[str, Any], None]) -> None:
        def wordy(kinds: list[str], at_least: dict[str, int]) -> criteria.Count:
            meddle(kinds)
            meddle(at_least)
            words = at_least["words"]
            return criteria.Count(
                kind=tuple(kinds), when=lambda a: a.attributes["meta"]["words"] >= words
            )

        register("wordy", wordy)

    @hookimpl
    def e2badges_add_metrics(self, register: Callable[[str, Any], None]) -> None:
        def wordy(kinds: list[str], at_least: dict[str, int]) -> CountMetric:
            meddle(kinds)
            meddle(at_least)
            return CountMetric(kind=kinds[0])

        register("wordy", wordy)


class AliasingConformance:
    """What a caller recorded or read back, changed in place, changes nothing stored."""

    @pytest.fixture
    def aliasing_rewards(self, store: Store) -> Rewards:
        return Rewards(
            store, rules=RULES, badges=BADGES, leaderboards=BOARDS, clock=FrozenClock(T0)
        )

    def _activities_read(self, store: Store, rewards: Rewards) -> list[Activity | None]:
        """Return every way of reading post p1 back."""
        return [
            store.get_activity("p1"),
            rewards.activity("p1"),
            *store.iter_activities(),
            *store.person_activities("ann"),
        ]

    def test_activity_changed_after_record_is_not_stored_changed(
        self, aliasing_rewards: Rewards, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """Changing the attributes of an activity after recording it (or the mapping it
        was recorded from) changes nothing stored: every read returns the activity as
        recorded, and recording the unchanged activity again is a retry, not a
        conflict."""
        recorded = _post(1)
        attributes = {"title": TITLE, "tags": ["a"], "meta": {"links": [1]}}
        given = {"id": "p2", "actor": "bob", "kind": "post.created", "at": T0}
        aliasing_rewards.record(recorded)
        aliasing_rewards.record_many([{**given, "attributes": attributes}])
        meddle(recorded.attributes)
        meddle(attributes)
        expected = Activity(
            **given, attributes={"title": TITLE, "tags": ["a"], "meta": {"links": [1]}}
        )
        for reader in (store, make_store()):
            assert reader.get_activity("p1") == _post(1)
            assert reader.get_activity("p2") == expected
            assert list(reader.iter_activities()) == [_post(1), expected]
            assert reader.person_activities("ann") == [_post(1)]
        first = store.get_outcome("p1")
        assert aliasing_rewards.record(_post(1)) == first  # a retry, not a conflict

    def test_activity_read_back_and_changed_is_not_stored_changed(
        self, aliasing_rewards: Rewards, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """Changing the attributes of an activity read back (get_activity,
        Rewards.activity, iter_activities, person_activities) changes nothing stored."""
        aliasing_rewards.record(_post(1))
        for activity in self._activities_read(store, aliasing_rewards):
            assert activity is not None
            meddle(activity.attributes)
        for reader in (store, make_store()):
            assert self._activities_read(reader, aliasing_rewards)[0] == _post(1)
            assert list(reader.iter_activities()) == [_post(1)]
            assert reader.person_activities("ann") == [_post(1)]
        assert aliasing_rewards.activity("p1") == _post(1)

    def test_activity_changed_by_a_notifier_is_not_stored_changed(self, store: Store) -> None:
        """A notifier changing the attributes of the activity it is told about changes
        neither what is stored nor what the next notifier is told."""
        needs_outbox(store)
        told: list[Any] = []

        class Meddler:
            name = "meddler"

            @hookimpl
            def e2badges_notify_outcome(self, activity: Activity) -> None:
                meddle(activity.attributes)

        class Teller:
            name = "teller"

            @hookimpl
            def e2badges_notify_outcome(self, activity: Activity) -> None:
                told.append(copy.deepcopy(activity.attributes))

        rewards = Rewards(store, rules=RULES, plugins=[Meddler(), Teller()], clock=FrozenClock(T0))
        rewards.record(_post(1))
        assert told == [_post(1).attributes]
        assert store.get_activity("p1") == _post(1)

    def test_story_data_changed_is_not_stored_changed(
        self, aliasing_rewards: Rewards, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """Changing the data of a story, from the outcome record() returned or read back
        (feed, person_stories, get_outcome), changes nothing stored."""
        outcome = aliasing_rewards.record(_post(1))
        assert outcome.stories
        expected = copy.deepcopy(list(store.feed()))
        expected_outcome = copy.deepcopy(store.get_outcome("p1"))
        read_back = [
            *outcome.stories,
            *store.feed(),
            *aliasing_rewards.feed(),
            *store.person_stories("ann"),
            *(store.get_outcome("p1") or outcome).stories,
        ]
        for story in read_back:
            meddle(story.data)
        for reader in (store, make_store()):
            assert reader.feed() == expected
            assert reader.person_stories("ann") == expected
            assert reader.get_outcome("p1") == expected_outcome
        assert aliasing_rewards.feed() == expected

    def test_notification_payload_changed_is_not_kept_changed(
        self, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """Changing a notification's payload in place, the dict it was made from or the
        one read back (get_notification, claim_notifications, notifications_about), or
        the failures and errors of an outbox entry, changes nothing in the outbox."""
        needs_outbox(store)
        payload: dict[str, Any] = {"standings": [{"user": "ann", "score": 1}], "n": 1}
        notification = Notification("n1", "e2badges_notify_award", payload, ("p",))
        with store.transaction() as tx:
            tx.claim([])
            tx.view(set() if tx.wants_keys else None)
            tx.apply(EffectBatch(notifications=[notification]))
        meddle(payload)
        meddle(notification.payload)
        store.mark_failed("n1", "p", error="down")
        entries = [
            store.get_notification("n1"),
            *store.claim_notifications(now=T0, lease=timedelta(seconds=1)),
            *store.notifications_about("ann"),
        ]
        for entry in entries:
            assert entry is not None
            meddle(entry.notification.payload)
            meddle(entry.failures)
            meddle(entry.errors)
        for reader in (store, make_store()):
            entry = reader.get_notification("n1")
            assert entry is not None
            assert entry.notification.payload == {
                "standings": [{"user": "ann", "score": 1}],
                "n": 1,
            }
            assert entry.failures == {"p": 1}
            assert entry.errors == {"p": "down"}

    def test_state_read_back_and_changed_is_not_stored_changed(
        self, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """Changing a list or dict that read_state returned changes nothing stored."""
        value = {"runs": [[1, 2], [4, 4]], "best": 2}
        with store.transaction() as tx:
            tx.claim([])
            tx.view({"k"} if tx.wants_keys else None)
            tx.apply(EffectBatch(state={"k": copy.deepcopy(value)}))
        read = store.read_state(["k"])
        meddle(read["k"])
        meddle(read)
        for reader in (store, make_store()):
            assert reader.read_state(["k"]) == {"k": value}

    def test_plugin_state_read_back_and_changed_is_not_stored_changed(
        self, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """Changing in place what read_state returned of a plugin's state changes neither
        what is stored nor what the plugin reads next."""
        rewards = Rewards(store, rules=RULES, plugins=[_Keep()], clock=FrozenClock(T0))
        rewards.record(_post(1))
        keys = [plugin_state_prefix("keep") + "seen"]
        meddle(store.read_state(keys))
        meddle(next(iter(store.read_state(keys).values()), None))
        rewards.record(_post(2))
        seen = [{"id": "p1", "tags": ["x"]}, {"id": "p2", "tags": ["x"]}]
        for reader in (store, make_store()):
            assert list(reader.read_state(keys).values()) == [seen]

    def test_lists_read_back_and_changed_are_not_stored_changed(
        self, aliasing_rewards: Rewards, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """Changing the lists, dicts and sets that queries return (ledger, awards, feed,
        first awards, adoption figures, people) changes nothing stored."""
        aliasing_rewards.record(_post(1))
        aliasing_rewards.record(_post(2, "bob"))

        def reads(reader: Store) -> list[Any]:
            return [
                reader.ledger("ann"),
                reader.awards("ann"),
                reader.feed(),
                reader.first_awards(),
                reader.first_active(),
                reader.last_activity(),
                reader.activity_totals(by=("day", "actor")),
                reader.active_in({"ann": "2026-W10", "bob": "2026-W10"}),
                list(reader.iter_activities()),
            ]

        expected = copy.deepcopy(reads(store))
        for value in reads(store):
            meddle(value)
            with contextlib.suppress(TypeError, AttributeError):
                value.clear()
        for reader in (store, make_store()):
            assert reads(reader) == expected

    def test_leaderboard_page_changed_is_not_cached_changed(
        self, aliasing_rewards: Rewards
    ) -> None:
        """Changing a leaderboard page that top() or around() returned changes neither the
        page top() returns next (pages may be cached) nor the profile."""
        aliasing_rewards.record(_post(1))
        aliasing_rewards.record(_post(2, "bob"))
        board = aliasing_rewards.leaderboard("pts")
        top = board.top(10)
        around = board.around("ann", 3)
        profile = aliasing_rewards.profile("ann")
        expected = (list(top), list(around), copy.deepcopy(dict(profile.balances)))
        for page in (top, around):
            meddle(page)
        with contextlib.suppress(TypeError, AttributeError):
            profile.balances.clear()  # type: ignore[attr-defined]
        assert board.top(10) == expected[0]
        assert board.around("ann", 3) == expected[1]
        assert dict(aliasing_rewards.profile("ann").balances) == expected[2]

    def test_plugin_options_cannot_be_changed(self) -> None:
        """The options of a plugin criterion and of a plugin metric are a read-only copy
        of the mapping given: changing them in place (at any depth) raises TypeError, and
        changing the mapping they were made from changes nothing."""
        given = _options()
        criterion = criteria.Plugin(name="wordy", options=given)
        metric = PluginMetric(name="wordy", options=given)
        badge = Badge(id="wordy", threshold=1, criterion=criterion)
        board = Leaderboard(id="wordy", metric=metric)
        meddle(given)
        # Each change in place there is, at every depth (Any: a Mapping has no __setitem__).
        changes: list[Callable[[Any], object]] = [
            lambda held: held.__setitem__("kinds", []),
            lambda held: held.pop("kinds"),
            lambda held: held.clear(),
            lambda held: held["kinds"].append("comment.created"),
            lambda held: held["kinds"].__setitem__(0, "comment.created"),
            lambda held: held["at_least"].update(words=0),
            lambda held: held["at_least"].__setitem__("words", 0),
        ]
        for options in (criterion.options, metric.options):
            for change in changes:
                with pytest.raises(TypeError, match="read-only"):
                    change(options)
            assert options == _options()
        assert (badge, board) == (_plugin_badge(), _plugin_board())

    def test_plugin_given_options_cannot_change_the_definition(self, store: Store) -> None:
        """A plugin's criterion kind or metric changing, in place, the options it is given
        changes neither the badge's nor the board's definition: they are the same after
        Rewards was built, a second Rewards built from them gets the same options, and
        both measure with the options given."""
        badge, board = _plugin_badge(), _plugin_board()

        def build(on: Store) -> Rewards:
            return Rewards(
                on,
                rules=RULES,
                badges=[badge],
                leaderboards=[board],
                plugins=[_Meddling()],
                clock=FrozenClock(T0),
            )

        rewards = build(store)
        assert (badge, board) == (_plugin_badge(), _plugin_board())
        rewards.record(_post(1))  # 3 words: counted
        again = build(store)
        assert (badge, board) == (_plugin_badge(), _plugin_board())
        assert [a.badge for a in again.badges("ann")] == ["wordy"]
        assert again.leaderboard("wordy").score("ann") == 1
