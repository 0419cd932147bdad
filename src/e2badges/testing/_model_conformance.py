"""A model-based differential test: the store under test against the memory store.

Mixed into :class:`~e2badges.testing.conformance.StoreConformance`, and usable on
its own: a class that subclasses :class:`ModelConformance` and provides
``make_store`` runs it.  A hypothesis state machine performs random sequences of
public :class:`~e2badges.Rewards` operations (recording, re-sending and conflicting
activities, grants and revocations, opt-outs, people's groups, teams and privacy
settings, erasure, closing periods, delivering notifications, the clock moving on)
at once on a Rewards over the store under test and on an identical Rewards over a
fresh :class:`~e2badges.storage.MemoryStore`, the reference.  Each operation must
answer alike on both; after every step both are asked the same public questions
(balances, ledgers, awards, levels, profiles, leaderboards in several windows,
ranking styles and for several viewers, the feed, adoption figures, exports) and
the answers must be equal.  The costlier questions take turns from step to step
(see :func:`_observe`); every question is asked at the end of each example.

Each example starts from empty stores: by default it works in a tenant of its own
(``store.for_tenant``) and deletes it (``delete_tenant``) when it ends; a store
without tenants overrides the ``model_store`` fixture.  Needs hypothesis and pytest
(``pip install "e2badges[testing]"``).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import datetime, timedelta
from typing import Any, NamedTuple, TypeVar
from unittest import mock

import pytest

from .._errors import MissingDependencyError

try:
    from hypothesis import HealthCheck, settings
    from hypothesis import strategies as st
    from hypothesis.stateful import (
        RuleBasedStateMachine,
        invariant,
        precondition,
        rule,
        run_state_machine_as_test,
    )
except ImportError as exc:  # pragma: no cover - the conformance suite's users install it
    raise MissingDependencyError("hypothesis", "hypothesis") from exc

from .. import (
    Activity,
    AverageMetric,
    Badge,
    Cap,
    CountMetric,
    DeliveryPolicy,
    DisplayPolicy,
    FrozenClock,
    Leaderboard,
    Level,
    Membership,
    PluginState,
    PointRule,
    PointsMetric,
    Refusal,
    Rewards,
    StoryOptions,
    SumMetric,
    TeamScope,
    TeamsScope,
    Tier,
    _rewards,
    criteria,
    hookimpl,
)
from .._callouts import callout_boards
from .._erasure import ERASED_PREFIX
from ..storage.base import Store
from ..storage.memory import MemoryStore
from ._common import T0, Keeper

__all__ = ["ModelConformance", "ModelStores"]

#: ``model_store()`` opens, for one example, an empty store to test (closed on exit).
ModelStores = Callable[[], AbstractContextManager[Store]]

# A small population and few kinds, so that ties, caps and duplicates are common.
PEOPLE = ("ann", "bob", "cy", "dee", "eve")
BOSS = "boss"  # who grants and revokes
TEAMS = ("red", "blue")
KINDS = ("post", "vote", "score")
DAY = timedelta(days=1)
#: Where the clock starts: Wednesday 2026-03-04 12:00 UTC, two days after T0.
START = T0 + timedelta(days=2, hours=3)
#: Calendar windows are New York's: 09:00 UTC is 04:00 there (05:00 from Sunday 8 March,
#: when summer time starts), and 02:00 UTC the next day is 21:00 of the same local day.
TIMEZONE = "America/New_York"
#: When in its day an activity happens: at T0's time, a minute later, or 17 hours later
#: (the next day in UTC, the same day in New York), so that ``at`` and reached times tie.
TIMES = (timedelta(0), timedelta(minutes=1), timedelta(hours=17), timedelta(hours=17, minutes=1))

RULES = (
    # 3 points a post, at most 7 a day (the third post of a day is cut to 1), and 5 more
    # the first time, within the cap (the first post's bonus is cut to 4).
    PointRule(id="post", kind="post", actor_points=3, caps=(Cap(amount=7),), first_time_bonus=5),
    # A vote: 1 to the voter, 4 to the recipient (not to oneself), at most 8 a week per
    # voter-recipient pair; and 1 karma per object to the recipient.
    PointRule(
        id="vote",
        kind="vote",
        actor_points=1,
        recipient_points=4,
        caps=(Cap(amount=8, window="week", per="pair"),),
    ),
    PointRule(id="karma", kind="vote", recipient_points=1, currency="karma", once_per_object=True),
    # A score counts its value, at most 9 over 3 rolling days.
    PointRule(
        id="score",
        kind="score",
        actor_points=lambda a: a.value or 0,
        caps=(Cap(amount=9, window="3d"),),
    ),
)
BADGES = (
    Badge(
        id="poster",
        criterion=criteria.Count(kind="post"),
        tiers=(Tier(id="bronze", threshold=1), Tier(id="silver", threshold=3)),
    ),
    Badge(
        id="liked",
        criterion=criteria.Count(kind="vote", who="recipient"),
        threshold=2,
        repeat="week",
    ),
    Badge(id="helper", criterion=criteria.Manual(), repeat="month"),
    Badge(id="pioneer", criterion=criteria.First(kind="vote", scope="team")),
    Badge(id="regular", criterion=criteria.Streak(kind="post"), threshold=2),
    Badge(id="topics", criterion=criteria.Distinct(kind="post", of="object"), threshold=2),
    Badge(id="busy", criterion=criteria.Rolling(kind="score", days=2), threshold=3),
    Badge(id="rich", criterion=criteria.Points(), threshold=15, secret=True),
    Badge(id="both", criterion=criteria.AllOf(badges=("poster", "helper"))),
)
LEVELS = (
    Level(id="one", threshold=4),
    Level(id="two", threshold=12),
    Level(id="three", threshold=20, badges=("poster",)),
)
# (board, windows, whether it ranks teams)
BOARDS = (
    Leaderboard(
        id="pts", metric=PointsMetric(), windows=("all", "week", "3d"), exclude_groups=("boss",)
    ),
    Leaderboard(
        id="posts", metric=CountMetric(kind="post"), windows=("day", "all"), ranking="dense"
    ),
    Leaderboard(
        id="low",
        metric=SumMetric(kind="score"),
        windows=("all", "month"),
        ranking="ordinal",
        better="lower",
    ),
    Leaderboard(id="avg", metric=AverageMetric(kind="score", min_count=2)),
    Leaderboard(id="red", metric=PointsMetric(), scope=TeamScope(team="red")),
    Leaderboard(
        id="teams",
        metric=CountMetric(kind="post"),
        scope=TeamsScope(divide_by_size=True, team_sizes={"red": 3}),
        windows=("all", "week"),
    ),
)
STORIES = StoryOptions(
    leaders=("pts",), personal_bests=("posts",), milestones=("post",), milestone_counts=(3, 8)
)

# Tenant names no other example (or earlier run over the same database) uses.
_RUN = uuid.uuid4().hex[:8]
_EXAMPLES = itertools.count()

T = TypeVar("T")


class _Checker:
    """A check plugin with state: it refuses a score of 6 and an actor's sixth score, and
    marks each actor's first post (giving it the object ``o1`` when it has none)."""

    name = "checker"

    @hookimpl
    def e2badges_check_activity(
        self, activity: Activity, state: PluginState
    ) -> Activity | Refusal | None:
        if activity.kind == "score":
            if activity.value == 6:
                return Refusal("six is not a score")
            key = PluginState.key("scores", activity.actor)
            count = state.get(key, 0)
            if count >= 5:
                return Refusal("five scores each")
            state.set(key, count + 1)
        elif activity.kind == "post":
            key = PluginState.key("posted", activity.actor)
            if not state.get(key):
                state.set(key, True)
                return activity.model_copy(
                    update={
                        "object": activity.object or "o1",
                        "attributes": {**activity.attributes, "first": True},
                    }
                )
        return None


