"""Erasure: how a person's id is replaced and their content dropped, the same in every store.

``Rewards.erase_person(user)`` draws a random pseudonym (:func:`new_pseudonym`:
not derived from the id, so nothing leads back from it) and asks the store to
rewrite, in one transaction, everything that names the person.  The store finds
what to rewrite; the functions here say how, so that every store erases alike.
Everything here is pure.

- An activity the person did or received keeps its id, kind, time, value and
  teams (so organisation-wide figures stay as they were), with the pseudonym as
  actor or recipient, and loses its content: its ``object`` becomes the object's
  stand-in (the one state keys get, so that a rebuild from the log counts objects
  as before), and its ``attributes`` keep only a grant's or revocation's badge,
  tier and period (its reason becomes :data:`ERASED_REASON`) or the numbers,
  booleans and nulls of the fields its kind's payload declares
  (:func:`erased_attributes`).  In other activities, attribute values equal to
  the id become the pseudonym.
- Outcomes, awards, revocations, ledger lines, level changes, board rows,
  notifications and state name the pseudonym instead; stories naming the person
  are removed.
- State keys are parts joined by ``SEP``; :data:`KEY_SHAPES` says, for each
  family of keys the engine writes, which parts hold a person and which an
  object (:func:`key_shape`).  Only those parts are compared with the id: a part
  that is a day number, a period, a badge, rule or activity id stays as it is
  whatever it reads.  In a key of the person, each object part equal to the
  object of an activity they did or received becomes that object's stand-in
  (:func:`object_stand_ins`).  In state values, only the positions the key's
  shape names hold people (a first place's holder, a leader, a team's members).
- Notification payloads and story data hold people in fields named in
  :data:`PERSON_FIELDS` (``user``, ``by``, ``subject``, ...), at any depth; other
  fields (``activity_id``, ``badge``, ``period``) are never rewritten, and
  :func:`payload_mentions` matches only those fields.
- A notification is about the person when its payload names them so, or when it
  is the outcome notification of an activity they did or received
  (:func:`notification_about`, the notifications ``export_person`` returns).  The
  delivery errors of those are free text a plugin wrote, which may hold the id
  anywhere (or a name, an address): each becomes :data:`ERASED_ERROR`
  (:func:`erase_errors`).  The errors of other notifications are never rewritten,
  whatever text they hold.
- Plugin state (``plg SEP plugin SEP ...``) is opaque: each part after the
  plugin's name equal to the id is the person's, and so is each string equal to
  it in the value (see ``PluginState``).  A key of a family not in
  :data:`KEY_SHAPES` is treated the same way, as a last resort; a test checks that
  the engine writes none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from ._badges import GRANT_KIND, REVOKE_KIND
from ._frozen import freeze
from ._leaderboards import BoardRow
from ._models import Activity, Award, LevelChange, Outcome, Revocation, Story, trusted_copy
from ._notifications import Notification, outcome_notification_id
from ._rules import SEP

__all__ = [
    "ERASED_ERROR",
    "ERASED_PREFIX",
    "ERASED_REASON",
    "KEY_SHAPES",
    "PERSON_FIELDS",
    "KeyShape",
    "erase_activity",
    "erase_errors",
    "erase_key",
    "erase_outcome",
    "erase_payload",
    "erase_row",
    "erase_story",
    "erase_value",
    "erased_activity",
    "erased_attributes",
    "head_names",
    "key_shape",
    "new_pseudonym",
    "notification_about",
    "object_stand_ins",
    "outcome_ids",
    "partners",
    "payload_mentions",
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
        return _each(value, lambda item: scrub(item, user, pseudonym))
    if isinstance(value, dict):
        out = {(pseudonym if k == user else k): scrub(v, user, pseudonym) for k, v in value.items()}
        if user not in value and all(out[k] is v for k, v in value.items()):
            return value
        return out
    return value


def _each(value: list[Any] | tuple[Any, ...], change: Callable[[Any], Any]) -> Any:
    """Return ``value`` with ``change`` applied to each item: the same object when no
    item changed, else a new list or tuple."""
    items = [change(item) for item in value]
    if all(a is b for a, b in zip(items, value, strict=True)):
        return value
    return type(value)(items) if isinstance(value, tuple) else items


#: The fields of notification payloads and story data that hold a person's id (a
#: string, or a list of them), at any depth: an award's or a level change's
#: ``user``, a revocation's ``by``, a leader story's ``subject``, a closed
#: period's ``standings[*].user``.  Other fields hold ids of other things.
PERSON_FIELDS = frozenset({"user", "by", "actor", "recipient", "subject", "people", "members"})


def erase_payload(value: Any, user: str, pseudonym: str) -> Any:
    """Return a payload (or story data) with ``user`` replaced in its person fields.

    Only the values of :data:`PERSON_FIELDS` (a string or a list of strings) are
    compared with ``user``; other fields are searched for nested dicts (the
    ``standings`` of a closed period) but never rewritten.  Dicts and lists are
    copied only where something changed; the same object comes back otherwise.
    """
    if isinstance(value, list | tuple):
        return _each(value, lambda item: erase_payload(item, user, pseudonym))
    if isinstance(value, dict):
        out = {}
        changed = False
        for k, v in value.items():
            if k in PERSON_FIELDS and isinstance(v, str | list | tuple):
                new = _rename_people(v, user, pseudonym)
            else:
                new = erase_payload(v, user, pseudonym)
            changed = changed or new is not v
            out[k] = new
        return out if changed else value
    return value


def _rename_people(value: Any, user: str, pseudonym: str) -> Any:
    """Return a person id, or a list of them, with ``user`` replaced."""
    if isinstance(value, str):
        return pseudonym if value == user else value
    if isinstance(value, list | tuple) and user in value:
        items = [pseudonym if v == user else v for v in value]
        return type(value)(items) if isinstance(value, tuple) else items
    return value


def payload_mentions(value: Any, user: str) -> bool:
    """Return whether a payload names ``user`` in one of its :data:`PERSON_FIELDS`."""
    return erase_payload(value, user, "\x00") is not value


#: What erasure leaves of each delivery error of a notification about the erased person.
ERASED_ERROR = "(erased: the notification is about an erased person)"


def outcome_ids(activity_ids: Iterable[str]) -> frozenset[str]:
    """Return the ids of the outcome notifications of ``activity_ids``."""
    return frozenset(outcome_notification_id(aid) for aid in activity_ids)


def notification_about(notification: Notification, user: str, outcomes: Collection[str]) -> bool:
    """Return whether a notification (as stored before the erasure) is about ``user``.

    It is when its payload names them in one of its :data:`PERSON_FIELDS`
    (:func:`payload_mentions`), or when its id is in ``outcomes``: the ids of the
    outcome notifications of the activities they did or received (:func:`outcome_ids`),
    whose payload holds only the activity id.
    """
    return notification.id in outcomes or payload_mentions(dict(notification.payload), user)


def erase_errors(errors: Mapping[str, str]) -> Mapping[str, str]:
    """Return the delivery errors of a notification about the erased person: each
    plugin's error text becomes :data:`ERASED_ERROR` (the same object when none differs).

    The text is dropped whole rather than searched for the id: a plugin's message may
    hold the id anywhere, or their name or address, and a search would also rewrite
    what only reads like the id (a ``17`` in a URL or a duration).
    """
    if all(error == ERASED_ERROR for error in errors.values()):
        return errors
    return dict.fromkeys(errors, ERASED_ERROR)


@dataclasses.dataclass(frozen=True, slots=True)
class KeyShape:
    """Where the keys of one state-key family, and their values, hold people.

    A key (parts joined by ``SEP``) has this shape when it has ``length`` parts
    (None: any number, from ``rest`` on) and its parts at the positions of
    ``match`` read as given.  ``people`` are the positions of person ids; the
    first is the key's person (whose key it is).  ``objects`` hold the object of
    an activity of the key's person; ``either`` hold an object, a day or the
    other party of an activity of the key's person (which, the key cannot tell:
    a part there equal to the id is the person's when the key is theirs or
    their partner's, see :func:`partners`).  From ``rest`` on, every part is a
    person id when equal to one (plugin keys).  ``values`` are the positions of
    the value (a list) holding a person id or a list of them; ``opaque``: every
    string in the value equal to the id is theirs (:func:`scrub`).
    """

    match: tuple[tuple[int, str], ...]
    length: int | None
    people: tuple[int, ...] = ()
    objects: tuple[int, ...] = ()
    either: tuple[int, ...] = ()
    rest: int | None = None
    values: tuple[int, ...] = ()
    opaque: bool = False

    def fits(self, parts: list[str]) -> bool:
        """Return whether a key split into ``parts`` has this shape."""
        if self.length is None:
            if len(parts) < (self.rest or 0):
                return False
        elif len(parts) != self.length:
            return False
        return all(parts[i] == text for i, text in self.match)


def _shape(*match: str, length: int | None, **where: Any) -> KeyShape:
    """Return the shape of keys whose first parts are ``match``."""
    return KeyShape(tuple(enumerate(match)), length, **where)


#: The state-key families the engine writes, with where their keys and values hold
#: people.  The builders are in ``_rules`` (``bal``, ``once``, ``cool``, ``first``,
#: ``cap``), ``_criteria`` (``bm``, ``bd``, ``bs``, ``bw``, ``bf``, ``bh``, ``lvl``),
#: ``_stories`` (``st``), ``_leaderboards`` (``lb``), ``_rewards`` (``closed``) and
#: ``_plugins`` (``sub``, ``plg``).  Parts are counted from 0; ``period`` and ``day``
#: parts may be empty.
KEY_SHAPES: tuple[KeyShape, ...] = (
    # bal SEP currency SEP user
    _shape("bal", length=3, people=(2,)),
    # once|cool SEP rule SEP user SEP object
    _shape("once", length=4, people=(2,), objects=(3,)),
    _shape("cool", length=4, people=(2,), objects=(3,)),
    # first SEP rule SEP user
    _shape("first", length=3, people=(2,)),
    # cap SEP r SEP rule SEP window SEP per SEP user [SEP object | other] SEP period
    KeyShape((((0, "cap"), (1, "r"), (4, "person"))), 7, people=(5,)),
    KeyShape((((0, "cap"), (1, "r"), (4, "pair"))), 8, people=(5, 6)),
    KeyShape((((0, "cap"), (1, "r"), (4, "object"))), 8, people=(5,), objects=(6,)),
    # cap SEP n SEP name SEP user [SEP object | other] SEP period (a shared cap: no per)
    _shape("cap", "n", length=5, people=(3,)),
    _shape("cap", "n", length=6, people=(3,), either=(4,)),
    # bm SEP badge SEP user SEP period; bd ... SEP period SEP object, day or other party
    _shape("bm", length=4, people=(2,)),
    _shape("bd", length=5, people=(2,), either=(4,)),
    # bs|bh SEP badge SEP user; bw SEP badge SEP user SEP day
    _shape("bs", length=3, people=(2,)),
    _shape("bh", length=3, people=(2,)),
    _shape("bw", length=4, people=(2,)),
    # bf SEP badge SEP team: [at (microseconds since the epoch), activity id, holder]
    _shape("bf", length=3, values=(2,)),
    # lvl SEP user
    _shape("lvl", length=2, people=(1,)),
    # st SEP ld SEP board SEP period: [sort key, reached, subject]
    _shape("st", "ld", length=4, values=(2,)),
    # st SEP pb SEP board SEP subject: [sort key, period]
    _shape("st", "pb", length=4, people=(3,)),
    # st SEP ms SEP kind [SEP team]
    _shape("st", "ms", length=3),
    _shape("st", "ms", length=4),
    # lb SEP board SEP period SEP subject: [total, count, reached(, members)]
    _shape("lb", length=4, people=(3,), values=(3,)),
    # closed SEP board SEP window SEP period
    _shape("closed", length=4),
    # sub SEP activity id (deleted with the person's activities: submitted_keys)
    _shape("sub", length=2),
    # plg SEP plugin SEP key parts...: one person id per part (see PluginState)
    _shape("plg", length=None, rest=2, opaque=True),
)

_BY_HEAD: dict[str, tuple[KeyShape, ...]] = {}
for _s in KEY_SHAPES:
    _BY_HEAD[_s.match[0][1]] = (*_BY_HEAD.get(_s.match[0][1], ()), _s)

#: What a key of an unknown family is erased as: every part equal to the id, and every
#: string equal to it in the value.
_UNKNOWN = KeyShape((), None, rest=0, opaque=True)


def key_shape(key: str) -> KeyShape | None:
    """Return the shape of a state key, or None for a family not in :data:`KEY_SHAPES`."""
    parts = key.split(SEP)
    for shape in _BY_HEAD.get(parts[0], ()):
        if shape.fits(parts):
            return shape
    return None


def erase_value(key: str, value: Any, user: str, pseudonym: str) -> Any:
    """Return the value of state key ``key`` with ``user`` replaced where it holds people.

    The same object comes back when nothing changed.
    """
    shape = key_shape(key) or _UNKNOWN
    if shape.opaque:
        return scrub(value, user, pseudonym)
    if not shape.values or not isinstance(value, list):
        return value
    out = value
    for i in shape.values:
        if i < len(value):
            new = _rename_people(value[i], user, pseudonym)
            if new is not value[i]:
                out = list(out) if out is value else out
                out[i] = new
    return out


_BADGE_KINDS = frozenset({GRANT_KIND, REVOKE_KIND})
_BADGE_IDS = frozenset({"badge", "tier", "period"})

#: What erasure leaves of the reason of a grant or revocation the erased person made or
#: received: the reason is free text, and a grant's or revocation's activity needs one.
ERASED_REASON = "(erased)"


def erase_activity(
    activity: Activity,
    user: str,
    pseudonym: str,
    objects: Mapping[str, str] | None = None,
    declared: Collection[str] = (),
) -> Activity | None:
    """Return ``activity`` with ``user`` erased from it, or None if it does not name them.

    An activity ``user`` did or received gets the pseudonym in their place and loses its
    content, but keeps what a rebuild from the log needs to give everyone the same
    figures (see :func:`erased_attributes`): its object becomes its stand-in in
    ``objects`` (:func:`object_stand_ins`: the one the state keys get; the pseudonym
    for an object equal to the id; dropped when ``objects`` has none), and of its
    attributes only those :func:`erased_attributes` keeps stay; ``declared`` are the
    attribute names its kind's payload declares.  In other activities, attribute
    values equal to the id become the pseudonym (a grant's or revocation's ``badge``,
    ``tier`` and ``period`` stay: they are ids), and so do teams and an object equal
    to it.
    """
    if user in (activity.actor, activity.recipient):
        obj = activity.object
        if obj is not None:
            obj = pseudonym if obj == user else (objects or {}).get(obj)
        return trusted_copy(
            activity,
            actor=pseudonym if activity.actor == user else activity.actor,
            recipient=pseudonym if activity.recipient == user else activity.recipient,
            object=obj,
            attributes=freeze(erased_attributes(activity, declared)),
        )
    attributes = activity.attributes
    if activity.kind in _BADGE_KINDS:
        # A grant's or revocation's badge, tier and period are ids, not people.
        kept = {k: v for k, v in attributes.items() if k not in _BADGE_IDS}
        scrubbed = scrub(kept, user, pseudonym)
        if scrubbed is not kept:
            attributes = {**attributes, **scrubbed}
    else:
        attributes = scrub(attributes, user, pseudonym)
    teams = scrub(activity.teams, user, pseudonym)
    obj = pseudonym if activity.object == user else activity.object
    if attributes is activity.attributes and teams is activity.teams and obj == activity.object:
        return None
    return trusted_copy(activity, attributes=freeze(attributes), teams=teams, object=obj)


def erased_attributes(activity: Activity, declared: Collection[str] = ()) -> dict[str, Any]:
    """Return what erasure keeps of the attributes of an activity the person did or received.

    A grant's or revocation's ``badge``, ``tier`` and ``period`` (ids), its reason
    becoming :data:`ERASED_REASON`; of other kinds, the numbers, booleans and nulls of
    the attributes named in ``declared`` (those its kind's payload declares), which a
    rule may compute from, as it may from ``value``.  Text, lists and maps, which may
    hold anything, and undeclared attributes are dropped.
    """
    attributes = activity.attributes
    if activity.kind in _BADGE_KINDS:
        kept = {k: v for k, v in attributes.items() if k in _BADGE_IDS}
        if "reason" in attributes:
            kept["reason"] = ERASED_REASON
        return kept
    return {
        k: v
        for k, v in attributes.items()
        if k in declared and (v is None or isinstance(v, bool | int | float))
    }


def _rename(item: Any, user: str, pseudonym: str, *names: str) -> Any:
    changes = {name: pseudonym for name in names if getattr(item, name) == user}
    return dataclasses.replace(item, **changes) if changes else item


def erase_story(story: Story, user: str, pseudonym: str) -> Story | None:
    """Return ``story`` with ``user`` erased, or None when it names them (it is removed).

    A story naming others only has the id replaced in the person fields of its
    ``data`` (:func:`erase_payload`).
    """
    if user in story.people:
        return None
    data = erase_payload(dict(story.data), user, pseudonym)
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


def partners(activities: Iterable[Activity], user: str) -> frozenset[str]:
    """Return the other parties (actor or recipient) of the activities ``user`` did or received.

    A key of one of them may name ``user`` as its counterpart (see
    :class:`KeyShape`'s ``either``).  ``activities`` may hold others' (skipped).
    """
    out: set[str] = set()
    for activity in activities:
        if activity.actor == user and activity.recipient is not None:
            out.add(activity.recipient)
        elif activity.recipient == user:
            out.add(activity.actor)
    out.discard(user)
    return frozenset(out)


def erase_key(
    key: str,
    user: str,
    pseudonym: str,
    objects: Mapping[str, str] | None = None,
    partners: Collection[str] = (),
) -> str:
    """Return a state key with ``user`` (and their activities' objects) replaced.

    The key's shape (:func:`key_shape`) says which parts hold a person: those
    equal to ``user`` become ``pseudonym``.  In a key of ``user`` (its first
    person part is theirs), each object part that is a key of ``objects`` (see
    :func:`object_stand_ins`) becomes its value.  A part that may hold an object
    or a counterpart (``either``) equal to ``user`` is theirs when the key is
    theirs or belongs to one of their ``partners`` (:func:`partners`).  Other
    parts (the key's kind, rule, badge or board id, a period, a day, an activity
    id) are never replaced, so the key keeps its shape and no one else's key
    changes.  A key of an unknown family has every part equal to ``user``
    replaced (and, after the first, objects).
    """
    if user not in key:
        return key
    parts = key.split(SEP)
    if user not in parts:
        return key
    shape = key_shape(key)
    if shape is None:
        return _erase_unknown(parts, user, pseudonym, objects)
    out = list(parts)
    people = list(shape.people)  # a shape fits keys of its length only
    if shape.rest is not None:
        people.extend(range(shape.rest, len(parts)))
    theirs = False
    for i in people:
        if parts[i] == user:
            out[i] = pseudonym
            theirs = True
    owner = parts[shape.people[0]] if shape.people else None
    if shape.either and owner is not None and (theirs or owner in partners):
        for i in shape.either:
            if parts[i] == user:
                out[i] = pseudonym
    if objects and owner == user:
        for i in (*shape.objects, *shape.either):
            if out[i] in objects:
                out[i] = objects[out[i]]
    return key if out == parts else SEP.join(out)


def head_names(head: str, user: str, partners: Collection[str] = ()) -> bool:
    """Return whether the first characters of a long state key name ``user``.

    A store that keeps a long key as its first characters and a digest (the SQL
    store) cannot rename it, only delete it when it names the person.  The head's
    last part may be cut short, so only its complete parts are compared, at the
    positions where the shapes the head fits hold a person (every shape it fits,
    when its cut part is the one that tells them apart).  A head of a family not
    in :data:`KEY_SHAPES` names ``user`` when any part equals the id.
    """
    parts = head.split(SEP)
    complete = len(parts) - 1
    shapes = [
        shape
        for shape in _BY_HEAD.get(parts[0], ())
        if (shape.length is None or shape.length >= len(parts))
        and all(parts[i] == text for i, text in shape.match if i < complete)
    ]
    if not shapes:
        return user in parts
    for shape in shapes:
        people = [*shape.people, *range(shape.rest or len(parts), len(parts))]
        if any(i < complete and parts[i] == user for i in people):
            return True
        # A part that may be the other party is theirs in the keys of their partners.
        owner = shape.people[0] if shape.people else complete
        partner = owner < complete and parts[owner] in partners
        if partner and any(i < complete and parts[i] == user for i in shape.either):
            return True
    return False


def _erase_unknown(
    parts: list[str], user: str, pseudonym: str, objects: Mapping[str, str] | None
) -> str:
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
