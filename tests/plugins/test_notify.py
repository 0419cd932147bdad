"""Notification hooks: delivered after the commit, once per plugin, never into record()."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plugin_helpers import T0, Recorder, act, rewards_with, stub_badges

from e2badges import (
    MAX_COUNT,
    Award,
    ConfigurationError,
    DeliveryPolicy,
    DeliveryReport,
    FrozenClock,
    InvalidQueryError,
    LevelChange,
    Revocation,
    Rewards,
    hookimpl,
    hookspecs,
)
from e2badges._delivery import MAX_ERROR_LENGTH
from e2badges._erasure import ERASED_ERROR
from e2badges.storage import EffectBatch, MemoryStore, StoreTransaction, store_from_url


@pytest.mark.hook("e2badges_notify_outcome")
class TestOutcome:
    def test_told_after_commit(self) -> None:
        """A notifier is told each newly recorded activity's outcome, after the commit."""
        committed: list[bool] = []

        class Watcher(Recorder):
            def _got(self, hook: str, what: Any, notification_id: str) -> None:
                committed.append(rewards.store.get_outcome(what[0]) == what[1])
                super()._got(hook, what, notification_id)

        watcher = Watcher()
        rewards = rewards_with(watcher)
        outcomes = rewards.record_many([act(1), act(2)])
        assert watcher.calls == [
            ("outcome", ("a1", outcomes[0]), "recorded:a1"),
            ("outcome", ("a2", outcomes[1]), "recorded:a2"),
        ]
        assert committed == [True, True]

    def test_arguments_are_optional(self) -> None:
        """An implementation may take only the arguments it needs."""
        got: list[str] = []

        class Minimal:
            name = "minimal"

            @hookimpl
            def e2badges_notify_outcome(self, notification_id: str) -> None:
                got.append(notification_id)

        rewards_with(Minimal()).record(act(1))
        assert got == ["recorded:a1"]

    def test_rebuilt_from_the_store(self) -> None:
        """Delivered later, the activity and outcome are read back from the store."""
        recorder = Recorder()
        rewards = rewards_with(recorder, delivery=DeliveryPolicy(inline=False))
        outcome = rewards.record(act(1, attributes={"title": "héllo"}))
        assert recorder.calls == []
        assert rewards.deliver_pending() == DeliveryReport(delivered=1)
        assert recorder.calls == [("outcome", ("a1", outcome), "recorded:a1")]


def award_rewards(*plugins: object, **options: Any) -> Rewards:
    """Return a Rewards whose engine awards as activity attributes say (see stub_badges)."""
    rewards = rewards_with(*plugins, **options)
    stub_badges(rewards)
    return rewards


