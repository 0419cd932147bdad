"""Population models: who adopts when, and how much each adopter does.

Every model draws from a ``random.Random`` it is given (never the global one),
so a seed fixes the outcome.  Times are in days since the start of the
simulation, as floats.

- :class:`Bass`: Bass diffusion, stepped: in each step of ``step`` days, each
  person who has not adopted adopts with probability ``(p + q * A / N) * step``
  (capped at 1), where ``A / N`` is the share of adopters at the start of the
  step in the whole organisation or in the person's own team.  The expected share
  of adopters follows the recurrence :func:`bass_recurrence`, which tends to the
  closed form :func:`bass_closed_form` as the step shrinks (a one-day step with
  ``p = 0.03, q = 0.38`` lags it by up to 0.07; a step of 0.01 by 0.0007).
- :class:`Thresholds`: Granovetter thresholds: a person joins in the first step
  that starts with at least their threshold of others (a count, or a share of
  the organisation or the team) already joined.
- :class:`ParticipationTiers`: each adopter is a lurker, an occasional or a heavy
  contributor, drawn independently (90-9-1 by default).
- :class:`Behaviour`: what adopters record: views for everyone, contributions
  (posts and comments) for contributors at a rate with a Zipf-like spread.
- :class:`FeedbackLoops`: switches (visible leaderboards, badges, a stories feed)
  that raise imitation or lower thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from random import Random
from typing import Literal

from pydantic import Field, field_validator

from .._errors import ConfigurationError
from .._models import check_kind
from ._config import Config
from ._population import Population

__all__ = [
    "TIERS",
    "Bass",
    "Behaviour",
    "FeedbackEffect",
    "FeedbackLoops",
    "ParticipationTiers",
    "Thresholds",
    "bass_closed_form",
    "bass_recurrence",
    "binomial",
]

TIERS = ("lurker", "occasional", "heavy")
Scope = Literal["organisation", "team"]


def bass_closed_form(p: float, q: float, t: float) -> float:
    """Return the Bass share of adopters at time ``t``: (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t)."""
    decay = math.exp(-(p + q) * t)
    return (1.0 - decay) / (1.0 + (q / p) * decay)


def bass_recurrence(p: float, q: float, step: float, steps: int) -> list[float]:
    """Return the expected share of adopters after 0, 1, ..., ``steps`` steps of the stepped model.

    ``F[k + 1] = F[k] + (1 - F[k]) * min(1, (p + q * F[k]) * step)``, ``F[0] = 0``:
    what :class:`Bass` follows on average in a large organisation.
    """
    shares = [0.0]
    share = 0.0
    for _ in range(steps):
        share += (1.0 - share) * min(1.0, (p + q * share) * step)
        shares.append(share)
    return shares


def binomial(rng: Random, n: int, p: float) -> int:
    """Draw the number of successes in ``n`` trials of probability ``p``.

    Exact, and cheap when ``n * p`` is small: it skips from one success to the
    next by geometric gaps, so it costs about ``n * min(p, 1 - p) + 1`` draws.
    """
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if p > 0.5:
        return n - binomial(rng, n, 1.0 - p)
    log_miss = math.log1p(-p)
    successes = 0
    position = 0
    while True:
        # 1 - random() lies in (0, 1], so the logarithm is finite.
        position += int(math.log(1.0 - rng.random()) / log_miss) + 1
        if position > n:
            return successes
        successes += 1


class FeedbackEffect(Config):
    """How much one feedback loop helps: ``imitation`` raises q, ``threshold`` lowers thresholds.

    Both are relative: ``imitation=0.3`` multiplies Bass's q by 1.3;
    ``threshold=0.2`` multiplies every Granovetter threshold by 0.8.
    """

    imitation: float = Field(default=0.0, ge=0.0, le=100.0)
    threshold: float = Field(default=0.0, ge=0.0, lt=1.0)


class FeedbackLoops(Config):
    """Switches for the loops that make use visible, each with its effect.

    The default effects are illustrative assumptions, not measurements: set them
    from your own evidence.  Effects of several switches multiply.
    """

    leaderboards: bool = False
    badges: bool = False
    stories: bool = False
    leaderboards_effect: FeedbackEffect = FeedbackEffect(imitation=0.3, threshold=0.2)
    badges_effect: FeedbackEffect = FeedbackEffect(imitation=0.15, threshold=0.1)
    stories_effect: FeedbackEffect = FeedbackEffect(imitation=0.2, threshold=0.15)

    def _effects(self) -> list[FeedbackEffect]:
        switched = (
            (self.leaderboards, self.leaderboards_effect),
            (self.badges, self.badges_effect),
            (self.stories, self.stories_effect),
        )
        return [effect for on, effect in switched if on]

    @property
    def imitation_factor(self) -> float:
        """Return what Bass's q is multiplied by with the switches that are on."""
        return math.prod(1.0 + effect.imitation for effect in self._effects())

    @property
    def threshold_factor(self) -> float:
        """Return what every threshold is multiplied by with the switches that are on."""
        return math.prod(1.0 - effect.threshold for effect in self._effects())


