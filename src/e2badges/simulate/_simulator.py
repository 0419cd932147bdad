"""The simulator: a population adopts, adopters act, a real Rewards instance records it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from random import Random
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, field_validator

from .._clock import FrozenClock
from .._errors import ConfigurationError
from .._limits import MAX_AT, MAX_IDENTIFIER_LENGTH, check_at, check_at_input, fixed_offset
from .._models import Activity, Outcome
from .._periods import zone_of
from .._rewards import Rewards
from .._rules import Cap, PointRule
from ..storage import Store
from ._config import Config
from ._models import Bass, Behaviour, FeedbackLoops, ParticipationTiers, Thresholds
from ._population import Population
from ._report import (
    HealthReport,
    check_badges,
    check_items,
    check_top,
    day_starts,
    health_report,
)

__all__ = ["Simulation", "SimulationRun", "default_rules", "simulate"]

_VIEW, _CONTRIBUTE = 0, 1


class Simulation(Config):
    """Everything a simulation run needs except the seed and the rules.

    Days are local calendar days of ``timezone``: day ``d`` begins at ``start``'s
    local time of day on the ``d``-th local date after ``start``'s, so a day across a
    daylight-saving change lasts 23 or 25 hours, in the simulator and in its report
    alike.  ``start`` should be a Monday at local midnight in ``timezone`` so that
    the report's days and weeks are calendar ones.  Every activity's time must be
    one an activity may have: ``start`` and the end of the last day lie from
    1900-01-01 to 3000-01-01 UTC, and ``start`` has a UTC offset of whole seconds.
    """

    population: Population = Population(people=1000, teams=10)
    adoption: Annotated[Bass | Thresholds, Field(discriminator="model")] = Bass()
    tiers: ParticipationTiers = ParticipationTiers()
    behaviour: Behaviour = Behaviour()
    feedback: FeedbackLoops = FeedbackLoops()
    days: int = Field(default=180, ge=1, le=3660)
    start: AwareDatetime = datetime(2026, 1, 5, tzinfo=UTC)
    timezone: str = "UTC"

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: object) -> str:
        # An IANA name, or a ZoneInfo taken by its key (the model keeps the name).
        return zone_of(value).key

    @field_validator("start", mode="before")
    @classmethod
    def _start_input(cls, value: object) -> object:
        # Before pydantic's lax parsing, which reads a number as a Unix time in UTC.
        return check_at_input(value)

    @field_validator("start")
    @classmethod
    def _start(cls, value: datetime) -> datetime:
        # The simulator records activities without validating each one: hold them here.
        return check_at(value)

    def _check(self) -> None:
        end = day_starts(self.start, self.days, zone_of(self.timezone))[-1]
        if end > MAX_AT:
            self._refuse(
                "days",
                f"{self.days} days from {self.start.isoformat()} end at {end.isoformat()}; "
                "activities must be before 3000-01-01 UTC",
            )


@dataclass(frozen=True, slots=True)
class SimulationRun:
    """One run: who adopted when, who did how much, and the health report.

    ``adoption[i]`` is when person ``i`` (in population order) adopted, in days
    since the start, or None; ``tiers[i]`` is their participation tier;
    ``rewards`` is the Rewards instance that recorded the run's activities.
    """

    seed: int
    simulation: Simulation
    rewards: Rewards
    adoption: tuple[float | None, ...]
    tiers: tuple[str, ...]
    activities: int
    report: HealthReport


def default_rules(behaviour: Behaviour | None = None) -> tuple[PointRule, ...]:
    """Return the point rules a run uses when given none.

    10 points a post (at most 50 a day), 2 points a comment (at most 20 a day)
    and 1 point to the post's author per comment from someone else; views earn
    nothing.
    """
    b = behaviour if behaviour is not None else Behaviour()
    return (
        PointRule(id="post", kind=b.post_kind, actor_points=10, caps=(Cap(amount=50),)),
        PointRule(
            id="comment",
            kind=b.comment_kind,
            actor_points=2,
            recipient_points=1,
            caps=(Cap(amount=20),),
        ),
    )


def check_rules(rules: Any, *, subject: str) -> tuple[PointRule, ...]:
    """Return the ``rules`` argument as a tuple of PointRules, else raise ConfigurationError."""
    items = check_items(
        "rules", rules, subject=subject, what="a list of PointRules", example="[PointRule(...)]"
    )
    for rule in items:
        if not isinstance(rule, PointRule):
            raise ConfigurationError(
                "rules", f"expected PointRule, got {type(rule).__name__}", subject=subject
            )
    return tuple(items)


def simulate(
    simulation: Simulation,
    *,
    seed: int,
    rewards: Rewards | None = None,
    store: Store | str | None = None,
    rules: Sequence[PointRule] | None = None,
    top: int = 10,
    badges: Sequence[str] = (),
) -> SimulationRun:
    """Run ``simulation`` with ``seed`` through a real Rewards instance and report on it.

    Give either ``rewards`` (its clock must be a FrozenClock, which the run
    advances, and it must accept the behaviour's kinds) or a ``store`` (a Store
    or a URL, ``memory://`` by default) and ``rules`` (:func:`default_rules` by
    default) for a new one.  ``badges`` is a list of badge ids the report lists
    even if nobody earned them.  A lone string, rule or mapping for ``rules`` or
    ``badges`` raises ConfigurationError naming it.  The same seed always gives
    the same run: every random draw comes from ``random.Random`` instances
    seeded from it.
    """
    if not isinstance(simulation, Simulation):
        raise ConfigurationError(
            "simulation",
            f"must be a Simulation, got {type(simulation).__name__}",
            subject="simulate",
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigurationError("seed", "must be an int", subject="simulate")
    # Activity and post ids are f"sim{seed}-post{n}": room for 20 digits of n.
    if len(f"sim{seed}-post") + 20 > MAX_IDENTIFIER_LENGTH:
        raise ConfigurationError(
            "seed",
            f"has {len(str(seed))} digits; ids made from it would be too long",
            subject="simulate",
        )
    check_top(top, subject="simulate")
    badges = check_badges(badges, subject="simulate")
    behaviour = simulation.behaviour
    if rewards is None:
        rules = (
            default_rules(behaviour) if rules is None else check_rules(rules, subject="simulate")
        )
        kinds = list(dict.fromkeys([*behaviour.kinds, *(rule.kind for rule in rules)]))
        rewards = Rewards(
            "memory://" if store is None else store,
            rules=rules,
            kinds=kinds,
            clock=FrozenClock(simulation.start),
            timezone=simulation.timezone,
        )
    else:
        if store is not None or rules is not None:
            raise ConfigurationError(
                "rewards",
                "give a Rewards instance, or a store and rules, not both",
                subject="simulate",
            )
        _check_rewards(rewards, behaviour)
    clock = rewards.clock
    assert isinstance(clock, FrozenClock)

    population = simulation.population
    adoption = simulation.adoption.adoption_times(
        population, days=simulation.days, rng=_rng(seed, "adoption"), feedback=simulation.feedback
    )
    tiers = simulation.tiers.assign(population.people, _rng(seed, "tiers"))
    multipliers = behaviour.multipliers(population.people, _rng(seed, "volume"))
    rates = behaviour.contribution_rates(tiers, multipliers)
    events = _events(adoption, rates, behaviour.view_rate, simulation.days, _rng(seed, "events"))
    counter = [0]
    records = _record(
        simulation=simulation,
        seed=seed,
        rewards=rewards,
        clock=clock,
        events=events,
        counter=counter,
    )
    report = health_report(
        records,
        population=population,
        start=simulation.start,
        days=simulation.days,
        timezone=rewards.timezone.key,
        top=top,
        badges=badges,
        seed=seed,
    )
    return SimulationRun(
        seed=seed,
        simulation=simulation,
        rewards=rewards,
        adoption=tuple(adoption),
        tiers=tuple(tiers),
        activities=counter[0],
        report=report,
    )


def _rng(seed: int, stream: str) -> Random:
    """Return the random stream ``stream`` of a seed.

    Separate streams keep one part of the run from shifting another's draws: the
    same seed gives the same tiers and volumes with or without a feedback loop.
    """
    return Random(f"e2badges.simulate:{seed}:{stream}")


def _check_rewards(rewards: Rewards, behaviour: Behaviour) -> None:
    if not isinstance(rewards.clock, FrozenClock):
        raise ConfigurationError(
            "clock",
            f"a simulation advances the Rewards clock, so it must be a FrozenClock, "
            f"not {type(rewards.clock).__name__}",
            subject="simulate",
        )
    engine = rewards.engine
    if engine.accept_any_kind:
        return
    for kind in behaviour.kinds:
        if kind not in engine.kinds:
            raise ConfigurationError(
                "kinds",
                f"the Rewards instance does not accept kind {kind!r}, which the behaviour records",
                subject="simulate",
            )


def _events(
    adoption: Sequence[float | None],
    rates: Sequence[float],
    view_rate: float,
    days: int,
    rng: Random,
) -> list[tuple[float, int, int]]:
    """Return every (time, person, what) event, in time order.

    An adopter views once on adopting, then views and contributes as Poisson
    processes until the end of the run.
    """
    events: list[tuple[float, int, int]] = []
    append = events.append
    expovariate = rng.expovariate
    for person, adopted in enumerate(adoption):
        if adopted is None:
            continue
        append((adopted, person, _VIEW))
        for what, rate in ((_VIEW, view_rate), (_CONTRIBUTE, rates[person])):
            if rate <= 0.0:
                continue
            at = adopted + expovariate(rate)
            while at < days:
                append((at, person, what))
                at += expovariate(rate)
    events.sort()
    return events


def _record(
    *,
    simulation: Simulation,
    seed: int,
    rewards: Rewards,
    clock: FrozenClock,
    events: list[tuple[float, int, int]],
    counter: list[int],
) -> Iterator[tuple[Activity, Outcome]]:
    """Record the events day by day through ``rewards``, yielding each activity and outcome."""
    behaviour = simulation.behaviour
    population = simulation.population
    ids = population.ids()
    names = population.team_names()
    teams = [(names[team],) for team in population.team_of()]
    view_kind, post_kind, comment_kind = behaviour.kinds
    post_share = behaviour.post_share
    start = simulation.start
    prefix = f"sim{seed}-"
    rng = _rng(seed, "targets")
    random = rng.random
    construct = Activity.model_construct
    posts: list[tuple[str, str]] = []  # (post id, author)
    batch: list[Activity] = []
    # Each local day is recorded as one batch at its last activity, so no activity is
    # recorded after its day (or any period made of days) is over: late activities tell
    # no leader story.
    tz = rewards.timezone
    # Event time t (in days) falls on local day floor(t), at the same fraction of that
    # day's real length (23 or 25 hours across a daylight-saving change): the days the
    # report counts, times that run forward and exist on the local clock.
    starts = day_starts(start, simulation.days, tz)
    lengths = [after - before for before, after in pairwise(starts)]
    zone = start.tzinfo
    convert = zone is not UTC
    tick = timedelta(microseconds=1)
    midnight: datetime | None = None  # the end of the batch's local day
    for n, (t, person, what) in enumerate(events):
        day = int(t)
        at = starts[day] + lengths[day] * (t - day)
        if at >= starts[day + 1]:  # rounded to the microsecond up to the next day
            at = starts[day + 1] - tick
        if convert:
            # In the start's zone, kept at its UTC offset, as Activity.at keeps every time.
            at = fixed_offset(at.astimezone(zone))
        if midnight is None or at >= midnight:
            if batch:
                yield from _flush(rewards, clock, batch)
                batch = []
            midnight = datetime.combine(at.astimezone(tz).date() + timedelta(days=1), time(), tz)
        actor = ids[person]
        obj = recipient = None
        if what == _VIEW:
            kind = view_kind
            if posts:
                obj, recipient = posts[int(random() * len(posts))]
        elif not posts or random() < post_share:
            kind = post_kind
            obj = f"{prefix}post{len(posts)}"
            posts.append((obj, actor))
        else:
            kind = comment_kind
            obj, recipient = posts[int(random() * len(posts))]
        # Every value comes from validated configuration (people and team names, kinds, an
        # int seed of bounded length, times within Simulation's start and days, held to the
        # limits of Activity.at), so pydantic's per-field checks are skipped: half the cost
        # of an Activity.
        batch.append(
            construct(
                id=f"{prefix}{n}",
                actor=actor,
                kind=kind,
                object=obj,
                recipient=recipient,
                value=None,
                at=at,
                teams=teams[person],
                attributes={},
            )
        )
        counter[0] += 1
    if batch:
        yield from _flush(rewards, clock, batch)


def _flush(
    rewards: Rewards, clock: FrozenClock, batch: list[Activity]
) -> Iterator[tuple[Activity, Outcome]]:
    last = batch[-1].at
    assert last is not None
    if last > clock.now():
        clock.set(last)
    yield from zip(batch, rewards.record_many(batch), strict=True)
