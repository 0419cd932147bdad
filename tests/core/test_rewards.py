"""The Rewards facade: idempotency, atomicity, declared kinds, the clock and queries."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from importlib.metadata import EntryPoint
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from e2badges import (
    Activity,
    ActivityKind,
    ConfigurationError,
    ConflictingActivityError,
    FrozenClock,
    InvalidActivityError,
    InvalidQueryError,
    PointRule,
    Rewards,
    UnknownKindError,
    UnknownStoreError,
)
from e2badges._erasure import new_pseudonym
from e2badges.storage import MemoryStore, store_from_url

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = [PointRule(id="c", kind="comment.created", actor_points=5)]


def snapshot(rewards: Rewards) -> tuple[object, ...]:
    """Everything observable about the memory store's contents."""
    store = rewards.store
    assert isinstance(store, MemoryStore)
    return (
        [a.model_dump() for a in store.iter_activities()],
        dict(store._state),
        {user: list(lines) for user, lines in store._ledgers.items()},
    )


class TestIdempotency:
    def test_same_id_same_outcome(self) -> None:
        """Recording an id again changes nothing and returns the first outcome."""
        r = Rewards(rules=RULES)
        first = r.record(Activity(id="x", actor="ann", kind="comment.created", at=AT))
        before = snapshot(r)
        again = r.record(Activity(id="x", actor="ann", kind="comment.created", at=AT))
        assert again is first
        assert snapshot(r) == before

    @pytest.mark.parametrize(
        ("change", "differing"),
        [
            ({"actor": "bob"}, ["actor"]),
            ({"value": 2.0}, ["value"]),
            ({"at": AT + timedelta(seconds=1)}, ["at"]),
            ({"attributes": {"a": 1}, "object": "p"}, ["object", "attributes"]),
        ],
    )
    def test_same_id_other_content(self, change: dict[str, object], differing: list[str]) -> None:
        """Recording an id with other content raises, naming what differs, and writes nothing."""
        r = Rewards(rules=RULES)
        r.record(Activity(id="x", actor="ann", kind="comment.created", at=AT))
        before = snapshot(r)
        fields: dict[str, object] = {"id": "x", "actor": "ann", "kind": "comment.created", "at": AT}
        fields.update(change)
        with pytest.raises(ConflictingActivityError) as info:
            r.record(Activity(**fields))
        assert info.value.differing == differing
        assert snapshot(r) == before


class TestValidationBeforeWriting:
    def test_unknown_kind(self) -> None:
        """An undeclared kind raises UnknownKindError and stores nothing."""
        r = Rewards(rules=RULES)
        with pytest.raises(UnknownKindError) as info:
            r.record_many(
                [
                    Activity(actor="ann", kind="comment.created", at=AT),
                    Activity(actor="ann", kind="comment.deleted", at=AT),
                ]
            )
        assert info.value.field == "kind"
        assert "comment.deleted" in str(info.value)
        assert "comment.created" in str(info.value)  # the declared kinds are listed
        assert r.store.count_activities() == 0

    def test_accept_any_kind(self) -> None:
        """With accept_any_kind, an undeclared kind is recorded and earns nothing."""
        r = Rewards(rules=RULES, accept_any_kind=True)
        outcome = r.record(Activity(actor="ann", kind="page.viewed", at=AT))
        assert outcome.ledger == ()
        assert r.store.count_activities() == 1

    def test_declared_kinds_without_rules(self) -> None:
        """A declared kind no rule listens to can be recorded."""
        r = Rewards(rules=RULES, kinds=["comment.created", "page.viewed"])
        assert r.record(Activity(actor="ann", kind="page.viewed", at=AT)).ledger == ()

    def test_payload_model_checks_attributes(self) -> None:
        """A kind's payload model validates attributes; a mismatch names the kind."""

        class Rated(BaseModel):
            stars: int

        r = Rewards(kinds=[ActivityKind(name="post.rated", payload=Rated)])
        r.record(Activity(actor="ann", kind="post.rated", attributes={"stars": 4}, at=AT))
        with pytest.raises(InvalidActivityError) as info:
            r.record(Activity(actor="ann", kind="post.rated", attributes={"stars": "many"}, at=AT))
        assert info.value.field == "attributes"
        assert "post.rated" in info.value.reason
        assert r.store.count_activities() == 1

    def test_erased_activity_may_lack_payload_fields(self) -> None:
        """An activity of an erased person (actor or recipient a pseudonym) may lack fields
        of its kind's payload, which erasure dropped, so that an erased log replays; a
        field it holds must still match, and others' activities must have every field."""

        class Rated(BaseModel):
            stars: int
            comment: str

        r = Rewards(kinds=[ActivityKind(name="post.rated", payload=Rated)])
        erased = Activity(
            actor="bob",
            kind="post.rated",
            recipient=new_pseudonym(),
            attributes={"stars": 4},
            at=AT,
        )
        r.record(erased)
        with pytest.raises(InvalidActivityError, match=r"post\.rated"):
            r.record(erased.model_copy(update={"id": "x", "attributes": {"stars": "many"}}))
        with pytest.raises(InvalidActivityError, match=r"post\.rated"):
            r.record(erased.model_copy(update={"id": "y", "recipient": "ann"}))
        assert r.store.count_activities() == 1

    def test_mapping_input_validated(self) -> None:
        """A mapping is validated as an Activity; a bad one raises InvalidActivityError."""
        r = Rewards(rules=RULES)
        with pytest.raises(InvalidActivityError) as info:
            r.record({"actor": "ann", "kind": "comment.created", "at": "2026-03-02T09:00:00"})
        assert info.value.field == "at"
        assert r.store.count_activities() == 0

    def test_negative_explain_limit(self) -> None:
        """explain(limit=-1) is refused."""
        with pytest.raises(InvalidQueryError, match="limit"):
            Rewards().explain("ann", limit=-1)

    def test_clock_must_have_now(self) -> None:
        """A clock without now() is refused."""
        with pytest.raises(ConfigurationError, match="clock"):
            Rewards(clock=object())  # type: ignore[arg-type]