def _groups(population: Population, scope: Scope) -> list[list[int]]:
    """Return the people (indices) of each imitation group: everyone, or each team."""
    if scope == "organisation":
        return [list(range(population.people))]
    groups: list[list[int]] = [[] for _ in range(population.team_count)]
    for person, team in enumerate(population.team_of()):
        groups[team].append(person)
    return groups


class Bass(Config):
    """Bass diffusion: innovation ``p`` and imitation ``q``, per day, in steps of ``step`` days.

    With ``scope="team"`` a person imitates only their own team: the share of
    adopters in the hazard is the team's.  ``(p + q) * step`` must be at most 1
    so that a step's adoption probability is a probability (feedback loops that
    raise q past it are capped at 1).
    """

    model: Literal["bass"] = "bass"
    p: float = Field(default=0.002, gt=0.0, le=1.0)
    q: float = Field(default=0.04, ge=0.0, le=100.0)
    step: float = Field(default=0.25, gt=0.0, le=1.0)
    scope: Scope = "organisation"

    def _check(self) -> None:
        if (self.p + self.q) * self.step > 1.0:
            self._refuse(
                "step",
                f"(p + q) * step is {(self.p + self.q) * self.step:g}; it must be at most 1 "
                "(a step's adoption probability), so use a smaller step",
            )

    def adoption_times(
        self,
        population: Population,
        *,
        days: float,
        rng: Random,
        feedback: FeedbackLoops | None = None,
    ) -> list[float | None]:
        """Return when each person adopts (days since start), None for those who do not by ``days``.

        People of a group are exchangeable, so the order in which a group's people
        adopt is one shuffle of the group, and each step draws only how many adopt
        (a binomial draw); each adopter's time is spread uniformly within the step.
        """
        p = self.p
        q = self.q * (feedback.imitation_factor if feedback is not None else 1.0)
        step = self.step
        steps = math.ceil(days / step - 1e-9)
        times: list[float | None] = [None] * population.people
        groups = _groups(population, self.scope)
        for group in groups:
            rng.shuffle(group)
        adopted = [0] * len(groups)
        for k in range(steps):
            start = k * step
            for g, group in enumerate(groups):
                size = len(group)
                done = adopted[g]
                if done == size:
                    continue
                hazard = min(1.0, (p + q * done / size) * step)
                new = binomial(rng, size - done, hazard)
                for person in group[done : done + new]:
                    at = start + rng.random() * step
                    times[person] = at if at < days else None
                adopted[g] = done + new
        return times