@pytest.mark.hook("e2badges_notify_award")
class TestAward:
    def test_award_delivered(self) -> None:
        """An award in an outcome is delivered to the notifiers, with a stable id."""
        recorder = Recorder()
        rewards = award_rewards(recorder)
        outcome = rewards.record(act(1, attributes={"award": "helper"}))
        (award,) = outcome.awards
        assert award == Award(
            "ann", "helper", "gold", None, T0 + timedelta(minutes=1), "a1", "stub"
        )
        assert recorder.calls[1:] == [("award", award, "award:0:a1")]

    def test_raising_notifier_keeps_award_and_others(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A notifier that raises leaves the award stored, the other notifiers served, the
        failure logged and reported, and record() unaffected."""
        down, up = Recorder("down", failing=True), Recorder("up")
        rewards = award_rewards(down, up)
        with caplog.at_level(logging.ERROR, logger="e2badges.plugins"):
            outcome = rewards.record(act(1, attributes={"award": "helper"}))
        stored = rewards.outcome("a1")
        assert stored is not None
        assert stored.awards == outcome.awards
        assert up.hooks() == ["outcome", "award"]
        failed = [(f.notification_id, f.plugin, f.error) for f in rewards.delivery_errors]
        assert failed == [
            ("recorded:a1", "down", "RuntimeError: down is down"),
            ("award:0:a1", "down", "RuntimeError: down is down"),
        ]
        assert "plugin 'down' failed on e2badges_notify_award 'award:0:a1'" in caplog.text

    def test_erasure_drops_the_persons_delivery_errors(self) -> None:
        """A failure of a notification about the person is kept in ``delivery_errors``
        without its text, as the store drops its copy of the error."""

        class NoInbox:
            name = "inbox"

            @hookimpl
            def e2badges_notify_award(self, award: Award) -> None:
                raise RuntimeError(f"no inbox for {award.user}")

        rewards = award_rewards(NoInbox())
        rewards.record(act(1, attributes={"award": "helper"}))
        assert [f.error for f in rewards.delivery_errors] == ["RuntimeError: no inbox for ann"]
        rewards.erase_person("ann")
        [failure] = rewards.delivery_errors
        assert failure.error == ERASED_ERROR
        stored = rewards.store.get_notification(failure.notification_id)
        assert stored is not None
        assert stored.errors == {"inbox": ERASED_ERROR}

    @pytest.mark.parametrize("url", ["memory://", "sqlite://"])
    def test_failure_during_an_erasure_is_not_kept(self, url: str) -> None:
        """A plugin that fails on a notification about a person erased while it ran (its
        data is from before the erasure, and its error names them) leaves no text naming
        them: the error is dropped as the erasure dropped the others."""
        box: list[Rewards] = []

        class NoInbox:
            name = "inbox"

            @hookimpl
            def e2badges_notify_award(self, award: Award) -> None:
                box[0].erase_person(award.user)  # the erasure commits meanwhile
                raise RuntimeError(f"no inbox for {award.user}")

        rewards = award_rewards(NoInbox(), store=store_from_url(url))
        box.append(rewards)
        rewards.record(act(1, attributes={"award": "helper"}))
        [failure] = rewards.delivery_errors
        assert failure.error == ERASED_ERROR
        stored = rewards.store.get_notification(failure.notification_id)
        assert stored is not None
        assert stored.errors == {"inbox": ERASED_ERROR}

    def test_award_redelivered_from_payload(self) -> None:
        """An award delivered on retry is rebuilt from the outbox exactly as it was."""
        clock = FrozenClock(T0)
        down = Recorder("down", failing=True)
        rewards = award_rewards(down, clock=clock)
        outcome = rewards.record(act(1, attributes={"award": "helper"}))
        down.failing = False
        clock.advance(timedelta(minutes=1))
        report = rewards.deliver_pending()
        assert (report.delivered, report.failures) == (2, ())
        assert down.calls[1] == ("award", outcome.awards[0], "award:0:a1")

    def test_not_delivered_twice(self) -> None:
        """A delivered award is never delivered again, whatever deliver_pending() is called."""
        clock = FrozenClock(T0)
        recorder = Recorder()
        rewards = award_rewards(recorder, clock=clock)
        rewards.record(act(1, attributes={"award": "helper"}))
        rewards.record(act(1, attributes={"award": "helper"}))
        clock.advance(timedelta(days=30))
        assert rewards.deliver_pending() == DeliveryReport()
        assert recorder.hooks() == ["outcome", "award"]


@pytest.mark.hook("e2badges_notify_revocation")
class TestRevocation:
    def test_revocation_delivered(self) -> None:
        """A revocation in an outcome is delivered to the notifiers."""
        recorder = Recorder()
        rewards = award_rewards(recorder)
        outcome = rewards.record(act(1, attributes={"revoke": "helper"}))
        (revocation,) = outcome.revocations
        assert revocation == Revocation(
            "ann", "helper", None, None, T0 + timedelta(minutes=1), "a1", "mod", "spam"
        )
        assert recorder.calls[1:] == [("revocation", revocation, "revocation:0:a1")]

    def test_revocation_redelivered(self) -> None:
        """A revocation left undelivered is rebuilt and delivered by deliver_pending()."""
        recorder = Recorder()
        rewards = award_rewards(recorder, delivery=DeliveryPolicy(inline=False))
        outcome = rewards.record(act(1, attributes={"revoke": "helper"}))
        rewards.deliver_pending()
        assert recorder.calls[1:] == [("revocation", outcome.revocations[0], "revocation:0:a1")]


@pytest.mark.hook("e2badges_notify_level_change")
class TestLevelChange:
    def test_level_change_delivered(self) -> None:
        """A level change is delivered after the awards and revocations of its activity."""
        recorder = Recorder()
        rewards = award_rewards(recorder)
        outcome = rewards.record(act(1, attributes={"award": "helper", "level": 2}))
        assert outcome.level_changes == (LevelChange("ann", 1, 2, T0 + timedelta(minutes=1), "a1"),)
        assert recorder.hooks() == ["outcome", "award", "level"]
        assert recorder.calls[2] == ("level", outcome.level_changes[0], "level:0:a1")

    def test_level_change_redelivered(self) -> None:
        """A level change left undelivered is rebuilt and delivered by deliver_pending()."""
        recorder = Recorder()
        rewards = award_rewards(recorder, delivery=DeliveryPolicy(inline=False))
        outcome = rewards.record(act(1, attributes={"level": 3}))
        rewards.deliver_pending()
        assert recorder.calls[1:] == [("level", outcome.level_changes[0], "level:0:a1")]


@pytest.mark.hook("e2badges_notify_period_close")
class TestPeriodClose:
    def test_spec(self) -> None:
        """The hook takes the board, the period label, the standings and the notification id."""
        signature = inspect.signature(hookspecs.e2badges_notify_period_close)
        assert list(signature.parameters) == ["board", "period", "standings", "notification_id"]

    def test_delivered_from_the_outbox(self) -> None:
        """A period-close notification written to the outbox is delivered with its JSON
        arguments to the plugins implementing the hook."""
        recorder = Recorder()
        rewards = rewards_with(recorder)
        standings = [
            {"rank": 1, "user": "ann", "score": 40},
            {"rank": 2, "user": "bob", "score": 31},
        ]
        outbox = rewards._outbox  # the leaderboards will write these while closing a period
        assert outbox is not None
        notification = outbox.notification(
            "e2badges_notify_period_close",
            "period:2026-W10:weekly",
            {"board": "weekly", "period": "2026-W10", "standings": standings},
        )
        assert notification is not None
        assert notification.targets == ("recorder",)
        with rewards.store.transaction() as tx:
            tx.apply(EffectBatch(notifications=[notification]))
        assert rewards.deliver_pending() == DeliveryReport(delivered=1)
        assert recorder.calls == [
            ("period", ("weekly", "2026-W10", standings), "period:2026-W10:weekly")
        ]

    def closing(self, *plugins: object) -> tuple[Rewards, FrozenClock]:
        """Comments in ISO week 2026-W10: ann 3, bob 2, carl 1; the clock in W11."""
        from e2badges import CountMetric, Leaderboard

        clock = FrozenClock(T0)  # Monday 2026-03-02 09:00 UTC
        rewards = rewards_with(
            *plugins,
            clock=clock,
            leaderboards=[
                Leaderboard(
                    id="weekly",
                    metric=CountMetric(kind="comment.created"),
                    windows=("week", "day", "all"),
                ),
            ],
        )
        for n, actor in enumerate(["ann", "bob", "ann", "carl", "ann", "bob"]):
            rewards.record(act(n, actor=actor))
        clock.set(T0 + timedelta(days=8))  # Tuesday 2026-03-10, in 2026-W11
        return rewards, clock

    def test_closes_the_previous_periods_once(self) -> None:
        """close_periods() closes each calendar window's previous period once and sends its
        final standings; all-time windows never close."""
        recorder = Recorder()
        rewards, _clock = self.closing(recorder)
        closed = rewards.close_periods(top=2)
        assert closed == [("weekly", "week", "2026-W10"), ("weekly", "day", "2026-03-09")]
        periods = [call for call in recorder.calls if call[0] == "period"]
        assert periods == [
            (
                "period",
                (
                    "weekly",
                    "2026-W10",
                    [
                        {"rank": 1, "user": "ann", "score": 3},
                        {"rank": 2, "user": "bob", "score": 2},
                    ],
                ),
                "period:weekly:week:2026-W10",
            ),
            ("period", ("weekly", "2026-03-09", []), "period:weekly:day:2026-03-09"),
        ]
        assert rewards.close_periods(top=2) == []
        assert rewards.deliver_pending() == DeliveryReport()
        assert len([c for c in recorder.calls if c[0] == "period"]) == 2

    def test_opted_out_people_left_out(self) -> None:
        """The standings sent are those everyone sees: people who opted out are left out."""
        recorder = Recorder()
        rewards, _clock = self.closing(recorder)
        rewards.set_leaderboard_opt_out("ann")
        rewards.close_periods(top=5)
        ((_, (_, _, standings), _), *_rest) = [c for c in recorder.calls if c[0] == "period"]
        assert standings == [
            {"rank": 1, "user": "bob", "score": 2},
            {"rank": 2, "user": "carl", "score": 1},
        ]

    def test_failing_notifier_delivers_later(self) -> None:
        """A notifier that fails on a closed period gets it on deliver_pending(); the period
        stays closed."""
        down = Recorder("down", failing=True)
        rewards, clock = self.closing(down)
        rewards.close_periods()
        failed = {f.notification_id for f in rewards.delivery_errors}
        assert "period:weekly:week:2026-W10" in failed
        down.failing = False
        clock.advance(timedelta(days=1))
        rewards.deliver_pending()
        assert ("weekly", "2026-W10") in [c[1][:2] for c in down.calls if c[0] == "period"]

    def test_top_validated(self) -> None:
        """close_periods(top=0) is refused before anything is written."""
        from e2badges import InvalidQueryError

        rewards, _clock = self.closing(Recorder())
        with pytest.raises(InvalidQueryError, match="top"):
            rewards.close_periods(top=0)
        assert rewards.close_periods(top=1)  # nothing was closed by the refused call


class TestDelivery:
    def test_unheard_hook_makes_no_notification(self) -> None:
        """No notification is made for a hook that no plugin implements."""

        class AwardsOnly:
            name = "awards"

            @hookimpl
            def e2badges_notify_award(self, award: Award) -> None:
                """Takes awards only."""

        outbox = rewards_with(AwardsOnly())._outbox
        assert outbox is not None
        assert outbox.notification("e2badges_notify_period_close", "p:1", {}) is None

    def test_no_notifier_no_notification(self) -> None:
        """Without a notifier, recording writes nothing to the outbox."""
        rewards = rewards_with()
        rewards.record(act(1))
        assert rewards.store.get_notification("recorded:a1") is None
        assert rewards.deliver_pending() == DeliveryReport()

    def test_only_implemented_hooks_written(self) -> None:
        """Only hooks some plugin implements get notifications."""

        class AwardsOnly:
            name = "awards"

            @hookimpl
            def e2badges_notify_award(self, award: Award) -> None:
                """Takes awards only."""

        rewards = award_rewards(AwardsOnly())
        rewards.record(act(1, attributes={"award": "helper", "level": 2}))
        assert rewards.store.get_notification("recorded:a1") is None
        assert rewards.store.get_notification("level:0:a1") is None
        assert rewards.store.get_notification("award:0:a1") is not None

    def test_large_batch_delivered_whole(self) -> None:
        """Every notification of a large batch is delivered right after its commit."""
        recorder = Recorder()
        rewards = rewards_with(recorder)
        rewards.record_many([act(n) for n in range(1200)])
        assert len(recorder.calls) == 1200
        assert rewards.deliver_pending() == DeliveryReport()

    def test_deliver_pending_pages_through(self) -> None:
        """deliver_pending() delivers everything due, however much is waiting."""
        recorder = Recorder()
        rewards = rewards_with(recorder, delivery=DeliveryPolicy(inline=False))
        rewards.record_many([act(n) for n in range(1200)])
        assert rewards.deliver_pending().delivered == 1200
        assert [nid for _h, _w, nid in recorder.calls[-2:]] == ["recorded:a1198", "recorded:a1199"]

    def test_inline_false_waits(self) -> None:
        """With DeliveryPolicy(inline=False) nothing is delivered until deliver_pending()."""
        recorder = Recorder()
        rewards = rewards_with(recorder, delivery=DeliveryPolicy(inline=False))
        rewards.record_many([act(1), act(2)])
        assert recorder.calls == []
        assert rewards.deliver_pending(limit=1).delivered == 1
        assert rewards.deliver_pending().delivered == 1
        assert [nid for _h, _w, nid in recorder.calls] == ["recorded:a1", "recorded:a2"]

    def test_joined_transaction_waits(self) -> None:
        """When the store's transaction joins the caller's (``commits`` false), delivery waits
        for deliver_pending()."""

        class Joined(MemoryStore):
            @contextmanager
            def transaction(self, **options: Any) -> Iterator[StoreTransaction]:
                with super().transaction() as tx:
                    tx.commits = False
                    yield tx

        recorder = Recorder()
        rewards = rewards_with(recorder, store=Joined())
        rewards.record(act(1))
        assert recorder.calls == []
        assert rewards.deliver_pending().delivered == 1

    def test_store_failure_after_commit_is_not_raised(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A store failing during delivery after the commit does not fail record(); the
        notification is delivered later."""

        class Flaky(MemoryStore):
            broken = True

            def mark_delivered(self, notification_id: str, plugin: str) -> None:
                if self.broken:
                    raise ConnectionError("database went away")
                super().mark_delivered(notification_id, plugin)

        store = Flaky()
        clock = FrozenClock(T0)
        recorder = Recorder()
        rewards = rewards_with(recorder, store=store, clock=clock)
        with caplog.at_level(logging.ERROR, logger="e2badges.plugins"):
            rewards.record(act(1))
        assert rewards.balance("ann") == 2
        assert "left for deliver_pending()" in caplog.text
        store.broken = False
        clock.advance(DeliveryPolicy().lease)
        assert rewards.deliver_pending().delivered == 1
        # At least once: the first call reached the plugin before the store failed.
        assert len(recorder.calls) == 2

    @pytest.mark.parametrize("limit", [0, -1, "5", True, 1.5, 2**31])
    def test_limit_validated(self, limit: object) -> None:
        """deliver_pending(limit=...) is a count: an int (not bool) from 1 to 2**31 - 1, else
        InvalidQueryError names ``limit``, as for every other count."""
        rewards = rewards_with(Recorder())
        with pytest.raises(InvalidQueryError) as info:
            rewards.deliver_pending(limit=limit)  # type: ignore[arg-type]
        assert (info.value.field, info.value.subject) == ("limit", "deliver_pending")
        assert rewards.deliver_pending(limit=MAX_COUNT).delivered == 0

    @pytest.mark.parametrize("url", ["memory://", "sqlite://"])
    def test_retry_due_by_elapsed_time_across_a_dst_change(self, url: str) -> None:
        """With a clock in a time zone, a retry is due by elapsed time: one failed at
        02:50 before Berlin's autumn change is retried at 02:10 after it (20 minutes
        later), and leases and retries run in elapsed time, on every store."""
        berlin = ZoneInfo("Europe/Berlin")
        clock = FrozenClock(datetime(2026, 10, 25, 2, 50, tzinfo=berlin))  # 00:50 UTC
        recorder = Recorder(failing=True)
        rewards = rewards_with(recorder, clock=clock, store=store_from_url(url))
        rewards.record(act(1))  # fails; retried a minute later (00:51 UTC)
        assert recorder.calls == []
        clock.set(datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=berlin))  # 01:10 UTC
        recorder.failing = False
        assert rewards.deliver_pending() == DeliveryReport(delivered=1)
        assert [nid for _h, _w, nid in recorder.calls] == ["recorded:a1"]

    def test_backoff_doubles(self) -> None:
        """Retries wait the backoff, then twice as long after each further failure."""
        policy = DeliveryPolicy(backoff=timedelta(seconds=30))
        delays = [policy.retry_delay(n) for n in (1, 2, 3, 4)]
        assert delays == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
        assert policy.retry_delay(60) == timedelta(days=1)

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"attempts": 0}, "attempts"),
            ({"backoff": timedelta(0)}, "backoff: must be a positive duration"),
            ({"lease": timedelta(seconds=-1)}, "lease: must be a positive duration"),
            ({"retries": 3}, "retries"),
            # Strict types: no conversion from numbers, strings or bools.
            ({"inline": 1}, "inline: must be True or False"),
            ({"inline": "no"}, "inline: must be True or False"),
            ({"attempts": True}, "attempts: must be a whole number"),
            ({"attempts": "5"}, "attempts: must be a whole number"),
            ({"attempts": 5.0}, "attempts: must be a whole number"),
            ({"backoff": 30}, "backoff: must be a timedelta or an ISO 8601 duration"),
            ({"lease": "300"}, "lease: must be a timedelta or an ISO 8601 duration"),
            ({"lease": "P5X"}, "lease: is not an ISO 8601 duration"),
            ({"lease": "P2D"}, "lease: .* at most a day"),
            # Bounds: counts stop at 2**31 - 1, durations at a day.
            ({"attempts": 2**31}, "attempts: must be a whole number from 1 to 2,147,483,647"),
            ({"attempts": 2**80}, "attempts"),
            ({"backoff": timedelta(days=1, microseconds=1)}, "backoff: .* at most a day"),
            ({"lease": timedelta(days=2)}, "lease: .* at most a day"),
            ({"lease": timedelta.max}, "lease: .* at most a day"),
        ],
    )
    def test_policy_validated(self, options: dict[str, Any], message: str) -> None:
        """A DeliveryPolicy with a bad option is a ConfigurationError naming it."""
        with pytest.raises(ConfigurationError, match=message) as info:
            DeliveryPolicy(**options)
        assert (info.value.field, info.value.subject) == (next(iter(options)), "DeliveryPolicy")

    def test_policy_bounds_accepted(self) -> None:
        """The largest policy accepted delivers: attempts 2**31 - 1, a day's backoff and lease
        (a lease far past that made every deliver_pending() raise OverflowError)."""
        clock = FrozenClock(T0)
        recorder = Recorder()
        policy = DeliveryPolicy(
            inline=False, attempts=MAX_COUNT, backoff=timedelta(days=1), lease=timedelta(days=1)
        )
        rewards = rewards_with(recorder, clock=clock, delivery=policy)
        rewards.record(act(1))
        assert rewards.deliver_pending().delivered == 1
        assert [nid for _h, _w, nid in recorder.calls] == ["recorded:a1"]

    def test_policy_from_json(self) -> None:
        """A policy written by model_dump_json (durations as ISO 8601) is read back the
        same, and ISO 8601 durations are taken where a timedelta is."""
        policy = DeliveryPolicy(inline=False, attempts=3, lease=timedelta(minutes=7))
        assert DeliveryPolicy.model_validate_json(policy.model_dump_json()) == policy
        assert DeliveryPolicy(backoff="PT2H").backoff == timedelta(hours=2)

    def test_delivery_errors_bounded(self) -> None:
        """``rewards.delivery_errors`` keeps the 100 most recent failures."""
        rewards = rewards_with(Recorder(failing=True))
        rewards.record_many([act(n) for n in range(120)])
        assert len(rewards.delivery_errors) == 100
        assert rewards.delivery_errors[-1].notification_id == "recorded:a119"

    def test_long_error_text_is_cut(self) -> None:
        """An error text longer than MAX_ERROR_LENGTH characters is kept cut to that length,
        ending with an ellipsis, in the store and in the report."""

        class Verbose:
            name = "verbose"

            @hookimpl
            def e2badges_notify_outcome(self) -> None:
                raise ConnectionError("HTTP 502: " + "x" * 10 * MAX_ERROR_LENGTH)

        rewards = rewards_with(Verbose())
        rewards.record(act(1))
        (failure,) = rewards.delivery_errors
        assert len(failure.error) == MAX_ERROR_LENGTH
        assert failure.error.startswith("ConnectionError: HTTP 502: xxx")
        assert failure.error.endswith("x…")
        entry = rewards.store.get_notification("recorded:a1")
        assert entry is not None
        assert entry.errors == {"verbose": failure.error}


