"""Repeated runs, confidence bands, and experiments comparing two configurations."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .._errors import ConfigurationError
from .._rules import PointRule
from ..storage import Store, store_from_url
from ..storage._tenant import MAX_TENANT_LENGTH
from ._report import HealthReport, _jsonable, _r, check_badges, check_items, check_top
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


_NOT_IN_TENANT = re.compile(r"[^A-Za-z0-9_.:-]")


def _tenant_name(label: str, seed: int) -> str:
    """Return the tenant a run of ``label`` with ``seed`` records into on a shared store.

    ``sim-<label>-<seed>`` (``sim-<seed>`` without a label), each character a
    tenant name may not hold replaced by ``_`` and the label cut to 32 characters.
    """
    slug = _NOT_IN_TENANT.sub("_", label)[:32]
    return f"sim-{slug}-{seed}" if slug else f"sim-{seed}"


def _check_label(label: Any, *, subject: str) -> str:
    if not isinstance(label, str):
        raise ConfigurationError(
            "label", f"must be a string, got {type(label).__name__}", subject=subject
        )
    return label


def _check_shared_seeds(seeds: Sequence[int], label: str, *, subject: str) -> None:
    """Refuse a seed too long for a tenant name made from it (a shared store only)."""
    for seed in seeds:
        name = _tenant_name(label, seed)
        if len(name) > MAX_TENANT_LENGTH:
            raise ConfigurationError(
                "seeds",
                f"seed {seed} is too long to name a tenant of the shared store ({name!r})",
                subject=subject,
            )


def _tenant_store(shared: Store, name: str, *, subject: str) -> Store:
    """Return the empty tenant ``name`` of a shared store, else raise ConfigurationError."""
    try:
        tenant = shared.for_tenant(name)
    except NotImplementedError:
        raise ConfigurationError(
            "store",
            f"{type(shared).__name__} serves one tenant, so runs sharing it would mix; "
            "give a function of the seed returning a new store for each run",
            subject=subject,
        ) from None
    _check_empty(tenant, f"tenant {name!r} of the store", subject=subject)
    return tenant


def _check_empty(store: Store, what: str, *, subject: str) -> None:
    if store.count_activities():
        raise ConfigurationError(
            "store",
            f"{what} already holds activities; a run needs empty storage "
            "(use another store, or delete_tenant() the earlier run)",
            subject=subject,
        )


def run_many(
    simulation: Simulation,
    *,
    seeds: Iterable[int],
    store: StoreChoice = None,
    rules: Sequence[PointRule] | None = None,
    top: int = 10,
    badges: Sequence[str] = (),
    label: str = "",
) -> tuple[HealthReport, ...]:
    """Run ``simulation`` once per seed and return the reports, in seed order given.

    ``store`` is where the runs record (``memory://``, a new store each time, by
    default): a Store or URL shared by every run, each run then recording into
    its own tenant ``sim-<label>-<seed>`` (``sim-<seed>`` without a ``label``;
    characters a tenant name may not hold become ``_``) so runs never mix and
    stay inspectable afterwards; or a function of the seed returning a new store
    (or URL) for each run.  A run's storage must be empty: a tenant or store that
    already holds activities raises ConfigurationError naming ``store``, and a
    store that serves one tenant only cannot be shared.  Each run's Rewards
    instance is closed once its report is made, so memory stays flat; a store
    opened here from a URL is closed at the end.
    """
    seeds = _check_seeds(seeds, subject="run_many")
    if rules is not None:
        rules = check_rules(rules, subject="run_many")
    badges = check_badges(badges, subject="run_many")
    label = _check_label(label, subject="run_many")
    check_top(top, subject="run_many")
    if not seeds:
        raise ConfigurationError("seeds", "must name at least one seed", subject="run_many")
    with ExitStack() as stack:
        shared = _open_shared(store, stack, subject="run_many")
        if shared is not None:
            _check_shared_seeds(seeds, label, subject="run_many")
            tenants = [
                _tenant_store(shared, _tenant_name(label, seed), subject="run_many")
                for seed in seeds
            ]
        reports: list[HealthReport] = []
        for i, seed in enumerate(seeds):
            with ExitStack() as per_run:
                if shared is not None:
                    chosen: Store | None = tenants[i]
                elif callable(store):
                    chosen = _own_store(store(seed), seed, per_run)
                else:
                    chosen = None
                run = simulate(
                    simulation, seed=seed, store=chosen, rules=rules, top=top, badges=badges
                )
                reports.append(run.report)
                run.rewards.close()
    return tuple(reports)


def _own_store(chosen: Store | str, seed: int, stack: ExitStack) -> Store:
    """Return the store a function gave for ``seed`` (opened if a URL), checked empty."""
    if isinstance(chosen, str):
        opened = store_from_url(chosen)
        stack.callback(opened.close)
        chosen = opened
    if not isinstance(chosen, Store):
        raise ConfigurationError(
            "store",
            f"the function returned {type(chosen).__name__} for seed {seed}, not a Store or a URL",
            subject="run_many",
        )
    _check_empty(chosen, f"the store for seed {seed}", subject="run_many")
    return chosen


def _open_shared(store: StoreChoice, stack: ExitStack, *, subject: str) -> Store | None:
    """Return the store every run shares (opened from a URL, closed by ``stack``), or None."""
    if store is None or callable(store):
        return None
    if isinstance(store, str):
        opened = store_from_url(store)
        stack.callback(opened.close)
        return opened
    if isinstance(store, Store):
        return store
    raise ConfigurationError(
        "store",
        f"must be a Store, a URL or a function of the seed, not {type(store).__name__}",
        subject=subject,
    )


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
    metric = check_metric(metric, subject="bands")
    level = check_level(level, subject="bands")
    label = _check_label(label, subject="bands")
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


def check_metric(metric: Any, *, subject: str) -> Metric:
    """Return ``metric`` if it is ``"adoption"`` or ``"active"``, else raise ConfigurationError."""
    if metric not in ("adoption", "active") or not isinstance(metric, str):
        raise ConfigurationError(
            "metric", f"unknown metric {metric!r}; use 'adoption' or 'active'", subject=subject
        )
    return metric  # type: ignore[return-value]


def check_level(level: Any, *, subject: str) -> float:
    """Return ``level`` if it is a number strictly between 0 and 1, else raise."""
    if isinstance(level, bool) or not isinstance(level, int | float):
        raise ConfigurationError(
            "level", f"must be a number, got {type(level).__name__}", subject=subject
        )
    if not 0.0 < level < 1.0:
        raise ConfigurationError("level", "must be between 0 and 1", subject=subject)
    return float(level)


def point_index(metric: Metric, day: int, days: int) -> int:
    """Return the index of ``day`` in a ``metric`` series of a ``days``-day run.

    The day itself for ``"adoption"``; for ``"active"`` the week holding it (the
    last week for ``day == days``, which ends the last week).
    """
    if metric == "adoption":
        return day
    return min(day // 7, math.ceil(days / 7) - 1)


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

    For ``metric="active"`` the comparison is at the week holding ``day`` (the
    last week for ``day`` equal to the runs' days).  ``store`` is as for
    :func:`run_many`, with each configuration's label: on a shared store, A's
    runs record into tenants ``sim-<labels[0]>-<seed>`` and B's into
    ``sim-<labels[1]>-<seed>``, so the two labels must make different tenant
    names.  Every argument is checked, naming it, before any run.
    """
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, Simulation):
            raise ConfigurationError(
                name, f"must be a Simulation, got {type(value).__name__}", subject="compare"
            )
    seeds = _check_seeds(seeds, subject="compare")
    if not seeds:
        raise ConfigurationError("seeds", "must name at least one seed", subject="compare")
    if rules is not None:
        rules = check_rules(rules, subject="compare")
    names = check_items(
        "labels", labels, subject="compare", what="two strings", example="('A', 'B')"
    )
    if len(names) != 2 or not all(isinstance(name, str) for name in names):
        raise ConfigurationError(
            "labels", f"must be two strings (such as ('A', 'B')), got {labels!r}", subject="compare"
        )
    metric = check_metric(metric, subject="compare")
    level = check_level(level, subject="compare")
    days = min(a.days, b.days)
    if isinstance(day, bool) or not isinstance(day, int):
        raise ConfigurationError("day", f"must be an int, got {day!r}", subject="compare")
    if day < 0 or day > days:
        raise ConfigurationError("day", f"must be between 0 and {days}", subject="compare")
    shared_store = store is not None and not callable(store)
    if shared_store and _tenant_name(names[0], 0) == _tenant_name(names[1], 0):
        raise ConfigurationError(
            "labels",
            f"{names[0]!r} and {names[1]!r} name the same tenants of the shared store; "
            "use labels that differ in letters, digits, '_', '.', ':' or '-'",
            subject="compare",
        )
    if shared_store:
        for label in names:
            _check_shared_seeds(seeds, label, subject="compare")
    with ExitStack() as stack:
        shared = _open_shared(store, stack, subject="compare")
        if shared is not None:
            # Both configurations' tenants are checked empty before either runs.
            for label in names:
                for seed in seeds:
                    _tenant_store(shared, _tenant_name(label, seed), subject="compare")
        chosen = store if shared is None else shared
        reports_a = run_many(a, seeds=seeds, store=chosen, rules=rules, label=names[0])
        reports_b = run_many(b, seeds=seeds, store=chosen, rules=rules, label=names[1])
    index = point_index(metric, day, days)
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
        a=bands(reports_a, metric=metric, level=level, label=names[0]),
        b=bands(reports_b, metric=metric, level=level, label=names[1]),
        differences=tuple(_r(d) for d in differences),
        mean_difference=_r(mean),
        standard_error=_r(error),
        low=_r(mean - 2.0 * error),
        high=_r(mean + 2.0 * error),
    )
