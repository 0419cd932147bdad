"""Participation tiers (90-9-1) and the Zipf-like spread of contribution volume."""

from __future__ import annotations

import math
from collections import Counter
from random import Random

import pytest

from e2badges import ConfigurationError
from e2badges.simulate import (
    Bass,
    Behaviour,
    ParticipationTiers,
    Population,
    Simulation,
    SimulationRun,
    simulate,
)

EVERYONE_AT_ONCE = Bass(p=1.0, q=0.0, step=1.0)  # every person adopts in the first step


@pytest.fixture(scope="module")
def run_1000() -> SimulationRun:
    simulation = Simulation(
        population=Population(people=1000, teams=4), adoption=EVERYONE_AT_ONCE, days=14
    )
    return simulate(simulation, seed=2026)


class TestTiers:
    def test_shares_within_two_binomial_deviations(self, run_1000: SimulationRun) -> None:
        """With 1,000 adopters the tier counts fall within 2 binomial s.d. of 90-9-1."""
        assert all(t is not None for t in run_1000.adoption)
        counts = Counter(run_1000.tiers)
        for tier, share in (("lurker", 0.90), ("occasional", 0.09), ("heavy", 0.01)):
            # s.d. = sqrt(n p (1 - p)): 9.49 lurkers, 9.05 occasional, 3.15 heavy
            sd = math.sqrt(1000 * share * (1 - share))
            assert abs(counts[tier] - 1000 * share) <= 2 * sd, tier

    def test_lurkers_only_view(self, run_1000: SimulationRun) -> None:
        """Lurkers record views only; contributors also post and comment."""
        ids = run_1000.simulation.population.ids()
        tier_of = dict(zip(ids, run_1000.tiers, strict=True))
        kinds: dict[str, set[str]] = {"lurker": set(), "occasional": set(), "heavy": set()}
        for activity in run_1000.rewards.store.iter_activities():
            kinds[tier_of[activity.actor]].add(activity.kind)
        assert kinds["lurker"] == {"page.viewed"}
        assert kinds["heavy"] == {"page.viewed", "post.created", "comment.created"}

    def test_shares_must_add_up(self) -> None:
        """Tier shares that do not add up to 1 are refused."""
        with pytest.raises(ConfigurationError, match=r"lurkers \+ occasional \+ heavy is 0\.99"):
            ParticipationTiers(lurkers=0.9, occasional=0.08, heavy=0.01)

    def test_custom_shares(self) -> None:
        """All heavy contributors means every tier drawn is heavy."""
        tiers = ParticipationTiers(lurkers=0.0, occasional=0.0, heavy=1.0)
        assert set(tiers.assign(100, Random(0))) == {"heavy"}


class TestVolume:
    def test_multipliers_follow_zipf(self) -> None:
        """The k-th largest of n multipliers is about (k/n)^-0.7, up to the cap of 50."""
        values = sorted(Behaviour().multipliers(10_000, Random(4)), reverse=True)
        assert min(values) >= 1.0
        assert max(values) <= 50.0
        # k = 100: (100/10000)^-0.7 = 25.1; k = 1000: (1000/10000)^-0.7 = 5.01.
        assert values[99] == pytest.approx(25.1, rel=0.2)
        assert values[999] == pytest.approx(5.01, rel=0.1)
        assert values[0] == 50.0

    def test_no_spread_without_exponent(self) -> None:
        """With exponent 0 every contributor has the same rate: the tier's."""
        behaviour = Behaviour(zipf_exponent=0.0, occasional_rate=0.1, heavy_rate=2.0)
        multipliers = behaviour.multipliers(3, Random(0))
        rates = behaviour.contribution_rates(["lurker", "occasional", "heavy"], multipliers)
        assert rates == [0.0, 0.1, 2.0]

    def test_kinds_must_differ(self) -> None:
        """Two behaviours recorded under one kind are refused."""
        with pytest.raises(ConfigurationError, match=r"Behaviour: view_kind: .* must differ"):
            Behaviour(view_kind="post.created")
