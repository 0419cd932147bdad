"""Stories for the feed: badges, streaks, levels, new leaders, personal bests, milestones.

Stories are engine effects: the engine tells them while it evaluates an
activity, from what the activity produced (awards, level changes, the board
rows it changed) and from a few counters it keeps in its state.  Everything here
is pure.  Badge, streak and level stories cost nothing unless an activity awards
something; leader and personal-best stories are kept only for the boards listed
in :class:`StoryOptions`, milestones only for the kinds listed there.

State keys (opaque to stores):

- ``st SEP ld SEP board SEP period``: the leader of a board in a period,
  ``[sort_key, reached, subject]``;
- ``st SEP pb SEP board SEP subject``: a subject's best period score on a board,
  over every period recorded (late ones too), ``[sort_key, period]``, then the
  latest period whose personal best was told when there is one (older values
  have two items);
- ``st SEP ms SEP kind`` and ``st SEP ms SEP kind SEP team``: activity counts.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field, field_validator

from ._badges import Badge, Streak
from ._errors import ConfigurationError
from ._leaderboards import BoardRow, CompiledBoard, period_label, period_start
from ._levels import Level
from ._limits import Flag, Text, Whole
from ._models import Award, LevelChange, Story, check_identifier, check_kind
from ._periods import parse_window
from ._rules import SEP, RuleContext, _Definition

__all__ = ["StoryOptions", "StoryTeller", "story_id"]

_LEADER = f"st{SEP}ld{SEP}"
_BEST = f"st{SEP}pb{SEP}"
_COUNT = f"st{SEP}ms{SEP}"


class StoryOptions(_Definition):
    """Which stories the engine tells beyond badges, streaks and levels (always told).

    ``leaders`` and ``personal_bests`` name leaderboards: a story when someone
    takes the lead of the board in its first window's current period (when the
    activity is recorded: a late activity's lead of a past period is kept, not
    told), and when someone beats their best score of an earlier period of that
    window (once per period; a late activity that passes the best of a later
    period sets the best but tells nothing).  ``milestones`` names activity kinds
    whose ``milestone_counts`` (the 100th, 1,000th and 10,000th by default) are
    told, organisation-wide and, with ``team_milestones``, in each team.
    """

    leaders: tuple[Text, ...] = ()
    personal_bests: tuple[Text, ...] = ()
    milestones: tuple[Text, ...] = ()
    milestone_counts: tuple[Annotated[Whole, Field(ge=1)], ...] = (100, 1_000, 10_000)
    team_milestones: Flag = True

    @field_validator("leaders", "personal_bests")
    @classmethod
    def _boards(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for board in value:
            check_identifier(board)
        return value

    @field_validator("milestones")
    @classmethod
    def _kinds(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for kind in value:
            check_kind(kind)
        return value


def story_id(kind: str, *parts: object) -> str:
    """Return the stable id of a story: its kind and a digest of what identifies the event."""
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return f"{kind}-{hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:20]}"


class _TrackedBoard:
    __slots__ = ("board", "label", "leader", "title", "window")

    def __init__(self, board: CompiledBoard, *, leader: bool) -> None:
        self.board = board
        self.leader = leader
        self.window = parse_window(board.definition.windows[0])
        if self.window.kind == "rolling" or (not leader and self.window.kind == "all"):
            need = "a calendar window" if not leader else "'all' or a calendar window"
            raise ConfigurationError(
                "personal_bests" if not leader else "leaders",
                f"the first window of leaderboard {board.id!r} must be {need}, "
                f"not {self.window.name!r}",
                subject="StoryOptions",
            )
        self.title = board.definition.description or board.id

    def period(self, ctx: RuleContext) -> str:
        if self.window.kind == "all":
            return "all"
        return period_label(self.window, ctx.local, self.board.week_starts)

    def over(self, ctx: RuleContext) -> bool:
        """Return whether the activity's period had ended when it was recorded.

        Never for ``all``, nor when the engine was not told when it is recorded.
        """
        today = ctx.today
        if today is None or self.window.kind == "all" or ctx.local >= today:
            return False
        return period_label(self.window, today, self.board.week_starts) != self.period(ctx)

    def earlier(self, label: str, than: str) -> bool:
        """Return whether period ``label`` began before period ``than`` (by their first days).

        A label whose start cannot be read counts as earlier.
        """
        first = period_start(self.window.kind, label)
        if first is None:
            return True
        other = period_start(self.window.kind, than)
        return other is None or first < other


class StoryTeller:
    """Tell the stories of one evaluated activity."""

    __slots__ = (
        "_badges",
        "_best",
        "_by_kind",
        "_counts",
        "_leaders",
        "_levels",
        "_milestones",
        "_teams",
        "boards",
    )

    def __init__(
        self,
        options: StoryOptions,
        *,
        badges: Iterable[Badge],
        levels: Sequence[Level],
        boards: Mapping[str, CompiledBoard],
    ) -> None:
        if not isinstance(options, StoryOptions):
            raise ConfigurationError("stories", "must be a StoryOptions", subject="Rewards")
        self._badges = {badge.id: badge for badge in badges}
        self._levels = tuple(levels)
        for name, ids in (("leaders", options.leaders), ("personal_bests", options.personal_bests)):
            for board_id in ids:
                if board_id not in boards:
                    raise ConfigurationError(
                        name, f"names unknown leaderboard {board_id!r}", subject="StoryOptions"
                    )
        self._leaders = [_TrackedBoard(boards[b], leader=True) for b in options.leaders]
        self._best = [_TrackedBoard(boards[b], leader=False) for b in options.personal_bests]
        self.boards = frozenset(options.leaders) | frozenset(options.personal_bests)
        # Boards on a kind, by kind: their keys can be announced; points boards are read lazily.
        self._by_kind: dict[str, list[_TrackedBoard]] = {}
        for tracked in [*self._leaders, *self._best]:
            if tracked.board.kind is not None:
                self._by_kind.setdefault(tracked.board.kind, []).append(tracked)
        self._milestones = frozenset(options.milestones)
        self._counts = frozenset(options.milestone_counts)
        self._teams = options.team_milestones

    def listens(self, kind: str) -> bool:
        """Return whether activities of ``kind`` count toward a milestone."""
        return kind in self._milestones

    def keys(self, ctx: RuleContext) -> list[str]:
        """Return the state keys telling the stories of ``ctx`` may read."""
        activity = ctx.activity
        out: list[str] = []
        if activity.kind in self._milestones:
            out.append(f"{_COUNT}{activity.kind}")
            if self._teams:
                out.extend(f"{_COUNT}{activity.kind}{SEP}{team}" for team in activity.teams)
        for tracked in self._by_kind.get(activity.kind, ()):
            if tracked.leader:
                out.append(f"{_LEADER}{tracked.board.id}{SEP}{tracked.period(ctx)}")
            else:
                out.extend(
                    f"{_BEST}{tracked.board.id}{SEP}{s}"
                    for s in tracked.board.subjects(activity, activity.actor)
                )
        return out

    def tell(
        self,
        ctx: RuleContext,
        view: Any,
        awards: Sequence[Award],
        changes: Sequence[LevelChange],
        rows: Mapping[tuple[str, str, str], BoardRow],
    ) -> tuple[Story, ...]:
        """Return the stories of the activity in ``ctx``; update counters in ``view``."""
        out: list[Story] = []
        activity = ctx.activity
        at = activity.at
        assert at is not None
        teams = activity.teams
        for award in awards:
            out.append(self._award(award, teams))
        for change in changes:
            if change.new > change.old:
                out.append(self._level(change, teams))
        if rows:
            for tracked in self._leaders:
                self._leader(tracked, ctx, view, rows, out)
            for tracked in self._best:
                self._personal_best(tracked, ctx, view, rows, out)
        if activity.kind in self._milestones:
            self._milestone(activity.kind, None, ctx, view, out)
            if self._teams:
                for team in teams:
                    self._milestone(activity.kind, team, ctx, view, out)
        return tuple(out)

    # -- one kind of story each --------------------------------------------------------

    def _award(self, award: Award, teams: tuple[str, ...]) -> Story:
        badge = self._badges.get(award.badge)
        name = (badge.name or badge.id) if badge is not None else award.badge
        tier_name = None
        if badge is not None and award.tier is not None:
            tier_name = next((t.title for t in badge.tiers if t.id == award.tier), award.tier)
        data: dict[str, Any] = {
            "badge": award.badge,
            "name": name,
            "tier": award.tier,
            "tier_name": tier_name,
            "period": award.period,
            "team": award.team,
        }
        criterion = badge.criterion if badge is not None else None
        if isinstance(criterion, Streak):
            assert badge is not None  # its criterion is a Streak
            length = _threshold(badge, award.tier)
            data["length"] = length
            data["unit"] = criterion.period
            text = f"{award.user} reached a {_number(length)}-{criterion.period} streak: {name}"
            if tier_name is not None:
                text += f" ({tier_name})"
            kind = "streak"
        else:
            text = f"{award.user} earned {name}" + (f" ({tier_name})" if tier_name else "")
            kind = "badge"
        parts: tuple[object, ...] = (award.activity_id, award.user, award.badge, award.tier)
        # One activity may award a team-scoped badge in each of its teams: the team keeps
        # those stories apart (left out when None, so other ids stay as they were).
        parts += (award.period,) if award.team is None else (award.period, award.team)
        return Story(
            story_id(kind, *parts),
            kind,
            (award.user,),
            text,
            data,
            award.at,
            award.activity_id,
            (award.team,) if award.team is not None else teams,
            badge is not None and badge.secret,
        )

    def _level(self, change: LevelChange, teams: tuple[str, ...]) -> Story:
        level = self._levels[change.new - 1] if 0 < change.new <= len(self._levels) else None
        name = level.title if level is not None else str(change.new)
        return Story(
            story_id("level", change.activity_id, change.user, change.new),
            "level",
            (change.user,),
            f"{change.user} reached level {change.new}"
            + (f": {name}" if level is not None and level.name else ""),
            {"level": change.new, "previous": change.old, "name": name},
            change.at,
            change.activity_id,
            teams,
        )

    def _leader(
        self,
        tracked: _TrackedBoard,
        ctx: RuleContext,
        view: Any,
        rows: Mapping[tuple[str, str, str], BoardRow],
        out: list[Story],
    ) -> None:
        board = tracked.board
        period = tracked.period(ctx)
        key = f"{_LEADER}{board.id}{SEP}{period}"
        # Best first, as the board lists them: when one activity lifts several rows (an
        # actor and a recipient) past the leader, only the one ahead after it leads.
        changed = sorted(
            (
                (subject, row)
                for (board_id, label, subject), row in rows.items()
                if board_id == board.id and label == period and row.sort_key is not None
            ),
            key=lambda item: (item[1].sort_key, item[1].reached, item[0]),
        )
        for subject, row in changed:
            leader = view.get(key, None)
            mine = [row.sort_key, row.reached, subject]
            if leader is not None and leader[2] == subject:
                view.set(key, mine)
                continue
            if leader is not None and (row.sort_key, row.reached, subject) >= tuple(leader):
                continue
            view.set(key, mine)
            if tracked.over(ctx):
                continue  # the lead of a past period is kept, not news
            at = ctx.activity.at
            assert at is not None
            people = () if row.team else (subject,)
            story_teams = (subject,) if row.team else ctx.activity.teams
            out.append(
                Story(
                    story_id("leader", board.id, period, subject, ctx.activity.id),
                    "leader",
                    people,
                    f"{subject} now leads {tracked.title}"
                    + ("" if period == "all" else f" ({period})"),
                    {
                        "board": board.id,
                        "period": period,
                        "subject": subject,
                        "score": row.score,
                    },
                    at,
                    ctx.activity.id,
                    story_teams,
                )
            )

    def _personal_best(
        self,
        tracked: _TrackedBoard,
        ctx: RuleContext,
        view: Any,
        rows: Mapping[tuple[str, str, str], BoardRow],
        out: list[Story],
    ) -> None:
        board = tracked.board
        period = tracked.period(ctx)
        for (board_id, label, subject), row in rows.items():
            if board_id != board.id or label != period or row.sort_key is None or row.team:
                continue
            key = f"{_BEST}{board.id}{SEP}{subject}"
            best = view.get(key, None)
            if best is not None and row.sort_key >= best[0]:
                continue
            # The best over every period, late ones too, which a later period must beat;
            # then the latest period whose personal best was told.
            told: str | None = best[2] if best is not None and len(best) > 2 else None
            tell = (
                best is not None
                # A period over when the activity is recorded is not news (as leads).
                and not tracked.over(ctx)
                and period not in (best[1], told)  # the first period, or told already
                # Beating the best of a later period (a late activity) is not a personal
                # best; the best of the periods before this one is not kept.
                and tracked.earlier(best[1], period)
            )
            if tell and (told is None or tracked.earlier(told, period)):
                told = period
            view.set(key, [row.sort_key, period] if told is None else [row.sort_key, period, told])
            if not tell:
                continue
            assert best is not None
            assert row.score is not None  # ranked: it has a sort key
            at = ctx.activity.at
            assert at is not None
            out.append(
                Story(
                    story_id("personal_best", board.id, period, subject),
                    "personal_best",
                    (subject,),
                    f"{subject} set a personal best on {tracked.title}: "
                    f"{_number(row.score)} ({period})",
                    {
                        "board": board.id,
                        "period": period,
                        "score": row.score,
                        "previous": -best[0] if not board.formula.lower_is_better else best[0],
                        "previous_period": best[1],
                    },
                    at,
                    ctx.activity.id,
                    ctx.activity.teams,
                )
            )

    def _milestone(
        self, kind: str, team: str | None, ctx: RuleContext, view: Any, out: list[Story]
    ) -> None:
        key = f"{_COUNT}{kind}" if team is None else f"{_COUNT}{kind}{SEP}{team}"
        count = view.get(key) + 1
        view.set(key, count)
        if count not in self._counts:
            return
        at = ctx.activity.at
        assert at is not None
        out.append(
            Story(
                story_id("milestone", kind, team, count),
                "milestone",
                (),
                f"The {_ordinal(count)} {kind} activity"
                + (f" in {team}" if team is not None else ""),
                {"kind": kind, "count": count, "team": team},
                at,
                ctx.activity.id,
                (team,) if team is not None else (),
            )
        )


def _threshold(badge: Badge, tier: str | None) -> float:
    if tier is None:
        assert badge.threshold is not None
        return badge.threshold
    return next(t.threshold for t in badge.tiers if t.id == tier)


def _number(x: float) -> str:
    """Return ``x`` as people read it in a sentence: ``1,234,567``, ``3.14``.

    Whole numbers in full with thousands separators (``:g`` wrote ``1.23457e+06``),
    others to two decimals, trailing zeros dropped.
    """
    if not math.isfinite(x):
        return f"{x:g}"
    if x == int(x):
        return f"{int(x):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"
