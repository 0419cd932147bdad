"""Conformance tests for the stories feed and the adoption figures of a Store.

Mixed into :class:`~e2badges.testing.conformance.StoreConformance`; the
``store`` fixture comes from there.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .. import (
    Activity,
    Award,
    Badge,
    Change,
    FrozenClock,
    InvalidQueryError,
    Level,
    Outcome,
    PointRule,
    Rewards,
    Story,
    StoryOptions,
    criteria,
)
from .._engine import EffectBatch
from .._people import Person, PrivacySettings
from .._periods import period_key
from ..storage.base import Store
from ..storage.memory import MemoryStore
from ._common import T0
from ._threads import run_in_threads

__all__ = ["AdoptionConformance"]


def _story(n: int, *, minutes: int, people: tuple[str, ...] = ("ann",), **extra: Any) -> Story:
    return Story(
        f"s{n}",
        "badge",
        people,
        f"story {n}",
        {"n": n},
        T0 + timedelta(minutes=minutes),
        f"x{n}",
        **extra,
    )


def _tell(store: Store, n: int, *stories: Story) -> None:
    """Record activity ``x<n>`` whose outcome carries ``stories``."""
    activity = Activity(id=f"x{n}", actor="sys", kind="e2badges.badge.granted", at=T0)
    with store.transaction() as tx:
        tx.claim([activity])
        tx.view(set() if tx.wants_keys else None)
        tx.apply(EffectBatch([(activity, Outcome(activity.id, stories=stories))]))


def _poster_rewards(store: Store) -> Rewards:
    """Rewards over ``store`` with one badge, ``p1`` ("Poster"), for a first post, at T0."""
    return Rewards(
        store,
        badges=(Badge(id="p1", name="Poster", criterion=criteria.Count(kind="post"), threshold=1),),
        clock=FrozenClock(T0),
        load_entrypoints=False,
    )


def _log(
    store: Store, *rows: tuple[str, str, str, int, tuple[str, ...], tuple[str, str, str]]
) -> None:
    """Record activities (id, actor, kind, minutes, teams, local labels) in one batch."""
    batch = EffectBatch()
    activities = []
    for aid, actor, kind, minutes, teams, labels in rows:
        activity = Activity(
            id=aid, actor=actor, kind=kind, at=T0 + timedelta(minutes=minutes), teams=teams
        )
        activities.append(activity)
        batch.recorded.append((activity, Outcome(aid)))
        batch.local.append(labels)
    with store.transaction() as tx:
        tx.claim(activities)
        tx.view(set() if tx.wants_keys else None)
        tx.apply(batch)


MON = ("2026-03-02", "2026-W10", "2026-03")
TUE = ("2026-03-03", "2026-W10", "2026-03")
NEXT = ("2026-03-09", "2026-W11", "2026-03")


def _sample(store: Store) -> None:
    _log(
        store,
        ("a1", "ann", "post", 0, ("red",), MON),
        ("a2", "ann", "post", 1, ("red", "blue"), MON),
        ("a3", "bob", "view", 2, (), TUE),
        ("a4", "ann", "view", 3, ("blue",), TUE),
        ("a5", "cy", "post", 4, ("blue",), NEXT),
        ("a6", "boss", "e2badges.badge.granted", 5, (), NEXT),
    )


def _spread(store: Store) -> list[tuple[Activity, tuple[str, str, str]]]:
    """Record 400 activities over 14 weeks (W05 to W18 of 2026), in three batches."""
    rng = random.Random(8)
    rows: list[tuple[Activity, tuple[str, str, str]]] = []
    start = datetime(2026, 1, 26, 6, 0, tzinfo=UTC)  # Monday of 2026-W05
    for n in range(400):
        at = start + timedelta(hours=rng.randrange(14 * 7 * 24))
        day = at.date()
        labels = (day.isoformat(), period_key("week", day), period_key("month", day))
        teams = rng.choice([(), ("red",), ("blue",), ("red", "blue")])
        kind = rng.choice(["post", "view", "view"])
        activity = Activity(id=f"r{n}", actor=f"p{rng.randrange(9)}", kind=kind, at=at, teams=teams)
        rows.append((activity, labels))
    for chunk in (rows[:150], rows[150:151], rows[151:]):
        batch = EffectBatch()
        for activity, labels in chunk:
            batch.recorded.append((activity, Outcome(activity.id)))
            batch.local.append(labels)
        with store.transaction() as tx:
            tx.claim([a for a, _ in chunk])
            tx.view(set() if tx.wants_keys else None)
            tx.apply(batch)
    return rows


def _expected(
    rows: list[tuple[Activity, tuple[str, str, str]]],
    by: tuple[str, ...],
    start: str | None,
    stop: str | None,
    team: str | None,
) -> list[tuple[Any, ...]]:
    """Compute activity_totals from the activities themselves."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for activity, (day, week, month) in rows:
        if (start is not None and day < start) or (stop is not None and day > stop):
            continue
        if team is not None and team not in activity.teams:
            continue
        assert activity.at is not None
        teams = activity.teams if "team" in by else (team,)
        for t in teams:
            if team is not None and t != team:
                continue
            fields = {
                "day": day,
                "week": week,
                "month": month,
                "actor": activity.actor,
                "kind": activity.kind,
                "team": t,
            }
            acc = groups.setdefault(tuple(fields[name] for name in by), [set(), 0, 0.0])
            acc[0].add(activity.actor)
            acc[1] += 1
            acc[2] = max(acc[2], activity.at.timestamp())
    return [(*g, len(a[0]), a[1], a[2]) for g, a in sorted(groups.items())]


