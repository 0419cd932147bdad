"""Granovetter thresholds: a person joins once enough others have."""

from __future__ import annotations

from random import Random

import pytest

from e2badges import ConfigurationError
from e2badges.simulate import (
    FeedbackEffect,
    FeedbackLoops,
    Population,
    Simulation,
    Thresholds,
    simulate,
)

HUNDRED = Population(people=100)


def joined(model: Thresholds, population: Population = HUNDRED, days: int = 120) -> list[int]:
    times = model.adoption_times(population, days=days, rng=Random(0))
    return [i for i, t in enumerate(times) if t is not None]


class TestClassicResult:
    def test_uniform_thresholds_all_join(self) -> None:
        """100 people with thresholds 0, 1, ..., 99 all join, one more each round."""
        model = Thresholds(thresholds=tuple(range(100)), unit="count")
        times = model.adoption_times(HUNDRED, days=100, rng=Random(0))
        assert [int(t) for t in times if t is not None] == list(range(100))

    def test_one_changed_threshold_stops_the_cascade(self) -> None:
        """Changing the threshold-1 person to 2 leaves only the instigator joined."""
        thresholds = (0, 2, *range(2, 100))
        assert joined(Thresholds(thresholds=thresholds, unit="count")) == [0]

    def test_the_simulator_reproduces_it(self) -> None:
        """Through a whole simulation run the same two riots give 100 and 1 adopters."""
        riot = Simulation(
            population=HUNDRED, adoption=Thresholds(thresholds=tuple(range(100)), unit="count")
        )
        calm = Simulation(
            population=HUNDRED,
            adoption=Thresholds(thresholds=(0, 2, *range(2, 100)), unit="count"),
        )
        assert simulate(riot, seed=1).report.organisation.adopters == 100
        assert simulate(calm, seed=1).report.organisation.adopters == 1


class TestThresholds:
    def test_fractions_of_the_group(self) -> None:
        """Fraction thresholds compare with the share of the group: 0.1 of 10 people is one."""
        model = Thresholds(thresholds=tuple(i / 10 for i in range(10)), unit="fraction")
        assert joined(model, Population(people=10)) == list(range(10))

    def test_team_scope_counts_only_the_team(self) -> None:
        """By team, a team with no instigator never starts; by organisation, it follows."""
        # Team 1 (people 0-49) has thresholds 0..49; team 2 (50-99) all have threshold 1.
        thresholds = (*range(50), *([1] * 50))
        teams = Population(people=100, teams=2)
        by_team = Thresholds(thresholds=thresholds, unit="count", scope="team")
        everyone = Thresholds(thresholds=thresholds, unit="count")
        assert joined(by_team, teams) == list(range(50))
        assert joined(everyone, teams) == list(range(100))

    def test_feedback_lowers_thresholds(self) -> None:
        """Halving thresholds turns a stalled cascade (0, 2, 2, ...) into everyone joining."""
        thresholds = (0, *([2] * 99))
        model = Thresholds(thresholds=thresholds, unit="count")
        loops = FeedbackLoops(badges=True, badges_effect=FeedbackEffect(threshold=0.5))
        times = model.adoption_times(HUNDRED, days=10, rng=Random(0), feedback=loops)
        assert joined(model) == [0]
        assert all(t is not None for t in times)

    def test_drawn_thresholds_are_seeded(self) -> None:
        """Drawn thresholds are never negative and the same seed draws the same ones."""
        model = Thresholds(mean=0.1, sd=0.2)
        drawn = model.draw(1000, Random(5))
        assert min(drawn) == 0.0
        assert drawn == model.draw(1000, Random(5))

    def test_wrong_number_of_thresholds_is_refused(self) -> None:
        """Thresholds for another population size are refused, naming the field."""
        model = Thresholds(thresholds=(0, 1), unit="count")
        with pytest.raises(ConfigurationError, match=r"thresholds: has 2 values for .* 100 people"):
            model.adoption_times(HUNDRED, days=5, rng=Random(0))

    def test_negative_threshold_is_refused(self) -> None:
        """A negative threshold is refused when the model is built."""
        with pytest.raises(ConfigurationError, match="Thresholds: thresholds: threshold 1 is -1"):
            Thresholds(thresholds=(0, -1))
