"""Erasure: how a person's id is replaced and their content dropped, the same in every store.

``Rewards.erase_person(user)`` draws a random pseudonym (:func:`new_pseudonym`:
not derived from the id, so nothing leads back from it) and asks the store to
rewrite, in one transaction, everything that names the person.  The store finds
what to rewrite; the functions here say how, so that every store erases alike.
Everything here is pure.

- An activity the person did or received keeps its id, kind, time, value and
  teams (so organisation-wide figures stay as they were), with the pseudonym as
  actor or recipient, and loses its ``object`` and ``attributes`` (its content).
  In other activities, attribute values equal to the id become the pseudonym.
- Outcomes, awards, revocations, ledger lines, level changes, board rows,
  notifications and state name the pseudonym instead; stories naming the person
  are removed.
- State keys are parts joined by ``SEP``: each part equal to the id becomes the
  pseudonym, and in a key naming them, each later part equal to the object of an
  activity they did or received becomes that object's stand-in
  (:func:`object_stand_ins`); in state values, every string equal to the id becomes
  the pseudonym.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ._leaderboards import BoardRow
from ._models import Activity, Award, LevelChange, Outcome, Revocation, Story
from ._rules import SEP

__all__ = [
    "ERASED_PREFIX",
    "erase_activity",
    "erase_key",
    "erase_outcome",
    "erase_row",
    "erase_story",
    "erased_activity",
    "new_pseudonym",
    "object_stand_ins",
    "scrub",
    "submitted_keys",
]

#: Pseudonyms of erased people start with this: ``erased-`` and 24 random hex digits.
ERASED_PREFIX = "erased-"


def new_pseudonym() -> str:
    """Return a fresh random pseudonym (96 random bits; nothing derives it from an id)."""
    return f"{ERASED_PREFIX}{secrets.token_hex(12)}"


def erased_activity(activity: Activity) -> bool:
    """Return whether a stored activity belonged to (was done or received by) an erased person."""
    return activity.actor.startswith(ERASED_PREFIX) or (
        activity.recipient is not None and activity.recipient.startswith(ERASED_PREFIX)
    )


def scrub(value: Any, user: str, pseudonym: str) -> Any:
    """Return ``value`` with every string equal to ``user`` (values and keys) replaced.

    Lists, tuples and dicts are copied only where something changed; the same
    object comes back when nothing names ``user``.
    """
    if isinstance(value, str):
        return pseudonym if value == user else value
    if isinstance(value, list | tuple):
        items = [scrub(item, user, pseudonym) for item in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        out = {(pseudonym if k == user else k): scrub(v, user, pseudonym) for k, v in value.items()}
        if user not in value and all(out[k] is v for k, v in value.items()):
            return value
        return out
    return value


def mentions(value: Any, user: str) -> bool:
    """Return whether a string equal to ``user`` occurs in ``value`` (values and keys)."""
    return scrub(value, user, "\x00") is not value


def erase_activity(activity: Activity, user: str, pseudonym: str) -> Activity | None:
    """Return ``activity`` with ``user`` erased from it, or None if it does not name them."""
    if user in (activity.actor, activity.recipient):
        return activity.model_copy(
            update={
                "actor": pseudonym if activity.actor == user else activity.actor,
                "recipient": pseudonym if activity.recipient == user else activity.recipient,
                "object": None,
                "attributes": {},
            }
        )
    attributes = scrub(activity.attributes, user, pseudonym)
    teams = scrub(activity.teams, user, pseudonym)
    obj = pseudonym if activity.object == user else activity.object
    if attributes is activity.attributes and teams is activity.teams and obj == activity.object:
        return None
    return activity.model_copy(update={"attributes": attributes, "teams": teams, "object": obj})


def _rename(item: Any, user: str, pseudonym: str, *names: str) -> Any:
    changes = {name: pseudonym for name in names if getattr(item, name) == user}
    return dataclasses.replace(item, **changes) if changes else item


def erase_story(story: Story, user: str, pseudonym: str) -> Story | None:
    """Return ``story`` with ``user`` erased, or None when it names them (it is removed).

    A story naming others only has values in its ``data`` equal to the id replaced.
    """
    if user in story.people:
        return None
    data = scrub(dict(story.data), user, pseudonym)
    if data == story.data:
        return story
    return dataclasses.replace(story, data=data)


def erase_outcome(outcome: Outcome, user: str, pseudonym: str) -> Outcome | None:
    """Return ``outcome`` with ``user`` erased from it, or None if it does not name them."""
    ledger = tuple(_rename(e, user, pseudonym, "user") for e in outcome.ledger)
    awards: tuple[Award, ...] = tuple(_rename(a, user, pseudonym, "user") for a in outcome.awards)
    revocations: tuple[Revocation, ...] = tuple(
        _rename(r, user, pseudonym, "user", "by") for r in outcome.revocations
    )
    changes: tuple[LevelChange, ...] = tuple(
        _rename(c, user, pseudonym, "user") for c in outcome.level_changes
    )
    stories = tuple(
        s for s in (erase_story(s, user, pseudonym) for s in outcome.stories) if s is not None
    )
    new = Outcome(outcome.activity_id, ledger, awards, revocations, changes, stories)
    return None if new == outcome else new


def erase_record(item: Award | Revocation, user: str, pseudonym: str) -> Award | Revocation:
    """Return an award or revocation with ``user`` (as holder or grantor) replaced."""
    if isinstance(item, Revocation):
        return _rename(item, user, pseudonym, "user", "by")  # type: ignore[no-any-return]
    return _rename(item, user, pseudonym, "user")  # type: ignore[no-any-return]


def object_stand_ins(activities: Iterable[Activity], user: str, pseudonym: str) -> dict[str, str]:
    """Return, for the object of each activity ``user`` did or received, what replaces it in keys.

    State keys such as ``once_per_object``'s, a cooldown's and a per-object cap's
    hold the object (see :func:`erase_key`).  Its stand-in is ``erased-`` and the
    SHA-256 of the pseudonym and the least id of the activities with that object:
    it owes nothing to the object (no guess can be checked against it); distinct
    objects have distinct stand-ins (an activity has one object), and none equals a
    part stored before (the pseudonym is fresh).  Every store sees the same
    activities, so every store gives the same stand-ins.  ``activities`` may hold
    others' activities (skipped); an object equal to ``user`` or empty gets none.
    """
    first: dict[str, str] = {}
    for activity in activities:
        obj = activity.object
        theirs = user in (activity.actor, activity.recipient)
        if theirs and obj and obj != user and (obj not in first or activity.id < first[obj]):
            first[obj] = activity.id
    return {
        obj: ERASED_PREFIX
        + hashlib.sha256(f"{pseudonym}{SEP}{aid}".encode("utf-8", "surrogatepass")).hexdigest()
        for obj, aid in first.items()
    }


def erase_key(key: str, user: str, pseudonym: str, objects: Mapping[str, str] | None = None) -> str:
    """Return a state key with ``user`` (and their activities' objects) replaced.

    Each ``SEP``-separated part equal to ``user`` becomes ``pseudonym``; in a key
    naming them, each part after the first such part that is a key of ``objects``
    (see :func:`object_stand_ins`) becomes its value.  Parts before it (the key's
    kind, rule, badge or board id) are never replaced, so the key keeps its shape.
    """
    if user not in key:
        return key
    parts = key.split(SEP)
    if user not in parts:
        return key
    start = parts.index(user)
    out = parts[:start]
    for part in parts[start:]:
        if part == user:
            out.append(pseudonym)
        elif objects and part in objects:
            out.append(objects[part])
        else:
            out.append(part)
    return SEP.join(out)


def submitted_keys(activity_ids: Collection[str]) -> list[str]:
    """Return the state keys holding what a check hook replaced in these activities.

    They hold submitted content (see ``Plugins.submitted``); erasure deletes them.
    """
    return [f"sub{SEP}{aid}" for aid in activity_ids]


def erase_row(row: BoardRow, user: str, pseudonym: str) -> BoardRow:
    """Return a board row with ``user`` replaced as its subject or among its members."""
    subject = pseudonym if row.subject == user else row.subject
    members = row.members
    if user in members:
        members = tuple(sorted(pseudonym if m == user else m for m in members))
    if subject is row.subject and members is row.members:
        return row
    return row._replace(subject=subject, members=members)
