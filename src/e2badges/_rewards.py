"""Rewards: the facade an app talks to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._board_view import LeaderboardView
from ._clock import Clock, SystemClock
from ._engine import EffectBatch, Engine
from ._errors import (
    ConfigurationError,
    ConflictingActivityError,
    InvalidQueryError,
    UnknownLeaderboardError,
)
from ._leaderboards import Leaderboard
from ._models import (
    Activity,
    ActivityKind,
    LedgerEntry,
    Outcome,
    check_identifier,
    differing_fields,
)
from ._periods import resolve_timezone
from ._rules import PointRule
from .storage import Store, store_from_url

__all__ = ["Rewards"]

ActivityInput = Activity | Mapping[str, Any]


class Rewards:
    """Turn recorded activities into points (and, as rules grow, badges and boards).

    ``store`` is a Store or a URL (``"memory://"`` by default).  ``kinds``
    declares the activity kinds that may be recorded; when omitted, the kinds the
    rules listen to are the declared ones.  With ``accept_any_kind=True`` any
    kind may be recorded.  ``clock`` supplies ``now()`` for activities recorded
    without ``at``; calendar windows use the IANA ``timezone``.
    ``leaderboards`` defines the boards to keep (see :meth:`leaderboard`).
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
        leaderboards: Sequence[Leaderboard] = (),
    ) -> None:
        if clock is not None and not isinstance(clock, Clock):
            raise ConfigurationError("clock", "must have a now() method", subject="Rewards")
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.timezone = resolve_timezone(timezone)
        self.engine = Engine(
            rules=tuple(rules),
            kinds=kinds,
            accept_any_kind=accept_any_kind,
            timezone=self.timezone,
            leaderboards=tuple(leaderboards),
        )
        if isinstance(store, Store):
            self.store = store
            self._owns_store = False
        else:
            self.store = store_from_url(store)
            self._owns_store = True
        self._boards = {
            board_id: LeaderboardView(board, self.store, self.clock, self.timezone)
            for board_id, board in self.engine.leaderboards.boards.items()
        }

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
        activity (or a conflicting id) stores none of the batch.
        """
        engine = self.engine
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
            for raw, activity in zip(given, filled, strict=True):
                seen = earlier.get(activity.id) or this_batch.get(activity.id)
                if seen is not None:
                    differing = differing_fields(seen[0], raw)
                    if differing:
                        raise ConflictingActivityError(activity.id, differing)
                    outcomes.append(seen[1])
                    continue
                outcome = engine.evaluate(activity, view, batch.boards)
                this_batch[activity.id] = (activity, outcome)
                batch.recorded.append((activity, outcome))
                outcomes.append(outcome)
            batch.state = view.writes
            tx.apply(batch)
        return outcomes

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

    # -- leaderboards ----------------------------------------------------------------

    def leaderboard(self, board: str) -> LeaderboardView:
        """Return the queries on the leaderboard ``board`` (top, rank, around, ...)."""
        found = self._boards.get(board)
        if found is None:
            raise UnknownLeaderboardError(board, known=list(self._boards))
        return found

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


def _user_id(user: str) -> str:
    if not isinstance(user, str):
        raise InvalidQueryError("user", f"must be a string; got {type(user).__name__}")
    try:
        return check_identifier(user)
    except ValueError as exc:
        raise InvalidQueryError("user", str(exc)) from None