Questions = Callable[[Rewards], list[tuple[str, Callable[[], Any]]]]


class _Config(NamedTuple):
    """A configuration of the Rewards on both sides, and the questions particular to it."""

    #: Rewards options other than the store, clock, plugins and ``rankings``.
    options: dict[str, Any]
    #: Every leaderboard, call-outs included.
    boards: tuple[Leaderboard, ...]
    #: Whether the check plugin runs.
    checker: bool
    #: Questions asked at every turn.
    questions: Questions
    #: Questions that take turns (adoption reports and the like).
    reports: Questions


def _main_questions(rewards: Rewards) -> list[tuple[str, Callable[[], Any]]]:
    pts = rewards.leaderboard("pts")
    return [
        ("feed()", lambda: rewards.feed(limit=100)),
        ("feed(scope='team:red')", lambda: rewards.feed(scope="team:red", limit=100)),
        ("feed(since=T0 + 3 days, limit=3)", lambda: rewards.feed(since=T0 + 3 * DAY, limit=3)),
        ("leaderboard('pts') week of T0", lambda: pts.top(10, window="week", period=T0.date())),
        ("leaderboard('pts') 3d to T0 + 1 day", lambda: pts.top(10, window="3d", period=T0 + DAY)),
    ]


def _main_reports(rewards: Rewards) -> list[tuple[str, Callable[[], Any]]]:
    return [
        ("adoption('week')", lambda: rewards.adoption(window="week")),
        ("adoption('month')", lambda: rewards.adoption(window="month")),
        ("adoption('all')", lambda: rewards.adoption(window="all")),
        ("adoption('week', team='red')", lambda: rewards.adoption(window="week", team="red")),
        ("adoption('3d', period=T0)", lambda: rewards.adoption(window="3d", period=T0.date())),
        (
            "newcomers(), newcomers(week=T0)",
            lambda: (rewards.newcomers(), rewards.newcomers(week=T0.date())),
        ),
    ]


