"""People in the SQL store: their table, privacy lookups, the export queries and erasure.

The table ``{prefix}people`` (see :mod:`._sql_schema`) holds one row per person
with a record; its ``data`` column is JSON holding ``groups``, ``memberships``
(``[team, joined, left]`` with ISO 8601 times or null), ``feed`` and ``display``
(the person's privacy settings but the leaderboard opt-out, which lives in
``{prefix}board_opt_outs``).  A row whose ``data`` is empty is a placeholder
taken to lock a new person's record, never seen outside a transaction.

Export and erasure look for a person in JSON columns with ``LIKE`` on their id as
it appears inside a JSON string (a prefilter: every candidate is decoded and
checked exactly).  Those are full scans of the tables, for requests that come
rarely (a person asking what is held about them, or to be forgotten); no index
serves the hot path less for them.  Every statement of this module is here, and
each filters on the store's tenant (a parameter of every function, bound after
the text is built in :class:`MembershipReads`) or writes it: an export or an
erasure in one tenant never reads or changes another tenant's rows.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Self

from sqlalchemy import Insert, Table, delete, insert, or_, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Dialect

from .._erasure import (
    erase_activity,
    erase_errors,
    erase_key,
    erase_outcome,
    erase_payload,
    erase_record,
    erase_story,
    erase_value,
    head_names,
    notification_about,
    object_stand_ins,
    outcome_ids,
    partners,
    payload_mentions,
    submitted_keys,
)
from .._errors import TransientStorageError
from .._models import Activity, Award, Revocation, Story
from .._notifications import Notification
from .._people import Membership, Person, PrivacySettings, Visibility
from ._codec import (
    decode_activity,
    decode_outcome,
    decode_record,
    decode_value,
    encode_activity,
    encode_outcome,
    encode_record,
    encode_value,
)
from ._sql_adoption import decode_story, encode_story
from ._sql_boards import chunks as _chunks
from ._sql_dialects import storage_key
from ._sql_schema import OPT_OUT_BOUNDS, STATE_KEY_LENGTH, Tables
from ._tenant import DEFAULT_TENANT

__all__ = [
    "MembershipReads",
    "erase",
    "get_people",
    "iter_people",
    "memberships",
    "person_activities",
    "person_stories",
    "update_person",
    "visibility",
]


# -- encoding --------------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def encode_person(person: Person) -> str:
    """Return what the ``data`` column holds of a person."""
    return encode_value(
        {
            "groups": list(person.groups),
            "memberships": [[m.team, _time(m.joined), _time(m.left)] for m in person.memberships],
            "feed": person.settings.feed,
            "display": person.settings.display,
        }
    )


def _memberships(doc: dict[str, Any]) -> tuple[Membership, ...]:
    return tuple(Membership(t, _parse(j), _parse(lft)) for t, j, lft in doc.get("memberships", ()))


def decode_person(user: str, display_name: str | None, data: str, opted_out: bool) -> Person:
    """Return the person of a row; ``opted_out`` is their leaderboard opt-out."""
    doc = decode_value(data)
    return Person(
        user,
        display_name,
        tuple(doc.get("groups", ())),
        _memberships(doc),
        PrivacySettings(not opted_out, bool(doc.get("feed", True)), doc.get("display")),
    )


def _people(tables: Tables) -> Table:
    assert tables.people is not None  # build_tables always makes it
    return tables.people


def _json_fragment(user: str) -> str:
    """Return ``user`` as it appears inside a JSON string of the store's columns."""
    return json.dumps(user, ensure_ascii=False)[1:-1]


def _insert_missing(table: Table, dialect: str, key: str) -> Insert:
    if dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing(index_elements=["tenant", key])
    return sqlite_insert(table).on_conflict_do_nothing(index_elements=["tenant", key])


# -- people ------------------------------------------------------------------------------


def _opted_out(conn: Connection, tables: Tables, tenant: str, users: Collection[str]) -> set[str]:
    t = tables.board_opt_outs
    out: set[str] = set()
    for chunk in _chunks(users):
        query = select(t.c.user_id).where(
            t.c.tenant == tenant, t.c.user_id.in_(chunk), t.c.board == ""
        )
        out.update(conn.execute(query).scalars())
    return out


