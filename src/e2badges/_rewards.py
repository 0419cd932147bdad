"""Rewards: the facade an app talks to."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._clock import Clock, SystemClock
from ._delivery import DeliveryFailure, DeliveryPolicy, DeliveryReport, Outbox
from ._engine import EffectBatch, Engine
from ._errors import ConfigurationError, ConflictingActivityError
from ._models import Activity, ActivityKind, LedgerEntry, Outcome, differing_fields
from ._periods import resolve_timezone
from ._plugins import Plugins
from ._rules import PointRule
from .storage import Store, store_from_url

__all__ = ["Rewards"]

ActivityInput = Activity | Mapping[str, Any]

logger = logging.getLogger("e2badges.plugins")


class Rewards:
    """Turn recorded activities into points (and, as rules grow, badges and boards).

    ``store`` is a Store or a URL (``"memory://"`` by default).  ``kinds``
    declares the activity kinds that may be recorded; when omitted, the kinds the
    rules listen to are the declared ones.  With ``accept_any_kind=True`` any
    kind may be recorded.  ``clock`` supplies ``now()`` for activities recorded
    without ``at``; calendar windows use the IANA ``timezone``.

    ``plugins`` are plugin objects (see :doc:`plugins`); with
    ``load_entrypoints`` (the default) the plugins installed under the
    ``e2badges`` entry-point group are loaded too.  ``delivery`` says how
    notifications reach the plugins (a :class:`DeliveryPolicy`).
    """

    def __init__(
        self,
        store: Store | str = "memory://",
        *,
        rules: Sequence[PointRule] = (),
        kinds: Iterable[ActivityKind | str] | None = None,
        accept_any_kind: bool = False,
        clock: Clock | None = None,
        timezone: str = "UTC",
        plugins: Sequence[object] = (),
        load_entrypoints: bool = True,
        delivery: DeliveryPolicy | None = None,
    ) -> None:
        if clock is not None and not isinstance(clock, Clock):
            raise ConfigurationError("clock", "must have a now() method", subject="Rewards")
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.timezone = resolve_timezone(timezone)
        if delivery is not None and not isinstance(delivery, DeliveryPolicy):
            raise ConfigurationError("delivery", "must be a DeliveryPolicy", subject="Rewards")
        self.delivery = delivery if delivery is not None else DeliveryPolicy()
        self.plugins = Plugins(plugins, load_entrypoints=load_entrypoints)
        all_rules, all_kinds = self.plugins.contribute(
            rules=tuple(rules), kinds=kinds, accept_any_kind=accept_any_kind
        )
        self.engine = Engine(
            rules=all_rules,
            kinds=all_kinds,
            accept_any_kind=accept_any_kind,
            timezone=self.timezone,
        )
        if isinstance(store, Store):
            self.store = store
            self._owns_store = False
        else:
            self.store = store_from_url(store)
            self._owns_store = True
        # Decided once here, so that recording pays nothing for hooks nobody implements.
        self._checker = self.plugins if self.plugins.checking else None
        self._outbox: Outbox | None = None
        self.delivery_errors: deque[DeliveryFailure] = deque()
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

    # -- recording -------------------------------------------------------------------

    def record(self, activity: ActivityInput, **options: Any) -> Outcome:
        """Record one activity and return its outcome.

        Recording an id again changes nothing and returns the first outcome;
        recording an id again with different content raises
        ConflictingActivityError.  All effects are stored, or none.  ``options``
        go to the store's transaction (the SQL store takes ``connection=``).
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
        engine = self.engine
        checker = self._checker
        outbox = self._outbox
        # Hook arguments kept for delivery right after the commit (none to keep without it).
        arguments: dict[str, dict[str, Any]] | None = (
            {} if outbox is not None and outbox.policy.inline else None
        )
        given: list[Activity] = []
        for item in activities:
            activity = Activity.coerce(item)
            engine.validate(activity)
            given.append(activity)
        if not given:
            return []
        now = None
        filled: list[Activity] = []
        for activity in given:
            if activity.at is not None:
                filled.append(activity)
                continue
            if now is None:
                now = self.clock.now()
            filled.append(activity.model_copy(update={"at": now}))

        outcomes: list[Outcome] = []
        with self.store.transaction(**options) as tx:
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
                outcome = engine.evaluate(activity, view)
                this_batch[activity.id] = (activity, outcome)
                batch.recorded.append((activity, outcome))
                outcomes.append(outcome)
                if outbox is not None:
                    outbox.collect(activity, outcome, batch.notifications, arguments)
            batch.state = view.writes
            tx.apply(batch)
        if arguments and outbox is not None and tx.commits:
            self._deliver_after_commit(outbox, arguments)
        return outcomes

    # -- notifications ---------------------------------------------------------------

    def _deliver_after_commit(self, outbox: Outbox, arguments: dict[str, dict[str, Any]]) -> None:
        try:
            outbox.deliver(ids=list(arguments), arguments=arguments)
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
        if limit is not None and limit < 1:
            raise ConfigurationError("limit", "must be at least 1", subject="deliver_pending")
        if self._outbox is None:
            return DeliveryReport()
        return self._outbox.deliver(limit=limit)

    # -- queries ---------------------------------------------------------------------

    def balance(self, user: str, currency: str = "points") -> int:
        """Return ``user``'s balance in ``currency`` (0 for someone never credited)."""
        key = self.engine.balance_key(user, currency)
        value: int = self.store.read_state((key,)).get(key, 0)
        return value

    def explain(self, user: str, *, limit: int | None = None) -> list[LedgerEntry]:
        """Return ``user``'s ledger lines, oldest first: activity, rule, amount or limit."""
        if limit is not None and limit < 0:
            raise ConfigurationError("limit", "must not be negative", subject="explain")
        return self.store.ledger(user, limit=limit)

    def activity(self, activity_id: str) -> Activity | None:
        """Return the recorded activity with this id, or None."""
        return self.store.get_activity(activity_id)

    def outcome(self, activity_id: str) -> Outcome | None:
        """Return the outcome stored for an activity id, or None."""
        return self.store.get_outcome(activity_id)

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Close the store if this instance created it from a URL."""
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Rewards:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Rewards(store={self.store!r}, rules={len(self.engine.rules)}, "
            f"timezone={self.timezone.key!r})"
        )
