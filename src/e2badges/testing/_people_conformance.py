"""Conformance tests for people, privacy settings, exports and erasure over a Store.

Mixed into :class:`~e2badges.testing.conformance.StoreConformance`; the ``store``
and ``make_store`` fixtures come from there.  The first half checks the
sentences of the Store contract about people; the second runs the privacy
features of Rewards (opt-outs, excluded groups, the ranking switch, display
policies, team history, export and erasure) over the store.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from .. import (
    Activity,
    ActivityKind,
    Badge,
    Cap,
    CountMetric,
    DeliveryPolicy,
    DisplayPolicy,
    FrozenClock,
    InvalidPersonError,
    Leaderboard,
    Membership,
    Person,
    PointRule,
    PointsMetric,
    PrivacySettings,
    RankingsDisabledError,
    Rewards,
    Story,
    StoryOptions,
    TeamsScope,
    Tier,
    criteria,
    hookimpl,
)
from .._engine import EffectBatch
from .._erasure import ERASED_ERROR
from .._models import Award, Outcome
from .._notifications import Notification
from .._rules import balance_key
from ..storage.base import Store
from ..storage.memory import MemoryStore
from ._common import T0, needs_outbox
from ._threads import run_in_threads

__all__ = ["PeopleConformance"]

DAY = timedelta(days=1)
KEY = "a-key-of-at-least-16-characters"

# The person erased in the erasure tests, with values that occur nowhere else.
ALICE = "zq-alice-81"
ALICE_NAME = "Alicia Quartermaine-Zed"
SECRET = "secret-text-9f3e"
OBJECT = "obj-77d2"


def _post(n: int, actor: str, at: datetime = T0, **extra: Any) -> Activity:
    return Activity(id=f"p{n}", actor=actor, kind="post.created", at=at, **extra)


def _rewards(store: Store, *boards: Leaderboard, **options: Any) -> Rewards:
    """Return a Rewards crediting 10 points per post, with ``boards`` (a points board if none)."""
    options.setdefault("clock", FrozenClock(T0 + DAY))
    return Rewards(
        store,
        rules=(PointRule(id="post", kind="post.created", actor_points=10),),
        badges=(Badge(id="writer", criterion=criteria.Count(kind="post.created"), threshold=1),),
        leaderboards=boards or (Leaderboard(id="pts", metric=PointsMetric()),),
        load_entrypoints=False,
        **options,
    )


def _put_notifications(store: Store, notes: list[Notification]) -> None:
    """Store ``notes`` in one recording transaction, as the facade would."""
    with store.transaction() as tx:
        tx.claim([])
        tx.view(set() if tx.wants_keys else None)
        tx.apply(EffectBatch(notifications=notes))


def _stored_errors(store: Store, notification_id: str) -> dict[str, str]:
    """Return the delivery errors the store keeps for a notification, by plugin."""
    entry = store.get_notification(notification_id)
    assert entry is not None
    return dict(entry.errors)


def _users(entries: Any) -> list[str]:
    return [e.user for e in entries]


class AwardNotifier:
    """A plugin told about awards (its notifications stay pending: delivery is not inline)."""

    @hookimpl
    def e2badges_notify_award(self, award: Award, notification_id: str) -> None:
        """Receive nothing: the tests deliver nothing."""


class OutcomeNotifier:
    """A plugin told about recorded activities (its notifications stay pending too)."""

    @hookimpl
    def e2badges_notify_outcome(
        self, activity: Activity, outcome: Outcome, notification_id: str
    ) -> None:
        """Receive nothing: the tests deliver nothing."""


class Tidy:
    """A check hook that rewrites titles, so that the submitted content is kept in the state."""

    @hookimpl
    def e2badges_check_activity(self, activity: Activity) -> Activity | None:
        title = activity.attributes.get("title")
        if not isinstance(title, str):
            return None
        return activity.model_copy(update={"attributes": {"title": title.upper()}})


def _organisation(store: Store) -> Rewards:
    """Return the organisation of the export and erasure tests.

    Its award notifications stay pending in the outbox (delivery is not inline), for a
    store that keeps one; over a store that does not, it has no notification plugin.
    """
    notifiers = (AwardNotifier(),) if store.keeps_outbox else ()
    return Rewards(
        store,
        rules=(
            # Limits whose state keys hold the object: once per object, a cooldown, a
            # cap per object (on the erased person's side only: bob's keys are his).
            PointRule(
                id="post",
                kind="post.created",
                actor_points=10,
                cooldown=timedelta(minutes=5),
                caps=(Cap(amount=100, per="object"),),
            ),
            PointRule(id="seen", kind="post.upvoted", recipient_points=2, once_per_object=True),
            PointRule(
                id="upvote",
                kind="post.upvoted",
                actor_points=1,
                recipient_points=5,
                caps=(Cap(amount=50, per="pair"),),
            ),
        ),
        badges=(
            Badge(
                id="writer",
                criterion=criteria.Count(kind="post.created"),
                tiers=(Tier(id="bronze", threshold=1), Tier(id="silver", threshold=2)),
            ),
            Badge(
                id="liked",
                criterion=criteria.Distinct(kind="post.upvoted", of="counterpart", who="recipient"),
                threshold=1,
            ),
            Badge(id="pioneer", criterion=criteria.First(kind="post.created", scope="team")),
            Badge(id="helper", criterion=criteria.Manual()),
        ),
        levels=(),
        leaderboards=(
            Leaderboard(id="points", metric=PointsMetric(), windows=("all", "week", "7d")),
            Leaderboard(
                id="posts",
                metric=CountMetric(kind="post.created"),
                exclude_groups=("managers",),
            ),
            Leaderboard(
                id="teams",
                metric=CountMetric(kind="post.created"),
                scope=TeamsScope(divide_by_size=True),
            ),
        ),
        stories=StoryOptions(
            leaders=("points",), milestones=("post.created",), milestone_counts=(2,)
        ),
        plugins=(*notifiers, Tidy()),
        load_entrypoints=False,
        delivery=DeliveryPolicy(inline=False),
        clock=FrozenClock(T0 + DAY),
    )


def _record_organisation(rewards: Rewards) -> list[Activity]:
    """Record what the people of the organisation did; return the activities in order."""
    rewards.people.set(ALICE, display_name=ALICE_NAME, groups=("managers",))
    rewards.people.join_team(ALICE, "red", at=T0 - DAY)
    rewards.people.set("bob", display_name="Bob Marley", teams=("blue",))
    first = [
        _post(1, ALICE, attributes={"title": SECRET}, object=OBJECT),
        _post(2, "bob", T0 + timedelta(hours=1)),
        Activity(
            id="u1",
            actor="bob",
            kind="post.upvoted",
            recipient=ALICE,
            object=OBJECT,
            attributes={"about": ALICE, "note": SECRET},
            at=T0 + timedelta(hours=2),
        ),
        Activity(
            id="u2", actor=ALICE, kind="post.upvoted", recipient="bob", at=T0 + timedelta(hours=3)
        ),
    ]
    rewards.record_many(first)
    rewards.grant("bob", "helper", by=ALICE, reason=SECRET, id="g1", at=T0 + timedelta(hours=4))
    rewards.revoke("bob", "helper", by=ALICE, reason="no", id="g2", at=T0 + timedelta(hours=5))
    rewards.grant(ALICE, "helper", by="bob", reason="thanks", id="g3", at=T0 + timedelta(hours=6))
    last = _post(3, ALICE, T0 + timedelta(hours=7), attributes={"title": SECRET})
    rewards.record(last)
    return [*first, last]


def _everything(
    rewards: Rewards, store: Store, users: list[str], ids: list[str], now: datetime
) -> str:
    """Return the text of what every public query answers about ``users`` and ``ids``."""
    out: list[Any] = []
    for aid in ids:
        out += [rewards.activity(aid), rewards.outcome(aid)]
    out += list(store.iter_activities())
    for user in users:
        out += _about(rewards, store, user)
    out.append(rewards.feed(limit=1000))
    for board_id in ("points", "posts", "teams"):
        view = rewards.leaderboard(board_id)
        for window in view.definition.windows:
            out.append(view.top(1000, window=window))
            for user in users:
                out += [
                    view.top(1000, window=window, viewer=user),
                    view.around(user, 9, window=window, viewer=user),
                    view.entry(user, window=window, viewer=user),
                ]
            period = view.period(window)
            out.append(store.board_page(board_id, period, 0, 1000))
    out += [
        store.activity_totals(by=("day", "actor", "kind", "team")),
        store.first_active(),
        store.first_active(team="red"),
        store.last_activity(),
        store.first_awards(),
        rewards.adoption(window="week", period="2026-W10"),
        rewards.newcomers(week="2026-W10"),
    ]
    if store.keeps_outbox:
        out.append(store.claim_notifications(now=now, lease=timedelta(seconds=1)))
    keys: set[str] = set()
    for aid in ids:
        activity = store.get_activity(aid)
        if activity is not None:
            keys.update(rewards.engine.keys(activity))
    for user in users:
        keys.update((balance_key(user, "points"), f"bh\x1fhelper\x1f{user}", f"lvl\x1f{user}"))
    out.append(store.read_state(sorted(keys)))
    return repr(out)


def _about(rewards: Rewards, store: Store, user: str) -> list[Any]:
    """Return what the queries about one person answer."""
    export = rewards.export_person(user)
    about = [
        rewards.explain(user),
        rewards.awards(user),
        rewards.badges(user),
        rewards.balance(user),
        rewards.level(user),
        rewards.profile(user),
        rewards.people.get(user),
        rewards.feed(limit=1000, viewer=user),
        store.person_activities(user),
        store.person_stories(user),
        store.board_exclusions(user),
        store.board_opt_out(user),
        export,
    ]
    if store.keeps_outbox:
        about.append(store.notifications_about(user))
    return about


class Rating(BaseModel):
    """The payload of the rebuild tests' ratings: a number and free text."""

    stars: int
    comment: str


