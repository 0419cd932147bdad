"""Rewards: the facade an app talks to."""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from ._adoption import (
    AdoptionReport,
    build_report,
    check_contributing,
    check_contributing_kinds,
    check_seats,
    newcomers,
)
from ._badges import GRANT_KIND, RESERVED_KINDS, REVOKE_KIND, Badge
from ._board_view import LeaderboardView
from ._callouts import callout_boards, check_callout_kinds
from ._clock import Clock, SystemClock, checked_now
from ._delivery import (
    DeliveryFailure,
    DeliveryPolicy,
    DeliveryReport,
    Outbox,
)
from ._engine import EffectBatch, Engine
from ._erasure import (
    ERASED_ERROR,
    erased_activity,
    new_pseudonym,
    notification_about,
    outcome_ids,
)
from ._errors import (
    ConfigurationError,
    ConflictingActivityError,
    InvalidActivityError,
    InvalidQueryError,
    RankingsDisabledError,
    UnknownLeaderboardError,
)
from ._leaderboards import Leaderboard, LeaderboardEntry, period_label
from ._levels import Level
from ._limits import check_count, check_kind
from ._models import (
    Activity,
    ActivityKind,
    Award,
    AwardRecord,
    LedgerEntry,
    Outcome,
    Story,
    check_identifier,
    differing_fields,
    trusted_copy,
)
from ._notifications import outcome_notification_id
from ._people import DisplayPolicy, People, teams_at
from ._periods import CALENDAR_WINDOWS, parse_window, resolve_timezone
from ._plugins import Plugins
from ._profile import Profile
from ._retry import retry_transient
from ._rules import SEP, PointRule
from ._state import StateView
from ._stories import StoryOptions
from .storage import Store, StoreTransaction, _open_store
from .storage._tenant import check_tenant

__all__ = ["Rewards"]

ActivityInput = Activity | Mapping[str, Any]


def _listed(value: Any, field: str, example: str) -> tuple[Any, ...]:
    """Return the ``field`` option of Rewards as a tuple, refusing what is not a list.

    A lone string would be read as its characters, a mapping as its keys and a single
    definition (a pydantic model iterates over its fields) as pairs: each is refused
    with ConfigurationError naming ``field``, as ``None`` or a number are.
    """
    if isinstance(value, str | bytes | Mapping | BaseModel) or not isinstance(value, Iterable):
        raise ConfigurationError(
            field,
            f"must be a list of {example}, not {type(value).__name__}",
            subject="Rewards",
        )
    return tuple(value)


def _declared_kinds(kinds: Any) -> tuple[ActivityKind | str, ...] | None:
    """Return the ``kinds`` option checked: None, or a list of kind names and ActivityKinds."""
    if kinds is None:
        return None
    listed = _listed(kinds, "kinds", "activity kinds (such as ['post.created'])")
    for kind in listed:
        if isinstance(kind, ActivityKind):
            continue
        if not isinstance(kind, str):
            raise ConfigurationError(
                "kinds",
                f"expected a kind name or an ActivityKind, got {type(kind).__name__}",
                subject="Rewards",
            )
        try:
            check_kind(kind)
        except ValueError as exc:
            raise ConfigurationError("kinds", str(exc), subject="Rewards") from None
    return listed


logger = logging.getLogger("e2badges.plugins")