#: How many times a person's record deleted by a committed erasure is inserted and locked
#: again before giving up (a retry of the whole transaction follows).
_RELOCKS = 3


def update_person(
    conn: Connection,
    tables: Tables,
    tenant: str,
    user: str,
    change: Callable[[Person | None], Person],
) -> Person:
    """Apply ``change`` to ``user``'s record under a row lock (in the caller's transaction)."""
    t = _people(tables)
    # A row to lock even for a new person: two first updates then wait for each other.
    # (MySQL: INSERT IGNORE would take a shared lock on an existing row, and two
    # transactions upgrading theirs to FOR UPDATE deadlock; ON DUPLICATE KEY UPDATE
    # takes it exclusively at once.)
    row = {"tenant": tenant, "user_id": user, "display_name": None, "data": ""}
    mine = (t.c.tenant == tenant, t.c.user_id == user)
    locking = select(t.c.display_name, t.c.data).where(*mine).with_for_update()
    # PostgreSQL's ON CONFLICT DO NOTHING locks no existing row: an erasure may delete
    # it and commit before the FOR UPDATE, which then finds nothing (and the change
    # would go to no row).  The row is inserted and locked again, as the state's are.
    for _ in range(_RELOCKS):
        if conn.dialect.name in ("mysql", "mariadb"):
            upsert = mysql_insert(t).values(row)
            conn.execute(upsert.on_duplicate_key_update(user_id=upsert.inserted.user_id))
        else:
            conn.execute(_insert_missing(t, conn.dialect.name, "user_id"), row)
        found = conn.execute(locking).first()
        if found is not None:
            break
    else:
        raise TransientStorageError(
            f"store: {user!r}'s record was deleted {_RELOCKS} times while it was locked"
        )
    opted_out = bool(_opted_out(conn, tables, tenant, [user]))
    old = None
    if found is not None and found[1]:
        old = decode_person(user, found[0], found[1], opted_out)
    new = change(old)
    conn.execute(
        update(t).where(*mine).values(display_name=new.display_name, data=encode_person(new))
    )
    settings = PrivacySettings(not opted_out, new.settings.feed, new.settings.display)
    return Person(user, new.display_name, new.groups, new.memberships, settings)


def get_people(
    conn: Connection, tables: Tables, tenant: str, users: Collection[str]
) -> dict[str, Person]:
    """Return the stored records of ``users``."""
    t = _people(tables)
    rows: list[Any] = []
    for chunk in _chunks(sorted(set(users))):
        query = select(t.c.user_id, t.c.display_name, t.c.data).where(
            t.c.tenant == tenant, t.c.user_id.in_(chunk), t.c.data != ""
        )
        rows.extend(conn.execute(query))
    if not rows:
        return {}
    opted = _opted_out(conn, tables, tenant, [row[0] for row in rows])
    return {row[0]: decode_person(row[0], row[1], row[2], row[0] in opted) for row in rows}


def iter_people(conn: Connection, tables: Tables, tenant: str) -> list[Person]:
    """Return every stored record."""
    t, o = _people(tables), tables.board_opt_outs
    opted_query = select(o.c.user_id).where(o.c.tenant == tenant, o.c.board == "")
    opted = set(conn.execute(opted_query).scalars())
    query = select(t.c.user_id, t.c.display_name, t.c.data).where(
        t.c.tenant == tenant, t.c.data != ""
    )
    return [decode_person(u, n, d, u in opted) for u, n, d in conn.execute(query)]


def memberships(
    conn: Connection, tables: Tables, tenant: str, users: Collection[str]
) -> dict[str, tuple[Membership, ...]]:
    """Return the memberships of ``users`` (one statement per 300 people)."""
    t = _people(tables)
    out: dict[str, tuple[Membership, ...]] = {}
    for chunk in _chunks(users):
        query = select(t.c.user_id, t.c.data).where(
            t.c.tenant == tenant, t.c.user_id.in_(chunk), t.c.data != ""
        )
        for user, data in conn.execute(query):
            found = _memberships(decode_value(data))
            if found:
                out[user] = found
    return out