def _rebuild_organisation(store: Store) -> Rewards:
    """Return the organisation of the test of a rebuild from an erased log: votes once per
    object, a distinct-objects badge, ratings whose points come from their payload, a
    manual badge and a tiered one (granted by hand)."""
    return Rewards(
        store,
        kinds=(
            ActivityKind(name="post.created"),
            ActivityKind(name="post.voted"),
            ActivityKind(name="post.rated", payload=Rating),
        ),
        rules=(
            PointRule(id="post", kind="post.created", actor_points=10),
            PointRule(
                id="vote",
                kind="post.voted",
                actor_points=1,
                recipient_points=5,
                once_per_object=True,
            ),
            PointRule(id="rate", kind="post.rated", actor_points=lambda a: a.attributes["stars"]),
        ),
        badges=(
            Badge(id="curator", criterion=criteria.Distinct(kind="post.voted"), threshold=2),
            Badge(id="mentor", criterion=criteria.Manual()),
            Badge(
                id="rank",
                criterion=criteria.Count(kind="post.created"),
                tiers=(Tier(id="silver", threshold=5), Tier(id="gold", threshold=10)),
            ),
        ),
        load_entrypoints=False,
        clock=FrozenClock(T0 + DAY),
    )


def _record_rebuild_organisation(rewards: Rewards) -> None:
    """Record the rebuild test's history: bob votes twice on Alice's post (the object
    OBJECT) and once on cat's, rates her post, and Alice grants and revokes badges."""

    def at(hours: int) -> datetime:
        return T0 + timedelta(hours=hours)

    def vote(n: int, recipient: str, obj: str) -> Activity:
        return Activity(
            id=f"v{n}", actor="bob", kind="post.voted", recipient=recipient, object=obj, at=at(n)
        )

    rewards.record_many(
        [
            _post(1, ALICE, at(0), object=OBJECT),
            _post(2, "cat", at(0), object="post-2"),
            vote(1, ALICE, OBJECT),
            vote(2, ALICE, OBJECT),
            vote(3, "cat", "post-2"),
            Activity(
                id="r1",
                actor="bob",
                kind="post.rated",
                recipient=ALICE,
                object=OBJECT,
                attributes={"stars": 4, "comment": SECRET},
                at=at(4),
            ),
        ]
    )
    rewards.grant("bob", "mentor", by=ALICE, reason=SECRET, id="g1", at=at(5))
    rewards.grant("bob", "rank", tier="gold", by=ALICE, reason=SECRET, id="g2", at=at(5))
    rewards.grant("cat", "mentor", by="boss", reason="helps", id="g3", at=at(5))
    rewards.revoke("cat", "mentor", by=ALICE, reason=SECRET, id="g4", at=at(6))
    rewards.grant(ALICE, "mentor", by="boss", reason=SECRET, id="g5", at=at(6))


def _standing(rewards: Rewards, user: str) -> tuple[Any, ...]:
    """Return a person's balance, ledger and awards (each with who revoked it, if anyone)."""
    ledger = [
        (e.activity_id, e.rule, e.amount, e.requested, e.limit) for e in rewards.explain(user)
    ]
    awards = [
        (
            r.award.badge,
            r.award.tier,
            r.award.period,
            r.award.activity_id,
            None if r.revocation is None else (r.revocation.by, r.revocation.activity_id),
        )
        for r in rewards.awards(user)
    ]
    return rewards.balance(user), ledger, awards


def _erased_pseudonym(store: Store) -> str:
    activity = store.get_activity("p1")
    assert activity is not None
    return activity.actor


