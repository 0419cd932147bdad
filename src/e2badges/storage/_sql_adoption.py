"""The SQL store's stories and adoption figures: two tables and their queries.

``{prefix}activity_days``
    the per-day rollup: one row per (``tenant``, ``day``, ``actor``, ``kind``, ``team``) with
    the local ``week`` and ``month`` labels, ``n`` (activities) and ``last_us``
    (the latest ``at``, UTC microseconds); ``team`` is ``""`` on the row that
    counts every activity, and each team of an activity has its own row.
    Primary key ``(tenant, day, actor, kind, team)``.  Each batch upserts its rows,
    aggregated in Python first, in key order.
``{prefix}stories``
    ``seq``, ``id`` (unique per tenant: a story is kept once), ``at_us`` and
    ``story`` (JSON); index ``(tenant, at_us, seq)`` for the feed.

Both tables lead with ``tenant`` (see :mod:`e2badges.storage._sql_schema`), and
every statement here filters on it or writes it.

Adoption queries are single ``GROUP BY`` statements over the rollup, so a year
of activity for 10,000 people reads its rollup rows in the database and returns
one row per group.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Insert,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    distinct,
    func,
    select,
)
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from .._badges import RESERVED_KINDS
from .._engine import EffectBatch
from .._models import MAX_IDENTIFIER_LENGTH, MAX_KIND_LENGTH, Award, Story
from .._people import Visibility
from ._adoption import FIELDS, utc_labels, visible
from ._codec import decode_record, epoch_us

__all__ = [
    "AdoptionTables",
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
    stories: Table


def adoption_tables(
    metadata: MetaData,
    prefix: str,
    options: dict[str, Any],
    json_text: Any,
    seq: Any,
    *,
    tenant: Any,
) -> AdoptionTables:
    """Add the rollup and stories tables to ``metadata``."""
    ident = String(MAX_IDENTIFIER_LENGTH)
    days = Table(
        f"{prefix}activity_days",
        metadata,
        Column("tenant", tenant, nullable=False),
        Column("day", String(10), nullable=False),
        Column("actor", ident, nullable=False),
        Column("kind", String(MAX_KIND_LENGTH), nullable=False),
        Column("team", ident, nullable=False),
        Column("week", String(8), nullable=False),
        Column("month", String(7), nullable=False),
        Column("n", BigInteger, nullable=False),
        Column("last_us", BigInteger, nullable=False),
        PrimaryKeyConstraint(
            "tenant", "day", "actor", "kind", "team", name=f"pk_{prefix}activity_days"
        ),
        **options,
    )
    stories = Table(
        f"{prefix}stories",
        metadata,
        Column("tenant", tenant, nullable=False),
        Column("seq", seq, primary_key=True, autoincrement=True),
        Column("id", String(64), nullable=False),
        Column("at_us", BigInteger, nullable=False),
        Column("story", json_text, nullable=False),
        UniqueConstraint("tenant", "id", name=f"uq_{prefix}stories_id"),
        Index(f"ix_{prefix}stories_at", "tenant", "at_us", "seq"),
        **options,
    )
    return AdoptionTables(days, stories)


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
    tenant: str,
) -> None:
    """Store the stories of ``batch`` and add its activities to the rollup, under ``tenant``."""
    rollup: dict[tuple[str, str, str, str], list[Any]] = {}
    stories: list[dict[str, Any]] = []
    local = batch.local
    for i, (activity, outcome) in enumerate(batch.recorded):
        stories.extend(
            {"tenant": tenant, "id": s.id, "at_us": epoch_us(s.at), "story": encode_story(s)}
            for s in outcome.stories
        )
        if activity.kind in RESERVED_KINDS:
            continue
        day, week, month = local[i] if i < len(local) else utc_labels(activity)
        us = epoch_us(activity.at)  # type: ignore[arg-type]  # filled by the facade
        for team in ("", *activity.teams):
            key = (day, activity.actor, activity.kind, team)
            row = rollup.get(key)
            if row is None:
                rollup[key] = [week, month, 1, us]
            else:
                row[2] += 1
                row[3] = max(row[3], us)
    dialect = conn.dialect.name
    if stories:
        conn.execute(insert_ignoring(tables.stories, dialect), stories)
    if rollup:
        t = tables.days
        rows = [
            {
                "tenant": tenant,
                "day": k[0],
                "actor": k[1],
                "kind": k[2],
                "team": k[3],
                "week": v[0],
                "month": v[1],
                "n": v[2],
                "last_us": v[3],
            }
            for k, v in sorted(rollup.items())  # key order: concurrent batches lock alike
        ]
        conn.execute(_upsert(t, dialect), rows)


def _upsert(t: Table, dialect: str) -> Any:
    if dialect in ("mysql", "mariadb"):
        mine = mysql_insert(t)
        return mine.on_duplicate_key_update(
            n=t.c.n + mine.inserted.n, last_us=func.greatest(t.c.last_us, mine.inserted.last_us)
        )
    stmt = pg_insert(t) if dialect == "postgresql" else sqlite_insert(t)
    latest = func.greatest if dialect == "postgresql" else func.max
    return stmt.on_conflict_do_update(
        index_elements=[t.c.tenant, t.c.day, t.c.actor, t.c.kind, t.c.team],
        set_={"n": t.c.n + stmt.excluded.n, "last_us": latest(t.c.last_us, stmt.excluded.last_us)},
    )


# -- reading ----------------------------------------------------------------------------


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
    """Answer :meth:`Store.activity_totals` with one GROUP BY over the rollup."""
    t = tables.days
    for name in by:
        if name not in FIELDS:
            raise ValueError(f"cannot group by {name!r}; use {', '.join(FIELDS)}")
    columns = [t.c[name] for name in by]
    query = select(
        *columns, func.count(distinct(t.c.actor)), func.sum(t.c.n), func.max(t.c.last_us)
    ).where(t.c.tenant == tenant)
    if "team" in by:
        query = query.where(t.c.team != "" if team is None else t.c.team == team)
    else:
        query = query.where(t.c.team == (team or ""))
    if start is not None:
        query = query.where(t.c.day >= start)
    if stop is not None:
        query = query.where(t.c.day <= stop)
    if kinds is not None:
        query = query.where(t.c.kind.in_(sorted(kinds)))
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
    """Answer :meth:`Store.first_active` with one GROUP BY over the rollup."""
    t = tables.days
    query = (
        select(t.c.actor, func.min(t.c.day))
        .where(t.c.tenant == tenant, t.c.team == (team or ""))
        .group_by(t.c.actor)
    )
    return {str(row[0]): str(row[1]) for row in conn.execute(query)}


def first_awards(conn: Connection, awards: Table, tenant: str) -> dict[str, float]:
    """Answer :meth:`Store.first_awards`: each person's first award in award order."""
    mine = awards.c.tenant == tenant
    firsts = select(func.min(awards.c.seq)).where(mine).group_by(awards.c.user_id)
    rows = conn.execute(
        select(awards.c.user_id, awards.c.award).where(mine, awards.c.seq.in_(firsts))
    )
    return {user: decode_record(Award, text).at.timestamp() for user, text in rows}


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
) -> list[Story]:
    """Answer :meth:`Store.feed`: read stories newest first, page by page, and filter.

    ``read`` runs one query in its own connection, so that ``privacy`` (which
    queries the store, once per page for the people not seen yet) never runs
    inside one.
    """
    t = tables.stories
    known: dict[str, Visibility | None] = {}
    out: list[Story] = []
    page = max(100, 4 * limit)
    after: tuple[int, int] | None = None
    while len(out) < limit:
        query = (
            select(t.c.at_us, t.c.seq, t.c.story)
            .where(t.c.tenant == tenant)
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