# People per IN list on MySQL/MariaDB: 5,000 ids of up to 256 four-byte characters stay
# well below the default max_allowed_packet (16 MiB); one list of 16,000 such ids did not.
_IN_LIST = 5000


class MembershipReads:
    """The record path's read of memberships: one statement, built once per store."""

    #: The tenant bound as the statement's first parameter; set by :meth:`bound`.
    tenant = DEFAULT_TENANT

    def __init__(self, tables: Tables, dialect: Dialect) -> None:
        name = dialect.identifier_preparer.quote(_people(tables).name)
        self.dialect = dialect.name
        mark = "?" if self.dialect == "sqlite" else "%s"
        select_from = f"SELECT user_id, data FROM {name} WHERE tenant = {mark} AND user_id"
        if self.dialect == "sqlite":
            self.sql = f"{select_from} IN (SELECT value FROM json_each(?))"
        elif self.dialect == "postgresql":
            # A binary array: psycopg quotes a text array element by element.
            self.sql = f"{select_from} = ANY(%b::text[])"
        else:
            self.sql = f"{select_from} IN ({{}})"  # a placeholder per person

    def bound(self, tenant: str) -> Self:
        """Return this statement bound to ``tenant`` (a copy: the text is shared)."""
        other = copy.copy(self)
        other.tenant = tenant
        return other

    def _read_in(self, conn: Connection, people: list[str]) -> list[Any]:
        """Return the rows of ``people`` by one IN list (MySQL/MariaDB)."""
        sql = self.sql.format(", ".join(["%s"] * len(people)))
        return list(conn.exec_driver_sql(sql, (self.tenant, *people)))

    def read(self, conn: Connection, users: Collection[str]) -> dict[str, tuple[Membership, ...]]:
        """Return the memberships of ``users`` on the transaction's connection."""
        people = sorted(users)
        rows: Iterable[Any]
        if self.dialect == "sqlite":
            rows = conn.exec_driver_sql(self.sql, (self.tenant, encode_value(people)))
        elif self.dialect == "postgresql":
            rows = conn.exec_driver_sql(self.sql, (self.tenant, people))
        else:
            rows = [
                row
                for i in range(0, len(people), _IN_LIST)
                for row in self._read_in(conn, people[i : i + _IN_LIST])
            ]
        out: dict[str, tuple[Membership, ...]] = {}
        for user, data in rows:
            if data:
                found = _memberships(decode_value(data))
                if found:
                    out[user] = found
        return out


def visibility(
    conn: Connection, tables: Tables, tenant: str, users: Collection[str]
) -> dict[str, Visibility]:
    """Return what hides each of ``users`` from others (people with nothing hidden left out)."""
    t, o = _people(tables), tables.board_opt_outs
    feed_off: set[str] = set()
    hidden: dict[str, set[str]] = {}
    # MySQL/MariaDB's bounding rows of opt-outs are no exclusion (see _sql_boards).
    bounds = OPT_OUT_BOUNDS if conn.dialect.name in ("mysql", "mariadb") else ()
    for chunk in _chunks(sorted(set(users))):
        for user, data in conn.execute(
            select(t.c.user_id, t.c.data).where(
                t.c.tenant == tenant, t.c.user_id.in_(chunk), t.c.data != ""
            )
        ):
            if not decode_value(data).get("feed", True):
                feed_off.add(user)
        for user, board in conn.execute(
            select(o.c.user_id, o.c.board).where(o.c.tenant == tenant, o.c.user_id.in_(chunk))
        ):
            if (user, board) not in bounds:
                hidden.setdefault(user, set()).add(board)
    out: dict[str, Visibility] = {}
    for user in feed_off | set(hidden):
        boards = hidden.get(user, set())
        out[user] = Visibility("" in boards, user in feed_off, frozenset(boards - {""}))
    return out


# -- export --------------------------------------------------------------------------------