MAIN = _Config(
    options={
        "rules": RULES,
        "badges": BADGES,
        "levels": LEVELS,
        "leaderboards": BOARDS,
        "stories": STORIES,
        "timezone": TIMEZONE,
        "seats": 6,
        "team_seats": {"red": 3, "blue": 3},
        "contributing": ("post", "vote"),
    },
    boards=BOARDS,
    checker=False,
    questions=_main_questions,
    reports=_main_reports,
)

# The variant: what the main configuration leaves out, on a smaller machine.
VARIANT_RULES = (
    # 3 points a post, not again for the same object within 18 hours either way (so an
    # activity's day and its neighbours' in New York or UTC collide), and 1 karma, not
    # again within a minute (TIMES are a minute apart: the boundary).
    PointRule(id="post", kind="post", actor_points=3, cooldown=timedelta(hours=18)),
    PointRule(
        id="quick", kind="post", actor_points=1, currency="karma", cooldown=timedelta(minutes=1)
    ),
    RULES[1],
    RULES[3],
)
VARIANT_CALLOUTS = ("most_posts", "most_valued", "most_active_team")
VARIANT_CALLOUT_KINDS = {"post": "post", "rating": "score"}
VARIANT_BOARDS = (
    # Weeks from Sunday; boards shown with initials or pseudonyms.
    Leaderboard(
        id="pts",
        metric=PointsMetric(),
        windows=("week", "all"),
        week_starts="sunday",
        exclude_groups=("boss",),
    ),
    # A rolling window on a lower-is-better board.
    Leaderboard(id="low", metric=SumMetric(kind="score"), windows=("all", "3d"), better="lower"),
)
#: Kolkata is 5:30 ahead of UTC: its days and weeks split the TIMES otherwise.
VARIANT_TIMEZONE = "Asia/Kolkata"
VARIANT_DISPLAY = DisplayPolicy(
    default="initials", choices=("pseudonym",), key="model-conformance-key"
)


def _variant_questions(rewards: Rewards) -> list[tuple[str, Callable[[], Any]]]:
    pts, low = rewards.leaderboard("pts"), rewards.leaderboard("low")
    return [
        ("feed()", lambda: rewards.feed(limit=100)),
        ("leaderboard('pts') week of T0", lambda: pts.top(10, window="week", period=T0.date())),
        (
            "leaderboard('low') 3d to T0 + 2 days",
            lambda: low.top(10, window="3d", period=T0 + 2 * DAY),
        ),
    ]


def _variant_reports(rewards: Rewards) -> list[tuple[str, Callable[[], Any]]]:
    return [
        ("adoption('week')", lambda: rewards.adoption(window="week")),
        (
            "newcomers(), newcomers(week=T0)",
            lambda: (rewards.newcomers(), rewards.newcomers(week=T0.date())),
        ),
    ]


VARIANT = _Config(
    options={
        "rules": VARIANT_RULES,
        "badges": BADGES,
        "levels": LEVELS,
        "leaderboards": VARIANT_BOARDS,
        "stories": StoryOptions(
            leaders=("pts", "low"),
            personal_bests=("most_posts",),
            milestones=("post",),
            milestone_counts=(2, 5),
        ),
        "callouts": VARIANT_CALLOUTS,
        "callout_kinds": VARIANT_CALLOUT_KINDS,
        "display": VARIANT_DISPLAY,
        "timezone": VARIANT_TIMEZONE,
    },
    boards=(*VARIANT_BOARDS, *callout_boards(VARIANT_CALLOUTS, VARIANT_CALLOUT_KINDS)),
    checker=True,
    questions=_variant_questions,
    reports=_variant_reports,
)