class PeopleConformance:
    """The people sentences of the Store contract, and the privacy features over a store."""

    # -- the store contract: people -----------------------------------------------------

    def test_person_round_trips(self, store: Store, make_store: Callable[[], Store]) -> None:
        """update_person stores the display name, groups, memberships with their times and
        the feed and display settings; get_people returns them, from any store over the
        same database."""
        person = Person(
            "ann",
            "Ann Lee",
            ("managers", "admins"),
            (Membership("red", T0, T0 + DAY), Membership("blue", T0 + DAY), Membership("x")),
            PrivacySettings(feed=False, display="initials"),
        )
        assert store.update_person("ann", lambda old: person) == person
        assert make_store().get_people(["ann", "nobody"]) == {"ann": person}

    def test_update_person_sees_the_stored_record(self, store: Store) -> None:
        """update_person passes None for a person without a record, then the stored record."""
        seen: list[Person | None] = []

        def change(old: Person | None) -> Person:
            seen.append(old)
            return Person("ann", "Ann" if old is None else "Ann Lee")

        store.update_person("ann", change)
        assert store.update_person("ann", change).display_name == "Ann Lee"
        assert seen == [None, Person("ann", "Ann")]

    def test_failed_update_stores_nothing(self, store: Store) -> None:
        """An exception from the change stores nothing."""
        store.update_person("ann", lambda old: Person("ann", "Ann"))

        def explode(old: Person | None) -> Person:
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            store.update_person("ann", explode)
        with pytest.raises(RuntimeError, match="boom"):
            store.update_person("new", explode)
        assert store.get_people(["ann", "new"]) == {"ann": Person("ann", "Ann")}
        assert [p.user for p in store.iter_people()] == ["ann"]

    def test_concurrent_updates_apply_one_after_the_other(
        self, make_store: Callable[[], Store]
    ) -> None:
        """Concurrent updates of one person (from stores over one database) all apply."""

        def adding(group: str) -> Callable[[Person | None], Person]:
            return lambda old: Person("ann", groups=(*(old.groups if old else ()), group))

        stores = [make_store() for _ in range(4)]  # the schema made before the threads

        def add_groups(worker: int) -> None:
            for n in range(5):
                stores[worker].update_person("ann", adding(f"g{worker}-{n}"))

        run_in_threads(add_groups, range(4))  # raises what a thread raised
        groups = make_store().get_people(["ann"])["ann"].groups
        assert sorted(groups) == sorted(f"g{w}-{n}" for w in range(4) for n in range(5))

    def test_update_person_and_exclusions(self, store: Store) -> None:
        """update_person_and_exclusions stores the record and the exclusions its function
        gives for the new record; an exception from either function stores neither."""
        person = store.update_person_and_exclusions(
            "ann",
            lambda old: Person("ann", "Ann", groups=("managers",)),
            lambda new: [f"not-{g}" for g in new.groups],
        )
        assert person.groups == ("managers",)
        assert store.get_people(["ann"])["ann"].groups == ("managers",)
        assert store.board_exclusions("ann") == frozenset({"not-managers"})

        def refuse(new: Person) -> list[str]:
            raise ValueError("no")

        def refuse_change(old: Person | None) -> Person:
            raise ValueError("no")

        with pytest.raises(ValueError, match="no"):
            store.update_person_and_exclusions(
                "ann", lambda old: Person("ann", groups=("staff",)), refuse
            )
        with pytest.raises(ValueError, match="no"):
            store.update_person_and_exclusions("ann", refuse_change, lambda new: ["x"])
        assert store.get_people(["ann"])["ann"] == person
        assert store.board_exclusions("ann") == frozenset({"not-managers"})

    def test_concurrent_group_changes_keep_record_and_exclusions_together(
        self, make_store: Callable[[], Store]
    ) -> None:
        """People changing one person's groups at once (stores over one database) leave
        the groups of one change with the exclusions of the same change."""
        stores = [make_store() for _ in range(4)]  # the schema made before the threads
        start = threading.Barrier(len(stores))

        def regroup(worker: int) -> None:
            store = stores[worker]
            rewards = _rewards(
                store,
                *(
                    Leaderboard(id=f"b{w}", metric=PointsMetric(), exclude_groups=(f"g{w}",))
                    for w in range(4)
                ),
            )
            start.wait(10)
            for n in range(10):
                rewards.people.set("ann", groups=(f"g{(worker + n) % 4}",))

        run_in_threads(regroup, range(4))  # raises what a thread raised
        check = make_store()
        (group,) = check.get_people(["ann"])["ann"].groups
        assert check.board_exclusions("ann") == frozenset({f"b{group[1:]}"})

    def test_update_person_and_opt_out(self, store: Store) -> None:
        """update_person_and_opt_out stores the record and the opt-out, and returns the
        record with the new opt-out; an exception from the change stores neither."""
        person = store.update_person_and_opt_out(
            "ann", lambda old: Person("ann", settings=PrivacySettings(feed=False)), True
        )
        assert (person.settings.feed, person.settings.leaderboards) == (False, False)
        assert store.get_people(["ann"])["ann"] == person
        assert store.board_opt_out("ann") is True

        def refuse_change(old: Person | None) -> Person:
            raise ValueError("no")

        with pytest.raises(ValueError, match="no"):
            store.update_person_and_opt_out("ann", refuse_change, False)
        assert store.get_people(["ann"])["ann"] == person
        assert store.board_opt_out("ann") is True
        back = store.update_person_and_opt_out(
            "ann", lambda old: Person("ann", settings=PrivacySettings(feed=True)), False
        )
        assert (back.settings.feed, back.settings.leaderboards) == (True, True)
        assert store.get_people(["ann"])["ann"] == back
        assert store.board_opt_out("ann") is False

    def test_leaderboard_setting_is_the_opt_out(self, store: Store) -> None:
        """settings.leaderboards is not stored by update_person: it is the opt-out."""
        store.update_person(
            "ann", lambda old: Person("ann", settings=PrivacySettings(leaderboards=False))
        )
        assert store.board_opt_out("ann") is False
        assert store.get_people(["ann"])["ann"].settings.leaderboards is True
        store.set_board_opt_out("ann", True)
        assert store.get_people(["ann"])["ann"].settings.leaderboards is False
        assert [p.settings.leaderboards for p in store.iter_people()] == [False]

    def test_memberships(self, store: Store) -> None:
        """memberships returns the memberships of the people who have any."""
        spans = (Membership("red", T0, T0 + DAY), Membership("blue", T0 + DAY))
        store.update_person("ann", lambda old: Person("ann", memberships=spans))
        store.update_person("bob", lambda old: Person("bob", "Bob"))
        assert store.memberships(["ann", "bob", "cat"]) == {"ann": spans}

    def test_board_exclusions(self, store: Store) -> None:
        """An excluded person's rows are unlisted on the boards of the set only, their
        standing answered hidden; a new set replaces the old one."""
        rewards = _rewards(
            store,
            Leaderboard(id="a", metric=PointsMetric()),
            Leaderboard(id="b", metric=PointsMetric(), windows=("all", "3d")),
        )
        rewards.record_many([_post(1, "ann"), _post(2, "bob"), _post(3, "bob")])
        store.set_board_exclusions("bob", ["b"])
        assert store.board_exclusions("bob") == frozenset({"b"})
        assert [r.subject for r in store.board_page("a", "all", 0, 9).rows] == ["bob", "ann"]
        assert [r.subject for r in store.board_page("b", "all", 0, 9).rows] == ["ann"]
        assert store.board_size("b", "all") == 1
        standing = store.board_standing("b", "all", "bob")
        assert standing is not None
        assert (standing.hidden, standing.size, standing.worse) == (True, 1, 1)
        assert (store.board_hidden("a", "bob"), store.board_hidden("b", "bob")) == (False, True)
        near = store.board_around("b", "all", "bob", 1, 1)
        assert near is not None
        assert near.hidden is True
        assert [r.subject for r in near.rows] == ["bob", "ann"]  # their own row put in place
        assert rewards.leaderboard("b").around("bob", 3) == []
        assert rewards.leaderboard("b").around("bob", 3, window="3d") == []
        assert _users(rewards.leaderboard("b").around("ann", 3, window="3d")) == ["ann"]
        around_a = store.board_around("a", "all", "bob", 1, 1)
        assert around_a is not None
        assert around_a.hidden is False
        assert _users(rewards.leaderboard("b").top(window="3d")) == ["ann"]
        store.set_board_exclusions("bob", ["a"])
        assert [r.subject for r in store.board_page("a", "all", 0, 9).rows] == ["ann"]
        assert [r.subject for r in store.board_page("b", "all", 0, 9).rows] == ["bob", "ann"]
        assert _users(rewards.leaderboard("b").top(window="3d")) == ["bob", "ann"]

    def test_exclusions_and_opt_out_combine(self, store: Store) -> None:
        """Rows stay unlisted while either the opt-out or an exclusion holds."""
        rewards = _rewards(store)
        rewards.record_many([_post(1, "ann"), _post(2, "bob")])
        store.set_board_exclusions("ann", ["pts"])
        store.set_board_opt_out("ann", True)
        store.set_board_exclusions("ann", [])
        assert store.board_size("pts", "all") == 1
        store.set_board_exclusions("ann", ["pts"])
        store.set_board_opt_out("ann", False)
        assert store.board_size("pts", "all") == 1
        assert store.board_hidden("pts", "ann") is True
        store.set_board_exclusions("ann", ())
        assert store.board_size("pts", "all") == 2
        assert store.board_exclusions("ann") == frozenset()

    def test_person_activities(self, store: Store) -> None:
        """person_activities returns what the person did or received, in recording order."""
        rewards = _rewards(store, accept_any_kind=True)
        rewards.record_many(
            [
                _post(1, "ann"),
                Activity(id="v", actor="bob", kind="post.liked", recipient="ann", at=T0),
                _post(2, "bob", attributes={"about": "ann"}),
                _post(3, "ann"),
            ]
        )
        assert [a.id for a in store.person_activities("ann")] == ["p1", "v", "p3"]
        assert store.person_activities("nobody") == []

    def test_person_stories(self, store: Store) -> None:
        """person_stories returns the kept stories naming the person, oldest first."""
        stories = [
            Story(f"s{n}", "badge", people, "t", {}, T0 + timedelta(minutes=m), "x")
            for n, people, m in ((1, ("ann",), 5), (2, ("bob",), 1), (3, ("bob", "ann"), 2))
        ]
        activity = Activity(id="x", actor="sys", kind="e2badges.badge.granted", at=T0)
        with store.transaction() as tx:
            tx.claim([activity])
            tx.view(set() if tx.wants_keys else None)
            tx.apply(EffectBatch([(activity, Outcome("x", stories=tuple(stories)))]))
        assert [s.id for s in store.person_stories("ann")] == ["s3", "s1"]

    def test_notifications_about(self, store: Store) -> None:
        """notifications_about returns the notifications not done whose payload names the
        person in a person field (user, by, subject, ... at any depth), in outbox order;
        an activity id, a badge id or a dict key equal to their id does not name them."""
        needs_outbox(store)
        notes = [
            Notification("n1", "e2badges_notify_award", {"user": "ann"}, ("p",)),
            Notification("n2", "e2badges_notify_award", {"user": "anne"}, ("p",)),
            Notification("n3", "h", {"standings": [{"user": "x"}, {"user": "ann"}]}, ("p",)),
            Notification("n4", "h", {"user": "ann"}, ("p",)),
            Notification("n5", "e2badges_notify_outcome", {"activity_id": "ann"}, ("p",)),
            Notification("n6", "e2badges_notify_award", {"user": "x", "badge": "ann"}, ("p",)),
            Notification("n7", "h", {"scores": {"ann": 1}}, ("p",)),
            Notification("n8", "e2badges_notify_revocation", {"user": "x", "by": "ann"}, ("p",)),
        ]
        _put_notifications(store, notes)
        store.release_notification("n4", done=True)
        about = store.notifications_about("ann")
        assert [e.notification.id for e in about] == ["n1", "n3", "n8"]

    def test_erasure_drops_only_the_errors_of_their_notifications(self, store: Store) -> None:
        """Erasure drops the delivery errors of the notifications about the person (their
        payload names them in a person field, or they tell an activity they did or
        received) and leaves those of every other notification as they were, whatever
        text they hold: the id ``17`` in a URL, a duration or a word."""
        needs_outbox(store)
        rewards = _rewards(store)
        # Bob's post has the id "17", and the person erased is "17".
        rewards.record_many([_post(17, "bob"), _post(2, "17"), _post(3, "carl")])
        notes = [
            Notification("recorded:p17", "e2badges_notify_outcome", {"activity_id": "p17"}, ("p",)),
            Notification("recorded:p2", "e2badges_notify_outcome", {"activity_id": "p2"}, ("p",)),
            Notification("n1", "e2badges_notify_award", {"user": "bob", "badge": "17"}, ("p",)),
            Notification("n2", "e2badges_notify_award", {"user": "17"}, ("p", "q")),
            Notification("n3", "h", {"standings": [{"user": "carl"}, {"user": "17"}]}, ("p",)),
            Notification("n4", "e2badges_notify_revocation", {"user": "x", "by": "17"}, ("p",)),
            Notification("n5", "h", {"scores": {"17": 1}, "activity_id": "p2"}, ("p",)),
        ]
        _put_notifications(store, notes)
        error = "HTTP 503 from https://hooks.example/v1/17 after 17 s (id 17)"
        for note in notes:
            store.mark_failed(note.id, "p", error=error)
        store.mark_failed("n2", "q", error="no inbox for 17")
        store.release_notification("n3", done=True)
        rewards.erase_person("17")
        errors = {note.id: _stored_errors(store, note.id) for note in notes}
        assert errors == {
            "recorded:p17": {"p": error},
            "recorded:p2": {"p": ERASED_ERROR},
            "n1": {"p": error},
            "n2": {"p": ERASED_ERROR, "q": ERASED_ERROR},
            "n3": {"p": ERASED_ERROR},
            "n4": {"p": ERASED_ERROR},
            "n5": {"p": error},
        }

    def test_erasure_leaves_others_delivery_errors(self, store: Store) -> None:
        """A notifier's error naming a number equal to the erased id stays as it was in
        other people's notifications, in the store and in ``rewards.delivery_errors``;
        the errors of the person's own notifications are dropped in both."""
        needs_outbox(store)

        class Webhook:
            name = "webhook"

            @hookimpl
            def e2badges_notify_outcome(self, notification_id: str) -> None:
                raise RuntimeError("HTTP 503 from https://hooks.example/v1/17 after 17 s")

            @hookimpl
            def e2badges_notify_award(self, award: Award) -> None:
                raise RuntimeError(f"no inbox for {award.user}")

        rewards = _rewards(store, plugins=[Webhook()], delivery=DeliveryPolicy(inline=False))
        rewards.record_many([_post(1, "bob"), _post(2, "17")])
        rewards.deliver_pending()
        rewards.erase_person("17")
        down = "RuntimeError: HTTP 503 from https://hooks.example/v1/17 after 17 s"
        expected = {
            "recorded:p1": down,
            "award:0:p1": "RuntimeError: no inbox for bob",
            "recorded:p2": ERASED_ERROR,
            "award:0:p2": ERASED_ERROR,
        }
        assert {n: _stored_errors(store, n) for n in expected} == {
            n: {"webhook": e} for n, e in expected.items()
        }
        assert {f.notification_id: f.error for f in rewards.delivery_errors} == expected

    def test_notifications_about_with_ids(self, store: Store) -> None:
        """notifications_about(user, ids=...) also returns the notifications not done with
        one of those ids, each once, in outbox order; unknown ids are left out."""
        needs_outbox(store)
        notes = [
            Notification("n1", "h", {"activity_id": "a1"}, ("p",)),
            Notification("n2", "e2badges_notify_award", {"user": "ann"}, ("p",)),
            Notification("n3", "h", {"activity_id": "a3"}, ("p",)),
            Notification("n4", "h", {"activity_id": "a4"}, ("p",)),
            Notification("n5", "h", {"activity_id": "a5"}, ("p",)),
        ]
        _put_notifications(store, notes)
        store.release_notification("n4", done=True)
        about = store.notifications_about("ann", ids=["n5", "n2", "unknown", "n4", "n1", "n5"])
        assert [e.notification.id for e in about] == ["n1", "n2", "n5"]
        assert [e.notification.id for e in store.notifications_about("bob", ids=())] == []

    # -- opt-outs ---------------------------------------------------------------------------

    def test_opting_out_of_leaderboards(self, store: Store) -> None:
        """A person off leaderboards is left out of boards shown to others and still sees
        their own place, points and badges; set_leaderboard_opt_out is the same setting."""
        rewards = _rewards(store)
        rewards.record_many([_post(1, "ann"), _post(2, "ann"), _post(3, "bob")])
        person = rewards.people.settings("ann", leaderboards=False)
        assert person.settings.leaderboards is False
        assert rewards.leaderboard_opt_out("ann") is True
        view = rewards.leaderboard("pts")
        assert _users(view.top()) == ["bob"]
        assert view.rank("ann") is None
        assert view.rank("ann", viewer="ann") == 1
        assert (rewards.balance("ann"), [a.badge for a in rewards.badges("ann")]) == (
            20,
            ["writer"],
        )
        assert rewards.profile("ann").balances == {"points": 20}
        rewards.set_leaderboard_opt_out("ann", False)
        assert rewards.people.get("ann").settings.leaderboards is True
        assert _users(view.top()) == ["ann", "bob"]

    def test_opting_out_of_the_feed(self, store: Store) -> None:
        """A person off the feed is named in no story shown to others, sees their own
        stories, and stays on leaderboards."""
        rewards = _rewards(store)
        rewards.record_many([_post(1, "ann"), _post(2, "bob")])
        rewards.people.settings("ann", feed=False)
        assert rewards.people.get("ann").settings == PrivacySettings(feed=False)
        assert [s.people for s in rewards.feed()] == [("bob",)]
        assert [s.people for s in rewards.feed(viewer="ann")] == [("bob",), ("ann",)]
        assert _users(rewards.leaderboard("pts").top()) == ["ann", "bob"]

    # -- excluded groups ------------------------------------------------------------------

    def test_excluded_groups(self, store: Store) -> None:
        """People in a group a board excludes are left out of that board as shown to others,
        and of its leader stories; they still see their own place; other boards list them."""
        rewards = _rewards(
            store,
            Leaderboard(id="staff", metric=PointsMetric(), exclude_groups=("managers",)),
            Leaderboard(id="all", metric=PointsMetric()),
            stories=StoryOptions(leaders=("staff",)),
        )
        rewards.people.set("boss", groups=("managers", "admins"))
        rewards.record_many([_post(1, "boss"), _post(2, "boss"), _post(3, "ann")])
        staff = rewards.leaderboard("staff")
        assert _users(staff.top()) == ["ann"]
        assert staff.size() == 1
        assert staff.rank("boss", viewer="boss") == 1
        assert _users(staff.top(viewer="boss")) == ["boss", "ann"]
        assert _users(rewards.leaderboard("all").top()) == ["boss", "ann"]
        assert [s.kind for s in rewards.feed() if s.people == ("boss",)] == ["badge"]
        rewards.people.set("boss", groups=("admins",))
        assert _users(staff.top()) == ["boss", "ann"]
        # Back among the managers, boss is named in no leader story shown to others, not
        # even as the leader someone else took the lead from.
        rewards.people.set("boss", groups=("managers",))
        rewards.record_many([_post(4, "ann"), _post(5, "ann")])
        leaders = [s for s in rewards.feed(viewer="cat") if s.kind == "leader"]
        assert [s.people for s in leaders] == [("ann",)]
        assert "boss" not in repr(leaders)

    def test_resync_applies_new_exclusions(self, store: Store) -> None:
        """resync applies a board's changed exclude_groups to every stored person."""
        before = _rewards(store, Leaderboard(id="staff", metric=PointsMetric()))
        before.people.set("boss", groups=("managers",))
        before.people.set("ann", groups=())
        before.record_many([_post(1, "boss"), _post(2, "ann")])
        after = _rewards(
            store, Leaderboard(id="staff", metric=PointsMetric(), exclude_groups=("managers",))
        )
        assert after.people.resync() == 1
        assert _users(after.leaderboard("staff").top()) == ["ann"]
        assert after.people.resync() == 0

    # -- the ranking switch ---------------------------------------------------------------

    def test_rankings_off(self, store: Store) -> None:
        """With rankings=False every query that ranks people raises RankingsDisabledError;
        points, badges, levels, profile and a person's own scores still answer."""
        rewards = _rewards(
            store,
            Leaderboard(id="pts", metric=PointsMetric(), windows=("all", "week")),
            rankings=False,
            stories=StoryOptions(leaders=("pts",)),
        )
        outcome = rewards.record(_post(1, "ann"))
        assert [s.kind for s in outcome.stories] == ["badge"]
        view = rewards.leaderboard("pts")
        for query in (
            view.top,
            lambda: view.top(viewer="ann"),
            lambda: view.rank("ann", viewer="ann"),
            lambda: view.entry("ann", viewer="ann"),
            lambda: view.percentile("ann", viewer="ann"),
            lambda: view.around("ann", viewer="ann"),
            view.size,
            lambda: view.score("ann"),
            lambda: view.score("ann", viewer="bob"),
            rewards.newcomers,
        ):
            with pytest.raises(RankingsDisabledError):
                query()
        assert view.score("ann", viewer="ann") == 10
        assert view.score("ann", window="week", viewer="ann") == 10
        assert rewards.balance("ann") == 10
        assert [a.badge for a in rewards.badges("ann")] == ["writer"]
        assert rewards.profile("ann").balances == {"points": 10}
        assert rewards.close_periods() == []
        assert "rank" not in rewards.export_person("ann")["leaderboards"][0]

    # -- display policies -------------------------------------------------------------------

    def _named(self, store: Store, policy: DisplayPolicy) -> Rewards:
        rewards = _rewards(store, display=policy)
        rewards.people.set("ann", display_name="Ann Maria Lee")
        rewards.record_many([_post(1, "ann"), _post(2, "ann"), _post(3, "bob")])
        return rewards

    def test_display_full_name(self, store: Store) -> None:
        """Under full_name others see display names (the id for a person without one)."""
        rewards = self._named(store, DisplayPolicy(default="full_name"))
        top = rewards.leaderboard("pts").top()
        assert [(e.user, e.display) for e in top] == [("ann", "Ann Maria Lee"), ("bob", "bob")]
        stories = rewards.feed()
        assert [(s.names, s.text) for s in stories] == [
            (("bob",), "bob earned writer"),
            (("Ann Maria Lee",), "Ann Maria Lee earned writer"),
        ]

    def test_display_initials(self, store: Store) -> None:
        """Under initials others see initials; the person sees their full name."""
        rewards = self._named(store, DisplayPolicy(default="initials"))
        view = rewards.leaderboard("pts")
        assert [e.display for e in view.top()] == ["A. M. L.", "B."]
        assert [e.display for e in view.top(viewer="ann")] == ["Ann Maria Lee", "B."]
        entry = view.entry("ann", viewer="bob")
        assert entry is not None
        assert entry.display == "A. M. L."
        assert [s.text for s in rewards.feed(viewer="ann")][1] == "Ann Maria Lee earned writer"
        newcomers = rewards.newcomers(week="2026-W10")
        assert {e.user: e.display for e in newcomers} == {"ann": "A. M. L.", "bob": "B."}

    def test_display_pseudonym(self, store: Store) -> None:
        """Under pseudonym others see a name derived from the id under the key: stable,
        free of the id and the name, different under another key; the person sees their
        own name."""
        policy = DisplayPolicy(default="pseudonym", key=KEY)
        rewards = self._named(store, policy)
        view = rewards.leaderboard("pts")
        shown = [e.display for e in view.top()]
        assert shown == [policy.pseudonym("ann"), policy.pseudonym("bob")]
        assert shown == [e.display for e in view.top()]
        assert "Lee" not in repr(view.top())
        assert "Lee" not in repr(rewards.feed())
        other = DisplayPolicy(default="pseudonym", key="another-key-of-16-chars")
        assert other.pseudonym("ann") != policy.pseudonym("ann")
        assert view.around("ann", 2, viewer="ann")[0].display == "Ann Maria Lee"
        assert rewards.feed()[1].text == f"{policy.pseudonym('ann')} earned writer"

    def test_display_choice(self, store: Store) -> None:
        """A person's display choice applies when the policy offers it, else the default."""
        offered = self._named(
            store, DisplayPolicy(default="full_name", choices=("initials", "pseudonym"), key=KEY)
        )
        offered.people.settings("ann", display="initials")
        assert [e.display for e in offered.leaderboard("pts").top()] == ["A. M. L.", "bob"]
        fixed = _rewards(store, display=DisplayPolicy(default="full_name"))
        assert [e.display for e in fixed.leaderboard("pts").top()] == ["Ann Maria Lee", "bob"]

    # -- team history ------------------------------------------------------------------------

    def test_team_boards_credit_the_team_at_the_time(self, store: Store) -> None:
        """Activities without teams count for the teams their actor belonged to at their
        ``at``, late ones included; explicit teams win; a retry without teams is the same
        activity."""
        rewards = _rewards(
            store,
            Leaderboard(id="teams", metric=CountMetric(kind="post.created"), scope=TeamsScope()),
        )
        rewards.people.join_team("ann", "red", at=T0 - DAY)
        rewards.record(_post(1, "ann", T0))
        rewards.people.leave_team("ann", "red", at=T0 + DAY)
        rewards.people.join_team("ann", "blue", at=T0 + DAY)
        rewards.record(_post(2, "ann", T0 + 2 * DAY))
        rewards.record(_post(3, "ann", T0 + timedelta(hours=5)))  # late: before the move
        rewards.record(_post(4, "ann", T0 + 2 * DAY, teams=("green",)))
        rewards.record(_post(5, "bob", T0))  # no memberships: no team
        rows = rewards.leaderboard("teams").top()
        assert sorted((e.user, e.score) for e in rows) == [("blue", 1), ("green", 1), ("red", 2)]
        stored = store.get_activity("p3")
        assert stored is not None
        assert stored.teams == ("red",)
        again = rewards.record(_post(3, "ann", T0 + timedelta(hours=5)))
        assert again == store.get_outcome("p3")
        person = rewards.people.get("ann")
        assert person.teams == ("blue",)
        assert person.teams_at(T0) == ("red",)

    def test_memberships_compare_instants_in_a_dst_fold(self, store: Store) -> None:
        """Membership times are compared with activity times, and with each other, as
        instants, also in the hour a DST change repeats (Europe/Berlin, 25 October 2026):
        02:10 of its second pass is 40 minutes after 02:30 of the first."""
        berlin = ZoneInfo("Europe/Berlin")
        joined = datetime(2026, 10, 25, 2, 30, tzinfo=berlin)  # 00:30 UTC
        later = datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=berlin)  # 01:10 UTC
        between = datetime(2026, 10, 25, 2, 40, tzinfo=berlin)  # 00:40 UTC
        first = Badge(id="first", criterion=criteria.First(kind="post.created", scope="team"))
        rewards = Rewards(store, badges=(first,), timezone="Europe/Berlin", load_entrypoints=False)
        rewards.people.join_team("ann", "red", at=joined)
        outcome = rewards.record(_post(1, "ann", later))
        assert [(w.badge, w.team) for w in outcome.awards] == [("first", "red")]
        stored = store.get_activity("p1")
        assert stored is not None
        assert stored.teams == ("red",)
        assert rewards.people.get("ann").teams_at(later) == ("red",)
        assert Membership("red", joined).covers(later)
        assert not Membership("red", later).covers(between)
        left = rewards.people.leave_team("ann", "red", at=later)
        # Returned at its UTC offset (+01:00): == with a ZoneInfo time in a fold is False.
        assert left.memberships[0].left == later.astimezone(UTC)
        assert left.teams_at(between) == ("red",)
        assert left.teams_at(later) == ()
        with pytest.raises(InvalidPersonError, match="must be after joined"):
            rewards.people.set("ann", teams=[Membership("blue", later, joined)])
        overlapping = [Membership("blue", joined, later), Membership("blue", between)]
        with pytest.raises(InvalidPersonError, match="overlap"):
            rewards.people.set("ann", teams=overlapping)

    # -- export ---------------------------------------------------------------------------

    def test_export_person(self, store: Store) -> None:
        """export_person returns, as JSON-safe data, the person's record, settings,
        memberships, the activities they did or received, ledger, balances, awards,
        standings, stories and pending notifications."""
        rewards = _organisation(store)
        _record_organisation(rewards)
        rewards.people.settings(ALICE, feed=False)
        export = json.loads(json.dumps(rewards.export_person(ALICE)))
        person = export["person"]
        assert (person["display_name"], person["groups"]) == (ALICE_NAME, ["managers"])
        assert person["memberships"] == [
            {"team": "red", "joined": (T0 - DAY).isoformat(), "left": None}
        ]
        assert person["settings"] == {"leaderboards": True, "feed": False, "display": None}
        assert person["board_exclusions"] == ["posts"]
        assert [a["id"] for a in export["activities"]] == ["p1", "u1", "u2", "g1", "g2", "g3", "p3"]
        # As submitted or as the check hook rewrote it (stores differ there; not this test's).
        assert export["activities"][0]["attributes"]["title"].lower() == SECRET
        assert {line["activity_id"] for line in export["ledger"]} == {"p1", "u1", "u2", "p3"}
        assert export["balances"] == {"points": rewards.balance(ALICE)}
        assert {a["award"]["badge"] for a in export["awards"]} == {
            "writer",
            "liked",
            "pioneer",
            "helper",
        }
        boards = {(s["board"], s["window"]): s for s in export["leaderboards"]}
        assert boards[("points", "all")]["score"] == rewards.balance(ALICE)
        assert boards[("points", "all")]["rank"] == 1
        assert {s["kind"] for s in export["stories"]} >= {"badge", "leader"}
        if store.keeps_outbox:
            assert {n["hook"] for n in export["notifications"]} == {"e2badges_notify_award"}
            assert all(ALICE in json.dumps(n["payload"]) for n in export["notifications"])
        else:
            assert export["notifications"] == []

    def test_export_person_outcome_notifications(self, store: Store) -> None:
        """export_person's notifications include the outcome notifications not yet
        delivered of the activities the person did or received, whose payload names only
        the activity, and not those of other people's activities."""
        needs_outbox(store)
        rewards = Rewards(
            store,
            rules=(
                PointRule(id="post", kind="post.created", actor_points=10),
                PointRule(id="upvote", kind="post.upvoted", recipient_points=5),
            ),
            plugins=(OutcomeNotifier(),),
            load_entrypoints=False,
            delivery=DeliveryPolicy(inline=False),
            clock=FrozenClock(T0 + DAY),
        )
        rewards.record_many(
            [
                _post(1, "ann"),
                _post(2, "bob"),
                Activity(id="u1", actor="bob", kind="post.upvoted", recipient="ann", at=T0),
                _post(3, "ann"),
            ]
        )
        store.release_notification("recorded:p3", done=True)
        export = json.loads(json.dumps(rewards.export_person("ann")))
        assert [n["id"] for n in export["notifications"]] == ["recorded:p1", "recorded:u1"]
        assert export["notifications"][0]["payload"] == {"activity_id": "p1"}
        assert rewards.export_person("carl")["notifications"] == []

    # -- erasure ---------------------------------------------------------------------------

    def test_erasure_leaves_no_trace(self, store: Store) -> None:
        """After erase_person no query returns the person's id, display name or activity
        content, and organisation-wide figures stay as they were."""
        rewards = _organisation(store)
        activities = _record_organisation(rewards)
        ids = [a.id for a in activities] + ["g1", "g2", "g3"]
        before = _everything(rewards, store, [ALICE, "bob"], ids, T0 + 9 * DAY)
        assert ALICE in before
        assert ALICE_NAME in before
        assert SECRET in before
        figures = self._figures(rewards, store)

        rewards.erase_person(ALICE)

        pseudonym = _erased_pseudonym(store)
        assert pseudonym != ALICE
        after = _everything(rewards, store, ["bob", pseudonym], ids, T0 + 19 * DAY)
        for trace in (ALICE, ALICE_NAME, SECRET, OBJECT, SECRET.upper()):
            assert trace not in after, trace
        # Asked about by id, the store knows no more of them than of someone never seen.
        about = repr(_about(rewards, store, ALICE)).replace(ALICE, "nobody")
        assert about == repr(_about(rewards, store, "nobody"))
        assert self._figures(rewards, store) == figures
        assert rewards.balance(pseudonym) == figures["alice"]
        assert rewards.leaderboard("points").size() == 1
        assert rewards.people.get(ALICE) == Person(ALICE)

    def test_erasure_replaces_objects_in_state_keys(self, store: Store) -> None:
        """In the state keys naming the erased person, the object of an activity they did
        or received becomes a stand-in owing nothing to the object (a digest of the
        pseudonym and the least id of their activities with that object); the keys keep
        their shape and their values, the same on every store."""
        rewards = _organisation(store)
        _record_organisation(rewards)
        old = {
            "once": f"once\x1fseen\x1f{ALICE}\x1f{OBJECT}",
            "cool": f"cool\x1fpost\x1f{ALICE}\x1f{OBJECT}",
            "cap": f"cap\x1fr\x1fpost\x1fday\x1fobject\x1f{ALICE}\x1f{OBJECT}\x1f2026-03-02",
        }
        values = store.read_state(old.values())
        assert set(values) == set(old.values())
        pseudonym = "erased-" + "e" * 24

        store.erase_person(ALICE, pseudonym)

        digest = hashlib.sha256(f"{pseudonym}\x1fp1".encode()).hexdigest()
        stand_in = f"erased-{digest}"
        new = {
            "once": f"once\x1fseen\x1f{pseudonym}\x1f{stand_in}",
            "cool": f"cool\x1fpost\x1f{pseudonym}\x1f{stand_in}",
            "cap": f"cap\x1fr\x1fpost\x1fday\x1fobject\x1f{pseudonym}\x1f{stand_in}\x1f2026-03-02",
        }
        assert store.read_state(old.values()) == {}
        assert store.read_state(new.values()) == {new[k]: values[old[k]] for k in old}

    def test_a_rebuild_from_the_erased_log_gives_the_same_figures(self, store: Store) -> None:
        """After erase_person, recording the store's log into a fresh store under the same
        definitions gives the others the same balances, ledgers and badges, and the
        pseudonym the same balance and badges: a grant or revocation the person made or
        received keeps its badge, tier and period; an activity they received keeps its
        object as the stand-in of their state keys (once per object, distinct objects)
        and the numbers of its kind's payload (a rule computing from them).  The log
        holds none of their text or objects."""
        rewards = _rebuild_organisation(store)
        _record_rebuild_organisation(rewards)
        rewards.erase_person(ALICE)
        log = list(store.iter_activities())
        for trace in (ALICE, SECRET, OBJECT):
            assert trace not in repr(log), trace
        pseudonym = _erased_pseudonym(store)

        rebuilt = _rebuild_organisation(MemoryStore())
        rebuilt.record_many(log)

        for user in ("bob", "cat", "boss", pseudonym):
            assert _standing(rebuilt, user) == _standing(rewards, user), user
        assert [a.badge for a in rewards.badges("bob")] == ["curator", "mentor", "rank"]

    def _figures(self, rewards: Rewards, store: Store) -> dict[str, Any]:
        """Return organisation-wide figures that erasure keeps."""
        report = rewards.adoption(window="week", period="2026-W10")
        teams = rewards.leaderboard("teams").top()
        pseudonym = _erased_pseudonym(store)
        return {
            "activities": store.count_activities(),
            "report": (report.active, report.contributors, report.by_kind, report.by_team),
            "totals": sorted((r[0], *r[2:]) for r in store.activity_totals(by=("day", "actor"))),
            "teams": [(e.user, e.score) for e in teams],
            "milestones": store.read_state(["st\x1fms\x1fpost.created"]),
            "firsts": sorted(store.first_awards().values()),
            "alice": rewards.balance(ALICE) or rewards.balance(pseudonym),
        }

    def test_erased_ids_stay_recorded(self, store: Store) -> None:
        """Recording an erased person's activity again changes nothing: no conflict, no
        data back."""
        rewards = _organisation(store)
        activities = _record_organisation(rewards)
        rewards.erase_person(ALICE)
        outcome = store.get_outcome("p1")
        count = store.count_activities()
        assert rewards.record(activities[0]) == outcome
        assert store.count_activities() == count
        assert store.person_activities(ALICE) == []
        assert rewards.balance(ALICE) == 0
        pseudonym = _erased_pseudonym(store)
        week = rewards.newcomers(week="2026-W10", limit=100)
        assert pseudonym not in [e.user for e in week]  # no call-out names the erased

    def test_a_new_person_by_an_erased_id_is_told_their_personal_best(self, store: Store) -> None:
        """After erasure, new activities by the same id make a new person: their personal
        best of a period in which the erased person had one is told and shown in the feed
        (the story's id, from the board, period and person, is the same)."""
        board = Leaderboard(id="posts", metric=CountMetric(kind="post.created"), windows=("week",))
        rewards = _rewards(store, board, stories=StoryOptions(personal_bests=("posts",)))

        def best(tag: str) -> list[str]:
            rewards.record(_post(0, ALICE, T0 - 7 * DAY).model_copy(update={"id": f"{tag}0"}))
            rewards.record(_post(1, ALICE, T0).model_copy(update={"id": f"{tag}1"}))
            then = T0 + timedelta(minutes=1)
            outcome = rewards.record(_post(2, ALICE, then).model_copy(update={"id": f"{tag}2"}))
            return [s.id for s in outcome.stories if s.kind == "personal_best"]

        told = best("old")
        assert len(told) == 1
        rewards.erase_person(ALICE)
        assert rewards.feed(viewer=ALICE) == []
        assert best("new") == told
        for viewer in (None, ALICE):
            shown = rewards.feed(viewer=viewer)
            assert [(s.id, s.people) for s in shown if s.kind == "personal_best"] == [
                (told[0], (ALICE,))
            ]

    def test_erasing_twice_changes_nothing(self, store: Store) -> None:
        """Erasing someone already erased (or never seen) leaves the store as it was."""
        rewards = _organisation(store)
        activities = _record_organisation(rewards)
        ids = [a.id for a in activities] + ["g1", "g2", "g3"]
        rewards.erase_person(ALICE)
        pseudonym = _erased_pseudonym(store)
        users = ["bob", pseudonym, ALICE]
        before = _everything(rewards, store, users, ids, T0 + 29 * DAY)
        rewards.erase_person(ALICE)
        rewards.erase_person("nobody")
        assert _everything(rewards, store, users, ids, T0 + 39 * DAY) == before

    # -- erasure finds people where ids of people are held --------------------------------

    def test_erasure_leaves_others_keys_with_parts_equal_to_the_id(self, store: Store) -> None:
        """Erasing a person whose id equals a part of others' state keys that is not a
        person (a local day's number, a period) leaves those keys, and the progress they
        count, as they were."""
        day = str(T0.date().toordinal())  # a six-digit employee number
        rewards = Rewards(
            store,
            badges=(
                Badge(id="busy", criterion=criteria.Rolling(kind="answer", days=3), threshold=3),
                Badge(
                    id="yearly", criterion=criteria.Count(kind="answer"), threshold=3, repeat="year"
                ),
            ),
            load_entrypoints=False,
            clock=FrozenClock(T0 + timedelta(hours=5)),
        )
        rewards.record_many(
            [
                Activity(id=f"b{i}", actor="bob", kind="answer", at=T0 + timedelta(hours=i))
                for i in range(2)
            ]
        )
        for n, person in enumerate((day, "2026")):
            rewards.record(Activity(id=f"x{n}", actor=person, kind="answer", at=T0))
        progress = [(p.badge, p.current) for p in rewards.profile("bob").progress]
        assert progress == [("busy", 2), ("yearly", 2)]

        rewards.erase_person(day)
        rewards.erase_person("2026")

        assert [(p.badge, p.current) for p in rewards.profile("bob").progress] == progress
        third = rewards.record(
            Activity(id="b2", actor="bob", kind="answer", at=T0 + timedelta(hours=2))
        )
        assert sorted(a.badge for a in third.awards) == ["busy", "yearly"]

    def test_erasure_leaves_others_long_keys_with_parts_equal_to_the_id(self, store: Store) -> None:
        """Erasing a person whose id equals a rule id leaves others' keys of that rule
        alone also when they are long (an object of 250 characters, such as a wiki URL):
        the cap they count still holds."""
        url = "https://wiki.example.com/" + "page/" * 45  # 250 characters
        rewards = Rewards(
            store,
            rules=[
                PointRule(
                    id="post", kind="answer", actor_points=5, caps=(Cap(amount=5, per="object"),)
                )
            ],
            load_entrypoints=False,
        )
        first = rewards.record(Activity(id="b1", actor="bob", kind="answer", object=url, at=T0))
        assert first.credited("bob") == 5
        rewards.record(Activity(id="p1", actor="post", kind="answer", at=T0))

        rewards.erase_person("post")

        again = Activity(
            id="b2", actor="bob", kind="answer", object=url, at=T0 + timedelta(hours=1)
        )
        assert rewards.record(again).credited("bob") == 0
        assert rewards.balance("bob") == 5

    def test_erasure_leaves_others_holdings_of_a_badge_named_like_the_id(
        self, store: Store
    ) -> None:
        """Erasing a person whose id equals a badge id leaves others' holdings of that
        badge (and the grant activities naming it): granting it again changes nothing."""
        rewards = Rewards(
            store,
            badges=(
                Badge(id="mentor", criterion=criteria.Manual()),
                Badge(id="pillar", criterion=criteria.AllOf(badges=("mentor",))),
            ),
            load_entrypoints=False,
            clock=FrozenClock(T0 + DAY),
        )
        grant = rewards.grant("bob", "mentor", by="lead", reason="helps", at=T0)
        rewards.grant("cid", "mentor", by="mentor", reason="helps", at=T0)

        rewards.erase_person("mentor")

        assert rewards.grant("bob", "mentor", by="lead", reason="helps", at=T0).awards == ()
        assert [a.badge for a in rewards.badges("bob")] == ["mentor", "pillar"]
        granted = rewards.activity(grant.activity_id)
        assert granted is not None
        assert granted.attributes["badge"] == "mentor"

    def test_erasure_leaves_others_activity_ids_in_notifications(self, store: Store) -> None:
        """Erasing a person whose id equals another person's activity id leaves that
        activity id in the notifications about it, which are then delivered as before."""
        needs_outbox(store)
        seen: list[tuple[str, str, str]] = []

        class Chat:
            name = "chat"

            @hookimpl
            def e2badges_notify_outcome(self, activity: Activity, outcome: Outcome) -> None:
                seen.append(("outcome", activity.id, activity.actor))

            @hookimpl
            def e2badges_notify_award(self, award: Award) -> None:
                seen.append(("award", award.activity_id, award.user))

        rewards = _rewards(store, plugins=(Chat(),), delivery=DeliveryPolicy(inline=False))
        rewards.record(_post(17, "bob").model_copy(update={"id": "17"}))
        rewards.record(_post(99, "17"))

        rewards.erase_person("17")

        report = rewards.deliver_pending()
        assert report.failures == ()
        assert sorted(s for s in seen if s[2] == "bob") == [
            ("award", "17", "bob"),
            ("outcome", "17", "bob"),
        ]

    def test_erasure_keeps_what_check_hooks_kept_of_others_activities(self, store: Store) -> None:
        """Erasing a person whose id equals another person's activity id keeps what the
        check hooks replaced in that activity: a retry of it as first sent is a duplicate."""
        rewards = _rewards(store, plugins=(Tidy(),))
        bobs = Activity(
            id="17", actor="bob", kind="post.created", at=T0, attributes={"title": "hi"}
        )
        outcome = rewards.record(bobs)
        rewards.record(_post(99, "17"))

        rewards.erase_person("17")

        assert rewards.record(bobs) == outcome
        stored = rewards.activity("17")
        assert stored is not None
        assert stored.attributes == {"title": "HI"}

    def test_export_leaves_out_others_notifications_naming_the_id(self, store: Store) -> None:
        """export_person(user) leaves out the notifications of others whose activity id
        (or badge id) equals ``user``: a notification is the person's by its person
        fields (user, by, subject, ...)."""
        needs_outbox(store)
        rewards = _rewards(store, plugins=(AwardNotifier(),), delivery=DeliveryPolicy(inline=False))
        rewards.record(_post(17, "bob").model_copy(update={"id": "17"}))
        rewards.record(_post(99, "17"))
        rewards.record(_post(5, "writer"))

        notes = rewards.export_person("17")["notifications"]
        assert [(n["id"], n["payload"]["user"]) for n in notes] == [("award:0:p99", "17")]
        notes = rewards.export_person("writer")["notifications"]
        assert [(n["id"], n["payload"]["user"]) for n in notes] == [("award:0:p5", "writer")]
