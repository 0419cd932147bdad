"""MemoryStore: the reference implementation of the Store contract.

Everything lives in Python dicts and lists guarded by one lock; a transaction
holds the lock from claim to commit, so concurrent threads record one batch at a
time, and every read that looks at more than one item (several state keys, a
ledger, a board page) takes it too, so that it sees a batch or an erasure whole or
not at all.  Reads of one item (an activity, an opt-out, a settled board version)
take no lock: a lookup in a dict or a set is atomic, and what it returns is
immutable (replaced by a writer, never edited).  Nothing survives the process.

Tenants: each tenant has a MemoryStore of its own, with its own state and lock,
kept in a registry that every tenant's store shares (:meth:`MemoryStore.for_tenant`
looks a tenant up there), so no data of one tenant is reachable from another's.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import threading
from collections import OrderedDict
from collections.abc import (
    Callable,
    Collection,
    Container,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from .._engine import EffectBatch
from .._erasure import (
    erase_activity,
    erase_errors,
    erase_key,
    erase_outcome,
    erase_payload,
    erase_record,
    erase_row,
    erase_value,
    notification_about,
    object_stand_ins,
    outcome_ids,
    partners,
    payload_mentions,
    submitted_keys,
)
from .._errors import ConfigurationError
from .._leaderboards import (
    AroundPage,
    BoardPage,
    BoardRow,
    Bucket,
    RollingBucket,
    Standing,
    merge_rows,
)
from .._limits import check_aware, copy_state_value
from .._models import Activity, Award, AwardRecord, LedgerEntry, Outcome, Revocation, Story
from .._notifications import Notification, OutboxEntry
from .._people import Membership, Person, Visibility
from .._state import StateView
from ._adoption import Rollup, StoryLog, utc_labels
from ._board_index import BoardIndex
from ._tenant import DEFAULT_TENANT, check_tenant
from .base import Store, StoreTransaction

__all__ = ["MemoryStore"]

_ABSENT = object()


class _MemoryTransaction(StoreTransaction):
    __slots__ = ("_pending", "_store")

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._pending: list[EffectBatch] = []

    def claim(self, activities: Sequence[Activity]) -> dict[str, tuple[Activity, Outcome]]:
        recorded = self._store._activities
        out: dict[str, tuple[Activity, Outcome]] = {}
        for activity in activities:
            found = recorded.get(activity.id)
            if found is not None:
                out[activity.id] = found
        return out

    def view(self, keys: Collection[str] | None = None) -> StateView:
        return StateView(self._store._state)

    def memberships(self, users: Collection[str]) -> dict[str, tuple[Membership, ...]]:
        return self._store.memberships(users)

    def apply(self, batch: EffectBatch) -> None:
        # Kept until the transaction commits, so that an exception after apply()
        # still discards everything.
        self._pending.append(batch)

    def commit(self) -> None:
        for batch in self._pending:
            self._write(batch)

    def _write(self, batch: EffectBatch) -> None:
        store = self._store
        recorded = store._activities
        log = store._log
        ledgers = store._ledgers
        awards = store._awards
        rollup = store._rollup
        stories = store._stories
        local = batch.local
        for i, (activity, outcome) in enumerate(batch.recorded):
            recorded[activity.id] = (activity, outcome)
            log.append(activity)
            rollup.add(activity, local[i] if i < len(local) else utc_labels(activity))
            for story in outcome.stories:
                stories.add(story)
            for line in outcome.ledger:
                lines = ledgers.get(line.user)
                if lines is None:
                    ledgers[line.user] = [line]
                else:
                    lines.append(line)
            for award in outcome.awards:
                awards.setdefault(award.user, []).append([award, None])
                # The earliest award, not the first recorded: a late activity (an
                # import of history) may have earned an earlier one.
                epoch = award.at.timestamp()
                first = store._first_awards.get(award.user)
                if first is None or epoch < first:
                    store._first_awards[award.user] = epoch
            for revocation in outcome.revocations:
                for entry in reversed(awards.get(revocation.user, ())):
                    if entry[1] is None and _same_slot(entry[0], revocation):
                        entry[1] = revocation
                        break
                stories.withdraw(revocation)
        store._state.update(batch.state)
        if batch.boards:
            store._apply_boards(batch.boards)
        for notification in batch.notifications:
            store._add_notification(notification)


class _OutboxRecord:
    __slots__ = ("delivered", "done", "due", "errors", "failures", "notification", "seq")

    def __init__(self, notification: Notification, seq: int) -> None:
        self.notification = notification
        self.seq = seq
        self.delivered: set[str] = set()
        self.failures: dict[str, int] = {}
        self.errors: dict[str, str] = {}
        self.done = False
        # None: due at once; otherwise the end of a lease or the time of the next retry.
        self.due: datetime | None = None

    def entry(self) -> OutboxEntry:
        if not (self.delivered or self.failures):
            return OutboxEntry(self.notification, done=self.done)
        return OutboxEntry(
            self.notification,
            frozenset(self.delivered),
            dict(self.failures),
            dict(self.errors),
            self.done,
        )


class _Registry:
    """The tenants of one memory storage: tenant name -> that tenant's store."""

    __slots__ = ("lock", "stores")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stores: dict[str, MemoryStore] = {}