class _Side:
    """One side of the comparison: a Rewards over a store, and its notification keeper."""

    def __init__(self, store: Store, clock: FrozenClock, config: _Config, *, outbox: bool) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.outbox = outbox
        self.keeper = Keeper()
        self.rewards = self.build(rankings=True)

    def build(self, *, rankings: bool) -> Rewards:
        """Return a Rewards over the store, with rankings on or off."""
        plugins: list[object] = [self.keeper] if self.outbox else []
        if self.config.checker:
            plugins.append(_Checker())
        return Rewards(
            self.store,
            clock=self.clock,
            plugins=plugins,
            load_entrypoints=False,
            delivery=DeliveryPolicy(inline=False),
            rankings=rankings,
            **self.config.options,
        )


def _answer(call: Callable[[], Any]) -> Any:
    """Return what ``call`` returns, or the type and message of what it raises."""
    try:
        return call()
    except Exception as exc:  # an error is an answer too: both sides must give the same
        return ("raised", type(exc).__name__, str(exc))


_PERSON = st.sampled_from(PEOPLE)
_WHEN = st.integers(0, 8)  # days after T0
_TEAM = st.sampled_from(TEAMS)
# One activity: (actor, kind, recipient, value, object, day, time, teams).  ``day`` is
# days after T0 (None: recorded without ``at``, at the clock's now), ``time`` an index in
# TIMES; ``teams`` None is recorded without teams (the actor's memberships give them).
Spec = tuple[str, str, str | None, int | None, str | None, int | None, int, tuple[str, ...] | None]
_SPEC = st.tuples(
    st.sampled_from(PEOPLE),
    st.sampled_from(KINDS),
    st.none() | st.sampled_from(PEOPLE),
    st.none() | st.integers(0, 6),
    st.none() | st.sampled_from(("o1", "o2")),
    st.none() | _WHEN,
    st.integers(0, len(TIMES) - 1),
    st.none() | st.lists(_TEAM, unique=True, max_size=2).map(tuple),
)
# A change to a person: (what, user, *arguments).
_PERSON_CHANGE = st.one_of(
    st.tuples(
        st.just("set"),
        _PERSON,
        st.none() | st.sampled_from(("Ann A.", "B")),
        st.lists(st.sampled_from(("boss", "staff")), unique=True, max_size=2),
    ),
    st.tuples(
        st.just("teams"),
        _PERSON,
        st.lists(st.tuples(_TEAM, st.none() | _WHEN, st.none() | _WHEN), max_size=2),
    ),
    st.tuples(st.just("join"), _PERSON, _TEAM, _WHEN),
    st.tuples(st.just("leave"), _PERSON, _TEAM, _WHEN),
    st.tuples(st.just("feed"), _PERSON, st.booleans()),
    st.tuples(st.just("erase"), _PERSON),
)