class TestRewardsOptions:
    """Rewards(...) options with the wrong shape fail at once, naming the option."""

    @pytest.mark.parametrize(
        ("options", "field", "reason"),
        [
            ({"contributing": "post.created"}, "contributing", "collection of activity kinds"),
            ({"contributing": 5}, "contributing", "not int"),
            ({"contributing": ["post.created", "bad\x00"]}, "contributing", "not a dotted name"),
            ({"contributing": [5]}, "contributing", "must be a string"),
            ({"accept_any_kind": "no"}, "accept_any_kind", "True or False"),
            ({"accept_any_kind": 1}, "accept_any_kind", "True or False"),
            ({"team_seats": [1]}, "team_seats", "mapping of team ids"),
            ({"team_seats": {"red\x00": 3}}, "team_seats", "U+0000"),
            ({"team_seats": {"": 3}}, "team_seats", "must not be empty"),
            ({"team_seats": {5: 3}}, "team_seats", "must be a string"),
            ({"callout_kinds": 5}, "callout_kinds", "mapping of roles"),
            ({"callouts": "most_posts"}, "callouts", "list of call-out names"),
            ({"callouts": 5}, "callouts", "list of call-out names"),
            ({"seats": 2**80}, "seats", "from 1 to 2,147,483,647"),
            ({"team_seats": {"red": 2**31}}, "team_seats", "from 1 to 2,147,483,647"),
            ({"plugins": [5]}, "plugins", "5 is not a plugin"),
            ({"plugins": [None]}, "plugins", "None is not a plugin"),
            # A lone string was read as its characters: kinds="post" declared p, o, s, t.
            ({"kinds": "post"}, "kinds", "must be a list of activity kinds"),
            ({"kinds": "comment.created"}, "kinds", "not str"),
            ({"kinds": b"a.b"}, "kinds", "not bytes"),
            ({"kinds": {"post.created": 1}}, "kinds", "not dict"),
            ({"kinds": 5}, "kinds", "not int"),
            ({"kinds": ActivityKind(name="post.created")}, "kinds", "not ActivityKind"),
            ({"kinds": [5]}, "kinds", "got int"),
            ({"kinds": ["a b"]}, "kinds", "'a b' is not a dotted name"),
            ({"rules": "post"}, "rules", "must be a list of PointRules, not str"),
            ({"rules": RULES[0]}, "rules", "must be a list of PointRules, not PointRule"),
            ({"rules": None}, "rules", "not NoneType"),
            ({"badges": "first"}, "badges", "must be a list of Badges, not str"),
            ({"badges": 5}, "badges", "not int"),
            ({"levels": "gold"}, "levels", "must be a list of Levels, not str"),
            ({"levels": {"gold": 1}}, "levels", "not dict"),
            ({"leaderboards": "weekly"}, "leaderboards", "must be a list of Leaderboards"),
        ],
    )
    def test_bad_option(self, options: dict[str, object], field: str, reason: str) -> None:
        """A bad option raises ConfigurationError naming it (never TypeError, never taken)."""
        with pytest.raises(ConfigurationError) as info:
            Rewards(load_entrypoints=False, **options)  # type: ignore[arg-type]
        assert (info.value.subject, info.value.field) == ("Rewards", field)
        assert reason in info.value.reason

    def test_load_entrypoints_is_a_bool(self) -> None:
        """load_entrypoints="no" is refused, not read as true."""
        with pytest.raises(ConfigurationError) as info:
            Rewards(load_entrypoints="no")  # type: ignore[arg-type]
        assert (info.value.field, info.value.reason) == (
            "load_entrypoints",
            "must be True or False, not str",
        )

    def test_good_options_kept(self) -> None:
        """Valid options are kept: contributing as a frozenset of kinds, team seats by team."""
        r = Rewards(
            load_entrypoints=False,
            contributing=("post.created", "comment.created"),
            team_seats={"red team": 3},
            accept_any_kind=True,
        )
        assert r.contributing == frozenset({"post.created", "comment.created"})
        assert r.team_seats == {"red team": 3}


