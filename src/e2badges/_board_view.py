"""LeaderboardView: the queries on one leaderboard, answered from the store's rows.

The store lists rows and counts standings; this module turns them into ranks,
pages, ``around`` windows and percentiles, once, for every store.  A board is
always shown to a *viewer*: ``viewer=None`` is the public board, from which the
people who opted out of leaderboards (or are excluded from the board) are left
out; such a person sees the board with themselves put back in their place, and
nobody else does.  Under ``Rewards(rankings=False)`` every query that ranks
people raises :class:`~e2badges.RankingsDisabledError`; a person's own score
still answers them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ._errors import InvalidQueryError, RankingsDisabledError
from ._leaderboards import (
    AroundPage,
    BoardPage,
    Bucket,
    CompiledBoard,
    Leaderboard,
    LeaderboardEntry,
    RollingBucket,
    Standing,
    around_start,
    percentile_of,
    period_label,
    rank_of,
    ranked_page,
    resolve_period,
    rolling_days,
)
from ._limits import MAX_COUNT, check_count, check_identifier
from ._periods import Window, parse_window

if TYPE_CHECKING:
    from ._clock import Clock
    from .storage.base import Store

__all__ = ["LeaderboardView"]

Period = str | date | None
#: Display names of people for a viewer: ``names(users, viewer) -> {user: name}``.
Namer = Callable[[Sequence[str], str | None], dict[str, str]]


class LeaderboardView:
    """Ask one leaderboard who leads, where someone stands, and who is around them.

    Every query takes ``window`` (one of the board's windows; default: its
    first) and ``period`` (a period label such as ``"2026-W48"``, a date or an
    aware datetime in it; default: the current one by the clock; for a rolling
    window, its last day), and ``viewer``: who the board is shown to (None:
    everyone).  A user with no score gets None and an empty ``around``.
    ``rankings=False`` refuses every query but a person's own ``score``;
    ``names`` (from a DisplayPolicy) fills each entry's ``display``.
    """

    __slots__ = (
        "_current",
        "_default",
        "_dense",
        "_formula",
        "_names",
        "_ordinal",
        "_pages",
        "_rolling",
        "_store",
        "_style",
        "_teams",
        "_windows",
        "clock",
        "definition",
        "id",
        "rankings",
        "timezone",
        "week_starts",
    )

    def __init__(
        self,
        board: CompiledBoard,
        store: Store,
        clock: Clock,
        timezone: ZoneInfo,
        *,
        rankings: bool = True,
        names: Namer | None = None,
    ):
        self.definition: Leaderboard = board.definition
        self.id = board.id
        self.clock = clock
        self.timezone = timezone
        self.week_starts = board.week_starts
        self.rankings = rankings
        self._names = names
        self._teams = board.scope == "teams"
        self._store = store
        self._style = board.definition.ranking
        # Distinct better scores are counted only for dense ranks, and positions inside a
        # tie only for ordinal ranks: the ranks that need them.
        self._dense = self._style == "dense"
        self._ordinal = self._style == "ordinal"
        self._formula = board.formula
        windows = [parse_window(name) for name in board.definition.windows]
        self._windows: dict[str, Window] = {w.name: w for w in windows}
        self._default = windows[0]
        self._current: dict[str, tuple[datetime, datetime, str]] = {}
        self._rolling: dict[tuple[int, str], RollingBucket] = {}
        self._pages: dict[tuple[Bucket, int, int, Hashable], list[LeaderboardEntry]] = {}

    # -- queries ---------------------------------------------------------------------

    def top(
        self,
        n: int = 10,
        offset: int = 0,
        *,
        window: str | None = None,
        period: Period = None,
        viewer: str | None = None,
    ) -> list[LeaderboardEntry]:
        """Return ``n`` entries from position ``offset`` (0 is the leader), best first."""
        if not self.rankings:
            self._refuse("top()")
        if (
            type(n) is not int
            or type(offset) is not int
            or not (0 <= n <= MAX_COUNT and 0 <= offset <= MAX_COUNT)
        ):
            subject = f"leaderboard {self.id!r}"
            check_count("n", n, subject=subject)
            check_count("offset", offset, subject=subject)
        if window is None and period is None and self._default.kind == "all":
            bucket: Bucket = "all"
        else:
            bucket = self._bucket(window, period)
        if viewer is not None:
            shown = self._hidden_viewer(bucket, viewer)
            return self._named(self._page(bucket, offset, offset + n, shown), viewer)
        # The public pages near the top are asked for far more often than they change.
        token = self._store.board_version(self.id, bucket, offset + n)
        if token is None:
            return self._named(self._page(bucket, offset, offset + n, None), None)
        # Keyed by the token too: threads sharing this view on a SQLite file each have a
        # token of their own (their own reading connection's), and each keeps its pages.
        # An entry is never changed once stored, so threads may share the dict without a
        # lock; a page read after its token was taken is never older than the token says.
        key = (bucket, offset, n, token)
        cached = self._pages.get(key)
        if cached is not None:
            return self._named(list(cached), None)
        entries = self._page(bucket, offset, offset + n, None)
        if len(self._pages) >= 256:
            self._pages.clear()  # tokens that no longer hold are dropped with the rest
        self._pages[key] = entries
        return self._named(list(entries), None)

    def rank(
        self,
        user: str,
        *,
        window: str | None = None,
        period: Period = None,
        viewer: str | None = None,
    ) -> int | None:
        """Return ``user``'s rank under the board's ranking style, or None if unranked."""
        if not self.rankings:
            self._refuse("rank()")
        standing = self._view(self._bucket(window, period), user, viewer)[0]
        return None if standing is None else rank_of(self._style, standing)

    def score(
        self,
        user: str,
        *,
        window: str | None = None,
        period: Period = None,
        viewer: str | None = None,
    ) -> float | None:
        """Return ``user``'s score, or None if they have none (0 is a score).

        Under ``rankings=False`` a person's own score (``viewer=user``) still answers.
        """
        if not self.rankings and viewer != user:
            self._refuse("score() of someone else than the viewer")
        standing = self._view(self._bucket(window, period), user, viewer)[0]
        return None if standing is None else standing.row.score

    def entry(
        self,
        user: str,
        *,
        window: str | None = None,
        period: Period = None,
        viewer: str | None = None,
    ) -> LeaderboardEntry | None:
        """Return ``user``'s entry (score and rank), or None if unranked."""
        if not self.rankings:
            self._refuse("entry()")
        standing = self._view(self._bucket(window, period), user, viewer)[0]
        if standing is None:
            return None
        row = standing.row
        assert row.score is not None
        entry = LeaderboardEntry(row.subject, row.score, rank_of(self._style, standing))
        return self._named([entry], viewer)[0]

    def percentile(
        self,
        user: str,
        *,
        window: str | None = None,
        period: Period = None,
        viewer: str | None = None,
    ) -> float | None:
        """Return the share of the others that ``user`` beats, 0 to 100, or None if unranked.

        That is 100 x (the others with a strictly worse score) / (size - 1), and
        100.0 on a one-person board, so tied people share one percentile.
        """
        if not self.rankings:
            self._refuse("percentile()")
        standing = self._view(self._bucket(window, period), user, viewer)[0]
        return None if standing is None else percentile_of(standing.worse, standing.size)

    def around(
        self,
        user: str,
        n: int = 5,
        *,
        window: str | None = None,
        period: Period = None,
        viewer: str | None = None,
    ) -> list[LeaderboardEntry]:
        """Return min(n, size) consecutive entries around ``user``; empty if unranked.

        The entries start at ``user``'s 0-based position minus n // 2 (so an odd
        n centres them), shifted back inside the board at the top and bottom.
        """
        if not self.rankings:
            self._refuse("around()")
        check_count("n", n, subject=f"leaderboard {self.id!r}")
        bucket = self._bucket(window, period)
        _user("user", user, self.id)
        if viewer is not None and viewer != user:
            shown = self._hidden_viewer(bucket, viewer)
            if shown is not None:
                # The board shown to a viewer who opted out has their row put back in.
                standing = self._view(bucket, user, viewer, position=True, shown=shown)[0]
                if standing is None:
                    return []
                start, count = around_start(standing.before, n, standing.size)
                return self._named(self._page(bucket, start, start + count, shown), viewer)
        if not n:
            return []
        # The rows of the entries when the user is not near an end of the board.
        lead = n // 2
        trail = n - 1 - lead
        near = self._around(bucket, user, lead, trail)
        if near is None or (near.hidden and viewer != user):
            return []
        before, after = near.at, len(near.rows) - near.at - 1
        # Fewer rows than asked for on one side: the board ends there, and the entries
        # take more rows from the other side.
        if before < lead and after == trail:
            near = self._around(bucket, user, lead, n - 1 - before)
        elif after < trail and before == lead:
            near = self._around(bucket, user, n - 1 - after, trail)
        if near is None:
            return []
        rows = near.rows
        # Over these rows the window falls as over the whole board: where fewer rows than
        # asked for came before (or after) the user's, the board ends there.
        start, count = around_start(near.at, n, len(rows))
        first = near.start
        if first is None:
            # Every row has the same score: competition and dense ranks need no position.
            first = near.better
        entries = ranked_page(
            self._style, first, near.better, near.distinct_better, rows[: start + count]
        )
        return self._named(entries[start:], viewer)

    def _around(self, bucket: Bucket, user: str, before: int, after: int) -> AroundPage | None:
        return self._store.board_around(
            self.id, bucket, user, before, after, dense=self._dense, position=self._ordinal
        )

    def size(
        self, *, window: str | None = None, period: Period = None, viewer: str | None = None
    ) -> int:
        """Return the number of ranked entries shown to ``viewer``."""
        if not self.rankings:
            self._refuse("size()")
        bucket = self._bucket(window, period)
        size = self._store.board_size(self.id, bucket)
        return size + (self._hidden_viewer(bucket, viewer) is not None)

    def period(self, window: str | None = None, period: Period = None) -> str:
        """Return the period label a query with these arguments reads (default: the current)."""
        bucket = self._bucket(window, period)
        return bucket.days[0] if isinstance(bucket, RollingBucket) else bucket

    # -- standings in a viewer's board ---------------------------------------------------

    def _refuse(self, what: str) -> None:
        raise RankingsDisabledError(f"leaderboard {self.id!r}: {what}")

    def _named(self, entries: list[LeaderboardEntry], viewer: str | None) -> list[LeaderboardEntry]:
        """Return ``entries`` with the names the display policy gives them for ``viewer``."""
        if self._names is None or not entries:
            return entries
        if self._teams:
            return [e._replace(display=e.user) for e in entries]
        names = self._names([e.user for e in entries], viewer)
        return [e._replace(display=names[e.user]) for e in entries]

    def _hidden_viewer(self, bucket: Bucket, viewer: str | None) -> Standing | None:
        """Return ``viewer``'s standing if hidden and ranked (they see themselves in it)."""
        if viewer is None:
            return None
        _user("viewer", viewer, self.id)
        if not self._store.board_hidden(self.id, viewer):
            return None
        standing = self._store.board_standing(self.id, bucket, viewer)
        return standing if standing is not None and standing.hidden else None

    def _view(
        self,
        bucket: Bucket,
        user: str,
        viewer: str | None,
        *,
        position: bool | None = None,
        shown: Standing | None = None,
    ) -> tuple[Standing | None, Standing | None]:
        """Return ``user``'s standing on the board shown to ``viewer``, and the hidden viewer's.

        The second item is the standing (among the listed rows) of a viewer who
        opted out, whose row the board shown to them puts back in; else None.
        ``position`` asks for the standing's ``before`` (default: for ordinal
        ranks only); ``shown``, when given, is that hidden viewer's standing.
        """
        _user("user", user, self.id)
        standing = self._store.board_standing(
            self.id,
            bucket,
            user,
            dense=self._dense,
            position=self._ordinal if position is None else position,
        )
        if viewer == user:
            if standing is not None and standing.hidden:
                # The board shown to this person has them in it.
                return standing._replace(size=standing.size + 1), standing
            return standing, None
        if shown is None:
            shown = self._hidden_viewer(bucket, viewer)
        if standing is None or standing.hidden:
            return None, shown
        return (standing if shown is None else _with(standing, shown)), shown

    def _page(
        self, bucket: Bucket, start: int, stop: int, shown: Standing | None
    ) -> list[LeaderboardEntry]:
        if stop <= start:
            return []
        store = self._store
        board = self.id
        if shown is None:
            page = store.board_page(board, bucket, start, stop, dense=self._dense, sized=False)
            rows, better, distinct = page.rows, page.better, page.distinct_better
        else:
            # The listed rows with the (hidden) viewer's row put back at its position.
            at = shown.before
            if stop <= at or start > at:
                shift = start > at
                page = store.board_page(board, bucket, start - shift, stop - shift)
                rows = page.rows
                better, distinct = _first_with(page, shown)
            else:
                left = store.board_page(board, bucket, start, at)
                right = store.board_page(board, bucket, at, stop - 1)
                rows = [*left.rows, shown.row, *right.rows]
                if left.rows:
                    better, distinct = _first_with(left, shown)
                else:
                    better, distinct = shown.better, shown.distinct_better
        return ranked_page(self._style, start, better, distinct, rows)

    # -- windows and periods -------------------------------------------------------------

    def _bucket(self, window: str | None, period: Period) -> Bucket:
        if window is None:
            w = self._default
        else:
            found = self._windows.get(window) if isinstance(window, str) else None
            if found is None:
                raise InvalidQueryError(
                    "window",
                    f"the board has no window {window!r}; its windows are "
                    f"{', '.join(self._windows)}",
                    subject=f"leaderboard {self.id!r}",
                )
            w = found
        if w.kind == "all" and period is None:
            return "all"
        if period is None:
            label = self._current_label(w)
        else:
            label = resolve_period(
                w,
                period,
                today=None,
                tz=self.timezone,
                week_starts=self.week_starts,
                subject=f"leaderboard {self.id!r}",
            )
        if w.kind != "rolling":
            return label
        key = (w.days, label)
        bucket = self._rolling.get(key)
        if bucket is None:
            if len(self._rolling) > 64:
                self._rolling.clear()
            bucket = self._rolling[key] = RollingBucket(rolling_days(w, label), self._formula)
        return bucket

    def _current_label(self, window: Window) -> str:
        """Return the label of the period holding the clock's now (the last day, if rolling)."""
        now = self.clock.now()
        cached = self._current.get(window.name)
        if cached is not None and cached[0] <= now < cached[1]:
            return cached[2]
        tz = self.timezone
        local = now.astimezone(tz).date()
        if window.kind == "rolling":
            label = local.isoformat()
        else:
            label = period_label(window, local, self.week_starts)
        # Valid until the next local midnight; a midnight that falls in a DST gap maps to
        # the instant the day really starts, one that repeats to its first occurrence.
        start = datetime.combine(local, time(0), tzinfo=tz)
        end = datetime.combine(local + timedelta(days=1), time(0), tzinfo=tz)
        self._current[window.name] = (start, end, label)
        return label

    def __repr__(self) -> str:
        return f"LeaderboardView({self.id!r})"


