"""Point rules: every option and limit, with hand-computed expectations.

Calendar windows are checked in Europe/Berlin, where local midnight is 23:00 UTC
in winter (CET, UTC+1) and 22:00 UTC in summer (CEST, UTC+2); DST starts on
2026-03-29 (a 23-hour day) and ends on 2026-10-25 (a 25-hour day).
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from e2badges import (
    Activity,
    Badge,
    Cap,
    ConfigurationError,
    DeliveryPolicy,
    DisplayPolicy,
    Leaderboard,
    Level,
    PointRule,
    Rewards,
    StoryOptions,
    criteria,
)
from e2badges._rules import epoch_us, time_us

COMMENT = "comment.created"
UPVOTE = "answer.upvoted"
_ids = itertools.count()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def rec(
    rewards: Rewards, at: datetime, *, actor: str = "ann", kind: str = COMMENT, **fields: object
) -> list[tuple[str, int, str | None]]:
    """Record one activity and return its ledger as (user, amount, limit) triples."""
    activity = Activity(id=f"t{next(_ids)}", actor=actor, kind=kind, at=at, **fields)
    outcome = rewards.record(activity)
    return [(line.user, line.amount, line.limit) for line in outcome.ledger]


def berlin(*rules: PointRule) -> Rewards:
    return Rewards(rules=rules, timezone="Europe/Berlin")


class TestAmounts:
    def test_fixed_amount_to_actor(self) -> None:
        """A fixed amount is credited to the actor for every matching activity."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=5))
        for minute in range(3):
            rec(r, utc(2026, 3, 2, 9, minute))
        assert r.balance("ann") == 15  # 3 x 5

    def test_computed_amount_is_rounded(self) -> None:
        """A computed amount is rounded half to even to a whole number."""
        r = berlin(PointRule(id="v", kind=COMMENT, actor_points=lambda a: (a.value or 0) / 2))
        assert rec(r, utc(2026, 3, 2, 9), value=5) == [("ann", 2, None)]  # 2.5 -> 2
        assert rec(r, utc(2026, 3, 2, 9), value=7) == [("ann", 4, None)]  # 3.5 -> 4
        assert r.balance("ann") == 6

    def test_computed_amount_must_be_finite(self) -> None:
        """A computed amount that is not a finite number raises and stores nothing."""
        r = berlin(PointRule(id="v", kind=COMMENT, actor_points=lambda a: float("nan")))
        with pytest.raises(ConfigurationError) as info:
            rec(r, utc(2026, 3, 2, 9))
        assert info.value.subject == "v"
        assert info.value.field == "actor_points"
        assert r.store.count_activities() == 0

    def test_recipient_and_actor_separate_amounts(self) -> None:
        """Actor and recipient are credited their own amounts."""
        r = berlin(PointRule(id="up", kind=UPVOTE, actor_points=1, recipient_points=10))
        assert rec(r, utc(2026, 3, 2, 9), kind=UPVOTE, recipient="bob") == [
            ("ann", 1, None),
            ("bob", 10, None),
        ]

    def test_recipient_only_without_recipient(self) -> None:
        """A recipient-only rule credits nobody when the activity has no recipient."""
        r = berlin(PointRule(id="up", kind=UPVOTE, recipient_points=10))
        assert rec(r, utc(2026, 3, 2, 9), kind=UPVOTE) == []

    def test_currencies_are_separate(self) -> None:
        """Each currency has its own balance."""
        r = berlin(
            PointRule(id="p", kind=COMMENT, actor_points=5),
            PointRule(id="k", kind=COMMENT, actor_points=1, currency="karma"),
        )
        rec(r, utc(2026, 3, 2, 9))
        assert (r.balance("ann"), r.balance("ann", "karma")) == (5, 1)

    def test_negative_amount_is_a_penalty(self) -> None:
        """A negative amount lowers the balance and is not counted against caps."""
        r = berlin(
            PointRule(
                id="down", kind="answer.downvoted", recipient_points=-2, caps=(Cap(amount=1),)
            ),
        )
        rec(r, utc(2026, 3, 2, 9), kind="answer.downvoted", recipient="bob")
        assert rec(r, utc(2026, 3, 2, 10), kind="answer.downvoted", recipient="bob") == [
            ("bob", -2, None)
        ]
        assert r.balance("bob") == -4

    def test_when_filters(self) -> None:
        """A rule with ``when`` applies only to the activities it accepts."""
        r = berlin(
            PointRule(
                id="long",
                kind=COMMENT,
                actor_points=3,
                when=lambda a: a.attributes.get("words", 0) >= 100,
            )
        )
        assert rec(r, utc(2026, 3, 2, 9), attributes={"words": 20}) == []
        assert rec(r, utc(2026, 3, 2, 9), attributes={"words": 120}) == [("ann", 3, None)]