def keyless_zone() -> ZoneInfo:
    """Return Berlin's time zone read from its file, which gives it no key."""
    for root in zoneinfo.TZPATH:
        path = Path(root, "Europe", "Berlin")
        if path.is_file():
            with path.open("rb") as file:
                return ZoneInfo.from_file(file)
    # Where the system has no zone files (Windows), the tzdata package has them.
    berlin = resources.files("tzdata").joinpath("zoneinfo", "Europe", "Berlin")
    with berlin.open("rb") as file:
        return ZoneInfo.from_file(file)


#: Time zones refused wherever one is taken, with (part of) the reason.
BAD_TIMEZONES = [
    pytest.param("Mars/Olympus", "unknown IANA time zone 'Mars/Olympus'", id="unknown"),
    pytest.param("Europe", "unknown IANA time zone 'Europe'", id="a-directory"),
    pytest.param("", "unknown IANA time zone ''", id="empty"),
    pytest.param("x" * 300, "unknown IANA time zone 'xxx", id="too-long"),
    pytest.param("../etc/passwd", "unknown IANA time zone", id="a-path"),
    pytest.param(UTC, "not timezone", id="datetime-UTC"),
    pytest.param(timezone(timedelta(hours=1)), "not timezone", id="fixed-offset"),
    pytest.param(5, "not int", id="int"),
    pytest.param(None, "not NoneType", id="None"),
    pytest.param(b"UTC", "not bytes", id="bytes"),
]


class TestTimeZone:
    """``Rewards(timezone=...)``: an IANA name or a ZoneInfo that has one."""

    def test_zoneinfo_is_taken_by_its_key(self) -> None:
        """A ZoneInfo is taken as the zone of its key, the same as its name."""
        r = Rewards(timezone=ZoneInfo("Europe/Berlin"))
        assert r.timezone == Rewards(timezone="Europe/Berlin").timezone
        assert r.timezone.key == "Europe/Berlin"
        assert "timezone='Europe/Berlin'" in repr(r)

    def test_zoneinfo_without_a_key_is_refused(self) -> None:
        """A ZoneInfo read from a file has no IANA name to keep: refused, saying so."""
        with pytest.raises(ConfigurationError) as info:
            Rewards(timezone=keyless_zone())
        assert (info.value.subject, info.value.field) == ("Rewards", "timezone")
        assert "ZoneInfo without a key" in info.value.reason

    @pytest.mark.parametrize(("value", "reason"), BAD_TIMEZONES)
    def test_bad_timezone(self, value: object, reason: str) -> None:
        """Anything but a known IANA name or a ZoneInfo with a key raises
        ConfigurationError naming ``timezone``, with the reason on one line."""
        with pytest.raises(ConfigurationError) as info:
            Rewards(timezone=value)  # type: ignore[arg-type]
        assert (info.value.subject, info.value.field) == ("Rewards", "timezone")
        assert reason in info.value.reason
        assert "\n" not in str(info.value)
        assert len(str(info.value)) < 300