class _ModelMachine(RuleBasedStateMachine):
    """The same operations on the store under test and on the reference, answers compared."""

    #: The configuration of the Rewards on both sides.
    config = MAIN

    def __init__(self, model_store: ModelStores) -> None:
        super().__init__()
        self._exit = ExitStack()
        self.clock = FrozenClock(START)
        self.reference, self.tested = self.open(model_store)
        self.sent: list[Activity] = []  # every activity sent, in order (again: re-sent)
        self.ids = itertools.count()
        self.erased = 0
        self.touched: list[str] = []  # the activity ids of the last step
        self.viewer = PEOPLE[0]  # the last person hidden from boards: who sees them as shown
        self.steps = 0
        # True from the start of each comparison until it passed: the example failed if
        # it is still true when the example ends.
        self.failed = False

    def teardown(self) -> None:
        """Ask every question, all of them, at the end of an example that passed."""
        try:
            if self.steps and not self.failed:
                self.compare(None)
        finally:
            self._exit.close()

    def open(self, model_store: ModelStores) -> tuple[_Side, _Side]:
        """Open an empty store to test; return the reference side and the tested side."""
        tested = self._exit.enter_context(model_store())
        outbox = tested.keeps_outbox
        return (
            _Side(MemoryStore(), self.clock, self.config, outbox=outbox),
            _Side(tested, self.clock, self.config, outbox=outbox),
        )

    # -- doing the same on both sides ----------------------------------------------------

    def both(self, what: str, call: Callable[[Rewards], Any]) -> None:
        """Do ``call`` on both sides and assert that they answer alike."""
        self.failed = True
        expected = _answer(lambda: call(self.reference.rewards))
        got = _answer(lambda: call(self.tested.rewards))
        self.steps += 1
        if got != expected:
            raise AssertionError(f"{what}: the store answered {got!r}, the reference {expected!r}")
        self.failed = False

    def compare(self, turn: int | None) -> None:
        """Assert that both sides answer every question of ``turn`` (None: all) alike."""
        self.failed = True
        self.compare_sides(self.reference, self.tested, self.touched, turn)
        self.failed = False

    def compare_sides(
        self,
        reference: _Side,
        tested: _Side,
        touched: list[str],
        turn: int | None,
        *,
        light: bool = False,
        where: str = "",
    ) -> None:
        expected = _observe(reference, touched, self.viewer, turn, light=light)
        got = _observe(tested, touched, self.viewer, turn, light=light)
        for question, answer in expected.items():
            if got[question] != answer:
                raise AssertionError(
                    f"{where}{question}: the store answered {got[question]!r}, "
                    f"the reference {answer!r}"
                )

    def activity(self, spec: Spec, activity_id: str | None = None) -> Activity:
        actor, kind, recipient, value, obj, day, time, teams = spec
        data: dict[str, Any] = {
            "id": activity_id if activity_id is not None else f"a{next(self.ids)}",
            "actor": actor,
            "kind": kind,
            "recipient": recipient,
            "value": value,
            "object": obj,
        }
        if day is not None:
            data["at"] = T0 + day * DAY + TIMES[time]
        if teams is not None:
            data["teams"] = teams
        activity = Activity(**data)
        self.sent.append(activity)
        return activity

    def at(self, day: int) -> datetime:
        return T0 + day * DAY + timedelta(hours=1)

    # -- rules -------------------------------------------------------------------------

    @rule(spec=_SPEC)
    def record(self, spec: Spec) -> None:
        activity = self.activity(spec)
        self.touched = [activity.id]
        self.both(f"record({activity!r})", lambda r: r.record(activity))

    @rule(specs=st.lists(_SPEC, min_size=2, max_size=6), repeat=st.booleans())
    def record_many(self, specs: list[Spec], repeat: bool) -> None:
        batch = [self.activity(spec) for spec in specs]
        if repeat:
            batch.append(batch[0])  # an id twice in one batch
        self.touched = [a.id for a in batch]
        self.both(f"record_many({batch!r})", lambda r: r.record_many(batch))

    @precondition(lambda self: bool(self.sent))
    @rule(
        picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=3),
        specs=st.lists(_SPEC, max_size=2),
    )
    def send_again(self, picks: list[int], specs: list[Spec]) -> None:
        """Send activities already sent, unchanged (as a retry would), with new ones."""
        batch = [self.sent[n % len(self.sent)] for n in picks]
        batch += [self.activity(spec) for spec in specs]
        self.touched = [a.id for a in batch]
        self.both(f"record_many({batch!r})", lambda r: r.record_many(batch))

    @precondition(lambda self: bool(self.sent))
    @rule(pick=st.integers(0, 10**6), spec=_SPEC)
    def send_conflicting(self, pick: int, spec: Spec) -> None:
        """Send an id already sent with (most likely) other content."""
        activity = self.activity(spec, self.sent[pick % len(self.sent)].id)
        self.touched = [activity.id]
        self.both(f"record({activity!r})", lambda r: r.record(activity))

    @rule(
        grant=st.booleans(),
        user=_PERSON,
        badge=st.sampled_from(("helper", "poster", "pioneer", "both", "liked")),
        tier=st.none() | st.sampled_from(("bronze", "silver")),
        day=_WHEN,
    )
    def badge(self, grant: bool, user: str, badge: str, tier: str | None, day: int) -> None:
        """Grant or revoke a badge (or one of its tiers), by the boss."""
        activity_id = f"m{next(self.ids)}"
        at = self.at(day)
        self.touched = [activity_id]
        if grant:
            self.both(
                f"grant({user!r}, {badge!r}, tier={tier!r})",
                lambda r: r.grant(
                    user, badge, by=BOSS, reason="why", tier=tier, id=activity_id, at=at
                ),
            )
        else:
            self.both(
                f"revoke({user!r}, {badge!r}, tier={tier!r})",
                lambda r: r.revoke(
                    user, badge, by=BOSS, reason="why", tier=tier, id=activity_id, at=at
                ),
            )

    @rule(user=_PERSON, out=st.booleans())
    def opt_out(self, user: str, out: bool) -> None:
        self.touched = []
        if out:
            self.viewer = user
        self.both(
            f"set_leaderboard_opt_out({user!r}, {out})",
            lambda r: r.set_leaderboard_opt_out(user, out),
        )

    @rule(change=_PERSON_CHANGE)
    def person(self, change: tuple[Any, ...]) -> None:
        """Change a person's display name and groups, teams or privacy settings; or erase
        them."""
        self.touched = []
        what, user, *args = change
        if what == "set":  # the group "boss" is excluded from board pts
            name, groups = args
            if "boss" in groups:
                self.viewer = user
            self.both(
                f"people.set({user!r}, display_name={name!r}, groups={groups!r})",
                lambda r: r.people.set(user, display_name=name, groups=groups),
            )
        elif what == "teams":  # the actor's teams at an activity recorded without teams
            memberships = [
                Membership(
                    team,
                    None if joined is None else self.at(joined),
                    None if left is None else self.at(left) + timedelta(hours=12),
                )
                for team, joined, left in args[0]
            ]
            self.both(
                f"people.set({user!r}, teams={memberships!r})",
                lambda r: r.people.set(user, teams=memberships),
            )
        elif what == "join":
            team, day = args
            self.both(
                f"people.join_team({user!r}, {team!r}, at={self.at(day)})",
                lambda r: r.people.join_team(user, team, at=self.at(day)),
            )
        elif what == "leave":
            team, day = args
            self.both(
                f"people.leave_team({user!r}, {team!r}, at={self.at(day)})",
                lambda r: r.people.leave_team(user, team, at=self.at(day)),
            )
        elif what == "feed":
            self.both(
                f"people.settings({user!r}, feed={args[0]})",
                lambda r: r.people.settings(user, feed=args[0]),
            )
        else:
            # Both sides get the same pseudonym (erase_person draws a random one).
            self.erased += 1
            pseudonym = f"{ERASED_PREFIX}{self.erased:024x}"
            self.touched = list(dict.fromkeys(a.id for a in self.sent))
            with mock.patch.object(_rewards, "new_pseudonym", return_value=pseudonym):
                self.both(f"erase_person({user!r})", lambda r: r.erase_person(user))

    @rule(hours=st.sampled_from((0, 6, 24, 24 * 3)), close=st.booleans())
    def time_passes(self, hours: int, close: bool) -> None:
        """Move the clock on, then close the periods that ended, or deliver notifications."""
        self.touched = []
        self.clock.advance(timedelta(hours=hours))
        if close:
            self.both("close_periods(top=3)", lambda r: r.close_periods(top=3))
        else:
            self.both("deliver_pending()", lambda r: r.deliver_pending())

    # -- the answers, compared after every step --------------------------------------------

    @invariant()
    def same_answers(self) -> None:
        if self.steps:  # before the first step both stores are empty: nothing to ask
            self.compare(self.steps)