class TestSelfCredit:
    def test_self_credit_refused_by_default(self) -> None:
        """When actor and recipient are the same person, neither side is credited."""
        r = berlin(PointRule(id="up", kind=UPVOTE, actor_points=1, recipient_points=10))
        assert rec(r, utc(2026, 3, 2, 9), kind=UPVOTE, recipient="ann") == [
            ("ann", 0, "self_credit"),
            ("ann", 0, "self_credit"),
        ]
        assert r.balance("ann") == 0

    def test_self_credit_allowed(self) -> None:
        """With self_credit=True both sides are credited to the same person."""
        r = berlin(
            PointRule(id="up", kind=UPVOTE, actor_points=1, recipient_points=10, self_credit=True)
        )
        rec(r, utc(2026, 3, 2, 9), kind=UPVOTE, recipient="ann")
        assert r.balance("ann") == 11

    def test_actor_only_rule_ignores_recipient(self) -> None:
        """An actor-only rule credits the actor even when the recipient is the actor."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=2))
        assert rec(r, utc(2026, 3, 2, 9), recipient="ann") == [("ann", 2, None)]


class TestCalendarCaps:
    def test_day_cap_reduces_then_stops(self) -> None:
        """A daily cap of 12 on 5-point comments credits 5, 5, 2, then 0."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=5, caps=(Cap(amount=12),)))
        got = [rec(r, utc(2026, 3, 2, 9, m))[0][1:] for m in range(4)]
        assert got == [(5, None), (5, None), (2, "cap:day"), (0, "cap:day")]
        assert r.balance("ann") == 12

    def test_day_cap_resets_at_local_midnight(self) -> None:
        """23:59:59 and 00:00:00 local time are in different days (CET: midnight is 23:00Z)."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=5, caps=(Cap(amount=5),)))
        assert rec(r, utc(2026, 3, 2, 22, 59, 59)) == [("ann", 5, None)]  # 23:59:59 local
        assert rec(r, utc(2026, 3, 2, 22, 59, 59)) == [("ann", 0, "cap:day")]
        assert rec(r, utc(2026, 3, 2, 23, 0, 0)) == [("ann", 5, None)]  # 00:00:00 local, 3 Mar

    def test_day_cap_on_dst_start(self) -> None:
        """On the 23-hour day of DST start, local midnight at each end is what counts."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=5, caps=(Cap(amount=5),)))
        # 28 Mar 23:30 CET = 22:30Z; 29 Mar 00:30 CET = 23:30Z (same UTC date, new local day)
        assert rec(r, utc(2026, 3, 28, 22, 30)) == [("ann", 5, None)]
        assert rec(r, utc(2026, 3, 28, 23, 30)) == [("ann", 5, None)]
        # 29 Mar 23:59 CEST = 21:59Z: still 29 Mar, cap used
        assert rec(r, utc(2026, 3, 29, 21, 59)) == [("ann", 0, "cap:day")]
        # 30 Mar 00:00 CEST = 22:00Z: a new day
        assert rec(r, utc(2026, 3, 29, 22, 0)) == [("ann", 5, None)]

    def test_day_cap_on_dst_end(self) -> None:
        """On the 25-hour day of DST end, activities 24 hours apart share one local day."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=5, caps=(Cap(amount=5),)))
        # 25 Oct 00:30 CEST = 24 Oct 22:30Z; 25 Oct 23:30 CET = 25 Oct 22:30Z
        assert rec(r, utc(2026, 10, 24, 22, 30)) == [("ann", 5, None)]
        assert rec(r, utc(2026, 10, 25, 22, 30)) == [("ann", 0, "cap:day")]
        # 26 Oct 00:00 CET = 25 Oct 23:00Z
        assert rec(r, utc(2026, 10, 25, 23, 0)) == [("ann", 5, None)]

    def test_week_cap_iso_week_end(self) -> None:
        """ISO weeks run Monday to Sunday in local time."""
        r = berlin(
            PointRule(id="c", kind=COMMENT, actor_points=5, caps=(Cap(amount=5, window="week"),))
        )
        assert rec(r, utc(2026, 3, 2, 9)) == [("ann", 5, None)]  # Mon 2 Mar, W10
        assert rec(r, utc(2026, 3, 8, 22, 59, 59)) == [("ann", 0, "cap:week")]  # Sun 23:59:59
        assert rec(r, utc(2026, 3, 8, 23, 0)) == [("ann", 5, None)]  # Mon 9 Mar 00:00, W11

    def test_week_cap_iso_week_53(self) -> None:
        """2026-W53 runs from Mon 28 Dec 2026 to Sun 3 Jan 2027 and is one week."""
        r = berlin(
            PointRule(id="c", kind=COMMENT, actor_points=5, caps=(Cap(amount=5, window="week"),))
        )
        assert rec(r, utc(2026, 12, 28, 9)) == [("ann", 5, None)]
        assert rec(r, utc(2027, 1, 3, 12)) == [("ann", 0, "cap:week")]
        assert rec(r, utc(2027, 1, 3, 23, 0)) == [("ann", 5, None)]  # Mon 4 Jan 00:00, 2027-W01

    def test_month_cap_month_end(self) -> None:
        """A monthly cap resets at local midnight of the first day of the month."""
        r = berlin(
            PointRule(id="c", kind=COMMENT, actor_points=5, caps=(Cap(amount=5, window="month"),))
        )
        assert rec(r, utc(2026, 1, 1, 9)) == [("ann", 5, None)]
        assert rec(r, utc(2026, 1, 31, 22, 59, 59)) == [("ann", 0, "cap:month")]  # 31 Jan 23:59:59
        assert rec(r, utc(2026, 1, 31, 23, 0)) == [("ann", 5, None)]  # 1 Feb 00:00

    def test_quarter_year_and_all_caps(self) -> None:
        """Quarter, year and all-time caps each keep their own budget."""
        r = berlin(
            PointRule(
                id="q", kind=COMMENT, actor_points=5, caps=(Cap(amount=5, window="quarter"),)
            ),
            PointRule(
                id="y",
                kind=COMMENT,
                actor_points=5,
                currency="y",
                caps=(Cap(amount=10, window="year"),),
            ),
            PointRule(
                id="a",
                kind=COMMENT,
                actor_points=5,
                currency="a",
                caps=(Cap(amount=15, window="all"),),
            ),
        )
        for month in (1, 3, 4, 12):
            rec(r, utc(2026, month, 10, 9))
        rec(r, utc(2027, 1, 10, 9))
        # quarters Q1, Q1, Q2, Q4, 2027-Q1 -> 5 + 0 + 5 + 5 + 5
        assert r.balance("ann") == 20
        # 2026: 5 + 5 then capped at 10; 2027: 5
        assert r.balance("ann", "y") == 15
        # all time: 15
        assert r.balance("ann", "a") == 15


class TestRollingCaps:
    def test_rolling_window_covers_n_local_days(self) -> None:
        """A 7d cap counts the local day and the six before it."""
        r = berlin(
            PointRule(id="c", kind=COMMENT, actor_points=5, caps=(Cap(amount=10, window="7d"),))
        )
        assert rec(r, utc(2026, 3, 2, 9)) == [("ann", 5, None)]  # day 1 (2 Mar)
        assert rec(r, utc(2026, 3, 8, 20)) == [("ann", 5, None)]  # day 7 (8 Mar)
        assert rec(r, utc(2026, 3, 8, 22, 59)) == [("ann", 0, "cap:7d")]  # 8 Mar 23:59 local
        # 9 Mar 00:00 local: 2 Mar has left the window, 5 of the budget is free again
        assert rec(r, utc(2026, 3, 8, 23, 0)) == [("ann", 5, None)]
        assert rec(r, utc(2026, 3, 9, 9)) == [("ann", 0, "cap:7d")]

    def test_late_activity_counts_credits_of_later_days(self) -> None:
        """A late activity gets what is left in the fullest 7-day window holding its day,
        including the windows that end after it: credits recorded before it on later
        days count."""
        r = berlin(
            PointRule(id="c", kind=COMMENT, actor_points=5, caps=(Cap(amount=10, window="7d"),))
        )
        assert rec(r, utc(2026, 3, 10, 9)) == [("ann", 5, None)]
        assert rec(r, utc(2026, 3, 14, 9)) == [("ann", 5, None)]  # 8-14 March hold 10
        # 7 March: its windows end on 7 to 13 March; the fullest (7-13) holds 5.
        assert rec(r, utc(2026, 3, 7, 9)) == [("ann", 5, None)]
        # 8 March lies in 8-14 March, which is full; 6 March in 4-10 and 6-12 (10 each).
        assert rec(r, utc(2026, 3, 8, 9)) == [("ann", 0, "cap:7d")]
        assert rec(r, utc(2026, 3, 6, 9)) == [("ann", 0, "cap:7d")]
        # 1 March: its windows end by 7 March, which hold the 5 of 7 March only.
        assert rec(r, utc(2026, 3, 1, 9)) == [("ann", 5, None)]
        assert r.balance("ann") == 20

    def test_late_activity_is_reduced_to_what_every_window_allows(self) -> None:
        """A late credit is reduced to what is left in the fullest window holding its day."""
        r = berlin(
            PointRule(
                id="c",
                kind=COMMENT,
                actor_points=lambda a: a.value or 0,
                caps=(Cap(amount=10, window="3d"),),
            )
        )
        assert rec(r, utc(2026, 3, 12, 9), value=7) == [("ann", 7, None)]
        assert rec(r, utc(2026, 3, 8, 9), value=4) == [("ann", 4, None)]
        # 10 March: 8-10 holds 4 (6 left), 10-12 holds 7 (3 left).
        assert rec(r, utc(2026, 3, 10, 9), value=5) == [("ann", 3, "cap:3d")]


class TestPairObjectAndSharedCaps:
    def test_pair_cap(self) -> None:
        """A pair cap limits what one actor can give one recipient, not others."""
        r = berlin(
            PointRule(id="up", kind=UPVOTE, recipient_points=10, caps=(Cap(amount=20, per="pair"),))
        )
        for _ in range(3):
            rec(r, utc(2026, 3, 2, 9), kind=UPVOTE, recipient="bob")  # ann -> bob: 10, 10, 0
        got = rec(r, utc(2026, 3, 2, 9), actor="carl", kind=UPVOTE, recipient="bob")
        assert got == [("bob", 10, None)]
        assert r.balance("bob") == 30
        assert [line.limit for line in r.explain("bob")] == [None, None, "cap:day:pair", None]

    def test_object_cap(self) -> None:
        """An object cap limits what a person earns per object; no object, no limit."""
        r = berlin(
            PointRule(
                id="v",
                kind="post.viewed",
                recipient_points=1,
                caps=(Cap(amount=2, window="all", per="object"),),
            )
        )
        for obj in ("p1", "p1", "p1", "p2", None, None, None):
            rec(r, utc(2026, 3, 2, 9), actor="x", kind="post.viewed", recipient="bob", object=obj)
        assert r.balance("bob") == 6  # p1: 1 + 1 + 0, p2: 1, no object: 1 + 1 + 1

    def test_named_cap_is_shared(self) -> None:
        """Rules naming the same cap share one budget."""
        daily = Cap(amount=15, name="reputation")
        r = berlin(
            PointRule(id="a", kind="answer.created", actor_points=10, caps=(daily,)),
            PointRule(id="c", kind=COMMENT, actor_points=10, caps=(daily,)),
        )
        assert rec(r, utc(2026, 3, 2, 9), kind="answer.created") == [("ann", 10, None)]
        assert rec(r, utc(2026, 3, 2, 10)) == [("ann", 5, "cap:reputation")]

    def test_tightest_cap_is_named(self) -> None:
        """With several caps the credit is the least that all allow, naming the one that bound."""
        r = berlin(
            PointRule(
                id="c",
                kind=COMMENT,
                actor_points=5,
                caps=(Cap(amount=100, window="week"), Cap(amount=7)),
            )
        )
        assert rec(r, utc(2026, 3, 2, 9)) == [("ann", 5, None)]
        assert rec(r, utc(2026, 3, 2, 9)) == [("ann", 2, "cap:day")]


class TestOncePerObjectAndCooldown:
    def test_once_per_object(self) -> None:
        """A person is credited once per object by the rule; other objects still count."""
        r = berlin(PointRule(id="up", kind=UPVOTE, recipient_points=10, once_per_object=True))
        assert rec(r, utc(2026, 3, 2, 9), kind=UPVOTE, recipient="bob", object="p1") == [
            ("bob", 10, None)
        ]
        assert rec(
            r, utc(2026, 3, 2, 9), actor="carl", kind=UPVOTE, recipient="bob", object="p1"
        ) == [("bob", 0, "once_per_object")]
        assert rec(r, utc(2026, 3, 2, 9), kind=UPVOTE, recipient="bob", object="p2") == [
            ("bob", 10, None)
        ]

    def test_cooldown(self) -> None:
        """An identical action within the cooldown of the last credited one earns nothing."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=1, cooldown=timedelta(minutes=10)))
        t = utc(2026, 3, 2, 9)
        got = [rec(r, t + timedelta(minutes=m), object="p1")[0][1:] for m in (0, 5, 10, 15, 21)]
        # 0 credited; 5 within 10 of 0; 10 is 10 after 0 (not within); 15 within 10 of 10; 21 ok
        assert got == [(1, None), (0, "cooldown"), (1, None), (0, "cooldown"), (1, None)]

    def test_cooldown_checks_credited_times_on_both_sides(self) -> None:
        """A late activity credited before the last credited one does not hide it: the next
        one within the cooldown of either is not credited."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=1, cooldown=timedelta(minutes=50)))
        t = utc(2026, 3, 2, 9)
        got = [rec(r, t + timedelta(minutes=m), object="p1")[0][1:] for m in (100, 0, 120, 40)]
        # 100 credited; 0 is 100 before it; 120 within 50 of 100; 40 within 50 of 0
        assert got == [(1, None), (1, None), (0, "cooldown"), (0, "cooldown")]

    def test_cooldown_keeps_the_most_recent_credited_times(self) -> None:
        """A cooldown keeps the 8 most recent credited times, sorted: an activity older
        than all of them is checked against those only."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=1, cooldown=timedelta(minutes=10)))
        t = utc(2026, 3, 2, 9)
        for m in range(100, 0, -10):  # credited at 100, 90, ..., 10 minutes, newest first
            assert rec(r, t + timedelta(minutes=m), object="p1") == [("ann", 1, None)]
        key = "cool\x1fc\x1fann\x1fp1"
        kept = r.store.read_state([key])[key]
        t_us = (t - utc(1970, 1, 1)) // timedelta(microseconds=1)
        assert kept == [t_us + m * 60_000_000 for m in range(30, 101, 10)]  # microseconds
        # 25 is within 10 of the kept 30; 15 is within 10 of 10 and 20, which are not kept.
        assert rec(r, t + timedelta(minutes=25), object="p1") == [("ann", 0, "cooldown")]
        assert rec(r, t + timedelta(minutes=15), object="p1") == [("ann", 1, None)]

    def test_cooldown_is_exact_to_the_microsecond(self) -> None:
        """A cooldown ends exactly ``cooldown`` after a credit, to the microsecond, up to
        year 2999 (float seconds would round 1 µs away from 2242 on)."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=1, cooldown=timedelta(minutes=10)))
        us = timedelta(microseconds=1)
        for year in (2026, 2241, 2990, 2999):
            t = utc(year, 3, 2, 9) + 7 * us
            obj = f"p{year}"
            assert rec(r, t, object=obj) == [("ann", 1, None)]
            assert rec(r, t + timedelta(minutes=10) - us, object=obj) == [("ann", 0, "cooldown")]
            assert rec(r, t - timedelta(minutes=10) + us, object=obj) == [("ann", 0, "cooldown")]
            assert rec(r, t + timedelta(minutes=10), object=obj) == [("ann", 1, None)]

    def test_times_kept_in_seconds_read_exactly(self) -> None:
        """Credited times kept as float seconds (by earlier versions) read back as the
        exact microseconds for every time before 2242."""
        rnd = random.Random(7)
        low, high = utc(1900, 1, 1), utc(2242, 1, 1)
        span = (high - low) // timedelta(microseconds=1)
        for _ in range(20_000):
            at = low + timedelta(microseconds=rnd.randrange(span))
            assert time_us(at.timestamp()) == epoch_us(at)
        last = utc(2241, 12, 31, 23, 59, 59, 999_999)
        assert time_us(last.timestamp()) == epoch_us(last)
        assert time_us(12) == 12  # ints are microseconds already

    def test_cooldown_is_per_object(self) -> None:
        """The cooldown applies to identical actions: the same object."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=1, cooldown=timedelta(minutes=10)))
        rec(r, utc(2026, 3, 2, 9), object="p1")
        assert rec(r, utc(2026, 3, 2, 9, 1), object="p2") == [("ann", 1, None)]

    def test_once_per_object_stops_a_penalty(self) -> None:
        """A penalty with once_per_object charges a person once per object."""
        r = berlin(
            PointRule(id="f", kind="post.flagged", recipient_points=-5, once_per_object=True)
        )
        got = [
            rec(r, utc(2026, 3, 2, 9, m), actor=f"mod{m}", kind="post.flagged", **kw)
            for m, kw in enumerate(
                [{"recipient": "bob", "object": "p1"}] * 2 + [{"recipient": "bob", "object": "p2"}]
            )
        ]
        assert got == [[("bob", -5, None)], [("bob", 0, "once_per_object")], [("bob", -5, None)]]
        assert r.balance("bob") == -10

    @pytest.mark.parametrize(
        ("values", "amounts"),
        [
            ([1, -1], [(1, None), (0, "once_per_object")]),
            ([-1, 1], [(-1, None), (0, "once_per_object")]),
            ([-1, -1, 1], [(-1, None), (0, "once_per_object"), (0, "once_per_object")]),
            ([0, -1, 1], [(0, None), (-1, None), (0, "once_per_object")]),
        ],
    )
    def test_once_per_object_whatever_the_signs(
        self, values: list[int], amounts: list[tuple[int, str | None]]
    ) -> None:
        """A +1/-1 vote rule with once_per_object credits one line per person and object,
        whatever the signs and their order; a vote of 0 credits nothing and marks nothing."""
        rule = PointRule(
            id="v", kind=UPVOTE, recipient_points=lambda a: a.value or 0, once_per_object=True
        )
        r = berlin(rule)
        got = [
            rec(
                r,
                utc(2026, 3, 2, 9),
                actor=f"v{i}",
                kind=UPVOTE,
                recipient="bob",
                object="p1",
                value=v,
            )[0][1:]
            for i, v in enumerate(values)
        ]
        assert got == amounts
        assert r.balance("bob") == sum(amount for amount, _ in amounts)

    def test_cooldown_stops_a_penalty(self) -> None:
        """A penalty with a cooldown is not charged again within it; a credited penalty
        stops points within the cooldown too, and the other way round."""
        r = berlin(
            PointRule(
                id="s",
                kind="post.spam",
                actor_points=lambda a: a.value or 0,
                cooldown=timedelta(hours=1),
            )
        )
        t = utc(2026, 3, 2, 9)
        got = [
            rec(r, t + timedelta(minutes=m), kind="post.spam", object="p1", value=v)[0][1:]
            for m, v in ((0, -5), (1, -5), (30, 2), (60, -5), (90, -5), (120, 2), (150, -5))
        ]
        assert got == [
            (-5, None),
            (0, "cooldown"),
            (0, "cooldown"),
            (-5, None),
            (0, "cooldown"),
            (2, None),
            (0, "cooldown"),
        ]
        assert r.balance("ann") == -8

    def test_penalties_pass_caps_and_earn_no_bonus(self) -> None:
        """A penalty passes caps and does not count against them, and earns no
        first-time bonus, with once_per_object set as well."""
        r = berlin(
            PointRule(
                id="v",
                kind=UPVOTE,
                recipient_points=lambda a: a.value or 0,
                once_per_object=True,
                caps=(Cap(amount=3),),
                first_time_bonus=10,
            )
        )
        got = [
            rec(
                r, utc(2026, 3, 2, 9, i), actor="v", kind=UPVOTE, recipient="bob", object=o, value=v
            )
            for i, (o, v) in enumerate([("p1", -4), ("p2", 3), ("p3", 2)])
        ]
        assert got == [
            [("bob", -4, None)],
            [("bob", 3, None), ("bob", 0, "cap:day")],
            [("bob", 0, "cap:day")],
        ]