class TestRecording:
    def test_record_many_returns_outcomes_in_order(self) -> None:
        """record_many returns one outcome per input, in input order."""
        r = Rewards(rules=RULES)
        outcomes = r.record_many(
            Activity(id=f"a{i}", actor=f"u{i}", kind="comment.created", at=AT) for i in range(3)
        )
        assert [o.activity_id for o in outcomes] == ["a0", "a1", "a2"]
        assert r.record_many([]) == []

    @pytest.mark.parametrize(
        "batch",
        [
            5,
            "a1",
            {"id": "a1", "actor": "ann", "kind": "comment.created"},
            Activity(id="a1", actor="ann", kind="comment.created", at=AT),
        ],
        ids=["int", "str", "mapping", "activity"],
    )
    def test_record_many_needs_a_list(self, batch: object) -> None:
        """record_many given one activity, a string or a number raises InvalidActivityError
        naming ``activities`` (an Activity iterates as its fields) and records nothing."""
        r = Rewards(rules=RULES)
        with pytest.raises(InvalidActivityError) as info:
            r.record_many(batch)  # type: ignore[arg-type]
        assert info.value.field == "activities"
        assert r.store.count_activities() == 0

    def test_at_from_clock(self) -> None:
        """An activity without ``at`` takes the clock's time."""
        clock = FrozenClock(AT)
        r = Rewards(rules=RULES, clock=clock)
        clock.advance(timedelta(hours=2))
        r.record(Activity(id="x", actor="ann", kind="comment.created"))
        stored = r.activity("x")
        assert stored is not None
        assert stored.at == AT + timedelta(hours=2)
        assert r.outcome("x") is not None
        assert r.activity("nope") is None

    def test_explain_lists_ledger(self) -> None:
        """explain() returns the ledger lines: activity, rule, amount."""
        r = Rewards(rules=RULES)
        r.record(Activity(id="x", actor="ann", kind="comment.created", at=AT))
        [line] = r.explain("ann")
        assert (line.activity_id, line.rule, line.amount, line.currency) == (
            "x",
            "c",
            5,
            "points",
        )

    def test_balance_of_stranger_is_zero(self) -> None:
        """Someone never credited has a balance of 0."""
        assert Rewards(rules=RULES).balance("nobody") == 0


class TestStoreSelection:
    def test_memory_url(self) -> None:
        """memory:// selects a MemoryStore."""
        assert isinstance(store_from_url("memory://"), MemoryStore)

    def test_memory_url_refuses_options_it_does_not_take(self) -> None:
        """An option the memory store does not take raises ConfigurationError naming it."""
        with pytest.raises(ConfigurationError) as info:
            store_from_url("memory://", table_prefix="x_")
        assert (info.value.subject, info.value.field) == ("MemoryStore", "table_prefix")

    def test_unknown_scheme(self) -> None:
        """An unknown scheme raises UnknownStoreError listing the known ones."""
        with pytest.raises(UnknownStoreError, match=r"known schemes: .*memory"):
            Rewards("cassandra://db")

    @pytest.mark.parametrize(
        ("url", "shown"),
        [
            ("postgres://app:s3cret@db/intranet", "postgres://app:***@db/intranet"),
            ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
            ("oracle://app:s3@cret@db/x", "oracle://app:***@db/x"),
            ("cassandra://db", "cassandra://db"),
        ],
    )
    def test_unknown_scheme_masks_the_password(self, url: str, shown: str) -> None:
        """The UnknownStoreError of a URL with a password (postgres://, a common slip for
        postgresql://) shows the URL with the password masked, as repr() of a store does."""
        with pytest.raises(UnknownStoreError) as info:
            Rewards(url)
        assert "s3" not in str(info.value)
        assert f"no store for URL {shown!r}" in str(info.value)

    def test_given_store_not_closed(self) -> None:
        """Rewards closes a store only if it created it."""
        closed: list[bool] = []

        class Tracking(MemoryStore):
            def close(self) -> None:
                closed.append(True)

        with Rewards(Tracking()):
            pass
        assert closed == []

    def test_context_manager(self) -> None:
        """Rewards is a context manager; repr names the store and time zone."""
        with Rewards(rules=RULES, timezone="Europe/Berlin") as r:
            assert "Europe/Berlin" in repr(r)
            assert "MemoryStore" in repr(r)