# A denser activity for the variant: two people posting on one object and scoring, on
# days 0 to 4 (late or not), so that cooldowns and the rolling window meet often.
_DENSE = st.tuples(
    st.sampled_from(PEOPLE[:2]),
    st.sampled_from(("post", "score")),
    st.none(),
    st.none() | st.integers(0, 6),
    st.just("o1"),
    st.integers(0, 4),
    st.integers(0, len(TIMES) - 1),
    st.none(),
)


class _VariantMachine(_ModelMachine):
    """The same operations, and more, under a second configuration, in two tenants.

    Point rules with cooldowns; weeks from Sunday in Kolkata's time; a rolling window
    on a lower-is-better board; call-outs and ``newcomers``; a display policy and
    people's display styles; a check plugin with state that refuses and enriches;
    rankings turned off and on again; and two tenants of one storage, the current
    one switched at random (the activities sent to one are sent again to the other,
    same ids) and deleted at random.  After each step the current tenant is asked
    the usual questions, the other its log, balances and ledgers.
    """

    config = VARIANT

    def __init__(self, model_store: ModelStores) -> None:
        super().__init__(model_store)
        self.tenants = [(self.reference, self.tested), self.open(model_store)]
        self.current = 0
        self.switched = False

    def compare(self, turn: int | None) -> None:
        self.failed = True
        for index, (reference, tested) in enumerate(self.tenants):
            here = index == self.current
            self.compare_sides(
                reference,
                tested,
                self.touched if here else [],
                turn,
                light=turn is not None and not here,
                where=f"tenant {index}: ",
            )
        self.failed = False

    @rule()
    def switch_tenant(self) -> None:
        """Go on in the other tenant."""
        self.touched = []
        self.current = 1 - self.current
        self.switched = True
        self.reference, self.tested = self.tenants[self.current]

    @precondition(lambda self: self.switched)  # so that the other tenant likely holds some
    @rule()
    def delete_tenant(self) -> None:
        """Delete everything the current tenant holds; it starts again, empty."""
        self.touched = []
        self.both("store.delete_tenant()", lambda r: r.store.delete_tenant())

    @rule(specs=st.lists(_DENSE, min_size=1, max_size=6))
    def record_dense(self, specs: list[Spec]) -> None:
        """Record activities one by one, in any order of their times."""
        for spec in specs:
            self.record(spec)

    @rule(on=st.booleans())
    def rankings(self, on: bool) -> None:
        """Turn rankings off or on: new Rewards over the same stores, in both tenants."""
        self.touched = []
        for pair in self.tenants:
            for side in pair:
                side.rewards = side.build(rankings=on)

    @rule(user=_PERSON, style=st.sampled_from((None, "initials", "pseudonym", "full_name")))
    def display(self, user: str, style: str | None) -> None:
        """Choose how a person is named to others (the variant's policy does not offer
        full names: refused there)."""
        self.touched = []
        self.both(
            f"people.settings({user!r}, display={style!r})",
            lambda r: r.people.settings(user, display=style),  # type: ignore[arg-type]
        )


