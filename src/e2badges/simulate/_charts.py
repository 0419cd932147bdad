"""PNG charts of reports and comparisons, drawn with matplotlib (an optional extra).

matplotlib is imported here only, when a chart is asked for; the figures are
drawn on the object-oriented API (no pyplot), so no global backend or state of
the host application is touched.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import MissingDependencyError

if TYPE_CHECKING:
    from ._experiment import Band, Comparison
    from ._report import HealthReport

__all__ = ["plot_comparison", "plot_report"]


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.figure import Figure  # noqa: PLC0415  # optional dependency
    except ImportError as exc:
        raise MissingDependencyError("matplotlib", "matplotlib") from exc
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(figure: Any, path: str | Path | None) -> bytes:
    buffer = io.BytesIO()
    # No "Software" entry: the PNG does not change with the matplotlib version string.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def plot_report(report: HealthReport, path: str | Path | None = None) -> bytes:
    """Draw a report: adoption, weekly active people, badges, and leaderboard churn."""
    figure = _figure(14, 7.5)
    (adoption, active, badges), (points, churn, teams) = figure.subplots(2, 3)
    org = report.organisation
    days = list(range(len(org.adoption)))

    for team in report.teams:
        adoption.plot(days, [a / team.people for a in team.adoption], color="0.8", linewidth=0.8)
    adoption.plot(days, [a / org.people for a in org.adoption], label="of people", linewidth=2)
    if org.seats != org.people:
        adoption.plot(days, [a / org.seats for a in org.adoption], linestyle="--", label="of seats")
    adoption.set(title="Adoption (grey: each team)", xlabel="day", ylabel="share adopted")
    adoption.set_ylim(0, 1)
    adoption.legend(loc="upper left")

    weeks = list(range(len(org.weeks)))
    active.bar(weeks, org.active, color="tab:green")
    active.set(title="Active people per week", xlabel="week", ylabel="people")

    if org.badges:
        for share in org.badges:
            name = share.badge if share.tier is None else f"{share.badge} ({share.tier})"
            badges.plot(weeks, share.cumulative, label=name)
        badges.legend(loc="upper left", fontsize="small")
    else:
        badges.text(0.5, 0.5, "no badges awarded", ha="center", va="center")
    badges.set(title="Share of people holding each badge", xlabel="week", ylabel="share")
    badges.set_ylim(0, 1)

    figures = org.points
    names = ["Gini", "top 1 % share", "top 10 % share"]
    values = [figures.gini, figures.top1_share, figures.top10_share]
    points.bar(names, values, color=["tab:red", "tab:purple", "tab:brown"])
    points.set(title=f"Points: {figures.earners} of {figures.people} people earned")
    points.set_ylim(0, 1)

    for board in org.churn:
        churn.plot(weeks[1:], board.entrants[1:], marker=".", label=board.board)
    churn.set(title=f"Newcomers in the top {report.top}", xlabel="week", ylabel="people")
    churn.legend(loc="upper left")

    x = list(range(len(report.teams)))
    width = 0.4
    teams.bar(
        [i - width / 2 for i in x],
        [t.adopters / t.people for t in report.teams],
        width,
        label="adopted",
    )
    teams.bar(
        [i + width / 2 for i in x], [t.points.gini for t in report.teams], width, label="Gini"
    )
    teams.set_xticks(x, [t.name for t in report.teams], rotation=90, fontsize="x-small")
    teams.set(title="Per team at the end", ylabel="share")
    teams.set_ylim(0, 1)
    teams.legend(loc="upper left", fontsize="small")
    figure.suptitle(
        f"Rules health report: {org.people} people, {report.days} days"
        + ("" if report.seed is None else f", seed {report.seed}")
    )
    return _png(figure, path)


def _band(axes: Any, band: Band, colour: str) -> None:
    x = list(range(len(band.mean)))
    axes.fill_between(x, band.low, band.high, color=colour, alpha=0.2, linewidth=0)
    axes.plot(x, band.mean, color=colour, linewidth=2, label=f"{band.label} (mean)")


def plot_comparison(comparison: Comparison, path: str | Path | None = None) -> bytes:
    """Draw two configurations' bands and their difference at the compared day."""
    figure = _figure(9, 5.5)
    axes = figure.subplots()
    _band(axes, comparison.a, "tab:blue")
    _band(axes, comparison.b, "tab:orange")
    # The point compare() compared: the day, or the week holding it (the last week for
    # the runs' last day, which ends that week).
    x = comparison.day
    if comparison.metric != "adoption":
        x = min(comparison.day // 7, len(comparison.b.mean) - 1)
    where = f"day {comparison.day}" if comparison.metric == "adoption" else f"week {x}"
    axes.axvline(x, color="0.4", linestyle=":")
    axes.annotate(
        f"B - A at {where}: {comparison.mean_difference:+.3f}\n"
        f"(±2 s.e.: {comparison.low:+.3f} to {comparison.high:+.3f})",
        xy=(x, comparison.b.mean[x]),
        xytext=(12, -40),
        textcoords="offset points",
        fontsize="small",
    )
    level = round(comparison.a.level * 100)
    unit = "day" if comparison.metric == "adoption" else "week"
    axes.set(
        title=(
            f"{comparison.a.label} vs {comparison.b.label}: {comparison.metric} over "
            f"{len(comparison.differences)} seeds (shaded: central {level} %)"
        ),
        xlabel=unit,
        ylabel="share of people",
    )
    axes.set_ylim(0, 1)
    axes.legend(loc="lower right")
    return _png(figure, path)