class TestFirstTimeBonus:
    def test_bonus_once_on_its_own_line(self) -> None:
        """The first credited activity earns the bonus on a separate ledger line, once."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=2, first_time_bonus=10))
        rec(r, utc(2026, 3, 2, 9))
        rec(r, utc(2026, 3, 2, 10))
        lines = [(line.amount, line.bonus) for line in r.explain("ann")]
        assert lines == [(2, False), (10, True), (2, False)]
        assert r.balance("ann") == 14

    def test_bonus_is_capped_and_counts_against_caps(self) -> None:
        """The bonus is a credit of its rule: reduced to what the rule's caps leave after
        the credit it comes with (its line says which cap, and what was asked), and
        counted against them, so a capped rule never credits more than its cap."""
        r = berlin(
            PointRule(
                id="b", kind=COMMENT, actor_points=10, first_time_bonus=20, caps=(Cap(amount=12),)
            )
        )
        rec(r, utc(2026, 3, 5, 9))
        rec(r, utc(2026, 3, 5, 10))
        rec(r, utc(2026, 3, 6, 9))
        lines = [(line.amount, line.requested, line.limit, line.bonus) for line in r.explain("ann")]
        assert lines == [
            (10, 10, None, False),
            (2, 20, "cap:day", True),
            (0, 10, "cap:day", False),
            (10, 10, None, False),
        ]
        assert r.balance("ann") == 22

    def test_bonus_within_caps_is_whole_and_counts(self) -> None:
        """A bonus the caps leave room for is credited whole, and what it used is gone
        from the cap for the rest of the window (a shared cap included)."""
        shared = Cap(amount=40, name="rep")
        r = berlin(
            PointRule(id="a", kind=COMMENT, actor_points=5, first_time_bonus=20, caps=(shared,)),
            PointRule(id="u", kind=UPVOTE, actor_points=10, caps=(shared,)),
        )
        got = [rec(r, utc(2026, 3, 5, 9)), rec(r, utc(2026, 3, 5, 10), kind=UPVOTE)]
        got.append(rec(r, utc(2026, 3, 5, 11), kind=UPVOTE))
        assert got == [
            [("ann", 5, None), ("ann", 20, None)],
            [("ann", 10, None)],
            [("ann", 5, "cap:rep")],
        ]

    def test_bonus_stopped_by_a_cap_is_not_paid_later(self) -> None:
        """The bonus belongs to the first positive credit: when the caps leave nothing
        for it, its line is 0 (naming the cap) and no later credit brings it."""
        r = berlin(
            PointRule(
                id="b", kind=COMMENT, actor_points=5, first_time_bonus=20, caps=(Cap(amount=5),)
            )
        )
        got = [rec(r, utc(2026, 3, 5, 9)), rec(r, utc(2026, 3, 6, 9))]
        assert got == [[("ann", 5, None), ("ann", 0, "cap:day")], [("ann", 5, None)]]

    def test_no_bonus_when_nothing_credited(self) -> None:
        """An activity whose credit a limit stopped does not use up the bonus."""
        r = berlin(
            PointRule(
                id="up", kind=UPVOTE, recipient_points=2, first_time_bonus=10, once_per_object=True
            )
        )
        rec(r, utc(2026, 3, 2, 9), kind=UPVOTE, recipient="bob", object="p1")
        rec(r, utc(2026, 3, 2, 9), kind=UPVOTE, recipient="bob", object="p1")
        assert r.balance("bob") == 12


class TestLimitedActivityIsKept:
    def test_limited_activity_stored_and_explained(self) -> None:
        """A limited activity is still stored; the ledger says which limit stopped it."""
        r = berlin(PointRule(id="c", kind=COMMENT, actor_points=5, caps=(Cap(amount=0),)))
        rec(r, utc(2026, 3, 2, 9))
        assert r.store.count_activities() == 1
        [line] = r.explain("ann")
        assert (line.rule, line.amount, line.requested, line.limit) == ("c", 0, 5, "cap:day")


class TestRuleDefinitions:
    @pytest.mark.parametrize(
        ("kwargs", "field", "reason"),
        [
            (
                {"actor_points": 1, "caps": (Cap(amount=1, window="day"),) * 2},
                "definition",
                "two caps",
            ),
            ({}, "definition", "give actor_points"),
            ({"actor_points": 1.5}, "actor_points", "whole number"),
            ({"actor_points": True}, "actor_points", "whole number"),
            ({"actor_points": 1, "cooldown": timedelta(0)}, "cooldown", "positive"),
            ({"actor_points": 1, "first_time_bonus": -1}, "first_time_bonus", "greater than"),
            ({"actor_points": 1, "kind": "bad kind"}, "kind", "dotted name"),
            ({"actor_points": 1, "currency": ""}, "currency", "empty"),
            ({"actor_points": 1, "extra": 1}, "extra", "Extra inputs"),
        ],
    )
    def test_bad_rule(self, kwargs: dict[str, object], field: str, reason: str) -> None:
        """A bad rule definition raises ConfigurationError naming the rule and the field."""
        fields: dict[str, object] = {"id": "r1", "kind": COMMENT}
        fields.update(kwargs)
        with pytest.raises(ConfigurationError) as info:
            PointRule(**fields)
        assert info.value.subject == "PointRule 'r1'"
        assert info.value.field == field
        assert reason in info.value.reason

    @pytest.mark.parametrize(
        ("kwargs", "field", "reason"),
        [
            ({"amount": -1}, "amount", "greater than or equal to 0"),
            ({"amount": 1, "window": "fortnight"}, "window", "unknown window"),
            ({"amount": 1, "window": "0d"}, "window", "unknown window"),
            ({"amount": 1, "per": "team"}, "per", "person"),
        ],
    )
    def test_bad_cap(self, kwargs: dict[str, object], field: str, reason: str) -> None:
        """A bad cap raises ConfigurationError naming the field."""
        with pytest.raises(ConfigurationError) as info:
            Cap(**kwargs)
        assert info.value.field == field
        assert reason in info.value.reason

    def test_duplicate_rule_ids(self) -> None:
        """Two rules with one id are refused when Rewards is built."""
        rule = PointRule(id="c", kind=COMMENT, actor_points=1)
        with pytest.raises(ConfigurationError, match="two rules share this id"):
            Rewards(rules=[rule, rule])

    def test_shared_cap_must_agree(self) -> None:
        """Rules sharing a named cap must define it alike."""
        with pytest.raises(ConfigurationError, match="shared cap 'rep' differs"):
            Rewards(
                rules=[
                    PointRule(
                        id="a", kind=COMMENT, actor_points=1, caps=(Cap(amount=5, name="rep"),)
                    ),
                    PointRule(
                        id="b", kind=UPVOTE, actor_points=1, caps=(Cap(amount=6, name="rep"),)
                    ),
                ]
            )

    def test_rule_on_undeclared_kind(self) -> None:
        """With kinds declared, a rule on another kind is refused, naming the rule."""
        with pytest.raises(ConfigurationError) as info:
            Rewards(rules=[PointRule(id="c", kind=COMMENT, actor_points=1)], kinds=["post.created"])
        assert info.value.subject == "rule 'c'"
        assert "undeclared activity kind 'comment.created'" in info.value.reason

    def test_unknown_timezone(self) -> None:
        """An unknown IANA time zone is refused."""
        with pytest.raises(ConfigurationError, match="unknown IANA time zone 'Mars/Olympus'"):
            Rewards(timezone="Mars/Olympus")


class TestPlainData:
    """Definitions built from plain data (loaded from a file) are checked as the
    constructor checks them, and fail with ConfigurationError naming the field."""

    BAD: ClassVar[list[tuple[Any, Any, str, str]]] = [
        (PointRule, {"id": "r", "kind": "a.b", "actor_points": "x"}, "actor_points", "whole"),
        (
            Badge,
            {"id": "b", "criterion": {"type": "count", "kind": "a.b"}, "threshold": 0},
            "threshold",
            "positive",
        ),
        (Leaderboard, {"id": "x", "metric": {"type": "nope"}}, "metric", "does not match"),
        (Level, {"id": "l", "name": "L", "threshold": -1}, "threshold", "must not be negative"),
        (criteria.Count, {"kind": ""}, "kind", "dotted name"),
        (DeliveryPolicy, {"attempts": 0}, "attempts", "whole number"),
        (DisplayPolicy, {"default": "pseudonym"}, "key", "required"),
        (StoryOptions, {"leaders": 5}, "leaders", "valid tuple"),
        (PointRule, 5, "definition", "mapping"),
        (PointRule, {1: 2}, "definition", "not a field name"),
    ]

    @pytest.mark.parametrize(("cls", "data", "field", "reason"), BAD)
    def test_bad_plain_data_refused(self, cls: Any, data: Any, field: str, reason: str) -> None:
        """model_validate refuses what the constructor refuses, with ConfigurationError."""
        with pytest.raises(ConfigurationError) as info:
            cls.model_validate(data)
        assert info.value.field == field
        assert reason in str(info.value)

    @pytest.mark.parametrize(("cls", "data", "field", "reason"), BAD[:8])
    def test_bad_json_refused(self, cls: Any, data: Any, field: str, reason: str) -> None:
        """model_validate_json refuses the same definitions, as JSON documents."""
        with pytest.raises(ConfigurationError) as info:
            cls.model_validate_json(json.dumps(data))
        assert info.value.field == field
        assert reason in str(info.value)

    def test_not_json_refused(self) -> None:
        """A document that is not JSON is refused naming the definition."""
        with pytest.raises(ConfigurationError, match="not a JSON document") as info:
            PointRule.model_validate_json("{bad")
        assert info.value.field == "definition"

    def test_good_plain_data_builds_the_same_definition(self) -> None:
        """Good plain data gives the definition the constructor gives; an instance is kept."""
        badge = Badge(id="b", criterion=criteria.Count(kind="a.b"), threshold=2)
        data = {"id": "b", "criterion": {"type": "count", "kind": "a.b"}, "threshold": 2}
        assert Badge.model_validate(data) == badge
        assert Badge.model_validate(badge) is badge
        rule = PointRule(id="r", kind="a.b", actor_points=3, caps=[Cap(amount=9, window="day")])
        assert PointRule.model_validate_json(rule.model_dump_json()) == rule

    def test_pydantic_options_refused(self) -> None:
        """pydantic's options are refused: a definition is always checked in full."""
        with pytest.raises(TypeError, match="takes no options"):
            PointRule.model_validate({"id": "r", "kind": "a.b"}, strict=True)
        with pytest.raises(TypeError, match="takes no options"):
            PointRule.model_validate_json('{"id": "r", "kind": "a.b"}', context={})
