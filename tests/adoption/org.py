"""A small organisation with hand-checked figures, shared by the adoption tests.

Time zone Europe/Paris (UTC+1 in November).  Week 2026-W48 is Monday 23 to
Sunday 29 November, local time.  Contributing kinds: posts and comments.

====  ==========================  ===============  =====  ==========================
who   what                        at (UTC)         team   local day (Paris)
====  ==========================  ===============  =====  ==========================
ann   post.created                16 Nov 09:00     red    16 Nov (W47)
bob   post.viewed                 17 Nov 09:00     blue   17 Nov (W47)
eve   post.viewed                 22 Nov 23:30     -      23 Nov (W48, W47 in UTC)
ann   post.created x2             23 Nov 09:00/10  red    23 Nov
bob   post.viewed                 23 Nov 12:00     blue   23 Nov
ann   comment.created             24 Nov 09:00     red    24 Nov
bob   post.viewed                 25 Nov 12:00     blue   25 Nov
cy    comment.created             25 Nov 13:00     blue   25 Nov
dee   post.created                29 Nov 23:30     -      30 Nov (W49, W48 in UTC)
cy    post.viewed                 1 Dec 10:00      blue   1 Dec (W49)
====  ==========================  ===============  =====  ==========================

Badges: ``poster`` (a first post) goes to ann on 16 Nov and dee on 30 Nov;
``commenter`` (a first comment) to ann on 24 Nov and cy on 25 Nov.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from e2badges import Activity, Badge, FrozenClock, Rewards, criteria

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # Wednesday of 2026-W49
KINDS = ("post.created", "comment.created", "post.viewed")
BADGES = (
    Badge(id="poster", criterion=criteria.Count(kind="post.created"), threshold=1),
    Badge(id="commenter", criterion=criteria.Count(kind="comment.created"), threshold=1),
)


def utc(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def activities() -> list[Activity]:
    rows: list[tuple[str, str, datetime, tuple[str, ...]]] = [
        ("ann", "post.created", utc(16, 9), ("red",)),
        ("bob", "post.viewed", utc(17, 9), ("blue",)),
        ("eve", "post.viewed", utc(22, 23, 30), ()),
        ("ann", "post.created", utc(23, 9), ("red",)),
        ("ann", "post.created", utc(23, 10), ("red",)),
        ("bob", "post.viewed", utc(23, 12), ("blue",)),
        ("ann", "comment.created", utc(24, 9), ("red",)),
        ("bob", "post.viewed", utc(25, 12), ("blue",)),
        ("cy", "comment.created", utc(25, 13), ("blue",)),
        ("dee", "post.created", utc(29, 23, 30), ()),
        ("cy", "post.viewed", utc(1, 10, month=12), ("blue",)),
    ]
    return [
        Activity(id=f"a{i}", actor=actor, kind=kind, at=at, teams=teams)
        for i, (actor, kind, at, teams) in enumerate(rows)
    ]


def organisation(
    store: Any = "memory://", *, timezone: str = "Europe/Paris", **options: Any
) -> Rewards:
    """Return a Rewards over ``store`` with the organisation's activities recorded."""
    options.setdefault("seats", 10)
    options.setdefault("team_seats", {"red": 2, "blue": 5})
    options.setdefault("contributing", ("post.created", "comment.created"))
    rewards = Rewards(
        store,
        kinds=KINDS,
        badges=BADGES,
        clock=FrozenClock(NOW),
        timezone=timezone,
        load_entrypoints=False,
        **options,
    )
    rewards.record_many(activities())
    return rewards
