"""People records, their validation, the display policy and the pure erasure rules.

What every store must do is in the conformance suite
(``e2badges.testing._people_conformance``); these tests cover the parts that do
not depend on a store.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from e2badges import (
    GRANT_KIND,
    REVOKE_KIND,
    Activity,
    ConfigurationError,
    DisplayPolicy,
    FrozenClock,
    InvalidPersonError,
    Leaderboard,
    Membership,
    Person,
    PointsMetric,
    PrivacySettings,
    Rewards,
    StorageError,
)
from e2badges._erasure import (
    ERASED_REASON,
    erase_activity,
    erase_key,
    erased_activity,
    new_pseudonym,
    object_stand_ins,
    scrub,
)
from e2badges._people import initials
from e2badges.storage import MemoryStore
from e2badges.storage.sqlalchemy import SQLAlchemyStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
KEY = "0123456789abcdef-key"
# A UTC offset a SQL store cannot keep: it would come back as another instant.
SUB_SECOND = timezone(timedelta(microseconds=7))


def rewards(**options: Any) -> Rewards:
    return Rewards(clock=FrozenClock(T0), accept_any_kind=True, **options)


class TestMemberships:
    def test_teams_at_bounds(self) -> None:
        """A membership holds from joined (inclusive) to left (exclusive)."""
        person = Person(
            "ann", memberships=(Membership("red", T0, T0 + DAY), Membership("blue", T0 + DAY))
        )
        assert person.teams_at(T0 - timedelta(seconds=1)) == ()
        assert person.teams_at(T0) == ("red",)
        assert person.teams_at(T0 + DAY) == ("blue",)
        assert person.teams == ("blue",)

    def test_plain_team_names_are_members_since_always(self) -> None:
        """set(teams=[names]) records memberships without dates."""
        person = rewards().people.set("ann", teams=["red", "blue"])
        assert person.memberships == (Membership("red"), Membership("blue"))
        assert person.teams_at(datetime(1970, 1, 1, tzinfo=UTC)) == ("red", "blue")

    def test_teams_given_as_a_set_are_sorted(self) -> None:
        """Memberships given as a set are kept sorted by team, then start, not in the
        set's hash order (which changes with PYTHONHASHSEED): activities recorded without
        teams get them in that order."""
        names = {"red", "blue", "green", "amber", "teal", "plum", "jade", "navy"}
        people = rewards().people
        assert people.set("ann", teams=names).teams == tuple(sorted(names))
        spans = {Membership("red", T0 + DAY), Membership("red", None, T0), Membership("blue", T0)}
        assert people.set("bob", teams=spans).memberships == (
            Membership("blue", T0),
            Membership("red", None, T0),
            Membership("red", T0 + DAY),
        )
        people.set("ann", teams=["red", "blue"])  # a list keeps its order
        assert people.get("ann").teams == ("red", "blue")

    def test_join_and_leave(self) -> None:
        """join_team and leave_team open and close a membership (at the clock's now by
        default)."""
        people = rewards().people
        people.join_team("ann", "red", at=T0 - DAY)
        person = people.leave_team("ann", "red")
        assert person.memberships == (Membership("red", T0 - DAY, T0),)
        assert people.join_team("ann", "red", at=T0 + DAY).teams == ("red",)

    @pytest.mark.parametrize(
        ("teams", "field"),
        [
            ([Membership("red", T0, T0)], "left"),
            ([Membership("red", datetime(2026, 1, 1))], "joined"),  # naive
            ([Membership("red", datetime(2026, 1, 1, tzinfo=SUB_SECOND))], "joined"),
            ([Membership("red", datetime(1, 1, 1, tzinfo=UTC))], "joined"),
            ([Membership("red", T0, datetime(9999, 12, 31, tzinfo=UTC))], "left"),
            ([Membership("red", None, datetime(3000, 1, 1, tzinfo=UTC))], "left"),
            ([Membership("red"), Membership("red", T0)], "teams"),  # overlap
            ([Membership("red", T0, T0 + DAY), Membership("red", T0 + DAY / 2)], "teams"),
            (["bad\x00team"], "teams"),
            ("red", "teams"),
            ([7], "teams"),
        ],
    )
    def test_invalid_memberships(self, teams: Any, field: str) -> None:
        """Invalid memberships raise InvalidPersonError naming the field."""
        with pytest.raises(InvalidPersonError) as info:
            rewards().people.set("ann", teams=teams)
        assert info.value.field == field

    @pytest.mark.parametrize(
        "at",
        [
            datetime(2026, 1, 1, tzinfo=SUB_SECOND),
            datetime(1899, 12, 31, tzinfo=UTC),
            datetime(9999, 12, 31, tzinfo=UTC),
        ],
    )
    def test_join_and_leave_times_held_to_at_limits(self, at: datetime) -> None:
        """join_team and leave_team refuse a time Activity.at refuses, naming ``at``."""
        people = rewards().people
        people.join_team("ann", "red", at=T0)
        for change in (people.join_team, people.leave_team):
            with pytest.raises(InvalidPersonError) as info:
                change("ann", "blue" if change == people.join_team else "red", at=at)
            assert info.value.field == "at"
        assert people.get("ann").memberships == (Membership("red", T0),)

    def test_clock_time_checked_when_joining(self) -> None:
        """Without ``at``, joining takes the clock's now, held to the limits of Activity.at."""

        class Naive:
            def now(self) -> datetime:
                return datetime(2026, 3, 2, 12)

        people = Rewards(clock=Naive(), accept_any_kind=True).people
        with pytest.raises(ConfigurationError, match="timezone-aware") as info:
            people.join_team("ann", "red")
        assert (info.value.subject, info.value.field) == ("people", "clock")
        assert people.get("ann").memberships == ()

    def test_join_while_member_refused_before_writing(self) -> None:
        """Joining a team one is a member of raises and leaves the record as it was."""
        people = rewards().people
        people.join_team("ann", "red", at=T0)
        with pytest.raises(InvalidPersonError, match="overlap"):
            people.join_team("ann", "red", at=T0 + DAY)
        assert people.get("ann").memberships == (Membership("red", T0),)

    @pytest.mark.parametrize(
        ("team", "at", "match"),
        [("blue", T0, "not a member"), ("red", T0 - DAY, "after they joined")],
    )
    def test_invalid_leave(self, team: str, at: datetime, match: str) -> None:
        """Leaving a team one is not in, or before joining it, raises."""
        people = rewards().people
        people.join_team("ann", "red", at=T0)
        with pytest.raises(InvalidPersonError, match=match):
            people.leave_team("ann", team, at=at)