class TestAtMostOnce:
    @given(
        rounds=st.lists(
            st.tuples(st.booleans(), st.booleans(), st.booleans()), min_size=1, max_size=7
        ),
        activities=st.integers(min_value=1, max_value=3),
    )
    def test_each_plugin_served_once(
        self, rounds: list[tuple[bool, bool, bool]], activities: int
    ) -> None:
        """Whatever plugins fail in which delivery round, each plugin receives each
        notification at most once, and does receive it if it recovers before running out of
        attempts."""
        clock = FrozenClock(T0)
        plugins = [Recorder(f"p{i}") for i in range(3)]
        policy = DeliveryPolicy(attempts=4)
        rewards = rewards_with(*plugins, clock=clock, delivery=policy)
        for i, fails in enumerate(rounds):
            for plugin, failing in zip(plugins, fails, strict=True):
                plugin.failing = failing
            if i == 0:
                rewards.record_many([act(n) for n in range(activities)])
            else:
                clock.advance(timedelta(days=1))  # past any backoff (at most a day)
                rewards.deliver_pending()
        for p, plugin in enumerate(plugins):
            ids = [nid for _h, _w, nid in plugin.calls]
            assert len(ids) == len(set(ids))
            first_success = next((i for i, fails in enumerate(rounds) if not fails[p]), None)
            served = first_success is not None and first_success < policy.attempts
            assert len(ids) == (activities if served else 0)


