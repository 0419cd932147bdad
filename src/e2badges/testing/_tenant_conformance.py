"""Conformance tests for tenants: stores of several tenants over one storage.

Mixed into :class:`~e2badges.testing.conformance.StoreConformance`; the
``store`` and ``make_store`` fixtures come from there.  The isolation test
draws workloads with hypothesis (``pip install "e2badges[testing]"``).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from .._errors import MissingDependencyError

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - the conformance suite's users install it
    raise MissingDependencyError("hypothesis", "hypothesis") from exc

from .. import (
    Activity,
    Badge,
    Cap,
    ConfigurationError,
    CountMetric,
    DeliveryPolicy,
    FrozenClock,
    Leaderboard,
    Level,
    PointRule,
    PointsMetric,
    Rewards,
    TeamsScope,
    Tier,
    criteria,
)
from .._engine import EffectBatch
from .._erasure import ERASED_PREFIX
from .._notifications import Notification
from ..storage.base import Store
from ..storage.memory import MemoryStore
from ._common import T0, Keeper, needs_outbox
from ._threads import run_in_threads

__all__ = ["TenantConformance"]

NOW = T0 + timedelta(days=3, hours=12)
PEOPLE = ("ann", "bob", "cy")
TEAMS = ("red", "blue")

RULES = (
    PointRule(id="comment", kind="comment.created", actor_points=2, caps=(Cap(amount=5),)),
    PointRule(id="upvote", kind="answer.upvoted", actor_points=1, recipient_points=10),
    PointRule(id="score", kind="score", actor_points=lambda a: a.value or 0),
)
BADGES = (
    Badge(
        id="commenter",
        criterion=criteria.Count(kind="comment.created"),
        tiers=(Tier(id="bronze", threshold=1), Tier(id="silver", threshold=3)),
    ),
    Badge(id="helper", criterion=criteria.Manual(), repeat="month"),
    Badge(id="pioneer", criterion=criteria.First(kind="answer.upvoted", scope="team")),
    Badge(id="regular", criterion=criteria.Streak(kind="comment.created"), threshold=2),
    Badge(id="both", criterion=criteria.AllOf(badges=("commenter", "helper"))),
)
LEVELS = (Level(id="one", threshold=1), Level(id="two", threshold=12))
BOARDS = (
    Leaderboard(id="pts", metric=PointsMetric(), windows=("all", "day", "3d")),
    Leaderboard(id="teams", metric=CountMetric(kind="score"), scope=TeamsScope()),
    Leaderboard(
        id="few",
        metric=CountMetric(kind="comment.created"),
        ranking="dense",
        better="lower",
        exclude_groups=("bosses",),
    ),
)
KINDS = ("comment.created", "answer.upvoted", "score")

# Tenant names no other example (or earlier run over the same database) uses.
_RUN = uuid.uuid4().hex[:8]
_EXAMPLES = itertools.count()


def _rewards(
    store: Store, tenant: str | None = None, *, outbox: bool | None = None
) -> tuple[Rewards, Keeper]:
    """Return a Rewards of the tenant tests over ``store`` and its notification keeper.

    The keeper is a plugin of the Rewards when ``outbox`` (by default, when the store
    keeps an outbox: Rewards refuses notification plugins over a store without one);
    a reference store takes the tested store's ``outbox``, so both answer alike.
    """
    notifier = Keeper()
    if outbox is None:
        outbox = store.keeps_outbox
    rewards = Rewards(
        store,
        tenant=tenant,
        rules=RULES,
        badges=BADGES,
        levels=LEVELS,
        leaderboards=BOARDS,
        clock=FrozenClock(NOW),
        plugins=[notifier] if outbox else [],
        load_entrypoints=False,
        delivery=DeliveryPolicy(inline=False),
        seats=10,
    )
    return rewards, notifier


# One drawn activity: (actor, kind, recipient, value, minute, teams).
_ACTIVITY = st.tuples(
    st.sampled_from(PEOPLE),
    st.sampled_from(KINDS),
    st.none() | st.sampled_from(PEOPLE),
    st.integers(0, 9),
    st.integers(0, 3 * 24 * 60),
    st.lists(st.sampled_from(TEAMS), unique=True, max_size=2),
)
# One step of one tenant's workload.
_STEP = st.one_of(
    st.tuples(st.just("record"), st.lists(_ACTIVITY, min_size=1, max_size=4)),
    st.tuples(st.just("again"), st.integers(0, 40)),
    st.tuples(st.just("grant"), st.sampled_from(PEOPLE)),
    st.tuples(st.just("revoke"), st.sampled_from(PEOPLE)),
    st.tuples(st.just("opt_out"), st.sampled_from(PEOPLE), st.booleans()),
    st.tuples(st.just("deliver")),
    st.tuples(
        st.just("person"),
        st.sampled_from(PEOPLE),
        st.none() | st.sampled_from(("Ann A.", "B", "Cy")),
        st.lists(st.sampled_from(("bosses", "staff")), unique=True, max_size=2),
        st.lists(st.sampled_from(TEAMS), unique=True, max_size=2),
    ),
    st.tuples(st.just("privacy"), st.sampled_from(PEOPLE), st.booleans()),
    st.tuples(st.just("erase"), st.sampled_from(PEOPLE)),
)
# A workload: steps, each for the first tenant (False) or the second (True).
_WORKLOAD = st.lists(st.tuples(st.booleans(), _STEP), min_size=1, max_size=10)


class _Tenant:
    """One tenant's side of a workload: its Rewards, and what its steps returned."""

    def __init__(
        self, store: Store, tenant: str | None = None, *, outbox: bool | None = None
    ) -> None:
        self.rewards, self.notifier = _rewards(store, tenant, outbox=outbox)
        self.ids = 0  # ids count up in each tenant from a0: two tenants use the same ids
        self.recorded: list[Activity] = []
        self.results: list[Any] = []
        self.erased = 0

    def _next_id(self) -> str:
        self.ids += 1
        return f"a{self.ids - 1}"

    def run(self, step: tuple[Any, ...]) -> None:
        rewards, action = self.rewards, step[0]
        at = T0 + timedelta(minutes=self.ids)
        if action == "record":
            batch = []
            for actor, kind, recipient, value, minute, teams in step[1]:
                activity = Activity(
                    id=self._next_id(),
                    actor=actor,
                    kind=kind,
                    recipient=recipient,
                    value=value,
                    at=T0 + timedelta(minutes=minute),
                    teams=teams,
                )
                self.recorded.append(activity)
                batch.append(activity)
            self.results.append(rewards.record_many(batch))
        elif action == "again":
            if self.recorded:
                self.results.append(rewards.record(self.recorded[step[1] % len(self.recorded)]))
        elif action == "grant":
            aid = self._next_id()
            self.results.append(
                rewards.grant(step[1], "helper", by="boss", reason="r", id=aid, at=at)
            )
        elif action == "revoke":
            aid = self._next_id()
            self.results.append(
                rewards.revoke(step[1], "commenter", by="boss", reason="r", id=aid, at=at)
            )
        elif action == "opt_out":
            rewards.set_leaderboard_opt_out(step[1], step[2])
        elif action == "person":
            _, user, name, groups, teams = step
            self.results.append(
                rewards.people.set(user, display_name=name, groups=groups, teams=teams)
            )
        elif action == "privacy":
            self.results.append(rewards.people.settings(step[1], feed=step[2]))
        elif action == "erase":
            # The store's erasure with a pseudonym of our own (Rewards draws a random one),
            # so that both stores of a comparison hold the same.
            self.erased += 1
            rewards.store.erase_person(step[1], f"{ERASED_PREFIX}{self.erased:024x}")
        else:
            self.results.append(rewards.deliver_pending())

    def answers(self) -> dict[str, Any]:
        """Return the answer of every public query of this tenant, by a name for each."""
        rewards = self.rewards
        store = rewards.store
        out: dict[str, Any] = {"steps": self.results}
        report = rewards.deliver_pending()
        out["deliver_pending"] = (report.delivered, report.failures)
        out["received"] = list(self.notifier.received)
        out["log"] = list(store.iter_activities())
        out["count"] = store.count_activities()
        for n in range(self.ids + 1):
            out[f"activity a{n}"] = (rewards.activity(f"a{n}"), rewards.outcome(f"a{n}"))
        for user in (*PEOPLE, "boss"):
            out[f"person {user}"] = (
                rewards.balance(user),
                rewards.explain(user),
                rewards.explain(user, limit=2),
                rewards.awards(user),
                rewards.badges(user),
                rewards.level(user),
                rewards.profile(user),
                rewards.leaderboard_opt_out(user),
                rewards.feed(viewer=user, limit=100),
                rewards.people.get(user),
                store.board_exclusions(user),
                rewards.export_person(user),
            )
        boards = (
            ("pts", ("all", "day", "3d"), PEOPLE),
            ("teams", ("all",), TEAMS),
            ("few", ("all",), PEOPLE),
        )
        for board, windows, subjects in boards:
            view = rewards.leaderboard(board)
            for window in windows:
                out[f"board {board} {window}"] = (
                    view.top(10, window=window),
                    view.top(2, 1, window=window),
                    view.size(window=window),
                    [
                        (
                            view.rank(s, window=window),
                            view.score(s, window=window),
                            view.percentile(s, window=window),
                            view.around(s, 3, window=window),
                            view.rank(s, window=window, viewer=s),
                        )
                        for s in subjects
                    ],
                )
        out["feed"] = (rewards.feed(limit=100), rewards.feed(scope="team:red", limit=100))
        for window in ("day", "week", "all"):
            out[f"adoption {window}"] = (
                rewards.adoption(window=window),
                rewards.adoption(window=window, team="red"),
            )
        out["newcomers"] = rewards.newcomers()
        out["people"] = sorted(store.iter_people(), key=lambda person: person.user)
        out["figures"] = (
            store.activity_totals(by=("day", "actor", "kind")),
            store.activity_totals(by=("team",)),
            store.first_active(),
            store.last_activity(),
            store.first_awards(),
        )
        return out


