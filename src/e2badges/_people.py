"""People: display names, team memberships over time, groups and privacy settings.

Workplace gamification lives under privacy law and works councils: people may
stay off leaderboards and off the stories feed, some groups are kept off some
boards, and what colleagues see of a person follows a display policy.  This
module holds the records (:class:`Person`, :class:`Membership`,
:class:`PrivacySettings`), the display policy and the :class:`People`
directory that :attr:`Rewards.people <e2badges.Rewards.people>` returns.  The
records and the policy are pure; the directory reads and writes through the
store.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection, Iterable, Mapping, Set
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, SecretStr, ValidationError, field_validator

from ._clock import checked_now
from ._errors import ConfigurationError, InvalidPersonError
from ._limits import check_at, fixed_offset
from ._models import check_identifier
from ._rules import FromPlainData

if TYPE_CHECKING:
    from ._clock import Clock
    from .storage.base import Store

__all__ = [
    "DISPLAY_STYLES",
    "DisplayPolicy",
    "DisplayStyle",
    "Membership",
    "People",
    "Person",
    "PrivacySettings",
    "Visibility",
    "story_visible",
]

DisplayStyle = Literal["full_name", "initials", "pseudonym"]
DISPLAY_STYLES: tuple[DisplayStyle, ...] = ("full_name", "initials", "pseudonym")

#: At most this many groups and memberships per person.
MAX_GROUPS = 64
MAX_MEMBERSHIPS = 1000

#: Stories about a leaderboard: they follow the leaderboard settings of the people in them.
BOARD_STORIES = frozenset({"leader", "personal_best"})


# -- records ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Membership:
    """A person's membership of ``team`` from ``joined`` (inclusive) to ``left`` (exclusive).

    ``joined=None`` means a member since always; ``left=None`` a member still.
    """

    team: str
    joined: datetime | None = None
    left: datetime | None = None

    def covers(self, at: datetime) -> bool:
        """Return whether the membership holds at ``at`` (joined <= at < left), comparing
        instants (see :func:`instant`)."""
        joined, left = self.joined, self.left
        if joined is None and left is None:
            return True
        moment = instant(at)
        return (joined is None or instant(joined) <= moment) and (
            left is None or moment < instant(left)
        )


def instant(at: datetime) -> datetime:
    """Return an aware datetime in UTC, to compare it with another as an instant.

    Python compares two datetimes that share a ``tzinfo`` by their wall-clock times
    and ignores ``fold`` (PEP 495): in the hour a DST change repeats, 02:10 of the
    second pass (``fold=1``) reads as before 02:30 of the first, though it is 40
    minutes after it.  A time read back from a SQL store has a fixed UTC offset
    and compares as an instant, so every store compares as the SQL stores do.
    """
    return at.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class PrivacySettings:
    """What a person chose to share.

    ``leaderboards``: listed on leaderboards shown to others; ``feed``: named in
    stories shown to others; ``display``: the display style they chose (used
    only where the :class:`DisplayPolicy` lets people choose), None for the
    organisation's default.
    """

    leaderboards: bool = True
    feed: bool = True
    display: DisplayStyle | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """Everything e2badges holds about a person beyond their activity.

    ``display_name`` is their real name (None when unknown); ``groups`` are
    labels such as ``"managers"`` that boards can exclude
    (``Leaderboard(exclude_groups=...)``); ``memberships`` their team history,
    in the order given; ``settings`` their privacy settings.
    """

    user: str
    display_name: str | None = None
    groups: tuple[str, ...] = ()
    memberships: tuple[Membership, ...] = ()
    settings: PrivacySettings = field(default_factory=PrivacySettings)

    def teams_at(self, at: datetime) -> tuple[str, ...]:
        """Return the teams the person belonged to at ``at``, in membership order, once each."""
        return teams_at(self.memberships, at)

    @property
    def teams(self) -> tuple[str, ...]:
        """Return the teams of the memberships not ended (``left`` is None)."""
        out: list[str] = []
        for membership in self.memberships:
            if membership.left is None and membership.team not in out:
                out.append(membership.team)
        return tuple(out)


def teams_at(memberships: Iterable[Membership], at: datetime) -> tuple[str, ...]:
    """Return the teams of ``memberships`` that hold at ``at``, once each, in order."""
    out: list[str] = []
    for membership in memberships:
        if membership.covers(at) and membership.team not in out:
            out.append(membership.team)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Visibility:
    """What hides a person from what others see (the stores' answer for the feed).

    ``board_opt_out``: they opted out of every leaderboard; ``feed_opt_out``:
    out of the stories feed; ``excluded``: the boards they are excluded from.
    """

    board_opt_out: bool = False
    feed_opt_out: bool = False
    excluded: frozenset[str] = frozenset()


def story_visible(
    story: Any, viewer: str | None, privacy: Callable[[str], Visibility | None]
) -> bool:
    """Return whether ``viewer`` may see ``story`` (the Store.feed contract).

    The people in a story always see it.  Others do not see private stories,
    stories naming someone who opted out of the feed, nor leader and
    personal-best stories of a board naming someone who opted out of
    leaderboards or is excluded from that board.
    """
    people = story.people
    if viewer is not None and viewer in people:
        return True
    if story.private:
        return False
    if not people:
        return True
    board = story.data.get("board") if story.kind in BOARD_STORIES else None
    for person in people:
        seen = privacy(person)
        if seen is None:
            continue
        if seen.feed_opt_out:
            return False
        if board is not None and (seen.board_opt_out or board in seen.excluded):
            return False
    return True


# -- validation -------------------------------------------------------------------------


def _ident(field_name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidPersonError(field_name, f"must be a string; got {type(value).__name__}")
    try:
        return check_identifier(value)
    except ValueError as exc:
        raise InvalidPersonError(field_name, str(exc)) from None


def _aware(field_name: str, value: object) -> datetime:
    """Return a membership time if it is a valid ``Activity.at``, else raise InvalidPersonError.

    Membership times are compared with activity times, so they are held to the
    same limits: a SQL store keeps whole-second offsets only.  The time is returned
    at its UTC offset, without its zone, as every store returns activity times.
    """
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidPersonError(field_name, f"must be a timezone-aware datetime; got {value!r}")
    try:
        return fixed_offset(check_at(value))
    except ValueError as exc:
        raise InvalidPersonError(field_name, str(exc)) from None


def check_user(value: object) -> str:
    """Return ``value`` if it is a valid user id, else raise InvalidPersonError."""
    return _ident("user", value)


def check_display_name(value: object) -> str | None:
    """Return a valid display name (or None), else raise InvalidPersonError."""
    if value is None:
        return None
    name = _ident("display_name", value)
    if not name.strip():
        raise InvalidPersonError("display_name", "must not be blank; use None for no name")
    return name


def check_groups(value: object) -> tuple[str, ...]:
    """Return valid groups as a tuple (each once), else raise InvalidPersonError.

    Groups given as a set are sorted: a set's order changes with PYTHONHASHSEED.
    """
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidPersonError("groups", f"must be a list of group names; got {value!r}")
    groups = tuple(_ident("groups", group) for group in value)
    if isinstance(value, Set):
        groups = tuple(sorted(groups))
    if len(groups) > MAX_GROUPS:
        raise InvalidPersonError("groups", f"has {len(groups)} groups; the limit is {MAX_GROUPS}")
    if len(set(groups)) != len(groups):
        raise InvalidPersonError("groups", "names a group twice")
    return groups


def check_memberships(value: object) -> tuple[Membership, ...]:
    """Return valid memberships (team names become memberships since always).

    Raises InvalidPersonError for an invalid team, a naive time, a membership
    that ends before it starts, or two memberships of one team that overlap.
    Memberships given as a set are sorted by team, then start: a set's order
    changes with PYTHONHASHSEED, and an activity recorded without teams takes its
    actor's teams in the order of their memberships.
    """
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise InvalidPersonError(
            "teams", f"must be a list of team names or Memberships; got {value!r}"
        )
    out: list[Membership] = []
    for item in value:
        if isinstance(item, str):
            out.append(Membership(_ident("teams", item)))
            continue
        if not isinstance(item, Membership):
            raise InvalidPersonError(
                "teams", f"expected a team name or a Membership, got {type(item).__name__}"
            )
        team = _ident("teams", item.team)
        joined = None if item.joined is None else _aware("joined", item.joined)
        left = None if item.left is None else _aware("left", item.left)
        if joined is not None and left is not None and instant(left) <= instant(joined):
            raise InvalidPersonError("left", f"team {team!r}: must be after joined ({joined})")
        out.append(Membership(team, joined, left))
    if isinstance(value, Set):
        out.sort(key=lambda membership: (membership.team, _since(membership)))
    if len(out) > MAX_MEMBERSHIPS:
        raise InvalidPersonError(
            "teams", f"has {len(out)} memberships; the limit is {MAX_MEMBERSHIPS}"
        )
    by_team: dict[str, list[Membership]] = {}
    for membership in out:
        by_team.setdefault(membership.team, []).append(membership)
    for team, spans in by_team.items():
        spans.sort(key=_since)
        for before, after in pairwise(spans):
            if before.left is None or (
                after.joined is None or instant(after.joined) < instant(before.left)
            ):
                raise InvalidPersonError("teams", f"two memberships of team {team!r} overlap")
    return tuple(out)


def _since(membership: Membership) -> datetime:
    """Return when a membership started, in UTC, for sorting (always: the earliest time)."""
    joined = membership.joined
    return _ALWAYS if joined is None else instant(joined)


_ALWAYS = datetime.min.replace(tzinfo=UTC)


def check_style(field_name: str, value: object) -> DisplayStyle | None:
    """Return a display style (or None), else raise InvalidPersonError."""
    if value is None:
        return None
    if value not in DISPLAY_STYLES:
        raise InvalidPersonError(
            field_name, f"must be one of {', '.join(DISPLAY_STYLES)} or None; got {value!r}"
        )
    return value


def _flag(field_name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidPersonError(field_name, f"must be True or False; got {value!r}")
    return value


# -- the display policy -------------------------------------------------------------------

_ADJECTIVES = (
    "Amber", "Bold", "Brave", "Bright", "Calm", "Clever", "Cosmic", "Crisp",
    "Curious", "Daring", "Eager", "Fair", "Fearless", "Gentle", "Glad", "Golden",
    "Grand", "Happy", "Honest", "Jolly", "Keen", "Kind", "Lively", "Lucky",
    "Merry", "Mighty", "Misty", "Nimble", "Noble", "Patient", "Placid", "Polite",
    "Proud", "Quick", "Quiet", "Rapid", "Ready", "Rosy", "Royal", "Sandy",
    "Shiny", "Silent", "Silver", "Smart", "Snowy", "Solid", "Steady", "Sunny",
    "Swift", "Tidy", "Tranquil", "True", "Vivid", "Warm", "Wise", "Witty",
    "Zesty", "Azure", "Breezy", "Cheerful", "Dapper", "Earnest", "Fresh", "Hardy",
)  # fmt: skip
_ANIMALS = (
    "Albatross", "Badger", "Beaver", "Bison", "Camel", "Cheetah", "Crane", "Dolphin",
    "Eagle", "Falcon", "Ferret", "Finch", "Fox", "Gazelle", "Gecko", "Heron",
    "Ibex", "Jaguar", "Koala", "Lemur", "Lynx", "Marmot", "Meerkat", "Moose",
    "Narwhal", "Newt", "Ocelot", "Orca", "Otter", "Owl", "Panda", "Pelican",
    "Penguin", "Puffin", "Quail", "Rabbit", "Raven", "Robin", "Salmon", "Seal",
    "Sparrow", "Stork", "Swan", "Tapir", "Tiger", "Toucan", "Turtle", "Walrus",
    "Weasel", "Whale", "Wolf", "Wombat", "Yak", "Zebra", "Bobcat", "Coyote",
    "Dingo", "Egret", "Hare", "Kestrel", "Lark", "Mole", "Osprey", "Wren",
)  # fmt: skip


class DisplayPolicy(FromPlainData):
    """How people are named to others: full name, initials or a pseudonym.

    ``default`` is the organisation's style; ``choices`` the styles a person
    may choose instead (``People.settings(user, display=...)``; empty: no
    choice).  A pseudonym is an adjective, an animal and a number derived from
    the user id by HMAC-SHA256 under ``key`` (at least 16 characters, kept
    secret: whoever has it can test guesses of ids): stable per person, and
    not reversible without the key.  ``key`` is required when a pseudonym can
    be shown.  A person always sees their own full name.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: DisplayStyle = "full_name"
    choices: tuple[DisplayStyle, ...] = ()
    key: SecretStr | None = None

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            field_name = ".".join(str(p) for p in first["loc"]) or "display"
            reason = first["msg"].removeprefix("Value error, ")
            raise ConfigurationError(field_name, reason, subject="DisplayPolicy") from None
        if self.key is None and "pseudonym" in (self.default, *self.choices):
            raise ConfigurationError(
                "key", "is required when pseudonyms can be shown", subject="DisplayPolicy"
            )

    @field_validator("key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters long")
        return value

    @field_validator("choices")
    @classmethod
    def _choices(cls, value: tuple[DisplayStyle, ...]) -> tuple[DisplayStyle, ...]:
        if len(set(value)) != len(value):
            raise ValueError("lists a style twice")
        return value

    def style(self, person: Person | None) -> DisplayStyle:
        """Return the style ``person`` is shown in to others."""
        chosen = None if person is None else person.settings.display
        return chosen if chosen is not None and chosen in self.choices else self.default

    def name(self, user: str, person: Person | None, *, viewer: str | None = None) -> str:
        """Return how ``user`` is named to ``viewer`` (their full name when it is themselves)."""
        full = person.display_name if person is not None and person.display_name else user
        if viewer == user:
            return full
        style = self.style(person)
        if style == "full_name":
            return full
        if style == "initials":
            return initials(full)
        return self.pseudonym(user)

    def pseudonym(self, user: str) -> str:
        """Return the pseudonym of ``user``: ``"Brave Otter 4821"``, stable under the key."""
        assert self.key is not None  # checked when the policy was built
        secret = self.key.get_secret_value().encode()
        digest = hmac.new(secret, user.encode(), hashlib.sha256).digest()
        n = int.from_bytes(digest[:8], "big")
        adjective = _ADJECTIVES[n % len(_ADJECTIVES)]
        n //= len(_ADJECTIVES)
        animal = _ANIMALS[n % len(_ANIMALS)]
        n //= len(_ANIMALS)
        return f"{adjective} {animal} {n % 10_000}"


def initials(name: str) -> str:
    """Return the initials of a name: ``"Ada King Lovelace"`` -> ``"A. K. L."``."""
    words = [word for word in name.split() if word]
    return " ".join(f"{word[0].upper()}." for word in words) or "?"


# -- the directory ----------------------------------------------------------------------

_KEEP: Any = object()


class People:
    """The people directory of a Rewards instance (``rewards.people``).

    Reads and writes person records through the store; every change is
    validated before anything is written and returns the updated
    :class:`Person`.  Changes to one person are atomic (the store locks the
    record while it is changed); a change of groups then updates the boards the
    person is excluded from.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        excluded_groups: Mapping[str, frozenset[str]],
        display: DisplayPolicy | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._display = display
        # board -> the groups excluded from it
        self._excluded_groups = {b: g for b, g in excluded_groups.items() if g}

    def get(self, user: str) -> Person:
        """Return the person ``user`` (a default record when nothing is stored)."""
        user = check_user(user)
        found = self._store.get_people([user]).get(user)
        if found is not None:
            return found
        opted_out = self._store.board_opt_out(user)
        return Person(user, settings=PrivacySettings(leaderboards=not opted_out))

    def set(
        self,
        user: str,
        *,
        display_name: str | None = _KEEP,
        groups: Iterable[str] = _KEEP,
        teams: Iterable[str | Membership] = _KEEP,
    ) -> Person:
        """Set a person's display name, groups and/or team memberships; return the person.

        Arguments left out keep their stored value.  ``teams`` replaces the
        whole membership history: plain team names are memberships since
        always, :class:`Membership` objects carry their dates.
        """
        user = check_user(user)
        changes: dict[str, Any] = {}
        if display_name is not _KEEP:
            changes["display_name"] = check_display_name(display_name)
        if groups is not _KEEP:
            changes["groups"] = check_groups(groups)
        if teams is not _KEEP:
            changes["memberships"] = check_memberships(teams)

        def change(old: Person | None) -> Person:
            return replace(_base(user, old), **changes)

        if "groups" not in changes:
            return self._store.update_person(user, change)
        # The record and the boards its groups exclude it from, in one transaction.
        return self._store.update_person_and_exclusions(
            user, change, lambda new: self.excluded_boards(new.groups)
        )

    def join_team(self, user: str, team: str, *, at: datetime | None = None) -> Person:
        """Record that ``user`` joined ``team`` at ``at`` (the clock's now by default).

        Raises InvalidPersonError if they are a member of it at that time or later.
        """
        user = check_user(user)
        team = _ident("team", team)
        when = checked_now(self._clock, subject="people") if at is None else _aware("at", at)

        def join(old: Person | None) -> Person:
            person = _base(user, old)
            memberships = check_memberships((*person.memberships, Membership(team, when)))
            return replace(person, memberships=memberships)

        return self._store.update_person(user, join)

    def leave_team(self, user: str, team: str, *, at: datetime | None = None) -> Person:
        """Record that ``user`` left ``team`` at ``at`` (the clock's now by default).

        Raises InvalidPersonError if they have no open membership of it that
        started before ``at``.
        """
        user = check_user(user)
        team = _ident("team", team)
        when = checked_now(self._clock, subject="people") if at is None else _aware("at", at)

        def leave(old: Person | None) -> Person:
            person = _base(user, old)
            memberships = list(person.memberships)
            for i, membership in enumerate(memberships):
                if membership.team == team and membership.left is None:
                    joined = membership.joined
                    if joined is not None and instant(when) <= instant(joined):
                        raise InvalidPersonError(
                            "at", f"must be after they joined {team!r} ({membership.joined})"
                        )
                    memberships[i] = replace(membership, left=when)
                    return replace(person, memberships=tuple(memberships))
            raise InvalidPersonError("team", f"{user!r} is not a member of {team!r}")

        return self._store.update_person(user, leave)

    def settings(
        self,
        user: str,
        *,
        leaderboards: bool | None = None,
        feed: bool | None = None,
        display: DisplayStyle | None = _KEEP,
    ) -> Person:
        """Change a person's privacy settings; arguments left out keep their value.

        ``leaderboards=False`` takes them off every leaderboard shown to others
        (the same as ``Rewards.set_leaderboard_opt_out``); ``feed=False`` out of
        the stories shown to others; ``display`` is their display style (None:
        the organisation's default).  They still see all of it themselves.

        Under a :class:`DisplayPolicy`, ``display`` must be its ``default`` or one
        of its ``choices`` (else InvalidPersonError naming ``display``, and
        nothing is written).  Without one, people are shown by id, and any style
        is kept for a policy configured later (which applies it only if it
        offers it).
        """
        user = check_user(user)
        if leaderboards is not None:
            _flag("leaderboards", leaderboards)
        if feed is not None:
            _flag("feed", feed)
        style = _KEEP if display is _KEEP else self._offered(check_style("display", display))
        if feed is not None or style is not _KEEP:

            def change(old: Person | None) -> Person:
                base = _base(user, old)
                settings = base.settings
                if feed is not None:
                    settings = replace(settings, feed=feed)
                if style is not _KEEP:
                    settings = replace(settings, display=style)
                return replace(base, settings=settings)

            if leaderboards is None:
                return self._store.update_person(user, change)
            # The record and the opt-out in one transaction: both changed, or neither.
            return self._store.update_person_and_opt_out(user, change, not leaderboards)
        if leaderboards is not None:
            self._store.set_board_opt_out(user, not leaderboards)
        return self.get(user)

    def _offered(self, style: DisplayStyle | None) -> DisplayStyle | None:
        """Return ``style`` if the display policy lets people choose it (None: its default)."""
        policy = self._display
        if policy is None or style is None or style == policy.default or style in policy.choices:
            return style
        offered = ", ".join(repr(s) for s in (policy.default, *policy.choices))
        raise InvalidPersonError(
            "display",
            f"{style!r} is not one of the styles people may choose under the display "
            f"policy: {offered}, or None for the default",
        )

    def excluded_boards(self, groups: Collection[str]) -> frozenset[str]:
        """Return the boards that exclude one of ``groups``."""
        if not groups:
            return frozenset()
        return frozenset(b for b, g in self._excluded_groups.items() if not g.isdisjoint(groups))

    def resync(self) -> int:
        """Apply the boards' ``exclude_groups`` to every stored person; return how many changed.

        People's exclusions are updated when their groups change; call this
        after changing which groups a board excludes.
        """
        changed = 0
        store = self._store
        for person in store.iter_people():
            wanted = self.excluded_boards(person.groups)
            if store.board_exclusions(person.user) != wanted:
                store.set_board_exclusions(person.user, wanted)
                changed += 1
        return changed


def _base(user: str, old: Person | None) -> Person:
    return Person(user) if old is None else old