class AdoptionConformance:
    """The stories and adoption sentences of the Store contract."""

    # -- stories ----------------------------------------------------------------------

    def test_feed_newest_first(self, store: Store) -> None:
        """feed returns stories newest ``at`` first, ties last recorded first."""
        _tell(store, 1, _story(1, minutes=5), _story(2, minutes=1))
        _tell(store, 2, _story(3, minutes=5), _story(4, minutes=9))
        assert [s.id for s in store.feed(limit=10)] == ["s4", "s3", "s1", "s2"]

    def test_feed_round_trips_stories(self, store: Store) -> None:
        """A stored story comes back equal, with its data, teams and time."""
        story = _story(1, minutes=3, teams=("red",), people=("ann", "bob"))
        _tell(store, 1, story)
        assert store.feed(limit=1) == [story]

    def test_feed_keeps_a_story_id_once(self, store: Store) -> None:
        """A story whose id is already kept is left as it was."""
        _tell(store, 1, _story(1, minutes=1))
        _tell(store, 2, Story("s1", "badge", ("bob",), "again", {}, T0, "x2"))
        assert [(s.id, s.people) for s in store.feed(limit=10)] == [("s1", ("ann",))]

    def test_erased_stories_ids_are_free_again(self, store: Store) -> None:
        """erase_person drops the stories naming the person, ids and all: a story told
        later with the same id (a personal best of a new person by that id) is kept."""
        _tell(store, 1, _story(1, minutes=1), _story(2, minutes=2, people=("bob",)))
        store.erase_person("ann", "erased-" + "e" * 24)
        assert [s.id for s in store.feed(limit=10)] == ["s2"]
        again = Story("s1", "badge", ("ann",), "again", {}, T0 + timedelta(minutes=3), "x2")
        _tell(store, 2, again, Story("s2", "badge", ("bob",), "not again", {}, T0, "x2"))
        assert [(s.id, s.text) for s in store.feed(limit=10)] == [
            ("s1", "again"),
            ("s2", "story 2"),
        ]

    def test_feed_limit_since_and_team(self, store: Store) -> None:
        """``limit`` caps, ``since`` keeps stories at or after it, ``team`` filters by teams."""
        _tell(
            store,
            1,
            _story(1, minutes=1, teams=("red",)),
            _story(2, minutes=2),
            _story(3, minutes=3, teams=("red", "blue")),
        )
        assert [s.id for s in store.feed(limit=2)] == ["s3", "s2"]
        assert [s.id for s in store.feed(since=T0 + timedelta(minutes=2))] == ["s3", "s2"]
        assert [s.id for s in store.feed(team="red")] == ["s3", "s1"]
        assert store.feed(team="green") == []

    def test_feed_orders_by_the_microsecond(self, store: Store) -> None:
        """Stories a microsecond apart are listed newest first and ``since`` tells them
        apart, in year 2990 too (float seconds step by about 2 µs there)."""
        at = datetime(2990, 3, 2, 9, tzinfo=UTC)
        us = timedelta(microseconds=1)
        newer = Story("s1", "badge", ("ann",), "newer", {}, at + us, "x1")
        older = Story("s2", "badge", ("ann",), "older", {}, at, "x1")
        _tell(store, 1, newer, older)
        assert [s.id for s in store.feed()] == ["s1", "s2"]
        assert [s.id for s in store.feed(since=at + us)] == ["s1"]

    def test_feed_pages_with_before(self, store: Store) -> None:
        """``before`` (the id of a kept story) returns the stories after it in the feed's
        order: paging by the last id shown lists every story once, ties included."""
        _tell(store, 1, _story(1, minutes=5), _story(2, minutes=5), _story(3, minutes=1))
        _tell(store, 2, _story(4, minutes=5), _story(5, minutes=9), _story(6, minutes=0))
        whole = [s.id for s in store.feed(limit=10)]
        assert whole == ["s5", "s4", "s2", "s1", "s3", "s6"]
        pages: list[list[str]] = [[s.id for s in store.feed(limit=2)]]
        while pages[-1]:
            pages.append([s.id for s in store.feed(limit=2, before=pages[-1][-1])])
        assert pages == [["s5", "s4"], ["s2", "s1"], ["s3", "s6"], []]
        assert [s.id for s in store.feed(limit=10, before="s4")] == ["s2", "s1", "s3", "s6"]

    def test_feed_pages_while_stories_arrive(self, store: Store) -> None:
        """Stories kept between two pages never show up twice nor push older stories out of
        the next page: it starts right after the last one shown."""
        _tell(store, 1, *(_story(n, minutes=n) for n in range(1, 7)))
        first = [s.id for s in store.feed(limit=3)]
        assert first == ["s6", "s5", "s4"]
        # Newer stories, one at the same time as the last shown (told later: ahead of it),
        # and a late one (older than the page: it belongs in what is still to come).
        _tell(
            store,
            2,
            _story(7, minutes=9),
            _story(8, minutes=4),
            _story(9, minutes=2, people=("bob",)),
        )
        second = [s.id for s in store.feed(limit=3, before=first[-1])]
        assert second == ["s3", "s9", "s2"]
        assert [s.id for s in store.feed(limit=10, before=second[-1])] == ["s1"]

    def test_feed_before_with_filters(self, store: Store) -> None:
        """``before`` goes with ``team``, ``since`` and ``viewer``; a story the viewer may not
        see, one of another team and a withdrawn one still mark where the page starts."""
        rewards = _poster_rewards(store)
        _tell(
            store,
            1,
            _story(1, minutes=1, teams=("red",)),
            _story(2, minutes=2, private=True),
            _story(3, minutes=3, teams=("red",)),
            _story(4, minutes=4),
        )
        assert [s.id for s in store.feed(team="red", before="s4")] == ["s3", "s1"]
        assert [s.id for s in store.feed(team="red", before="s2")] == ["s1"]
        assert [s.id for s in store.feed(before="s3")] == ["s1"]
        assert [s.id for s in store.feed(before="s3", viewer="ann")] == ["s2", "s1"]
        assert [s.id for s in store.feed(before="s4", since=T0 + timedelta(minutes=2))] == ["s3"]
        rewards.record(Activity(id="a1", actor="bob", kind="post", at=T0 + timedelta(minutes=5)))
        [told] = [s.id for s in store.feed(limit=1)]
        rewards.revoke("bob", "p1", by="boss", reason="spam", at=T0 + timedelta(minutes=6))
        assert told not in [s.id for s in store.feed()]
        assert [s.id for s in store.feed(before=told, limit=1)] == ["s4"]

    def test_feed_before_an_unknown_story(self, store: Store) -> None:
        """``before`` naming no kept story (never told, or erased with its person) raises
        InvalidQueryError naming ``before``."""
        _tell(store, 1, _story(1, minutes=1), _story(2, minutes=2, people=("bob",)))
        with pytest.raises(InvalidQueryError, match="before") as info:
            store.feed(before="s9")
        assert info.value.field == "before"
        store.erase_person("ann", "erased-" + "e" * 24)
        with pytest.raises(InvalidQueryError, match="before"):
            store.feed(before="s1")
        assert [s.id for s in store.feed(before="s2")] == []

    def test_concurrent_recording_tells_each_story_once(
        self, make_store: Callable[[], Store]
    ) -> None:
        """Processes recording the same activities at once (each sent by all of them, in
        their own orders) tell each badge, level and milestone story once, as one would."""
        posts = [
            Activity(
                id=f"p{n}",
                actor=f"u{n % 5}",
                kind="post",
                at=T0 + timedelta(minutes=n),
                teams=("red",) if n % 2 else (),
            )
            for n in range(40)
        ]

        def rewards_over(store: Store) -> Rewards:
            return Rewards(
                store,
                rules=(PointRule(id="post", kind="post", actor_points=5),),
                badges=(
                    Badge(
                        id="writer",
                        name="Writer",
                        criterion=criteria.Count(kind="post"),
                        threshold=3,
                    ),
                ),
                levels=(Level(id="one", threshold=20),),
                stories=StoryOptions(milestones=("post",), milestone_counts=(10, 20, 30, 40)),
                clock=FrozenClock(T0 + timedelta(hours=1)),
                load_entrypoints=False,
            )

        alone = rewards_over(MemoryStore())
        alone.record_many(posts)
        expected = sorted(s.kind for s in alone.feed(limit=1000))
        stores = [make_store() for _ in range(4)]  # the schema made before the threads

        def work(worker: int) -> None:
            order = list(posts)
            random.Random(worker).shuffle(order)
            rewards = rewards_over(stores[worker])
            for start in range(0, len(order), 5):
                rewards.record_many(order[start : start + 5])

        run_in_threads(work, range(4))  # raises what a thread raised
        told = make_store().feed(limit=1000)
        assert len({s.id for s in told}) == len(told)
        assert sorted(s.kind for s in told) == expected
        milestones = sorted(
            (s.data["team"] or "", s.data["count"]) for s in told if s.kind == "milestone"
        )
        assert milestones == [("", 10), ("", 20), ("", 30), ("", 40), ("red", 10), ("red", 20)]
        assert sorted(s.people for s in told if s.kind == "badge") == [(f"u{n}",) for n in range(5)]

    def test_feed_private_stories(self, store: Store) -> None:
        """A private story is shown only to a viewer who is one of its people."""
        _tell(store, 1, _story(1, minutes=1, private=True))
        assert store.feed() == []
        assert store.feed(viewer="bob") == []
        assert [s.id for s in store.feed(viewer="ann")] == ["s1"]

    def test_feed_opted_out_people(self, store: Store) -> None:
        """Stories naming a person who opted out of the feed are shown to that person only,
        until they opt back in."""
        _tell(
            store, 1, _story(1, minutes=1, people=("ann", "bob")), _story(2, minutes=2, people=())
        )
        store.update_person("bob", lambda _: Person("bob", settings=PrivacySettings(feed=False)))
        assert [s.id for s in store.feed()] == ["s2"]
        assert [s.id for s in store.feed(viewer="bob")] == ["s2", "s1"]
        store.update_person("bob", lambda _: Person("bob"))
        assert [s.id for s in store.feed()] == ["s2", "s1"]

    def test_feed_board_stories_follow_board_privacy(self, store: Store) -> None:
        """Leader and personal-best stories of a board naming a person who opted out of
        leaderboards, or is excluded from that board, are shown to that person only; their
        other stories are shown to everyone."""
        _tell(
            store,
            1,
            _story(1, minutes=1, people=("bob",)),
            Story("s2", "leader", ("bob",), "bob leads", {"board": "b"}, T0, "x1"),
            Story("s3", "personal_best", ("bob",), "bob best", {"board": "c"}, T0, "x1"),
        )
        store.set_board_opt_out("bob", True)
        assert [s.id for s in store.feed()] == ["s1"]
        assert [s.id for s in store.feed(viewer="bob")] == ["s1", "s3", "s2"]
        store.set_board_opt_out("bob", False)
        store.set_board_exclusions("bob", ["b"])
        assert [s.id for s in store.feed()] == ["s1", "s3"]
        store.set_board_exclusions("bob", [])
        assert [s.id for s in store.feed()] == ["s1", "s3", "s2"]

    def test_feed_without_rankings(self, store: Store) -> None:
        """With rankings=False the feed has no leader story, for anyone."""
        _tell(
            store,
            1,
            _story(1, minutes=1, people=("bob",)),
            Story("s2", "leader", ("bob",), "bob leads", {"board": "b"}, T0, "x1"),
        )
        assert [s.id for s in store.feed(rankings=False)] == ["s1"]
        assert [s.id for s in store.feed(rankings=False, viewer="bob")] == ["s1"]

    def test_revocation_withdraws_the_award_story(self, store: Store) -> None:
        """A revoked award's story leaves the feed, for everyone; a new award tells a new one."""
        rewards = _poster_rewards(store)
        rewards.record(Activity(id="a1", actor="ann", kind="post", at=T0))
        rewards.record(Activity(id="b1", actor="bob", kind="post", at=T0))
        told = [s.id for s in store.feed() if s.people == ("ann",)]
        assert len(told) == 1
        rewards.revoke("ann", "p1", by="boss", reason="spam", at=T0 + timedelta(minutes=1))
        for viewer in (None, "ann", "bob"):
            assert [s.people for s in store.feed(viewer=viewer)] == [("bob",)]
        rewards.grant("ann", "p1", by="boss", reason="appeal", at=T0 + timedelta(minutes=2))
        again = [s.id for s in store.feed() if s.people == ("ann",)]
        assert len(again) == 1
        assert again != told
        assert [s.people for s in store.feed()] == [("ann",), ("bob",)]
        outcome = store.get_outcome("a1")
        assert outcome is not None
        assert [s.id for s in outcome.stories] == told  # the outcome keeps what it told

    def test_revocation_in_the_awarding_batch(self, store: Store) -> None:
        """A revocation withdraws a story told earlier in the same batch, not one told after it."""
        rewards = _poster_rewards(store)
        at = T0 + timedelta(minutes=1)
        rewards.record_many(
            [
                Activity(id="a1", actor="ann", kind="post", at=T0),
                Activity(
                    id="r1",
                    actor="boss",
                    kind="e2badges.badge.revoked",
                    recipient="ann",
                    attributes={"badge": "p1", "reason": "spam"},
                    at=at,
                ),
                Activity(
                    id="g1",
                    actor="boss",
                    kind="e2badges.badge.granted",
                    recipient="ann",
                    attributes={"badge": "p1", "reason": "appeal"},
                    at=at,
                ),
            ]
        )
        assert [s.activity_id for s in store.feed()] == ["g1"]

    def test_outcome_keeps_its_stories(self, store: Store) -> None:
        """get_outcome returns the stories of the outcome."""
        story = _story(1, minutes=1)
        _tell(store, 1, story)
        outcome = store.get_outcome("x1")
        assert outcome is not None
        assert outcome.stories == (story,)

    # -- activity totals ----------------------------------------------------------------

    def test_totals_overall(self, store: Store) -> None:
        """by=() gives one tuple (actors, activities, latest epoch); reserved kinds are left out."""
        _sample(store)
        assert store.activity_totals(by=()) == [(3, 5, (T0 + timedelta(minutes=4)).timestamp())]

    def test_totals_empty(self, store: Store) -> None:
        """Nothing counted gives no tuple at all."""
        assert store.activity_totals(by=()) == []
        _sample(store)
        assert store.activity_totals(by=("day",), start="2026-04-01") == []

    def test_totals_by_local_labels(self, store: Store) -> None:
        """Groups follow the local labels given in the batch, sorted, bounds inclusive."""
        _sample(store)
        days = store.activity_totals(by=("day",))
        assert [(d, a, n) for d, a, n, _ in days] == [
            ("2026-03-02", 1, 2),
            ("2026-03-03", 2, 2),
            ("2026-03-09", 1, 1),
        ]
        weeks = store.activity_totals(by=("week",), start="2026-03-03", stop="2026-03-09")
        assert [(w, a, n) for w, a, n, _ in weeks] == [("2026-W10", 2, 2), ("2026-W11", 1, 1)]
        months = store.activity_totals(by=("month",), stop="2026-03-02")
        assert [(m, a, n) for m, a, n, _ in months] == [("2026-03", 1, 2)]

    def test_totals_by_actor_and_kind(self, store: Store) -> None:
        """Grouping by several fields gives one tuple per combination, in field order."""
        _sample(store)
        rows = store.activity_totals(by=("actor", "kind"))
        assert [(p, k, a, n) for p, k, a, n, _ in rows] == [
            ("ann", "post", 1, 2),
            ("ann", "view", 1, 1),
            ("bob", "view", 1, 1),
            ("cy", "post", 1, 1),
        ]
        assert rows[0][4] == (T0 + timedelta(minutes=1)).timestamp()

    def test_totals_kinds_filter(self, store: Store) -> None:
        """``kinds`` counts only those kinds."""
        _sample(store)
        rows = store.activity_totals(by=("actor",), kinds={"post"})
        assert [(p, n) for p, _, n, _ in rows] == [("ann", 2), ("cy", 1)]

    def test_totals_by_team_and_in_team(self, store: Store) -> None:
        """ "team" groups each activity under each of its teams; ``team`` keeps one team."""
        _sample(store)
        rows = store.activity_totals(by=("team",))
        assert [(t, a, n) for t, a, n, _ in rows] == [("blue", 2, 3), ("red", 1, 2)]
        rows = store.activity_totals(by=("actor",), team="blue")
        assert [(p, n) for p, _, n, _ in rows] == [("ann", 2), ("cy", 1)]
        rows = store.activity_totals(by=("team",), team="red")
        assert [(t, n) for t, _, n, _ in rows] == [("red", 2)]

    def test_totals_over_any_range_of_days(self, store: Store) -> None:
        """Totals count exactly the days asked, whichever weeks and months they cut."""
        rows = _spread(store)
        # Whole and cut weeks and months, open ends, one day, a range across a month's end.
        ranges = [
            (None, None),
            ("2026-02-01", "2026-02-28"),
            ("2026-01-28", "2026-04-08"),
            ("2026-02-02", "2026-03-29"),
            ("2026-02-25", "2026-03-04"),
            (None, "2026-03-17"),
            ("2026-03-01", None),
            ("2026-03-11", "2026-03-11"),
            ("2026-03-31", "2026-05-03"),
        ]
        groupings: list[tuple[str, ...]] = [
            (),
            ("day",),
            ("week",),
            ("month",),
            ("actor", "kind"),
            ("actor", "week"),
            ("week", "month"),
            ("team",),
        ]
        for start, stop in ranges:
            for by in groupings:
                for team in (None, "red"):
                    got = store.activity_totals(by=by, start=start, stop=stop, team=team)
                    assert got == _expected(rows, by, start, stop, team), (by, start, stop, team)

    def test_cohort_weeks(self, store: Store) -> None:
        """cohort_weeks counts each first day's newcomers active in each week up to ``until``."""
        rows = _spread(store)
        for start, stop, until, team in [
            (None, None, "2026-W30", None),
            ("2026-01-28", "2026-02-10", "2026-W09", None),
            ("2026-02-01", None, "2026-W18", "red"),
        ]:
            firsts: dict[str, str] = {}
            for activity, (day, _, _) in sorted(rows, key=lambda r: r[1][0]):
                if team is None or team in activity.teams:
                    firsts.setdefault(activity.actor, day)
            active: dict[tuple[str, str], set[str]] = {}
            for activity, (_, week, _) in rows:
                first = firsts.get(activity.actor)
                if first is None or (team is not None and team not in activity.teams):
                    continue
                if (
                    (start is None or first >= start)
                    and (stop is None or first <= stop)
                    and week <= until
                ):
                    active.setdefault((first, week), set()).add(activity.actor)
            expected = [(f, w, len(p)) for (f, w), p in sorted(active.items())]
            got = store.cohort_weeks(start=start, stop=stop, until=until, team=team)
            assert got == expected, (start, stop, until, team)
            assert got  # the sample has newcomers in each case

    def test_active_in(self, store: Store) -> None:
        """active_in gives the people active in the week given for them, in all teams or one."""
        rows = _spread(store)
        weeks = {f"p{n}": f"2026-W{n + 5:02d}" for n in range(9)} | {"nobody": "2026-W07"}
        for team in (None, "red"):
            expected = {
                a.actor
                for a, (_, week, _) in rows
                if weeks.get(a.actor) == week and (team is None or team in a.teams)
            }
            assert store.active_in(weeks, team=team) == expected
            assert expected  # the sample has some
        assert store.active_in({}) == set()

    def test_first_active(self, store: Store) -> None:
        """first_active gives each person's first local day, in all teams or in one."""
        assert store.first_active() == {}
        _sample(store)
        assert store.first_active() == {
            "ann": "2026-03-02",
            "bob": "2026-03-03",
            "cy": "2026-03-09",
        }
        assert store.first_active(team="blue") == {"ann": "2026-03-02", "cy": "2026-03-09"}

    def test_last_activity(self, store: Store) -> None:
        """last_activity gives each kind's latest time up to ``stop``, in all teams or in one."""
        _sample(store)
        minute = [(T0 + timedelta(minutes=m)).timestamp() for m in range(6)]
        assert store.last_activity() == {"post": minute[4], "view": minute[3]}
        assert store.last_activity(stop="2026-03-03") == {"post": minute[1], "view": minute[3]}
        assert store.last_activity(team="red") == {"post": minute[1]}
        assert store.last_activity(stop="2026-03-01") == {}

    def test_first_awards(self, store: Store) -> None:
        """first_awards gives each awarded person's first award time."""
        assert store.first_awards() == {}
        rewards = Rewards(
            store,
            badges=(
                Badge(id="p1", criterion=criteria.Count(kind="post"), threshold=1),
                Badge(id="p2", criterion=criteria.Count(kind="post"), threshold=2),
            ),
            clock=FrozenClock(T0),
            load_entrypoints=False,
        )
        for n in range(2):
            rewards.record(
                Activity(id=f"p{n}", actor="ann", kind="post", at=T0 + timedelta(hours=n))
            )
        assert store.first_awards() == {"ann": T0.timestamp()}
        assert isinstance(store.awards("ann")[0].award, Award)

    def test_first_awards_earliest_not_first_recorded(self, store: Store) -> None:
        """first_awards gives each person's earliest award time, not the first recorded:
        an award of an activity recorded late (an import of history) comes first."""
        rewards = Rewards(
            store,
            badges=(
                Badge(id="poster", criterion=criteria.Count(kind="post"), threshold=1),
                Badge(id="commenter", criterion=criteria.Count(kind="comment"), threshold=1),
            ),
            clock=FrozenClock(T0 + timedelta(days=60)),
            load_entrypoints=False,
        )
        live = T0 + timedelta(days=30, hours=1)
        imported = T0 + timedelta(minutes=7, microseconds=1)
        rewards.record(Activity(id="live", actor="ann", kind="post", at=live))
        rewards.record(Activity(id="bob", actor="bob", kind="post", at=live))
        rewards.record_many(
            [
                Activity(id="old1", actor="ann", kind="comment", at=imported),
                Activity(id="old2", actor="ann", kind="comment", at=imported + timedelta(days=3)),
            ]
        )
        assert [record.award.badge for record in store.awards("ann")] == ["poster", "commenter"]
        assert store.first_awards() == {"ann": imported.timestamp(), "bob": live.timestamp()}

    def test_first_awards_count_revoked_awards(self, store: Store) -> None:
        """A revoked award still counts: a badge earned and later taken back was the
        person's first badge."""
        rewards = Rewards(
            store,
            badges=(
                Badge(id="poster", criterion=criteria.Count(kind="post"), threshold=1),
                Badge(id="hero", criterion=criteria.Manual()),
            ),
            clock=FrozenClock(T0 + timedelta(days=60)),
            load_entrypoints=False,
        )
        rewards.record(Activity(id="p0", actor="ann", kind="post", at=T0))
        rewards.revoke("ann", "poster", by="admin", reason="spam", at=T0 + timedelta(days=1))
        rewards.grant("ann", "hero", by="admin", reason="work", at=T0 + timedelta(days=30))
        assert [record.revoked for record in store.awards("ann")] == [True, False]
        assert store.first_awards() == {"ann": T0.timestamp()}

    def test_kept_going_follows_the_earliest_badge(self, store: Store) -> None:
        """kept_going counts a person in the period of their earliest badge, even when
        the activity that earned it was recorded after a later badge's (an import)."""
        rewards = Rewards(
            store,
            kinds=("post", "comment"),
            badges=(
                Badge(id="poster", criterion=criteria.Count(kind="post"), threshold=1),
                Badge(id="commenter", criterion=criteria.Count(kind="comment"), threshold=1),
            ),
            clock=FrozenClock(T0 + timedelta(days=90)),
            load_entrypoints=False,
        )
        # Recorded live: a post on 20 April earns "poster".
        rewards.record(Activity(id="live", actor="ann", kind="post", at=T0 + timedelta(days=49)))
        # Imported afterwards: a comment on 2 March (W10) earns "commenter"; she was
        # active again on 30 March (W14, four weeks later).
        rewards.record_many(
            [
                Activity(id="old1", actor="ann", kind="comment", at=T0),
                Activity(id="old2", actor="ann", kind="comment", at=T0 + timedelta(days=28)),
            ]
        )
        march = rewards.adoption(window="month", period="2026-03", kept_weeks=4).kept_going
        april = rewards.adoption(window="month", period="2026-04", kept_weeks=4).kept_going
        assert (march.earned, march.active) == (1, 1)
        assert (april.earned, april.active) == (0, 0)

    def test_adoption_report(self, store: Store) -> None:
        """Rewards.adoption gives the same figures over every store."""
        rewards = Rewards(
            store,
            kinds=("post", "view"),
            contributing=("post",),
            seats=4,
            clock=FrozenClock(T0 + timedelta(days=9)),
            timezone="Europe/Paris",
            load_entrypoints=False,
        )
        rewards.record_many(
            [
                Activity(id="b1", actor="ann", kind="post", at=T0, teams=("red",)),
                Activity(id="b2", actor="bob", kind="view", at=T0 + timedelta(days=1)),
                # 23:30 UTC on Sunday 8 March is Monday 9 March in Paris: next week.
                Activity(
                    id="b3",
                    actor="cy",
                    kind="post",
                    at=T0 + timedelta(days=6, hours=14, minutes=30),
                ),
                Activity(id="b4", actor="ann", kind="post", at=T0 + timedelta(days=7)),
            ]
        )
        report = rewards.adoption(window="week", period="2026-W10")
        assert (report.active, report.adoption, report.contributors, report.readers) == (
            2,
            0.5,
            1,
            1,
        )
        assert report.totals == Change("all", 2, 0)
        assert report.by_team == (Change("red", 1, 0),)
        assert [c.active for c in report.cohorts] == [(2,)]
        later = rewards.adoption(window="week", period="2026-W11")
        assert (later.active, later.daily[0]) == (2, ("2026-03-09", 2))