def _with(standing: Standing, shown: Standing) -> Standing:
    """Return ``standing`` with the hidden viewer's row ``shown`` counted among the others."""
    row, viewer = standing.row, shown.row
    sort, vsort = row.sort_key, viewer.sort_key
    assert sort is not None
    assert vsort is not None
    first = (vsort, viewer.reached, viewer.subject) < (sort, row.reached, row.subject)
    better = vsort < sort
    return Standing(
        row=row,
        size=standing.size + 1,
        before=standing.before + first,
        better=standing.better + better,
        equal=standing.equal + (vsort == sort),
        worse=standing.worse + (vsort > sort),
        # The viewer adds a distinct better score only if nobody listed has it.
        distinct_better=standing.distinct_better + (better and shown.equal == 0),
        hidden=standing.hidden,
    )


def _first_with(page: BoardPage, shown: Standing) -> tuple[int, int]:
    """Return better and distinct_better of a page's first row, counting the hidden viewer."""
    if not page.rows:
        return 0, 0
    sort, vsort = page.rows[0].sort_key, shown.row.sort_key
    assert sort is not None
    assert vsort is not None
    better = vsort < sort
    return page.better + better, page.distinct_better + (better and shown.equal == 0)


def _user(field: str, value: str, board: str) -> None:
    try:
        check_identifier(value)
    except ValueError as exc:
        raise InvalidQueryError(field, str(exc), subject=f"leaderboard {board!r}") from None
