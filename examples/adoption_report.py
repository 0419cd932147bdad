"""An adoption report for a simulated organisation, with a chart.

Simulates 1,000 people in 10 teams over 120 days (``e2badges.simulate``, seed
1) through a Rewards instance with seats, contributing kinds, badges and
milestone stories; prints the report of the last full month and the newest
stories, and draws docs/_static/adoption.png: active people per ISO week
against the seats, with contributors, and the retention of the weekly cohorts.

Run from the repository root (needs matplotlib):

    PYTHONPATH=src python examples/adoption_report.py [chart.png]
"""

from __future__ import annotations

import sys
from pathlib import Path

from e2badges import AdoptionReport, Badge, FrozenClock, Rewards, StoryOptions, criteria
from e2badges.simulate import Behaviour, Population, Simulation, default_rules, simulate

CHART = Path(__file__).resolve().parents[1] / "docs" / "_static" / "adoption.png"
PEOPLE = 1000


def organisation() -> Rewards:
    """Return a Rewards instance after a simulated launch of 120 days."""
    behaviour = Behaviour()
    simulation = Simulation(population=Population(people=PEOPLE, teams=10), days=120)
    rewards = Rewards(
        rules=default_rules(behaviour),
        kinds=[behaviour.view_kind, behaviour.post_kind, behaviour.comment_kind],
        badges=(
            Badge(
                id="first-post",
                name="First post",
                criterion=criteria.Count(kind=behaviour.post_kind),
                threshold=1,
            ),
            Badge(
                id="regular",
                name="Regular",
                criterion=criteria.Streak(kind=behaviour.view_kind, period="week"),
                threshold=4,
            ),
        ),
        stories=StoryOptions(milestones=(behaviour.post_kind,)),
        seats=PEOPLE,
        team_seats=dict.fromkeys(simulation.population.team_names(), 100),
        contributing=(behaviour.post_kind, behaviour.comment_kind),
        clock=FrozenClock(simulation.start),
        load_entrypoints=False,
    )
    simulate(simulation, seed=1, rewards=rewards)
    return rewards


def describe(report: AdoptionReport) -> str:
    """Return the report as a few lines of text."""
    lines = [
        f"{report.window} {report.period} ({report.first_day} to {report.last_day})",
        f"  active: {report.active} of {report.seats} seats ({report.adoption:.0%})",
        f"  contributors {report.contributors}, readers {report.readers}",
        f"  split of {report.population}: silent {report.silent}, "
        f"occasional {report.occasional}, heavy {report.heavy} "
        f"(>= {report.heavy_threshold} contributions)",
        f"  top 1 % did {report.top1_share or 0:.0%} of the activity, top 10 % "
        f"{report.top10_share or 0:.0%}",
        f"  activities: {report.totals.current} (previous period {report.totals.previous})",
    ]
    lines.extend(
        f"    {c.name:<16} {c.current:>6} ({c.previous}, "
        f"{'new' if c.ratio is None else f'{c.ratio:+.0%}'})"
        for c in report.by_kind
    )
    kept = report.kept_going
    lines.append(
        f"  kept going: {kept.active} of {kept.earned} first badges were active "
        f"{kept.weeks} weeks later"
    )
    lines.extend(
        f"  last {kind}: {report.age(kind)} before {report.as_of:%Y-%m-%d %H:%M}"
        for kind in sorted(report.last_activity)
    )
    return "\n".join(lines)


def plot(rewards: Rewards, path: Path) -> None:
    """Draw weekly active people and contributors, and cohort retention, to ``path``."""
    import matplotlib  # noqa: PLC0415  # optional: only this example draws

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    # Monday 5 January to Sunday 3 May: 17 whole ISO weeks.
    whole = rewards.adoption(window="119d", period="2026-05-03")
    weeks = [week for week, _ in whole.weekly]
    active = []
    contributors = []
    for week in weeks:
        report = rewards.adoption(window="week", period=week)
        active.append(report.active)
        contributors.append(report.contributors)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(range(len(weeks)), active, label="active people")
    left.plot(range(len(weeks)), contributors, label="contributors")
    left.axhline(PEOPLE, color="grey", linestyle=":", label="seats")
    left.set_xticks(range(0, len(weeks), 3), weeks[::3], rotation=45, fontsize=7)
    left.set_title("Active people per ISO week")
    left.legend()
    for cohort in whole.cohorts[1:-1:3]:  # every third cohort, for legibility
        right.plot(range(len(cohort.active)), cohort.shares, label=cohort.week)
    right.set_title("Weekly cohorts: share still active")
    right.set_xlabel("weeks after first activity")
    right.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> None:
    rewards = organisation()
    print(describe(rewards.adoption(window="month", period="2026-04", heavy=5)))
    print("newest stories:")
    for story in rewards.feed(limit=5):
        print(f"  {story.at:%Y-%m-%d %H:%M} {story.kind:<10} {story.text}")
    plot(rewards, Path(sys.argv[1]) if len(sys.argv) > 1 else CHART)


if __name__ == "__main__":
    main()
