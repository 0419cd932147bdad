"""The Store contract.  Every sentence here has a conformance test.

A store persists what the engine decides and answers queries; it holds no rule
logic.  Recording goes through a :class:`StoreTransaction`: the facade claims the
batch's activity ids, reads state through a view, asks the engine for effects,
and hands them to :meth:`StoreTransaction.apply`.  Leaving the transaction's
context without an exception commits; an exception discards everything the
transaction did.

Stores that keep an outbox (``keeps_outbox = True``) also store the
notifications of each batch with its effects, and record their delivery to
plugins: see :meth:`Store.claim_notifications`.

Tenants: a store is bound to one tenant (:attr:`Store.tenant`), and several
tenants may share one storage (:meth:`Store.for_tenant`).  Every method reads
and writes its own tenant's data only: each query of one tenant answers
exactly what it would answer if no other tenant had recorded anything.
Activity ids, people, state keys, boards, opt-outs, stories and notification
ids of two tenants are independent: the same activity id may be recorded under
two tenants, each with its own activity and outcome.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, ClassVar

from .._engine import EffectBatch
from .._leaderboards import AroundPage, BoardPage, Bucket, Standing
from .._models import Activity, AwardRecord, LedgerEntry, Outcome, Story
from .._notifications import OutboxEntry
from .._people import Membership, Person
from .._state import StateView
from ._tenant import DEFAULT_TENANT, check_tenant

__all__ = ["Store", "StoreTransaction"]


class StoreTransaction(ABC):
    """One atomic unit of recording.

    ``wants_keys`` tells the facade whether to pass :meth:`view` the state keys
    the batch will read (stores that load state from a database do; the memory
    store reads its live state and does not).  ``commits`` is false when the
    transaction joins a caller's own transaction, which commits (or not) after
    the block: the facade then leaves notifications for ``deliver_pending()``
    instead of delivering them at once.
    """

    wants_keys: bool = False
    commits: bool = True

    @abstractmethod
    def memberships(self, users: Collection[str]) -> dict[str, tuple[Membership, ...]]:
        """Return the stored memberships of those of ``users`` who have any.

        Called before :meth:`claim` (Rewards fills the teams of activities
        recorded without them), on the transaction's own connection.
        """

    @abstractmethod
    def claim(self, activities: Sequence[Activity]) -> dict[str, tuple[Activity, Outcome]]:
        """Claim the ids of ``activities`` and return those already recorded.

        Returns a mapping from each id that was recorded before this transaction
        to the stored activity and its stored outcome.  Ids not in the mapping
        belong to this transaction until it ends: a concurrent transaction that
        claims the same id waits for it, then sees it as recorded (or, if this
        one rolled back, claims it itself).  Claiming records nothing by itself:
        rolled back, the ids are free again.
        """

    @abstractmethod
    def view(self, keys: Collection[str] | None = None) -> StateView:
        """Return a view of the committed state for the engine to read.

        ``keys`` (given when ``wants_keys`` is true) are the keys the batch will
        read; a store may load and lock them up front.  Keys read but not listed
        are loaded on first read.  The view's writes are never stored by the view
        itself: only :meth:`apply` stores them.
        """

    @abstractmethod
    def apply(self, batch: EffectBatch) -> None:
        """Store every effect of ``batch``, to be committed with the transaction.

        After commit, each recorded activity is returned by ``get_activity`` and
        its outcome by ``get_outcome``; its ledger lines are appended to each
        credited person's ledger in recording order; its awards are appended to
        each awarded person's awards in recording order (then outcome order); each
        of its revocations marks the one award of the same user, badge, tier,
        period and team that is not yet revoked (the engine revokes only awards
        held before the outcome, and never awards and revokes the same user,
        badge, tier, period and team in one outcome);
        every key of ``batch.state`` holds its new value; every row of
        ``batch.boards`` (keyed by ``(board, period, subject)``) replaces that
        subject's row on that board in that period, and the leaderboard queries
        of the Store answer from the rows so stored.  A store that keeps an
        outbox stores every notification of ``batch.notifications``, pending and
        in order after those already stored; a notification whose id the outbox
        already holds is left as it was.  Every story of the outcomes is kept
        for :meth:`Store.feed` (a story whose id is already kept is left as it
        was); each revocation also withdraws, from the feed, every kept story of
        kind ``badge`` or ``streak`` that tells of an award of the same slot and
        was kept before it (the story's one person is the revocation's user, and
        its data's ``badge``, ``tier``, ``period`` and ``team`` are the
        revocation's).  Every recorded activity whose kind is not reserved
        (``e2badges.*``) counts toward :meth:`Store.activity_totals` under the
        local labels ``batch.local`` gives it (a day label, and that day's ISO
        week and month labels).
        """


class Store(ABC):
    """Persistent state for one Rewards instance, bound to one tenant.

    Stores are created from a URL by :func:`e2badges.storage.store_from_url`, or
    directly.  ``close()`` releases what the store created and nothing it was
    given; a store is also a context manager that closes on exit.

    ``keeps_outbox`` says whether the store implements the outbox methods
    below; Rewards refuses notification plugins over a store that does not.

    ``max_attempts`` is how many times Rewards runs a recording transaction that
    raised :class:`~e2badges.TransientStorageError` (a deadlock, a serialization
    failure; the store rolled everything back) before letting the error through.

    Every value a store is given passed the input limits (docs/input.md); the
    store keeps it exactly and returns it unchanged: identifiers, kinds and
    strings character for character (no trimming, case folding, normalisation or
    collation that equates two of them), numbers with their type and sign.  A
    value is only ever a parameter of a query or command, never part of its text.
    """

    keeps_outbox: ClassVar[bool] = False
    max_attempts: int = 1

    # -- tenants ---------------------------------------------------------------------

    @property
    def tenant(self) -> str:
        """Return the tenant this store serves: ``"default"`` unless it was given one."""
        return DEFAULT_TENANT

    def for_tenant(self, tenant: str) -> Store:
        """Return a store over the same storage that serves ``tenant``.

        The returned store's ``tenant`` is ``tenant``; what it records is seen by
        every store of the same storage and tenant (this one's other views, and
        stores opened later over the same database), and by no store of another
        tenant.  It shares what this store holds (a connection pool, a
        registry) and creates nothing: its ``close()`` releases nothing, and it
        must not be used after this store is closed.  Raises ConfigurationError,
        naming ``tenant``, for a tenant name that is empty, longer than 64
        characters or holds other characters than ASCII letters, digits, ``_``,
        ``.``, ``:`` and ``-`` (or does not start with a letter or a digit).

        The default serves the store's own tenant only (it returns the store
        itself) and raises NotImplementedError for any other.
        """
        if check_tenant(tenant, subject=f"{type(self).__name__}.for_tenant") == self.tenant:
            return self
        raise NotImplementedError(f"{type(self).__name__} serves one tenant")

    def tenants(self) -> list[str]:
        """Return the tenants that hold anything in this storage, sorted.

        A tenant holds something once it has a recorded activity, a ledger line,
        an award, a state value, a leaderboard row, an opt-out or board
        exclusion, a person record, a story, an adoption figure or an outbox
        notification.  The answer is the same whatever tenant this store serves:
        its own tenant is listed only if it holds something, and a tenant only
        named by :meth:`for_tenant` (never written) is not listed.  Names are
        sorted by code point, as Python sorts strings.

        The default raises NotImplementedError: a store lists its tenants only if
        it implements this.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot list its tenants")

    def delete_tenant(self) -> None:
        """Delete everything this store's tenant holds, in one transaction, committed at once.

        All or nothing: an error deletes nothing.  Every other tenant of the
        storage is left exactly as it was.  Afterwards this tenant answers every
        query as a tenant that never recorded anything, is no longer listed by
        :meth:`tenants`, and can record again (an activity id it recorded before
        is recorded anew, with a new outcome).  Stores of the same tenant (other
        views, other processes) see the deletion too.

        This cannot be undone.  Stop recording into the tenant first: what
        another process records into it while it is being deleted may be left
        behind.

        The default raises NotImplementedError: a store deletes tenants only if
        it implements this.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot delete a tenant")

    @abstractmethod
    def transaction(self, **options: Any) -> AbstractContextManager[StoreTransaction]:
        """Return a context manager around one atomic recording transaction.

        Committed when the block exits normally; rolled back, storing nothing,
        when it raises.  Options are store-specific (the SQL store takes
        ``connection=`` to join a caller's transaction).
        """

    @abstractmethod
    def read_state(self, keys: Iterable[str]) -> dict[str, Any]:
        """Return the committed values of ``keys``; keys with no value are left out."""

    @abstractmethod
    def get_activity(self, activity_id: str) -> Activity | None:
        """Return the recorded activity with this id, or None if there is none."""

    @abstractmethod
    def get_outcome(self, activity_id: str) -> Outcome | None:
        """Return the stored outcome of a recorded activity, or None if there is none."""

    @abstractmethod
    def ledger(self, user: str, *, limit: int | None = None) -> list[LedgerEntry]:
        """Return ``user``'s ledger lines, oldest recorded first.

        With ``limit``, return only the ``limit`` most recent lines (still oldest
        first).  An unknown user has an empty ledger.
        """

    @abstractmethod
    def awards(self, user: str) -> list[AwardRecord]:
        """Return every award made to ``user``, in award order, each with its revocation.

        An award that was revoked is kept, paired with the Revocation that took it
        back; the others have ``revocation=None``.  An unknown user has no awards.
        """

    @abstractmethod
    def iter_activities(self) -> Iterator[Activity]:
        """Yield every recorded activity in recording order (the log, for rebuilds).

        While others record, the log is read as of one moment: it holds every
        activity recorded before the iteration began (at the latest, before its first
        item), and never an activity without one it was evaluated after (one whose
        state it read).  Activities recorded while it runs may follow, in recording
        order.
        """

    def count_activities(self) -> int:
        """Return the number of recorded activities."""
        return sum(1 for _ in self.iter_activities())

    # -- the outbox: notifications waiting for delivery to plugins -------------------

    def claim_notifications(
        self,
        *,
        now: datetime,
        lease: timedelta,
        ids: Collection[str] | None = None,
        limit: int | None = None,
    ) -> list[OutboxEntry]:
        """Lease pending notifications that are due at ``now`` and return them, oldest first.

        A notification is due when it is not done and not leased, or its lease
        (or retry time) is at or before ``now``.  Each returned notification is
        leased until ``now + lease``: another claim before then does not return
        it, so two workers never deliver it at the same time.  With ``ids``,
        only notifications with those ids are considered (unknown ids are left
        out); with ``limit``, the ``limit`` oldest due are returned (with
        ``ids`` too: the oldest due among those ids, however many).  Each entry
        carries the delivery record so far.  A ``now`` that is not a
        timezone-aware datetime raises InvalidQueryError naming ``now``
        (``e2badges._limits.check_aware``), before anything is leased.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no outbox")

    def mark_delivered(self, notification_id: str, plugin: str) -> None:
        """Record that ``plugin`` received the notification, committed at once.

        Marking twice is harmless.  Raises LookupError for an id not in the outbox.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no outbox")

    def mark_failed(self, notification_id: str, plugin: str, *, error: str) -> int:
        """Record a failed delivery to ``plugin`` with its error; return the failures so far.

        Committed at once.  Raises LookupError for an id not in the outbox.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no outbox")

    def release_notification(
        self, notification_id: str, *, done: bool, retry_at: datetime | None = None
    ) -> None:
        """End a claim: mark the notification done, or due again at ``retry_at``.

        A done notification is never claimed again.  Otherwise it is due again
        from ``retry_at`` (at once when None).  Raises LookupError for an id
        not in the outbox, and InvalidQueryError naming ``retry_at`` for one that
        is not a timezone-aware datetime, before anything is written.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no outbox")

    def get_notification(self, notification_id: str) -> OutboxEntry | None:
        """Return a notification with its delivery record, or None if the outbox has none."""
        raise NotImplementedError(f"{type(self).__name__} keeps no outbox")

    # -- leaderboards ----------------------------------------------------------------
    #
    # A board's rows in one bucket are ranked by the store, never scored by it.  A
    # bucket is a period label (``"all"``, ``"2026-11-25"``, ``"2026-W48"``, ...) whose
    # rows came from ``EffectBatch.boards``, or a RollingBucket: for each subject with a
    # row on any of its days, the row ``merge_rows(subject, day_rows, bucket.formula)``,
    # its day rows given in the order of ``bucket.days`` (newest day first).
    # *Ranked* rows have a score; *listed* rows are the ranked rows except those of
    # people who opted out, and on a board those of people excluded from it (team rows
    # are always listed).  Listed rows are ordered by ascending ``sort_key``, then
    # ascending ``reached``, then ascending ``subject``.

    @abstractmethod
    def board_size(self, board: str, bucket: Bucket) -> int:
        """Return the number of listed rows of ``board`` in ``bucket`` (0 if it has none)."""

    @abstractmethod
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
        """Return the listed rows at positions ``start`` to ``stop`` (exclusive), in order.

        Positions past the end are left out.  The page carries the number of
        listed rows (which may be left 0 with ``sized=False``) and, for its
        first row, the number of listed rows with a strictly better score and
        of distinct strictly better scores (which may be left 0 with
        ``dense=False``); callers that do not need a count pass that.
        """

    def board_version(self, board: str, bucket: Bucket, stop: int) -> Hashable | None:
        """Return a token for the listed rows at positions 0 to ``stop - 1``, or None.

        Two equal tokens for the same board and bucket mean those rows (their
        subjects, scores and order) did not change in between, so a page of them
        may be served from a cache.  None means the store cannot tell (nothing is
        cached); that is the default.
        """
        return None

    @abstractmethod
    def board_standing(
        self,
        board: str,
        bucket: Bucket,
        subject: str,
        *,
        dense: bool = True,
        position: bool = True,
    ) -> Standing | None:
        """Return where ``subject``'s ranked row stands among the listed rows of others.

        Returns None when ``subject`` has no ranked row.  The standing of a
        person who opted out (or is excluded from the board) is answered too,
        with ``hidden`` true and counts over the listed rows (which do not
        include theirs).  With ``dense=False`` its ``distinct_better`` may be
        left 0, and with ``position=False`` its ``before`` may be left 0
        (callers that do not need them pass that).
        """

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
        """Return ``subject``'s ranked row with the listed rows next to it, in listing order.

        Returns None when ``subject`` has no ranked row.  The rows are up to
        ``before`` listed rows that come just before the subject's row, that
        row (also when its person opted out: then ``hidden`` is true and the
        row stands where it would be listed), and up to ``after`` listed rows
        that come just after it.  For the first row, the page gives the number
        of listed rows before it (``start``), with a strictly better score and
        with distinct strictly better scores (which may be left 0 with
        ``dense=False``).  With ``position=False``, ``start`` may be left None
        when every row of the page has the same score (callers that rank by
        score alone pass that).

        The default asks :meth:`board_standing` and :meth:`board_page`; stores
        override it to read the rows next to the subject's row directly.
        """
        standing = self.board_standing(board, bucket, subject, dense=dense)
        if standing is None:
            return None
        at = standing.before
        first = max(0, at - max(before, 0))
        left = self.board_page(board, bucket, first, at, dense=dense, sized=False)
        skip = at if standing.hidden else at + 1
        right = self.board_page(board, bucket, skip, skip + max(after, 0), dense=False, sized=False)
        rows = [*left.rows, standing.row, *right.rows]
        if left.rows:
            better, distinct = left.better, left.distinct_better
        else:
            better, distinct = standing.better, standing.distinct_better
        return AroundPage(rows, len(left.rows), first, better, distinct, standing.hidden)

    @abstractmethod
    def set_board_opt_out(self, user: str, opted_out: bool) -> None:
        """Record whether ``user`` opted out of leaderboards; it takes effect at once.

        An opted-out person's rows stay stored (and keep being updated) but are
        no longer listed on any board; opting back in lists them again.
        """

    @abstractmethod
    def board_opt_out(self, user: str) -> bool:
        """Return whether ``user`` opted out of leaderboards (False if never set)."""

    @abstractmethod
    def set_board_exclusions(self, user: str, boards: Collection[str]) -> None:
        """Record the boards ``user`` is excluded from, replacing the earlier set; at once.

        Their rows on those boards stay stored (and keep being updated) but are
        no longer listed, as with an opt-out, on those boards only; their rows on
        boards no longer in the set are listed again (unless they opted out).
        """

    @abstractmethod
    def board_exclusions(self, user: str) -> frozenset[str]:
        """Return the boards ``user`` is excluded from (empty if never set)."""

    def board_hidden(self, board: str, user: str) -> bool:
        """Return whether ``user``'s rows on ``board`` are not listed: opted out or excluded."""
        return self.board_opt_out(user) or board in self.board_exclusions(user)

    # -- people ----------------------------------------------------------------------

    @abstractmethod
    def update_person(self, user: str, change: Callable[[Person | None], Person]) -> Person:
        """Replace ``user``'s record by ``change(old)`` atomically, commit, and return it.

        ``old`` is the stored record (None if there is none); the record is
        locked from the read to the write, so concurrent updates of one person
        apply one after the other.  An exception from ``change`` stores
        nothing.  Stored are the display name, groups, memberships (with their
        times) and ``settings.feed`` and ``settings.display``;
        ``settings.leaderboards`` is not stored by this method (it is the
        opt-out, see :meth:`set_board_opt_out`).
        """

    def update_person_and_exclusions(
        self,
        user: str,
        change: Callable[[Person | None], Person],
        exclusions: Callable[[Person], Collection[str]],
    ) -> Person:
        """Update ``user``'s record as :meth:`update_person` does and set their board
        exclusions to ``exclusions(new)`` (as :meth:`set_board_exclusions` does) in the
        same transaction; return the new record.

        So concurrent updates leave one update's record with the same update's
        exclusions, never one's groups with another's exclusions; an exception from
        ``change`` or ``exclusions`` stores nothing.  The default runs the two
        methods one after the other (two transactions, which ``People.resync()``
        repairs after a crash between them); the built-in stores override it.
        """
        boards: list[Collection[str]] = []

        def changed(old: Person | None) -> Person:
            new = change(old)
            boards.append(exclusions(new))  # before the update stores anything
            return new

        person = self.update_person(user, changed)
        self.set_board_exclusions(user, boards[-1])
        return person

    def update_person_and_opt_out(
        self, user: str, change: Callable[[Person | None], Person], opted_out: bool
    ) -> Person:
        """Update ``user``'s record as :meth:`update_person` does and record their
        leaderboard opt-out as :meth:`set_board_opt_out` does, in the same transaction;
        return the new record (its ``settings.leaderboards`` is ``not opted_out``).

        So a change of several privacy settings at once
        (``people.settings(user, feed=False, leaderboards=False)``) is stored whole
        or not at all; an exception from ``change`` stores nothing.  The default runs
        the two methods one after the other (two transactions: a failure of the
        second leaves the first's change stored); the built-in stores override it.
        """
        person = self.update_person(user, change)
        self.set_board_opt_out(user, opted_out)
        settings = dataclasses.replace(person.settings, leaderboards=not opted_out)
        return dataclasses.replace(person, settings=settings)

    @abstractmethod
    def get_people(self, users: Collection[str]) -> dict[str, Person]:
        """Return the stored records of those of ``users`` who have one.

        Each record's ``settings.leaderboards`` is the negation of
        :meth:`board_opt_out`.
        """

    @abstractmethod
    def iter_people(self) -> Iterator[Person]:
        """Yield every stored person record (in no particular order), as get_people does."""

    def memberships(self, users: Collection[str]) -> dict[str, tuple[Membership, ...]]:
        """Return the memberships of those of ``users`` who have any, as stored."""
        return {u: p.memberships for u, p in self.get_people(users).items() if p.memberships}

    @abstractmethod
    def person_activities(self, user: str) -> list[Activity]:
        """Return the activities whose actor or recipient is ``user``, in recording order."""

    def person_stories(self, user: str) -> list[Story]:
        """Return the kept stories whose ``people`` include ``user``, oldest ``at`` first."""
        raise NotImplementedError(f"{type(self).__name__} keeps no stories")

    def notifications_about(self, user: str, *, ids: Collection[str] = ()) -> list[OutboxEntry]:
        """Return the outbox notifications not done whose payload names ``user``, in outbox order.

        A payload names a person when ``payload_mentions(payload, user)``: one of
        its person fields (``user``, ``by``, ``subject``, ... at any depth; see
        :data:`e2badges._erasure.PERSON_FIELDS`) holds their id; an
        ``activity_id`` or a badge id equal to it does not count.  The
        notifications not done whose id is one of ``ids`` are returned too
        (unknown ids are left out), each once: the facade passes the ids of the
        outcome notifications of the person's activities, whose payload holds
        only the activity id.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no outbox")

    @abstractmethod
    def erase_person(
        self,
        user: str,
        pseudonym: str,
        *,
        payload_fields: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        """Erase ``user`` in one transaction, committed at once, as :mod:`e2badges._erasure` says.

        - their person record, opt-out and board exclusions are deleted, and, when
          they did or received a recorded activity or had board rows, ``pseudonym``
          is opted out of leaderboards (an id the store holds nothing of leaves
          nothing to the pseudonym: erasing it writes nothing, and a tenant never
          written stays out of :meth:`tenants`);
        - every recorded activity becomes ``erase_activity(activity, user,
          pseudonym, objects, payload_fields.get(activity.kind, ()))`` where that
          is not None (``objects`` as below; ``payload_fields``: the attribute
          names each kind's payload declares, none when not given), and every
          stored outcome ``erase_outcome(...)``; the state keys that
          ``submitted_keys`` gives for the activities they did or received are
          deleted;
        - their ledger lines and awards become the pseudonym's (awards and
          revocations as ``erase_record`` gives them, revocations they made
          included);
        - every state key becomes ``erase_key(key, ..., objects, partners)``,
          where ``objects`` is ``object_stand_ins(...)`` and ``partners`` is
          ``partners(...)`` of every recorded activity, and every value
          ``erase_value(key, value, ...)`` (a store that keeps a long key as its
          first characters and a digest deletes it when ``head_names(head, ...)``);
        - their board rows become the pseudonym's, unlisted; in team rows the
          members become ``erase_row(row, ...)``'s;
        - what :meth:`activity_totals`, :meth:`first_active` and
          :meth:`first_awards` counted for them is counted for the pseudonym;
        - the stories naming them are no longer kept, nor are their ids (a story
          told later with the same id is kept: a personal best of a new person by
          the same id); the others become ``erase_story(...)``'s;
        - outbox payloads become ``erase_payload(payload, ...)``; the delivery
          errors of the notifications about them (``notification_about(notification,
          user, outcome_ids(...))`` of the notification as stored before, with the
          ids of the activities they did or received) become ``erase_errors(errors)``;
          the errors of other notifications are left as they are.

        Afterwards no query of the store returns ``user`` from any of these.

        Rewards does not run an erasure again: a store whose transaction may fail for a
        reason a retry cures (a deadlock, a lost connection) retries it itself, with
        the same ``pseudonym``, as the SQL store does up to its ``max_attempts``.
        """

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
        """Return up to ``limit`` stories, newest ``at`` first (ties: last recorded first).

        With ``team``, only stories whose ``teams`` include it; with ``since``,
        only stories at or after it; with ``rankings=False``, no ``leader``
        story.  With ``before`` (the id of a kept story, withdrawn or not, shown
        to this viewer or not), only the stories after it in that order, so that
        paging by the last id returned lists each story once while others are
        kept; an id no kept story has (never kept, or erased) raises
        InvalidQueryError naming ``before``.  Withdrawn stories (of a revoked award, see
        :meth:`StoreTransaction.apply`) are left out for every viewer.  Left out
        unless ``viewer`` is one of the story's ``people``: what
        :func:`e2badges._people.story_visible` hides, from the people's records
        (``settings.feed``), opt-outs and board exclusions: private stories,
        stories naming a person who opted out of the feed, and leader and
        personal-best stories of a board naming a person who opted out of
        leaderboards or is excluded from that board.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no stories")

    def activity_totals(
        self,
        *,
        by: Sequence[str],
        start: str | None = None,
        stop: str | None = None,
        team: str | None = None,
        kinds: Collection[str] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Group recorded activities and return, per group, who and how many.

        Counted are the activities of non-reserved kinds (of ``kinds`` only,
        when given) whose local day label is from ``start`` to ``stop``
        (inclusive; None leaves that end open) and, with ``team``, that name
        that team.  Groups are by the fields ``by``, each of ``"day"``,
        ``"week"``, ``"month"`` (the local labels), ``"actor"``, ``"kind"``
        and ``"team"`` (one group per team of each activity; activities
        without teams are then left out).  Each returned tuple holds the
        group's field values in the order of ``by``, the number of distinct
        actors, the number of activities and the latest ``at`` (epoch
        seconds), sorted by the field values.  With ``by=()`` there is one
        tuple, or none when nothing is counted.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no adoption figures")

    def first_active(self, *, team: str | None = None) -> dict[str, str]:
        """Return, per person with a counted activity (in ``team``), the first local day label.

        Counted as in :meth:`activity_totals`.  The default asks
        :meth:`activity_totals`; stores override it with an index.
        """
        firsts: dict[str, str] = {}
        for actor, day, *_ in self.activity_totals(by=("actor", "day"), team=team):
            firsts.setdefault(actor, day)  # rows come sorted by actor, then day
        return firsts

    def last_activity(
        self, *, stop: str | None = None, team: str | None = None
    ) -> dict[str, float]:
        """Return, per kind, the latest ``at`` (epoch seconds) of counted activities up to ``stop``.

        Counted as in :meth:`activity_totals` (days up to ``stop``, inclusive).
        """
        return {row[0]: row[3] for row in self.activity_totals(by=("kind",), stop=stop, team=team)}

    def cohort_weeks(
        self,
        *,
        start: str | None = None,
        stop: str | None = None,
        until: str,
        team: str | None = None,
    ) -> list[tuple[str, str, int]]:
        """Return how many of each day's newcomers were active in each week up to ``until``.

        Newcomers are the people whose first counted day (as :meth:`first_active`
        gives it, in ``team``) is from ``start`` to ``stop`` (inclusive; None
        leaves that end open).  One tuple ``(first day, week, people)`` per first
        day and ISO week label up to ``until`` (inclusive) in which ``people``
        of that day's newcomers have a counted activity (in ``team``), sorted;
        weeks in which none was active are left out.  The default asks
        :meth:`first_active` and :meth:`activity_totals`; stores override it.
        """
        firsts = {
            actor: day
            for actor, day in self.first_active(team=team).items()
            if (start is None or day >= start) and (stop is None or day <= stop)
        }
        counts: dict[tuple[str, str], int] = {}
        for actor, week, *_ in self.activity_totals(by=("actor", "week"), start=start, team=team):
            first = firsts.get(actor)
            if first is not None and week <= until:
                counts[first, week] = counts.get((first, week), 0) + 1
        return [(first, week, n) for (first, week), n in sorted(counts.items())]

    def active_in(self, weeks: Mapping[str, str], *, team: str | None = None) -> set[str]:
        """Return the people of ``weeks`` (person -> ISO week label) active in their week.

        Active means with a counted activity (as in :meth:`activity_totals`, in
        ``team``) whose local week label is the one given.  The default asks
        :meth:`activity_totals`; stores override it.
        """
        if not weeks:
            return set()
        return {
            actor
            for actor, week, *_ in self.activity_totals(by=("actor", "week"), team=team)
            if weeks.get(actor) == week
        }

    def first_awards(self) -> dict[str, float]:
        """Return, per person ever awarded a badge, the earliest ``at`` of their awards.

        Values are epoch seconds (``award.at.timestamp()``).  Earliest by award time,
        not by recording order: an award of an activity recorded late (an import of
        history) that happened before the person's other awards is their first.
        Revoked awards count: a badge earned and later taken back was still the
        person's first badge.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no adoption figures")

    def close(self) -> None:  # noqa: B027  # optional hook: most stores hold nothing to close
        """Release what the store created; a closed store must not be used again."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