class TestRealBadges:
    """The badge, revocation and level hooks, driven by real badges and levels."""

    def make(self, *plugins: object) -> Rewards:
        from e2badges import Badge, Level, criteria

        return rewards_with(
            *plugins,
            badges=[
                Badge(
                    id="commenter", criterion=criteria.Count(kind="comment.created"), threshold=2
                ),
                Badge(id="helper", criterion=criteria.Manual()),
            ],
            levels=[Level(id="regular", threshold=4)],
        )

    @pytest.mark.hook("e2badges_notify_award")
    @pytest.mark.hook("e2badges_notify_level_change")
    def test_award_and_level_reach_notifiers(self) -> None:
        """A badge earned and a level reached by recording reach every notifier once."""
        recorder = Recorder()
        rewards = self.make(recorder)
        rewards.record(act(1))
        outcome = rewards.record(act(2))  # 2 comments: the badge; 2 + 2 points: level 1
        (award,) = outcome.awards
        (change,) = outcome.level_changes
        assert (award.badge, change.new) == ("commenter", 1)
        assert recorder.hooks() == ["outcome", "outcome", "award", "level"]
        assert [call[1] for call in recorder.calls[2:]] == [award, change]

    @pytest.mark.hook("e2badges_notify_award")
    @pytest.mark.hook("e2badges_notify_revocation")
    def test_raising_notifier_keeps_real_award(self) -> None:
        """A raising notifier leaves a granted, then revoked, badge stored and others served."""
        down, up = Recorder("down", failing=True), Recorder("up")
        rewards = self.make(down, up)
        rewards.grant("ann", "helper", by="lead", reason="mentoring", id="g1", at=T0)
        rewards.revoke("ann", "helper", by="lead", reason="mistake", id="r1", at=T0)
        (record,) = rewards.awards("ann")
        assert record.award.badge == "helper"
        assert record.revocation is not None
        assert record.revocation.reason == "mistake"
        assert [hook for hook in up.hooks() if hook != "outcome"] == ["award", "revocation"]
        assert {f.plugin for f in rewards.delivery_errors} == {"down"}