def person_activities(conn: Connection, tables: Tables, tenant: str, user: str) -> list[Activity]:
    """Return the activities ``user`` did or received, in recording order."""
    a, log = tables.activities, tables.log
    fragment = _json_fragment(user)
    query = (
        select(a.c.data)
        .join_from(log, a, (a.c.tenant == log.c.tenant) & (a.c.id == log.c.activity_id))
        .where(
            log.c.tenant == tenant,
            or_(a.c.actor == user, a.c.data.contains(fragment, autoescape=True)),
        )
        .order_by(log.c.seq)
    )
    out: list[Activity] = []
    for (data,) in conn.execute(query):
        activity = decode_activity(data)
        if user in (activity.actor, activity.recipient):
            out.append(activity)
    return out


def person_stories(conn: Connection, tables: Tables, tenant: str, user: str) -> list[Story]:
    """Return the kept stories naming ``user``, oldest first."""
    assert tables.adoption is not None
    t = tables.adoption.stories
    query = (
        select(t.c.story)
        .where(t.c.tenant == tenant, t.c.story.contains(_json_fragment(user), autoescape=True))
        .order_by(t.c.at_us, t.c.seq)
    )
    stories = (decode_story(text) for (text,) in conn.execute(query))
    return [story for story in stories if user in story.people]


def notification_rows(
    conn: Connection, tables: Tables, tenant: str, user: str, ids: Collection[str] = ()
) -> list[Any]:
    """Return the outbox rows not done whose payload names ``user`` or whose id is in ``ids``.

    In outbox order, each once.  The ids are read through the outbox's unique
    index, one IN list per chunk.
    """
    t = tables.outbox
    query = select(t).where(
        t.c.tenant == tenant,
        t.c.done.is_(False),
        t.c.payload.contains(_json_fragment(user), autoescape=True),
    )
    found = {
        row.seq: row
        for row in conn.execute(query)
        if payload_mentions(decode_value(row.payload), user)
    }
    for chunk in _chunks(sorted(set(ids))):
        query = select(t).where(t.c.tenant == tenant, t.c.done.is_(False), t.c.id.in_(chunk))
        found.update((row.seq, row) for row in conn.execute(query))
    return [found[seq] for seq in sorted(found)]


# -- erasure ---------------------------------------------------------------------------------


#: Lock existing state rows by their stored keys, given sorted, and return ``(key, value)``
#: rows: ``SQLOps.lock_state`` with ``create=False``.
StateLock = Callable[[Sequence[str]], list[tuple[str, str | None]]]


def lock_state(
    conn: Connection, tables: Tables, tenant: str, user: str, lock: StateLock
) -> dict[str, str | None]:
    """Lock the state rows of ``tenant`` that name ``user``; return their values, read locked.

    The first step of an erasure, in a recording batch's lock order: state rows in
    sorted order, then the board lock (see ``SQLAlchemyStore.erase_person``).  The rows are
    found by a plain read, which locks nothing and waits for nothing, then locked by
    key.  A locking read with ``LIKE`` would not do: on InnoDB it is a full scan that
    waits for, and locks, every row it reads, other people's too, while recording
    batches hold their rows and wait for the board lock.  The search runs again
    until it finds no row not yet tried: a batch that held one of these rows and
    copied the id into another state row committed before the lock was granted, so
    the next search finds that row; once every row naming ``user`` is locked, no
    batch can copy the id from one.
    """
    t = tables.state
    naming = select(t.c.state_key).where(
        t.c.tenant == tenant,
        or_(
            t.c.state_key.contains(user, autoescape=True),
            t.c.value.contains(_json_fragment(user), autoescape=True),
        ),
    )
    locked: dict[str, str | None] = {}
    tried: set[str] = set()
    while new := sorted(set(conn.execute(naming).scalars()) - tried):
        tried.update(new)
        locked.update(lock(new))
    return locked