# A workload that leaves something in every kind of data a tenant holds: activities and
# their outcomes, ledgers, state, awards (one revoked), board rows, people records, an
# opt-out, a board exclusion (the group "bosses" on board "few"), stories, the adoption
# rollup, and notifications waiting in the outbox (delivery is not inline).
_FULL_WORKLOAD: tuple[tuple[Any, ...], ...] = (
    (
        "record",
        [
            ("ann", "comment.created", None, 0, 10, ["red"]),
            ("bob", "answer.upvoted", "ann", 0, 20, ["red", "blue"]),
            ("cy", "score", None, 5, 30, ["blue"]),
            ("ann", "comment.created", None, 0, 1500, []),
        ],
    ),
    ("grant", "bob"),
    ("person", "ann", "Ann A.", ["staff"], ["red"]),
    ("person", "bob", "B", ["bosses"], ["blue"]),
    ("opt_out", "cy", True),
    ("privacy", "bob", False),
    ("record", [("ann", "comment.created", "bob", 0, 3000, ["red"])]),
    ("revoke", "ann"),
    ("again", 0),
)


def _holdings(rewards: Rewards, *, outbox: bool) -> dict[str, Any]:
    """Return, by name, a probe of each kind of data the workload above leaves (the
    outbox's only when ``outbox``)."""
    store = rewards.store
    held: dict[str, Any] = {
        "activities": store.count_activities(),
        "a0": rewards.activity("a0"),
        "ledger": rewards.explain("ann"),
        "balance": rewards.balance("ann"),
        "awards": rewards.awards("ann"),
        "board": rewards.leaderboard("pts").top(10),
        "rank": rewards.leaderboard("pts").rank("ann"),
        "people": list(store.iter_people()),
        "opt-out": store.board_opt_out("cy"),
        "exclusions": store.board_exclusions("bob"),
        "feed": rewards.feed(limit=100),
        "adoption": store.activity_totals(by=("actor",)),
        "first awards": store.first_awards(),
    }
    if outbox:
        held["outbox"] = store.get_notification("recorded:a0")
    return held


