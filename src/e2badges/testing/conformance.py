"""The Store conformance suite, written once and run over every backend.

A store author subclasses :class:`StoreConformance` in a test module and
provides a ``make_store`` fixture: a function that opens a store over the test's
storage.  The storage is new and empty for each test; within one test,
``make_store`` may be called several times, and every call must return a store
over that *same* storage (as a second process or a restart would see it), so the
suite can check what persists: what one call's store recorded, the next call's
store reads.  For a database-backed store, open a new store over the test's
database each time::

    import pytest
    from e2badges.testing.conformance import StoreConformance

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def make_store(self, tmp_path):
            return lambda: MyStore(tmp_path / "db")

For an in-memory store, whose data lives in the instance, create one instance per
test and return that same instance from every call (``lambda: MyStore()`` would
give each call new, empty storage, and the tests of what persists would fail)::

        @pytest.fixture
        def make_store(self):
            shared = MyMemoryStore()
            return lambda: shared

Each test's docstring is a sentence of the Store contract.  The outbox tests
(notifications and their delivery to plugins) need ``make_store`` to return
stores over one database, as a second process would see it.  The suite needs
pytest and hypothesis (``pip install "e2badges[testing]"``); importing it without
either raises MissingDependencyError naming that extra.
"""

from __future__ import annotations

import copy
import math
import random
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from .._errors import MissingDependencyError

try:
    import hypothesis  # noqa: F401  # checked here: the model and tenant tests draw with it
    import pytest
except ImportError as exc:
    # Both come with the testing extra (the hypothesis extra alone has no pytest).
    raise MissingDependencyError(exc.name or "pytest", "testing") from exc

from .. import (
    Activity,
    AverageMetric,
    Award,
    Badge,
    Cap,
    ConflictingActivityError,
    CountMetric,
    DeliveryPolicy,
    DeliveryReport,
    FrozenClock,
    InvalidActivityError,
    InvalidQueryError,
    Leaderboard,
    LedgerEntry,
    Level,
    LevelChange,
    Outcome,
    PluginError,
    PluginState,
    PointRule,
    PointsMetric,
    Revocation,
    Rewards,
    SumMetric,
    TeamsScope,
    Tier,
    _plugins,
    criteria,
    hookimpl,
)
from .._leaderboards import formula_of, merge_rows
from .._rules import balance_key
from ..storage import (
    EffectBatch,
    Notification,
    OutboxEntry,
    RollingBucket,
    Store,
    StoreTransaction,
)
from ..storage.memory import MemoryStore
from ._adoption_conformance import AdoptionConformance
from ._aliasing_conformance import AliasingConformance
from ._common import BOARD_RULES, BOARDS, T0, needs_outbox, scored
from ._count_conformance import QueryCountConformance
from ._hostile_conformance import HostileInputConformance
from ._model_conformance import ModelConformance
from ._people_conformance import PeopleConformance
from ._tenant_conformance import TenantConformance
from ._threads import run_in_threads

__all__ = ["BOARDS", "BOARD_RULES", "T0", "ModelConformance", "StoreConformance", "scored"]

RULES = (
    PointRule(id="comment", kind="comment.created", actor_points=2, caps=(Cap(amount=5),)),
    PointRule(id="upvote", kind="answer.upvoted", actor_points=1, recipient_points=10),
)


BADGES = (
    Badge(
        id="commenter",
        criterion=criteria.Count(kind="comment.created"),
        tiers=(Tier(id="bronze", threshold=1), Tier(id="silver", threshold=2)),
    ),
    Badge(id="helper", criterion=criteria.Manual(), repeat="month"),
    Badge(id="pioneer", criterion=criteria.First(kind="answer.upvoted", scope="team")),
    Badge(id="regular", criterion=criteria.Streak(kind="comment.created"), threshold=3),
    Badge(id="both", criterion=criteria.AllOf(badges=("commenter", "helper"))),
)
LEVELS = (Level(id="one", threshold=1), Level(id="two", threshold=4))


def act(
    n: int,
    actor: str = "ann",
    kind: str = "comment.created",
    *,
    at: datetime | None = None,
    **extra: object,
) -> Activity:
    """Return activity ``a<n>`` at ``at``, by default T0 + n minutes."""
    when = at if at is not None else T0 + timedelta(minutes=n)
    return Activity(id=f"a{n}", actor=actor, kind=kind, at=when, **extra)