class TestClocks:
    def test_frozen_clock_moves_forward_only(self) -> None:
        """A FrozenClock advances and can be set, but not moved backwards or made naive."""
        clock = FrozenClock(AT)
        assert clock.advance(timedelta(minutes=5)) == AT + timedelta(minutes=5)
        clock.set(AT)
        assert clock.now() == AT
        with pytest.raises(ConfigurationError, match="backwards"):
            clock.advance(timedelta(seconds=-1))
        with pytest.raises(ConfigurationError, match="timezone-aware"):
            clock.set(datetime(2026, 1, 1))

    def test_frozen_clock_advances_by_elapsed_time_across_a_dst_change(self) -> None:
        """A FrozenClock in a time zone moves by elapsed time, not by wall clock: 30
        minutes from 02:50 before Berlin's autumn change are 02:20 after it."""
        berlin = ZoneInfo("Europe/Berlin")
        clock = FrozenClock(datetime(2026, 10, 25, 2, 50, tzinfo=berlin))  # 00:50 UTC
        moved = clock.advance(timedelta(minutes=30))
        assert moved.astimezone(UTC) == datetime(2026, 10, 25, 1, 20, tzinfo=UTC)
        assert moved.tzinfo is berlin
        assert (moved.hour, moved.minute, moved.fold) == (2, 20, 1)
        assert clock.now() == moved

    @pytest.mark.parametrize(
        ("at", "reason"),
        [
            (datetime(1, 1, 1, tzinfo=UTC), "1900-01-01 to 2999-12-31"),
            (datetime(3500, 6, 1, tzinfo=UTC), "1900-01-01 to 2999-12-31"),
            (datetime(2026, 3, 2, tzinfo=timezone(timedelta(microseconds=500))), "whole number"),
            (datetime(2026, 3, 2), "timezone-aware"),
            (5, "must be a datetime, not int"),
        ],
    )
    def test_frozen_clock_refuses_what_an_activity_refuses(self, at: object, reason: str) -> None:
        """A FrozenClock is held to the limits of Activity.at, when made and when set."""
        with pytest.raises(ConfigurationError, match=reason) as info:
            FrozenClock(at)  # type: ignore[arg-type]
        assert (info.value.subject, info.value.field) == ("clock", "at")
        clock = FrozenClock(AT)
        with pytest.raises(ConfigurationError, match=reason):
            clock.set(at)  # type: ignore[arg-type]
        assert clock.now() == AT

    def test_frozen_clock_advance_stays_within_limits(self) -> None:
        """Advancing past 2999 (or by something not a timedelta) is refused; the clock stays."""
        start = datetime(2999, 12, 31, tzinfo=UTC)
        clock = FrozenClock(start)
        for delta in (timedelta(days=1), timedelta(days=10**8)):
            with pytest.raises(ConfigurationError, match="past 2999-12-31") as info:
                clock.advance(delta)
            assert info.value.field == "delta"
        with pytest.raises(ConfigurationError, match="must be a timedelta"):
            clock.advance(5)  # type: ignore[arg-type]
        assert clock.now() == start

    @pytest.mark.parametrize(
        ("now", "reason"),
        [
            (datetime(1, 1, 1, tzinfo=UTC), "1900-01-01 to 2999-12-31"),
            (datetime(3500, 6, 1, tzinfo=UTC), "1900-01-01 to 2999-12-31"),
            (datetime(2026, 3, 2, tzinfo=timezone(timedelta(microseconds=500))), "whole number"),
            (datetime(2026, 3, 2, 12), "timezone-aware"),
            ("2026-03-02", "must be a datetime"),
        ],
    )
    def test_clock_time_checked_before_recording(self, now: object, reason: str) -> None:
        """A custom clock's now() outside the limits of Activity.at refuses the batch.

        ConfigurationError names the clock, and nothing is written, even for
        activities that carry their own ``at``.
        """

        class Custom:
            def now(self) -> object:
                return now

        rewards = Rewards(rules=RULES, clock=Custom())  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match=reason) as info:
            rewards.record_many(
                [
                    {"actor": "ann", "kind": "comment.created", "at": AT},
                    {"actor": "ann", "kind": "comment.created"},
                ]
            )
        assert (info.value.subject, info.value.field) == ("Rewards", "clock")
        assert str(info.value).startswith("Rewards: clock: now() ")
        assert rewards.store.count_activities() == 0
        assert rewards.balance("ann") == 0


def test_store_registered_with_capitals_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """A store registered under a name with capitals serves its scheme in any case (URL
    schemes are case-insensitive)."""
    upper = EntryPoint(
        name="Upper", value="e2badges.storage.memory:MemoryStore.from_url", group="e2badges.stores"
    )
    monkeypatch.setattr("e2badges.storage.entry_points", lambda group: [upper])
    assert isinstance(store_from_url("Upper://x"), MemoryStore)
    assert isinstance(store_from_url("upper://x"), MemoryStore)
