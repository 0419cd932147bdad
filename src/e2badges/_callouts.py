"""Call-outs: ready-made leaderboards for the figures worth showing everyone.

``Rewards(callouts=["most_posts", ...])`` adds the named boards; the activity
kinds they count come from ``callout_kinds`` (see :data:`CALLOUT_KINDS` for the
roles and their defaults).  "Newcomers this week" is not a score, so it is a
query: :meth:`Rewards.newcomers`.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence

from ._errors import ConfigurationError
from ._leaderboards import AverageMetric, CountMetric, Leaderboard, TeamsScope
from ._models import check_kind

__all__ = ["CALLOUTS", "CALLOUT_KINDS", "callout_boards", "check_callout_kinds"]

CALLOUT_KINDS: Mapping[str, str] = {
    "post": "post.created",
    "comment": "comment.created",
    "view": "post.viewed",
    "rating": "post.rated",
}
"""The roles call-outs count, and the activity kind of each by default."""

_WINDOWS = ("week", "month", "all")


def _most_posts(kinds: Mapping[str, str]) -> Leaderboard:
    return Leaderboard(
        id="most_posts",
        metric=CountMetric(kind=kinds["post"]),
        windows=_WINDOWS,
        description="Most posts",
    )


def _most_comments(kinds: Mapping[str, str]) -> Leaderboard:
    return Leaderboard(
        id="most_comments",
        metric=CountMetric(kind=kinds["comment"]),
        windows=_WINDOWS,
        description="Most comments",
    )


def _most_views(kinds: Mapping[str, str]) -> Leaderboard:
    # Each view counts 1 for the author it is recorded for (its recipient), whatever its value.
    return Leaderboard(
        id="most_views_received",
        metric=CountMetric(kind=kinds["view"], credit="recipient"),
        windows=_WINDOWS,
        description="Most views received",
    )


def _most_valued(kinds: Mapping[str, str]) -> Leaderboard:
    # Bayesian average: five ratings of 3 weigh in first, so a single 5 does not top the board.
    return Leaderboard(
        id="most_valued",
        metric=AverageMetric(
            kind=kinds["rating"], credit="recipient", min_count=3, prior_mean=3.0, prior_weight=5
        ),
        windows=("all", "month"),
        description="Most valued",
    )


def _most_active_team(kinds: Mapping[str, str]) -> Leaderboard:
    return Leaderboard(
        id="most_active_team",
        metric=CountMetric(kind=kinds["post"]),
        # Per active member: a team where one person posts and the others comment or read
        # is not scored as if it had one member.
        scope=TeamsScope(divide_by_size=True, members="active"),
        windows=_WINDOWS,
        description="Most active team (posts per member)",
    )


CALLOUTS: Mapping[str, Callable[[Mapping[str, str]], Leaderboard]] = {
    "most_posts": _most_posts,
    "most_comments": _most_comments,
    "most_views_received": _most_views,
    "most_valued": _most_valued,
    "most_active_team": _most_active_team,
}
"""The call-outs a Rewards instance can enable by name."""


def callout_boards(names: Sequence[str], kinds: Mapping[str, str] | None) -> list[Leaderboard]:
    """Return the leaderboards of the call-outs ``names``, counting ``kinds`` by role."""
    if kinds is not None and not isinstance(kinds, Mapping):
        raise ConfigurationError(
            "callout_kinds",
            f"must be a mapping of roles to activity kinds, not {type(kinds).__name__}",
            subject="Rewards",
        )
    if isinstance(names, str | bytes) or not isinstance(names, Iterable):
        raise ConfigurationError(
            "callouts",
            f"must be a list of call-out names, not {type(names).__name__}",
            subject="Rewards",
        )
    roles = dict(CALLOUT_KINDS)
    for role, kind in dict(kinds or {}).items():
        if role not in CALLOUT_KINDS:
            raise ConfigurationError(
                "callout_kinds",
                f"unknown role {role!r}; use {', '.join(CALLOUT_KINDS)}",
                subject="Rewards",
            )
        try:
            roles[role] = check_kind(kind)
        except ValueError as exc:
            raise ConfigurationError("callout_kinds", str(exc), subject="Rewards") from None
    out: list[Leaderboard] = []
    for name in names:
        make = CALLOUTS.get(name)
        if make is None:
            raise ConfigurationError(
                "callouts",
                f"unknown call-out {name!r}; use {', '.join(CALLOUTS)}",
                subject="Rewards",
            )
        out.append(make(roles))
    return out


def check_callout_kinds(kinds: Mapping[str, str], declared: Container[str]) -> None:
    """Raise ConfigurationError naming ``callout_kinds`` for a kind not in ``declared``.

    Called when ``kinds=`` is given, for every role given, whether or not a call-out
    that counts it is enabled (a typo would otherwise wait for the day it is).
    """
    for role, kind in sorted(dict(kinds).items()):
        if kind not in declared:
            raise ConfigurationError(
                "callout_kinds",
                f"undeclared activity kind {kind!r} (role {role!r})",
                subject="Rewards",
            )