def _note(n: int) -> Notification:
    return Notification(f"n{n}", "e2badges_notify_outcome", {"n": n}, ("p",))


def _put(store: Store, *notifications: Notification) -> None:
    """Store ``notifications`` in one recording transaction, as the facade would."""
    with store.transaction() as tx:
        tx.claim([])
        tx.view(set() if tx.wants_keys else None)
        tx.apply(EffectBatch(notifications=list(notifications)))


class TenantConformance:
    """The tenant sentences of the Store contract."""

    def test_default_tenant(self, store: Store) -> None:
        """A store serves the tenant "default" unless given one; for_tenant returns a store
        serving the tenant it names."""
        assert store.tenant == "default"
        wiki = store.for_tenant("wiki")
        assert wiki.tenant == "wiki"
        assert wiki.for_tenant("default").tenant == "default"

    def test_bad_tenant_names_refused(self, store: Store) -> None:
        """for_tenant raises ConfigurationError naming ``tenant`` for a name that is empty,
        longer than 64 characters, or holds other characters than letters, digits, '_',
        '.', ':' and '-' (starting with a letter or a digit)."""
        for name in ("", "x" * 65, "has space", "naïve", "-leading", "a/b", "a'b", "a;b", 7):
            with pytest.raises(ConfigurationError) as raised:
                store.for_tenant(name)  # type: ignore[arg-type]  # 7: not even a string
            assert raised.value.field == "tenant", name

    def test_longest_tenant_name(self, store: Store) -> None:
        """A tenant name of 64 characters of every allowed kind is accepted and kept."""
        name = "Org-1_a.b:" + "z" * 54
        view = store.for_tenant(name)
        rewards, _ = _rewards(view)
        rewards.record(Activity(id="a0", actor="ann", kind="comment.created", at=T0))
        assert view.tenant == name
        assert rewards.balance("ann") == 2

    def test_same_activity_id_in_two_tenants(self, store: Store) -> None:
        """The same activity id is recorded under two tenants, each with its own activity
        and outcome."""
        first, _ = _rewards(store)
        second, _ = _rewards(store, "wiki")
        mine = Activity(id="a0", actor="ann", kind="comment.created", at=T0)
        theirs = Activity(id="a0", actor="bob", kind="answer.upvoted", recipient="ann", at=T0)
        recorded = (first.record(mine), second.record(theirs))
        assert (first.activity("a0"), second.activity("a0")) == (mine, theirs)
        assert (first.outcome("a0"), second.outcome("a0")) == recorded
        assert [line.rule for line in recorded[1].ledger] == ["upvote", "upvote"]
        assert (first.balance("ann"), second.balance("ann")) == (2, 10)

    def test_tenant_data_persists(self, make_store: Callable[[], Store]) -> None:
        """What a tenant records is seen by a store of that tenant opened later over the same
        storage, and by no store of another tenant."""
        rewards, _ = _rewards(make_store().for_tenant("wiki"))
        rewards.record(Activity(id="a0", actor="ann", kind="comment.created", at=T0))
        later = make_store()
        assert later.for_tenant("wiki").get_activity("a0") is not None
        assert later.get_activity("a0") is None
        assert later.for_tenant("other").count_activities() == 0

    def test_closing_a_view_keeps_the_store(self, store: Store) -> None:
        """Closing a store made by for_tenant releases nothing: the store it came from, and
        new views of it, keep working."""
        view = store.for_tenant("wiki")
        view.close()
        rewards, _ = _rewards(store)
        rewards.record(Activity(id="a0", actor="ann", kind="comment.created", at=T0))
        again, _ = _rewards(store.for_tenant("wiki"))
        again.record(Activity(id="a0", actor="bob", kind="comment.created", at=T0))
        assert (rewards.balance("ann"), again.balance("bob"), again.balance("ann")) == (2, 2, 0)

    def test_outbox_per_tenant(self, store: Store) -> None:
        """Each tenant has its own outbox: a notification id of one tenant is unknown to
        another, which may store its own under the same id."""
        needs_outbox(store)
        wiki = store.for_tenant("wiki")
        _put(store, _note(1))
        assert wiki.claim_notifications(now=T0, lease=timedelta(minutes=1)) == []
        assert wiki.get_notification("n1") is None
        with pytest.raises(LookupError):
            wiki.mark_delivered("n1", "p")
        with pytest.raises(LookupError):
            wiki.release_notification("n1", done=True)
        _put(wiki, _note(1), _note(2))
        claimed = wiki.claim_notifications(now=T0, lease=timedelta(minutes=1))
        assert [e.notification.id for e in claimed] == ["n1", "n2"]
        wiki.mark_delivered("n1", "p")
        wiki.release_notification("n1", done=True)
        mine = store.claim_notifications(now=T0, lease=timedelta(minutes=1))
        assert [(e.notification.id, e.delivered) for e in mine] == [("n1", frozenset())]

    def test_opt_out_per_tenant(self, store: Store) -> None:
        """An opt-out of leaderboards holds in its own tenant only."""
        wiki = store.for_tenant("wiki")
        store.set_board_opt_out("ann", True)
        assert (store.board_opt_out("ann"), wiki.board_opt_out("ann")) == (True, False)

    def test_tenants_record_the_same_ids_at_once(self, store: Store) -> None:
        """Two tenants recording the same activity ids at the same time each record every
        id once."""
        shared = [
            Activity(id=f"a{i}", actor=PEOPLE[i % 3], kind="score", value=1, at=T0)
            for i in range(30)
        ]
        tenants = [_rewards(store, name)[0] for name in ("default", "wiki")]

        def work(rewards: Rewards) -> None:
            for start in range(0, len(shared), 5):
                rewards.record_many(shared[start : start + 5])

        # Two threads per tenant; raises what a thread raised.
        run_in_threads(work, [r for r in tenants for _ in range(2)])
        for rewards in tenants:
            assert rewards.store.count_activities() == 30
            assert [rewards.balance(p) for p in PEOPLE] == [10, 10, 10]
            assert rewards.leaderboard("pts").size() == 3

    @settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(workload=_WORKLOAD)
    def test_tenants_are_isolated(self, store: Store, workload: list[Any]) -> None:
        """Every public query of a tenant answers exactly what it would answer if the other
        tenants sharing its storage did not exist.

        Two tenants of one storage run random interleaved workloads (the same activity
        ids, people, teams and boards in both); each tenant's answers then equal those of
        a fresh MemoryStore (the reference implementation) that ran its workload alone.
        """
        example = f"t{_RUN}-{next(_EXAMPLES)}"
        shared = {False: _Tenant(store, f"{example}-a"), True: _Tenant(store, f"{example}-b")}
        outbox = store.keeps_outbox
        alone = {
            False: _Tenant(MemoryStore(), outbox=outbox),
            True: _Tenant(MemoryStore(), outbox=outbox),
        }
        for second, step in workload:
            shared[second].run(step)
            alone[second].run(step)
        for side in (False, True):
            expected = alone[side].answers()
            got = shared[side].answers()
            for name, answer in expected.items():
                assert got[name] == answer, f"tenant {'ab'[side]}: {name}"

    def test_tenants_lists_those_holding_data(self, store: Store) -> None:
        """tenants() lists the tenants that hold anything (a recorded activity, a person's
        settings, an opt-out), sorted by code point, whatever tenant the store serves; a
        tenant only named by for_tenant() (and read) is not listed."""
        assert store.tenants() == []
        never, _ = _rewards(store, "never")
        assert (never.balance("ann"), never.leaderboard("pts").top(10)) == (0, [])
        assert never.feed(limit=10) == []
        wiki, _ = _rewards(store, "aa")
        wiki.record(Activity(id="a0", actor="ann", kind="comment.created", at=T0))
        forum, _ = _rewards(store, "a-b")
        forum.people.settings("ann", feed=False)
        store.for_tenant("B").set_board_opt_out("bob", True)
        # Code point order ("B" < "a-b" < "aa"), not a database collation's.
        expected = ["B", "a-b", "aa"]
        assert store.tenants() == expected
        assert store.for_tenant("never").tenants() == expected
        assert wiki.store.tenants() == expected
        store.set_board_opt_out("bob", True)
        assert store.tenants() == ["B", "a-b", "aa", "default"]

    def test_erasing_someone_never_recorded_writes_nothing(self, store: Store) -> None:
        """erase_person of an id a tenant holds nothing of writes nothing: a tenant never
        written stays unlisted, and the pseudonym is not opted out (in a tenant holding
        others' data too); erasing a person who did an activity opts the pseudonym out."""
        fresh = store.for_tenant("fresh")
        fresh.erase_person("never-seen", "erased-" + "0" * 24)
        never, _ = _rewards(store, "never")
        never.erase_person("never-seen")
        never.erase_person("never-seen")
        assert store.tenants() == []
        assert fresh.board_opt_out("erased-" + "0" * 24) is False
        kept, _ = _rewards(store, "kept")
        kept.record(Activity(id="a0", actor="bob", kind="comment.created", at=T0))
        kept.store.erase_person("never-seen", "erased-" + "1" * 24)
        assert kept.store.board_opt_out("erased-" + "1" * 24) is False
        kept.store.erase_person("bob", "erased-" + "2" * 24)
        assert kept.store.board_opt_out("erased-" + "2" * 24) is True
        assert store.tenants() == ["kept"]

    def test_delete_tenant(self, store: Store, make_store: Callable[[], Store]) -> None:
        """delete_tenant() deletes everything its tenant holds: the tenant then answers
        every query as a tenant that never recorded anything, also through other stores
        of it, and is no longer listed; every other tenant answers as before."""
        gone, kept = _Tenant(store, "gone"), _Tenant(store, "kept")
        for step in _FULL_WORKLOAD:
            gone.run(step)
            kept.run(step)
        outbox = store.keeps_outbox
        held = _holdings(gone.rewards, outbox=outbox)
        empty = _holdings(_rewards(MemoryStore(tenant="gone"), outbox=outbox)[0], outbox=outbox)
        assert all(held[name] != empty[name] for name in held), "the workload holds each"
        kept.answers()  # delivers kept's notifications: the answers below deliver none
        before = kept.answers()
        other_view = make_store().for_tenant("gone")
        assert store.tenants() == ["gone", "kept"]

        gone.rewards.store.delete_tenant()

        assert store.tenants() == ["kept"]
        assert _holdings(gone.rewards, outbox=outbox) == empty
        assert other_view.count_activities() == 0
        assert other_view.get_people(PEOPLE) == {}
        reference = _Tenant(MemoryStore(tenant="gone"), outbox=outbox)
        reference.ids = gone.ids  # the same activity ids are looked up
        expected = reference.answers()
        got = gone.answers()
        for name, answer in expected.items():
            if name != "steps":
                assert got[name] == answer, f"deleted tenant: {name}"
        assert kept.answers() == before

    def test_deleted_tenant_records_again(self, store: Store) -> None:
        """After delete_tenant(), the tenant records an activity id it recorded before
        anew, with the outcome a tenant that never recorded anything would get."""
        gone, _ = _rewards(store, "gone")
        gone.record(Activity(id="a0", actor="ann", kind="comment.created", at=T0))
        gone.record(Activity(id="a1", actor="ann", kind="comment.created", at=T0))
        assert [entry.user for entry in gone.leaderboard("pts").top(10)] == ["ann"]
        gone.store.delete_tenant()
        again = Activity(id="a0", actor="bob", kind="answer.upvoted", recipient="ann", at=T0)
        reference, _ = _rewards(MemoryStore(tenant="gone"), outbox=store.keeps_outbox)
        assert gone.record(again) == reference.record(again)
        assert gone.activity("a0") == again
        assert gone.balance("ann") == reference.balance("ann") == 10
        assert gone.leaderboard("pts").top(10) == reference.leaderboard("pts").top(10)
        assert store.tenants() == ["gone"]

    def test_deleting_an_empty_tenant(self, store: Store) -> None:
        """delete_tenant() on a tenant that holds nothing deletes nothing of the others."""
        store.set_board_opt_out("ann", True)
        store.for_tenant("never").delete_tenant()
        assert store.tenants() == ["default"]
        assert store.board_opt_out("ann")
