"""The SQL store's stories and adoption figures: four tables and their queries.

``{prefix}activity_days``
    the per-day rollup: one row per (``day``, ``actor``, ``kind``, ``team``) with
    the local ``week`` and ``month`` labels, ``n`` (activities) and ``last_us``
    (the latest ``at``, UTC microseconds); ``team`` is ``""`` on the row that
    counts every activity, and each team of an activity has its own row.
    Primary key ``(tenant, day, actor, kind, team)``.
``{prefix}activity_weeks``, ``{prefix}activity_months``
    the same per local ISO ``week`` and per ``month``: primary keys ``(tenant,
    week, actor, kind, team)`` and ``(tenant, month, actor, kind, team)``, ``n`` and
    ``last_us``.  Each batch upserts its rows of the three rollups, aggregated
    in Python first, in key order.
``{prefix}activity_firsts``
    each person's first local ``day`` with a counted activity, per ``team``
    (``""``: in any team): primary key ``(tenant, team, actor)``, index
    ``(tenant, team, day)``;
    each batch upserts the earliest day of its rows.
``{prefix}stories``
    ``seq``, ``id`` (unique per tenant: a story is kept once), ``at_us``,
    ``story`` (JSON), ``slot`` (the award slot a badge or streak story tells of, a
    digest; NULL for other stories) and ``withdrawn`` (set when that award is
    revoked); indexes ``(tenant, at_us, seq)`` for the feed and ``(tenant, slot)``
    for revocations.

Every table leads with ``tenant`` (see :mod:`e2badges.storage._sql_schema`), and
every statement here filters on it or writes it.

Adoption queries are single ``GROUP BY`` statements over the coarsest rollup
rows that cover the days asked exactly (:func:`~e2badges.storage._adoption.plan`:
whole months, then whole weeks, then days, as a ``UNION ALL``), so a year of
activity for 10,000 people reads its month rows in the database and returns one
row per group.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Self

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Insert,
    MetaData,
    PrimaryKeyConstraint,
    Select,
    String,
    Table,
    UniqueConstraint,
    distinct,
    false,
    func,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.engine import Connection, Dialect

from .._badges import RESERVED_KINDS
from .._engine import EffectBatch
from .._models import MAX_IDENTIFIER_LENGTH, MAX_KIND_LENGTH, Story
from .._people import Visibility
from .._periods import period_key
from ._adoption import (
    FIELDS,
    LEVELS,
    Source,
    award_slot,
    plan,
    story_slot,
    unknown_story,
    utc_labels,
    visible,
)
from ._codec import epoch_us
from ._tenant import DEFAULT_TENANT

__all__ = [
    "AdoptionTables",
    "RollupWrites",
    "activity_totals",
    "adoption_tables",
    "apply_adoption",
    "feed",
    "first_active",
    "first_awards",
]


@dataclass(frozen=True)
class AdoptionTables:
    """The rollup and stories tables."""

    days: Table
    weeks: Table
    months: Table
    firsts: Table
    stories: Table

    def level(self, name: str) -> Table:
        """Return the rollup table of ``name`` (``day``, ``week`` or ``month``)."""
        return {"day": self.days, "week": self.weeks, "month": self.months}[name]


#: Table options of the tables whose rows are small and always found by their primary
#: key or an index: on SQLite they are ``WITHOUT ROWID`` (one B-tree clustered on the
#: key instead of a rowid table and its key's index; schema version 2).
CLUSTERED: dict[str, Any] = {"sqlite_with_rowid": False}


def adoption_tables(
    metadata: MetaData,
    prefix: str,
    options: dict[str, Any],
    json_text: Any,
    seq: Any,
    *,
    tenant: Any,
    ordered: Callable[[int], Any],
) -> AdoptionTables:
    """Add the rollup and stories tables to ``metadata``.

    ``ordered(length)`` is the type of a text column compared by code point (on
    PostgreSQL ``COLLATE "C"``): every column of the rollups but ``tenant``, since
    they are read and written in key order and grouped and sorted by their values.
    """
    ident = ordered(MAX_IDENTIFIER_LENGTH)
    kind = ordered(MAX_KIND_LENGTH)
    days = Table(
        f"{prefix}activity_days",
        metadata,
        Column("tenant", tenant, nullable=False),
        Column("day", ordered(10), nullable=False),
        Column("actor", ident, nullable=False),
        Column("kind", kind, nullable=False),
        Column("team", ident, nullable=False),
        Column("week", ordered(8), nullable=False),
        Column("month", ordered(7), nullable=False),
        Column("n", BigInteger, nullable=False),
        Column("last_us", BigInteger, nullable=False),
        PrimaryKeyConstraint(
            "tenant", "day", "actor", "kind", "team", name=f"pk_{prefix}activity_days"
        ),
        **options,
        **CLUSTERED,
    )
    weeks, months = (
        Table(
            f"{prefix}activity_{level}s",
            metadata,
            Column("tenant", tenant, nullable=False),
            Column(level, ordered(8 if level == "week" else 7), nullable=False),
            Column("actor", ident, nullable=False),
            Column("kind", kind, nullable=False),
            Column("team", ident, nullable=False),
            Column("n", BigInteger, nullable=False),
            Column("last_us", BigInteger, nullable=False),
            PrimaryKeyConstraint(
                "tenant", level, "actor", "kind", "team", name=f"pk_{prefix}activity_{level}s"
            ),
            **options,
            **CLUSTERED,
        )
        for level in ("week", "month")
    )
    firsts = Table(
        f"{prefix}activity_firsts",
        metadata,
        Column("tenant", tenant, nullable=False),
        Column("team", ident, nullable=False),
        Column("actor", ident, nullable=False),
        Column("day", ordered(10), nullable=False),
        PrimaryKeyConstraint("tenant", "team", "actor", name=f"pk_{prefix}activity_firsts"),
        Index(f"ix_{prefix}activity_firsts_day", "tenant", "team", "day"),
        **options,
        **CLUSTERED,
    )
    stories = Table(
        f"{prefix}stories",
        metadata,
        Column("tenant", tenant, nullable=False),
        Column("seq", seq, primary_key=True, autoincrement=True),
        Column("id", String(64), nullable=False),
        Column("at_us", BigInteger, nullable=False),
        Column("story", json_text, nullable=False),
        Column("slot", String(40), nullable=True),
        Column("withdrawn", Boolean, nullable=False),
        UniqueConstraint("tenant", "id", name=f"uq_{prefix}stories_id"),
        Index(f"ix_{prefix}stories_at", "tenant", "at_us", "seq"),
        Index(f"ix_{prefix}stories_slot", "tenant", "slot"),
        **options,
    )
    return AdoptionTables(days, weeks, months, firsts, stories)


# -- writing ----------------------------------------------------------------------------


def encode_story(story: Story) -> str:
    """Return a story as JSON: its fields, ``at`` as ISO 8601 text."""
    doc = {f.name: getattr(story, f.name) for f in dataclasses.fields(Story)}
    doc["at"] = story.at.isoformat()
    doc["data"] = dict(story.data)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def decode_story(text: str) -> Story:
    """Return the story encoded by :func:`encode_story`."""
    doc = json.loads(text)
    doc["at"] = datetime.fromisoformat(doc["at"])
    doc["people"] = tuple(doc["people"])
    doc["teams"] = tuple(doc.get("teams", ()))
    doc["names"] = tuple(doc.get("names", ()))
    return Story(**doc)


def apply_adoption(
    conn: Connection,
    tables: AdoptionTables,
    batch: EffectBatch,
    insert_ignoring: Callable[[Table, str], Insert],
    writes: RollupWrites,
) -> None:
    """Store the stories of ``batch``, withdraw revoked ones, add its activities to the rollups.

    Everything is written under the tenant ``writes`` is bound to.
    """
    tenant = writes.tenant
    # The batch's day rows: (day, actor, kind, team) -> [week, month, activities, latest us].
    days: dict[tuple[str, str, str, str], list[Any]] = {}
    stories: list[dict[str, Any]] = []
    local = batch.local
    dialect = conn.dialect.name
    for i, (activity, outcome) in enumerate(batch.recorded):
        if outcome.stories:
            stories.extend(
                {
                    "tenant": tenant,
                    "id": s.id,
                    "at_us": epoch_us(s.at),
                    "story": encode_story(s),
                    "slot": story_slot(s),
                    "withdrawn": False,
                }
                for s in outcome.stories
            )
        if outcome.revocations:
            # A revocation withdraws the stories told so far, those of this batch included.
            if stories:
                conn.execute(insert_ignoring(tables.stories, dialect), stories)
                stories = []
            t = tables.stories
            for revocation in outcome.revocations:
                conn.execute(
                    t.update()
                    .where(
                        t.c.tenant == tenant,
                        t.c.slot == award_slot(revocation),
                        t.c.withdrawn == false(),
                    )
                    .values(withdrawn=True)
                )
        if activity.kind in RESERVED_KINDS:
            continue
        day, week, month = local[i] if i < len(local) else utc_labels(activity)
        us = epoch_us(activity.at)  # type: ignore[arg-type]  # filled by the facade
        actor, kind = activity.actor, activity.kind
        for team in ("", *activity.teams):
            key = (day, actor, kind, team)
            row = days.get(key)
            if row is None:
                days[key] = [week, month, 1, us]
            else:
                row[2] += 1
                row[3] = max(row[3], us)
    if stories:
        conn.execute(insert_ignoring(tables.stories, dialect), stories)
    if days:
        writes.write(conn, days)


def _coarser(
    days: Mapping[tuple[str, str, str, str], list[Any]],
) -> tuple[
    dict[tuple[str, str, str, str], list[int]],
    dict[tuple[str, str, str, str], list[int]],
    dict[tuple[str, str], str],
]:
    """Return the week and month rows and the first days that ``days`` rows add up to."""
    weeks: dict[tuple[str, str, str, str], list[int]] = {}
    months: dict[tuple[str, str, str, str], list[int]] = {}
    firsts: dict[tuple[str, str], str] = {}  # (team, actor) -> earliest day
    for (day, actor, kind, team), (week, month, n, us) in days.items():
        for rollup, label in ((weeks, week), (months, month)):
            key = (label, actor, kind, team)
            row = rollup.get(key)
            if row is None:
                rollup[key] = [n, us]
            else:
                row[0] += n
                row[1] = max(row[1], us)
        known = firsts.get((team, actor))
        if known is None or day < known:
            firsts[team, actor] = day
    return weeks, months, firsts


class RollupWrites:
    """The rollup upserts of one dialect, built once (statement text holds no value).

    A batch's rows are aggregated per day in Python; each rollup row adds its
    count and keeps the latest time, a first-day row keeps the earliest day.
    On PostgreSQL one statement writes all four tables: the day rows go once, as
    arrays (``unnest``), and the database sums them into week and month rows and
    takes each person's first day (data-modifying ``WITH`` clauses, each
    ``INSERT`` in key order).  SQLite and MySQL/MariaDB get the week, month and
    first-day rows from Python and take one ``executemany`` per table, on the
    driver (sqlite3 and PyMySQL ``executemany`` cost a fraction of SQLAlchemy's
    per-row parameter handling on this hot path).  The tenant is the first column
    of every row (a parameter, bound by :meth:`bound`).
    """

    #: The tenant written in every row; set by :meth:`bound`.
    tenant = DEFAULT_TENANT

    def __init__(self, tables: AdoptionTables, dialect: Dialect) -> None:
        q = dialect.identifier_preparer.quote
        self.postgresql = dialect.name == "postgresql"
        self.sql_rollups = ""  # PostgreSQL's one statement
        self.levels: dict[str, str] = {}
        self.firsts = ""
        # Key order, so that concurrent batches lock rows alike (SQLite has one writer).
        self.ordered = dialect.name != "sqlite"
        n, last = q("n"), q("last_us")
        team, actor, day = q("team"), q("actor"), q("day")
        upserts: dict[str, str] = {}
        heads: dict[str, str] = {}
        for level in LEVELS:
            t = tables.level(level)
            names = [level, "actor", "kind", "team"]
            names += [*(("week", "month") if level == "day" else ()), "n", "last_us"]
            columns = ", ".join(q(c) for c in ("tenant", *names))
            key = ", ".join(q(c) for c in ("tenant", level, "actor", "kind", "team"))
            if dialect.name == "postgresql":
                # The rows go between the two halves (see below).
                heads[level] = f"INSERT INTO {q(t.name)} AS t ({columns}) "
                upserts[level] = (
                    f" ON CONFLICT ({key}) DO UPDATE SET {n} = t.{n} + EXCLUDED.{n}, "
                    f"{last} = GREATEST(t.{last}, EXCLUDED.{last})"
                )
            elif dialect.name in ("mysql", "mariadb"):
                marks = ", ".join(["%s"] * (len(names) + 1))
                upserts[level] = (
                    f"INSERT INTO {q(t.name)} ({columns}) VALUES ({marks}) "
                    f"ON DUPLICATE KEY UPDATE {n} = {n} + VALUES({n}), "
                    f"{last} = GREATEST({last}, VALUES({last}))"
                )
            else:
                marks = ", ".join(["?"] * (len(names) + 1))
                upserts[level] = (
                    f"INSERT INTO {q(t.name)} ({columns}) VALUES ({marks}) "
                    f"ON CONFLICT ({key}) DO UPDATE SET {n} = {n} + excluded.{n}, "
                    f"{last} = max({last}, excluded.{last})"
                )
        firsts = q(tables.firsts.name)
        if dialect.name == "postgresql":
            firsts_head = f"INSERT INTO {firsts} AS t (tenant, {team}, {actor}, {day}) "
            firsts_conflict = (
                f" ON CONFLICT (tenant, {team}, {actor}) DO UPDATE SET {day} = EXCLUDED.{day} "
                f"WHERE EXCLUDED.{day} < t.{day}"
            )
            # Whole columns of the day rows, as binary arrays (see PostgresOps).
            source = (
                "SELECT * FROM unnest(%(d)b::text[], %(a)b::text[], %(k)b::text[], "
                "%(g)b::text[], %(w)b::text[], %(m)b::text[], %(n)b::bigint[], "
                "%(l)b::bigint[]) AS s(d, a, k, g, w, m, n, l)"
            )
            tenant = "%(tenant)s::text"
            # Each INSERT takes its rows in key order, compared byte by byte (as the
            # state rows are locked), so that concurrent batches lock rows alike.
            c = ' COLLATE "C"'
            rest = f"a{c}, k{c}, g{c}"
            day_rows = f"SELECT {tenant}, d, a, k, g, w, m, n, l FROM s ORDER BY d{c}, {rest}"
            week_rows, month_rows = (
                f"SELECT {tenant}, {x}, a, k, g, sum(n)::bigint, max(l) FROM s "
                f"GROUP BY {x}, a, k, g ORDER BY {x}{c}, {rest}"
                for x in ("w", "m")
            )
            first_rows = f"SELECT {tenant}, g, a, min(d) FROM s GROUP BY g, a ORDER BY g{c}, a{c}"
            self.sql_rollups = (
                f"WITH s AS ({source}), "
                f"d AS ({heads['day']}{day_rows}{upserts['day']}), "
                f"w AS ({heads['week']}{week_rows}{upserts['week']}), "
                f"m AS ({heads['month']}{month_rows}{upserts['month']}) "
                f"{firsts_head}{first_rows}{firsts_conflict}"
            )
            return
        self.levels.update(upserts)
        if dialect.name in ("mysql", "mariadb"):
            self.firsts = (
                f"INSERT INTO {firsts} (tenant, {team}, {actor}, {day}) VALUES (%s, %s, %s, %s) "
                f"ON DUPLICATE KEY UPDATE {day} = LEAST({day}, VALUES({day}))"
            )
        else:
            self.firsts = (
                f"INSERT INTO {firsts} (tenant, {team}, {actor}, {day}) VALUES (?, ?, ?, ?) "
                f"ON CONFLICT (tenant, {team}, {actor}) "
                f"DO UPDATE SET {day} = excluded.{day} WHERE excluded.{day} < {day}"
            )

    def bound(self, tenant: str) -> Self:
        """Return these statements bound to ``tenant`` (a copy: the text is shared)."""
        other = copy.copy(self)
        other.tenant = tenant
        return other

    def write(self, conn: Connection, days: Mapping[tuple[str, str, str, str], list[Any]]) -> None:
        """Add a batch's day rows to the three rollups and the first days.

        ``days`` maps (day, actor, kind, team) to [week, month, activities, latest us].
        """
        tenant = self.tenant
        if self.postgresql:
            params: dict[str, Any] = {"tenant": tenant}
            keys = (list(col) for col in zip(*days, strict=True))
            values = (list(col) for col in zip(*days.values(), strict=True))
            params.update(zip("dakg", keys, strict=True))
            params.update(zip("wmnl", values, strict=True))
            conn.exec_driver_sql(self.sql_rollups, params)
            return
        weeks, months, firsts = _coarser(days)
        ordered = self.ordered
        levels = self.levels
        day_items = sorted(days.items()) if ordered else days.items()
        conn.exec_driver_sql(levels["day"], [(tenant, *k, *v) for k, v in day_items])
        for level, rollup in (("week", weeks), ("month", months)):
            items = sorted(rollup.items()) if ordered else rollup.items()
            conn.exec_driver_sql(levels[level], [(tenant, *k, *v) for k, v in items])
        pairs = sorted(firsts.items()) if ordered else firsts.items()
        conn.exec_driver_sql(self.firsts, [(tenant, *k, v) for k, v in pairs])


# -- reading ----------------------------------------------------------------------------


def _source_query(
    tables: AdoptionTables,
    source: Source,
    by: Sequence[str],
    *,
    tenant: str,
    team: str | None,
    kinds: Collection[str] | None,
) -> Select[Any]:
    """Return the rows of one rollup source: the ``by`` fields (as ``g0``...), actor, n, last_us."""
    t = tables.level(source.level)
    columns: list[Any] = []
    for i, name in enumerate(by):
        if name == "month" and source.level == "week":
            assert source.month is not None  # plan() gives week sources a month when grouping by it
            columns.append(literal(source.month, String(7)).label(f"g{i}"))
        else:
            columns.append(t.c[name].label(f"g{i}"))
    query = select(*columns, t.c.actor.label("a"), t.c.n, t.c.last_us).where(t.c.tenant == tenant)
    if "team" in by:
        query = query.where(t.c.team != "" if team is None else t.c.team == team)
    else:
        query = query.where(t.c.team == (team or ""))
    label = t.c[source.level]
    if source.lo is not None:
        query = query.where(label >= source.lo)
    if source.hi is not None:
        query = query.where(label <= source.hi)
    if kinds is not None:
        query = query.where(t.c.kind.in_(sorted(kinds)))
    return query


def activity_totals(
    conn: Connection,
    tables: AdoptionTables,
    tenant: str,
    *,
    by: Sequence[str],
    start: str | None,
    stop: str | None,
    team: str | None,
    kinds: Collection[str] | None,
) -> list[tuple[Any, ...]]:
    """Answer :meth:`Store.activity_totals` with one GROUP BY over the rollups that cover it."""
    for name in by:
        if name not in FIELDS:
            raise ValueError(f"cannot group by {name!r}; use {', '.join(FIELDS)}")
    parts = [
        _source_query(tables, source, by, tenant=tenant, team=team, kinds=kinds)
        for source in plan(by, start, stop)
    ]
    rows = parts[0].subquery() if len(parts) == 1 else union_all(*parts).subquery()
    columns = [rows.c[f"g{i}"] for i in range(len(by))]
    query = select(
        *columns, func.count(distinct(rows.c.a)), func.sum(rows.c.n), func.max(rows.c.last_us)
    )
    if columns:
        query = query.group_by(*columns).order_by(*columns)
    out: list[tuple[Any, ...]] = []
    for row in conn.execute(query):
        *values, actors, n, last = row
        if not actors:
            continue  # an aggregate without GROUP BY over no rows
        out.append((*values, int(actors), int(n), int(last) / 1_000_000))
    return out


def first_active(
    conn: Connection, tables: AdoptionTables, tenant: str, team: str | None
) -> dict[str, str]:
    """Answer :meth:`Store.first_active` from the first-day table."""
    t = tables.firsts
    query = select(t.c.actor, t.c.day).where(t.c.tenant == tenant, t.c.team == (team or ""))
    return {str(row[0]): str(row[1]) for row in conn.execute(query)}


def cohort_weeks(
    conn: Connection,
    tables: AdoptionTables,
    tenant: str,
    *,
    start: str | None,
    stop: str | None,
    until: str,
    team: str | None,
) -> list[tuple[str, str, int]]:
    """Answer :meth:`Store.cohort_weeks`: the week rollup with each person's first day, grouped.

    The first day is looked up per (week, person) by primary key, a correlated
    subquery: as a join, SQLite's planner range-scanned the first days and then
    scanned the week rollup (which has no index by person) once per person.
    """
    f, w = tables.firsts, tables.weeks
    scope = team or ""
    first_day = (
        select(f.c.day)
        .where(f.c.tenant == tenant, f.c.team == scope, f.c.actor == w.c.actor)
        .scalar_subquery()
    )
    pairs = select(w.c.week, w.c.actor, first_day.label("first")).distinct()
    pairs = pairs.where(w.c.tenant == tenant, w.c.team == scope, w.c.week <= until)
    if start is not None:
        pairs = pairs.where(w.c.week >= period_key("week", date.fromisoformat(start)))
    rows = pairs.subquery()
    query = select(rows.c.first, rows.c.week, func.count()).where(rows.c.first.is_not(None))
    if start is not None:
        query = query.where(rows.c.first >= start)
    if stop is not None:
        query = query.where(rows.c.first <= stop)
    query = query.group_by(rows.c.first, rows.c.week).order_by(rows.c.first, rows.c.week)
    return [(str(first), str(week), int(n)) for first, week, n in conn.execute(query)]


_PAIRS = 400  # (week, person) pairs per query: 800 bound values


def active_in(
    conn: Connection,
    tables: AdoptionTables,
    weeks: Mapping[str, str],
    team: str | None,
    *,
    tenant: str,
) -> set[str]:
    """Answer :meth:`Store.active_in`: look the (week, person) pairs up in the week rollup."""
    w = tables.weeks
    pairs = sorted((week, user) for user, week in weeks.items())
    out: set[str] = set()
    for i in range(0, len(pairs), _PAIRS):
        query = (
            select(w.c.actor)
            .distinct()
            .where(
                w.c.tenant == tenant,
                w.c.team == (team or ""),
                tuple_(w.c.week, w.c.actor).in_(pairs[i : i + _PAIRS]),
            )
        )
        out.update(str(actor) for (actor,) in conn.execute(query))
    return out


def first_awards(conn: Connection, awards: Table, tenant: str) -> dict[str, float]:
    """Answer :meth:`Store.first_awards`: each person's earliest award time, revoked or not.

    One ``GROUP BY`` over the index ``(tenant, user_id, seq, at_us)``, read alone: no
    award is decoded.  Microseconds over 10**6 is the float ``datetime.timestamp()``
    gives (both divide the whole microseconds once).
    """
    query = (
        select(awards.c.user_id, func.min(awards.c.at_us))
        .where(awards.c.tenant == tenant)
        .group_by(awards.c.user_id)
    )
    return {user: at_us / 1_000_000 for user, at_us in conn.execute(query)}


def feed(
    read: Callable[[Any], Sequence[Any]],
    tables: AdoptionTables,
    tenant: str,
    *,
    team: str | None,
    since: datetime | None,
    limit: int,
    viewer: str | None,
    privacy: Callable[[Collection[str]], Mapping[str, Visibility]],
    rankings: bool = True,
    before: str | None = None,
) -> list[Story]:
    """Answer :meth:`Store.feed`: read stories newest first, page by page, and filter.

    ``read`` runs one query in its own connection, so that ``privacy`` (which
    queries the store, once per page for the people not seen yet) never runs
    inside one.  ``before`` is looked up by the unique key ``(tenant, id)``; the
    pages start after its ``(at_us, seq)``.
    """
    t = tables.stories
    known: dict[str, Visibility | None] = {}
    out: list[Story] = []
    page = max(100, 4 * limit)
    after: tuple[int, int] | None = None
    if before is not None:
        place = read(select(t.c.at_us, t.c.seq).where(t.c.tenant == tenant, t.c.id == before))
        if not place:
            raise unknown_story(before)
        after = (int(place[0][0]), int(place[0][1]))
    while len(out) < limit:
        query = (
            select(t.c.at_us, t.c.seq, t.c.story)
            .where(t.c.tenant == tenant, t.c.withdrawn == false())
            .order_by(t.c.at_us.desc(), t.c.seq.desc())
        )
        if since is not None:
            query = query.where(t.c.at_us >= epoch_us(since))
        if after is not None:
            query = query.where(
                (t.c.at_us < after[0]) | ((t.c.at_us == after[0]) & (t.c.seq < after[1]))
            )
        rows = read(query.limit(page))
        stories = [(at_us, seq, decode_story(text)) for at_us, seq, text in rows]
        unknown = {p for _, _, story in stories for p in story.people if p not in known}
        if unknown:
            found = privacy(unknown)
            known.update((p, found.get(p)) for p in unknown)
        for at_us, seq, story in stories:
            if (team is None or team in story.teams) and visible(
                story, viewer, known.__getitem__, rankings
            ):
                out.append(story)
                if len(out) >= limit:
                    break
            after = (at_us, seq)
        if len(rows) < page:
            break
    return out