class TestRecords:
    def test_groups_given_as_a_set_are_sorted(self) -> None:
        """Groups given as a set are kept sorted, not in the set's hash order (which
        changes with PYTHONHASHSEED); a list keeps its order."""
        groups = {"managers", "admins", "staff", "guests", "ops", "sales", "legal", "hr"}
        people = rewards().people
        assert people.set("ann", groups=groups).groups == tuple(sorted(groups))
        assert people.set("ann", groups=frozenset(groups)).groups == tuple(sorted(groups))
        assert people.set("ann", groups=["staff", "admins"]).groups == ("staff", "admins")

    def test_unknown_person_has_defaults(self) -> None:
        """get() of someone never stored returns a default record."""
        assert rewards().people.get("zoe") == Person("zoe")

    def test_set_keeps_what_is_left_out(self) -> None:
        """Arguments left out of set() keep their stored value; None clears a name."""
        people = rewards().people
        people.set("ann", display_name="Ann", groups=["managers"])
        assert people.set("ann", teams=["red"]).groups == ("managers",)
        assert people.set("ann", display_name=None).display_name is None

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"display_name": "  "}, "display_name"),
            ({"display_name": "x" * 300}, "display_name"),
            ({"display_name": 5}, "display_name"),
            ({"groups": ["a", "a"]}, "groups"),
            ({"groups": "managers"}, "groups"),
            ({"groups": ["x"] * 65}, "groups"),
        ],
    )
    def test_invalid_records(self, options: dict[str, Any], field: str) -> None:
        """Invalid display names and groups raise InvalidPersonError naming the field."""
        with pytest.raises(InvalidPersonError) as info:
            rewards().people.set("ann", **options)
        assert info.value.field == field

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"leaderboards": "no"}, "leaderboards"),
            ({"feed": 0}, "feed"),
            ({"display": "nickname"}, "display"),
        ],
    )
    def test_invalid_settings(self, options: dict[str, Any], field: str) -> None:
        """Invalid settings raise InvalidPersonError naming the setting, writing nothing."""
        r = rewards()
        with pytest.raises(InvalidPersonError) as info:
            r.people.settings("ann", **{"feed": False, **options})
        assert info.value.field == field
        assert r.people.get("ann").settings == PrivacySettings()

    @pytest.mark.parametrize("url", ["memory://", "sqlite://"])
    def test_settings_written_whole_or_not_at_all(
        self, url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """settings(feed=False, leaderboards=False) is one write: when the opt-out's part
        fails (a lock timeout after the store's retries), the feed setting is not kept."""

        def fail(*args: object) -> None:
            raise StorageError("store: setting an opt-out failed: (simulated)")

        store = MemoryStore() if url == "memory://" else SQLAlchemyStore(url)
        if isinstance(store, SQLAlchemyStore):
            monkeypatch.setattr(store._boards, "set_opt_out", fail)
        else:
            monkeypatch.setattr(store, "set_board_opt_out", fail)
        r = rewards(store=store)
        with pytest.raises(StorageError, match="simulated"):
            r.people.settings("ann", feed=False, leaderboards=False)
        assert r.people.get("ann").settings == PrivacySettings()
        assert r.leaderboard_opt_out("ann") is False
        store.close()

    def test_settings_return_the_new_record(self) -> None:
        """settings() returns the stored record with every setting it changed."""
        r = rewards(store="sqlite://")
        person = r.people.settings("ann", feed=False, leaderboards=False, display="initials")
        assert person.settings == PrivacySettings(False, False, "initials")
        assert r.people.get("ann") == person
        assert r.people.settings("ann", leaderboards=True).settings.leaderboards is True
        assert r.people.settings("ann", feed=True) == Person(
            "ann", settings=PrivacySettings(display="initials")
        )
        r.close()

    def test_invalid_user(self) -> None:
        """A user id that is not a valid identifier raises InvalidPersonError."""
        with pytest.raises(InvalidPersonError) as info:
            rewards().people.get("")
        assert info.value.field == "user"


class TestDisplayPolicy:
    def test_initials(self) -> None:
        """Initials are the first letters of the words, upper-cased, with dots."""
        assert initials("ada king lovelace") == "A. K. L."
        assert initials("Ada") == "A."

    def test_pseudonym_shape_and_stability(self) -> None:
        """A pseudonym is an adjective, an animal and a number, the same for one id and key."""
        policy = DisplayPolicy(default="pseudonym", key=KEY)
        name = policy.pseudonym("ann")
        assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+ \d{1,4}", name)
        assert DisplayPolicy(default="pseudonym", key=KEY).pseudonym("ann") == name
        assert policy.pseudonym("bob") != name

    def test_own_name(self) -> None:
        """A person is shown their own full name whatever the style."""
        policy = DisplayPolicy(default="pseudonym", key=KEY)
        person = Person("ann", "Ann Lee")
        assert policy.name("ann", person, viewer="ann") == "Ann Lee"
        assert policy.name("ann", person, viewer="bob") == policy.pseudonym("ann")

    def test_choice_only_among_offered_styles(self) -> None:
        """A person's style applies only when the policy offers it."""
        chose = Person("ann", "Ann Lee", settings=PrivacySettings(display="initials"))
        assert DisplayPolicy().name("ann", chose) == "Ann Lee"
        assert DisplayPolicy(choices=("initials",)).name("ann", chose) == "A. L."

    @pytest.mark.parametrize("store", ["memory://", "sqlite://"])
    @pytest.mark.parametrize(
        ("policy", "style"),
        [
            (DisplayPolicy(default="initials"), "full_name"),
            (DisplayPolicy(default="pseudonym", choices=("initials",), key=KEY), "full_name"),
            (DisplayPolicy(default="full_name", choices=("initials",)), "pseudonym"),
        ],
    )
    def test_style_not_offered_is_refused(
        self, store: str, policy: DisplayPolicy, style: str
    ) -> None:
        """Under a policy, settings(display=...) refuses a style that is neither its
        default nor one of its choices with InvalidPersonError naming ``display``, and
        writes nothing: not the other settings given with it either."""
        r = rewards(store=store, display=policy)
        before = r.people.settings("ann", feed=False)
        with pytest.raises(InvalidPersonError) as info:
            r.people.settings("ann", display=style, leaderboards=False, feed=True)  # type: ignore[arg-type]
        assert info.value.field == "display"
        assert repr(style) in info.value.reason
        assert r.people.get("ann") == before
        assert r.leaderboard_opt_out("ann") is False
        r.close()

    def test_offered_styles_and_the_default_are_accepted(self) -> None:
        """Under a policy, the default, each choice and None (the default) can be set."""
        policy = DisplayPolicy(default="initials", choices=("pseudonym",), key=KEY)
        r = rewards(display=policy)
        for style in ("initials", "pseudonym", None):
            assert r.people.settings("ann", display=style).settings.display == style

    def test_without_a_policy_any_style_is_kept(self) -> None:
        """Without a policy (people are shown by id), any style is stored as it is, for
        a policy configured later; a stored style that policy does not offer is ignored."""
        r = rewards()
        assert r.people.settings("ann", display="pseudonym").settings.display == "pseudonym"
        chose = r.people.get("ann")
        assert DisplayPolicy(default="initials").style(chose) == "initials"

    def test_key_is_not_shown(self) -> None:
        """The key does not appear in the policy's repr."""
        assert KEY not in repr(DisplayPolicy(default="pseudonym", key=KEY))

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"default": "pseudonym"}, "key"),
            ({"choices": ("pseudonym",)}, "key"),
            ({"default": "pseudonym", "key": "short"}, "key"),
            ({"default": "nickname"}, "default"),
            ({"choices": ("initials", "initials")}, "choices"),
        ],
    )
    def test_invalid_policies(self, options: dict[str, Any], field: str) -> None:
        """Invalid policies raise ConfigurationError naming the field."""
        with pytest.raises(ConfigurationError) as info:
            DisplayPolicy(**options)
        assert info.value.field == field