def erase(
    conn: Connection,
    tables: Tables,
    tenant: str,
    user: str,
    pseudonym: str,
    *,
    state: Mapping[str, str | None],
    payload_fields: Mapping[str, Collection[str]],
) -> bool:
    """Erase ``user`` from every table of ``tenant`` but the boards' (see ``SQLBoards.erase``);
    return whether they did or received a recorded activity.

    ``state`` holds the state rows naming ``user``, locked by :func:`lock_state`;
    ``payload_fields`` the attribute names each kind's payload declares.
    """
    fragment = _json_fragment(user)
    people = _people(tables)
    conn.execute(delete(people).where(people.c.tenant == tenant, people.c.user_id == user))
    mine, objects, others = _erase_activities(
        conn, tables, user, pseudonym, fragment, tenant=tenant, payload_fields=payload_fields
    )
    _erase_outcomes(conn, tables, user, pseudonym, fragment, tenant=tenant)
    ledger = tables.ledger
    conn.execute(
        update(ledger)
        .where(ledger.c.tenant == tenant, ledger.c.user_id == user)
        .values(user_id=pseudonym)
    )
    _erase_awards(conn, tables, user, pseudonym, fragment, tenant=tenant)
    _erase_state(
        conn,
        tables,
        user,
        pseudonym,
        tenant=tenant,
        mine=mine,
        objects=objects,
        others=others,
        state=state,
    )
    _erase_adoption(conn, tables, user, pseudonym, fragment, tenant=tenant)
    _erase_outbox(conn, tables, user, pseudonym, fragment, tenant=tenant, mine=mine)
    return bool(mine)


def _erase_activities(
    conn: Connection,
    tables: Tables,
    user: str,
    pseudonym: str,
    fragment: str,
    *,
    tenant: str,
    payload_fields: Mapping[str, Collection[str]],
) -> tuple[list[str], dict[str, str], frozenset[str]]:
    """Erase the activities naming ``user``; return their ids, objects' stand-ins and partners."""
    a = tables.activities
    query = select(a.c.id, a.c.data).where(
        a.c.tenant == tenant,
        or_(a.c.actor == user, a.c.data.contains(fragment, autoescape=True)),
    )
    found = [(aid, data, decode_activity(data)) for aid, data in conn.execute(query).all()]
    theirs = [activity for _, _, activity in found if user in (activity.actor, activity.recipient)]
    # The stand-ins first: an activity's object becomes the one its state keys get.
    objects = object_stand_ins(theirs, user, pseudonym)
    for aid, data, activity in found:
        declared = payload_fields.get(activity.kind, ())
        new = erase_activity(activity, user, pseudonym, objects, declared)
        if new is not None:
            conn.execute(
                update(a)
                .where(a.c.tenant == tenant, a.c.id == aid)
                .values(actor=new.actor, data=encode_activity(new, _at_text(data)))
            )
    return [activity.id for activity in theirs], objects, partners(theirs, user)


def _at_text(data: str) -> str:
    text: str = json.loads(data)["at"]
    return text


def _erase_outcomes(
    conn: Connection, tables: Tables, user: str, pseudonym: str, fragment: str, *, tenant: str
) -> None:
    log = tables.log
    query = select(log.c.seq, log.c.outcome).where(
        log.c.tenant == tenant, log.c.outcome.contains(fragment, autoescape=True)
    )
    for seq, text in conn.execute(query).all():
        new = erase_outcome(decode_outcome(text), user, pseudonym)
        if new is not None:
            at_text: str = json.loads(text)["t"]
            encoded = encode_outcome(new, datetime.fromisoformat(at_text), at_text)
            conn.execute(
                update(log).where(log.c.tenant == tenant, log.c.seq == seq).values(outcome=encoded)
            )


def _erase_awards(
    conn: Connection, tables: Tables, user: str, pseudonym: str, fragment: str, *, tenant: str
) -> None:
    t = tables.awards
    query = select(t.c.seq, t.c.user_id, t.c.award, t.c.revocation).where(
        t.c.tenant == tenant,
        or_(t.c.user_id == user, t.c.revocation.contains(fragment, autoescape=True)),
    )
    for seq, holder, award, revocation in conn.execute(query).all():
        values: dict[str, Any] = {}
        if holder == user:
            values["user_id"] = pseudonym
            values["award"] = encode_record(
                erase_record(decode_record(Award, award), user, pseudonym)
            )
        if revocation is not None:
            old = decode_record(Revocation, revocation)
            new = erase_record(old, user, pseudonym)
            if new != old:
                values["revocation"] = encode_record(new)
        if values:
            conn.execute(update(t).where(t.c.tenant == tenant, t.c.seq == seq).values(**values))