class Rewards:
    """Turn recorded activities into points, badges and levels.

    ``store`` is a Store or a URL (``"memory://"`` by default).  ``badges`` and
    ``levels`` define the badges and the level ladder; they are checked together
    with the rules when the instance is built.  ``kinds`` declares the activity
    kinds that may be recorded, to which the kinds plugins declare are added;
    when omitted, the kinds the rules, badge criteria and leaderboards listen to
    and those plugins declare are the declared ones.  With ``accept_any_kind=True`` any
    kind may be recorded.  ``clock`` supplies ``now()`` for activities recorded
    without ``at``, and says when a batch is recorded (an activity whose period is
    over by then tells no leader story); calendar windows use the IANA ``timezone``:
    its name (``"Europe/Berlin"``) or a ``ZoneInfo`` that has one (taken by its
    key); a ``ZoneInfo`` read from a file (no key) and other ``tzinfo`` objects (a
    fixed offset has no calendar of its own) are refused.

    ``plugins`` are plugin objects (see :doc:`plugins`); with
    ``load_entrypoints`` (the default) the plugins installed under the
    ``e2badges`` entry-point group are loaded too.  ``delivery`` says how
    notifications reach the plugins (a :class:`DeliveryPolicy`).
    ``leaderboards`` defines the boards to keep (see :meth:`leaderboard`);
    ``callouts`` adds ready-made ones by name, counting the kinds
    ``callout_kinds`` gives per role (see :doc:`adoption`).  ``stories`` says
    which stories beyond badges, streaks and levels go to the feed
    (:meth:`feed`).  ``seats`` (the people who could use the tool) and
    ``team_seats`` (per team) are what :meth:`adoption` measures against;
    ``contributing`` lists the kinds that count as contributing (all kinds
    when None).

    Privacy (see :doc:`privacy`): ``rankings=False`` turns every ranking of
    people off (where local law or a works agreement requires it) and keeps
    points, badges, levels and personal progress; ``display`` (a
    :class:`DisplayPolicy`) names people to others by full name, initials or
    a pseudonym.  :attr:`people` is the people directory: display names, team
    memberships over time, groups and privacy settings.

    ``tenant`` names the tenant whose data this instance records and reads when
    several apps or organisations share one storage (see :doc:`tenants`): the
    instance works on ``store.for_tenant(tenant)``, so every query answers from
    that tenant's data only (a store e2badges creates from a URL is created for
    that tenant).  Without it, the store's own tenant is used.
    """

    def __init__(
        self,
        store: Store | str = "memory://",
        *,
        rules: Sequence[PointRule] = (),
        badges: Sequence[Badge] = (),
        levels: Sequence[Level] = (),
        kinds: Iterable[ActivityKind | str] | None = None,
        accept_any_kind: bool = False,
        clock: Clock | None = None,
        timezone: str | ZoneInfo = "UTC",
        plugins: Sequence[object] = (),
        load_entrypoints: bool = True,
        delivery: DeliveryPolicy | None = None,
        leaderboards: Sequence[Leaderboard] = (),
        stories: StoryOptions | None = None,
        callouts: Sequence[str] = (),
        callout_kinds: Mapping[str, str] | None = None,
        seats: int | None = None,
        team_seats: Mapping[str, int] | None = None,
        contributing: Iterable[str] | None = None,
        rankings: bool = True,
        display: DisplayPolicy | None = None,
        tenant: str | None = None,
    ) -> None:
        if tenant is not None:
            check_tenant(tenant, subject="Rewards")
        if clock is not None and not isinstance(clock, Clock):
            raise ConfigurationError("clock", "must have a now() method", subject="Rewards")
        if not isinstance(rankings, bool):
            raise ConfigurationError("rankings", "must be True or False", subject="Rewards")
        if not isinstance(accept_any_kind, bool):
            raise ConfigurationError("accept_any_kind", "must be True or False", subject="Rewards")
        self.seats, self.team_seats = check_seats(seats, team_seats)
        self.contributing = check_contributing(contributing)
        if display is not None and not isinstance(display, DisplayPolicy):
            raise ConfigurationError("display", "must be a DisplayPolicy", subject="Rewards")
        self.rankings = rankings
        self.display = display
        if not rankings and stories is not None and stories.leaders:
            # Telling who leads is a ranking: no leader stories without rankings.
            stories = stories.model_copy(update={"leaders": ()})
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.timezone = resolve_timezone(timezone)
        if delivery is not None and not isinstance(delivery, DeliveryPolicy):
            raise ConfigurationError("delivery", "must be a DeliveryPolicy", subject="Rewards")
        self.delivery = delivery if delivery is not None else DeliveryPolicy()
        rules = _listed(rules, "rules", "PointRules")
        badges = _listed(badges, "badges", "Badges")
        levels = _listed(levels, "levels", "Levels")
        leaderboards = _listed(leaderboards, "leaderboards", "Leaderboards")
        kinds = _declared_kinds(kinds)
        self.plugins = Plugins(plugins, load_entrypoints=load_entrypoints)
        all_rules, app_kinds, plugin_kinds = self.plugins.contribute(
            rules=rules, kinds=kinds, accept_any_kind=accept_any_kind
        )
        boards = callout_boards(callouts, callout_kinds)
        if app_kinds is not None and not accept_any_kind and callout_kinds:
            # Named here, before the call-outs' boards are checked as boards.
            declared = {k.name if isinstance(k, ActivityKind) else k for k in app_kinds}
            check_callout_kinds(callout_kinds, declared | {k.name for k in plugin_kinds})
        self.engine = Engine(
            rules=all_rules,
            kinds=app_kinds,
            accept_any_kind=accept_any_kind,
            timezone=self.timezone,
            plugin_kinds=plugin_kinds,
            badges=badges,
            levels=levels,
            leaderboards=(*leaderboards, *boards),
            stories=stories,
            criteria=self.plugins.criteria,
            metrics=self.plugins.metrics,
        )
        if self.engine.checks_kinds and self.contributing:
            check_contributing_kinds(self.contributing, self.engine.kinds)
        # The store this instance created (and closes), if any; self.store may be a
        # view of it bound to another tenant, which owns nothing.
        self._owned: Store | None = None
        if not isinstance(store, Store):
            store = self._owned = _open_store(store, tenant)
        if tenant is not None and tenant != store.tenant:
            try:
                store = store.for_tenant(tenant)
            except BaseException:
                self.close()
                raise
        self.store: Store = store
        # Decided once here, so that recording pays nothing for hooks nobody implements.
        self._checker = self.plugins if self.plugins.checking else None
        self._outbox: Outbox | None = None
        self.delivery_errors: deque[DeliveryFailure] = deque()
        self._errors_lock = threading.Lock()  # the outbox's, when there is one
        notify_hooks = self.plugins.notify_hooks()
        if notify_hooks:
            if not self.store.keeps_outbox:
                self.close()
                raise ConfigurationError(
                    "plugins",
                    f"{', '.join(notify_hooks)} need a store that keeps an outbox; "
                    f"{type(self.store).__name__} does not",
                    subject="Rewards",
                )
            self._outbox = Outbox(self.plugins, self.store, self.clock, self.delivery)
            self.delivery_errors = self._outbox.errors
            self._errors_lock = self._outbox.errors_lock
        names = self._display_names if display is not None else None
        self._boards = {
            board_id: LeaderboardView(
                board, self.store, self.clock, self.timezone, rankings=rankings, names=names
            )
            for board_id, board in self.engine.leaderboards.boards.items()
        }
        #: The people directory: display names, memberships, groups, privacy settings.
        self.people = People(
            self.store,
            self.clock,
            {
                board_id: frozenset(board.definition.exclude_groups)
                for board_id, board in self.engine.leaderboards.boards.items()
            },
            display,
        )

    # -- recording -------------------------------------------------------------------

    def record(self, activity: ActivityInput, **options: Any) -> Outcome:
        """Record one activity and return its outcome.

        Recording an id again changes nothing and returns the first outcome;
        recording an id again with different content raises
        ConflictingActivityError.  All effects are stored, or none.  ``options``
        go to the store's transaction (the SQL store takes ``connection=``).
        An activity recorded without ``teams`` gets the teams its actor belonged
        to at its ``at``, from ``people`` (none if they have no memberships).
        """
        return self.record_many((activity,), **options)[0]

    def record_many(self, activities: Iterable[ActivityInput], **options: Any) -> list[Outcome]:
        """Record a batch in one transaction and return the outcomes in input order.

        Every activity is validated before anything is written; one invalid
        activity (or a conflicting id, or an activity a plugin refuses with
        ActivityRefusedError) stores none of the batch.  Plugins' notifications
        are written with the batch and delivered after the commit; a notifier's
        failure is reported in ``delivery_errors``, never raised here.
        """
        if isinstance(activities, Activity | Mapping | str | bytes) or not isinstance(
            activities, Iterable
        ):
            raise InvalidActivityError(
                "activities",
                f"expected a list of activities, got {type(activities).__name__} "
                "(record() takes one activity)",
            )
        engine = self.engine
        outbox = self._outbox
        given: list[Activity] = []
        for item in activities:
            activity = Activity.coerce(item)
            engine.validate(activity)
            given.append(activity)
        if not given:
            return []
        # When the batch is recorded: the time of activities without one, and what tells
        # the engine whether an activity's period is over (a late activity).
        now = checked_now(self.clock)
        filled: list[Activity] = []
        for activity in given:
            if activity.at is not None:
                filled.append(activity)
                continue
            filled.append(trusted_copy(activity, at=now))

        def attempt() -> tuple[list[Outcome], bool, dict[str, dict[str, Any]] | None]:
            # Hook arguments kept for delivery right after the commit (none to keep without it).
            arguments: dict[str, dict[str, Any]] | None = (
                {} if outbox is not None and outbox.policy.inline else None
            )
            return (*self._record_batch(given, filled, options, arguments, now), arguments)

        outcomes, commits, arguments = retry_transient(attempt, self.store.max_attempts)
        if arguments and outbox is not None and commits:
            self._deliver_after_commit(outbox, list(arguments), arguments)
        return outcomes

    def _record_batch(
        self,
        given: list[Activity],
        filled: list[Activity],
        options: Mapping[str, Any],
        arguments: dict[str, dict[str, Any]] | None,
        now: datetime,
    ) -> tuple[list[Outcome], bool]:
        """Record a batch in one transaction at ``now``; return its outcomes and if it committed."""
        engine = self.engine
        checker = self._checker
        outbox = self._outbox
        outcomes: list[Outcome] = []
        with self.store.transaction(**options) as tx:
            filled = self._with_teams(filled, tx)
            earlier = tx.claim(filled)
            new = [a for a in filled if a.id not in earlier]
            keys = None
            if tx.wants_keys and new:
                keys = {key for a in new for key in engine.keys(a)}
            view = tx.view(keys)
            batch = EffectBatch()
            this_batch: dict[str, tuple[Activity, Outcome]] = {}
            for raw, filled_activity in zip(given, filled, strict=True):
                activity = filled_activity
                seen = earlier.get(activity.id) or this_batch.get(activity.id)
                if seen is not None:
                    differing = differing_fields(seen[0], raw)
                    if differing and erased_activity(seen[0]):
                        # Its person was erased: the id stays recorded, nothing comes back.
                        differing = []
                    if differing:
                        # A check hook may have replaced what was submitted.
                        differing = differing_fields(Plugins.submitted(seen[0], view), raw)
                    if differing:
                        raise ConflictingActivityError(activity.id, differing)
                    outcomes.append(seen[1])
                    continue
                if checker is not None:
                    checked = checker.check(activity, view)
                    if checked is not activity:
                        engine.validate(checked)
                        activity = checked
                outcome = engine.evaluate(activity, view, batch.boards, now=now)
                this_batch[activity.id] = (activity, outcome)
                batch.recorded.append((activity, outcome))
                batch.local.append(engine.local_labels(activity))
                outcomes.append(outcome)
                if outbox is not None:
                    outbox.collect(activity, outcome, batch.notifications, arguments)
            batch.state = view.writes
            tx.apply(batch)
        return outcomes, tx.commits

    @staticmethod
    def _with_teams(activities: list[Activity], tx: StoreTransaction) -> list[Activity]:
        """Give activities without teams their actor's teams at their ``at``."""
        actors = {a.actor for a in activities if not a.teams and a.kind not in RESERVED_KINDS}
        if not actors:
            return activities
        found = tx.memberships(actors)
        if not found:
            return activities
        out: list[Activity] = []
        for activity in activities:
            spans = None if activity.teams else found.get(activity.actor)
            teams: tuple[str, ...] = ()
            if spans and activity.kind not in RESERVED_KINDS:
                assert activity.at is not None
                teams = teams_at(spans, activity.at)
            out.append(trusted_copy(activity, teams=teams) if teams else activity)
        return out

    # -- badges ----------------------------------------------------------------------

    def grant(
        self,
        user: str,
        badge: str,
        *,
        by: str,
        reason: str,
        tier: str | None = None,
        id: str | None = None,  # the activity's own field name
        at: datetime | None = None,
        **options: Any,
    ) -> Outcome:
        """Grant ``badge`` (its ``tier`` if tiered) to ``user``, by ``by``, for ``reason``.

        The grant is recorded as an activity of kind ``e2badges.badge.granted``
        (actor ``by``, recipient ``user``), so it is atomic, in the activity log,
        and idempotent when given an ``id``.  Granting an award the person holds
        changes nothing; granting one a person revoked awards it again.
        """
        attributes: dict[str, Any] = {"badge": badge, "reason": reason}
        if tier is not None:
            attributes["tier"] = tier
        return self.record(
            _manual_activity(GRANT_KIND, user, by, attributes, activity_id=id, at=at), **options
        )

    def revoke(
        self,
        user: str,
        badge: str,
        *,
        by: str,
        reason: str,
        tier: str | None = None,
        period: str | None = None,
        id: str | None = None,  # the activity's own field name
        at: datetime | None = None,
        **options: Any,
    ) -> Outcome:
        """Revoke ``user``'s awards of ``badge``, by ``by``, for ``reason``.

        Every held award of the badge is revoked, or only those of ``tier`` and/or
        ``period`` when given (a label of the badge's ``repeat`` window, such as
        ``2026-W10``; refused on a badge that does not repeat).  Revoked awards stay
        in the history, marked revoked, and are not awarded again automatically
        (only by a new grant);
        all-of and any-of badges that no longer hold are revoked with them.
        Recorded as an activity of kind ``e2badges.badge.revoked``; revoking
        what the person does not hold changes nothing.
        """
        attributes: dict[str, Any] = {"badge": badge, "reason": reason}
        if tier is not None:
            attributes["tier"] = tier
        if period is not None:
            attributes["period"] = period
        return self.record(
            _manual_activity(REVOKE_KIND, user, by, attributes, activity_id=id, at=at), **options
        )

    def awards(self, user: str) -> list[AwardRecord]:
        """Return every award ``user`` received, in award order, revoked ones included."""
        return self.store.awards(_user_id(user))

    def badges(self, user: str) -> list[Award]:
        """Return the awards ``user`` holds (not revoked), in award order."""
        awards = self.store.awards(_user_id(user))
        return [record.award for record in awards if record.revocation is None]

    def level(self, user: str) -> int:
        """Return ``user``'s level number (0: no level reached, or no levels defined)."""
        user = _user_id(user)
        awarding = self.engine.awarding
        view = StateView(self.store.read_state(awarding.level_keys(user)))
        return awarding.level(user, view)

    def profile(self, user: str) -> Profile:
        """Return ``user``'s totals, level, badges held and progress toward the others.

        Progress is measured now, by the clock: the current period of repeatable
        badges, the run still alive of streaks, the rolling window ending today.
        """
        user = _user_id(user)
        awarding = self.engine.awarding
        now = self.clock.now()
        view = StateView(self.store.read_state(awarding.profile_keys(user, now)))
        return awarding.profile(user, view, self.store.awards(user), now)

    # -- notifications ---------------------------------------------------------------

    def _deliver_after_commit(
        self,
        outbox: Outbox,
        ids: list[str],
        arguments: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        try:
            outbox.deliver(ids=ids, arguments=arguments)
        except Exception:
            # The rewards are committed; a failing store or notifier must not turn that
            # into an error for the caller.  The notifications stay in the outbox.
            logger.exception("e2badges: delivery after commit failed; left for deliver_pending()")

    def deliver_pending(self, *, limit: int | None = None) -> DeliveryReport:
        """Deliver the notifications that are due and return what happened.

        Due are notifications never delivered (the process stopped between the
        commit and the delivery, or ``DeliveryPolicy(inline=False)``) and failed
        deliveries whose retry time has come.  Each plugin receives a
        notification at most once; a plugin that raises is reported in the
        returned :class:`DeliveryReport`, never raised.  With ``limit``, at most
        that many notifications are handled.  Store errors propagate.
        """
        if limit is not None:
            check_count("limit", limit, least=1, subject="deliver_pending")
        if self._outbox is None:
            return DeliveryReport()
        return self._outbox.deliver(limit=limit)

    # -- queries ---------------------------------------------------------------------

    def balance(self, user: str, currency: str = "points") -> int:
        """Return ``user``'s balance in ``currency`` (0 for someone never credited)."""
        key = self.engine.balance_key(_user_id(user), _user_id(currency, "currency"))
        value: int = self.store.read_state((key,)).get(key, 0)
        return value

    def explain(self, user: str, *, limit: int | None = None) -> list[LedgerEntry]:
        """Return ``user``'s ledger lines in recording order (not by ``at``): activity,
        rule, amount or limit; with ``limit``, the last ``limit`` lines recorded."""
        if limit is not None:
            check_count("limit", limit, subject="explain")
        return self.store.ledger(_user_id(user), limit=limit)

    def activity(self, activity_id: str) -> Activity | None:
        """Return the recorded activity with this id, or None."""
        return self.store.get_activity(_user_id(activity_id, "activity_id"))

    def outcome(self, activity_id: str) -> Outcome | None:
        """Return the outcome stored for an activity id, or None."""
        return self.store.get_outcome(_user_id(activity_id, "activity_id"))

    # -- leaderboards ----------------------------------------------------------------

    def leaderboard(self, board: str) -> LeaderboardView:
        """Return the queries on the leaderboard ``board`` (top, rank, around, ...)."""
        found = self._boards.get(board) if isinstance(board, str) else None
        if found is None:
            _user_id(board, "board")
            raise UnknownLeaderboardError(board, known=list(self._boards))
        return found

    def close_periods(self, *, top: int = 10, **options: Any) -> list[tuple[str, str, str]]:
        """Close the leaderboard periods that just ended and tell plugins their final standings.

        For every leaderboard and every calendar window it keeps (day, week,
        month, quarter, year), the period before the one holding the clock's now
        is closed, once: its first ``top`` entries (as shown to everyone: people
        who opted out are left out) go to the ``e2badges_notify_period_close``
        hook through the outbox, in one transaction with the mark that closes it,
        so a crash loses nothing and a second call sends nothing again.  Call it
        from a scheduled job at least once per shortest window (daily for day
        boards); a period older than the previous one is not closed.  Returns the
        ``(board, window, period)`` closed by this call.  Under
        ``rankings=False`` nothing is closed (no final standings are told) and
        it returns ``[]``.  ``options`` go to the store's transaction, which is
        run again after a TransientStorageError, as ``record()``'s is.
        """
        check_count("top", top, least=1, subject="close_periods")
        if not self.rankings:
            return []  # no final standings to tell without rankings
        local = self.clock.now().astimezone(self.timezone).date()
        candidates: list[tuple[str, str, str, list[dict[str, Any]]]] = []
        for board_id, view in self._boards.items():
            compiled = self.engine.leaderboards.boards[board_id]
            for window_name in compiled.definition.windows:
                window = parse_window(window_name)
                if window.kind not in CALENDAR_WINDOWS:
                    continue
                current = period_label(window, local, compiled.week_starts)
                day = local
                # Step back to the last day of the previous period (at most a year of days).
                while period_label(window, day, compiled.week_starts) == current:
                    day -= timedelta(days=1)
                previous = period_label(window, day, compiled.week_starts)
                standings = [
                    {"rank": e.rank, "user": e.user, "score": e.score}
                    for e in view.top(top, window=window_name, period=previous)
                ]
                candidates.append((board_id, window_name, previous, standings))
        if not candidates:
            return []
        outbox = self._outbox
        # Run again after a deadlock or a lost connection, as a recording batch is: the
        # closed marks are read again, so a period is never closed twice.
        closed, notes, commits = retry_transient(
            lambda: self._close(candidates, options), self.store.max_attempts
        )
        if notes and outbox is not None and commits and outbox.policy.inline:
            self._deliver_after_commit(outbox, notes)
        return closed

    def _close(
        self,
        candidates: list[tuple[str, str, str, list[dict[str, Any]]]],
        options: Mapping[str, Any],
    ) -> tuple[list[tuple[str, str, str]], list[str], bool]:
        """Close the candidate periods not closed yet, in one transaction; return those
        closed, the ids of their notifications and whether the transaction committed."""
        closed: list[tuple[str, str, str]] = []
        outbox = self._outbox
        with self.store.transaction(**options) as tx:
            keys = [_closed_key(b, w, p) for b, w, p, _ in candidates]
            state = tx.view(keys if tx.wants_keys else None)
            batch = EffectBatch()
            for (board_id, window_name, period, standings), key in zip(
                candidates, keys, strict=True
            ):
                if state.get(key, None) is not None:
                    continue
                state.set(key, 1)
                closed.append((board_id, window_name, period))
                note = None
                if outbox is not None:
                    note = outbox.notification(
                        "e2badges_notify_period_close",
                        f"period:{board_id}:{window_name}:{period}",
                        {"board": board_id, "period": period, "standings": standings},
                    )
                if note is not None:
                    batch.notifications.append(note)
            batch.state = state.writes
            tx.apply(batch)
        return closed, [n.id for n in batch.notifications], tx.commits

    def set_leaderboard_opt_out(self, user: str, opted_out: bool = True) -> None:
        """Leave ``user`` out of every leaderboard shown to others (or, with False, back in).

        Their scores keep being kept; ``rank(user, viewer=user)`` still answers them.
        """
        if not isinstance(opted_out, bool):
            raise InvalidQueryError("opted_out", f"must be True or False; got {opted_out!r}")
        self.store.set_board_opt_out(_user_id(user), opted_out)

    def leaderboard_opt_out(self, user: str) -> bool:
        """Return whether ``user`` opted out of leaderboards."""
        return self.store.board_opt_out(_user_id(user))

    # -- stories and adoption ---------------------------------------------------------

    def feed(
        self,
        *,
        scope: str = "everyone",
        since: datetime | None = None,
        limit: int = 20,
        viewer: str | None = None,
        before: str | None = None,
    ) -> list[Story]:
        """Return up to ``limit`` stories, newest first.

        ``scope`` is ``"everyone"`` or ``"team:<team>"`` (the stories of one
        team); ``since`` (aware) keeps stories at or after it; ``before`` (the
        ``id`` of the last story of the previous page) returns the next page:
        the stories after that one in this order, each listed once while new
        ones are told (an id the store does not keep raises InvalidQueryError
        naming ``before``).  Stories are
        shown to others: private stories (a secret badge), stories naming a
        person who opted out of the feed, and leader and personal-best stories
        naming a person who opted out of leaderboards (or is excluded from the
        board) are left out, except for a ``viewer`` who is one of the story's
        people.  Without rankings there are no leader stories.  With a display
        policy, each story's ``names`` and ``text`` name its people as the
        policy shows them to ``viewer``.
        """
        team = None
        if scope != "everyone":
            if not isinstance(scope, str) or not scope.startswith("team:"):
                raise InvalidQueryError(
                    "scope", f"use 'everyone' or 'team:<team>', got {scope!r}", subject="feed"
                )
            team = _user_id(scope[len("team:") :], "scope", subject="feed")
        if since is not None and (not isinstance(since, datetime) or since.utcoffset() is None):
            raise InvalidQueryError("since", "must be a timezone-aware datetime", subject="feed")
        check_count("limit", limit, least=1, subject="feed")
        if viewer is not None:
            viewer = _user_id(viewer, "viewer", subject="feed")
        # Passed only when given: a store written before ``before`` still serves the first page.
        paging: dict[str, str] = (
            {} if before is None else {"before": _user_id(before, "before", subject="feed")}
        )
        stories = self.store.feed(
            team=team, since=since, limit=limit, viewer=viewer, rankings=self.rankings, **paging
        )
        if self.display is None:
            return stories
        return self._told(stories, viewer)

    def _display_names(self, users: Sequence[str], viewer: str | None) -> dict[str, str]:
        """Return how ``users`` are named to ``viewer`` under the display policy."""
        policy = self.display
        assert policy is not None
        people = self.store.get_people(set(users))
        return {u: policy.name(u, people.get(u), viewer=viewer) for u in users}

    def _told(self, stories: list[Story], viewer: str | None) -> list[Story]:
        """Return stories with ``names`` and a ``text`` that use the display names."""
        users = {person for story in stories for person in story.people}
        if not users:
            return stories
        names = self._display_names(sorted(users), viewer)
        out: list[Story] = []
        for story in stories:
            if not story.people:
                out.append(story)
                continue
            shown = tuple(names[p] for p in story.people)
            first = story.people[0]
            text = story.text
            # Stories start with the person they are about ("ann earned ...").
            if text.startswith(f"{first} "):
                text = shown[0] + text[len(first) :]
            out.append(dataclasses.replace(story, names=shown, text=text))
        return out

    def adoption(
        self,
        *,
        window: str = "month",
        period: str | date | datetime | None = None,
        team: str | None = None,
        heavy: int = 10,
        kept_weeks: int = 4,
    ) -> AdoptionReport:
        """Return the adoption figures of one period (the current one by default).

        ``window`` is ``"day"``, ``"week"``, ``"month"``, ``"quarter"``,
        ``"year"``, a rolling ``"<N>d"`` or ``"all"``; ``period`` a label,
        date or aware datetime in it.  With ``team``, only activities naming
        that team count, measured against ``team_seats[team]``; "kept going"
        follows only the people active in the team in the period.  ``heavy`` is
        the number of contributions in the period that makes a heavy
        contributor; ``kept_weeks`` how many weeks after their first badge
        people are looked at again.  See :class:`AdoptionReport`.
        """
        if team is not None:
            team = _user_id(team, "team")
        check_count("heavy", heavy, least=1, subject="adoption")
        check_count("kept_weeks", kept_weeks, least=1, subject="adoption")
        seats = self.seats if team is None else self.team_seats.get(team)
        return build_report(
            self.store,
            window=window,
            period=period,
            team=team,
            now=self.clock.now(),
            tz=self.timezone,
            seats=seats,
            contributing=self.contributing,
            heavy=heavy,
            kept_weeks=kept_weeks,
        )

    def newcomers(
        self,
        *,
        week: str | date | datetime | None = None,
        team: str | None = None,
        limit: int = 10,
    ) -> list[LeaderboardEntry]:
        """Return the people first active in ISO ``week`` (this week by default), most active first.

        The call-out "newcomers this week": scores are the week's activities;
        ranks are competition ranks; people who opted out of leaderboards are
        left out.  Raises RankingsDisabledError under ``rankings=False``.
        """
        if not self.rankings:
            raise RankingsDisabledError("newcomers()")
        if team is not None:
            team = _user_id(team, "team")
        check_count("limit", limit, least=1, subject="newcomers")
        entries = newcomers(
            self.store, week=week, team=team, limit=limit, now=self.clock.now(), tz=self.timezone
        )
        if self.display is None or not entries:
            return entries
        names = self._display_names([e.user for e in entries], None)
        return [e._replace(display=names[e.user]) for e in entries]

    # -- people: export and erasure -----------------------------------------------------

    def export_person(self, user: str) -> dict[str, Any]:
        """Return everything held about ``user``, as a JSON-serialisable dict.

        ``json.dumps(rewards.export_person(user))`` is the answer to a person's
        request for their data: their record and privacy settings, board
        exclusions, the activities they did or received, their ledger,
        balances, level, awards, profile progress, current standings on every
        board (scores, and ranks when rankings are on), the stories naming them
        and the notifications not yet delivered about them or their activities
        (an activity's ``e2badges_notify_outcome`` notification included).
        Times are ISO 8601.
        """
        user = _user_id(user)
        store = self.store
        person = self.people.get(user)
        profile = self.profile(user)
        activities = store.person_activities(user)
        # An activity's outcome notification names only the activity: ask for it by id.
        notifications = (
            store.notifications_about(user, ids=[outcome_notification_id(a.id) for a in activities])
            if store.keeps_outbox
            else []
        )
        exported: dict[str, Any] = _jsonable(
            {
                "format": "e2badges.person/1",
                "user": user,
                "exported_at": self.clock.now(),
                "person": {
                    "display_name": person.display_name,
                    "groups": person.groups,
                    "memberships": person.memberships,
                    "settings": person.settings,
                    "board_exclusions": sorted(store.board_exclusions(user)),
                },
                "activities": activities,
                "ledger": store.ledger(user),
                "balances": profile.balances,
                "level": profile.level,
                "awards": store.awards(user),
                "progress": profile.progress,
                "leaderboards": self._standings(user),
                "stories": store.person_stories(user),
                "notifications": [e.notification for e in notifications],
            }
        )
        return exported

    def _standings(self, user: str) -> list[dict[str, Any]]:
        """Return ``user``'s score (and rank) in the current period of every board window."""
        out: list[dict[str, Any]] = []
        for board_id, view in self._boards.items():
            if view.definition.scope.type == "teams":
                continue
            for window in view.definition.windows:
                score = view.score(user, window=window, viewer=user)
                if score is None:
                    continue
                entry: dict[str, Any] = {
                    "board": board_id,
                    "window": window,
                    "period": view.period(window),
                    "score": score,
                }
                if self.rankings:
                    entry["rank"] = view.rank(user, window=window, viewer=user)
                out.append(entry)
        return out

    def erase_person(self, user: str) -> None:
        """Forget ``user``: remove or irreversibly pseudonymise everything that names them.

        In one store transaction: their person record, settings and
        memberships are deleted; every place that holds their id (activities
        they did or received, ledger, balances and other state, awards, board
        rows, the adoption rollup, notifications) gets a random pseudonym that
        nothing derives from the id; their activities lose their content: the
        ``object`` becomes a stand-in, and of the ``attributes`` only a grant's or
        revocation's badge, tier and period stay (its reason becomes
        ``(erased)``), or the numbers, booleans and nulls of the fields the kind's
        payload declares, so that the log still replays; stories naming them are
        deleted; their board rows are no longer listed.  Organisation-wide figures (activity
        and adoption counts, milestone counters, team scores) are unchanged.
        The activity ids stay recorded: recording one again changes nothing.
        See :doc:`privacy`.
        """
        user = _user_id(user)
        # Not retried here: the store retries its own transaction (as for People.set), so
        # that the attempts are not multiplied.
        pseudonym = new_pseudonym()
        errors = self.delivery_errors
        # Held until the kept failures are rewritten, so that a delivery failing meanwhile
        # in another thread is either among them or checked after the erasure committed
        # (see Outbox.errors_lock); and no thread appends while they are read.
        with self._errors_lock:
            theirs = self._notifications_about(user, {f.notification_id for f in errors})
            fields = self._payload_fields
            if fields:
                self.store.erase_person(user, pseudonym, payload_fields=fields)
            else:  # as before payload_fields existed, for a store written then
                self.store.erase_person(user, pseudonym)
            # The failures kept in memory of the notifications about them lose their text
            # as the store's copies did (see Store.erase_person); others' stay as they were.
            for i, failure in enumerate(errors):
                if failure.notification_id in theirs:
                    errors[i] = dataclasses.replace(failure, error=ERASED_ERROR)

    @functools.cached_property
    def _payload_fields(self) -> dict[str, frozenset[str]]:
        """Return, per kind with a payload model, the attribute names it declares (field
        names and their aliases): of an erased person's activities, erasure keeps the
        numbers, booleans and nulls of these (see ``e2badges._erasure.erased_attributes``)."""
        out: dict[str, frozenset[str]] = {}
        for kind in self.engine.kinds.values():
            if kind.payload is None:
                continue
            names: set[str] = set()
            for name, info in kind.payload.model_fields.items():
                names.add(name)
                names.update(a for a in (info.alias, info.validation_alias) if isinstance(a, str))
            out[kind.name] = frozenset(names)
        return out

    def _notifications_about(self, user: str, ids: Collection[str]) -> set[str]:
        """Return those of the notifications ``ids`` that are about ``user``, as erasure
        finds them (see ``e2badges._erasure.notification_about``)."""
        if not ids:
            return set()
        store = self.store
        outcomes = outcome_ids(a.id for a in store.person_activities(user))
        theirs: set[str] = set()
        for notification_id in ids:
            entry = store.get_notification(notification_id)
            if entry is not None and notification_about(entry.notification, user, outcomes):
                theirs.add(notification_id)
        return theirs

    # -- lifecycle -------------------------------------------------------------------

    @property
    def tenant(self) -> str:
        """Return the tenant whose data this instance records and reads."""
        return self.store.tenant

    def close(self) -> None:
        """Close the store if this instance created it from a URL."""
        if self._owned is not None:
            self._owned.close()

    def __enter__(self) -> Rewards:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Rewards(store={self.store!r}, rules={len(self.engine.rules)}, "
            f"timezone={self.timezone.key!r})"
        )


def _manual_activity(
    kind: str,
    user: str,
    by: str,
    attributes: dict[str, Any],
    *,
    activity_id: str | None,
    at: datetime | None,
) -> Activity:
    data: dict[str, Any] = {
        "actor": by,
        "kind": kind,
        "recipient": user,
        "attributes": attributes,
        "at": at,
    }
    if activity_id is not None:
        data["id"] = activity_id
    return Activity(**data)


def _jsonable(value: Any) -> Any:
    """Return ``value`` as JSON-safe data: dataclasses and models as objects, times as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    return str(value)


def _closed_key(board: str, window: str, period: str) -> str:
    """Return the state key marking a leaderboard period closed."""
    return f"closed{SEP}{board}{SEP}{window}{SEP}{period}"


def _user_id(value: str, field: str = "user", *, subject: str | None = None) -> str:
    """Return an identifier a query names, or raise InvalidQueryError naming ``field``
    (and ``subject``, the query, as the query's other arguments' errors do)."""
    try:
        return check_identifier(value)
    except ValueError as exc:
        raise InvalidQueryError(field, str(exc), subject=subject) from None
