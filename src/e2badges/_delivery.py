"""Reliable delivery of notifications to plugins: the outbox, leases, retries, reports.

Recording writes a :class:`~e2badges.storage.Notification` per event into the
outbox, in the same transaction as the effects.  After the commit the facade
delivers them (unless told not to); whatever was not delivered then, because a
plugin raised or the process died, is delivered by ``deliver_pending()``.
Delivery is recorded per (notification, plugin): a plugin that received a
notification never receives it again from e2badges, whatever happens to the
others.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ConfigDict, ValidationError, field_validator

from ._clock import Clock
from ._erasure import ERASED_ERROR
from ._errors import ConfigurationError
from ._frozen import thaw
from ._limits import MAX_COUNT, check_duration
from ._models import Activity, Award, LevelChange, Outcome, Revocation
from ._notifications import Notification, OutboxEntry, outcome_notification_id
from ._plugins import Plugins
from ._rules import FromPlainData
from .storage.base import Store

__all__ = ["DeliveryFailure", "DeliveryPolicy", "DeliveryReport", "Outbox"]

logger = logging.getLogger("e2badges.plugins")

#: How many failures ``Rewards.delivery_errors`` keeps (the most recent).
KEPT_FAILURES = 100
#: The longest error text kept for a failed delivery (characters); a longer one is cut.
MAX_ERROR_LENGTH = 4_096
_MAX_DELAY = timedelta(days=1)


class DeliveryPolicy(FromPlainData):
    """How notifications are delivered: when, how often retried, how long leased.

    ``inline``: deliver right after each commit (else only ``deliver_pending()``
    delivers); ``True`` or ``False``.  ``attempts``: failed deliveries to one
    plugin before giving up on it; an ``int`` (not ``bool``) from 1 to 2**31 - 1.
    ``backoff``: the wait before the first retry, from when the failed attempt
    ended, doubled after each further failure (at most a day).  ``lease``: how
    long a worker may take to deliver a notification, from when its delivery
    starts, before another worker may take it over.  ``backoff`` and ``lease``
    are ``timedelta`` objects, or ISO 8601 durations such as ``"PT5M"`` (what
    ``model_dump_json`` writes, so a policy loaded from JSON works), not
    numbers; longer than zero and at most a day.  Anything else raises
    :class:`~e2badges.ConfigurationError` naming the option.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    inline: bool = True
    attempts: int = 5
    backoff: timedelta = timedelta(minutes=1)
    lease: timedelta = timedelta(minutes=5)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            field = ".".join(str(p) for p in first["loc"]) or "delivery"
            reason = first["msg"].removeprefix("Value error, ")
            raise ConfigurationError(field, reason, subject="DeliveryPolicy") from None

    # The checks run before pydantic's own conversion, which would take 1 or "yes"
    # for a bool, True, "5" or 5.0 for a count and a number of seconds or an ISO
    # 8601 string for a duration.
    @field_validator("inline", mode="before")
    @classmethod
    def _bool(cls, value: Any) -> Any:
        if not isinstance(value, bool):
            raise ValueError(f"must be True or False, got {value!r}")
        return value

    @field_validator("attempts", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
            raise ValueError(f"must be a whole number from 1 to {MAX_COUNT:,}, got {value!r}")
        return value

    @field_validator("backoff", "lease", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        value = check_duration(value)
        # A day bounds the retry delay anyway; a longer lease would only delay a
        # notification a dead worker left behind (and past about 8,000 years it
        # leaves the dates Python can hold).
        if not timedelta(0) < value <= _MAX_DELAY:
            raise ValueError(f"must be a positive duration of at most a day, got {value}")
        return value

    def retry_delay(self, failures: int) -> timedelta:
        """Return the wait before the next attempt after ``failures`` failures."""
        delay: timedelta = self.backoff * 2 ** min(failures - 1, 20)
        return min(delay, _MAX_DELAY)


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """A notifier raised while a notification was delivered to it.

    ``attempts`` counts the failures so far; ``final`` is true when e2badges
    gave up on delivering this notification to this plugin.
    """

    notification_id: str
    hook: str
    plugin: str
    error: str
    attempts: int
    final: bool


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery run did: deliveries made and failures met."""

    delivered: int = 0
    failures: tuple[DeliveryFailure, ...] = ()

    @property
    def ok(self) -> bool:
        """Return whether no notifier failed."""
        return not self.failures


def error_text(exc: BaseException) -> str:
    """Return the text kept for a notifier's failure: ``"<type name>: <str(exc)>"``.

    The text is what every store can keep, whatever the exception holds: its
    ``repr()`` stands in for a ``str()`` that raises (and a fixed phrase for a
    ``repr()`` that raises too); characters UTF-8 cannot encode (lone
    surrogates, as bytes decoded with ``surrogateescape`` leave) are written as
    backslash escapes (``\\udce9``); and a text longer than
    :data:`MAX_ERROR_LENGTH` characters is cut to that length, ending with "…".
    """
    try:
        name = str(type(exc).__name__)
    except Exception:
        name = "Exception"
    try:
        message = str(exc)
    except Exception:
        try:
            message = repr(exc)
        except Exception:
            message = "(the error's text could not be read)"
    text = f"{name}: {message}".encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > MAX_ERROR_LENGTH:
        text = text[: MAX_ERROR_LENGTH - 1] + "…"
    return text


def _encode(event: Award | Revocation | LevelChange) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(event):
        value = getattr(event, f.name)
        out[f.name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _decode(cls: type[Any], payload: Mapping[str, Any]) -> Any:
    data = dict(payload)
    data["at"] = datetime.fromisoformat(data["at"])
    return cls(**data)


_EVENTS: dict[str, tuple[str, str, type[Any], str]] = {
    # hook -> (id prefix, argument name, event class, Outcome field)
    "e2badges_notify_award": ("award", "award", Award, "awards"),
    "e2badges_notify_revocation": ("revocation", "revocation", Revocation, "revocations"),
    "e2badges_notify_level_change": ("level", "change", LevelChange, "level_changes"),
}
_OUTCOME = "e2badges_notify_outcome"
# Hooks whose arguments are frozen objects (rebuilt from the store or the payload), which
# the plugins may share; the other hooks get the payload's JSON values, copied per call.
_FROZEN_ARGUMENTS = frozenset({_OUTCOME, *_EVENTS})


class Outbox:
    """Write notifications with each batch and deliver them to the plugins, once each."""

    def __init__(
        self, plugins: Plugins, store: Store, clock: Clock, policy: DeliveryPolicy
    ) -> None:
        self.plugins = plugins
        self.store = store
        self.clock = clock
        self.policy = policy
        self.errors: deque[DeliveryFailure] = deque(maxlen=KEPT_FAILURES)
        #: Held while a failure is checked, stored and kept in ``errors``, and by an
        #: erasure (Rewards.erase_person) from reading ``errors`` to rewriting them: so
        #: that a failure is either seen and rewritten by the erasure, or checked after
        #: it committed, and ``errors`` is never read while another thread appends.
        self.errors_lock = threading.Lock()
        self._targets = {hook: plugins.implementers(hook) for hook in plugins.notify_hooks()}
        self._impls = {
            hook: {impl.plugin: impl for impl in plugins.impls(hook)} for hook in self._targets
        }
        self._outcome_targets = self._targets.get(_OUTCOME)
        self._event_targets = [
            (hook, prefix, self._targets[hook])
            for hook, (prefix, _arg, _cls, _field) in _EVENTS.items()
            if hook in self._targets
        ]

    # -- writing ---------------------------------------------------------------------

    def collect(
        self,
        activity: Activity,
        outcome: Outcome,
        into: list[Notification],
        arguments: dict[str, dict[str, Any]] | None,
    ) -> None:
        """Append the notifications of one recorded activity to ``into``.

        ``arguments``, when given, receives each notification's hook arguments,
        so that delivery right after the commit needs no reading back.
        """
        aid = activity.id
        if self._outcome_targets:
            nid = outcome_notification_id(aid)
            into.append(Notification(nid, _OUTCOME, {"activity_id": aid}, self._outcome_targets))
            if arguments is not None:
                arguments[nid] = {"activity": activity, "outcome": outcome, "notification_id": nid}
        for hook, prefix, targets in self._event_targets:
            _prefix, arg, _cls, field = _EVENTS[hook]
            event: Award | Revocation | LevelChange
            for i, event in enumerate(getattr(outcome, field)):
                nid = f"{prefix}:{i}:{aid}"
                into.append(Notification(nid, hook, _encode(event), targets))
                if arguments is not None:
                    arguments[nid] = {arg: event, "notification_id": nid}

    def notification(
        self, hook: str, notification_id: str, payload: Mapping[str, Any]
    ) -> Notification | None:
        """Return a notification of ``hook`` with JSON-safe arguments, or None if unheard.

        For events that are not an activity's outcome (a leaderboard period
        closing): put the result in the batch's ``notifications``.  None when no
        plugin implements ``hook``.
        """
        targets = self._targets.get(hook)
        if not targets:
            return None
        return Notification(notification_id, hook, dict(payload), targets)

    # -- delivering ------------------------------------------------------------------

    def deliver(
        self,
        *,
        ids: Collection[str] | None = None,
        arguments: Mapping[str, Mapping[str, Any]] | None = None,
        limit: int | None = None,
    ) -> DeliveryReport:
        """Deliver due notifications (only ``ids`` when given); return what happened.

        Each notification is claimed just before its delivery, leased for
        ``policy.lease`` from then: a run longer than the lease leaves the
        notifications it has not reached to other workers.  Due means due when
        the run started, so a notification this run released for a retry is not
        claimed again by it.  ``ids`` are delivered in the order given; ``limit``
        bounds the notifications claimed.
        """
        # Instants (UTC): a time in a zone compares and adds by wall clock, fold ignored,
        # which would shift leases and retries by the hour a DST change repeats.
        start = self.clock.now().astimezone(UTC)
        lease = self.policy.lease
        delivered = 0
        failures: list[DeliveryFailure] = []
        done = 0
        given = None if ids is None else iter(dict.fromkeys(ids))
        while limit is None or done < limit:
            wanted = None
            if given is not None:
                nid = next(given, None)
                if nid is None:
                    break
                wanted = (nid,)
            # The claim's ``now`` is the run's start (what is due) and its lease ends
            # ``lease`` after this claim; a clock moving backwards leases from the start.
            now = max(self.clock.now().astimezone(UTC), start)
            entries = self.store.claim_notifications(
                now=start, lease=now - start + lease, ids=wanted, limit=1
            )
            if not entries:
                if given is None:
                    break  # nothing more was due when the run started
                continue  # that id is done, leased by another worker, or not due yet
            entry = entries[0]
            kwargs = None if arguments is None else arguments.get(entry.notification.id)
            delivered += self._deliver_one(entry, now, kwargs, failures)
            done += 1
        return DeliveryReport(delivered, tuple(failures))

    def _erased_meanwhile(self, notification: Notification) -> bool:
        """Return whether the stored notification changed since it was claimed (an
        erasure renamed a person in its payload) or is gone."""
        current = self.store.get_notification(notification.id)
        return current is None or current.notification != notification

    def _deliver_one(
        self,
        entry: OutboxEntry,
        now: datetime,
        given: Mapping[str, Any] | None,
        failures: list[DeliveryFailure],
    ) -> int:
        n = entry.notification
        store = self.store
        max_attempts = self.policy.attempts
        impls = self._impls.get(n.hook, {})
        waiting = [
            name
            for name in n.targets
            if name not in entry.delivered and entry.failures.get(name, 0) < max_attempts
        ]
        kwargs = given
        retry_after: int | None = None  # the fewest failures among plugins still due
        delivered = 0
        absent = False
        for name in waiting:
            impl = impls.get(name)
            if impl is None:
                # Addressed to a plugin this process does not load: leave it for a
                # process that does.
                absent = True
                continue
            try:
                if kwargs is None:
                    kwargs = self._arguments(n)
                # Each call gets its own lists and dicts: a plugin changing them changes
                # neither what the next plugin or a retry is told nor the stored payload.
                impl.call(kwargs if n.hook in _FROZEN_ARGUMENTS else thaw(kwargs))
            except Exception as exc:
                error = error_text(exc)
                with self.errors_lock:  # see errors_lock
                    if self._erased_meanwhile(n):
                        # An erasure committed while the plugin ran on the data from
                        # before it: its error may name the person, and is dropped as the
                        # erasure dropped the others.
                        error = ERASED_ERROR
                    attempts = store.mark_failed(n.id, name, error=error)
                    final = attempts >= max_attempts
                    failure = DeliveryFailure(n.id, n.hook, name, error, attempts, final)
                    self.errors.append(failure)
                logger.error(
                    "e2badges: plugin %r failed on %s %r (attempt %d of %d%s): %s",
                    name,
                    n.hook,
                    n.id,
                    attempts,
                    max_attempts,
                    ", giving up" if final else "",
                    error,
                    exc_info=exc,
                )
                failures.append(failure)
                if not final:
                    retry_after = attempts if retry_after is None else min(retry_after, attempts)
                continue
            store.mark_delivered(n.id, name)
            delivered += 1
        if retry_after is None and not absent:
            store.release_notification(n.id, done=True)
            return delivered
        # Waits count from when this attempt ended, not from the claim: a notifier that
        # took long to fail (a timeout) still waits its backoff.  A clock moving backwards
        # counts from the claim.
        ended = max(self.clock.now().astimezone(UTC), now)
        if retry_after is not None:
            wait = self.policy.retry_delay(retry_after)
        else:
            wait = self.policy.lease  # for a process that loads the absent plugins
        store.release_notification(n.id, done=False, retry_at=ended + wait)
        return delivered

    def _arguments(self, n: Notification) -> dict[str, Any]:
        """Rebuild a notification's hook arguments from its payload (and the store)."""
        if n.hook == _OUTCOME:
            aid = n.payload["activity_id"]
            activity = self.store.get_activity(aid)
            outcome = self.store.get_outcome(aid)
            if activity is None or outcome is None:
                raise LookupError(f"activity {aid!r} is not in the store")
            return {"activity": activity, "outcome": outcome, "notification_id": n.id}
        event = _EVENTS.get(n.hook)
        if event is not None:
            return {event[1]: _decode(event[2], n.payload), "notification_id": n.id}
        # Other hooks (a period closing) carry JSON-safe arguments as they are (each call
        # gets a deep copy of them).
        return {**n.payload, "notification_id": n.id}