def _observe(
    side: _Side, touched: list[str], viewer: str, turn: int | None, *, light: bool = False
) -> dict[str, Any]:
    """Return the answers of one side to the questions of ``turn``, by the question.

    Every turn asks for the log, the activities of the last step, each person's
    balance, ledger, awards and profile, the feed, and each board window's listing
    and size.  The costlier questions take turns: one person's other questions
    (karma, last ledger lines, badges, level, record, opt-out, their feed, their
    export), one board window's questions about each subject (score, entry,
    percentile, around, as they see it and as ``viewer`` sees it) and one adoption
    report.  ``viewer`` is the person last hidden from boards.  ``turn`` None asks
    every question; ``light`` only the log, balances and ledgers.
    """
    rewards = side.rewards
    out: dict[str, Any] = {}

    def ask(question: str, call: Callable[..., Any], *args: Any, **options: Any) -> None:
        out[question] = _answer(lambda: call(*args, **options))

    def taking_turns(items: Sequence[T]) -> Sequence[T]:
        return items if turn is None else (items[turn % len(items)],)

    people = (*PEOPLE, BOSS)
    out["delivered"] = list(side.keeper.received)
    ask("log", lambda: list(rewards.store.iter_activities()))
    if light:
        for user in people:
            ask(f"balance({user!r})", rewards.balance, user)
            ask(f"explain({user!r})", rewards.explain, user)
        return out
    for activity_id in touched:
        ask(f"activity({activity_id!r})", rewards.activity, activity_id)
        ask(f"outcome({activity_id!r})", rewards.outcome, activity_id)
    for user in people:
        ask(f"balance({user!r})", rewards.balance, user)
        ask(f"explain({user!r})", rewards.explain, user)
        ask(f"awards({user!r})", rewards.awards, user)
        ask(f"profile({user!r})", rewards.profile, user)
    for user in taking_turns(people):
        ask(f"balance({user!r}, 'karma')", rewards.balance, user, "karma")
        ask(f"explain({user!r}, limit=2)", rewards.explain, user, limit=2)
        ask(f"badges({user!r})", rewards.badges, user)
        ask(f"level({user!r})", rewards.level, user)
        ask(f"people.get({user!r})", rewards.people.get, user)
        ask(f"leaderboard_opt_out({user!r})", rewards.leaderboard_opt_out, user)
        ask(f"feed(viewer={user!r})", rewards.feed, viewer=user, limit=100)
        ask(f"export_person({user!r})", _export, rewards, user)
    for question, call in side.config.questions(rewards):
        ask(question, call)
    boards = side.config.boards
    for board in boards:
        view = rewards.leaderboard(board.id)
        for window in board.windows:
            name = f"leaderboard({board.id!r}) window={window!r}:"
            ask(f"{name} top(10)", view.top, 10, window=window)
            ask(f"{name} size()", view.size, window=window)
    windows = [(board, window) for board in boards for window in board.windows]
    for board, window in taking_turns(windows):
        view = rewards.leaderboard(board.id)
        name = f"leaderboard({board.id!r}) window={window!r}:"
        ask(f"{name} top(2, 1)", view.top, 2, 1, window=window)
        ask(f"{name} top(10, viewer={viewer!r})", view.top, 10, window=window, viewer=viewer)
        ask(f"{name} size(viewer={viewer!r})", view.size, window=window, viewer=viewer)
        for s in TEAMS if isinstance(board.scope, TeamsScope) else PEOPLE:
            ask(f"{name} score({s!r})", view.score, s, window=window)
            ask(f"{name} score({s!r}, viewer={s!r})", view.score, s, window=window, viewer=s)
            ask(f"{name} entry({s!r})", view.entry, s, window=window)
            ask(f"{name} percentile({s!r})", view.percentile, s, window=window)
            ask(f"{name} around({s!r}, 3)", view.around, s, 3, window=window)
            ask(f"{name} entry({s!r}, viewer={s!r})", view.entry, s, window=window, viewer=s)
            ask(
                f"{name} around({s!r}, 2, viewer={s!r})", view.around, s, 2, window=window, viewer=s
            )
            seen = f"viewer={viewer!r}"
            ask(f"{name} entry({s!r}, {seen})", view.entry, s, window=window, viewer=viewer)
            ask(f"{name} around({s!r}, 4, {seen})", view.around, s, 4, window=window, viewer=viewer)
    reports = side.config.reports(rewards)
    for question, call in taking_turns(reports):
        ask(question, call)
    return out