class Thresholds(Config):
    """Granovetter thresholds: a person joins once enough others have.

    ``thresholds`` gives one threshold per person, in population order; without
    it, thresholds are drawn from a normal distribution (``mean``, ``sd``) and
    clipped at 0.  With ``unit="count"`` a threshold is a number of others; with
    ``"fraction"``, a share of the group (the organisation, or the person's team
    with ``scope="team"``).  Each step of ``step`` days is one round: everyone
    whose threshold is met by the adopters at the start of the step joins.
    """

    model: Literal["thresholds"] = "thresholds"
    thresholds: tuple[float, ...] | None = None
    unit: Literal["count", "fraction"] = "fraction"
    mean: float = Field(default=0.25, ge=0.0)
    sd: float = Field(default=0.12, ge=0.0)
    scope: Scope = "organisation"
    step: float = Field(default=1.0, gt=0.0)

    @field_validator("thresholds")
    @classmethod
    def _values(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is not None:
            for i, threshold in enumerate(value):
                if not math.isfinite(threshold) or threshold < 0:
                    raise ValueError(f"threshold {i} is {threshold!r}; it must be 0 or more")
        return value

    def draw(self, people: int, rng: Random) -> list[float]:
        """Return one threshold per person: the given ones, or drawn ones."""
        if self.thresholds is not None:
            if len(self.thresholds) != people:
                raise ConfigurationError(
                    "thresholds",
                    f"has {len(self.thresholds)} values for a population of {people} people",
                    subject="Thresholds",
                )
            return list(self.thresholds)
        return [max(0.0, rng.gauss(self.mean, self.sd)) for _ in range(people)]

    def adoption_times(
        self,
        population: Population,
        *,
        days: float,
        rng: Random,
        feedback: FeedbackLoops | None = None,
    ) -> list[float | None]:
        """Return when each person joins (days since start), None for those who never do."""
        factor = feedback.threshold_factor if feedback is not None else 1.0
        thresholds = [t * factor for t in self.draw(population.people, rng)]
        steps = math.ceil(days / self.step - 1e-9)
        times: list[float | None] = [None] * population.people
        for group in _groups(population, self.scope):
            # Fractions compare with the share of the group that joined; counts with a count.
            scale = 1.0 if self.unit == "count" else float(len(group))
            waiting = sorted(group, key=lambda person: (thresholds[person], person))
            joined = 0
            for k in range(steps):
                first = joined
                while joined < len(waiting) and thresholds[waiting[joined]] * scale <= first:
                    joined += 1
                if joined == first:
                    break  # nobody joined this round, so nobody ever will
                for person in waiting[first:joined]:
                    at = (k + rng.random()) * self.step
                    times[person] = at if at < days else None
        return times


class ParticipationTiers(Config):
    """Shares of adopters who lurk, contribute occasionally, or contribute heavily (90-9-1)."""

    lurkers: float = Field(default=0.90, ge=0.0, le=1.0)
    occasional: float = Field(default=0.09, ge=0.0, le=1.0)
    heavy: float = Field(default=0.01, ge=0.0, le=1.0)

    def _check(self) -> None:
        total = self.lurkers + self.occasional + self.heavy
        if abs(total - 1.0) > 1e-9:
            self._refuse("lurkers", f"lurkers + occasional + heavy is {total:g}; it must be 1")

    def assign(self, people: int, rng: Random) -> list[str]:
        """Return a tier for each of ``people`` people, drawn independently."""
        heavy = self.heavy
        contributors = heavy + self.occasional
        out: list[str] = []
        for _ in range(people):
            u = rng.random()
            out.append("heavy" if u < heavy else "occasional" if u < contributors else "lurker")
        return out


class Behaviour(Config):
    """What adopters do once they have adopted.

    Every adopter records a view when adopting and then views at ``view_rate``
    per day.  Contributors also contribute: an occasional contributor at
    ``occasional_rate`` per day and a heavy one at ``heavy_rate``, each times a
    personal multiplier ``min(U ** -zipf_exponent, max_multiplier)`` (U uniform
    in (0, 1]), which spreads volume like Zipf's law: the k-th most active of n
    contributors does about ``(k / n) ** -zipf_exponent`` times the least active.
    A contribution is a post (share ``post_share``) or a comment on an earlier
    post, credited to its author as recipient; views also name a post and its
    author when there is one.  Events are Poisson processes.
    """

    view_kind: str = "page.viewed"
    post_kind: str = "post.created"
    comment_kind: str = "comment.created"
    view_rate: float = Field(default=0.3, ge=0.0, le=1000.0)
    occasional_rate: float = Field(default=0.05, ge=0.0, le=1000.0)
    heavy_rate: float = Field(default=0.5, ge=0.0, le=1000.0)
    zipf_exponent: float = Field(default=0.7, ge=0.0, le=10.0)
    max_multiplier: float = Field(default=50.0, ge=1.0)
    post_share: float = Field(default=0.3, ge=0.0, le=1.0)

    @field_validator("view_kind", "post_kind", "comment_kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        return check_kind(value)

    def _check(self) -> None:
        if len({self.view_kind, self.post_kind, self.comment_kind}) != 3:
            self._refuse("view_kind", "view_kind, post_kind and comment_kind must differ")

    @property
    def kinds(self) -> tuple[str, str, str]:
        """Return the activity kinds recorded: view, post, comment."""
        return (self.view_kind, self.post_kind, self.comment_kind)

    def multipliers(self, people: int, rng: Random) -> list[float]:
        """Return each person's volume multiplier (1 or more), drawn independently."""
        exponent = -self.zipf_exponent
        cap = self.max_multiplier
        return [min((1.0 - rng.random()) ** exponent, cap) for _ in range(people)]

    def contribution_rates(self, tiers: Sequence[str], multipliers: Sequence[float]) -> list[float]:
        """Return each person's contributions per day: 0 for lurkers."""
        base = {"lurker": 0.0, "occasional": self.occasional_rate, "heavy": self.heavy_rate}
        return [base[tier] * m for tier, m in zip(tiers, multipliers, strict=True)]
