"""The Store conformance suite, written once and run over every backend.

A store author subclasses :class:`StoreConformance` in a test module and
provides a ``make_store`` fixture: a function that returns a new, empty store
each time it is called (and may be called several times in one test, each call
returning a store over the *same* database, to check what persists)::

    import pytest
    from e2badges.testing.conformance import StoreConformance

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def make_store(self, tmp_path):
            return lambda: MyStore(tmp_path / "db")

Each test's docstring is a sentence of the Store contract.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from .. import (
    Activity,
    Cap,
    ConflictingActivityError,
    CountMetric,
    FrozenClock,
    InvalidActivityError,
    Leaderboard,
    PointRule,
    PointsMetric,
    Rewards,
    TeamsScope,
)
from .._leaderboards import formula_of, merge_rows
from ..storage import RollingBucket, Store

__all__ = ["StoreConformance"]

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

RULES = (
    PointRule(id="comment", kind="comment.created", actor_points=2, caps=(Cap(amount=5),)),
    PointRule(id="upvote", kind="answer.upvoted", actor_points=1, recipient_points=10),
)


# Leaderboards: a rule crediting an activity's value, a points board kept all time, per
# day and over 3 rolling days, and a teams board counting comments.
BOARD_RULES = (PointRule(id="score", kind="score", actor_points=lambda a: a.value or 0),)
BOARDS = (
    Leaderboard(id="pts", metric=PointsMetric(), windows=("all", "day", "3d")),
    Leaderboard(id="teams", metric=CountMetric(kind="score"), scope=TeamsScope()),
)


def scored(n: int, actor: str, value: float, day: int = 0, **extra: object) -> Activity:
    """Return a ``score`` activity ``s<n>`` worth ``value``, n minutes into day ``day``."""
    when = T0 + timedelta(days=day, minutes=n)
    return Activity(id=f"s{n}", actor=actor, kind="score", value=value, at=when, **extra)


def act(n: int, actor: str = "ann", kind: str = "comment.created", **extra: object) -> Activity:
    """Return activity ``a<n>`` at T0 + n minutes."""
    return Activity(id=f"a{n}", actor=actor, kind=kind, at=T0 + timedelta(minutes=n), **extra)


class StoreConformance:
    """Behaviour every Store must show; subclass it and provide ``make_store``."""

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

    def test_retry_without_at_is_a_duplicate(self, store: Store) -> None:
        """Re-sending an id without ``at`` later is the same activity, not a conflict."""
        clock = FrozenClock(T0)
        rewards = Rewards(store, rules=RULES, clock=clock)
        first = rewards.record({"id": "x", "actor": "ann", "kind": "comment.created"})
        clock.advance(timedelta(hours=1))
        assert rewards.record({"id": "x", "actor": "ann", "kind": "comment.created"}) == first

    # -- state and ledger -----------------------------------------------------------

    def test_state_persists(self, rewards: Rewards, make_store: Callable[[], Store]) -> None:
        """Committed state is visible to another store over the same database."""
        rewards.record_many([act(1), act(2, kind="answer.upvoted", recipient="bob")])
        other = Rewards(make_store(), rules=RULES)
        assert other.balance("ann") == 3
        assert other.balance("bob") == 10

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

    def test_board_page_positions(self, boards: Rewards, store: Store) -> None:
        """board_page returns the rows from start to stop, leaves out positions past the end,
        and gives the number of listed rows."""
        boards.record_many([scored(i, f"u{i}", 10 - i) for i in range(5)])
        page = store.board_page("pts", "all", 3, 10)
        assert [row.subject for row in page.rows] == ["u3", "u4"]
        assert (page.start, page.size) == (3, 5)
        empty = store.board_page("pts", "all", 5, 10)
        assert (empty.rows, empty.size) == ([], 5)

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

    def test_board_standing_without_ranked_row(self, boards: Rewards, store: Store) -> None:
        """board_standing is None for a subject without a ranked row."""
        boards.record(scored(1, "a", 9))
        assert store.board_standing("pts", "all", "nobody") is None

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