def _erase_state(
    conn: Connection,
    tables: Tables,
    user: str,
    pseudonym: str,
    *,
    tenant: str,
    mine: Collection[str],
    objects: Mapping[str, str],
    others: Collection[str],
    state: Mapping[str, str | None],
) -> None:
    t = tables.state
    doomed = [storage_key(k) for k in submitted_keys(mine)]
    for chunk in _chunks(doomed):
        conn.execute(delete(t).where(t.c.tenant == tenant, t.c.state_key.in_(chunk)))
    gone = set(doomed)
    renamed: list[tuple[str, str | None]] = []
    for key, text in state.items():
        if key in gone:
            continue
        value = None if text is None else decode_value(text)
        new_value = None if value is None else erase_value(key, value, user, pseudonym)
        head, hashed, _digest = key.partition("\x1e")
        if hashed:
            # Stored as its first characters and a digest: the whole key is unknown.
            if head_names(head, user, others):
                conn.execute(delete(t).where(t.c.tenant == tenant, t.c.state_key == key))
                continue
            new_key = key
        else:
            new_key = erase_key(key, user, pseudonym, objects, others)
        if new_key != key:
            conn.execute(delete(t).where(t.c.tenant == tenant, t.c.state_key == key))
            stored = new_key if len(new_key) <= STATE_KEY_LENGTH else storage_key(new_key)
            renamed.append((stored, None if new_value is None else encode_value(new_value)))
        elif new_value is not value:
            conn.execute(
                update(t)
                .where(t.c.tenant == tenant, t.c.state_key == key)
                .values(value=encode_value(new_value))
            )
    if renamed:
        rows = [{"tenant": tenant, "state_key": k, "value": v} for k, v in renamed]
        conn.execute(insert(t), rows)


def _erase_adoption(
    conn: Connection, tables: Tables, user: str, pseudonym: str, fragment: str, *, tenant: str
) -> None:
    assert tables.adoption is not None
    a = tables.adoption
    stories = a.stories
    for rollup in (a.days, a.weeks, a.months, a.firsts):
        conn.execute(
            update(rollup)
            .where(rollup.c.tenant == tenant, rollup.c.actor == user)
            .values(actor=pseudonym)
        )
    query = select(stories.c.seq, stories.c.story).where(
        stories.c.tenant == tenant, stories.c.story.contains(fragment, autoescape=True)
    )
    for seq, text in conn.execute(query).all():
        old = decode_story(text)
        new = erase_story(old, user, pseudonym)
        mine = (stories.c.tenant == tenant, stories.c.seq == seq)
        if new is None:
            conn.execute(delete(stories).where(*mine))
        elif new is not old:
            conn.execute(update(stories).where(*mine).values(story=encode_story(new)))


def _erase_outbox(
    conn: Connection,
    tables: Tables,
    user: str,
    pseudonym: str,
    fragment: str,
    *,
    tenant: str,
    mine: Collection[str],
) -> None:
    """Erase ``user`` from the payloads of the outbox and drop the delivery errors of
    the notifications about them: those whose payload names them, and the outcome
    notifications of ``mine`` (the activities they did or received), read by id."""
    t = tables.outbox
    columns = (t.c.seq, t.c.id, t.c.hook, t.c.payload, t.c.errors)
    query = select(*columns).where(
        t.c.tenant == tenant, t.c.payload.contains(fragment, autoescape=True)
    )
    rows = {row.seq: row for row in conn.execute(query)}
    outcomes = outcome_ids(mine)
    for chunk in _chunks(sorted(outcomes)):
        query = select(*columns).where(t.c.tenant == tenant, t.c.id.in_(chunk))
        rows.update((row.seq, row) for row in conn.execute(query))
    for seq in sorted(rows):
        row = rows[seq]
        old = decode_value(row.payload)
        values: dict[str, Any] = {}
        if notification_about(Notification(row.id, row.hook, old, ()), user, outcomes):
            errors: dict[str, str] = decode_value(row.errors)
            new_errors = erase_errors(errors)
            if new_errors is not errors:
                values["errors"] = encode_value(dict(new_errors))
        new = erase_payload(old, user, pseudonym)
        if new is not old:
            values["payload"] = encode_value(new)
        if values:
            conn.execute(update(t).where(t.c.tenant == tenant, t.c.seq == seq).values(**values))
