"""Repeated runs, confidence bands, and experiments comparing two configurations."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .._errors import ConfigurationError
from .._rules import PointRule
from ..storage import Store
from ._report import HealthReport, _jsonable, _r, check_badges, check_items
from ._simulator import Simulation, check_rules, simulate

__all__ = ["Band", "Comparison", "bands", "compare", "run_many"]

Metric = Literal["adoption", "active"]
StoreChoice = Store | str | Callable[[int], Store | str] | None


@dataclass(frozen=True, slots=True)
class Band:
    """A metric over several seeds: the mean and a central interval at each point.

    For ``metric="adoption"``, point ``d`` is the share of people who had adopted
    by day ``d`` (0 to ``days``); for ``"active"``, point ``w`` is the share of
    people active in week ``w``.  ``low`` and ``high`` are the empirical
    quantiles ``(1 - level) / 2`` and ``(1 + level) / 2`` over the seeds
    (linear interpolation).
    """

    label: str
    metric: str
    seeds: tuple[int, ...]
    level: float
    mean: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two configurations run over the same seeds, and their difference at one day.

    ``differences`` holds, per seed, B minus A at ``day`` (paired: the same seed
    draws the same people, tiers and volumes in both runs);
    ``low`` and ``high`` are the mean difference minus and plus two standard
    errors (about a 95 % interval).
    """

    metric: str
    day: int
    a: Band
    b: Band
    differences: tuple[float, ...]
    mean_difference: float
    standard_error: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        """Return the comparison as JSON-safe dicts, lists, strings and numbers."""
        out: dict[str, Any] = _jsonable(self)
        return out

    def to_json(self) -> str:
        """Return the comparison as JSON: sorted keys, 2-space indent, floats to 6 places."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=2, allow_nan=False) + "\n"

    def plot(self, path: str | Path | None = None) -> bytes:
        """Draw both bands and the difference as a PNG; write it to ``path`` if given.

        Needs matplotlib (``pip install "e2badges[matplotlib]"``).
        """
        from ._charts import plot_comparison  # noqa: PLC0415  # matplotlib is an optional extra

        return plot_comparison(self, path)


def _check_seeds(seeds: Any, *, subject: str) -> tuple[int, ...]:
    items = check_items(
        "seeds", seeds, subject=subject, what="a collection of ints", example="range(20)"
    )
    for seed in items:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigurationError("seeds", f"must be ints, got {seed!r}", subject=subject)
    return tuple(items)


def run_many(
    simulation: Simulation,
    *,
    seeds: Iterable[int],
    store: StoreChoice = None,
    rules: Sequence[PointRule] | None = None,
    top: int = 10,
    badges: Sequence[str] = (),
) -> tuple[HealthReport, ...]:
    """Run ``simulation`` once per seed and return the reports, in seed order given.

    ``store`` is a Store or URL used by every run (``memory://``, a new store each
    time, by default) or a function of the seed returning one.  Each run's
    Rewards instance is closed once its report is made, so memory stays flat.
    """
    seeds = _check_seeds(seeds, subject="run_many")
    if rules is not None:
        rules = check_rules(rules, subject="run_many")
    badges = check_badges(badges, subject="run_many")
    reports: list[HealthReport] = []
    for seed in seeds:
        chosen = store(seed) if callable(store) else store
        run = simulate(simulation, seed=seed, store=chosen, rules=rules, top=top, badges=badges)
        reports.append(run.report)
        run.rewards.close()
    if not reports:
        raise ConfigurationError("seeds", "must name at least one seed", subject="run_many")
    return tuple(reports)


def _series(report: HealthReport, metric: Metric) -> list[float]:
    figures = report.organisation
    if metric == "adoption":
        return [count / figures.people for count in figures.adoption]
    if metric == "active":
        return [count / figures.people for count in figures.active]
    raise ConfigurationError("metric", f"unknown metric {metric!r}; use 'adoption' or 'active'")


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def bands(
    reports: Sequence[HealthReport],
    *,
    metric: Metric = "adoption",
    level: float = 0.9,
    label: str = "",
) -> Band:
    """Return the mean and central ``level`` interval of ``metric`` over the reports."""
    reports = check_items(
        "reports", reports, subject="bands", what="a list of HealthReports", example="run_many(...)"
    )
    if not reports:
        raise ConfigurationError("reports", "must not be empty", subject="bands")
    for report in reports:
        if not isinstance(report, HealthReport):
            raise ConfigurationError(
                "reports", f"expected HealthReport, got {type(report).__name__}", subject="bands"
            )
    if not 0.0 < level < 1.0:
        raise ConfigurationError("level", "must be between 0 and 1", subject="bands")
    series = [_series(report, metric) for report in reports]
    if len({len(s) for s in series}) != 1:
        raise ConfigurationError("reports", "cover different numbers of days", subject="bands")
    mean: list[float] = []
    low: list[float] = []
    high: list[float] = []
    for values in zip(*series, strict=True):
        ordered = sorted(values)
        mean.append(_r(sum(ordered) / len(ordered)))
        low.append(_r(_quantile(ordered, (1.0 - level) / 2.0)))
        high.append(_r(_quantile(ordered, (1.0 + level) / 2.0)))
    return Band(
        label=label,
        metric=metric,
        seeds=tuple(report.seed if report.seed is not None else -1 for report in reports),
        level=level,
        mean=tuple(mean),
        low=tuple(low),
        high=tuple(high),
    )


def compare(
    a: Simulation,
    b: Simulation,
    *,
    seeds: Iterable[int] = range(20),
    day: int = 90,
    metric: Metric = "adoption",
    labels: tuple[str, str] = ("A", "B"),
    level: float = 0.9,
    store: StoreChoice = None,
    rules: Sequence[PointRule] | None = None,
) -> Comparison:
    """Run ``a`` and ``b`` over the same seeds and compare ``metric`` at ``day``.

    For ``metric="active"`` the comparison is at the week holding ``day``.
    """
    seeds = _check_seeds(seeds, subject="compare")
    if rules is not None:
        rules = check_rules(rules, subject="compare")
    names = check_items(
        "labels", labels, subject="compare", what="two strings", example="('A', 'B')"
    )
    if len(names) != 2 or not all(isinstance(name, str) for name in names):
        raise ConfigurationError(
            "labels", f"must be two strings (such as ('A', 'B')), got {labels!r}", subject="compare"
        )
    if day < 0 or day > min(a.days, b.days):
        raise ConfigurationError(
            "day", f"must be between 0 and {min(a.days, b.days)}", subject="compare"
        )
    reports_a = run_many(a, seeds=seeds, store=store, rules=rules)
    reports_b = run_many(b, seeds=seeds, store=store, rules=rules)
    index = day if metric == "adoption" else min(day // 7, math.ceil(min(a.days, b.days) / 7) - 1)
    differences = [
        _series(rb, metric)[index] - _series(ra, metric)[index]
        for ra, rb in zip(reports_a, reports_b, strict=True)
    ]
    n = len(differences)
    mean = sum(differences) / n
    variance = sum((d - mean) ** 2 for d in differences) / (n - 1) if n > 1 else 0.0
    error = math.sqrt(variance / n)
    return Comparison(
        metric=metric,
        day=day,
        a=bands(reports_a, metric=metric, level=level, label=labels[0]),
        b=bands(reports_b, metric=metric, level=level, label=labels[1]),
        differences=tuple(_r(d) for d in differences),
        mean_difference=_r(mean),
        standard_error=_r(error),
        low=_r(mean - 2.0 * error),
        high=_r(mean + 2.0 * error),
    )