class TestOptions:
    @pytest.mark.parametrize(
        ("options", "field"),
        [({"rankings": "off"}, "rankings"), ({"display": "initials"}, "display")],
    )
    def test_invalid_rewards_options(self, options: dict[str, Any], field: str) -> None:
        """Rewards refuses a rankings switch that is not a bool and a display that is not
        a DisplayPolicy."""
        with pytest.raises(ConfigurationError) as info:
            Rewards(**options)
        assert info.value.field == field

    def test_exclude_groups_named_once(self) -> None:
        """A board naming an excluded group twice is refused."""
        with pytest.raises(ValueError, match="twice"):
            Leaderboard(id="b", metric=PointsMetric(), exclude_groups=("a", "a"))


class TestErasureRules:
    def test_pseudonyms_are_random(self) -> None:
        """Pseudonyms carry the erased prefix and 96 random bits; two are never alike."""
        first, second = new_pseudonym(), new_pseudonym()
        assert re.fullmatch(r"erased-[0-9a-f]{24}", first)
        assert first != second

    def test_keys_change_whole_parts_only(self) -> None:
        """erase_key replaces parts equal to the id, not parts that contain it."""
        assert erase_key("bal\x1fpoints\x1fann", "ann", "x") == "bal\x1fpoints\x1fx"
        assert erase_key("bal\x1fpoints\x1fanne", "ann", "x") == "bal\x1fpoints\x1fanne"

    def test_keys_lose_the_objects_of_the_persons_activities(self) -> None:
        """In a key naming the person, parts after the id equal to the object of an activity
        they did or received become stand-ins: distinct per object, owing nothing to it,
        and the key keeps its shape (parts before the id stay)."""
        at = datetime(2026, 3, 2, tzinfo=UTC)
        activities = [
            Activity(id="a2", actor="ann", kind="k", object="doc", at=at),
            Activity(id="a1", actor="bob", kind="k", recipient="ann", object="doc", at=at),
            Activity(id="a3", actor="ann", kind="k", object="page", at=at),
            Activity(id="a4", actor="bob", kind="k", object="bobs", at=at),
            Activity(id="a5", actor="ann", kind="k", object="ann", at=at),
        ]
        stand_ins = object_stand_ins(activities, "ann", "x")
        assert set(stand_ins) == {"doc", "page"}  # not bob's, not the id
        assert stand_ins == object_stand_ins(reversed(activities), "ann", "x")
        assert stand_ins["doc"] != stand_ins["page"]
        assert stand_ins["doc"] != object_stand_ins(activities, "ann", "y")["doc"]
        assert stand_ins["doc"] == object_stand_ins(activities[1:2], "ann", "x")["doc"]  # a1
        doc = stand_ins["doc"]
        assert erase_key("once\x1fdoc\x1fann\x1fdoc", "ann", "x", stand_ins) == (
            f"once\x1fdoc\x1fx\x1f{doc}"
        )
        assert erase_key("once\x1fr\x1fbob\x1fdoc", "ann", "x", stand_ins) == (
            "once\x1fr\x1fbob\x1fdoc"  # bob's key: not theirs to erase
        )

    def test_scrub_replaces_equal_strings_at_any_depth(self) -> None:
        """scrub replaces strings equal to the id, as values and keys, and returns the same
        object when nothing names them."""
        value = {"a": ["ann", {"ann": 1}], "b": "anne"}
        assert scrub(value, "ann", "x") == {"a": ["x", {"x": 1}], "b": "anne"}
        untouched = {"a": ["bob"]}
        assert scrub(untouched, "ann", "x") is untouched

    def test_erase_activity(self) -> None:
        """The person's activities lose object and attributes; others' have equal values
        replaced."""
        theirs = Activity(id="a", actor="ann", kind="k", object="o", attributes={"t": "x"})
        erased = erase_activity(theirs, "ann", "p")
        assert erased is not None
        assert (erased.actor, erased.object, erased.attributes) == ("p", None, {})
        assert erased_activity(erase_activity(theirs, "ann", new_pseudonym()))  # type: ignore[arg-type]
        other = Activity(id="b", actor="bob", kind="k", attributes={"about": "ann", "n": "anne"})
        scrubbed = erase_activity(other, "ann", "p")
        assert scrubbed is not None
        assert scrubbed.attributes == {"about": "p", "n": "anne"}
        assert erase_activity(Activity(id="c", actor="bob", kind="k"), "ann", "p") is None

    def test_erased_activity_keeps_its_object_as_the_stand_in(self) -> None:
        """An activity the person did or received gets, for its object, the stand-in that
        the state keys get (object_stand_ins), so equal objects stay equal in the log; an
        object equal to the id becomes the pseudonym, one without a stand-in is dropped."""
        stand_ins = {"doc": "erased-1234"}
        received = Activity(id="a", actor="bob", kind="k", recipient="ann", object="doc")
        erased = erase_activity(received, "ann", "p", stand_ins)
        assert erased is not None
        assert (erased.actor, erased.recipient, erased.object) == ("bob", "p", "erased-1234")
        itself = Activity(id="b", actor="bob", kind="k", recipient="ann", object="ann")
        assert erase_activity(itself, "ann", "p", stand_ins).object == "p"  # type: ignore[union-attr]
        other = Activity(id="c", actor="ann", kind="k", object="page")
        assert erase_activity(other, "ann", "p", stand_ins).object is None  # type: ignore[union-attr]

    def test_erased_activity_keeps_the_numbers_its_kind_declares(self) -> None:
        """Of the attributes of an activity the person did or received, only the numbers,
        booleans and nulls of the fields its kind's payload declares stay: text, lists,
        maps and undeclared fields go."""
        theirs = Activity(
            id="a",
            actor="bob",
            kind="post.rated",
            recipient="ann",
            attributes={
                "stars": 4,
                "ratio": 0.5,
                "public": False,
                "edited": None,
                "comment": "great, ann",
                "tags": [1, 2],
                "extra": 7,
            },
        )
        declared = ("stars", "ratio", "public", "edited", "comment", "tags")
        erased = erase_activity(theirs, "ann", "p", None, declared)
        assert erased is not None
        assert erased.attributes == {"stars": 4, "ratio": 0.5, "public": False, "edited": None}
        assert erase_activity(theirs, "ann", "p").attributes == {}  # type: ignore[union-attr]

    @pytest.mark.parametrize("role", ["actor", "recipient"])
    def test_erased_grant_keeps_its_badge(self, role: str) -> None:
        """A grant or revocation the person made or received keeps its badge, tier and
        period (ids, which a rebuild needs); its reason, free text, becomes ERASED_REASON."""
        for kind, extra in ((GRANT_KIND, {}), (REVOKE_KIND, {"period": "2026-W10"})):
            people = {"actor": "ann", "recipient": "bob"}
            if role == "recipient":
                people = {"actor": "bob", "recipient": "ann"}
            grant = Activity(
                id="g",
                kind=kind,
                attributes={"badge": "mentor", "tier": "gold", "reason": "ann helps", **extra},
                **people,
            )
            erased = erase_activity(grant, "ann", "p")
            assert erased is not None
            assert erased.attributes == {
                "badge": "mentor",
                "tier": "gold",
                "reason": ERASED_REASON,
                **extra,
            }