@functools.cache
def _data_names(cls: type[MemoryStore]) -> tuple[str, ...]:
    """Return the names of the data attributes of a ``cls`` store (set by ``_empty``)."""
    probe = object.__new__(cls)
    probe._empty()
    return tuple(vars(probe))


class MemoryStore(Store):
    """Keep everything in process memory; the default store (``memory://``).

    ``tenant`` names the tenant this store serves (``"default"`` when omitted);
    :meth:`for_tenant` returns the store of another tenant of the same memory.
    """

    keeps_outbox = True

    def __init__(self, *, tenant: str = DEFAULT_TENANT) -> None:
        registry = _Registry()
        self._setup(check_tenant(tenant, subject="MemoryStore"), registry)
        registry.stores[self._tenant] = self

    def _setup(self, tenant: str, registry: _Registry) -> None:
        """Give this store an empty state of its own for ``tenant`` in ``registry``."""
        self._tenant = tenant
        self._registry = registry
        self._lock = threading.RLock()
        self._empty()

    def _empty(self) -> None:
        """Give this store empty data: every attribute but the tenant, registry and lock."""
        self._activities: dict[str, tuple[Activity, Outcome]] = {}
        self._log: list[Activity] = []
        self._state: dict[str, Any] = {}
        self._ledgers: dict[str, list[LedgerEntry]] = {}
        # Per person: [award, revocation or None], in award order.
        self._awards: dict[str, list[list[Any]]] = {}
        self._outbox: dict[str, _OutboxRecord] = {}
        self._pending: dict[str, _OutboxRecord] = {}  # insertion order is outbox order
        self._boards: dict[tuple[str, str], BoardIndex] = {}
        # Rolling windows merged from day rows, built when first queried and then kept
        # up to date row by row; the least recently queried are dropped.
        self._rolling: OrderedDict[tuple[str, RollingBucket], tuple[BoardIndex, frozenset[str]]]
        self._rolling = OrderedDict()
        self._opted_out: set[str] = set()
        # Board exclusions, per person and per board.
        self._exclusions: dict[str, frozenset[str]] = {}
        self._excluded: dict[str, set[str]] = {}
        self._people: dict[str, Person] = {}
        self._rollup = Rollup()
        self._stories = StoryLog()
        self._first_awards: dict[str, float] = {}

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MemoryStore:
        """Create a MemoryStore from ``memory://`` (the URL carries no options).

        ``tenant`` is the one option; another raises ConfigurationError naming it.
        """
        unknown = sorted(set(options) - {"tenant"})
        if unknown:
            raise ConfigurationError(
                unknown[0], "is not an option of the memory store", subject="MemoryStore"
            )
        return cls(**options)

    @property
    def tenant(self) -> str:
        """Return the tenant this store serves."""
        return self._tenant

    def for_tenant(self, tenant: str) -> MemoryStore:
        """Return the store of ``tenant`` in the same memory, creating it empty if new.

        The same tenant always gets the same store object (of this store's class,
        sharing its attributes other than the data, and made without calling
        ``__init__``).
        """
        tenant = check_tenant(tenant, subject="MemoryStore.for_tenant")
        registry = self._registry
        with registry.lock:
            found = registry.stores.get(tenant)
            if found is None:
                found = object.__new__(type(self))
                found.__dict__.update(self.__dict__)
                found._setup(tenant, registry)
                registry.stores[tenant] = found
            return found

    def tenants(self) -> list[str]:
        """Return the tenants of this memory that hold anything, sorted."""
        with self._registry.lock:
            stores = list(self._registry.stores.values())
        return sorted(store._tenant for store in stores if store._holds_anything())

    def _holds_anything(self) -> bool:
        """Return whether this tenant holds any data.

        Stories, the adoption rollup and first awards are only ever written with a
        recorded activity (which erasure keeps), so ``_activities`` stands for them.
        """
        with self._lock:
            return bool(
                self._activities
                or self._state
                or self._ledgers
                or self._awards
                or self._outbox
                or self._boards
                or self._opted_out
                or self._exclusions
                or self._people
            )

    def delete_tenant(self) -> None:
        """Delete this tenant's data: its store (the same object for every view of it) is
        emptied in place, keeping its lock, under that lock."""
        with self._lock:
            # The empty data is made aside and swapped in with one dict update, so even
            # the readers that take no lock see each container either old or new.
            empty = object.__new__(type(self))
            empty._empty()
            vars(self).update(vars(empty))

    @contextmanager
    def transaction(self, **options: Any) -> Iterator[StoreTransaction]:
        if options:
            raise TypeError(f"MemoryStore.transaction() takes no options, got {sorted(options)}")
        with self._lock:
            # The transaction writes only on commit, so an exception anywhere in the
            # block leaves the store untouched.
            tx = _MemoryTransaction(self)
            yield tx
            tx.commit()

    def read_state(self, keys: Iterable[str]) -> dict[str, Any]:
        # Under the lock: the keys are read one by one, and a batch (or an erasure) writes
        # several; without it a reader could see part of one.
        out: dict[str, Any] = {}
        with self._lock:
            state = self._state
            for key in keys:
                value = state.get(key, _ABSENT)
                if value is _ABSENT:
                    continue
                # A list or dict is copied, as the SQL stores decode one afresh: a caller
                # changing it in place must not change what is kept.  Counters are not.
                out[key] = value if type(value) is int else copy_state_value(value)
        return out

    def get_activity(self, activity_id: str) -> Activity | None:
        found = self._activities.get(activity_id)
        return None if found is None else found[0]

    def get_outcome(self, activity_id: str) -> Outcome | None:
        found = self._activities.get(activity_id)
        return None if found is None else found[1]

    def ledger(self, user: str, *, limit: int | None = None) -> list[LedgerEntry]:
        with self._lock:
            lines = self._ledgers.get(user, [])
            return list(lines if limit is None else lines[-limit:] if limit > 0 else [])

    def awards(self, user: str) -> list[AwardRecord]:
        with self._lock:
            return [AwardRecord(award, revoked) for award, revoked in self._awards.get(user, ())]

    def iter_activities(self) -> Iterator[Activity]:
        with self._lock:
            log = list(self._log)
        return iter(log)

    def count_activities(self) -> int:
        return len(self._log)

    # -- the outbox ---------------------------------------------------------------

    def _add_notification(self, notification: Notification) -> None:
        if notification.id not in self._outbox:
            record = _OutboxRecord(notification, len(self._outbox))
            self._outbox[notification.id] = self._pending[notification.id] = record

    def _record(self, notification_id: str) -> _OutboxRecord:
        record = self._outbox.get(notification_id)
        if record is None:
            raise LookupError(f"no notification {notification_id!r} in the outbox")
        return record

    def claim_notifications(
        self,
        *,
        now: datetime,
        lease: timedelta,
        ids: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[OutboxEntry]:
        check_aware("now", now, subject="claim_notifications")
        with self._lock:
            if ids is None:
                candidates: Iterable[_OutboxRecord] = self._pending.values()
            else:
                # Look ids up rather than scan: delivery after each record claims a few
                # ids, however many notifications wait for retries.
                pending = self._pending
                found = (pending.get(i) for i in set(ids))
                candidates = sorted((r for r in found if r is not None), key=lambda r: r.seq)
            # Instants: a time in a zone compares and adds by wall clock, fold ignored.
            now = now.astimezone(UTC)
            until = now + lease
            out: list[OutboxEntry] = []
            for record in candidates:
                if limit is not None and len(out) >= limit:
                    break
                if record.due is not None and record.due > now:
                    continue
                record.due = until
                out.append(record.entry())
            return out

    def mark_delivered(self, notification_id: str, plugin: str) -> None:
        with self._lock:
            self._record(notification_id).delivered.add(plugin)

    def mark_failed(self, notification_id: str, plugin: str, *, error: str) -> int:
        with self._lock:
            record = self._record(notification_id)
            failures = record.failures[plugin] = record.failures.get(plugin, 0) + 1
            record.errors[plugin] = error
            return failures

    def release_notification(
        self, notification_id: str, *, done: bool, retry_at: datetime | None = None
    ) -> None:
        if retry_at is not None:
            check_aware("retry_at", retry_at, subject="release_notification")
        with self._lock:
            record = self._record(notification_id)
            if done:
                record.done = True
                record.due = None
                self._pending.pop(notification_id, None)
            elif not record.done:
                record.due = None if retry_at is None else retry_at.astimezone(UTC)

    def get_notification(self, notification_id: str) -> OutboxEntry | None:
        with self._lock:
            record = self._outbox.get(notification_id)
            return None if record is None else record.entry()

    # -- leaderboards ----------------------------------------------------------------

    ROLLING_KEPT = 16

    def _hidden_on(self, board: str) -> Container[str]:
        """Return the people whose rows on ``board`` are not listed."""
        excluded = self._excluded.get(board)
        return _Either(self._opted_out, excluded) if excluded else self._opted_out

    def _apply_boards(self, rows: dict[tuple[str, str, str], BoardRow]) -> None:
        groups: dict[tuple[str, str], list[BoardRow]] = {}
        for (board, period, _subject), row in rows.items():
            group = groups.get((board, period))
            if group is None:
                groups[(board, period)] = [row]
            else:
                group.append(row)
        indexes = self._boards
        for key, group in groups.items():
            index = indexes.get(key)
            if index is None:
                index = indexes[key] = BoardIndex()
            index.put_many(group, self._hidden_on(key[0]))
        for (board, bucket), (index, days) in self._rolling.items():
            touched = {subject for (b, period, subject) in rows if b == board and period in days}
            hidden = self._hidden_on(board)
            for subject in touched:
                index.put(self._merged(board, bucket, subject), hidden)

    def _merged(self, board: str, bucket: RollingBucket, subject: str) -> BoardRow:
        day_rows: list[BoardRow] = []
        for day in bucket.days:
            index = self._boards.get((board, day))
            row = None if index is None else index.rows.get(subject)
            if row is not None:
                day_rows.append(row)
        return merge_rows(subject, day_rows, bucket.formula)

    def _index(self, board: str, bucket: Bucket) -> BoardIndex | None:
        if isinstance(bucket, str):
            return self._boards.get((board, bucket))
        key = (board, bucket)
        found = self._rolling.get(key)
        if found is not None:
            self._rolling.move_to_end(key)
            return found[0]
        subjects: dict[str, list[BoardRow]] = {}
        for day in bucket.days:
            day_index = self._boards.get((board, day))
            if day_index is not None:
                for subject, row in day_index.rows.items():
                    subjects.setdefault(subject, []).append(row)
        index = BoardIndex()
        formula = bucket.formula
        index.rows = {s: merge_rows(s, rows, formula) for s, rows in subjects.items()}
        index.rebuild(self._hidden_on(board))
        self._rolling[key] = (index, frozenset(bucket.days))
        while len(self._rolling) > self.ROLLING_KEPT:
            self._rolling.popitem(last=False)
        return index

    def board_size(self, board: str, bucket: Bucket) -> int:
        with self._lock:
            index = self._index(board, bucket)
            return 0 if index is None else index.size()

    def board_page(
        self,
        board: str,
        bucket: Bucket,
        start: int,
        stop: int,
        *,
        dense: bool = True,
        sized: bool = True,
    ) -> BoardPage:
        with self._lock:
            index = self._index(board, bucket)
            if index is None:
                return BoardPage(start, [], 0)
            return index.page(start, stop, dense)

    def board_version(self, board: str, bucket: Bucket, stop: int) -> Hashable | None:
        if isinstance(bucket, str):
            # Reading a settled token needs no lock; settling one (after a change) does.
            index = self._boards.get((board, bucket))
            if index is None:
                return 0
            token = index.settled(stop)
            if token is not None:
                return token
        with self._lock:
            index = self._index(board, bucket)
            return 0 if index is None else index.version(stop)

    def board_standing(
        self,
        board: str,
        bucket: Bucket,
        subject: str,
        *,
        dense: bool = True,
        position: bool = True,
    ) -> Standing | None:
        with self._lock:
            index = self._index(board, bucket)
            row = None if index is None else index.rows.get(subject)
            if index is None or row is None or row.sort_key is None:
                return None
            return index.standing(row, not index.visible(row, self._hidden_on(board)), dense)

    def _indexes(self) -> list[tuple[str, BoardIndex]]:
        """Return every index (periods and rolling windows kept) with its board."""
        out = [(board, index) for (board, _), index in self._boards.items()]
        out.extend((board, found[0]) for (board, _), found in self._rolling.items())
        return out

    def board_around(
        self,
        board: str,
        bucket: Bucket,
        subject: str,
        before: int,
        after: int,
        *,
        dense: bool = True,
        position: bool = True,
    ) -> AroundPage | None:
        with self._lock:
            index = self._index(board, bucket)
            row = None if index is None else index.rows.get(subject)
            if index is None or row is None or row.sort_key is None:
                return None
            hidden = not index.visible(row, self._hidden_on(board))
            return index.around(row, hidden, before, after, dense)

    def set_board_opt_out(self, user: str, opted_out: bool) -> None:
        with self._lock:
            if opted_out == (user in self._opted_out):
                return
            excluded = self._exclusions.get(user, frozenset())
            if opted_out:
                self._opted_out.add(user)
            else:
                self._opted_out.discard(user)
            for board, index in self._indexes():
                if board in excluded:
                    continue  # hidden there either way
                if opted_out:
                    index.hide(user)
                else:
                    index.show(user)

    def board_opt_out(self, user: str) -> bool:
        return user in self._opted_out

    def set_board_exclusions(self, user: str, boards: Collection[str]) -> None:
        with self._lock:
            new = frozenset(boards)
            old = self._exclusions.get(user, frozenset())
            if new == old:
                return
            for board in old - new:
                self._excluded[board].discard(user)
            for board in new - old:
                self._excluded.setdefault(board, set()).add(user)
            if new:
                self._exclusions[user] = new
            else:
                self._exclusions.pop(user, None)
            if user in self._opted_out:
                return  # hidden everywhere either way
            for board, index in self._indexes():
                if board in new and board not in old:
                    index.hide(user)
                elif board in old and board not in new:
                    index.show(user)

    def board_exclusions(self, user: str) -> frozenset[str]:
        return self._exclusions.get(user, frozenset())

    def board_hidden(self, board: str, user: str) -> bool:
        return user in self._opted_out or board in self._exclusions.get(user, ())

    # -- people ----------------------------------------------------------------------

    def _with_opt_out(self, person: Person) -> Person:
        listed = person.user not in self._opted_out
        if person.settings.leaderboards == listed:
            return person
        return dataclasses.replace(
            person, settings=dataclasses.replace(person.settings, leaderboards=listed)
        )

    def update_person(self, user: str, change: Callable[[Person | None], Person]) -> Person:
        with self._lock:
            new = change(self._people.get(user))
            # Only what the contract stores: settings.leaderboards is the opt-out.
            stored = dataclasses.replace(
                new, settings=dataclasses.replace(new.settings, leaderboards=True)
            )
            self._people[user] = stored
            return self._with_opt_out(stored)

    def update_person_and_exclusions(
        self,
        user: str,
        change: Callable[[Person | None], Person],
        exclusions: Callable[[Person], Collection[str]],
    ) -> Person:
        with self._lock:  # re-entrant: both steps under one hold
            new = change(self._people.get(user))
            boards = frozenset(exclusions(new))  # before anything is stored
            person = self.update_person(user, lambda _old: new)
            self.set_board_exclusions(user, boards)
            return person

    def update_person_and_opt_out(
        self, user: str, change: Callable[[Person | None], Person], opted_out: bool
    ) -> Person:
        with self._lock:  # re-entrant: both steps under one hold
            new = change(self._people.get(user))  # before anything is stored
            self.set_board_opt_out(user, opted_out)
            return self.update_person(user, lambda _old: new)

    def get_people(self, users: Collection[str]) -> dict[str, Person]:
        with self._lock:
            people = self._people
            return {u: self._with_opt_out(people[u]) for u in users if u in people}

    def iter_people(self) -> Iterator[Person]:
        with self._lock:
            return iter([self._with_opt_out(p) for p in self._people.values()])

    def memberships(self, users: Collection[str]) -> dict[str, tuple[Membership, ...]]:
        out: dict[str, tuple[Membership, ...]] = {}
        with self._lock:  # re-entrant: a recording transaction holds it already
            people = self._people
            for user in users:
                person = people.get(user)
                if person is not None and person.memberships:
                    out[user] = person.memberships
        return out

    def _visibility(self, user: str) -> Visibility | None:
        person = self._people.get(user)
        feed_opt_out = person is not None and not person.settings.feed
        excluded = self._exclusions.get(user, frozenset())
        opted_out = user in self._opted_out
        if not (feed_opt_out or excluded or opted_out):
            return None
        return Visibility(opted_out, feed_opt_out, excluded)

    def person_activities(self, user: str) -> list[Activity]:
        with self._lock:
            return [a for a in self._log if user in (a.actor, a.recipient)]

    def person_stories(self, user: str) -> list[Story]:
        with self._lock:
            return self._stories.naming(user)

    def notifications_about(self, user: str, *, ids: Collection[str] = ()) -> list[OutboxEntry]:
        wanted = set(ids)
        with self._lock:
            return [
                record.entry()
                for record in self._outbox.values()
                if not record.done
                and (
                    record.notification.id in wanted
                    or payload_mentions(dict(record.notification.payload), user)
                )
            ]

    def erase_person(
        self,
        user: str,
        pseudonym: str,
        *,
        payload_fields: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        with self._lock:
            # All or nothing, as on the SQL store: the data is copied first and put back
            # if the erasure fails part-way.  Erasure is rare; the copy costs O(data).
            saved = copy.deepcopy({name: vars(self)[name] for name in _data_names(type(self))})
            try:
                self._erase(user, pseudonym, payload_fields or {})
            except BaseException:
                vars(self).update(saved)
                raise

    def _erase(
        self, user: str, pseudonym: str, payload_fields: Mapping[str, Collection[str]]
    ) -> None:
        self._people.pop(user, None)
        self.set_board_exclusions(user, ())
        self._opted_out.discard(user)
        # Activities and outcomes; the log holds the same activities in recording order.
        mine: list[str] = []
        replaced: dict[str, Activity] = {}
        objects = object_stand_ins(
            (activity for activity, _ in self._activities.values()), user, pseudonym
        )
        others = partners((activity for activity, _ in self._activities.values()), user)
        for aid, (activity, outcome) in list(self._activities.items()):
            if user in (activity.actor, activity.recipient):
                mine.append(aid)
            declared = payload_fields.get(activity.kind, ())
            new_activity = erase_activity(activity, user, pseudonym, objects, declared)
            new_outcome = erase_outcome(outcome, user, pseudonym)
            if new_activity is not None or new_outcome is not None:
                kept = activity if new_activity is None else new_activity
                self._activities[aid] = (kept, outcome if new_outcome is None else new_outcome)
                if new_activity is not None:
                    replaced[aid] = new_activity
        if replaced:
            self._log = [replaced.get(a.id, a) for a in self._log]
        if mine or any(user in index.rows for index in self._boards.values()):
            # Their rows stay unlisted, and no call-out names them.  (Someone never
            # recorded leaves nothing to the pseudonym: nothing is written for it.)
            self._opted_out.add(pseudonym)
        # Ledgers and awards.
        lines = self._ledgers.pop(user, None)
        if lines is not None:
            self._ledgers[pseudonym] = [dataclasses.replace(e, user=pseudonym) for e in lines]
        for entries in self._awards.values():
            for entry in entries:
                if entry[1] is not None:
                    entry[1] = erase_record(entry[1], user, pseudonym)
        held = self._awards.pop(user, None)
        if held is not None:
            self._awards[pseudonym] = [
                [erase_record(award, user, pseudonym), revocation] for award, revocation in held
            ]
        if user in self._first_awards:
            self._first_awards[pseudonym] = self._first_awards.pop(user)
        # State: keys and values naming them; what check hooks kept of their activities.
        state = self._state
        for key in submitted_keys(mine):
            state.pop(key, None)
        changed: dict[str, Any] = {}
        for key, value in list(state.items()):
            new_key = erase_key(key, user, pseudonym, objects, others)
            new_value = erase_value(key, value, user, pseudonym)
            if new_key is not key:
                del state[key]
                changed[new_key] = new_value
            elif new_value is not value:
                changed[key] = new_value
        state.update(changed)
        # Board rows: theirs become the (opted-out) pseudonym's; team members renamed.
        for (board, _period), index in self._boards.items():
            touched = user in index.rows or any(
                row.team and user in row.members for row in index.rows.values()
            )
            if touched:
                index.rows = {
                    row.subject: row
                    for row in (erase_row(r, user, pseudonym) for r in index.rows.values())
                }
                index.rebuild(self._hidden_on(board))
        self._rolling.clear()
        self._rollup.rename(user, pseudonym)
        self._stories.erase(user, pseudonym)
        outcomes = outcome_ids(mine)
        for record in self._outbox.values():
            note = record.notification
            if notification_about(note, user, outcomes):
                # Only the errors of their notifications; others' are left as they are.
                record.errors = dict(erase_errors(record.errors))
            payload = erase_payload(dict(note.payload), user, pseudonym)
            if payload != note.payload:
                record.notification = dataclasses.replace(note, payload=payload)

    # -- stories and adoption figures ----------------------------------------------------

    def feed(
        self,
        *,
        team: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
        viewer: str | None = None,
        rankings: bool = True,
        before: str | None = None,
    ) -> list[Story]:
        with self._lock:
            return self._stories.feed(
                team=team,
                since=since,
                limit=limit,
                viewer=viewer,
                privacy=self._visibility,
                rankings=rankings,
                before=before,
            )

    def activity_totals(
        self,
        *,
        by: Sequence[str],
        start: str | None = None,
        stop: str | None = None,
        team: str | None = None,
        kinds: Collection[str] | None = None,
    ) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._rollup.totals(by=by, start=start, stop=stop, team=team, kinds=kinds)

    def first_active(self, *, team: str | None = None) -> dict[str, str]:
        with self._lock:
            return self._rollup.first_active(team)

    def last_activity(
        self, *, stop: str | None = None, team: str | None = None
    ) -> dict[str, float]:
        with self._lock:
            return self._rollup.last_activity(stop, team)

    def cohort_weeks(
        self,
        *,
        start: str | None = None,
        stop: str | None = None,
        until: str,
        team: str | None = None,
    ) -> list[tuple[str, str, int]]:
        with self._lock:
            return self._rollup.cohort_weeks(start, stop, until, team)

    def active_in(self, weeks: Mapping[str, str], *, team: str | None = None) -> set[str]:
        with self._lock:
            return self._rollup.active_in(weeks, team)

    def first_awards(self) -> dict[str, float]:
        with self._lock:
            return dict(self._first_awards)

    def __repr__(self) -> str:
        return f"MemoryStore(tenant={self._tenant!r}, activities={len(self._log)})"


class _Either:
    """A container of the people in either of two sets (opted out, or excluded from a board)."""

    __slots__ = ("_first", "_second")

    def __init__(self, first: Container[str], second: Container[str]) -> None:
        self._first = first
        self._second = second

    def __contains__(self, user: object) -> bool:
        return user in self._first or user in self._second


def _same_slot(award: Award, revocation: Revocation) -> bool:
    return (
        award.badge == revocation.badge
        and award.tier == revocation.tier
        and award.period == revocation.period
        and award.team == revocation.team
    )