def _us(at: datetime) -> int:
    """Return ``at`` in whole microseconds since the epoch, as the engine keeps times in state."""
    return (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def note(n: int, *, payload: dict[str, Any] | None = None) -> Notification:
    """Return notification ``n<n>`` addressed to plugin ``p``."""
    return Notification(f"n{n}", "e2badges_notify_outcome", payload or {"n": n}, ("p",))


def put(store: Store, *notifications: Notification) -> None:
    """Store ``notifications`` in one recording transaction, as the facade would."""
    with store.transaction() as tx:
        tx.claim([])
        tx.view(set() if tx.wants_keys else None)
        tx.apply(EffectBatch(notifications=list(notifications)))


def ids(entries: Iterable[OutboxEntry]) -> list[str]:
    """Return the notification ids of outbox entries."""
    return [e.notification.id for e in entries]


class Notifier:
    """A plugin that keeps what it is told about, or raises while ``failing``."""

    def __init__(
        self,
        name: str,
        store: Store | None = None,
        *,
        failing: bool = False,
        error: Exception | None = None,
        dies: bool = False,
        during: Callable[[], object] | None = None,
    ) -> None:
        self.name = name
        self.store = store
        self.failing = failing
        self.error = error  # raised while failing; RuntimeError("<name> is down") if None
        self.dies = dies
        self.during = during  # called after each notification received, before returning
        self.received: list[str] = []
        self.committed: list[bool] = []

    @hookimpl
    def e2badges_notify_outcome(
        self, activity: Activity, outcome: Outcome, notification_id: str
    ) -> None:
        if self.dies:
            raise Killed
        if self.failing:
            raise self.error or RuntimeError(f"{self.name} is down")
        if self.store is not None:
            # Another reader sees the activity only once its transaction committed.
            self.committed.append(self.store.get_activity(activity.id) is not None)
        self.received.append(notification_id)
        if self.during is not None:
            self.during()


class _Stash:
    """A check plugin that sets ``values`` in its state when it sees its first activity,
    and reads them on each later one (a copy of what it read last is kept in ``read``),
    appending to the lists it reads without setting them again; it reads ``reads``
    every time."""

    name = "stash"

    def __init__(self, values: dict[Any, Any], *, reads: Iterable[Any] = ()) -> None:
        self.values = values
        self.reads = tuple(reads)
        self.read: dict[Any, Any] = {}
        self.started = False

    @hookimpl
    def e2badges_check_activity(self, state: PluginState) -> None:
        for key in self.reads:
            state.get(key)
        if not self.started:
            for key, value in self.values.items():
                state.set(key, value)
            self.started = True
            return
        for key in self.values:
            value = state.get(key)
            self.read[key] = copy.deepcopy(value)
            if isinstance(value, list):
                value.append("changed in place")


def _json_types(value: Any) -> Any:
    """Return the type of ``value`` and, for a list or dict, of every item in it."""
    if isinstance(value, dict):
        return {key: _json_types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_types(item) for item in value]
    return type(value)


def _nested(depth: int) -> list[Any]:
    """Return a list nested ``depth`` levels deep."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


class Reorder:
    """A period-close notifier that sorts the standings it is given by name and zeroes
    their scores, in place, then raises while ``failing``."""

    name = "reorder"

    def __init__(self) -> None:
        self.failing = True

    @hookimpl
    def e2badges_notify_period_close(self, standings: list[dict[str, Any]]) -> None:
        standings.sort(key=lambda row: str(row["user"]))
        for row in standings:
            row["score"] = 0
        if self.failing:
            raise ConnectionError("chat is down")


class Winner:
    """A period-close notifier that keeps the standings it is told, then raises while
    ``failing``."""

    name = "winner"

    def __init__(self) -> None:
        self.failing = True
        self.told: list[list[dict[str, Any]]] = []

    @hookimpl
    def e2badges_notify_period_close(self, standings: list[dict[str, Any]]) -> None:
        self.told.append([dict(row) for row in standings])
        if self.failing:
            raise ConnectionError("mail is down")


class Killed(BaseException):
    """The process died: raised right after a commit, or by a notifier."""


def die_after_commit(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the process "die" (raise Killed) right after each recording commit of ``store``."""
    transaction = store.transaction

    @contextmanager
    def dying(**options: Any) -> Iterator[StoreTransaction]:
        with transaction(**options) as tx:
            yield tx
        raise Killed

    monkeypatch.setattr(store, "transaction", dying)


def notifying(store: Store, *plugins: object, **options: Any) -> Rewards:
    """Return a Rewards over ``store`` with the test rules, a frozen clock and ``plugins``."""
    options.setdefault("clock", FrozenClock(T0))
    return Rewards(store, rules=RULES, plugins=plugins, load_entrypoints=False, **options)


class OutboxConformance:
    """The outbox (notifications and their delivery to plugins), for a store that keeps
    one (``keeps_outbox``); skipped for a store that does not, over which Rewards
    refuses notification plugins."""

    @pytest.fixture(autouse=True)
    def _keeps_outbox(self, request: pytest.FixtureRequest) -> None:
        # Autouse in every test of the subclass: only this class's tests are skipped.
        if request.function.__qualname__.startswith("OutboxConformance."):
            needs_outbox(request.getfixturevalue("store"))

    # -- the outbox: storing notifications --------------------------------------------

    def test_outbox_claims_oldest_first(self, store: Store) -> None:
        """Stored notifications are claimed oldest first, across batches, as they were given."""
        payload = {"text": "héllo ✓", "nested": {"list": [1, 2.5, None, True]}, "n": 3}
        put(store, note(2), note(1))
        put(store, note(3, payload=payload))
        entries = store.claim_notifications(now=T0, lease=timedelta(minutes=1))
        assert ids(entries) == ["n2", "n1", "n3"]
        assert entries[2].notification == note(3, payload=payload)
        assert (entries[2].delivered, dict(entries[2].failures), entries[2].done) == (
            frozenset(),
            {},
            False,
        )

    def test_outbox_keeps_first_of_an_id(self, store: Store) -> None:
        """A notification whose id the outbox already holds is left as it was."""
        put(store, note(1, payload={"v": "first"}))
        put(store, note(1, payload={"v": "second"}))
        entries = store.claim_notifications(now=T0, lease=timedelta(minutes=1))
        assert [e.notification.payload for e in entries] == [{"v": "first"}]

    def test_outbox_persists(self, store: Store, make_store: Callable[[], Store]) -> None:
        """Stored notifications and their delivery record are seen by another store over the
        same database."""
        put(store, note(1))
        store.mark_failed("n1", "p", error="down")
        entry = make_store().get_notification("n1")
        assert entry is not None
        assert (entry.notification, dict(entry.failures)) == (note(1), {"p": 1})

    def test_unknown_notification(self, store: Store) -> None:
        """get_notification returns None and the mark methods raise LookupError for an unknown
        id."""
        assert store.get_notification("nope") is None
        with pytest.raises(LookupError):
            store.mark_delivered("nope", "p")
        with pytest.raises(LookupError):
            store.mark_failed("nope", "p", error="x")
        with pytest.raises(LookupError):
            store.release_notification("nope", done=True)

    # -- the outbox: claims and leases ----------------------------------------------

    def test_claim_leases(self, store: Store) -> None:
        """A claimed notification is not claimed again until its lease ends."""
        put(store, note(1))
        lease = timedelta(minutes=1)
        assert ids(store.claim_notifications(now=T0, lease=lease)) == ["n1"]
        assert store.claim_notifications(now=T0, lease=lease) == []
        assert store.claim_notifications(now=T0 + timedelta(seconds=59), lease=lease) == []
        assert ids(store.claim_notifications(now=T0 + lease, lease=lease)) == ["n1"]

    def test_claim_leases_run_in_elapsed_time(self, store: Store) -> None:
        """Times in a zone with a DST change are instants: a lease taken at 02:10 after
        Berlin's autumn change (fold 1, 01:10 UTC) lasts its length from then, and a retry
        set for 02:51 before the change (00:51 UTC) is due at 02:10 after it."""
        berlin = ZoneInfo("Europe/Berlin")
        after = datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=berlin)  # 01:10 UTC

        def later(delta: timedelta) -> datetime:
            return (after.astimezone(UTC) + delta).astimezone(berlin)

        put(store, note(1), note(2))
        lease = timedelta(minutes=5)
        assert ids(store.claim_notifications(now=after, lease=lease, ids=["n1"])) == ["n1"]
        assert store.claim_notifications(now=after, lease=lease, ids=["n1"]) == []
        leased = store.claim_notifications(now=later(timedelta(minutes=4)), lease=lease)
        assert ids(leased) == ["n2"]  # n1 is still leased, 02:14 after the change
        assert ids(store.claim_notifications(now=later(lease), lease=lease, ids=["n1"])) == ["n1"]
        before = datetime(2026, 10, 25, 2, 51, tzinfo=berlin)  # 00:51 UTC
        store.release_notification("n2", done=False, retry_at=before)
        assert ids(store.claim_notifications(now=after, lease=lease, ids=["n2"])) == ["n2"]

    def test_claim_by_ids(self, store: Store) -> None:
        """claim_notifications(ids=...) considers only those ids, oldest first; unknown ids are
        left out."""
        put(store, note(1), note(2), note(3))
        claimed = store.claim_notifications(
            now=T0, lease=timedelta(minutes=1), ids=["n3", "nope", "n1"]
        )
        assert ids(claimed) == ["n1", "n3"]

    def test_claim_by_many_ids_with_a_limit(self, store: Store) -> None:
        """claim_notifications(ids=..., limit=n) over many ids (1,200, more than a SQL store
        puts into one IN list) leases the n oldest due notifications among them, whatever
        the order of their ids, and only those."""
        # The oldest notification has the id that sorts last.
        notes = [
            Notification(f"n{1199 - n:04d}", "e2badges_notify_outcome", {}, ("p",))
            for n in range(1200)
        ]
        put(store, *notes)
        every = [n.id for n in notes]
        lease = timedelta(minutes=1)
        claimed = store.claim_notifications(now=T0, lease=lease, ids=every, limit=3)
        assert ids(claimed) == ["n1199", "n1198", "n1197"]
        rest = store.claim_notifications(now=T0, lease=lease, ids=every)
        assert ids(rest) == every[3:]

    def test_claim_limit(self, store: Store) -> None:
        """claim_notifications(limit=n) returns the n oldest due notifications."""
        put(store, note(1), note(2), note(3))
        lease = timedelta(minutes=1)
        assert ids(store.claim_notifications(now=T0, lease=lease, limit=2)) == ["n1", "n2"]
        assert ids(store.claim_notifications(now=T0, lease=lease, limit=2)) == ["n3"]

    def test_concurrent_claims_are_disjoint(self, make_store: Callable[[], Store]) -> None:
        """Workers claiming at the same time never get the same notification."""
        put(make_store(), *(note(n) for n in range(40)))
        claimed: list[str] = []
        lock = threading.Lock()

        def worker() -> None:
            store = make_store()
            while True:
                got = store.claim_notifications(now=T0, lease=timedelta(minutes=1), limit=3)
                if not got:
                    return
                with lock:
                    claimed.extend(ids(got))

        run_in_threads(lambda _: worker(), range(4))
        assert sorted(claimed) == sorted(f"n{n}" for n in range(40))

    def test_naive_times_refused(self, store: Store) -> None:
        """claim_notifications(now=...) and release_notification(retry_at=...) given a naive
        datetime (or no datetime) raise InvalidQueryError naming the argument, before
        anything is written: no notification is leased or rescheduled."""
        put(store, note(1))
        naive = T0.replace(tzinfo=None)
        lease = timedelta(minutes=1)
        for now in (naive, "2026-03-02T09:00:00+00:00"):
            with pytest.raises(InvalidQueryError) as info:
                store.claim_notifications(now=now, lease=lease)  # type: ignore[arg-type]
            assert (info.value.field, info.value.subject) == ("now", "claim_notifications")
        assert ids(store.claim_notifications(now=T0, lease=lease)) == ["n1"]
        store.release_notification("n1", done=False)
        with pytest.raises(InvalidQueryError) as info:
            store.release_notification("n1", done=False, retry_at=naive + timedelta(days=1))
        assert (info.value.field, info.value.subject) == ("retry_at", "release_notification")
        assert ids(store.claim_notifications(now=T0, lease=lease)) == ["n1"]

    # -- the outbox: the delivery record --------------------------------------------

    def test_mark_delivered(self, store: Store) -> None:
        """A delivery is recorded per plugin; marking twice is harmless."""
        put(store, Notification("n1", "e2badges_notify_outcome", {}, ("p", "q")))
        store.mark_delivered("n1", "p")
        store.mark_delivered("n1", "p")
        entry = store.get_notification("n1")
        assert entry is not None
        assert entry.delivered == frozenset({"p"})

    def test_mark_failed_counts(self, store: Store) -> None:
        """mark_failed returns the failures so far and keeps the last error per plugin."""
        put(store, note(1))
        assert store.mark_failed("n1", "p", error="first") == 1
        assert store.mark_failed("n1", "p", error="second") == 2
        entry = store.get_notification("n1")
        assert entry is not None
        assert (dict(entry.failures), dict(entry.errors)) == ({"p": 2}, {"p": "second"})

    def test_release_done(self, store: Store) -> None:
        """A notification released as done is never claimed again."""
        put(store, note(1))
        store.claim_notifications(now=T0, lease=timedelta(minutes=1))
        store.release_notification("n1", done=True)
        assert store.claim_notifications(now=T0 + timedelta(days=1), lease=timedelta(1)) == []
        entry = store.get_notification("n1")
        assert entry is not None
        assert entry.done

    def test_release_retry_at(self, store: Store) -> None:
        """A notification released with retry_at is due again from that time, not before."""
        put(store, note(1))
        lease = timedelta(minutes=1)
        store.claim_notifications(now=T0, lease=lease)
        store.release_notification("n1", done=False, retry_at=T0 + timedelta(minutes=10))
        assert store.claim_notifications(now=T0 + timedelta(minutes=5), lease=lease) == []
        claimed = store.claim_notifications(now=T0 + timedelta(minutes=10), lease=lease)
        assert ids(claimed) == ["n1"]

    def test_release_at_once(self, store: Store) -> None:
        """A notification released without retry_at (and not done) is due again at once."""
        put(store, note(1))
        store.claim_notifications(now=T0, lease=timedelta(minutes=1))
        store.release_notification("n1", done=False)
        assert ids(store.claim_notifications(now=T0, lease=timedelta(minutes=1))) == ["n1"]

    # -- the outbox through recording -----------------------------------------------

    def test_notifications_written_with_effects(self, store: Store) -> None:
        """Recording stores one notification per new activity for a notifier, with the effects."""
        rewards = notifying(store, Notifier("p"), delivery=DeliveryPolicy(inline=False))
        rewards.record_many([act(1), act(2), act(1)])
        entry = store.get_notification("recorded:a1")
        assert entry is not None
        assert entry.notification == Notification(
            "recorded:a1", "e2badges_notify_outcome", {"activity_id": "a1"}, ("p",)
        )
        assert ids(store.claim_notifications(now=T0, lease=timedelta(1))) == [
            "recorded:a1",
            "recorded:a2",
        ]

    def test_failed_batch_writes_no_notification(self, store: Store) -> None:
        """A batch that fails stores none of its notifications."""

        def explode(activity: Activity) -> float:
            raise RuntimeError("boom")

        rewards = Rewards(
            store,
            rules=[PointRule(id="r", kind="comment.created", actor_points=explode)],
            plugins=[Notifier("p")],
            load_entrypoints=False,
        )
        with pytest.raises(RuntimeError, match="boom"):
            rewards.record(act(1))
        assert store.get_notification("recorded:a1") is None

    def test_delivered_after_commit_once(self, store: Store) -> None:
        """A notifier is told about each recorded activity once, after the commit."""
        notifier = Notifier("p", store)
        rewards = notifying(store, notifier)
        rewards.record_many([act(1), act(2)])
        rewards.record(act(1))
        assert notifier.received == ["recorded:a1", "recorded:a2"]
        assert notifier.committed == [True, True]
        report = rewards.deliver_pending()
        assert (report.delivered, notifier.received) == (0, ["recorded:a1", "recorded:a2"])
        entry = store.get_notification("recorded:a1")
        assert entry is not None
        assert (entry.delivered, entry.done) == (frozenset({"p"}), True)

    def test_killed_after_commit_delivers_later(
        self, store: Store, make_store: Callable[[], Store], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A process that dies between the commit and the delivery loses nothing: another
        process delivers on deliver_pending(), once."""
        first = Notifier("p")
        dying = notifying(store, first)
        die_after_commit(store, monkeypatch)
        with pytest.raises(Killed):
            dying.record(act(1))
        monkeypatch.undo()
        assert first.received == []
        second = Notifier("p")
        survivor = notifying(make_store(), second)
        assert survivor.balance("ann") == 2
        report = survivor.deliver_pending()
        assert (report.delivered, report.failures) == (1, ())
        assert second.received == ["recorded:a1"]
        assert survivor.deliver_pending().delivered == 0
        assert second.received == ["recorded:a1"]

    def test_killed_during_delivery_redelivers_only_the_rest(
        self, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """A process that dies while delivering: once the lease ends, the plugins not yet served
        receive the notification and those served do not receive it again."""
        served, dying = Notifier("served"), Notifier("dying", dies=True)
        with pytest.raises(Killed):
            notifying(store, served, dying).record(act(1))
        assert served.received == ["recorded:a1"]
        again_served, again_dying = Notifier("served"), Notifier("dying")
        clock = FrozenClock(T0)
        survivor = notifying(make_store(), again_served, again_dying, clock=clock)
        assert survivor.deliver_pending().delivered == 0  # still leased by the dead process
        clock.advance(DeliveryPolicy().lease)
        assert survivor.deliver_pending().delivered == 1
        assert (again_served.received, again_dying.received) == ([], ["recorded:a1"])

    def test_undelivered_delivers_on_deliver_pending(
        self, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """Notifications left undelivered (inline=False) are delivered by deliver_pending() of
        another Rewards over the same database."""
        notifying(store, Notifier("p"), delivery=DeliveryPolicy(inline=False)).record_many(
            [act(1), act(2)]
        )
        notifier = Notifier("p")
        assert notifying(make_store(), notifier).deliver_pending().delivered == 2
        assert notifier.received == ["recorded:a1", "recorded:a2"]

    def test_raising_notifier_does_not_stop_others(self, store: Store) -> None:
        """A notifier that raises leaves the effects stored and the other notifiers served;
        only it is retried, after the backoff."""
        clock = FrozenClock(T0)
        down, up = Notifier("down", failing=True), Notifier("up")
        rewards = notifying(store, down, up, clock=clock)
        outcome = rewards.record(act(1))
        assert store.get_outcome("a1") == outcome
        assert up.received == ["recorded:a1"]
        assert [(f.plugin, f.attempts, f.final) for f in rewards.delivery_errors] == [
            ("down", 1, False)
        ]
        # Retried after the backoff (1 minute), then 2 minutes later; `up` is never called again.
        assert rewards.deliver_pending().failures == ()
        clock.advance(timedelta(minutes=1))
        assert [f.attempts for f in rewards.deliver_pending().failures] == [2]
        down.failing = False
        clock.advance(timedelta(minutes=2))
        report = rewards.deliver_pending()
        assert (report.delivered, report.failures) == (1, ())
        assert (down.received, up.received) == (["recorded:a1"], ["recorded:a1"])
        entry = store.get_notification("recorded:a1")
        assert entry is not None
        assert (entry.delivered, dict(entry.failures), entry.done) == (
            frozenset({"down", "up"}),
            {"down": 2},
            True,
        )

    def test_backoff_counts_from_the_failure(self, store: Store) -> None:
        """The wait before a retry counts from when the failed attempt ended: a notifier
        that takes 90 seconds to fail (a timeout) is retried a backoff after its failure,
        not right away."""
        clock = FrozenClock(T0)
        started: list[datetime] = []

        class Slow:
            name = "slow"

            @hookimpl
            def e2badges_notify_outcome(self) -> None:
                started.append(clock.now())
                clock.advance(timedelta(seconds=90))
                raise TimeoutError("no answer in 90 s")

        policy = DeliveryPolicy(inline=False, backoff=timedelta(minutes=1))
        rewards = notifying(store, Slow(), clock=clock, delivery=policy)
        rewards.record(act(1))
        assert [f.attempts for f in rewards.deliver_pending().failures] == [1]
        failed = T0 + timedelta(seconds=90)
        assert rewards.deliver_pending() == DeliveryReport()
        clock.set(failed + policy.backoff - timedelta(microseconds=1))
        assert rewards.deliver_pending() == DeliveryReport()
        clock.set(failed + policy.backoff)
        assert [f.attempts for f in rewards.deliver_pending().failures] == [2]
        assert started == [T0, failed + policy.backoff]

    def test_gives_up_after_attempts(self, store: Store) -> None:
        """After DeliveryPolicy.attempts failures, a plugin is given up on and the notification
        is done."""
        clock = FrozenClock(T0)
        rewards = notifying(
            store, Notifier("down", failing=True), clock=clock, delivery=DeliveryPolicy(attempts=2)
        )
        rewards.record(act(1))
        clock.advance(timedelta(minutes=1))
        report = rewards.deliver_pending()
        assert [(f.attempts, f.final) for f in report.failures] == [(2, True)]
        clock.advance(timedelta(days=2))
        assert rewards.deliver_pending() == DeliveryReport()
        entry = store.get_notification("recorded:a1")
        assert entry is not None
        assert (entry.done, entry.delivered) == (True, frozenset())

    def _one_failure(self, store: Store, error: Exception) -> tuple[DeliveryReport, Notifier]:
        """Record a1 with notifiers ``down`` (raising ``error``) and ``up``, delivered by
        deliver_pending(); return its report and ``up``."""
        up = Notifier("up")
        rewards = notifying(
            store,
            Notifier("down", failing=True, error=error),
            up,
            delivery=DeliveryPolicy(inline=False),
        )
        rewards.record(act(1))
        return rewards.deliver_pending(), up

    def test_error_text_not_utf8_is_stored_escaped(self, store: Store) -> None:
        """A notifier error whose text holds a lone surrogate (bytes decoded with
        ``surrogateescape``), which no UTF-8 store can keep, is stored and reported with
        the surrogate written as a backslash escape; the failure is counted and the other
        notifiers are served."""
        report, up = self._one_failure(store, ConnectionError("HTTP 502: caf\udce9"))
        text = "ConnectionError: HTTP 502: caf\\udce9"
        assert [(f.plugin, f.error, f.attempts) for f in report.failures] == [("down", text, 1)]
        assert (report.delivered, up.received) == (1, ["recorded:a1"])
        entry = store.get_notification("recorded:a1")
        assert entry is not None
        assert (dict(entry.failures), dict(entry.errors)) == ({"down": 1}, {"down": text})

    def test_error_whose_text_cannot_be_read(self, store: Store) -> None:
        """A notifier error whose ``str()`` raises is stored and reported by its ``repr()``;
        the failure is counted and the other notifiers are served."""

        class Unreadable(Exception):
            def __str__(self) -> str:
                raise AttributeError("no text")

        report, up = self._one_failure(store, Unreadable("disk full"))
        text = "Unreadable: Unreadable('disk full')"
        assert [(f.plugin, f.error, f.attempts) for f in report.failures] == [("down", text, 1)]
        assert (report.delivered, up.received) == (1, ["recorded:a1"])
        entry = store.get_notification("recorded:a1")
        assert entry is not None
        assert (dict(entry.failures), dict(entry.errors)) == ({"down": 1}, {"down": text})

    def test_each_plugin_call_gets_its_own_payload(self, store: Store) -> None:
        """Each plugin call, and each retry, gets its own copy of a notification's
        arguments: a notifier changing the final standings it is told (sorting them,
        changing a row) changes neither what the next plugin or a retry is told nor the
        stored notification, and the failures keep their errors (nothing was erased)."""
        clock = FrozenClock(T0)
        reorder, winner = Reorder(), Winner()
        rewards = Rewards(
            store,
            rules=BOARD_RULES,
            leaderboards=BOARDS,
            plugins=[reorder, winner],
            clock=clock,
            delivery=DeliveryPolicy(inline=False),
            load_entrypoints=False,
        )
        rewards.record_many([scored(1, "zoe", 2), scored(2, "adam", 1)])
        clock.advance(timedelta(days=1))
        assert rewards.close_periods() == [("pts", "day", "2026-03-02")]
        standings = [
            {"rank": 1, "user": "zoe", "score": 2},
            {"rank": 2, "user": "adam", "score": 1},
        ]
        nid = "period:pts:day:2026-03-02"
        errors = {
            "reorder": "ConnectionError: chat is down",
            "winner": "ConnectionError: mail is down",
        }
        report = rewards.deliver_pending()
        assert {f.plugin: f.error for f in report.failures} == errors
        entry = store.get_notification(nid)
        assert entry is not None
        assert (dict(entry.errors), entry.notification.payload["standings"]) == (errors, standings)
        reorder.failing = winner.failing = False
        clock.advance(DeliveryPolicy().backoff)
        assert rewards.deliver_pending() == DeliveryReport(delivered=2)
        assert winner.told == [standings, standings]
        entry = store.get_notification(nid)
        assert entry is not None
        assert entry.notification.payload["standings"] == standings

    def _slow_worker_and_another(
        self, store: Store, make_store: Callable[[], Store], *, inline: bool
    ) -> tuple[Rewards, Notifier, Notifier]:
        """Return worker A over ``store``, whose notifier takes a minute of the shared clock
        per notification, and that notifier and worker B's; once more than a lease has
        passed, A's notifier runs B's deliver_pending() (as another process would)."""
        clock = FrozenClock(T0)
        lease = DeliveryPolicy().lease
        second = Notifier("p")
        other = notifying(make_store(), second, clock=clock)
        reports: list[DeliveryReport] = []

        def slowly() -> None:
            if clock.advance(timedelta(minutes=1)) > T0 + lease and not reports:
                reports.append(other.deliver_pending())

        first = Notifier("p", during=slowly)
        worker = notifying(store, first, clock=clock, delivery=DeliveryPolicy(inline=inline))
        return worker, first, second

    def test_deliver_pending_leases_each_notification_when_it_starts(
        self, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """deliver_pending() leases each notification when its delivery starts: a worker
        slower than the lease over many notifications leaves those it has not reached to
        another worker, and each is delivered once in all."""
        worker, first, second = self._slow_worker_and_another(store, make_store, inline=False)
        worker.record_many([act(n) for n in range(1, 11)])
        assert worker.deliver_pending().delivered == 6
        # A takes a1 at T0 and a6 at T0+5 min; B runs at T0+6 min, while a6 is still leased.
        assert (first.received, second.received) == (
            [f"recorded:a{n}" for n in range(1, 7)],
            [f"recorded:a{n}" for n in range(7, 11)],
        )

    def test_inline_delivery_leases_each_notification_when_it_starts(
        self, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """Delivery right after the commit leases each of the batch's notifications when its
        delivery starts, so another worker delivers those it has not reached, once in all."""
        worker, first, second = self._slow_worker_and_another(store, make_store, inline=True)
        worker.record_many([act(n) for n in range(1, 11)])
        assert (first.received, second.received) == (
            [f"recorded:a{n}" for n in range(1, 7)],
            [f"recorded:a{n}" for n in range(7, 11)],
        )
        assert worker.deliver_pending() == DeliveryReport()

    def test_addressed_plugins_only(self, store: Store, make_store: Callable[[], Store]) -> None:
        """A notification is delivered only to the plugins it was addressed to; one addressed to a
        plugin this process lacks stays pending for a process that has it."""
        notifying(
            store, Notifier("p"), Notifier("q"), delivery=DeliveryPolicy(inline=False)
        ).record(act(1))
        late = Notifier("late")
        only_p = Notifier("p")
        notifying(make_store(), only_p, late).deliver_pending()
        assert (only_p.received, late.received) == (["recorded:a1"], [])
        entry = store.get_notification("recorded:a1")
        assert entry is not None
        assert (entry.delivered, entry.done) == (frozenset({"p"}), False)
        only_q = Notifier("q")
        later = notifying(make_store(), only_q, clock=FrozenClock(T0 + timedelta(hours=1)))
        assert later.deliver_pending().delivered == 1
        assert only_q.received == ["recorded:a1"]


class StoreConformance(
    AdoptionConformance,
    AliasingConformance,
    HostileInputConformance,
    ModelConformance,
    OutboxConformance,
    PeopleConformance,
    QueryCountConformance,
    TenantConformance,
):
    """Behaviour every Store must show; subclass it and provide ``make_store``."""

    @pytest.fixture(autouse=True)
    def _no_installed_plugins(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Leave out the plugins installed in the environment (entry points): the suite
        gives the same results wherever it runs, and none of them (a webhook, say) is
        called by its tests."""
        monkeypatch.setattr(_plugins, "_entry_points", tuple)

    @pytest.fixture
    def store(self, make_store: Callable[[], Store]) -> Store:
        return make_store()

    @pytest.fixture
    def rewards(self, store: Store) -> Rewards:
        return Rewards(store, rules=RULES, clock=FrozenClock(T0))

    # -- recording ------------------------------------------------------------------

    def test_recorded_activity_is_returned(self, rewards: Rewards, store: Store) -> None:
        """After commit, a recorded activity is returned by get_activity, unchanged."""
        activity = act(1, attributes={"title": "héllo", "tags": ["a", "b"]}, value=2.5)
        rewards.record(activity)
        assert store.get_activity("a1") == activity

    def test_activity_changed_by_a_check_is_stored_as_changed(self, store: Store) -> None:
        """An activity a check plugin replaced is stored as replaced (get_activity,
        iter_activities), consistent with its ledger; the submitted one, sent again, is
        still the same activity."""

        class Enrich:
            name = "enrich"

            @hookimpl
            def e2badges_check_activity(self, activity: Activity) -> Activity:
                extra = {**activity.attributes, "checked": True}
                return activity.model_copy(update={"attributes": extra, "value": 7})

        scores = PointRule(id="v", kind="v", actor_points=lambda a: int(a.value or 0))
        rewards = Rewards(store, rules=(scores,), plugins=[Enrich()], clock=FrozenClock(T0))
        submitted = Activity(id="c1", actor="ann", kind="v", value=1, at=T0, attributes={"m": 1})
        first = rewards.record(submitted)
        changed = submitted.model_copy(update={"attributes": {"m": 1, "checked": True}, "value": 7})
        assert rewards.balance("ann") == 7
        assert store.get_activity("c1") == changed
        assert list(store.iter_activities()) == [changed]
        assert rewards.record(submitted) == first  # a retry, not a conflict
        assert store.get_activity("c1") == changed
        assert rewards.balance("ann") == 7

    def test_plugin_state_reads_back_what_was_set(self, store: Store) -> None:
        """A value a check plugin stores in its state is read back by a later activity
        equal and of the same types (nested too), whatever the store; a list read and
        changed in place (by the second activity) is not stored unless set again."""
        values: dict[str, Any] = {
            "int": 7,
            "float": 2.5,
            "bool": True,
            "none": None,
            "text": "héllo 🦄 \x00\t",
            "list": [1, [2.0, {"k": None}], "x"],
            "dict": {"a": {"b": [True]}, "🦄": 1, "": 0, "3": "text key"},
            "smallest": -(2**63),
            "largest": 2**63 - 1,
            "deep": [[[[[[[[[[1]]]]]]]]]],
        }
        stash = _Stash(copy.deepcopy(values))
        rewards = Rewards(store, rules=RULES, plugins=[stash], clock=FrozenClock(T0))
        rewards.record(act(1))
        rewards.record(act(2))
        rewards.record(act(3))
        for key, value in values.items():
            read = stash.read[key]
            assert read == value
            assert _json_types(read) == _json_types(value)

    @pytest.mark.parametrize(
        ("value", "part", "reason"),
        [
            pytest.param({1, 2}, "value", "is a set", id="set"),
            pytest.param((1, 2), "value", "is a tuple", id="tuple"),
            pytest.param([1, (2,)], "value[1]", "is a tuple", id="nested-tuple"),
            pytest.param({3: "x"}, "value", "has a key of type int", id="int-key"),
            pytest.param(math.inf, "value", "must be finite", id="inf"),
            pytest.param({"a": [math.nan]}, "value.a[0]", "must be finite", id="nan"),
            pytest.param(2**63, "value", "64-bit", id="big-int"),
            pytest.param("\ud800", "value", "surrogate", id="surrogate"),
            pytest.param({"\udfff": 1}, "value", "surrogate", id="surrogate-key"),
            pytest.param(b"bytes", "value", "is a bytes", id="bytes"),
            pytest.param(datetime(2026, 1, 1), "value", "is a datetime", id="datetime"),
            pytest.param(_nested(70), "value" + "[0]" * 64, "nested deeper", id="too-deep"),
            pytest.param("x" * (2**20), "value", "bytes as JSON", id="too-large"),
        ],
    )
    def test_plugin_state_refuses_what_a_store_would_change(
        self, store: Store, value: object, part: str, reason: str
    ) -> None:
        """A check plugin setting a value that some store cannot keep as it is (not
        plain JSON, a tuple, a key not a str, a float not finite, a whole number
        outside 64 bits, a lone surrogate, nested too deep, too large) gets a
        PluginError naming the plugin, the key and the part; nothing of the batch is
        stored, on every store alike."""
        rewards = Rewards(
            store, rules=RULES, plugins=[_Stash({"bad key": value})], clock=FrozenClock(T0)
        )
        with pytest.raises(PluginError) as caught:
            rewards.record(act(1))
        assert caught.value.plugin == "stash"
        assert caught.value.hook == "e2badges_check_activity"
        assert caught.value.reason.startswith(f"state key 'bad key': {part}: ")
        assert reason in caught.value.reason
        assert "\n" not in str(caught.value)
        assert store.count_activities() == 0
        assert rewards.balance("ann") == 0

    @pytest.mark.parametrize(
        ("key", "reason"),
        [
            pytest.param(7, "must be a str", id="int"),
            pytest.param("a\x00b", "U\\+0000", id="nul"),
            pytest.param("a\ud800", "surrogate", id="surrogate"),
        ],
    )
    def test_plugin_state_refuses_keys_a_store_cannot_hold(
        self, store: Store, key: object, reason: str
    ) -> None:
        """A plugin state key that is not a str, or holds NUL or a lone surrogate (which
        some databases cannot store), is a PluginError naming the plugin, on reads and
        writes alike; nothing of the batch is stored."""
        for stash in (_Stash({key: 1}), _Stash({}, reads=(key,))):
            rewards = Rewards(store, rules=RULES, plugins=[stash], clock=FrozenClock(T0))
            with pytest.raises(PluginError, match=f"plugin 'stash'.*state key.*{reason}"):
                rewards.record(act(1))
        assert store.count_activities() == 0

    def test_unknown_activity_is_none(self, store: Store) -> None:
        """get_activity and get_outcome return None for an id never recorded."""
        assert store.get_activity("nope") is None
        assert store.get_outcome("nope") is None

    def test_outcome_is_stored(self, rewards: Rewards, store: Store) -> None:
        """After commit, the outcome of a recorded activity is returned by get_outcome."""
        outcome = rewards.record(act(1, kind="answer.upvoted", recipient="bob"))
        assert store.get_outcome("a1") == outcome

    def test_duplicate_id_stored_once(self, rewards: Rewards, store: Store) -> None:
        """Recording an activity id twice stores it once and returns the first outcome."""
        first = rewards.record(act(1))
        again = rewards.record(act(1))
        assert again == first
        assert store.count_activities() == 1
        assert rewards.balance("ann") == 2

    def test_duplicate_in_one_batch(self, rewards: Rewards, store: Store) -> None:
        """An id repeated inside one batch is recorded once; both places get its outcome."""
        outcomes = rewards.record_many([act(1), act(2), act(1)])
        assert outcomes[0] == outcomes[2]
        assert store.count_activities() == 2
        assert rewards.balance("ann") == 4

    def test_conflicting_duplicate_refused(self, rewards: Rewards, store: Store) -> None:
        """An id recorded again with other content raises and stores nothing of its batch."""
        rewards.record(act(1))
        with pytest.raises(ConflictingActivityError) as info:
            rewards.record_many([act(2), act(1, actor="bob")])
        assert info.value.differing == ["actor"]
        assert store.get_activity("a2") is None
        assert rewards.balance("ann") == 2

    def test_values_of_another_type_conflict(self, rewards: Rewards, store: Store) -> None:
        """Values are kept exactly, so an id recorded again with ``1`` or ``1.0`` where it
        had ``True`` (or ``-0.0`` for ``0.0``), in its value or anywhere in its
        attributes, is a conflict; the activity as the store returns it, or with its
        attributes' keys in another order, is a duplicate."""
        attributes = {"accepted": True, "score": 1, "ratio": 0.0, "tags": [1, {"x": 1.0}]}
        first = rewards.record(act(1, value=0.0, attributes=attributes))
        stored = store.get_activity("a1")
        assert stored is not None
        assert rewards.record(stored) == first
        again = act(1, value=0.0, attributes=dict(reversed(attributes.items())))
        assert rewards.record(again) == first
        changes: list[dict[str, Any]] = [
            {"accepted": 1},
            {"accepted": 1.0},
            {"score": True},
            {"score": 1.0},
            {"ratio": -0.0},
            {"ratio": 0},
            {"tags": [1.0, {"x": 1.0}]},
            {"tags": [True, {"x": 1.0}]},
            {"tags": [1, {"x": 1}]},
        ]
        for change in changes:
            with pytest.raises(ConflictingActivityError) as info:
                rewards.record(act(1, value=0.0, attributes={**attributes, **change}))
            assert info.value.differing == ["attributes"], change
        with pytest.raises(ConflictingActivityError) as info:
            rewards.record(act(1, value=-0.0, attributes=attributes))
        assert info.value.differing == ["value"]
        assert store.count_activities() == 1
        assert store.get_activity("a1") == stored

    def test_invalid_batch_stores_nothing(self, rewards: Rewards, store: Store) -> None:
        """A batch with one invalid activity stores none of it."""
        with pytest.raises(InvalidActivityError):
            rewards.record_many([act(1), {"actor": "bob", "kind": "comment.created", "value": "x"}])
        assert store.count_activities() == 0
        assert rewards.balance("ann") == 0

    def test_failure_mid_batch_stores_nothing(self, store: Store) -> None:
        """An exception while effects are computed leaves the store as it was."""

        def explode(activity: Activity) -> float:
            if activity.id == "a3":
                raise RuntimeError("boom")
            return 1

        rewards = Rewards(
            store, rules=[PointRule(id="r", kind="comment.created", actor_points=explode)]
        )
        rewards.record(act(1))
        with pytest.raises(RuntimeError, match="boom"):
            rewards.record_many([act(2), act(3)])
        assert store.count_activities() == 1
        assert rewards.balance("ann") == 1
        assert [line.activity_id for line in store.ledger("ann")] == ["a1"]

    def test_at_filled_from_clock(self, store: Store) -> None:
        """An activity recorded without ``at`` is stored with the clock's time."""
        rewards = Rewards(store, rules=RULES, clock=FrozenClock(T0))
        rewards.record({"id": "x", "actor": "ann", "kind": "comment.created"})
        stored = store.get_activity("x")
        assert stored is not None
        assert stored.at == T0

    def test_times_come_back_with_a_fixed_offset(self, store: Store) -> None:
        """Every time returned (an activity's ``at``, the times of its outcome's ledger
        lines, awards, level changes and stories, of ``explain()``, ``awards()`` and the
        feed, and team membership times) is a fixed-offset ``datetime.timezone`` at the
        UTC offset it was given with, not its zone, whether the time came with the
        activity, from the clock's now, or from ``people.join_team()``: the same on
        every store, so wall-clock arithmetic on it gives the same result everywhere."""
        paris = ZoneInfo("Europe/Paris")
        given = datetime(2026, 3, 2, 9, 0, tzinfo=paris)  # +01:00
        clock = FrozenClock(datetime(2026, 3, 2, 10, 0, tzinfo=paris))
        rewards = Rewards(store, rules=RULES, badges=BADGES, levels=LEVELS, clock=clock)
        person = rewards.people.join_team("ann", "red", at=given)
        returned = [
            rewards.record(act(1, at=given)),
            rewards.record({"id": "now", "actor": "ann", "kind": "comment.created"}),
        ]
        stored = [rewards.outcome("a1"), rewards.outcome("now")]
        activities = [rewards.activity("a1"), rewards.activity("now")]
        times: list[datetime | None] = [a.at for a in activities if a is not None]
        for outcome in [*returned, *stored]:
            assert outcome is not None
            times += [line.at for line in outcome.ledger]
            times += [award.at for award in outcome.awards]
            times += [change.at for change in outcome.level_changes]
            times += [story.at for story in outcome.stories]
        times += [line.at for line in rewards.explain("ann")]
        times += [record.award.at for record in rewards.awards("ann")]
        times += [story.at for story in rewards.feed()]
        for membership in (*person.memberships, *rewards.people.get("ann").memberships):
            times += [membership.joined]
        assert len(times) > 10
        assert None not in times
        assert {(type(t.tzinfo), t.utcoffset()) for t in times if t} == {
            (timezone, timedelta(hours=1))
        }
        assert [t.tzname() for t in times if t] == ["UTC+01:00"] * len(times)
        assert activities[0] is not None
        assert activities[0].at == given.astimezone(UTC)
        assert activities[1] is not None
        assert activities[1].at == clock.now().astimezone(UTC)

    def test_retry_without_at_is_a_duplicate(self, store: Store) -> None:
        """Re-sending an id without ``at`` later is the same activity, not a conflict."""
        clock = FrozenClock(T0)
        rewards = Rewards(store, rules=RULES, clock=clock)
        first = rewards.record({"id": "x", "actor": "ann", "kind": "comment.created"})
        clock.advance(timedelta(hours=1))
        assert rewards.record({"id": "x", "actor": "ann", "kind": "comment.created"}) == first

    def test_retry_in_a_dst_fold_or_gap_is_a_duplicate(self, store: Store) -> None:
        """Re-sending an activity whose ``at`` falls in the hour a DST change repeats or
        skips is the same activity: its outcome comes back and nothing is credited twice,
        whether the retry carries the time zone or the same instant in UTC."""
        berlin = ZoneInfo("Europe/Berlin")
        rewards = Rewards(store, rules=RULES)
        times = {
            "fold0": datetime(2026, 10, 25, 2, 30, tzinfo=berlin),
            "fold1": datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=berlin),
            "gap": datetime(2026, 3, 29, 2, 30, tzinfo=berlin),
        }

        def lines(outcome: Outcome) -> list[tuple[str, int, float]]:
            # The instants: == between a ZoneInfo time and the stored fixed offset is False
            # in a fold, the very comparison under test.
            return [(line.user, line.amount, line.at.timestamp()) for line in outcome.ledger]

        for name, at in times.items():
            sent = Activity(id=name, actor="ann", kind="comment.created", at=at)
            first = lines(rewards.record(sent))
            assert first == [("ann", 2, at.timestamp())]
            assert lines(rewards.record(sent)) == first
            in_utc = sent.model_copy(update={"at": at.astimezone(UTC)})
            assert lines(rewards.record(in_utc)) == first
        assert store.count_activities() == 3
        assert rewards.balance("ann") == 6

    # -- state and ledger -----------------------------------------------------------

    def test_state_persists(self, rewards: Rewards, make_store: Callable[[], Store]) -> None:
        """Committed state is visible to another store over the same database."""
        rewards.record_many([act(1), act(2, kind="answer.upvoted", recipient="bob")])
        other = Rewards(make_store(), rules=RULES)
        assert other.balance("ann") == 3
        assert other.balance("bob") == 10

    def test_first_level_at_zero_is_kept_below_zero(self, store: Store) -> None:
        """A first level with threshold 0 is held with a negative balance: reported
        (0, 1) once, not again as the balance crosses 0; replaying the log elsewhere gives
        the same levels."""
        rules = (
            PointRule(id="post", kind="post.created", actor_points=3),
            PointRule(id="flag", kind="post.flagged", recipient_points=-5),
        )
        levels = (Level(id="newcomer", threshold=0), Level(id="member", threshold=4))
        rewards = Rewards(store, rules=rules, levels=levels, clock=FrozenClock(T0))
        steps = [
            act(1, "mod", "post.flagged", recipient="ann"),  # -5
            *[act(n, kind="post.created") for n in (2, 3)],  # -2, 1
            act(4, "mod", "post.flagged", recipient="ann"),  # -4
            *[act(n, kind="post.created") for n in (5, 6, 7)],  # -1, 2, 5
        ]
        changes = [(c.old, c.new) for a in steps for c in rewards.record(a).level_changes]
        assert changes == [(0, 1), (1, 2)]
        assert [rewards.level(u) for u in ("ann", "mod", "nobody")] == [2, 1, 1]
        rewards.record(act(8, "mod", "post.flagged", recipient="ann"))  # 0
        rewards.record(act(9, "mod", "post.flagged", recipient="ann"))  # -5
        status = rewards.profile("ann").level
        assert status is not None
        assert status.level is not None
        assert (status.number, status.level.id, status.current, status.target) == (
            1,
            "newcomer",
            -5,
            4,
        )
        again = Rewards(MemoryStore(), rules=rules, levels=levels, clock=FrozenClock(T0))
        replayed = again.record_many(list(store.iter_activities()))
        assert [(c.old, c.new) for o in replayed for c in o.level_changes] == [
            (0, 1),
            (1, 2),
            (2, 1),
        ]
        assert again.level("ann") == rewards.level("ann") == 1

    def test_once_per_object_and_cooldown_stop_penalties(
        self, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """once_per_object and a cooldown stop a penalty as they stop points, whatever
        the sign of the credit before, read back by another store over the database."""
        rules = (
            PointRule(
                id="vote",
                kind="post.voted",
                recipient_points=lambda a: int(a.value or 0),
                once_per_object=True,
            ),
            PointRule(id="spam", kind="post.spam", actor_points=-5, cooldown=timedelta(hours=1)),
        )
        first = Rewards(store, rules=rules, clock=FrozenClock(T0))
        votes = [(1, "p1", -1), (2, "p2", 1)]
        for n, obj, value in votes:
            first.record(act(n, f"v{n}", "post.voted", recipient="ann", object=obj, value=value))
        first.record(act(3, kind="post.spam", object="p1"))
        again = Rewards(make_store(), rules=rules, clock=FrozenClock(T0))
        for n, obj, value in ((4, "p1", -1), (5, "p1", 1), (6, "p2", -1)):
            again.record(act(n, f"v{n}", "post.voted", recipient="ann", object=obj, value=value))
        again.record(act(7, kind="post.spam", object="p1"))
        again.record(act(70, kind="post.spam", object="p1"))
        assert [(line.amount, line.limit) for line in again.explain("ann")] == [
            (-1, None),
            (1, None),
            (-5, None),
            (0, "once_per_object"),
            (0, "once_per_object"),
            (0, "once_per_object"),
            (0, "cooldown"),
            (-5, None),
        ]
        assert again.balance("ann") == -10

    def test_cooldown_reads_a_single_stored_time(self, store: Store) -> None:
        """A cooldown's state written as one number (the last credited time, as releases
        before the list of credited times kept it) is read as that credited time."""
        rule = PointRule(id="view", kind="page.viewed", actor_points=1, cooldown=timedelta(hours=1))
        key = "cool\x1fview\x1fann\x1fp1"
        with store.transaction() as tx:
            tx.view({key})
            tx.apply(EffectBatch([], {key: (T0 + timedelta(minutes=30)).timestamp()}))
        rewards = Rewards(store, rules=(rule,), clock=FrozenClock(T0))

        def credit(n: int, minutes: int) -> tuple[int, str | None]:
            line = rewards.record(
                act(n, kind="page.viewed", object="p1", at=T0 + timedelta(minutes=minutes))
            ).ledger[0]
            return line.amount, line.limit

        assert [credit(1, 0), credit(2, 80), credit(3, 100), credit(4, 150)] == [
            (0, "cooldown"),
            (0, "cooldown"),
            (1, None),
            (0, "cooldown"),
        ]
        assert store.read_state([key]) == {key: [_us(T0 + timedelta(minutes=m)) for m in (30, 100)]}

    def test_times_in_state_are_exact_to_the_microsecond(self, store: Store) -> None:
        """A cooldown and a "first" place compare times to the microsecond up to year
        2999, with the times they keep (whole microseconds) read back from the store."""
        rule = PointRule(id="view", kind="page.viewed", actor_points=1, cooldown=timedelta(hours=1))
        first = Badge(id="pioneer", criterion=criteria.First(kind="answer.posted"))
        rewards = Rewards(store, rules=(rule,), badges=(first,), clock=FrozenClock(T0))
        at, hour, us = datetime(2990, 3, 2, 9, tzinfo=UTC), timedelta(hours=1), timedelta(0, 0, 1)

        def view(n: int, when: datetime) -> int:
            activity = act(n, kind="page.viewed", object="p1", at=when)
            return rewards.record(activity).ledger[0].amount

        assert [view(1, at), view(2, at + hour - us), view(3, at + hour)] == [1, 0, 1]
        assert [view(4, at - hour + us), view(5, at - hour)] == [0, 1]
        assert store.read_state(["cool\x1fview\x1fann\x1fp1"]) == {
            "cool\x1fview\x1fann\x1fp1": [_us(at - hour), _us(at), _us(at + hour)]
        }
        rewards.record(act(6, "ann", "answer.posted", at=at))
        later = Activity(id="a0", actor="bob", kind="answer.posted", at=at + us)  # smaller id
        outcome = rewards.record(later)
        assert (outcome.awards, outcome.revocations) == ((), ())
        assert [w.badge for w in rewards.badges("ann")] == ["pioneer"]
        assert rewards.badges("bob") == []

    def test_times_kept_in_seconds_are_read(self, store: Store) -> None:
        """A cooldown's credited times and a "first" place's time kept as float seconds
        (as earlier versions kept them) are read as the microseconds they were."""
        rule = PointRule(id="view", kind="page.viewed", actor_points=1, cooldown=timedelta(hours=1))
        first = Badge(id="pioneer", criterion=criteria.First(kind="answer.posted"))
        rewards = Rewards(store, rules=(rule,), badges=(first,), clock=FrozenClock(T0))
        start = T0 + timedelta(microseconds=123_457)
        rewards.record(Activity(id="c1", actor="carl", kind="answer.posted", at=start))
        cool, holder = "cool\x1fview\x1fann\x1fp1", "bf\x1fpioneer\x1f"
        assert store.read_state([holder]) == {holder: [_us(start), "c1", "carl"]}
        with store.transaction() as tx:
            tx.view({cool, holder})
            seconds = {cool: [start.timestamp()], holder: [start.timestamp(), "c1", "carl"]}
            tx.apply(EffectBatch([], seconds))
        us, hour = timedelta(microseconds=1), timedelta(hours=1)
        amounts = [
            rewards.record(act(n, kind="page.viewed", object="p1", at=at)).ledger[0].amount
            for n, at in ((1, start + hour - us), (2, start + hour))
        ]
        assert amounts == [0, 1]
        assert store.read_state([cool]) == {cool: [_us(start), _us(start + hour)]}
        # Later by a microsecond: no place; at the same time with a smaller id: the place.
        later = Activity(id="a0", actor="bob", kind="answer.posted", at=start + us)
        assert rewards.record(later).awards == ()
        tie = rewards.record(Activity(id="b0", actor="dora", kind="answer.posted", at=start))
        assert ([w.user for w in tie.awards], [r.user for r in tie.revocations]) == (
            ["dora"],
            ["carl"],
        )

    def test_read_state_leaves_out_missing(self, store: Store) -> None:
        """read_state leaves out keys that have no value."""
        assert store.read_state(["no-such-key"]) == {}

    def test_ledger_in_recording_order(self, rewards: Rewards, store: Store) -> None:
        """A person's ledger lists lines oldest recorded first, across batches."""
        rewards.record_many([act(3), act(1)])
        rewards.record(act(2))
        assert [line.activity_id for line in store.ledger("ann")] == ["a3", "a1", "a2"]

    def test_ledger_limit(self, rewards: Rewards, store: Store) -> None:
        """ledger(limit=n) returns the n most recent lines, oldest first."""
        rewards.record_many([act(1), act(2), act(3)])
        assert [line.activity_id for line in store.ledger("ann", limit=2)] == ["a2", "a3"]
        assert store.ledger("ann", limit=0) == []
        assert store.ledger("nobody") == []

    def test_ledger_keeps_limited_lines(self, rewards: Rewards, store: Store) -> None:
        """Ledger lines stopped by a limit are stored with their amount and limit."""
        rewards.record_many([act(1), act(2), act(3)])
        lines = store.ledger("ann")
        assert [(line.amount, line.requested, line.limit) for line in lines] == [
            (2, 2, None),
            (2, 2, None),
            (1, 2, "cap:day"),
        ]

    def test_iter_activities_in_recording_order(self, rewards: Rewards, store: Store) -> None:
        """iter_activities yields the log in recording order."""
        rewards.record_many([act(2), act(1)])
        rewards.record(act(0))
        assert [a.id for a in store.iter_activities()] == ["a2", "a1", "a0"]

    def test_iter_activities_while_others_record(self, rewards: Rewards, store: Store) -> None:
        """An iteration of the log yields every activity recorded before it began, in
        recording order; those recorded while it runs come after them, if at all (the
        SQL store's concurrent cases are in tests/storage/test_sqlalchemy.py)."""
        rewards.record_many([act(1), act(2), act(3)])
        log = store.iter_activities()
        first = next(log)
        rewards.record_many([act(4), act(5)])
        ids = [first.id, *(a.id for a in log)]
        assert ids[:3] == ["a1", "a2", "a3"]
        assert ids[3:] == ["a4", "a5"][: len(ids) - 3]

    # -- awards ---------------------------------------------------------------------

    @pytest.fixture
    def badged(self, store: Store) -> Rewards:
        return Rewards(store, rules=RULES, badges=BADGES, levels=LEVELS, clock=FrozenClock(T0))

    def test_awards_in_award_order(self, badged: Rewards, store: Store) -> None:
        """awards(user) lists awards in recording order, then outcome order, across batches."""
        outcomes = badged.record_many([act(1), act(2)])
        outcomes.append(badged.grant("ann", "helper", by="lead", reason="help", id="g"))
        expected = [award for outcome in outcomes for award in outcome.awards]
        assert [award.badge for award in expected] == ["commenter", "commenter", "helper", "both"]
        assert [record.award for record in store.awards("ann")] == expected
        assert all(record.revocation is None for record in store.awards("ann"))

    def test_awards_of_unknown_user(self, store: Store) -> None:
        """An unknown user has no awards."""
        assert store.awards("nobody") == []

    def test_award_fields_stored(self, badged: Rewards, store: Store) -> None:
        """An award is returned with every field as the engine made it (tier, period, team)."""
        upvote = act(1, kind="answer.upvoted", recipient="bob", teams=("red",))
        grant = badged.grant("ann", "helper", by="lead", reason="help", id="g", at=T0)
        outcome = badged.record(upvote)
        assert [r.award for r in store.awards("ann")] == [*grant.awards, *outcome.awards]
        assert store.awards("ann")[0].award.period == "2026-03"
        assert store.awards("ann")[1].award.team == "red"

    def test_revocation_marks_award(self, badged: Rewards, store: Store) -> None:
        """A revoked award is kept, paired with the revocation that took it back."""
        badged.record_many([act(1), act(2)])
        outcome = badged.revoke("ann", "commenter", tier="bronze", by="mod", reason="spam")
        [revocation] = outcome.revocations
        records = store.awards("ann")
        assert [(r.award.tier, r.revocation) for r in records] == [
            ("bronze", revocation),
            ("silver", None),
        ]

    def test_revocation_marks_unrevoked_award(self, badged: Rewards, store: Store) -> None:
        """A revocation marks the award of its user, badge, tier, period and team not yet
        revoked."""
        badged.grant("ann", "helper", by="lead", reason="a", id="g1", at=T0)
        first = badged.revoke("ann", "helper", by="mod", reason="b", id="r1", at=T0)
        badged.grant("ann", "helper", by="lead", reason="c", id="g2", at=T0)
        second = badged.revoke("ann", "helper", by="mod", reason="d", id="r2", at=T0)
        records = store.awards("ann")
        assert [(r.award.activity_id, r.revocation) for r in records] == [
            ("g1", first.revocations[0]),
            ("g2", second.revocations[0]),
        ]

    @pytest.mark.parametrize("first_declared", [True, False])
    def test_award_lost_and_earned_again_by_one_activity_is_kept(
        self, store: Store, first_declared: bool
    ) -> None:
        """Each revocation of an outcome takes back an award made before the outcome: an
        activity that takes one requirement of an any-of badge away and gives another
        leaves the award held as it was, not revoked, in the history and the feed,
        whatever the order the badges are declared in."""
        rewards = _first_or_helped(store, criteria.AnyOf, first_declared)
        rewards.record(act(1, "ann", "answer.created", at=T0))
        # Earlier, so bob takes "first" from ann, and ann is helped.
        outcome = rewards.record(
            act(2, "bob", "answer.created", at=T0 - timedelta(hours=1), recipient="ann")
        )
        assert [(r.user, r.badge) for r in outcome.revocations] == [("ann", "first")]
        assert ("ann", "known") not in [(w.user, w.badge) for w in outcome.awards]
        assert store.get_outcome("a2") == outcome
        assert [(r.award.badge, r.award.activity_id, r.revoked) for r in store.awards("ann")] == [
            ("first", "a1", True),
            ("known", "a1", False),
            ("helped", "a2", False),
        ]
        assert [(w.badge, w.activity_id) for w in rewards.badges("ann")] == [
            ("known", "a1"),
            ("helped", "a2"),
        ]
        told = {(s.people, s.data.get("badge")) for s in rewards.feed() if s.kind == "badge"}
        assert told == {
            (("ann",), "known"),
            (("ann",), "helped"),
            (("bob",), "first"),
            (("bob",), "known"),
        }

    @pytest.mark.parametrize("first_declared", [True, False])
    def test_award_earned_and_lost_by_one_activity_is_not_made(
        self, store: Store, first_declared: bool
    ) -> None:
        """An outcome never awards and revokes the same (user, badge, tier, period, team):
        an all-of badge that one activity completes and breaks again (one requirement
        given, another taken away) is neither awarded nor revoked, nor told in the feed,
        whatever the order the badges are declared in."""
        rewards = _first_or_helped(store, criteria.AllOf, first_declared)
        rewards.record(act(1, "ann", "answer.created", at=T0))
        outcome = rewards.record(
            act(2, "bob", "answer.created", at=T0 - timedelta(hours=1), recipient="ann")
        )
        assert ("ann", "known") not in [(w.user, w.badge) for w in outcome.awards]
        assert [(r.user, r.badge) for r in outcome.revocations] == [("ann", "first")]
        assert store.get_outcome("a2") == outcome
        assert [(r.award.badge, r.award.activity_id, r.revoked) for r in store.awards("ann")] == [
            ("first", "a1", True),
            ("helped", "a2", False),
        ]
        told = {(s.people, s.data.get("badge")) for s in rewards.feed() if s.kind == "badge"}
        assert told == {(("ann",), "helped"), (("bob",), "first")}

    def test_awards_persist(self, badged: Rewards, make_store: Callable[[], Store]) -> None:
        """Awards and revocations are visible to another store over the same database."""
        badged.record_many([act(1), act(2, kind="answer.upvoted", recipient="bob", teams=("t",))])
        badged.revoke("ann", "pioneer", by="mod", reason="x")
        other = make_store()
        assert [(r.award.badge, r.revoked) for r in other.awards("ann")] == [
            ("commenter", False),
            ("pioneer", True),
        ]

    def test_outcome_with_awards_stored(self, badged: Rewards, store: Store) -> None:
        """get_outcome returns awards, revocations and level changes as recorded."""
        leveled = badged.record(act(1))  # 2 points: level one
        assert leveled.level_changes
        assert store.get_outcome("a1") == leveled
        badged.record(act(2))
        outcome = badged.revoke("ann", "commenter", by="mod", reason="x", id="r")
        assert outcome.revocations
        assert store.get_outcome("r") == outcome

    def test_failure_stores_no_awards(self, store: Store) -> None:
        """An exception while effects are computed stores none of the batch's awards."""

        def explode(activity: Activity) -> bool:
            if activity.id == "a2":
                raise RuntimeError("boom")
            return True

        count = criteria.Count(kind="comment.created", when=explode)
        rewards = Rewards(store, badges=[Badge(id="c", criterion=count, threshold=1)])
        with pytest.raises(RuntimeError, match="boom"):
            rewards.record_many([act(1), act(2)])
        assert store.awards("ann") == []

    def test_state_values_persist(self, badged: Rewards, make_store: Callable[[], Store]) -> None:
        """State values that are lists and mappings persist (a streak's runs, holdings)."""
        days = [T0 + timedelta(days=n) for n in range(3)]
        badged.record_many([act(1, at=days[0]), act(2, at=days[1])])
        other = Rewards(make_store(), rules=RULES, badges=BADGES, levels=LEVELS)
        outcome = other.record(act(3, at=days[2]))
        # Day 3 of the streak; and commenter's tiers, already held, are not awarded again.
        assert [(w.badge, w.tier) for w in outcome.awards] == [("regular", None)]

    # -- transactions ---------------------------------------------------------------

    def test_rolled_back_transaction_stores_nothing(self, store: Store) -> None:
        """A transaction left by an exception stores nothing, even after apply()."""
        activity = act(1)
        outcome = Outcome("a1", (_line("a1", "ann", 2),))

        def record_then_fail() -> None:
            with store.transaction() as tx:
                tx.claim([activity])
                tx.apply(EffectBatch([(activity, outcome)], {_BAL_ANN: 2}))
                raise RuntimeError("discard")

        with pytest.raises(RuntimeError, match="discard"):
            record_then_fail()
        assert store.get_activity("a1") is None
        assert store.get_outcome("a1") is None
        assert store.read_state([_BAL_ANN]) == {}
        assert store.ledger("ann") == []
        assert store.count_activities() == 0

    def test_failed_batch_frees_its_ids(self, store: Store) -> None:
        """Claiming records nothing by itself: rolled back, a batch's ids are free again."""
        fail = {"on": True}

        def points(activity: Activity) -> float:
            if fail["on"] and activity.id == "a2":
                raise RuntimeError("boom")
            return 3

        rewards = Rewards(
            store, rules=[PointRule(id="r", kind="comment.created", actor_points=points)]
        )
        with pytest.raises(RuntimeError, match="boom"):
            rewards.record_many([act(1), act(2)])
        fail["on"] = False
        outcomes = rewards.record_many([act(1), act(2)])
        assert [o.credited("ann") for o in outcomes] == [3, 3]
        assert store.count_activities() == 2
        assert rewards.balance("ann") == 6

    def test_concurrent_duplicates_recorded_once(self, store: Store) -> None:
        """A concurrent transaction claiming the same id waits, then sees it as recorded."""
        # 40 shared activities: users u0..u3, two days, 5 comments per user and day;
        # the cap of 5 points a day leaves 5 + 5 = 10 points per user, in any order.
        shared = [
            act(i, actor=f"u{i % 4}").model_copy(update={"at": T0 + timedelta(days=i // 4 % 2)})
            for i in range(40)
        ]
        rewards = Rewards(store, rules=RULES)

        def work(seed: int) -> None:
            order = list(shared)
            random.Random(seed).shuffle(order)
            for start in range(0, len(order), 10):
                rewards.record_many(order[start : start + 10])

        run_in_threads(work, range(4))  # raises what a thread raised
        assert store.count_activities() == 40
        assert [rewards.balance(f"u{u}") for u in range(4)] == [10, 10, 10, 10]
        assert sum(len(store.ledger(f"u{u}")) for u in range(4)) == 40

    # -- state ----------------------------------------------------------------------

    def test_unlisted_key_loaded_on_first_read(self, rewards: Rewards, store: Store) -> None:
        """A key the view was not given is loaded from the committed state on first read."""
        rewards.record(act(1))
        with store.transaction() as tx:
            view = tx.view(set())
            assert view.get(_BAL_ANN) == 2
            assert view.get("no-such-key", None) is None

    def test_view_writes_need_apply(self, store: Store) -> None:
        """The view's writes are stored only by apply(), never by the view itself."""
        with store.transaction() as tx:
            tx.view({"k"}).set("k", 1)
            tx.apply(EffectBatch())
        assert store.read_state(["k"]) == {}

    def test_state_values_round_trip(self, store: Store) -> None:
        """State keeps each JSON-safe value and any key string exactly as applied."""
        values = {
            "int": 7,
            "float": 2.5,
            "negative": -3,
            "big": 2**53 + 1,
            "list": [1, "a", None, [2.0]],
            "dict": {"x": 1, "y": ["z"]},
            "text": "héllo 🦄",
            "emoji-key-🦄": True,
            "k\x1fwith\x1fseparators": 1,
            "A": 1,
            "a": 2,
            "a ": 3,
            "long-" + "x" * 400: 4,
            "long-" + "x" * 399 + "y": 5,
        }
        with store.transaction() as tx:
            tx.view(set(values))
            tx.apply(EffectBatch([], dict(values)))
        stored = store.read_state([*values, "absent"])
        assert stored == values
        assert [type(stored[k]) for k in ("int", "float", "big")] == [int, float, int]

    # -- what is stored -------------------------------------------------------------

    def test_outcome_round_trips_every_effect(self, store: Store) -> None:
        """get_outcome returns every ledger line, award, revocation and level change applied."""
        activity = act(1, recipient="bob")
        assert activity.at is not None
        later = activity.at.astimezone(timezone(timedelta(hours=-5))) + timedelta(seconds=1)
        outcome = Outcome(
            "a1",
            (
                _line("a1", "ann", 2),
                LedgerEntry("a1", "r", "bob", "karma", 0, 10, activity.at, "recipient", "cap:day"),
                LedgerEntry("a1", "r", "bob", "karma", 5, 5, activity.at, "recipient", None, True),
            ),
            (Award("ann", "regular", "gold", "2026-W10", later, "a1", "count"),),
            (Revocation("bob", "helper", None, None, activity.at, "a0", "carol", "spam"),),
            (LevelChange("ann", 0, 2, activity.at, "a1"),),
        )
        with store.transaction() as tx:
            tx.claim([activity])
            tx.apply(EffectBatch([(activity, outcome)], {}))
        stored = store.get_outcome("a1")
        assert stored == outcome
        assert stored is not None
        assert stored.awards[0].at.utcoffset() == timedelta(hours=-5)
        assert store.ledger("bob") == list(outcome.ledger[1:])

    def test_ids_compared_exactly(self, rewards: Rewards, store: Store) -> None:
        """Ids differing only in case, trailing spaces or accents are different activities."""
        ids = ["a", "A", "a ", "á", "a\u0301"]
        rewards.record_many(
            [Activity(id=i, actor="ann", kind="answer.upvoted", at=T0) for i in ids]
        )
        assert store.count_activities() == 5
        assert [a.id for a in store.iter_activities()] == ids

    def test_unicode_people(self, rewards: Rewards, store: Store) -> None:
        """Identifiers outside the Basic Multilingual Plane are stored and queried exactly."""
        rewards.record(act(1, actor="Zoë 🦄", kind="answer.upvoted", recipient="李"))
        assert rewards.balance("Zoë 🦄") == 1
        assert rewards.balance("李") == 10
        assert [line.user for line in store.ledger("李")] == ["李"]

    def test_long_log_in_order(self, rewards: Rewards, store: Store) -> None:
        """iter_activities yields a log of thousands of activities whole and in order."""
        batch = [act(n, actor=f"u{n % 50}") for n in range(2500)]
        rewards.record_many(batch)
        assert store.count_activities() == 2500
        assert [a.id for a in store.iter_activities()] == [a.id for a in batch]

    # -- leaderboards ---------------------------------------------------------------

    @pytest.fixture
    def boards(self, store: Store) -> Rewards:
        return Rewards(store, rules=BOARD_RULES, leaderboards=BOARDS, clock=FrozenClock(T0))

    def test_board_listing_order(self, boards: Rewards, store: Store) -> None:
        """Listed rows are ordered by ascending sort_key, then reached, then subject."""
        boards.record_many(
            [
                scored(1, "cat", 5),
                scored(2, "bob", 5),
                scored(3, "ann", 5),
                scored(4, "dan", 9),
                scored(0, "eve", 5),
            ]
        )
        # bob and ann reached 5 at minutes 2 and 3; cat at 1; eve at 0: eve, cat, bob, ann.
        page = store.board_page("pts", "all", 0, 10)
        assert [row.subject for row in page.rows] == ["dan", "eve", "cat", "bob", "ann"]
        assert [row.score for row in page.rows] == [9, 5, 5, 5, 5]
        assert store.board_size("pts", "all") == 5

    def test_board_rows_replace_earlier_rows(self, boards: Rewards, store: Store) -> None:
        """A row of a later batch replaces the subject's row on that board and period."""
        boards.record(scored(1, "ann", 5))
        boards.record(scored(2, "ann", 3))
        page = store.board_page("pts", "all", 0, 10)
        assert [(r.subject, r.score, r.total, r.count) for r in page.rows] == [("ann", 8, 8, 2)]
        assert page.rows[0].reached == (T0 + timedelta(minutes=2)).timestamp()

    def test_board_scores_are_floats(self, boards: Rewards, store: Store) -> None:
        """Scores are floats on every store, whole numbers of points too, so that an entry
        and an export read the same (``10.0``) whatever the store."""
        boards.record_many([scored(1, "ann", 10), scored(2, "bob", 3)])
        view = boards.leaderboard("pts")
        scores: list[float | None] = [entry.score for entry in view.top(5)]
        scores += [view.score("ann"), *(e.score for e in view.around("bob", 3))]
        scores += [row.score for row in store.board_page("pts", "all", 0, 5).rows]
        assert scores == [10, 3, 10, 10, 3, 10, 3]
        assert {type(score) for score in scores} == {float}

    def test_board_scores_have_no_negative_zero(self, store: Store) -> None:
        """A zero score is 0.0 on every store, never -0.0 (which SQLite and MariaDB cannot
        keep): a sum of -0.0, an average and a team share that underflow from -5e-324,
        and a prior mean of -0.0 score 0.0, and rows hold 0.0 as score, sort key and
        total, in calendar and rolling windows, on higher- and lower-is-better boards."""
        windows = ("all", "3d")
        boards = [
            Leaderboard(id="sum", metric=SumMetric(kind="v"), windows=windows),
            Leaderboard(id="low", metric=SumMetric(kind="v"), better="lower", windows=windows),
            Leaderboard(id="avg", metric=AverageMetric(kind="v"), windows=windows),
            Leaderboard(
                id="prior",
                metric=AverageMetric(kind="v", prior_mean=-0.0, prior_weight=1),
                windows=windows,
            ),
            Leaderboard(
                id="share",
                metric=SumMetric(kind="v"),
                scope=TeamsScope(divide_by_size=True, team_sizes={"red": 4}),
                windows=windows,
            ),
        ]
        rewards = Rewards(store, kinds=["v"], leaderboards=boards, clock=FrozenClock(T0))
        rewards.record_many(
            [
                Activity(id="a1", actor="ann", kind="v", value=-0.0, at=T0),
                Activity(id="a2", actor="ann", kind="v", value=-0.0, at=T0),
                Activity(id="b1", actor="bob", kind="v", value=-5e-324, at=T0, teams=("red",)),
                Activity(id="b2", actor="bob", kind="v", value=-0.0, at=T0, teams=("red",)),
            ]
        )
        expected = {
            "sum": {"ann": 0.0, "bob": -5e-324},
            "low": {"ann": 0.0, "bob": -5e-324},
            "avg": {"ann": 0.0, "bob": 0.0},  # -5e-324 / 2 underflows to (-)0.0
            "prior": {"ann": 0.0, "bob": 0.0},
            "share": {"red": 0.0},  # -5e-324 / 4
        }
        for board in boards:
            view = rewards.leaderboard(board.id)
            for window in windows:
                entries = view.top(10, window=window)
                assert {e.user: e.score for e in entries} == expected[board.id]
                scores: list[float | None] = [e.score for e in entries]
                scores += [view.score(e.user, window=window) for e in entries]
                assert _signs_of_zeros(scores) == {1.0}, (board.id, window)
            rows = store.board_page(board.id, "all", 0, 10).rows
            numbers = [n for r in rows for n in (r.score, r.sort_key, r.total)]
            assert _signs_of_zeros(numbers) == {1.0}, board.id

    def test_board_row_keeping_its_place_is_replaced(self, store: Store) -> None:
        """A row whose sort key and time reached stay the same while its count and total
        change replaces the earlier row in the listing: pages show it, and later updates
        and opt-outs of that row apply."""
        sums = Leaderboard(id="sum", metric=SumMetric(kind="v"))
        rewards = Rewards(store, leaderboards=[sums], clock=FrozenClock(T0))

        def value(n: int, amount: int) -> Activity:
            return Activity(id=f"v{n}", actor="ann", kind="v", value=amount, at=T0)

        rewards.record(value(1, 5))
        rewards.record(value(2, 0))  # the same sum, reached at the same time
        page = store.board_page("sum", "all", 0, 10)
        assert [(r.subject, r.score, r.total, r.count) for r in page.rows] == [("ann", 5, 5, 2)]
        rewards.record(value(3, 1))
        page = store.board_page("sum", "all", 0, 10)
        assert [(r.subject, r.score, r.total, r.count) for r in page.rows] == [("ann", 6, 6, 3)]
        rewards.set_leaderboard_opt_out("ann")
        assert store.board_page("sum", "all", 0, 10).rows == []
        assert rewards.leaderboard("sum").top(10) == []

    def test_board_page_positions(self, boards: Rewards, store: Store) -> None:
        """board_page returns the rows from start to stop, leaves out positions past the end,
        and gives the number of listed rows."""
        boards.record_many([scored(i, f"u{i}", 10 - i) for i in range(5)])
        page = store.board_page("pts", "all", 3, 10)
        assert [row.subject for row in page.rows] == ["u3", "u4"]
        assert (page.start, page.size) == (3, 5)
        empty = store.board_page("pts", "all", 5, 10)
        assert (empty.rows, empty.size) == ([], 5)

    def test_board_page_unsized(self, boards: Rewards, store: Store) -> None:
        """With sized=False a page holds the same rows and first-row counts (its size may
        be left 0)."""
        boards.record_many([scored(i, f"u{i}", 10 - i // 2) for i in range(6)])
        for start in range(7):
            sized = store.board_page("pts", "all", start, start + 3)
            page = store.board_page("pts", "all", start, start + 3, sized=False)
            assert page.size in (0, sized.size), start
            assert page._replace(size=sized.size) == sized, start

    def test_board_page_first_row_counts(self, boards: Rewards, store: Store) -> None:
        """A page gives, for its first row, the listed rows with a strictly better score and
        the distinct strictly better scores."""
        # Scores 9, 7, 7, 7, 1: a page starting inside the tie of 7s, and one after it.
        boards.record_many(
            [
                scored(1, "a", 9),
                scored(2, "b", 7),
                scored(3, "c", 7),
                scored(4, "d", 7),
                scored(5, "e", 1),
            ]
        )
        for start, better, distinct in ((0, 0, 0), (1, 1, 1), (2, 1, 1), (4, 4, 2), (5, 0, 0)):
            page = store.board_page("pts", "all", start, start + 2)
            assert (page.better, page.distinct_better) == (better, distinct), start

    def test_board_version(self, boards: Rewards, store: Store) -> None:
        """board_version is None, or a token that changes when a row among the first
        ``stop`` listed rows changes."""
        boards.record_many([scored(1, "a", 9), scored(2, "b", 7)])
        before = store.board_version("pts", "all", 2)
        if before is None:
            return
        assert store.board_version("pts", "all", 2) == before
        boards.record(scored(3, "c", 8))  # lands second
        after = store.board_version("pts", "all", 2)
        assert after != before
        store.set_board_opt_out("a", True)
        assert store.board_version("pts", "all", 2) != after

    def test_board_standing_counts(self, boards: Rewards, store: Store) -> None:
        """board_standing counts the listed rows of others listed before, better, equal,
        worse and with distinct better scores."""
        boards.record_many(
            [
                scored(1, "a", 9),
                scored(2, "b", 7),
                scored(3, "c", 7),
                scored(4, "d", 7),
                scored(5, "e", 1),
            ]
        )
        standing = store.board_standing("pts", "all", "c")
        assert standing is not None
        counts = (
            standing.size,
            standing.before,
            standing.better,
            standing.equal,
            standing.worse,
            standing.distinct_better,
            standing.hidden,
        )
        assert counts == (5, 2, 1, 2, 1, 1, False)
        assert standing.row.score == 7
        unplaced = store.board_standing("pts", "all", "c", position=False)
        assert unplaced is not None
        assert unplaced.before in (0, 2)
        assert unplaced._replace(before=2) == standing

    def test_board_standing_without_ranked_row(self, boards: Rewards, store: Store) -> None:
        """board_standing is None for a subject without a ranked row."""
        boards.record(scored(1, "a", 9))
        assert store.board_standing("pts", "all", "nobody") is None

    def _seven(self, boards: Rewards) -> None:
        # Listed: a 9, b 7, c 7, d 7, e 5, f 5, g 1 (reached in that order).
        scores = {"a": 9, "b": 7, "c": 7, "d": 7, "e": 5, "f": 5, "g": 1}
        boards.record_many([scored(i, user, v) for i, (user, v) in enumerate(scores.items())])

    def test_board_around_rows(self, boards: Rewards, store: Store) -> None:
        """board_around returns up to ``before`` listed rows before the subject's row, the
        row, up to ``after`` rows after it, its place in them, and for the first row the
        listed rows before it, with a better score and with distinct better scores."""
        self._seven(boards)
        cases = {
            # subject, before, after: subjects, at, start, better, distinct_better
            ("d", 2, 2): ("bcdef", 2, 1, 1, 1),
            ("d", 0, 0): ("d", 0, 3, 1, 1),
            ("e", 3, 0): ("bcde", 3, 1, 1, 1),
            ("e", 4, 1): ("abcdef", 4, 0, 0, 0),
            ("a", 3, 1): ("ab", 0, 0, 0, 0),
            ("g", 2, 3): ("efg", 2, 4, 4, 2),
            ("c", 5, 9): ("abcdefg", 2, 0, 0, 0),
        }
        for (subject, before, after), expected in cases.items():
            page = store.board_around("pts", "all", subject, before, after)
            assert page is not None
            found = (
                "".join(row.subject for row in page.rows),
                page.at,
                page.start,
                page.better,
                page.distinct_better,
            )
            assert (found, page.hidden) == (expected, False), subject
        assert [r.score for r in store.board_around("pts", "all", "d", 1, 1).rows] == [7, 7, 5]  # type: ignore[union-attr]
        assert store.board_around("pts", "all", "nobody", 2, 2) is None

    def test_board_around_hidden(self, boards: Rewards, store: Store) -> None:
        """The page around a person who opted out has their row where it would be listed,
        among the listed rows, with ``hidden`` true and counts over the listed rows."""
        self._seven(boards)
        store.set_board_opt_out("c", True)
        store.set_board_opt_out("a", True)
        page = store.board_around("pts", "all", "c", 2, 2)
        assert page is not None
        found = ("".join(row.subject for row in page.rows), page.at, page.start, page.better)
        assert (found, page.hidden) == (("bcde", 1, 0, 0), True)
        last = store.board_around("pts", "all", "a", 0, 2)
        assert last is not None
        assert ("".join(r.subject for r in last.rows), last.at, last.start, last.hidden) == (
            "abd",
            0,
            0,
            True,
        )

    def test_board_around_without_positions(self, boards: Rewards, store: Store) -> None:
        """With position=False a page around a row is the same, except that ``start`` may
        be None when every row of the page has the same score."""
        self._seven(boards)
        boards.record_many([scored(10 + i, f"t{i}", 7) for i in range(4)])  # a longer tie
        for subject in ("a", "b", "c", "d", "t1", "t3", "e", "g"):
            for before, after in ((0, 0), (1, 1), (2, 1), (0, 3), (3, 3)):
                page = store.board_around("pts", "all", subject, before, after)
                loose = store.board_around(
                    "pts", "all", subject, before, after, dense=False, position=False
                )
                assert page is not None
                assert loose is not None
                if loose.start is None:
                    assert len({row.score for row in loose.rows}) == 1, (subject, before, after)
                    loose = loose._replace(start=page.start)
                assert loose.distinct_better in (0, page.distinct_better)
                same = loose._replace(distinct_better=page.distinct_better)
                assert same == page, (subject, before, after)

    @pytest.mark.parametrize("ranking", ["competition", "dense", "ordinal"])
    def test_around_and_rank_agree_with_a_sort(
        self, store: Store, ranking: Literal["competition", "dense", "ordinal"]
    ) -> None:
        """Leaderboard queries over the store's rows agree with a plain sort of the scores:
        around(user, n) and rank(user) in every ranking style, across ties, at the top and
        the bottom, and for a person who opted out (as they see the board)."""
        rng = random.Random(ranking)
        board = Leaderboard(id="b", metric=PointsMetric(), ranking=ranking)
        rewards = Rewards(store, rules=BOARD_RULES, leaderboards=[board], clock=FrozenClock(T0))
        people = [f"p{i:02d}" for i in range(24)]
        # Few scores and few minutes: long ties in score, and ties in the time reached.
        activities = [
            Activity(
                id=f"r{i}",
                actor=person,
                kind="score",
                value=rng.choice((1, 2, 2, 3, 3, 3, 8)),
                at=T0 + timedelta(minutes=rng.randrange(4)),
            )
            for i, person in enumerate(people)
        ]
        rewards.record_many(activities)
        scores = {a.actor: a.value for a in activities}
        listing = {a.actor: (-(a.value or 0), a.at, a.actor) for a in activities}
        hidden = {"p03", "p10"}
        for person in hidden:
            rewards.set_leaderboard_opt_out(person)
        view = rewards.leaderboard("b")
        for viewer in (None, "p03"):
            order = sorted(
                (p for p in people if p not in hidden or p == viewer), key=lambda p: listing[p]
            )
            ranks = _ranks(ranking, order, scores)
            for person in order:
                assert view.rank(person, viewer=viewer) == ranks[person], (viewer, person)
                at = order.index(person)
                for n in (1, 2, 3, 5, 8, 30):
                    count = min(n, len(order))
                    begin = max(0, min(at - n // 2, len(order) - count))
                    want = [(p, scores[p], ranks[p]) for p in order[begin : begin + count]]
                    got = [(e.user, e.score, e.rank) for e in view.around(person, n, viewer=viewer)]
                    assert got == want, (viewer, person, n)
            for person in hidden - {viewer} if viewer else hidden:
                assert view.around(person, 3, viewer=viewer) == []

    def test_board_without_rows_is_empty(self, store: Store) -> None:
        """A board or period with no rows has size 0 and an empty page."""
        assert store.board_size("nope", "all") == 0
        page = store.board_page("nope", "2026-W01", 0, 10)
        assert (page.rows, page.size) == ([], 0)
        assert store.board_standing("nope", "all", "ann") is None

    def test_board_rows_persist(self, boards: Rewards, make_store: Callable[[], Store]) -> None:
        """Committed board rows are visible to another store over the same database."""
        boards.record_many([scored(1, "ann", 3), scored(2, "bob", 4)])
        other = make_store()
        assert [r.subject for r in other.board_page("pts", "all", 0, 10).rows] == ["bob", "ann"]

    def test_failed_batch_leaves_boards(self, store: Store) -> None:
        """A batch that fails stores none of its board rows."""

        def explode(activity: Activity) -> float:
            if activity.id == "s3":
                raise RuntimeError("boom")
            return activity.value or 0

        rewards = Rewards(
            store,
            rules=[PointRule(id="r", kind="score", actor_points=explode)],
            leaderboards=[Leaderboard(id="pts", metric=PointsMetric())],
        )
        rewards.record(scored(1, "ann", 2))
        with pytest.raises(RuntimeError, match="boom"):
            rewards.record_many([scored(2, "ann", 5), scored(3, "bob", 1)])
        assert [(r.subject, r.score) for r in store.board_page("pts", "all", 0, 9).rows] == [
            ("ann", 2)
        ]

    def test_rolling_bucket_merges_day_rows(self, boards: Rewards, store: Store) -> None:
        """A RollingBucket lists, per subject, merge_rows of its day rows, and follows
        later batches."""
        boards.record_many(
            [
                scored(1, "ann", 2, day=0),
                scored(2, "ann", 3, day=1),
                scored(3, "bob", 4, day=2),
                scored(4, "cat", 9, day=3),
            ]
        )
        formula = formula_of(BOARDS[0])
        days = ("2026-03-04", "2026-03-03", "2026-03-02")
        bucket = RollingBucket(days, formula)
        page = store.board_page("pts", bucket, 0, 10)
        assert [(r.subject, r.score) for r in page.rows] == [("ann", 5), ("bob", 4)]
        day_rows = [store.board_page("pts", d, 0, 10).rows for d in days]
        ann = [row for rows in day_rows for row in rows if row.subject == "ann"]
        assert page.rows[0] == merge_rows("ann", ann, formula)
        boards.record(scored(5, "bob", 2, day=0))
        assert [(r.subject, r.score) for r in store.board_page("pts", bucket, 0, 10).rows] == [
            ("bob", 6),
            ("ann", 5),
        ]
        assert store.board_size("pts", bucket) == 2

    def test_rolling_window_merges_newest_day_first(self, store: Store) -> None:
        """A rolling window adds a subject's day totals in the order of bucket.days,
        newest day first, whatever order the store reads the day rows in: 0.1, 0.2 and
        0.3 on three days sum to 0.3 + 0.2 + 0.1 == 0.6 (oldest first they sum to
        0.6000000000000001) and tie another 0.6; averages are merged the same way."""
        sums = Leaderboard(id="sum", metric=SumMetric(kind="rated"), windows=("3d",))
        averages = Leaderboard(id="avg", metric=AverageMetric(kind="rated"), windows=("3d",))
        rewards = Rewards(
            store,
            kinds=["rated"],
            leaderboards=[sums, averages],
            clock=FrozenClock(T0 + timedelta(days=2, hours=3)),
        )
        rewards.record_many(
            [
                Activity(id="bob", actor="bob", kind="rated", value=0.6, at=T0),
                *(
                    Activity(
                        id=f"ann{day}",
                        actor="ann",
                        kind="rated",
                        value=value,
                        at=T0 + timedelta(days=day, hours=1),
                    )
                    for day, value in ((0, 0.1), (1, 0.2), (2, 0.3))
                ),
            ]
        )
        assert 0.3 + 0.2 + 0.1 == 0.6 != 0.1 + 0.2 + 0.3
        board = rewards.leaderboard("sum")
        assert [(e.user, e.score, e.rank) for e in board.top()] == [
            ("bob", 0.6, 1),
            ("ann", 0.6, 1),
        ]
        assert (board.rank("ann"), board.percentile("ann")) == (1, 0.0)
        assert (0.3 + 0.2 + 0.1) / 3 != (0.1 + 0.2 + 0.3) / 3
        assert rewards.leaderboard("avg").score("ann") == (0.3 + 0.2 + 0.1) / 3
        bucket = RollingBucket(("2026-03-04", "2026-03-03", "2026-03-02"), formula_of(sums))
        day_rows = [
            row
            for day in bucket.days
            for row in store.board_page("sum", day, 0, 10).rows
            if row.subject == "ann"
        ]
        standing = store.board_standing("sum", bucket, "ann")
        assert standing is not None
        assert standing.row == merge_rows("ann", day_rows, bucket.formula)
        assert standing.row.total == 0.6

    def test_opt_out_default(self, store: Store) -> None:
        """board_opt_out is False for someone who never set it."""
        assert store.board_opt_out("ann") is False

    def test_opt_out_hides_rows(self, boards: Rewards, store: Store) -> None:
        """An opted-out person's rows are not listed; their standing is answered, hidden,
        with counts over the listed rows."""
        boards.record_many([scored(1, "ann", 9), scored(2, "bob", 5), scored(3, "cat", 1)])
        store.set_board_opt_out("ann", True)
        assert store.board_opt_out("ann") is True
        assert [r.subject for r in store.board_page("pts", "all", 0, 10).rows] == ["bob", "cat"]
        assert store.board_size("pts", "all") == 2
        standing = store.board_standing("pts", "all", "ann")
        assert standing is not None
        assert (standing.hidden, standing.size, standing.before, standing.worse) == (
            True,
            2,
            0,
            2,
        )
        bob = store.board_standing("pts", "all", "bob")
        assert bob is not None
        assert (bob.before, bob.better, bob.worse) == (0, 0, 1)

    def test_opt_out_keeps_rows_updated(
        self, boards: Rewards, store: Store, make_store: Callable[[], Store]
    ) -> None:
        """Opted-out rows keep being updated; the opt-out persists; opting back in lists
        them again."""
        boards.record_many([scored(1, "ann", 1), scored(2, "bob", 5)])
        store.set_board_opt_out("ann", True)
        boards.record(scored(3, "ann", 9))
        other = make_store()
        assert other.board_opt_out("ann") is True
        assert [r.subject for r in other.board_page("pts", "all", 0, 10).rows] == ["bob"]
        other.set_board_opt_out("ann", False)
        rows = store.board_page("pts", "all", 0, 10).rows
        assert [(r.subject, r.score) for r in rows] == [("ann", 10), ("bob", 5)]

    def test_opt_out_does_not_hide_teams(self, boards: Rewards, store: Store) -> None:
        """Team rows are always listed, whatever the opt-outs."""
        boards.record(scored(1, "ann", 1, teams=("red",)))
        store.set_board_opt_out("red", True)
        assert [r.subject for r in store.board_page("teams", "all", 0, 10).rows] == ["red"]

    def test_teams_sized_by_active_members(self, store: Store) -> None:
        """A teams board with members="active" divides by the people with any activity
        naming the team; a team with members and nothing credited is kept unranked (not
        listed), and its members are merged into rolling windows."""
        scope = TeamsScope(divide_by_size=True, members="active")
        board = Leaderboard(
            id="act", metric=CountMetric(kind="post"), scope=scope, windows=("all", "day", "3d")
        )
        rewards = Rewards(
            store,
            kinds=("post", "comment"),
            leaderboards=(board,),
            callouts=("most_active_team",),
            callout_kinds={"post": "post"},
            clock=FrozenClock(T0 + timedelta(days=2)),
            load_entrypoints=False,
        )

        def did(n: int, actor: str, kind: str, team: str, day: int) -> Activity:
            at = T0 + timedelta(days=day, minutes=n)
            return Activity(id=f"m{n}", actor=actor, kind=kind, at=at, teams=(team,))

        rewards.record_many(
            [
                did(1, "bob", "comment", "red", 0),
                did(2, "cy", "comment", "red", 0),
                did(3, "dan", "post", "blue", 1),
                did(4, "dan", "post", "blue", 1),
            ]
        )
        rewards.record(did(5, "ann", "post", "red", 2))
        rewards.record(did(6, "bob", "comment", "red", 2))  # counted once
        day0 = T0.date().isoformat()
        assert store.board_page("act", day0, 0, 10).rows == []
        assert store.board_size("act", day0) == 0
        rolling = RollingBucket(
            tuple((T0 + timedelta(days=d)).date().isoformat() for d in (2, 1, 0)),
            formula_of(board),
        )
        for bucket in ("all", rolling):
            page = store.board_page("act", bucket, 0, 10)
            assert [(r.subject, r.score, r.members) for r in page.rows] == [
                ("blue", 2.0, ("dan",)),
                ("red", 1 / 3, ("ann", "bob", "cy")),
            ]
        week = rewards.leaderboard("most_active_team").top(5, window="week")
        assert [(e.team, e.score) for e in week] == [("blue", 2.0), ("red", 1 / 3)]


def _first_or_helped(
    store: Store, composite: type[criteria.AllOf | criteria.AnyOf], first_declared: bool
) -> Rewards:
    """Return a Rewards whose badge ``known`` is ``composite`` of ``first`` (the first
    answer) and ``helped`` (an answer received), declared first, or helped first."""
    first = Badge(id="first", criterion=criteria.First(kind="answer.created"))
    helped = Badge(
        id="helped", criterion=criteria.Count(kind="answer.created", who="recipient"), threshold=1
    )
    known = Badge(id="known", criterion=composite(badges=("first", "helped")))
    badges = [first, helped, known] if first_declared else [helped, first, known]
    return Rewards(store, badges=badges, clock=FrozenClock(T0), load_entrypoints=False)


def _signs_of_zeros(numbers: Iterable[float | None]) -> set[float]:
    """Return the signs (1.0 or -1.0) of the zeros among ``numbers``."""
    return {math.copysign(1, n) for n in numbers if n == 0}


def _ranks(ranking: str, order: list[str], scores: dict[str, Any]) -> dict[str, int]:
    """Return each person's rank in ``order`` (listing order) by the style's definition."""
    ranks = {}
    for position, person in enumerate(order):
        better = [p for p in order if scores[p] > scores[person]]
        if ranking == "competition":
            ranks[person] = len(better) + 1
        elif ranking == "dense":
            ranks[person] = len({scores[p] for p in better}) + 1
        else:
            ranks[person] = position + 1
    return ranks


_BAL_ANN = balance_key("ann", "points")


def _line(activity_id: str, user: str, amount: int) -> LedgerEntry:
    return LedgerEntry(activity_id, "comment", user, "points", amount, amount, T0, "actor")