def _export(rewards: Rewards, user: str) -> dict[str, Any]:
    """Return export_person(user), its stories in a set order (ties in ``at`` are unordered)."""
    exported = rewards.export_person(user)
    exported["stories"] = sorted(exported["stories"], key=lambda s: (s["at"], s["id"]))
    return exported


class ModelConformance:
    """The store under test answers as the memory store does, step by step, through
    random sequences of public Rewards operations.

    Needs a ``make_store`` fixture (as StoreConformance does), or an override of
    ``model_store``; ``model_settings`` sets the number of examples and steps.
    """

    @pytest.fixture
    def model_store(self, make_store: Callable[[], Store]) -> ModelStores:
        """Return ``model_store()``: an empty store for one example, cleaned up on exit.

        Each example works in a tenant of its own of one store from ``make_store``,
        deleted when the example ends.  Override this fixture for a store without
        tenants.
        """
        store = make_store()

        @contextmanager
        def tenant() -> Iterator[Store]:
            empty = store.for_tenant(f"model-{_RUN}-{next(_EXAMPLES)}")
            try:
                yield empty
            finally:
                empty.delete_tenant()

        return tenant

    @pytest.fixture
    def model_settings(self) -> settings:
        """Return the hypothesis settings of the model test: how many examples and steps."""
        return settings(
            max_examples=10,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )

    def test_model(self, model_store: ModelStores, model_settings: settings) -> None:
        """Through random sequences of public Rewards operations (recording, re-sent and
        conflicting activities, grants, revocations, opt-outs, people's groups, teams and
        privacy settings, erasure, closing periods, delivery, time passing), each operation
        and, after every step, each public question get the same answer over the store as
        over a MemoryStore."""

        class Machine(_ModelMachine):
            def __init__(self) -> None:
                super().__init__(model_store)

        run_state_machine_as_test(Machine, settings=model_settings)

    @pytest.fixture
    def model_variant_settings(self, model_settings: settings) -> settings:
        """Return the hypothesis settings of the second model test: by default half the
        examples of ``model_settings`` (at least one), as many steps."""
        return settings(model_settings, max_examples=max(1, model_settings.max_examples // 2))

    def test_model_variant(
        self, model_store: ModelStores, model_variant_settings: settings
    ) -> None:
        """The same, and more, under a second configuration, in two tenants of one
        storage: cooldowns, weeks from Sunday, a rolling lower-is-better board,
        call-outs and newcomers, a display policy and display styles, a check plugin
        that refuses and enriches, rankings off and on, switching and deleting
        tenants."""

        class Machine(_VariantMachine):
            def __init__(self) -> None:
                super().__init__(model_store)

        run_state_machine_as_test(Machine, settings=model_variant_settings)
