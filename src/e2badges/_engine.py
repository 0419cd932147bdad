"""The pure rules engine: an activity and the state it reads in, effects out.

The engine knows no storage.  For each activity it reads state through a
:class:`~e2badges._state.StateView`, writes its changes into the view's
overlay, and returns the activity's :class:`Outcome`.  Every store gets the same
behaviour by persisting the overlay and the outcomes (an :class:`EffectBatch`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from ._awarding import BadgeEngine
from ._badges import RESERVED_KINDS, Badge
from ._contributions import resolve_badges, resolve_boards
from ._erasure import erased_activity
from ._errors import ConfigurationError, InvalidActivityError, UnknownKindError
from ._leaderboards import BoardRow, Boards, Leaderboard
from ._levels import Level
from ._models import Activity, ActivityKind, LedgerEntry, Outcome
from ._notifications import Notification
from ._periods import period_key
from ._rules import CompiledRule, PointRule, RuleContext, balance_key
from ._state import StateView
from ._stories import StoryOptions, StoryTeller

__all__ = ["EffectBatch", "Engine"]


@dataclass(slots=True)
class EffectBatch:
    """Everything one transaction must store, all or nothing.

    ``recorded`` lists each newly recorded activity (with ``at`` filled) and its
    outcome, in recording order; the outcome's ledger lines are the ledger.
    ``state`` maps every state key the batch wrote to its final value.
    ``notifications`` go to the outbox, to be delivered to plugins after commit.
    ``boards`` maps ``(board, period, subject)`` to the final :class:`BoardRow`
    of every leaderboard entry the batch changed (absolute values, see the
    Store contract).  ``local`` holds, for each recorded activity in order, the
    labels of its local day, ISO week and month (``2026-11-25``, ``2026-W48``,
    ``2026-11``) in the Rewards time zone, for the stores' adoption figures
    (a batch built by hand may leave it empty: the UTC labels are used).
    """

    recorded: list[tuple[Activity, Outcome]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    boards: dict[tuple[str, str, str], BoardRow] = field(default_factory=dict)
    local: list[tuple[str, str, str]] = field(default_factory=list)


class Engine:
    """Compiled rules, dispatched by activity kind."""

    def __init__(
        self,
        *,
        rules: Sequence[PointRule],
        kinds: Iterable[ActivityKind | str] | None,
        accept_any_kind: bool,
        timezone: ZoneInfo,
        plugin_kinds: Iterable[ActivityKind] = (),
        badges: Sequence[Badge] = (),
        levels: Sequence[Level] = (),
        leaderboards: Sequence[Leaderboard] = (),
        criteria: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        stories: StoryOptions | None = None,
    ) -> None:
        self.timezone = timezone
        self.accept_any_kind = accept_any_kind
        # Plugins' criterion kinds and metrics take the place of the names that use them.
        badges = resolve_badges(badges, criteria or {})
        leaderboards = resolve_boards(leaderboards, metrics or {})
        self.rules: dict[str, PointRule] = {}
        for rule in rules:
            if not isinstance(rule, PointRule):
                raise ConfigurationError(
                    "rules", f"expected PointRule, got {type(rule).__name__}", subject="Rewards"
                )
            if rule.id in self.rules:
                raise ConfigurationError(
                    "id", "two rules share this id", subject=f"rule {rule.id!r}"
                )
            self.rules[rule.id] = rule
        _check_shared_caps(self.rules.values())
        self.leaderboards = Boards(leaderboards, self.rules.values())
        self.kinds: dict[str, ActivityKind] = {}
        if kinds is None:
            # Nothing declared: what the plugins declare, and every kind the rules,
            # boards and (below) badges listen to.
            for plugin_kind in plugin_kinds:
                self.kinds.setdefault(plugin_kind.name, plugin_kind)
            for kind_name in [
                *(rule.kind for rule in self.rules.values()),
                *self.leaderboards.kinds(),
            ]:
                self.kinds.setdefault(kind_name, ActivityKind(name=kind_name))
        else:
            for kind in (*kinds, *plugin_kinds):
                declared = kind if isinstance(kind, ActivityKind) else ActivityKind(name=kind)
                if declared.name in self.kinds:
                    raise ConfigurationError(
                        "kinds", f"kind {declared.name!r} is declared twice", subject="Rewards"
                    )
                self.kinds[declared.name] = declared
            if not accept_any_kind:
                for rule in self.rules.values():
                    if rule.kind not in self.kinds and rule.kind not in RESERVED_KINDS:
                        raise ConfigurationError(
                            "kind",
                            f"listens to undeclared activity kind {rule.kind!r}",
                            subject=f"rule {rule.id!r}",
                        )
                self.leaderboards.check_kinds(self.kinds)
                for kind in () if stories is None else stories.milestones:
                    # A milestone may count grants and revocations, as a rule may.
                    if kind not in self.kinds and kind not in RESERVED_KINDS:
                        raise ConfigurationError(
                            "milestones",
                            f"counts undeclared activity kind {kind!r}",
                            subject="StoryOptions",
                        )
        # Whether the kinds were declared: then an option naming a kind must name one.
        self.checks_kinds = kinds is not None and not accept_any_kind
        self._by_kind: dict[str, list[CompiledRule]] = {}
        for rule in self.rules.values():
            self._by_kind.setdefault(rule.kind, []).append(CompiledRule(rule))
        # Badges and levels: evaluated after the point rules, for the kinds they listen to.
        self.awarding = BadgeEngine(
            tuple(badges), tuple(levels), rules=self.rules.values(), timezone=timezone
        )
        if kinds is None:
            for kind in sorted(self.awarding.kinds):
                self.kinds.setdefault(kind, ActivityKind(name=kind))
        elif not accept_any_kind:
            self.awarding.check_kinds(self.kinds)
        self._awarding_kinds = self.awarding.listens
        self.stories = StoryTeller(
            StoryOptions() if stories is None else stories,
            badges=badges,
            levels=levels,
            boards=self.leaderboards.boards,
        )
        self._story_boards = bool(self.stories.boards)

    def validate(self, activity: Activity) -> None:
        """Raise if ``activity`` cannot be recorded under this configuration."""
        if activity.kind in RESERVED_KINDS:
            self.awarding.validate(activity)
            return
        kind = self.kinds.get(activity.kind)
        if kind is None:
            if self.accept_any_kind:
                return
            raise UnknownKindError(activity.kind, known=list(self.kinds))
        if kind.payload is not None:
            try:
                kind.payload.model_validate(activity.attributes)
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                if _only_erased_fields_missing(activity, exc):
                    return
                raise InvalidActivityError(
                    "attributes", f"do not match the payload of kind {kind.name!r}: {exc}"
                ) from None

    def local_labels(self, activity: Activity) -> tuple[str, str, str]:
        """Return the labels of the local day, ISO week and month of ``activity``."""
        assert activity.at is not None
        return _labels(activity.at.astimezone(self.timezone).date())

    def context(self, activity: Activity) -> RuleContext:
        """Return the per-activity context (local date, period labels)."""
        return RuleContext(activity, self.timezone)

    def keys(self, activity: Activity) -> list[str]:
        """Return the state keys evaluating ``activity`` may read, for stores that prefetch."""
        ctx = self.context(activity)
        out: list[str] = []
        rules = self._by_kind.get(activity.kind, ())
        for rule in rules:
            out.extend(rule.keys(ctx))
        if activity.kind in self._awarding_kinds:
            out.extend(self.awarding.keys(ctx))
        out.extend(self.stories.keys(ctx))
        out.extend(self.leaderboards.keys(ctx, {rule.currency for rule in rules}))
        return out

    def evaluate(
        self,
        activity: Activity,
        view: StateView,
        boards: dict[tuple[str, str, str], BoardRow] | None = None,
        *,
        now: datetime | None = None,
    ) -> Outcome:
        """Return the outcome of ``activity``, writing its state changes into ``view``.

        The leaderboard rows the activity changed go into ``boards``
        (``EffectBatch.boards``), keyed by ``(board, period, subject)``.  ``now`` is
        when the activity is recorded (an input: the engine reads no clock); a
        leader story is told only when the activity's period is not over by then.
        Without it, every period counts as current.
        """
        kind = activity.kind
        rules = self._by_kind.get(kind)
        awarding = kind in self._awarding_kinds
        teller = self.stories
        milestone = teller.listens(kind)
        if not rules and not awarding and not milestone and not self.leaderboards.listens(kind):
            return Outcome(activity.id)
        ctx = RuleContext(activity, self.timezone, now)
        ledger: list[LedgerEntry] = []
        if rules:
            for rule in rules:
                if rule.matches(activity):
                    ledger.extend(rule.evaluate(ctx, view))
        sink = {} if boards is None else boards
        if self._story_boards:
            # Stories about boards need the rows of this activity alone.
            rows: dict[tuple[str, str, str], BoardRow] = {}
            self.leaderboards.credit(ctx, ledger, view, rows)
            sink.update(rows)
        else:
            rows = {}
            self.leaderboards.credit(ctx, ledger, view, sink)
        if awarding:
            awards, revocations, changes = self.awarding.evaluate(ctx, view, ledger)
            stories = (
                teller.tell(ctx, view, awards, changes, rows)
                if awards or changes or rows or milestone
                else ()
            )
            return Outcome(activity.id, tuple(ledger), awards, revocations, changes, stories)
        if rows or milestone:
            return Outcome(activity.id, tuple(ledger), stories=teller.tell(ctx, view, (), (), rows))
        return Outcome(activity.id, tuple(ledger))

    @staticmethod
    def balance_key(user: str, currency: str) -> str:
        """Return the state key of a balance."""
        return balance_key(user, currency)


def _only_erased_fields_missing(activity: Activity, exc: ValueError) -> bool:
    """Return whether ``activity`` is an erased person's whose attributes failed its
    payload only for missing fields: those erasure dropped (text, or anything but a
    number, a boolean or null; see ``e2badges._erasure.erased_attributes``), so that a
    log with erased activities can be recorded again.  A field it holds must match."""
    if not isinstance(exc, ValidationError) or not erased_activity(activity):
        return False
    return all(error["type"] == "missing" for error in exc.errors())


@lru_cache(maxsize=1024)
def _labels(local: date) -> tuple[str, str, str]:
    return period_key("day", local), period_key("week", local), period_key("month", local)


def _check_shared_caps(rules: Iterable[PointRule]) -> None:
    shared: dict[str, tuple[str, Any]] = {}
    for rule in rules:
        for cap in rule.caps:
            if cap.name is None:
                continue
            shape = (cap.amount, cap.window, cap.per)
            seen = shared.setdefault(cap.name, (rule.id, shape))
            if seen[1] != shape:
                raise ConfigurationError(
                    "caps",
                    f"shared cap {cap.name!r} differs from its definition in rule {seen[0]!r}",
                    subject=f"rule {rule.id!r}",
                )
